package app_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// The component catalogue (GET /api/v1/all, contract #49) of a server
// running the native components.

// rawGet sends GET path as token ("": anonymous) with Accept-Encoding
// acceptEncoding (none when empty) through a client that leaves the answer as sent (Go's
// default transport would decompress it and drop the headers).
func rawGet(t *testing.T, s *rtServer, path, token, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	req := s.request(t, http.MethodGet, path, nil, "", withToken(token))
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, raw
}

func TestCatalogue_GetAll(t *testing.T) {
	s := natStart(t, fakeopenai.New(t), false)
	t.Run("always_gzip", func(t *testing.T) { catalogueAlwaysGzip(t, s) })
	t.Run("lists_the_registry", func(t *testing.T) { catalogueListsTheRegistry(t, s) })
	t.Run("refuses_anonymous_callers", func(t *testing.T) { catalogueRefusesAnonymous(t, s) })
}

// catalogueAlwaysGzip: the answer is gzip-compressed, once, with its
// headers, whatever the client says it accepts.
func catalogueAlwaysGzip(t *testing.T, s *rtServer) {
	var first []byte
	for _, ae := range []string{"", "gzip", "identity", "br", "gzip;q=0, identity;q=1", "deflate"} {
		res, raw := rawGet(t, s, "/api/v1/all", s.root.token, ae)
		require.Equal(t, http.StatusOK, res.StatusCode, "Accept-Encoding %q: %s", ae, raw)
		assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"), ae)
		assert.Contains(t, res.Header.Values("Vary"), "Accept-Encoding", ae)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"), ae)
		assert.Equal(t, strconv.Itoa(len(raw)), res.Header.Get("Content-Length"), ae)
		assert.False(t, res.Uncompressed, ae)

		zr, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err, ae)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err, ae)
		require.True(t, json.Valid(plain), "compressed once: the gzip holds the JSON (%q)", ae)
		if first == nil {
			first = plain
		}
		assert.Equal(t, first, plain, "the same answer whatever the client accepts (%q)", ae)
	}
}

// catalogueListsTheRegistry: {category: {name: node template}} of
// exactly the server's components.
func catalogueListsTheRegistry(t *testing.T, s *rtServer) {
	// Go's client asks for gzip and decompresses: the body is the JSON.
	r := s.do(t, http.MethodGet, "/api/v1/all", nil, bearer(s.root.token))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var cat map[string]map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &cat), "{category: {name: template}}")

	require.Contains(t, cat, "input_output")
	require.Contains(t, cat["input_output"], "ChatInput")
	chat := cat["input_output"]["ChatInput"]
	assert.Equal(t, "Chat Input", chat["display_name"])
	assert.Equal(t, "Component", chat["template"].(map[string]any)["_type"])
	require.Contains(t, cat, "models_and_agents")
	require.Contains(t, cat["models_and_agents"], "Prompt Template")
	assert.NotContains(t, cat["models_and_agents"], "Prompt", "an alias is not a catalogue entry")

	reg, err := engine.NewRegistry(components.All()...)
	require.NoError(t, err)
	var want, listed []string
	for _, spec := range reg.Specs() {
		want = append(want, spec.Category+"/"+spec.Type)
	}
	for category, names := range cat {
		for name, node := range names {
			listed = append(listed, category+"/"+name)
			assert.Contains(t, node, "template", name)
			assert.Contains(t, node, "outputs", name)
		}
	}
	assert.ElementsMatch(t, want, listed, "exactly the components the server runs")
}

// catalogueRefusesAnonymous: a signed-in route, refused as the others
// (401/403 with a detail).
func catalogueRefusesAnonymous(t *testing.T, s *rtServer) {
	r := s.do(t, http.MethodGet, "/api/v1/all", nil, nil)
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.status, r.raw)
	assert.NotEmpty(t, r.detail(), r.raw)
	res, raw := rawGet(t, s, "/api/v1/all", "", "gzip")
	assert.Equal(t, r.status, res.StatusCode)
	assert.Empty(t, res.Header.Get("Content-Encoding"), "the refusal is plain JSON")
	assert.True(t, json.Valid(raw), "%s", raw)

	bad := s.do(t, http.MethodGet, "/api/v1/all", nil, bearer("not-a-token"))
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, bad.status, bad.raw)
}
