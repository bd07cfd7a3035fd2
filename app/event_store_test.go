package app_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/internal/testkit/tallyapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

// The event store is chosen by SKILLFLAW_EVENT_STORE; a pairing that
// would be misread stops the start with the variable to change.
func TestApp_EventStoreChoice(t *testing.T) {
	t.Parallel()
	ctx, log := context.Background(), slog.New(slog.DiscardHandler)
	url := testkit.DatabaseURL(t)
	load := func(vars map[string]string) config.Config {
		vars["HOME"], vars["SKILLFLAW_DATABASE_URL"] = "/h", url
		c, err := config.Load(func(k string) string { return vars[k] })
		require.NoError(t, err)
		return c
	}

	_, err := app.Open(ctx, load(map[string]string{"SKILLFLAW_EVENT_STORE": "kurrentdb"}), log, tallyapi.Module{})
	require.ErrorContains(t, err, "SKILLFLAW_EVENT_STORE=kurrentdb needs SKILLFLAW_KURRENTDB_URL")

	_, err = app.Open(ctx, load(map[string]string{"SKILLFLAW_KURRENTDB_URL": "kurrentdb://admin:s3cret@127.0.0.1:1?tls=false"}), log, tallyapi.Module{})
	require.ErrorContains(t, err, "SKILLFLAW_KURRENTDB_URL is set (kurrentdb://admin:xxxxx@127.0.0.1:1?tls=false) but SKILLFLAW_EVENT_STORE is postgres")
	assert.NotContains(t, err.Error(), "s3cret")

	// No KurrentDB server runs here: Open reports the store, its URL
	// redacted, and stops.
	_, err = app.Open(ctx, load(map[string]string{"SKILLFLAW_EVENT_STORE": "kurrentdb",
		"SKILLFLAW_KURRENTDB_URL": "kurrentdb://admin:s3cret@127.0.0.1:1?tls=false"}), log, tallyapi.Module{})
	require.ErrorContains(t, err, "event store: KurrentDB at kurrentdb://admin:xxxxx@127.0.0.1:1?tls=false: ")
	assert.NotContains(t, err.Error(), "s3cret")

	// The default keeps the PostgreSQL store and its optional parts.
	a, err := app.Open(ctx, load(map[string]string{}), log, tallyapi.Module{})
	require.NoError(t, err)
	defer a.Close()
	store := a.Deps().Store
	_, isTypeReader := store.(eventstore.TypeReader)
	_, isLagCounter := store.(projections.LagCounter)
	assert.True(t, isTypeReader)
	assert.True(t, isLagCounter)

	// Once the read models follow KurrentDB (migrate-log --to kurrentdb),
	// the postgres store is refused.
	_, err = a.Pool().Exec(ctx, `INSERT INTO read_model_log (store) VALUES ('kurrentdb')`)
	require.NoError(t, err)
	_, err = app.Open(ctx, load(map[string]string{}), log, tallyapi.Module{})
	require.ErrorContains(t, err, "the read models follow the kurrentdb log since `skillflaw migrate-log --to kurrentdb`: set SKILLFLAW_EVENT_STORE=kurrentdb")
}
