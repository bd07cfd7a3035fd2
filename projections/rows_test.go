package projections_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// tallyRows builds tally_rows with Tx.Insert and Tx.Update (merged per
// row within a batch) and plain SQL in between (increments and removals,
// on the same table), so a batch interleaves both.
func tallyRows(t *testing.T, e *env) *projections.Projection {
	t.Helper()
	_, err := e.pool.Exec(testCtx(t), `CREATE TABLE IF NOT EXISTS tally_rows (
    id uuid PRIMARY KEY, name text NOT NULL, total bigint NOT NULL DEFAULT 0, version bigint NOT NULL,
    labels jsonb NOT NULL DEFAULT '[]', note text)`)
	require.NoError(t, err)
	p := projections.New("tally_rows", "tally_rows")
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyOpened) error {
		tx.Insert("tally_rows", "id", e.TallyID, map[string]any{"id": e.TallyID, "name": e.Name,
			"version": int64(rec.StreamVersion), "note": nil})
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyIncremented) error {
		tx.Queue(`UPDATE tally_rows SET total = total + $2, version = $3 WHERE id = $1`, e.TallyID, e.By, int64(rec.StreamVersion))
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e testkit.TallyRenamed) error {
		tx.Update("tally_rows", "id", e.TallyID, map[string]any{"name": e.Name, "version": int64(rec.StreamVersion),
			"labels": []string{"renamed", e.Name}, "note": "it's \"quoted\""})
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e testkit.TallyRemoved) error {
		tx.Queue(`DELETE FROM tally_rows WHERE id = $1`, e.TallyID)
		return nil
	})
	return p
}

// Rows merged in memory end as the statements one by one would leave
// them: the same names, totals and versions as the SQL-only tallies read
// model, in batches (merging) and after a rebuild.
func TestRows_MergedWritesEqualStatementByStatement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testCtx(t)
	last := history(t, e, 90)
	rt := e.start(t, testkit.TallyProjection(), tallyRows(t, e))
	require.NoError(t, rt.WaitFor(ctx, last))

	want := query(t, e, `SELECT x::text FROM (SELECT id, name, total, version FROM tallies) x ORDER BY id`)
	require.Len(t, want, 60)
	got := query(t, e, `SELECT x::text FROM (SELECT id, name, total, version FROM tally_rows) x ORDER BY id`)
	assert.Equal(t, want, got)
	var renamed int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM tally_rows
WHERE labels = jsonb_build_array('renamed', name) AND note = 'it''s "quoted"'`).Scan(&renamed))
	assert.Equal(t, 30, renamed)
	var noted int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM tally_rows WHERE note IS NULL AND labels = '[]'`).Scan(&noted))
	assert.Equal(t, 30, noted, "JSON null is SQL NULL; absent columns take their defaults")

	live := rows(t, e, "tally_rows")
	_, err := e.pool.Exec(ctx, `UPDATE tally_rows SET total = -1`)
	require.NoError(t, err)
	require.NoError(t, rt.Rebuild(ctx, "tally_rows", nil))
	assert.Equal(t, live, rows(t, e, "tally_rows"))
}

func query(t *testing.T, e *env, sql string) []string {
	t.Helper()
	r, err := e.pool.Query(testCtx(t), sql)
	require.NoError(t, err)
	var out []string
	for r.Next() {
		var s string
		require.NoError(t, r.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, r.Err())
	return out
}
