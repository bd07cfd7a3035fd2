package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tx is a projector's view of the batch transaction. Queue pipelines
// statements (they run together with the checkpoint update, in one round
// trip, or before the next Exec or Query); Exec and Query run at once,
// after whatever is queued, so a handler reads its own writes. Insert,
// Update and Add merge row writes (see rows.go).
type Tx struct {
	tx    pgx.Tx
	types *columnTypes // cache of the tables' column types; nil: look up each time
	// pending holds what runs at the next flush, in order: statements, and
	// the merged rows written before each of them.
	pending []pendingItem
	// open holds the rows merged since the last statement, per table, in
	// the order of the tables' first writes.
	open   map[string]*rowBuffer
	tables []string
}

// pendingItem is a queued statement, or merged rows to write.
type pendingItem struct {
	sql  string
	args []any
	rows *rowBuffer
}

// Queue adds a statement that returns no rows to the pipeline. Its error, if
// any, fails the batch, which is then replayed one event at a time.
func (t *Tx) Queue(sql string, args ...any) {
	t.seal()
	t.pending = append(t.pending, pendingItem{sql: sql, args: args})
}

// discard forgets what is queued and merged (after a rolled-back attempt).
func (t *Tx) discard() {
	t.pending, t.open, t.tables = nil, nil, nil
}

// Exec runs a statement now.
func (t *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.Flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.tx.Exec(ctx, sql, args...)
}

// Query runs a query now.
func (t *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.Flush(ctx); err != nil {
		return nil, err
	}
	return t.tx.Query(ctx, sql, args...)
}

// QueryRow runs a query that returns at most one row now.
func (t *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.Flush(ctx); err != nil {
		return errRow{err}
	}
	return t.tx.QueryRow(ctx, sql, args...)
}

// Flush sends the queued statements.
func (t *Tx) Flush(ctx context.Context) error {
	_, err := t.flushWith(ctx, "")
	return err
}

// flushWith sends the queued statements and merged rows followed by last
// (if not empty) in one round trip and returns last's command tag.
func (t *Tx) flushWith(ctx context.Context, last string, args ...any) (pgconn.CommandTag, error) {
	t.seal()
	if last != "" {
		t.pending = append(t.pending, pendingItem{sql: last, args: args})
	}
	items := t.pending
	t.pending = nil
	if len(items) == 0 {
		return pgconn.CommandTag{}, nil
	}
	var b pgx.Batch
	for _, it := range items {
		if it.rows == nil {
			b.Queue(it.sql, it.args...)
			continue
		}
		if err := it.rows.queue(ctx, t, &b); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	n := b.Len()
	res := t.tx.SendBatch(ctx, &b)
	var tag pgconn.CommandTag
	for i := range n {
		var err error
		if tag, err = res.Exec(); err != nil {
			_ = res.Close() // the first error is the one to report
			return tag, fmt.Errorf("queued statement %d of %d: %w", i+1, n, err)
		}
	}
	return tag, res.Close()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
