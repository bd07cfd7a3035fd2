package projections_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// tallyRows builds tally_rows statement by statement, with plain SQL:
// the reference for testkit.TallyProjection, which merges its writes per
// row (Tx.Insert, Add, Update) with a DELETE in between.
func tallyRows(t *testing.T, e *env) *projections.Projection {
	t.Helper()
	_, err := e.pool.Exec(testCtx(t), `CREATE TABLE IF NOT EXISTS tally_rows (LIKE tallies INCLUDING ALL)`)
	require.NoError(t, err)
	p := projections.New("tally_rows", "tally_rows")
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyOpened) error {
		tenant := &rec.Metadata.TenantID
		if *tenant == uuid.Nil {
			tenant = nil
		}
		tx.Queue(`INSERT INTO tally_rows (id, name, version, tenant_id, created_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)`, e.TallyID, e.Name, int64(rec.StreamVersion), tenant,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyIncremented) error {
		tx.Queue(`UPDATE tally_rows SET total = total + $2, increments = increments + 1, version = $3, updated_at = $4 WHERE id = $1`,
			e.TallyID, e.By, int64(rec.StreamVersion), rec.Metadata.OccurredAt)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyRenamed) error {
		tx.Queue(`UPDATE tally_rows SET name = $2, version = $3, updated_at = $4 WHERE id = $1`,
			e.TallyID, e.Name, int64(rec.StreamVersion), rec.Metadata.OccurredAt)
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyRemoved) error {
		tx.Queue(`DELETE FROM tally_rows WHERE id = $1`, e.TallyID)
		return nil
	})
	return p
}

// Rows merged in memory end as the statements one by one leave them:
// testkit's tallies (merged) equal tally_rows (statement by statement),
// built in batches of up to 200 events where a tally's open, increments,
// rename and removal meet, live and after a rebuild.
func TestRows_MergedWritesEqualStatementByStatement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	last := history(t, e, 90)
	for i := range 20 { // a tally's increments spread over several batches
		id, pos := e.open(t, fmt.Sprintf("long %d", i), 1, 2, 3)
		for k := range 15 {
			pos = e.increment(t, id, int64(k+1))
		}
		last = pos
	}
	rt := e.start(t, testkit.TallyProjection(), tallyRows(t, e))
	require.NoError(t, rt.WaitFor(ctx, last))

	const cols = `id, name, total, increments, version, tenant_id, created_by, created_at, updated_at`
	want := query(t, e, `SELECT x::text FROM (SELECT `+cols+` FROM tally_rows) x ORDER BY id`)
	require.Len(t, want, 80)
	assert.Equal(t, want, query(t, e, `SELECT x::text FROM (SELECT `+cols+` FROM tallies) x ORDER BY id`))

	_, err := e.pool.Exec(ctx, `UPDATE tallies SET total = -1`)
	require.NoError(t, err)
	require.NoError(t, rt.Rebuild(ctx, "tallies", nil))
	assert.Equal(t, want, query(t, e, `SELECT x::text FROM (SELECT `+cols+` FROM tallies) x ORDER BY id`))
}

// query returns the rows of sql, one text column each.
func query(t *testing.T, e *env, sql string) []string {
	t.Helper()
	r, err := e.pool.Query(testCtx(t), sql)
	require.NoError(t, err)
	out, err := pgx.CollectRows(r, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}
