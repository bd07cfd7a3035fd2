package app

import (
	"fmt"

	"github.com/skillflaw/skillflaw-go/agentic"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/runs"
)

// Agentic is the flow-building assistant (#193–#196, package agentic):
// check-config over the model catalogue, the built-in flows run through
// the run service, and validated answers about a flow. It has no events
// or read models of its own; it uses what Runs built (the run service,
// the engine's registry, the model ports), so Runs must be registered
// before it. It never generates or executes code.
type Agentic struct {
	// Runs is the runs module, registered before this one.
	Runs *Runs
}

var _ Module = (*Agentic)(nil)

// Register implements Module.
func (m *Agentic) Register(*eventstore.Registry) error { return nil }

// Projections implements Module.
func (m *Agentic) Projections() []*projections.Projection { return nil }

// Routes implements Module.
func (m *Agentic) Routes(s *httpapi.Server, d Deps) {
	if m.Runs == nil {
		s.Misconfigured(fmt.Errorf("agentic: no runs module given"))
		return
	}
	svc, reg, env := m.Runs.Engine()
	if svc == nil {
		s.Misconfigured(fmt.Errorf("agentic: the runs module must be registered before it"))
		return
	}
	var types []string
	for _, spec := range reg.Specs() {
		types = append(types, spec.Type)
	}
	agentic.Register(s, &agentic.Service{Pool: d.Pool, Runs: svc, Catalog: env.Catalog, Models: env.Models,
		Variables: runs.ConfigVariables{Pool: d.Pool, Secrets: d.Secrets}, EnvFallback: d.Config.RunVariablesFromEnv,
		Component: func(typ string) bool { _, ok := reg.Lookup(typ); return ok }, Components: types, Clock: d.Clock})
}

// Requires implements Requirer: its built-in flows run.
func (m *Agentic) Requires() []Module { return []Module{&Runs{}} }
