package readapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TestListMCPServers checks the MCP server list's own filters and sorts
// (its scope rule is TestCatalogScope's) and that env and headers values
// are masked.
func TestListMCPServers(t *testing.T) {
	t.Parallel()
	db := testkit.NewDatabase(t)
	ctx := context.Background()
	tenant := uuid.New()
	for _, s := range []struct {
		id                       int64
		name, mcpType, url, note string
		active                   bool
		actions                  int
		ctime                    time.Time
	}{
		{1, "Files", "stdio", "", "local files", true, 3, at},
		{2, "search", "sse", "https://search.example/sse", "", true, 0, at.Add(time.Hour)},
		{3, "files", "streamable_http", "https://files.example/mcp", "", false, 3, at},
		{4, "Weather", "sse", "https://weather.example/sse", "forecasts", true, 7, at.Add(-time.Hour)},
	} {
		exec(t, db, `INSERT INTO mcp_servers (id, tenant_id, scope, name, mcp_type, command, args, env, headers, url, note,
  is_active, action_count, c_uid, ctime, utime)
VALUES ($1, $2, 1, $3, $4, 'npx', '["-y","srv"]', '{"TOKEN":"sealed:k1:aaa"}', '{"Authorization":"sealed:k1:bbb"}', $5, $6,
  $7, $8, 100, $9, $9)`, s.id, tenant, s.name, s.mcpType, s.url, s.note, s.active, s.actions, s.ctime)
	}
	list := func(q readapi.MCPServersQuery) []int64 {
		t.Helper()
		if q.SortBy == "" {
			q.SortBy, q.SortOrder = "ctime", "desc"
		}
		got, err := readapi.ListMCPServers(ctx, db, alice, tenant, tenancy.Scope{All: true}, q)
		require.NoError(t, err)
		ids := []int64{}
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		return ids
	}

	t.Run("sort", func(t *testing.T) {
		for _, tt := range []struct {
			sortBy, order string
			want          []int64
		}{
			// the default: newest first, ties by id descending
			{"ctime", "desc", []int64{2, 3, 1, 4}},
			{"ctime", "asc", []int64{4, 1, 3, 2}},
			{"utime", "desc", []int64{2, 3, 1, 4}},
			{"id", "desc", []int64{4, 3, 2, 1}},
			// case-insensitive: Files and files tie
			{"name", "asc", []int64{1, 3, 2, 4}},
			{"name", "desc", []int64{4, 2, 3, 1}},
			{"mcp_type", "asc", []int64{2, 4, 1, 3}},
			{"action_count", "asc", []int64{2, 1, 3, 4}},
			{"action_count", "desc", []int64{4, 3, 1, 2}},
		} {
			assert.Equal(t, tt.want, list(readapi.MCPServersQuery{SortBy: tt.sortBy, SortOrder: tt.order}), "%s %s", tt.sortBy, tt.order)
		}
	})

	t.Run("filters", func(t *testing.T) {
		yes, no := true, false
		for _, tt := range []struct {
			name string
			q    readapi.MCPServersQuery
			want []int64
		}{
			{"mcp_type", readapi.MCPServersQuery{MCPType: "sse"}, []int64{2, 4}},
			{"active", readapi.MCPServersQuery{IsActive: &yes}, []int64{2, 1, 4}},
			{"inactive", readapi.MCPServersQuery{IsActive: &no}, []int64{3}},
			{"keyword_name", readapi.MCPServersQuery{Keyword: "FILES"}, []int64{3, 1}},
			{"keyword_note", readapi.MCPServersQuery{Keyword: "forecast"}, []int64{4}},
			{"keyword_url", readapi.MCPServersQuery{Keyword: "search.example"}, []int64{2}},
			{"keyword_command", readapi.MCPServersQuery{Keyword: "npx"}, []int64{2, 3, 1, 4}},
			{"keyword_not_env", readapi.MCPServersQuery{Keyword: "sealed"}, []int64{}},
			{"combined", readapi.MCPServersQuery{MCPType: "sse", IsActive: &yes, Keyword: "weather"}, []int64{4}},
		} {
			assert.Equal(t, tt.want, list(tt.q), tt.name)
		}
	})

	t.Run("values_masked", func(t *testing.T) {
		got, err := readapi.ListMCPServers(ctx, db, alice, tenant, tenancy.Scope{All: true},
			readapi.MCPServersQuery{SortBy: "id", SortOrder: "asc"})
		require.NoError(t, err)
		require.Len(t, got, 4)
		assert.Equal(t, map[string]string{"TOKEN": domain.SecretMask}, got[0].Env)
		assert.Equal(t, map[string]string{"Authorization": domain.SecretMask}, got[0].Headers)
		assert.Equal(t, []string{"-y", "srv"}, got[0].Args)
		assert.Equal(t, tenant, got[0].TenantID)
		assert.Equal(t, 1, got[0].MCPScope)
		assert.Nil(t, got[0].Mode, "mode and toolsCount are the handler's (action_count=true)")
	})
}
