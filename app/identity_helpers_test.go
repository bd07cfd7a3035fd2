package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The superuser every identity test server bootstraps (unless the test's
// env overrides SKILLFLAW_SUPERUSER).
const (
	idAdmin         = "admin"
	idAdminPassword = "admin-password-1"
)

// idServer is an App with the Identity module serving on a real listener.
type idServer struct {
	app      *app.App
	base     string
	dbURL    string
	stopOnce sync.Once
	stopFn   func()
}

// idOptions tune startIdentity.
type idOptions struct {
	// dbURL reuses a database (restart tests); empty: a fresh one.
	dbURL string
	// logger receives the app's logs; nil discards them.
	logger *slog.Logger
	// beforeBootstrap runs between app.Open and Bootstrap (to write events
	// the projections must fold before the superuser's).
	beforeBootstrap func(t *testing.T, a *app.App)
	// noCatchUp returns as soon as the server answers, without waiting for
	// the users read model to fold what was written before serving.
	noCatchUp bool
}

// startIdentity builds the config from env (on top of the test defaults: a
// fresh database, bcrypt cost 4, the idAdmin superuser), opens the App with
// the Identity module, bootstraps it, serves it on 127.0.0.1:0 and stops it
// when the test ends (or earlier, with stop).
func startIdentity(t *testing.T, env map[string]string, opts ...idOptions) *idServer {
	t.Helper()
	var o idOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.dbURL == "" {
		o.dbURL = testkit.DatabaseURL(t)
	}
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       o.dbURL,
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          idAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": idAdminPassword,
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	log := o.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, log, &app.Identity{})
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	serving := false
	t.Cleanup(func() { // only when a step before serving failed
		if !serving {
			cancel()
			a.Close()
		}
	})
	if o.beforeBootstrap != nil {
		o.beforeBootstrap(t, a)
	}
	require.NoError(t, a.Bootstrap(ctx))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	serving = true
	go func() { done <- a.Serve(ctx, ln) }()
	s := &idServer{app: a, base: "http://" + ln.Addr().String(), dbURL: o.dbURL}
	s.stopFn = func() {
		cancel()
		assert.NoError(t, <-done, "graceful shutdown")
		a.Close()
	}
	t.Cleanup(s.stop)
	require.Eventually(t, func() bool {
		res, err := http.Get(s.base + "/health_check")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 5*time.Millisecond)
	if !o.noCatchUp {
		// The bootstrap wrote the superuser before the projections ran;
		// tokens are checked against the read model, so wait for it to
		// fold everything written so far (see TestIdentity_LoginTokenUsableAtOnce).
		store := postgres.New(a.Pool(), postgres.Options{})
		head, err := store.Head(ctx)
		store.Close()
		require.NoError(t, err)
		waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
		defer cancelWait()
		require.NoError(t, a.Runtime().WaitFor(waitCtx, head, "users"), "users read model catches up")
	}
	return s
}

// stop shuts the server down and closes the App (idempotent).
func (s *idServer) stop() { s.stopOnce.Do(s.stopFn) }

// reply is one answer: status, decoded JSON body (nil when empty), the
// raw body and the response (its body already read).
type reply struct {
	status int
	body   any
	raw    string
	res    *http.Response
}

// obj returns the body as a JSON object (fails the test if it is not one).
func (r reply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

// detail returns body["detail"].
func (r reply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

// cookie returns the Set-Cookie of name (nil if absent).
func (r reply) cookie(name string) *http.Cookie {
	for _, c := range r.res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// bearer is an Authorization header for token.
func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// request builds a request of s with body as the raw request body (with
// its content type).
func (s *idServer) request(t *testing.T, method, path string, body io.Reader, contentType string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

// jsonRequest builds a request with jsonBody (nil: no body) as JSON.
func (s *idServer) jsonRequest(t *testing.T, method, path string, jsonBody any, header http.Header) *http.Request {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.request(t, method, path, r, "application/json", header)
}

// loginRequest builds the OAuth2 password form post.
func (s *idServer) loginRequest(t *testing.T, username, password string) *http.Request {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	return s.request(t, http.MethodPost, "/api/v1/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil)
}

// exchange sends req and decodes the answer; it never fails the test, so
// that other goroutines may call it.
func exchange(req *http.Request) (reply, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	out := reply{status: res.StatusCode, raw: string(raw), res: res}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			return out, fmt.Errorf("%s %s: %w: %s", req.Method, req.URL.Path, err, raw)
		}
	}
	return out, nil
}

// send sends a request with body as the raw request body (with its
// content type) and decodes the answer.
func (s *idServer) send(t *testing.T, method, path string, body io.Reader, contentType string, header http.Header) reply {
	t.Helper()
	out, err := exchange(s.request(t, method, path, body, contentType, header))
	require.NoError(t, err)
	return out
}

// do sends jsonBody (nil: no body) as JSON.
func (s *idServer) do(t *testing.T, method, path string, jsonBody any, header http.Header) reply {
	t.Helper()
	out, err := exchange(s.jsonRequest(t, method, path, jsonBody, header))
	require.NoError(t, err)
	return out
}

// tokens is a successful login's answer.
type tokens struct {
	access, refresh string
	reply           reply
}

// loginReply posts the OAuth2 password form.
func (s *idServer) loginReply(t *testing.T, username, password string) reply {
	t.Helper()
	out, err := exchange(s.loginRequest(t, username, password))
	require.NoError(t, err)
	return out
}

// login logs in and requires success.
func (s *idServer) login(t *testing.T, username, password string) tokens {
	t.Helper()
	r := s.loginReply(t, username, password)
	require.Equal(t, http.StatusOK, r.status, "login %s: %s", username, r.raw)
	m := r.obj(t)
	access, _ := m["access_token"].(string)
	refresh, _ := m["refresh_token"].(string)
	require.NotEmpty(t, access, r.raw)
	return tokens{access: access, refresh: refresh, reply: r}
}

// admin logs the bootstrap superuser in and returns its access token.
func (s *idServer) admin(t *testing.T) string {
	t.Helper()
	return s.login(t, idAdmin, idAdminPassword).access
}

// signUp adds a user anonymously and requires 201; it returns the row.
func (s *idServer) signUp(t *testing.T, username, password string) map[string]any {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "password": password}, nil)
	require.Equal(t, http.StatusCreated, r.status, "sign up %s: %s", username, r.raw)
	return r.obj(t)
}

// addUser adds a user as the superuser adminToken, then makes it active
// (whatever SKILLFLAW_NEW_USER_IS_ACTIVE says); it returns the user's id.
func (s *idServer) addUser(t *testing.T, adminToken, username, password string) int64 {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "password": password}, bearer(adminToken))
	require.Equal(t, http.StatusCreated, r.status, "add %s: %s", username, r.raw)
	id := idOf(t, r.obj(t))
	if r.obj(t)["is_active"] != true {
		p := s.do(t, http.MethodPatch, userPath(id), map[string]any{"is_active": true}, bearer(adminToken))
		require.Equal(t, http.StatusOK, p.status, p.raw)
		require.Equal(t, true, p.obj(t)["is_active"])
	}
	return id
}

// idOf reads the integer "id" of a user row.
func idOf(t *testing.T, row map[string]any) int64 {
	t.Helper()
	f, ok := row["id"].(float64)
	require.True(t, ok, "no integer id in %v", row)
	return int64(f)
}

func userPath(id int64) string { return fmt.Sprintf("/api/v1/users/%d", id) }

// requireDetail checks an answer's status and {"detail": want}.
func requireDetail(t *testing.T, r reply, status int, want any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, append([]any{r.raw}, msgAndArgs...)...)
	require.Equal(t, want, r.detail(), append([]any{r.raw}, msgAndArgs...)...)
}
