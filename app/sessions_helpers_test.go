package app_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// testClock is a clock a test moves on by hand (expiry and back-off
// without sleeping).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().UTC().Truncate(time.Second)} }

// Now is the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startSessions serves the Identity module on clock (nil: the real one)
// with the idAdmin superuser, sign-ups active at once, and the loopback
// trusted as a proxy, so that requests choose their client address with
// X-Forwarded-For (see from); env comes on top.
func startSessions(t *testing.T, clock *testClock, env map[string]string) *idServer {
	t.Helper()
	o := options{env: map[string]string{
		"SKILLFLAW_SUPERUSER": idAdmin, "SKILLFLAW_SUPERUSER_PASSWORD": idAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true", "SKILLFLAW_TRUSTED_PROXIES": "127.0.0.1",
	}}
	maps.Copy(o.env, env)
	module := &app.Identity{}
	if clock != nil {
		module.Clock = clock.Now
	}
	o.modules = []app.Module{module}
	return &idServer{startApp(t, o)}
}

// from is the header of a request from client address addr.
func from(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// loginFrom posts the login form from client address addr.
func (s *idServer) loginFrom(t *testing.T, addr, username, password string) reply {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	return s.send(t, http.MethodPost, "/api/v1/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", from(addr))
}

// refreshWith posts to /api/v1/refresh with the refresh cookie token.
func (s *idServer) refreshWith(t *testing.T, token string) reply {
	t.Helper()
	return s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + token}})
}

// pairOf reads the access and refresh tokens of a login or refresh answer.
func pairOf(t *testing.T, r reply) tokens {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	access, _ := r.obj(t)["access_token"].(string)
	refresh, _ := r.obj(t)["refresh_token"].(string)
	require.NotEmpty(t, access, r.raw)
	require.NotEmpty(t, refresh, r.raw)
	return tokens{access: access, refresh: refresh, reply: r}
}

// requireSignedIn checks that access works as username's token.
func (s *idServer) requireSignedIn(t *testing.T, access, username string, msgAndArgs ...any) {
	t.Helper()
	r := s.do(t, http.MethodGet, whoami, nil, bearer(access))
	require.Equal(t, http.StatusOK, r.status, append([]any{r.raw}, msgAndArgs...)...)
	require.Equal(t, username, r.obj(t)["username"], msgAndArgs...)
}

// requireRevoked checks that neither token of tk works any more.
func (s *idServer) requireRevoked(t *testing.T, tk tokens, msgAndArgs ...any) {
	t.Helper()
	requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(tk.access)), http.StatusUnauthorized, "Token has been revoked.",
		append([]any{"access token"}, msgAndArgs...)...)
	requireDetail(t, s.refreshWith(t, tk.refresh), http.StatusUnauthorized, "Invalid refresh token",
		append([]any{"refresh token"}, msgAndArgs...)...)
}

// claimsOf reads a token's claims without checking it.
func claimsOf(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, claims)
	require.NoError(t, err)
	return claims
}

// expiry is a token's exp.
func expiry(t *testing.T, token string) time.Time {
	t.Helper()
	exp, err := claimsOf(t, token).GetExpirationTime()
	require.NoError(t, err)
	return exp.UTC()
}

// lastEvent is "type actor" of the newest event of user id's stream.
func (s *idServer) lastEvent(t *testing.T, id int64) string {
	t.Helper()
	rows := s.textRows(t, `SELECT event_type || ' ' || coalesce(metadata->>'actor_user_id', '0') FROM events
WHERE stream_id = $1 ORDER BY global_position DESC LIMIT 1`, fmt.Sprintf("user-%d", id))
	require.Len(t, rows, 1)
	return rows[0]
}
