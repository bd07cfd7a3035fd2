package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Snapshots keeps the latest snapshot of each stream (see
// domain.Snapshotter): a cache of a fold, never a truth.
type Snapshots interface {
	// Get returns the snapshot of stream in the given shape version, with
	// the revision it was taken at; found is false when there is none.
	Get(ctx context.Context, stream string, version int) (revision uint64, state []byte, found bool, err error)
	// Put stores a snapshot taken at revision, unless a later one is stored.
	Put(ctx context.Context, stream string, revision uint64, version int, state []byte) error
}

// PostgresSnapshots keeps snapshots in the aggregate_snapshots table.
type PostgresSnapshots struct {
	pool *pgxpool.Pool
}

// NewPostgresSnapshots returns the snapshots of pool's database.
func NewPostgresSnapshots(pool *pgxpool.Pool) *PostgresSnapshots {
	return &PostgresSnapshots{pool: pool}
}

// Get implements Snapshots.
func (s *PostgresSnapshots) Get(ctx context.Context, stream string, version int) (uint64, []byte, bool, error) {
	var (
		rev   int64
		state []byte
	)
	err := s.pool.QueryRow(ctx, `SELECT revision, state FROM aggregate_snapshots WHERE stream_id = $1 AND snapshot_version = $2`,
		stream, version).Scan(&rev, &state)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil, false, nil
	case err != nil:
		return 0, nil, false, fmt.Errorf("read snapshot of %s: %w", stream, err)
	}
	return uint64(rev), state, true, nil
}

// Put implements Snapshots. Its commit does not wait for the WAL flush
// (synchronous_commit off for its own transaction): a snapshot is a cache
// of events already stored durably, which a crash may lose and the next
// load does without, so the write that crossed the snapshot's threshold
// is not made to wait for a second fsync.
func (s *PostgresSnapshots) Put(ctx context.Context, stream string, revision uint64, version int, state []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO aggregate_snapshots AS a (stream_id, revision, snapshot_version, state)
SELECT $1::text, $2::bigint, $3::integer, $4::bytea FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async
ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, snapshot_version = excluded.snapshot_version,
    state = excluded.state, taken_at = now()
WHERE a.revision < excluded.revision OR a.snapshot_version <> excluded.snapshot_version`,
		stream, clampRevision(revision), version, state)
	if err != nil {
		return fmt.Errorf("write snapshot of %s: %w", stream, err)
	}
	return nil
}

func clampRevision(r uint64) int64 { return int64(min(r, 1<<62)) }
