package components

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
)

// echo answers with what it received, as JSON; /text answers text,
// /moved redirects to /echo, /big answers 1 KiB, /slow waits for the
// client to give up (or stop to be closed).
func echo(stop <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Trace", "t1")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "query": r.URL.RawQuery,
			"agent": r.Header.Get("User-Agent"), "auth": r.Header.Get("Authorization"), "body": string(body)})
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("plain words")) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/echo", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 1024))) })
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then a closed connection cancels r's context
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	return mux
}

func TestAPIRequest_Requests(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	srv := listenOn(t, "127.0.0.1:0", echo(stop))
	t.Cleanup(func() { close(stop) }) // before the server closes
	reg := netRegistry(t)
	env := engine.Env{HTTP: policyClient(t, "127.0.0.1")}
	result := func(t *testing.T, r *engine.RunResult) map[string]any {
		t.Helper()
		d, ok := outValue(t, r, "APIRequest-1", "data").(*engine.Data)
		require.True(t, ok)
		return d.Map
	}

	t.Run("post_with_body_headers_and_query", func(t *testing.T) {
		r := runNode(t, reg, env, "APIRequest-1", "APIRequest", map[string]any{
			"url_input": srv.URL + "/echo?a=1", "method": "POST",
			"body":                   []any{map[string]any{"key": "n", "value": "42"}, map[string]any{"key": "o", "value": `{"k": [1]}`}},
			"headers":                []any{map[string]any{"key": "Authorization", "value": "Bearer x"}, map[string]any{"key": "User-Agent", "value": "Langflow/1.0"}},
			"include_httpx_metadata": true,
		}, func(f *flowBuilder) {
			f.node("Webhook-1", "Webhook", map[string]any{"data": `{"q": "pika chu"}`}).
				edge("Webhook-1", "output_data", "APIRequest-1", "query_params")
		})
		m := result(t, r)
		assert.Equal(t, int64(200), m["status_code"])
		assert.Equal(t, srv.URL+"/echo?a=1&q=pika+chu", m["source"])
		assert.Equal(t, "t1", m["response_headers"].(map[string]any)["x-trace"])
		res := m["result"].(map[string]any)
		assert.Equal(t, "POST", res["method"])
		assert.Equal(t, "a=1&q=pika+chu", res["query"])
		assert.Equal(t, "Bearer x", res["auth"])
		assert.Equal(t, "Langflow/1.0", res["agent"])
		assert.JSONEq(t, `{"n": 42, "o": {"k": [1]}}`, res["body"].(string))
		assert.Equal(t, "Bearer x", m["headers"].(map[string]any)["Authorization"])
		assert.NotContains(t, m, "redirection_history")
	})
	t.Run("text_answer", func(t *testing.T) {
		r := runNode(t, reg, env, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL + "/text"})
		assert.Equal(t, "plain words", result(t, r)["result"])
	})
	t.Run("redirects_followed_only_when_asked", func(t *testing.T) {
		r := runNode(t, reg, env, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL + "/moved"})
		assert.Equal(t, int64(302), result(t, r)["status_code"])
		r = runNode(t, reg, env, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL + "/moved", "follow_redirects": true})
		m := result(t, r)
		assert.Equal(t, int64(200), m["status_code"])
		assert.Equal(t, []any{map[string]any{"url": "/echo", "status_code": int64(302)}}, m["redirection_history"])
	})
	t.Run("timeout_gives_an_error_result", func(t *testing.T) {
		r := runNode(t, reg, env, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL + "/slow", "timeout": 1})
		m := result(t, r)
		assert.Equal(t, int64(500), m["status_code"])
		assert.Contains(t, m["error"], "deadline exceeded")
	})
	t.Run("response_size_limit", func(t *testing.T) {
		small := netRegistry(t, APIRequest{MaxResponseBytes: 100})
		r := runNode(t, small, env, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL + "/big"})
		require.ErrorIs(t, vertexErr(t, r, "APIRequest-1"), ErrResponseTooLarge)
	})
	t.Run("refusals", func(t *testing.T) {
		for values, want := range map[string]string{
			"method=TRACE":       "Unsupported method: TRACE",
			"url_input=":         "URL cannot be empty",
			"url_input=ftp://x":  "Invalid URL provided: https://ftp://x",
			"save_to_file=true":  "Save to File is not supported: a flow does not write files on this server",
			"url_input=http://@": "Invalid URL provided: http://@",
		} {
			k, v, _ := strings.Cut(values, "=")
			vals := map[string]any{"url_input": srv.URL + "/echo", k: v}
			if k == "save_to_file" {
				vals[k] = true
			}
			r := runNode(t, reg, env, "APIRequest-1", "APIRequest", vals)
			assert.EqualError(t, vertexErr(t, r, "APIRequest-1"), want, values)
		}
		r := runNode(t, reg, engine.Env{}, "APIRequest-1", "APIRequest", map[string]any{"url_input": srv.URL})
		assert.ErrorContains(t, vertexErr(t, r, "APIRequest-1"), "no egress HTTP client")
	})
}

func TestAPIRequest_SSRF(t *testing.T) {
	t.Parallel()
	targets, hits := ssrfTargets(t)
	reg := netRegistry(t)
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			var allow []string
			if tc.allow != "" {
				allow = []string{tc.allow}
			}
			r := runNode(t, reg, engine.Env{HTTP: policyClient(t, allow...)}, "APIRequest-1", "APIRequest",
				map[string]any{"url_input": tc.url, "follow_redirects": true})
			err := vertexErr(t, r, "APIRequest-1")
			require.ErrorIs(t, err, egress.ErrRefused)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	assert.Zero(t, hits.Load(), "an internal listener was reached")

	t.Run("allow_listed", func(t *testing.T) {
		r := runNode(t, reg, engine.Env{HTTP: policyClient(t, "127.0.0.1")}, "APIRequest-1", "APIRequest",
			map[string]any{"url_input": targets[0].url})
		d := outValue(t, r, "APIRequest-1", "data").(*engine.Data)
		assert.Equal(t, map[string]any{"secret": "s3cr3t"}, d.Map["result"])
	})
}
