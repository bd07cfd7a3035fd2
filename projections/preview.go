package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// previewAttempts bounds how often Preview starts again after it met a
// projector's concurrent change of the same rows (by then the projector
// has usually caught up, and the preview has nothing left to apply).
const previewAttempts = 4

// Preview calls read inside a transaction in which the named projections'
// tables show the log up to pos, whether or not their projectors got
// there: it applies the events between each one's checkpoint and pos with
// the projections' own handlers, and rolls everything back. A write whose
// read models lag answers from it what they will show once they caught
// up, instead of what they show now (a created resource "not found").
//
// The transaction is REPEATABLE READ, so the tables and checkpoints it
// starts from are one committed state; a projector that changes the same
// rows meanwhile makes it start again. An event a handler fails on is left
// out of the preview (the projector stops at it; see Status).
func (r *Runtime) Preview(ctx context.Context, pos eventstore.Position, names []string, read func(ctx context.Context, tx pgx.Tx) error) error {
	for _, n := range names {
		if _, ok := r.byName[n]; !ok {
			return fmt.Errorf("preview %s: no such projection", n)
		}
	}
	var err error
	for range previewAttempts {
		if err = r.preview(ctx, pos, names, read); !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

// errMoved ends a preview attempt whose handlers failed while a projector
// moved on meanwhile: the failure (a duplicate key, say) may be the
// projector's concurrent change of the same rows.
var errMoved = errors.New("preview: a projector moved meanwhile")

// retryable is a serialization failure, a deadlock, a lock timeout or
// errMoved: a projector committed (or is committing) the rows the preview
// changes.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, errMoved) ||
		errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code == "55P03")
}

func (r *Runtime) preview(ctx context.Context, pos eventstore.Position, names []string, read func(ctx context.Context, tx pgx.Tx) error) error {
	// The events come first, from where the checkpoints are now (they only
	// move forward), on connections of their own: the transaction below
	// holds one for its whole life.
	_, from, err := checkpointsBehind(ctx, r.pool, names, pos)
	if err != nil {
		return err
	}
	events, err := r.readUpTo(ctx, names, from, pos)
	if err != nil {
		return err
	}
	tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadWrite})
	if err != nil {
		return fmt.Errorf("preview: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // always rolled back
	// A projector's batch in flight holds the rows it changes until it
	// commits, milliseconds later; the preview then starts again.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	behind, _, err := checkpointsBehind(ctx, tx, names, pos)
	if err != nil {
		return err
	}
	if len(behind) > 0 {
		if err := r.applyAll(ctx, tx, behind, events); err != nil {
			return err
		}
	}
	return read(ctx, tx)
}

// checkpointsBehind reads the checkpoints of names (in db's snapshot)
// and returns those before pos, and the earliest of them.
func checkpointsBehind(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, names []string, pos eventstore.Position) (map[string]eventstore.Position, eventstore.Position, error) {
	rows, _ := db.Query(ctx, `SELECT name, commit_position, prepare_position FROM projection_checkpoints WHERE name = ANY($1)`, names)
	behind := map[string]eventstore.Position{}
	var (
		name            string
		commit, prepare int64
		saved           []string
	)
	if _, err := pgx.ForEachRow(rows, []any{&name, &commit, &prepare}, func() error {
		saved = append(saved, name)
		if cp := (eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}); cp.Less(pos) {
			behind[name] = cp
		}
		return nil
	}); err != nil {
		return nil, eventstore.Position{}, fmt.Errorf("preview: read checkpoints: %w", err)
	}
	for _, n := range names {
		if !slices.Contains(saved, n) { // never run: from the start of the log
			behind[n] = eventstore.Position{}
		}
	}
	from := pos
	for _, cp := range behind {
		if cp.Less(from) {
			from = cp
		}
	}
	return behind, from, nil
}

// readUpTo reads the log after from, up to and including pos, and keeps
// the events that a projection of names handles.
func (r *Runtime) readUpTo(ctx context.Context, names []string, from, pos eventstore.Position) ([]eventstore.RecordedEvent, error) {
	var events []eventstore.RecordedEvent
	for from.Less(pos) {
		batch, err := r.store.ReadAll(ctx, from, 1000)
		if err != nil {
			return nil, fmt.Errorf("preview: read log: %w", err)
		}
		for _, e := range batch {
			if pos.Less(e.Position) {
				return events, nil
			}
			if slices.ContainsFunc(names, func(n string) bool { _, ok := r.byName[n].handlers[e.Type]; return ok }) {
				events = append(events, e)
			}
			from = e.Position
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return events, nil
}

// applyAll runs the handlers of the projections in behind for the events
// after their checkpoints, in tx. Should a handler fail, the projector may
// have changed the same rows meanwhile (the attempt starts again), or be
// stuck at that event: then the events are applied again each in a
// savepoint of its own, leaving out those that fail.
func (r *Runtime) applyAll(ctx context.Context, tx pgx.Tx, behind map[string]eventstore.Position, events []eventstore.RecordedEvent) error {
	if _, err := tx.Exec(ctx, "SAVEPOINT preview"); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if _, err := r.applyEvents(ctx, &Tx{tx: tx, types: &r.types}, behind, events, false); err == nil || retryable(err) || ctx.Err() != nil {
		return err
	}
	if err := r.notMoved(ctx, behind); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT preview"); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	left, err := r.applyEvents(ctx, &Tx{tx: tx, types: &r.types}, behind, events, true)
	if err == nil && left > 0 {
		err = r.notMoved(ctx, behind)
	}
	return err
}

// notMoved is errMoved when a checkpoint of behind moved since the
// preview's snapshot.
func (r *Runtime) notMoved(ctx context.Context, behind map[string]eventstore.Position) error {
	names := make([]string, 0, len(behind))
	for n := range behind {
		names = append(names, n)
	}
	now, _, err := checkpointsBehind(ctx, r.pool, names, eventstore.Position{Commit: ^uint64(0), Prepare: ^uint64(0)})
	if err != nil {
		return err
	}
	for n, cp := range behind {
		if cp.Less(now[n]) {
			return errMoved
		}
	}
	return nil
}

// applyEvents applies events to the projections in behind; careful runs
// each event's statements in a savepoint and leaves out those that fail,
// counting them in left.
func (r *Runtime) applyEvents(ctx context.Context, t *Tx, behind map[string]eventstore.Position, events []eventstore.RecordedEvent, careful bool) (left int, err error) {
	for _, rec := range events {
		var decoded eventstore.Event
		for name, cp := range behind {
			h, ok := r.byName[name].handlers[rec.Type]
			if !ok || !cp.Less(rec.Position) {
				continue
			}
			if decoded == nil {
				if decoded, err = r.reg.Decode(rec); err != nil && !careful {
					return left, fmt.Errorf("preview: decode %s at %s: %w", rec.Type, rec.Position, err)
				}
				if err != nil {
					left++
					break
				}
			}
			failed, err := applyOne(ctx, t, h, rec, decoded, careful)
			if err != nil {
				return left, fmt.Errorf("preview %s: event at %s (%s): %w", name, rec.Position, rec.Type, err)
			}
			if failed {
				left++
			}
		}
	}
	return left, t.Flush(ctx)
}

// applyOne runs one handler. careful: in a savepoint, flushed at once; a
// failure that is not retryable is rolled back and reported as failed.
func applyOne(ctx context.Context, t *Tx, h handler, rec eventstore.RecordedEvent, e eventstore.Event, careful bool) (failed bool, err error) {
	if careful {
		if _, err := t.Exec(ctx, "SAVEPOINT preview_event"); err != nil {
			return false, err
		}
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler panicked: %v", p)
			}
		}()
		err = h(ctx, t, rec, e)
	}()
	if !careful {
		return false, err
	}
	if err == nil {
		err = t.Flush(ctx)
	}
	if err == nil || retryable(err) || ctx.Err() != nil {
		return false, err
	}
	t.discard()
	_, err = t.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT preview_event")
	return true, err
}
