package readapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The tenant candidates (#74–76) list who or what could be granted a role
// in a tenant. Until the RBAC issue adds tenant role grants:
//
//   - users (#74): the active users who are not members of the tenant yet,
//     a member being a user of any org or any user group of the tenant;
//   - groups (#75): every user group of the tenant;
//   - orgs (#76): every org of the tenant.
//
// The contract names the list "users" in all three answers; #75 and #76
// keep that key for their group and org rows.

// TenantCandidatesReadModels are the projections the tenant candidates read.
var TenantCandidatesReadModels = []string{"tenants", "users", "orgs", "user_groups"}

// TenantCandidatesQuery is the query string of the tenant candidates.
// tenant_id is in the contract of #75 and #76; #74 accepts it too (else
// X-Tenant-Id, else the system tenant, as everywhere).
type TenantCandidatesQuery struct {
	TenantID *uuid.UUID `form:"tenant_id"`
	Search   string     `form:"search" binding:"max=255"`
	Skip     int        `form:"skip,default=0" binding:"gte=0"`
	Limit    int        `form:"limit,default=10" binding:"gte=1,lte=500"`
}

// TenantUserCandidates lists the active users who are not members of
// tenant (in none of its orgs, in none of its user groups, holding no user
// role in it), with UserCandidates' search, order and item shape.
func TenantUserCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q TenantCandidatesQuery) (Candidates, error) {
	return UserCandidates(ctx, pool, tenant, `EXISTS (SELECT 1 FROM org_members m JOIN orgs o ON o.org_id = m.org_id
        WHERE o.tenant_id = $1 AND m.uid = u.id)
    OR EXISTS (SELECT 1 FROM user_group_members m JOIN user_groups g ON g.group_id = m.group_id
        WHERE g.tenant_id = $1 AND m.uid = u.id)
    OR EXISTS (SELECT 1 FROM tenant_role_relations r WHERE r.tenant_id = $1 AND r.kind = 'user' AND r.subject_id = u.id)`, []any{tenant}, q.Search, q.Skip, q.Limit)
}

// GroupCandidate is a user group that could be granted a tenant role.
type GroupCandidate struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	IsEnable  bool   `json:"is_enable"`
}

// GroupCandidates is a page of group candidates; the contract calls the
// list "users".
type GroupCandidates struct {
	TotalCount int64            `json:"total_count"`
	Users      []GroupCandidate `json:"users"`
}

// TenantGroupCandidates lists tenant's user groups by group_id; search is a
// case-insensitive substring of the group name.
func TenantGroupCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q TenantCandidatesQuery) (GroupCandidates, error) {
	out := GroupCandidates{Users: []GroupCandidate{}}
	var err error
	out.TotalCount, out.Users, err = tenantCandidates(ctx, pool, `FROM user_groups WHERE tenant_id = $1`, []string{"group_name"},
		`group_id, group_name, is_enable`, `group_id`, tenant, q, func(row pgx.CollectableRow) (GroupCandidate, error) {
			var g GroupCandidate
			return g, row.Scan(&g.GroupID, &g.GroupName, &g.IsEnable)
		})
	if err != nil {
		return out, fmt.Errorf("tenant group candidates: %w", err)
	}
	return out, nil
}

// OrgCandidate is an org that could be granted a tenant role.
type OrgCandidate struct {
	OrgID    int64   `json:"org_id"`
	OrgName  string  `json:"org_name"`
	OrgCode  *string `json:"org_code"`
	OrgLevel int     `json:"org_level"`
	IsEnable bool    `json:"is_enable"`
}

// OrgCandidatesPage is a page of org candidates; the contract calls the list
// "users".
type OrgCandidatesPage struct {
	TotalCount int64          `json:"total_count"`
	Users      []OrgCandidate `json:"users"`
}

// TenantOrgCandidates lists tenant's orgs by org_id; search is a
// case-insensitive substring of the org name or code.
func TenantOrgCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q TenantCandidatesQuery) (OrgCandidatesPage, error) {
	out := OrgCandidatesPage{Users: []OrgCandidate{}}
	var err error
	out.TotalCount, out.Users, err = tenantCandidates(ctx, pool, `FROM orgs WHERE tenant_id = $1`, []string{"org_name", "org_code"},
		`org_id, org_name, org_code, org_level, is_enable`, `org_id`, tenant, q, func(row pgx.CollectableRow) (OrgCandidate, error) {
			var o OrgCandidate
			return o, row.Scan(&o.OrgID, &o.OrgName, &o.OrgCode, &o.OrgLevel, &o.IsEnable)
		})
	if err != nil {
		return out, fmt.Errorf("tenant org candidates: %w", err)
	}
	return out, nil
}

// tenantCandidates counts and pages the rows of from (whose $1 is tenant)
// that match q.Search in one of searchCols, ordered by order.
func tenantCandidates[T any](ctx context.Context, pool *pgxpool.Pool, from string, searchCols []string, cols, order string,
	tenant uuid.UUID, q TenantCandidatesQuery, scan pgx.RowToFunc[T]) (int64, []T, error) {
	args := sqlArgs{tenant}
	if q.Search != "" {
		from += ` AND ` + searchAny(&args, q.Search, searchCols...)
	}
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) `+from, args...).Scan(&total); err != nil {
		return 0, nil, err
	}
	page := ` ORDER BY ` + order + ` OFFSET ` + args.add(q.Skip) + ` LIMIT ` + args.add(q.Limit)
	rows, _ := pool.Query(ctx, `SELECT `+cols+` `+from+page, args...)
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return 0, nil, err
	}
	if items == nil {
		items = []T{}
	}
	return total, items, nil
}

// RegisterTenantCandidates registers Read Tenant User / Group / Org
// Candidates (#74–76). Any authenticated user of an active tenant may read
// (permissions.read in the tenant, access.Tenant). Their static paths win over Read Tenant's
// /api/v1/tenants/{tenant_id}.
func RegisterTenantCandidates(s *httpapi.Server, pool *pgxpool.Pool) {
	params := func(tenantDoc, searchDoc string) []httpapi.Param {
		return []httpapi.Param{
			{Name: "tenant_id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant, Description: tenantDoc},
			{Name: "search", In: "query", Description: searchDoc},
			{Name: "skip", In: "query", Type: "integer", Default: 0},
			{Name: "limit", In: "query", Type: "integer", Default: 10, Description: "1..500."},
		}
	}
	const tenantDoc = "The tenant (else the X-Tenant-Id header, else the system tenant)."
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/user-candidates", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant User Candidates",
		Description: "Active users who are not members of the tenant yet (members: the users of its orgs and of its user " +
			"groups, until tenant role grants exist), by id, filtered by search (username, nickname, email or mobile): " +
			"total_count of them all and a page of users (skip, limit).",
		Params:   params(tenantDoc+" Not in the contract, which has no tenant parameter here; accepted for symmetry.", "Substring of username, nickname, email or mobile (case-insensitive)."),
		Response: Candidates{}, ReadModels: TenantCandidatesReadModels,
		Handler: tenantCandidatesHandler(pool, TenantUserCandidates)})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/group-candidates", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant Group Candidates",
		Description: "The tenant's user groups (every one, until tenant role grants exist), by group_id, filtered by search " +
			"(group name): total_count of them all and a page of groups (skip, limit) under the contract's key \"users\".",
		Params:   params(tenantDoc, "Substring of the group name (case-insensitive)."),
		Response: GroupCandidates{}, ReadModels: TenantCandidatesReadModels,
		Handler: tenantCandidatesHandler(pool, TenantGroupCandidates)})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/org-candidates", Access: access.Tenant("permissions", "read"), Tag: "Tenants",
		Summary: "Read Tenant Org Candidates",
		Description: "The tenant's orgs (every one, until tenant role grants exist), by org_id, filtered by search (org " +
			"name or code): total_count of them all and a page of orgs (skip, limit) under the contract's key \"users\".",
		Params:   params(tenantDoc, "Substring of the org name or code (case-insensitive)."),
		Response: OrgCandidatesPage{}, ReadModels: TenantCandidatesReadModels,
		Handler: tenantCandidatesHandler(pool, TenantOrgCandidates)})
}

// tenantCandidatesHandler binds the query, resolves the tenant and answers
// read's page.
func tenantCandidatesHandler[R any](pool *pgxpool.Pool,
	read func(context.Context, *pgxpool.Pool, uuid.UUID, TenantCandidatesQuery) (R, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var q TenantCandidatesQuery
		tenantAnswer(c, pool, &q, func(q *TenantCandidatesQuery) *uuid.UUID { return q.TenantID },
			func(ctx context.Context, t uuid.UUID) (R, error) { return read(ctx, pool, t, q) })
	}
}
