package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
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
	*harness
	admin   string
	adminID int64
}

// ugStart serves the App on a fresh database until the test ends (see
// startApp), adds the system tenant row and signs the superuser in. The
// tenants module is not part of it: tests write the rows of the tenants
// read model they need (ugTenant), which is all tenancy.Resolve reads.
func ugStart(t *testing.T) *ugServer {
	t.Helper()
	s := &ugServer{harness: startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword),
		modules: []app.Module{&app.Identity{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
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

// user adds an (active) user with nickname as the superuser; it returns
// the id.
func (s *ugServer) user(t *testing.T, username, nickname string) int64 {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "nickname": nickname, "password": ugPassword}, s.admin)
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
	r := s.call(t, http.MethodPost, "/api/v1/user-groups", body, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// addMember adds user uid to group of tenant as the superuser and requires
// 201; it returns the member.
func (s *ugServer) addMember(t *testing.T, tenant uuid.UUID, group, uid int64, leader bool) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/user-group-members"+ugQuery("tenant-id", tenant), map[string]any{"group_id": group, "uid": uid, "is_leader": leader}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// groups lists tenant's groups (query: extra key/value pairs) as the
// superuser.
func (s *ugServer) groups(t *testing.T, tenant uuid.UUID, kv ...any) []map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v1/user-groups"+ugQuery(append([]any{"tenant-id", tenant}, kv...)...), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// members lists the members of group of tenant as the superuser.
func (s *ugServer) members(t *testing.T, tenant uuid.UUID, group int64, kv ...any) []map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery(append([]any{"tenant-id", tenant, "group-id", group}, kv...)...), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
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
func ugDetail(t *testing.T, r reply, status int, want string) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	d, ok := r.detail().(string)
	require.True(t, ok, "detail is not a string: %s", r.raw)
	require.Contains(t, d, want, r.raw)
}

// ugInvalid checks a 422 whose only error is at ["body", "uid"] and says
// want.
func ugInvalid(t *testing.T, r reply, want string) {
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
