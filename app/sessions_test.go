package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const msgThrottled = "Too many failed logins. Try again later."

// A new password, chosen or reset, ends every session of the account:
// each access and refresh token issued before is refused. The browser
// that changed its own password gets a new session in its cookies.
func TestSessions_PasswordChangeEndsEverySession(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, nil)
	admin := s.admin(t)
	id := idOf(t, s.signUp(t, "ann", "ann-password-1"))
	laptop := s.login(t, "ann", "ann-password-1")
	phone := s.login(t, "ann", "ann-password-1")

	r := s.do(t, http.MethodPatch, userPath(id), map[string]any{"password": "ann-password-2"}, bearer(laptop.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.requireRevoked(t, laptop, "the session that changed the password")
	s.requireRevoked(t, phone, "another session")
	access, refresh := r.cookie("access_token_lf"), r.cookie("refresh_token_lf")
	require.NotNil(t, access, "a new session in the cookies")
	require.NotNil(t, refresh, "a new session in the cookies")
	s.requireSignedIn(t, access.Value, "ann", "the renewed session")
	pairOf(t, s.refreshWith(t, refresh.Value))

	tk := s.login(t, "ann", "ann-password-2")
	r = s.do(t, http.MethodPatch, userPath(id)+"/reset-password", map[string]any{"password": "ann-password-3"}, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.requireRevoked(t, tk, "her own reset")

	tk = s.login(t, "ann", "ann-password-3")
	r = s.do(t, http.MethodPatch, userPath(id)+"/reset-password", map[string]any{"password": "ann-password-4"}, bearer(admin))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Nil(t, r.cookie("access_token_lf"), "another's password renews nobody's session")
	s.requireRevoked(t, tk, "a reset by a superuser")
	s.requireSignedIn(t, admin, idAdmin, "the superuser's own session goes on")
	s.login(t, "ann", "ann-password-4")
}

// Losing the superuser role ends the account's sessions, and so do a lock
// and a deactivation, for good: lifting them revives no token. Other
// changes of the account keep its sessions.
func TestSessions_DemotionLockAndDeactivationEndSessions(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, nil)
	admin := s.admin(t)
	id := s.addUser(t, admin, "bob", "bob-password")
	patch := func(body map[string]any) {
		t.Helper()
		r := s.do(t, http.MethodPatch, userPath(id), body, bearer(admin))
		require.Equal(t, http.StatusOK, r.status, "%v: %s", body, r.raw)
	}

	patch(map[string]any{"is_superuser": true})
	bob := s.login(t, "bob", "bob-password")
	require.Equal(t, http.StatusOK, s.call(t, http.MethodGet, "/api/v1/users/", nil, bob.access).status)
	patch(map[string]any{"is_superuser": false})
	s.requireRevoked(t, bob, "demoted")
	bob = s.login(t, "bob", "bob-password")
	requireForbidden(t, s.call(t, http.MethodGet, "/api/v1/users/", nil, bob.access))

	for _, flag := range []struct {
		name        string
		set, unset  any
		whileActive string
	}{
		{"is_locked", true, false, "User is locked."},
		{"is_active", false, true, "User not found or is inactive."},
	} {
		tk := s.login(t, "bob", "bob-password")
		patch(map[string]any{flag.name: flag.set})
		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(tk.access)), http.StatusUnauthorized, flag.whileActive, flag.name)
		patch(map[string]any{flag.name: flag.unset})
		s.requireRevoked(t, tk, "after %s was set and unset", flag.name)
		s.login(t, "bob", "bob-password")
	}

	tk := s.login(t, "bob", "bob-password")
	patch(map[string]any{"nickname": "Bobby", "is_superuser": true, "is_sso": true})
	s.requireSignedIn(t, tk.access, "bob", "a profile change or a grant keeps the sessions")
	pairOf(t, s.refreshWith(t, tk.refresh))
}

// Logout ends every session of the account, whichever of its credentials
// it comes with, and records it; without valid credentials it only clears
// the cookies.
func TestSessions_LogoutEndsEverySession(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, nil)
	id := idOf(t, s.signUp(t, "cy", "cy-password"))
	logouts := func() int {
		t.Helper()
		n := s.textRows(t, `SELECT count(*)::text FROM events WHERE stream_id = $1 AND event_type = 'user.sessions_revoked'`,
			fmt.Sprintf("user-%d", id))
		v, err := strconv.Atoi(n[0])
		require.NoError(t, err)
		return v
	}
	logout := func(header http.Header) reply {
		t.Helper()
		r := s.do(t, http.MethodPost, "/api/v1/logout", nil, header)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, map[string]any{"message": "Logout successful"}, r.body)
		return r
	}

	browser := s.login(t, "cy", "cy-password")
	script := s.login(t, "cy", "cy-password")
	r := logout(http.Header{"Cookie": {"access_token_lf=" + browser.access}})
	assert.Equal(t, fmt.Sprintf("user.sessions_revoked %d", id), s.lastEvent(t, id), "an event of the account, by its holder")
	s.requireRevoked(t, browser, "the session that logged out")
	s.requireRevoked(t, script, "another session")
	setCookies := r.res.Header.Values("Set-Cookie")
	for _, want := range []string{"refresh_token_lf=; Path=/api/v1/refresh;", "refresh_token_lf=; Path=/;", "access_token_lf=; Path=/;",
		"apikey_tkn_lflw=; Path=/;"} {
		assert.True(t, slices.ContainsFunc(setCookies, func(c string) bool {
			return strings.HasPrefix(c, want) && strings.Contains(c, "Max-Age=0")
		}), "logout clears %s: %v", want, setCookies)
	}

	logout(bearer(browser.access))
	logout(nil)
	assert.Equal(t, 1, logouts(), "revoked or no credentials: nothing to end")

	// A client whose access token is gone logs out with its refresh token;
	// an API key's holder logs its account out too.
	tk := s.login(t, "cy", "cy-password")
	logout(http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	s.requireRevoked(t, tk, "logged out by its refresh token")
	tk = s.login(t, "cy", "cy-password")
	r = s.do(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	logout(http.Header{"X-Api-Key": {r.obj(t)["api_key"].(string)}})
	s.requireRevoked(t, tk, "logged out by an API key")
	assert.Equal(t, 3, logouts())
	s.login(t, "cy", "cy-password")
}

// Each refresh spends its token and hands out the next; a spent token
// presented again revokes its whole login: the legitimate holder's newest
// tokens stop working too. Other logins of the account go on.
func TestSessions_RefreshRotatesAndReuseEndsTheLogin(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, nil)
	s.signUp(t, "dee", "dee-password")
	first := s.login(t, "dee", "dee-password")
	other := s.login(t, "dee", "dee-password")

	second := pairOf(t, s.refreshWith(t, first.refresh))
	assert.NotEqual(t, first.refresh, second.refresh)
	cookie := second.reply.cookie("refresh_token_lf")
	require.NotNil(t, cookie)
	assert.Equal(t, second.refresh, cookie.Value)
	assert.Equal(t, "/api/v1/refresh", cookie.Path)
	third := pairOf(t, s.refreshWith(t, second.refresh))
	s.requireSignedIn(t, third.access, "dee")
	s.requireSignedIn(t, first.access, "dee", "access tokens of a live login stay valid until they expire")

	// Only a hash of the newest refresh token's id is kept.
	jti, _ := claimsOf(t, third.refresh)["jti"].(string)
	require.NotEmpty(t, jti)
	sum := sha256.Sum256([]byte(jti))
	stored := s.textRows(t, `SELECT current_hash FROM refresh_families`)
	assert.Contains(t, stored, hex.EncodeToString(sum[:]))
	for _, h := range stored {
		assert.NotContains(t, []string{jti, third.refresh, second.refresh, first.refresh}, h)
	}

	// The first token again (a stolen copy): refused, and the login ends.
	requireDetail(t, s.refreshWith(t, first.refresh), http.StatusUnauthorized, "Invalid refresh token")
	s.requireRevoked(t, third, "the newest tokens of the login")
	requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(first.access)), http.StatusUnauthorized, "Token has been revoked.")
	requireDetail(t, s.refreshWith(t, second.refresh), http.StatusUnauthorized, "Invalid refresh token")

	s.requireSignedIn(t, other.access, "dee", "another login is untouched")
	pairOf(t, s.refreshWith(t, other.refresh))
}

// Two refreshes with one token at the same moment: one wins, the other is
// a reuse, which ends the login, the winner's new tokens included.
func TestSessions_ConcurrentRefreshesOneWins(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, nil)
	s.signUp(t, "eve", "eve-password")
	tk := s.login(t, "eve", "eve-password")
	const n = 8
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		replies = make([]reply, n)
		errs    = make([]error, n)
	)
	for i := range n {
		req := s.request(t, http.MethodPost, "/api/v1/refresh", nil, "", http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
		wg.Go(func() {
			<-start
			replies[i], errs[i] = exchange(req)
		})
	}
	close(start)
	wg.Wait()
	var won []tokens
	for i, r := range replies {
		require.NoError(t, errs[i])
		if r.status == http.StatusOK {
			won = append(won, pairOf(t, r))
			continue
		}
		requireDetail(t, r, http.StatusUnauthorized, "Invalid refresh token")
	}
	require.Len(t, won, 1, "exactly one refresh wins")
	s.requireRevoked(t, won[0], "the winner's tokens, after the others reused the token")
	s.requireRevoked(t, tk, "the login's first tokens")
}

// A session ends SKILLFLAW_SESSION_MAX_LIFETIME after its login, however
// often it is refreshed: no token of it is valid past that.
func TestSessions_AbsoluteLifetime(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	s := startSessions(t, clock, map[string]string{"SKILLFLAW_SESSION_MAX_LIFETIME": "3h"})
	s.signUp(t, "fay", "fay-password")
	start := clock.Now()
	end := start.Add(3 * time.Hour)
	tk := s.login(t, "fay", "fay-password")
	assert.Equal(t, start.Add(time.Hour), expiry(t, tk.access))
	assert.Equal(t, end, expiry(t, tk.refresh), "the refresh token ends with the session, not in 7 days")

	for range 3 {
		clock.Advance(55 * time.Minute)
		tk = pairOf(t, s.refreshWith(t, tk.refresh))
		s.requireSignedIn(t, tk.access, "fay")
		assert.Equal(t, end, expiry(t, tk.refresh))
	}
	assert.Equal(t, end, expiry(t, tk.access), "the last access token ends with the session too")

	clock.Advance(end.Sub(clock.Now()) + time.Minute)
	requireDetail(t, s.refreshWith(t, tk.refresh), http.StatusUnauthorized, "Invalid refresh token")
	requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(tk.access)), http.StatusUnauthorized, "Token has expired.")
	tk = s.login(t, "fay", "fay-password")
	assert.Equal(t, clock.Now().Add(3*time.Hour), expiry(t, tk.refresh), "a new login, a new session")
}

// Tokens issued before generations and families existed: an access token
// without "gen" is of generation 0 (valid until the account's sessions
// are first ended); a refresh token without a family cannot rotate and is
// refused (its holder logs in again).
func TestSessions_TokensWithoutTheNewClaims(t *testing.T) {
	t.Parallel()
	const secret = "sessions-test-secret-0123456789-abcdefgh"
	s := startSessions(t, nil, map[string]string{"SKILLFLAW_SECRET_KEY": secret})
	id := idOf(t, s.signUp(t, "gus", "gus-password"))
	claims := func(typ string) jwt.MapClaims {
		return jwt.MapClaims{"sub": strconv.FormatInt(id, 10), "type": typ, "exp": time.Now().Add(time.Hour).Unix()}
	}
	oldAccess, oldRefresh := signToken(t, secret, claims("access")), signToken(t, secret, claims("refresh"))

	s.requireSignedIn(t, oldAccess, "gus", "generation 0, as the account's")
	requireDetail(t, s.refreshWith(t, oldRefresh), http.StatusUnauthorized, "Invalid refresh token")
	tk := s.login(t, "gus", "gus-password")
	require.Equal(t, http.StatusOK, s.do(t, http.MethodPost, "/api/v1/logout", nil, bearer(tk.access)).status)
	requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(oldAccess)), http.StatusUnauthorized, "Token has been revoked.")
}

// Failed logins lock a client address out of an account for a while, the
// lockout doubling with each further failure up to a cap; other addresses
// and the account's open sessions are not affected, the account is never
// locked, and what is refused is not recorded.
func TestLogin_ThrottleBacksOffPerAddress(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	s := startSessions(t, clock, map[string]string{
		"SKILLFLAW_MAX_LOGIN_ATTEMPTS": "3", "SKILLFLAW_LOGIN_LOCKOUT": "1m", "SKILLFLAW_LOGIN_LOCKOUT_MAX": "4m",
	})
	admin := s.admin(t)
	id := s.addUser(t, admin, "hal", "hal-password")
	session := s.login(t, "hal", "hal-password")
	const stranger, owner = "203.0.113.9", "198.51.100.7"
	wrong := func(r reply, msgAndArgs ...any) {
		t.Helper()
		requireDetail(t, r, http.StatusUnauthorized, "Incorrect username or password", msgAndArgs...)
	}
	refused := func(r reply, retryAfter time.Duration, msgAndArgs ...any) {
		t.Helper()
		requireDetail(t, r, http.StatusTooManyRequests, msgThrottled, msgAndArgs...)
		assert.Equal(t, strconv.Itoa(int(retryAfter.Seconds())), r.header.Get("Retry-After"), msgAndArgs...)
	}

	for i := range 3 {
		wrong(s.loginFrom(t, stranger, "hal", fmt.Sprintf("guess-%d", i)), "failure %d", i+1)
	}
	refused(s.loginFrom(t, stranger, "HAL", "hal-password"), time.Minute, "even the right password, in any case")
	pairOf(t, s.loginFrom(t, owner, "hal", "hal-password"))
	s.requireSignedIn(t, session.access, "hal", "an open session goes on")
	session = pairOf(t, s.refreshWith(t, session.refresh))
	r := s.call(t, http.MethodGet, "/api/v1/users/?is_locked=true", nil, admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(0), r.obj(t)["total_count"], "failed logins lock no account")

	lockout := time.Minute
	for _, next := range []time.Duration{2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		clock.Advance(lockout - time.Second)
		refused(s.loginFrom(t, stranger, "hal", "guess"), time.Second)
		clock.Advance(time.Second)
		wrong(s.loginFrom(t, stranger, "hal", "another-guess"), "answered when the lockout ends")
		refused(s.loginFrom(t, stranger, "hal", "hal-password"), next, "a failure after a lockout doubles the next")
		lockout = next
	}
	clock.Advance(lockout)
	pairOf(t, s.loginFrom(t, stranger, "hal", "hal-password"))
	for range 2 {
		wrong(s.loginFrom(t, stranger, "hal", "guess"))
	}
	pairOf(t, s.loginFrom(t, stranger, "hal", "hal-password")) // a success started the count again

	failed := s.textRows(t, `SELECT count(*)::text FROM events WHERE stream_id = $1 AND event_type = 'user.login_failed'`,
		fmt.Sprintf("user-%d", id))
	assert.Equal(t, []string{"8"}, failed, "answered failures are recorded, refused attempts are not")
	s.requireSignedIn(t, session.access, "hal")
}

// A name nobody holds is throttled like a real one: the answers do not
// tell whether an account exists.
func TestLogin_ThrottleTreatsUnknownNamesAlike(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, map[string]string{"SKILLFLAW_MAX_LOGIN_ATTEMPTS": "2"})
	s.signUp(t, "ida", "ida-password")
	for _, name := range []string{"ida", "nobody-here"} {
		for range 2 {
			requireDetail(t, s.loginFrom(t, "203.0.113.20", name, "guess"), http.StatusUnauthorized, "Incorrect username or password", name)
		}
		r := s.loginFrom(t, "203.0.113.20", name, "guess")
		requireDetail(t, r, http.StatusTooManyRequests, msgThrottled, name)
		assert.Equal(t, "60", r.header.Get("Retry-After"), name)
	}
}

// Strangers' failed logins never lock the last superuser out (nor anyone
// else), and its administrative lock is refused.
func TestLogin_ThrottleNeverLocksOutTheLastSuperuser(t *testing.T) {
	t.Parallel()
	s := startSessions(t, nil, map[string]string{"SKILLFLAW_MAX_LOGIN_ATTEMPTS": "2"})
	admin := s.admin(t)
	me := s.call(t, http.MethodGet, whoami, nil, admin)
	require.Equal(t, http.StatusOK, me.status, me.raw)
	adminID := idOf(t, me.obj(t))

	for range 10 {
		s.loginFrom(t, "203.0.113.66", idAdmin, "wrong-password")
	}
	s.requireSignedIn(t, admin, idAdmin, "the superuser's session goes on")
	pairOf(t, s.loginFrom(t, "198.51.100.1", idAdmin, idAdminPassword))

	r := s.call(t, http.MethodPatch, userPath(adminID), map[string]any{"is_locked": true}, admin)
	require.Equal(t, http.StatusConflict, r.status, r.raw)
	s.requireSignedIn(t, admin, idAdmin)
	pairOf(t, s.loginFrom(t, "198.51.100.1", idAdmin, idAdminPassword))
}
