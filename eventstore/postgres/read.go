package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// readAllSQL returns the events after a position, in order.
const readAllSQL = `SELECT ` + eventColumns + ` FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`

// appendersSQL names the transactions that hold the lock an INSERT into
// events takes (taken when the statement starts, before it allocates a
// position, and kept to the end of the transaction), by virtual
// transaction id: every transaction has one, whether or not it has a
// transaction id yet.
const appendersSQL = `SELECT coalesce(array_agg(virtualtransaction), '{}') FROM pg_locks
WHERE locktype = 'relation' AND relation = 'events'::regclass AND granted AND pid <> pg_backend_pid()`

// finishedSQL is true once none of the given transactions still holds that
// lock: each has ended. So a long transaction that never appends (a
// projector's batch, an open psql session) does not hold the log's
// followers up, and appends that begin later (their positions are higher)
// are not waited for.
const finishedSQL = `SELECT NOT EXISTS (SELECT 1 FROM pg_locks
WHERE locktype = 'relation' AND relation = 'events'::regclass AND granted AND virtualtransaction = ANY($1))`

// reader walks the global log without ever stepping over a position that
// an in-flight transaction may still fill (see the package comment).
type reader struct {
	store *Store
	after uint64 // last position handed out

	pending      bool     // a hole is not yet proven final
	appenders    []string // transactions that may still fill it
	pendingBound uint64   // highest position the read that saw it saw
	proven       uint64   // holes below this position are final
}

// next returns the next contiguous run of events. waiting is true when it
// returned nothing because a hole is not yet proven final.
func (r *reader) next(ctx context.Context, limit int) (events []eventstore.RecordedEvent, waiting bool, err error) {
	if r.pending {
		var done bool
		if err := r.store.pool.QueryRow(ctx, finishedSQL, r.appenders).Scan(&done); err != nil {
			return nil, false, fmt.Errorf("read log: check in-flight appends: %w", err)
		}
		if !done {
			return nil, true, nil
		}
		r.proven = max(r.proven, r.pendingBound)
		r.pending, r.appenders = false, nil
	}

	rows, err := r.store.pool.Query(ctx, readAllSQL, int64(r.after), limit)
	if err != nil {
		return nil, false, fmt.Errorf("read log after %d: %w", r.after, err)
	}
	all, err := collectEvents(rows)
	if err != nil {
		return nil, false, fmt.Errorf("read log after %d: %w", r.after, err)
	}

	for i, e := range all {
		p := e.Position.Commit
		if p != r.after+1 && p > r.proven {
			// A hole before p: hold everything from here until it is
			// proven. Whoever holds a missing position allocated it before
			// the read (the positions after it were committed by then), so
			// holds the events lock now, or has ended.
			if err := r.store.pool.QueryRow(ctx, appendersSQL).Scan(&r.appenders); err != nil {
				return nil, false, fmt.Errorf("read log: in-flight appends: %w", err)
			}
			r.pending, r.pendingBound = true, all[len(all)-1].Position.Commit
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
// handle fails. The next batch is read while handle works on the current
// one (at most one batch ahead), so a catching-up follower's reads and its
// handler's writes overlap.
func (s *Store) Follow(ctx context.Context, after eventstore.Position, handle func(context.Context, []eventstore.RecordedEvent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []eventstore.RecordedEvent, 1)
	readErr := make(chan error, 1)
	go func() { readErr <- s.readAhead(ctx, after, batches) }()
	for {
		select {
		case events := <-batches:
			if err := handle(ctx, events); err != nil {
				cancel()
				<-readErr
				return err
			}
		case err := <-readErr:
			return err
		}
	}
}

// readAhead walks the log after the given position and sends each
// non-empty batch to out, until ctx ends.
func (s *Store) readAhead(ctx context.Context, after eventstore.Position, out chan<- []eventstore.RecordedEvent) error {
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
			select {
			case out <- events:
			case <-ctx.Done():
				return ctx.Err()
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
		if len(events) > 0 && r.pending {
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
