package mcpclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakemcp"
	"github.com/skillflaw/skillflaw-go/mcpclient"
)

func TestInferType(t *testing.T) {
	t.Parallel()
	assert.Equal(t, mcpclient.TypeStdio, mcpclient.InferType("npx", ""))
	assert.Equal(t, mcpclient.TypeSSE, mcpclient.InferType("", "https://x.example/sse"))
	assert.Equal(t, mcpclient.TypeSSE, mcpclient.InferType("", "https://x.example/a/sse/?k=1"))
	assert.Equal(t, mcpclient.TypeStreamableHTTP, mcpclient.InferType("", "https://x.example/mcp"))
	assert.Equal(t, "", mcpclient.InferType("", ""))
}

// Both HTTP transports list the fake's tools, with the headers delivered;
// the egress policy refuses the loopback server unless it is allowed.
func TestListTools(t *testing.T) {
	t.Parallel()
	f := fakemcp.New(t)
	allow, err := egress.New([]string{"127.0.0.1"})
	require.NoError(t, err)
	ctx := context.Background()
	for _, s := range []mcpclient.Server{
		{Type: mcpclient.TypeStreamableHTTP, URL: f.URL + "/mcp", Headers: map[string]string{"Authorization": "Bearer tok-1"}},
		{Type: mcpclient.TypeSSE, URL: f.URL + "/sse", Headers: map[string]string{"Authorization": "Bearer tok-2"}},
	} {
		tools, err := mcpclient.ListTools(ctx, s, mcpclient.Options{HTTPClient: allow.HTTPClient(), Timeout: 10 * time.Second})
		require.NoError(t, err, s.Type)
		var names []string
		for _, tl := range tools {
			names = append(names, tl.Name)
		}
		assert.ElementsMatch(t, fakemcp.Tools, names, s.Type)
		assert.Contains(t, f.Authorizations(), s.Headers["Authorization"])

		deny, err := egress.New(nil)
		require.NoError(t, err)
		_, err = mcpclient.ListTools(ctx, s, mcpclient.Options{HTTPClient: deny.HTTPClient(), Timeout: 5 * time.Second})
		require.Error(t, err)
		assert.True(t, errors.Is(err, egress.ErrRefused), "%v", err)
	}
}

// The tools' input schemas are listed; a call goes through the SDK with
// its arguments and the headers, and its content comes back as JSON
// objects (structured output as its JSON text).
func TestCallTool(t *testing.T) {
	t.Parallel()
	f := fakemcp.New(t)
	allow, err := egress.New([]string{"127.0.0.1"})
	require.NoError(t, err)
	ctx := context.Background()
	s := mcpclient.Server{Type: mcpclient.TypeStreamableHTTP, URL: f.URL + "/mcp", Headers: map[string]string{"Authorization": "Bearer tok-3"}}
	o := mcpclient.Options{HTTPClient: allow.HTTPClient(), Timeout: 10 * time.Second}
	defs, err := mcpclient.ListToolDefs(ctx, s, o)
	require.NoError(t, err)
	require.Len(t, defs, 2)
	for _, d := range defs {
		if d.Name == "add" {
			assert.Equal(t, "Add two numbers", d.Description)
			assert.Contains(t, d.InputSchema["properties"], "a")
			assert.Contains(t, d.InputSchema["properties"], "b")
		}
	}
	res, err := mcpclient.CallTool(ctx, s, o, "add", map[string]any{"a": 2, "b": 40})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	require.Len(t, res.Content, 1)
	assert.Equal(t, "text", res.Content[0]["type"])
	assert.JSONEq(t, `{"sum": 42}`, res.Content[0]["text"].(string))
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "add", calls[0].Name)
	assert.Equal(t, map[string]any{"a": float64(2), "b": float64(40)}, calls[0].Arguments)
	assert.Equal(t, "Bearer tok-3", calls[0].Authorization)

	res, err = mcpclient.CallTool(ctx, s, o, "echo", map[string]any{"text": "hi"})
	require.NoError(t, err)
	assert.Equal(t, "hi", res.Content[0]["text"])

	res, err = mcpclient.CallTool(ctx, s, o, "add", map[string]any{"a": "not a number"})
	if err == nil {
		assert.True(t, res.IsError, "bad arguments are a failed call")
	}
}

// The server's headers (its secrets) go to its own host only: a redirect
// to another host does not carry them.
func TestHeadersStayOnTheServersHost(t *testing.T) {
	seen := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/mcp", http.StatusFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = mcpclient.ListTools(ctx, mcpclient.Server{Type: mcpclient.TypeStreamableHTTP, URL: srv.URL + "/mcp",
		Headers: map[string]string{"Authorization": "Bearer sk-secret"}}, mcpclient.Options{HTTPClient: srv.Client()})
	select {
	case got := <-seen:
		assert.Empty(t, got, "the redirect's host got no secret header")
	case <-ctx.Done():
		t.Fatal("the redirect was not followed")
	}
}

// roundTripFunc is an http.RoundTripper of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The headers go to the server's own origin only: a redirect from https
// to plain http on the same host does not carry them.
func TestHeadersStayOnTheServersScheme(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{} // scheme: the Authorization header it got
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		got[r.URL.Scheme] = r.Header.Get("Authorization")
		mu.Unlock()
		h := http.Header{}
		code := http.StatusBadGateway
		if r.URL.Scheme == "https" {
			code = http.StatusFound
			h.Set("Location", "http://"+r.URL.Host+r.URL.Path)
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = mcpclient.ListTools(ctx, mcpclient.Server{Type: mcpclient.TypeStreamableHTTP, URL: "https://mcp.example/mcp",
		Headers: map[string]string{"Authorization": "Bearer sk-secret"}}, mcpclient.Options{HTTPClient: &http.Client{Transport: rt}})
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "Bearer sk-secret", got["https"], "the server's own origin got its header")
	v, followed := got["http"]
	require.True(t, followed, "the redirect was not followed")
	assert.Empty(t, v, "plain http on the same host got no secret header")
}

func TestSameOrigin(t *testing.T) {
	assert.True(t, mcpclient.SameOrigin("https://MCP.example:8443/a", "https://mcp.example:8443/b"))
	assert.False(t, mcpclient.SameOrigin("https://mcp.example/a", "http://mcp.example/a"), "the scheme counts")
	assert.False(t, mcpclient.SameOrigin("https://mcp.example/a", "https://mcp.example:8443/a"), "the port counts")
	assert.False(t, mcpclient.SameOrigin("https://mcp.example/a", "https://other.example/a"))
	assert.False(t, mcpclient.SameOrigin("://bad", "://bad"), "an unparsable url is of no origin")
}
