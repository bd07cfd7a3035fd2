package auth

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Only a request of this machine, naming a loopback host and forwarded by
// no proxy, is the local machine's (the auto-login fallback of the MCP
// server): a page rebound to 127.0.0.1 names its own host.
func TestFromThisMachine(t *testing.T) {
	for _, c := range []struct {
		remote, host, fwd string
		want              bool
	}{
		{"127.0.0.1:5000", "127.0.0.1:7860", "", true},
		{"[::1]:5000", "localhost:7860", "", true},
		{"127.0.0.1:5000", "localhost", "", true},
		{"127.0.0.1:5000", "evil.example:7860", "", false},
		{"127.0.0.1:5000", "127.0.0.1:7860", "203.0.113.9", false},
		{"10.0.0.2:5000", "127.0.0.1:7860", "", false},
	} {
		r := httptest.NewRequest("GET", "http://x/mcp/sse", nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		if c.fwd != "" {
			r.Header.Set("X-Forwarded-For", c.fwd)
		}
		assert.Equal(t, c.want, fromThisMachine(r), "%+v", c)
	}
}
