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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The superuser every template test server bootstraps.
const (
	tplAdmin         = "tpladmin"
	tplAdminPassword = "tpl-admin-password"
	tplPassword      = "tpl-user-password"
)

// tplServer is an App with Identity, Flows and Templates serving on a
// real listener until the test ends.
type tplServer struct {
	app  *app.App
	base string
}

// tplStart opens a fresh database, bootstraps tplAdmin, serves and waits
// until the read models folded the bootstrap.
func tplStart(t *testing.T) *tplServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          tplAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": tplAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Flows{}, app.Templates{})
	require.NoError(t, err)
	if err := a.Bootstrap(ctx); err != nil {
		a.Close()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "graceful shutdown")
		a.Close()
	})
	s := &tplServer{app: a, base: "http://" + ln.Addr().String()}
	require.Eventually(t, func() bool {
		res, err := http.Get(s.base + "/health_check")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 5*time.Millisecond)
	// The superuser was written before the projectors ran; tokens are
	// checked against the users read model.
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, s.tplHead(t), "users"))
	return s
}

// tplHead is the position of the last event in the log.
func (s *tplServer) tplHead(t *testing.T) eventstore.Position {
	t.Helper()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	defer store.Close()
	head, err := store.Head(context.Background())
	require.NoError(t, err)
	return head
}

// tplReply is one answer.
type tplReply struct {
	status int
	body   any
	raw    string
	header http.Header
}

// obj is the body as an object.
func (r tplReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

// list is the body as an array of objects.
func (r tplReply) list(t *testing.T) []map[string]any {
	t.Helper()
	items, ok := r.body.([]any)
	require.True(t, ok, "body is not an array: %s", r.raw)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i], ok = it.(map[string]any)
		require.True(t, ok, "item %d is not an object: %s", i, r.raw)
	}
	return out
}

// tplDo sends body (nil: none) as JSON with token's credentials (none if
// empty).
func (s *tplServer) tplDo(t *testing.T, method, path string, body any, token string) tplReply {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return tplSend(t, req)
}

func tplSend(t *testing.T, req *http.Request) tplReply {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := tplReply{status: res.StatusCode, raw: string(raw), header: res.Header}
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", req.Method, req.URL.Path, raw)
	}
	return out
}

// tplLogin logs username in and returns the access token.
func (s *tplServer) tplLogin(t *testing.T, username, password string) string {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/login", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := tplSend(t, req)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	token, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, token, r.raw)
	return token
}

// tplUser is a signed-up user.
type tplUser struct {
	id    float64 // as JSON numbers decode
	name  string
	token string
}

// tplSignUp signs username up (active at once) and logs it in.
func (s *tplServer) tplSignUp(t *testing.T, username string) tplUser {
	t.Helper()
	r := s.tplDo(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "password": tplPassword}, "")
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	id, ok := r.obj(t)["id"].(float64)
	require.True(t, ok, r.raw)
	return tplUser{id: id, name: username, token: s.tplLogin(t, username, tplPassword)}
}

// tplAdminUser logs the bootstrap superuser in.
func (s *tplServer) tplAdminUser(t *testing.T) tplUser {
	t.Helper()
	token := s.tplLogin(t, tplAdmin, tplAdminPassword)
	r := s.tplDo(t, http.MethodGet, "/api/v1/users/whoami", nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return tplUser{id: r.obj(t)["id"].(float64), name: tplAdmin, token: token}
}

// tplFlow creates a flow of u from body and returns its row.
func (s *tplServer) tplFlow(t *testing.T, u tplUser, body map[string]any) map[string]any {
	t.Helper()
	r := s.tplDo(t, http.MethodPost, "/api/v1/flows/", body, u.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// tplCreate makes a template of flow as u (scope "" leaves the default)
// and requires 201.
func (s *tplServer) tplCreate(t *testing.T, u tplUser, flowID any, name, scope string) map[string]any {
	t.Helper()
	body := map[string]any{"name": name}
	if scope != "" {
		body["scope"] = scope
	}
	r := s.tplDo(t, http.MethodPost, fmt.Sprintf("/api/v1/flows/%s/templates", flowID), body, u.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// tplPath is the path of template id.
func tplPath(id any) string { return fmt.Sprintf("/api/v1/flow-templates/%s", id) }

// tplRequireDetail checks a status and its {"detail": want}.
func tplRequireDetail(t *testing.T, r tplReply, status int, want any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, append([]any{r.raw}, msgAndArgs...)...)
	m, _ := r.body.(map[string]any)
	require.Equal(t, want, m["detail"], append([]any{r.raw}, msgAndArgs...)...)
}

// tplRows is every row of flow_templates, all columns, as JSON.
func (s *tplServer) tplRows(t *testing.T) string {
	t.Helper()
	var rows string
	err := s.app.Pool().QueryRow(context.Background(),
		`SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'::jsonb)::text FROM flow_templates t`).Scan(&rows)
	require.NoError(t, err)
	return rows
}

// tplIDs is the "id" of every item.
func tplIDs(items []map[string]any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it["id"]
	}
	return out
}
