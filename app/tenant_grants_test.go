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

const grantPassword = "grant-password-1"

// grantWorld is an App with every module tenant role grants need, and its
// superuser.
type grantWorld struct {
	*harness
	admin caller
}

func grantStart(t *testing.T) *grantWorld {
	t.Helper()
	h := startApp(t, options{env: adminEnv("root", grantPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}}})
	return &grantWorld{harness: h, admin: h.signIn(t, "root", grantPassword)}
}

// grantWant sends body as the superuser and requires status want.
func (w *grantWorld) grantWant(t *testing.T, method, path string, body any, want int) reply {
	t.Helper()
	r := w.call(t, method, path, body, w.admin.token)
	require.Equal(t, want, r.status, "%s %s %v: %s", method, path, body, r.raw)
	return r
}

// grantTenant adds a tenant and returns its id.
func (w *grantWorld) grantTenant(t *testing.T, name string) string {
	t.Helper()
	id, _ := w.grantWant(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, http.StatusCreated).obj(t)["tenant_id"].(string)
	require.NotEmpty(t, id)
	return id
}

// grantUser signs a user up (active) and returns its id.
func (w *grantWorld) grantUser(t *testing.T, username, nickname string) int64 {
	t.Helper()
	return idOf(t, w.signUp(t, username, grantPassword, map[string]any{"nickname": nickname}))
}

// grantGroup adds a user group to tenant and returns its id.
func (w *grantWorld) grantGroup(t *testing.T, tenant, name string) int64 {
	t.Helper()
	r := w.grantWant(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": tenant, "group_name": name}, http.StatusCreated)
	return grantInt(r.obj(t)["group_id"])
}

// grantOrg adds a root org to tenant and returns its id.
func (w *grantWorld) grantOrg(t *testing.T, tenant, name string) int64 {
	t.Helper()
	r := w.grantWant(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": tenant, "org_name": name, "parent_org_id": 0}, http.StatusCreated)
	return grantInt(r.obj(t)["org_id"])
}

// grantList reads a grants list of tenant (kind: user, group or org) with
// the extra query pairs kv.
func (w *grantWorld) grantList(t *testing.T, token, kind, tenant string, kv ...string) []map[string]any {
	t.Helper()
	q := url.Values{"tenant_id": {tenant}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	r := w.call(t, http.MethodGet, "/api/v1/tenants/"+kind+"-roles?"+q.Encode(), nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

func grantInt(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func grantInts(rows []map[string]any, key string) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, grantInt(r[key]))
	}
	return out
}

func grantStrings(rows []map[string]any, key string) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprint(r[key]))
	}
	return out
}

// grantDetail requires status and a string detail containing want.
func grantDetail(t *testing.T, r reply, status int, want string) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	d, ok := r.detail().(string)
	require.True(t, ok, r.raw)
	assert.Contains(t, d, want, r.raw)
}

// grant422 requires a 422 with one error at ["body", field].
func grant422(t *testing.T, r reply, field, want string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok := r.detail().([]any)
	require.True(t, ok, r.raw)
	require.Len(t, items, 1, r.raw)
	item := items[0].(map[string]any)
	assert.Equal(t, []any{"body", field}, item["loc"], r.raw)
	assert.Contains(t, item["msg"], want, r.raw)
}

// grantDump returns the relations read model as text, in order.
func grantDump(t *testing.T, w *grantWorld) []string {
	t.Helper()
	return w.textRows(t, `SELECT row_to_json(r)::text FROM tenant_role_relations r ORDER BY id`)
}

// User roles: by uid and by username, the answer's names, duplicates,
// unknown role or user, inactive user, search and sorts, single and batch
// removal, tenant scoping, and #74 no longer offering a granted user.
func TestGrant_UserRoles(t *testing.T) {
	t.Parallel()
	w := grantStart(t)
	ta, tb := w.grantTenant(t, "Acme"), w.grantTenant(t, "Beta")
	alice, bob, carol := w.grantUser(t, "alice", "Ally"), w.grantUser(t, "bob", "Bobby"), w.grantUser(t, "carol", "Caz")
	const path = "/api/v1/tenants/user-roles"

	// #74 offers alice before she holds a role in A.
	cand := func(tenant string) []int64 {
		r := w.grantWant(t, http.MethodGet, "/api/v1/tenants/user-candidates?limit=500&tenant_id="+tenant, nil, http.StatusOK)
		rows := []map[string]any{}
		for _, it := range r.obj(t)["users"].([]any) {
			rows = append(rows, it.(map[string]any))
		}
		return grantInts(rows, "id")
	}
	require.Contains(t, cand(ta), alice)

	a1 := w.grantWant(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": alice}, http.StatusCreated).obj(t)
	assert.Equal(t, map[string]any{"id": a1["id"], "tenant_id": ta, "tenant_name": "Acme", "uid": float64(alice),
		"username": "alice", "nickname": "Ally", "role_id": "viewer", "role_name": "Viewer"}, a1)
	a2 := w.grantWant(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "developer", "username": "BOB"}, http.StatusCreated).obj(t)
	assert.Equal(t, float64(bob), a2["uid"])
	a3 := w.grantWant(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "tenant_admin", "uid": alice}, http.StatusCreated).obj(t)
	b1 := w.grantWant(t, http.MethodPost, path, map[string]any{"tenant_id": tb, "role_id": "viewer", "uid": carol}, http.StatusCreated).obj(t)
	assert.Less(t, grantInt(a1["id"]), grantInt(a2["id"]))

	// #74 no longer offers alice or bob in A; it still does in B.
	assert.NotContains(t, cand(ta), alice)
	assert.NotContains(t, cand(ta), bob)
	assert.Contains(t, cand(ta), carol)
	assert.Contains(t, cand(tb), alice)
	assert.NotContains(t, cand(tb), carol)

	// The same subject and role twice, by uid or by username.
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": alice}, w.admin.token),
		http.StatusConflict, `User `+fmt.Sprint(alice)+` already has role "viewer"`)
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "username": "alice"}, w.admin.token),
		http.StatusConflict, "already has role")
	// Unknown role, user, tenant; no subject; inactive user; a too long role.
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "nope", "uid": alice}, w.admin.token),
		http.StatusNotFound, `Role "nope" not found`)
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": 99999}, w.admin.token),
		http.StatusNotFound, "User 99999 not found")
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "username": "ghost"}, w.admin.token),
		http.StatusNotFound, `User "ghost" not found`)
	grantDetail(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": "6f1c1d1e-0000-4000-8000-000000000000", "role_id": "viewer", "uid": alice}, w.admin.token),
		http.StatusNotFound, "Tenant not found")
	grant422(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer"}, w.admin.token), "uid", "uid or username is required")
	dave := w.grantUser(t, "dave", "D")
	w.grantWant(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", dave), map[string]any{"is_active": false}, http.StatusOK)
	grant422(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": dave}, w.admin.token), "uid", "is not active")
	grant422(t, w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "username": "dave"}, w.admin.token), "username", "is not active")
	r := w.call(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "x123456789x123456789x123456789xyz", "uid": alice}, w.admin.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Lists: tenant scoped, default by id, sorts, search.
	rows := w.grantList(t, w.admin.token, "user", ta)
	assert.Equal(t, []int64{grantInt(a1["id"]), grantInt(a2["id"]), grantInt(a3["id"])}, grantInts(rows, "id"))
	assert.Equal(t, []string{"Acme", "Acme", "Acme"}, grantStrings(rows, "tenant_name"))
	assert.Equal(t, []int64{grantInt(b1["id"])}, grantInts(w.grantList(t, w.admin.token, "user", tb), "id"))
	assert.Equal(t, []string{"viewer", "tenant_admin", "developer"},
		grantStrings(w.grantList(t, w.admin.token, "user", ta, "sort_by", "role_id", "sort_order", "desc"), "role_id"))
	assert.Equal(t, []string{"Developer", "Tenant Admin", "Viewer"},
		grantStrings(w.grantList(t, w.admin.token, "user", ta, "sort_by", "role_name"), "role_name"))
	assert.Equal(t, []string{"bob", "alice", "alice"},
		grantStrings(w.grantList(t, w.admin.token, "user", ta, "sort_by", "nickname", "sort_order", "desc"), "username"))
	assert.Equal(t, []string{"alice", "alice"}, grantStrings(w.grantList(t, w.admin.token, "user", ta, "search", "ALL"), "username"))
	assert.Equal(t, []string{"bob"}, grantStrings(w.grantList(t, w.admin.token, "user", ta, "search", "develop"), "username"))
	r = w.call(t, http.MethodGet, "/api/v1/tenants/user-roles?sort_by=group_name&tenant_id="+ta, nil, w.admin.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Removal: B's relation is not A's; unknown ids are 404 / ignored.
	grantDetail(t, w.call(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", path, b1["id"], ta), nil, w.admin.token),
		http.StatusNotFound, "Tenant user role not found")
	r = w.grantWant(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", path, a2["id"], ta), nil, http.StatusOK)
	assert.Equal(t, map[string]any{"detail": "Tenant user role deleted"}, r.obj(t))
	grantDetail(t, w.call(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", path, a2["id"], ta), nil, w.admin.token),
		http.StatusNotFound, "Tenant user role not found")
	assert.Contains(t, cand(ta), bob)
	r = w.grantWant(t, http.MethodDelete, path+"?tenant_id="+ta, map[string]any{"ids": []any{a1["id"], a2["id"], b1["id"], a1["id"], 987654}}, http.StatusOK)
	assert.Equal(t, map[string]any{"deleted_count": float64(1)}, r.obj(t))
	assert.Equal(t, []int64{grantInt(a3["id"])}, grantInts(w.grantList(t, w.admin.token, "user", ta), "id"))
	assert.Equal(t, []int64{grantInt(b1["id"])}, grantInts(w.grantList(t, w.admin.token, "user", tb), "id"))
	r = w.grantWant(t, http.MethodDelete, path+"?tenant_id="+ta, map[string]any{"ids": []any{}}, http.StatusOK)
	assert.Equal(t, map[string]any{"deleted_count": float64(0)}, r.obj(t))
	// Removed, the same grant can be made again.
	w.grantWant(t, http.MethodPost, path, map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": alice}, http.StatusCreated)
}

// Group and org roles: by id and by name, the answer's names, groups and
// orgs of another tenant refused, duplicates, ambiguous org names, and
// removals that ignore relations of another kind.
func TestGrant_GroupAndOrgRoles(t *testing.T) {
	t.Parallel()
	w := grantStart(t)
	ta, tb := w.grantTenant(t, "Acme"), w.grantTenant(t, "Beta")
	ga, gb := w.grantGroup(t, ta, "Engineers"), w.grantGroup(t, tb, "Outsiders")
	oa, ob := w.grantOrg(t, ta, "Head Office"), w.grantOrg(t, tb, "Branch")
	const gpath, opath = "/api/v1/tenants/group-roles", "/api/v1/tenants/org-roles"

	g1 := w.grantWant(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "developer", "group_id": ga}, http.StatusCreated).obj(t)
	assert.Equal(t, map[string]any{"id": g1["id"], "tenant_id": ta, "tenant_name": "Acme", "group_id": float64(ga),
		"group_name": "Engineers", "role_id": "developer", "role_name": "Developer"}, g1)
	g2 := w.grantWant(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "viewer", "group_name": "engineers"}, http.StatusCreated).obj(t)
	assert.Equal(t, float64(ga), g2["group_id"])
	grantDetail(t, w.call(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "viewer", "group_id": ga}, w.admin.token),
		http.StatusConflict, "already has role")
	grantDetail(t, w.call(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "viewer", "group_id": gb}, w.admin.token),
		http.StatusNotFound, fmt.Sprintf("User group %d not found in this tenant", gb))
	grantDetail(t, w.call(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "viewer", "group_name": "Outsiders"}, w.admin.token),
		http.StatusNotFound, `User group "Outsiders" not found`)
	grantDetail(t, w.call(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "nope", "group_id": ga}, w.admin.token),
		http.StatusNotFound, `Role "nope" not found`)
	grant422(t, w.call(t, http.MethodPost, gpath, map[string]any{"tenant_id": ta, "role_id": "viewer"}, w.admin.token), "group_id", "required")

	o1 := w.grantWant(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "tenant_admin", "org_id": oa}, http.StatusCreated).obj(t)
	assert.Equal(t, map[string]any{"id": o1["id"], "tenant_id": ta, "tenant_name": "Acme", "org_id": float64(oa),
		"org_name": "Head Office", "role_id": "tenant_admin", "role_name": "Tenant Admin"}, o1)
	o2 := w.grantWant(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "viewer", "org_name": "head office"}, http.StatusCreated).obj(t)
	assert.Equal(t, float64(oa), o2["org_id"])
	ob1 := w.grantWant(t, http.MethodPost, opath, map[string]any{"tenant_id": tb, "role_id": "viewer", "org_id": ob}, http.StatusCreated).obj(t)
	grantDetail(t, w.call(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "viewer", "org_id": oa}, w.admin.token),
		http.StatusConflict, "already has role")
	grantDetail(t, w.call(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "viewer", "org_id": ob}, w.admin.token),
		http.StatusNotFound, fmt.Sprintf("Org %d not found in this tenant", ob))
	grantDetail(t, w.call(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "viewer", "org_name": "Branch"}, w.admin.token),
		http.StatusNotFound, `Org "Branch" not found`)
	w.grantOrg(t, ta, "Twin")
	w.grantOrg(t, ta, "twin")
	grant422(t, w.call(t, http.MethodPost, opath, map[string]any{"tenant_id": ta, "role_id": "viewer", "org_name": "Twin"}, w.admin.token), "org_name", "give org_id")

	// Lists and sorts, scoped to the tenant.
	assert.Equal(t, []string{"Viewer", "Developer"},
		grantStrings(w.grantList(t, w.admin.token, "group", ta, "sort_by", "role_name", "sort_order", "desc"), "role_name"))
	assert.Equal(t, []string{"Engineers", "Engineers"}, grantStrings(w.grantList(t, w.admin.token, "group", ta, "sort_by", "group_name"), "group_name"))
	assert.Empty(t, w.grantList(t, w.admin.token, "group", tb))
	assert.Equal(t, []int64{grantInt(o1["id"]), grantInt(o2["id"])}, grantInts(w.grantList(t, w.admin.token, "org", ta), "id"))
	assert.Equal(t, []string{"Viewer"}, grantStrings(w.grantList(t, w.admin.token, "org", ta, "search", "view"), "role_name"))
	assert.Equal(t, []string{"Branch"}, grantStrings(w.grantList(t, w.admin.token, "org", tb, "sort_by", "org_name"), "org_name"))

	// One sequence for every kind: a group relation id is not an org role.
	grantDetail(t, w.call(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", opath, g1["id"], ta), nil, w.admin.token),
		http.StatusNotFound, "Tenant org role not found")
	r := w.grantWant(t, http.MethodDelete, opath+"?tenant_id="+ta, map[string]any{"ids": []any{g1["id"], g2["id"], o1["id"], ob1["id"]}}, http.StatusOK)
	assert.Equal(t, map[string]any{"deleted_count": float64(1)}, r.obj(t))
	assert.Len(t, w.grantList(t, w.admin.token, "group", ta), 2)
	r = w.grantWant(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", gpath, g1["id"], ta), nil, http.StatusOK)
	assert.Equal(t, map[string]any{"detail": "Tenant group role deleted"}, r.obj(t))
	r = w.grantWant(t, http.MethodDelete, gpath+"?tenant_id="+ta, map[string]any{"ids": []any{g1["id"], g2["id"]}}, http.StatusOK)
	assert.Equal(t, map[string]any{"deleted_count": float64(1)}, r.obj(t))
	assert.Empty(t, w.grantList(t, w.admin.token, "group", ta))
	assert.Equal(t, []int64{grantInt(o2["id"])}, grantInts(w.grantList(t, w.admin.token, "org", ta), "id"))
	assert.Len(t, w.grantList(t, w.admin.token, "org", tb), 1)
}

// Writes need a manager (403 otherwise), reads any user of the tenant; the
// read model rebuilt from position 0 is the same.
func TestGrant_AuthAndRebuild(t *testing.T) {
	t.Parallel()
	w := grantStart(t)
	ta := w.grantTenant(t, "Acme")
	eve := w.newUser(t, "eve", grantPassword)
	g := w.grantGroup(t, ta, "G")
	o := w.grantOrg(t, ta, "O")
	u := w.grantWant(t, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": ta, "role_id": "viewer", "uid": eve.id}, http.StatusCreated).obj(t)
	w.grantWant(t, http.MethodPost, "/api/v1/tenants/group-roles", map[string]any{"tenant_id": ta, "role_id": "viewer", "group_id": g}, http.StatusCreated)
	w.grantWant(t, http.MethodPost, "/api/v1/tenants/org-roles", map[string]any{"tenant_id": ta, "role_id": "viewer", "org_id": o}, http.StatusCreated)
	removed := w.grantWant(t, http.MethodPost, "/api/v1/tenants/org-roles", map[string]any{"tenant_id": ta, "role_id": "developer", "org_id": o}, http.StatusCreated).obj(t)
	w.grantWant(t, http.MethodDelete, fmt.Sprintf("/api/v1/tenants/org-roles/%v?tenant_id=%s", removed["id"], ta), nil, http.StatusOK)

	for _, kind := range []string{"user", "group", "org"} {
		path := "/api/v1/tenants/" + kind + "-roles"
		body := map[string]any{"tenant_id": ta, "role_id": "developer", "uid": eve.id, "group_id": g, "org_id": o}
		grantDetail(t, w.call(t, http.MethodPost, path, body, eve.token), http.StatusForbidden, "privileges")
		grantDetail(t, w.call(t, http.MethodDelete, path+"?tenant_id="+ta, map[string]any{"ids": []any{u["id"]}}, eve.token), http.StatusForbidden, "privileges")
		grantDetail(t, w.call(t, http.MethodDelete, fmt.Sprintf("%s/%v?tenant_id=%s", path, u["id"], ta), nil, eve.token), http.StatusForbidden, "privileges")
		assert.Len(t, w.grantList(t, eve.token, kind, ta), 1, kind)
		grantDetail(t, w.call(t, http.MethodGet, path, nil, ""), http.StatusForbidden, "API key must be passed")
	}

	before := grantDump(t, w)
	require.Len(t, before, 3)
	require.NoError(t, w.app.Runtime().Rebuild(context.Background(), "tenant_grants", nil))
	assert.Equal(t, before, grantDump(t, w))
}
