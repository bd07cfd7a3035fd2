package postgres

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// groupSlots is how many appends or groups may be running their
// statements at once (their commits are not counted); an append that
// finds every slot taken waits and goes in the next group. One slot
// measured best (see the package comment): each more slot makes groups
// smaller and commits more frequent for the same work.
const groupSlots = 1

// groupCap bounds how many appends one group commits.
const groupCap = 64

// committer queues the appends that wait for a slot.
type committer struct {
	mu      sync.Mutex
	running int        // slots taken
	queue   []*waiting // appends waiting for a slot, oldest first

	commits, appends int // transactions begun here (alone or as a group) and their appends: the benchmark reports their ratio
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

// commit appends p as appendWith does, at once when a slot is free, else
// in the next group. Like appendWith it returns the bare cause of a
// failure, and it does not wake followers.
//
// An append whose ctx ends while it waits returns ctx.Err() and writes
// nothing. Once its group has been taken from the queue it gets the true
// outcome whatever its ctx: the group runs until all of its members'
// contexts have ended.
func (s *Store) commit(ctx context.Context, p part) (eventstore.AppendResult, error) {
	c := &s.group
	w := &waiting{ctx: ctx, part: p, done: make(chan verdict, 1)}
	c.mu.Lock()
	if c.running < groupSlots {
		c.running++
		c.commits++
		c.appends++
		c.mu.Unlock()
		s.runGroup([]*waiting{w})
		v := <-w.done
		return v.res, v.err
	}
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
	c.commits++
	c.appends += len(g)
	g[0].done <- verdict{lead: g}
}

// runGroup appends the members of g in one transaction and tells each
// member its verdict. It passes the slot on as soon as the group's
// statements have run, while its commit is still being flushed: the next
// group's statements run during that flush. When the transaction of a
// group of several fails as a whole, each member runs alone, as if there
// had been no group, so that a failure is its own member's and no
// member's events are lost.
func (s *Store) runGroup(g []*waiting) {
	release := sync.OnceFunc(s.nextGroup)
	defer release()
	if len(g) == 1 {
		res, err := s.appendAlone(g[0], release)
		release()
		g[0].done <- verdict{res: res, err: err}
		return
	}
	ctx, stop := groupContext(g)
	results, errs, err := s.appendGroup(ctx, g, release)
	stop()
	release()
	for i, w := range g {
		if err != nil {
			w.done <- verdict{alone: true}
			continue
		}
		w.done <- verdict{res: results[i], err: errs[i]}
	}
}

// appendAlone runs w's append statement as appendWith does, but through a
// pipeline so that it can call executed once the statement has run,
// before its commit is flushed.
func (s *Store) appendAlone(w *waiting, executed func()) (res eventstore.AppendResult, err error) {
	b := &pgx.Batch{}
	sql, args := appendStatement(w.part.stream, w.part.expected, w.part.batch)
	b.Queue(sql, args...)
	br := s.pool.SendBatch(w.ctx, b)
	rows, err := br.Query()
	if err == nil {
		res, err = appendResult(rows, len(w.part.ids))
	}
	if err == nil {
		executed()
	}
	// Close reads up to the Sync: its error is the commit's.
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res, nil
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

// groupAppendSQL appends for several members at once, one statement for
// all: the version checks of reserveCTE (u for an exact revision and
// "stream exists", a for "any", f for "no stream"), then every member's
// events in member order. Member streams must be distinct (each streams
// row moves once). A member whose check fails gets no rows back and
// inserts nothing, and the others go on. Each streams row moves before the
// INSERT takes positions for its events, as in reserveCTE.
//
// $1 streams, $2 numbers of events, $3 expected versions (encodeExpected),
// one per member; $4 member (1-based) and $5 rank in its member (1-based)
// of each event, then its $6 id, $7 type, $8 schema, $9 data, $10 metadata.
const groupAppendSQL = `WITH m AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS m(stream_id, n, expected, k)
), u AS (
    UPDATE streams s SET version = s.version + m.n FROM m
    WHERE s.stream_id = m.stream_id AND m.expected NOT IN (-1, -2) AND (m.expected = -3 OR s.version = m.expected)
    RETURNING s.stream_id, s.version
), a AS (
    INSERT INTO streams AS s (stream_id, version) SELECT stream_id, n - 1 FROM m WHERE expected = -1
    ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version + 1
    RETURNING s.stream_id, s.version
), f AS (
    INSERT INTO streams (stream_id, version) SELECT stream_id, n - 1 FROM m WHERE expected = -2
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING stream_id, version
), r AS (SELECT * FROM u UNION ALL SELECT * FROM a UNION ALL SELECT * FROM f)
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
SELECT e.id, m.stream_id, r.version - m.n + e.ord, e.typ, e.sv, e.dat, e.meta, (e.meta ->> 'tenant_id')::uuid
FROM unnest($4::bigint[], $5::bigint[], $6::uuid[], $7::text[], $8::integer[], $9::jsonb[], $10::jsonb[]) WITH ORDINALITY AS e(k, ord, id, typ, sv, dat, meta, seq)
JOIN m ON m.k = e.k JOIN r ON r.stream_id = m.stream_id
ORDER BY e.seq
RETURNING stream_id, stream_version, global_position`

// layers splits the members of g into runs of distinct streams, keeping
// queue order within each stream: the i-th append to a stream goes in the
// i-th layer.
func layers(g []*waiting) [][]int {
	var out [][]int
	seen := make(map[string]int, len(g))
	for i, w := range g {
		l := seen[w.part.stream]
		seen[w.part.stream] = l + 1
		if l == len(out) {
			out = append(out, nil)
		}
		out[l] = append(out[l], i)
	}
	return out
}

// queueLayer queues the statement that appends the members of layer.
func queueLayer(b *pgx.Batch, g []*waiting, layer []int) {
	streams, counts, expected := make([]string, len(layer)), make([]int64, len(layer)), make([]int64, len(layer))
	var (
		ks, ords []int64
		ev       batch
	)
	for k, i := range layer {
		p := g[i].part
		streams[k], counts[k], expected[k] = p.stream, int64(len(p.ids)), encodeExpected(p.expected)
		for j := range p.ids {
			ks, ords = append(ks, int64(k+1)), append(ords, int64(j+1))
		}
		ev.ids, ev.types, ev.schemas = append(ev.ids, p.ids...), append(ev.types, p.types...), append(ev.schemas, p.schemas...)
		ev.data, ev.metas = append(ev.data, p.data...), append(ev.metas, p.metas...)
	}
	b.Queue(groupAppendSQL, streams, counts, expected, ks, ords, ev.ids, ev.types, ev.schemas, ev.data, ev.metas)
}

// appendGroup runs the appends of g, after the stream locks of
// AppendMulti, as one pipeline with one Sync: PostgreSQL runs it in one
// implicit transaction, committed (one WAL flush) at the Sync, in one
// round trip. It calls executed once the statements have run, before the
// commit is flushed. The appends go as one statement per layer (see layers). A
// member whose version check fails inserts nothing and does not abort the
// transaction: its errs entry is errWrongVersion and the others commit.
// Any error aborts the transaction as a whole and is returned as err;
// nothing of the group is then stored, except when the connection failed
// after the commit was sent, which the members' own retries (alone,
// idempotent by event id) resolve.
func (s *Store) appendGroup(ctx context.Context, g []*waiting, executed func()) (results []eventstore.AppendResult, errs []error, err error) {
	b := &pgx.Batch{}
	streams := make([]string, len(g))
	for i, w := range g {
		streams[i] = w.part.stream
	}
	b.Queue(lockStreamsSQL, streams)
	ls := layers(g)
	for _, layer := range ls {
		queueLayer(b, g, layer)
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
	for _, layer := range ls {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, err
		}
		member := make(map[string]int, len(layer))
		for _, i := range layer {
			member[g[i].part.stream] = i
		}
		var (
			stream            string
			version, position int64
		)
		_, err = pgx.ForEachRow(rows, []any{&stream, &version, &position}, func() error {
			res := &results[member[stream]]
			res.NextExpectedVersion = max(res.NextExpectedVersion, uint64(version))
			res.Positions = append(res.Positions, eventstore.At(uint64(position)))
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	executed()
	for i, res := range results {
		if len(res.Positions) == 0 {
			errs[i] = errWrongVersion
			continue
		}
		slices.SortFunc(res.Positions, func(a, b eventstore.Position) int { return cmp.Compare(a.Commit, b.Commit) })
	}
	return results, errs, nil
}
