// Package mcpclient connects to an MCP server with the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk), lists its tools and calls
// them: the test connection of the MCP server registry, and the MCP Tools
// component of flows (through the runs package). It has no HTTP server
// in it and holds no secret: its caller opens the server's sealed env and
// headers in memory and passes them in.
//
// SSE and streamable HTTP servers are reached through the caller's
// *http.Client — the egress policy's (egress.Policy.HTTPClient), so an
// internal address is refused unless the operator allows it. stdio
// servers are a command started as a child process: the caller decides
// whether that is allowed at all.
package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The transports of an MCP server (the registry's mcp_type).
const (
	TypeStdio          = "stdio"
	TypeSSE            = "sse"
	TypeStreamableHTTP = "streamable_http"
)

// DefaultTimeout bounds a connection and its tool listing.
const DefaultTimeout = 15 * time.Second

// Server is how to reach an MCP server, its secrets in clear.
type Server struct {
	Type    string
	Command string
	Args    []string
	Env     map[string]string
	URL     string
	Headers map[string]string
}

// Tool is a tool an MCP server offers.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Options are how a connection is made.
type Options struct {
	// HTTPClient makes the HTTP requests of SSE and streamable HTTP
	// servers (nil: a client that refuses nothing — callers pass the
	// egress policy's). Headers are added on top of its transport.
	HTTPClient *http.Client
	// Timeout bounds the whole connection (0: DefaultTimeout).
	Timeout time.Duration
}

// InferType is the transport of a server that names none: a command is
// stdio; a URL is streamable HTTP unless its path ends in /sse.
func InferType(command, rawURL string) string {
	switch {
	case strings.TrimSpace(command) != "":
		return TypeStdio
	case rawURL != "":
		if u, err := url.Parse(rawURL); err == nil && strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/sse") {
			return TypeSSE
		}
		return TypeStreamableHTTP
	}
	return ""
}

// ValidType reports whether t is a known transport.
func ValidType(t string) bool {
	return t == TypeStdio || t == TypeSSE || t == TypeStreamableHTTP
}

// SameOrigin reports whether urls a and b have the same scheme and host
// (port included), case aside; an unparsable url is of no origin.
func SameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && sameOrigin(ua, ub)
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// headerTransport adds the server's headers (its secrets, opened in
// memory) to the requests to the server's own origin (scheme and host)
// only: a redirect to another host, or to plain http on the same host,
// never carries them.
type headerTransport struct {
	base    http.RoundTripper
	origin  *url.URL // nil: the server's url did not parse, no request gets the headers
	headers map[string]string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.origin == nil || !sameOrigin(r.URL, h.origin) {
		return h.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	for k, v := range h.headers {
		r.Header.Set(k, v)
	}
	return h.base.RoundTrip(r)
}

// httpClient is base (the egress policy's client) adding headers to the
// requests to rawURL's origin.
func httpClient(base *http.Client, rawURL string, headers map[string]string) *http.Client {
	if base == nil {
		base = &http.Client{}
	}
	c := *base
	if len(headers) > 0 {
		rt := c.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		var origin *url.URL
		if u, err := url.Parse(rawURL); err == nil {
			origin = u
		}
		c.Transport = headerTransport{base: rt, origin: origin, headers: headers}
	}
	return &c
}

// Transport is the SDK transport that reaches s.
func Transport(ctx context.Context, s Server, o Options) (mcp.Transport, error) {
	switch s.Type {
	case TypeSSE:
		return &mcp.SSEClientTransport{Endpoint: s.URL, HTTPClient: httpClient(o.HTTPClient, s.URL, s.Headers)}, nil
	case TypeStreamableHTTP:
		return &mcp.StreamableClientTransport{Endpoint: s.URL, HTTPClient: httpClient(o.HTTPClient, s.URL, s.Headers),
			MaxRetries: -1, DisableStandaloneSSE: true}, nil
	case TypeStdio:
		cmd := exec.CommandContext(ctx, s.Command, s.Args...)
		// The child sees PATH and HOME and its own env, never the server's
		// environment (its keys and database URL).
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}, nil
	}
	return nil, fmt.Errorf("unknown MCP server type %q", s.Type)
}

// Connect opens a session with s; the caller closes it.
func Connect(ctx context.Context, s Server, o Options) (*mcp.ClientSession, error) {
	t, err := Transport(ctx, s, o)
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "skillflaw", Version: "0.1"}, nil)
	return client.Connect(ctx, t, nil)
}

// ListTools connects to s, lists every tool (following pages) and closes
// the session, all within the timeout.
func ListTools(ctx context.Context, s Server, o Options) ([]Tool, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	session, err := Connect(ctx, s, o)
	if err != nil {
		return nil, describe(ctx, err)
	}
	defer func() { _ = session.Close() }()
	tools := []Tool{}
	var cursor string
	for {
		res, err := session.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, describe(ctx, err)
		}
		for _, t := range res.Tools {
			tools = append(tools, Tool{Name: t.Name, Description: t.Description})
		}
		if res.NextCursor == "" || res.NextCursor == cursor {
			return tools, nil
		}
		cursor = res.NextCursor
	}
}

func describe(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

// ToolDef is a tool with the JSON schema of its arguments, as an agent
// is given it.
type ToolDef struct {
	Name        string
	Description string
	// InputSchema is the tool's inputSchema (a JSON object schema; an
	// empty object schema when the server gave none).
	InputSchema map[string]any
}

// Result is the outcome of a tool call: its content items as JSON objects
// ({"type": "text", "text": …}, …), its structured content, and whether
// the server reported the call as failed.
type Result struct {
	Content    []map[string]any
	Structured any
	IsError    bool
}

// ListToolDefs is ListTools with each tool's input schema.
func ListToolDefs(ctx context.Context, s Server, o Options) ([]ToolDef, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	session, err := Connect(ctx, s, o)
	if err != nil {
		return nil, describe(ctx, err)
	}
	defer func() { _ = session.Close() }()
	var defs []ToolDef
	var cursor string
	for {
		res, err := session.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, describe(ctx, err)
		}
		for _, t := range res.Tools {
			defs = append(defs, ToolDef{Name: t.Name, Description: t.Description, InputSchema: schemaObject(t.InputSchema)})
		}
		if res.NextCursor == "" || res.NextCursor == cursor {
			return defs, nil
		}
		cursor = res.NextCursor
	}
}

// CallTool connects to s, calls tool name with args (session.CallTool:
// the SDK frames the request) and closes the session, all within the
// timeout.
func CallTool(ctx context.Context, s Server, o Options, name string, args map[string]any) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	session, err := Connect(ctx, s, o)
	if err != nil {
		return nil, describe(ctx, err)
	}
	defer func() { _ = session.Close() }()
	if args == nil {
		args = map[string]any{}
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, describe(ctx, err)
	}
	out := &Result{Structured: res.StructuredContent, IsError: res.IsError, Content: []map[string]any{}}
	for _, c := range res.Content {
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("read the result of %s: %w", name, err)
		}
		var item map[string]any
		if err := json.Unmarshal(raw, &item); err != nil {
			return nil, fmt.Errorf("read the result of %s: %w", name, err)
		}
		out.Content = append(out.Content, item)
	}
	return out, nil
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// schemaObject is a tool's input schema as a JSON object.
func schemaObject(v any) map[string]any {
	if m, ok := v.(map[string]any); ok && m != nil {
		return m
	}
	if v != nil {
		if raw, err := json.Marshal(v); err == nil {
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil && m != nil {
				return m
			}
		}
	}
	return map[string]any{"type": "object", "properties": map[string]any{}}
}
