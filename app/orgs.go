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

// Orgs is the organisations module: the OrgTree aggregate (every org and
// org member of a tenant, stream orgs-<tenant uuid>), the orgs,
// org_members and org_trees read models, and the Organization operations
// on orgs and their members (#161–168, #170, #171, #180). It needs
// Identity (callers, the users read model) and Tenants (the tenants read
// model) registered before it.
type Orgs struct{}

var _ Module = Orgs{}

// Register implements Module.
func (Orgs) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.OrgEvents())
}

// Projections implements Module.
func (Orgs) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Orgs()}
}

// Routes implements Module.
func (Orgs) Routes(s *httpapi.Server, d Deps) {
	ports.Orgs(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.OrgsHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Users: ports.MemberAccounts{Pool: d.Pool}})
	readapi.RegisterOrgReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (Orgs) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "orgs", One: "organization", Many: "organizations"},
	}
}

// AuditSources implements AuditSourcer.
func (Orgs) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("orgs", domain.OrgTreeStream, domain.LoadOrgTree),
	}
}
