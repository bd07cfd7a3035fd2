package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

const tcPassword = "cand-password-1"

// tcWorld is an App with identity, tenants, orgs and user groups, and its
// signed-in superuser.
type tcWorld struct {
	*harness
	admin caller
}

func tcStart(t *testing.T) *tcWorld {
	t.Helper()
	h := startApp(t, options{env: adminEnv("root", tcPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}}})
	return &tcWorld{harness: h, admin: h.signIn(t, "root", tcPassword)}
}

// ok sends body to path as the superuser, requires want and returns the
// object answered.
func (w *tcWorld) ok(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	return w.want(t, method, path, body, want).obj(t)
}

// want sends body to path as the superuser and requires want.
func (w *tcWorld) want(t *testing.T, method, path string, body any, want int) reply {
	t.Helper()
	r := w.call(t, method, path, body, w.admin.token)
	require.Equal(t, want, r.status, "%s %s: %s", method, path, r.raw)
	return r
}

// page reads a candidates path (query: key, value pairs) as token and
// returns total_count and the items.
func (w *tcWorld) page(t *testing.T, token, path string, kv ...any) (int64, []map[string]any) {
	t.Helper()
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i].(string), fmt.Sprint(kv[i+1]))
	}
	r := w.call(t, http.MethodGet, path+"?"+q.Encode(), nil, token)
	require.Equal(t, http.StatusOK, r.status, "%s %v: %s", path, kv, r.raw)
	body := r.obj(t)
	require.Len(t, body, 2, r.raw)
	items, ok := body["users"].([]any)
	require.True(t, ok, r.raw)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return int64(body["total_count"].(float64)), out
}

// tcInts is the integer field key of each row.
func tcInts(rows []map[string]any, key string) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, int64(r[key].(float64)))
	}
	return out
}

// Tenant user candidates are the active users in none of the tenant's orgs
// and groups; group and org candidates are the tenant's own groups and
// orgs; all three page, search and count, and never show another tenant's.
func TestTenantCandidates(t *testing.T) {
	t.Parallel()
	w := tcStart(t)
	ta := w.ok(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Acme"}, http.StatusCreated)["tenant_id"].(string)
	tb := w.ok(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Beta"}, http.StatusCreated)["tenant_id"].(string)
	ann := w.newUser(t, "ann", tcPassword, map[string]any{"nickname": "Annie"})
	bob := w.newUser(t, "bob", tcPassword)
	cat := w.newUser(t, "cat", tcPassword)
	w.ok(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", cat.id), map[string]any{"email": "cat@corp.test", "mobile": "5550199"}, http.StatusOK)
	dan := w.newUser(t, "dan", tcPassword)
	w.ok(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", dan.id), map[string]any{"is_active": false}, http.StatusOK)

	rome := int64(w.ok(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": ta, "org_name": "Rome", "org_code": "RM",
		"parent_org_id": 0}, http.StatusCreated)["org_id"].(float64))
	kitchen := int64(w.ok(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": ta, "org_name": "Kitchen", "org_code": "KT",
		"parent_org_id": rome}, http.StatusCreated)["org_id"].(float64))
	bern := int64(w.ok(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": tb, "org_name": "Bern", "org_code": "BE",
		"parent_org_id": 0}, http.StatusCreated)["org_id"].(float64))
	ops := int64(w.ok(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": "Ops"}, http.StatusCreated)["group_id"].(float64))
	dev := int64(w.ok(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": "Dev"}, http.StatusCreated)["group_id"].(float64))
	opsB := int64(w.ok(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": tb, "group_name": "Ops B"}, http.StatusCreated)["group_id"].(float64))

	// ann is a member of tenant A through an org, bob through a group; cat
	// of tenant B through an org.
	w.want(t, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": ta, "org_id": kitchen, "uids": []int64{ann.id},
		"position": "Chef", "job": "Cook", "is_leader": false}, http.StatusCreated)
	w.ok(t, http.MethodPost, "/api/v1/user-group-members?tenant-id="+ta, map[string]any{"group_id": dev, "uid": bob.id, "is_leader": false},
		http.StatusCreated)
	w.want(t, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": tb, "org_id": bern, "uids": []int64{cat.id},
		"position": "Clerk", "job": "Desk", "is_leader": false}, http.StatusCreated)

	const users, groups, orgs = "/api/v1/tenants/user-candidates", "/api/v1/tenants/group-candidates", "/api/v1/tenants/org-candidates"

	// #74: members through orgs and groups are excluded, inactive users too.
	n, rows := w.page(t, w.admin.token, users, "tenant_id", ta)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, []int64{w.admin.id, cat.id}, tcInts(rows, "id"))
	assert.Equal(t, map[string]any{"id": float64(cat.id), "uid": float64(cat.id), "username": "cat", "nickname": "",
		"email": "cat@corp.test", "mobile": "5550199", "profile_image": ""}, rows[1], "the shared candidate shape")
	n, rows = w.page(t, w.admin.token, users, "tenant_id", tb)
	assert.EqualValues(t, 3, n)
	assert.Equal(t, []int64{w.admin.id, ann.id, bob.id}, tcInts(rows, "id"), "tenant A's members are tenant B's candidates")
	// No tenant: the system tenant, which has no orgs or groups here.
	n, rows = w.page(t, w.admin.token, users)
	assert.EqualValues(t, 4, n)
	all := []int64{w.admin.id, ann.id, bob.id, cat.id}
	assert.Equal(t, all, tcInts(rows, "id"))
	n, rows = w.page(t, w.admin.token, users, "skip", 1, "limit", 2)
	assert.EqualValues(t, 4, n, "total_count counts every candidate, not the page")
	assert.Equal(t, all[1:3], tcInts(rows, "id"))
	n, rows = w.page(t, w.admin.token, users, "skip", 9)
	assert.EqualValues(t, 4, n)
	assert.Empty(t, rows)
	for search, want := range map[string][]int64{"ANNIE": {ann.id}, "corp.test": {cat.id}, "0199": {cat.id}, "b": {bob.id},
		"dan": {}, "%": {}, "_": {}} {
		n, rows = w.page(t, w.admin.token, users, "search", search)
		assert.Equal(t, want, tcInts(rows, "id"), "search %q", search)
		assert.EqualValues(t, len(want), n, "search %q", search)
	}
	// The X-Tenant-Id header names the tenant when the query does not.
	r := w.do(t, http.MethodGet, users, nil, http.Header{"Authorization": {"Bearer " + w.admin.token}, "X-Tenant-Id": {ta}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 2, r.obj(t)["total_count"])
	// A viewer of the tenant reads (a member of its org and group already,
	// ann is no candidate either way).
	w.grantRole(t, w.admin.token, ta, ann.id, "viewer")
	// Only superusers browse every account: a tenant's own reader sees its
	// members, and users outside it only by exact username or e-mail,
	// without contact details (cat is tenant B's; admin is no member).
	n, _ = w.page(t, ann.token, users, "tenant_id", ta)
	assert.EqualValues(t, 0, n, "no browsing of users outside the tenant")
	for _, search := range []string{"corp.test", "0199", "ca", "roo"} {
		n, _ = w.page(t, ann.token, users, "tenant_id", ta, "search", search)
		assert.EqualValues(t, 0, n, "search %q: no fragments of other tenants' users", search)
	}
	for _, search := range []string{"CAT", "cat@corp.test"} {
		n, rows = w.page(t, ann.token, users, "tenant_id", ta, "search", search)
		assert.EqualValues(t, 1, n, search)
		assert.Equal(t, []map[string]any{{"id": float64(cat.id), "uid": float64(cat.id), "username": "cat", "nickname": "",
			"email": "", "mobile": "", "profile_image": ""}}, rows, "search %q: found, without e-mail or mobile", search)
	}

	// #75: the tenant's groups, by group_id, never another tenant's.
	n, rows = w.page(t, w.admin.token, groups, "tenant_id", ta)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, []map[string]any{
		{"group_id": float64(ops), "group_name": "Ops", "is_enable": true},
		{"group_id": float64(dev), "group_name": "Dev", "is_enable": true},
	}, rows)
	n, rows = w.page(t, w.admin.token, groups, "tenant_id", ta, "search", "ops")
	assert.EqualValues(t, 1, n)
	assert.Equal(t, []int64{ops}, tcInts(rows, "group_id"), "tenant B's \"Ops B\" is not tenant A's")
	n, rows = w.page(t, w.admin.token, groups, "tenant_id", ta, "skip", 1, "limit", 1)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, []int64{dev}, tcInts(rows, "group_id"))
	n, rows = w.page(t, w.admin.token, groups, "tenant_id", tb)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, []int64{opsB}, tcInts(rows, "group_id"))
	n, rows = w.page(t, w.admin.token, groups)
	assert.EqualValues(t, 0, n, "the system tenant has no groups")
	assert.Empty(t, rows)

	// #76: the tenant's orgs, by org_id, never another tenant's.
	n, rows = w.page(t, w.admin.token, orgs, "tenant_id", ta)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, []map[string]any{
		{"org_id": float64(rome), "org_name": "Rome", "org_code": "RM", "org_level": 1.0, "is_enable": true},
		{"org_id": float64(kitchen), "org_name": "Kitchen", "org_code": "KT", "org_level": 2.0, "is_enable": true},
	}, rows)
	n, rows = w.page(t, w.admin.token, orgs, "tenant_id", ta, "search", "kt")
	assert.EqualValues(t, 1, n, "search matches the code")
	assert.Equal(t, []int64{kitchen}, tcInts(rows, "org_id"))
	n, rows = w.page(t, w.admin.token, orgs, "tenant_id", ta, "search", "rOm")
	assert.EqualValues(t, 1, n, "search matches the name")
	assert.Equal(t, []int64{rome}, tcInts(rows, "org_id"))
	n, rows = w.page(t, w.admin.token, orgs, "tenant_id", ta, "limit", 1)
	assert.EqualValues(t, 2, n)
	assert.Equal(t, []int64{rome}, tcInts(rows, "org_id"))
	n, rows = w.page(t, w.admin.token, orgs, "tenant_id", tb)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, []int64{bern}, tcInts(rows, "org_id"))

	// Bad input and unknown tenants.
	for _, path := range []string{users, groups, orgs} {
		for _, q := range []string{"limit=0", "limit=501", "skip=-1", "limit=x", "tenant_id=nope"} {
			r := w.call(t, http.MethodGet, path+"?"+q, nil, w.admin.token)
			assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s?%s: %s", path, q, r.raw)
		}
		requireDetail(t, w.call(t, http.MethodGet, path+"?tenant_id=00000000-0000-0000-0000-000000000001", nil, w.admin.token),
			http.StatusNotFound, "Tenant not found", path)
		requireDetail(t, w.call(t, http.MethodGet, path, nil, ""), http.StatusForbidden, "An API key must be passed as query or header", path)
	}
}

// The static candidate paths win over Read Tenant's /api/v1/tenants/{tenant_id},
// which still answers for a tenant id.
func TestTenantCandidates_StaticPathsWin(t *testing.T) {
	t.Parallel()
	w := tcStart(t)
	ta := w.ok(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Acme"}, http.StatusCreated)["tenant_id"].(string)
	for _, path := range []string{"/api/v1/tenants/user-candidates", "/api/v1/tenants/group-candidates", "/api/v1/tenants/org-candidates"} {
		body := w.ok(t, http.MethodGet, path, nil, http.StatusOK)
		assert.Contains(t, body, "total_count", path)
		assert.Contains(t, body, "users", path)
		assert.NotContains(t, body, "tenant_name", path)
	}
	assert.Equal(t, "Acme", w.ok(t, http.MethodGet, "/api/v1/tenants/"+ta, nil, http.StatusOK)["tenant_name"])
	r := w.call(t, http.MethodGet, "/api/v1/tenants/other-candidates", nil, w.admin.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "any other segment is a tenant id, and not a UUID: %s", r.raw)
}
