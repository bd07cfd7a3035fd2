package readapi

import (
	"strings"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// CatalogScopeFilter is the scope part of a catalogue list's query
// (component groups, components, MCP servers):
//
//   - all_scopes true: every entry the caller may see (scope and
//     business_id are ignored);
//   - else scope (default: 2 when business_id is given, else 1) picks one
//     scope, and business_id narrows business entries to that business —
//     with its descendants when include_sub_businesses is true.
//
// Scope is the contract's `scope` or `mcp_scope`.
type CatalogScopeFilter struct {
	Scope                *int
	BusinessID           *int64
	AllScopes            bool
	IncludeSubBusinesses bool
}

// catalogVisible is THE rule of who sees a scoped catalogue entry
// (columns scope, tenant_id, business_id, c_uid of alias x), where can is
// where in tenant the caller holds the route's read privilege
// (tenancy.Readable):
//
//   - system entries (scope 0): everyone;
//   - tenant entries: whoever holds the privilege somewhere in their
//     tenant;
//   - business entries: whoever holds it in their business (or above it,
//     or tenant-wide);
//   - personal entries: their creator;
//   - superusers see every entry of the tenant.
//
// Entries of other tenants are never visible.
func catalogVisible(a *sqlArgs, x string, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope) string {
	t := a.add(tenant)
	cond := x + ".scope = 0 OR " + x + ".tenant_id = " + t + " AND ("
	if caller.IsSuperuser {
		return "(" + cond + "true))"
	}
	var parts []string
	if !can.None() {
		parts = append(parts, x+".scope = 1")
	}
	switch {
	case can.All:
		parts = append(parts, x+".scope = 2")
	case len(can.Businesses) > 0:
		parts = append(parts, x+".scope = 2 AND "+x+".business_id = ANY("+a.add(can.Businesses)+")")
	}
	parts = append(parts, x+".scope = 3 AND "+x+".c_uid = "+a.add(caller.UserID))
	return "(" + cond + "(" + strings.Join(parts, ") OR (") + ")))"
}

// catalogWhere is the condition of a catalogue list: visible to the
// caller (catalogVisible) and matching f.
func catalogWhere(a *sqlArgs, x string, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, f CatalogScopeFilter) []string {
	where := []string{catalogVisible(a, x, caller, tenant, can)}
	if f.AllScopes {
		return where
	}
	scope := domain.CatalogScopeTenant
	switch {
	case f.Scope != nil:
		scope = *f.Scope
	case f.BusinessID != nil && *f.BusinessID != 0:
		scope = domain.CatalogScopeBusiness
	}
	where = append(where, x+".scope = "+a.add(scope))
	if f.BusinessID != nil && *f.BusinessID != 0 {
		b := a.add(*f.BusinessID)
		if f.IncludeSubBusinesses {
			where = append(where, x+`.business_id IN (WITH RECURSIVE sub(id) AS (SELECT `+b+`::bigint
  UNION SELECT ab.business_id FROM access_businesses ab JOIN sub ON ab.parent_id = sub.id)
  SELECT id FROM sub)`)
		} else {
			where = append(where, x+".business_id = "+b)
		}
	}
	return where
}
