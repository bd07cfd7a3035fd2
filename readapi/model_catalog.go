package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ModelCatalogReadModels are the read models model-management operations
// read.
var ModelCatalogReadModels = []string{projections.ModelCatalogName, "access"}

// ModelProviderRead is a model provider as the API shows it (the spec's
// field order). A tenant's lists show its own providers and the system
// tenant's built-in ones; is_builtin tells them apart (built-in ones are
// changed acting in the system tenant).
type ModelProviderRead struct {
	domain.ModelProviderFields
	ProviderID int64 `json:"provider_id"`
	IsBuiltin  bool  `json:"is_builtin"`
	projections.Audited
}

// ProviderModelRead is a model as the API shows it (the spec's field
// order).
type ProviderModelRead struct {
	domain.ProviderModelFields
	ID int64 `json:"id"`
	projections.Audited
}

// ModelTypeRead is one entry of model-types.
type ModelTypeRead struct {
	ModelType   string `json:"model_type"`
	DisplayName string `json:"display_name"`
	ModelCount  int64  `json:"model_count"`
}

const (
	providerSelect = `SELECT p.provider_key, p.provider_name, p.icon, p.variable_name, p.requires_api_key, p.api_docs_url,
  p.model_class, p.model_name_param, p.api_key_param, p.base_url_param, p.base_url, p.url_param, p.max_tokens_field_name,
  p.is_active, p.key_order, p.note, p.provider_id, p.tenant_id = $1,
  p.c_uid, p.m_uid, p.ctime, p.utime FROM model_providers p`
	modelSelect = `SELECT m.provider_id, m.model_name, m.model_display_name, m.model_type, m.context_length, m.is_default,
  m.is_deprecated, m.is_not_supported, m.is_preview, m.is_reasoning, m.is_tool_calling, m.is_search, m.is_vl, m.is_active,
  m.key_order, m.metadata, m.note, m.id, m.c_uid, m.m_uid, m.ctime, m.utime FROM provider_models m`
)

func scanProvider(row pgx.CollectableRow) (ModelProviderRead, error) {
	var p ModelProviderRead
	f := &p.ModelProviderFields
	err := row.Scan(&f.ProviderKey, &f.ProviderName, &f.Icon, &f.VariableName, &f.RequiresAPIKey, &f.APIDocsURL, &f.ModelClass,
		&f.ModelNameParam, &f.APIKeyParam, &f.BaseURLParam, &f.BaseURL, &f.URLParam, &f.MaxTokensFieldName, &f.IsActive,
		&f.KeyOrder, &f.Note, &p.ProviderID, &p.IsBuiltin, &p.CUID, &p.MUID, &p.CTime, &p.UTime)
	p.InUTC()
	return p, err
}

func scanModel(row pgx.CollectableRow) (ProviderModelRead, error) {
	var m ProviderModelRead
	f := &m.ProviderModelFields
	var meta []byte
	err := row.Scan(&f.ProviderID, &f.ModelName, &f.ModelDisplayName, &f.ModelType, &f.ContextLength, &f.IsDefault,
		&f.IsDeprecated, &f.IsNotSupported, &f.IsPreview, &f.IsReasoning, &f.IsToolCalling, &f.IsSearch, &f.IsVL, &f.IsActive,
		&f.KeyOrder, &meta, &f.Note, &m.ID, &m.CUID, &m.MUID, &m.CTime, &m.UTime)
	f.Metadata = json.RawMessage("null")
	if meta != nil {
		f.Metadata = meta
	}
	m.InUTC()
	return m, err
}

// ModelProviderByID reads provider id of tenant's own catalogue (404
// otherwise).
func ModelProviderByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (ModelProviderRead, error) {
	rows, _ := db.Query(ctx, providerSelect+` WHERE p.tenant_id = $2 AND p.provider_id = $3`, tenancy.SystemTenantID, tenant, id)
	return exactlyOne(rows, scanProvider, domain.NotFoundf(domain.MsgProviderNotFound), fmt.Sprintf("model provider %d", id))
}

// ProviderModelByID reads model id of tenant's own catalogue (404
// otherwise).
func ProviderModelByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (ProviderModelRead, error) {
	rows, _ := db.Query(ctx, modelSelect+` WHERE m.tenant_id = $1 AND m.id = $2`, tenant, id)
	return exactlyOne(rows, scanModel, domain.NotFoundf(domain.MsgModelNotFound), fmt.Sprintf("model %d", id))
}

// ModelProvidersQuery is the query string of Read Model Providers.
type ModelProvidersQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=key_order" binding:"oneof=provider_key provider_name key_order"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var providerSorts = map[string]string{"provider_key": "p.provider_key", "provider_name": "lower(p.provider_name)", "key_order": "p.key_order"}

// visibleCatalog is the condition "in tenant's catalogue or the built-in
// one" on alias x ($1 is the system tenant, $2 tenant).
func visibleCatalog(x string) string { return "(" + x + ".tenant_id = $2 OR " + x + ".tenant_id = $1)" }

// ListModelProviders lists the providers tenant's flows may use: its own
// and the built-in ones; search is a case-insensitive substring of
// provider_key, provider_name, model_class or note. Ties of the sort
// column go by provider_id in the same direction.
func ListModelProviders(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q ModelProvidersQuery) ([]ModelProviderRead, error) {
	args := sqlArgs{tenancy.SystemTenantID, tenant}
	where := []string{visibleCatalog("p")}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "p.provider_key", "p.provider_name", "p.model_class", "coalesce(p.note, '')"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, providerSelect+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+providerSorts[q.SortBy]+` `+dir+`, p.provider_id `+dir, args...)
	return collectAll(rows, scanProvider, "list model providers")
}

// ProviderModelsQuery is the query string of Read Provider Models.
type ProviderModelsQuery struct {
	Search    string `form:"search" binding:"max=255"`
	ModelType string `form:"model_type" binding:"max=128"`
	SortBy    string `form:"sort_by,default=key_order" binding:"oneof=model_type model_name model_display_name context_length key_order"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var modelSorts = map[string]string{"model_type": "m.model_type", "model_name": "m.model_name",
	"model_display_name": "lower(coalesce(m.model_display_name, m.model_name))", "context_length": "m.context_length",
	"key_order": "m.key_order"}

// ListProviderModels lists the models of provider (404 unless tenant's
// flows may use it): search is a case-insensitive substring of
// model_name, model_display_name or note; model_type keeps one type.
func ListProviderModels(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, provider int64, q ProviderModelsQuery) ([]ProviderModelRead, error) {
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM model_providers p WHERE `+visibleCatalog("p")+` AND p.provider_id = $3`,
		tenancy.SystemTenantID, tenant, provider).Scan(&n); err != nil {
		return nil, fmt.Errorf("read model provider %d: %w", provider, err)
	}
	if n == 0 {
		return nil, domain.NotFoundf(domain.MsgProviderNotFound)
	}
	args := sqlArgs{provider}
	where := []string{"m.provider_id = $1"}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "m.model_name", "coalesce(m.model_display_name, '')", "coalesce(m.note, '')"))
	}
	if q.ModelType != "" {
		where = append(where, "m.model_type = "+args.add(q.ModelType))
	}
	dir := direction(q.SortOrder)
	nulls := " NULLS FIRST"
	if dir == "DESC" {
		nulls = " NULLS LAST"
	}
	rows, _ := pool.Query(ctx, modelSelect+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+modelSorts[q.SortBy]+` `+dir+nulls+`, m.id `+dir, args...)
	return collectAll(rows, scanModel, "list provider models")
}

// ModelTypes lists the model types with how many models of each tenant's
// flows may use.
func ModelTypes(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID) ([]ModelTypeRead, error) {
	counts := map[string]int64{}
	rows, _ := pool.Query(ctx, `SELECT m.model_type, count(*) FROM provider_models m WHERE `+visibleCatalog("m")+` GROUP BY 1`,
		tenancy.SystemTenantID, tenant)
	type pair struct {
		t string
		n int64
	}
	got, err := collectAll(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		return p, r.Scan(&p.t, &p.n)
	}, "count models by type")
	if err != nil {
		return nil, err
	}
	for _, p := range got {
		counts[p.t] = p.n
	}
	out := make([]ModelTypeRead, len(domain.ModelTypes))
	for i, t := range domain.ModelTypes {
		out[i] = ModelTypeRead{ModelType: t.Type, DisplayName: t.Name, ModelCount: counts[t.Type]}
	}
	return out, nil
}

// RegisterModelCatalogReads registers the reads of the model catalogue
// (#182, #183, #188): holders of models.read in the caller's tenant
// (X-Tenant-Id, else the system tenant).
func RegisterModelCatalogReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &modelCatalogReads{pool: pool}
	sortOrder := httpapi.Param{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/model-management/model-types", Access: access.Tenant("models", "read"),
		Tag: "Model Management", Summary: "Read Model Types",
		Description: "The types of model the catalogue knows (language, embedding, image, audio, rerank), with how many " +
			"models of each the caller's tenant may use.",
		Response: []ModelTypeRead{}, ReadModels: ModelCatalogReadModels, Handler: h.types})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/model-management/providers", Access: access.Tenant("models", "read"),
		Tag: "Model Management", Summary: "Read Model Providers",
		Description: "The model providers the caller's tenant may use: its own and the built-in ones (is_builtin), filtered by " +
			"search (a case-insensitive substring of provider_key, provider_name, model_class or note), ordered by sort_by " +
			"(ties by provider_id).",
		Params: []httpapi.Param{{Name: "search", In: "query", Description: "Case-insensitive substring of provider_key, provider_name, model_class or note."},
			{Name: "sort_by", In: "query", Default: "key_order", Enum: []string{"provider_key", "provider_name", "key_order"}}, sortOrder},
		Response: []ModelProviderRead{}, ReadModels: ModelCatalogReadModels, Handler: h.providers})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/model-management/providers/{provider_id}/models",
		Access: access.Tenant("models", "read"), Tag: "Model Management", Summary: "Read Provider Models",
		Description: "The models of a provider the caller's tenant may use (404 otherwise), filtered by search (a " +
			"case-insensitive substring of model_name, model_display_name or note) and model_type, ordered by sort_by " +
			"(ties by id).",
		Params: []httpapi.Param{{Name: "provider_id", In: "path", Type: "integer"},
			{Name: "search", In: "query", Description: "Case-insensitive substring of model_name, model_display_name or note."},
			{Name: "model_type", In: "query", Description: "Only models of this type."},
			{Name: "sort_by", In: "query", Default: "key_order", Enum: []string{"model_type", "model_name", "model_display_name", "context_length", "key_order"}},
			sortOrder},
		Response: []ProviderModelRead{}, ReadModels: ModelCatalogReadModels, Handler: h.models})
}

type modelCatalogReads struct {
	pool *pgxpool.Pool
}

type noQuery struct{}

func (h *modelCatalogReads) types(c *gin.Context) {
	var q noQuery
	tenantAnswer(c, h.pool, &q, func(*noQuery) *uuid.UUID { return nil },
		func(ctx context.Context, t uuid.UUID) ([]ModelTypeRead, error) { return ModelTypes(ctx, h.pool, t) })
}

func (h *modelCatalogReads) providers(c *gin.Context) {
	var q ModelProvidersQuery
	tenantAnswer(c, h.pool, &q, func(*ModelProvidersQuery) *uuid.UUID { return nil },
		func(ctx context.Context, t uuid.UUID) ([]ModelProviderRead, error) {
			return ListModelProviders(ctx, h.pool, t, q)
		})
}

func (h *modelCatalogReads) models(c *gin.Context) {
	var q ProviderModelsQuery
	tenantAnswerByID(c, h.pool, "provider_id", &q, func(ctx context.Context, t uuid.UUID, provider int64) ([]ProviderModelRead, error) {
		return ListProviderModels(ctx, h.pool, t, provider, q)
	})
}
