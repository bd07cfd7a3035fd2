package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// countLagSQL counts the events after $1 up to $2 whose type is one of $3
// (NULL: every type) or is not one of $4, and finds the oldest one's
// recording time; the same scan as a projection's lag always took.
const countLagSQL = `SELECT count(*), min(recorded_at) FROM events
WHERE global_position > $1 AND global_position <= $2
  AND ($3::text[] IS NULL OR event_type = ANY($3) OR NOT event_type = ANY($4::text[]))`

// CountLag counts, in one query, the events with after < position <=
// through whose type is one of types (nil: every type) or is not one of
// known, and returns the recording time of the oldest of them (zero when
// there is none). `skillflaw projections status` uses it for a
// projection's lag; stores without it are scanned through ReadAll.
func (s *Store) CountLag(ctx context.Context, after, through eventstore.Position, types, known []string) (int64, time.Time, error) {
	var (
		n      int64
		oldest *time.Time
	)
	if known == nil {
		known = []string{}
	}
	err := s.pool.QueryRow(ctx, countLagSQL, int64(after.Commit), int64(through.Commit), types, known).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count lag after %s: %w", after, err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
