package migrations_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// Rows the users projection wrote before token generations existed get
// the count of the session-ending events it had folded: the read model
// matches the aggregates' fold, and the projector counts the rest.
func TestSessions_BackfillsTokenGenerations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testkit.NewDatabase(t)
	raw, err := os.ReadFile("00023_sessions.sql")
	require.NoError(t, err)
	up, down, ok := strings.Cut(string(raw), "-- +goose Down")
	require.True(t, ok)
	_, err = pool.Exec(ctx, down) // as the release before it left the schema
	require.NoError(t, err)

	event := func(user int, version int, typ string) int64 {
		t.Helper()
		var pos int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata)
VALUES ($1, $2, $3, $4, 1, '{}', '{}') RETURNING global_position`, uuid.New(), fmt.Sprintf("user-%d", user), version, typ).Scan(&pos))
		return pos
	}
	for id := 1; id <= 3; id++ {
		event(id, 0, "user.registered")
		_, err := pool.Exec(ctx, `INSERT INTO users (id, username, is_active, is_superuser, create_at, updated_at, version)
VALUES ($1, $2, true, false, now(), now(), 0)`, id, fmt.Sprintf("u%d", id))
		require.NoError(t, err)
	}
	event(1, 1, "user.password_changed")
	event(1, 2, "user.profile_changed")
	event(1, 3, "user.locked")
	event(1, 4, "user.unlocked")
	event(2, 1, "user.superuser_revoked")
	folded := event(2, 2, "user.login_failed")
	event(2, 3, "user.password_reset") // not folded yet: the projector will count it
	_, err = pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_position, prepare_position) VALUES ('users', $1, $1)
ON CONFLICT (name) DO UPDATE SET commit_position = $1, prepare_position = $1`, folded)
	require.NoError(t, err)

	_, err = pool.Exec(ctx, up)
	require.NoError(t, err)
	rows, err := pool.Query(ctx, `SELECT id, token_generation FROM users ORDER BY id`)
	require.NoError(t, err)
	got := map[int]int{}
	for rows.Next() {
		var id, gen int
		require.NoError(t, rows.Scan(&id, &gen))
		got[id] = gen
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, map[int]int{1: 2, 2: 1, 3: 0}, got)
}
