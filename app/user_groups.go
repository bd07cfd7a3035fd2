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

// UserGroups is the user groups module: the groups of each tenant and
// their members (Organization #169, #172–179, #181), one UserGroups
// aggregate per tenant. It needs Identity registered before it (members
// are users) and reads the tenants table (tenancy.Resolve).
type UserGroups struct{}

var _ Module = UserGroups{}

// Register implements Module.
func (UserGroups) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.UserGroupEvents())
}

// Projections implements Module.
func (UserGroups) Projections() []*projections.Projection {
	return []*projections.Projection{projections.UserGroups()}
}

// Routes implements Module.
func (UserGroups) Routes(s *httpapi.Server, d Deps) {
	ports.UserGroups(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.UserGroupsHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Users: ports.MemberAccounts{Pool: d.Pool}})
	readapi.RegisterUserGroupReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (UserGroups) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "user_groups", One: "user group", Many: "user groups"},
	}
}

// AuditSources implements AuditSourcer.
func (UserGroups) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("user_groups", domain.UserGroupsStream, domain.LoadUserGroups),
	}
}
