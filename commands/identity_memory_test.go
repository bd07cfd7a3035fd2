package commands_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// superusers is the accounts' read model as IdentityHandler reads it: how
// many other active superusers there are, and the first one, as set.
type superusers struct {
	others, first atomic.Int64
}

func (s *superusers) CountOtherActive(context.Context, int64) (int64, error) {
	return s.others.Load(), nil
}
func (s *superusers) First(context.Context) (int64, error) { return s.first.Load(), nil }

// The passwords of the identity tests (bcrypt at its lowest cost: fast).
const (
	pwAlice = "alice-secret-1"
	pwBob   = "bob-secret-22"
	pwRoot  = "root-secret-333"
)

// identityHandler is an identity handler over a fresh in-memory store with
// no pool, throttle or sessions: the projects module is not served (no
// default project), so only logins with a password (the throttle's table)
// and the sessions' own table stay out of reach.
func identityHandler(t *testing.T, cfg config.Config) (*commands.IdentityHandler, *memory.Store, *superusers) {
	t.Helper()
	repo, store := newMemRepo(t, domain.IdentityEvents(), domain.ClaimEvents())
	su := &superusers{}
	return &commands.IdentityHandler{Repo: repo, IDs: &counter{}, Passwords: auth.NewPasswords(4), Superusers: su, Config: cfg,
		Log: slog.New(slog.DiscardHandler)}, store, su
}

// register creates an active account (a superuser's when super).
func register(t *testing.T, h *commands.IdentityHandler, name, password string, super bool) int64 {
	t.Helper()
	id, _, err := commands.RegisterUser(context.Background(), h.Repo, h.IDs, h.Passwords,
		commands.NewUser{Username: name, Password: password, IsActive: true, IsSuperuser: super, Source: "test"}, eventstore.Metadata{})
	require.NoError(t, err)
	return id
}

// loadUser folds account id.
func loadUser(t *testing.T, h *commands.IdentityHandler, id int64) *domain.User {
	t.Helper()
	u := domain.LoadUser(id)
	require.NoError(t, h.Repo.Load(context.Background(), u))
	return u
}

// Sign-up: the account is created with the claim of its username (taken
// case-insensitively: Langflow's 400 "This username is unavailable."),
// active as SKILLFLAW_NEW_USER_IS_ACTIVE says; invalid usernames and short
// passwords are refused; while registration is off (sign-up disabled, or
// auto login on) only a superuser adds accounts, as the admin. Adds of one
// name at once: exactly one lands, the others are 400; of distinct names:
// all land. No password is ever in the log; refusals append nothing.
func TestIdentityHandler_InMemorySignUp(t *testing.T) {
	t.Parallel()
	h, store, _ := identityHandler(t, config.Config{EnableSignup: true})
	ctx := context.Background()

	w, err := h.Add(ctx, commands.AddUser{Username: "Alice", Nickname: ptr("Al"), Password: pwAlice})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 2, "the account and its username's claim (no projects module: no default project)")
	alice := loadUser(t, h, w.ID)
	assert.Equal(t, "Alice", alice.Username())
	assert.False(t, alice.IsActive(), "SKILLFLAW_NEW_USER_IS_ACTIVE is off")
	assert.False(t, alice.IsSuperuser())
	assert.True(t, h.Passwords.Verify(alice.PasswordHash(), pwAlice))
	id, err := commands.UserIDByName(ctx, h.Repo, "ALICE")
	require.NoError(t, err)
	assert.Equal(t, w.ID, id)

	_, err = h.Add(ctx, commands.AddUser{Username: "alice", Password: pwBob})
	assert.ErrorIs(t, err, domain.ErrRefused, "a taken username is Langflow's 400")
	assert.Equal(t, "This username is unavailable.", domainMsg(err))
	_, err = h.Add(ctx, commands.AddUser{Username: " bob", Password: pwBob})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = h.Add(ctx, commands.AddUser{Username: "bob", Password: "short"})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	require.Equal(t, 2, countEvents(t, store))

	h.Config = config.Config{EnableSignup: false, NewUserIsActive: true}
	assert.ErrorIs(t, h.CheckSignUp(nil), domain.ErrForbidden)
	_, err = h.Add(ctx, commands.AddUser{Username: "bob", Password: pwBob})
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.Equal(t, "Public user registration is disabled.", domainMsg(err))
	_, err = h.Add(ctx, commands.AddUser{Caller: &auth.Principal{UserID: 5}, Username: "bob", Password: pwBob})
	assert.ErrorIs(t, err, domain.ErrForbidden, "a signed-in user who is not a superuser signs up like anyone")
	h.Config = config.Config{AutoLogin: true, EnableSignup: true}
	assert.ErrorIs(t, h.CheckSignUp(nil), domain.ErrForbidden, "auto login turns registration off")
	require.Equal(t, 2, countEvents(t, store), "the refusals wrote nothing")

	h.Config = config.Config{NewUserIsActive: true}
	w, err = h.Add(ctx, commands.AddUser{Caller: &auth.Principal{UserID: 99, IsSuperuser: true}, Username: "bob", Password: pwBob})
	require.NoError(t, err, "a superuser always adds users")
	assert.True(t, loadUser(t, h, w.ID).IsActive())
	events, err := store.ReadStream(ctx, domain.UserStream(w.ID), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, int64(99), events[0].Metadata.ActorUserID, "the admin's act")
	var reg domain.UserRegistered
	require.NoError(t, json.Unmarshal(events[0].Data, &reg))
	assert.Equal(t, "admin", reg.Source)

	h.Config = config.Config{EnableSignup: true}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = h.Add(ctx, commands.AddUser{Username: "Race", Password: pwBob}) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, domain.ErrRefused)
		assert.Equal(t, "This username is unavailable.", domainMsg(err))
	}
	assert.Equal(t, 1, won, "one name, one account")
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.Add(ctx, commands.AddUser{Username: "user" + string(rune('a'+i)), Password: pwBob})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "sign-ups of distinct names all land")
	}

	all, err := store.ReadAll(ctx, eventstore.Position{}, 1000)
	require.NoError(t, err)
	assert.Len(t, all, 2*(2+1+len(errs)))
	for _, e := range all {
		assert.NotContains(t, string(e.Data), "-secret-", "only hashes are recorded")
	}
}

// A change of an account: nobody deactivates their own account (not even
// a superuser), a user changes only their own account and not its flags
// (sending a flag at its current value is allowed and records nothing), a
// new username moves its claim (the old one is free, a held one is 400),
// unknown accounts are 404, a new password or a lock ends the account's
// sessions (a new token generation; an API-key caller gets no new session).
// The platform keeps an active, unlocked superuser: demoting, locking or
// removing the last one is 409. Remove is superusers' (403), never of the
// caller's own account (400), and frees the username. Refusals append
// nothing.
func TestIdentityHandler_InMemoryChangeAndRemove(t *testing.T) {
	t.Parallel()
	h, store, su := identityHandler(t, config.Config{})
	ctx := context.Background()
	rootID := register(t, h, "root", pwRoot, true)
	aliceID := register(t, h, "alice", pwAlice, false)
	bobID := register(t, h, "bob", pwBob, false)
	root := auth.Principal{UserID: rootID, IsSuperuser: true, Via: "jwt"}
	alice := auth.Principal{UserID: aliceID, Via: "api_key"}
	before := countEvents(t, store)

	change := func(caller auth.Principal, id int64, ch commands.UserChange) (commands.UserWritten, error) {
		return h.Change(ctx, commands.ChangeUser{Caller: caller, UserID: id, Change: ch})
	}
	_, err := change(alice, aliceID, commands.UserChange{IsActive: ptr(false)})
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.Equal(t, "You can't deactivate your own user account", domainMsg(err))
	_, err = change(root, rootID, commands.UserChange{IsActive: ptr(false)})
	assert.ErrorIs(t, err, domain.ErrForbidden, "not even a superuser")
	_, err = change(alice, bobID, commands.UserChange{Nickname: ptr("B")})
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.Equal(t, "Permission denied", domainMsg(err))
	_, err = change(alice, aliceID, commands.UserChange{IsSuperuser: ptr(true)})
	assert.ErrorIs(t, err, domain.ErrForbidden, "the flags are superusers'")
	_, err = change(alice, aliceID, commands.UserChange{Username: ptr("BOB")})
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.Equal(t, "This username is unavailable.", domainMsg(err))
	_, err = change(root, 999, commands.UserChange{Nickname: ptr("x")})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = change(root, rootID, commands.UserChange{IsSuperuser: ptr(false)})
	assert.ErrorIs(t, err, domain.ErrConflict, "the last active superuser")
	_, err = change(root, rootID, commands.UserChange{IsLocked: ptr(true)})
	assert.ErrorIs(t, err, domain.ErrConflict, "the last active superuser")
	require.Equal(t, before, countEvents(t, store), "the refusals wrote nothing")

	w, err := change(alice, aliceID, commands.UserChange{IsActive: ptr(true), IsSuperuser: ptr(false), IsLocked: ptr(false)})
	require.NoError(t, err, "flags sent back at their values")
	assert.True(t, w.Result.Last().IsZero(), "nothing differs: nothing recorded")
	w, err = change(alice, aliceID, commands.UserChange{Username: ptr("Carol")})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 3, "the change, the new name taken, the old one released")
	for name, want := range map[string]int64{"alice": 0, "carol": aliceID} {
		id, err := commands.UserIDByName(ctx, h.Repo, name)
		require.NoError(t, err)
		assert.Equal(t, want, id, name)
	}
	gen := loadUser(t, h, aliceID).TokenGeneration()
	w, err = change(alice, aliceID, commands.UserChange{Password: ptr("carol-secret-4")})
	require.NoError(t, err)
	assert.Nil(t, w.Session, "an API-key caller gets no new session")
	u := loadUser(t, h, aliceID)
	assert.Equal(t, gen+1, u.TokenGeneration(), "a new password ends the sessions")
	assert.True(t, h.Passwords.Verify(u.PasswordHash(), "carol-secret-4"))
	_, err = change(root, aliceID, commands.UserChange{IsLocked: ptr(true)})
	require.NoError(t, err)
	u = loadUser(t, h, aliceID)
	assert.True(t, u.IsLocked())
	assert.Equal(t, gen+2, u.TokenGeneration(), "a lock ends the sessions")
	assert.Equal(t, before+5, countEvents(t, store))

	super := auth.WithPrincipal(ctx, root)
	_, err = h.Remove(ctx, commands.RemoveUser{UserID: bobID})
	assertNotSuperuser(t, err)
	_, err = h.Remove(auth.WithPrincipal(ctx, alice), commands.RemoveUser{UserID: bobID})
	assertNotSuperuser(t, err)
	_, err = h.Remove(super, commands.RemoveUser{UserID: rootID})
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.Equal(t, "You can't delete your own user account", domainMsg(err))
	_, err = h.Remove(auth.WithPrincipal(ctx, auth.Principal{UserID: 500, IsSuperuser: true}), commands.RemoveUser{UserID: rootID})
	assert.ErrorIs(t, err, domain.ErrConflict, "the last active superuser")
	_, err = h.Remove(super, commands.RemoveUser{UserID: 999})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, before+5, countEvents(t, store), "the refusals wrote nothing")
	w, err = h.Remove(super, commands.RemoveUser{UserID: bobID})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 2, "the removal and the username's release")
	id, err := commands.UserIDByName(ctx, h.Repo, "bob")
	require.NoError(t, err)
	assert.Zero(t, id, "bob is free again")
	_, err = h.Remove(super, commands.RemoveUser{UserID: bobID})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = change(root, bobID, commands.UserChange{Nickname: ptr("x")})
	assert.ErrorIs(t, err, domain.ErrNotFound, "a removed account is not found")

	su.others.Store(1)
	_, err = change(auth.Principal{UserID: 500, IsSuperuser: true}, rootID, commands.UserChange{IsSuperuser: ptr(false)})
	require.NoError(t, err, "another active superuser remains")
	assert.False(t, loadUser(t, h, rootID).IsSuperuser())
	assert.Equal(t, before+8, countEvents(t, store))

	// A removed superuser is not found, even while the read model counts no
	// other active superuser (it is not the last one: it is gone).
	dave := register(t, h, "dave-admin", pwBob, true)
	_, err = h.Remove(super, commands.RemoveUser{UserID: dave})
	require.NoError(t, err)
	su.others.Store(0)
	_, err = h.Remove(super, commands.RemoveUser{UserID: dave})
	assert.ErrorIs(t, err, domain.ErrNotFound)
}

// Passwords and API keys: a user sets only their own password (403 for
// another's), never to the current one (400); a superuser's reset makes
// the user choose a new one unless told otherwise. An API key is recorded
// only as its hash and prefix; revoking one that is not the caller's, or
// missing, is Langflow's 400 "API Key not found" and writes nothing.
func TestIdentityHandler_InMemoryPasswordsAndAPIKeys(t *testing.T) {
	t.Parallel()
	h, store, _ := identityHandler(t, config.Config{})
	ctx := context.Background()
	aliceID := register(t, h, "alice", pwAlice, false)
	bobID := register(t, h, "bob", pwBob, false)
	alice := auth.Principal{UserID: aliceID, Via: "api_key"}
	bob := auth.Principal{UserID: bobID}
	root := auth.Principal{UserID: 500, IsSuperuser: true}
	before := countEvents(t, store)

	reset := func(caller auth.Principal, id int64, pw string, must *bool) (commands.UserWritten, error) {
		return h.ResetPassword(ctx, commands.ResetPassword{Caller: caller, UserID: id, Password: pw, ResetPasswd: must})
	}
	_, err := reset(alice, bobID, "new-secret-5", nil)
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.Equal(t, "You can't change another user's password", domainMsg(err))
	_, err = reset(alice, aliceID, pwAlice, nil)
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.Equal(t, "You can't use your current password", domainMsg(err))
	_, err = reset(alice, aliceID, "short", nil)
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = reset(root, 999, "new-secret-5", nil)
	assert.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, before, countEvents(t, store))

	w, err := reset(alice, aliceID, "alice-secret-6", nil)
	require.NoError(t, err)
	assert.Nil(t, w.Session)
	u := loadUser(t, h, aliceID)
	assert.True(t, h.Passwords.Verify(u.PasswordHash(), "alice-secret-6"))
	assert.False(t, u.ResetPasswd(), "chosen by its owner")
	_, err = reset(root, bobID, "bob-secret-7", nil)
	require.NoError(t, err)
	assert.True(t, loadUser(t, h, bobID).ResetPasswd(), "reset by a superuser: to be changed")
	_, err = reset(root, bobID, "bob-secret-8", ptr(false))
	require.NoError(t, err)
	u = loadUser(t, h, bobID)
	assert.False(t, u.ResetPasswd())
	assert.True(t, h.Passwords.Verify(u.PasswordHash(), "bob-secret-8"))
	before += 3

	k, err := h.CreateAPIKey(ctx, commands.CreateAPIKey{Caller: alice, Name: "ci"})
	require.NoError(t, err)
	assert.Equal(t, aliceID, k.UserID)
	assert.Len(t, k.Result.Positions, 1)
	events, err := store.ReadStream(ctx, "api_key-"+k.ID.String(), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, events, 1)
	var created domain.APIKeyCreated
	require.NoError(t, json.Unmarshal(events[0].Data, &created))
	assert.Equal(t, auth.HashAPIKey(k.Key), created.KeyHash)
	assert.Equal(t, k.Key[:auth.APIKeyPrefixLength], created.KeyPrefix)
	assert.NotContains(t, string(events[0].Data), k.Key, "the key itself is never recorded")

	for _, cmd := range []commands.RevokeAPIKey{{Caller: bob, KeyID: k.ID}, {Caller: alice, KeyID: uuid.New()}} {
		_, err = h.RevokeAPIKey(ctx, cmd)
		assert.ErrorIs(t, err, domain.ErrRefused)
		assert.Equal(t, "API Key not found", domainMsg(err))
	}
	_, err = h.RevokeAPIKey(ctx, commands.RevokeAPIKey{Caller: alice, KeyID: k.ID})
	require.NoError(t, err)
	_, err = h.RevokeAPIKey(ctx, commands.RevokeAPIKey{Caller: alice, KeyID: k.ID})
	assert.ErrorIs(t, err, domain.ErrRefused, "revoked once")
	assert.Equal(t, before+2, countEvents(t, store))

	all, err := store.ReadAll(ctx, eventstore.Position{}, 1000)
	require.NoError(t, err)
	for _, e := range all {
		assert.NotContains(t, string(e.Data), "-secret-", "only hashes are recorded")
	}
}

// Auto login (SKILLFLAW_AUTO_LOGIN): off, it is refused; on, it signs in
// the account holding SKILLFLAW_SUPERUSER's name, else the first active
// superuser, else 400; an account that may not log in is 400. Concurrent
// auto logins all land (a hot account decides again). Logout ends every
// session (a new token generation); with no account named it records
// nothing. The bootstrap superuser is created once.
func TestIdentityHandler_InMemoryAutoLoginAndLogout(t *testing.T) {
	t.Parallel()
	h, store, su := identityHandler(t, config.Config{Superuser: "admin"})
	ctx := context.Background()

	_, err := h.AutoLogin(ctx, commands.AutoLogin{})
	assert.ErrorIs(t, err, commands.ErrAutoLoginDisabled)
	h.Config.AutoLogin = true
	_, err = h.AutoLogin(ctx, commands.AutoLogin{})
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.Equal(t, "Super user hasn't been created", domainMsg(err))

	other := register(t, h, "other", pwRoot, true)
	su.first.Store(other)
	res, err := h.AutoLogin(ctx, commands.AutoLogin{})
	require.NoError(t, err)
	assert.Equal(t, other, res.UserID, "no account holds SKILLFLAW_SUPERUSER's name: the first superuser")

	created, err := commands.EnsureSuperuser(ctx, h.Repo, h.IDs, h.Passwords, "admin", pwRoot)
	require.NoError(t, err)
	assert.True(t, created)
	created, err = commands.EnsureSuperuser(ctx, h.Repo, h.IDs, h.Passwords, "ADMIN", pwRoot)
	require.NoError(t, err)
	assert.False(t, created, "an account holds the name already")
	admin, err := commands.UserIDByName(ctx, h.Repo, "admin")
	require.NoError(t, err)
	before := countEvents(t, store)

	var wg sync.WaitGroup
	results := make([]commands.AutoLoginResult, 8)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = h.AutoLogin(ctx, commands.AutoLogin{}) })
	}
	wg.Wait()
	positions := map[eventstore.Position]bool{}
	for i := range results {
		require.NoError(t, errs[i], "every concurrent auto login lands")
		assert.Equal(t, admin, results[i].UserID, "the account holding SKILLFLAW_SUPERUSER's name")
		positions[results[i].Position] = true
	}
	assert.Len(t, positions, len(results), "one login event each")
	assert.Equal(t, before+len(results), countEvents(t, store))

	gen := loadUser(t, h, admin).TokenGeneration()
	pos, err := h.Logout(ctx, commands.Logout{UserID: admin})
	require.NoError(t, err)
	assert.False(t, pos.IsZero())
	assert.Equal(t, gen+1, loadUser(t, h, admin).TokenGeneration(), "every session ended")
	pos, err = h.Logout(ctx, commands.Logout{})
	require.NoError(t, err)
	assert.True(t, pos.IsZero(), "nobody named: nothing recorded")
	assert.Equal(t, before+len(results)+1, countEvents(t, store))

	su.others.Store(1)
	_, err = h.Change(ctx, commands.ChangeUser{Caller: auth.Principal{UserID: other, IsSuperuser: true}, UserID: admin,
		Change: commands.UserChange{IsActive: ptr(false)}})
	require.NoError(t, err)
	_, err = h.AutoLogin(ctx, commands.AutoLogin{})
	assert.ErrorIs(t, err, domain.ErrRefused, "an account that may not log in")
	assert.True(t, strings.HasPrefix(domainMsg(err), "Super user"))
	assert.Equal(t, before+len(results)+2, countEvents(t, store))
}
