package logcopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Checkpoint is how far a copy to one target went.
type Checkpoint struct {
	// Source is the position of the last source event copied; Target is
	// where it landed in the target.
	Source, Target eventstore.Position
	// Events and Appends count what was copied so far, over every run.
	Events, Appends int64
}

// State keeps the checkpoint of each target between runs.
type State interface {
	// Load returns the target's checkpoint; found is false before its
	// first append.
	Load(ctx context.Context, target string) (cp Checkpoint, found bool, err error)
	// Save records the target's checkpoint.
	Save(ctx context.Context, target, name string, cp Checkpoint) error
	// Reset forgets the target's checkpoint (its log is empty again).
	Reset(ctx context.Context, target string) error
}

// TargetKey identifies a target in the checkpoint table: a hash of its
// kind and of its URL with the password hidden (the key outlives a
// password change, and holds no secret).
func TargetKey(kind, redactedURL string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + redactedURL))
	return kind + ":" + hex.EncodeToString(sum[:16])
}

// PostgresState is the State of the log_copy_checkpoints table
// (migration 00034) of the source database.
type PostgresState struct{ Pool *pgxpool.Pool }

// Load implements State.
func (s PostgresState) Load(ctx context.Context, target string) (Checkpoint, bool, error) {
	var sc, sp, tc, tp, events, appends int64
	err := s.Pool.QueryRow(ctx, `SELECT source_commit, source_prepare, target_commit, target_prepare, events, appends
FROM log_copy_checkpoints WHERE target = $1`, target).Scan(&sc, &sp, &tc, &tp, &events, &appends)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load the copy's checkpoint: %w", err)
	}
	return Checkpoint{
		Source: eventstore.Position{Commit: uint64(sc), Prepare: uint64(sp)},
		Target: eventstore.Position{Commit: uint64(tc), Prepare: uint64(tp)},
		Events: events, Appends: appends,
	}, true, nil
}

// Save implements State.
func (s PostgresState) Save(ctx context.Context, target, name string, cp Checkpoint) error {
	for _, p := range []eventstore.Position{cp.Source, cp.Target} {
		if p.Commit > math.MaxInt64 || p.Prepare > math.MaxInt64 {
			return fmt.Errorf("save the copy's checkpoint: position %s does not fit a bigint", p)
		}
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO log_copy_checkpoints AS c (target, target_name, source_commit, source_prepare,
    target_commit, target_prepare, events, appends)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (target) DO UPDATE SET target_name = $2, source_commit = $3, source_prepare = $4,
    target_commit = $5, target_prepare = $6, events = $7, appends = $8, updated_at = now()`,
		target, name, int64(cp.Source.Commit), int64(cp.Source.Prepare), int64(cp.Target.Commit), int64(cp.Target.Prepare),
		cp.Events, cp.Appends)
	if err != nil {
		return fmt.Errorf("save the copy's checkpoint: %w", err)
	}
	return nil
}

// Reset implements State.
func (s PostgresState) Reset(ctx context.Context, target string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM log_copy_checkpoints WHERE target = $1`, target); err != nil {
		return fmt.Errorf("reset the copy's checkpoint: %w", err)
	}
	return nil
}
