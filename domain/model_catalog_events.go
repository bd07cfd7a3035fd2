package domain

import "github.com/google/uuid"

// The events of a tenant's model catalogue (stream
// model_catalog-<tenant uuid>, the ModelCatalog aggregate). A change
// carries the whole new record: providers and models are small, and a
// reader of the log needs no earlier event to know one.

// ModelProviderAdded records a new model provider.
type ModelProviderAdded struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	ProviderID int64     `json:"provider_id"`
	ModelProviderFields
}

// ModelProviderChanged records a provider's new fields.
type ModelProviderChanged struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	ProviderID int64     `json:"provider_id"`
	ModelProviderFields
}

// ModelProviderRemoved records the removal of a provider (its models'
// removals are recorded before it).
type ModelProviderRemoved struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	ProviderID int64     `json:"provider_id"`
}

// ProviderModelAdded records a new model of a provider.
type ProviderModelAdded struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ModelID  int64     `json:"model_id"`
	ProviderModelFields
}

// ProviderModelChanged records a model's new fields.
type ProviderModelChanged struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ModelID  int64     `json:"model_id"`
	ProviderModelFields
}

// ProviderModelRemoved records the removal of a model.
type ProviderModelRemoved struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	ModelID    int64     `json:"model_id"`
	ProviderID int64     `json:"provider_id"`
}

// ModelCatalogSeeded records that version of the built-in catalogue was
// seeded (what it added is recorded before it).
type ModelCatalogSeeded struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Version  int       `json:"version"`
}

func (ModelProviderAdded) EventType() string   { return "model_provider.added" }
func (ModelProviderChanged) EventType() string { return "model_provider.changed" }
func (ModelProviderRemoved) EventType() string { return "model_provider.removed" }
func (ProviderModelAdded) EventType() string   { return "provider_model.added" }
func (ProviderModelChanged) EventType() string { return "provider_model.changed" }
func (ProviderModelRemoved) EventType() string { return "provider_model.removed" }
func (ModelCatalogSeeded) EventType() string   { return "model_catalog.seeded" }

// ModelCatalogEvents lists the event types of the model catalogue, for
// the registry.
func ModelCatalogEvents() []Schema {
	return V1(ModelProviderAdded{}, ModelProviderChanged{}, ModelProviderRemoved{},
		ProviderModelAdded{}, ProviderModelChanged{}, ProviderModelRemoved{}, ModelCatalogSeeded{})
}
