package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/logcopy"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The kurrentdb store (a memory store stands in: no server here) is
// refused while the PostgreSQL events table holds the log and its own is
// empty, and passes on a database that has no events table yet.
func TestCheckLogMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testkit.NewDatabase(t)
	kurrent := memory.New()
	require.NoError(t, checkLogMigrated(ctx, pool, kurrent), "both logs empty")
	follows, err := logcopy.ReadModelsFollow(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, logcopy.StoreKurrentDB, follows, "a deployment that starts on KurrentDB records it")
	_, err = pool.Exec(ctx, `DELETE FROM read_model_log`)
	require.NoError(t, err)

	pg := postgres.New(pool, postgres.Options{})
	defer pg.Close()
	_, err = pg.Append(ctx, "user-1", eventstore.NoStream(), eventstore.EventData{ID: uuid.New(), Type: "user.created",
		SchemaVersion: 1, Data: []byte(`{}`), Metadata: eventstore.Metadata{OccurredAt: time.Now().UTC()}})
	require.NoError(t, err)
	err = checkLogMigrated(ctx, pool, kurrent)
	require.ErrorIs(t, err, logcopy.ErrLogNotMigrated)
	require.ErrorContains(t, err, "the log is still in PostgreSQL: run `skillflaw migrate-log --to kurrentdb` first")

	// Copied, but the read models still follow PostgreSQL; then switched.
	_, err = kurrent.Append(ctx, "user-1", eventstore.NoStream(), eventstore.EventData{ID: uuid.New(), Type: "user.created",
		SchemaVersion: 1, Data: []byte(`{}`), Metadata: eventstore.Metadata{OccurredAt: time.Now().UTC()}})
	require.NoError(t, err)
	require.ErrorContains(t, checkLogMigrated(ctx, pool, kurrent), "the read models still follow the PostgreSQL log")
	_, err = pool.Exec(ctx, `INSERT INTO read_model_log (store) VALUES ('kurrentdb')`)
	require.NoError(t, err)
	require.NoError(t, checkLogMigrated(ctx, pool, kurrent))
	_, err = pool.Exec(ctx, `DROP TABLE read_model_log`)
	require.NoError(t, err)

	_, err = pool.Exec(ctx, `DROP TABLE events CASCADE`)
	require.NoError(t, err)
	require.NoError(t, checkLogMigrated(ctx, pool, kurrent), "not migrated yet: no PostgreSQL log")
}
