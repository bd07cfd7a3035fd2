package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakemcp"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// mcpToolsStart serves the runs App with the MCP server registry, the
// agent's model at fake, env added (a secret key always); logs go to the
// returned buffer.
func mcpToolsStart(t *testing.T, fake *fakeopenai.Server, env map[string]string) (*rtServer, *bytes.Buffer, *sync.Mutex) {
	t.Helper()
	runs := &app.Runs{Components: components.All(), Env: engine.Env{Models: &models.OpenAI{BaseURL: fake.URL}}}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], app.MCPServers{}, mods[len(mods)-1])
	e := adminEnv(rtRoot, rtPassword)
	e["SKILLFLAW_SECRET_KEY"] = cfgSecretKey
	for k, v := range env {
		e[k] = v
	}
	logs, mu := &bytes.Buffer{}, &sync.Mutex{}
	h := startApp(t, options{env: e, modules: mods,
		logger: slog.New(slog.NewTextHandler(&accLockedWriter{w: logs, mu: mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s := &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
	for id, name := range map[uuid.UUID]string{tenancy.SystemTenantID: "System"} {
		_, err := h.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, $2, true, true, now(), now(), 0) ON CONFLICT DO NOTHING`, id, name)
		require.NoError(t, err)
	}
	return s, logs, mu
}

// mcpRegister registers server name in tenant as the superuser.
func mcpRegister(t *testing.T, s *rtServer, tenant uuid.UUID, name string, body map[string]any) {
	t.Helper()
	hd := bearer(s.root.token)
	hd.Set(tenancy.HeaderTenantID, tenant.String())
	r := s.do(t, http.MethodPost, mcpPath+"/"+name, body, hd)
	require.Equal(t, http.StatusOK, r.status, r.raw)
}

// mcpAgentData is the Simple Agent starter with its Calculator replaced by
// an MCP Tools node in tool mode naming server (its URL tool left out).
func mcpAgentData(t *testing.T, server string) map[string]any {
	t.Helper()
	raw, err := json.Marshal(starterData(t, "simple-agent"))
	require.NoError(t, err)
	text := strings.NewReplacer("CalculatorComponent-Vb8Tr", "MCPTools-Mc1Pt", "œCalculatorComponentœ", "œMCPToolsœ",
		`"dataType":"CalculatorComponent"`, `"dataType":"MCPTools"`).Replace(string(raw))
	var data map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &data))
	var nodes []any
	for _, n := range data["nodes"].([]any) {
		d := n.(map[string]any)["data"].(map[string]any)
		switch d["id"] {
		case "URLComponent-Hx2Wd":
			continue
		case "MCPTools-Mc1Pt":
			d["type"] = "MCPTools"
			node := d["node"].(map[string]any)
			node["display_name"] = "MCP Tools"
			node["template"] = map[string]any{
				"_type": "Component",
				"code":  map[string]any{"type": "code", "value": "# MCP Tools", "show": true},
				"mcp_server": map[string]any{"type": "mcp", "name": "mcp_server", "show": true,
					"value": map[string]any{"name": server, "config": map[string]any{"url": "http://203.0.113.9/never-used"}}},
				"tool":                   map[string]any{"type": "str", "name": "tool", "show": false, "value": ""},
				"tool_execution_timeout": map[string]any{"type": "float", "name": "tool_execution_timeout", "show": true, "value": 0.0},
			}
		}
		nodes = append(nodes, n)
	}
	data["nodes"] = nodes
	var edges []any
	for _, e := range data["edges"].([]any) {
		if e.(map[string]any)["source"] != "URLComponent-Hx2Wd" {
			edges = append(edges, e)
		}
	}
	data["edges"] = edges
	return data
}

// tableHolds lists the tables (events included) with a row holding clear.
func tableHolds(t *testing.T, s *rtServer, clear string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := s.app.Pool().Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "events")
	var holding []string
	for _, table := range tables {
		var n int
		require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table+` x WHERE x::text LIKE $1`, "%"+clear+"%").Scan(&n))
		if n > 0 {
			holding = append(holding, table)
		}
	}
	return holding
}

// An agent flow whose MCP Tools node (tool mode) names a server of the
// registry: the agent is given the server's tools with their schemas, its
// call of add reaches the in-process MCP server (the official SDK's) with
// the model's arguments and the header opened from the registry, the
// result goes back to the model and into the final answer, and the
// header's secret appears in no answer, no table (events included) and
// no log line. The config inside the node's mcp_server value is never
// used. Another tenant's server of the same kind is not found; an
// inactive server is refused.
func TestMCPTools_AgentUsesRegistryServer(t *testing.T) {
	t.Parallel()
	mcp := fakemcp.New(t)
	fake := fakeopenai.New(t)
	fake.Handle(func(r fakeopenai.Request) fakeopenai.Reply {
		msgs := r.Chat.Messages
		if last := msgs[len(msgs)-1]; last.Role == "tool" {
			return fakeopenai.Reply{Text: "The tool said " + last.Text()}
		}
		return fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_add", "add", `{"a": 2, "b": 40}`)}}
	})
	s, logs, logMu := mcpToolsStart(t, fake, map[string]string{"SKILLFLAW_EGRESS_ALLOW": "127.0.0.1"})
	const secret = "Bearer mcp-flow-secret-60606"
	mcpRegister(t, s, tenancy.SystemTenantID, "calc", map[string]any{"url": mcp.URL + "/mcp", "headers": map[string]any{"Authorization": secret}})

	flow := s.flow(t, s.root.token, mcpAgentData(t, "calc"), nil)
	r := s.buildWithKey(t, flow, inputs("What is 2+40?", ""))
	assert.Contains(t, r.raw, `"type": "tool_use"`, r.raw)
	assert.Contains(t, r.raw, `"name": "add"`)
	assert.Contains(t, r.raw, `The tool said {\"sum\":42}`, "the final answer holds the tool's result")
	assert.NotContains(t, r.raw, secret)

	calls := mcp.Calls()
	require.Len(t, calls, 1, "one tool call reached the MCP server")
	assert.Equal(t, "add", calls[0].Name)
	assert.Equal(t, map[string]any{"a": float64(2), "b": float64(40)}, calls[0].Arguments)
	assert.Equal(t, secret, calls[0].Authorization, "the registry's header, opened")

	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	var toolNames []string
	var addSchema any
	for _, tl := range reqs[0].Chat.Tools {
		fn := tl.(map[string]any)["function"].(map[string]any)
		toolNames = append(toolNames, fn["name"].(string))
		if fn["name"] == "add" {
			addSchema = fn["parameters"]
			assert.Equal(t, "Add two numbers", fn["description"])
		}
	}
	assert.ElementsMatch(t, []string{"add", "echo", "get_current_date"}, toolNames)
	require.NotNil(t, addSchema)
	assert.Contains(t, addSchema.(map[string]any)["properties"], "a", "the server's input schema")

	// Another tenant's server is not the flow's: not found, nothing called.
	tb := uuid.New()
	_, err := s.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, 'B', false, true, now(), now(), 0)`, tb)
	require.NoError(t, err)
	mcpRegister(t, s, tb, "other", map[string]any{"url": mcp.URL + "/mcp", "headers": map[string]any{"Authorization": secret}})
	other := s.flow(t, s.root.token, mcpAgentData(t, "other"), nil)
	r = s.buildWithKey(t, other, inputs("What is 2+40?", ""))
	assert.Contains(t, r.raw, "MCP server other not found", r.raw)
	assert.Len(t, mcp.Calls(), 1, "no call for the other tenant's server")
	assert.Len(t, fake.Requests(), 2, "the agent did not run")

	// An inactive server is refused.
	hd := bearer(s.root.token)
	hd.Set(tenancy.HeaderTenantID, tenancy.SystemTenantID.String())
	p := s.do(t, http.MethodPatch, mcpPath+"/calc", map[string]any{"is_active": false}, hd)
	require.Equal(t, http.StatusOK, p.status, p.raw)
	r = s.buildWithKey(t, flow, inputs("What is 2+40?", ""))
	assert.Contains(t, r.raw, "MCP server calc is not active", r.raw)
	assert.Len(t, mcp.Calls(), 1)

	assert.Empty(t, tableHolds(t, s, secret), "no table holds the secret in clear")
	t.Cleanup(func() {
		logMu.Lock()
		defer logMu.Unlock()
		assert.NotEmpty(t, logs.String(), "the app logged")
		assert.NotContains(t, logs.String(), secret, "no log line holds the secret")
	})
}

// Without SKILLFLAW_EGRESS_ALLOW the registry's loopback server is refused
// by the egress policy: the run fails with the policy's word and nothing
// reaches the server.
func TestMCPTools_EgressRefused(t *testing.T) {
	t.Parallel()
	mcp := fakemcp.New(t)
	fake := fakeopenai.New(t)
	fake.Reply("gpt-4o-mini", fakeopenai.Reply{Text: "unused"})
	s, _, _ := mcpToolsStart(t, fake, nil)
	mcpRegister(t, s, tenancy.SystemTenantID, "calc", map[string]any{"url": mcp.URL + "/mcp", "headers": map[string]any{"Authorization": "Bearer x"}})
	flow := s.flow(t, s.root.token, mcpAgentData(t, "calc"), nil)
	r := s.buildWithKey(t, flow, inputs("What is 2+40?", ""))
	assert.Contains(t, r.raw, "SKILLFLAW_EGRESS_ALLOW", r.raw)
	assert.Empty(t, mcp.Authorizations(), "nothing reached the server")
	assert.Empty(t, fake.Requests(), "the agent did not run")
}

// A stdio server (this test binary re-executed as an MCP server, its env
// opened from the registry) serves a flow when SKILLFLAW_MCP_STDIO_ENABLE
// is on and a superuser created it; a stdio server no superuser vouched
// for (its creator is not one) is refused, its command never started.
func TestMCPTools_Stdio(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	fake := fakeopenai.New(t)
	fake.Handle(func(r fakeopenai.Request) fakeopenai.Reply {
		msgs := r.Chat.Messages
		if last := msgs[len(msgs)-1]; last.Role == "tool" {
			return fakeopenai.Reply{Text: "The tool said " + last.Text()}
		}
		return fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_add", "add", `{"a": 20, "b": 22}`)}}
	})
	s, _, _ := mcpToolsStart(t, fake, map[string]string{"SKILLFLAW_MCP_STDIO_ENABLE": "true"})
	mcpRegister(t, s, tenancy.SystemTenantID, "local", map[string]any{"command": exe, "args": []string{"-test.run=^$"},
		"env": map[string]any{mcpStdioEnv: "1"}})
	flow := s.flow(t, s.root.token, mcpAgentData(t, "local"), nil)
	r := s.buildWithKey(t, flow, inputs("What is 20+22?", ""))
	assert.Contains(t, r.raw, `The tool said {\"sum\":42}`, r.raw)

	_, err = s.app.Pool().Exec(context.Background(), `UPDATE mcp_servers SET c_uid = 0 WHERE name = 'local'`)
	require.NoError(t, err)
	n := len(fake.Requests())
	r = s.buildWithKey(t, flow, inputs("What is 20+22?", ""))
	assert.Contains(t, r.raw, "a stdio server is used in flows only when it is a system server or a superuser created it", r.raw)
	assert.Len(t, fake.Requests(), n, "the agent did not run")
}

// The registry's visibility holds in runs: a plain user's flow does not
// see the tenant's server until they hold mcp.read in the tenant, and
// never sees the superuser's personal server.
func TestMCPTools_Visibility(t *testing.T) {
	t.Parallel()
	mcp := fakemcp.New(t)
	fake := fakeopenai.New(t)
	fake.Handle(func(r fakeopenai.Request) fakeopenai.Reply {
		msgs := r.Chat.Messages
		if last := msgs[len(msgs)-1]; last.Role == "tool" {
			return fakeopenai.Reply{Text: "The tool said " + last.Text()}
		}
		return fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_add", "add", `{"a": 1, "b": 1}`)}}
	})
	s, _, _ := mcpToolsStart(t, fake, map[string]string{"SKILLFLAW_EGRESS_ALLOW": "127.0.0.1"})
	mcpRegister(t, s, tenancy.SystemTenantID, "calc", map[string]any{"url": mcp.URL + "/mcp"})
	mcpRegister(t, s, tenancy.SystemTenantID, "rootmine", map[string]any{"url": mcp.URL + "/mcp", "mcp_scope": 3})

	r := s.call(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "ada", "password": ugPassword}, s.root.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	ada := ugInt(t, r.obj(t)["id"])
	_, err := s.app.Pool().Exec(context.Background(), `UPDATE users SET is_active = true WHERE id = $1`, ada)
	require.NoError(t, err)
	token := s.login(t, "ada", ugPassword).access
	run := func(server string) string {
		flow := s.flow(t, token, mcpAgentData(t, server), nil)
		h := bearer(token)
		h.Set("X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY", "sk-from-header")
		r := s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", inputs("1+1?", ""), h)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return r.raw
	}
	assert.Contains(t, run("calc"), "MCP server calc not found", "no mcp.read in the tenant")
	assert.Contains(t, run("rootmine"), "MCP server rootmine not found", "another user's personal server")
	assert.Empty(t, mcp.Calls())

	s.grantRole(t, s.root.token, tenancy.SystemTenantID, ada, "tenant_admin")
	assert.Contains(t, run("calc"), `The tool said {\"sum\":2}`, "with mcp.read in the tenant")
	assert.Contains(t, run("rootmine"), "MCP server rootmine not found", "a personal server stays its creator's")
	assert.Len(t, mcp.Calls(), 1)
}
