// Package mcpserver serves the caller's flows as MCP tools, and their
// files as MCP resources (Langflow's global MCP server,
// langflow/api/v1/mcp.py), over the official MCP Go SDK's transports: SSE
// (GET …/sse, POST …/?session_id=) and stateless Streamable HTTP
// (…/streamable), mounted at /api/v1/mcp and at the application root
// /mcp. The protocol (JSON-RPC, initialisation, tools/list, tools/call,
// resources, progress) is the SDK's; this package decides what the
// caller sees and runs.
package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/runs"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ServerName is the MCP server's name (Langflow's).
const ServerName = "langflow-mcp-server"

// Service builds the MCP server of one caller: the flows they may run as
// tools, their files as resources. It has no HTTP in it: the transports
// (http.go) call Server with the request's context (its caller and
// authoriser).
type Service struct {
	Pool *pgxpool.Pool
	Runs *runs.Service
	// Files reads a file the caller may read (runs.Files).
	Files engine.Files
	// Version is the server's version in the initialize answer.
	Version string
	// Progress is the interval of a tool call's progress notifications
	// (Langflow: 1 s).
	Progress time.Duration
	// CallTimeout bounds how long a tool call waits for its run (0: no
	// bound but the client's request). When it passes, the call answers
	// the tool error "context deadline exceeded" and the run goes on: in
	// this process, or on a worker when the call was queued (--role api,
	// runs.Options.QueueCalls), whose end is recorded and read by nobody.
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// toolFlow is a flow served as a tool.
type toolFlow struct {
	ID       uuid.UUID
	Name     string // the flow's name
	Tool     *mcp.Tool
	inputsOf map[string][]string // an input field → the input vertices that have it
}

// flowsQuery lists the flows caller may run that are mcp_enabled: their
// own, and those where they hold flows.run (tenant-wide or in the flow's
// business); superusers every one. Components and deleted flows are not
// tools.
const flowsQuery = `SELECT f.id, f.name, f.description, f.action_name, f.action_description, f.data
FROM flows f
WHERE NOT f.is_deleted AND NOT f.is_component AND f.mcp_enabled
  AND (f.user_id = @uid OR @super OR EXISTS (SELECT 1 FROM access_privileges ap
    WHERE ap.uid = @uid AND ap.tenant_id = coalesce(f.tenant_id, @system) AND ap.module_id = 'flows' AND ap.priv_id = 'run'
      AND ap.business_id IN (0, f.business_id)))
ORDER BY f.create_at, f.id`

// Tools returns the tools of caller, in the order of their flows'
// creation: names sanitised (Sanitize) from action_name, else the flow's
// name, cut to 30 characters and made unique; descriptions from
// action_description, else "<flow id>: <description>", else "Tool
// generated from flow: <name>"; input schemas from the flows' input
// vertices (InputSchema).
func (s *Service) Tools(ctx context.Context, caller auth.Principal) ([]*toolFlow, error) {
	rows, err := s.Pool.Query(ctx, flowsQuery, pgx.NamedArgs{"uid": caller.UserID, "super": caller.IsSuperuser,
		"system": tenancy.SystemTenantID})
	if err != nil {
		return nil, fmt.Errorf("list MCP tools: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []*toolFlow
	for rows.Next() {
		var (
			id                                 uuid.UUID
			name, desc, actionName, actionDesc string
			data                               []byte
		)
		if err := rows.Scan(&id, &name, &desc, &actionName, &actionDesc, &data); err != nil {
			return nil, fmt.Errorf("list MCP tools: %w", err)
		}
		base := name
		if actionName != "" {
			base = actionName
		}
		description := actionDesc
		switch {
		case description != "":
		case desc != "":
			description = id.String() + ": " + desc
		default:
			description = "Tool generated from flow: " + name
		}
		schema, inputs := InputSchema(data)
		out = append(out, &toolFlow{ID: id, Name: name, inputsOf: inputs,
			Tool: &mcp.Tool{Name: uniqueName(Sanitize(base), seen), Description: description, InputSchema: schema}})
	}
	return out, rows.Err()
}

// inputTypes are the input vertices a tool's arguments go to.
var inputTypes = map[string]bool{"ChatInput": true, "TextInput": true, "Webhook": true}

// jsonTypes maps a template field's type to its JSON schema type.
var jsonTypes = map[string]string{"str": "string", "int": "integer", "float": "number", "bool": "boolean"}

// InputSchema is the input schema of a flow's tool, as Langflow's
// json_schema_from_flow: every field of an input vertex (ChatInput,
// TextInput, Webhook) that is shown and not advanced becomes a property
// (str string, int integer, float number, bool boolean, else string;
// its info, else "Input for <field>", as description); required lists
// the required ones. It also returns, for each field, the vertices that
// have it.
func InputSchema(data []byte) (map[string]any, map[string][]string) {
	var flow struct {
		Nodes []struct {
			ID   string `json:"id"`
			Data struct {
				Type string `json:"type"`
				Node struct {
					Template map[string]json.RawMessage `json:"template"`
				} `json:"node"`
			} `json:"data"`
		} `json:"nodes"`
	}
	props, required, inputs := map[string]any{}, []string{}, map[string][]string{}
	_ = json.Unmarshal(data, &flow)
	for _, n := range flow.Nodes {
		if !inputTypes[n.Data.Type] {
			continue
		}
		for name, raw := range n.Data.Node.Template {
			var f struct {
				Show     *bool  `json:"show"`
				Advanced bool   `json:"advanced"`
				Required bool   `json:"required"`
				Type     string `json:"type"`
				Info     string `json:"info"`
			}
			if json.Unmarshal(raw, &f) != nil || f.Show == nil || !*f.Show || f.Advanced || name == "code" || name == "_type" {
				continue
			}
			typ, ok := jsonTypes[f.Type]
			if !ok {
				typ = "string"
			}
			desc := f.Info
			if desc == "" {
				desc = "Input for " + name
			}
			if _, dup := props[name]; !dup && f.Required {
				required = append(required, name)
			}
			props[name] = map[string]any{"type": typ, "description": desc}
			inputs[name] = append(inputs[name], n.ID)
		}
	}
	return map[string]any{"type": "object", "properties": props, "required": required}, inputs
}

// call runs the flow of t as caller with the call's arguments:
// input_value is the run's input, every other argument goes to the field
// of that name of the input vertices that have it. While it runs, a
// progress token gets progress notifications (0, then +0.1 each
// interval up to 0.9, then 1). A run that fails answers Langflow's text
// "Error Executing the <flow> tool. Error: <error>" (not an MCP error).
func (s *Service) call(ctx context.Context, caller auth.Principal, t *toolFlow, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	args := map[string]any{}
	if len(req.Params.Arguments) > 0 {
		if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
			return nil, fmt.Errorf("the arguments of %s are not a JSON object: %w", t.Tool.Name, err)
		}
	}
	input := ""
	if v, ok := args["input_value"]; ok && v != nil {
		if str, ok := v.(string); ok {
			input = str
		} else {
			input = engine.PyStr(v)
		}
	}
	tweaks := engine.Tweaks{}
	for k, v := range args {
		if k == "input_value" {
			continue
		}
		for _, vertex := range t.inputsOf[k] {
			fields, _ := tweaks[vertex].(map[string]any)
			if fields == nil {
				fields = map[string]any{}
				tweaks[vertex] = fields
			}
			fields[k] = v
		}
	}
	if s.CallTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.CallTimeout)
		defer cancel()
	}
	md := eventstore.Metadata{ActorUserID: caller.UserID, CorrelationID: httpapi.RequestID(ctx),
		OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}
	job, err := s.Runs.StartRun(ctx, runs.StartRun{FlowID: t.ID, Ref: t.ID.String(), UserID: caller.UserID, InputValue: &input,
		InputType: "chat", OutputType: "chat", Tweaks: tweaks, SessionID: uuid.NewString(), API: runs.APIMCP, Metadata: md})
	var out *runs.RunOutput
	if err == nil {
		stop := s.progress(ctx, req)
		out, err = job.Result(ctx)
		stop()
	}
	if err != nil {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{
			Text: fmt.Sprintf("Error Executing the %s tool. Error: %s", t.Name, err)}}}, nil
	}
	res := &mcp.CallToolResult{Content: []mcp.Content{}}
	for _, text := range out.Texts() {
		res.Content = append(res.Content, &mcp.TextContent{Text: text})
	}
	return res, nil
}

// progress sends req's progress notifications until the returned stop,
// which sends the last (1.0) and waits for the sender.
func (s *Service) progress(ctx context.Context, req *mcp.CallToolRequest) (stop func()) {
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return func() {}
	}
	every := s.Progress
	if every <= 0 {
		every = time.Second
	}
	notify := func(p float64) {
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: p, Total: 1})
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for p := 0.0; ; {
			notify(p)
			select {
			case <-done:
				notify(1)
				return
			case <-t.C:
				p = min(p+0.1, 0.9)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
