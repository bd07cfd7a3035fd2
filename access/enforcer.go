package access

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

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
	switch {
	case a.Kind == httpapi.AccessSignedIn:
		return nil
	case a.Kind == httpapi.AccessSuperuser:
		_, err := auth.RequireSuperuser(ctx)
		return err
	}
	where, err := e.placesOf(c, caller.IsSuperuser)
	if err != nil || caller.IsSuperuser {
		return err
	}
	switch {
	case a.Kind == httpapi.AccessTenant && where.business != 0:
		// An operation on one business (its path names it): the privilege
		// there, or tenant-wide in its tenant, which is the tenant the
		// request acts in (placesOf checked).
		return req.authorizeBusiness(ctx, where.tenant, where.business)
	case a.Kind == httpapi.AccessTenant && where.named && a.Scoped:
		// A scoped catalogue: somewhere in the tenant; the handler narrows
		// to the entry's place.
		s, err := req.Readable(ctx, where.tenant)
		if err == nil && s.None() {
			err = Forbidden(msgMissing+"%s.%s in tenant %s", a.Module, a.Priv, where.tenant)
		}
		return err
	case a.Kind == httpapi.AccessTenant && where.named:
		// Tenant administration is about the tenant as a whole: a role held
		// in some business of it is not enough.
		return req.Authorize(ctx, where.tenant, 0)
	case a.Kind == httpapi.AccessTenant:
		// Naming no place: the handler checks the tenant it resolves (the
		// body's) with tenancy.Check, tenant-wide.
		ok, err := e.Checker.Anywhere(ctx, caller.UserID, a.Module, a.Priv)
		if err == nil && !ok {
			err = Forbidden(msgMissing+"%s.%s", a.Module, a.Priv)
		}
		return err
	case where.named && where.tenant != tenancy.SystemTenantID:
		// Own resources in another tenant: somewhere in it; handlers narrow
		// to where (Readable, Authorize with the resource's business).
		s, err := req.Readable(ctx, where.tenant)
		if err == nil && s.None() {
			err = Forbidden(msgMissing+"%s.%s in tenant %s", a.Module, a.Priv, where.tenant)
		}
		return err
	}
	return nil // Own, in the caller's own workspace: the handler checks ownership
}

// acting is where a request acts: its tenant and, for an operation on one
// business, that business.
type acting struct {
	// tenant is the tenant the request names (named: the operation's
	// tenant parameter, else X-Tenant-Id), else the system tenant, the
	// default of every handler (tenancy.Resolve).
	tenant uuid.UUID
	named  bool
	// business is the business a path parameter names (an operation on
	// that business), 0 if none; it lies in tenant.
	business int64
}

// placesOf finds where the request acts and checks every place it names
// against it. The tenant is the operation's tenant parameter (tenant_id /
// tenant-id, path or query), else the X-Tenant-Id header, else the system
// tenant: the same rule as the handlers' (tenancy.Resolve). Every place
// parameter the operation declares (httpapi.Param.Place: business, org,
// group, member, relation …) is resolved (tenancy.Locate) and must lie in
// that tenant: one of another tenant is 404, as one that does not exist,
// so a place of tenant B never makes a request about tenant A pass, and
// nothing is learnt of B. (Operations whose tenant is a body field name
// no other place outside the body, or name the tenant too.) Malformed and
// unknown values are left to the handler (its 422 or 404). Only declared
// parameters count: a stray query parameter is read by nobody.
func (e *Enforcer) placesOf(c *gin.Context, superuser bool) (acting, error) {
	at := acting{tenant: tenancy.SystemTenantID}
	var places []tenancy.Place
	for _, p := range httpapi.ParamsOf(c) {
		switch raw := httpapi.ParamValue(c, p); {
		case raw == "" || p.Place == "":
		case p.Place == tenancy.PlaceTenant:
			if id, err := uuid.Parse(raw); err == nil && !at.named {
				at.tenant, at.named = id, true
			}
		default:
			if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
				places = append(places, tenancy.Place{Kind: p.Place, ID: id, Where: []any{p.In, p.Name}})
			}
		}
	}
	if !at.named {
		if id, err := uuid.Parse(c.GetHeader(tenancy.HeaderTenantID)); err == nil {
			at.tenant, at.named = id, true
		}
	}
	if !at.named && superuser {
		return at, nil // superusers act in any tenant: naming none, they reach every place
	}
	located, err := tenancy.Locate(c.Request.Context(), e.Checker.Pool, places)
	if err != nil {
		return at, err
	}
	for i, p := range places {
		switch t := located[i]; {
		case t == uuid.Nil: // unknown: the handler answers
		case t != at.tenant:
			return at, p.NotFound()
		case p.Kind == tenancy.PlaceBusiness && p.Where[0] == "path":
			at.business = p.ID
		}
	}
	return at, nil
}

// request is the tenancy.Authorizer of one request: the caller and the
// privilege its operation declared.
type request struct {
	checker Checker
	caller  auth.Principal
	need    httpapi.Access
	// business is the business the operation is about (its path names
	// it) and the caller holds the privilege in, checked before the
	// handler ran; 0 if none. businessTenant is its tenant: the privilege
	// counts there only.
	business       int64
	businessTenant uuid.UUID
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
	if r.business != 0 && tenant == r.businessTenant && (business == 0 || business == r.business) {
		// An operation on the business the caller holds the privilege in,
		// inside that business's own tenant.
		return nil
	}
	return r.Authorize(ctx, tenant, business)
}

func (r *request) authorizeBusiness(ctx context.Context, tenant uuid.UUID, business int64) error {
	ok, err := r.checker.InBusiness(ctx, r.caller.UserID, business, r.need.Module, r.need.Priv)
	if err == nil && !ok {
		err = Forbidden(msgMissing+"%s.%s in business %d", r.need.Module, r.need.Priv, business)
	}
	if err == nil {
		r.business, r.businessTenant = business, tenant
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
