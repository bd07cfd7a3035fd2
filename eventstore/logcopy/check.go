package logcopy

import (
	"context"
	"errors"
	"fmt"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// ErrLogNotMigrated is CheckMigrated's refusal.
var ErrLogNotMigrated = errors.New("the log is still in PostgreSQL: run `skillflaw migrate-log --to kurrentdb` first")

// CheckMigrated refuses to serve from active (the KurrentDB store) while
// its log is empty and postgresLog (the events table of the process's
// database) holds events: the process would start on an empty history and
// append a second, diverging one beside it. Once the log was copied (or
// when both are empty, a new deployment) it passes.
func CheckMigrated(ctx context.Context, postgresLog, active eventstore.Store) error {
	pgHead, err := postgresLog.Head(ctx)
	if err != nil {
		return fmt.Errorf("head of the PostgreSQL log: %w", err)
	}
	if pgHead.IsZero() {
		return nil
	}
	head, err := active.Head(ctx)
	if err != nil {
		return fmt.Errorf("head of the event store: %w", err)
	}
	if !head.IsZero() {
		return nil
	}
	return fmt.Errorf("%w (PostgreSQL holds events up to position %s, the configured store none)", ErrLogNotMigrated, pgHead)
}
