package domain

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The bounds of a dictionary entry's fields (the spec's).
const (
	MaxDictionaryKeyLength  = 128
	MaxDictionaryNameLength = 64
)

// The answers about missing indexes and items.
const (
	MsgDictionaryIndexNotFound = "Dictionary index not found"
	MsgDictionaryItemNotFound  = "Dictionary item not found"
)

// Dictionary is every index (lookup list) of one tenant and every item of
// those indexes (stream dictionary-<tenant uuid>). One aggregate per
// tenant, so that its rules are checked exactly, never against a read
// model that may lag: an index's config_key is unique in the tenant, an
// item's config_key is unique in its index, and an index is removed only
// once it has no items (removing an index with items is refused, 409:
// nothing disappears that a client did not remove one by one). Indexes
// and items share one id space (config_id, sequence dictionary_id_seq),
// allocated by the caller before the append; an item's parent_id is its
// index, an index's is 0.
type Dictionary struct {
	root    Root
	tenant  uuid.UUID
	entries map[int64]*DictionaryEntry
	keys    map[[2]string]int64 // {parent id, config_key} → config id
	counts  map[int64]int       // index id → items
}

// DictionaryEntry is an index or an item as the aggregate knows it: the
// API's entry minus its audit fields.
type DictionaryEntry struct {
	ConfigID     int64  `json:"config_id"`
	ParentID     int64  `json:"parent_id"`
	ConfigKey    string `json:"config_key"`
	ConfigName   string `json:"config_name"`
	ConfigEnName string `json:"config_en_name"`
	KeyOrder     int64  `json:"key_order"`
	ConfigValue  string `json:"config_value"`
	Note         string `json:"note"`
}

// IsIndex reports whether the entry is an index (it has no parent).
func (e DictionaryEntry) IsIndex() bool { return e.ParentID == 0 }

// DictionaryState is what AuditState returns: the tenant's indexes and
// items, each ordered by config_id.
type DictionaryState struct {
	Indexes []DictionaryEntry `json:"indexes"`
	Items   []DictionaryEntry `json:"items"`
}

// LoadDictionary returns the empty dictionary of tenant, to fold its
// stream into.
func LoadDictionary(tenant uuid.UUID) *Dictionary {
	return &Dictionary{tenant: tenant, entries: map[int64]*DictionaryEntry{}, keys: map[[2]string]int64{}, counts: map[int64]int{}}
}

// DictionaryStream names the stream of tenant's dictionary.
func DictionaryStream(tenant uuid.UUID) string { return "dictionary-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (d *Dictionary) StreamID() string { return DictionaryStream(d.tenant) }

// Root implements commands.Aggregate.
func (d *Dictionary) Root() *Root { return &d.root }

// Index returns index id (ok false if the tenant has no such index).
func (d *Dictionary) Index(id int64) (DictionaryEntry, bool) {
	e, ok := d.entries[id]
	if !ok || !e.IsIndex() {
		return DictionaryEntry{}, false
	}
	return *e, true
}

// Item returns item id (ok false if no index of the tenant has it).
func (d *Dictionary) Item(id int64) (DictionaryEntry, bool) {
	e, ok := d.entries[id]
	if !ok || e.IsIndex() {
		return DictionaryEntry{}, false
	}
	return *e, true
}

// AuditState returns the tenant's indexes and items as they are after the
// events folded so far, in the API's shape minus the audit fields. Both
// lists are ordered by config_id and never nil.
func (d *Dictionary) AuditState() any {
	out := DictionaryState{Indexes: []DictionaryEntry{}, Items: []DictionaryEntry{}}
	for _, e := range d.entries {
		if e.IsIndex() {
			out.Indexes = append(out.Indexes, *e)
		} else {
			out.Items = append(out.Items, *e)
		}
	}
	byID := func(a, b DictionaryEntry) int { return cmp.Compare(a.ConfigID, b.ConfigID) }
	slices.SortFunc(out.Indexes, byID)
	slices.SortFunc(out.Items, byID)
	return out
}

// validText checks a field of an entry: not empty or blank, valid UTF-8,
// at most max characters.
func validText(field, v string, max int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return Invalidf("%s must not be empty", field)
	case !utf8.ValidString(v):
		return Invalidf("%s must be valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		return Invalidf("%s must be at most %d characters", field, max)
	}
	return nil
}

// validNames checks the names an entry is given (nil: not given).
func validNames(name, enName *string) error {
	if name != nil {
		if err := validText("config_name", *name, MaxDictionaryNameLength); err != nil {
			return err
		}
	}
	if enName != nil {
		if err := validText("config_en_name", *enName, MaxDictionaryNameLength); err != nil {
			return err
		}
	}
	return nil
}

// validValue checks an item's config_value: not empty, valid UTF-8.
func validValue(v string) error {
	if v == "" {
		return Invalidf("config_value must not be empty")
	}
	if !utf8.ValidString(v) {
		return Invalidf("config_value must be valid UTF-8")
	}
	return nil
}

// keyOf is the key of config_key under parent in Dictionary.keys.
func keyOf(parent int64, key string) [2]string {
	return [2]string{strconv.FormatInt(parent, 10), key}
}

// keyFree refuses key under parent if an entry has it.
func (d *Dictionary) keyFree(parent int64, key string) error {
	if other, ok := d.keys[keyOf(parent, key)]; ok {
		if parent == 0 {
			return Conflictf("Dictionary index key %q is already used by index %d", key, other)
		}
		return Conflictf("Dictionary item key %q is already used by item %d of index %d", key, other, parent)
	}
	return nil
}

// DictionaryIndexSpec is a new index.
type DictionaryIndexSpec struct {
	ConfigKey, ConfigName, ConfigEnName, Note string
}

// Valid checks the fields of a new index (the rules that need no state).
func (s DictionaryIndexSpec) Valid() error {
	if err := validText("config_key", s.ConfigKey, MaxDictionaryKeyLength); err != nil {
		return err
	}
	return validNames(&s.ConfigName, &s.ConfigEnName)
}

// AddIndex creates index id.
func (d *Dictionary) AddIndex(id int64, s DictionaryIndexSpec) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if _, taken := d.entries[id]; taken {
		return Conflictf("Dictionary entry %d already exists", id)
	}
	if err := d.keyFree(0, s.ConfigKey); err != nil {
		return err
	}
	record(d, DictionaryIndexAdded{TenantID: d.tenant, ConfigID: id, ConfigKey: s.ConfigKey, ConfigName: s.ConfigName,
		ConfigEnName: s.ConfigEnName, Note: s.Note})
	return nil
}

// DictionaryChange holds the fields of an entry to set; nil leaves one as
// it is (KeyOrder and ConfigValue are an item's only).
type DictionaryChange struct {
	ConfigName   *string
	ConfigEnName *string
	KeyOrder     *int64
	ConfigValue  *string
	Note         *string
}

// ChangeIndex records the fields of ch that differ from index id's, in one
// event; it records nothing when none does.
func (d *Dictionary) ChangeIndex(id int64, ch DictionaryChange) error {
	cur, ok := d.Index(id)
	if !ok {
		return NotFoundf(MsgDictionaryIndexNotFound)
	}
	if err := validNames(ch.ConfigName, ch.ConfigEnName); err != nil {
		return err
	}
	e := DictionaryIndexChanged{TenantID: d.tenant, ConfigID: id, ConfigName: differs(ch.ConfigName, cur.ConfigName),
		ConfigEnName: differs(ch.ConfigEnName, cur.ConfigEnName), Note: differs(ch.Note, cur.Note)}
	if e.ConfigName != nil || e.ConfigEnName != nil || e.Note != nil {
		record(d, e)
	}
	return nil
}

// RemoveIndex removes index id, which must have no items: removing an
// index with items is refused (409), never cascaded.
func (d *Dictionary) RemoveIndex(id int64) error {
	if _, ok := d.Index(id); !ok {
		return NotFoundf(MsgDictionaryIndexNotFound)
	}
	switch n := d.counts[id]; {
	case n == 1:
		return Conflictf("Dictionary index %d still has 1 item", id)
	case n > 1:
		return Conflictf("Dictionary index %d still has %d items", id, n)
	}
	record(d, DictionaryIndexRemoved{TenantID: d.tenant, ConfigID: id})
	return nil
}

// DictionaryItemSpec is a new item.
type DictionaryItemSpec struct {
	ConfigKey, ConfigName, ConfigEnName, ConfigValue, Note string
	KeyOrder                                               int64
}

// Valid checks the fields of a new item (the rules that need no state).
func (s DictionaryItemSpec) Valid() error {
	if err := validText("config_key", s.ConfigKey, MaxDictionaryKeyLength); err != nil {
		return err
	}
	if err := validNames(&s.ConfigName, &s.ConfigEnName); err != nil {
		return err
	}
	return validValue(s.ConfigValue)
}

// AddItem creates item id of index parent.
func (d *Dictionary) AddItem(id, parent int64, s DictionaryItemSpec) error {
	if _, ok := d.Index(parent); !ok {
		return NotFoundf(MsgDictionaryIndexNotFound)
	}
	if err := s.Valid(); err != nil {
		return err
	}
	if _, taken := d.entries[id]; taken {
		return Conflictf("Dictionary entry %d already exists", id)
	}
	if err := d.keyFree(parent, s.ConfigKey); err != nil {
		return err
	}
	record(d, DictionaryItemAdded{TenantID: d.tenant, ConfigID: id, ParentID: parent, ConfigKey: s.ConfigKey,
		ConfigName: s.ConfigName, ConfigEnName: s.ConfigEnName, KeyOrder: s.KeyOrder, ConfigValue: s.ConfigValue, Note: s.Note})
	return nil
}

// ChangeItem records the fields of ch that differ from item id's, in one
// event; it records nothing when none does.
func (d *Dictionary) ChangeItem(id int64, ch DictionaryChange) error {
	cur, ok := d.Item(id)
	if !ok {
		return NotFoundf(MsgDictionaryItemNotFound)
	}
	if err := validNames(ch.ConfigName, ch.ConfigEnName); err != nil {
		return err
	}
	if ch.ConfigValue != nil {
		if err := validValue(*ch.ConfigValue); err != nil {
			return err
		}
	}
	e := DictionaryItemChanged{TenantID: d.tenant, ConfigID: id, ParentID: cur.ParentID,
		ConfigName: differs(ch.ConfigName, cur.ConfigName), ConfigEnName: differs(ch.ConfigEnName, cur.ConfigEnName),
		KeyOrder: differs(ch.KeyOrder, cur.KeyOrder), ConfigValue: differs(ch.ConfigValue, cur.ConfigValue),
		Note: differs(ch.Note, cur.Note)}
	if e.ConfigName != nil || e.ConfigEnName != nil || e.KeyOrder != nil || e.ConfigValue != nil || e.Note != nil {
		record(d, e)
	}
	return nil
}

// RemoveItem removes item id from its index.
func (d *Dictionary) RemoveItem(id int64) error {
	cur, ok := d.Item(id)
	if !ok {
		return NotFoundf(MsgDictionaryItemNotFound)
	}
	record(d, DictionaryItemRemoved{TenantID: d.tenant, ConfigID: id, ParentID: cur.ParentID})
	return nil
}

// Apply implements commands.Aggregate.
func (d *Dictionary) Apply(e Event) {
	switch e := e.(type) {
	case DictionaryIndexAdded:
		d.put(DictionaryEntry{ConfigID: e.ConfigID, ConfigKey: e.ConfigKey, ConfigName: e.ConfigName,
			ConfigEnName: e.ConfigEnName, Note: e.Note})
	case DictionaryIndexChanged:
		if s, ok := d.entries[e.ConfigID]; ok {
			setIf(&s.ConfigName, e.ConfigName)
			setIf(&s.ConfigEnName, e.ConfigEnName)
			setIf(&s.Note, e.Note)
		}
	case DictionaryIndexRemoved:
		d.remove(e.ConfigID)
	case DictionaryItemAdded:
		d.put(DictionaryEntry{ConfigID: e.ConfigID, ParentID: e.ParentID, ConfigKey: e.ConfigKey, ConfigName: e.ConfigName,
			ConfigEnName: e.ConfigEnName, KeyOrder: e.KeyOrder, ConfigValue: e.ConfigValue, Note: e.Note})
	case DictionaryItemChanged:
		if s, ok := d.entries[e.ConfigID]; ok {
			setIf(&s.ConfigName, e.ConfigName)
			setIf(&s.ConfigEnName, e.ConfigEnName)
			setIf(&s.KeyOrder, e.KeyOrder)
			setIf(&s.ConfigValue, e.ConfigValue)
			setIf(&s.Note, e.Note)
		}
	case DictionaryItemRemoved:
		d.remove(e.ConfigID)
	}
}

func (d *Dictionary) put(e DictionaryEntry) {
	d.entries[e.ConfigID] = &e
	d.keys[keyOf(e.ParentID, e.ConfigKey)] = e.ConfigID
	if !e.IsIndex() {
		d.counts[e.ParentID]++
	}
}

func (d *Dictionary) remove(id int64) {
	e, ok := d.entries[id]
	if !ok {
		return
	}
	delete(d.keys, keyOf(e.ParentID, e.ConfigKey))
	delete(d.entries, id)
	if e.IsIndex() {
		delete(d.counts, id)
	} else if d.counts[e.ParentID]--; d.counts[e.ParentID] <= 0 {
		delete(d.counts, e.ParentID)
	}
}

// SnapshotVersion implements Snapshotter.
func (d *Dictionary) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the indexes and items, as AuditState
// gives them.
func (d *Dictionary) Snapshot() ([]byte, error) { return json.Marshal(d.AuditState()) }

// Restore implements Snapshotter.
func (d *Dictionary) Restore(state []byte) error {
	var s DictionaryState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadDictionary(d.tenant)
	for _, e := range append(s.Indexes, s.Items...) {
		fresh.put(e)
	}
	d.entries, d.keys, d.counts = fresh.entries, fresh.keys, fresh.counts
	return nil
}

// RaceRule implements Raced: every write of a tenant's dictionary appends to one stream.
func (*Dictionary) RaceRule() RaceRule { return Shared }
