package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// The superuser every orgs test server bootstraps.
const (
	orgAdmin         = "oadmin"
	orgAdminPassword = "oadmin-password-1"
	orgPassword      = "user-password-1"
)

// orgServer is an App with the Identity, Tenants and Orgs modules serving
// on a real listener; admin is the superuser's access token.
type orgServer struct {
	*harness
	admin string
}

// orgStart serves the App on a fresh database until the test ends (see
// startApp) and logs the superuser in.
func orgStart(t *testing.T) *orgServer {
	t.Helper()
	s := &orgServer{harness: startApp(t, options{env: adminEnv(orgAdmin, orgAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Orgs{}, app.Permissions{}, app.TenantGrants{}}})}
	s.admin = s.login(t, orgAdmin, orgAdminPassword).access
	return s
}

// orgUser signs a (non-super, active) user up with nickname and returns
// its id.
func (s *orgServer) orgUser(t *testing.T, username, nickname string) int64 {
	t.Helper()
	return idOf(t, s.signUp(t, username, orgPassword, map[string]any{"nickname": nickname}))
}

// orgTenant adds a tenant as the superuser and returns its id.
func (s *orgServer) orgTenant(t *testing.T, name string) string {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	id, _ := r.obj(t)["tenant_id"].(string)
	require.NotEmpty(t, id)
	return id
}

// orgAdd adds an org (name, parent) to tenant as the superuser, with the
// extra fields of more, and requires 201.
func (s *orgServer) orgAdd(t *testing.T, tenant, name string, parent int64, more ...any) map[string]any {
	t.Helper()
	r := s.orgTry(t, tenant, name, parent, more...)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// orgTry adds an org like orgAdd and returns the answer, whatever it is.
// more holds key, value pairs.
func (s *orgServer) orgTry(t *testing.T, tenant, name string, parent int64, more ...any) reply {
	t.Helper()
	body := map[string]any{"tenant_id": tenant, "org_name": name, "parent_org_id": parent}
	for i := 0; i+1 < len(more); i += 2 {
		body[more[i].(string)] = more[i+1]
	}
	return s.call(t, http.MethodPost, "/api/v1/orgs", body, s.admin)
}

// orgMembers adds uids to org of tenant as the superuser and returns the
// answer.
func (s *orgServer) orgMembers(t *testing.T, tenant string, org int64, position, job string, leader bool, uids ...int64) reply {
	t.Helper()
	return s.call(t, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": tenant, "org_id": org,
		"uids": uids, "position": position, "job": job, "is_leader": leader}, s.admin)
}

// orgGet reads path as token and requires 200.
func (s *orgServer) orgGet(t *testing.T, token, path string) reply {
	t.Helper()
	r := s.call(t, http.MethodGet, path, nil, token)
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

// orgRequire422 checks a 422 whose first error has type typ, is at loc
// (when given) and whose message contains msg (when not empty).
func orgRequire422(t *testing.T, r reply, typ, msg string, loc ...any) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok := r.detail().([]any)
	require.True(t, ok && len(items) > 0, r.raw)
	first := items[0].(map[string]any)
	assert.Equal(t, typ, first["type"], r.raw)
	if loc != nil {
		assert.Equal(t, loc, first["loc"], r.raw)
	}
	if msg != "" {
		assert.Contains(t, first["msg"], msg, r.raw)
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
