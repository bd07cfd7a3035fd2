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

// Configs is the configs module: each tenant's key/value variables
// (Configs #107–#110), one Configs aggregate per tenant, RBAC module
// "configs". They are what a flow's load_from_db field reads
// (runs.ConfigVariables, wired by Runs). A config marked secret is sealed
// with Deps.Secrets before it reaches an event and is masked in every
// answer; with no key configured a secret config is refused (422).
type Configs struct{}

var _ Module = Configs{}

// Register implements Module.
func (Configs) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.ConfigEvents())
}

// Projections implements Module.
func (Configs) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Configs()}
}

// Routes implements Module.
func (Configs) Routes(s *httpapi.Server, d Deps) {
	ports.Configs(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.ConfigsHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Secrets: d.Secrets})
	readapi.RegisterConfigReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (Configs) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "configs", One: "config", Many: "configs"},
	}
}

// AuditSources implements AuditSourcer.
func (Configs) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("configs", domain.ConfigsStream, domain.LoadConfigs),
	}
}
