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
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TenantReadModels are the projections tenant operations read and wait for.
var TenantReadModels = []string{"tenants", "access"}

// TenantRead is a tenant as the API shows it (the spec's tenant response).
type TenantRead struct {
	domain.TenantState
	projections.Audited
}

const tenantColumns = `tenant_name, is_sys, is_active, note, tenant_id, c_uid, m_uid, ctime, utime`

func scanTenant(row pgx.CollectableRow) (TenantRead, error) {
	var t TenantRead
	err := row.Scan(&t.TenantName, &t.IsSys, &t.IsActive, &t.Note, &t.TenantID, &t.CUID, &t.MUID, &t.CTime, &t.UTime)
	t.InUTC()
	return t, err
}

// TenantByID reads tenant id: 404 "Tenant not found" if there is none.
func TenantByID(ctx context.Context, db DB, id uuid.UUID) (TenantRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE tenant_id = $1`, id)
	t, err := pgx.CollectExactlyOneRow(rows, scanTenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, domain.NotFoundf(domain.MsgTenantNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("read tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantsQuery is the query of Read Tenants.
type TenantsQuery struct {
	SortBy    string `form:"sort_by,default=tenant_name" binding:"oneof=tenant_id tenant_name is_sys is_active"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
	IsAll     bool   `form:"is_all,default=false"`
}

// tenantSortColumns maps sort_by to its ORDER BY expression (names compare
// case-insensitively, then as written).
var tenantSortColumns = map[string]string{
	"tenant_id": "tenant_id", "tenant_name": "lower(tenant_name) %[1]s, tenant_name", "is_sys": "is_sys", "is_active": "is_active",
}

// ListTenants lists the tenants the caller may read (tenancy.Tenants: where
// they hold tenants.read tenant-wide; superusers every one): the active
// ones, or all with is_all; ordered by q's column and direction, ties by
// tenant_id in the same direction.
func ListTenants(ctx context.Context, pool *pgxpool.Pool, q TenantsQuery) ([]TenantRead, error) {
	only, all, err := tenancy.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	col, ok := tenantSortColumns[q.SortBy]
	if !ok {
		col = tenantSortColumns["tenant_name"]
	}
	dir := direction(q.SortOrder)
	order := fmt.Sprintf(col+" %[1]s, tenant_id %[1]s", dir)
	rows, _ := pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE ($1 OR is_active) AND ($2 OR tenant_id = ANY($3))
ORDER BY `+order, q.IsAll, all, only)
	return collectAll(rows, scanTenant, "list tenants")
}

type tenantReads struct {
	pool *pgxpool.Pool
}

// RegisterTenantReads registers Read Tenants (#89) and Read Tenant (#91).
// Each lists or reads what the caller holds tenants.read in; a disabled
// tenant is refused to non-superusers by Read Tenant, as by every operation
// naming a tenant (tenancy.Resolve).
func RegisterTenantReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &tenantReads{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants", Access: access.Tenant("tenants", "read"), Tag: "Tenants", Summary: "Read Tenants",
		Description: "The tenants: only the active ones unless is_all is true; ordered by sort_by (tenant_id, " +
			"tenant_name (case-insensitive), is_sys or is_active; default tenant_name) in sort_order (default asc), " +
			"ties by tenant_id.",
		Params: []httpapi.Param{
			{Name: "sort_by", In: "query", Default: "tenant_name", Enum: []string{"tenant_id", "tenant_name", "is_sys", "is_active"}},
			{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}},
			{Name: "is_all", In: "query", Type: "boolean", Default: false, Description: "Include disabled tenants."},
		},
		Response: []TenantRead{}, ReadModels: TenantReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/tenants/{tenant_id}", Access: access.Tenant("tenants", "read"), Tag: "Tenants", Summary: "Read Tenant",
		Description: "One tenant. 404 \"Tenant not found\"; a disabled tenant is 403 \"Tenant is disabled\" except for superusers.",
		Params:      []httpapi.Param{{Name: "tenant_id", In: "path", Format: "uuid", Place: tenancy.PlaceTenant}},
		Response:    TenantRead{}, ReadModels: TenantReadModels, Handler: h.read})
}

func (h *tenantReads) list(c *gin.Context) {
	var q TenantsQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	out, err := ListTenants(c.Request.Context(), h.pool, q)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *tenantReads) read(c *gin.Context) {
	id, ok := httpapi.PathUUID(c, "tenant_id")
	if !ok {
		return
	}
	if _, ok := tenancy.Resolve(c, h.pool, &id); !ok {
		return
	}
	t, err := TenantByID(c.Request.Context(), h.pool, id)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}
