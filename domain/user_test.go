package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

func newUser(t *testing.T) *domain.User {
	t.Helper()
	u, err := domain.RegisterUser(7, domain.Registration{Username: "ada", PasswordHash: "h1", IsActive: true, Source: "signup"})
	require.NoError(t, err)
	return u
}

// replay folds the events u recorded into a fresh aggregate, as a load
// from the stream would.
func replay(t *testing.T, u *domain.User) *domain.User {
	t.Helper()
	fresh := domain.LoadUser(u.ID())
	for i, e := range u.Root().Pending() {
		fresh.Apply(e)
		fresh.Root().Replayed(uint64(i))
	}
	return fresh
}

func types(events []domain.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventType()
	}
	return out
}

func TestUser_RegisterValidates(t *testing.T) {
	t.Parallel()
	for name, username := range map[string]string{
		"empty": "", "blank": "  ", "padded": " ada", "control": "a\x00b", "too long": strings.Repeat("a", 101),
	} {
		_, err := domain.RegisterUser(1, domain.Registration{Username: username, PasswordHash: "h"})
		assert.ErrorIs(t, err, domain.ErrInvalid, name)
	}
	_, err := domain.RegisterUser(1, domain.Registration{Username: "ok"})
	assert.ErrorIs(t, err, domain.ErrInvalid, "no password hash")
}

func TestUser_ProfileRecordsOnlyChanges(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	nick, same := "Ada", "ada"
	old, err := u.ChangeProfile(domain.ProfileChange{Nickname: &nick, Username: &same})
	require.NoError(t, err)
	assert.Empty(t, old, "same username is no change")
	old, err = u.ChangeProfile(domain.ProfileChange{Nickname: &nick})
	require.NoError(t, err)
	assert.Empty(t, old)
	assert.Equal(t, []string{"user.registered", "user.profile_changed"}, types(u.Root().Pending()), "a repeated value records nothing")

	renamed := "lovelace"
	old, err = u.ChangeProfile(domain.ProfileChange{Username: &renamed})
	require.NoError(t, err)
	assert.Equal(t, "ada", old)
	assert.Equal(t, "lovelace", replay(t, u).Username())

	bad := "not-an-email"
	_, err = u.ChangeProfile(domain.ProfileChange{Email: &bad})
	assert.ErrorIs(t, err, domain.ErrInvalid)
}

// Failed logins are recorded but never lock the account: anyone who knows
// a name could otherwise lock its owner out (they are throttled per client
// address instead).
func TestUser_FailedLoginsNeverLock(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	for range 50 {
		u.LoginFailed()
	}
	assert.False(t, u.IsLocked())
	assert.True(t, u.CanLogIn())
	assert.NotContains(t, types(u.Root().Pending()), "user.locked")
	u.LoginSucceeded()

	// An administrative lock stays until it is lifted; failures meanwhile
	// record nothing.
	require.NoError(t, u.SetLocked(true))
	n := len(u.Root().Pending())
	u.LoginFailed()
	assert.Len(t, u.Root().Pending(), n)
	got := replay(t, u)
	assert.True(t, got.IsLocked(), "the lock survives a replay")
	require.NoError(t, got.SetLocked(false))
	assert.True(t, got.CanLogIn())

	// A lock recorded by an older release after failed logins folds as a
	// lock, which SetLocked(false) lifts.
	old := domain.LoadUser(7)
	for i, e := range []domain.Event{
		domain.UserRegistered{UserID: 7, Username: "ada", PasswordHash: "h", IsActive: true},
		domain.UserLoginFailed{UserID: 7, FailedAttempts: 1},
		domain.UserLocked{UserID: 7, Reason: "failed_logins"},
	} {
		old.Apply(e)
		old.Root().Replayed(uint64(i))
	}
	assert.True(t, old.IsLocked())
	require.NoError(t, old.SetLocked(false))
	assert.False(t, old.IsLocked())
}

// The token generation moves with every event that ends the account's
// sessions, and with no other.
func TestUser_TokenGeneration(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	assert.Zero(t, u.TokenGeneration())
	nick := "Ada"
	_, err := u.ChangeProfile(domain.ProfileChange{Nickname: &nick})
	require.NoError(t, err)
	u.LoginSucceeded()
	u.LoginFailed()
	require.NoError(t, u.SetSuperuser(true))
	require.NoError(t, u.SetLocked(false))
	require.NoError(t, u.SetActive(true))
	assert.Zero(t, u.TokenGeneration(), "profile, logins, grants and no-ops keep the sessions")

	steps := []struct {
		name string
		do   func() error
	}{
		{"password changed", func() error { return u.ChangePassword("h2") }},
		{"password reset", func() error { return u.ResetPassword("h3", true) }},
		{"superuser revoked", func() error { return u.SetSuperuser(false) }},
		{"locked", func() error { return u.SetLocked(true) }},
		{"deactivated", func() error { return u.SetActive(false) }},
		{"logout", func() error { return u.RevokeSessions("logout") }},
	}
	for i, step := range steps {
		require.NoError(t, step.do(), step.name)
		assert.Equal(t, int64(i+1), u.TokenGeneration(), step.name)
	}
	require.NoError(t, u.SetLocked(false))
	require.NoError(t, u.SetActive(true))
	assert.Equal(t, int64(len(steps)), u.TokenGeneration(), "unlocking and reactivating revive no session")
	assert.Equal(t, u.TokenGeneration(), replay(t, u).TokenGeneration(), "the fold gives the same generation")

	for _, e := range u.Root().Pending() {
		switch e.(type) {
		case domain.UserPasswordChanged, domain.UserPasswordReset, domain.UserSuperuserRevoked,
			domain.UserLocked, domain.UserDeactivated, domain.UserSessionsRevoked:
			assert.True(t, domain.EndsSessions(e), e.EventType())
		default:
			assert.False(t, domain.EndsSessions(e), e.EventType())
		}
	}
	require.NoError(t, u.Delete())
	assert.ErrorIs(t, u.RevokeSessions("logout"), domain.ErrNotFound)
}

func TestUser_FlagsAndDeletion(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	require.NoError(t, u.SetActive(true))     // already active: nothing
	require.NoError(t, u.SetSuperuser(false)) // already not: nothing
	assert.Equal(t, []string{"user.registered"}, types(u.Root().Pending()))
	require.NoError(t, u.SetSuperuser(true))
	require.NoError(t, u.ResetPassword("h2", true))
	assert.True(t, u.ResetPasswd())
	require.NoError(t, u.ChangePassword("h3"))
	assert.False(t, u.ResetPasswd(), "choosing a password clears reset_passwd")
	sso := true
	require.NoError(t, u.SetFlags(&sso, nil))
	require.NoError(t, u.Delete())
	got := replay(t, u)
	assert.True(t, got.IsSuperuser())
	assert.True(t, got.IsSSO())
	assert.Equal(t, "h3", got.PasswordHash())
	assert.True(t, got.Deleted())
	var de *domain.Error
	require.True(t, errors.As(got.Delete(), &de))
	assert.Equal(t, "User not found", de.Message)
	assert.ErrorIs(t, got.SetActive(false), domain.ErrNotFound)
}

func TestClaim_OneOwnerAtATime(t *testing.T) {
	t.Parallel()
	c := domain.NewClaim(domain.UsernameScope, "Ada")
	assert.Equal(t, "claim-username-ada", c.StreamID())
	assert.Equal(t, domain.ClaimStream(domain.UsernameScope, "ADA"), c.StreamID(), "case does not matter")
	assert.NotEqual(t, domain.ClaimStream(domain.UsernameScope, "ada "), c.StreamID(), "whitespace does")
	require.NoError(t, c.Take("user-1", "taken"))
	require.NoError(t, c.Take("user-1", "taken"), "taking one's own claim again is a no-op")
	assert.Len(t, c.Root().Pending(), 1)
	err := c.Take("user-2", "This username is unavailable.")
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.EqualError(t, err, "This username is unavailable.")
	c.Release("user-2") // not the owner: nothing
	assert.Equal(t, "user-1", c.Owner())
	c.Release("user-1")
	assert.Empty(t, c.Owner())
	require.NoError(t, c.Take("user-2", "taken"))
	assert.Equal(t, []string{"claim.taken", "claim.released", "claim.taken"}, types(c.Root().Pending()))
}

func TestAPIKey_OnlyTheOwnerRevokes(t *testing.T) {
	t.Parallel()
	k, err := domain.CreateAPIKey([16]byte{1}, 5, domain.NewAPIKey{Name: "ci", KeyHash: "abc", KeyPrefix: "sk-abcde", KeyLength: 46})
	require.NoError(t, err)
	assert.ErrorIs(t, k.Revoke(6), domain.ErrNotFound, "another user's key looks missing")
	require.NoError(t, k.Revoke(5))
	assert.ErrorIs(t, k.Revoke(5), domain.ErrNotFound, "revoked twice")
	_, err = domain.CreateAPIKey([16]byte{2}, 5, domain.NewAPIKey{Name: strings.Repeat("n", 256), KeyHash: "x"})
	assert.ErrorIs(t, err, domain.ErrInvalid)
}
