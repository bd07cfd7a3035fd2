package app

import (
	"context"
	"fmt"
	"github.com/skillflaw/skillflaw-go/audit"
	"time"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Tenants is the tenants module: the Tenant aggregate (stream
// tenant-<uuid>), the tenants read model, Read/Add/Patch/Remove Tenant
// (#89–93), and the system tenant, created at first start. It needs
// Identity registered before it (authenticated callers); Remove Tenant
// looks at the read models of flows and projects (and of businesses,
// organisations and user groups once they exist) to refuse removing a
// tenant that still has data.
type Tenants struct{}

var (
	_ Module       = Tenants{}
	_ Bootstrapper = Tenants{}
)

// Register implements Module.
func (Tenants) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.TenantEvents())
}

// Projections implements Module.
func (Tenants) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Tenants()}
}

// Routes implements Module.
func (Tenants) Routes(s *httpapi.Server, d Deps) {
	ports.Tenants(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.TenantsHandler{Repo: d.Repository, Pool: d.Pool, Resources: d.TenantResources})
	readapi.RegisterTenantReads(s, d.Pool)
	readapi.RegisterTenantCandidates(s, d.Pool)
}

// Bootstrap implements Bootstrapper: the system tenant (tenancy.SystemTenantID,
// "System", is_sys) is created if missing; nodes starting at once create
// it once.
func (Tenants) Bootstrap(ctx context.Context, d Deps) error {
	md := eventstore.Metadata{OccurredAt: d.Clock().UTC().Truncate(time.Microsecond)}
	created, err := commands.EnsureSystemTenant(ctx, d.Repository, tenancy.SystemTenantID, commands.SystemTenantName, md)
	if err != nil {
		return fmt.Errorf("create the system tenant: %w", err)
	}
	if created {
		d.Logger.Info("system tenant created", "tenant_id", tenancy.SystemTenantID)
	}
	return nil
}

// AuditSources implements AuditSourcer.
func (Tenants) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("tenant", domain.TenantStream, domain.LoadTenant),
	}
}
