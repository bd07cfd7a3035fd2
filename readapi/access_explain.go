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
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ExplainQuery is the query of Explain Permission.
type ExplainQuery struct {
	UID        int64      `form:"uid" binding:"required,gte=1"`
	ModuleID   string     `form:"module_id" binding:"required,min=1,max=128"`
	PrivID     string     `form:"priv_id" binding:"required,min=1,max=128"`
	TenantID   *uuid.UUID `form:"tenant_id"`
	BusinessID int64      `form:"business_id" binding:"gte=0"`
}

// GrantPath is one way a user holds a privilege: a role, and how they got
// it. via is "superuser", "user" (a tenant role granted to the user),
// "group" (granted to a user group they are a member of: group_id),
// "org" (granted to org_id, which is their org member_org_id or one of its
// ancestors) or "business" (a business role held in business_id, which
// is the asked business or, inherited, one of its ancestors).
type GrantPath struct {
	Via         string `json:"via"`
	RoleID      string `json:"role_id,omitempty"`
	RoleName    string `json:"role_name,omitempty"`
	RelationID  int64  `json:"relation_id,omitempty"`
	GroupID     int64  `json:"group_id,omitempty"`
	OrgID       int64  `json:"org_id,omitempty"`
	MemberOrgID int64  `json:"member_org_id,omitempty"`
	BusinessID  int64  `json:"business_id,omitempty"`
	Inherited   bool   `json:"inherited"`
}

// Explanation answers Explain Permission.
type Explanation struct {
	UID        int64       `json:"uid"`
	ModuleID   string      `json:"module_id"`
	PrivID     string      `json:"priv_id"`
	TenantID   uuid.UUID   `json:"tenant_id"`
	BusinessID int64       `json:"business_id"`
	Holds      bool        `json:"holds"`
	Paths      []GrantPath `json:"paths"`
}

// explainSQL lists every grant path of uid $1 to module $3 priv $4 in
// tenant $2 (and business $5, 0 for the tenant as a whole): the access
// projection's paths (projections/access.go writes the rules once), those
// of roles holding the privilege.
const explainSQL = `
SELECT a.via, a.relation_id, a.role_id, coalesce(pr.role_name, a.role_id), a.group_id, a.org_id, a.member_org_id,
    a.source_business_id
FROM access_paths a
JOIN access_role_privs i ON i.role_id = a.role_id AND i.module_id = $3 AND i.priv_id = $4
LEFT JOIN perm_roles pr ON pr.role_id = a.role_id
WHERE a.tenant_id = $2 AND a.uid = $1 AND a.business_id IN (0, $5)
ORDER BY a.via, a.relation_id, a.member_org_id`

// Explain answers whether user q.UID holds q.ModuleID.q.PrivID in tenant
// (and q.BusinessID) and every path that grants it.
func Explain(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q ExplainQuery) (Explanation, error) {
	out := Explanation{UID: q.UID, ModuleID: q.ModuleID, PrivID: q.PrivID, TenantID: tenant, BusinessID: q.BusinessID,
		Paths: []GrantPath{}}
	var super bool
	err := pool.QueryRow(ctx, `SELECT is_superuser FROM users WHERE id = $1`, q.UID).Scan(&super)
	if err == pgx.ErrNoRows {
		return out, &httpapi.StatusError{Status: http.StatusNotFound, Detail: "User not found"}
	}
	if err != nil {
		return out, fmt.Errorf("read user %d: %w", q.UID, err)
	}
	if super {
		out.Paths = append(out.Paths, GrantPath{Via: "superuser"})
	}
	rows, _ := pool.Query(ctx, explainSQL, q.UID, tenant, q.ModuleID, q.PrivID, q.BusinessID)
	paths, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GrantPath, error) {
		var p GrantPath
		err := row.Scan(&p.Via, &p.RelationID, &p.RoleID, &p.RoleName, &p.GroupID, &p.OrgID, &p.MemberOrgID, &p.BusinessID)
		p.Inherited = (p.Via == "org" && p.OrgID != p.MemberOrgID) || (p.Via == "business" && p.BusinessID != q.BusinessID)
		return p, err
	})
	if err != nil {
		return out, fmt.Errorf("explain: %w", err)
	}
	out.Paths = append(out.Paths, paths...)
	out.Holds = len(out.Paths) > 0
	return out, nil
}

// RegisterAccessExplain registers Explain Permission (beyond the
// contract): GET /api/v1/permissions/explain.
func RegisterAccessExplain(s *httpapi.Server, pool *pgxpool.Pool) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/permissions/explain", Tag: "Permission",
		Summary: "Explain Permission",
		Description: "Whether user uid holds module_id.priv_id in tenant_id (default: X-Tenant-Id, else the system tenant) — " +
			"tenant-wide, or in business_id when given — and every path that grants it: the role, and whether it " +
			"comes from a tenant role of the user (via user), of a user group they belong to (group), of an org " +
			"they belong to or one of its ancestors (org; inherited when an ancestor), or from a business role held " +
			"in the business or, inherited, an ancestor business (business). Superusers hold everything (via superuser). " +
			"Needs permissions.read in the tenant.",
		Access: access.Tenant("permissions", "read"),
		Params: []httpapi.Param{
			{Name: "uid", In: "query", Type: "integer", Required: true},
			{Name: "module_id", In: "query", Required: true},
			{Name: "priv_id", In: "query", Required: true},
			{Name: "tenant_id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant},
			{Name: "business_id", In: "query", Type: "integer", Default: 0, Place: tenancy.PlaceBusiness},
		},
		Response: Explanation{}, ReadModels: []string{projections.AccessName, PermissionReadModels[0], "users"},
		Handler: func(c *gin.Context) {
			var q ExplainQuery
			tenantAnswer(c, pool, &q, func(q *ExplainQuery) *uuid.UUID { return q.TenantID },
				func(ctx context.Context, t uuid.UUID) (Explanation, error) { return Explain(ctx, pool, t, q) })
		}})
}
