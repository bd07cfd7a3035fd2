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

// Templates is the flow templates module: templates made from flows
// (create, read, update, delete), the list of visible templates (Langflow's
// basic examples) and the starter projects shipped with the server. It
// needs Identity (callers) and Flows (the flows templates are made from,
// whose events it folds) registered before it.
type Templates struct{}

var _ Module = Templates{}

// Requires implements Requirer: its creates load the flows templates are made from.
func (Templates) Requires() []Module { return []Module{Flows{}} }

// Register implements Module.
func (Templates) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.FlowTemplateEvents())
}

// Projections implements Module.
func (Templates) Projections() []*projections.Projection {
	return []*projections.Projection{projections.FlowTemplates()}
}

// Routes implements Module.
func (Templates) Routes(s *httpapi.Server, d Deps) {
	ports.Templates(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.Templates{Repo: d.Repository, Pool: d.Pool, Reads: ports.TemplateReads{Pool: d.Pool}})
	readapi.RegisterTemplateReads(s, d.Pool)
}
