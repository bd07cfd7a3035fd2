package app

import (
	"github.com/google/uuid"
	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// TenantGrants is the tenant role grants module (Tenants #77–88): roles of
// the permission catalogue granted in a tenant to users, user groups and
// orgs, one TenantGrants aggregate per tenant (stream
// tenant_grants-<tenant uuid>). It needs Identity, Tenants, Orgs,
// UserGroups and Permissions registered before it (its lists join their
// read models; its writes load their aggregates).
type TenantGrants struct{}

var _ Module = TenantGrants{}

// Register implements Module.
func (TenantGrants) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.TenantGrantEvents())
}

// Projections implements Module.
func (TenantGrants) Projections() []*projections.Projection {
	return []*projections.Projection{projections.TenantGrants()}
}

// Routes implements Module.
func (TenantGrants) Routes(s *httpapi.Server, d Deps) {
	ports.TenantGrants(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.TenantGrantsHandler{Repo: d.Repository, Users: ports.MemberAccounts{Pool: d.Pool}, IDs: commands.NewSequences(d.Pool)})
	readapi.RegisterTenantGrantReads(s, d.Pool)
}

// AuditSources implements AuditSourcer.
func (TenantGrants) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("tenant_grants", func(t uuid.UUID) string { return domain.LoadTenantGrants(t).StreamID() }, domain.LoadTenantGrants),
	}
}
