package projections_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/projections"
)

// TestUsers_RebuildGivesIdenticalRows writes a history of accounts and API
// keys, lets the users projection build its tables live, then rebuilds
// them from position 0: every row is the same.
func TestUsers_RebuildGivesIdenticalRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, s := range append(domain.IdentityEvents(), domain.ClaimEvents()...) {
		require.NoError(t, e.reg.Register(s.Event, s.Version))
	}
	repo := commands.NewRepository(e.store, e.reg)
	ctx := testCtx(t)
	var last eventstore.Position
	generations := map[int64]int64{} // of the accounts not deleted, from the fold
	save := func(md eventstore.Metadata, aggs ...commands.Aggregate) {
		res, err := repo.SaveAll(ctx, md, aggs...)
		require.NoError(t, err)
		last = res.Last()
	}
	for i := int64(1); i <= 12; i++ {
		u, err := domain.RegisterUser(i, domain.Registration{Username: fmt.Sprintf("user%02d", i), PasswordHash: "h", IsActive: i%2 == 0})
		require.NoError(t, err)
		save(eventstore.Metadata{ActorUserID: 1}, u)
		nick, mail := fmt.Sprintf("Nick %d", i), fmt.Sprintf("u%d@example.com", i)
		_, err = u.ChangeProfile(domain.ProfileChange{Nickname: &nick, Email: &mail, Optins: []byte(`{"github_starred":true}`)})
		require.NoError(t, err)
		require.NoError(t, u.SetLocked(i%3 == 0))
		require.NoError(t, u.SetSuperuser(i == 1))
		u.LoginSucceeded()
		if i%2 == 1 {
			require.NoError(t, u.ChangePassword("h2"))
			require.NoError(t, u.RevokeSessions("logout"))
		}
		k, err := domain.CreateAPIKey(uuid.New(), i, domain.NewAPIKey{Name: "k", KeyHash: fmt.Sprint(i), KeyPrefix: "sk-", KeyLength: 46})
		require.NoError(t, err)
		if i%4 == 0 {
			require.NoError(t, u.Delete())
		} else {
			generations[i] = u.TokenGeneration()
		}
		save(eventstore.Metadata{ActorUserID: i}, u, k)
		if i%5 == 0 {
			require.NoError(t, k.Revoke(i))
			save(eventstore.Metadata{ActorUserID: i}, k)
		}
	}
	rt := e.start(t, projections.Users())
	require.NoError(t, rt.WaitFor(ctx, last))
	users, keys := rows(t, e, "users"), rows(t, e, "api_keys")
	require.Len(t, users, 9, "three of twelve were deleted")
	require.Len(t, keys, 7, "keys of deleted users and revoked keys are gone")
	readGenerations := func() map[int64]int64 {
		got := map[int64]int64{}
		rows, err := e.pool.Query(ctx, `SELECT id, token_generation FROM users`)
		require.NoError(t, err)
		for rows.Next() {
			var id, gen int64
			require.NoError(t, rows.Scan(&id, &gen))
			got[id] = gen
		}
		require.NoError(t, rows.Err())
		return got
	}
	assert.Equal(t, generations, readGenerations(), "the read model's token generation is the aggregate's")

	_, err := e.pool.Exec(ctx, `UPDATE users SET nickname = 'spoiled'`)
	require.NoError(t, err)
	require.NoError(t, rt.Rebuild(ctx, "users", nil))
	assert.Equal(t, users, rows(t, e, "users"))
	assert.Equal(t, keys, rows(t, e, "api_keys"))
	assert.Equal(t, generations, readGenerations())
}
