// Package memory is an in-memory event store: eventstore.Store held in
// the process's memory, for tests.
//
// It exists so that command handlers, aggregates' repositories and
// anything else written against the eventstore.Store port can be tested
// fast and without a database. It passes the same conformance suite
// (eventstore/storetest) as the PostgreSQL adapter, so a test that passes
// on it relies only on documented behaviour of the port.
//
// It is not a production store: nothing is persisted, the whole log lives
// in one process's memory and grows without bound, and followers in other
// processes cannot see it.
//
// # How it records events
//
// Every call that writes holds one mutex from its checks to its last
// event, so appends are serialised: positions are handed out by a counter
// (eventstore.At(1), At(2) … — Commit and Prepare equal, as in
// PostgreSQL), a position is never seen before an earlier one, and ReadAll
// and Follow are gap-safe without further work. As the PostgreSQL adapter
// does, it fills a zero Metadata.OccurredAt with the time of the append,
// keeps OccurredAt and RecordedAt in UTC to the microsecond (RecordedAt
// comes from the store's clock, see WithClock), and refuses Data that is
// not valid JSON with eventstore.ErrInvalidAppend. Data is stored as given
// (not normalised as PostgreSQL's jsonb would), and copied on the way in
// and on the way out: neither the appender nor a reader can change a
// stored event.
//
// Follow waits on a channel that every append closes: a caught-up
// follower wakes at once, without polling.
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// DefaultBatchSize is how many events Follow hands over at most per call,
// unless WithBatchSize says otherwise.
const DefaultBatchSize = 1000

// Option tunes a Store.
type Option func(*Store)

// WithClock sets the clock that stamps RecordedAt (and OccurredAt when an
// event has none). The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithBatchSize sets how many events Follow hands over at most per call
// (values below 1 keep DefaultBatchSize).
func WithBatchSize(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.batchSize = n
		}
	}
}

// Store is the in-memory event store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	now       func() time.Time
	batchSize int

	mu      sync.Mutex
	log     []eventstore.RecordedEvent // log[i] has position At(i+1)
	streams map[string][]int           // stream -> indices into log, by revision
	byID    map[uuid.UUID]int          // event id -> index into log
	// changed is closed, and replaced, by every append.
	changed chan struct{}
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:       time.Now,
		batchSize: DefaultBatchSize,
		streams:   make(map[string][]int),
		byID:      make(map[uuid.UUID]int),
		changed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	results, err := s.write(ctx, []eventstore.StreamAppend{{Stream: stream, Expected: expected, Events: events}})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return results[0], nil
}

// AppendMulti implements eventstore.Store.
func (s *Store) AppendMulti(ctx context.Context, appends ...eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppendMulti(appends); err != nil {
		return nil, err
	}
	return s.write(ctx, appends)
}

// write appends validated parts, all or none, under the lock: an
// idempotent retry returns the stored results; otherwise each part, in
// call order, is checked against its expected version and then for ids
// stored before (the order in which the PostgreSQL adapter's statements
// fail), and the first failure is the call's error.
func (s *Store) write(ctx context.Context, parts []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	for _, p := range parts {
		for i, e := range p.Events {
			if !json.Valid(e.Data) {
				return nil, fmt.Errorf("stream %s: %w: event %d data is not valid JSON", p.Stream, eventstore.ErrInvalidAppend, i)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", parts[0].Stream, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if prior, ok := s.stored(parts); ok {
		return prior, nil
	}
	for _, p := range parts {
		if err := s.check(p); err != nil {
			return nil, err
		}
	}

	results := make([]eventstore.AppendResult, len(parts))
	for k, p := range parts {
		res := eventstore.AppendResult{Positions: make([]eventstore.Position, len(p.Events))}
		indices := s.streams[p.Stream]
		for i, e := range p.Events {
			now := s.now().UTC().Truncate(time.Microsecond)
			md := e.Metadata
			if md.OccurredAt.IsZero() {
				md.OccurredAt = now
			}
			md.OccurredAt = md.OccurredAt.UTC().Truncate(time.Microsecond)
			rec := eventstore.RecordedEvent{
				ID:            e.ID,
				StreamID:      p.Stream,
				StreamVersion: uint64(len(indices)),
				Position:      eventstore.At(uint64(len(s.log) + 1)),
				Type:          e.Type,
				SchemaVersion: e.SchemaVersion,
				Data:          clone(e.Data),
				Metadata:      md,
				RecordedAt:    now,
			}
			s.byID[e.ID] = len(s.log)
			indices = append(indices, len(s.log))
			s.log = append(s.log, rec)
			res.Positions[i] = rec.Position
			res.NextExpectedVersion = rec.StreamVersion
		}
		s.streams[p.Stream] = indices
		results[k] = res
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return results, nil
}

// stored returns the results of an earlier call whose events are those of
// parts, stored as this call would have stored them: every id stored, each
// part's events consecutive and in order in its stream, all positions in
// the order of the call. Callers hold s.mu.
func (s *Store) stored(parts []eventstore.StreamAppend) ([]eventstore.AppendResult, bool) {
	results := make([]eventstore.AppendResult, len(parts))
	last := -1
	for k, p := range parts {
		res := eventstore.AppendResult{Positions: make([]eventstore.Position, len(p.Events))}
		var first uint64
		for i, e := range p.Events {
			idx, ok := s.byID[e.ID]
			if !ok || idx <= last {
				return nil, false
			}
			rec := s.log[idx]
			if i == 0 {
				first = rec.StreamVersion
			}
			if rec.StreamID != p.Stream || rec.StreamVersion != first+uint64(i) {
				return nil, false
			}
			last = idx
			res.Positions[i] = rec.Position
			res.NextExpectedVersion = rec.StreamVersion
		}
		results[k] = res
	}
	return results, true
}

// check refuses a part whose expected version does not hold, or whose
// event ids are stored already. Callers hold s.mu.
func (s *Store) check(p eventstore.StreamAppend) error {
	n := len(s.streams[p.Stream])
	var actual *uint64
	if n > 0 {
		v := uint64(n - 1)
		actual = &v
	}
	ok := true
	switch rev, exact := p.Expected.Revision(); {
	case exact:
		ok = actual != nil && *actual == rev
	case p.Expected.IsNoStream():
		ok = actual == nil
	case p.Expected.IsStreamExists():
		ok = actual != nil
	}
	if !ok {
		return &eventstore.WrongExpectedVersionError{Stream: p.Stream, Expected: p.Expected, Actual: actual}
	}
	for _, e := range p.Events {
		if _, dup := s.byID[e.ID]; dup {
			return &eventstore.DuplicateEventError{Stream: p.Stream}
		}
	}
	return nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to uint64) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	if from > to {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	indices := s.streams[stream]
	if from >= uint64(len(indices)) {
		return nil, nil
	}
	end := uint64(len(indices)) // exclusive
	if to < end {
		end = to + 1
	}
	out := make([]eventstore.RecordedEvent, 0, end-from)
	for _, idx := range indices[from:end] {
		out = append(out, copyEvent(s.log[idx]))
	}
	return out, nil
}

// ReadAll implements eventstore.Store. Appends are serialised, so there
// is never an earlier event in flight: it returns min(limit, what there
// is) events.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read log after %s: %w", after, err)
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, _ := s.after(after, limit)
	return out, nil
}

// after copies up to limit events after position p, and returns the
// channel the next append closes. Callers hold s.mu.
func (s *Store) after(p eventstore.Position, limit int) ([]eventstore.RecordedEvent, <-chan struct{}) {
	// log[i] is at At(i+1), so the first event after p is log[p.Commit];
	// a pair whose prepare part is below its commit part comes before
	// At(p.Commit), which is then the first.
	start := p.Commit
	if p.Prepare < p.Commit {
		start--
	}
	if start >= uint64(len(s.log)) {
		return nil, s.changed
	}
	end := min(uint64(len(s.log)), start+uint64(limit))
	out := make([]eventstore.RecordedEvent, 0, end-start)
	for _, e := range s.log[start:end] {
		out = append(out, copyEvent(e))
	}
	return out, s.changed
}

// Follow implements eventstore.Store.
func (s *Store) Follow(ctx context.Context, after eventstore.Position, handle func(context.Context, []eventstore.RecordedEvent) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		batch, changed := s.after(after, s.batchSize)
		s.mu.Unlock()
		if len(batch) > 0 {
			if err := handle(ctx, batch); err != nil {
				return err
			}
			after = batch[len(batch)-1].Position
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Position{}, fmt.Errorf("head of the log: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) == 0 {
		return eventstore.Position{}, nil
	}
	return s.log[len(s.log)-1].Position, nil
}

// copyEvent returns e with a Data of its own.
func copyEvent(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = clone(e.Data)
	return e
}

func clone(b json.RawMessage) json.RawMessage {
	return append(json.RawMessage(nil), b...)
}
