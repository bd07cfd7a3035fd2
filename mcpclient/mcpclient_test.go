package mcpclient_test

import (
	"context"
	"errors"
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
