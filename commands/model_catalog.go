package commands

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of the model catalogue (#184–#187, #189–#192): each is a
// command value and one method of ModelCatalogHandler that decides on the
// tenant's ModelCatalog aggregate and appends, with no HTTP in sight
// (ports.ModelCatalog binds, resolves the tenant, calls and answers). A
// tenant changes its own catalogue only: the built-in providers are the
// system tenant's, changed by acting in it.

// ModelProviderPatch is a change of a provider: absent or null fields stay
// as they are; an empty string clears a nullable text field (api_docs_url,
// base_url_param, base_url, url_param, note).
type ModelProviderPatch struct {
	ProviderKey        *string `json:"provider_key" binding:"omitnil,min=1,max=64"`
	ProviderName       *string `json:"provider_name" binding:"omitnil,min=1,max=64"`
	Icon               *string `json:"icon" binding:"omitnil,max=64"`
	VariableName       *string `json:"variable_name" binding:"omitnil,min=1,max=128"`
	RequiresAPIKey     *bool   `json:"requires_api_key"`
	APIDocsURL         *string `json:"api_docs_url"`
	ModelClass         *string `json:"model_class" binding:"omitnil,min=1,max=128"`
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

// Apply writes p onto f.
func (p ModelProviderPatch) Apply(f *domain.ModelProviderFields) {
	assign(&f.ProviderKey, p.ProviderKey)
	assign(&f.ProviderName, p.ProviderName)
	assign(&f.Icon, p.Icon)
	assign(&f.VariableName, p.VariableName)
	assign(&f.RequiresAPIKey, p.RequiresAPIKey)
	setNullable(&f.APIDocsURL, p.APIDocsURL)
	assign(&f.ModelClass, p.ModelClass)
	assign(&f.ModelNameParam, p.ModelNameParam)
	assign(&f.APIKeyParam, p.APIKeyParam)
	setNullable(&f.BaseURLParam, p.BaseURLParam)
	setNullable(&f.BaseURL, p.BaseURL)
	setNullable(&f.URLParam, p.URLParam)
	assign(&f.MaxTokensFieldName, p.MaxTokensFieldName)
	assign(&f.IsActive, p.IsActive)
	assign(&f.KeyOrder, p.KeyOrder)
	setNullable(&f.Note, p.Note)
}

// ProviderModelPatch is a change of a model (as ModelProviderPatch;
// metadata replaces the whole object, {} clears it).
type ProviderModelPatch struct {
	ModelName        *string        `json:"model_name" binding:"omitnil,min=1,max=128"`
	ModelDisplayName *string        `json:"model_display_name"`
	ModelType        *string        `json:"model_type" binding:"omitnil,min=1,max=128"`
	ContextLength    *int64         `json:"context_length" binding:"omitnil,min=0"`
	IsDefault        *bool          `json:"is_default"`
	IsDeprecated     *bool          `json:"is_deprecated"`
	IsNotSupported   *bool          `json:"is_not_supported"`
	IsPreview        *bool          `json:"is_preview"`
	IsReasoning      *bool          `json:"is_reasoning"`
	IsToolCalling    *bool          `json:"is_tool_calling"`
	IsSearch         *bool          `json:"is_search"`
	IsVL             *bool          `json:"is_vl"`
	IsActive         *bool          `json:"is_active"`
	KeyOrder         *int64         `json:"key_order"`
	Metadata         map[string]any `json:"metadata"`
	Note             *string        `json:"note"`
}

// Apply writes p onto f (an invalid metadata: a domain error).
func (p ProviderModelPatch) Apply(f *domain.ProviderModelFields) error {
	assign(&f.ModelName, p.ModelName)
	setNullable(&f.ModelDisplayName, p.ModelDisplayName)
	assign(&f.ModelType, p.ModelType)
	if p.ContextLength != nil {
		f.ContextLength = p.ContextLength
	}
	for _, b := range []struct {
		dst *bool
		v   *bool
	}{{&f.IsDefault, p.IsDefault}, {&f.IsDeprecated, p.IsDeprecated}, {&f.IsNotSupported, p.IsNotSupported},
		{&f.IsPreview, p.IsPreview}, {&f.IsReasoning, p.IsReasoning}, {&f.IsToolCalling, p.IsToolCalling},
		{&f.IsSearch, p.IsSearch}, {&f.IsVL, p.IsVL}, {&f.IsActive, p.IsActive}} {
		assign(b.dst, b.v)
	}
	assign(&f.KeyOrder, p.KeyOrder)
	setNullable(&f.Note, p.Note)
	if p.Metadata != nil {
		meta, err := MetadataJSON(p.Metadata)
		if err != nil {
			return err
		}
		f.Metadata = meta
	}
	return nil
}

// MetadataJSON is a model's metadata as stored (null for none or {}).
func MetadataJSON(m map[string]any) (json.RawMessage, error) {
	if len(m) == 0 {
		return json.RawMessage("null"), nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, domain.Invalidf("metadata: %v", err)
	}
	return b, nil
}

func assign[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// setNullable sets a nullable text field: nil leaves it, "" clears it.
func setNullable(dst **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*dst = nil
	default:
		s := *v
		*dst = &s
	}
}

// AddModelProvider adds a provider to a tenant's catalogue.
type AddModelProvider struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Fields domain.ModelProviderFields
}

// ChangeModelProvider changes a provider of the tenant's catalogue.
type ChangeModelProvider struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	ProviderID int64
	Patch      ModelProviderPatch
}

// RemoveModelProviders removes providers (and their models) of the
// tenant's catalogue: with Strict (one by id) a missing one is 404, else
// the missing ones are not counted.
type RemoveModelProviders struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	IDs    []int64
	Strict bool
}

// AddProviderModel adds a model to a provider of the tenant's catalogue.
type AddProviderModel struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Fields domain.ProviderModelFields
}

// ChangeProviderModel changes a model of the tenant's catalogue.
type ChangeProviderModel struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	ModelID int64
	Patch   ProviderModelPatch
}

// RemoveProviderModels removes models (Strict as RemoveModelProviders).
type RemoveProviderModels struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	IDs    []int64
	Strict bool
}

// CatalogWritten is what a catalogue command did: the id it wrote, or how
// many entries it removed.
type CatalogWritten struct {
	ID      int64
	Removed int
	Result  eventstore.AppendResult
}

// ModelCatalogHandler handles the model catalogue's commands.
type ModelCatalogHandler struct {
	Repo *Repository
	IDs  IDs
}

// decide decides fn on tenant's catalogue for a caller: a change of the
// built-in catalogue (the system tenant's) is refused unless the caller
// in ctx is a superuser — no caller is refused too.
func (h *ModelCatalogHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.ModelCatalog) error) (eventstore.AppendResult, error) {
	// The built-in catalogue's endpoints are trusted (dialled without the
	// egress policy, sent the server's keys): only superusers change it,
	// whatever role a caller holds in the system tenant.
	if tenant == tenancy.SystemTenantID {
		if _, err := auth.RequireSuperuser(ctx); err != nil {
			return eventstore.AppendResult{}, domain.Forbiddenf(msgBuiltinCatalogSuperuser)
		}
	}
	return h.decideAsServer(ctx, tenant, md, fn)
}

// decideAsServer decides fn on tenant's catalogue with no caller check:
// the server's own writes only (the seed at start).
func (h *ModelCatalogHandler) decideAsServer(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.ModelCatalog) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadModelCatalog, md, fn)
}

// msgBuiltinCatalogSuperuser refuses a change of the built-in catalogue
// by anyone but a superuser.
const msgBuiltinCatalogSuperuser = "Only superusers change the built-in model catalogue (the system tenant's)"

// AddProvider handles AddModelProvider: the key must be free in the
// tenant (409).
func (h *ModelCatalogHandler) AddProvider(ctx context.Context, cmd AddModelProvider) (CatalogWritten, error) {
	if err := cmd.Fields.Valid(); err != nil {
		return CatalogWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "model_provider")
	if err != nil {
		return CatalogWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) error { return m.AddProvider(id, cmd.Fields) })
	return CatalogWritten{ID: id, Result: res}, err
}

// ChangeProvider handles ChangeModelProvider.
func (h *ModelCatalogHandler) ChangeProvider(ctx context.Context, cmd ChangeModelProvider) (CatalogWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) error {
		return m.ChangeProvider(cmd.ProviderID, cmd.Patch.Apply)
	})
	return CatalogWritten{ID: cmd.ProviderID, Result: res}, err
}

// RemoveProviders handles RemoveModelProviders.
func (h *ModelCatalogHandler) RemoveProviders(ctx context.Context, cmd RemoveModelProviders) (CatalogWritten, error) {
	var n int
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) (err error) {
		n, err = m.RemoveProviders(cmd.IDs, cmd.Strict)
		return err
	})
	return CatalogWritten{Removed: n, Result: res}, err
}

// AddModel handles AddProviderModel: the provider must be the tenant's
// (404), the name free in it (409).
func (h *ModelCatalogHandler) AddModel(ctx context.Context, cmd AddProviderModel) (CatalogWritten, error) {
	if err := cmd.Fields.Valid(); err != nil {
		return CatalogWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "provider_model")
	if err != nil {
		return CatalogWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) error { return m.AddModel(id, cmd.Fields) })
	return CatalogWritten{ID: id, Result: res}, err
}

// ChangeModel handles ChangeProviderModel.
func (h *ModelCatalogHandler) ChangeModel(ctx context.Context, cmd ChangeProviderModel) (CatalogWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) error {
		var patchErr error
		err := m.ChangeModel(cmd.ModelID, func(f *domain.ProviderModelFields) { patchErr = cmd.Patch.Apply(f) })
		if patchErr != nil {
			return patchErr
		}
		return err
	})
	return CatalogWritten{ID: cmd.ModelID, Result: res}, err
}

// RemoveModels handles RemoveProviderModels.
func (h *ModelCatalogHandler) RemoveModels(ctx context.Context, cmd RemoveProviderModels) (CatalogWritten, error) {
	var n int
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(m *domain.ModelCatalog) (err error) {
		n, err = m.RemoveModels(cmd.IDs, cmd.Strict)
		return err
	})
	return CatalogWritten{Removed: n, Result: res}, err
}

// SeedModelCatalog seeds the built-in providers and models into the
// system tenant's catalogue, once per domain.ModelCatalogSeedVersion
// (nothing when it was); it returns how many events it appended. Nodes
// starting at once take turns on the one stream. It is the server's own
// write, asked by no caller: it is not checked for one.
func (h *ModelCatalogHandler) SeedModelCatalog(ctx context.Context, md eventstore.Metadata) (int, error) {
	res, err := h.decideAsServer(ctx, tenancy.SystemTenantID, md, func(m *domain.ModelCatalog) error {
		return m.Seed(domain.ModelCatalogSeedVersion, domain.BuiltinModelProviders, func(kind string) (int64, error) {
			return h.IDs.Next(ctx, kind)
		})
	})
	return len(res.Positions), err
}

// LoadModelCatalogAggregate folds the model catalogue of tenant (an empty
// one when the tenant has none yet).
func LoadModelCatalogAggregate(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.ModelCatalog, error) {
	return loadOrNew(ctx, repo, func() *domain.ModelCatalog { return domain.LoadModelCatalog(tenant) })
}
