package domain

import (
	"cmp"
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The bounds of a model provider's and a model's fields (the spec's).
const (
	MaxProviderKeyLength   = 64
	MaxProviderNameLength  = 64
	MaxProviderIconLength  = 64
	MaxVariableNameLength  = 128
	MaxModelClassLength    = 128
	MaxProviderParamLength = 64
	MaxModelNameLength     = 128
	MaxModelTypeLength     = 128
	MaxCatalogTextLength   = 2048 // note, URLs, display names
)

// Messages about the model catalogue.
const (
	MsgProviderNotFound = "Model provider not found"
	MsgModelNotFound    = "Model not found"
)

// ModelTypes are the types of model the catalogue knows, in the order
// model-types lists them.
var ModelTypes = []struct{ Type, Name string }{
	{"language", "Language Model"},
	{"embedding", "Embedding Model"},
	{"image", "Image Model"},
	{"audio", "Audio Model"},
	{"rerank", "Rerank Model"},
}

// ValidModelType checks a model's type against ModelTypes.
func ValidModelType(t string) error {
	names := make([]string, len(ModelTypes))
	for i, m := range ModelTypes {
		if m.Type == t {
			return nil
		}
		names[i] = m.Type
	}
	return Invalidf("model_type must be one of %s", strings.Join(names, ", "))
}

// ModelProviderFields are a model provider's fields (the spec's
// ModelProvider, without its id and audit columns). VariableName names
// the variable (config, request header or environment) holding its API
// key; ModelClass is the client class a model of it is opened with
// (ChatOpenAI …); BaseURL its endpoint (nil: the class's default).
type ModelProviderFields struct {
	ProviderKey        string  `json:"provider_key"`
	ProviderName       string  `json:"provider_name"`
	Icon               string  `json:"icon"`
	VariableName       string  `json:"variable_name"`
	RequiresAPIKey     bool    `json:"requires_api_key"`
	APIDocsURL         *string `json:"api_docs_url"`
	ModelClass         string  `json:"model_class"`
	ModelNameParam     string  `json:"model_name_param"`
	APIKeyParam        string  `json:"api_key_param"`
	BaseURLParam       *string `json:"base_url_param"`
	BaseURL            *string `json:"base_url"`
	URLParam           *string `json:"url_param"`
	MaxTokensFieldName string  `json:"max_tokens_field_name"`
	IsActive           bool    `json:"is_active"`
	KeyOrder           int64   `json:"key_order"`
	Note               *string `json:"note"`
}

// Valid checks f.
func (f ModelProviderFields) Valid() error {
	for _, c := range []struct {
		field, v string
		max      int
	}{
		{"provider_key", f.ProviderKey, MaxProviderKeyLength}, {"provider_name", f.ProviderName, MaxProviderNameLength},
		{"variable_name", f.VariableName, MaxVariableNameLength}, {"model_class", f.ModelClass, MaxModelClassLength},
	} {
		if err := validText(c.field, c.v, c.max); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{
		{"icon", f.Icon, MaxProviderIconLength}, {"model_name_param", f.ModelNameParam, MaxProviderParamLength},
		{"api_key_param", f.APIKeyParam, MaxProviderParamLength}, {"max_tokens_field_name", f.MaxTokensFieldName, MaxProviderParamLength},
	} {
		if err := validOptional(c.field, &c.v, c.max); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		field string
		v     *string
	}{{"api_docs_url", f.APIDocsURL}, {"base_url_param", f.BaseURLParam}, {"url_param", f.URLParam}, {"note", f.Note}} {
		if err := validOptional(c.field, c.v, MaxCatalogTextLength); err != nil {
			return err
		}
	}
	if f.BaseURL != nil {
		u, err := url.Parse(*f.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Invalidf("base_url must be an http(s) URL")
		}
	}
	return nil
}

// validOptional checks an optional text field (nil or "" is fine).
func validOptional(field string, v *string, max int) error {
	if v == nil || *v == "" {
		return nil
	}
	return validText(field, *v, max)
}

// ProviderModelFields are a model's fields (the spec's ProviderModel,
// without its id and audit columns).
type ProviderModelFields struct {
	ProviderID       int64           `json:"provider_id"`
	ModelName        string          `json:"model_name"`
	ModelDisplayName *string         `json:"model_display_name"`
	ModelType        string          `json:"model_type"`
	ContextLength    *int64          `json:"context_length"`
	IsDefault        bool            `json:"is_default"`
	IsDeprecated     bool            `json:"is_deprecated"`
	IsNotSupported   bool            `json:"is_not_supported"`
	IsPreview        bool            `json:"is_preview"`
	IsReasoning      bool            `json:"is_reasoning"`
	IsToolCalling    bool            `json:"is_tool_calling"`
	IsSearch         bool            `json:"is_search"`
	IsVL             bool            `json:"is_vl"`
	IsActive         bool            `json:"is_active"`
	KeyOrder         int64           `json:"key_order"`
	Metadata         json.RawMessage `json:"metadata"`
	Note             *string         `json:"note"`
}

// Valid checks f (its provider is the aggregate's business).
func (f ProviderModelFields) Valid() error {
	if err := validText("model_name", f.ModelName, MaxModelNameLength); err != nil {
		return err
	}
	if err := ValidModelType(f.ModelType); err != nil {
		return err
	}
	if err := validOptional("model_display_name", f.ModelDisplayName, MaxCatalogTextLength); err != nil {
		return err
	}
	if err := validOptional("note", f.Note, MaxCatalogTextLength); err != nil {
		return err
	}
	if f.ContextLength != nil && *f.ContextLength < 0 {
		return Invalidf("context_length must not be negative")
	}
	if len(f.Metadata) > 0 && string(f.Metadata) != "null" {
		var m map[string]any
		if json.Unmarshal(f.Metadata, &m) != nil {
			return Invalidf("metadata must be an object")
		}
	}
	return nil
}

// ModelCatalog is one tenant's model providers and their models (stream
// model_catalog-<tenant uuid>). The system tenant's is the built-in
// catalogue every tenant's flows fall back to; a tenant's own providers
// come first for its flows. provider_key is unique in the tenant, a
// model_name unique in its provider: both are checked here, never on a
// read model. Ids come from sequences model_provider_id_seq and
// provider_model_id_seq, allocated by the caller. Removing a provider
// removes its models (one event each).
type ModelCatalog struct {
	root      Root
	tenant    uuid.UUID
	seeded    int
	providers map[int64]*ModelProviderFields
	models    map[int64]*ProviderModelFields
}

// ModelCatalogState is what AuditState returns.
type ModelCatalogState struct {
	Seeded    int                  `json:"seeded,omitempty"`
	Providers []ModelProviderEntry `json:"providers"`
	Models    []ProviderModelEntry `json:"models"`
}

// ModelProviderEntry is a provider with its id.
type ModelProviderEntry struct {
	ProviderID int64 `json:"provider_id"`
	ModelProviderFields
}

// ProviderModelEntry is a model with its id.
type ProviderModelEntry struct {
	ID int64 `json:"id"`
	ProviderModelFields
}

// LoadModelCatalog returns the empty catalogue of tenant, to fold its
// stream into.
func LoadModelCatalog(tenant uuid.UUID) *ModelCatalog {
	return &ModelCatalog{tenant: tenant, providers: map[int64]*ModelProviderFields{}, models: map[int64]*ProviderModelFields{}}
}

// ModelCatalogStream names the stream of tenant's model catalogue.
func ModelCatalogStream(tenant uuid.UUID) string { return "model_catalog-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (m *ModelCatalog) StreamID() string { return ModelCatalogStream(m.tenant) }

// Root implements commands.Aggregate.
func (m *ModelCatalog) Root() *Root { return &m.root }

// AuditState implements audit.Aggregate.
func (m *ModelCatalog) AuditState() any { return m.state() }

func (m *ModelCatalog) state() ModelCatalogState {
	s := ModelCatalogState{Seeded: m.seeded, Providers: []ModelProviderEntry{}, Models: []ProviderModelEntry{}}
	for id, p := range m.providers {
		s.Providers = append(s.Providers, ModelProviderEntry{ProviderID: id, ModelProviderFields: *p})
	}
	for id, p := range m.models {
		s.Models = append(s.Models, ProviderModelEntry{ID: id, ProviderModelFields: *p})
	}
	slices.SortFunc(s.Providers, func(a, b ModelProviderEntry) int { return cmp.Compare(a.ProviderID, b.ProviderID) })
	slices.SortFunc(s.Models, func(a, b ProviderModelEntry) int { return cmp.Compare(a.ID, b.ID) })
	return s
}

func (m *ModelCatalog) keyTaken(key string, except int64) (int64, bool) {
	for id, p := range m.providers {
		if id != except && p.ProviderKey == key {
			return id, true
		}
	}
	return 0, false
}

func (m *ModelCatalog) nameTaken(provider int64, name string, except int64) (int64, bool) {
	for id, p := range m.models {
		if id != except && p.ProviderID == provider && p.ModelName == name {
			return id, true
		}
	}
	return 0, false
}

// AddProvider adds provider id: its key must be free in the tenant (409).
func (m *ModelCatalog) AddProvider(id int64, f ModelProviderFields) error {
	if err := f.Valid(); err != nil {
		return err
	}
	if _, taken := m.providers[id]; taken {
		return Conflictf("Model provider %d already exists", id)
	}
	if other, ok := m.keyTaken(f.ProviderKey, 0); ok {
		return Conflictf("Provider key %q is already used by provider %d", f.ProviderKey, other)
	}
	record(m, ModelProviderAdded{TenantID: m.tenant, ProviderID: id, ModelProviderFields: f})
	return nil
}

// ChangeProvider replaces provider id's fields with change(current);
// it records nothing when nothing differs.
func (m *ModelCatalog) ChangeProvider(id int64, change func(*ModelProviderFields)) error {
	cur, ok := m.providers[id]
	if !ok {
		return NotFoundf(MsgProviderNotFound)
	}
	next := *cur
	change(&next)
	if err := next.Valid(); err != nil {
		return err
	}
	if other, ok := m.keyTaken(next.ProviderKey, id); ok {
		return Conflictf("Provider key %q is already used by provider %d", next.ProviderKey, other)
	}
	if !reflect.DeepEqual(next, *cur) {
		record(m, ModelProviderChanged{TenantID: m.tenant, ProviderID: id, ModelProviderFields: next})
	}
	return nil
}

// RemoveProviders removes the providers of ids that exist (with their
// models, each recorded) and returns how many it removed; with strict, a
// missing one is 404.
func (m *ModelCatalog) RemoveProviders(ids []int64, strict bool) (int, error) {
	n := 0
	for _, id := range ids {
		if _, ok := m.providers[id]; !ok {
			if strict {
				return 0, NotFoundf(MsgProviderNotFound)
			}
			continue
		}
		var models []int64
		for mid, md := range m.models {
			if md.ProviderID == id {
				models = append(models, mid)
			}
		}
		slices.Sort(models)
		for _, mid := range models {
			record(m, ProviderModelRemoved{TenantID: m.tenant, ModelID: mid, ProviderID: id})
		}
		record(m, ModelProviderRemoved{TenantID: m.tenant, ProviderID: id})
		n++
	}
	return n, nil
}

// AddModel adds model id to its provider (404 if the tenant has no such
// provider); its name must be free in the provider (409).
func (m *ModelCatalog) AddModel(id int64, f ProviderModelFields) error {
	if err := f.Valid(); err != nil {
		return err
	}
	if _, ok := m.providers[f.ProviderID]; !ok {
		return NotFoundf(MsgProviderNotFound)
	}
	if _, taken := m.models[id]; taken {
		return Conflictf("Model %d already exists", id)
	}
	if other, ok := m.nameTaken(f.ProviderID, f.ModelName, 0); ok {
		return Conflictf("Model %q is already in provider %d (model %d)", f.ModelName, f.ProviderID, other)
	}
	record(m, ProviderModelAdded{TenantID: m.tenant, ModelID: id, ProviderModelFields: f})
	return nil
}

// ChangeModel replaces model id's fields with change(current) (its
// provider does not change); it records nothing when nothing differs.
func (m *ModelCatalog) ChangeModel(id int64, change func(*ProviderModelFields)) error {
	cur, ok := m.models[id]
	if !ok {
		return NotFoundf(MsgModelNotFound)
	}
	next := *cur
	change(&next)
	next.ProviderID = cur.ProviderID
	if err := next.Valid(); err != nil {
		return err
	}
	if other, ok := m.nameTaken(next.ProviderID, next.ModelName, id); ok {
		return Conflictf("Model %q is already in provider %d (model %d)", next.ModelName, next.ProviderID, other)
	}
	if !reflect.DeepEqual(next, *cur) {
		record(m, ProviderModelChanged{TenantID: m.tenant, ModelID: id, ProviderModelFields: next})
	}
	return nil
}

// RemoveModels removes the models of ids that exist and returns how many
// it removed; with strict, a missing one is 404.
func (m *ModelCatalog) RemoveModels(ids []int64, strict bool) (int, error) {
	n := 0
	for _, id := range ids {
		md, ok := m.models[id]
		if !ok {
			if strict {
				return 0, NotFoundf(MsgModelNotFound)
			}
			continue
		}
		record(m, ProviderModelRemoved{TenantID: m.tenant, ModelID: id, ProviderID: md.ProviderID})
		n++
	}
	return n, nil
}

// Seed records, once per version, the built-in providers and models
// (ids allocated by next) into a catalogue that has not had that version
// yet; what an operator removed or changed since is left as it is.
func (m *ModelCatalog) Seed(version int, providers []SeedProvider, next func(kind string) (int64, error)) error {
	if m.seeded >= version {
		return nil
	}
	for _, sp := range providers {
		if _, taken := m.keyTaken(sp.Provider.ProviderKey, 0); taken {
			continue
		}
		pid, err := next("model_provider")
		if err != nil {
			return err
		}
		if err := m.AddProvider(pid, sp.Provider); err != nil {
			return err
		}
		for _, md := range sp.Models {
			mid, err := next("provider_model")
			if err != nil {
				return err
			}
			md.ProviderID = pid
			if err := m.AddModel(mid, md); err != nil {
				return err
			}
		}
	}
	record(m, ModelCatalogSeeded{TenantID: m.tenant, Version: version})
	return nil
}

// Apply implements commands.Aggregate.
func (m *ModelCatalog) Apply(e Event) {
	switch e := e.(type) {
	case ModelProviderAdded:
		f := e.ModelProviderFields
		m.providers[e.ProviderID] = &f
	case ModelProviderChanged:
		f := e.ModelProviderFields
		m.providers[e.ProviderID] = &f
	case ModelProviderRemoved:
		delete(m.providers, e.ProviderID)
	case ProviderModelAdded:
		f := e.ProviderModelFields
		m.models[e.ModelID] = &f
	case ProviderModelChanged:
		f := e.ProviderModelFields
		m.models[e.ModelID] = &f
	case ProviderModelRemoved:
		delete(m.models, e.ModelID)
	case ModelCatalogSeeded:
		m.seeded = max(m.seeded, e.Version)
	}
}

// SnapshotVersion implements Snapshotter.
func (m *ModelCatalog) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter.
func (m *ModelCatalog) Snapshot() ([]byte, error) { return json.Marshal(m.state()) }

// Restore implements Snapshotter.
func (m *ModelCatalog) Restore(state []byte) error {
	var s ModelCatalogState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadModelCatalog(m.tenant)
	fresh.seeded = s.Seeded
	for _, p := range s.Providers {
		f := p.ModelProviderFields
		fresh.providers[p.ProviderID] = &f
	}
	for _, md := range s.Models {
		f := md.ProviderModelFields
		fresh.models[md.ID] = &f
	}
	m.seeded, m.providers, m.models = fresh.seeded, fresh.providers, fresh.models
	return nil
}

// RaceRule implements Raced: every write of a tenant's catalogue appends to one stream.
func (*ModelCatalog) RaceRule() RaceRule { return Shared }
