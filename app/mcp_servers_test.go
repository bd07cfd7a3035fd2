package app_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakemcp"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// mcpStdioEnv makes the test binary, started as a stdio MCP server's
// command with this variable in its env, serve fakemcp's tools over
// stdin/stdout instead of running tests (TestMain): the variable reaching
// the child proves the env is delivered (opened) to the process.
const mcpStdioEnv = "SKILLFLAW_FAKEMCP_STDIO"

func TestMain(m *testing.M) {
	if os.Getenv(mcpStdioEnv) == "1" {
		if err := fakemcp.NewMCPServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const mcpPath = "/api/v2/mcp/servers"

// mcpStart serves an App with the Identity, Businesses, permissions and
// MCPServers modules on a fresh database with the system tenant row; env
// is added to a secret key.
func mcpStart(t *testing.T, env map[string]string) *ugServer {
	t.Helper()
	e := adminEnv(ugAdmin, ugAdminPassword)
	e["SKILLFLAW_SECRET_KEY"] = cfgSecretKey
	for k, v := range env {
		e[k] = v
	}
	s := &ugServer{harness: startApp(t, options{env: e, modules: []app.Module{&app.Identity{}, app.Businesses{},
		app.Permissions{}, app.TenantGrants{}, app.MCPServers{TestTimeout: 10 * time.Second}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

// mcpAdd registers server name in tenant as the superuser and requires
// 200.
func mcpAdd(t *testing.T, s *ugServer, tenant uuid.UUID, name string, body map[string]any) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, mcpPath+"/"+name, body, s.admin, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.obj(t)
}

func mcpNames(rows []map[string]any) []string { return ugField(rows, "name") }

// mcpNowhere checks that clear appears in no event and no row of any
// table.
func mcpNowhere(t *testing.T, s *ugServer, clear string) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.app.Pool().Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "events")
	require.Contains(t, tables, "mcp_servers")
	for _, table := range tables {
		var n int
		require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table+` x WHERE x::text LIKE $1`, "%"+clear+"%").Scan(&n))
		assert.Zero(t, n, "table %s holds %q in clear", table, clear)
	}
}

func mcpDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	return s.textRows(t, `SELECT row_to_json(m)::text FROM mcp_servers m ORDER BY id`)
}

// CRUD and validation of every write (422, nothing written), unique names
// (409), rename, PATCH by server_id, the list's filters and sorts,
// secrets sealed and masked (never in clear in an event or a table), the
// mask sent back keeping a value, AuditState and an identical rebuild.
func TestMCPServers_CRUDSecretsAndRebuild(t *testing.T) {
	t.Parallel()
	s := mcpStart(t, nil)
	ta := s.tenant(t, "A")
	const clearAuth, clearExtra = "Bearer mcp-header-secret-4711", "mcp-extra-secret-0815"
	gh := mcpAdd(t, s, ta, "github", map[string]any{"url": "https://mcp.example.com/mcp",
		"headers": map[string]any{"Authorization": clearAuth}, "note": "code host", "logo": "gh.svg"})
	assert.Equal(t, "github", gh["name"])
	assert.Equal(t, "streamable_http", gh["mcp_type"], "inferred from the url")
	assert.Equal(t, map[string]any{"Authorization": domain.SecretMask}, gh["headers"])
	assert.Equal(t, map[string]any{}, gh["env"])
	assert.Equal(t, []any{}, gh["args"])
	assert.EqualValues(t, 1, gh["mcp_scope"])
	assert.EqualValues(t, 0, gh["business_id"])
	assert.Equal(t, ta.String(), gh["tenant_id"])
	assert.Equal(t, true, gh["is_active"])
	assert.EqualValues(t, 0, gh["action_count"])
	assert.Equal(t, "code host", gh["note"])
	assert.Equal(t, "gh.svg", gh["logo"])
	assert.EqualValues(t, s.adminID, ugInt(t, gh["c_uid"]))
	for _, k := range []string{"id", "m_uid", "ctime", "utime", "url"} {
		assert.Contains(t, gh, k)
	}
	ev := mcpAdd(t, s, ta, "events", map[string]any{"url": "https://mcp.example.com/v1/sse", "mcp_type": nil})
	assert.Equal(t, "sse", ev["mcp_type"], "a url ending in /sse")
	mine := mcpAdd(t, s, ta, "github", map[string]any{"mcp_scope": 3, "mcp_type": "streamable_http", "url": "https://me.example.com/mcp", "is_active": false})
	assert.EqualValues(t, 3, mine["mcp_scope"], "the same name at another scope")

	// Validation: 422, nothing written; a taken name: 409.
	head := s.head(t)
	url := "https://mcp.example.com/mcp"
	for name, body := range map[string]map[string]any{
		"-bad":                   {"url": url},
		"bad$name":               {"url": url},
		strings.Repeat("n", 65):  {"url": url},
		"ok-type":                {"mcp_type": "ftp", "url": url},
		"ok-none":                {},
		"ok-both":                {"url": url, "command": "npx"},
		"ok-scheme":              {"url": "ftp://mcp.example.com/x"},
		"ok-nohost":              {"url": "https:///x"},
		"ok-userinfo":            {"url": "https://u:p@mcp.example.com/x"},
		"ok-scope":               {"url": url, "mcp_scope": 7},
		"ok-business":            {"url": url, "mcp_scope": 2},
		"ok-scope-business":      {"url": url, "mcp_scope": 1, "business_id": 3},
		"ok-mask":                {"url": url, "headers": map[string]any{"X": domain.SecretMask}},
		"ok-header-name":         {"url": url, "headers": map[string]any{"bad name": "v"}},
		"ok-header-value":        {"url": url, "headers": map[string]any{"X": "a\r\nb"}},
		"ok-header-type":         {"url": url, "headers": map[string]any{"X": 1}},
		"ok-env-http":            {"url": url, "env": map[string]any{"A": "b"}},
		"ok-url-type":            {"url": 5},
		"ok-args-type":           {"url": url, "args": "x"},
		"ok-stdio-headers":       {"mcp_type": "stdio", "url": url},
		"ok-streamable-no-url":   {"mcp_type": "streamable_http"},
		"ok-streamable-and-args": {"mcp_type": "streamable_http", "url": url, "args": []string{"a"}},
	} {
		r := dictCall(t, s, http.MethodPost, mcpPath+"/"+name, body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s %v: %s", name, body, r.raw)
	}
	r := dictCall(t, s, http.MethodPost, mcpPath+"/github", map[string]any{"url": url}, s.admin, ta)
	assert.Equal(t, http.StatusConflict, r.status, r.raw)
	ghPath := mcpPath + "/github"
	for _, body := range []map[string]any{
		{"new_name": "bad$"}, {"mcp_type": "ftp"}, {"url": "ftp://x"}, {"mcp_scope": 9}, {"headers": map[string]any{"New": domain.SecretMask}},
		{"mcp_type": "sse", "url": ""},
	} {
		r = dictCall(t, s, http.MethodPatch, ghPath, body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	r = dictCall(t, s, http.MethodPatch, ghPath, map[string]any{"new_name": "events"}, s.admin, ta)
	assert.Equal(t, http.StatusConflict, r.status, r.raw)
	ugDetail(t, dictCall(t, s, http.MethodPatch, mcpPath+"/nope", map[string]any{"note": "x"}, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	ugDetail(t, dictCall(t, s, http.MethodPatch, mcpPath+"?server_id=999999", map[string]any{"note": "x"}, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	r = dictCall(t, s, http.MethodPatch, mcpPath, map[string]any{"note": "x"}, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "server_id is required: %s", r.raw)
	r = dictCall(t, s, http.MethodPatch, mcpPath+"?server_id=abc", map[string]any{"note": "x"}, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	ugDetail(t, dictCall(t, s, http.MethodDelete, mcpPath+"/nope", nil, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	ugDetail(t, dictCall(t, s, http.MethodGet, mcpPath+"/nope", nil, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	for _, q := range []string{"?sort_by=nope", "?sort_order=up", "?mcp_type=ftp", "?mcp_scope=5", "?is_active=maybe"} {
		r = dictCall(t, s, http.MethodGet, mcpPath+q, nil, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
	}
	assert.Equal(t, head, s.head(t), "nothing written")

	// Reads: by name (the tenant's first; mcp_scope picks), the list's
	// filters and sorts.
	r = dictCall(t, s, http.MethodGet, ghPath, nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, gh["id"], r.obj(t)["id"])
	r = dictCall(t, s, http.MethodGet, ghPath+"?mcp_scope=3", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, mine["id"], r.obj(t)["id"])
	r = dictCall(t, s, http.MethodGet, ghPath+ugQuery("server_id", ugInt(t, mine["id"])), nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, mine["id"], r.obj(t)["id"])
	assert.Equal(t, []string{"events", "github"}, mcpNames(dictList(t, s, ta, mcpPath)), "scope 1, newest first")
	assert.Equal(t, []string{"events", "github"}, mcpNames(dictList(t, s, ta, mcpPath, "sort_by", "name", "sort_order", "asc")))
	assert.Equal(t, []string{"github"}, mcpNames(dictList(t, s, ta, mcpPath, "mcp_scope", 3)))
	assert.Len(t, dictList(t, s, ta, mcpPath, "all_scopes", true), 3)
	assert.Equal(t, []string{"github"}, mcpNames(dictList(t, s, ta, mcpPath, "all_scopes", true, "is_active", false)))
	assert.Equal(t, []string{"events"}, mcpNames(dictList(t, s, ta, mcpPath, "mcp_type", "sse")))
	assert.Equal(t, []string{"github"}, mcpNames(dictList(t, s, ta, mcpPath, "keyword", "CODE")))
	assert.Equal(t, []string{"events", "github"}, mcpNames(dictList(t, s, ta, mcpPath, "action_count", true)))
	assert.Empty(t, dictList(t, s, ta, mcpPath, "keyword", "mcp-header-secret"), "secrets are not searched")

	// Patch: new headers are sealed; the mask sent back keeps the value;
	// a map replaces the stored one.
	r = dictCall(t, s, http.MethodPatch, ghPath, map[string]any{"note": "patched",
		"headers": map[string]any{"Authorization": domain.SecretMask, "X-Extra": clearExtra}}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"Authorization": domain.SecretMask, "X-Extra": domain.SecretMask}, r.obj(t)["headers"])
	assert.Equal(t, "patched", r.obj(t)["note"])
	head = s.head(t)
	r = dictCall(t, s, http.MethodPatch, ghPath, map[string]any{"headers": map[string]any{"Authorization": domain.SecretMask, "X-Extra": domain.SecretMask}, "note": "patched"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, head, s.head(t), "the masks sent back change nothing")
	ctx := context.Background()
	id := ugInt(t, gh["id"])
	for name, want := range map[string]string{"Authorization": clearAuth, "X-Extra": clearExtra} {
		var sealed string
		require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT headers->>$2 FROM mcp_servers WHERE id = $1`, id, name).Scan(&sealed))
		opened, err := s.app.Deps().Secrets.Open(sealed, commands.MCPSecretAAD(ta, id, "headers", name))
		require.NoError(t, err, name)
		assert.Equal(t, want, string(opened))
	}

	// Rename (new_name), then by id (?server_id=); a url change infers the
	// type.
	r = dictCall(t, s, http.MethodPatch, ghPath, map[string]any{"new_name": "gh"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "gh", r.obj(t)["name"])
	ugDetail(t, dictCall(t, s, http.MethodGet, ghPath+"?mcp_scope=1", nil, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	r = dictCall(t, s, http.MethodPatch, mcpPath+ugQuery("server_id", id), map[string]any{"is_active": false, "logo": nil}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["is_active"])
	assert.Equal(t, "gh.svg", r.obj(t)["logo"], "null keeps")
	assert.Equal(t, []string{"gh"}, mcpNames(dictList(t, s, ta, mcpPath, "is_active", false)))
	r = dictCall(t, s, http.MethodPatch, mcpPath+"/events", map[string]any{"url": "https://mcp.example.com/mcp"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "streamable_http", r.obj(t)["mcp_type"])

	// No secret in clear anywhere: events, read models, answers.
	for _, v := range []string{clearAuth, clearExtra} {
		mcpNowhere(t, s, v)
		r = dictCall(t, s, http.MethodGet, mcpPath+"?all_scopes=true", nil, s.admin, ta)
		assert.NotContains(t, r.raw, v)
	}

	// AuditState masks the values.
	m := domain.LoadMCPServers(ta)
	require.NoError(t, s.app.Deps().Repository.Load(ctx, m))
	state := m.AuditState().(domain.MCPServersState)
	require.Len(t, state.Servers, 3)
	assert.Equal(t, map[string]string{"Authorization": domain.SecretMask, "X-Extra": domain.SecretMask}, state.Servers[0].Headers)

	// Remove, then rebuild: identical rows.
	r = dictCall(t, s, http.MethodDelete, mcpPath+"/events", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "MCP server deleted", r.obj(t)["detail"])
	ugDetail(t, dictCall(t, s, http.MethodDelete, mcpPath+"/events", nil, s.admin, ta), http.StatusNotFound, domain.MsgMCPServerNotFound)
	r = dictCall(t, s, http.MethodDelete, mcpPath+"/github?mcp_scope=3", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	live := mcpDump(t, s)
	require.Len(t, live, 1)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "mcp_servers", nil))
	assert.Equal(t, live, mcpDump(t, s), "rebuilt from position 0")
}

// The test connection against an in-process MCP server (the official
// SDK's): refused by the egress policy by default (200 success false);
// with 127.0.0.1 allowed, both transports list the tools, the header
// reaches the server opened, and the count is recorded (action_count).
func TestMCPServers_TestConnection(t *testing.T) {
	t.Parallel()
	fake := fakemcp.New(t)
	const clearAuth = "Bearer hdr-secret-31337"
	headers := map[string]any{"Authorization": clearAuth}

	deny := mcpStart(t, nil)
	mcpAdd(t, deny, tenancy.SystemTenantID, "local", map[string]any{"url": fake.URL + "/mcp", "headers": headers})
	r := dictCall(t, deny, http.MethodPost, mcpPath+"/local/test", nil, deny.admin, tenancy.SystemTenantID)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["success"])
	assert.Contains(t, r.obj(t)["error"], "SKILLFLAW_EGRESS_ALLOW")
	assert.NotContains(t, r.obj(t), "tools")
	assert.Empty(t, fake.Authorizations(), "nothing reached the server")
	ugDetail(t, dictCall(t, deny, http.MethodPost, mcpPath+"/nope/test", nil, deny.admin, tenancy.SystemTenantID), http.StatusNotFound, domain.MsgMCPServerNotFound)

	s := mcpStart(t, map[string]string{"SKILLFLAW_EGRESS_ALLOW": "127.0.0.1"})
	mcpAdd(t, s, tenancy.SystemTenantID, "stream", map[string]any{"url": fake.URL + "/mcp", "headers": headers})
	legacy := mcpAdd(t, s, tenancy.SystemTenantID, "legacy", map[string]any{"url": fake.URL + "/sse", "headers": headers})
	assert.Equal(t, "sse", legacy["mcp_type"])
	for _, name := range []string{"stream", "legacy"} {
		r := dictCall(t, s, http.MethodPost, mcpPath+"/"+name+"/test", nil, s.admin, tenancy.SystemTenantID)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		out := r.obj(t)
		require.Equal(t, true, out["success"], r.raw)
		assert.EqualValues(t, 2, out["action_count"])
		assert.ElementsMatch(t, fakemcp.Tools, ugField(anyObjects(t, out["tools"]), "name"))
		assert.Contains(t, ugField(anyObjects(t, out["tools"]), "description"), "Echo the text")
		assert.NotContains(t, r.raw, clearAuth)
		r = dictCall(t, s, http.MethodGet, mcpPath+"/"+name, nil, s.admin, tenancy.SystemTenantID)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.EqualValues(t, 2, r.obj(t)["action_count"], "recorded")
	}
	assert.Contains(t, fake.Authorizations(), clearAuth, "the header reached the server opened")
	var tested int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = 'mcp_server.tested'`).Scan(&tested))
	assert.Equal(t, 2, tested, "action_count is event-sourced")
	// Once more: the same count records nothing.
	head := s.head(t)
	r = dictCall(t, s, http.MethodPost, mcpPath+"/stream/test", nil, s.admin, tenancy.SystemTenantID)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, head, s.head(t))
	assert.Equal(t, []any{float64(2), float64(2)}, anyField(dictList(t, s, tenancy.SystemTenantID, mcpPath, "action_count", true), "action_count"))
	mcpNowhere(t, s, clearAuth)
}

func anyObjects(t *testing.T, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	require.True(t, ok, "%v", v)
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i], ok = x.(map[string]any)
		require.True(t, ok, "%v", x)
	}
	return out
}

func anyField(rows []map[string]any, key string) []any {
	out := []any{}
	for _, r := range rows {
		out = append(out, r[key])
	}
	return out
}

// stdio servers: refused while SKILLFLAW_MCP_STDIO_ENABLE is off (even to
// superusers); when on, superusers only (403 for a tenant admin: writes
// and the test); the test connection starts the command (the test binary
// re-executed as an MCP server, TestMain) with its env opened; the env
// values are never in clear at rest.
func TestMCPServers_Stdio(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	const clearEnv = "env-secret-4242"
	env := map[string]any{mcpStdioEnv: "1", "TOKEN": clearEnv}

	off := mcpStart(t, nil)
	head := off.head(t)
	r := dictCall(t, off, http.MethodPost, mcpPath+"/local", map[string]any{"command": exe, "env": env}, off.admin, tenancy.SystemTenantID)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Contains(t, r.raw, "SKILLFLAW_MCP_STDIO_ENABLE")
	r = dictCall(t, off, http.MethodPost, mcpPath+"/local", map[string]any{"mcp_type": "stdio", "command": exe}, off.admin, tenancy.SystemTenantID)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Equal(t, head, off.head(t), "nothing written")

	s := mcpStart(t, map[string]string{"SKILLFLAW_MCP_STDIO_ENABLE": "true"})
	ta := s.tenant(t, "A")
	local := mcpAdd(t, s, ta, "local", map[string]any{"command": exe, "args": []string{"-test.run=^$"}, "env": env})
	assert.Equal(t, "stdio", local["mcp_type"], "inferred from the command")
	assert.Equal(t, map[string]any{mcpStdioEnv: domain.SecretMask, "TOKEN": domain.SecretMask}, local["env"])
	assert.Equal(t, []any{"-test.run=^$"}, local["args"])
	r = dictCall(t, s, http.MethodPost, mcpPath+"/local/test", nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Equal(t, true, r.obj(t)["success"], r.raw)
	assert.EqualValues(t, 2, r.obj(t)["action_count"])

	// A tenant admin (mcp read/write/modify/delete tenant-wide) may not.
	ada := s.user(t, "ada", "")
	s.grantRole(t, s.admin, ta, ada, "tenant_admin")
	token := s.login(t, "ada", ugPassword).access
	r = dictCall(t, s, http.MethodPost, mcpPath+"/http", map[string]any{"url": "https://mcp.example.com/mcp"}, token, ta)
	require.Equal(t, http.StatusOK, r.status, "the admin writes HTTP servers: %s", r.raw)
	head = s.head(t)
	for _, r := range []reply{
		dictCall(t, s, http.MethodPost, mcpPath+"/mine", map[string]any{"command": "/bin/sh"}, token, ta),
		dictCall(t, s, http.MethodPatch, mcpPath+"/local", map[string]any{"note": "x"}, token, ta),
		dictCall(t, s, http.MethodPatch, mcpPath+"/http", map[string]any{"command": "/bin/sh"}, token, ta),
		dictCall(t, s, http.MethodPost, mcpPath+"/local/test", nil, token, ta),
	} {
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		assert.Contains(t, r.raw, commands.MsgMCPStdioSuperuser)
	}
	assert.Equal(t, head, s.head(t), "the admin wrote nothing")
	r = dictCall(t, s, http.MethodGet, mcpPath+"/local", nil, token, ta)
	require.Equal(t, http.StatusOK, r.status, "reading is not running: %s", r.raw)
	assert.NotContains(t, r.raw, clearEnv)
	mcpNowhere(t, s, clearEnv)
}

// Scopes: a business server is seen by readers of its business only (not
// by a reader of another business, nor by another tenant's users); system
// servers by everyone; only superusers write system servers.
func TestMCPServers_Scopes(t *testing.T) {
	t.Parallel()
	s := mcpStart(t, nil)
	sys := tenancy.SystemTenantID
	tb := s.tenant(t, "B")
	biz := func(name string) int64 {
		r := s.call(t, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": sys, "business_name": name,
			"business_level": 1, "first_business_id": 0, "second_business_id": 0}, s.admin)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return ugInt(t, r.obj(t)["business_id"])
	}
	b1, b2 := biz("B1"), biz("B2")
	url := "https://mcp.example.com/mcp"
	mcpAdd(t, s, sys, "one", map[string]any{"mcp_scope": 2, "business_id": b1, "url": url})
	mcpAdd(t, s, sys, "two", map[string]any{"business_id": b2, "url": url})
	mcpAdd(t, s, sys, "everyone", map[string]any{"mcp_scope": 0, "url": url})
	mcpAdd(t, s, sys, "tenantwide", map[string]any{"url": url})
	mcpAdd(t, s, tb, "theirs", map[string]any{"url": url})
	assert.Equal(t, []string{"two"}, mcpNames(dictList(t, s, sys, mcpPath, "business_id", b2)))

	// bob reads in B2 only (a business role), in the system tenant.
	bob := s.user(t, "bob", "")
	r := s.call(t, http.MethodPut, ugPath("/api/v1/businesses", b2, "user-roles"), map[string]any{"uid": bob, "role_ids": []string{"viewer"}}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	bobT := s.login(t, "bob", ugPassword).access
	asBob := func(method, path string) reply { return s.do(t, method, path, nil, bearer(bobT)) }
	r = asBob(http.MethodGet, mcpPath+"?all_scopes=true&sort_by=name&sort_order=asc")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"everyone", "tenantwide", "two"}, mcpNames(r.objects(t)))
	r = asBob(http.MethodGet, mcpPath+ugQuery("business_id", b1))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t))
	for _, path := range []string{mcpPath + "/one", mcpPath + "/one" + ugQuery("business_id", b1), mcpPath + "/one?mcp_scope=2"} {
		ugDetail(t, asBob(http.MethodGet, path), http.StatusNotFound, domain.MsgMCPServerNotFound)
		ugDetail(t, asBob(http.MethodPost, strings.Replace(path, "/one", "/one/test", 1)), http.StatusNotFound, domain.MsgMCPServerNotFound)
	}
	r = asBob(http.MethodGet, mcpPath+"/two")
	require.Equal(t, http.StatusOK, r.status, "the most specific visible one: %s", r.raw)
	assert.EqualValues(t, b2, ugInt(t, r.obj(t)["business_id"]))
	requireForbidden(t, s.do(t, http.MethodPatch, mcpPath+"/two"+ugQuery("business_id", b2), map[string]any{"note": "x"}, bearer(bobT)))

	// carol reads tenant B as a whole: system servers and B's, never the
	// system tenant's others.
	carol := s.user(t, "carol", "")
	s.grantRole(t, s.admin, tb, carol, "tenant_admin")
	carolT := s.login(t, "carol", ugPassword).access
	r = dictCall(t, s, http.MethodGet, mcpPath+"?all_scopes=true&sort_by=name&sort_order=asc", nil, carolT, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []string{"everyone", "theirs"}, mcpNames(r.objects(t)))
	ugDetail(t, dictCall(t, s, http.MethodGet, mcpPath+"/one", nil, carolT, tb), http.StatusNotFound, domain.MsgMCPServerNotFound)
	ugDetail(t, dictCall(t, s, http.MethodGet, mcpPath+"/tenantwide", nil, carolT, tb), http.StatusNotFound, domain.MsgMCPServerNotFound)
	r = dictCall(t, s, http.MethodGet, mcpPath+"/one"+ugQuery("business_id", b1), nil, carolT, tb)
	assert.Equal(t, http.StatusNotFound, r.status, "a business of another tenant: %s", r.raw)
	r = dictCall(t, s, http.MethodGet, mcpPath+"/everyone", nil, carolT, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	// carol may write B's servers, not system ones.
	r = dictCall(t, s, http.MethodPost, mcpPath+"/sys2", map[string]any{"mcp_scope": 0, "url": url}, carolT, tb)
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
	r = dictCall(t, s, http.MethodDelete, mcpPath+"/everyone?mcp_scope=0", nil, carolT, tb)
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
	r = dictCall(t, s, http.MethodPost, mcpPath+"/carols", map[string]any{"mcp_scope": 3, "url": url}, carolT, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	carols := ugInt(t, r.obj(t)["id"])
	dave := s.user(t, "dave", "")
	s.grantRole(t, s.admin, tb, dave, "tenant_admin")
	daveT := s.login(t, "dave", ugPassword).access
	ugDetail(t, dictCall(t, s, http.MethodPatch, mcpPath+ugQuery("server_id", carols), map[string]any{"note": "x"}, daveT, tb),
		http.StatusNotFound, domain.MsgMCPServerNotFound)
	ugDetail(t, dictCall(t, s, http.MethodGet, mcpPath+"/carols?mcp_scope=3", nil, daveT, tb), http.StatusNotFound, domain.MsgMCPServerNotFound)
	r = dictCall(t, s, http.MethodPatch, mcpPath+ugQuery("server_id", carols), map[string]any{"note": "mine"}, carolT, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = dictCall(t, s, http.MethodGet, mcpPath+"?mcp_scope=3", nil, s.admin, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t), "personal scope lists the caller's own")
}
