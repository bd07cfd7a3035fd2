package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// readAllSQL returns the events after a position with the snapshot the
// statement saw them in (evaluated once, beside every row).
const readAllSQL = `SELECT s.snap, ` + eventColumns + `
FROM (SELECT pg_current_snapshot()::text AS snap) s
CROSS JOIN LATERAL (SELECT ` + eventColumns + ` FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2) e`

// finishedSQL is true once no transaction that was in progress in the given
// snapshot can still fill a hole: each has ended, or does not hold the lock
// an INSERT into events takes (taken before the statement allocates a
// position and kept to the end of the transaction). So a long transaction
// that never appends (a projector's batch, an open psql session) does not
// hold the log's followers up. Transaction ids are compared modulo 2^32, as
// pg_locks shows them; a collision only makes the reader wait longer.
const finishedSQL = `SELECT NOT EXISTS (
    SELECT 1
    FROM pg_snapshot_xip($1::pg_snapshot) AS x
    JOIN pg_locks AS t ON t.locktype = 'transactionid'
        AND t.transactionid::text::bigint = x::text::bigint % 4294967296
    JOIN pg_locks AS r ON r.pid = t.pid AND r.locktype = 'relation'
        AND r.relation = 'events'::regclass AND r.granted
    WHERE NOT pg_visible_in_snapshot(x, pg_current_snapshot()))`

// reader walks the global log without ever stepping over a position that
// an in-flight transaction may still fill (see the package comment).
type reader struct {
	store *Store
	after uint64 // last position handed out

	pendingSnap  string // snapshot that saw an unproven hole; "" when none
	pendingBound uint64 // highest position that snapshot saw
	proven       uint64 // holes below this position are final
}

// next returns the next contiguous run of events. waiting is true when it
// returned nothing because a hole is not yet proven final.
func (r *reader) next(ctx context.Context, limit int) (events []eventstore.RecordedEvent, waiting bool, err error) {
	if r.pendingSnap != "" {
		var done bool
		if err := r.store.pool.QueryRow(ctx, finishedSQL, r.pendingSnap).Scan(&done); err != nil {
			return nil, false, fmt.Errorf("read log: check in-flight appends: %w", err)
		}
		if !done {
			return nil, true, nil
		}
		r.proven = max(r.proven, r.pendingBound)
		r.pendingSnap = ""
	}

	rows, err := r.store.pool.Query(ctx, readAllSQL, int64(r.after), limit)
	if err != nil {
		return nil, false, fmt.Errorf("read log after %d: %w", r.after, err)
	}
	var snap string
	all, err := collectEvents(rows, &snap)
	if err != nil {
		return nil, false, fmt.Errorf("read log after %d: %w", r.after, err)
	}

	for i, e := range all {
		p := e.Position.Commit
		if p != r.after+1 && p > r.proven {
			// A hole before p: hold everything from here until it is proven.
			r.pendingSnap = snap
			r.pendingBound = all[len(all)-1].Position.Commit
			return all[:i], i == 0, nil
		}
		r.after = p
	}
	return all, false, nil
}

// ReadAll implements eventstore.Store. While a hole right after the
// position is unproven it waits up to about 100ms, then returns what it has.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	r := &reader{store: s, after: after.Commit, proven: after.Commit}
	pause := time.Millisecond
	deadline := time.Now().Add(100 * time.Millisecond)
	for {
		events, waiting, err := r.next(ctx, limit)
		if err != nil || !waiting || time.Now().After(deadline) {
			return events, err
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// Follow implements eventstore.Store. Transient database errors are
// logged and retried with backoff; Follow returns only when ctx ends or
// handle fails.
func (s *Store) Follow(ctx context.Context, after eventstore.Position, handle func(context.Context, []eventstore.RecordedEvent) error) error {
	wake, stop := s.watch()
	defer stop()

	r := &reader{store: s, after: after.Commit, proven: after.Commit}
	holePause, errPause := time.Millisecond, 100*time.Millisecond
	for {
		events, waiting, err := r.next(ctx, s.opts.BatchSize)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			s.log.Warn("event log follower: read failed, retrying", "error", err, "retry_in", errPause)
			if err := sleep(ctx, errPause); err != nil {
				return err
			}
			errPause = min(2*errPause, 10*time.Second)
			continue
		}
		errPause = 100 * time.Millisecond

		if len(events) > 0 {
			if err := handle(ctx, events); err != nil {
				return err
			}
			if len(events) == s.opts.BatchSize {
				continue // more may be waiting right now
			}
		}
		if waiting {
			// An append is in flight below newer events: it ends within
			// milliseconds, and its commit (if in this process) wakes us.
			if err := sleepOrWake(ctx, holePause, wake); err != nil {
				return err
			}
			holePause = min(2*holePause, 50*time.Millisecond)
			continue
		}
		holePause = time.Millisecond
		if len(events) > 0 && r.pendingSnap != "" {
			continue // a hole after a run: check it right away
		}
		if err := sleepOrWake(ctx, s.opts.PollInterval, wake); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-wake:
	}
	return nil
}
