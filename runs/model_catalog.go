package runs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// CatalogModels is the engine's ModelCatalog port over the model
// catalogue's read models: a node's provider (the model field's
// "provider", the agent's agent_llm) is matched, case-insensitively, to a
// provider_name or provider_key of the run's tenant (its flow's) first, then of the
// built-in catalogue (the system tenant's); the model's record is the one
// of that provider with the node's model name, when listed.
type CatalogModels struct {
	Pool *pgxpool.Pool
}

var _ engine.ModelCatalog = CatalogModels{}

// Resolve implements engine.ModelCatalog.
func (c CatalogModels) Resolve(ctx context.Context, tenantID, provider, model string) (*engine.CatalogModel, error) {
	if provider == "" {
		return nil, nil
	}
	tenant, err := uuid.Parse(tenantID)
	if err != nil {
		tenant = tenancy.SystemTenantID // a run of no stored flow: the built-in catalogue
	}
	var (
		rec   engine.CatalogModel
		mName *string
		m     engine.CatalogModelEntry
		mAct  *bool
		mNS   *bool
		mDep  *bool
		mRsn  *bool
		mTool *bool
	)
	err = c.Pool.QueryRow(ctx, `SELECT p.provider_key, p.provider_name, p.model_class, p.variable_name, p.requires_api_key,
  coalesce(p.base_url, ''), p.tenant_id = $1, p.is_active,
  m.model_name, m.is_active, m.is_not_supported, m.is_deprecated, m.is_reasoning, m.is_tool_calling
FROM model_providers p LEFT JOIN provider_models m ON m.provider_id = p.provider_id AND m.model_name = $4
WHERE p.tenant_id IN ($1, $2) AND (lower(p.provider_name) = lower($3) OR lower(p.provider_key) = lower($3))
ORDER BY p.tenant_id = $1, p.key_order, p.provider_id LIMIT 1`, tenancy.SystemTenantID, tenant, provider, model).Scan(
		&rec.ProviderKey, &rec.ProviderName, &rec.ModelClass, &rec.VariableName, &rec.RequiresAPIKey, &rec.BaseURL, &rec.Builtin,
		&rec.Active, &mName, &mAct, &mNS, &mDep, &mRsn, &mTool)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the model catalogue: %w", err)
	}
	if mName != nil {
		m = engine.CatalogModelEntry{Name: *mName, Active: *mAct, NotSupported: *mNS, Deprecated: *mDep, Reasoning: *mRsn, Tools: *mTool}
		rec.Model = &m
	}
	return &rec, nil
}
