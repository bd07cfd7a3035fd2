package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

var _ eventstore.TypeReader = (*Store)(nil)

// SettledHead implements eventstore.TypeReader: the newest committed
// position, once the transactions that held the events lock when it was
// read have ended. Any position below it that was not yet committed had
// been allocated by then, so by one of those transactions.
func (s *Store) SettledHead(ctx context.Context) (eventstore.Position, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return eventstore.Position{}, err
	}
	var appenders []string
	if err := s.pool.QueryRow(ctx, appendersSQL).Scan(&appenders); err != nil {
		return eventstore.Position{}, fmt.Errorf("settled head: in-flight appends: %w", err)
	}
	pause := time.Millisecond
	for len(appenders) > 0 {
		var done bool
		if err := s.pool.QueryRow(ctx, finishedSQL, appenders).Scan(&done); err != nil {
			return eventstore.Position{}, fmt.Errorf("settled head: check in-flight appends: %w", err)
		}
		if done {
			break
		}
		if err := sleep(ctx, pause); err != nil {
			return eventstore.Position{}, err
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
	return head, nil
}

// readTypesSQL reads one window of positions, of the given types. The
// window is at most as wide as the batch, so the planner picks either the
// primary key's range or the (event_type, global_position) index, and never
// sorts more than a batch.
const readTypesSQL = `SELECT ` + eventColumns + ` FROM events
WHERE event_type = ANY($1) AND global_position > $2 AND global_position <= $3
ORDER BY global_position`

// ReadTypes implements eventstore.TypeReader. It walks windows of limit
// positions until one holds an event of the types or through is reached.
func (s *Store) ReadTypes(ctx context.Context, after, through eventstore.Position, types []string, limit int) ([]eventstore.RecordedEvent, eventstore.Position, error) {
	from, to := after.Commit, through.Commit
	window := uint64(max(limit, 1))
	for from < to {
		hi := min(to, from+window)
		rows, err := s.pool.Query(ctx, readTypesSQL, types, int64(from), int64(hi))
		if err != nil {
			return nil, eventstore.At(from), fmt.Errorf("read log by type after %d: %w", from, err)
		}
		events, err := collectEvents(rows)
		if err != nil {
			return nil, eventstore.At(from), fmt.Errorf("read log by type after %d: %w", from, err)
		}
		if len(events) > 0 {
			return events, eventstore.At(hi), nil
		}
		from = hi
	}
	return nil, eventstore.At(max(from, to)), nil
}

// CountTypes implements eventstore.TypeReader.
func (s *Store) CountTypes(ctx context.Context, after, through eventstore.Position) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT event_type, count(*) FROM events
WHERE global_position > $1 AND global_position <= $2 GROUP BY event_type`, int64(after.Commit), int64(through.Commit))
	if err != nil {
		return nil, fmt.Errorf("count event types: %w", err)
	}
	counts := map[string]int64{}
	var (
		t string
		n int64
	)
	_, err = pgx.ForEachRow(rows, []any{&t, &n}, func() error { counts[t] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count event types: %w", err)
	}
	return counts, nil
}
