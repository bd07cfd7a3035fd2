package readapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// at is the ctime/utime of the rows the tests insert.
var at = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// exec runs one statement of a test's setup.
func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	_, err := db.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

// configID is a config's id (idsOf).
func configID(c readapi.ConfigRead) int64 { return c.ID }

// configsFixture inserts four configs of tenant a (two secret, two names
// that are equal but for case) and one of tenant b.
func configsFixture(t *testing.T) (db *pgxpool.Pool, a, b uuid.UUID) {
	t.Helper()
	db = testkit.NewDatabase(t)
	a, b = uuid.New(), uuid.New()
	for _, c := range []struct {
		id                     int64
		tenant                 uuid.UUID
		key, name, value, note string
		secret                 bool
	}{
		{1, a, "b_key", "Alpha", "zeta", "", false},
		{2, a, "a_key", "beta", "sealed:k1:xyz", "the API token", true},
		{3, a, "c_key", "ALPHA", "m-value", "", false},
		{4, a, "d_key", "gamma", "", "", true},
		{5, b, "a_key", "Alpha", "zeta", "", false},
	} {
		exec(t, db, `INSERT INTO configs (id, tenant_id, config_key, config_name, config_value, note, secret, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, 7, 8, $8, $8)`, c.id, c.tenant, c.key, c.name, c.value, c.note, c.secret, at)
	}
	return db, a, b
}

func TestListConfigs(t *testing.T) {
	t.Parallel()
	db, a, _ := configsFixture(t)
	ctx := context.Background()

	t.Run("sort", func(t *testing.T) {
		for _, tt := range []struct {
			sortBy, order string
			want          []int64
		}{
			{"id", "asc", []int64{1, 2, 3, 4}},
			{"id", "desc", []int64{4, 3, 2, 1}},
			{"config_key", "asc", []int64{2, 1, 3, 4}},
			{"config_key", "desc", []int64{4, 3, 1, 2}},
			// Alpha and ALPHA tie (case-insensitive): by id in the same direction.
			{"config_name", "asc", []int64{1, 3, 2, 4}},
			{"config_name", "desc", []int64{4, 2, 3, 1}},
			// A secret's value sorts as '' (2 and 4 tie, by id).
			{"config_value", "asc", []int64{2, 4, 3, 1}},
			{"config_value", "desc", []int64{1, 3, 4, 2}},
		} {
			got, err := readapi.ListConfigs(ctx, db, a, readapi.ConfigsQuery{SortBy: tt.sortBy, SortOrder: tt.order})
			require.NoError(t, err)
			assert.Equal(t, tt.want, idsOf(got, configID), "%s %s", tt.sortBy, tt.order)
		}
	})

	t.Run("search", func(t *testing.T) {
		for search, want := range map[string][]int64{
			"alpha": {1, 3},       // config_name, case-insensitive
			"ZETA":  {1},          // config_value; tenant b's row is not listed
			"token": {2},          // note
			"xyz":   {},           // a secret's (sealed) value is not searched
			"b_k":   {1},          // config_key
			"_":     {2, 1, 3, 4}, // by config_key
			"%":     {},           // LIKE wildcards are literal
			"a%":    {},
			"M-VAL": {3},
		} {
			got, err := readapi.ListConfigs(ctx, db, a, readapi.ConfigsQuery{Search: search, SortBy: "config_key", SortOrder: "asc"})
			require.NoError(t, err)
			require.NotNil(t, got, "none is [], not null")
			assert.Equal(t, want, idsOf(got, configID), search)
		}
	})

	t.Run("secret_values_masked", func(t *testing.T) {
		got, err := readapi.ListConfigs(ctx, db, a, readapi.ConfigsQuery{SortBy: "id", SortOrder: "asc"})
		require.NoError(t, err)
		require.Len(t, got, 4)
		assert.Equal(t, []string{"zeta", domain.SecretMask, "m-value", ""},
			[]string{got[0].ConfigValue, got[1].ConfigValue, got[2].ConfigValue, got[3].ConfigValue},
			"a secret's value is masked; an empty one stays empty")
		assert.Equal(t, readapi.ConfigRead{ConfigKey: "a_key", ConfigName: "beta", ConfigValue: domain.SecretMask,
			Note: "the API token", Secret: true, ID: 2}, withoutAudit(got[1]))
		assert.Equal(t, int64(7), got[1].CUID)
		assert.Equal(t, int64(8), got[1].MUID)
		assert.Equal(t, at, got[1].CTime)
		assert.Equal(t, time.UTC, got[1].UTime.Location())
	})
}

func withoutAudit(c readapi.ConfigRead) readapi.ConfigRead {
	c.Audited = readapi.ConfigRead{}.Audited
	return c
}

func TestConfigByID(t *testing.T) {
	t.Parallel()
	db, a, b := configsFixture(t)
	ctx := context.Background()

	got, err := readapi.ConfigByID(ctx, db, a, 2)
	require.NoError(t, err)
	assert.Equal(t, "a_key", got.ConfigKey)
	assert.Equal(t, domain.SecretMask, got.ConfigValue)

	got, err = readapi.ConfigByID(ctx, db, a, 3)
	require.NoError(t, err)
	assert.Equal(t, "m-value", got.ConfigValue)

	got, err = readapi.ConfigByID(ctx, db, b, 5)
	require.NoError(t, err)
	assert.Equal(t, "zeta", got.ConfigValue)

	for _, tc := range []struct {
		tenant uuid.UUID
		id     int64
	}{{a, 5}, {b, 1}, {a, 99}} {
		_, err = readapi.ConfigByID(ctx, db, tc.tenant, tc.id)
		assert.ErrorIs(t, err, domain.ErrNotFound, "config %d of tenant %s", tc.id, tc.tenant)
	}
}
