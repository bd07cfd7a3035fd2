package domain

import "github.com/google/uuid"

// The events of a tenant's dictionary (stream dictionary-<tenant uuid>,
// the Dictionary aggregate). Each names its tenant in its data as well as
// in its metadata, so a read model needs nothing else to place it.

// DictionaryIndexAdded records a new index (a lookup list) of the tenant.
type DictionaryIndexAdded struct {
	TenantID     uuid.UUID `json:"tenant_id"`
	ConfigID     int64     `json:"config_id"`
	ConfigKey    string    `json:"config_key"`
	ConfigName   string    `json:"config_name"`
	ConfigEnName string    `json:"config_en_name"`
	Note         string    `json:"note"`
}

// DictionaryIndexChanged records new values of an index's fields; absent
// fields did not change.
type DictionaryIndexChanged struct {
	TenantID     uuid.UUID `json:"tenant_id"`
	ConfigID     int64     `json:"config_id"`
	ConfigName   *string   `json:"config_name,omitempty"`
	ConfigEnName *string   `json:"config_en_name,omitempty"`
	Note         *string   `json:"note,omitempty"`
}

// DictionaryIndexRemoved records the removal of an index (it had no
// items).
type DictionaryIndexRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ConfigID int64     `json:"config_id"`
}

// DictionaryItemAdded records a new item of index ParentID.
type DictionaryItemAdded struct {
	TenantID     uuid.UUID `json:"tenant_id"`
	ConfigID     int64     `json:"config_id"`
	ParentID     int64     `json:"parent_id"`
	ConfigKey    string    `json:"config_key"`
	ConfigName   string    `json:"config_name"`
	ConfigEnName string    `json:"config_en_name"`
	KeyOrder     int64     `json:"key_order"`
	ConfigValue  string    `json:"config_value"`
	Note         string    `json:"note"`
}

// DictionaryItemChanged records new values of an item's fields; absent
// fields did not change.
type DictionaryItemChanged struct {
	TenantID     uuid.UUID `json:"tenant_id"`
	ConfigID     int64     `json:"config_id"`
	ParentID     int64     `json:"parent_id"`
	ConfigName   *string   `json:"config_name,omitempty"`
	ConfigEnName *string   `json:"config_en_name,omitempty"`
	KeyOrder     *int64    `json:"key_order,omitempty"`
	ConfigValue  *string   `json:"config_value,omitempty"`
	Note         *string   `json:"note,omitempty"`
}

// DictionaryItemRemoved records the removal of an item from its index.
type DictionaryItemRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ConfigID int64     `json:"config_id"`
	ParentID int64     `json:"parent_id"`
}

func (DictionaryIndexAdded) EventType() string   { return "dictionary.index_added" }
func (DictionaryIndexChanged) EventType() string { return "dictionary.index_changed" }
func (DictionaryIndexRemoved) EventType() string { return "dictionary.index_removed" }
func (DictionaryItemAdded) EventType() string    { return "dictionary.item_added" }
func (DictionaryItemChanged) EventType() string  { return "dictionary.item_changed" }
func (DictionaryItemRemoved) EventType() string  { return "dictionary.item_removed" }

// DictionaryEvents lists the event types of the dictionary, for the
// registry.
func DictionaryEvents() []Schema {
	return V1(DictionaryIndexAdded{}, DictionaryIndexChanged{}, DictionaryIndexRemoved{},
		DictionaryItemAdded{}, DictionaryItemChanged{}, DictionaryItemRemoved{})
}
