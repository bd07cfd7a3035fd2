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

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The superuser every user groups test server bootstraps.
const (
	ugAdmin         = "ugadmin"
	ugAdminPassword = "ugadmin-password-1"
	ugPassword      = "user-password-1"
)

// ugServer is an App with the Identity and UserGroups modules serving on
// a real listener; admin is the superuser's access token.
type ugServer struct {
	app     *app.App
	base    string
	admin   string
	adminID int64
}

// ugStart opens, bootstraps and serves an App on a fresh database until
// the test ends, waits until the read models folded the bootstrap, adds
// the system tenant row and logs the superuser in. The tenants module is
// not part of it: tests write the rows of the tenants read model they
// need (ugTenant), which is all tenancy.Resolve reads.
func ugStart(t *testing.T) *ugServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          ugAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": ugAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.UserGroups{})
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
	s := &ugServer{app: a, base: "http://" + ln.Addr().String()}
	store := postgres.New(a.Pool(), postgres.Options{})
	head, err := store.Head(ctx)
	store.Close()
	require.NoError(t, err)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head), "read models catch up with the bootstrap")
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	s.admin = s.login(t, ugAdmin, ugAdminPassword)
	require.NoError(t, a.Pool().QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, ugAdmin).Scan(&s.adminID))
	return s
}

// insertTenant writes a row of the tenants read model (the tenants
// module's, absent here).
func (s *ugServer) insertTenant(t *testing.T, id uuid.UUID, name string, active bool) {
	t.Helper()
	_, err := s.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, $2, $3, $4, now(), now(), 0)`, id, name, id == tenancy.SystemTenantID, active)
	require.NoError(t, err)
}

// tenant adds an active tenant called name and returns its id.
func (s *ugServer) tenant(t *testing.T, name string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	s.insertTenant(t, id, name, true)
	return id
}

// ugReply is one answer: status, raw body and the body decoded as JSON.
type ugReply struct {
	status int
	header http.Header
	raw    string
	body   any
}

func (r ugReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

func (r ugReply) list(t *testing.T) []map[string]any {
	t.Helper()
	l, ok := r.body.([]any)
	require.True(t, ok, "body is not a list: %s", r.raw)
	out := make([]map[string]any, len(l))
	for i, v := range l {
		out[i], ok = v.(map[string]any)
		require.True(t, ok, "item %d is not an object: %s", i, r.raw)
	}
	return out
}

func (r ugReply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

// do sends jsonBody (nil: none) as token ("" for none).
func (s *ugServer) do(t *testing.T, method, path, token string, jsonBody any) ugReply {
	t.Helper()
	var body io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	if jsonBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := ugReply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// login logs username in and returns the access token.
func (s *ugServer) login(t *testing.T, username, password string) string {
	t.Helper()
	res, err := http.PostForm(s.base+"/api/v1/login", url.Values{"username": {username}, "password": {password}})
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.Equal(t, http.StatusOK, res.StatusCode, "login %s: %v", username, out)
	token, _ := out["access_token"].(string)
	require.NotEmpty(t, token)
	return token
}

// user adds an (active) user with nickname as the superuser; it returns
// the id.
func (s *ugServer) user(t *testing.T, username, nickname string) int64 {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/users/", s.admin, map[string]any{"username": username, "nickname": nickname, "password": ugPassword})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return ugInt(t, r.obj(t)["id"])
}

// q builds a query string.
func ugQuery(kv ...any) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(fmt.Sprint(kv[i]), fmt.Sprint(kv[i+1]))
	}
	return "?" + v.Encode()
}

// addGroup adds a group to tenant as the superuser and requires 201; it
// returns the group.
func (s *ugServer) addGroup(t *testing.T, tenant uuid.UUID, name string, extra ...any) map[string]any {
	t.Helper()
	body := map[string]any{"tenant_id": tenant, "group_name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	r := s.do(t, http.MethodPost, "/api/v1/user-groups", s.admin, body)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// addMember adds user uid to group of tenant as the superuser and requires
// 201; it returns the member.
func (s *ugServer) addMember(t *testing.T, tenant uuid.UUID, group, uid int64, leader bool) map[string]any {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/user-group-members"+ugQuery("tenant-id", tenant), s.admin,
		map[string]any{"group_id": group, "uid": uid, "is_leader": leader})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// groups lists tenant's groups (query: extra key/value pairs) as the
// superuser.
func (s *ugServer) groups(t *testing.T, tenant uuid.UUID, kv ...any) []map[string]any {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/v1/user-groups"+ugQuery(append([]any{"tenant-id", tenant}, kv...)...), s.admin, nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.list(t)
}

// members lists the members of group of tenant as the superuser.
func (s *ugServer) members(t *testing.T, tenant uuid.UUID, group int64, kv ...any) []map[string]any {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery(append([]any{"tenant-id", tenant, "group-id", group}, kv...)...), s.admin, nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.list(t)
}

// ugInt reads a JSON number as an int64.
func ugInt(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "not a number: %v", v)
	return int64(f)
}

// ugField lists field of every row, as strings.
func ugField(rows []map[string]any, field string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r[field])
	}
	return out
}

// ugDetail checks an answer's status and that its detail contains want.
func ugDetail(t *testing.T, r ugReply, status int, want string) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	d, ok := r.detail().(string)
	require.True(t, ok, "detail is not a string: %s", r.raw)
	require.Contains(t, d, want, r.raw)
}

// ugInvalid checks a 422 whose only error is at ["body", "uid"] and says
// want.
func ugInvalid(t *testing.T, r ugReply, want string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok := r.detail().([]any)
	require.True(t, ok, r.raw)
	require.Len(t, items, 1, r.raw)
	item := items[0].(map[string]any)
	assert.Equal(t, []any{"body", "uid"}, item["loc"], r.raw)
	assert.Equal(t, "value_error", item["type"], r.raw)
	assert.Equal(t, "Value error, "+want, item["msg"], r.raw)
}

// ugDump returns every row of the user groups read models, in order, as
// text (to compare a rebuild with the live tables).
func ugDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT row_to_json(g)::text FROM user_groups g ORDER BY group_id`,
		`SELECT row_to_json(m)::text FROM user_group_members m ORDER BY id`,
	} {
		rows, err := s.app.Pool().Query(context.Background(), q)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			out = append(out, line)
		}
		require.NoError(t, rows.Err())
	}
	return out
}

// ugPath joins path segments.
func ugPath(parts ...any) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, "/")
}
