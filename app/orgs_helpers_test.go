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
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The superuser every orgs test server bootstraps.
const (
	orgAdmin         = "oadmin"
	orgAdminPassword = "oadmin-password-1"
	orgPassword      = "user-password-1"
)

// orgServer is an App with the Identity, Tenants and Orgs modules serving
// on a real listener.
type orgServer struct {
	app   *app.App
	base  string
	admin string // the superuser's access token
}

// orgStart opens, bootstraps and serves an App on a fresh database until
// the test ends, waits until every read model folded what the bootstrap
// wrote, and logs the superuser in.
func orgStart(t *testing.T) *orgServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          orgAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": orgAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Tenants{}, app.Orgs{})
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
	s := &orgServer{app: a, base: "http://" + ln.Addr().String()}
	store := postgres.New(a.Pool(), postgres.Options{})
	head, err := store.Head(ctx)
	store.Close()
	require.NoError(t, err)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head), "read models catch up with the bootstrap")
	s.admin = s.orgLogin(t, orgAdmin, orgAdminPassword)
	return s
}

// orgReply is one answer: status, raw body and the body decoded as JSON.
type orgReply struct {
	status int
	raw    []byte
	body   any
}

func (r orgReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

func (r orgReply) list(t *testing.T) []map[string]any {
	t.Helper()
	items, ok := r.body.([]any)
	require.True(t, ok, "body is not a list: %s", r.raw)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

func (r orgReply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

// orgSend sends body with contentType as token (none when "").
func (s *orgServer) orgSend(t *testing.T, method, path, token string, body io.Reader, contentType string) orgReply {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := orgReply{status: res.StatusCode, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// orgDo sends jsonBody (nil: none) as JSON.
func (s *orgServer) orgDo(t *testing.T, method, path, token string, jsonBody any) orgReply {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.orgSend(t, method, path, token, r, "application/json")
}

// orgLogin logs in and returns the access token.
func (s *orgServer) orgLogin(t *testing.T, username, password string) string {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	r := s.orgSend(t, http.MethodPost, "/api/v1/login", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	token, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, token)
	return token
}

// orgUser signs a (non-super, active) user up with nickname and returns
// its id.
func (s *orgServer) orgUser(t *testing.T, username, nickname string) int64 {
	t.Helper()
	r := s.orgDo(t, http.MethodPost, "/api/v1/users/", "", map[string]any{"username": username, "password": orgPassword,
		"nickname": nickname})
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return int64(r.obj(t)["id"].(float64))
}

// orgTenant adds a tenant as the superuser and returns its id.
func (s *orgServer) orgTenant(t *testing.T, name string) string {
	t.Helper()
	r := s.orgDo(t, http.MethodPost, "/api/v1/tenants", s.admin, map[string]any{"tenant_name": name})
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	id, _ := r.obj(t)["tenant_id"].(string)
	require.NotEmpty(t, id)
	return id
}

// orgAdd adds an org (name, parent) to tenant as the superuser, with the
// extra fields of more, and requires 201.
func (s *orgServer) orgAdd(t *testing.T, tenant, name string, parent int64, more ...any) map[string]any {
	t.Helper()
	r := s.orgTry(t, tenant, name, parent, more...)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return r.obj(t)
}

// orgTry adds an org like orgAdd and returns the answer, whatever it is.
// more holds key, value pairs.
func (s *orgServer) orgTry(t *testing.T, tenant, name string, parent int64, more ...any) orgReply {
	t.Helper()
	body := map[string]any{"tenant_id": tenant, "org_name": name, "parent_org_id": parent}
	for i := 0; i+1 < len(more); i += 2 {
		body[more[i].(string)] = more[i+1]
	}
	return s.orgDo(t, http.MethodPost, "/api/v1/orgs", s.admin, body)
}

// orgMembers adds uids to org of tenant as the superuser and returns the
// answer.
func (s *orgServer) orgMembers(t *testing.T, tenant string, org int64, position, job string, leader bool, uids ...int64) orgReply {
	t.Helper()
	return s.orgDo(t, http.MethodPost, "/api/v1/org-members", s.admin, map[string]any{"tenant_id": tenant, "org_id": org,
		"uids": uids, "position": position, "job": job, "is_leader": leader})
}

// orgGet reads path as token and requires 200.
func (s *orgServer) orgGet(t *testing.T, token, path string) orgReply {
	t.Helper()
	r := s.orgDo(t, http.MethodGet, path, token, nil)
	require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.raw)
	return r
}

// orgQuery builds path?query from key, value pairs.
func orgQuery(path string, kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i].(string), fmt.Sprint(kv[i+1]))
	}
	return path + "?" + q.Encode()
}

// orgID returns the org_id of an org answer.
func orgID(o map[string]any) int64 { return int64(o["org_id"].(float64)) }

// orgInts lists the integer field key of rows.
func orgInts(rows []map[string]any, key string) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r[key].(float64))
	}
	return out
}

// orgStrings lists the string field key of rows.
func orgStrings(rows []map[string]any, key string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r[key].(string)
	}
	return out
}

// orgRequireDetail checks an answer's status and {"detail": want}.
func orgRequireDetail(t *testing.T, r orgReply, status int, want any) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.raw))
	require.Equal(t, want, r.detail(), string(r.raw))
}

// orgRequire422 checks a 422 whose first error has type typ, is at loc
// (when given) and whose message contains msg (when not empty).
func orgRequire422(t *testing.T, r orgReply, typ, msg string, loc ...any) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
	items, ok := r.detail().([]any)
	require.True(t, ok && len(items) > 0, string(r.raw))
	first := items[0].(map[string]any)
	assert.Equal(t, typ, first["type"], string(r.raw))
	if loc != nil {
		assert.Equal(t, loc, first["loc"], string(r.raw))
	}
	if msg != "" {
		assert.Contains(t, first["msg"], msg, string(r.raw))
	}
}

// orgDump reads every row of the orgs read models (a rebuild must give
// the same).
func orgDump(t *testing.T, s *orgServer) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, order := range map[string]string{"orgs": "org_id", "org_members": "id", "org_trees": "tenant_id"} {
		rows, err := s.app.Pool().Query(context.Background(), `SELECT to_jsonb(x)::text FROM `+table+` x ORDER BY `+order)
		require.NoError(t, err)
		for rows.Next() {
			var row string
			require.NoError(t, rows.Scan(&row))
			out[table] = append(out[table], row)
		}
		require.NoError(t, rows.Err())
	}
	return out
}
