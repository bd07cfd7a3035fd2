package agentic_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/agentic"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// A tenant's own provider hides the built-in one of the same name, as the
// engine resolves it, even when it is inactive: the assistant offers
// neither then (the engine would refuse the inactive one rather than fall
// back), while another tenant still sees the built-in one.
func TestCheckConfig_TenantProviderShadowsBuiltin(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	tenant := uuid.New()
	addProviders(t, db, []testProvider{
		{1, tenancy.SystemTenantID, "openai", "OpenAI", true},
		{2, tenancy.SystemTenantID, "ollama", "Ollama", true},
		{3, tenant, "openai", "openai", false},
	})
	names := providerNamesOf(t, db)
	assert.Equal(t, []string{"Ollama"}, names(tenant), "the tenant's inactive openai hides the built-in OpenAI")
	assert.ElementsMatch(t, []string{"OpenAI", "Ollama"}, names(uuid.New()), "another tenant sees both")
}

// The engine resolves a provider by name or key, the tenant's first: a
// tenant's provider whose key is a built-in one's hides it too, whatever
// its name, and one whose name is a built-in one's key as well.
func TestCheckConfig_TenantProviderKeyShadowsBuiltin(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	tenant := uuid.New()
	addProviders(t, db, []testProvider{
		{1, tenancy.SystemTenantID, "openai", "OpenAI", true},
		{2, tenancy.SystemTenantID, "ollama", "Ollama", true},
		{3, tenancy.SystemTenantID, "anthropic", "Anthropic", true},
		{4, tenant, "OpenAI", "My gateway", true},
		{5, tenant, "mine", "Anthropic", true},
	})
	names := providerNamesOf(t, db)
	assert.Equal(t, []string{"My gateway", "Anthropic", "Ollama"}, names(tenant),
		"the tenant's key openai hides the built-in OpenAI; its own Anthropic the built-in one")
	assert.ElementsMatch(t, []string{"OpenAI", "Ollama", "Anthropic"}, names(uuid.New()), "another tenant sees the built-in ones")
}

// testProvider is a model provider row written straight into the read
// model, with one language model.
type testProvider struct {
	id        int64
	tenant    uuid.UUID
	key, name string
	active    bool
}

// addProviders writes ps and a model of each into db.
func addProviders(t *testing.T, db *pgxpool.Pool, ps []testProvider) {
	t.Helper()
	ctx := context.Background()
	for _, p := range ps {
		_, err := db.Exec(ctx, `INSERT INTO model_providers (provider_id, tenant_id, provider_key, provider_name, icon, variable_name,
  requires_api_key, model_class, model_name_param, api_key_param, max_tokens_field_name, is_active, key_order, ctime, utime)
VALUES ($1, $2, $3, $4, '', '', false, 'ChatOpenAI', 'model', 'api_key', 'max_tokens', $5, 0, now(), now())`,
			p.id, p.tenant, p.key, p.name, p.active)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO provider_models (id, tenant_id, provider_id, model_name, model_type, is_default, is_deprecated,
  is_not_supported, is_preview, is_reasoning, is_tool_calling, is_search, is_vl, is_active, key_order, ctime, utime)
VALUES ($1, $2, $1, 'm', 'language', true, false, false, false, false, false, false, false, true, 0, now(), now())`, p.id, p.tenant)
		require.NoError(t, err)
	}
}

// providerNamesOf returns the names of the providers CheckConfig offers
// user 1 in a tenant.
func providerNamesOf(t *testing.T, db *pgxpool.Pool) func(uuid.UUID) []string {
	svc := &agentic.Service{Pool: db}
	return func(tenant uuid.UUID) []string {
		cfg, err := svc.CheckConfig(context.Background(), 1, tenant)
		require.NoError(t, err)
		var out []string
		for _, p := range cfg.Providers {
			out = append(out, p.Name)
		}
		return out
	}
}
