package app

import (
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Audit is the audit trail of tenants (package audit). It must be the last
// module: its projection records every event type registered before it.
type Audit struct {
	reg *eventstore.Registry
}

var _ Module = (*Audit)(nil)

// Register implements Module: the audit has no events of its own.
func (m *Audit) Register(reg *eventstore.Registry) error {
	m.reg = reg
	return nil
}

// Projections implements Module.
func (m *Audit) Projections() []*projections.Projection {
	return []*projections.Projection{audit.Projection(m.reg)}
}

// Routes implements Module.
func (m *Audit) Routes(s *httpapi.Server, d Deps) { audit.Register(s, AuditReplayer(d)) }

// AuditReplayer replays tenants from the log of d.
func AuditReplayer(d Deps) *audit.Replayer {
	return &audit.Replayer{Store: d.Store, Reg: d.Registry, Pool: d.Pool, Sources: AuditSources()}
}

// AuditSources lists the streams that make up a tenant, for the replay.
func AuditSources() []audit.Source {
	return []audit.Source{
		{Key: "tenant", Stream: domain.TenantStream, New: func(t uuid.UUID) audit.Aggregate { return domain.LoadTenant(t) }},
		{Key: "businesses", Stream: domain.BusinessesStream, New: func(t uuid.UUID) audit.Aggregate { return domain.LoadBusinessTree(t) }},
		{Key: "orgs", Stream: domain.OrgTreeStream, New: func(t uuid.UUID) audit.Aggregate { return domain.LoadOrgTree(t) }},
		{Key: "user_groups", Stream: domain.UserGroupsStream, New: func(t uuid.UUID) audit.Aggregate { return domain.LoadUserGroups(t) }},
	}
}
