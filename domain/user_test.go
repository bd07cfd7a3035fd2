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

func TestUser_LocksAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()
	u := newUser(t)
	u.LoginFailed(3)
	u.LoginFailed(3)
	u.LoginSucceeded() // resets the count
	u.LoginFailed(3)
	u.LoginFailed(3)
	assert.False(t, u.IsLocked())
	u.LoginFailed(3)
	assert.True(t, u.IsLocked())
	assert.False(t, u.CanLogIn())
	u.LoginFailed(3) // locked: nothing more is recorded
	got := replay(t, u)
	assert.True(t, got.IsLocked(), "the lock survives a replay")
	require.NoError(t, got.SetLocked(false))
	assert.True(t, got.CanLogIn())
	got.LoginFailed(3)
	assert.False(t, got.IsLocked(), "unlocking resets the failure count")

	never := newUser(t)
	for range 10 {
		never.LoginFailed(0)
	}
	assert.False(t, never.IsLocked(), "0 attempts never locks")
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
