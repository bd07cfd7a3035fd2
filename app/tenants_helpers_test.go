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

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The superuser every tenants test server bootstraps.
const (
	tenAdmin         = "tadmin"
	tenAdminPassword = "tadmin-password-1"
	tenPassword      = "user-password-1"
	// tenProbePath is served by tenProbe: the caller's tenant as
	// tenancy.Resolve finds it (X-Tenant-Id, else the system tenant).
	tenProbePath = "/api/v1/_test/tenant"
)

// tenProbe is a test-only module with one route that resolves the
// request's tenant like every tenant-scoped operation does.
type tenProbe struct{}

func (tenProbe) Register(*eventstore.Registry) error    { return nil }
func (tenProbe) Projections() []*projections.Projection { return nil }
func (tenProbe) Routes(s *httpapi.Server, d app.Deps) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: tenProbePath, Tag: "Test", Summary: "Resolve Tenant",
		Hidden: true, ReadModels: readapi.TenantReadModels, Handler: func(c *gin.Context) {
			t, ok := tenancy.Resolve(c, d.Pool, nil)
			if !ok {
				return
			}
			c.JSON(http.StatusOK, gin.H{"tenant_id": t.ID, "tenant_name": t.Name})
		}})
}

// tenServer is an App with the Identity, Flows and Tenants modules (and
// tenProbe) serving on a real listener.
type tenServer struct {
	app   *app.App
	base  string
	admin string // the superuser's access token
}

// tenStart opens, bootstraps and serves an App on a fresh database until
// the test ends, waits until every read model folded what the bootstrap
// wrote, and logs the superuser in.
func tenStart(t *testing.T) *tenServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          tenAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": tenAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Flows{}, app.Tenants{}, tenProbe{})
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		err = a.Bootstrap(ctx)
	}
	if err != nil {
		cancel()
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
	s := &tenServer{app: a, base: "http://" + ln.Addr().String()}
	s.waitHead(t)
	s.admin = s.login(t, tenAdmin, tenAdminPassword)
	return s
}

// waitHead waits until every read model reached the head of the log.
func (s *tenServer) waitHead(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	head, err := store.Head(ctx)
	store.Close()
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(waitCtx, head), "read models catch up")
}

// tenReply is one answer: status, raw body and the body decoded as JSON.
type tenReply struct {
	status int
	raw    []byte
	body   any
}

func (r tenReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

func (r tenReply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

// send sends body with contentType as token (none when ""), plus header.
func (s *tenServer) send(t *testing.T, method, path, token string, body io.Reader, contentType string, header http.Header) tenReply {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := tenReply{status: res.StatusCode, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// do sends jsonBody (nil: none) as JSON.
func (s *tenServer) do(t *testing.T, method, path, token string, jsonBody any) tenReply {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.send(t, method, path, token, r, "application/json", nil)
}

// login logs in and returns the access token.
func (s *tenServer) login(t *testing.T, username, password string) string {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	r := s.send(t, http.MethodPost, "/api/v1/login", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	token, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, token)
	return token
}

// user signs a (non-super) user up and logs it in; it returns the token.
func (s *tenServer) user(t *testing.T, username string) string {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/users/", "", map[string]any{"username": username, "password": tenPassword})
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return s.login(t, username, tenPassword)
}

// create adds a tenant as the superuser and requires 201.
func (s *tenServer) create(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/tenants", s.admin, body)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return r.obj(t)
}

// list reads Read Tenants with query and returns the tenant names.
func (s *tenServer) list(t *testing.T, token, query string) ([]string, []map[string]any) {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/v1/tenants"+query, token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	items, ok := r.body.([]any)
	require.True(t, ok, "body is not a list: %s", r.raw)
	names := make([]string, len(items))
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
		names[i], _ = out[i]["tenant_name"].(string)
	}
	return names, out
}

// tenPath is the path of tenant id.
func tenPath(id any) string { return fmt.Sprintf("/api/v1/tenants/%v", id) }

// tenRequireDetail checks an answer's status and {"detail": want}.
func tenRequireDetail(t *testing.T, r tenReply, status int, want any) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.raw))
	require.Equal(t, want, r.detail(), string(r.raw))
}

// tenRequire422 checks a 422 whose first error is of type typ at loc.
func tenRequire422(t *testing.T, r tenReply, typ string, loc ...any) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
	items, ok := r.detail().([]any)
	require.True(t, ok && len(items) > 0, string(r.raw))
	first := items[0].(map[string]any)
	assert.Equal(t, typ, first["type"], string(r.raw))
	if loc != nil {
		assert.Equal(t, loc, first["loc"], string(r.raw))
	}
}
