package domain

import "fmt"

// The scopes of a catalogue entry (component groups, components, MCP
// servers): the contract's integer `scope` / `mcp_scope`, mapped onto the
// scopes of flow templates.
//
//	0 system   — offered in every tenant; only superusers write it; it
//	             lives in the system tenant.
//	1 tenant   — the default: the tenant the request acts in
//	             (X-Tenant-Id, else the system tenant).
//	2 business — one business of that tenant (business_id required).
//	3 personal — its creator only.
const (
	CatalogScopeSystem   = 0
	CatalogScopeTenant   = 1
	CatalogScopeBusiness = 2
	CatalogScopePersonal = 3
)

// CatalogScopeNames names the catalogue scopes by their number.
var CatalogScopeNames = map[int]string{CatalogScopeSystem: TemplateScopeSystem, CatalogScopeTenant: TemplateScopeTenant,
	CatalogScopeBusiness: TemplateScopeBusiness, CatalogScopePersonal: TemplateScopePersonal}

// ValidCatalogScope checks a catalogue entry's scope and business: a
// business entry names its business, no other scope names one. field is
// the scope's name in the contract ("scope", "mcp_scope").
func ValidCatalogScope(field string, scope int, business int64) error {
	switch {
	case scope < CatalogScopeSystem || scope > CatalogScopePersonal:
		return Invalidf("%s must be 0 (system), 1 (tenant), 2 (business) or 3 (personal), not %d", field, scope)
	case scope == CatalogScopeBusiness && business <= 0:
		return Invalidf("business_id is required when %s is 2 (business)", field)
	case scope != CatalogScopeBusiness && business != 0:
		return Invalidf("business_id is only allowed when %s is 2 (business)", field)
	}
	return nil
}

// CatalogPlace is where a catalogue entry lives: its tenant (the system
// tenant for system entries), scope, business (scope 2) and creator.
type CatalogPlace struct {
	Scope      int
	BusinessID int64
	Creator    int64
}

// String names the place for messages ("business 7", "tenant").
func (p CatalogPlace) String() string {
	if p.Scope == CatalogScopeBusiness {
		return fmt.Sprintf("business %d", p.BusinessID)
	}
	return CatalogScopeNames[p.Scope]
}
