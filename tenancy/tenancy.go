// Package tenancy answers the two questions every tenant-scoped operation
// asks before it acts: which tenant the request is about, and whether the
// caller may manage it. They live here, in one place, so that the
// permissions model (RBAC) can replace the rule without touching handlers.
//
// The caller's tenant: the operation's own tenant_id /
// tenant-id parameter where it has one; else the X-Tenant-Id header; else
// the system tenant. (Until users belong to tenants through role grants,
// the system tenant is everyone's default.) A tenant that does not exist
// is 404 "Tenant not found"; a disabled one (is_active=false) refuses its
// users with 403 "Tenant is disabled" — superusers still manage it.
package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// SystemTenantID is the id of the system tenant, the same on every node
// and every installation (created at first start, is_sys=true).
var SystemTenantID = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://skillflaw.dev/tenants/system"))

// HeaderTenantID names the tenant of a request that has no tenant parameter.
const HeaderTenantID = "X-Tenant-Id"

// OrSystem is the tenant a resource without one lives in: the system
// tenant.
func OrSystem(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return SystemTenantID
	}
	return *id
}

// Tenant is what an operation knows of its tenant.
type Tenant struct {
	ID       uuid.UUID
	Name     string
	IsSys    bool
	IsActive bool
}

// Lookup reads tenant id from the tenants read model: 404 "Tenant not
// found" if there is none.
func Lookup(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID) (Tenant, error) {
	t := Tenant{ID: id}
	err := pool.QueryRow(ctx, `SELECT tenant_name, is_sys, is_active FROM tenants WHERE tenant_id = $1`, id).
		Scan(&t.Name, &t.IsSys, &t.IsActive)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, domain.NotFoundf("Tenant not found")
	}
	if err != nil {
		return t, fmt.Errorf("read tenant %s: %w", id, err)
	}
	return t, nil
}

// Check returns tenant id for caller: it must exist, be active unless the
// caller is a superuser, and the caller must hold the operation's declared
// privilege there as a whole (the request's Authorizer: Place).
func Check(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (Tenant, error) {
	return CheckIn(ctx, pool, caller, id, 0)
}

// CheckIn is Check for something placed in business of tenant id (0: the
// tenant as a whole): a privilege held in that business is enough.
func CheckIn(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID, business int64) (Tenant, error) {
	t, err := active(ctx, pool, caller, id)
	if err == nil {
		err = place(ctx, id, business)
	}
	return t, err
}

// active returns tenant id if it exists and, unless caller is a
// superuser, is active.
func active(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (Tenant, error) {
	t, err := Lookup(ctx, pool, id)
	if err == nil && !t.IsActive && !caller.IsSuperuser {
		err = domain.Forbiddenf("Tenant is disabled")
	}
	return t, err
}

// Resolve finds the tenant of a request: the given parameter value (from
// the operation's tenant_id / tenant-id; nil when absent), else the
// X-Tenant-Id header, else the system tenant; then checks it for the
// caller (Check). A malformed header is 422 at ["header", "x-tenant-id"].
func Resolve(c *gin.Context, pool *pgxpool.Pool, param *uuid.UUID) (Tenant, bool) {
	return resolve(c, pool, param, 0, true)
}

// ResolveScoped is Resolve for a read that narrows its answer to where the
// caller may read (Readable) instead of needing the privilege in the
// tenant as a whole: the tenant must exist and be active (for
// non-superusers), nothing more.
func ResolveScoped(c *gin.Context, pool *pgxpool.Pool, param *uuid.UUID) (Tenant, bool) {
	return resolve(c, pool, param, 0, false)
}

func resolve(c *gin.Context, pool *pgxpool.Pool, param *uuid.UUID, business int64, placed bool) (Tenant, bool) {
	caller, err := auth.Caller(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return Tenant{}, false
	}
	id := SystemTenantID
	switch raw := c.GetHeader(HeaderTenantID); {
	case param != nil:
		id = *param
	case raw != "":
		parsed, err := uuid.Parse(raw)
		if err != nil {
			httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "uuid_parsing",
				Loc: []any{"header", "x-tenant-id"}, Msg: "Input should be a valid UUID, " + err.Error(), Input: raw}}})
			return Tenant{}, false
		}
		id = parsed
	}
	var t Tenant
	if placed {
		t, err = CheckIn(c.Request.Context(), pool, caller, id, business)
	} else {
		t, err = active(c.Request.Context(), pool, caller, id)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return Tenant{}, false
	}
	return t, true
}
