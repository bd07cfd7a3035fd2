package commands

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// ModelCatalogPort is the HTTP port of the model catalogue's writes: it
// binds a request, resolves the caller's tenant (X-Tenant-Id, else the
// system tenant, whose catalogue is the built-in one; holders of
// models.write/modify/delete there), calls the ModelCatalogHandler and
// answers what the read model shows.
type ModelCatalogPort struct {
	Server  *httpapi.Server
	Handler *ModelCatalogHandler
	Pool    *pgxpool.Pool
	Clock   func() time.Time
}

// ModelProviderCreate is the body of Add Model Provider (the spec's
// defaults).
type ModelProviderCreate struct {
	ProviderKey        *string `json:"provider_key" binding:"required,min=1,max=64"`
	ProviderName       *string `json:"provider_name" binding:"required,min=1,max=64"`
	Icon               *string `json:"icon" binding:"omitnil,max=64"`
	VariableName       *string `json:"variable_name" binding:"required,min=1,max=128"`
	RequiresAPIKey     *bool   `json:"requires_api_key"`
	APIDocsURL         *string `json:"api_docs_url"`
	ModelClass         *string `json:"model_class" binding:"required,min=1,max=128"`
	ModelNameParam     *string `json:"model_name_param" binding:"omitnil,max=64"`
	APIKeyParam        *string `json:"api_key_param" binding:"omitnil,max=64"`
	BaseURLParam       *string `json:"base_url_param"`
	BaseURL            *string `json:"base_url"`
	URLParam           *string `json:"url_param"`
	MaxTokensFieldName *string `json:"max_tokens_field_name" binding:"omitnil,max=64"`
	IsActive           *bool   `json:"is_active"`
	KeyOrder           *int64  `json:"key_order"`
	Note               *string `json:"note"`
}

// fields are the new provider's fields: the body over the defaults.
func (b ModelProviderCreate) fields() domain.ModelProviderFields {
	f := domain.ModelProviderFields{ProviderKey: *b.ProviderKey, ProviderName: *b.ProviderName, Icon: "Bot",
		VariableName: *b.VariableName, RequiresAPIKey: true, ModelClass: *b.ModelClass, ModelNameParam: "model",
		APIKeyParam: "api_key", MaxTokensFieldName: "max_tokens", IsActive: true}
	ModelProviderPatch{Icon: b.Icon, RequiresAPIKey: b.RequiresAPIKey, APIDocsURL: b.APIDocsURL, ModelNameParam: b.ModelNameParam,
		APIKeyParam: b.APIKeyParam, BaseURLParam: b.BaseURLParam, BaseURL: b.BaseURL, URLParam: b.URLParam,
		MaxTokensFieldName: b.MaxTokensFieldName, IsActive: b.IsActive, KeyOrder: b.KeyOrder, Note: b.Note}.apply(&f)
	return f
}

// ProviderModelCreate is the body of Add Provider Model (the spec's
// defaults).
type ProviderModelCreate struct {
	ProviderID *int64  `json:"provider_id" binding:"required"`
	ModelName  *string `json:"model_name" binding:"required,min=1,max=128"`
	ModelType  *string `json:"model_type" binding:"required,min=1,max=128"`
	ProviderModelPatch
}

// CatalogIDs is the body of the bulk removals.
type CatalogIDs struct {
	IDs []int64 `json:"ids" binding:"required,max=1000"`
}

// CatalogDeleted is the answer of a bulk removal.
type CatalogDeleted struct {
	DeletedCount int `json:"deleted_count"`
}

// Routes registers the write operations of the model catalogue.
func (p *ModelCatalogPort) Routes(s *httpapi.Server) {
	models := readapi.ModelCatalogReadModels
	const tag = "Model Management"
	const where = " of the caller's tenant (X-Tenant-Id, else the system tenant, whose catalogue is the built-in one)"
	providerID := []httpapi.Param{{Name: "provider_id", In: "path", Type: "integer"}}
	modelID := []httpapi.Param{{Name: "model_id", In: "path", Type: "integer"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/model-management/providers", Access: access.Tenant("models", "write"),
		Tag: tag, Summary: "Add Model Provider",
		Description: "Add a model provider to the catalogue" + where + ". provider_key is unique in the tenant (409); a " +
			"tenant's provider comes before a built-in one of the same key for its flows.",
		Body: ModelProviderCreate{}, Response: readapi.ModelProviderRead{}, Status: http.StatusCreated, ReadModels: models, Handler: p.addProvider})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/model-management/providers/{provider_id}",
		Access: access.Tenant("models", "modify"), Tag: tag, Summary: "Patch Model Provider",
		Description: "Change a provider" + where + "; absent or null fields stay as they are, an empty string clears a " +
			"nullable one. is_active false makes flows refuse its models.",
		Params: providerID, Body: ModelProviderPatch{}, Response: readapi.ModelProviderRead{}, ReadModels: models, Handler: p.patchProvider})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/providers/{provider_id}",
		Access: access.Tenant("models", "delete"), Tag: tag, Summary: "Remove Model Provider",
		Description: "Remove a provider" + where + ", and its models with it.",
		Params:      providerID, Response: Detail{}, ReadModels: models, Handler: p.removeProvider})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/providers", Access: access.Tenant("models", "delete"),
		Tag: tag, Summary: "Remove Model Providers Bulk",
		Description: "Remove the providers of ids" + where + ", with their models; ids it does not have are not counted.",
		Body:        CatalogIDs{}, Response: CatalogDeleted{}, ReadModels: models, Handler: p.removeProviders})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/model-management/models", Access: access.Tenant("models", "write"),
		Tag: tag, Summary: "Add Provider Model",
		Description: "Add a model to a provider" + where + " (404 if the tenant has no such provider). model_name is unique " +
			"in its provider (409); model_type is one of model-types. is_not_supported true makes flows refuse it.",
		Body: ProviderModelCreate{}, Response: readapi.ProviderModelRead{}, Status: http.StatusCreated, ReadModels: models, Handler: p.addModel})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/model-management/models/{model_id}",
		Access: access.Tenant("models", "modify"), Tag: tag, Summary: "Patch Provider Model",
		Description: "Change a model" + where + "; absent or null fields stay as they are (its provider never changes).",
		Params:      modelID, Body: ProviderModelPatch{}, Response: readapi.ProviderModelRead{}, ReadModels: models, Handler: p.patchModel})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/models/{model_id}",
		Access: access.Tenant("models", "delete"), Tag: tag, Summary: "Remove Provider Model",
		Description: "Remove a model" + where + ".",
		Params:      modelID, Response: Detail{}, ReadModels: models, Handler: p.removeModel})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/models", Access: access.Tenant("models", "delete"),
		Tag: tag, Summary: "Remove Provider Models Bulk",
		Description: "Remove the models of ids" + where + "; ids it does not have are not counted.",
		Body:        CatalogIDs{}, Response: CatalogDeleted{}, ReadModels: models, Handler: p.removeModels})
}

// begin begins a write (tenantWrite).
func (p *ModelCatalogPort) begin(c *gin.Context, param string, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	return tenantWrite(c, p.Pool, p.Clock(), param, body)
}

func (p *ModelCatalogPort) answerProvider(c *gin.Context, tenant uuid.UUID, w CatalogWritten, err error, status int) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ModelProviderRead, error) {
		return readapi.ModelProviderByID(ctx, db, tenant, w.ID)
	})
}

func (p *ModelCatalogPort) answerModel(c *gin.Context, tenant uuid.UUID, w CatalogWritten, err error, status int) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ProviderModelRead, error) {
		return readapi.ProviderModelByID(ctx, db, tenant, w.ID)
	})
}

func (p *ModelCatalogPort) addProvider(c *gin.Context) {
	var body ModelProviderCreate
	_, tenant, md, ok := p.begin(c, "", &body)
	if !ok {
		return
	}
	w, err := p.Handler.AddProvider(c.Request.Context(), AddModelProvider{Tenant: tenant, Meta: md, Fields: body.fields()})
	p.answerProvider(c, tenant, w, err, http.StatusCreated)
}

func (p *ModelCatalogPort) patchProvider(c *gin.Context) {
	var body ModelProviderPatch
	id, tenant, md, ok := p.begin(c, "provider_id", &body)
	if !ok {
		return
	}
	w, err := p.Handler.ChangeProvider(c.Request.Context(), ChangeModelProvider{Tenant: tenant, Meta: md, ProviderID: id, Patch: body})
	p.answerProvider(c, tenant, w, err, http.StatusOK)
}

func (p *ModelCatalogPort) removeProvider(c *gin.Context) {
	id, tenant, md, ok := p.begin(c, "provider_id", nil)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveProviders(c.Request.Context(), RemoveModelProviders{Tenant: tenant, Meta: md, IDs: []int64{id}, Strict: true})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: "Model provider deleted"})
}

func (p *ModelCatalogPort) removeProviders(c *gin.Context) {
	var body CatalogIDs
	_, tenant, md, ok := p.begin(c, "", &body)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveProviders(c.Request.Context(), RemoveModelProviders{Tenant: tenant, Meta: md, IDs: body.IDs})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, CatalogDeleted{DeletedCount: w.Removed})
}

func (p *ModelCatalogPort) addModel(c *gin.Context) {
	var body ProviderModelCreate
	_, tenant, md, ok := p.begin(c, "", &body)
	if !ok {
		return
	}
	f := domain.ProviderModelFields{ProviderID: *body.ProviderID, IsActive: true, Metadata: []byte("null")}
	patch := body.ProviderModelPatch
	patch.ModelName, patch.ModelType = body.ModelName, body.ModelType
	if err := patch.apply(&f); err != nil {
		httpapi.Fail(c, err)
		return
	}
	w, err := p.Handler.AddModel(c.Request.Context(), AddProviderModel{Tenant: tenant, Meta: md, Fields: f})
	p.answerModel(c, tenant, w, err, http.StatusCreated)
}

func (p *ModelCatalogPort) patchModel(c *gin.Context) {
	var body ProviderModelPatch
	id, tenant, md, ok := p.begin(c, "model_id", &body)
	if !ok {
		return
	}
	w, err := p.Handler.ChangeModel(c.Request.Context(), ChangeProviderModel{Tenant: tenant, Meta: md, ModelID: id, Patch: body})
	p.answerModel(c, tenant, w, err, http.StatusOK)
}

func (p *ModelCatalogPort) removeModel(c *gin.Context) {
	id, tenant, md, ok := p.begin(c, "model_id", nil)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveModels(c.Request.Context(), RemoveProviderModels{Tenant: tenant, Meta: md, IDs: []int64{id}, Strict: true})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: "Model deleted"})
}

func (p *ModelCatalogPort) removeModels(c *gin.Context) {
	var body CatalogIDs
	_, tenant, md, ok := p.begin(c, "", &body)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveModels(c.Request.Context(), RemoveProviderModels{Tenant: tenant, Meta: md, IDs: body.IDs})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, CatalogDeleted{DeletedCount: w.Removed})
}
