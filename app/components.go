package app

import (
	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Components is the component catalogue module (#197–#206): component
// groups (one ComponentGroups aggregate per tenant) and components (one
// Component aggregate per component, stream component-<id>, whose history
// is its versions), scoped 0 system / 1 tenant / 2 business / 3 personal
// (domain's catalogue scopes), RBAC module "components". Catalogue
// components are documentation: the engine never executes their code
// (executable: false); one whose component_name is a built-in engine
// component (the native registry's types and aliases) answers builtin:
// true, as it runs with the built-in behaviour. /api/v1/all is not
// changed by it.
type Components struct{}

var _ Module = Components{}

// Register implements Module.
func (Components) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.ComponentEvents())
}

// Projections implements Module.
func (Components) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Components()}
}

// builtinNames are the types and aliases of the native engine components.
func builtinNames() readapi.BuiltinNames {
	names := map[string]bool{}
	for _, c := range components.All() {
		s := c.Spec()
		names[s.Type] = true
		for _, a := range s.Aliases {
			names[a] = true
		}
	}
	return func(name string) bool { return names[name] }
}

// Routes implements Module.
func (Components) Routes(s *httpapi.Server, d Deps) {
	builtin := builtinNames()
	ports.Components(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.ComponentsHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Pool: d.Pool}, builtin)
	readapi.RegisterComponentReads(s, d.Pool, d.Store, d.Registry, builtin)
}

// TenantResources implements TenantResourcer.
func (Components) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "component_groups", One: "component group", Many: "component groups"},
		{Table: "components", One: "component", Many: "components"},
	}
}

// AuditSources implements AuditSourcer.
func (Components) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("component_groups", domain.ComponentGroupsStream, domain.LoadComponentGroups),
	}
}
