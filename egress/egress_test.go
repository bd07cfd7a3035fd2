package egress_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
)

func TestInternal(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
		"::1", "::", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1"} {
		assert.True(t, egress.Internal(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		assert.False(t, egress.Internal(netip.MustParseAddr(a)), a)
	}
}

func TestNew_RefusesWhatIsNoHostAddressOrNetwork(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "http://x", "a b", "user@host"} {
		_, err := egress.New([]string{bad})
		assert.Error(t, err, bad)
	}
	_, err := egress.New([]string{"10.0.0.0/8", "fd00::/8", "192.168.1.5", "models.internal", " "})
	require.NoError(t, err)
}

// The client refuses internal addresses after resolution and on
// redirects, and lets the allow-listed ones through.
func TestHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "http://10.255.255.1/inside", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	get := func(p *egress.Policy, url string) error {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		require.NoError(t, err)
		res, err := p.HTTPClient().Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	var none *egress.Policy
	assert.ErrorIs(t, get(none, srv.URL), egress.ErrRefused, "loopback by address")
	port := srv.URL[len("http://127.0.0.1"):]
	assert.ErrorIs(t, get(none, "http://localhost"+port), egress.ErrRefused, "loopback by name, after resolution")

	byNet, err := egress.New([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	require.NoError(t, get(byNet, srv.URL))
	byName, err := egress.New([]string{"LocalHost"})
	require.NoError(t, err)
	require.NoError(t, get(byName, "http://localhost"+port))
	assert.ErrorIs(t, get(byName, srv.URL), egress.ErrRefused, "the name is allowed, not the address")

	onlyServer, err := egress.New([]string{"127.0.0.1/32"})
	require.NoError(t, err)
	assert.ErrorIs(t, get(onlyServer, srv.URL+"/hop"), egress.ErrRefused, "a redirect dials through the same check")
}
