package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Aggregate is what the Repository loads and saves.
type Aggregate interface {
	// StreamID names the aggregate's stream ("flow-<uuid>").
	StreamID() string
	// Root gives access to the revision and the pending events.
	Root() *domain.Root
	// Apply changes state by one stored event (replay).
	Apply(domain.Event)
}

// Repository loads aggregates by folding their streams and saves what they
// recorded.
type Repository struct {
	store     eventstore.Store
	reg       *eventstore.Registry
	snapshots Snapshots
	every     uint64

	// aside holds a token per snapshot being written aside (see
	// SnapshotsAside).
	aside chan struct{}
}

// asideWrites bounds the snapshots a repository writes aside at once;
// past it, a write that crosses a threshold writes its snapshot itself.
const asideWrites = 4

// asideTimeout bounds a snapshot written aside (it no longer has its
// write's context, which has ended).
const asideTimeout = 30 * time.Second

// NewRepository returns a Repository over a store; reg decodes and encodes
// the events.
func NewRepository(store eventstore.Store, reg *eventstore.Registry) *Repository {
	return &Repository{store: store, reg: reg, aside: make(chan struct{}, asideWrites)}
}

// Wait returns when the snapshots written aside (SnapshotsAside) so far
// are written: call it before closing what the snapshots are written to.
// It takes every token, so writes meanwhile write their own.
func (r *Repository) Wait() {
	for range cap(r.aside) {
		r.aside <- struct{}{}
	}
	for range cap(r.aside) {
		<-r.aside
	}
}

// Unchanged reports whether stream has no event past revision rev: an
// aggregate a process kept as folded up to rev is then still current (one
// short read, usually of nothing, instead of a fold).
func (r *Repository) Unchanged(ctx context.Context, stream string, rev uint64) (bool, error) {
	newer, err := r.store.ReadStream(ctx, stream, rev+1, eventstore.MaxRevision)
	if err != nil {
		return false, fmt.Errorf("load %s: %w", stream, err)
	}
	return len(newer) == 0, nil
}

// WithSnapshots makes the repository keep a snapshot of every
// domain.Snapshotter aggregate each time its stream crosses a multiple of
// every events, and start loads from the latest one.
func (r *Repository) WithSnapshots(s Snapshots, every uint64) *Repository {
	r.snapshots, r.every = s, max(every, 1)
	return r
}

// Load folds the aggregate's stream into agg (from its snapshot, when there
// is one). It returns a domain not-found error when the stream has no
// events.
func (r *Repository) Load(ctx context.Context, agg Aggregate) error {
	snap, ok := agg.(domain.Snapshotter)
	if !ok || r.snapshots == nil {
		return r.LoadUntil(ctx, agg, eventstore.MaxRevision)
	}
	rev, state, found, err := r.snapshots.Get(ctx, agg.StreamID(), snap.SnapshotVersion())
	if err != nil || !found {
		return r.LoadUntil(ctx, agg, eventstore.MaxRevision) // a cache: carry on without it
	}
	if err := snap.Restore(state); err != nil {
		return fmt.Errorf("load %s: restore snapshot at %d: %w", agg.StreamID(), rev, err)
	}
	agg.Root().Replayed(rev)
	return r.fold(ctx, agg, rev+1, eventstore.MaxRevision)
}

// LoadUntil folds the aggregate's stream up to and including revision into
// agg: the aggregate as it was then ("as of" reads, version contents).
func (r *Repository) LoadUntil(ctx context.Context, agg Aggregate, revision uint64) error {
	return r.fold(ctx, agg, 0, revision)
}

// fold applies the stream's events from..to to agg; a stream with no
// events at all (from 0) is not found.
func (r *Repository) fold(ctx context.Context, agg Aggregate, from, to uint64) error {
	events, err := r.store.ReadStream(ctx, agg.StreamID(), from, to)
	if err != nil {
		return fmt.Errorf("load %s: %w", agg.StreamID(), err)
	}
	if len(events) == 0 && from == 0 {
		return domain.NotFoundf("%s not found", agg.StreamID())
	}
	if _, err := eventstore.Fold(r.reg, agg, events, nil, nil); err != nil {
		return fmt.Errorf("load %s: %w", agg.StreamID(), err)
	}
	return nil
}

// Update is the one write loop of the write side. decide loads what it
// needs, decides, and returns the aggregates whose recorded events are to
// be saved (nothing: the write changed nothing); Update saves them
// together (SaveAll: all or none) with md, which decide may refine for the
// attempt (the place the loaded aggregate lives in). When the save lost a
// race with another writer of one of their streams, the race rule of the
// aggregate of that stream (domain.RaceRuleOf) says how often decide runs
// again on the new state, loading afresh; past that, the lost race (*eventstore.WrongExpectedVersionError, a
// domain conflict) is returned. Errors of decide are returned as they are.
func (r *Repository) Update(ctx context.Context, md eventstore.Metadata,
	decide func(ctx context.Context, md *eventstore.Metadata) ([]Aggregate, error), opts ...UpdateOption) (eventstore.AppendResult, error) {
	var o updateOptions
	for _, opt := range opts {
		opt(&o)
	}
	for attempt := 1; ; attempt++ {
		amd := md
		aggs, err := decide(ctx, &amd)
		if err != nil || len(aggs) == 0 {
			return eventstore.AppendResult{}, err
		}
		res, err := r.saveAll(ctx, amd, o.aside, aggs...)
		var lost *eventstore.WrongExpectedVersionError
		if !errors.As(err, &lost) {
			return res, err
		}
		rule := raceRule(aggs, lost.Stream)
		if o.attempts > 0 {
			rule.Attempts = o.attempts
		}
		if attempt >= rule.Attempts {
			return res, err
		}
		if o.backoff != nil {
			if err := o.backoff(ctx, attempt); err != nil {
				return res, err
			}
		}
	}
}

// UpdateOption changes how Update treats a lost race.
type UpdateOption func(*updateOptions)

type updateOptions struct {
	attempts int
	backoff  func(ctx context.Context, attempt int) error
	aside    bool
}

// SnapshotsAside makes the save of a write that crossed a snapshot's
// threshold return without waiting for the snapshot to be written: its
// state is taken at once, and written by another goroutine (at most
// asideWrites at a time; past that, by the write itself). For hot
// writes of long streams (a chat's messages), whose snapshot is many
// times bigger than the event that crossed the threshold. A snapshot is
// a cache: one lost, or written after a later one, changes no load.
func SnapshotsAside() UpdateOption { return func(o *updateOptions) { o.aside = true } }

// Attempts makes a write decided n times in all whichever stream lost the
// race: a write that moves other aggregates along (a project created with
// the flows it takes in) decides again where an edit of one of them alone
// would be told.
func Attempts(n int) UpdateOption { return func(o *updateOptions) { o.attempts = n } }

// raceRule is the race rule of the aggregate of aggs whose stream lost
// the race (the first's when none matches).
func raceRule(aggs []Aggregate, stream string) domain.RaceRule {
	for _, a := range aggs {
		if a.StreamID() == stream {
			return domain.RaceRuleOf(a)
		}
	}
	return domain.RaceRuleOf(aggs[0])
}

// Save appends the aggregate's pending events, expecting the stream to be
// where it was loaded (or not to exist, for a new aggregate). md is copied
// onto every event.
func (r *Repository) Save(ctx context.Context, agg Aggregate, md eventstore.Metadata) (eventstore.AppendResult, error) {
	return r.SaveAll(ctx, md, agg)
}

// SaveAll saves the pending events of several aggregates atomically, each
// as Save does: either all are written or none (eventstore.Store's
// AppendMulti). Aggregates with nothing pending are skipped. The result's
// Positions are all positions written, in order, so Last is the last one;
// its NextExpectedVersion is that of the last aggregate saved (each
// aggregate's own revision is in its Root).
func (r *Repository) SaveAll(ctx context.Context, md eventstore.Metadata, aggs ...Aggregate) (eventstore.AppendResult, error) {
	return r.saveAll(ctx, md, false, aggs...)
}

// saveAll is SaveAll, writing the snapshots aside when aside is set.
func (r *Repository) saveAll(ctx context.Context, md eventstore.Metadata, aside bool, aggs ...Aggregate) (eventstore.AppendResult, error) {
	var (
		appends []eventstore.StreamAppend
		saved   []Aggregate
	)
	for _, agg := range aggs {
		a, err := r.pending(agg, md)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if len(a.Events) > 0 {
			appends, saved = append(appends, a), append(saved, agg)
		}
	}
	switch len(appends) {
	case 0:
		return eventstore.AppendResult{}, nil
	case 1:
		a := appends[0]
		res, err := r.store.Append(ctx, a.Stream, a.Expected, a.Events...)
		if err != nil {
			return res, fmt.Errorf("save %s: %w", a.Stream, err)
		}
		r.saved(ctx, saved[0], res.NextExpectedVersion, md, aside)
		return res, nil
	}
	results, err := r.store.AppendMulti(ctx, appends...)
	if err != nil {
		streams := make([]string, len(appends))
		for i, a := range appends {
			streams[i] = a.Stream
		}
		return eventstore.AppendResult{}, fmt.Errorf("save %s: %w", strings.Join(streams, ", "), err)
	}
	var all eventstore.AppendResult
	for i, res := range results {
		r.saved(ctx, saved[i], res.NextExpectedVersion, md, aside)
		all.NextExpectedVersion = res.NextExpectedVersion
		all.Positions = append(all.Positions, res.Positions...)
	}
	return all, nil
}

// saved notes that agg's pending events are stored, the last at revision,
// and takes a snapshot when the stream crossed a multiple of r.every (or of
// the aggregate's own SnapshotEvery, when it has one), written aside when
// aside is set and a token is free (see SnapshotsAside).
// Snapshots are a cache: failing to write one is no failure of the save.
func (r *Repository) saved(ctx context.Context, agg Aggregate, revision uint64, md eventstore.Metadata, aside bool) {
	before, existed := agg.Root().Revision()
	agg.Root().Saved(revision)
	stamp(agg, md.OccurredAt)
	snap, ok := agg.(domain.Snapshotter)
	if !ok || r.snapshots == nil {
		return
	}
	every := r.every
	if e, ok := agg.(interface{ SnapshotEvery() uint64 }); ok && e.SnapshotEvery() > 0 {
		every = e.SnapshotEvery()
	}
	count := revision + 1
	if existed && (before+1)/every == count/every || !existed && count < every {
		return
	}
	state, err := snap.Snapshot()
	if err != nil {
		return
	}
	stream, version := agg.StreamID(), snap.SnapshotVersion()
	if aside {
		select {
		case r.aside <- struct{}{}:
			go func() {
				defer func() { <-r.aside }()
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), asideTimeout)
				defer cancel()
				_ = r.snapshots.Put(ctx, stream, revision, version, state)
			}()
			return
		default: // enough are being written aside: this write waits for its own
		}
	}
	_ = r.snapshots.Put(ctx, stream, revision, version, state)
}

// pending encodes the aggregate's pending events (with new ids and md) as
// an append to its stream, expecting the stream where it was loaded (or
// not to exist, for a new aggregate). No pending events: no Events.
func (r *Repository) pending(agg Aggregate, md eventstore.Metadata) (eventstore.StreamAppend, error) {
	root := agg.Root()
	pending := root.Pending()
	if len(pending) == 0 {
		return eventstore.StreamAppend{}, nil
	}
	data := make([]eventstore.EventData, len(pending))
	for i, e := range pending {
		d, err := r.reg.Encode(e)
		if err != nil {
			return eventstore.StreamAppend{}, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return eventstore.StreamAppend{}, fmt.Errorf("event id: %w", err)
		}
		d.ID, d.Metadata = id, md
		data[i] = d
	}
	expected := eventstore.NoStream()
	if rev, exists := root.Revision(); exists {
		expected = eventstore.Exact(rev)
	}
	return eventstore.StreamAppend{Stream: agg.StreamID(), Expected: expected, Events: data}, nil
}

// stamp tells an aggregate that keeps its last change time (domain.Timed)
// when its last event occurred.
func stamp(agg Aggregate, at time.Time) {
	if t, ok := agg.(domain.Timed); ok {
		t.Stamp(at.UTC().Truncate(time.Microsecond))
	}
}

// Backoff makes Update wait wait(ctx, attempt) after each lost race (an
// error stops it with that error): writers of one hot stream (concurrent
// logins of an account) spread out.
func Backoff(wait func(ctx context.Context, attempt int) error) UpdateOption {
	return func(o *updateOptions) { o.backoff = wait }
}
