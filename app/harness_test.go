package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// The shared test harness: an App on a real listener (startApp), requests
// and their answers (reply), and the sign-up and login every suite needs.

// options tune startApp.
type options struct {
	// env is added to the test defaults: a fresh database (or dbURL), a
	// temporary HOME and bcrypt cost 4.
	env map[string]string
	// modules are the App's modules (app.Identity first when it is one).
	modules []app.Module
	// dbURL reuses a database (restart tests); empty: a fresh one.
	dbURL string
	// logger receives the app's logs; nil discards them.
	logger *slog.Logger
	// beforeBootstrap runs between app.Open and Bootstrap (to write events
	// the projections must fold before the bootstrap's, or tables).
	beforeBootstrap func(t testing.TB, a *app.App)
	// noCatchUp returns as soon as the server answers, without waiting for
	// the read models to fold what was written before serving.
	noCatchUp bool
	// wrap, if not nil, wraps the HTTP handler (the benchmarks time
	// requests with it).
	wrap func(http.Handler) http.Handler
}

// harness is an App serving on a real listener until the test ends (or
// stop).
type harness struct {
	app      *app.App
	base     string
	dbURL    string
	stopOnce sync.Once
	stopFn   func()
}

// startApp builds the config from the test defaults and o.env, opens the
// App with o.modules, bootstraps it, serves it on 127.0.0.1:0 and, unless
// o.noCatchUp, waits until every read model folded what was written so far
// (the bootstrap's superuser: tokens are checked against the users read
// model). It stops the App when the test ends.
func startApp(t testing.TB, o options) *harness {
	t.Helper()
	if o.dbURL == "" {
		o.dbURL = testkit.DatabaseURL(t)
	}
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       o.dbURL,
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
	}
	maps.Copy(vars, o.env)
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	log := o.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, log, o.modules...)
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
	appLn, wrapped := ln, (*http.Server)(nil)
	if o.wrap != nil {
		// The projections run under a.Serve on a listener nobody calls;
		// requests go to the same handler, wrapped, on ln.
		h, err := a.Handler()
		require.NoError(t, err)
		appLn, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		wrapped = &http.Server{Handler: o.wrap(h), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = wrapped.Serve(ln) }()
	}
	done := make(chan error, 1)
	serving = true
	go func() {
		err := a.Serve(ctx, appLn)
		if wrapped != nil {
			_ = wrapped.Close()
		}
		done <- err
	}()
	s := &harness{app: a, base: "http://" + ln.Addr().String(), dbURL: o.dbURL}
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
		waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
		defer cancelWait()
		require.NoError(t, a.Runtime().WaitFor(waitCtx, s.head(t)), "read models catch up with the bootstrap")
	}
	return s
}

// adminEnv is the env of a bootstrapped superuser name (with password)
// and of sign-ups that are active at once.
func adminEnv(name, password string) map[string]string {
	return map[string]string{
		"SKILLFLAW_SUPERUSER":          name,
		"SKILLFLAW_SUPERUSER_PASSWORD": password,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
}

// stop shuts the server down and closes the App (idempotent).
func (s *harness) stop() { s.stopOnce.Do(s.stopFn) }

// head is the position of the last event in the log.
func (s *harness) head(t testing.TB) eventstore.Position {
	t.Helper()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	defer store.Close()
	head, err := store.Head(context.Background())
	require.NoError(t, err)
	return head
}

// reply is one answer: status, headers, the raw body, the body decoded
// when it is JSON (nil otherwise) and the response (its body already read).
type reply struct {
	status int
	header http.Header
	raw    string
	body   any
	res    *http.Response
}

// obj returns the body as a JSON object (fails the test if it is not one).
func (r reply) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

// list returns the body as a JSON array.
func (r reply) list(t testing.TB) []any {
	t.Helper()
	items, ok := r.body.([]any)
	require.True(t, ok, "body is not an array: %s", r.raw)
	return items
}

// objects returns the body as a JSON array of objects.
func (r reply) objects(t testing.TB) []map[string]any {
	t.Helper()
	items := r.list(t)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		require.True(t, ok, "item %d is not an object: %s", i, r.raw)
		out[i] = m
	}
	return out
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

// requireDetail checks an answer's status and {"detail": want}.
func requireDetail(t testing.TB, r reply, status int, want any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, append([]any{r.raw}, msgAndArgs...)...)
	require.Equal(t, want, r.detail(), append([]any{r.raw}, msgAndArgs...)...)
}

// textRows returns every row of query (one text column) in order, for
// comparisons of whole read models (a rebuild gives the same rows).
func (s *harness) textRows(t testing.TB, query string, args ...any) []string {
	t.Helper()
	rows, err := s.app.Pool().Query(context.Background(), query, args...)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// grantRole grants role in tenant to user uid as admin (a superuser's
// token): POST /api/v1/tenants/user-roles. The App needs the Permissions
// and TenantGrants modules; the grant holds on the next request.
func (s *harness) grantRole(t testing.TB, admin string, tenant any, uid int64, role string) {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": tenant, "uid": uid, "role_id": role}, admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
}

// requireForbidden checks an answer is the 403 of a missing privilege:
// Langflow's "The user doesn't have enough privileges", possibly followed
// by what is missing.
func requireForbidden(t testing.TB, r reply, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.status, append([]any{r.raw}, msgAndArgs...)...)
	detail, _ := r.detail().(string)
	require.True(t, strings.HasPrefix(detail, "The user doesn't have enough privileges"), append([]any{r.raw}, msgAndArgs...)...)
}

// bearer is an Authorization header for token.
func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// withToken is bearer(token), or no header for "" (anonymous).
func withToken(token string) http.Header {
	if token == "" {
		return nil
	}
	return bearer(token)
}

// request builds a request of s with body as the raw request body (with
// its content type).
func (s *harness) request(t testing.TB, method, path string, body io.Reader, contentType string, header http.Header) *http.Request {
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
func (s *harness) jsonRequest(t testing.TB, method, path string, jsonBody any, header http.Header) *http.Request {
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
func (s *harness) loginRequest(t testing.TB, username, password string) *http.Request {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	return s.request(t, http.MethodPost, "/api/v1/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil)
}

// exchange sends req and decodes the answer (a JSON body that does not
// decode is an error); it never fails the test, so that other goroutines
// may call it.
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
	out := reply{status: res.StatusCode, header: res.Header, raw: string(raw), res: res}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			return out, fmt.Errorf("%s %s: %w: %s", req.Method, req.URL.Path, err, raw)
		}
	}
	return out, nil
}

// send sends a request with body as the raw request body (with its
// content type) and decodes the answer.
func (s *harness) send(t testing.TB, method, path string, body io.Reader, contentType string, header http.Header) reply {
	t.Helper()
	out, err := exchange(s.request(t, method, path, body, contentType, header))
	require.NoError(t, err)
	return out
}

// do sends jsonBody (nil: no body) as JSON.
func (s *harness) do(t testing.TB, method, path string, jsonBody any, header http.Header) reply {
	t.Helper()
	out, err := exchange(s.jsonRequest(t, method, path, jsonBody, header))
	require.NoError(t, err)
	return out
}

// call sends jsonBody (nil: no body) as JSON, as token ("": anonymous).
func (s *harness) call(t testing.TB, method, path string, jsonBody any, token string) reply {
	t.Helper()
	return s.do(t, method, path, jsonBody, withToken(token))
}

// tokens is a successful login's answer.
type tokens struct {
	access, refresh string
	reply           reply
}

// loginReply posts the OAuth2 password form.
func (s *harness) loginReply(t testing.TB, username, password string) reply {
	t.Helper()
	out, err := exchange(s.loginRequest(t, username, password))
	require.NoError(t, err)
	return out
}

// login logs in and requires success.
func (s *harness) login(t testing.TB, username, password string) tokens {
	t.Helper()
	r := s.loginReply(t, username, password)
	require.Equal(t, http.StatusOK, r.status, "login %s: %s", username, r.raw)
	m := r.obj(t)
	access, _ := m["access_token"].(string)
	refresh, _ := m["refresh_token"].(string)
	require.NotEmpty(t, access, r.raw)
	return tokens{access: access, refresh: refresh, reply: r}
}

// caller is a signed-in user.
type caller struct {
	id    int64
	name  string
	token string
}

// signIn logs username in and returns the caller (its id from whoami).
func (s *harness) signIn(t testing.TB, username, password string) caller {
	t.Helper()
	token := s.login(t, username, password).access
	me := s.call(t, http.MethodGet, "/api/v1/users/whoami", nil, token)
	require.Equal(t, http.StatusOK, me.status, me.raw)
	return caller{id: idOf(t, me.obj(t)), name: username, token: token}
}

// signUp adds a user anonymously (with the fields of more too) and
// requires 201; it returns the row.
func (s *harness) signUp(t testing.TB, username, password string, more ...map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"username": username, "password": password}
	for _, m := range more {
		maps.Copy(body, m)
	}
	r := s.do(t, http.MethodPost, "/api/v1/users/", body, nil)
	require.Equal(t, http.StatusCreated, r.status, "sign up %s: %s", username, r.raw)
	return r.obj(t)
}

// newUser signs a user up (see signUp; active at once where
// SKILLFLAW_NEW_USER_IS_ACTIVE is true) and in.
func (s *harness) newUser(t testing.TB, username, password string, more ...map[string]any) caller {
	t.Helper()
	row := s.signUp(t, username, password, more...)
	return caller{id: idOf(t, row), name: username, token: s.login(t, username, password).access}
}

// idOf reads the integer "id" of a user row.
func idOf(t testing.TB, row map[string]any) int64 {
	t.Helper()
	f, ok := row["id"].(float64)
	require.True(t, ok, "no integer id in %v", row)
	return int64(f)
}

// createFlow creates a flow as token and requires 201; it returns the flow.
func (s *harness) createFlow(t testing.TB, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/flows/", body, token)
	require.Equal(t, http.StatusCreated, r.status, "create %v: %s", body, r.raw)
	return r.obj(t)
}

// readFlow reads flow id as token and requires 200.
func (s *harness) readFlow(t testing.TB, token string, id any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, fmt.Sprintf("/api/v1/flows/%v", id), nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.obj(t)
}

// placeIn makes a business and an org in tenant (placeIDs) with fresh
// ids: a place a flow, template or project of tenant may be filed under.
func (s *harness) placeIn(t testing.TB, tenant uuid.UUID, name string) (business, org int64) {
	t.Helper()
	ids := commands.NewSequences(s.app.Pool())
	var err error
	business, err = ids.Next(context.Background(), "business")
	require.NoError(t, err)
	org, err = ids.Next(context.Background(), "org")
	require.NoError(t, err)
	s.placeIDs(t, tenant, name, []int64{business}, []int64{org})
	return business, org
}

// placeIDs makes level-1 businesses and root orgs of tenant with the given
// ids through the command side's repository (an App may lack the
// Businesses and Orgs modules, never their events: the access projection
// reads them), and waits until the access projection knows them. Fixtures
// whose ids are constants take them here (ids the sequences would give
// later are not used in such tests).
func (s *harness) placeIDs(t testing.TB, tenant uuid.UUID, name string, businesses, orgs []int64) {
	t.Helper()
	ctx := context.Background()
	deps := s.app.Deps()
	md := eventstore.Metadata{TenantID: tenant, OccurredAt: time.Now().UTC()}
	tree := domain.LoadBusinessTree(tenant)
	if err := deps.Repository.Load(ctx, tree); !errors.Is(err, domain.ErrNotFound) {
		require.NoError(t, err, "business tree")
	}
	for _, id := range businesses {
		require.NoError(t, tree.Add(id, domain.NewBusiness{Name: fmt.Sprintf("%s business %d", name, id), Level: 1, IsEnable: true}))
	}
	_, err := deps.Repository.Save(ctx, tree, md)
	require.NoError(t, err)
	otree := domain.LoadOrgTree(tenant)
	if err := deps.Repository.Load(ctx, otree); !errors.Is(err, domain.ErrNotFound) {
		require.NoError(t, err, "org tree")
	}
	for _, id := range orgs {
		require.NoError(t, otree.AddOrg(id, domain.NewOrg{OrgName: fmt.Sprintf("%s org %d", name, id), IsEnable: true}))
	}
	res, err := deps.Repository.Save(ctx, otree, md)
	require.NoError(t, err)
	require.NoError(t, deps.Runtime.WaitFor(ctx, res.Last(), projections.AccessName))
}
