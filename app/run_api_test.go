package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run API (#50–#53, #55) black-box: Langflow's request and response
// shapes, with the bench's components (runs_helpers_test.go).

// apiKey creates an API key of token's user.
func (s *harness) apiKey(t testing.TB, token string) string {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, bearer(token))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	key, _ := r.obj(t)["api_key"].(string)
	require.NotEmpty(t, key)
	return key
}

func keyHeader(key string) http.Header { return http.Header{"X-Api-Key": {key}} }

// run posts body to a run route of flow with key.
func (s *harness) run(t testing.TB, key, path string, body any) reply {
	t.Helper()
	return s.do(t, http.MethodPost, path, body, keyHeader(key))
}

// resultOf is the first output's first ResultData of a RunResponse.
func resultOf(t testing.TB, r reply) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	outs := r.obj(t)["outputs"].([]any)
	require.Len(t, outs, 1, r.raw)
	items := outs[0].(map[string]any)["outputs"].([]any)
	require.NotEmpty(t, items, r.raw)
	return items[0].(map[string]any)
}

// answerOf is the text a RunResponse's first result gives.
func answerOf(t testing.TB, r reply) string {
	t.Helper()
	res := resultOf(t, r)["results"].(map[string]any)
	msg := res["message"].(map[string]any)
	return msg["text"].(string)
}

func TestRunAPI_SimplifiedRun(t *testing.T) {
	t.Parallel()
	s := rtStart(t, true, nil, "")
	key := s.apiKey(t, s.root.token)
	flow := s.flow(t, s.root.token, rtBasic(false), map[string]any{"endpoint_name": "basic-ep"})

	r := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "hello"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	body := r.obj(t)
	assert.Equal(t, flow, body["session_id"], "the session defaults to the flow id")
	out := body["outputs"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"input_value": "hello"}, out["inputs"])
	rd := resultOf(t, r)
	assert.Equal(t, "ChatOutput-DDDDD", rd["component_id"])
	assert.Nil(t, rd["timedelta"])
	assert.Nil(t, rd["duration"])
	assert.Equal(t, false, rd["used_frozen_result"])
	msg := rd["results"].(map[string]any)["message"].(map[string]any)
	assert.Equal(t, "echo: Answer: hello", msg["text"])
	assert.Equal(t, "text", msg["text_key"])
	assert.Equal(t, "Machine", msg["sender"])
	assert.Equal(t, flow, msg["session_id"])
	assert.Equal(t, flow, msg["flow_id"])
	data := msg["data"].(map[string]any)
	assert.NotEmpty(t, data["id"], "the stored message's id")
	assert.Equal(t, "2025-12-01T10:00:00+00:00", msg["timestamp"], "no microseconds at the top level")
	messages := rd["messages"].([]any)
	require.Len(t, messages, 1)
	assert.Equal(t, map[string]any{"message": "echo: Answer: hello", "sender": "Machine", "sender_name": "AI",
		"session_id": flow, "stream_url": nil, "component_id": "ChatOutput-DDDDD", "files": []any{}, "type": "text"}, messages[0])
	assert.Equal(t, map[string]any{"message": map[string]any{"message": "echo: Answer: hello", "type": "text"}}, rd["outputs"])
	// Key order as Langflow writes it.
	assert.Regexp(t, `^\{"session_id":"[^"]+","outputs":\[\{"inputs":\{"input_value":"hello"\},"outputs":\[\{"results":\{"message":\{"text_key":"text","data":\{"timestamp":`, r.raw)
	assert.Contains(t, r.raw, `"timedelta":null,"duration":null,"component_display_name":"ChatOutput-DDDDD","component_id":"ChatOutput-DDDDD","used_frozen_result":false}`)

	t.Run("embedded_body_and_session", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_request": map[string]any{"input_value": "hi", "session_id": "s-1"},
			"context": map[string]any{}})
		assert.Equal(t, "echo: Answer: hi", answerOf(t, r))
		assert.Equal(t, "s-1", r.obj(t)["session_id"])
	})
	t.Run("endpoint_name_and_query_key", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/api/v1/run/basic-ep?x-api-key="+key, map[string]any{"input_value": "ep"}, nil)
		assert.Equal(t, "echo: Answer: ep", answerOf(t, r))
		requireDetail(t, s.run(t, key, "/api/v1/run/no-such-ep", nil), http.StatusNotFound, "Flow identifier no-such-ep not found")
	})
	t.Run("machine_newlines_doubled_in_messages", func(t *testing.T) {
		rd := resultOf(t, s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "a\nb"}))
		assert.Equal(t, "echo: Answer: a\nb", rd["results"].(map[string]any)["message"].(map[string]any)["text"])
		assert.Equal(t, "echo: Answer: a\n\nb", rd["messages"].([]any)[0].(map[string]any)["message"])
	})
	t.Run("no_input", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+flow, nil)
		assert.Equal(t, map[string]any{}, r.obj(t)["outputs"].([]any)[0].(map[string]any)["inputs"])
		assert.Equal(t, "echo: Answer: ", answerOf(t, r))
	})
	t.Run("output_selection", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "x", "output_type": "debug"})
		items := r.obj(t)["outputs"].([]any)[0].(map[string]any)["outputs"].([]any)
		var ids []string
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["component_id"].(string))
		}
		assert.Equal(t, []string{"ChatInput-AAAAA", "Prompt-BBBBB", "TModel-CCCCC", "ChatOutput-DDDDD"}, ids, "debug: every vertex, in the graph's order")
		r = s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "x", "output_component": "Prompt-BBBBB"})
		assert.Equal(t, "Prompt-BBBBB", resultOf(t, r)["component_id"])
		r = s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "x", "output_type": "text"})
		assert.Equal(t, "ChatOutput-DDDDD", resultOf(t, r)["component_id"], "no text output: every output vertex")
	})
	t.Run("tweaks", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "t",
			"tweaks": map[string]any{"Prompt-BBBBB": map[string]any{"template": "By id: {input}"}}})
		assert.Equal(t, "echo: By id: t", answerOf(t, r))
		named := rtBasic(false)
		named["nodes"].([]any)[1].(map[string]any)["data"].(map[string]any)["node"].(map[string]any)["display_name"] = "My Prompt"
		byName := s.flow(t, s.root.token, named, nil)
		r = s.run(t, key, "/api/v1/run/"+byName, map[string]any{"input_value": "t",
			"tweaks": map[string]any{"My Prompt": map[string]any{"template": "By name: {input}"}}})
		assert.Equal(t, "echo: By name: t", answerOf(t, r))
		r = s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "t", "tweaks": map[string]any{"template": "Global: {input}"}})
		assert.Equal(t, "echo: Global: t", answerOf(t, r))
		r = s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "t",
			"tweaks": map[string]any{"Prompt-BBBBB": map[string]any{"template": map[string]any{"value": "Dict: {input}"}}}})
		assert.Equal(t, "echo: Dict: t", answerOf(t, r), "a dict sets the field's keys")
		requireDetail(t, s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "t",
			"tweaks": map[string]any{"ChatInput-AAAAA": map[string]any{"input_value": "other"}}}), http.StatusBadRequest,
			"If you pass an input_value to the chat input, you cannot pass a tweak with the same name.")
		withField := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", map[string]any{"input_value": ""}),
			node("ChatOutput-DDDDD:ChatOutput", nil)}, "ChatInput-AAAAA.message>ChatOutput-DDDDD.input_value"), nil)
		r = s.run(t, key, "/api/v1/run/"+withField, map[string]any{"tweaks": map[string]any{"ChatInput-AAAAA": map[string]any{"input_value": "tw"}}})
		assert.Equal(t, "tw", answerOf(t, r), "without input_value the tweak sets the input")
	})
	t.Run("invalid_bodies", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_type": "foo"})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Contains(t, r.raw, `"loc":["body","input_type"]`)
		r = s.send(t, http.MethodPost, "/api/v1/run/"+flow, strings.NewReader(`{"input_value": `), "application/json", keyHeader(key))
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Contains(t, r.raw, "json_invalid")
		r = s.run(t, key, "/api/v1/run/"+flow, map[string]any{"session_id": strings.Repeat("x", 1000)})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	})
}

func TestRunAPI_Auth(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	flow := s.flow(t, s.root.token, rtBasic(false), nil)
	requireDetail(t, s.do(t, http.MethodPost, "/api/v1/run/"+flow, nil, nil), http.StatusForbidden,
		"An API key must be passed as query or header")
	requireDetail(t, s.do(t, http.MethodPost, "/api/v1/run/"+flow, nil, bearer(s.root.token)), http.StatusForbidden,
		"An API key must be passed as query or header", "a bearer token is not an API key here")
	requireDetail(t, s.run(t, "sk-nope", "/api/v1/run/"+flow, nil), http.StatusForbidden, "Invalid or missing API key")

	other := s.newUser(t, "runapi-other", "runapi-password-1")
	otherKey := s.apiKey(t, other.token)
	requireDetail(t, s.run(t, otherKey, "/api/v1/run/"+flow, map[string]any{"input_value": "x"}), http.StatusNotFound,
		"Flow identifier "+flow+" not found", "another user's private flow does not exist for the caller")
	requireDetail(t, s.run(t, otherKey, "/api/v1/run/advanced/"+flow, nil), http.StatusNotFound, "Flow identifier "+flow+" not found")
	assert.Equal(t, []string{"0"}, s.textRows(t, `SELECT count(*)::text FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1`, flow),
		"nothing ran")

	// In a tenant: flows.run where the flow lives runs it; a viewer (who
	// may read it) gets Langflow's 403; a stranger does not see it.
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Run API A"}, s.root.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	a := r.obj(t)["tenant_id"].(string)
	dev := s.newUser(t, "runapi-dev", "runapi-password-1")
	viewer := s.newUser(t, "runapi-viewer", "runapi-password-1")
	s.grantRole(t, s.root.token, a, dev.id, "developer")
	s.grantRole(t, s.root.token, a, viewer.id, "viewer")
	inA := s.flow(t, s.root.token, rtBasic(false), map[string]any{"tenant_id": a})
	in := map[string]any{"input_value": "t"}
	assert.Equal(t, "echo: Answer: t", answerOf(t, s.run(t, s.apiKey(t, dev.token), "/api/v1/run/"+inA, in)))
	requireDetail(t, s.run(t, s.apiKey(t, viewer.token), "/api/v1/run/"+inA, in), http.StatusForbidden,
		"You do not have permission to run this flow")
	requireDetail(t, s.run(t, otherKey, "/api/v1/run/"+inA, in), http.StatusNotFound, "Flow identifier "+inA+" not found")
}

func TestRunAPI_Versions(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	key := s.apiKey(t, s.root.token)
	flow := s.flow(t, s.root.token, rtBasic(false), nil)
	requireDetail(t, s.run(t, key, "/api/v1/run/online/"+flow, nil), http.StatusNotFound,
		"Flow "+flow+" has no online version: publish a version first")
	requireDetail(t, s.run(t, key, "/api/v1/run/release/"+flow+"?v=v1", nil), http.StatusNotFound, "Flow "+flow+` has no version "v1"`)

	setTemplate := func(tpl string) {
		data := rtBasic(false)
		data["nodes"].([]any)[1].(map[string]any)["data"].(map[string]any)["node"].(map[string]any)["template"].(map[string]any)["template"].(map[string]any)["value"] = tpl
		r := s.call(t, http.MethodPatch, "/api/v1/flows/"+flow, map[string]any{"data": data}, s.root.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	version := func(name string) float64 {
		r := s.call(t, http.MethodPost, "/api/v1/flows/"+flow+"/versions", map[string]any{"version": name}, s.root.token)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)["id"].(float64)
	}
	setTemplate("V1: {input}")
	v1 := version("v1")
	setTemplate("V2: {input}")
	version("v2")
	r := s.call(t, http.MethodPost, "/api/v1/flows/"+flow+"/versions/"+rtItoa(int64(v1))+"/publish", nil, s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	setTemplate("Draft: {input}")

	in := map[string]any{"input_value": "q"}
	assert.Equal(t, "echo: Draft: q", answerOf(t, s.run(t, key, "/api/v1/run/"+flow, in)))
	assert.Equal(t, "echo: Draft: q", answerOf(t, s.run(t, key, "/api/v1/run/dev/"+flow, in)))
	assert.Equal(t, "echo: V1: q", answerOf(t, s.run(t, key, "/api/v1/run/online/"+flow, in)))
	assert.Equal(t, "echo: V2: q", answerOf(t, s.run(t, key, "/api/v1/run/release/"+flow+"?v=v2", in)))
	assert.Equal(t, "echo: V1: q", answerOf(t, s.run(t, key, "/api/v1/run/release/"+flow+"?v=v1", in)))
	r = s.run(t, key, "/api/v1/run/release/"+flow, in)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "v is required: %s", r.raw)
	assert.Equal(t, []string{"draft", "draft", "online:v1", "release:v1", "release:v2"}, s.textRows(t,
		`SELECT data->>'source' || coalesce(':' || (data->>'version'), '') FROM events WHERE event_type = 'run.started'
		 AND data->>'flow_id' = $1 ORDER BY 1`, flow), "each run records what it ran")
}

func TestRunAPI_Failures(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	key := s.apiKey(t, s.root.token)
	failing := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TFail-FFFFF:TFail", nil),
		node("ChatOutput-DDDDD:ChatOutput", nil)}, "ChatInput-AAAAA.message>TFail-FFFFF.input_value",
		"TFail-FFFFF.out>ChatOutput-DDDDD.input_value"), nil)
	r := s.run(t, key, "/api/v1/run/"+failing, map[string]any{"input_value": "x"})
	requireDetail(t, r, http.StatusInternalServerError,
		`{"message":"Error running graph: Error building Component TFail-FFFFF: \n\nboom","traceback":null,"description":null,"code":null,"suggestion":null}`)

	r = s.run(t, key, "/api/v1/run/advanced/"+failing, nil)
	requireDetail(t, r, http.StatusInternalServerError, "Error running graph: Error building Component TFail-FFFFF: \n\nboom")

	t.Run("flows_that_cannot_run", func(t *testing.T) {
		empty := s.flow(t, s.root.token, nil, nil)
		requireDetail(t, s.run(t, key, "/api/v1/run/"+empty, nil), http.StatusNotFound, "Flow "+empty+" has no data")
		unknown := s.flow(t, s.root.token, rtFlowData([]rtNode{node("Nope-AAAAA:Nope", nil)}), nil)
		r := s.run(t, key, "/api/v1/run/"+unknown, nil)
		require.Equal(t, http.StatusBadRequest, r.status, "a flow that does not compile is the client's: %s", r.raw)
		assert.Contains(t, r.detail(), "Nope")
	})
	t.Run("stream_ends_with_an_error_frame", func(t *testing.T) {
		r := s.run(t, key, "/api/v1/run/"+failing+"?stream=true", map[string]any{"input_value": "x"})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		fs := frames(t, r.raw)
		require.NotEmpty(t, fs)
		assert.Equal(t, `{"event": "error", "data": {"error": "Error running graph: Error building Component TFail-FFFFF: \n\nboom"}}`, fs[len(fs)-1])
	})
}

// A streamed run: the user's message, the model's partial message and its
// tokens, the chat output's message, then end with the RunResponse.
func TestRunAPI_StreamGolden(t *testing.T) {
	t.Parallel()
	s := rtStart(t, true, nil, "")
	key := s.apiKey(t, s.root.token)
	flow := s.flow(t, s.root.token, rtBasic(false), nil)
	r := s.run(t, key, "/api/v1/run/"+flow+"?stream=true", map[string]any{"input_value": "hello there", "session_id": "golden"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "text/event-stream; charset=utf-8", r.header.Get("Content-Type"))
	assert.Equal(t, []string{"add_message", "add_message", "token", "token", "token", "token", "add_message", "end"},
		names(t, frames(t, r.raw)), "the stream flag streams the model (its stream field is false in the flow)")
	got := regexp.MustCompile(`"(id|message_id)": "\d+"`).ReplaceAllString(r.raw, `"$1": "<msg>"`)
	golden(t, "run_stream", got, map[string]string{"<flow>": flow})

	// Without stream the same flow's model does not stream.
	plain := s.run(t, key, "/api/v1/run/"+flow, map[string]any{"input_value": "hello there", "session_id": "golden"})
	assert.Equal(t, "echo: Answer: hello there", answerOf(t, plain))
}

func TestRunAPI_Advanced(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	key := s.apiKey(t, s.root.token)
	flow := s.flow(t, s.root.token, rtBasic(false), nil)
	r := s.run(t, key, "/api/v1/run/advanced/"+flow, map[string]any{
		"inputs":  []any{map[string]any{"input_value": "one"}, map[string]any{"input_value": "two", "components": []string{"ChatInput-AAAAA"}}},
		"outputs": []string{"ChatOutput-DDDDD"}, "tweaks": map[string]any{"Prompt-BBBBB": map[string]any{"template": "A: {input}"}}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	body := r.obj(t)
	assert.Nil(t, body["session_id"])
	assert.Contains(t, r.raw, `"session_id":null`, "the top-level session is kept")
	outs := body["outputs"].([]any)
	require.Len(t, outs, 2)
	for i, want := range []string{"one", "two"} {
		item := outs[i].(map[string]any)["outputs"].([]any)[0].(map[string]any)
		assert.Equal(t, "echo: A: "+want, item["results"].(map[string]any)["message"].(map[string]any)["text"])
		assert.NotContains(t, item, "timedelta", "nulls are left out")
		assert.NotContains(t, item["messages"].([]any)[0], "stream_url")
	}
	r = s.run(t, key, "/api/v1/run/advanced/"+flow, map[string]any{"inputs": []any{map[string]any{"input_value": "x",
		"components": []string{"Nope"}}}})
	assert.Equal(t, "echo: Answer: ", resultOf(t, r)["results"].(map[string]any)["message"].(map[string]any)["text"],
		"components restrict the input vertices")
	r = s.run(t, key, "/api/v1/run/advanced/"+flow, map[string]any{"inputs": []any{map[string]any{"type": "bad"}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}
