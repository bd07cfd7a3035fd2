package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// The OpenAI Responses API (#146, runtime reference §5): flows run as
// models through POST /api/v1/responses, with the official OpenAI client,
// raw requests pinned byte for byte, and the streamed chunks.

// respKey creates an API key of token's user.
func (s *rtServer) respKey(t testing.TB, token string) string {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	key, _ := r.obj(t)["api_key"].(string)
	require.NotEmpty(t, key, r.raw)
	return key
}

// respPost posts body to the Responses API with key, the OpenAI key as a
// request variable.
func (s *rtServer) respPost(t testing.TB, key string, body any) reply {
	t.Helper()
	h := http.Header{"X-Api-Key": {key}, "X-Langflow-Global-Var-Openai_api_key": {"sk-test"}}
	return s.do(t, http.MethodPost, "/api/v1/responses", body, h)
}

// respClient is the official OpenAI client pointed at s with key.
func (s *rtServer) respClient(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(s.base+"/api/v1/"), option.WithAPIKey(key), option.WithHeader("x-api-key", key),
		option.WithHeader("X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY", "sk-test"), option.WithMaxRetries(0))
}

// respBody is a non-streamed response's exact body.
func respBody(id, model, prev, output string) string {
	return `{"id":"` + id + `","object":"response","created_at":` + strconv.FormatInt(rtClock.Unix(), 10) +
		`,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"` +
		model + `","output":[` + output + `],"parallel_tool_calls":true,"previous_response_id":` + prev +
		`,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},` +
		`"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}`
}

// respMessage is the assistant's output item of a response.
func respMessage(id, text string) string {
	return `{"type":"message","id":"msg_` + id + `","status":"completed","role":"assistant","content":[{"type":"output_text","text":` +
		strconv.Quote(text) + `,"annotations":[]}]}`
}

// respError is an error object's exact body.
func respError(msg, typ, code string) string {
	b := `{"error":{"message":` + strconv.Quote(msg) + `,"type":"` + typ + `"`
	if code != "" {
		b += `,"code":"` + code + `"`
	}
	return b + `}}`
}

// The official client runs Basic Prompting by its flow id and reads the
// answer; the raw answer is Langflow's OpenAIResponsesResponse, byte for
// byte (the Machine's newlines doubled, as in RunResponse's messages).
func TestResponses_OpenAIClient(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("", fakeopenai.Reply{Text: "Hello!\nHow can I help?"})
	s := natStart(t, fake, true)
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)

	client := s.respClient(key)
	resp, err := client.Responses.New(context.Background(), responses.ResponseNewParams{Model: flow,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi there")}})
	require.NoError(t, err)
	assert.Equal(t, "Hello!\n\nHow can I help?", resp.OutputText())
	_, err = uuid.Parse(resp.ID)
	assert.NoError(t, err, "a new session: %s", resp.ID)
	assert.Equal(t, flow, resp.Model)
	call := fake.Last(t)
	assert.Equal(t, "Bearer sk-test", call.Header.Get("Authorization"), "the header variable")
	assert.Equal(t, "Hi there", call.Chat.Messages[len(call.Chat.Messages)-1].Text())
	assert.False(t, call.Chat.Stream)

	r := s.respPost(t, key, map[string]any{"model": flow, "input": "Hi again"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	id, _ := r.obj(t)["id"].(string)
	assert.NotEqual(t, resp.ID, id, "each response without a previous one opens a session")
	assert.Equal(t, respBody(id, flow, "null", respMessage(id, "Hello!\n\nHow can I help?")), r.raw)
}

// previous_response_id continues the conversation: the follow-up answers
// the same id (Langflow's quirk), runs in that session, and Memory
// Chatbot's model gets the first exchange as history.
func TestResponses_PreviousResponseContinuesSession(t *testing.T) {
	fake := fakeopenai.New(t)
	answers := []string{"Nice to meet you, Ada.", "Your name is Ada."}
	fake.Handle(func(fakeopenai.Request) fakeopenai.Reply {
		return fakeopenai.Reply{Text: answers[min(len(fake.Requests()), len(answers))-1]}
	})
	s := natStart(t, fake, false)
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, starterData(t, "memory-chatbot"), nil)
	client := s.respClient(key)
	ctx := context.Background()

	first, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: flow,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("My name is Ada.")}})
	require.NoError(t, err)
	assert.Equal(t, "Nice to meet you, Ada.", first.OutputText())
	assert.Empty(t, first.PreviousResponseID)

	second, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: flow, PreviousResponseID: openai.String(first.ID),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("What is my name?")}})
	require.NoError(t, err)
	assert.Equal(t, "Your name is Ada.", second.OutputText())
	assert.Equal(t, first.ID, second.ID, "a follow-up answers its previous response's id")
	assert.Equal(t, first.ID, second.PreviousResponseID)

	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	system := reqs[1].Chat.Messages[0].Text()
	for _, want := range []string{"My name is Ada.", "Nice to meet you, Ada.", "What is my name?"} {
		assert.Contains(t, system, want, "the follow-up's history")
	}

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(waitCtx, s.head(t)))
	assert.Equal(t, []string{first.ID, first.ID, first.ID, first.ID},
		s.textRows(t, `SELECT session_id FROM messages WHERE flow_id = $1 ORDER BY id`, flow), "every message in the one session")
}

// A flow is named by its endpoint name too (among the caller's flows).
func TestResponses_EndpointName(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("", fakeopenai.Reply{Text: "ok"})
	s := natStart(t, fake, true)
	key := s.respKey(t, s.root.token)
	s.flow(t, s.root.token, starterData(t, "basic-prompting"), map[string]any{"endpoint_name": "resp-bot"})

	r := s.respPost(t, key, map[string]any{"model": "resp-bot", "input": "hi", "previous_response_id": "chat-7"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, respBody("chat-7", "resp-bot", `"chat-7"`, respMessage("chat-7", "ok")), r.raw)

	other := s.newUser(t, "resp_name_other", rtPassword)
	r = s.respPost(t, s.respKey(t, other.token), map[string]any{"model": "resp-bot", "input": "hi"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, respError("Flow with id 'resp-bot' not found", "invalid_request_error", "flow_not_found"), r.raw,
		"another user's endpoint name")
	assert.Len(t, fake.Requests(), 1)
}

// Every refusal is an error object with HTTP 200, but a body that does
// not validate (FastAPI's 422); nothing runs.
func TestResponses_Errors(t *testing.T) {
	fake := fakeopenai.New(t)
	s := natStart(t, fake, false)
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)
	noChatIn := s.flow(t, s.root.token, rtFlowData([]rtNode{node("TextInput-AAAAA:TextInput", nil), node("ChatOutput-BBBBB:ChatOutput", nil)},
		"TextInput-AAAAA.text>ChatOutput-BBBBB.input_value"), nil)
	noChatOut := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TextOutput-BBBBB:TextOutput", nil)},
		"ChatInput-AAAAA.message>TextOutput-BBBBB.input_value"), nil)
	unknown := uuid.NewString()

	for _, c := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown_flow_id", map[string]any{"model": unknown, "input": "hi"},
			respError("Flow with id '"+unknown+"' not found", "invalid_request_error", "flow_not_found")},
		{"unknown_endpoint_name", map[string]any{"model": "no-such-flow", "input": "hi"},
			respError("Flow with id 'no-such-flow' not found", "invalid_request_error", "flow_not_found")},
		{"tools", map[string]any{"model": flow, "input": "hi", "tools": []any{}},
			respError("Tools are not supported yet", "invalid_request_error", "tools_not_supported")},
		{"tools_before_the_flow", map[string]any{"model": unknown, "input": "hi", "tools": []any{map[string]any{"type": "function"}}},
			respError("Tools are not supported yet", "invalid_request_error", "tools_not_supported")},
		{"no_chat_input", map[string]any{"model": noChatIn, "input": "hi"},
			respError("Flow must have a ChatInput component to be compatible with OpenAI Responses API", "processing_error", "")},
		{"no_chat_output", map[string]any{"model": noChatOut, "input": "hi"},
			respError("Flow must have a ChatOutput component to be compatible with OpenAI Responses API", "processing_error", "")},
		{"no_chat_input_streamed", map[string]any{"model": noChatIn, "input": "hi", "stream": true},
			respError("Flow must have a ChatInput component to be compatible with OpenAI Responses API", "processing_error", "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.respPost(t, key, c.body)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, c.want, r.raw)
		})
	}

	for _, c := range []struct {
		name string
		body any
		loc  []any
	}{
		{"missing_input", map[string]any{"model": flow}, []any{"body", "input"}},
		{"missing_model", map[string]any{"input": "hi"}, []any{"body", "model"}},
		{"input_items", map[string]any{"model": flow, "input": []any{map[string]any{"role": "user", "content": "hi"}}}, []any{"body", "input"}},
		{"stream_not_bool", map[string]any{"model": flow, "input": "hi", "stream": "yes please"}, []any{"body", "stream"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.respPost(t, key, c.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
			items, _ := r.detail().([]any)
			require.NotEmpty(t, items, r.raw)
			assert.Equal(t, c.loc, items[0].(map[string]any)["loc"], r.raw)
		})
	}

	t.Run("bearer_token_is_no_api_key", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/api/v1/responses", map[string]any{"model": flow, "input": "hi"}, bearer(s.root.token))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
	})
	assert.Empty(t, fake.Requests(), "nothing ran")

	t.Run("documented", func(t *testing.T) {
		r := s.call(t, http.MethodGet, "/openapi.json", nil, "")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		doc := r.obj(t)
		op, _ := doc["paths"].(map[string]any)["/api/v1/responses"].(map[string]any)["post"].(map[string]any)
		require.NotNil(t, op, "POST /api/v1/responses is documented")
		assert.Equal(t, []any{"OpenAI Responses API"}, op["tags"])
		assert.Equal(t, "Create Response", op["summary"])
		schema := op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		if ref, ok := schema["$ref"].(string); ok {
			schema = doc["components"].(map[string]any)["schemas"].(map[string]any)[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		var props []string
		for k := range schema["properties"].(map[string]any) {
			props = append(props, k)
		}
		assert.ElementsMatch(t, []string{"model", "input", "stream", "background", "tools", "previous_response_id", "include"}, props)
		assert.ElementsMatch(t, []any{"model", "input"}, schema["required"])
	})
}

// Another user's flow is not run and not told apart from a flow that does
// not exist, by id as by endpoint name; no run is recorded.
func TestResponses_AnotherUsersFlowIsNotRun(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("", fakeopenai.Reply{Text: "secret"})
	s := natStart(t, fake, false)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), map[string]any{"endpoint_name": "root-bot"})
	other := s.newUser(t, "resp_other", rtPassword)
	key := s.respKey(t, other.token)

	for _, model := range []string{flow, "root-bot"} {
		for _, stream := range []bool{false, true} {
			r := s.respPost(t, key, map[string]any{"model": model, "input": "hi", "stream": stream})
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Equal(t, respError("Flow with id '"+model+"' not found", "invalid_request_error", "flow_not_found"), r.raw)
		}
	}
	assert.Empty(t, fake.Requests(), "the flow did not run")

	// In a tenant: a viewer, who may read the flow but not run it, is told
	// so; a developer runs it.
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Responses T"}, s.root.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	placed := s.flow(t, s.root.token, starterData(t, "basic-prompting"), map[string]any{"tenant_id": tenant})
	viewer, dev := s.newUser(t, "resp_viewer", rtPassword), s.newUser(t, "resp_dev", rtPassword)
	s.grantRole(t, s.root.token, tenant, viewer.id, "viewer")
	s.grantRole(t, s.root.token, tenant, dev.id, "developer")
	r = s.respPost(t, s.respKey(t, viewer.token), map[string]any{"model": placed, "input": "hi"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, respError("You do not have permission to run this flow", "processing_error", ""), r.raw)
	assert.Empty(t, fake.Requests(), "the viewer did not run it")
	r = s.respPost(t, s.respKey(t, dev.token), map[string]any{"model": placed, "input": "hi"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, r.raw, `"text":"secret"`)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(ctx, s.head(t)))
	assert.Empty(t, s.textRows(t, `SELECT run_id::text FROM runs WHERE flow_id = $1`, flow), "no run recorded")
	assert.Equal(t, []string{rtItoa(dev.id)}, s.textRows(t, `SELECT user_id::text FROM runs WHERE flow_id = $1`, placed),
		"the developer's run only")
}

// respFrames splits a streamed body into its frames and replaces the
// response's id (read from the first chunk) and flow by placeholders.
func respFrames(t *testing.T, raw, flow string) []string {
	t.Helper()
	require.True(t, strings.HasSuffix(raw, "\n\n"), "%q", raw)
	fs := strings.Split(strings.TrimSuffix(raw, "\n\n"), "\n\n")
	var first struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(fs[0], "data: ")), &first), fs[0])
	_, err := uuid.Parse(first.ID)
	require.NoError(t, err, "a new session: %s", first.ID)
	for i, f := range fs {
		fs[i] = strings.ReplaceAll(strings.ReplaceAll(f, first.ID, "<id>"), flow, "<flow>")
	}
	return fs
}

// respChunk is a streamed chunk of content (status null), or the last one.
func respChunk(content *string) string {
	created := strconv.FormatInt(rtClock.Unix(), 10)
	head := `data: {"id":"<id>","object":"response.chunk","created":` + created + `,"model":"<flow>","delta":`
	if content == nil {
		return head + `{},"status":"completed"}`
	}
	return head + `{"content":` + strconv.Quote(*content) + `},"status":null}`
}

// A streamed response: Langflow's chunks, not OpenAI's event protocol —
// an empty first chunk, the model's first chunk twice (the partial
// message, then its token), the other tokens, the completed chunk and
// [DONE]; the run records the whole answer.
func TestResponses_Stream(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("", fakeopenai.Reply{Chunks: []string{"Hel", "lo ", "wörld <3"}})
	s := natStart(t, fake, true)
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)

	r := s.respPost(t, key, map[string]any{"model": flow, "input": "Hi there", "stream": true})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "text/event-stream; charset=utf-8", r.header.Get("Content-Type"))
	assert.Equal(t, "no-cache", r.header.Get("Cache-Control"))
	assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "keep-alive", r.header.Get("Connection"))
	str := func(s string) *string { return &s }
	assert.Equal(t, []string{
		respChunk(str("")),
		respChunk(str("Hel")),
		respChunk(str("Hel")),
		respChunk(str("lo ")),
		respChunk(str("wörld <3")),
		respChunk(nil),
		"data: [DONE]",
	}, respFrames(t, r.raw, flow), r.raw)
	assert.True(t, fake.Last(t).Chat.Stream, "the model streams")
}

// A streamed run that fails sends the error object (Langflow's error
// event path; its stream manager would drop it), then completes.
func TestResponses_StreamFailedRun(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("", fakeopenai.Reply{Status: http.StatusBadRequest, Error: "model refused"})
	s := natStart(t, fake, true)
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)

	r := s.respPost(t, key, map[string]any{"model": flow, "input": "Hi", "stream": true})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	fs := respFrames(t, r.raw, flow)
	require.Len(t, fs, 4, r.raw)
	empty := ""
	assert.Equal(t, respChunk(&empty), fs[0])
	assert.Regexp(t, `^data: \{"error": \{"message": "Error running graph: [^"]*model refused[^"]*", "type": "processing_error"\}\}$`, fs[1])
	assert.Equal(t, []string{respChunk(nil), "data: [DONE]"}, fs[2:])

	r = s.respPost(t, key, map[string]any{"model": flow, "input": "Hi"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Regexp(t, `^\{"error":\{"message":"Error running graph: [^"]*model refused[^"]*","type":"processing_error"\}\}$`, r.raw)
}

// respAgent is an agent that called a tool: its partial message carries
// its first words and its steps (a tool_use with the tool's output), then
// it completes its message, which the chat output sends on.
type respAgent struct{}

func (respAgent) Spec() *engine.Spec {
	return &engine.Spec{Type: "TAgent", DisplayName: "Agent",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "str", Input: "MessageTextInput", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "response", Types: []string{"Message"}}}}
}

func (respAgent) Build(ctx context.Context, b *engine.Build) error {
	m := engine.NewMessage("Found ")
	m.SenderName, m.Properties.State = "Agent", "partial"
	m.ContentBlocks = []engine.ContentBlock{{Title: "Agent Steps", AllowMarkdown: true, Contents: []map[string]any{
		{"type": "text", "text": "Thinking"},
		{"type": "tool_use", "name": "search", "tool_input": map[string]any{"query": b.Str("input_value")},
			"output": map[string]any{"hits": 2}},
	}}}
	sent, err := b.Send(ctx, m)
	if err != nil {
		return err
	}
	final := sent.Clone()
	final.Text, final.Properties.State = "Found 2 results.", "complete"
	if final, err = b.Send(ctx, final); err != nil {
		return err
	}
	b.Set("response", final)
	return nil
}

// An agent's tool calls: function_call items before the message, or
// tool_call items with their results when include asks for them; streamed,
// the named events of Langflow's stream, once per call.
func TestResponses_ToolCalls(t *testing.T) {
	runs := &app.Runs{Components: append(rtComponents(newGate()), respAgent{}), Clock: func() time.Time { return rtClock }}
	h := startApp(t, options{env: adminEnv(rtRoot, rtPassword), modules: rtModules(runs)})
	s := &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
	key := s.respKey(t, s.root.token)
	flow := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TAgent-BBBBB:TAgent", nil),
		node("ChatOutput-CCCCC:ChatOutput", nil)}, "ChatInput-AAAAA.message>TAgent-BBBBB.input_value",
		"TAgent-BBBBB.response>ChatOutput-CCCCC.input_value"), nil)

	r := s.respPost(t, key, map[string]any{"model": flow, "input": "weather", "previous_response_id": "s1"})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, respBody("s1", flow, `"s1"`, `{"id":"fc_1","type":"function_call","status":"completed","name":"search",`+
		`"arguments":"{\"query\": \"weather\"}"},`+respMessage("s1", "Found 2 results.")), r.raw)

	r = s.respPost(t, key, map[string]any{"model": flow, "input": "weather", "previous_response_id": "s2",
		"include": []string{"tool_call.results"}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, respBody("s2", flow, `"s2"`, `{"id":"search_1","queries":["weather"],"status":"completed",`+
		`"tool_name":"search","type":"tool_call","results":{"hits":2}},`+respMessage("s2", "Found 2 results.")), r.raw)

	for _, c := range []struct {
		include []string
		done    string
	}{
		{nil, `{"type": "response.output_item.done", "item": {"id": "fc_1", "type": "function_call", "status": "completed", ` +
			`"arguments": "{\"query\": \"weather\"}", "call_id": "call_1", "name": "search"}}`},
		{[]string{"tool_call.results"}, `{"type": "response.output_item.done", "item": {"id": "search_fc_1", ` +
			`"inputs": {"query": "weather"}, "status": "completed", "type": "tool_call", "tool_name": "search", ` +
			`"results": {"hits": 2}}, "output_index": 0, "sequence_number": 6}`},
	} {
		r = s.respPost(t, key, map[string]any{"model": flow, "input": "weather", "stream": true, "include": c.include})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		found := "Found "
		empty := ""
		assert.Equal(t, []string{
			respChunk(&empty),
			"event: response.output_item.added\ndata: " + `{"type": "response.output_item.added", "item": {"id": "fc_1", ` +
				`"type": "function_call", "status": "in_progress", "name": "search", "arguments": "", "call_id": "call_1"}}`,
			"event: response.function_call_arguments.delta\ndata: " + `{"type": "response.function_call_arguments.delta", ` +
				`"delta": "{\"query\": \"weather\"}", "item_id": "fc_1", "output_index": 0}`,
			"event: response.function_call_arguments.done\ndata: " + `{"type": "response.function_call_arguments.done", ` +
				`"arguments": "{\"query\": \"weather\"}", "item_id": "fc_1", "output_index": 0}`,
			"event: response.output_item.done\ndata: " + c.done,
			respChunk(&found),
			respChunk(nil),
			"data: [DONE]",
		}, respFrames(t, r.raw, flow), r.raw)
	}
}
