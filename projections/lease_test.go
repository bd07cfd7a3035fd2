package projections_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// process is one server process's worth of projections: a runtime of its
// own (named instance) over the shared database, whose projectors count
// every event their handlers are given.
type process struct {
	rt      *projections.Runtime
	applied *atomic.Int64 // handler calls of "counted"
	stop    func()
}

// countedTables are the tables of countedProjection and openingsProjection.
const countedTables = `CREATE TABLE counted (id uuid PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
CREATE TABLE openings (id uuid PRIMARY KEY)`

// countedEnv is a test database with the tables of countedProjection and
// openingsProjection.
func countedEnv(t *testing.T) (*env, context.Context) {
	t.Helper()
	e, ctx := newEnv(t), testCtx(t)
	_, err := e.pool.Exec(ctx, countedTables)
	require.NoError(t, err)
	return e, ctx
}

// countedProjection counts increments per tally; applied counts every
// call of its handlers (a rolled-back attempt too).
func countedProjection(applied *atomic.Int64) *projections.Projection {
	p := projections.New("counted", "counted")
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyOpened) error {
		applied.Add(1)
		tx.Queue(`INSERT INTO counted (id) VALUES ($1)`, e.TallyID)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyIncremented) error {
		applied.Add(1)
		tx.Queue(`UPDATE counted SET n = n + 1 WHERE id = $1`, e.TallyID)
		return nil
	})
	return p
}

// openingsProjection handles openings only: it passes over increments.
func openingsProjection() *projections.Projection {
	p := projections.New("openings", "openings")
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyOpened) error {
		tx.Queue(`INSERT INTO openings (id) VALUES ($1)`, e.TallyID)
		return nil
	})
	return p
}

// startProcess runs a runtime named instance over counted and openings
// until the test ends (or stop). It saves the checkpoints of passed-over
// events only once an hour: other processes learn of them all the same.
func (e *env) startProcess(t *testing.T, instance string) *process {
	t.Helper()
	cfg := fastRetries
	cfg.Instance, cfg.LeasePoll, cfg.CheckpointInterval = instance, 20*time.Millisecond, time.Hour
	applied := &atomic.Int64{}
	rt, err := projections.NewRuntime(e.pool, e.store, e.reg,
		[]*projections.Projection{countedProjection(applied), openingsProjection()}, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	p := &process{rt: rt, applied: applied, stop: func() {
		once.Do(func() {
			cancel()
			assert.NoError(t, <-done)
		})
	}}
	t.Cleanup(p.stop)
	return p
}

// writeTallies opens n tallies and increments each by 1 perTally times,
// concurrently; it returns the position of the last event.
func (e *env) writeTallies(t *testing.T, n, perTally int) (ids []uuid.UUID, last eventstore.Position) {
	t.Helper()
	ids = make([]uuid.UUID, n)
	for i := range ids {
		ids[i], _ = e.open(t, fmt.Sprintf("t%d-%s", i, uuid.NewString()[:8]))
	}
	var (
		wg  sync.WaitGroup
		max atomic.Uint64
	)
	for _, id := range ids {
		wg.Go(func() {
			for range perTally {
				p := e.increment(t, id, 1)
				for cur := max.Load(); p.Commit > cur && !max.CompareAndSwap(cur, p.Commit); cur = max.Load() {
				}
			}
		})
	}
	wg.Wait()
	return ids, eventstore.At(max.Load())
}

func holder(t *testing.T, ps ...*process) *process {
	t.Helper()
	var h *process
	require.Eventually(t, func() bool {
		n := 0
		for _, p := range ps {
			if p.rt.Holds("counted") {
				h, n = p, n+1
			}
		}
		return n == 1
	}, 10*time.Second, 5*time.Millisecond, "exactly one process holds the lease")
	return h
}

// Two processes on one database: the projector runs in one of them only
// (its handlers are never given an event twice, not even an attempt that
// rolls back), and the other's waits and positions follow it, events it
// passed over without saving its checkpoint included.
func TestLease_OneProcessRunsEachProjector(t *testing.T) {
	t.Parallel()
	e, ctx := countedEnv(t)
	// One process takes both leases before the other starts: started at
	// once, each could win one of them in the same instant.
	one := e.startProcess(t, "one")
	require.Eventually(t, func() bool { return one.rt.Holds("counted") && one.rt.Holds("openings") }, 10*time.Second,
		5*time.Millisecond, "the first process takes every lease")
	two := e.startProcess(t, "two")
	h, other := holder(t, one, two), two
	require.Same(t, one, h)

	ids, last := e.writeTallies(t, 4, 25)
	for _, p := range []*process{one, two} {
		require.NoError(t, p.rt.WaitFor(ctx, last), "both processes see the projections reach the last write")
		pos, ok := p.rt.Position("openings")
		require.True(t, ok)
		assert.False(t, pos.Less(last), "openings passed over the increments; its position is known everywhere")
	}
	assert.Equal(t, int64(len(ids)*26), h.applied.Load(), "every event given to a handler once")
	assert.Zero(t, other.applied.Load(), "the other process projects nothing")
	for _, id := range ids {
		var n int64
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT n FROM counted WHERE id = $1`, id).Scan(&n))
		assert.Equal(t, int64(25), n)
	}

	st, err := other.rt.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		assert.Equal(t, "skillflaw "+map[*process]string{one: "one", two: "two"}[h], s.Holder, s.Name)
		assert.Zero(t, s.ErrorCount, s.Name)
	}
}

// The holder dies (its lease connection drops, as when the process is
// killed): the other process takes the projectors over within seconds and
// applies what follows exactly once.
func TestLease_TakeOverWhenTheHolderDies(t *testing.T) {
	t.Parallel()
	e, ctx := countedEnv(t)
	one := e.startProcess(t, "one")
	holder(t, one)
	two := e.startProcess(t, "two")
	ids, last := e.writeTallies(t, 2, 5)
	require.NoError(t, two.rt.WaitFor(ctx, last))

	// "one" loses its own connections; its pool stays, as a process
	// whose connection to the database broke would keep nothing.
	// Only this test's database: tests running beside it have processes
	// named "one" too.
	_, err := e.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = 'skillflaw one' AND datname = current_database()`)
	require.NoError(t, err)
	died := time.Now()
	require.Eventually(t, func() bool { return two.rt.Holds("counted") && !one.rt.Holds("counted") }, 10*time.Second, 5*time.Millisecond)
	t.Logf("took over in %s", time.Since(died).Round(time.Millisecond))
	assert.Less(t, time.Since(died), 5*time.Second)

	_, after := e.writeTallies(t, 2, 5)
	require.NoError(t, two.rt.WaitFor(ctx, after), "the new holder projects")
	require.NoError(t, one.rt.WaitFor(ctx, after), "and the old one, back on its feet, follows it")
	for _, id := range ids {
		var n int64
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT n FROM counted WHERE id = $1`, id).Scan(&n))
		assert.Equal(t, int64(5), n, "nothing applied twice")
	}

	// A process that stops lets go at once: the other takes over without
	// waiting for its next poll.
	two.stop()
	require.Eventually(t, func() bool { return one.rt.Holds("counted") }, 5*time.Second, 5*time.Millisecond)
}

// Status shows the head of the log (not the projection's position) and
// no lag for a caught-up projector whose saved checkpoint is behind only
// over events it does not handle.
func TestStatus_HeadAndIdleLag(t *testing.T) {
	t.Parallel()
	e, ctx := countedEnv(t)
	p := e.startProcess(t, "solo")
	// The openings are projected before the increments are written, so
	// that openings meets the increments in batches it has nothing to do
	// in (and does not save).
	ids := make([]uuid.UUID, 2)
	var opened eventstore.Position
	for i := range ids {
		ids[i], opened = e.open(t, fmt.Sprintf("s%d-%s", i, uuid.NewString()[:8]))
	}
	require.NoError(t, p.rt.WaitFor(ctx, opened))
	var last eventstore.Position
	for range 10 {
		for _, id := range ids {
			last = e.increment(t, id, 1)
		}
	}
	require.NoError(t, p.rt.WaitFor(ctx, last))

	st, err := p.rt.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st, 2)
	byName := map[string]projections.Status{st[0].Name: st[0], st[1].Name: st[1]}
	for _, s := range st {
		assert.Equal(t, last, s.Head, s.Name)
		assert.Zero(t, s.LagEvents, s.Name)
		assert.Zero(t, s.LagSeconds, s.Name)
		assert.Equal(t, "skillflaw solo", s.Holder, s.Name)
	}
	assert.Equal(t, last, byName["counted"].Position)
	assert.True(t, byName["openings"].Position.Less(last), "its checkpoint is saved once an hour in this test")

	p.stop()
	_, behind := e.writeTallies(t, 1, 3)
	st, err = p.rt.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		assert.Equal(t, behind, s.Head, s.Name)
		assert.Empty(t, s.Holder, s.Name)
	}
	assert.Equal(t, int64(4), st[0].LagEvents, "counted has an opening and three increments to do")
	assert.Equal(t, int64(1), st[1].LagEvents, "openings has one opening to do")
	assert.Positive(t, st[0].LagSeconds)

	// A store without the one-query count (KurrentDB) gets the same head
	// and lag from a scan of its log.
	scanned, err := projections.NewRuntime(e.pool, portOnly{e.store}, e.reg,
		[]*projections.Projection{countedProjection(&atomic.Int64{}), openingsProjection()}, fastRetries)
	require.NoError(t, err)
	_, isCounter := any(portOnly{e.store}).(projections.LagCounter)
	require.False(t, isCounter)
	viaScan, err := scanned.Status(ctx)
	require.NoError(t, err)
	require.Len(t, viaScan, 2)
	for i, s := range viaScan {
		assert.Equal(t, st[i].Name, s.Name)
		assert.Equal(t, behind, s.Head, s.Name)
		assert.Equal(t, st[i].LagEvents, s.LagEvents, s.Name)
		assert.InDelta(t, st[i].LagSeconds, s.LagSeconds, 1, s.Name)
	}
	assert.Positive(t, viaScan[0].LagSeconds)

	// Checkpoints far apart: one scan from the lower one counts, for each,
	// only the events after its own.
	_, err = e.pool.Exec(ctx, `UPDATE projection_checkpoints SET commit_position = $1, prepare_position = $1 WHERE name = 'openings'`,
		int64(opened.Commit))
	require.NoError(t, err)
	st, err = p.rt.Status(ctx)
	require.NoError(t, err)
	viaScan, err = scanned.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), st[0].LagEvents)
	assert.Equal(t, int64(1), st[1].LagEvents, "openings passed over increments only, then one opening")
	for i, s := range viaScan {
		assert.Equal(t, st[i].Position, s.Position, s.Name)
		assert.Equal(t, st[i].LagEvents, s.LagEvents, s.Name)
	}
}

// portOnly hides every optional interface of a store: only the
// eventstore.Store port is left.
type portOnly struct{ eventstore.Store }
