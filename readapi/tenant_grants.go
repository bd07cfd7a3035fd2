package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Tenant role grants (#77, #81, #85 and the answers of #78, #82, #86): the
// relations of tenant_role_relations with the names of their tenant, role
// and subject. A name whose row is gone (a deleted user, a removed role)
// reads as "".

// The read models of each kind of grant: the relations and the subject's.
var (
	TenantUserRoleReadModels  = []string{"tenant_grants", "users", "access"}
	TenantGroupRoleReadModels = []string{"tenant_grants", "user_groups", "access"}
	TenantOrgRoleReadModels   = []string{"tenant_grants", "orgs", "access"}
)

// TenantUserRoleRead is a role granted to a user in a tenant.
type TenantUserRoleRead struct {
	ID         int64     `json:"id"`
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	UID        int64     `json:"uid"`
	Username   string    `json:"username"`
	Nickname   string    `json:"nickname"`
	RoleID     string    `json:"role_id"`
	RoleName   string    `json:"role_name"`
}

// TenantGroupRoleRead is a role granted to a user group in a tenant.
type TenantGroupRoleRead struct {
	ID         int64     `json:"id"`
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	GroupID    int64     `json:"group_id"`
	GroupName  string    `json:"group_name"`
	RoleID     string    `json:"role_id"`
	RoleName   string    `json:"role_name"`
}

// TenantOrgRoleRead is a role granted to an org in a tenant.
type TenantOrgRoleRead struct {
	ID         int64     `json:"id"`
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	OrgID      int64     `json:"org_id"`
	OrgName    string    `json:"org_name"`
	RoleID     string    `json:"role_id"`
	RoleName   string    `json:"role_name"`
}

// grantKind is what differs between the three kinds of relation.
type grantKind[T any] struct {
	kind     string
	cols     string // the subject's columns, after the common ones
	join     string // joins the subject as s
	search   []string
	sorts    map[string]string
	enum     string // the sort keys, as pydantic's enum message lists them
	scan     func(row pgx.CollectableRow) (T, error)
	notFound string
}

const grantFrom = ` FROM tenant_role_relations r LEFT JOIN tenants t ON t.tenant_id = r.tenant_id
    LEFT JOIN perm_roles p ON p.role_id = r.role_id`

const grantCols = `r.id, r.tenant_id, coalesce(t.tenant_name, ''), r.subject_id, r.role_id, coalesce(p.role_name, '')`

var commonGrantSorts = map[string]string{"id": "r.id", "tenant_name": "lower(t.tenant_name)", "role_id": "r.role_id",
	"role_name": "lower(p.role_name)"}

func withSorts(more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range commonGrantSorts {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

var userGrants = grantKind[TenantUserRoleRead]{
	kind: domain.GrantUser, cols: `coalesce(s.username, ''), coalesce(s.nickname, '')`,
	join:   ` LEFT JOIN users s ON s.id = r.subject_id`,
	search: []string{"s.username", "s.nickname", "p.role_name", "r.role_id"},
	sorts:  withSorts(map[string]string{"username": "lower(s.username)", "nickname": "lower(s.nickname)"}),
	scan: func(row pgx.CollectableRow) (TenantUserRoleRead, error) {
		var g TenantUserRoleRead
		return g, row.Scan(&g.ID, &g.TenantID, &g.TenantName, &g.UID, &g.RoleID, &g.RoleName, &g.Username, &g.Nickname)
	},
	enum:     "'id', 'tenant_name', 'username', 'nickname', 'role_id' or 'role_name'",
	notFound: "Tenant user role not found",
}

var groupGrants = grantKind[TenantGroupRoleRead]{
	kind: domain.GrantGroup, cols: `coalesce(s.group_name, '')`,
	join:   ` LEFT JOIN user_groups s ON s.group_id = r.subject_id`,
	search: []string{"s.group_name", "p.role_name", "r.role_id"},
	sorts:  withSorts(map[string]string{"group_name": "lower(s.group_name)"}),
	scan: func(row pgx.CollectableRow) (TenantGroupRoleRead, error) {
		var g TenantGroupRoleRead
		return g, row.Scan(&g.ID, &g.TenantID, &g.TenantName, &g.GroupID, &g.RoleID, &g.RoleName, &g.GroupName)
	},
	enum:     "'id', 'tenant_name', 'group_name', 'role_id' or 'role_name'",
	notFound: "Tenant group role not found",
}

var orgGrants = grantKind[TenantOrgRoleRead]{
	kind: domain.GrantOrg, cols: `coalesce(s.org_name, '')`,
	join:   ` LEFT JOIN orgs s ON s.org_id = r.subject_id`,
	search: []string{"s.org_name", "p.role_name", "r.role_id"},
	sorts:  withSorts(map[string]string{"org_name": "lower(s.org_name)"}),
	scan: func(row pgx.CollectableRow) (TenantOrgRoleRead, error) {
		var g TenantOrgRoleRead
		return g, row.Scan(&g.ID, &g.TenantID, &g.TenantName, &g.OrgID, &g.RoleID, &g.RoleName, &g.OrgName)
	},
	enum:     "'id', 'tenant_name', 'org_name', 'role_id' or 'role_name'",
	notFound: "Tenant org role not found",
}

func (k grantKind[T]) byID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (T, error) {
	rows, _ := db.Query(ctx, `SELECT `+grantCols+`, `+k.cols+grantFrom+k.join+
		` WHERE r.tenant_id = $1 AND r.kind = $2 AND r.id = $3`, tenant, k.kind, id)
	g, err := pgx.CollectExactlyOneRow(rows, k.scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, domain.NotFoundf("%s", k.notFound)
	}
	if err != nil {
		return g, fmt.Errorf("read tenant %s role %d: %w", k.kind, id, err)
	}
	return g, nil
}

func (k grantKind[T]) list(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q TenantGrantsQuery) ([]T, error) {
	args := sqlArgs{tenant, k.kind}
	where := ` WHERE r.tenant_id = $1 AND r.kind = $2`
	if q.Search != "" {
		where += ` AND ` + searchAny(&args, q.Search, k.search...)
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+grantCols+`, `+k.cols+grantFrom+k.join+where+
		` ORDER BY `+k.sorts[q.SortBy]+` `+dir+` NULLS LAST, r.id `+dir, args...)
	return collectAll(rows, k.scan, "list tenant "+k.kind+" roles")
}

// TenantUserRoleByID reads user relation id of tenant (404 if none).
func TenantUserRoleByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (TenantUserRoleRead, error) {
	return userGrants.byID(ctx, db, tenant, id)
}

// TenantGroupRoleByID reads group relation id of tenant (404 if none).
func TenantGroupRoleByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (TenantGroupRoleRead, error) {
	return groupGrants.byID(ctx, db, tenant, id)
}

// TenantOrgRoleByID reads org relation id of tenant (404 if none).
func TenantOrgRoleByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (TenantOrgRoleRead, error) {
	return orgGrants.byID(ctx, db, tenant, id)
}

// TenantGrantsQuery is the query string of the three lists; SortBy is
// checked per list (validSort).
type TenantGrantsQuery struct {
	TenantID  *uuid.UUID `form:"tenant_id"`
	Search    string     `form:"search" binding:"max=255"`
	SortBy    string     `form:"sort_by,default=id"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// RegisterTenantGrantReads registers Read Tenant User / Group / Org Roles
// (#77, #81, #85). Any authenticated user of an active tenant may read
// (permissions.read in the tenant, access.Tenant).
func RegisterTenantGrantReads(s *httpapi.Server, pool *pgxpool.Pool) {
	params := func(sorts string) []httpapi.Param {
		return []httpapi.Param{
			{Name: "tenant_id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant, Description: "The tenant (else the X-Tenant-Id header, else the system tenant)."},
			{Name: "search", In: "query", Description: "Case-insensitive substring of the subject's name(s), the role's name or id."},
			{Name: "sort_by", In: "query", Default: "id", Description: "One of " + sorts + "."},
			{Name: "sort_order", In: "query", Default: "asc", Description: "asc or desc."},
		}
	}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/user-roles", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant User Roles", Description: "The roles granted to users in the tenant, with the names of tenant, user and role.",
		Params: params("id, tenant_name, username, nickname, role_id, role_name"), Response: []TenantUserRoleRead{},
		ReadModels: TenantUserRoleReadModels, Handler: grantListHandler(pool, userGrants)})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/group-roles", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant Group Roles", Description: "The roles granted to user groups in the tenant, with the names of tenant, group and role.",
		Params: params("id, tenant_name, group_name, role_id, role_name"), Response: []TenantGroupRoleRead{},
		ReadModels: TenantGroupRoleReadModels, Handler: grantListHandler(pool, groupGrants)})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/org-roles", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant Org Roles", Description: "The roles granted to orgs in the tenant, with the names of tenant, org and role.",
		Params: params("id, tenant_name, org_name, role_id, role_name"), Response: []TenantOrgRoleRead{},
		ReadModels: TenantOrgRoleReadModels, Handler: grantListHandler(pool, orgGrants)})
}

func grantListHandler[T any](pool *pgxpool.Pool, k grantKind[T]) gin.HandlerFunc {
	return func(c *gin.Context) {
		var q TenantGrantsQuery
		if !httpapi.BindQuery(c, &q) {
			return
		}
		if _, ok := k.sorts[q.SortBy]; !ok { // the kind's enum
			httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "enum", Loc: []any{"query", "sort_by"},
				Msg: "Input should be " + k.enum, Input: q.SortBy}}})
			return
		}
		t, ok := tenancy.Resolve(c, pool, q.TenantID)
		if !ok {
			return
		}
		out, err := k.list(c.Request.Context(), pool, t.ID, q)
		respond(c, out, err)
	}
}
