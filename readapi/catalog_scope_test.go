package readapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Users of the catalogue scope fixture.
var (
	alice = auth.Principal{UserID: 100, Username: "alice"}
	bob   = auth.Principal{UserID: 200, Username: "bob"}
	root  = auth.Principal{UserID: 999, Username: "root", IsSuperuser: true}
)

// catalogEntry is one row of the fixture, inserted alike into mcp_servers
// and component_groups.
type catalogEntry struct {
	id       int64
	tenant   uuid.UUID
	scope    int
	business int64
	cUID     int64
}

// catalogScopeFixture inserts, in tenant t, the business tree
//
//	1 ─ 2 ─ 3
//	4
//
// (business 9 is tenant o's) and the same entries into mcp_servers and
// component_groups:
//
//	1 system           (system tenant)
//	2 tenant           t
//	3 business 1       t
//	4 business 2       t
//	5 business 3       t
//	6 business 4       t
//	7 personal alice   t
//	8 personal bob     t
//	9 tenant           o
//	10 business 9      o
//	11 personal alice  o
func catalogScopeFixture(t *testing.T) (db *pgxpool.Pool, tenant, other uuid.UUID) {
	t.Helper()
	db = testkit.NewDatabase(t)
	tenant, other = uuid.New(), uuid.New()
	for _, b := range []struct {
		tenant     uuid.UUID
		id, parent int64
	}{{tenant, 1, 0}, {tenant, 2, 1}, {tenant, 3, 2}, {tenant, 4, 0}, {other, 9, 0}} {
		exec(t, db, `INSERT INTO access_businesses (tenant_id, business_id, parent_id, enabled) VALUES ($1, $2, $3, true)`,
			b.tenant, b.id, b.parent)
	}
	for _, e := range []catalogEntry{
		{1, tenancy.SystemTenantID, 0, 0, 1},
		{2, tenant, 1, 0, 100},
		{3, tenant, 2, 1, 100},
		{4, tenant, 2, 2, 200},
		{5, tenant, 2, 3, 200},
		{6, tenant, 2, 4, 200},
		{7, tenant, 3, 0, 100},
		{8, tenant, 3, 0, 200},
		{9, other, 1, 0, 100},
		{10, other, 2, 9, 100},
		{11, other, 3, 0, 100},
	} {
		name := fmt.Sprintf("entry-%d", e.id)
		exec(t, db, `INSERT INTO mcp_servers (id, tenant_id, scope, business_id, name, mcp_type, c_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, 'stdio', $6, $7, $7)`, e.id, e.tenant, e.scope, e.business, name, e.cUID, at)
		exec(t, db, `INSERT INTO component_groups (id, tenant_id, scope, business_id, group_name, group_en_name, component_type,
  c_uid, ctime, utime) VALUES ($1, $2, $3, $4, $5, $5, 'component', $6, $7, $7)`, e.id, e.tenant, e.scope, e.business, name, e.cUID, at)
	}
	return db, tenant, other
}

// TestCatalogScope checks the catalogue scope rule (catalogVisible,
// catalogWhere) through the MCP server list and the component group list:
// both must answer the same entries.
func TestCatalogScope(t *testing.T) {
	t.Parallel()
	db, tenant, other := catalogScopeFixture(t)
	ctx := context.Background()
	all := tenancy.Scope{All: true}
	none := tenancy.Scope{}
	businesses := func(ids ...int64) tenancy.Scope { return tenancy.Scope{Businesses: ids} }
	scope := func(s int) *int { return &s }
	business := func(b int64) *int64 { return &b }

	type filter = readapi.CatalogScopeFilter
	for _, tt := range []struct {
		name   string
		caller auth.Principal
		tenant uuid.UUID
		can    tenancy.Scope
		f      filter
		want   []int64
		// groups, when not nil, is the component groups' answer where it
		// differs from the MCP servers'.
		groups []int64
	}{
		// all_scopes: every entry the caller sees.
		{"all_tenant_wide", alice, tenant, all, filter{AllScopes: true}, []int64{1, 2, 3, 4, 5, 6, 7}, nil},
		{"all_some_businesses", alice, tenant, businesses(2, 3), filter{AllScopes: true}, []int64{1, 2, 4, 5, 7}, nil},
		{"all_other_business", bob, tenant, businesses(4), filter{AllScopes: true}, []int64{1, 2, 6, 8}, nil},
		{"all_no_privilege", bob, tenant, none, filter{AllScopes: true}, []int64{1, 8}, nil},
		{"all_superuser", root, tenant, none, filter{AllScopes: true}, []int64{1, 2, 3, 4, 5, 6, 7, 8}, nil},
		{"all_other_tenant", alice, other, all, filter{AllScopes: true}, []int64{1, 9, 10, 11}, nil},
		{"all_ignores_scope_and_business", alice, tenant, all,
			filter{AllScopes: true, Scope: scope(0), BusinessID: business(4)}, []int64{1, 2, 3, 4, 5, 6, 7}, nil},
		{"all_unknown_tenant", alice, uuid.New(), all, filter{AllScopes: true}, []int64{1}, nil},

		// One scope: default tenant (1).
		{"default_tenant_scope", alice, tenant, businesses(4), filter{}, []int64{2}, nil},
		{"default_tenant_scope_no_privilege", bob, tenant, none, filter{}, []int64{}, nil},
		{"business_zero_is_none", alice, tenant, all, filter{BusinessID: business(0)}, []int64{2}, nil},
		{"system", bob, tenant, none, filter{Scope: scope(0)}, []int64{1}, nil},
		{"tenant_of_other", alice, other, all, filter{Scope: scope(1)}, []int64{9}, nil},
		{"business_scope_tenant_wide", alice, tenant, all, filter{Scope: scope(2)}, []int64{3, 4, 5, 6}, nil},
		{"business_scope_some", alice, tenant, businesses(2, 3), filter{Scope: scope(2)}, []int64{4, 5}, nil},
		{"business_scope_superuser", root, tenant, none, filter{Scope: scope(2)}, []int64{3, 4, 5, 6}, nil},
		{"personal_own_only", alice, tenant, all, filter{Scope: scope(3)}, []int64{7}, nil},
		{"personal_bob", bob, tenant, none, filter{Scope: scope(3)}, []int64{8}, nil},
		// mcp_scope 3 lists the caller's own personal servers, superuser or
		// not; component groups at scope 3 follow catalogVisible alone, so a
		// superuser gets every personal group of the tenant.
		{"personal_superuser", root, tenant, none, filter{Scope: scope(3)}, []int64{}, []int64{7, 8}},

		// business_id: scope 2 by default, that business (with its subtree).
		{"business", alice, tenant, all, filter{BusinessID: business(1)}, []int64{3}, nil},
		{"business_with_subs", alice, tenant, all, filter{BusinessID: business(1), IncludeSubBusinesses: true}, []int64{3, 4, 5}, nil},
		{"middle_business_with_subs", alice, tenant, all, filter{BusinessID: business(2), IncludeSubBusinesses: true}, []int64{4, 5}, nil},
		{"leaf_business_with_subs", alice, tenant, all, filter{BusinessID: business(3), IncludeSubBusinesses: true}, []int64{5}, nil},
		{"subs_only_where_held", alice, tenant, businesses(2, 3),
			filter{BusinessID: business(1), IncludeSubBusinesses: true}, []int64{4, 5}, nil},
		{"business_not_held", alice, tenant, businesses(2, 3), filter{BusinessID: business(4)}, []int64{}, nil},
		{"business_held", bob, tenant, businesses(4), filter{BusinessID: business(4), IncludeSubBusinesses: true}, []int64{6}, nil},
		{"business_of_other_tenant", alice, tenant, all, filter{BusinessID: business(9), IncludeSubBusinesses: true}, []int64{}, nil},
		{"business_with_tenant_scope", alice, tenant, all, filter{Scope: scope(1), BusinessID: business(1)}, []int64{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			servers, err := readapi.ListMCPServers(ctx, db, tt.caller, tt.tenant, tt.can, readapi.MCPServersQuery{
				MCPScope: tt.f.Scope, BusinessID: tt.f.BusinessID, AllScopes: tt.f.AllScopes,
				IncludeSubBusinesses: tt.f.IncludeSubBusinesses, SortBy: "id", SortOrder: "asc"})
			require.NoError(t, err)
			ids := []int64{}
			for _, s := range servers {
				ids = append(ids, s.ID)
			}
			assert.Equal(t, tt.want, ids, "MCP servers")

			groups, err := readapi.ListComponentGroups(ctx, db, tt.caller, tt.tenant, tt.can, readapi.ComponentGroupsQuery{
				Scope: tt.f.Scope, BusinessID: tt.f.BusinessID, AllScopes: tt.f.AllScopes,
				IncludeSubBusinesses: tt.f.IncludeSubBusinesses})
			require.NoError(t, err)
			ids = []int64{}
			for _, g := range groups {
				ids = append(ids, g.ID)
			}
			want := tt.want
			if tt.groups != nil {
				want = tt.groups
			}
			assert.Equal(t, want, ids, "component groups")
		})
	}
}
