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
// postgresLog (the events table of the process's database) holds events
// and either active's log is empty (the process would start on an empty
// history and append a second, diverging one beside it) or the read
// models do not follow active's log yet (readModels, see
// ReadModelsFollow: the copy did not end with SwitchReadModels). A new
// deployment (no PostgreSQL events) passes.
func CheckMigrated(ctx context.Context, postgresLog, active eventstore.Store, readModels string) error {
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
	if head.IsZero() {
		return fmt.Errorf("%w (PostgreSQL holds events up to position %s, the configured store none)", ErrLogNotMigrated, pgHead)
	}
	if readModels != StoreKurrentDB {
		return fmt.Errorf("%w (the copy did not end: the read models still follow the PostgreSQL log)", ErrLogNotMigrated)
	}
	return nil
}
