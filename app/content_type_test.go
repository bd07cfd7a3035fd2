package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// msgNotJSON is the 415 of a JSON operation sent another content type.
const msgNotJSON = "Unsupported Media Type: the request body must be JSON (Content-Type: application/json)"

// TestJSONRoutes_refuse_form_content_types sends every operation of
// /openapi.json that has a JSON request body (and writes: POST, PUT,
// PATCH, DELETE) a valid body (the access matrix's, which writes when sent
// as JSON) labelled as the content types a cross-site form can post: each
// is 415 and the log does not move. The same requests as JSON then pass
// the check, and the form operations (login, uploads) keep taking forms.
func TestJSONRoutes_refuse_form_content_types(t *testing.T) {
	t.Parallel()
	w := accStart(t, options{})
	accSetup(t, w)
	ops := accOps(t, w)
	super := w.users[accSuper]

	type sent struct {
		op   accOp
		req  accRequest
		body []byte
	}
	var cases []sent
	for _, op := range ops {
		if !op.body {
			continue
		}
		switch op.method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		c := accCase{op: op, variant: "A", who: accSuper}
		body := w.accBody(c)
		if op.key() == "POST /api/v1/users/" {
			body = map[string]any{"username": "ct_signup", "password": accPassword}
		}
		require.NotNil(t, body, "%s takes JSON: give it a valid body in accBody", op.key())
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		cases = append(cases, sent{op: op, req: accBuild(op, super.token, w.accPathIDs(c), w.A, w.accCaseQuery(c), body), body: raw})
	}
	require.Greater(t, len(cases), 40, "the document lists the JSON operations")

	head := w.head(t)
	for _, c := range cases {
		for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=----skillflaw"} {
			r := w.send(t, c.req.method, c.req.path, bytes.NewReader(c.body), ct, c.req.header)
			requireDetail(t, r, http.StatusUnsupportedMediaType, msgNotJSON, "%s as %s", c.op.key(), ct)
		}
	}
	require.Equal(t, head, w.head(t), "no event was appended")

	// The same bodies as JSON get past the check (the access matrix
	// proves they write).
	for _, c := range cases {
		r := w.send(t, c.req.method, c.req.path, bytes.NewReader(c.body), "application/json; charset=utf-8", c.req.header)
		assert.NotEqual(t, http.StatusUnsupportedMediaType, r.status, "%s: %s", c.op.key(), r.raw)
		assert.Less(t, r.status, 500, "%s: %s", c.op.key(), r.raw)
	}
	assert.True(t, head.Less(w.head(t)), "the JSON requests wrote")

	t.Run("form_operations_take_forms", func(t *testing.T) {
		w.login(t, accRoot, accPassword)
		r := (&projServer{w.harness}).projUpload(t, "/api/v1/flows/upload/", super.token, "file", "flow.json", []byte(`{"name": "uploaded ct"}`))
		require.Equal(t, http.StatusCreated, r.status, r.raw)
	})
	t.Run("default_cors_gives_no_origin_credentials", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "null"} {
			pre := w.request(t, http.MethodOptions, "/api/v1/flows/", nil, "", http.Header{
				"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}})
			r, err := exchange(pre)
			require.NoError(t, err)
			assert.Empty(t, r.header.Get("Access-Control-Allow-Credentials"), origin)
			get := w.request(t, http.MethodGet, "/api/v1/flows/", nil, "", http.Header{"Origin": {origin},
				"Cookie": {"access_token_lf=" + super.token}})
			r, err = exchange(get)
			require.NoError(t, err)
			assert.Empty(t, r.header.Get("Access-Control-Allow-Credentials"), origin)
			assert.NotEqual(t, origin, r.header.Get("Access-Control-Allow-Origin"), "the origin is not echoed")
			if origin == "null" {
				assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
			}
		}
	})
}
