package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// brolesStart serves the businesses world with the permission catalogue
// (its seeded system roles: tenant_admin, business_admin, developer,
// viewer).
func brolesStart(t *testing.T) *bizWorld {
	t.Helper()
	h := startApp(t, options{
		env: adminEnv(bizAdmin, bizAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Flows{}, app.Projects{}, app.Tenants{}, app.Permissions{},
			app.Businesses{}},
	})
	return &bizWorld{harness: h, admin: h.signIn(t, bizAdmin, bizAdminPassword)}
}

// brolesSet sends Upsert Business User Roles as token and requires want.
func brolesSet(t *testing.T, w *bizWorld, token string, business int64, body map[string]any, want int) reply {
	t.Helper()
	r := w.call(t, http.MethodPut, bizIDPath(business, "user-roles"), body, token)
	require.Equal(t, want, r.status, "set %v: %s", body, r.raw)
	return r
}

// brolesRoles lists the role_id of each row.
func brolesRoles(rows []map[string]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r["role_id"].(string)
	}
	return out
}

// brolesList reads Read Business User Roles of business with query, as
// the superuser with tenant's header.
func brolesList(t *testing.T, w *bizWorld, business int64, tenant uuid.UUID, query string) []map[string]any {
	t.Helper()
	r := w.get(t, bizIDPath(business, "user-roles")+"?"+query, w.admin.token, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

func brolesIDs(rows []map[string]any) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r["id"].(float64))
	}
	return out
}

func brolesField(rows []map[string]any, k string) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r[k]
	}
	return out
}

func TestBusinessRoles_SetListRemove(t *testing.T) {
	w := brolesStart(t)
	ten := w.tenant(t, "Roles A")
	biz := bizID(t, w.add(t, ten, "Sales", 1, 0, 0))
	other := bizID(t, w.add(t, ten, "Ops", 1, 0, 0))
	ann := w.newUser(t, "ann", bizPassword, map[string]any{"nickname": "Zed"})
	bob := w.newUser(t, "bob", bizPassword, map[string]any{"nickname": "Amy"})
	path := bizIDPath(biz, "user-roles")

	// Set, answered with the user's rows.
	rows := brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": ann.id, "role_ids": []string{"viewer", "developer"}},
		http.StatusOK).objects(t)
	require.Equal(t, []string{"developer", "viewer"}, brolesRoles(rows))
	for _, r := range rows {
		assert.Equal(t, float64(biz), r["business_id"])
		assert.Equal(t, float64(ann.id), r["uid"])
		assert.Equal(t, "ann", r["username"])
		assert.Equal(t, "Zed", r["nickname"])
		assert.Equal(t, float64(w.admin.id), r["c_uid"])
		assert.NotEmpty(t, r["ctime"])
	}
	assert.Equal(t, "Developer", rows[0]["role_name"])
	devID := rows[0]["id"]
	// Replace: developer stays (same relation), viewer goes, business_admin comes.
	rows = brolesSet(t, w, w.admin.token, biz, map[string]any{"username": "ANN", "role_ids": []string{"business_admin", "developer", "developer"}},
		http.StatusOK).objects(t)
	require.Equal(t, []string{"business_admin", "developer"}, brolesRoles(rows))
	assert.Equal(t, devID, rows[1]["id"])
	// The same set again changes nothing.
	again := brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": ann.id, "role_ids": []string{"developer", "business_admin"}},
		http.StatusOK).objects(t)
	assert.Equal(t, brolesIDs(rows), brolesIDs(again))
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": bob.id, "role_ids": []string{"viewer"}}, http.StatusOK)

	// Mistakes.
	requireDetail(t, brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": ann.id, "role_ids": []string{"viewer", "nope"}},
		http.StatusNotFound), http.StatusNotFound, `Role "nope" not found`)
	requireDetail(t, brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": 999999, "role_ids": []string{"viewer"}},
		http.StatusNotFound), http.StatusNotFound, "User not found")
	requireDetail(t, brolesSet(t, w, w.admin.token, biz, map[string]any{"username": "ghost", "role_ids": []string{"viewer"}},
		http.StatusNotFound), http.StatusNotFound, "User not found")
	brolesSet(t, w, w.admin.token, biz, map[string]any{"role_ids": []string{"viewer"}}, http.StatusUnprocessableEntity)
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": ann.id, "username": "bob", "role_ids": []string{"viewer"}},
		http.StatusUnprocessableEntity)
	requireDetail(t, brolesSet(t, w, w.admin.token, 999999, map[string]any{"uid": ann.id, "role_ids": []string{"viewer"}},
		http.StatusNotFound), http.StatusNotFound, "Business not found")
	// An inactive user is granted nothing, but loses roles.
	cy := w.newUser(t, "cy", bizPassword)
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": cy.id, "role_ids": []string{"viewer"}}, http.StatusOK)
	r := w.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", cy.id), map[string]any{"is_active": false}, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireDetail(t, brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": cy.id, "role_ids": []string{"viewer", "developer"}},
		http.StatusConflict), http.StatusConflict, fmt.Sprintf("User %d is not active: roles are granted to active users only", cy.id))
	assert.Empty(t, brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": cy.id, "role_ids": []string{}}, http.StatusOK).list(t))
	// A disabled business takes no new roles.
	w.patch(t, other, map[string]any{"is_enable": false}, http.StatusOK)
	brolesSet(t, w, w.admin.token, other, map[string]any{"uid": ann.id, "role_ids": []string{"viewer"}}, http.StatusConflict)
	// Non-superusers may read but not write.
	w.refused(t, http.MethodPut, path, map[string]any{"uid": bob.id, "role_ids": []string{"viewer"}}, bob.token, ten)
	w.refused(t, http.MethodDelete, path, map[string]any{"ids": []int64{1}}, bob.token, ten)
	w.refused(t, http.MethodDelete, path+"/1", nil, bob.token, ten)
	w.refused(t, http.MethodDelete, bizIDPath(biz, "users", fmt.Sprint(ann.id)), nil, bob.token, ten)

	// List: default by uid, sorts and search.
	all := brolesList(t, w, biz, ten, "")
	require.Len(t, all, 3)
	assert.Equal(t, []any{float64(ann.id), float64(ann.id), float64(bob.id)}, brolesField(all, "uid"))
	assert.Equal(t, []any{"Amy", "Zed", "Zed"}, brolesField(brolesList(t, w, biz, ten, "sort_by=nickname"), "nickname"))
	assert.Equal(t, []string{"viewer", "developer", "business_admin"},
		brolesRoles(brolesList(t, w, biz, ten, "sort_by=role_id&sort_order=desc")))
	assert.Equal(t, []any{"Business Admin", "Developer", "Viewer"}, brolesField(brolesList(t, w, biz, ten, "sort_by=role_name"), "role_name"))
	assert.Equal(t, []any{"bob", "ann", "ann"}, brolesField(brolesList(t, w, biz, ten, "sort_by=username&sort_order=desc"), "username"))
	assert.Equal(t, []string{"viewer"}, brolesRoles(brolesList(t, w, biz, ten, "search=AMY")))
	assert.Equal(t, []string{"developer", "business_admin"}, brolesRoles(brolesList(t, w, biz, ten, "search=ann")),
		"ties by relation id")
	assert.Equal(t, []string{"developer"}, brolesRoles(brolesList(t, w, biz, ten, "search="+url.QueryEscape("elop"))))
	assert.Empty(t, brolesList(t, w, biz, ten, "search=%25"))
	r = w.get(t, path+"?sort_by=ctime", w.admin.token, ten)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	// Any user of the tenant reads.
	r = w.get(t, path, bob.token, uuid.Nil)
	require.Equal(t, http.StatusNotFound, r.status, "bob reads in the system tenant: %s", r.raw)

	// #100: users with roles are no candidates.
	cands := w.get(t, bizIDPath(biz, "user-candidates")+"?limit=100", w.admin.token, ten)
	require.Equal(t, http.StatusOK, cands.status, cands.raw)
	for _, u := range cands.obj(t)["users"].([]any) {
		id := u.(map[string]any)["id"]
		assert.NotContains(t, []any{float64(ann.id), float64(bob.id)}, id)
	}
	cands = w.get(t, bizIDPath(other, "user-candidates")+"?search=ann", w.admin.token, ten)
	assert.EqualValues(t, 1, cands.obj(t)["total_count"], cands.raw)

	// Batch removal: ids of other businesses and unknown ids are ignored.
	ids := brolesIDs(all)
	r = w.call(t, http.MethodDelete, path, map[string]any{"ids": []int64{ids[0], 99999999}}, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"deleted_count": float64(1)}, r.obj(t))
	r = w.call(t, http.MethodDelete, bizIDPath(other, "user-roles"), map[string]any{"ids": ids}, w.admin.token)
	assert.Equal(t, map[string]any{"deleted_count": float64(0)}, r.obj(t))
	r = w.call(t, http.MethodDelete, path, map[string]any{}, w.admin.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	// Single removal; the user's last role takes the membership along.
	r = w.call(t, http.MethodDelete, fmt.Sprintf("%s/%d", path, ids[2]), nil, w.admin.token)
	requireDetail(t, r, http.StatusOK, "Business user role deleted")
	r = w.call(t, http.MethodDelete, fmt.Sprintf("%s/%d", path, ids[2]), nil, w.admin.token)
	requireDetail(t, r, http.StatusNotFound, "Business user role not found")
	cands = w.get(t, bizIDPath(biz, "user-candidates")+"?search=bob", w.admin.token, ten)
	assert.EqualValues(t, 1, cands.obj(t)["total_count"], "bob is a candidate again: %s", cands.raw)
	assert.Len(t, brolesList(t, w, biz, ten, ""), 1)

	// #105 with real roles, and clearing with an empty set.
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": ann.id, "role_ids": []string{"viewer", "tenant_admin", "developer"}}, http.StatusOK)
	r = w.call(t, http.MethodDelete, bizIDPath(biz, "users", fmt.Sprint(ann.id)), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"deleted_count": float64(3)}, r.obj(t))
	assert.Empty(t, brolesList(t, w, biz, ten, ""))
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": bob.id, "role_ids": []string{"viewer"}}, http.StatusOK)
	cleared := brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": bob.id, "role_ids": []string{}}, http.StatusOK)
	assert.Empty(t, cleared.list(t))
	assert.Empty(t, w.rows(t, `SELECT uid::text FROM business_users WHERE business_id = $1`, biz))
	// A business with users cannot be removed.
	brolesSet(t, w, w.admin.token, biz, map[string]any{"uid": bob.id, "role_ids": []string{"viewer"}}, http.StatusOK)
	r = w.call(t, http.MethodDelete, bizIDPath(biz), nil, w.admin.token)
	requireDetail(t, r, http.StatusConflict, fmt.Sprintf("Business %d still has 1 user (%d)", biz, bob.id))
}

func TestBusinessRoles_TenantScopingAndRebuild(t *testing.T) {
	w := brolesStart(t)
	ta, tb := w.tenant(t, "Scope A"), w.tenant(t, "Scope B")
	a := bizID(t, w.add(t, ta, "A", 1, 0, 0))
	a1 := bizID(t, w.add(t, ta, "A1", 2, a, 0))
	b := bizID(t, w.add(t, tb, "B", 1, 0, 0))
	u1 := w.newUser(t, "u1", bizPassword)
	u2 := w.newUser(t, "u2", bizPassword)
	brolesSet(t, w, w.admin.token, a, map[string]any{"uid": u1.id, "role_ids": []string{"viewer", "developer"}}, http.StatusOK)
	brolesSet(t, w, w.admin.token, a1, map[string]any{"uid": u2.id, "role_ids": []string{"business_admin"}}, http.StatusOK)
	brolesSet(t, w, w.admin.token, b, map[string]any{"uid": u1.id, "role_ids": []string{"tenant_admin"}}, http.StatusOK)
	brolesSet(t, w, w.admin.token, a, map[string]any{"uid": u1.id, "role_ids": []string{"viewer"}}, http.StatusOK)

	// Business A is not seen through tenant B, nor B's roles through A.
	r := w.get(t, bizIDPath(a, "user-roles"), w.admin.token, tb)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	bRows := brolesList(t, w, b, tb, "")
	assert.Equal(t, []string{"tenant_admin"}, brolesRoles(bRows))
	aRows := brolesList(t, w, a, ta, "")
	assert.Equal(t, []string{"viewer"}, brolesRoles(aRows))
	// Removing A's relation through B is ignored (0), through A works.
	r = w.call(t, http.MethodDelete, bizIDPath(b, "user-roles"), map[string]any{"ids": brolesIDs(aRows)}, w.admin.token)
	assert.Equal(t, map[string]any{"deleted_count": float64(0)}, r.obj(t))
	h := bearer(w.admin.token)
	h.Set(tenancy.HeaderTenantID, tb.String())
	r = w.do(t, http.MethodDelete, fmt.Sprintf("%s/%d", bizIDPath(a, "user-roles"), brolesIDs(aRows)[0]), nil, h)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	assert.Equal(t, brolesIDs(aRows), brolesIDs(brolesList(t, w, a, ta, "")))
	assert.Equal(t, brolesIDs(bRows), brolesIDs(brolesList(t, w, b, tb, "")))

	const (
		rolesQ = `SELECT x::text FROM business_user_roles x ORDER BY id`
		usersQ = `SELECT x::text FROM business_users x ORDER BY business_id, uid`
	)
	roles, users := w.rows(t, rolesQ), w.rows(t, usersQ)
	require.Len(t, roles, 3)
	require.Len(t, users, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.app.Runtime().Rebuild(ctx, "businesses", nil))
	assert.Equal(t, roles, w.rows(t, rolesQ))
	assert.Equal(t, users, w.rows(t, usersQ))
}
