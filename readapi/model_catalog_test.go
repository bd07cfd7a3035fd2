package readapi_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// modelCatalogFixture inserts two built-in providers (system tenant), one
// of tenant a and one of tenant b, and their models.
//
//	provider 10 openai    system  key_order 2  models 100..103
//	provider 11 anthropic system  key_order 1  no models
//	provider 20 custom    a       key_order 1  model 200
//	provider 30 bprov     b       key_order 0  model 300
func modelCatalogFixture(t *testing.T) (db *pgxpool.Pool, a, b uuid.UUID) {
	t.Helper()
	db = testkit.NewDatabase(t)
	a, b = uuid.New(), uuid.New()
	sys := tenancy.SystemTenantID
	for _, p := range []struct {
		id        int64
		tenant    uuid.UUID
		key, name string
		keyOrder  int64
		note      *string
	}{
		{10, sys, "openai", "OpenAI", 2, nil},
		{11, sys, "anthropic", "Anthropic", 1, nil},
		{20, a, "custom", "my Custom", 1, ptr("in-house")},
		{30, b, "bprov", "B Provider", 0, nil},
	} {
		exec(t, db, `INSERT INTO model_providers (provider_id, tenant_id, provider_key, provider_name, icon, variable_name,
  requires_api_key, model_class, model_name_param, api_key_param, max_tokens_field_name, is_active, key_order, note, ctime, utime)
VALUES ($1, $2, $3, $4, 'icon', 'VAR', true, 'ChatModel', 'model', 'api_key', 'max_tokens', true, $5, $6, $7, $7)`,
			p.id, p.tenant, p.key, p.name, p.keyOrder, p.note, at)
	}
	for _, m := range []struct {
		id, provider  int64
		tenant        uuid.UUID
		name          string
		display       *string
		modelType     string
		contextLength *int64
		keyOrder      int64
	}{
		{100, 10, sys, "gpt-4o", nil, "language", ptr(int64(128000)), 1},
		{101, 10, sys, "text-embedding", nil, "embedding", nil, 2},
		{102, 10, sys, "gpt-mini", ptr("Mini GPT"), "language", ptr(int64(16000)), 3},
		{103, 10, sys, "o1", nil, "language", nil, 3},
		{200, 20, a, "local", nil, "language", ptr(int64(4096)), 1},
		{300, 30, b, "b-model", nil, "rerank", nil, 1},
	} {
		exec(t, db, `INSERT INTO provider_models (id, tenant_id, provider_id, model_name, model_display_name, model_type,
  context_length, is_default, is_deprecated, is_not_supported, is_preview, is_reasoning, is_tool_calling, is_search, is_vl,
  is_active, key_order, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, false, false, false, false, false, false, false, false, true, $8, $9, $9)`,
			m.id, m.tenant, m.provider, m.name, m.display, m.modelType, m.contextLength, m.keyOrder, at)
	}
	return db, a, b
}

func ptr[T any](v T) *T { return &v }

func providerID(p readapi.ModelProviderRead) int64 { return p.ProviderID }

func modelID(m readapi.ProviderModelRead) int64 { return m.ID }

func TestListModelProviders(t *testing.T) {
	t.Parallel()
	db, a, b := modelCatalogFixture(t)
	ctx := context.Background()

	t.Run("own_and_builtin_not_another_tenants", func(t *testing.T) {
		got, err := readapi.ListModelProviders(ctx, db, a, readapi.ModelProvidersQuery{SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		// 11 and 20 tie on key_order 1: by provider_id.
		assert.Equal(t, []int64{11, 20, 10}, idsOf(got, providerID))
		assert.Equal(t, []bool{true, false, true}, []bool{got[0].IsBuiltin, got[1].IsBuiltin, got[2].IsBuiltin})

		got, err = readapi.ListModelProviders(ctx, db, b, readapi.ModelProvidersQuery{SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		assert.Equal(t, []int64{30, 11, 10}, idsOf(got, providerID))

		got, err = readapi.ListModelProviders(ctx, db, tenancy.SystemTenantID, readapi.ModelProvidersQuery{SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		assert.Equal(t, []int64{11, 10}, idsOf(got, providerID))
		assert.True(t, got[0].IsBuiltin && got[1].IsBuiltin)
	})

	t.Run("sort", func(t *testing.T) {
		for _, tt := range []struct {
			sortBy, order string
			want          []int64
		}{
			{"key_order", "asc", []int64{11, 20, 10}},
			{"key_order", "desc", []int64{10, 20, 11}},
			{"provider_key", "asc", []int64{11, 20, 10}},
			{"provider_key", "desc", []int64{10, 20, 11}},
			// case-insensitive: "my Custom" between Anthropic and OpenAI
			{"provider_name", "asc", []int64{11, 20, 10}},
			{"provider_name", "desc", []int64{10, 20, 11}},
		} {
			got, err := readapi.ListModelProviders(ctx, db, a, readapi.ModelProvidersQuery{SortBy: tt.sortBy, SortOrder: tt.order})
			require.NoError(t, err)
			assert.Equal(t, tt.want, idsOf(got, providerID), "%s %s", tt.sortBy, tt.order)
		}
	})

	t.Run("search", func(t *testing.T) {
		for search, want := range map[string][]int64{
			"OPEN":      {10},         // provider_key / provider_name
			"house":     {20},         // note
			"chatmodel": {11, 20, 10}, // model_class
			"bprov":     {},           // tenant b's
		} {
			got, err := readapi.ListModelProviders(ctx, db, a, readapi.ModelProvidersQuery{Search: search, SortBy: "key_order", SortOrder: "asc"})
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, want, idsOf(got, providerID), search)
		}
	})
}

func TestListProviderModels(t *testing.T) {
	t.Parallel()
	db, a, b := modelCatalogFixture(t)
	ctx := context.Background()

	t.Run("sort", func(t *testing.T) {
		for _, tt := range []struct {
			sortBy, order string
			want          []int64
		}{
			{"key_order", "asc", []int64{100, 101, 102, 103}},
			{"key_order", "desc", []int64{103, 102, 101, 100}},
			// NULL context_length first ascending, last descending; ties by id.
			{"context_length", "asc", []int64{101, 103, 102, 100}},
			{"context_length", "desc", []int64{100, 102, 103, 101}},
			{"model_type", "asc", []int64{101, 100, 102, 103}},
			{"model_type", "desc", []int64{103, 102, 100, 101}},
			{"model_name", "asc", []int64{100, 102, 103, 101}},
			// display name, else model_name, case-insensitive: gpt-4o, Mini GPT, o1, text-embedding
			{"model_display_name", "asc", []int64{100, 102, 103, 101}},
			{"model_display_name", "desc", []int64{101, 103, 102, 100}},
		} {
			got, err := readapi.ListProviderModels(ctx, db, a, 10, readapi.ProviderModelsQuery{SortBy: tt.sortBy, SortOrder: tt.order})
			require.NoError(t, err)
			assert.Equal(t, tt.want, idsOf(got, modelID), "%s %s", tt.sortBy, tt.order)
		}
	})

	t.Run("model_type_and_search", func(t *testing.T) {
		for _, tt := range []struct {
			q    readapi.ProviderModelsQuery
			want []int64
		}{
			{readapi.ProviderModelsQuery{ModelType: "language"}, []int64{100, 102, 103}},
			{readapi.ProviderModelsQuery{ModelType: "embedding"}, []int64{101}},
			{readapi.ProviderModelsQuery{ModelType: "rerank"}, []int64{}},
			{readapi.ProviderModelsQuery{Search: "MINI"}, []int64{102}},
			{readapi.ProviderModelsQuery{Search: "gpt"}, []int64{100, 102}},
			{readapi.ProviderModelsQuery{Search: "gpt", ModelType: "embedding"}, []int64{}},
		} {
			tt.q.SortBy, tt.q.SortOrder = "key_order", "asc"
			got, err := readapi.ListProviderModels(ctx, db, a, 10, tt.q)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, tt.want, idsOf(got, modelID), "%+v", tt.q)
		}
	})

	t.Run("fields", func(t *testing.T) {
		got, err := readapi.ListProviderModels(ctx, db, a, 10, readapi.ProviderModelsQuery{Search: "mini", SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, int64(10), got[0].ProviderID)
		assert.Equal(t, "gpt-mini", got[0].ModelName)
		assert.Equal(t, ptr("Mini GPT"), got[0].ModelDisplayName)
		assert.Equal(t, ptr(int64(16000)), got[0].ContextLength)
		assert.JSONEq(t, "null", string(got[0].Metadata))
	})

	t.Run("own_provider", func(t *testing.T) {
		got, err := readapi.ListProviderModels(ctx, db, a, 20, readapi.ProviderModelsQuery{SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		assert.Equal(t, []int64{200}, idsOf(got, modelID))
		got, err = readapi.ListProviderModels(ctx, db, a, 11, readapi.ProviderModelsQuery{SortBy: "key_order", SortOrder: "asc"})
		require.NoError(t, err)
		assert.Equal(t, []readapi.ProviderModelRead{}, got, "a provider without models")
	})

	t.Run("provider_not_visible", func(t *testing.T) {
		for _, tc := range []struct {
			tenant   uuid.UUID
			provider int64
		}{{a, 30}, {b, 20}, {a, 999}} {
			got, err := readapi.ListProviderModels(ctx, db, tc.tenant, tc.provider, readapi.ProviderModelsQuery{SortBy: "key_order", SortOrder: "asc"})
			assert.ErrorIs(t, err, domain.ErrNotFound, "provider %d for %s", tc.provider, tc.tenant)
			assert.Nil(t, got)
		}
	})
}

func TestModelTypes(t *testing.T) {
	t.Parallel()
	db, a, b := modelCatalogFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tenant uuid.UUID
		want   []int64 // language, embedding, image, audio, rerank
	}{
		{"a", a, []int64{4, 1, 0, 0, 0}},
		{"b", b, []int64{3, 1, 0, 0, 1}},
		{"system", tenancy.SystemTenantID, []int64{3, 1, 0, 0, 0}},
		{"none_of_its_own", uuid.New(), []int64{3, 1, 0, 0, 0}},
	} {
		got, err := readapi.ModelTypes(ctx, db, tc.tenant)
		require.NoError(t, err)
		want := make([]readapi.ModelTypeRead, len(domain.ModelTypes))
		for i, mt := range domain.ModelTypes {
			want[i] = readapi.ModelTypeRead{ModelType: mt.Type, DisplayName: mt.Name, ModelCount: tc.want[i]}
		}
		assert.Equal(t, want, got, tc.name)
	}
	assert.Equal(t, "language", domain.ModelTypes[0].Type)
	assert.Equal(t, "rerank", domain.ModelTypes[4].Type)
}

func TestModelProviderByID(t *testing.T) {
	t.Parallel()
	db, a, b := modelCatalogFixture(t)
	ctx := context.Background()

	got, err := readapi.ModelProviderByID(ctx, db, a, 20)
	require.NoError(t, err)
	assert.Equal(t, "custom", got.ProviderKey)
	assert.Equal(t, ptr("in-house"), got.Note)
	assert.Nil(t, got.APIDocsURL)
	assert.False(t, got.IsBuiltin)

	got, err = readapi.ModelProviderByID(ctx, db, tenancy.SystemTenantID, 10)
	require.NoError(t, err)
	assert.Equal(t, "openai", got.ProviderKey)
	assert.True(t, got.IsBuiltin)

	// ByID reads the tenant's own providers only (the answer of a write).
	for _, tc := range []struct {
		tenant   uuid.UUID
		provider int64
	}{{a, 30}, {b, 20}, {a, 10}, {a, 999}} {
		_, err = readapi.ModelProviderByID(ctx, db, tc.tenant, tc.provider)
		assert.ErrorIs(t, err, domain.ErrNotFound, "provider %d for %s", tc.provider, tc.tenant)
	}
}
