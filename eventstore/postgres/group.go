package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// groupSlots is how many appends (alone or as a group) may be in flight at
// once; an append that finds every slot taken waits and goes in the next
// group. One slot measured best: with two, groups are half as large and
// the server commits twice as often for the same work (see the package
// comment).
const groupSlots = 1

// groupCap bounds how many appends one group commits.
const groupCap = 64

// committer queues the appends that wait for a slot.
type committer struct {
	mu      sync.Mutex
	running int        // slots taken
	queue   []*waiting // appends waiting for a slot, oldest first
}

// waiting is an append that waits for a slot.
type waiting struct {
	ctx  context.Context
	part part
	done chan verdict // buffered: whoever decides never blocks
}

// verdict is what a waiting append is told: to lead a group (lead, which
// includes it), to run alone (alone), or its outcome (res and the bare
// cause of a failure, as appendWith returns them).
type verdict struct {
	lead  []*waiting
	alone bool
	res   eventstore.AppendResult
	err   error
}

// commit appends p as appendWith does, alone when a slot is free, else in
// the next group. Like appendWith it returns the bare cause of a failure,
// and it does not wake followers.
//
// An append whose ctx ends while it waits returns ctx.Err() and writes
// nothing. Once its group has been taken from the queue it gets the true
// outcome whatever its ctx: the group runs until all of its members' contexts
// have ended.
func (s *Store) commit(ctx context.Context, p part) (eventstore.AppendResult, error) {
	c := &s.group
	c.mu.Lock()
	if c.running < groupSlots {
		c.running++
		c.mu.Unlock()
		res, err := s.appendWith(ctx, s.pool, p.stream, p.expected, p.batch)
		s.nextGroup()
		return res, err
	}
	w := &waiting{ctx: ctx, part: p, done: make(chan verdict, 1)}
	c.queue = append(c.queue, w)
	c.mu.Unlock()

	var v verdict
	select {
	case v = <-w.done:
	case <-ctx.Done():
		if c.withdraw(w) {
			return eventstore.AppendResult{}, ctx.Err()
		}
		v = <-w.done
	}
	if v.lead != nil {
		s.runGroup(v.lead) // tells every member, w too, its verdict
		v = <-w.done
	}
	if v.alone {
		return s.appendWith(ctx, s.pool, p.stream, p.expected, p.batch)
	}
	return v.res, v.err
}

// withdraw takes w out of the queue; false when a group already has it.
func (c *committer) withdraw(w *waiting) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.queue {
		if q == w {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return true
		}
	}
	return false
}

// nextGroup passes the slot of an append or group that has ended to the
// oldest waiting append, which leads the waiting ones (up to groupCap) as
// the next group, or frees it when none waits. Waiting appends whose
// context has ended are told so and left out.
func (s *Store) nextGroup() {
	c := &s.group
	c.mu.Lock()
	defer c.mu.Unlock()
	var g []*waiting
	for len(c.queue) > 0 && len(g) < groupCap {
		w := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		if err := w.ctx.Err(); err != nil {
			w.done <- verdict{err: err}
			continue
		}
		g = append(g, w)
	}
	if len(c.queue) == 0 {
		c.queue = nil // let the backing array go
	}
	if len(g) == 0 {
		c.running--
		return
	}
	g[0].done <- verdict{lead: g}
}

// runGroup appends the members of g in one transaction, passes the slot
// on, and tells each member its verdict. When the transaction fails as a
// whole, each member runs alone, as if there had been no group, so that a
// failure is its own member's and no member's events are lost.
func (s *Store) runGroup(g []*waiting) {
	if len(g) == 1 {
		w := g[0]
		res, err := s.appendWith(w.ctx, s.pool, w.part.stream, w.part.expected, w.part.batch)
		s.nextGroup()
		w.done <- verdict{res: res, err: err}
		return
	}
	ctx, stop := groupContext(g)
	results, errs, err := s.appendGroup(ctx, g)
	stop()
	s.nextGroup()
	for i, w := range g {
		if err != nil {
			w.done <- verdict{alone: true}
			continue
		}
		w.done <- verdict{res: results[i], err: errs[i]}
	}
}

// groupContext returns the context a group runs under, with the values of
// its leader's: it ends once every member's context has ended, so that no
// member giving up cancels the others' appends.
func groupContext(g []*waiting) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(g[0].ctx))
	var live atomic.Int32
	live.Store(int32(len(g)))
	stops := make([]func() bool, len(g))
	for i, w := range g {
		stops[i] = context.AfterFunc(w.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// appendGroup runs the append statements of g, in queue order, after the
// stream locks of AppendMulti, as one pipeline with one Sync: PostgreSQL
// runs them in one implicit transaction, committed (one WAL flush) at the
// Sync, in one round trip. A member whose version check fails inserts
// nothing and does not abort the transaction: its errs entry is
// errWrongVersion and the others commit. Any error aborts the transaction
// as a whole and is returned as err; nothing of the group is then stored,
// except when the connection failed after the commit was sent, which the
// members' own retries (alone, idempotent by event id) resolve.
func (s *Store) appendGroup(ctx context.Context, g []*waiting) (results []eventstore.AppendResult, errs []error, err error) {
	b := &pgx.Batch{}
	streams := make([]string, len(g))
	for i, w := range g {
		streams[i] = w.part.stream
	}
	b.Queue(lockStreamsSQL, streams)
	for _, w := range g {
		sql, args := appendStatement(w.part.stream, w.part.expected, w.part.batch)
		b.Queue(sql, args...)
	}
	br := s.pool.SendBatch(ctx, b)
	defer func() {
		// Close reads up to the Sync: its error is the commit's.
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			results, errs = nil, nil
		}
	}()
	if _, err := br.Exec(); err != nil {
		return nil, nil, err
	}
	results, errs = make([]eventstore.AppendResult, len(g)), make([]error, len(g))
	for i, w := range g {
		rows, err := br.Query()
		if err == nil {
			results[i], err = appendResult(rows, len(w.part.ids))
		}
		switch {
		case errors.Is(err, errWrongVersion):
			errs[i] = err
		case err != nil:
			return nil, nil, err
		}
	}
	return results, errs, nil
}
