package domain_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

// given folds events into a fresh dictionary of tenant.
func dictGiven(tenant uuid.UUID, events ...domain.Event) *domain.Dictionary {
	d := domain.LoadDictionary(tenant)
	for _, e := range events {
		d.Apply(e)
	}
	return d
}

func TestDictionary_Decisions(t *testing.T) {
	t.Parallel()
	tenant := uuid.New()
	index := domain.DictionaryIndexAdded{TenantID: tenant, ConfigID: 1, ConfigKey: "colour", ConfigName: "c", ConfigEnName: "c"}
	item := domain.DictionaryItemAdded{TenantID: tenant, ConfigID: 2, ParentID: 1, ConfigKey: "red", ConfigName: "r",
		ConfigEnName: "r", ConfigValue: "#f00"}
	spec := domain.DictionaryItemSpec{ConfigKey: "blue", ConfigName: "b", ConfigEnName: "b", ConfigValue: "#00f", KeyOrder: 3}
	for _, c := range []struct {
		name   string
		given  []domain.Event
		when   func(*domain.Dictionary) error
		then   []domain.Event
		errIs  error
		errMsg string
	}{
		{name: "add_index", when: func(d *domain.Dictionary) error {
			return d.AddIndex(1, domain.DictionaryIndexSpec{ConfigKey: "colour", ConfigName: "c", ConfigEnName: "c"})
		}, then: []domain.Event{index}},
		{name: "index_key_taken", given: []domain.Event{index}, when: func(d *domain.Dictionary) error {
			return d.AddIndex(5, domain.DictionaryIndexSpec{ConfigKey: "colour", ConfigName: "x", ConfigEnName: "x"})
		}, errIs: domain.ErrConflict},
		{name: "blank_key", when: func(d *domain.Dictionary) error {
			return d.AddIndex(1, domain.DictionaryIndexSpec{ConfigKey: " ", ConfigName: "x", ConfigEnName: "x"})
		}, errIs: domain.ErrInvalid},
		{name: "long_name", when: func(d *domain.Dictionary) error {
			return d.AddIndex(1, domain.DictionaryIndexSpec{ConfigKey: "k", ConfigName: strings.Repeat("n", 65), ConfigEnName: "x"})
		}, errIs: domain.ErrInvalid},
		{name: "add_item", given: []domain.Event{index}, when: func(d *domain.Dictionary) error { return d.AddItem(3, 1, spec) },
			then: []domain.Event{domain.DictionaryItemAdded{TenantID: tenant, ConfigID: 3, ParentID: 1, ConfigKey: "blue",
				ConfigName: "b", ConfigEnName: "b", ConfigValue: "#00f", KeyOrder: 3}}},
		{name: "item_of_no_index", when: func(d *domain.Dictionary) error { return d.AddItem(3, 1, spec) }, errIs: domain.ErrNotFound},
		{name: "item_under_an_item", given: []domain.Event{index, item}, when: func(d *domain.Dictionary) error { return d.AddItem(3, 2, spec) },
			errIs: domain.ErrNotFound},
		{name: "item_key_taken", given: []domain.Event{index, item}, when: func(d *domain.Dictionary) error {
			s := spec
			s.ConfigKey = "red"
			return d.AddItem(3, 1, s)
		}, errIs: domain.ErrConflict},
		{name: "empty_value", given: []domain.Event{index}, when: func(d *domain.Dictionary) error {
			s := spec
			s.ConfigValue = ""
			return d.AddItem(3, 1, s)
		}, errIs: domain.ErrInvalid},
		{name: "remove_index_with_items_is_refused", given: []domain.Event{index, item},
			when: func(d *domain.Dictionary) error { return d.RemoveIndex(1) }, errIs: domain.ErrConflict,
			errMsg: "Dictionary index 1 still has 1 item"},
		{name: "remove_empty_index", given: []domain.Event{index, item, domain.DictionaryItemRemoved{TenantID: tenant, ConfigID: 2, ParentID: 1}},
			when: func(d *domain.Dictionary) error { return d.RemoveIndex(1) },
			then: []domain.Event{domain.DictionaryIndexRemoved{TenantID: tenant, ConfigID: 1}}},
		{name: "change_item_only_what_differs", given: []domain.Event{index, item}, when: func(d *domain.Dictionary) error {
			name, order := "r", int64(4)
			return d.ChangeItem(2, domain.DictionaryChange{ConfigName: &name, KeyOrder: &order})
		}, then: []domain.Event{domain.DictionaryItemChanged{TenantID: tenant, ConfigID: 2, ParentID: 1, KeyOrder: new(int64(4))}}},
		{name: "change_nothing", given: []domain.Event{index}, when: func(d *domain.Dictionary) error {
			name := "c"
			return d.ChangeIndex(1, domain.DictionaryChange{ConfigName: &name})
		}},
		{name: "an_index_is_not_an_item", given: []domain.Event{index}, when: func(d *domain.Dictionary) error { return d.RemoveItem(1) },
			errIs: domain.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := dictGiven(tenant, c.given...)
			err := c.when(d)
			if c.errIs != nil {
				require.ErrorIs(t, err, c.errIs)
				if c.errMsg != "" {
					assert.Equal(t, c.errMsg, err.Error())
				}
				assert.Empty(t, d.Root().Pending(), "a refusal records nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.then, d.Root().Pending())
		})
	}
}

// A snapshot restores the same state, rules included.
func TestDictionary_Snapshot(t *testing.T) {
	t.Parallel()
	tenant := uuid.New()
	d := dictGiven(tenant,
		domain.DictionaryIndexAdded{TenantID: tenant, ConfigID: 1, ConfigKey: "colour", ConfigName: "c", ConfigEnName: "c"},
		domain.DictionaryItemAdded{TenantID: tenant, ConfigID: 2, ParentID: 1, ConfigKey: "red", ConfigName: "r", ConfigEnName: "r", ConfigValue: "v"})
	raw, err := d.Snapshot()
	require.NoError(t, err)
	restored := domain.LoadDictionary(tenant)
	require.NoError(t, restored.Restore(raw))
	assert.Equal(t, d.AuditState(), restored.AuditState())
	require.ErrorIs(t, restored.RemoveIndex(1), domain.ErrConflict, "the item still counts")
	require.ErrorIs(t, restored.AddItem(3, 1, domain.DictionaryItemSpec{ConfigKey: "red", ConfigName: "x", ConfigEnName: "x", ConfigValue: "v"}),
		domain.ErrConflict, "the key is still taken")
}
