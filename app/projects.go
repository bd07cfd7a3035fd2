package app

import (
	"context"
	"fmt"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Projects is the projects module: projects (Langflow's folders), every
// user's default project, and the import and export of flows (project and
// flow uploads and downloads). It needs Identity and Flows registered
// before it.
type Projects struct{}

var (
	_ Module       = Projects{}
	_ Bootstrapper = Projects{}
)

// Register implements Module.
func (Projects) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.ProjectEvents())
}

// Projections implements Module.
func (Projects) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Projects()}
}

// Routes implements Module.
func (Projects) Routes(s *httpapi.Server, d Deps) {
	flows := &commands.Flows{Repo: d.Repository, Pool: d.Pool, Reads: ports.FlowReads{Pool: d.Pool}}
	ports.Projects(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.ProjectsHandler{Repo: d.Repository, Pool: d.Pool, Flows: flows, CheckFlows: ports.FlowImportsCheck(s)}, d.Config)
	ports.FlowFiles(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock}, flows, d.Config)
	readapi.RegisterProjectReads(s, d.Pool, d.Clock)
}

// Bootstrap implements Bootstrapper: the superuser of SKILLFLAW_SUPERUSER
// gets a default project if it has none (the identity module's bootstrap
// creates it without one).
func (Projects) Bootstrap(ctx context.Context, d Deps) error {
	if d.Config.Superuser == "" {
		return nil
	}
	id, err := commands.UserIDByName(ctx, d.Repository, d.Config.Superuser)
	if err != nil || id == 0 {
		return err
	}
	md := eventstore.Metadata{ActorUserID: id, OccurredAt: d.Clock().UTC()}
	if _, err := commands.EnsureDefaultProject(ctx, d.Repository, d.Pool, id, d.Config.DefaultProjectName, md); err != nil {
		return fmt.Errorf("default project of %s: %w", d.Config.Superuser, err)
	}
	return nil
}

// TenantResources implements TenantResourcer.
func (Projects) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "projects", One: "project", Many: "projects"},
	}
}

// Requires implements Requirer: its uploads and removals write flows.
func (Projects) Requires() []Module { return []Module{Flows{}} }
