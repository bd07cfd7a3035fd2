package app

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Permissions is the permission catalogue module (Permission #147–160):
// modules, privileges, roles and the privileges each role holds, one
// PermissionCatalogue aggregate (stream permissions-catalogue), and the
// built-in catalogue seeded at start (domain/permission_seed.go).
type Permissions struct{}

var (
	_ Module       = Permissions{}
	_ Bootstrapper = Permissions{}
)

// Register implements Module.
func (Permissions) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.PermissionEvents())
}

// Projections implements Module.
func (Permissions) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Permissions()}
}

// Routes implements Module.
func (Permissions) Routes(s *httpapi.Server, d Deps) {
	ports.Permissions(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock}, &commands.PermissionsHandler{Repo: d.Repository})
	readapi.RegisterPermissionReads(s, d.Pool)
	readapi.RegisterAccessExplain(s, d.Pool)
}

// Bootstrap implements Bootstrapper: whatever of the built-in catalogue
// is missing is appended (nothing once it is all there); nodes starting at
// once take turns on the one stream.
func (Permissions) Bootstrap(ctx context.Context, d Deps) error {
	md := eventstore.Metadata{OccurredAt: d.Clock().UTC().Truncate(time.Microsecond)}
	n, err := commands.SeedPermissions(ctx, d.Repository, md)
	if err != nil {
		return fmt.Errorf("seed the permission catalogue: %w", err)
	}
	if n > 0 {
		d.Logger.Info("permission catalogue seeded", "events", n)
	}
	return nil
}
