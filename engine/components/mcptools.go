package components

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/skillflaw/skillflaw-go/engine"
)

// MCPTools is Langflow's MCP Tools (MCPToolsComponent): the tools of an
// MCP server of the server's registry (the MCP servers API), reached
// through the engine's MCP port (engine.Env.MCP), which finds the server
// by name among those the run's user sees in the run's tenant, opens its
// secrets in memory and applies the registry's rules (egress policy,
// stdio rule, timeouts).
//
//   - mcp_server names the server: Langflow's {"name": …, "config": …}
//     or a bare name. Only the name is used: the registry's record is the
//     configuration (a config in the flow is never connected to, so a
//     flow cannot reach a server the registry does not hold).
//   - In tool mode (its component_as_tool output feeding an agent) every
//     tool of the server is a tool of the agent, with the server's name
//     (characters a model refuses become "-"), description and input
//     schema; the node's actions table (tools_metadata) renames or
//     disables them. The agent's calls go through the port; a call the
//     server reports as failed is the tool's error.
//   - Otherwise its output, response, is the result of calling the
//     selected tool with the node's fields named as the tool's arguments
//     (blank optional ones left out, as Langflow does): a DataFrame of
//     the result's content items, a text item whose text is a JSON object
//     being that object. Without a tool selected the output is Langflow's
//     [{"error": "You must select a tool"}].
//
// tool_execution_timeout (seconds, 0: the server's default) bounds each
// call. use_cache, verify_ssl and headers are accepted and ignored: the
// registry's record holds the server's headers, and the egress policy
// decides what is reached.
type MCPTools struct{}

var (
	_ engine.Component = MCPTools{}
	_ engine.Toolkit   = MCPTools{}
)

// mcpToolsFields are the component's own fields: the others of a node are
// the selected tool's arguments.
var mcpToolsFields = []string{"code", "_type", "tool_mode", "tool_placeholder", "mcp_server", "tool", "use_cache",
	"verify_ssl", "headers", "tool_execution_timeout", "tools_metadata", "session_id"}

// Spec implements engine.Component.
func (MCPTools) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "MCPTools", Category: "models_and_agents", DisplayName: "MCP Tools",
		Description: "Connect to an MCP server to use its tools.", Icon: "Mcp",
		BaseClasses: []string{"DataFrame"},
		Fields: []engine.FieldSpec{
			field("mcp", "McpInput", "mcp_server", "MCP Server", map[string]any{}, nil, []fieldOpt{
				info("Select the MCP Server that will be used by this component")}),
			boolInput("use_cache", "Use Cached Server", false, advanced,
				info("Enable caching of MCP Server and tools to improve performance. Disable to always fetch fresh tools and server updates.")),
			boolInput("verify_ssl", "Verify SSL Certificate", true, advanced,
				info("Enable SSL certificate verification for HTTPS connections. Disable only for development/testing with self-signed certificates.")),
			dictInput("headers", "Headers", advanced, isList,
				info("HTTP headers to include with MCP server requests. Useful for authentication (e.g., Authorization header). "+
					"These headers override any headers configured in the MCP server settings.")),
			field("float", "FloatInput", "tool_execution_timeout", "Tool Execution Timeout (seconds)", 0.0, nil, []fieldOpt{advanced,
				info("Maximum time to wait for tool execution before timing out. Supports decimal values for sub-second timeouts " +
					"(e.g., 0.01 for 10ms). Set to 0 to use the system-configured MCP timeout.")}),
			dropdownInput("tool", "Tool", "", []string{}, hidden, required, info("Select the tool to execute")),
			messageTextInput("tool_placeholder", "Tool Placeholder", "", hidden, info("Placeholder for the tool")),
		},
		Outputs: []engine.OutputSpec{output("response", "Response", "build_output", "DataFrame")},
	}
}

// mcpPort returns the run's MCP port and the server the node names.
func mcpPort(b *engine.Build) (engine.MCPServers, string, error) {
	port := b.Env().MCP
	if port == nil {
		return nil, "", errors.New("MCP Tools: this server runs flows without the MCP server registry")
	}
	var name string
	switch v, _ := b.Param("mcp_server"); x := v.(type) {
	case map[string]any:
		name, _ = x["name"].(string)
	case string:
		name = x
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", errors.New("MCP Tools: no MCP server selected")
	}
	return port, name, nil
}

// mcpTimeout bounds ctx by tool_execution_timeout when it is set.
func mcpTimeout(ctx context.Context, b *engine.Build) (context.Context, context.CancelFunc, error) {
	secs, ok := b.Float("tool_execution_timeout")
	switch {
	case !ok || secs == 0:
		return ctx, func() {}, nil
	case secs < 0:
		return nil, nil, errors.New("Tool Execution Timeout must be greater than or equal to 0.")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs*float64(time.Second)))
	return ctx, cancel, nil
}

var notMCPToolNameChar = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// Toolkit implements engine.Toolkit: every tool of the server.
func (MCPTools) Toolkit(ctx context.Context, b *engine.Build) ([]*engine.Tool, error) {
	port, server, err := mcpPort(b)
	if err != nil {
		return nil, err
	}
	defs, err := port.Tools(ctx, b.Run(), server)
	if err != nil {
		return nil, err
	}
	run := b.Run()
	tools := make([]*engine.Tool, 0, len(defs))
	for _, d := range defs {
		name := d.Name
		schema := d.InputSchema
		if schema == nil {
			schema = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		desc := d.Description
		if desc == "" {
			desc = name
		}
		tools = append(tools, engine.NewTool(notMCPToolNameChar.ReplaceAllString(name, "-"), desc, schema,
			func(ctx context.Context, args map[string]any) (engine.Value, error) {
				ctx, cancel, err := mcpTimeout(ctx, b)
				if err != nil {
					return nil, err
				}
				defer cancel()
				res, err := port.Call(ctx, run, server, name, args)
				if err != nil {
					return nil, err
				}
				if res.IsError {
					return nil, errors.New(mcpResultText(res))
				}
				return mcpToolValue(res), nil
			}))
	}
	return tools, nil
}

// mcpResultText is the text of a result: its text items, one a line, the
// others as JSON.
func mcpResultText(res *engine.MCPResult) string {
	var parts []string
	for _, c := range res.Content {
		if c["type"] == "text" {
			s, _ := c["text"].(string)
			parts = append(parts, s)
			continue
		}
		raw, _ := json.Marshal(c)
		parts = append(parts, string(raw))
	}
	if len(parts) == 0 && res.Structured != nil {
		raw, _ := json.Marshal(res.Structured)
		return string(raw)
	}
	return strings.Join(parts, "\n")
}

// mcpToolValue is a result as an agent's tool gives it: text when every
// item is text, else the items.
func mcpToolValue(res *engine.MCPResult) engine.Value {
	if !slices.ContainsFunc(res.Content, func(c map[string]any) bool { return c["type"] != "text" }) {
		return mcpResultText(res)
	}
	items := make([]any, len(res.Content))
	for i, c := range res.Content {
		items[i] = c
	}
	return items
}

// Build implements engine.Component: the selected tool's result.
func (MCPTools) Build(ctx context.Context, b *engine.Build) error {
	if !b.Wants("response") {
		return nil
	}
	port, server, err := mcpPort(b)
	if err != nil {
		return err
	}
	tool := b.Str("tool")
	if tool == "" {
		df := engine.NewDataFrame([]map[string]any{{"error": "You must select a tool"}})
		b.Set("response", df)
		b.SetStatus(df)
		return nil
	}
	defs, err := port.Tools(ctx, b.Run(), server)
	if err != nil {
		return fmt.Errorf("Error in build_output: %w", err)
	}
	i := slices.IndexFunc(defs, func(d engine.MCPTool) bool { return d.Name == tool })
	if i < 0 {
		return fmt.Errorf("Error in build_output: tool %s not found on MCP server %s", tool, server)
	}
	args := mcpArguments(b, defs[i].InputSchema)
	cctx, cancel, err := mcpTimeout(ctx, b)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := port.Call(cctx, b.Run(), server, tool, args)
	if err != nil {
		return fmt.Errorf("Error in build_output: %w", err)
	}
	if res.IsError {
		return fmt.Errorf("Error in build_output: %s", mcpResultText(res))
	}
	rows := make([]map[string]any, 0, len(res.Content))
	for _, c := range res.Content {
		rows = append(rows, mcpOutputItem(c))
	}
	df := engine.NewDataFrame(rows)
	b.Set("response", df)
	b.SetStatus(df)
	return nil
}

// mcpArguments are the node's fields named by the tool's schema: a
// message as its text; a null, and a blank or empty-object optional one,
// left out so the server's default applies.
func mcpArguments(b *engine.Build, schema map[string]any) map[string]any {
	props, _ := schema["properties"].(map[string]any)
	var req []string
	if list, ok := schema["required"].([]any); ok {
		for _, r := range list {
			if s, ok := r.(string); ok {
				req = append(req, s)
			}
		}
	}
	args := map[string]any{}
	for name := range props {
		if slices.Contains(mcpToolsFields, name) {
			continue
		}
		v, ok := b.Param(name)
		if !ok {
			continue
		}
		if m, isMsg := v.(*engine.Message); isMsg {
			v = m.Text
		}
		if !slices.Contains(req, name) {
			if s, isStr := v.(string); isStr && s == "" {
				continue
			}
			if m, isMap := v.(map[string]any); isMap && len(m) == 0 {
				continue
			}
		}
		args[name] = v
	}
	return args
}

// mcpOutputItem is one content item as a row of the output (Langflow's
// process_output_item): a text item whose text is a JSON object is that
// object; other JSON keeps the text with its parsed value.
func mcpOutputItem(c map[string]any) map[string]any {
	if c["type"] != "text" {
		return c
	}
	text, _ := c["text"].(string)
	var parsed any
	if err := json.Unmarshal([]byte(text), &parsed); err != nil {
		return c
	}
	if m, ok := parsed.(map[string]any); ok {
		return m
	}
	return map[string]any{"text": text, "parsed_value": parsed, "type": "text"}
}
