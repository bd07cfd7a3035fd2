package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// rows renders a table row by row, in primary-key order.
func rows(t *testing.T, e *env, table string) []string {
	t.Helper()
	return query(t, e, fmt.Sprintf("SELECT x::text FROM %s x ORDER BY id", pgx.Identifier{table}.Sanitize()))
}

// history writes a mix of opens, increments, renames and removals.
func history(t *testing.T, e *env, n int) eventstore.Position {
	t.Helper()
	ctx := testCtx(t)
	var last eventstore.Position
	for i := range n {
		id, pos := e.open(t, fmt.Sprintf("tally %d", i), int64(i+1), 2)
		last = pos
		tally := testkit.LoadTally(id)
		require.NoError(t, e.repo.Load(ctx, tally))
		switch i % 3 {
		case 0:
			require.NoError(t, tally.Rename(fmt.Sprintf("renamed %d", i)))
		case 1:
			require.NoError(t, tally.Remove())
		}
		if res, err := e.repo.Save(ctx, tally, eventstore.Metadata{ActorUserID: int64(i)}); err == nil && len(res.Positions) > 0 {
			last = res.Last()
		} else {
			require.NoError(t, err)
		}
	}
	return last
}

func TestRebuild_IsIdenticalToLiveBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	last := history(t, e, 60)
	rt := e.start(t, testkit.TallyProjection())
	require.NoError(t, rt.WaitFor(ctx, last))
	live := rows(t, e, "tallies")
	require.Len(t, live, 40)

	// Spoil the live table: a rebuild must not depend on it.
	_, err := e.pool.Exec(ctx, `UPDATE tallies SET total = -1`)
	require.NoError(t, err)

	var reports []projections.RebuildProgress
	require.NoError(t, rt.Rebuild(ctx, "tallies", func(p projections.RebuildProgress) { reports = append(reports, p) }))
	assert.Equal(t, live, rows(t, e, "tallies"))
	require.NotEmpty(t, reports)
	assert.Equal(t, last, reports[len(reports)-1].Position)

	var shadows int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'`).Scan(&shadows))
	assert.Zero(t, shadows, "the shadow schema is dropped")
	st, err := rt.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, last, st[0].Position)
}

// A rebuild while the live projector runs and writers keep appending: the
// result equals a fresh build from the whole log.
func TestRebuild_WhileLiveAndWriting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	history(t, e, 30)
	rt := e.start(t, testkit.TallyProjection())

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var last eventstore.Position
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, pos := e.open(t, fmt.Sprintf("during %d", i), 1)
			mu.Lock()
			last = pos
			mu.Unlock()
		}
	}()
	require.NoError(t, rt.Rebuild(ctx, "tallies", nil))
	close(stop)
	wg.Wait()
	require.NoError(t, rt.WaitFor(ctx, last))
	afterRebuild := rows(t, e, "tallies")

	// A second, quiet rebuild is the reference.
	require.NoError(t, rt.Rebuild(ctx, "tallies", nil))
	assert.Equal(t, rows(t, e, "tallies"), afterRebuild)
}

func TestRebuild_EmptyLogAndUnknownName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	rt, err := projections.NewRuntime(e.pool, e.store, e.reg, []*projections.Projection{testkit.TallyProjection()}, fastRetries)
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO tallies (id, name, version, created_at, updated_at) VALUES (gen_random_uuid(), 'stray', 0, now(), now())`)
	require.NoError(t, err)
	require.NoError(t, rt.Rebuild(ctx, "tallies", nil))
	assert.Empty(t, rows(t, e, "tallies"), "a rebuild from an empty log empties the table")
	require.Error(t, rt.Rebuild(context.Background(), "nope", nil))
}

// tallyNames is a second projection over the tally events, on a table of
// its own; it fails on a tally named "poison".
func tallyNames(t *testing.T, e *env) *projections.Projection {
	t.Helper()
	_, err := e.pool.Exec(testCtx(t), `CREATE TABLE IF NOT EXISTS tally_names (id uuid PRIMARY KEY, name text NOT NULL)`)
	require.NoError(t, err)
	p := projections.New("tally_names", "tally_names")
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyOpened) error {
		if e.Name == "poison" {
			return errors.New("poisoned")
		}
		tx.Queue(`INSERT INTO tally_names (id, name) VALUES ($1, $2)`, e.TallyID, e.Name)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyRenamed) error {
		tx.Queue(`UPDATE tally_names SET name = $2 WHERE id = $1`, e.TallyID, e.Name)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyRemoved) error {
		tx.Queue(`DELETE FROM tally_names WHERE id = $1`, e.TallyID)
		return nil
	})
	return p
}

// Two projections rebuilt at once, each reading only the event types it
// handles: both equal their live build; the one that handles no increments
// applies fewer events; unknown types are still counted.
func TestRebuildMany_InParallelReadingOnlyTheirTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	last := history(t, e, 45)
	_, err := e.store.Append(ctx, "alien-1", eventstore.Any(),
		eventstore.EventData{ID: uuid.New(), Type: "alien.landed", SchemaVersion: 1, Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	rt := e.start(t, testkit.TallyProjection(), tallyNames(t, e))
	require.NoError(t, rt.WaitFor(ctx, last))
	liveTallies, liveNames := rows(t, e, "tallies"), rows(t, e, "tally_names")
	require.Len(t, liveNames, 30)
	_, err = e.pool.Exec(ctx, `UPDATE tallies SET total = -1; UPDATE tally_names SET name = 'spoilt'`)
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string]bool{}
	results, err := rt.RebuildMany(ctx, rt.Names(), 2, func(p projections.RebuildProgress) {
		mu.Lock()
		defer mu.Unlock()
		seen[p.Projection] = true
	})
	require.NoError(t, err)
	assert.Equal(t, liveTallies, rows(t, e, "tallies"))
	assert.Equal(t, liveNames, rows(t, e, "tally_names"))
	assert.Equal(t, map[string]bool{"tallies": true, "tally_names": true}, seen)

	// 45 opens, 90 increments, 15 renames, 15 removals.
	require.Len(t, results, 2)
	assert.Equal(t, "tallies", results[0].Projection)
	assert.EqualValues(t, 165, results[0].Events)
	assert.Equal(t, "tally_names", results[1].Projection)
	assert.EqualValues(t, 75, results[1].Events, "the increments are not read")
	assert.Positive(t, results[1].Rate())

	st, err := rt.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		assert.Equal(t, map[string]int64{"alien.landed": 1}, s.UnknownTypes, s.Name)
	}
}

// A handler that fails in a rebuild fails the rebuild, naming the event,
// after the failed batch was replayed one event per transaction; the live
// tables are untouched and the shadow tables are dropped.
func TestRebuild_FailingHandlerFailsTheRebuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	history(t, e, 12)
	names := tallyNames(t, e)
	_, err := e.pool.Exec(ctx, `INSERT INTO tally_names (id, name) VALUES (gen_random_uuid(), 'kept')`)
	require.NoError(t, err)
	_, pos := e.open(t, "poison")
	history(t, e, 3)

	rt, err := projections.NewRuntime(e.pool, e.store, e.reg, []*projections.Projection{names}, fastRetries)
	require.NoError(t, err)
	err = rt.Rebuild(ctx, "tally_names", nil)
	require.ErrorContains(t, err, "poisoned")
	assert.ErrorContains(t, err, "event at "+pos.String())
	assert.Equal(t, []string{"kept"}, liveNames(t, e))
	var shadows int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'`).Scan(&shadows))
	assert.Zero(t, shadows)
}

func liveNames(t *testing.T, e *env) []string {
	t.Helper()
	return query(t, e, `SELECT name FROM tally_names ORDER BY name`)
}
