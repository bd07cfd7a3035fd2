package components

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// fakeMCP is an engine.MCPServers of one server, "calc", with the tools
// add and fail.tool (a name a model refuses), recording the calls.
type fakeMCP struct {
	mu    sync.Mutex
	calls []string
	runs  []engine.RunInfo
}

var fakeMCPAddSchema = map[string]any{"type": "object", "required": []any{"a", "b"},
	"properties": map[string]any{"a": map[string]any{"type": "integer"}, "b": map[string]any{"type": "integer"},
		"note": map[string]any{"type": "string"}}}

func (f *fakeMCP) Tools(_ context.Context, run engine.RunInfo, server string) ([]engine.MCPTool, error) {
	f.mu.Lock()
	f.runs = append(f.runs, run)
	f.mu.Unlock()
	if server != "calc" {
		return nil, fmt.Errorf("MCP server %s not found", server)
	}
	return []engine.MCPTool{
		{Name: "add", Description: "Add two numbers", InputSchema: fakeMCPAddSchema},
		{Name: "fail.tool", Description: "Always fails"},
	}, nil
}

func (f *fakeMCP) Call(_ context.Context, _ engine.RunInfo, server, tool string, args map[string]any) (*engine.MCPResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s/%s %v", server, tool, args))
	f.mu.Unlock()
	switch tool {
	case "add":
		return &engine.MCPResult{Content: []map[string]any{{"type": "text", "text": fmt.Sprintf(`{"sum": %v+%v}`, args["a"], args["b"])}}}, nil
	case "fail.tool":
		return &engine.MCPResult{IsError: true, Content: []map[string]any{{"type": "text", "text": "the tool broke"}}}, nil
	}
	return nil, errors.New("unknown tool")
}

func (f *fakeMCP) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func mcpAgentFlow(t *testing.T, h *harness, server any) []byte {
	return h.flow(t).node("ChatInput-i", "", nil).
		node("Agent-a", "", map[string]any{"model": agentModelField, "add_current_date_tool": false}).
		node("ChatOutput-o", "", nil).
		node("MCPTools-m", "", map[string]any{"mcp_server": server}).asTool("MCPTools-m").
		edge("ChatInput-i", "message", "Agent-a", "input_value").edge("Agent-a", "response", "ChatOutput-o", "input_value").
		toolEdge("MCPTools-m", "Agent-a").bytes()
}

// In tool mode every tool of the server is the agent's, with its
// name (made acceptable to a model), description and schema; the agent's
// call goes through the port with the model's arguments and its result
// goes back to the model; a failed call is the tool's error.
func TestMCPTools_ToolMode(t *testing.T) {
	h := newAgentHarness(t)
	port := &fakeMCP{}
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{
			fakeopenai.Call("c1", "add", `{"a": 2, "b": 3}`),
			fakeopenai.Call("c2", "fail-tool", `{}`),
		}},
		fakeopenai.Reply{Text: "The sum is 5."})
	in := "2+3?"
	res, _ := runAgentFlow(t, h, mcpAgentFlow(t, h, map[string]any{"name": "calc", "config": map[string]any{"url": "http://ignored"}}),
		engine.RunInput{InputValue: &in, Tenant: "tenant-1"}, func(e *engine.Env) { e.MCP = port })
	require.NoError(t, res.Err)
	assert.Equal(t, "The sum is 5.", outText(t, res, "ChatOutput-o", "message"))

	reqs := h.fake.Requests()
	require.Len(t, reqs, 2)
	require.Len(t, reqs[0].Chat.Tools, 2)
	assert.Equal(t, map[string]any{"type": "function", "function": map[string]any{"name": "add", "description": "Add two numbers",
		"parameters": fakeMCPAddSchema}}, reqs[0].Chat.Tools[0])
	assert.Equal(t, "fail-tool", reqs[0].Chat.Tools[1].(map[string]any)["function"].(map[string]any)["name"])
	msgs := reqs[1].Chat.Messages
	require.Len(t, msgs, 5)
	assert.Equal(t, `{"sum": 2+3}`, msgs[3].Text(), "the tool's text goes to the model")
	assert.Equal(t, "Error: the tool broke", msgs[4].Text())
	assert.ElementsMatch(t, []string{"calc/add map[a:2 b:3]", "calc/fail.tool map[]"}, port.callList(), "the server's own names")
	require.NotEmpty(t, port.runs)
	assert.Equal(t, "tenant-1", port.runs[0].Tenant)
	assert.EqualValues(t, 7, port.runs[0].UserID)

	// The actions table renames and disables the server's tools.
	h.fake.Script("gpt-4o-mini", fakeopenai.Reply{Text: "ok"})
	data := h.flow(t).node("ChatInput-i", "", nil).
		node("Agent-a", "", map[string]any{"model": agentModelField, "add_current_date_tool": false}).
		node("ChatOutput-o", "", nil).
		node("MCPTools-m", "", map[string]any{"mcp_server": "calc", "tools_metadata": []any{
			map[string]any{"tags": []any{"add"}, "name": "sum_numbers", "description": "Sums", "status": true},
			map[string]any{"tags": []any{"fail.tool"}, "status": false}}}).asTool("MCPTools-m").
		edge("ChatInput-i", "message", "Agent-a", "input_value").edge("Agent-a", "response", "ChatOutput-o", "input_value").
		toolEdge("MCPTools-m", "Agent-a").bytes()
	res, _ = runAgentFlow(t, h, data, engine.RunInput{InputValue: &in}, func(e *engine.Env) { e.MCP = port })
	require.NoError(t, res.Err)
	tools := h.fake.Last(t).Chat.Tools
	require.Len(t, tools, 1)
	assert.Equal(t, "sum_numbers", tools[0].(map[string]any)["function"].(map[string]any)["name"])
	assert.Equal(t, "Sums", tools[0].(map[string]any)["function"].(map[string]any)["description"])
}

// Errors are surfaced: no port, no server selected, a server the port
// does not find.
func TestMCPTools_Errors(t *testing.T) {
	h := newAgentHarness(t)
	in := "hi"
	res, _ := runAgentFlow(t, h, mcpAgentFlow(t, h, map[string]any{"name": "calc"}), engine.RunInput{InputValue: &in}, nil)
	assert.Contains(t, failure(t, res, "MCPTools-m"), "without the MCP server registry")
	port := &fakeMCP{}
	res, _ = runAgentFlow(t, h, mcpAgentFlow(t, h, map[string]any{"name": "other"}), engine.RunInput{InputValue: &in},
		func(e *engine.Env) { e.MCP = port })
	assert.Contains(t, failure(t, res, "MCPTools-m"), "MCP server other not found")
	res, _ = runAgentFlow(t, h, mcpAgentFlow(t, h, map[string]any{}), engine.RunInput{InputValue: &in},
		func(e *engine.Env) { e.MCP = port })
	assert.Contains(t, failure(t, res, "MCPTools-m"), "no MCP server selected")
	assert.Empty(t, port.callList())
	assert.Empty(t, h.fake.Requests(), "the agent never ran")
}

// Outside tool mode the selected tool is called with the node's fields
// its schema names (a blank optional one left out), and the result is a
// DataFrame of its content (a JSON object text as that object); a failed
// call fails the vertex; no tool selected is Langflow's error row.
func TestMCPTools_Normal(t *testing.T) {
	h := newHarness(t)
	port := &fakeMCP{}
	run := func(values map[string]any) *engine.RunResult {
		data := h.flow(t).node("MCPTools-m", "", values).bytes()
		g, err := h.eng.Compile(data)
		require.NoError(t, err)
		e := h.env()
		e.MCP = port
		return h.eng.Run(context.Background(), g, engine.RunInput{FlowID: "f", UserID: 7}, e, &events{})
	}
	res := run(map[string]any{"mcp_server": map[string]any{"name": "calc"}, "tool": fieldSpec("value", "add", "show", true),
		"a": 4, "b": 5, "note": ""})
	df, ok := outValue(t, res, "MCPTools-m", "response").(*engine.DataFrame)
	require.True(t, ok)
	assert.Equal(t, []map[string]any{{"text": `{"sum": 4+5}`, "type": "text"}}, df.Rows, "not JSON: the item as is")
	assert.Equal(t, []string{"calc/add map[a:4 b:5]"}, port.callList())

	res = run(map[string]any{"mcp_server": "calc", "tool": fieldSpec("value", "fail.tool", "show", true)})
	assert.Contains(t, failure(t, res, "MCPTools-m"), "the tool broke")

	res = run(map[string]any{"mcp_server": "calc", "tool": fieldSpec("value", "nope", "show", true)})
	assert.Contains(t, failure(t, res, "MCPTools-m"), "tool nope not found on MCP server calc")

	res = run(map[string]any{"mcp_server": "calc"})
	df = outValue(t, res, "MCPTools-m", "response").(*engine.DataFrame)
	assert.Equal(t, []map[string]any{{"error": "You must select a tool"}}, df.Rows)
}
