package access

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Checker reads effective privileges from access_privileges, through
// Cache when it has one.
type Checker struct {
	Pool  *pgxpool.Pool
	Cache *Cache
}

// Scope returns where in tenant user uid holds module.priv.
func (k Checker) Scope(ctx context.Context, uid int64, tenant uuid.UUID, module, priv string) (tenancy.Scope, error) {
	return cached(k.Cache, cacheKey{kind: 's', uid: uid, tenant: tenant, module: module, priv: priv}, func() (tenancy.Scope, error) {
		return k.scope(ctx, uid, tenant, module, priv)
	})
}

func (k Checker) scope(ctx context.Context, uid int64, tenant uuid.UUID, module, priv string) (tenancy.Scope, error) {
	rows, err := k.Pool.Query(ctx, `SELECT business_id, direct FROM access_privileges
WHERE uid = $1 AND tenant_id = $2 AND module_id = $3 AND priv_id = $4`, uid, tenant, module, priv)
	if err != nil {
		return tenancy.Scope{}, fmt.Errorf("read privileges: %w", err)
	}
	defer rows.Close()
	var s tenancy.Scope
	for rows.Next() {
		var b int64
		var direct bool
		if err := rows.Scan(&b, &direct); err != nil {
			return tenancy.Scope{}, fmt.Errorf("read privileges: %w", err)
		}
		switch {
		case b == 0:
			s.All = true
		case direct:
			s.Direct = append(s.Direct, b)
			fallthrough
		default:
			s.Businesses = append(s.Businesses, b)
		}
	}
	if err := rows.Err(); err != nil {
		return tenancy.Scope{}, fmt.Errorf("read privileges: %w", err)
	}
	if s.All {
		s.Businesses, s.Direct = nil, nil
	}
	return s, nil
}

// InBusiness reports whether uid holds module.priv in business (or
// tenant-wide in the business's tenant).
func (k Checker) InBusiness(ctx context.Context, uid int64, business int64, module, priv string) (bool, error) {
	return cached(k.Cache, cacheKey{kind: 'b', uid: uid, business: business, module: module, priv: priv}, func() (bool, error) {
		return k.inBusiness(ctx, uid, business, module, priv)
	})
}

func (k Checker) inBusiness(ctx context.Context, uid int64, business int64, module, priv string) (bool, error) {
	var ok bool
	err := k.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM access_privileges
WHERE uid = $1 AND module_id = $2 AND priv_id = $3 AND (business_id = $4
   OR (business_id = 0 AND tenant_id = (SELECT tenant_id FROM access_businesses WHERE business_id = $4))))`,
		uid, module, priv, business).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("read privileges: %w", err)
	}
	return ok, nil
}

// Anywhere reports whether uid holds module.priv in some tenant.
func (k Checker) Anywhere(ctx context.Context, uid int64, module, priv string) (bool, error) {
	return cached(k.Cache, cacheKey{kind: 'a', uid: uid, module: module, priv: priv}, func() (bool, error) {
		return k.anywhere(ctx, uid, module, priv)
	})
}

func (k Checker) anywhere(ctx context.Context, uid int64, module, priv string) (bool, error) {
	var ok bool
	err := k.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM access_privileges
WHERE uid = $1 AND module_id = $2 AND priv_id = $3)`, uid, module, priv).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("read privileges: %w", err)
	}
	return ok, nil
}

// Enforcer is the server's httpapi.Authorizer.
type Enforcer struct{ Checker Checker }

var _ httpapi.Authorizer = (*Enforcer)(nil)

// The 403 details: Langflow's words, then what is missing, e.g. "The user
// doesn't have enough privileges: missing flows.write in tenant <id>".
const (
	msgNotEnough = "The user doesn't have enough privileges"
	msgMissing   = msgNotEnough + ": missing "
)

// Forbidden is the 403 of a missing privilege.
func Forbidden(format string, args ...any) error {
	return &httpapi.StatusError{Status: http.StatusForbidden, Detail: fmt.Sprintf(format, args...)}
}

// Authorize implements httpapi.Authorizer (see the package comment).
func (e *Enforcer) Authorize(c *gin.Context, a httpapi.Access) error {
	ctx := c.Request.Context()
	caller, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	req := &request{checker: e.Checker, caller: caller, need: a}
	c.Request = c.Request.WithContext(tenancy.WithAuthorizer(ctx, req))
	if caller.IsSuperuser {
		return nil
	}
	switch a.Kind {
	case httpapi.AccessSuperuser:
		_, err := auth.RequireSuperuser(ctx)
		return err
	case httpapi.AccessSignedIn:
		return nil
	}
	tenant, named, err := namedTenant(c)
	if err != nil {
		return err
	}
	business, hasBusiness := namedBusiness(c)
	switch {
	case hasBusiness:
		return req.authorizeBusiness(ctx, business)
	case named && a.Kind == httpapi.AccessTenant:
		// Tenant administration is about the tenant as a whole: a role held
		// in some business of it is not enough (a business is named, above).
		return req.Authorize(ctx, tenant, 0)
	case named && tenant != tenancy.SystemTenantID:
		// Own resources in another tenant: somewhere in it; handlers narrow
		// to where (Readable, Authorize with the resource's business).
		s, err := req.Readable(ctx, tenant)
		if err == nil && s.None() {
			err = Forbidden(msgMissing+"%s.%s in tenant %s", a.Module, a.Priv, tenant)
		}
		return err
	case a.Kind == httpapi.AccessTenant:
		ok, err := e.Checker.Anywhere(ctx, caller.UserID, a.Module, a.Priv)
		if err == nil && !ok {
			err = Forbidden(msgMissing+"%s.%s", a.Module, a.Priv)
		}
		return err
	}
	return nil // Own, in the caller's own workspace: the handler checks ownership
}

// namedTenant is the tenant the request names: a tenant_id / tenant-id
// path or query parameter, else the X-Tenant-Id header. Malformed values
// are left to the handler's validation (named is false then).
func namedTenant(c *gin.Context) (uuid.UUID, bool, error) {
	for _, name := range []string{"tenant_id", "tenant-id"} {
		raw := c.Param(name)
		if raw == "" {
			raw = c.Query(name)
		}
		if id, err := uuid.Parse(raw); err == nil {
			return id, true, nil
		}
	}
	if id, err := uuid.Parse(c.GetHeader(tenancy.HeaderTenantID)); err == nil {
		return id, true, nil
	}
	return uuid.Nil, false, nil
}

// namedBusiness is the business a business_id / business-id path or query
// parameter names.
func namedBusiness(c *gin.Context) (int64, bool) {
	for _, name := range []string{"business_id", "business-id"} {
		raw := c.Param(name)
		if raw == "" {
			raw = c.Query(name)
		}
		var id int64
		if _, err := fmt.Sscan(raw, &id); err == nil && id > 0 {
			return id, true
		}
	}
	return 0, false
}

// request is the tenancy.Authorizer of one request: the caller and the
// privilege its operation declared.
type request struct {
	checker Checker
	caller  auth.Principal
	need    httpapi.Access
	// business is the business the request named and the caller holds
	// the privilege in (checked before the handler ran), 0 if none.
	business int64
}

func (r *request) privileged() (bool, error) {
	switch {
	case r.caller.IsSuperuser:
		return true, nil
	case r.need.Module == "":
		return false, Forbidden(msgNotEnough)
	}
	return false, nil
}

// Authorize implements tenancy.Authorizer.
func (r *request) Authorize(ctx context.Context, tenant uuid.UUID, business int64) error {
	if ok, err := r.privileged(); ok || err != nil {
		return err
	}
	s, err := r.checker.Scope(ctx, r.caller.UserID, tenant, r.need.Module, r.need.Priv)
	switch {
	case err != nil:
		return err
	case s.All, business != 0 && slices.Contains(s.Businesses, business):
		return nil
	case business != 0:
		return Forbidden(msgMissing+"%s.%s in business %d", r.need.Module, r.need.Priv, business)
	}
	return Forbidden(msgMissing+"%s.%s in tenant %s", r.need.Module, r.need.Priv, tenant)
}

// Readable implements tenancy.Authorizer.
func (r *request) Readable(ctx context.Context, tenant uuid.UUID) (tenancy.Scope, error) {
	if ok, err := r.privileged(); ok || err != nil {
		return tenancy.Scope{All: ok}, err
	}
	return r.checker.Scope(ctx, r.caller.UserID, tenant, r.need.Module, r.need.Priv)
}

// Tenants implements tenancy.Authorizer.
func (r *request) Tenants(ctx context.Context) ([]uuid.UUID, bool, error) {
	if ok, err := r.privileged(); ok || err != nil {
		return nil, ok, err
	}
	rows, err := r.checker.Pool.Query(ctx, `SELECT tenant_id FROM access_privileges
WHERE uid = $1 AND module_id = $2 AND priv_id = $3 AND business_id = 0`, r.caller.UserID, r.need.Module, r.need.Priv)
	if err != nil {
		return nil, false, fmt.Errorf("read privileges: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, false, fmt.Errorf("read privileges: %w", err)
	}
	return ids, false, nil
}

// Place implements tenancy.Authorizer.
func (r *request) Place(ctx context.Context, tenant uuid.UUID, business int64) error {
	if r.need.Kind == httpapi.AccessOwn && tenant == tenancy.SystemTenantID {
		return nil
	}
	if r.business != 0 {
		// An operation on one business the caller holds the privilege in;
		// its handler answers 404 unless the business is tenant's.
		return nil
	}
	return r.Authorize(ctx, tenant, business)
}

func (r *request) authorizeBusiness(ctx context.Context, business int64) error {
	ok, err := r.checker.InBusiness(ctx, r.caller.UserID, business, r.need.Module, r.need.Priv)
	if err == nil && !ok {
		err = Forbidden(msgMissing+"%s.%s in business %d", r.need.Module, r.need.Priv, business)
	}
	if err == nil {
		r.business = business
	}
	return err
}

// ScopeOf implements tenancy's question about a privilege other than the
// route's: where in tenant the caller holds module.priv.
func (r *request) ScopeOf(ctx context.Context, module, priv string, tenant uuid.UUID) (tenancy.Scope, error) {
	if r.caller.IsSuperuser {
		return tenancy.Scope{All: true}, nil
	}
	return r.checker.Scope(ctx, r.caller.UserID, tenant, module, priv)
}
