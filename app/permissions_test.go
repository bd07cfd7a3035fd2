package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The superuser every permission test server bootstraps.
const (
	permAdmin         = "permadmin"
	permAdminPassword = "permadmin-password-1"
)

// permServer is an App with the Identity and Permissions modules; admin
// is the superuser's access token.
type permServer struct {
	*harness
	admin   string
	adminID int64
}

func permStart(t *testing.T) *permServer {
	t.Helper()
	s := &permServer{harness: startApp(t, options{env: adminEnv(permAdmin, permAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Permissions{}}})}
	admin := s.signIn(t, permAdmin, permAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

// permGet reads path (with query q) as the superuser and requires 200.
func (s *permServer) permGet(t *testing.T, path string, q url.Values) []map[string]any {
	t.Helper()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := s.call(t, http.MethodGet, path, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// permField lists field of each row.
func permField(rows []map[string]any, field string) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r[field]
	}
	return out
}

// permStreamLen counts the events of the catalogue's stream.
func (s *permServer) permStreamLen(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE stream_id = $1`, domain.PermissionCatalogueStream).Scan(&n))
	return n
}

// permDump is every row of the catalogue's tables, as JSON text.
func (s *permServer) permDump(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT row_to_json(x)::text FROM perm_modules x ORDER BY module_id`,
		`SELECT row_to_json(x)::text FROM perm_privs x ORDER BY module_id, priv_id`,
		`SELECT row_to_json(x)::text FROM perm_roles x ORDER BY role_id`,
		`SELECT row_to_json(x)::text FROM perm_role_privs x ORDER BY role_id, module_id, priv_id`,
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

// permHeld is the role × privilege matrix as the role tree shows it:
// role → "module/priv" → true.
func permHeld(t *testing.T, tree []map[string]any) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, r := range tree {
		held := map[string]bool{}
		for _, m := range r["modules"].([]any) {
			mod := m.(map[string]any)
			for _, p := range mod["privs"].([]any) {
				held[fmt.Sprint(mod["module_id"], "/", p.(map[string]any)["priv_id"])] = true
			}
		}
		out[r["role_id"].(string)] = held
	}
	return out
}

func TestPermission_SeedIdempotentAndMatrix(t *testing.T) {
	s := permStart(t)
	ctx := context.Background()

	modules := s.permGet(t, "/api/v1/permissions/modules", nil)
	require.Len(t, modules, len(domain.PermSeedModules))
	assert.Equal(t, "audit", modules[0]["module_id"], "sorted by module_id")
	for _, m := range domain.PermSeedModules {
		privs := s.permGet(t, "/api/v1/permissions/modules/"+m.ModuleID+"/privs", nil)
		if m.ModuleID == "flows" { // flows.run beside the four of every module
			require.Len(t, privs, 5, m.ModuleID)
			assert.Equal(t, []any{"delete", "modify", "read", "run", "write"}, permField(privs, "priv_id"))
			assert.Equal(t, []any{"DELETE", "MODIFY", "READ", "WRITE", "WRITE"}, permField(privs, "priv_opr_type"))
			assert.Equal(t, "Run", privs[3]["priv_name"])
			continue
		}
		require.Len(t, privs, 4, m.ModuleID)
		assert.Equal(t, []any{"delete", "modify", "read", "write"}, permField(privs, "priv_id"))
		assert.Equal(t, []any{true, true, true, true}, permField(privs, "is_sys_priv"))
		assert.Equal(t, []any{"DELETE", "MODIFY", "READ", "WRITE"}, permField(privs, "priv_opr_type"))
		assert.EqualValues(t, 0, privs[0]["c_uid"], "written by the bootstrap, no user")
	}
	roles := s.permGet(t, "/api/v1/permissions/roles", nil)
	assert.Equal(t, []any{"business_admin", "developer", "tenant_admin", "viewer"}, permField(roles, "role_id"), "by role_name")
	assert.Equal(t, []any{true, true, true, true}, permField(roles, "is_sys_role"))

	// The matrix, cell by cell.
	held := permHeld(t, s.permGet(t, "/api/v1/permissions/role-privs/tree", nil))
	devWrites := map[string]bool{"flows": true, "projects": true, "files": true, "messages": true, "templates": true,
		"components": true, "mcp": true}
	total := 0
	for _, m := range domain.PermSeedModules {
		for _, p := range []string{"read", "write", "modify", "delete"} {
			k := m.ModuleID + "/" + p
			assert.True(t, held["tenant_admin"][k], k)
			assert.Equal(t, p == "read" || (m.ModuleID != "tenants" && m.ModuleID != "permissions"), held["business_admin"][k], k)
			assert.Equal(t, p == "read" || devWrites[m.ModuleID], held["developer"][k], k)
			assert.Equal(t, p == "read", held["viewer"][k], k)
		}
	}
	// flows.run: tenant and business admins and developers, not viewers.
	assert.True(t, held["tenant_admin"]["flows/run"])
	assert.True(t, held["business_admin"]["flows/run"])
	assert.True(t, held["developer"]["flows/run"])
	assert.False(t, held["viewer"]["flows/run"])
	for _, r := range held {
		total += len(r)
	}
	assert.Equal(t, 65+59+38+16, total)

	n := s.permStreamLen(t)
	assert.Equal(t, 16+65+4+total, n)
	require.NoError(t, s.app.Bootstrap(ctx), "a second bootstrap")
	assert.Equal(t, n, s.permStreamLen(t), "appends nothing")

	// A renamed system role keeps its name across bootstraps; a missing
	// piece would be appended, nothing else.
	r := s.call(t, http.MethodPatch, "/api/v1/permissions/roles/viewer", map[string]any{"role_name": "Reader"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.NoError(t, s.app.Bootstrap(ctx))
	assert.Equal(t, n+1, s.permStreamLen(t))
	viewer := s.call(t, http.MethodGet, "/api/v1/permissions/roles?search=viewer", nil, s.admin).objects(t)
	require.Len(t, viewer, 1)
	assert.Equal(t, "Reader", viewer[0]["role_name"])
}

func TestPermission_PrivsCRUDAndProtections(t *testing.T) {
	s := permStart(t)
	privs := "/api/v1/permissions/modules/flows/privs"

	r := s.call(t, http.MethodPost, privs, map[string]any{"priv_id": "export", "priv_name": "Export", "is_sys_priv": false,
		"priv_opr_type": "WRITE"}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	p := r.obj(t)
	assert.Equal(t, "flows", p["module_id"])
	assert.Equal(t, "Export", p["priv_name"])
	assert.Equal(t, "WRITE", p["priv_opr_type"])
	assert.Equal(t, false, p["is_sys_priv"])
	assert.EqualValues(t, s.adminID, p["c_uid"])
	assert.EqualValues(t, s.adminID, p["m_uid"])
	assert.Equal(t, p["ctime"], p["utime"])

	// priv_opr_type defaults to READ.
	r = s.call(t, http.MethodPost, privs, map[string]any{"priv_id": "peek", "priv_name": "Peek", "is_sys_priv": false}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, "READ", r.obj(t)["priv_opr_type"])

	requireDetail(t, s.call(t, http.MethodPost, privs, map[string]any{"priv_id": "export", "priv_name": "Again", "is_sys_priv": false}, s.admin),
		http.StatusConflict, `Privilege "export" of module "flows" already exists`)
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/permissions/modules/nope/privs",
		map[string]any{"priv_id": "x", "priv_name": "X", "is_sys_priv": false}, s.admin),
		http.StatusNotFound, `Permission module "nope" not found`)
	for name, body := range map[string]map[string]any{
		"system":      {"priv_id": "sys", "priv_name": "Sys", "is_sys_priv": true},
		"bad type":    {"priv_id": "t", "priv_name": "T", "is_sys_priv": false, "priv_opr_type": "EXECUTE"},
		"no is_sys":   {"priv_id": "t", "priv_name": "T"},
		"empty id":    {"priv_id": "", "priv_name": "T", "is_sys_priv": false},
		"slash in id": {"priv_id": "a/b", "priv_name": "T", "is_sys_priv": false},
		"long name":   {"priv_id": "t", "priv_name": strings.Repeat("n", 129), "is_sys_priv": false},
	} {
		r := s.call(t, http.MethodPost, privs, body, s.admin)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", name, r.raw)
	}

	// Patch: name and type; is_sys_priv never changes.
	r = s.call(t, http.MethodPatch, privs+"/export", map[string]any{"priv_name": "Export all", "priv_opr_type": "MODIFY"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Export all", r.obj(t)["priv_name"])
	assert.Equal(t, "MODIFY", r.obj(t)["priv_opr_type"])
	assert.Equal(t, p["ctime"], r.obj(t)["ctime"])
	requireDetail(t, s.call(t, http.MethodPatch, privs+"/export", map[string]any{"is_sys_priv": true}, s.admin),
		http.StatusConflict, `is_sys_priv of privilege "export" of module "flows" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodPatch, privs+"/read", map[string]any{"priv_opr_type": "WRITE"}, s.admin),
		http.StatusConflict, `The operation type of system privilege "read" of module "flows" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodPatch, privs+"/nope", map[string]any{"priv_name": "N"}, s.admin),
		http.StatusNotFound, `Privilege "nope" of module "flows" not found`)
	r = s.call(t, http.MethodPatch, privs+"/read", map[string]any{"priv_name": "Read flows", "is_sys_priv": true}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Read flows", r.obj(t)["priv_name"], "system privileges may be renamed")

	// Removal: never a system privilege, never one a role holds.
	requireDetail(t, s.call(t, http.MethodDelete, privs+"/read", nil, s.admin),
		http.StatusConflict, `System privilege "read" of module "flows" cannot be removed`)
	for _, role := range []string{"ops", "auditors"} {
		require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles",
			map[string]any{"role_id": role, "role_name": role}, s.admin).status)
		require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles/"+role+"/privs",
			map[string]any{"module_id": "flows", "priv_id": "export"}, s.admin).status)
	}
	requireDetail(t, s.call(t, http.MethodDelete, privs+"/export", nil, s.admin),
		http.StatusConflict, `Privilege "export" of module "flows" is still held by roles: auditors, ops`)
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v1/permissions/roles/ops/privs/flows/export", nil, s.admin),
		http.StatusOK, "Role privilege deleted")
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v1/permissions/roles/auditors", nil, s.admin), http.StatusOK, "Role deleted")
	requireDetail(t, s.call(t, http.MethodDelete, privs+"/export", nil, s.admin), http.StatusOK, "Privilege deleted")
	requireDetail(t, s.call(t, http.MethodDelete, privs+"/export", nil, s.admin),
		http.StatusNotFound, `Privilege "export" of module "flows" not found`)
	assert.Equal(t, []any{"delete", "modify", "peek", "read", "run", "write"}, permField(s.permGet(t, privs, nil), "priv_id"))
}

func TestPermission_RolesAndItems(t *testing.T) {
	s := permStart(t)
	roles := "/api/v1/permissions/roles"

	r := s.call(t, http.MethodPost, roles, map[string]any{"role_id": "ops-1", "role_name": "Operators", "is_sys_role": false}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	role := r.obj(t)
	assert.Equal(t, "ops-1", role["role_id"])
	assert.Equal(t, "Operators", role["role_name"])
	assert.Equal(t, false, role["is_sys_role"])
	assert.EqualValues(t, s.adminID, role["c_uid"])

	requireDetail(t, s.call(t, http.MethodPost, roles, map[string]any{"role_id": "ops-1", "role_name": "Again"}, s.admin),
		http.StatusConflict, `Role "ops-1" already exists`)
	for name, body := range map[string]map[string]any{
		"upper case": {"role_id": "Ops", "role_name": "X"},
		"space":      {"role_id": "a b", "role_name": "X"},
		"too long":   {"role_id": strings.Repeat("a", 33), "role_name": "X"},
		"empty":      {"role_id": "", "role_name": "X"},
		"no name":    {"role_id": "x"},
		"system":     {"role_id": "x", "role_name": "X", "is_sys_role": true},
	} {
		r := s.call(t, http.MethodPost, roles, body, s.admin)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", name, r.raw)
	}
	r = s.call(t, http.MethodPost, roles, map[string]any{"role_id": strings.Repeat("a", 32), "role_name": "Longest"}, s.admin)
	assert.Equal(t, http.StatusCreated, r.status, r.raw)

	// Patch: the name; role_id and is_sys_role never change.
	r = s.call(t, http.MethodPatch, roles+"/ops-1", map[string]any{"role_id": "ops-1", "role_name": "Ops", "is_sys_role": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Ops", r.obj(t)["role_name"])
	assert.Equal(t, http.StatusUnprocessableEntity, s.call(t, http.MethodPatch, roles+"/ops-1", map[string]any{"role_id": "ops-2"}, s.admin).status)
	requireDetail(t, s.call(t, http.MethodPatch, roles+"/ops-1", map[string]any{"is_sys_role": true}, s.admin),
		http.StatusConflict, `is_sys_role of role "ops-1" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodPatch, roles+"/developer", map[string]any{"is_sys_role": false}, s.admin),
		http.StatusConflict, `is_sys_role of role "developer" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodPatch, roles+"/nope", map[string]any{"role_name": "N"}, s.admin),
		http.StatusNotFound, `Role "nope" not found`)

	// Items.
	item := func(role, module, priv string) reply {
		return s.call(t, http.MethodPost, roles+"/"+role+"/privs", map[string]any{"module_id": module, "priv_id": priv}, s.admin)
	}
	r = item("ops-1", "flows", "write")
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	it := r.obj(t)
	assert.Equal(t, map[string]any{"role_id": "ops-1", "module_id": "flows", "module_name": "Flows", "priv_id": "write",
		"priv_name": "Write", "is_sys_priv": true, "priv_opr_type": "WRITE", "c_uid": float64(s.adminID), "ctime": it["ctime"]}, it)
	require.Equal(t, http.StatusCreated, item("ops-1", "mcp", "read").status)
	requireDetail(t, item("ops-1", "flows", "write"), http.StatusConflict, `Role "ops-1" already holds privilege "write" of module "flows"`)
	requireDetail(t, item("nope", "flows", "write"), http.StatusNotFound, `Role "nope" not found`)
	requireDetail(t, item("ops-1", "nope", "write"), http.StatusNotFound, `Permission module "nope" not found`)
	requireDetail(t, item("ops-1", "flows", "nope"), http.StatusNotFound, `Privilege "nope" of module "flows" not found`)
	requireDetail(t, item("viewer", "flows", "write"), http.StatusConflict, `The privileges of system role "viewer" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodDelete, roles+"/viewer/privs/flows/read", nil, s.admin),
		http.StatusConflict, `The privileges of system role "viewer" cannot be changed`)
	requireDetail(t, s.call(t, http.MethodDelete, roles+"/ops-1/privs/flows/read", nil, s.admin),
		http.StatusNotFound, `Role "ops-1" does not hold privilege "read" of module "flows"`)
	assert.Equal(t, http.StatusUnprocessableEntity, s.call(t, http.MethodPost, roles+"/ops-1/privs", map[string]any{"module_id": "flows"}, s.admin).status)

	got := s.permGet(t, roles+"/ops-1/privs", nil)
	assert.Equal(t, []any{"flows", "mcp"}, permField(got, "module_id"))
	assert.Equal(t, []any{"WRITE", "READ"}, permField(got, "priv_opr_type"))
	got = s.permGet(t, roles+"/ops-1/privs", url.Values{"sort_by": {"priv_opr_type"}})
	assert.Equal(t, []any{"mcp", "flows"}, permField(got, "module_id"), "READ before WRITE")
	got = s.permGet(t, roles+"/ops-1/privs", url.Values{"search": {"MC"}})
	assert.Equal(t, []any{"mcp"}, permField(got, "module_id"))
	requireDetail(t, s.call(t, http.MethodGet, roles+"/nope/privs", nil, s.admin), http.StatusNotFound, `Role "nope" not found`)

	// Removing a role removes its items; system roles stay.
	requireDetail(t, s.call(t, http.MethodDelete, roles+"/tenant_admin", nil, s.admin),
		http.StatusConflict, `System role "tenant_admin" cannot be removed`)
	requireDetail(t, s.call(t, http.MethodDelete, roles+"/ops-1", nil, s.admin), http.StatusOK, "Role deleted")
	requireDetail(t, s.call(t, http.MethodDelete, roles+"/ops-1", nil, s.admin), http.StatusNotFound, `Role "ops-1" not found`)
	var left int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM perm_role_privs WHERE role_id = 'ops-1'`).Scan(&left))
	assert.Zero(t, left)
	// The id is free again.
	r = s.call(t, http.MethodPost, roles, map[string]any{"role_id": "ops-1", "role_name": "Again"}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Empty(t, s.permGet(t, roles+"/ops-1/privs", nil))
}

func TestPermission_ListsSortsAndTrees(t *testing.T) {
	s := permStart(t)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/modules/flows/privs",
		map[string]any{"priv_id": "export", "priv_name": "Zexport", "is_sys_priv": false, "priv_opr_type": "DELETE"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles",
		map[string]any{"role_id": "auditor", "role_name": "auditor"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles/auditor/privs",
		map[string]any{"module_id": "flows", "priv_id": "export"}, s.admin).status)

	// Modules.
	mods := s.permGet(t, "/api/v1/permissions/modules", url.Values{"search": {"USER"}})
	assert.Equal(t, []any{"user_groups"}, permField(mods, "module_id"))
	mods = s.permGet(t, "/api/v1/permissions/modules", url.Values{"sort_by": {"module_name"}, "sort_order": {"desc"}})
	assert.Equal(t, "User Groups", mods[0]["module_name"])
	assert.Equal(t, "Audit", mods[len(mods)-1]["module_name"])
	mods = s.permGet(t, "/api/v1/permissions/modules", url.Values{"search": {"organ"}})
	assert.Equal(t, []any{"orgs"}, permField(mods, "module_id"), "search by name")

	// Privileges of a module.
	privs := "/api/v1/permissions/modules/flows/privs"
	assert.Equal(t, []any{"export"}, permField(s.permGet(t, privs, url.Values{"is_sys_priv": {"false"}}), "priv_id"))
	assert.Len(t, s.permGet(t, privs, url.Values{"is_sys_priv": {"true"}}), 5, "flows.run beside the four")
	assert.Equal(t, []any{"READ", "WRITE", "WRITE", "MODIFY", "DELETE", "DELETE"},
		permField(s.permGet(t, privs, url.Values{"sort_by": {"priv_opr_type"}}), "priv_opr_type"))
	assert.Equal(t, []any{"export", "write", "run", "read", "modify", "delete"},
		permField(s.permGet(t, privs, url.Values{"sort_by": {"priv_name"}, "sort_order": {"desc"}}), "priv_id"))
	sysFirst := permField(s.permGet(t, privs, url.Values{"sort_by": {"is_sys_priv"}, "sort_order": {"desc"}}), "is_sys_priv")
	assert.Equal(t, []any{true, true, true, true, true, false}, sysFirst)
	assert.Equal(t, []any{"export"}, permField(s.permGet(t, privs, url.Values{"search": {"zEXP"}}), "priv_id"))
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/permissions/modules/nope/privs", nil, s.admin),
		http.StatusNotFound, `Permission module "nope" not found`)

	// Roles.
	roles := s.permGet(t, "/api/v1/permissions/roles", nil)
	assert.Equal(t, []any{"auditor", "Business Admin", "Developer", "Tenant Admin", "Viewer"}, permField(roles, "role_name"),
		"role_name ascending, case-insensitively")
	roles = s.permGet(t, "/api/v1/permissions/roles", url.Values{"sort_by": {"role_id"}, "sort_order": {"desc"}})
	assert.Equal(t, []any{"viewer", "tenant_admin", "developer", "business_admin", "auditor"}, permField(roles, "role_id"))
	roles = s.permGet(t, "/api/v1/permissions/roles", url.Values{"sort_by": {"is_sys_role"}})
	assert.Equal(t, "auditor", roles[0]["role_id"])
	assert.Equal(t, []any{"business_admin", "tenant_admin"},
		permField(s.permGet(t, "/api/v1/permissions/roles", url.Values{"search": {"ADMIN"}, "sort_by": {"role_id"}}), "role_id"))

	// Bad sort parameters are 422.
	for _, path := range []string{"/api/v1/permissions/modules?sort_by=priv_id", "/api/v1/permissions/roles?sort_order=up",
		privs + "?is_sys_priv=maybe", "/api/v1/permissions/module-privs/tree?sort_by=role_id",
		"/api/v1/permissions/role-privs/tree?sort_by=is_sys_priv"} {
		assert.Equal(t, http.StatusUnprocessableEntity, s.call(t, http.MethodGet, path, nil, s.admin).status, path)
	}

	// Module tree.
	tree := s.permGet(t, "/api/v1/permissions/module-privs/tree", nil)
	require.Len(t, tree, 16)
	assert.Equal(t, "audit", tree[0]["module_id"])
	var flows map[string]any
	for _, m := range tree {
		if m["module_id"] == "flows" {
			flows = m
		}
	}
	require.NotNil(t, flows)
	assert.Equal(t, []any{"delete", "export", "modify", "read", "run", "write"}, permField(permObjects(flows["privs"]), "priv_id"))
	tree = s.permGet(t, "/api/v1/permissions/module-privs/tree", url.Values{"search": {"zexport"}})
	require.Len(t, tree, 1)
	assert.Equal(t, []any{"export"}, permField(permObjects(tree[0]["privs"]), "priv_id"), "only the matching privileges")
	tree = s.permGet(t, "/api/v1/permissions/module-privs/tree", url.Values{"search": {"mcp"}})
	require.Len(t, tree, 1)
	assert.Len(t, permObjects(tree[0]["privs"]), 4, "a matching module keeps all its privileges")
	tree = s.permGet(t, "/api/v1/permissions/module-privs/tree", url.Values{"sort_by": {"module_name"}, "sort_order": {"desc"}})
	assert.Equal(t, "user_groups", tree[0]["module_id"])
	assert.Equal(t, []any{"delete", "modify", "read", "write"}, permField(permObjects(tree[0]["privs"]), "priv_id"), "privileges by id")
	tree = s.permGet(t, "/api/v1/permissions/module-privs/tree", url.Values{"sort_by": {"priv_opr_type"}, "sort_order": {"desc"}})
	assert.Equal(t, "audit", tree[0]["module_id"], "modules by id")
	assert.Equal(t, []any{"DELETE", "MODIFY", "WRITE", "READ"}, permField(permObjects(tree[0]["privs"]), "priv_opr_type"))

	// Role tree.
	rt := s.permGet(t, "/api/v1/permissions/role-privs/tree", nil)
	assert.Equal(t, []any{"auditor", "business_admin", "developer", "tenant_admin", "viewer"}, permField(rt, "role_id"))
	assert.Equal(t, []any{map[string]any{"module_id": "flows", "module_name": "Flows", "privs": []any{map[string]any{
		"priv_id": "export", "priv_name": "Zexport", "is_sys_priv": false, "priv_opr_type": "DELETE"}}}}, rt[0]["modules"])
	viewer := rt[4]
	assert.Equal(t, true, viewer["is_sys_role"])
	vm := permObjects(viewer["modules"])
	require.Len(t, vm, 16)
	assert.Equal(t, "audit", vm[0]["module_id"])
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"search": {"viewer"}})
	require.Len(t, rt, 1)
	assert.Len(t, permObjects(rt[0]["modules"]), 16, "a matching role keeps all its items")
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"search": {"zexport"}})
	require.Len(t, rt, 1)
	assert.Equal(t, "auditor", rt[0]["role_id"])
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"search": {"user groups"}})
	assert.Equal(t, []any{"business_admin", "developer", "tenant_admin", "viewer"}, permField(rt, "role_id"))
	for _, r := range rt {
		assert.Equal(t, []any{"user_groups"}, permField(permObjects(r["modules"]), "module_id"))
	}
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"sort_by": {"module_name"}, "sort_order": {"desc"}})
	assert.Equal(t, "auditor", rt[0]["role_id"], "roles by id")
	assert.Equal(t, "user_groups", permObjects(rt[4]["modules"])[0]["module_id"])
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"sort_by": {"role_name"}, "sort_order": {"desc"}})
	assert.Equal(t, []any{"viewer", "tenant_admin", "developer", "business_admin", "auditor"}, permField(rt, "role_id"))
	rt = s.permGet(t, "/api/v1/permissions/role-privs/tree", url.Values{"sort_by": {"priv_id"}, "sort_order": {"desc"}})
	ta := permObjects(rt[3]["modules"])
	assert.Equal(t, "audit", ta[0]["module_id"])
	assert.Equal(t, []any{"write", "read", "modify", "delete"}, permField(permObjects(ta[0]["privs"]), "priv_id"))
}

// permObjects turns a decoded JSON array of objects into a slice.
func permObjects(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)
	}
	return out
}

func TestPermission_AuthAndRebuild(t *testing.T) {
	s := permStart(t)
	user := s.newUser(t, "permuser", "user-password-1")

	// Reads: any authenticated user; anonymous callers are refused.
	for _, path := range []string{"/api/v1/permissions/modules", "/api/v1/permissions/modules/flows/privs",
		"/api/v1/permissions/module-privs/tree", "/api/v1/permissions/roles", "/api/v1/permissions/roles/viewer/privs",
		"/api/v1/permissions/role-privs/tree"} {
		assert.Equal(t, http.StatusOK, s.call(t, http.MethodGet, path, nil, user.token).status, path)
		anon := s.call(t, http.MethodGet, path, nil, "")
		assert.Equal(t, http.StatusForbidden, anon.status, path) // the project answers anonymous callers 403 (FastAPI's APIKey schemes)
		assert.NotEmpty(t, anon.detail(), path)
	}
	// Writes: superusers only.
	before := s.permStreamLen(t)
	for _, w := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/permissions/modules/flows/privs", map[string]any{"priv_id": "x", "priv_name": "X", "is_sys_priv": false}},
		{http.MethodPatch, "/api/v1/permissions/modules/flows/privs/read", map[string]any{"priv_name": "X"}},
		{http.MethodDelete, "/api/v1/permissions/modules/flows/privs/read", nil},
		{http.MethodPost, "/api/v1/permissions/roles", map[string]any{"role_id": "x", "role_name": "X"}},
		{http.MethodPatch, "/api/v1/permissions/roles/viewer", map[string]any{"role_name": "X"}},
		{http.MethodDelete, "/api/v1/permissions/roles/viewer", nil},
		{http.MethodPost, "/api/v1/permissions/roles/viewer/privs", map[string]any{"module_id": "flows", "priv_id": "write"}},
		{http.MethodDelete, "/api/v1/permissions/roles/viewer/privs/flows/read", nil},
	} {
		r := s.call(t, w.method, w.path, w.body, user.token)
		assert.Equal(t, http.StatusForbidden, r.status, "%s %s: %s", w.method, w.path, r.raw)
		assert.NotEmpty(t, r.detail())
	}
	assert.Equal(t, before, s.permStreamLen(t), "nothing written")

	// Some history, then a rebuild from position 0 gives the same rows.
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles",
		map[string]any{"role_id": "temp", "role_name": "Temp"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles/temp/privs",
		map[string]any{"module_id": "files", "priv_id": "read"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/modules/files/privs",
		map[string]any{"priv_id": "share", "priv_name": "Share", "is_sys_priv": false}, s.admin).status)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodPatch, "/api/v1/permissions/modules/files/privs/share",
		map[string]any{"priv_opr_type": "WRITE"}, s.admin).status)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodPatch, "/api/v1/permissions/roles/developer",
		map[string]any{"role_name": "Dev"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles",
		map[string]any{"role_id": "gone", "role_name": "Gone"}, s.admin).status)
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/permissions/roles/gone/privs",
		map[string]any{"module_id": "files", "priv_id": "share"}, s.admin).status)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/permissions/roles/gone", nil, s.admin).status)

	live := s.permDump(t)
	require.Greater(t, len(live), 250)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "permissions", nil))
	assert.Equal(t, live, s.permDump(t), "rebuilt from position 0")
}

// A catalogue that already has part of the seed (as an older binary or a
// concurrent node left it) gets only the missing part at bootstrap; a
// custom role that took a built-in role's id first is left alone.
func TestPermission_SeedAppendsOnlyWhatIsMissing(t *testing.T) {
	partial := func(t testing.TB, a *app.App) {
		md := eventstore.Metadata{OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}
		_, err := commands.DecidePermissions(context.Background(), a.Deps().Repository, md, func(p *domain.PermissionCatalogue) error {
			if err := p.AddModule("flows", "Flows (old name)"); err != nil {
				return err
			}
			if err := p.AddPriv(domain.PermPrivState{ModuleID: "flows", PrivID: "read", PrivName: "Read (old)", IsSysPriv: true,
				PrivOprType: domain.PrivRead}, true); err != nil {
				return err
			}
			if err := p.AddRole(domain.PermRoleState{RoleID: "viewer", RoleName: "Custom viewer"}, false); err != nil {
				return err
			}
			return p.AddRole(domain.PermRoleState{RoleID: "developer", RoleName: "Developer", IsSysRole: true}, true)
		})
		require.NoError(t, err)
	}
	s := &permServer{harness: startApp(t, options{env: adminEnv(permAdmin, permAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Permissions{}}, beforeBootstrap: partial})}
	admin := s.signIn(t, permAdmin, permAdminPassword)
	s.admin = admin.token

	mods := s.permGet(t, "/api/v1/permissions/modules", url.Values{"search": {"flows"}})
	require.Len(t, mods, 1)
	assert.Equal(t, "Flows (old name)", mods[0]["module_name"], "kept")
	privs := s.permGet(t, "/api/v1/permissions/modules/flows/privs", nil)
	assert.Equal(t, []any{"delete", "modify", "read", "run", "write"}, permField(privs, "priv_id"))
	assert.Equal(t, "Read (old)", privs[2]["priv_name"])
	held := permHeld(t, s.permGet(t, "/api/v1/permissions/role-privs/tree", nil))
	assert.Empty(t, held["viewer"], "the custom role with a built-in id gets no items")
	assert.Len(t, held["developer"], 38, "the existing system role gets its items")
	assert.Len(t, held["tenant_admin"], 65)
	// 4 events before; the bootstrap added 15 modules, 64 privileges (60
	// of the modules it added, flows.run, 3 of flows), 2 roles and the
	// items of the three system roles.
	assert.Equal(t, 4+15+64+2+38+65+59, s.permStreamLen(t))
}
