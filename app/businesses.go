package app

import (
	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Businesses is the businesses module: every tenant's three-level tree of
// businesses (one BusinessTree aggregate per tenant), its list and tree
// reads, user candidates, business users and their roles (#101–105) and the
// resources of a business. It needs Identity, Flows and Projects
// registered before it (candidates read users; resources read flows and
// projects) and the tenants table; business roles name roles of the
// permission catalogue, so Permissions must be registered for any role to
// be granted (without it every role is unknown: 404).
type Businesses struct{}

var _ Module = Businesses{}

// Register implements Module.
func (Businesses) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.BusinessEvents())
}

// Projections implements Module.
func (Businesses) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Businesses()}
}

// Routes implements Module.
func (Businesses) Routes(s *httpapi.Server, d Deps) {
	ports.Businesses(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.BusinessesHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Users: ports.MemberAccounts{Pool: d.Pool}})
	readapi.RegisterBusinessReads(s, d.Pool)
	readapi.RegisterBusinessUserRoleReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (Businesses) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "businesses", One: "business", Many: "businesses"},
	}
}

// AuditSources implements AuditSourcer.
func (Businesses) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("businesses", domain.BusinessesStream, domain.LoadBusinessTree),
	}
}
