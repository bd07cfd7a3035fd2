package projections_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// previewTotal is the total of tally id in a preview of "tallies" at pos
// (-1: no row).
func previewTotal(t *testing.T, e *env, rt interface {
	Preview(context.Context, eventstore.Position, []string, func(context.Context, pgx.Tx) error) error
}, id uuid.UUID, pos eventstore.Position) int64 {
	t.Helper()
	total := int64(-1)
	err := rt.Preview(testCtx(t), pos, []string{"tallies"}, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT total FROM tallies WHERE id = $1`, id).Scan(&total)
		if err == pgx.ErrNoRows {
			return nil
		}
		return err
	})
	require.NoError(t, err)
	return total
}

// A preview shows the read model as its projector will have built it at
// a position, though the projector has not run (its lease is held
// elsewhere), and leaves nothing behind; while the projector catches up
// under it, previews still agree with it and it applies every event once.
func TestPreview_ShowsTheReadModelAtAPosition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	release := testkit.HoldLeases(t, e.pool.Config().ConnString(), "tallies")
	cfg := fastRetries
	cfg.LeasePoll = 10 * time.Millisecond
	rt := e.startWith(t, cfg, testkit.TallyProjection())

	id, first := e.open(t, "previewed", 1, 2)
	second := e.increment(t, id, 10)
	assert.Equal(t, int64(3), previewTotal(t, e, rt, id, first))
	assert.Equal(t, int64(13), previewTotal(t, e, rt, id, second))
	assert.Equal(t, int64(-1), previewTotal(t, e, rt, uuid.New(), second))
	var rows int
	require.NoError(t, e.pool.QueryRow(testCtx(t), `SELECT count(*) FROM tallies`).Scan(&rows))
	assert.Zero(t, rows, "a preview is rolled back")

	var last eventstore.Position
	for range 50 {
		last = e.increment(t, id, 1)
	}
	release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				assert.Equal(t, int64(63), previewTotal(t, e, rt, id, last))
			}
		})
	}
	wg.Wait()
	require.NoError(t, rt.WaitFor(testCtx(t), last))
	assert.Equal(t, int64(63), e.total(t, id))
}

// A projector stuck at an event its handler fails on: the preview leaves
// that event out and shows the others.
func TestPreview_LeavesOutAnEventThatFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	rt := e.start(t, poisonProjection(e.poisonTable(t), false))
	_, _ = e.open(t, "poison")
	_, pos := e.open(t, "good")
	var names []string
	require.NoError(t, rt.Preview(ctx, pos, []string{"poisoned"}, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT name FROM poisoned ORDER BY name`)
		var err error
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	assert.Equal(t, []string{"good"}, names)
}
