package domain

import "github.com/google/uuid"

// The events of a tenant's configs (stream configs-<tenant uuid>, the
// Configs aggregate). A secret config's value is sealed (secrets.Ring)
// before it is put into an event: the log never holds it in clear.

// ConfigAdded records a new config of the tenant. ConfigValue is sealed
// when Secret is true.
type ConfigAdded struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	ConfigID    int64     `json:"config_id"`
	ConfigKey   string    `json:"config_key"`
	ConfigName  string    `json:"config_name"`
	ConfigValue string    `json:"config_value"`
	Note        string    `json:"note"`
	Secret      bool      `json:"secret"`
}

// ConfigChanged records new values of a config's fields; absent fields
// did not change. ConfigValue is sealed when the config is secret.
type ConfigChanged struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	ConfigID    int64     `json:"config_id"`
	ConfigName  *string   `json:"config_name,omitempty"`
	ConfigValue *string   `json:"config_value,omitempty"`
	Note        *string   `json:"note,omitempty"`
}

// ConfigRemoved records the removal of a config.
type ConfigRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ConfigID int64     `json:"config_id"`
}

func (ConfigAdded) EventType() string   { return "config.added" }
func (ConfigChanged) EventType() string { return "config.changed" }
func (ConfigRemoved) EventType() string { return "config.removed" }

// ConfigEvents lists the event types of the configs, for the registry.
func ConfigEvents() []Schema {
	return V1(ConfigAdded{}, ConfigChanged{}, ConfigRemoved{})
}
