package commands

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// CatalogWriter is THE rule of who may write a scoped catalogue entry
// (component groups, components, MCP servers; see domain's catalogue
// scopes), for the operation's declared privilege (module.write, .modify
// or .delete, asked through tenancy.Authorize):
//
//   - system (0): superusers only;
//   - tenant (1): the privilege tenant-wide in the entry's tenant;
//   - business (2): the privilege in its business (or above it, or
//     tenant-wide); the business must lie in the tenant (422 otherwise);
//   - personal (3): its creator, who holds the privilege somewhere in the
//     tenant (superusers too).
//
// It has no HTTP in it: the engine and the CLI ask it as the ports do.
type CatalogWriter struct {
	Pool *pgxpool.Pool
}

// Check checks that caller may write an entry at place in tenant. where
// locates business_id for a 422 ({"body","business_id"}).
func (w CatalogWriter) Check(ctx context.Context, caller auth.Principal, tenant uuid.UUID, place domain.CatalogPlace, where ...any) error {
	switch place.Scope {
	case domain.CatalogScopeSystem:
		if !caller.IsSuperuser {
			return domain.Forbiddenf("Only superusers may write system-scoped (scope 0) entries")
		}
		return nil
	case domain.CatalogScopeBusiness:
		if len(where) == 0 {
			where = []any{"body", "business_id"}
		}
		if err := tenancy.InTenant(ctx, w.Pool, tenant, tenancy.Place{Kind: tenancy.PlaceBusiness, ID: place.BusinessID, Where: where}); err != nil {
			return err
		}
		return tenancy.Authorize(ctx, tenant, place.BusinessID)
	case domain.CatalogScopePersonal:
		if caller.IsSuperuser {
			return nil
		}
		if place.Creator != 0 && place.Creator != caller.UserID {
			return domain.Forbiddenf("Only its creator may change a personal (scope 3) entry")
		}
		s, err := tenancy.Readable(ctx, tenant)
		if err == nil && s.None() {
			err = tenancy.Authorize(ctx, tenant, 0) // the 403 naming the privilege
		}
		return err
	default:
		return tenancy.Authorize(ctx, tenant, 0)
	}
}

// CatalogTenant is the tenant an entry at scope lives in when the request
// acts in tenant: the system tenant for system entries.
func CatalogTenant(scope int, tenant uuid.UUID) uuid.UUID {
	if scope == domain.CatalogScopeSystem {
		return tenancy.SystemTenantID
	}
	return tenant
}

// catalogReaches reports whether a request acting in tenant reaches an
// entry of entryTenant at place, as the reads find it (readapi's
// catalogVisible): a system entry (scope 0) from any tenant, any other
// only from its own tenant.
func catalogReaches(tenant, entryTenant uuid.UUID, place domain.CatalogPlace) bool {
	return place.Scope == domain.CatalogScopeSystem || entryTenant == tenant
}
