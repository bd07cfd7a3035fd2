package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// ModelCatalogName names the read model of the model catalogue.
const ModelCatalogName = "model_catalog"

const (
	providerColumns = `provider_key, provider_name, icon, variable_name, requires_api_key, api_docs_url, model_class,
    model_name_param, api_key_param, base_url_param, base_url, url_param, max_tokens_field_name, is_active, key_order, note`
	modelColumns = `provider_id, model_name, model_display_name, model_type, context_length, is_default, is_deprecated,
    is_not_supported, is_preview, is_reasoning, is_tool_calling, is_search, is_vl, is_active, key_order, metadata, note`
)

func providerValues(f domain.ModelProviderFields) []any {
	return []any{f.ProviderKey, f.ProviderName, f.Icon, f.VariableName, f.RequiresAPIKey, f.APIDocsURL, f.ModelClass,
		f.ModelNameParam, f.APIKeyParam, f.BaseURLParam, f.BaseURL, f.URLParam, f.MaxTokensFieldName, f.IsActive, f.KeyOrder, f.Note}
}

func modelValues(f domain.ProviderModelFields) []any {
	var meta any // SQL NULL for none
	if len(f.Metadata) > 0 && string(f.Metadata) != "null" {
		meta = string(f.Metadata)
	}
	return []any{f.ProviderID, f.ModelName, f.ModelDisplayName, f.ModelType, f.ContextLength, f.IsDefault, f.IsDeprecated,
		f.IsNotSupported, f.IsPreview, f.IsReasoning, f.IsToolCalling, f.IsSearch, f.IsVL, f.IsActive, f.KeyOrder, meta, f.Note}
}

// ModelCatalog builds the model providers and provider models read
// models from the tenants' ModelCatalog aggregates. c_uid and ctime come
// from the adding event, m_uid and utime from the latest change.
func ModelCatalog() *Projection {
	p := New(ModelCatalogName, "model_providers", "provider_models")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ModelProviderAdded) error {
		args := append([]any{e.ProviderID, e.TenantID}, providerValues(e.ModelProviderFields)...)
		args = append(args, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		tx.Queue(`INSERT INTO model_providers (provider_id, tenant_id, `+providerColumns+`, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $20)`, args...)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ModelProviderChanged) error {
		args := append([]any{e.ProviderID}, providerValues(e.ModelProviderFields)...)
		args = append(args, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		tx.Queue(`UPDATE model_providers SET (`+providerColumns+`, m_uid, utime)
  = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) WHERE provider_id = $1`, args...)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.ModelProviderRemoved) error {
		tx.Queue(`DELETE FROM model_providers WHERE provider_id = $1`, e.ProviderID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ProviderModelAdded) error {
		args := append([]any{e.ModelID, e.TenantID}, modelValues(e.ProviderModelFields)...)
		args = append(args, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		tx.Queue(`INSERT INTO provider_models (id, tenant_id, `+modelColumns+`, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $21)`, args...)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ProviderModelChanged) error {
		args := append([]any{e.ModelID}, modelValues(e.ProviderModelFields)...)
		args = append(args, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		tx.Queue(`UPDATE provider_models SET (`+modelColumns+`, m_uid, utime)
  = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) WHERE id = $1`, args...)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.ProviderModelRemoved) error {
		tx.Queue(`DELETE FROM provider_models WHERE id = $1`, e.ModelID)
		return nil
	})
	return p
}
