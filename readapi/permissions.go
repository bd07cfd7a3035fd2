package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

// PermissionReadModels are the read models the permission operations read.
var PermissionReadModels = []string{"permissions", "access"}

// PermModuleRead is a permission module as the API shows it.
type PermModuleRead struct {
	domain.PermModuleState
	projections.Audited
}

// PermPrivRead is a privilege of a module as the API shows it.
type PermPrivRead struct {
	domain.PermPrivState
	projections.Audited
}

// PermRoleRead is a role as the API shows it.
type PermRoleRead struct {
	domain.PermRoleState
	projections.Audited
}

// PermRolePrivRead is a role privilege item as the API shows it.
type PermRolePrivRead struct {
	RoleID      string    `json:"role_id"`
	ModuleID    string    `json:"module_id"`
	ModuleName  string    `json:"module_name"`
	PrivID      string    `json:"priv_id"`
	PrivName    string    `json:"priv_name"`
	IsSysPriv   bool      `json:"is_sys_priv"`
	PrivOprType string    `json:"priv_opr_type"`
	CUID        int64     `json:"c_uid"`
	CTime       time.Time `json:"ctime"`
}

// PermModuleTree is a module with its privileges (Read Module Priv Tree).
type PermModuleTree struct {
	ModuleID   string         `json:"module_id"`
	ModuleName string         `json:"module_name"`
	Privs      []PermPrivRead `json:"privs"`
}

// PermTreePriv is a privilege in Read Role Priv Tree.
type PermTreePriv struct {
	PrivID      string `json:"priv_id"`
	PrivName    string `json:"priv_name"`
	IsSysPriv   bool   `json:"is_sys_priv"`
	PrivOprType string `json:"priv_opr_type"`
}

// PermTreeModule is a module of a role in Read Role Priv Tree, with the
// privileges of it the role holds.
type PermTreeModule struct {
	ModuleID   string         `json:"module_id"`
	ModuleName string         `json:"module_name"`
	Privs      []PermTreePriv `json:"privs"`
}

// PermRoleTree is a role with the modules and privileges it holds.
type PermRoleTree struct {
	RoleID    string           `json:"role_id"`
	RoleName  string           `json:"role_name"`
	IsSysRole bool             `json:"is_sys_role"`
	Modules   []PermTreeModule `json:"modules"`
}

// oprOrder sorts priv_opr_type in its natural order (READ, WRITE, MODIFY,
// DELETE) rather than alphabetically.
const oprOrder = `array_position(ARRAY['READ','WRITE','MODIFY','DELETE'], %s.priv_opr_type)`

func oprSort(alias string) string { return fmt.Sprintf(oprOrder, alias) }

const permModuleColumns = `m.module_id, m.module_name, m.c_uid, m.m_uid, m.ctime, m.utime`

func scanPermModule(row pgx.CollectableRow) (PermModuleRead, error) {
	var m PermModuleRead
	err := row.Scan(&m.ModuleID, &m.ModuleName, &m.CUID, &m.MUID, &m.CTime, &m.UTime)
	m.InUTC()
	return m, err
}

const permPrivColumns = `p.module_id, p.priv_id, p.priv_name, p.is_sys_priv, p.priv_opr_type, p.c_uid, p.m_uid, p.ctime, p.utime`

func scanPermPrivInto(row pgx.Row, p *PermPrivRead, more ...any) error {
	err := row.Scan(append([]any{&p.ModuleID, &p.PrivID, &p.PrivName, &p.IsSysPriv, &p.PrivOprType, &p.CUID, &p.MUID, &p.CTime, &p.UTime},
		more...)...)
	p.InUTC()
	return err
}

func scanPermPriv(row pgx.CollectableRow) (PermPrivRead, error) {
	var p PermPrivRead
	return p, scanPermPrivInto(row, &p)
}

const permRoleColumns = `r.role_id, r.role_name, r.is_sys_role, r.c_uid, r.m_uid, r.ctime, r.utime`

func scanPermRole(row pgx.CollectableRow) (PermRoleRead, error) {
	var r PermRoleRead
	err := row.Scan(&r.RoleID, &r.RoleName, &r.IsSysRole, &r.CUID, &r.MUID, &r.CTime, &r.UTime)
	r.InUTC()
	return r, err
}

const permRolePrivColumns = `i.role_id, i.module_id, m.module_name, i.priv_id, p.priv_name, p.is_sys_priv, p.priv_opr_type, i.c_uid, i.ctime`

const permRolePrivFrom = ` FROM perm_role_privs i JOIN perm_privs p ON p.module_id = i.module_id AND p.priv_id = i.priv_id
JOIN perm_modules m ON m.module_id = i.module_id`

func scanPermRolePriv(row pgx.CollectableRow) (PermRolePrivRead, error) {
	var r PermRolePrivRead
	err := row.Scan(&r.RoleID, &r.ModuleID, &r.ModuleName, &r.PrivID, &r.PrivName, &r.IsSysPriv, &r.PrivOprType, &r.CUID, &r.CTime)
	r.CTime = r.CTime.UTC()
	return r, err
}

// exactlyOne reads one row with scan; none is notFound.
func exactlyOne[T any](rows pgx.Rows, scan pgx.RowToFunc[T], notFound error, what string) (T, error) {
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, notFound
	}
	if err != nil {
		return v, fmt.Errorf("read %s: %w", what, err)
	}
	return v, nil
}

// PermModuleByID reads module id: 404 naming it if there is none.
func PermModuleByID(ctx context.Context, pool *pgxpool.Pool, id string) (PermModuleRead, error) {
	rows, _ := pool.Query(ctx, `SELECT `+permModuleColumns+` FROM perm_modules m WHERE m.module_id = $1`, id)
	return exactlyOne(rows, scanPermModule, domain.NotFoundf("Permission module %q not found", id), "permission module")
}

// PermPrivByID reads privilege priv of module: 404 naming it.
func PermPrivByID(ctx context.Context, db DB, module, priv string) (PermPrivRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+permPrivColumns+` FROM perm_privs p WHERE p.module_id = $1 AND p.priv_id = $2`, module, priv)
	return exactlyOne(rows, scanPermPriv, domain.NotFoundf("Privilege %q of module %q not found", priv, module), "privilege")
}

// PermRoleByID reads role id: 404 naming it.
func PermRoleByID(ctx context.Context, db DB, id string) (PermRoleRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+permRoleColumns+` FROM perm_roles r WHERE r.role_id = $1`, id)
	return exactlyOne(rows, scanPermRole, domain.NotFoundf("Role %q not found", id), "role")
}

// PermRolePrivByID reads the item (role, module, priv): 404 naming it.
func PermRolePrivByID(ctx context.Context, db DB, role, module, priv string) (PermRolePrivRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+permRolePrivColumns+permRolePrivFrom+` WHERE i.role_id = $1 AND i.module_id = $2 AND i.priv_id = $3`,
		role, module, priv)
	return exactlyOne(rows, scanPermRolePriv,
		domain.NotFoundf("Role %q does not hold privilege %q of module %q", role, priv, module), "role privilege item")
}

// PermModulesQuery is the query string of Read Permission Modules.
type PermModulesQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=module_id" binding:"oneof=module_id module_name"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var permModuleSorts = map[string]string{"module_id": "m.module_id", "module_name": "lower(m.module_name)"}

// ListPermModules lists the modules: search is a case-insensitive
// substring of module_id or module_name; ties go by module_id.
func ListPermModules(ctx context.Context, pool *pgxpool.Pool, q PermModulesQuery) ([]PermModuleRead, error) {
	var args sqlArgs
	where := "true"
	if q.Search != "" {
		where = searchAny(&args, q.Search, "m.module_id", "m.module_name")
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+permModuleColumns+` FROM perm_modules m WHERE `+where+
		` ORDER BY `+permModuleSorts[q.SortBy]+` `+dir+`, m.module_id `+dir, args...)
	return collectAll(rows, scanPermModule, "list permission modules")
}

// PermPrivsQuery is the query string of Read Privs By Module.
type PermPrivsQuery struct {
	IsSysPriv *bool  `form:"is_sys_priv"`
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=priv_id" binding:"oneof=priv_id priv_name priv_opr_type is_sys_priv"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var permPrivSorts = map[string]string{"priv_id": "p.priv_id", "priv_name": "lower(p.priv_name)",
	"priv_opr_type": oprSort("p"), "is_sys_priv": "p.is_sys_priv"}

// ListPermPrivs lists the privileges of module (404 if there is no such
// module): search is a case-insensitive substring of priv_id or
// priv_name; ties go by priv_id.
func ListPermPrivs(ctx context.Context, pool *pgxpool.Pool, module string, q PermPrivsQuery) ([]PermPrivRead, error) {
	if _, err := PermModuleByID(ctx, pool, module); err != nil {
		return nil, err
	}
	var args sqlArgs
	where := []string{"p.module_id = " + args.add(module)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "p.priv_id", "p.priv_name"))
	}
	if q.IsSysPriv != nil {
		where = append(where, "p.is_sys_priv = "+args.add(*q.IsSysPriv))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+permPrivColumns+` FROM perm_privs p WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+permPrivSorts[q.SortBy]+` `+dir+`, p.priv_id `+dir, args...)
	return collectAll(rows, scanPermPriv, "list privileges")
}

// PermModuleTreeQuery is the query string of Read Module Priv Tree.
type PermModuleTreeQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=module_id" binding:"oneof=module_id module_name priv_id priv_name priv_opr_type is_sys_priv"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// treeOrder is the ORDER BY of a tree: the chosen key in dir at its level,
// every level by its id (ascending unless it is the level sorted), so that
// the rows of one node are consecutive.
func treeOrder(levels [][2]string, sorts map[string][2]string, sortBy, dir string) string {
	key := sorts[sortBy] // {level id column, sort expression}
	var parts []string
	for _, l := range levels { // {id column, level name}
		if l[0] == key[0] {
			parts = append(parts, key[1]+" "+dir+" NULLS FIRST", l[0]+" "+dir+" NULLS FIRST")
		} else {
			parts = append(parts, l[0]+" ASC NULLS FIRST")
		}
	}
	return strings.Join(parts, ", ")
}

// ModulePrivTree lists every module with its privileges. search keeps the
// modules whose id or name has it (with all their privileges) and the
// privileges whose id or name has it (under their module). sort_by on a
// module field orders the modules (privileges by priv_id); on a privilege
// field it orders the privileges inside each module (modules by
// module_id). The tables are tiny: the tree is grouped from one ordered
// join at read time.
func ModulePrivTree(ctx context.Context, pool *pgxpool.Pool, q PermModuleTreeQuery) ([]PermModuleTree, error) {
	var args sqlArgs
	where := "true"
	if q.Search != "" {
		where = searchAny(&args, q.Search, "m.module_id", "m.module_name", "p.priv_id", "p.priv_name")
	}
	sorts := map[string][2]string{
		"module_id": {"m.module_id", "m.module_id"}, "module_name": {"m.module_id", "lower(m.module_name)"},
		"priv_id": {"p.priv_id", "p.priv_id"}, "priv_name": {"p.priv_id", "lower(p.priv_name)"},
		"priv_opr_type": {"p.priv_id", oprSort("p")}, "is_sys_priv": {"p.priv_id", "p.is_sys_priv"},
	}
	order := treeOrder([][2]string{{"m.module_id"}, {"p.priv_id"}}, sorts, q.SortBy, direction(q.SortOrder))
	rows, err := pool.Query(ctx, `SELECT m.module_id, m.module_name, p.module_id, p.priv_id, p.priv_name, p.is_sys_priv, p.priv_opr_type,
    p.c_uid, p.m_uid, p.ctime, p.utime
FROM perm_modules m LEFT JOIN perm_privs p ON p.module_id = m.module_id WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("read the module privilege tree: %w", err)
	}
	defer rows.Close()
	out := []PermModuleTree{}
	for rows.Next() {
		var (
			moduleID, moduleName, pm, pid, pname, ptype *string
			psys                                        *bool
			cuid, muid                                  *int64
			ctime, utime                                *time.Time
		)
		if err := rows.Scan(&moduleID, &moduleName, &pm, &pid, &pname, &psys, &ptype, &cuid, &muid, &ctime, &utime); err != nil {
			return nil, fmt.Errorf("read the module privilege tree: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ModuleID != *moduleID {
			out = append(out, PermModuleTree{ModuleID: *moduleID, ModuleName: *moduleName, Privs: []PermPrivRead{}})
		}
		if pid != nil {
			n := &out[len(out)-1]
			n.Privs = append(n.Privs, PermPrivRead{
				PermPrivState: domain.PermPrivState{ModuleID: *pm, PrivID: *pid, PrivName: *pname, IsSysPriv: *psys, PrivOprType: *ptype},
				Audited:       projections.Audited{CUID: *cuid, MUID: *muid, CTime: ctime.UTC(), UTime: utime.UTC()}})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the module privilege tree: %w", err)
	}
	return out, nil
}

// PermRolesQuery is the query string of Read Roles.
type PermRolesQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=role_name" binding:"oneof=role_id role_name is_sys_role"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var permRoleSorts = map[string]string{"role_id": "r.role_id", "role_name": "lower(r.role_name)", "is_sys_role": "r.is_sys_role"}

// ListPermRoles lists the roles: search is a case-insensitive substring
// of role_id or role_name; ties go by role_id.
func ListPermRoles(ctx context.Context, pool *pgxpool.Pool, q PermRolesQuery) ([]PermRoleRead, error) {
	var args sqlArgs
	where := "true"
	if q.Search != "" {
		where = searchAny(&args, q.Search, "r.role_id", "r.role_name")
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+permRoleColumns+` FROM perm_roles r WHERE `+where+
		` ORDER BY `+permRoleSorts[q.SortBy]+` `+dir+`, r.role_id `+dir, args...)
	return collectAll(rows, scanPermRole, "list roles")
}

// PermRolePrivsQuery is the query string of Read Role Privs.
type PermRolePrivsQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=module_id" binding:"oneof=module_id module_name priv_id priv_name priv_opr_type"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var permRolePrivSorts = map[string]string{"module_id": "i.module_id", "module_name": "lower(m.module_name)",
	"priv_id": "i.priv_id", "priv_name": "lower(p.priv_name)", "priv_opr_type": oprSort("p")}

// ListPermRolePrivs lists the items of role (404 if there is no such
// role): search is a case-insensitive substring of the module's or the
// privilege's id or name; ties go by module_id, then priv_id.
func ListPermRolePrivs(ctx context.Context, pool *pgxpool.Pool, role string, q PermRolePrivsQuery) ([]PermRolePrivRead, error) {
	if _, err := PermRoleByID(ctx, pool, role); err != nil {
		return nil, err
	}
	var args sqlArgs
	where := []string{"i.role_id = " + args.add(role)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "i.module_id", "m.module_name", "i.priv_id", "p.priv_name"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+permRolePrivColumns+permRolePrivFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+permRolePrivSorts[q.SortBy]+` `+dir+`, i.module_id `+dir+`, i.priv_id `+dir, args...)
	return collectAll(rows, scanPermRolePriv, "list role privileges")
}

// PermRoleTreeQuery is the query string of Read Role Priv Tree.
type PermRoleTreeQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=role_name" binding:"oneof=role_id role_name module_id module_name priv_id priv_name priv_opr_type"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// RolePrivTree lists every role with the modules and privileges it holds.
// search keeps the roles whose id or name has it (with all their items)
// and the items whose module's or privilege's id or name has it. sort_by
// orders its own level (roles, modules of a role, or privileges of a
// module); the other levels go by id. Grouped at read time from one
// ordered join (the tables are tiny).
func RolePrivTree(ctx context.Context, pool *pgxpool.Pool, q PermRoleTreeQuery) ([]PermRoleTree, error) {
	var args sqlArgs
	where := "true"
	if q.Search != "" {
		where = searchAny(&args, q.Search, "r.role_id", "r.role_name", "i.module_id", "i.module_name", "i.priv_id", "i.priv_name")
	}
	sorts := map[string][2]string{
		"role_id": {"r.role_id", "r.role_id"}, "role_name": {"r.role_id", "lower(r.role_name)"},
		"module_id": {"i.module_id", "i.module_id"}, "module_name": {"i.module_id", "lower(i.module_name)"},
		"priv_id": {"i.priv_id", "i.priv_id"}, "priv_name": {"i.priv_id", "lower(i.priv_name)"},
		"priv_opr_type": {"i.priv_id", oprSort("i")},
	}
	order := treeOrder([][2]string{{"r.role_id"}, {"i.module_id"}, {"i.priv_id"}}, sorts, q.SortBy, direction(q.SortOrder))
	rows, err := pool.Query(ctx, `SELECT r.role_id, r.role_name, r.is_sys_role, i.module_id, i.module_name, i.priv_id, i.priv_name,
    i.is_sys_priv, i.priv_opr_type
FROM perm_roles r LEFT JOIN (SELECT rp.role_id, rp.module_id, m.module_name, rp.priv_id, p.priv_name, p.is_sys_priv, p.priv_opr_type
    FROM perm_role_privs rp JOIN perm_privs p ON p.module_id = rp.module_id AND p.priv_id = rp.priv_id
    JOIN perm_modules m ON m.module_id = rp.module_id) i ON i.role_id = r.role_id
WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, fmt.Errorf("read the role privilege tree: %w", err)
	}
	defer rows.Close()
	out := []PermRoleTree{}
	for rows.Next() {
		var (
			r                                PermRoleTree
			moduleID, moduleName, pid, pname *string
			ptype                            *string
			psys                             *bool
		)
		if err := rows.Scan(&r.RoleID, &r.RoleName, &r.IsSysRole, &moduleID, &moduleName, &pid, &pname, &psys, &ptype); err != nil {
			return nil, fmt.Errorf("read the role privilege tree: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].RoleID != r.RoleID {
			r.Modules = []PermTreeModule{}
			out = append(out, r)
		}
		if moduleID == nil {
			continue
		}
		role := &out[len(out)-1]
		if len(role.Modules) == 0 || role.Modules[len(role.Modules)-1].ModuleID != *moduleID {
			role.Modules = append(role.Modules, PermTreeModule{ModuleID: *moduleID, ModuleName: *moduleName, Privs: []PermTreePriv{}})
		}
		m := &role.Modules[len(role.Modules)-1]
		m.Privs = append(m.Privs, PermTreePriv{PrivID: *pid, PrivName: *pname, IsSysPriv: *psys, PrivOprType: *ptype})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the role privilege tree: %w", err)
	}
	return out, nil
}

// RegisterPermissionReads registers the reads of the permission catalogue
// (#147, #148, #150, #153, #157, #159): any authenticated user may read.
func RegisterPermissionReads(s *httpapi.Server, pool *pgxpool.Pool) {
	sortOrder := httpapi.Param{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}
	search := func(what string) httpapi.Param {
		return httpapi.Param{Name: "search", In: "query", Description: "Case-insensitive substring of " + what + "."}
	}
	sortBy := func(def string, enum ...string) httpapi.Param {
		return httpapi.Param{Name: "sort_by", In: "query", Default: def, Enum: enum}
	}
	module := httpapi.Param{Name: "module_id", In: "path", Required: true}
	role := httpapi.Param{Name: "role_id", In: "path", Required: true}
	models := PermissionReadModels
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/modules", Access: access.SignedIn(), Tag: "Permission",
		Summary: "Read Permission Modules", Description: "The permission modules, filtered by search (id or name), ordered by sort_by (ties by module_id).",
		Params:   []httpapi.Param{search("the module's id or name"), sortBy("module_id", "module_id", "module_name"), sortOrder},
		Response: []PermModuleRead{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermModulesQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermModuleRead, error) { return ListPermModules(ctx, pool, q) })
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/modules/{module_id}/privs", Access: access.SignedIn(), Tag: "Permission",
		Summary:     "Read Privs By Module",
		Description: "The privileges of a module (404 if there is none such), filtered by is_sys_priv and search (id or name), ordered by sort_by (ties by priv_id; priv_opr_type in the order READ, WRITE, MODIFY, DELETE).",
		Params: []httpapi.Param{module, {Name: "is_sys_priv", In: "query", Type: "boolean", Description: "Only system (true) or custom (false) privileges."},
			search("the privilege's id or name"), sortBy("priv_id", "priv_id", "priv_name", "priv_opr_type", "is_sys_priv"), sortOrder},
		Response: []PermPrivRead{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermPrivsQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermPrivRead, error) {
				return ListPermPrivs(ctx, pool, c.Param("module_id"), q)
			})
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/module-privs/tree", Access: access.SignedIn(), Tag: "Permission",
		Summary: "Read Module Priv Tree",
		Description: "Every module with its privileges. search keeps modules whose id or name has it (with all their privileges) and privileges whose id or name has it; " +
			"sort_by on a module field orders the modules, on a privilege field the privileges inside each module (the other level by id).",
		Params: []httpapi.Param{search("a module's or privilege's id or name"),
			sortBy("module_id", "module_id", "module_name", "priv_id", "priv_name", "priv_opr_type", "is_sys_priv"), sortOrder},
		Response: []PermModuleTree{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermModuleTreeQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermModuleTree, error) { return ModulePrivTree(ctx, pool, q) })
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/roles", Access: access.SignedIn(), Tag: "Permission",
		Summary: "Read Roles", Description: "The roles, filtered by search (id or name), ordered by sort_by (ties by role_id).",
		Params:   []httpapi.Param{search("the role's id or name"), sortBy("role_name", "role_id", "role_name", "is_sys_role"), sortOrder},
		Response: []PermRoleRead{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermRolesQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermRoleRead, error) { return ListPermRoles(ctx, pool, q) })
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/roles/{role_id}/privs", Access: access.SignedIn(), Tag: "Permission",
		Summary:     "Read Role Privs",
		Description: "The privileges a role holds (404 if there is no such role), filtered by search (module's or privilege's id or name), ordered by sort_by (ties by module_id, priv_id).",
		Params: []httpapi.Param{role, search("the module's or privilege's id or name"),
			sortBy("module_id", "module_id", "module_name", "priv_id", "priv_name", "priv_opr_type"), sortOrder},
		Response: []PermRolePrivRead{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermRolePrivsQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermRolePrivRead, error) {
				return ListPermRolePrivs(ctx, pool, c.Param("role_id"), q)
			})
		}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/role-privs/tree", Access: access.SignedIn(), Tag: "Permission",
		Summary: "Read Role Priv Tree",
		Description: "Every role with the modules and privileges it holds. search keeps roles whose id or name has it (with all their items) and items whose module or privilege id or name has it; " +
			"sort_by orders its own level (roles, modules of a role, privileges of a module), the other levels by id.",
		Params: []httpapi.Param{search("a role's, module's or privilege's id or name"),
			sortBy("role_name", "role_id", "role_name", "module_id", "module_name", "priv_id", "priv_name", "priv_opr_type"), sortOrder},
		Response: []PermRoleTree{}, ReadModels: models,
		Handler: func(c *gin.Context) {
			var q PermRoleTreeQuery
			permAnswer(c, &q, func(ctx context.Context) ([]PermRoleTree, error) { return RolePrivTree(ctx, pool, q) })
		}})
}

// permAnswer binds the query into q, runs read and answers its result.
func permAnswer[Q any, R any](c *gin.Context, q *Q, read func(context.Context) (R, error)) {
	if !httpapi.BindQuery(c, q) {
		return
	}
	out, err := read(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
