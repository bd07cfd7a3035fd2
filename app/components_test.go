package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// compStart serves an App with the Identity, Components, Businesses (for
// business roles) and permission modules on a fresh database with the
// system tenant row.
func compStart(t *testing.T) *ugServer {
	t.Helper()
	s := &ugServer{harness: startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Components{}, app.Businesses{}, app.Permissions{}, app.TenantGrants{}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

// compGroup adds a group to tenant as the superuser and requires 201.
func compGroup(t *testing.T, s *ugServer, tenant uuid.UUID, body map[string]any) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, "/api/v1/component-groups", body, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// compAdd adds a component to tenant as the superuser and requires 201.
func compAdd(t *testing.T, s *ugServer, tenant uuid.UUID, body map[string]any) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, "/api/v1/components", body, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// compAs sends a request as token naming no tenant (the system tenant:
// a business role there is enough for the enforcer).
func compAs(t *testing.T, s *ugServer, method, path string, body any, token string) reply {
	t.Helper()
	return s.do(t, method, path, body, bearer(token))
}

func compDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	return append(s.textRows(t, `SELECT row_to_json(g)::text FROM component_groups g ORDER BY id`),
		s.textRows(t, `SELECT row_to_json(c)::text FROM components c ORDER BY id`)...)
}

// compBusiness adds a business of tenant (level 1, or below parent) as
// the superuser.
func compBusiness(t *testing.T, s *ugServer, tenant uuid.UUID, name string, parent int64) int64 {
	t.Helper()
	level := 1
	if parent != 0 {
		level = 2
	}
	r := dictCall(t, s, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": tenant, "business_name": name,
		"business_level": level, "first_business_id": parent, "second_business_id": 0}, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return ugInt(t, r.obj(t)["business_id"])
}

// compBusinessRole gives uid role in business of tenant.
func compBusinessRole(t *testing.T, s *ugServer, tenant uuid.UUID, business, uid int64, role string) {
	t.Helper()
	r := dictCall(t, s, http.MethodPut, fmt.Sprintf("/api/v1/businesses/%d/user-roles", business),
		map[string]any{"uid": uid, "role_ids": []string{role}}, s.admin, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
}

func compNames(rows []map[string]any) []string { return ugField(rows, "component_name") }

// Groups: add (defaults, the spec's fields and the audit fields), the
// FastAPI-style 422s of bad input (nothing written), group_en_name unique
// per place (409), list filters, patch, the removal refused while the
// group has components (409 naming the count), unknown ids (404) and
// non-integer ones (422).
func TestComponentGroups_CRUDAndValidation(t *testing.T) {
	t.Parallel()
	s := compStart(t)
	ta := s.tenant(t, "A")
	g := compGroup(t, s, ta, map[string]any{"group_name": "Inputs", "group_en_name": "inputs", "component_type": "component",
		"tags": []string{"io", "basic"}, "note": "the inputs"})
	for k, v := range map[string]any{"group_name": "Inputs", "group_en_name": "inputs", "component_type": "component",
		"icon": "", "order_num": float64(0), "is_active": true, "note": "the inputs", "scope": float64(1), "business_id": nil} {
		assert.Equal(t, v, g[k], k)
	}
	assert.Equal(t, []any{"io", "basic"}, g["tags"])
	for _, k := range []string{"id", "c_uid", "m_uid", "ctime", "utime"} {
		assert.Contains(t, g, k)
	}
	assert.EqualValues(t, s.adminID, ugInt(t, g["c_uid"]))
	bundle := compGroup(t, s, ta, map[string]any{"group_name": "Bundles", "group_en_name": "bundles", "component_type": "bundle",
		"order_num": -1, "is_active": false})

	head := s.head(t)
	for _, body := range []map[string]any{
		{"group_en_name": "x", "component_type": "component"},
		{"group_name": "x", "component_type": "component"},
		{"group_name": "x", "group_en_name": "x"},
		{"group_name": "x", "group_en_name": "x", "component_type": "widget"},
		{"group_name": "x", "group_en_name": "x", "component_type": "component", "scope": 4},
		{"group_name": "x", "group_en_name": "x", "component_type": "component", "scope": 2},
		{"group_name": "x", "group_en_name": "x", "component_type": "component", "business_id": 3},
		{"group_name": "x", "group_en_name": "x", "component_type": "component", "order_num": "first"},
		{"group_name": "  ", "group_en_name": "x", "component_type": "component"},
		{"group_name": strings.Repeat("n", 256), "group_en_name": "x", "component_type": "component"},
	} {
		r := dictCall(t, s, http.MethodPost, "/api/v1/component-groups", body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
		assert.IsType(t, []any{}, r.detail(), r.raw)
	}
	r := dictCall(t, s, http.MethodPost, "/api/v1/component-groups", map[string]any{"group_name": "Again", "group_en_name": "Inputs",
		"component_type": "bundle"}, s.admin, ta)
	assert.Equal(t, http.StatusConflict, r.status, r.raw)
	gPath := ugPath("/api/v1/component-groups", g["id"])
	ugDetail(t, dictCall(t, s, http.MethodPatch, "/api/v1/component-groups/999999?scope=1", map[string]any{"note": "x"}, s.admin, ta),
		http.StatusNotFound, domain.MsgGroupNotFound)
	ugDetail(t, dictCall(t, s, http.MethodPatch, gPath+"?scope=2", map[string]any{"note": "x"}, s.admin, ta),
		http.StatusNotFound, domain.MsgGroupNotFound)
	for _, p := range []string{"/api/v1/component-groups/abc?scope=1", gPath, gPath + "?scope=x"} {
		r := dictCall(t, s, http.MethodPatch, p, map[string]any{"note": "x"}, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", p, r.raw)
	}
	assert.Equal(t, head, s.head(t), "nothing written")

	// Lists: by order_num, filtered.
	list := func(kv ...any) []string {
		return ugField(dictList(t, s, ta, "/api/v1/component-groups", kv...), "group_en_name")
	}
	assert.Equal(t, []string{"bundles", "inputs"}, list())
	assert.Equal(t, []string{"inputs"}, list("component_type", "component"))
	assert.Equal(t, []string{"inputs"}, list("is_active", true))
	assert.Equal(t, []string{"inputs"}, list("keyword", "THE INP"))
	assert.Empty(t, list("scope", 3))
	r = dictCall(t, s, http.MethodGet, "/api/v1/component-groups?component_type=widget", nil, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Patch.
	r = dictCall(t, s, http.MethodPatch, gPath+"?scope=1", map[string]any{"group_name": "Input things", "tags": []string{"io"},
		"order_num": 5, "note": nil}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Input things", r.obj(t)["group_name"])
	assert.Equal(t, []any{"io"}, r.obj(t)["tags"])
	assert.Equal(t, "the inputs", r.obj(t)["note"])
	r = dictCall(t, s, http.MethodPatch, gPath+"?scope=1", map[string]any{"group_en_name": "bundles"}, s.admin, ta)
	assert.Equal(t, http.StatusConflict, r.status, r.raw)

	// Moves: not between the system scope and the tenant's (422); to a
	// business of the tenant, then back.
	r = dictCall(t, s, http.MethodPatch, gPath+"?scope=1", map[string]any{"scope": 0}, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	biz := compBusiness(t, s, ta, "A1", 0)
	r = dictCall(t, s, http.MethodPatch, gPath+"?scope=1", map[string]any{"scope": 2, "business_id": biz}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, biz, ugInt(t, r.obj(t)["business_id"]))
	assert.Equal(t, []string{"bundles"}, list())
	assert.Equal(t, []string{"inputs"}, list("business_id", biz))
	r = dictCall(t, s, http.MethodPatch, gPath+ugQuery("scope", 2, "business_id", biz), map[string]any{"scope": 1}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Nil(t, r.obj(t)["business_id"])

	// A group with components is not removed: 409 naming how many.
	for i := range 2 {
		compAdd(t, s, ta, map[string]any{"component_group_id": g["id"], "component_name": fmt.Sprintf("c%d", i)})
	}
	ugDetail(t, dictCall(t, s, http.MethodDelete, gPath+"?scope=1", nil, s.admin, ta), http.StatusConflict, "still has 2 component(s)")
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/component-groups", bundle["id"])+"?scope=1", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Component group deleted", r.obj(t)["detail"])
	assert.Equal(t, []string{"inputs"}, list())
}

// Components: add (defaults, executable false, builtin for an engine
// component's name), read by id at its scope, 422s for bad input, 404 for
// unknown, non-integer or misplaced ids; filters and sorts (sort_by
// validated); versions from the stream's history (3 code patches: 4
// versions, newest first; a patch not touching code or component_skill
// records none); removal; an identical rebuild.
func TestComponents_CRUDVersionsAndRebuild(t *testing.T) {
	t.Parallel()
	s := compStart(t)
	ta := s.tenant(t, "A")
	g := compGroup(t, s, ta, map[string]any{"group_name": "G", "group_en_name": "g", "component_type": "component"})
	b := compGroup(t, s, ta, map[string]any{"group_name": "B", "group_en_name": "b", "component_type": "bundle"})
	c := compAdd(t, s, ta, map[string]any{"component_group_id": g["id"], "component_name": "MyTool", "display_name": "My tool",
		"tag": "tools, ai", "code": "print(1)", "component_skill": "does one", "version_note": "first"})
	for k, v := range map[string]any{"component_name": "MyTool", "display_name": "My tool", "tag": "tools, ai", "code": "print(1)",
		"component_skill": "does one", "note": "", "icon": "", "version": float64(1), "is_active": true, "is_legacy": false,
		"is_deprecated": false, "scope": float64(1), "business_id": nil, "executable": false, "builtin": false,
		"component_type": "component", "component_group_id": g["id"]} {
		assert.Equal(t, v, c[k], k)
	}
	id, ok := c["id"].(string)
	require.True(t, ok, "component id is a string: %v", c["id"])
	for _, k := range []string{"c_uid", "m_uid", "ctime", "utime"} {
		assert.Contains(t, c, k)
	}
	chat := compAdd(t, s, ta, map[string]any{"component_group_id": g["id"], "component_name": "ChatInput", "is_legacy": true})
	assert.Equal(t, true, chat["builtin"])
	assert.Equal(t, false, chat["executable"])
	old := compAdd(t, s, ta, map[string]any{"component_group_id": b["id"], "component_name": "Zeta", "is_deprecated": true,
		"is_active": false, "note": "old stuff"})

	cPath := "/api/v1/components/" + id
	r := dictCall(t, s, http.MethodGet, cPath+"?scope=1", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, c, r.obj(t))
	for _, p := range []string{cPath + "?scope=2", cPath + "?scope=0", "/api/v1/components/abc?scope=1", "/api/v1/components/999999?scope=1",
		"/api/v1/components/-1?scope=1"} {
		ugDetail(t, dictCall(t, s, http.MethodGet, p, nil, s.admin, ta), http.StatusNotFound, domain.MsgComponentNotFound)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, dictCall(t, s, http.MethodGet, cPath, nil, s.admin, ta).status, "scope is required")
	ugDetail(t, dictCall(t, s, http.MethodGet, cPath+"?scope=1", nil, s.admin, s.tenant(t, "Other")), http.StatusNotFound, domain.MsgComponentNotFound)

	head := s.head(t)
	for _, body := range []map[string]any{
		{"component_name": "x"},
		{"component_group_id": 999999, "component_name": "x"},
		{"component_group_id": g["id"], "scope": 7},
		{"component_group_id": g["id"], "scope": 2},
		{"component_group_id": g["id"], "is_legacy": "yes"},
		{"component_group_id": "one"},
		{"component_group_id": g["id"], "component_name": strings.Repeat("n", 256)},
	} {
		r := dictCall(t, s, http.MethodPost, "/api/v1/components", body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	for _, body := range []map[string]any{{"scope": 9}, {"component_group_id": 999999}, {"is_active": "no"}, {"scope": 2}} {
		r := dictCall(t, s, http.MethodPatch, cPath+"?scope=1", body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	assert.Equal(t, head, s.head(t), "nothing written")

	// Filters and sorts.
	list := func(kv ...any) []string { return compNames(dictList(t, s, ta, "/api/v1/components", kv...)) }
	assert.Equal(t, []string{"Zeta", "ChatInput", "MyTool"}, list(), "ctime desc")
	assert.Equal(t, []string{"ChatInput", "MyTool", "Zeta"}, list("sort_by", "component_name", "sort_order", "asc"))
	assert.Equal(t, []string{"MyTool"}, list("tag", "AI"))
	assert.Equal(t, []string{"MyTool"}, list("keyword", "does"))
	assert.Equal(t, []string{"Zeta"}, list("keyword", "old"))
	assert.Equal(t, []string{"Zeta"}, list("deprecated_only", true))
	assert.Equal(t, []string{"ChatInput"}, list("legacy_only", true))
	assert.Equal(t, []string{"MyTool", "ChatInput"}, list("is_deprecated", false, "sort_order", "asc"))
	assert.Equal(t, []string{"MyTool", "ChatInput"}, list("is_active", true, "sort_order", "asc"))
	assert.Equal(t, []string{"ChatInput"}, list("is_legacy", true))
	assert.Equal(t, []string{"Zeta"}, list("component_type", "bundle"))
	assert.Equal(t, []string{"Zeta"}, list("component_group_id", b["id"]))
	assert.Empty(t, list("scope", 0))
	for _, q := range []string{"sort_by=code", "sort_by=ctime%3Bdrop", "sort_order=up", "is_legacy=maybe", "scope=5"} {
		r := dictCall(t, s, http.MethodGet, "/api/v1/components?"+q, nil, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
	}

	// Versions: three code patches, one patch of the note only.
	for i := 2; i <= 4; i++ {
		r := dictCall(t, s, http.MethodPatch, cPath+"?scope=1", map[string]any{"code": fmt.Sprintf("print(%d)", i),
			"version_note": fmt.Sprintf("v%d", i)}, s.admin, ta)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.EqualValues(t, i, r.obj(t)["version"])
	}
	r = dictCall(t, s, http.MethodPatch, cPath+"?scope=1", map[string]any{"note": "documented", "code": "print(4)", "version_note": "ignored"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 4, r.obj(t)["version"])
	assert.Equal(t, "documented", r.obj(t)["note"])
	r = dictCall(t, s, http.MethodGet, cPath+"/versions?scope=1", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var versions []map[string]any
	for _, v := range r.obj(t)["items"].([]any) {
		versions = append(versions, v.(map[string]any))
	}
	require.Len(t, versions, 4)
	assert.Equal(t, []string{"4", "3", "2", "1"}, ugField(versions, "version"))
	assert.Equal(t, []string{"print(4)", "print(3)", "print(2)", "print(1)"}, ugField(versions, "code"))
	assert.Equal(t, []string{"v4", "v3", "v2", "first"}, ugField(versions, "version_note"))
	assert.Equal(t, "does one", versions[0]["component_skill"])
	assert.EqualValues(t, s.adminID, ugInt(t, versions[0]["c_uid"]))
	assert.Contains(t, versions[0], "ctime")
	r = dictCall(t, s, http.MethodPatch, cPath+"?scope=1", map[string]any{"component_skill": "does two"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 5, r.obj(t)["version"])
	ugDetail(t, dictCall(t, s, http.MethodGet, "/api/v1/components/999999/versions?scope=1", nil, s.admin, ta), http.StatusNotFound, domain.MsgComponentNotFound)

	// A superuser moves a component to the system scope: seen from another tenant.
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/components", chat["id"])+"?scope=1", map[string]any{"scope": 0}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 0, r.obj(t)["scope"])
	tc := s.tenant(t, "C")
	r = dictCall(t, s, http.MethodGet, ugPath("/api/v1/components", chat["id"])+"?scope=0", nil, s.admin, tc)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.obj(t)["builtin"])

	// Move to another group; remove.
	r = dictCall(t, s, http.MethodPatch, cPath+"?scope=1", map[string]any{"component_group_id": b["id"]}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "bundle", r.obj(t)["component_type"])
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/components", old["id"])+"?scope=1", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Component deleted", r.obj(t)["detail"])
	ugDetail(t, dictCall(t, s, http.MethodGet, ugPath("/api/v1/components", old["id"])+"?scope=1", nil, s.admin, ta), http.StatusNotFound, domain.MsgComponentNotFound)
	ugDetail(t, dictCall(t, s, http.MethodDelete, ugPath("/api/v1/components", old["id"])+"?scope=1", nil, s.admin, ta), http.StatusNotFound, domain.MsgComponentNotFound)

	// Rebuild: identical rows.
	live := compDump(t, s)
	require.Len(t, live, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "components", nil))
	assert.Equal(t, live, compDump(t, s), "rebuilt from position 0")
}

// Scopes: a business (2) component of B1 is seen by a user with a role in
// B1 (and listed with include_sub_businesses beside its child's), not by
// one whose role is in B2, nor by a user of another tenant (404, absent
// from lists); all_scopes lists every visible entry; the system scope (0)
// is written by superusers only and seen everywhere; a business developer
// writes in their business only, checked at the old and the new place.
func TestComponents_Scopes(t *testing.T) {
	t.Parallel()
	s := compStart(t)
	sys := tenancy.SystemTenantID
	tb := s.tenant(t, "Other")
	b1 := compBusiness(t, s, sys, "B1", 0)
	b1c := compBusiness(t, s, sys, "B1 child", b1)
	b2 := compBusiness(t, s, sys, "B2", 0)

	u1, u2, u3, dev := s.user(t, "compu1", ""), s.user(t, "compu2", ""), s.user(t, "compu3", ""), s.user(t, "compdev", "")
	compBusinessRole(t, s, sys, b1, u1, "viewer")
	compBusinessRole(t, s, sys, b2, u2, "viewer")
	compBusinessRole(t, s, sys, b1, dev, "developer")
	s.grantRole(t, s.admin, tb, u3, "tenant_admin")
	t1, t2, t3, td := s.login(t, "compu1", ugPassword).access, s.login(t, "compu2", ugPassword).access,
		s.login(t, "compu3", ugPassword).access, s.login(t, "compdev", ugPassword).access

	g := compGroup(t, s, sys, map[string]any{"group_name": "G", "group_en_name": "g", "component_type": "component"})
	gb := compGroup(t, s, sys, map[string]any{"group_name": "GB1", "group_en_name": "gb1", "component_type": "component", "scope": 2, "business_id": b1})
	assert.EqualValues(t, b1, ugInt(t, gb["business_id"]))
	inB1 := compAdd(t, s, sys, map[string]any{"component_group_id": g["id"], "component_name": "InB1", "scope": 2, "business_id": b1})
	compAdd(t, s, sys, map[string]any{"component_group_id": g["id"], "component_name": "InB1Child", "scope": 2, "business_id": b1c})
	compAdd(t, s, sys, map[string]any{"component_group_id": g["id"], "component_name": "Tenant", "scope": 1})
	compAdd(t, s, sys, map[string]any{"component_group_id": g["id"], "component_name": "Mine", "scope": 3})
	b1Path := ugPath("/api/v1/components", inB1["id"])

	// Visibility of the business entry.
	r := compAs(t, s, http.MethodGet, b1Path+ugQuery("scope", 2, "business_id", b1), nil, t1)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "InB1", r.obj(t)["component_name"])
	for _, tok := range []string{t2, t3} {
		ugDetail(t, compAs(t, s, http.MethodGet, b1Path+"?scope=2", nil, tok), http.StatusNotFound, domain.MsgComponentNotFound)
		r := compAs(t, s, http.MethodGet, "/api/v1/components?all_scopes=true", nil, tok)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.NotContains(t, compNames(r.objects(t)), "InB1")
		assert.NotContains(t, r.raw, "InB1")
	}
	r = compAs(t, s, http.MethodGet, "/api/v1/components"+ugQuery("business_id", b1), nil, t2)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t))
	// The user of the other tenant, in their tenant: nothing of the system tenant's but system entries.
	r = dictCall(t, s, http.MethodGet, "/api/v1/components?all_scopes=true", nil, t3, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t))
	// u1 lists the business's entries (its child's too with include_sub_businesses), and no personal one of another user.
	r = compAs(t, s, http.MethodGet, "/api/v1/components"+ugQuery("business_id", b1), nil, t1)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"InB1"}, compNames(r.objects(t)))
	r = compAs(t, s, http.MethodGet, "/api/v1/components"+ugQuery("business_id", b1, "include_sub_businesses", true, "sort_by", "component_name", "sort_order", "asc"), nil, t1)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"InB1", "InB1Child"}, compNames(r.objects(t)))
	r = compAs(t, s, http.MethodGet, "/api/v1/components?all_scopes=true&sort_by=component_name&sort_order=asc", nil, t1)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"InB1", "InB1Child", "Tenant"}, compNames(r.objects(t)),
		"a role somewhere in the tenant sees its tenant entries; not the superuser's personal one")
	r = compAs(t, s, http.MethodGet, "/api/v1/component-groups?all_scopes=true", nil, t1)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"g", "gb1"}, ugField(r.objects(t), "group_en_name"))
	r = compAs(t, s, http.MethodGet, "/api/v1/component-groups?all_scopes=true", nil, t3)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t), "no role in the system tenant")
	assert.Equal(t, []string{"InB1", "InB1Child", "Mine", "Tenant"},
		compNames(dictList(t, s, sys, "/api/v1/components", "all_scopes", true, "sort_by", "component_name", "sort_order", "asc")))
	assert.Equal(t, []string{"Tenant"}, compNames(dictList(t, s, sys, "/api/v1/components")), "scope 1 by default")

	// System scope: superusers only, seen everywhere.
	head := s.head(t)
	ugDetail(t, dictCall(t, s, http.MethodPost, "/api/v1/component-groups", map[string]any{"group_name": "S", "group_en_name": "s",
		"component_type": "component", "scope": 0}, t3, tb), http.StatusForbidden, "Only superusers")
	ugDetail(t, dictCall(t, s, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": g["id"],
		"component_name": "S", "scope": 0}, t3, tb), http.StatusForbidden, "Only superusers")
	assert.Equal(t, head, s.head(t))
	sysComp := compAdd(t, s, tb, map[string]any{"component_group_id": g["id"], "component_name": "System", "scope": 0})
	r = dictCall(t, s, http.MethodGet, ugPath("/api/v1/components", sysComp["id"])+"?scope=0", nil, t3, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = compAs(t, s, http.MethodGet, "/api/v1/components?scope=0", nil, t2)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"System"}, compNames(r.objects(t)))
	ugDetail(t, dictCall(t, s, http.MethodPatch, ugPath("/api/v1/components", sysComp["id"])+"?scope=0", map[string]any{"note": "x"}, t3, tb),
		http.StatusForbidden, "Only superusers")
	// The other tenant's admin writes in their tenant.
	r = dictCall(t, s, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": g["id"], "component_name": "TB"}, t3, tb)
	require.Equal(t, http.StatusCreated, r.status, r.raw)

	// The business developer: writes in B1, not in B2 (nor moves there), and not tenant-wide.
	r = compAs(t, s, http.MethodPatch, b1Path+ugQuery("scope", 2, "business_id", b1), map[string]any{"code": "x = 1"}, td)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 2, r.obj(t)["version"])
	head = s.head(t)
	requireForbidden(t, compAs(t, s, http.MethodPatch, b1Path+"?scope=2", map[string]any{"business_id": b2}, td))
	requireForbidden(t, compAs(t, s, http.MethodPatch, b1Path+"?scope=2", map[string]any{"scope": 1}, td))
	requireForbidden(t, compAs(t, s, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": g["id"], "scope": 2, "business_id": b2}, td))
	requireForbidden(t, compAs(t, s, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": g["id"]}, td))
	requireForbidden(t, compAs(t, s, http.MethodPatch, b1Path+"?scope=2", map[string]any{"code": "y"}, t2), "a viewer modifies nothing")
	dev2 := s.user(t, "compdev2", "")
	compBusinessRole(t, s, sys, b2, dev2, "developer")
	td2 := s.login(t, "compdev2", ugPassword).access
	head = s.head(t)
	for _, m := range []string{http.MethodPatch, http.MethodDelete} {
		ugDetail(t, compAs(t, s, m, b1Path+"?scope=2", map[string]any{"code": "y"}, td2), http.StatusNotFound, domain.MsgComponentNotFound)
		ugDetail(t, compAs(t, s, m, ugPath("/api/v1/component-groups", gb["id"])+"?scope=2", map[string]any{"note": "y"}, td2),
			http.StatusNotFound, domain.MsgGroupNotFound)
	}
	ugDetail(t, compAs(t, s, http.MethodPatch, b1Path+ugQuery("scope", 2, "business_id", b1c), map[string]any{"code": "y"}, td),
		http.StatusNotFound, domain.MsgComponentNotFound)
	assert.Equal(t, head, s.head(t), "nothing written")
	r = compAs(t, s, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": g["id"], "component_name": "DevB1C",
		"scope": 2, "business_id": b1c}, td)
	require.Equal(t, http.StatusCreated, r.status, "a role in B1 holds in its child: %s", r.raw)
	// Move B1 → B1's child: allowed at both places.
	r = compAs(t, s, http.MethodPatch, b1Path+"?scope=2", map[string]any{"business_id": b1c}, td)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, b1c, ugInt(t, r.obj(t)["business_id"]))
	r = compAs(t, s, http.MethodDelete, b1Path+ugQuery("scope", 2, "business_id", b1c), nil, td)
	require.Equal(t, http.StatusOK, r.status, r.raw)
}

// A role held only in a business of a named tenant (X-Tenant-Id) reaches
// that business's entries (access.Scoped): a viewer of B1 reads B1's
// component and not B2's, writes nothing; a developer of B1 writes in B1
// and is refused tenant-wide and in B2; a user with no role in the tenant
// is refused at the door.
func TestComponents_BusinessRoleInNamedTenant(t *testing.T) {
	t.Parallel()
	s := compStart(t)
	ta := s.tenant(t, "A")
	b1, b2 := compBusiness(t, s, ta, "B1", 0), compBusiness(t, s, ta, "B2", 0)
	viewer, dev := s.user(t, "cbviewer", ""), s.user(t, "cbdev", "")
	s.user(t, "cbstranger", "")
	compBusinessRole(t, s, ta, b1, viewer, "viewer")
	compBusinessRole(t, s, ta, b1, dev, "developer")
	tv, td, ts := s.login(t, "cbviewer", ugPassword).access, s.login(t, "cbdev", ugPassword).access, s.login(t, "cbstranger", ugPassword).access

	g := compGroup(t, s, ta, map[string]any{"group_name": "G", "group_en_name": "g", "component_type": "component"})
	inB1 := compAdd(t, s, ta, map[string]any{"component_group_id": g["id"], "component_name": "InB1", "scope": 2, "business_id": b1})
	inB2 := compAdd(t, s, ta, map[string]any{"component_group_id": g["id"], "component_name": "InB2", "scope": 2, "business_id": b2})

	r := dictCall(t, s, http.MethodGet, "/api/v1/components?all_scopes=true", nil, tv, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"InB1"}, compNames(r.objects(t)))
	r = dictCall(t, s, http.MethodGet, ugPath("/api/v1/components", inB1["id"])+"?scope=2", nil, tv, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	ugDetail(t, dictCall(t, s, http.MethodGet, ugPath("/api/v1/components", inB2["id"])+"?scope=2", nil, tv, ta),
		http.StatusNotFound, domain.MsgComponentNotFound)
	requireForbidden(t, dictCall(t, s, http.MethodPost, "/api/v1/components",
		map[string]any{"component_group_id": g["id"], "component_name": "V", "scope": 2, "business_id": b1}, tv, ta))

	r = dictCall(t, s, http.MethodPost, "/api/v1/components",
		map[string]any{"component_group_id": g["id"], "component_name": "DevB1", "scope": 2, "business_id": b1}, td, ta)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	for _, body := range []map[string]any{
		{"component_group_id": g["id"], "component_name": "DevB2", "scope": 2, "business_id": b2},
		{"component_group_id": g["id"], "component_name": "DevTenant", "scope": 1},
	} {
		requireForbidden(t, dictCall(t, s, http.MethodPost, "/api/v1/components", body, td, ta))
	}
	requireForbidden(t, dictCall(t, s, http.MethodGet, "/api/v1/components?all_scopes=true", nil, ts, ta))
}
