package domain

import (
	"cmp"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The bounds of a config's fields (the spec's).
const (
	MaxConfigKeyLength  = 128
	MaxConfigNameLength = 64
)

// MsgConfigNotFound answers about a missing config.
const MsgConfigNotFound = "Config not found"

// Configs is every config (key/value variable) of one tenant (stream
// configs-<tenant uuid>): config_key is unique in the tenant, checked on
// the aggregate, never on a read model that may lag. Ids come from
// sequence config_id_seq, allocated by the caller before the append. A
// secret config's value arrives here already sealed: the aggregate never
// sees it in clear.
type Configs struct {
	root    Root
	tenant  uuid.UUID
	entries map[int64]*ConfigEntry
	keys    map[string]int64 // config_key → config id
}

// ConfigEntry is a config as the aggregate knows it (ConfigValue sealed
// when Secret).
type ConfigEntry struct {
	ConfigID    int64  `json:"config_id"`
	ConfigKey   string `json:"config_key"`
	ConfigName  string `json:"config_name"`
	ConfigValue string `json:"config_value"`
	Note        string `json:"note"`
	Secret      bool   `json:"secret"`
}

// ConfigsState is what AuditState returns: the tenant's configs ordered by
// config_id, secret values masked.
type ConfigsState struct {
	Configs []ConfigEntry `json:"configs"`
}

// LoadConfigs returns the empty configs of tenant, to fold its stream
// into.
func LoadConfigs(tenant uuid.UUID) *Configs {
	return &Configs{tenant: tenant, entries: map[int64]*ConfigEntry{}, keys: map[string]int64{}}
}

// ConfigsStream names the stream of tenant's configs.
func ConfigsStream(tenant uuid.UUID) string { return "configs-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (c *Configs) StreamID() string { return ConfigsStream(c.tenant) }

// Root implements commands.Aggregate.
func (c *Configs) Root() *Root { return &c.root }

// Config returns config id (ok false if the tenant has none such).
func (c *Configs) Config(id int64) (ConfigEntry, bool) {
	e, ok := c.entries[id]
	if !ok {
		return ConfigEntry{}, false
	}
	return *e, true
}

// AuditState returns the tenant's configs ordered by config_id, never
// nil; a secret's value shows as SecretMask (not even sealed).
func (c *Configs) AuditState() any {
	out := ConfigsState{Configs: c.list()}
	for i := range out.Configs {
		if out.Configs[i].Secret && out.Configs[i].ConfigValue != "" {
			out.Configs[i].ConfigValue = SecretMask
		}
	}
	return out
}

func (c *Configs) list() []ConfigEntry {
	out := []ConfigEntry{}
	for _, e := range c.entries {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b ConfigEntry) int { return cmp.Compare(a.ConfigID, b.ConfigID) })
	return out
}

// ConfigSpec is a new config (ConfigValue already sealed when Secret).
type ConfigSpec struct {
	ConfigKey, ConfigName, ConfigValue, Note string
	Secret                                   bool
}

// ValidConfigValue checks a config's value (in clear): not empty, valid
// UTF-8.
func ValidConfigValue(v string) error { return validValue(v) }

// Valid checks the fields of a new config that need no state (the value
// is checked in clear by the caller, ValidConfigValue).
func (s ConfigSpec) Valid() error {
	if err := validText("config_key", s.ConfigKey, MaxConfigKeyLength); err != nil {
		return err
	}
	return validText("config_name", s.ConfigName, MaxConfigNameLength)
}

// Add creates config id; its key must be free in the tenant (409).
func (c *Configs) Add(id int64, s ConfigSpec) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if !utf8.ValidString(s.ConfigValue) {
		return Invalidf("config_value must be valid UTF-8")
	}
	if _, taken := c.entries[id]; taken {
		return Conflictf("Config %d already exists", id)
	}
	if other, ok := c.keys[s.ConfigKey]; ok {
		return Conflictf("Config key %q is already used by config %d", s.ConfigKey, other)
	}
	record(c, ConfigAdded{TenantID: c.tenant, ConfigID: id, ConfigKey: s.ConfigKey, ConfigName: s.ConfigName,
		ConfigValue: s.ConfigValue, Note: s.Note, Secret: s.Secret})
	return nil
}

// ConfigChange is a change of a config (nil: as it is; ConfigValue
// already sealed when the config is secret).
type ConfigChange struct {
	ConfigName, ConfigValue, Note *string
}

// Change records the fields of ch that differ from config id's, in one
// event; it records nothing when none does.
func (c *Configs) Change(id int64, ch ConfigChange) error {
	cur, ok := c.entries[id]
	if !ok {
		return NotFoundf(MsgConfigNotFound)
	}
	if ch.ConfigName != nil {
		if err := validText("config_name", *ch.ConfigName, MaxConfigNameLength); err != nil {
			return err
		}
	}
	e := ConfigChanged{TenantID: c.tenant, ConfigID: id, ConfigName: differs(ch.ConfigName, cur.ConfigName),
		ConfigValue: differs(ch.ConfigValue, cur.ConfigValue), Note: differs(ch.Note, cur.Note)}
	if e.ConfigName != nil || e.ConfigValue != nil || e.Note != nil {
		record(c, e)
	}
	return nil
}

// Remove removes config id.
func (c *Configs) Remove(id int64) error {
	if _, ok := c.entries[id]; !ok {
		return NotFoundf(MsgConfigNotFound)
	}
	record(c, ConfigRemoved{TenantID: c.tenant, ConfigID: id})
	return nil
}

// Apply implements commands.Aggregate.
func (c *Configs) Apply(e Event) {
	switch e := e.(type) {
	case ConfigAdded:
		c.put(ConfigEntry{ConfigID: e.ConfigID, ConfigKey: e.ConfigKey, ConfigName: e.ConfigName,
			ConfigValue: e.ConfigValue, Note: e.Note, Secret: e.Secret})
	case ConfigChanged:
		if s, ok := c.entries[e.ConfigID]; ok {
			setIf(&s.ConfigName, e.ConfigName)
			setIf(&s.ConfigValue, e.ConfigValue)
			setIf(&s.Note, e.Note)
		}
	case ConfigRemoved:
		if s, ok := c.entries[e.ConfigID]; ok {
			delete(c.keys, s.ConfigKey)
			delete(c.entries, e.ConfigID)
		}
	}
}

func (c *Configs) put(e ConfigEntry) {
	c.entries[e.ConfigID] = &e
	c.keys[e.ConfigKey] = e.ConfigID
}

// SnapshotVersion implements Snapshotter.
func (c *Configs) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the configs, secret values sealed as
// the events carry them.
func (c *Configs) Snapshot() ([]byte, error) { return json.Marshal(ConfigsState{Configs: c.list()}) }

// Restore implements Snapshotter.
func (c *Configs) Restore(state []byte) error {
	var s ConfigsState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadConfigs(c.tenant)
	for _, e := range s.Configs {
		fresh.put(e)
	}
	c.entries, c.keys = fresh.entries, fresh.keys
	return nil
}

// RaceRule implements Raced: every write of a tenant's configs appends to one stream.
func (*Configs) RaceRule() RaceRule { return Shared }
