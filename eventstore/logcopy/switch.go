package logcopy

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// StoreKurrentDB is the read_model_log value of read models that follow
// the KurrentDB log.
const StoreKurrentDB = "kurrentdb"

// ReadModelsFollow returns the store whose positions the read models of
// the database hold ("postgres" when the table says nothing or does not
// exist yet).
func ReadModelsFollow(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (string, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('read_model_log') IS NOT NULL`).Scan(&exists); err != nil {
		return "", fmt.Errorf("which log the read models follow: %w", err)
	}
	if !exists {
		return "postgres", nil
	}
	var store *string
	err := q.QueryRow(ctx, `SELECT (SELECT store FROM read_model_log)`).Scan(&store)
	if err != nil {
		return "", fmt.Errorf("which log the read models follow: %w", err)
	}
	if store == nil {
		return "postgres", nil
	}
	return *store, nil
}

// RecordReadModelsFollow records in read_model_log that the read models
// of the database follow store's log (what ReadModelsFollow returns).
func RecordReadModelsFollow(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, store string) error {
	_, err := q.Exec(ctx, `INSERT INTO read_model_log (store) VALUES ($1)
ON CONFLICT (only_row) DO UPDATE SET store = $1, switched_at = now()`, store)
	return err
}

// SwitchResult is what SwitchReadModels moved.
type SwitchResult struct {
	// Already is true when the read models followed the target already.
	Already bool
	// Events counts the positions mapped; Checkpoints and AuditRows the
	// rows moved.
	Events, Checkpoints, AuditRows int64
}

// SwitchReadModels moves the positions the read models of pool hold —
// projection checkpoints and the audit_log's keys — from the source log
// (the PostgreSQL events table) to the target's, and records that they
// follow the target (read_model_log). The target's positions are not the
// source's (KurrentDB numbers its transaction log), so projectors that
// went on from a PostgreSQL checkpoint would skip or repeat events.
//
// It walks both logs in order, checking each pair's ids (the logs must be
// equal: run it after Verify), and maps each checkpoint to the target
// position of the last event at or before it. All of it is one
// transaction; no projector may run meanwhile (the servers are stopped).
func SwitchReadModels(ctx context.Context, pool *pgxpool.Pool, source, target eventstore.Store, store string, batch int) (SwitchResult, error) {
	var res SwitchResult
	if batch <= 0 {
		batch = DefaultBatch
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("switch the read models: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `LOCK TABLE read_model_log, projection_checkpoints, audit_log IN EXCLUSIVE MODE`); err != nil {
		return res, fmt.Errorf("switch the read models: %w", err)
	}
	follows, err := ReadModelsFollow(ctx, tx)
	if err != nil {
		return res, err
	}
	if follows == store {
		res.Already = true
		return res, nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE position_map (sc bigint, sp bigint, tc bigint, tp bigint,
    PRIMARY KEY (sc, sp)) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("switch the read models: %w", err)
	}
	pairs := &pairSource{ctx: ctx, source: source, target: target, batch: batch}
	if err := pairs.start(); err != nil {
		return res, err
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"position_map"}, []string{"sc", "sp", "tc", "tp"}, pairs)
	if pairs.err != nil {
		return res, fmt.Errorf("switch the read models: map the positions: %w", pairs.err)
	}
	if err != nil {
		return res, fmt.Errorf("switch the read models: map the positions: %w", err)
	}
	res.Events = n
	tag, err := tx.Exec(ctx, `UPDATE projection_checkpoints c
SET commit_position = coalesce(m.tc, 0), prepare_position = coalesce(m.tp, 0),
    error_position = (SELECT e.tc FROM position_map e WHERE e.sc <= c.error_position ORDER BY e.sc DESC, e.sp DESC LIMIT 1),
    updated_at = now()
FROM projection_checkpoints o LEFT JOIN LATERAL (
    SELECT tc, tp FROM position_map WHERE (sc, sp) <= (o.commit_position, o.prepare_position) ORDER BY sc DESC, sp DESC LIMIT 1
) m ON true
WHERE o.name = c.name`)
	if err != nil {
		return res, fmt.Errorf("switch the read models: checkpoints: %w", err)
	}
	res.Checkpoints = tag.RowsAffected()
	// Two steps, through negative keys, so that no row takes a key another
	// still holds.
	tag, err = tx.Exec(ctx, `UPDATE audit_log a SET commit_position = -1 - m.tc, prepare_position = -1 - m.tp
FROM position_map m WHERE a.commit_position = m.sc AND a.prepare_position = m.sp`)
	if err != nil {
		return res, fmt.Errorf("switch the read models: audit log: %w", err)
	}
	res.AuditRows = tag.RowsAffected()
	if _, err := tx.Exec(ctx, `UPDATE audit_log SET commit_position = -1 - commit_position, prepare_position = -1 - prepare_position
WHERE commit_position < 0`); err != nil {
		return res, fmt.Errorf("switch the read models: audit log: %w", err)
	}
	var left int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log a WHERE NOT EXISTS (
    SELECT 1 FROM position_map m WHERE m.tc = a.commit_position AND m.tp = a.prepare_position)`).Scan(&left); err != nil {
		return res, fmt.Errorf("switch the read models: audit log: %w", err)
	}
	if left > 0 {
		return res, fmt.Errorf("switch the read models: %d audit_log rows name no event of the log", left)
	}
	if err := RecordReadModelsFollow(ctx, tx, store); err != nil {
		return res, fmt.Errorf("switch the read models: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("switch the read models: %w", err)
	}
	return res, nil
}

// pairSource feeds CopyFrom the (source, target) positions of each event
// of two equal logs, read in step.
type pairSource struct {
	ctx            context.Context
	source, target eventstore.Store
	batch          int
	sc, tc         *cursor
	row            []any
	err            error
	n              int64
}

func (p *pairSource) start() error {
	sHead, err := p.source.Head(p.ctx)
	if err != nil {
		return fmt.Errorf("head of the source log: %w", err)
	}
	tHead, err := p.target.Head(p.ctx)
	if err != nil {
		return fmt.Errorf("head of the target log: %w", err)
	}
	p.sc = newCursor(p.source, "source", eventstore.Position{}, sHead, p.batch)
	p.tc = newCursor(p.target, "target", eventstore.Position{}, tHead, p.batch)
	return nil
}

// Next implements pgx.CopyFromSource.
func (p *pairSource) Next() bool {
	se, sok, err := p.sc.next(p.ctx)
	if err != nil {
		p.err = err
		return false
	}
	te, tok, err := p.tc.next(p.ctx)
	if err != nil {
		p.err = err
		return false
	}
	if !sok && !tok {
		return false
	}
	p.n++
	if sok != tok || se.ID != te.ID {
		p.err = fmt.Errorf("%w: event #%d: source %s, target %s", ErrMismatch, p.n, se.ID, te.ID)
		return false
	}
	for _, pos := range []eventstore.Position{se.Position, te.Position} {
		if pos.Commit > 1<<63-1 || pos.Prepare > 1<<63-1 {
			p.err = fmt.Errorf("position %s does not fit a bigint", pos)
			return false
		}
	}
	p.row = []any{int64(se.Position.Commit), int64(se.Position.Prepare), int64(te.Position.Commit), int64(te.Position.Prepare)}
	return true
}

// Values implements pgx.CopyFromSource.
func (p *pairSource) Values() ([]any, error) { return p.row, nil }

// Err implements pgx.CopyFromSource.
func (p *pairSource) Err() error { return p.err }
