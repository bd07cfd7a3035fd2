package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// RunRecords is the write side of one flow run: its own stream (the
// domain.Run it is given) and what the monitor shows of it — its messages
// (in their chat sessions, as RecordMessage and UpdateMessage record
// them), vertex builds and transactions. A run records many small things
// quickly, so RunRecords queues them and Flush appends everything queued
// in one atomic multi-stream append: one transaction for all a run did
// since the last flush, instead of one per record.
//
// Message ids are allocated when a message is queued (the client is shown
// them at once); the decisions on the chat sessions are taken when they
// are flushed, against the sessions as stored (a session changed
// meanwhile by the monitor is loaded again and decided on once more). A
// message updated before it was flushed is flushed once, as updated.
//
// Every method is safe for concurrent use; flushes are serialised, and
// what is queued during a flush waits for the next one.
type RunRecords struct {
	m *Messages
	// flow is the flow id records are keyed by (a public run's virtual
	// flow id); place is the placement of the flow they belong to.
	flow  uuid.UUID
	place MonitoredFlow
	md    eventstore.Metadata
	log   *slog.Logger

	flushMu  sync.Mutex    // one flush at a time
	sessions *SessionCache // sessions as stored after the last flushes

	mu     sync.Mutex // guards what follows
	run    *domain.Run
	ops    []messageOp
	builds []domain.Event
	txs    []domain.Event
}

// messageOp is a queued message: added (with its fields), or changed.
type messageOp struct {
	session string
	id      int64
	add     bool
	remove  bool
	fields  domain.MessageFields
	change  domain.MessageChange
}

// NewRunRecords returns the records of run, a run of the flow place
// whose records are keyed by flow. md is the metadata of every event
// (who, correlation, client address; the placement and the time of each
// flush are filled in). sessions is shared by the runs of a process (nil:
// the run's own).
func (m *Messages) NewRunRecords(run *domain.Run, flow uuid.UUID, place MonitoredFlow, md eventstore.Metadata, sessions *SessionCache,
	log *slog.Logger) *RunRecords {
	placeMD(&md, place.TenantID, place.BusinessID)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if sessions == nil {
		sessions = NewSessionCache(64)
	}
	return &RunRecords{m: m, flow: flow, place: place, md: md, log: log, run: run, sessions: sessions}
}

// Run decides on the run's own aggregate (start it, emit its progress,
// close it), queued with everything else.
func (r *RunRecords) Run(decide func(*domain.Run) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return decide(r.run)
}

// AddMessage queues a message of session (held by the flow's owner) and
// returns its id.
func (r *RunRecords) AddMessage(ctx context.Context, session string, f domain.MessageFields) (int64, error) {
	if err := domain.ValidSessionID("session_id", session); err != nil {
		return 0, err
	}
	id, err := r.m.IDs.Next(ctx, "message")
	if err != nil {
		return 0, err
	}
	f.Timestamp = f.Timestamp.UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, messageOp{session: session, id: id, add: true, fields: f})
	return id, nil
}

// UpdateMessage queues a change of message id of session. A message still
// queued is changed in the queue.
func (r *RunRecords) UpdateMessage(session string, id int64, ch domain.MessageChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.ops {
		if op := &r.ops[i]; op.add && op.id == id && op.session == session {
			mergeChange(&op.fields, ch)
			return
		}
	}
	r.ops = append(r.ops, messageOp{session: session, id: id, change: ch})
}

// RemoveMessage withdraws message id of session: a message not appended
// yet is dropped with its changes (nothing of it reaches the log), one
// appended is deleted at the next flush.
func (r *RunRecords) RemoveMessage(session string, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.ops[:0]
	pending := false
	for _, op := range r.ops {
		if op.id == id && op.session == session {
			pending = pending || op.add
			continue
		}
		kept = append(kept, op)
	}
	r.ops = kept
	if !pending {
		r.ops = append(r.ops, messageOp{session: session, id: id, remove: true})
	}
}

// mergeChange applies ch to fields not yet recorded.
func mergeChange(f *domain.MessageFields, ch domain.MessageChange) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&f.Text, ch.Text)
	set(&f.Sender, ch.Sender)
	set(&f.SenderName, ch.SenderName)
	if ch.Files != nil {
		f.Files = slices.Clone(*ch.Files)
	}
	if ch.Error != nil {
		f.Error = *ch.Error
	}
	if ch.Edit != nil {
		f.Edit = *ch.Edit
	}
	if ch.Properties != nil {
		f.Properties = ch.Properties
	}
	if ch.ContentBlocks != nil {
		f.ContentBlocks = ch.ContentBlocks
	}
	for _, p := range []struct{ dst, v **string }{{&f.ContextID, &ch.ContextID}, {&f.IPAddress, &ch.IPAddress}, {&f.FlowVersion, &ch.FlowVersion}} {
		if *p.v != nil {
			*p.dst = *p.v
		}
	}
	if ch.StartTime != nil {
		f.StartTime = ch.StartTime
	}
	if ch.EndTime != nil {
		f.EndTime = ch.EndTime
	}
}

// VertexBuild queues a build of a vertex (a new build id and the time it
// is queued when not given).
func (r *RunRecords) VertexBuild(b domain.VertexBuildRecorded) error {
	b.FlowID = r.flow
	if err := runRecord(b.VertexID, &b.BuildID, &b.Timestamp, eventstore.Metadata{OccurredAt: time.Now()}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.builds = append(r.builds, b)
	return nil
}

// Transaction queues a transaction of the run.
func (r *RunRecords) Transaction(t domain.TransactionRecorded) error {
	t.FlowID = r.flow
	if err := runRecord(t.VertexID, &t.TransactionID, &t.Timestamp, eventstore.Metadata{OccurredAt: time.Now()}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.txs = append(r.txs, t)
	return nil
}

// Pending tells how many records wait for a flush.
func (r *RunRecords) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops) + len(r.builds) + len(r.txs) + len(r.run.Root().Pending())
}

// Flush appends everything queued, atomically, at time now, and returns
// what it appended (nothing queued: nothing). A message whose session
// refuses it (deleted and held by another user meanwhile …) is left out
// and logged; a lost race with another writer of a session is decided
// again on the session as stored. On any other failure nothing is
// written and everything stays queued for the next flush.
func (r *RunRecords) Flush(ctx context.Context, now time.Time) (eventstore.AppendResult, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	ops, builds, txs := r.ops, r.builds, r.txs
	r.ops, r.builds, r.txs = nil, nil, nil
	runEvents := slices.Clone(r.run.Root().Pending())
	runRev, runExists := r.run.Root().Revision()
	r.mu.Unlock()
	if len(ops)+len(builds)+len(txs)+len(runEvents) == 0 {
		return eventstore.AppendResult{}, nil
	}
	md := r.md
	md.OccurredAt = now.UTC()

	var (
		results []eventstore.AppendResult
		appends []eventstore.StreamAppend
		decided map[string]*domain.ChatSession
		err     error
	)
	// The sessions this flush writes are lent to it alone (in order: two
	// flushes never wait for each other's), so that the runs of one
	// session on this process append one after the other instead of
	// losing races to each other; those not given back as stored at the
	// end are released.
	lent, err := r.lendSessions(ctx, ops)
	if err != nil {
		r.mu.Lock()
		r.ops, r.builds, r.txs = append(ops, r.ops...), append(builds, r.builds...), append(txs, r.txs...)
		r.mu.Unlock()
		return eventstore.AppendResult{}, err
	}
	defer func() {
		for stream := range lent {
			r.sessions.release(stream)
		}
	}()
	for range 5 {
		decided, appends, err = r.decide(ctx, ops, md, lent)
		if err == nil {
			appends, err = r.appendOthers(appends, md, builds, txs, runEvents, runRev, runExists)
		}
		if err == nil {
			results, err = r.appendAll(ctx, appends)
		}
		if !errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
			break
		}
		// Someone else wrote a session: decide again on what is stored
		// (the sessions decided on are not given back to the cache).
	}
	if err != nil {
		r.mu.Lock()
		r.ops, r.builds, r.txs = append(ops, r.ops...), append(builds, r.builds...), append(txs, r.txs...)
		r.mu.Unlock()
		return eventstore.AppendResult{}, err
	}
	var all eventstore.AppendResult
	for i, a := range appends {
		res := results[i]
		all.NextExpectedVersion = res.NextExpectedVersion
		all.Positions = append(all.Positions, res.Positions...)
		for _, s := range decided {
			if s.StreamID() == a.Stream {
				r.m.Repo.saved(ctx, s, res.NextExpectedVersion, md, true) // a run is a hot writer too: see SnapshotsAside
			}
		}
	}
	for _, s := range decided {
		if len(s.Root().Pending()) == 0 { // saved, or nothing to write (every message refused): as stored
			r.sessions.put(s)
			delete(lent, s.StreamID())
		}
	}
	r.mu.Lock()
	if len(runEvents) > 0 {
		r.run.Root().SavedUpTo(len(runEvents), r.runRevisionAfter(runRev, runExists, len(runEvents)))
	}
	r.mu.Unlock()
	return all, nil
}

func (r *RunRecords) runRevisionAfter(rev uint64, exists bool, n int) uint64 {
	if !exists {
		return uint64(n - 1)
	}
	return rev + uint64(n)
}

// decide applies the queued message operations to their sessions (as
// stored after the last flush, else loaded) and returns the sessions with
// their appends.
func (r *RunRecords) decide(ctx context.Context, ops []messageOp, md eventstore.Metadata,
	lent map[string]*domain.ChatSession) (map[string]*domain.ChatSession, []eventstore.StreamAppend, error) {
	decided := map[string]*domain.ChatSession{}
	var order []string
	for _, op := range ops {
		s, ok := decided[op.session]
		if !ok {
			var err error
			if s, err = r.session(ctx, op.session, lent); err != nil {
				return nil, nil, err
			}
			decided[op.session] = s
			order = append(order, op.session)
		}
		if err := r.apply(ctx, s, op); err != nil {
			if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrNotFound) ||
				errors.Is(err, domain.ErrConflict) {
				r.log.Warn("a message of a run was not recorded", "flow_id", r.flow, "message_id", op.id, "error", err.Error())
				continue
			}
			return nil, nil, err
		}
	}
	var appends []eventstore.StreamAppend
	for _, key := range order {
		a, err := r.m.Repo.pending(decided[key], md)
		if err != nil {
			return nil, nil, err
		}
		if len(a.Events) > 0 {
			appends = append(appends, a)
		}
	}
	return decided, appends, nil
}

// session returns the session sessionID of the run's flow: as stored
// after the last flush of a run in it (lent by the cache, given back
// after a successful flush), else loaded.
func (r *RunRecords) session(ctx context.Context, sessionID string, lent map[string]*domain.ChatSession) (*domain.ChatSession, error) {
	flow := r.flow
	stream := domain.ChatSessionStream(&flow, sessionID)
	if s := lent[stream]; s != nil && len(s.Root().Pending()) == 0 {
		lent[stream] = nil // a second decision (a lost race) reads the stored one
		return s, nil
	}
	return r.m.loadSession(ctx, SessionKey{FlowID: &flow, SessionID: sessionID})
}

// lendSessions borrows the sessions ops write from the cache, in stream
// order (waiting while another flush has one): stream -> the cached
// session, nil when none was cached.
func (r *RunRecords) lendSessions(ctx context.Context, ops []messageOp) (map[string]*domain.ChatSession, error) {
	flow := r.flow
	var streams []string
	for _, op := range ops {
		if st := domain.ChatSessionStream(&flow, op.session); !slices.Contains(streams, st) {
			streams = append(streams, st)
		}
	}
	slices.Sort(streams)
	lent := make(map[string]*domain.ChatSession, len(streams))
	for _, st := range streams {
		s, err := r.sessions.take(ctx, st)
		if err != nil {
			for got := range lent {
				r.sessions.release(got)
			}
			return nil, err
		}
		lent[st] = s
	}
	return lent, nil
}

// apply decides op on s: a message opens its session when it is not open,
// held by the flow's owner (who reads every chat of the flow on the
// monitor) and opened by the user running it (whose history it is; the
// owner when none is known), as RecordMessage opens one.
func (r *RunRecords) apply(ctx context.Context, s *domain.ChatSession, op messageOp) error {
	if op.remove {
		s.Remove([]int64{op.id})
		return nil
	}
	if !op.add {
		_, err := s.Update(op.id, op.change)
		return err
	}
	flow := r.flow
	user := cmp.Or(r.md.ActorUserID, r.place.OwnerID)
	c := domain.ChatSessionCreated{FlowID: &flow, SessionID: op.session, OwnerID: r.place.OwnerID, UserID: user,
		TenantID: r.place.TenantID, BusinessID: r.place.BusinessID}
	if err := r.m.open(ctx, s, c); err != nil {
		return err
	}
	return s.Add(op.id, op.fields)
}

// appendOthers returns the appends of a flush: the run's own events first
// (they are what a replay shows), the sessions', then the vertex builds
// and transactions (at any revision: records need no decision).
func (r *RunRecords) appendOthers(sessions []eventstore.StreamAppend, md eventstore.Metadata, builds, txs, runEvents []domain.Event,
	runRev uint64, runExists bool) ([]eventstore.StreamAppend, error) {
	var out []eventstore.StreamAppend
	part := func(stream string, expected eventstore.ExpectedVersion, events []domain.Event) error {
		if len(events) == 0 {
			return nil
		}
		a := eventstore.StreamAppend{Stream: stream, Expected: expected}
		for _, e := range events {
			d, err := r.m.Registry.Encode(e)
			if err != nil {
				return err
			}
			if d.ID, err = uuid.NewV7(); err != nil {
				return fmt.Errorf("event id: %w", err)
			}
			d.Metadata = md
			a.Events = append(a.Events, d)
		}
		out = append(out, a)
		return nil
	}
	runExpected := eventstore.NoStream()
	if runExists {
		runExpected = eventstore.Exact(runRev)
	}
	if err := part(r.run.StreamID(), runExpected, runEvents); err != nil {
		return nil, err
	}
	out = append(out, sessions...)
	if err := part(domain.FlowBuildsStream(r.flow), eventstore.Any(), builds); err != nil {
		return nil, err
	}
	if err := part(domain.FlowTransactionsStream(r.flow), eventstore.Any(), txs); err != nil {
		return nil, err
	}
	return out, nil
}

// appendAll appends every part atomically; the results are in the order
// of appends.
func (r *RunRecords) appendAll(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	switch len(appends) {
	case 0:
		return nil, nil
	case 1:
		a := appends[0]
		res, err := r.m.Store.Append(ctx, a.Stream, a.Expected, a.Events...)
		if err != nil {
			return nil, fmt.Errorf("record the run: %w", err)
		}
		return []eventstore.AppendResult{res}, nil
	}
	results, err := r.m.Store.AppendMulti(ctx, appends...)
	if err != nil {
		return nil, fmt.Errorf("record the run: %w", err)
	}
	return results, nil
}

// SessionCache keeps chat sessions as the flushes of runs (and
// Messages.RecordMessage) left them, so that the next run or message in
// the same session (a chat goes on) decides on it without reading it
// again. A session is lent to one writer at a time (the others of this
// process wait for it: they would only lose the race to append); one that someone else wrote meanwhile (the monitor, another
// process) is caught by its append's expected revision and read again. It
// holds at most max sessions (an arbitrary one is forgotten past that).
type SessionCache struct {
	mu   sync.Mutex
	m    map[string]*domain.ChatSession
	lent map[string]chan struct{} // closed when given back
	max  int
}

// NewSessionCache returns an empty cache of at most max sessions.
func NewSessionCache(max int) *SessionCache {
	return &SessionCache{m: map[string]*domain.ChatSession{}, lent: map[string]chan struct{}{}, max: max}
}

// take lends the session of stream (nil: not cached), waiting while it
// is lent, until ctx ends; put or release gives it back. A nil cache
// lends nothing and keeps nothing.
func (c *SessionCache) take(ctx context.Context, stream string) (*domain.ChatSession, error) {
	if c == nil {
		return nil, nil
	}
	for {
		c.mu.Lock()
		busy, lent := c.lent[stream]
		if !lent {
			s := c.m[stream]
			delete(c.m, stream)
			c.lent[stream] = make(chan struct{})
			c.mu.Unlock()
			return s, nil
		}
		c.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// put gives a session back, as stored.
func (c *SessionCache) put(s *domain.ChatSession) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[s.StreamID()] = s
	c.giveBack(s.StreamID())
}

// release gives back the lend of stream without a session to keep.
func (c *SessionCache) release(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.giveBack(stream)
}

func (c *SessionCache) giveBack(stream string) {
	if ch, ok := c.lent[stream]; ok {
		close(ch)
		delete(c.lent, stream)
	}
}
