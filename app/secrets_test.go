package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// A secrets key file that does not load stops the start, naming the file
// and line and never the key; a good one gives the modules their ring.
func TestSecrets_KeyFileLoadsAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("k1 bm90LWEta2V5\n"), 0o600))
	good := filepath.Join(dir, "good")
	require.NoError(t, os.WriteFile(good, []byte("k2 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600))
	open := func(file string) (*app.App, error) {
		vars := map[string]string{"SKILLFLAW_DATABASE_URL": testkit.DatabaseURL(t), "SKILLFLAW_SECRETS_KEY_FILE": file,
			"SKILLFLAW_STORAGE_DIR": t.TempDir(), "HOME": t.TempDir()}
		cfg, err := config.Load(func(k string) string { return vars[k] })
		require.NoError(t, err)
		return app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), &app.Identity{})
	}
	_, err := open(bad)
	require.ErrorContains(t, err, "secrets: ")
	require.ErrorContains(t, err, bad)
	require.NotContains(t, err.Error(), "bm90LWEta2V5")

	a, err := open(good)
	require.NoError(t, err)
	defer a.Close()
	ring := a.Deps().Secrets
	require.NotNil(t, ring)
	sealed, err := ring.Seal([]byte("sk-live"), []byte("place"))
	require.NoError(t, err)
	require.Contains(t, sealed, ":k2:")
	plain, err := ring.Open(sealed, []byte("place"))
	require.NoError(t, err)
	require.Equal(t, "sk-live", string(plain))
}
