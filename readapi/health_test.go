package readapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// closedPortPool is a pool whose server does not exist: nothing listens on
// its port.
func closedPortPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	pool, err := pgxpool.New(context.Background(),
		"postgres://skillflaw@127.0.0.1:"+strconv.Itoa(port)+"/skillflaw?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func TestHealth(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	chatDown := func(context.Context) error { return errors.New("projections runtime stopped: disk full") }

	tests := []struct {
		name   string
		db     readapi.Pinger
		chat   func(context.Context) error
		status int
		want   map[string]any
		logged string
	}{
		{"healthy", db, nil, http.StatusOK,
			map[string]any{"status": "ok", "chat": "ok", "db": "ok"}, ""},
		{"database_down", closedPortPool(t), func(context.Context) error { return nil }, http.StatusInternalServerError,
			map[string]any{"detail": map[string]any{"status": "nok", "chat": "ok", "db": "error check the server logs"}}, `"check":"db"`},
		{"chat_down", db, chatDown, http.StatusInternalServerError,
			map[string]any{"detail": map[string]any{"status": "nok", "chat": "error check the server logs", "db": "ok"}}, "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &testkit.SyncBuffer{}
			s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			readapi.RegisterHealth(s, tt.db, tt.chat)
			ts := serve(t, s)

			status, body := get(t, ts.URL+"/health")
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, map[string]any{"status": "ok"}, body)

			status, body = get(t, ts.URL+"/health_check")
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.want, body)
			if tt.logged != "" {
				require.Eventually(t, func() bool { return bytes.Contains([]byte(logs.String()), []byte(tt.logged)) },
					5*time.Second, 5*time.Millisecond)
				assert.Contains(t, logs.String(), `"msg":"health check failed"`)
			}
		})
	}

	t.Run("documented_as_in_the_contract", func(t *testing.T) {
		t.Parallel()
		s := httpapi.New(httpapi.Options{})
		readapi.RegisterHealth(s, db, nil)
		for _, path := range []string{"/health", "/health_check"} {
			op := s.OpenAPI().Paths.Value(path).Get
			require.NotNil(t, op, path)
			assert.Equal(t, []string{"Health Check"}, op.Tags)
			assert.Nil(t, op.Security, "%s is public", path)
		}
		props := s.OpenAPI().Paths.Value("/health_check").Get.Responses.Value("200").Value.Content.Get("application/json").Schema.Value.Properties
		assert.ElementsMatch(t, []string{"status", "chat", "db"}, slices.Collect(maps.Keys(props)))
	})
}
