package agentic_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
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
	ctx := context.Background()
	tenant := uuid.New()
	for _, p := range []struct {
		id     int64
		tenant uuid.UUID
		name   string
		active bool
	}{
		{1, tenancy.SystemTenantID, "OpenAI", true},
		{2, tenancy.SystemTenantID, "Ollama", true},
		{3, tenant, "openai", false},
	} {
		_, err := db.Exec(ctx, `INSERT INTO model_providers (provider_id, tenant_id, provider_key, provider_name, icon, variable_name,
  requires_api_key, model_class, model_name_param, api_key_param, max_tokens_field_name, is_active, key_order, ctime, utime)
VALUES ($1, $2, lower($3), $3, '', '', false, 'ChatOpenAI', 'model', 'api_key', 'max_tokens', $4, 0, now(), now())`,
			p.id, p.tenant, p.name, p.active)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO provider_models (id, tenant_id, provider_id, model_name, model_type, is_default, is_deprecated,
  is_not_supported, is_preview, is_reasoning, is_tool_calling, is_search, is_vl, is_active, key_order, ctime, utime)
VALUES ($1, $2, $1, 'm', 'language', true, false, false, false, false, false, false, false, true, 0, now(), now())`, p.id, p.tenant)
		require.NoError(t, err)
	}
	svc := &agentic.Service{Pool: db}
	names := func(tenant uuid.UUID) []string {
		cfg, err := svc.CheckConfig(ctx, 1, tenant)
		require.NoError(t, err)
		var out []string
		for _, p := range cfg.Providers {
			out = append(out, p.Name)
		}
		return out
	}
	assert.Equal(t, []string{"Ollama"}, names(tenant), "the tenant's inactive openai hides the built-in OpenAI")
	assert.ElementsMatch(t, []string{"OpenAI", "Ollama"}, names(uuid.New()), "another tenant sees both")
}

// The engine resolves a provider by name or key, the tenant's first: a
// tenant's provider whose key is a built-in one's hides it too, whatever
// its name, and one whose name is a built-in one's key as well.
func TestCheckConfig_TenantProviderKeyShadowsBuiltin(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	ctx := context.Background()
	tenant := uuid.New()
	for _, p := range []struct {
		id        int64
		tenant    uuid.UUID
		key, name string
	}{
		{1, tenancy.SystemTenantID, "openai", "OpenAI"},
		{2, tenancy.SystemTenantID, "ollama", "Ollama"},
		{3, tenancy.SystemTenantID, "anthropic", "Anthropic"},
		{4, tenant, "OpenAI", "My gateway"},
		{5, tenant, "mine", "Anthropic"},
	} {
		_, err := db.Exec(ctx, `INSERT INTO model_providers (provider_id, tenant_id, provider_key, provider_name, icon, variable_name,
  requires_api_key, model_class, model_name_param, api_key_param, max_tokens_field_name, is_active, key_order, ctime, utime)
VALUES ($1, $2, $3, $4, '', '', false, 'ChatOpenAI', 'model', 'api_key', 'max_tokens', true, 0, now(), now())`,
			p.id, p.tenant, p.key, p.name)
		require.NoError(t, err)
		_, err = db.Exec(ctx, `INSERT INTO provider_models (id, tenant_id, provider_id, model_name, model_type, is_default, is_deprecated,
  is_not_supported, is_preview, is_reasoning, is_tool_calling, is_search, is_vl, is_active, key_order, ctime, utime)
VALUES ($1, $2, $1, 'm', 'language', true, false, false, false, false, false, false, false, true, 0, now(), now())`, p.id, p.tenant)
		require.NoError(t, err)
	}
	svc := &agentic.Service{Pool: db}
	names := func(tenant uuid.UUID) []string {
		cfg, err := svc.CheckConfig(ctx, 1, tenant)
		require.NoError(t, err)
		var out []string
		for _, p := range cfg.Providers {
			out = append(out, p.Name)
		}
		return out
	}
	assert.Equal(t, []string{"My gateway", "Anthropic", "Ollama"}, names(tenant),
		"the tenant's key openai hides the built-in OpenAI; its own Anthropic the built-in one")
	assert.ElementsMatch(t, []string{"OpenAI", "Ollama", "Anthropic"}, names(uuid.New()), "another tenant sees the built-in ones")
}
