package app

import (
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Flows is the flows module: flows, their versions, publish and rollback.
// It needs Identity (callers) registered before it.
type Flows struct{}

var _ Module = Flows{}

// Register implements Module.
func (Flows) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.FlowEvents())
}

// Projections implements Module.
func (Flows) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Flows()}
}

// Routes implements Module.
func (Flows) Routes(s *httpapi.Server, d Deps) {
	ports.Flows(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.Flows{Repo: d.Repository, Pool: d.Pool, Reads: ports.FlowReads{Pool: d.Pool}})
	readapi.RegisterFlowList(s, d.Pool)
	readapi.RegisterFlowReads(s, d.Pool, d.Store, d.Registry)
	readapi.RegisterFlowHistory(s, d.Pool, d.Store, d.Registry)
}

// TenantResources implements TenantResourcer.
func (Flows) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "flows", One: "flow", Many: "flows"},
	}
}
