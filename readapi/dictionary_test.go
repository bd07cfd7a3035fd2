package readapi_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// dictionaryID is an entry's config_id (idsOf).
func dictionaryID(e readapi.DictionaryEntryRead) int64 { return e.ConfigID }

// The dictionary's reads: a tenant sees its own entries only, an index's
// id is not an item's (and the other way round), search covers the key,
// both names and (items) the value, and sorting ties go by config_id.
func TestDictionaryReads(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	for _, e := range []struct {
		id, parent int64
		tenant     uuid.UUID
		key, name  string
		order      int64
		value      string
	}{
		{1, 0, a, "colors", "Colors", 0, ""},
		{2, 1, a, "red", "Red", 2, "#f00"},
		{3, 1, a, "green", "green", 1, "#0f0"},
		{4, 1, a, "blue", "Blue", 1, "#00f"},
		{5, 0, a, "sizes", "Sizes", 0, ""},
		{6, 0, b, "colors", "Colors", 0, ""},
	} {
		exec(t, db, `INSERT INTO dictionary_entries (config_id, tenant_id, parent_id, config_key, config_name, config_en_name,
key_order, config_value, ctime, utime) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $8)`, e.id, e.tenant, e.parent, e.key, e.name, e.order, e.value, at)
	}

	idx, err := readapi.ListDictionaryIndexes(ctx, db, a, readapi.DictionaryIndexesQuery{SortBy: "config_key", SortOrder: "desc"})
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 1}, idsOf(idx, dictionaryID), "tenant a's indexes only")
	idx, err = readapi.ListDictionaryIndexes(ctx, db, a, readapi.DictionaryIndexesQuery{Search: "SIZ", SortBy: "config_key", SortOrder: "asc"})
	require.NoError(t, err)
	assert.Equal(t, []int64{5}, idsOf(idx, dictionaryID), "search is case-insensitive")

	items, err := readapi.ListDictionaryItems(ctx, db, a, 1, readapi.DictionaryItemsQuery{SortBy: "key_order", SortOrder: "asc"})
	require.NoError(t, err)
	assert.Equal(t, []int64{3, 4, 2}, idsOf(items, dictionaryID), "ties of key_order by config_id")
	items, err = readapi.ListDictionaryItems(ctx, db, a, 1, readapi.DictionaryItemsQuery{Search: "#0F", SortBy: "config_name", SortOrder: "asc"})
	require.NoError(t, err)
	assert.Equal(t, []int64{3}, idsOf(items, dictionaryID), "search covers the value")
	_, err = readapi.ListDictionaryItems(ctx, db, b, 1, readapi.DictionaryItemsQuery{SortBy: "config_key", SortOrder: "asc"})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's index")

	e, err := readapi.DictionaryItemByID(ctx, db, a, 2)
	require.NoError(t, err)
	assert.Equal(t, "#f00", e.ConfigValue)
	_, err = readapi.DictionaryItemByID(ctx, db, a, 1)
	assert.ErrorIs(t, err, domain.ErrNotFound, "an index is not an item")
	_, err = readapi.DictionaryIndexByID(ctx, db, a, 2)
	assert.ErrorIs(t, err, domain.ErrNotFound, "an item is not an index")
	_, err = readapi.DictionaryIndexByID(ctx, db, b, 1)
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's index")
}
