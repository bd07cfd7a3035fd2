package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// TestServer_cors proves that no origin gets credentialed access unless it
// is listed by name: "*" is answered with a literal * and no credentials,
// "null" is never allowed, and unlisted origins get no CORS headers.
func TestServer_cors(t *testing.T) {
	t.Parallel()
	const (
		app  = "https://app.example"
		evil = "https://evil.example"
	)
	newServer := func(origins []string, credentials bool) *httptest.Server {
		s := httpapi.New(httpapi.Options{CORSOrigins: origins, CORSAllowCredentials: credentials})
		s.Handle(httpapi.Operation{Method: "POST", Path: "/things", Summary: "Create", Public: true, Handler: ok})
		s.Handle(httpapi.Operation{Method: "GET", Path: "/things", Summary: "List", Public: true, Handler: ok})
		return serve(t, s)
	}
	defaults, err := config.Load(func(k string) string { return map[string]string{"HOME": "/h"}[k] })
	require.NoError(t, err)

	// want is how one origin is answered: allowOrigin is
	// Access-Control-Allow-Origin ("" none, "*", or the origin echoed),
	// credentials whether Access-Control-Allow-Credentials is true.
	type want struct {
		allowOrigin string
		credentials bool
	}
	none := want{}
	star := want{allowOrigin: "*"}
	tests := []struct {
		name        string
		origins     []string
		credentials bool
		by          map[string]want
	}{
		{"defaults_of_the_configuration", defaults.CORSOrigins, defaults.CORSAllowCredentials,
			map[string]want{app: star, evil: star, "null": none}},
		{"any_origin_with_credentials_never_echoes", []string{"*"}, true,
			map[string]want{app: star, evil: star, "null": none}},
		{"any_origin_without_credentials", []string{"*"}, false,
			map[string]want{app: star, evil: star, "null": none}},
		{"listed_with_credentials_and_any_other_without", []string{app, "*"}, true,
			map[string]want{app: {app, true}, evil: star, "null": none}},
		{"listed_only_with_credentials", []string{app + "/"}, true,
			map[string]want{app: {app, true}, evil: none, "null": none}},
		{"listed_only_without_credentials", []string{app}, false,
			map[string]want{app: {app, false}, evil: none, "null": none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newServer(tt.origins, tt.credentials)
			for origin, w := range tt.by {
				check := func(r response, what string) {
					t.Helper()
					assert.Equal(t, w.allowOrigin, r.header.Get("Access-Control-Allow-Origin"), "%s from %s", what, origin)
					cred := r.header.Get("Access-Control-Allow-Credentials")
					if w.credentials {
						assert.Equal(t, "true", cred, "%s from %s", what, origin)
					} else {
						assert.Empty(t, cred, "%s from %s", what, origin)
					}
					assert.Contains(t, r.header.Values("Vary"), "Origin", "%s from %s", what, origin)
				}

				r := do(t, "OPTIONS", ts.URL+"/things", nil, "Origin", origin, "Access-Control-Request-Method", "POST",
					"Access-Control-Request-Headers", "authorization,x-api-key")
				check(r, "preflight")
				if w.allowOrigin == "" {
					assert.Equal(t, http.StatusBadRequest, r.status, "preflight from %s", origin)
					assert.JSONEq(t, `{"detail":"Disallowed CORS origin"}`, r.body)
				} else {
					assert.Equal(t, http.StatusNoContent, r.status, "preflight from %s", origin)
					assert.Contains(t, r.header.Get("Access-Control-Allow-Methods"), "POST")
					assert.Equal(t, "authorization,x-api-key", r.header.Get("Access-Control-Allow-Headers"))
					assert.Equal(t, "600", r.header.Get("Access-Control-Max-Age"))
				}

				for _, method := range []string{"GET", "POST"} {
					r := do(t, method, ts.URL+"/things", strings.NewReader(""), "Origin", origin, "Cookie", "access_token_lf=x")
					assert.Equal(t, http.StatusOK, r.status, "%s from %s is served; the browser decides", method, origin)
					check(r, method)
					if w.allowOrigin != "" {
						assert.Contains(t, r.header.Get("Access-Control-Expose-Headers"), httpapi.HeaderEventPosition)
					} else {
						assert.Empty(t, r.header.Get("Access-Control-Expose-Headers"))
					}
				}
			}
		})
	}
	t.Run("requests_without_origin_get_no_cors_headers", func(t *testing.T) {
		t.Parallel()
		ts := newServer([]string{app, "*"}, true)
		r := do(t, "GET", ts.URL+"/things", nil)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("bad_origin_fails_the_build", func(t *testing.T) {
		t.Parallel()
		for _, o := range []string{"app.example", "https://app.example/path", "ftp://app.example", "null"} {
			_, err := httpapi.New(httpapi.Options{CORSOrigins: []string{o}}).Handler()
			assert.ErrorContains(t, err, "cors", o)
		}
	})
}
