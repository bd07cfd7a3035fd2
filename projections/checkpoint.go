package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// replaceSQL sets a checkpoint ($2, $3) and its unknown types ($4), and
// clears a recorded failure: what a rebuild's swap writes.
const replaceSQL = `UPDATE projection_checkpoints
SET commit_position = $2, prepare_position = $3, updated_at = now(),
    last_error = NULL, error_position = NULL, error_count = 0, error_at = NULL, unknown_types = $4
WHERE name = $1`

// advanceSQL is replaceSQL after a committed batch: only from the position
// the batch started at ($5, $6).
const advanceSQL = replaceSQL + ` AND commit_position = $5 AND prepare_position = $6`

// skipSQL moves a checkpoint over events the projection does not handle.
const skipSQL = `UPDATE projection_checkpoints
SET commit_position = $2, prepare_position = $3, updated_at = now()
WHERE name = $1 AND commit_position = $4 AND prepare_position = $5`

type checkpoint struct {
	pos     eventstore.Position
	unknown map[string]int64
}

func (r *Runtime) ensureCheckpoints(ctx context.Context) error {
	_, err := r.pool.Exec(ctx,
		`INSERT INTO projection_checkpoints (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`, r.Names())
	if err != nil {
		return fmt.Errorf("create checkpoints: %w", err)
	}
	return nil
}

func loadCheckpoint(ctx context.Context, pool *pgxpool.Pool, name string) (checkpoint, error) {
	var (
		commit, prepare int64
		types           []byte
	)
	err := pool.QueryRow(ctx,
		`SELECT commit_position, prepare_position, unknown_types FROM projection_checkpoints WHERE name = $1`, name).
		Scan(&commit, &prepare, &types)
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	cp := checkpoint{pos: eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, unknown: map[string]int64{}}
	if err := json.Unmarshal(types, &cp.unknown); err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint of %s: unknown types: %w", name, err)
	}
	return cp, nil
}

func recordFailure(ctx context.Context, pool *pgxpool.Pool, name string, at eventstore.Position, cause error) error {
	_, err := pool.Exec(ctx, `UPDATE projection_checkpoints
SET last_error = $2, error_position = $3, error_count = error_count + 1, error_at = now()
WHERE name = $1`, name, cause.Error(), int64(at.Commit))
	return err
}

func jsonTypes(unknown map[string]int64) ([]byte, error) {
	b, err := json.Marshal(unknown)
	if err != nil {
		return nil, fmt.Errorf("unknown types: %w", err)
	}
	return b, nil
}
