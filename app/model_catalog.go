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
)

// ModelCatalog is the model catalogue module (Model Management
// #182–#192): each tenant's model providers and models, one ModelCatalog
// aggregate per tenant, RBAC module "models". The system tenant's
// catalogue is the built-in one, seeded at first start (Bootstrap) with
// OpenAI, Anthropic, Ollama and a generic OpenAI-compatible provider;
// flows resolve their model field through the flow tenant's providers,
// then the built-in ones (runs.CatalogModels, wired by Runs).
type ModelCatalog struct{}

var (
	_ Module       = ModelCatalog{}
	_ Bootstrapper = ModelCatalog{}
)

// Register implements Module.
func (ModelCatalog) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.ModelCatalogEvents())
}

// Projections implements Module.
func (ModelCatalog) Projections() []*projections.Projection {
	return []*projections.Projection{projections.ModelCatalog()}
}

func modelCatalogHandler(d Deps) *commands.ModelCatalogHandler {
	return &commands.ModelCatalogHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool)}
}

// Routes implements Module.
func (ModelCatalog) Routes(s *httpapi.Server, d Deps) {
	ports.ModelCatalog(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock}, modelCatalogHandler(d))
	readapi.RegisterModelCatalogReads(s, d.Pool)
}

// Bootstrap implements Bootstrapper: the built-in catalogue is seeded
// into the system tenant once (what operators change or remove later
// stays so).
func (ModelCatalog) Bootstrap(ctx context.Context, d Deps) error {
	md := eventstore.Metadata{OccurredAt: d.Clock().UTC().Truncate(time.Microsecond)}
	n, err := modelCatalogHandler(d).SeedModelCatalog(ctx, md)
	if err != nil {
		return fmt.Errorf("seed the model catalogue: %w", err)
	}
	if n > 0 {
		d.Logger.Info("model catalogue seeded", "events", n)
	}
	return nil
}

// TenantResources implements TenantResourcer.
func (ModelCatalog) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "model_providers", One: "model provider", Many: "model providers"},
	}
}

// AuditSources implements AuditSourcer.
func (ModelCatalog) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("model_catalog", domain.ModelCatalogStream, domain.LoadModelCatalog),
	}
}
