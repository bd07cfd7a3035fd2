package tenancy

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Authorizer answers, for the request it was installed in, whether the
// caller holds the operation's declared privilege in a tenant (and
// business). The access package installs one per request (WithAuthorizer);
// handlers ask through Authorize and Readable, so they never name the
// privilege themselves: it is declared once, where the route is
// registered.
type Authorizer interface {
	// Authorize returns nil if the caller holds the privilege in tenant
	// (tenant-wide, or in business or one of its ancestors when business
	// is not 0), else a 403 with detail.
	Authorize(ctx context.Context, tenant uuid.UUID, business int64) error
	// Readable returns where in tenant the caller holds the privilege:
	// everywhere (tenant-wide), or only in the listed businesses (each
	// with its descendants already included).
	Readable(ctx context.Context, tenant uuid.UUID) (Scope, error)
	// Place returns nil if the caller may act in tenant (in business, when
	// not 0): create their own resource there, manage it. For operations on
	// owned resources the system tenant (everyone's personal workspace)
	// needs no grant; otherwise it is Authorize(ctx, tenant, business).
	Place(ctx context.Context, tenant uuid.UUID, business int64) error
	// Tenants returns the tenants where the caller holds the privilege
	// tenant-wide; all is true for superusers (every tenant).
	Tenants(ctx context.Context) (ids []uuid.UUID, all bool, err error)
}

// Scope is where in a tenant a caller holds a privilege.
type Scope struct {
	// All: tenant-wide (a tenant role, superusers).
	All bool
	// Businesses lists the businesses where the caller holds it, their
	// descendants included; empty when All.
	Businesses []int64
	// Direct lists those of Businesses where a role is held in the
	// business itself (not inherited from an ancestor).
	Direct []int64
}

// None reports whether the scope grants nothing.
func (s Scope) None() bool { return !s.All && len(s.Businesses) == 0 }

type authorizerKey struct{}

// WithAuthorizer returns ctx carrying a.
func WithAuthorizer(ctx context.Context, a Authorizer) context.Context {
	return context.WithValue(ctx, authorizerKey{}, a)
}

// Authorize asks the request's Authorizer whether the caller holds the
// route's privilege in tenant (and business, 0 for none). Without one (a
// server without the access package, a background job) it allows.
func Authorize(ctx context.Context, tenant uuid.UUID, business int64) error {
	if a, ok := ctx.Value(authorizerKey{}).(Authorizer); ok {
		return a.Authorize(ctx, tenant, business)
	}
	return nil
}

// Tenants returns the tenants where the caller holds the route's
// privilege tenant-wide (all without an Authorizer, and for superusers).
func Tenants(ctx context.Context) ([]uuid.UUID, bool, error) {
	if a, ok := ctx.Value(authorizerKey{}).(Authorizer); ok {
		return a.Tenants(ctx)
	}
	return nil, true, nil
}

// Readable returns where in tenant the caller holds the route's
// privilege (everything without an Authorizer).
func Readable(ctx context.Context, tenant uuid.UUID) (Scope, error) {
	if a, ok := ctx.Value(authorizerKey{}).(Authorizer); ok {
		return a.Readable(ctx, tenant)
	}
	return Scope{All: true}, nil
}

// place asks the request's Authorizer whether the caller may act in
// tenant (and business; Check's question).
func place(ctx context.Context, tenant uuid.UUID, business int64) error {
	if a, ok := ctx.Value(authorizerKey{}).(Authorizer); ok {
		return a.Place(ctx, tenant, business)
	}
	return nil
}

// privilegeScoper is an Authorizer that also answers for a privilege
// other than the route's (the access package's does).
type privilegeScoper interface {
	// ScopeOf returns where in tenant the caller holds module.priv.
	ScopeOf(ctx context.Context, module, priv string, tenant uuid.UUID) (Scope, error)
}

// ScopeOf returns where in tenant the caller holds module.priv, a
// privilege other than the route's: what a read shows may depend on it
// (the values of a flow's password fields need flows.write where the flow
// lives). Everything without an Authorizer, as Readable; nothing when the
// request's Authorizer cannot tell.
func ScopeOf(ctx context.Context, module, priv string, tenant uuid.UUID) (Scope, error) {
	a, ok := ctx.Value(authorizerKey{}).(Authorizer)
	if !ok {
		return Scope{All: true}, nil
	}
	if s, ok := a.(privilegeScoper); ok {
		return s.ScopeOf(ctx, module, priv, tenant)
	}
	return Scope{}, nil
}

// Holds reports whether s covers business (0: the tenant as a whole).
func (s Scope) Holds(business int64) bool {
	return s.All || business != 0 && slices.Contains(s.Businesses, business)
}
