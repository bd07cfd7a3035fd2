package ports

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The model catalogue's writes (#184–#187, #189–#192): each binds a
// request, resolves the caller's tenant (X-Tenant-Id, else the system
// tenant, whose catalogue is the built-in one: superusers only change
// it, whatever role a caller holds there; in another tenant holders of
// models.write/modify/delete), calls the commands.ModelCatalogHandler
// and answers what the read model shows.

// The answers of the removals.
const (
	msgModelProviderDeleted = "Model provider deleted"
	msgModelDeleted         = "Model deleted"
)

// ModelProviderCreate is the body of Add Model Provider (the spec's
// defaults): the required fields, and the rest as a patch of the
// defaults.
type ModelProviderCreate struct {
	ProviderKey  *string `json:"provider_key" binding:"required,min=1,max=64"`
	ProviderName *string `json:"provider_name" binding:"required,min=1,max=64"`
	VariableName *string `json:"variable_name" binding:"required,min=1,max=128"`
	ModelClass   *string `json:"model_class" binding:"required,min=1,max=128"`
	commands.ModelProviderPatch
}

// fields are the new provider's fields: the body over the defaults.
func (b ModelProviderCreate) fields() domain.ModelProviderFields {
	f := domain.ModelProviderFields{Icon: "Bot", RequiresAPIKey: true, ModelNameParam: "model", APIKeyParam: "api_key",
		MaxTokensFieldName: "max_tokens", IsActive: true}
	patch := b.ModelProviderPatch
	patch.ProviderKey, patch.ProviderName, patch.VariableName, patch.ModelClass = b.ProviderKey, b.ProviderName, b.VariableName, b.ModelClass
	patch.Apply(&f)
	return f
}

// ProviderModelCreate is the body of Add Provider Model (the spec's
// defaults).
type ProviderModelCreate struct {
	ProviderID *int64  `json:"provider_id" binding:"required"`
	ModelName  *string `json:"model_name" binding:"required,min=1,max=128"`
	ModelType  *string `json:"model_type" binding:"required,min=1,max=128"`
	commands.ProviderModelPatch
}

// fields are the new model's fields: the body over the defaults (an
// invalid metadata: a domain error).
func (b ProviderModelCreate) fields() (domain.ProviderModelFields, error) {
	f := domain.ProviderModelFields{ProviderID: *b.ProviderID, IsActive: true, Metadata: []byte("null")}
	patch := b.ProviderModelPatch
	patch.ModelName, patch.ModelType = b.ModelName, b.ModelType
	err := patch.Apply(&f)
	return f, err
}

// CatalogIDs is the body of the bulk removals.
type CatalogIDs struct {
	IDs []int64 `json:"ids" binding:"required,max=1000"`
}

// CatalogDeleted is the answer of a bulk removal.
type CatalogDeleted struct {
	DeletedCount int `json:"deleted_count"`
}

// The requests of the model catalogue's writes: where each part of the
// command comes from (see Write).
type (
	addModelProvider struct {
		InTenant
		Body ModelProviderCreate `body:""`
	}
	patchModelProvider struct {
		ProviderID int64 `path:"provider_id"`
		InTenant
		Body commands.ModelProviderPatch `body:""`
	}
	removeModelProvider struct {
		ProviderID int64 `path:"provider_id"`
		InTenant
	}
	removeCatalogBulk struct {
		InTenant
		Body CatalogIDs `body:""`
	}
	addProviderModel struct {
		InTenant
		Body ProviderModelCreate `body:""`
	}
	patchProviderModel struct {
		ModelID int64 `path:"model_id"`
		InTenant
		Body commands.ProviderModelPatch `body:""`
	}
	removeProviderModel struct {
		ModelID int64 `path:"model_id"`
		InTenant
	}
)

// ModelCatalog registers the write operations of the model catalogue.
func ModelCatalog(p Port, h *commands.ModelCatalogHandler) {
	models := readapi.ModelCatalogReadModels
	const tag = "Model Management"
	const where = " of the caller's tenant (X-Tenant-Id, else the system tenant, whose catalogue is the built-in one: only superusers change it, 403 for anyone else)"
	provider := func(ctx context.Context, db readapi.DB, tenant uuid.UUID, w commands.CatalogWritten) (any, error) {
		return readapi.ModelProviderByID(ctx, db, tenant, w.ID)
	}
	model := func(ctx context.Context, db readapi.DB, tenant uuid.UUID, w commands.CatalogWritten) (any, error) {
		return readapi.ProviderModelByID(ctx, db, tenant, w.ID)
	}
	Write[addModelProvider, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/model-management/providers", Access: access.Tenant("models", "write"),
			Tag: tag, Summary: "Add Model Provider",
			Description: "Add a model provider to the catalogue" + where + ". provider_key is unique in the tenant (409); a " +
				"tenant's provider comes before a built-in one of the same key for its flows.",
			Response: readapi.ModelProviderRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addModelProvider) (commands.CatalogWritten, eventstore.Position, error) {
			w, err := h.AddProvider(ctx, commands.AddModelProvider{Tenant: r.Tenant, Meta: r.Meta, Fields: r.Body.fields()})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addModelProvider, w commands.CatalogWritten) (any, error) {
			return provider(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[patchModelProvider, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/model-management/providers/{provider_id}",
			Access: access.Tenant("models", "modify"), Tag: tag, Summary: "Patch Model Provider",
			Description: "Change a provider" + where + "; absent or null fields stay as they are, an empty string clears a " +
				"nullable one. is_active false makes flows refuse its models.",
			Response: readapi.ModelProviderRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchModelProvider) (commands.CatalogWritten, eventstore.Position, error) {
			w, err := h.ChangeProvider(ctx, commands.ChangeModelProvider{Tenant: r.Tenant, Meta: r.Meta, ProviderID: r.ProviderID, Patch: r.Body})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchModelProvider, w commands.CatalogWritten) (any, error) {
			return provider(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[removeModelProvider, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/providers/{provider_id}",
			Access: access.Tenant("models", "delete"), Tag: tag, Summary: "Remove Model Provider",
			Description: "Remove a provider" + where + ", and its models with it.",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeModelProvider) (Detail, eventstore.Position, error) {
			w, err := h.RemoveProviders(ctx, commands.RemoveModelProviders{Tenant: r.Tenant, Meta: r.Meta, IDs: []int64{r.ProviderID}, Strict: true})
			return Detail{Detail: msgModelProviderDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[removeCatalogBulk, CatalogDeleted]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/providers", Access: access.Tenant("models", "delete"),
			Tag: tag, Summary: "Remove Model Providers Bulk",
			Description: "Remove the providers of ids" + where + ", with their models; ids it does not have are not counted.",
			Response:    CatalogDeleted{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeCatalogBulk) (CatalogDeleted, eventstore.Position, error) {
			w, err := h.RemoveProviders(ctx, commands.RemoveModelProviders{Tenant: r.Tenant, Meta: r.Meta, IDs: r.Body.IDs})
			return CatalogDeleted{DeletedCount: w.Removed}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addProviderModel, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/model-management/models", Access: access.Tenant("models", "write"),
			Tag: tag, Summary: "Add Provider Model",
			Description: "Add a model to a provider" + where + " (404 if the tenant has no such provider). model_name is unique " +
				"in its provider (409); model_type is one of model-types. is_not_supported true makes flows refuse it.",
			Response: readapi.ProviderModelRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addProviderModel) (commands.CatalogWritten, eventstore.Position, error) {
			f, err := r.Body.fields()
			if err != nil {
				return commands.CatalogWritten{}, eventstore.Position{}, err
			}
			w, err := h.AddModel(ctx, commands.AddProviderModel{Tenant: r.Tenant, Meta: r.Meta, Fields: f})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addProviderModel, w commands.CatalogWritten) (any, error) {
			return model(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[patchProviderModel, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/model-management/models/{model_id}",
			Access: access.Tenant("models", "modify"), Tag: tag, Summary: "Patch Provider Model",
			Description: "Change a model" + where + "; absent or null fields stay as they are (its provider never changes).",
			Response:    readapi.ProviderModelRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchProviderModel) (commands.CatalogWritten, eventstore.Position, error) {
			w, err := h.ChangeModel(ctx, commands.ChangeProviderModel{Tenant: r.Tenant, Meta: r.Meta, ModelID: r.ModelID, Patch: r.Body})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchProviderModel, w commands.CatalogWritten) (any, error) {
			return model(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[removeProviderModel, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/models/{model_id}",
			Access: access.Tenant("models", "delete"), Tag: tag, Summary: "Remove Provider Model",
			Description: "Remove a model" + where + ".",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeProviderModel) (Detail, eventstore.Position, error) {
			w, err := h.RemoveModels(ctx, commands.RemoveProviderModels{Tenant: r.Tenant, Meta: r.Meta, IDs: []int64{r.ModelID}, Strict: true})
			return Detail{Detail: msgModelDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[removeCatalogBulk, CatalogDeleted]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/model-management/models", Access: access.Tenant("models", "delete"),
			Tag: tag, Summary: "Remove Provider Models Bulk",
			Description: "Remove the models of ids" + where + "; ids it does not have are not counted.",
			Response:    CatalogDeleted{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeCatalogBulk) (CatalogDeleted, eventstore.Position, error) {
			w, err := h.RemoveModels(ctx, commands.RemoveProviderModels{Tenant: r.Tenant, Meta: r.Meta, IDs: r.Body.IDs})
			return CatalogDeleted{DeletedCount: w.Removed}, w.Result.Last(), err
		},
	}.Register(p)
}
