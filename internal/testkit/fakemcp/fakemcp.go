// Package fakemcp is an in-process MCP server for tests, built with the
// official MCP Go SDK: two tools (echo, add), served over streamable HTTP
// (URL + "/mcp") and SSE (URL + "/sse") on a loopback httptest server. It
// records the Authorization header of every request it receives and every
// tool call (name and arguments). Only tests import it.
package fakemcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Server is a fake MCP server. URL is its base URL.
type Server struct {
	URL string

	mu    sync.Mutex
	auth  []string
	calls []Call
}

// Call is a tool call the server received.
type Call struct {
	Name      string
	Arguments map[string]any
	// Authorization is the request's Authorization header.
	Authorization string
}

// Tools are the names of the tools the server offers.
var Tools = []string{"add", "echo"}

type echoIn struct {
	Text string `json:"text"`
}

type addIn struct {
	A int `json:"a" jsonschema:"the first number"`
	B int `json:"b" jsonschema:"the second number"`
}

// NewMCPServer is the SDK server the fake serves.
func NewMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "fakemcp", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text"},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers"},
		func(_ context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, any, error) {
			return nil, map[string]int{"sum": in.A + in.B}, nil
		})
	return s
}

// New starts a fake MCP server, closed when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	f := &Server{}
	srv := NewMCPServer()
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
				c := Call{Name: r.Params.Name}
				_ = json.Unmarshal(r.Params.Arguments, &c.Arguments)
				if r.Extra != nil && r.Extra.Header != nil {
					c.Authorization = r.Extra.Header.Get("Authorization")
				}
				f.mu.Lock()
				f.calls = append(f.calls, c)
				f.mu.Unlock()
			}
			return next(ctx, method, req)
		}
	})
	get := func(*http.Request) *mcp.Server { return srv }
	streamable := mcp.NewStreamableHTTPHandler(get, nil)
	sse := mcp.NewSSEHandler(get, nil)
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/sse"):
			sse.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/mcp"):
			streamable.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.Close)
	f.URL = h.URL
	return f
}

// Authorizations are the Authorization headers of every request so far.
func (f *Server) Authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// Calls are the tool calls so far.
func (f *Server) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}
