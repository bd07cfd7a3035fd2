package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

type env struct {
	pool  *pgxpool.Pool
	store *postgres.Store
	reg   *eventstore.Registry
	repo  *commands.Repository
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := testkit.NewDatabase(t)
	testkit.CreateTallyTables(t, pool)
	store := postgres.New(pool, postgres.Options{BatchSize: 200})
	t.Cleanup(store.Close)
	reg := testkit.NewRegistry(t)
	return &env{pool: pool, store: store, reg: reg, repo: commands.NewRepository(store, reg)}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var fastRetries = projections.Config{
	RetryInterval: time.Millisecond, FailureBackoff: 5 * time.Millisecond, MaxFailureBackoff: 20 * time.Millisecond,
	CheckpointInterval: 10 * time.Millisecond,
}

// start runs a runtime over ps until the test ends.
func (e *env) start(t *testing.T, ps ...*projections.Projection) *projections.Runtime {
	t.Helper()
	return e.startWith(t, fastRetries, ps...)
}

// startWith is start with cfg.
func (e *env) startWith(t *testing.T, cfg projections.Config, ps ...*projections.Projection) *projections.Runtime {
	t.Helper()
	rt, err := projections.NewRuntime(e.pool, e.store, e.reg, ps, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	require.Eventually(t, func() bool { return rt.Health(ctx) == nil }, 10*time.Second, time.Millisecond)
	return rt
}

// open creates a tally and increments it by each of incs; it returns the
// tally id and the position of the last event.
func (e *env) open(t *testing.T, name string, incs ...int64) (uuid.UUID, eventstore.Position) {
	t.Helper()
	ctx := testCtx(t)
	id := uuid.New()
	tally, err := testkit.OpenTally(id, name)
	require.NoError(t, err)
	for _, by := range incs {
		require.NoError(t, tally.Increment(by))
	}
	res, err := e.repo.Save(ctx, tally, eventstore.Metadata{ActorUserID: 7})
	require.NoError(t, err)
	return id, res.Last()
}

func (e *env) increment(t *testing.T, id uuid.UUID, by int64) eventstore.Position {
	t.Helper()
	ctx := testCtx(t)
	tally := testkit.LoadTally(id)
	require.NoError(t, e.repo.Load(ctx, tally))
	require.NoError(t, tally.Increment(by))
	res, err := e.repo.Save(ctx, tally, eventstore.Metadata{})
	require.NoError(t, err)
	return res.Last()
}

func (e *env) total(t *testing.T, id uuid.UUID) int64 {
	t.Helper()
	var total int64
	require.NoError(t, e.pool.QueryRow(testCtx(t), `SELECT total FROM tallies WHERE id = $1`, id).Scan(&total))
	return total
}

func TestRuntime_CatchesUpThenFollowsLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	before, _ := e.open(t, "before", 1, 2, 3) // history, projected at start

	rt := e.start(t, testkit.TallyProjection())
	after, pos := e.open(t, "after", 10)
	pos2 := e.increment(t, before, 4)
	require.NoError(t, rt.WaitFor(ctx, pos2))
	require.True(t, pos.Less(pos2))

	assert.Equal(t, int64(10), e.total(t, before))
	assert.Equal(t, int64(10), e.total(t, after))
	var created int64
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT created_by FROM tallies WHERE id = $1`, before).Scan(&created))
	assert.Equal(t, int64(7), created, "audit fields come from event metadata")

	got, ok := rt.Position("tallies")
	require.True(t, ok)
	assert.False(t, got.Less(pos2))
	st, err := rt.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, "tallies", st[0].Name)
	assert.Empty(t, st[0].LastError)
}

func TestRuntime_WaitForTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rt := e.start(t, testkit.TallyProjection())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := rt.WaitFor(ctx, eventstore.At(1_000_000))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Error(t, rt.WaitFor(context.Background(), eventstore.At(1), "no_such_projection"))
}

// Two instances of the same projector over one database, as two API nodes
// would run them: every event is applied exactly once.
func TestRuntime_TwoInstancesApplyEachEventOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	rt1 := e.start(t, testkit.TallyProjection())
	rt2 := e.start(t, testkit.TallyProjection())

	ids := make([]uuid.UUID, 4)
	for i := range ids {
		ids[i], _ = e.open(t, fmt.Sprintf("t%d", i))
	}
	var wg sync.WaitGroup
	var last atomic.Uint64
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				p := e.increment(t, id, 1)
				for {
					cur := last.Load()
					if p.Commit <= cur || last.CompareAndSwap(cur, p.Commit) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, rt1.WaitFor(ctx, eventstore.At(last.Load())))
	require.Eventually(t, func() bool {
		st, err := rt2.Status(ctx)
		return err == nil && st[0].Position.Commit >= last.Load()
	}, 10*time.Second, 5*time.Millisecond)
	for _, id := range ids {
		assert.Equal(t, int64(50), e.total(t, id))
	}
}

// poisonProjection fails (or panics) on tallies whose name starts with
// "poison" while broken is set.
func poisonProjection(broken *atomic.Bool, panics bool) *projections.Projection {
	p := projections.New("poisoned", "poisoned")
	projections.On(p, func(ctx context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyOpened) error {
		// A write before the failure proves the failed attempt leaves nothing behind.
		if _, err := tx.Exec(ctx, `INSERT INTO poisoned (id, name) VALUES ($1, $2)`, e.TallyID, e.Name); err != nil {
			return err
		}
		if broken.Load() && len(e.Name) >= 6 && e.Name[:6] == "poison" {
			if panics {
				panic("handler bug")
			}
			return errors.New("cannot project " + e.Name)
		}
		return nil
	})
	return p
}

// poisonTable creates the table of poisonProjection and returns its switch,
// on.
func (e *env) poisonTable(t *testing.T) *atomic.Bool {
	t.Helper()
	_, err := e.pool.Exec(testCtx(t), `CREATE TABLE poisoned (id uuid PRIMARY KEY, name text NOT NULL)`)
	require.NoError(t, err)
	var broken atomic.Bool
	broken.Store(true)
	return &broken
}

func TestRuntime_FailingEventIsRetriedRecordedAndIsolated(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panics=%v", panics), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := testCtx(t)
			broken := e.poisonTable(t)
			rt := e.start(t, testkit.TallyProjection(), poisonProjection(broken, panics))

			good, _ := e.open(t, "good-1")
			_, poisonPos := e.open(t, "poison")
			_, lastPos := e.open(t, "good-2", 5)

			// The healthy projection is not held up by its broken neighbour.
			require.NoError(t, rt.WaitFor(ctx, lastPos, "tallies"))
			assert.Equal(t, int64(0), e.total(t, good))

			// The broken one stops at the poison event, records it, keeps retrying.
			var st projections.Status
			require.Eventually(t, func() bool {
				all, err := rt.Status(ctx)
				require.NoError(t, err)
				for _, s := range all {
					if s.Name == "poisoned" {
						st = s
					}
				}
				return st.ErrorCount >= 2
			}, 10*time.Second, 5*time.Millisecond)
			assert.Equal(t, poisonPos.Commit-1, st.Position.Commit, "stopped right before the poison event")
			assert.Equal(t, poisonPos.Commit, st.ErrorPosition)
			if panics {
				assert.Contains(t, st.LastError, "handler bug")
			} else {
				assert.Contains(t, st.LastError, "cannot project poison")
			}
			assert.Positive(t, st.LagEvents)
			var rows int
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM poisoned`).Scan(&rows))
			assert.Equal(t, 1, rows, "only good-1; the failed attempts left no row")

			// Fixed: it resumes, applies everything once, and the error clears.
			broken.Store(false)
			require.NoError(t, rt.WaitFor(ctx, lastPos, "poisoned"))
			require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM poisoned`).Scan(&rows))
			assert.Equal(t, 3, rows)
			all, err := rt.Status(ctx)
			require.NoError(t, err)
			for _, s := range all {
				assert.Empty(t, s.LastError, s.Name)
				assert.Zero(t, s.ErrorCount, s.Name)
			}
		})
	}
}

func TestRuntime_UnknownTypesAreCountedNotDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	_, err := e.store.Append(ctx, "alien-1", eventstore.Any(),
		eventstore.EventData{ID: uuid.New(), Type: "alien.landed", SchemaVersion: 1, Data: json.RawMessage(`{}`)},
		eventstore.EventData{ID: uuid.New(), Type: "alien.landed", SchemaVersion: 1, Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	_, pos := e.open(t, "known", 1)

	rt := e.start(t, testkit.TallyProjection())
	require.NoError(t, rt.WaitFor(ctx, pos))
	st, err := rt.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"alien.landed": 2}, st[0].UnknownTypes)
	assert.Zero(t, st[0].LagEvents)
}

func TestRuntime_UpcastsOldSchemaVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	id, _ := e.open(t, "old")
	res, err := e.store.Append(ctx, testkit.TallyStream(id), eventstore.Exact(0), eventstore.EventData{
		ID: uuid.New(), Type: "tally.incremented", SchemaVersion: 1,
		Data: json.RawMessage(fmt.Sprintf(`{"tally_id":%q,"n":41}`, id)),
	})
	require.NoError(t, err)
	rt := e.start(t, testkit.TallyProjection())
	require.NoError(t, rt.WaitFor(ctx, res.Last()))
	assert.Equal(t, int64(41), e.total(t, id))
}

func TestNewRuntime_RejectsBadDefinitions(t *testing.T) {
	t.Parallel()
	reg := testkit.NewRegistry(t)
	dup := projections.New("dup", "dup")
	noop := func(context.Context, *projections.Tx, eventstore.RecordedEvent, testkit.TallyOpened) error {
		return nil
	}
	projections.On(dup, noop)
	projections.On(dup, noop)
	for name, ps := range map[string][]*projections.Projection{
		"bad_name":         {projections.New("Bad-Name")},
		"bad_table":        {projections.New("ok", "no;drop")},
		"duplicate_handle": {dup},
		"twice":            {testkit.TallyProjection(), testkit.TallyProjection()},
		"unregistered":     {testkit.TallyProjection()},
	} {
		r := reg
		if name == "unregistered" {
			r = eventstore.NewRegistry()
		}
		_, err := projections.NewRuntime(nil, nil, r, ps, projections.Config{})
		assert.Error(t, err, name)
	}
}
