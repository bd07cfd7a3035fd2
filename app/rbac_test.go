package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// rbacWorld is a tenant with a business tree b1 > b2 > b3 (and a second
// level-1 business bx), an org tree parent > child, a user group, and
// users who hold privileges each in one way.
type rbacWorld struct {
	*bizWorld
	tenant             uuid.UUID
	b1, b2, b3, bx     int64
	parent, child      int64
	group              int64
	groupGrant         int64
	gina, olga, bea    caller // via group, via ancestor org, via business role
	ned                caller // nothing
	f1, f2, f3, f4, fo string // flows in b1, b2, b3, the tenant, org child
}

func rbacStart(t *testing.T) *rbacWorld {
	t.Helper()
	h := startApp(t, options{env: adminEnv(bizAdmin, bizAdminPassword), modules: []app.Module{&app.Identity{}, app.Flows{},
		app.Projects{}, app.Tenants{}, app.Businesses{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}, &app.Audit{}}})
	w := &rbacWorld{bizWorld: &bizWorld{harness: h, admin: h.signIn(t, bizAdmin, bizAdminPassword)}}
	w.tenant = w.bizWorld.tenant(t, "RBAC")
	w.b1 = bizID(t, w.add(t, w.tenant, "B1", 1, 0, 0))
	w.b2 = bizID(t, w.add(t, w.tenant, "B2", 2, w.b1, 0))
	w.b3 = bizID(t, w.add(t, w.tenant, "B3", 3, w.b1, w.b2))
	w.bx = bizID(t, w.add(t, w.tenant, "BX", 1, 0, 0))
	w.gina = w.newUser(t, "gina", bizPassword)
	w.olga = w.newUser(t, "olga", bizPassword)
	w.bea = w.newUser(t, "bea", bizPassword)
	w.ned = w.newUser(t, "ned", bizPassword)

	w.parent = w.intOf(t, w.admin201(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": w.tenant, "org_name": "Parent"}), "org_id")
	w.child = w.intOf(t, w.admin201(t, http.MethodPost, "/api/v1/orgs",
		map[string]any{"tenant_id": w.tenant, "org_name": "Child", "parent_org_id": w.parent}), "org_id")
	w.admin201(t, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": w.tenant, "org_id": w.child,
		"uids": []int64{w.olga.id}, "position": "p", "job": "j"})
	w.admin201(t, http.MethodPost, "/api/v1/tenants/org-roles", map[string]any{"tenant_id": w.tenant, "role_id": "developer", "org_id": w.parent})

	w.group = w.intOf(t, w.admin201(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": w.tenant, "group_name": "G"}), "group_id")
	w.admin201(t, http.MethodPost, "/api/v1/user-group-members?tenant-id="+w.tenant.String(), map[string]any{"group_id": w.group, "uid": w.gina.id})
	w.groupGrant = w.intOf(t, w.admin201(t, http.MethodPost, "/api/v1/tenants/group-roles",
		map[string]any{"tenant_id": w.tenant, "role_id": "viewer", "group_id": w.group}), "id")

	put := w.do(t, http.MethodPut, bizIDPath(w.b2, "user-roles"), map[string]any{"uid": w.bea.id, "role_ids": []string{"developer"}},
		http.Header{"Authorization": {"Bearer " + w.admin.token}, "X-Tenant-Id": {w.tenant.String()}})
	require.Equal(t, http.StatusOK, put.status, put.raw)

	flow := func(name string, business, org int64) string {
		return w.createFlow(t, w.admin.token, map[string]any{"name": name, "tenant_id": w.tenant, "business_id": business, "org_id": org})["id"].(string)
	}
	w.f1, w.f2, w.f3, w.f4 = flow("f1", w.b1, 0), flow("f2", w.b2, 0), flow("f3", w.b3, w.parent), flow("f4", 0, 0)
	w.fo = flow("fo", 0, w.child)
	return w
}

// admin201 sends body as the superuser and requires 201.
func (w *rbacWorld) admin201(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	r := w.call(t, method, path, body, w.admin.token)
	require.Equal(t, http.StatusCreated, r.status, "%s %s: %s", method, path, r.raw)
	if strings.HasPrefix(r.raw, "[") {
		return r.objects(t)[0]
	}
	return r.obj(t)
}

func (w *rbacWorld) intOf(t *testing.T, row map[string]any, key string) int64 {
	t.Helper()
	f, ok := row[key].(float64)
	require.True(t, ok, "no %s in %v", key, row)
	return int64(f)
}

// explain asks Explain Permission as the superuser.
func (w *rbacWorld) explain(t *testing.T, uid int64, module, priv string, business int64) map[string]any {
	t.Helper()
	r := w.call(t, http.MethodGet, fmt.Sprintf("/api/v1/permissions/explain?uid=%d&module_id=%s&priv_id=%s&tenant_id=%s&business_id=%d",
		uid, module, priv, w.tenant, business), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.obj(t)
}

// listNames lists flows as token in the world's tenant with query and
// returns their names, sorted.
func (w *rbacWorld) listNames(t *testing.T, token, query string) []string {
	t.Helper()
	r := w.get(t, "/api/v1/flows/?get_all=true&"+query, token, w.tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var names []string
	for _, f := range r.objects(t) {
		names = append(names, f["name"].(string))
	}
	sort.Strings(names)
	return names
}

func TestRBAC_ExplainEveryPath(t *testing.T) {
	t.Parallel()
	w := rbacStart(t)

	e := w.explain(t, w.gina.id, "flows", "read", 0)
	assert.Equal(t, true, e["holds"])
	require.Len(t, e["paths"], 1, e)
	p := e["paths"].([]any)[0].(map[string]any)
	assert.Equal(t, "group", p["via"])
	assert.Equal(t, "viewer", p["role_id"])
	assert.Equal(t, "Viewer", p["role_name"])
	assert.EqualValues(t, w.group, p["group_id"])
	assert.Equal(t, false, w.explain(t, w.gina.id, "flows", "write", 0)["holds"], "viewers do not write")

	e = w.explain(t, w.olga.id, "flows", "write", 0)
	assert.Equal(t, true, e["holds"])
	p = e["paths"].([]any)[0].(map[string]any)
	assert.Equal(t, "org", p["via"])
	assert.Equal(t, "developer", p["role_id"])
	assert.EqualValues(t, w.parent, p["org_id"], "granted to the ancestor org")
	assert.EqualValues(t, w.child, p["member_org_id"], "held as a member of its child")
	assert.Equal(t, true, p["inherited"])
	// A disabled org gives its members nothing; enabled again, it does.
	for _, on := range []bool{false, true} {
		r := w.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/orgs/%d?tenant-id=%s", w.child, w.tenant), map[string]any{"is_enable": on}, w.admin.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, on, w.explain(t, w.olga.id, "flows", "write", 0)["holds"], "child org enabled: %v", on)
	}

	e = w.explain(t, w.bea.id, "flows", "write", w.b3)
	assert.Equal(t, true, e["holds"])
	p = e["paths"].([]any)[0].(map[string]any)
	assert.Equal(t, "business", p["via"])
	assert.EqualValues(t, w.b2, p["business_id"], "held in b2, inherited by b3")
	assert.Equal(t, true, p["inherited"])
	assert.Equal(t, false, w.explain(t, w.bea.id, "flows", "write", w.b1)["holds"], "not above the business")
	assert.Equal(t, false, w.explain(t, w.bea.id, "flows", "write", w.bx)["holds"], "not in a sibling")
	assert.Equal(t, false, w.explain(t, w.bea.id, "flows", "write", 0)["holds"], "not tenant-wide")
	// A disabled business holds no role, its own or inherited; enabled
	// again, it does.
	w.patch(t, w.b3, map[string]any{"is_enable": false}, http.StatusOK)
	assert.Equal(t, false, w.explain(t, w.bea.id, "flows", "write", w.b3)["holds"], "b3 disabled")
	requireDetail(t, w.call(t, http.MethodGet, "/api/v1/flows/"+w.f3, nil, w.bea.token), http.StatusNotFound, "Flow not found")
	assert.Equal(t, true, w.explain(t, w.bea.id, "flows", "write", w.b2)["holds"], "b2 still enabled")
	w.patch(t, w.b2, map[string]any{"is_enable": false}, http.StatusOK)
	assert.Equal(t, false, w.explain(t, w.bea.id, "flows", "write", w.b2)["holds"], "b2 disabled")
	requireDetail(t, w.call(t, http.MethodGet, "/api/v1/flows/"+w.f2, nil, w.bea.token), http.StatusNotFound, "Flow not found")
	w.patch(t, w.b2, map[string]any{"is_enable": true}, http.StatusOK)
	w.patch(t, w.b3, map[string]any{"is_enable": true}, http.StatusOK)
	assert.Equal(t, true, w.explain(t, w.bea.id, "flows", "write", w.b3)["holds"], "enabled again")

	e = w.explain(t, w.ned.id, "flows", "read", 0)
	assert.Equal(t, map[string]any{"uid": float64(w.ned.id), "module_id": "flows", "priv_id": "read", "tenant_id": w.tenant.String(),
		"business_id": 0.0, "holds": false, "paths": []any{}}, e)
	e = w.explain(t, w.admin.id, "tenants", "delete", 0)
	assert.Equal(t, true, e["holds"])
	assert.Equal(t, "superuser", e["paths"].([]any)[0].(map[string]any)["via"])

	// Only holders of permissions.read in the tenant may ask; bad input is 422, an unknown user 404.
	q := fmt.Sprintf("/api/v1/permissions/explain?uid=%d&module_id=flows&priv_id=read&tenant_id=%s", w.ned.id, w.tenant)
	requireForbidden(t, w.call(t, http.MethodGet, q, nil, w.ned.token))
	assert.Equal(t, http.StatusOK, w.call(t, http.MethodGet, q, nil, w.gina.token).status, "viewers read permissions")
	assert.Equal(t, http.StatusUnprocessableEntity, w.call(t, http.MethodGet, "/api/v1/permissions/explain?uid=x&module_id=flows&priv_id=read", nil, w.admin.token).status)
	assert.Equal(t, http.StatusUnprocessableEntity, w.call(t, http.MethodGet, "/api/v1/permissions/explain?module_id=flows&priv_id=read", nil, w.admin.token).status)
	requireDetail(t, w.call(t, http.MethodGet, "/api/v1/permissions/explain?uid=999999&module_id=flows&priv_id=read", nil, w.admin.token),
		http.StatusNotFound, "User not found")
}

func TestRBAC_GrantAndRevokeTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	w := rbacStart(t)
	orgs := "/api/v1/orgs?tenant-id=" + w.tenant.String()
	assert.Equal(t, http.StatusOK, w.call(t, http.MethodGet, orgs, nil, w.gina.token).status, "a viewer through her group reads")
	requireForbidden(t, w.call(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": w.tenant, "org_name": "X"}, w.gina.token))
	requireForbidden(t, w.call(t, http.MethodGet, orgs, nil, w.ned.token))

	// Revoked: the very next request is refused.
	r := w.call(t, http.MethodDelete, fmt.Sprintf("/api/v1/tenants/group-roles/%d?tenant_id=%s", w.groupGrant, w.tenant), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireForbidden(t, w.call(t, http.MethodGet, orgs, nil, w.gina.token))
	// Granted directly: the very next request passes, and writes.
	w.grantRole(t, w.admin.token, w.tenant, w.gina.id, "tenant_admin")
	r = w.call(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": w.tenant, "org_name": "Gina's"}, w.gina.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	// Leaving the org takes olga's inherited developer role away.
	members := w.call(t, http.MethodGet, fmt.Sprintf("/api/v1/org-members?tenant-id=%s&org-id=%d", w.tenant, w.child), nil, w.admin.token)
	require.Equal(t, http.StatusOK, members.status, members.raw)
	member := members.objects(t)[0]["id"]
	require.Equal(t, true, w.explain(t, w.olga.id, "flows", "write", 0)["holds"])
	r = w.call(t, http.MethodDelete, fmt.Sprintf("/api/v1/org-members/%v?tenant-id=%s", member, w.tenant), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, w.explain(t, w.olga.id, "flows", "write", 0)["holds"])
	requireForbidden(t, w.get(t, "/api/v1/flows/", w.olga.token, w.tenant))

	// The read model is a function of the log: rebuilt from 0, the same rows.
	dump := func() []string {
		return w.textRows(t, `SELECT format('%s %s %s %s %s %s', uid, tenant_id, module_id, priv_id, business_id, direct)
FROM access_privileges ORDER BY 1`)
	}
	before := dump()
	require.NotEmpty(t, before)
	require.NoError(t, w.app.Runtime().Rebuild(context.Background(), "access", nil))
	assert.Equal(t, before, dump())
}

func TestRBAC_FlowsByScope(t *testing.T) {
	t.Parallel()
	w := rbacStart(t)
	all := []string{"f1", "f2", "f3", "f4", "fo"}

	// Lists: tenant-wide readers see every flow of the tenant; business
	// holders those of the businesses they hold a role in (and below with
	// include_scope_sub_businesses); nobody sees a flow they may not read.
	assert.Equal(t, all, w.listNames(t, w.admin.token, ""))
	assert.Equal(t, all, w.listNames(t, w.gina.token, ""))
	assert.Equal(t, all, w.listNames(t, w.olga.token, ""))
	assert.Equal(t, []string{"f2"}, w.listNames(t, w.bea.token, ""))
	assert.Equal(t, []string{"f2", "f3"}, w.listNames(t, w.bea.token, "include_scope_sub_businesses=true"))
	requireForbidden(t, w.get(t, "/api/v1/flows/", w.ned.token, w.tenant))
	ned := w.call(t, http.MethodGet, "/api/v1/flows/", nil, w.ned.token)
	require.Equal(t, http.StatusOK, ned.status, ned.raw)
	assert.Empty(t, ned.list(t), "without X-Tenant-Id: one's own flows, as in Langflow")

	// The tenancy filters.
	assert.Equal(t, []string{"f2"}, w.listNames(t, w.gina.token, fmt.Sprintf("filter-business-id=%d", w.b2)))
	assert.Equal(t, []string{"f2", "f3"}, w.listNames(t, w.gina.token, fmt.Sprintf("filter-business-id=%d&include-sub-businesses=true", w.b2)))
	assert.Equal(t, []string{"f1", "f2", "f3"}, w.listNames(t, w.gina.token, fmt.Sprintf("filter-business-id=%d&include-sub-businesses=true", w.b1)))
	assert.Equal(t, []string{"f3"}, w.listNames(t, w.gina.token, fmt.Sprintf("org_id=%d", w.parent)))
	assert.Equal(t, []string{"f3", "fo"}, w.listNames(t, w.gina.token, fmt.Sprintf("org_id=%d&include_descendant_orgs=true", w.parent)))

	// One flow: readable where the privilege is held, else not found; writable with modify.
	assert.Equal(t, http.StatusOK, w.call(t, http.MethodGet, "/api/v1/flows/"+w.f3, nil, w.bea.token).status)
	requireDetail(t, w.call(t, http.MethodGet, "/api/v1/flows/"+w.f1, nil, w.bea.token), http.StatusNotFound, "Flow not found")
	requireDetail(t, w.call(t, http.MethodGet, "/api/v1/flows/"+w.f3, nil, w.ned.token), http.StatusNotFound, "Flow not found")
	r := w.call(t, http.MethodPatch, "/api/v1/flows/"+w.f3, map[string]any{"description": "by bea"}, w.bea.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "by bea", r.obj(t)["description"])
	requireDetail(t, w.call(t, http.MethodPatch, "/api/v1/flows/"+w.f3, map[string]any{"description": "by gina"}, w.gina.token),
		http.StatusNotFound, "Flow not found")
	// Placing a flow: in a business one holds flows.write in, yes; elsewhere in the tenant, no.
	r = w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "mine", "tenant_id": w.tenant, "business_id": w.b3}, w.bea.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	requireForbidden(t, w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "no", "tenant_id": w.tenant, "business_id": w.b1}, w.bea.token))
	requireForbidden(t, w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "no", "tenant_id": w.tenant}, w.bea.token))
	// Tenant administration needs the privilege tenant-wide: bea reads
	// the audit of no tenant with her business role; olga (tenant-wide) does.
	audit := "/api/v1/audit/events?tenant_id=" + w.tenant.String()
	requireForbidden(t, w.call(t, http.MethodGet, audit, nil, w.bea.token))
	assert.Equal(t, http.StatusOK, w.call(t, http.MethodGet, audit, nil, w.olga.token).status)
	// Everyone keeps their personal workspace.
	r = w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "personal"}, w.ned.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
}
