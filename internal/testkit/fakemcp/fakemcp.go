// Package fakemcp is an in-process MCP server for tests, built with the
// official MCP Go SDK: two tools (echo, add), served over streamable HTTP
// (URL + "/mcp") and SSE (URL + "/sse") on a loopback httptest server. It
// records the Authorization header of every request it receives. Only
// tests import it.
package fakemcp

import (
	"context"
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

	mu   sync.Mutex
	auth []string
}

// Tools are the names of the tools the server offers.
var Tools = []string{"add", "echo"}

type echoIn struct {
	Text string `json:"text"`
}

type addIn struct {
	A, B int
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
