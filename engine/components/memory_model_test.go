package components

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

func seedHistory(t *testing.T, s *memStore) {
	t.Helper()
	add := func(user int64, session, sender, name, text string, isErr bool) {
		m := engine.NewMessage(text)
		m.Sender, m.SenderName, m.SessionID, m.Error = sender, name, session, isErr
		_, err := s.StoreMessage(context.Background(), engine.RunInfo{UserID: user, FlowID: "other-flow"}, m)
		require.NoError(t, err)
	}
	add(7, "s", "User", "User", "one", false)
	add(7, "s", "Machine", "AI", "two", false)
	add(7, "s", "Machine", "AI", "boom", true)
	add(8, "s", "User", "Mallory", "another user's", false)
	add(7, "other", "User", "User", "another session", false)
	add(7, "s", "User", "User", "three", false)
	add(7, "s", "Machine", "Bot", "four", false)
}

// shown is the value of a field the node shows (Memory's template and
// sender_name are hidden in the spec, shown in Retrieve-mode nodes).
func shown(v any) map[string]any { return fieldSpec("value", v, "show", true) }

func TestMemory_Retrieve(t *testing.T) {
	h := newHarness(t)
	seedHistory(t, h.store)
	recall := func(vals map[string]any) string {
		data := h.flow(t).node("Memory-m", "", vals).node("TextOutput-o", "", nil).
			edge("Memory-m", "messages_text", "TextOutput-o", "input_value").bytes()
		res, _ := h.run(t, data, engine.RunInput{Session: "s"})
		return outText(t, res, "Memory-m", "messages_text")
	}
	assert.Equal(t, "User: one\nAI: two\nUser: three\nBot: four", recall(nil),
		"the session's messages of this user (any flow), errors left out, oldest first")
	assert.Equal(t, "User: three\nBot: four", recall(map[string]any{"n_messages": 2}), "the newest n")
	assert.Equal(t, "AI: two\nUser: one", recall(map[string]any{"n_messages": 2, "order": "Descending"}),
		"Langflow's quirk: Descending gives the oldest n, newest first")
	assert.Equal(t, "", recall(map[string]any{"n_messages": 0}))
	assert.Equal(t, "two\nfour", recall(map[string]any{"sender_type": "Machine", "template": shown("{text}")}))
	assert.Equal(t, "four", recall(map[string]any{"sender_name": shown("Bot"), "template": shown("{text}")}))
	assert.Equal(t, "two|Machine|\none|User|", recall(map[string]any{"n_messages": 2, "order": "Descending", "template": shown("{text}|{sender}|{nothing}")}))
	assert.Equal(t, "another session", recall(map[string]any{"session_id": "other", "template": shown("{text}")}))

	data := h.flow(t).node("Memory-m", "", map[string]any{"n_messages": 2}).node("ParserComponent-p", "", map[string]any{"pattern": "{sender_name}"}).
		edge("Memory-m", "dataframe", "ParserComponent-p", "input_data").bytes()
	res, _ := h.run(t, data, engine.RunInput{Session: "s"})
	assert.Equal(t, "User\nBot", outText(t, res, "ParserComponent-p", "parsed_text"))
}

func TestMemory_Store(t *testing.T) {
	h := newHarness(t)
	data := h.flow(t).
		node("TextInput-a", "", map[string]any{"input_value": "remember me"}).
		node("Memory-m", "", map[string]any{"mode": "Store", "message": fieldSpec("show", true)}).
		edge("TextInput-a", "text", "Memory-m", "message").bytes()
	res, ev := h.run(t, data, engine.RunInput{Session: "s2"})
	stored := outValue(t, res, "Memory-m", "stored_messages").(*engine.Message)
	assert.Equal(t, [4]string{"remember me", "Machine", "AI", "s2"}, [4]string{stored.Text, stored.Sender, stored.SenderName, stored.SessionID})
	assert.NotEmpty(t, stored.ID)
	assert.NotContains(t, ev.names(), "add_message", "storing does not report")
	assert.Len(t, h.store.all(), 1)
}

// modelFlow: ChatInput and a Prompt (system message) feed a model
// component, which feeds a ChatOutput.
func modelFlow(h *harness, t *testing.T, modelType string, vals map[string]any) []byte {
	return h.flow(t).
		node("ChatInput-i", "", nil).
		node("Prompt-p", "", map[string]any{"template": "You are terse."}).
		node(modelType+"-m", modelType, vals).
		node("ChatOutput-o", "", nil).
		edge("ChatInput-i", "message", modelType+"-m", "input_value").
		edge("Prompt-p", "prompt", modelType+"-m", "system_message").
		edge(modelType+"-m", "text_output", "ChatOutput-o", "input_value").bytes()
}

func gpt(name string, reasoning ...string) []any {
	meta := map[string]any{"api_key_param": "api_key", "model_class": "ChatOpenAI", "model_name_param": "model"}
	if len(reasoning) > 0 {
		r := make([]any, len(reasoning))
		for i, s := range reasoning {
			r[i] = s
		}
		meta["reasoning_models"] = r
	}
	return []any{map[string]any{"name": name, "provider": "OpenAI", "icon": "OpenAI", "category": "OpenAI", "metadata": meta}}
}

func TestLanguageModel_Call(t *testing.T) {
	h := newHarness(t)
	t.Setenv("OPENAI_API_KEY", "sk-server-environment")
	h.fake.Reply("gpt-4o-mini", fakeopenai.Reply{Text: "Hello!"})
	in := "hi"
	res, ev := h.run(t, modelFlow(h, t, "LanguageModelComponent", map[string]any{"model": gpt("gpt-4o-mini"), "temperature": 0.4}),
		engine.RunInput{InputValue: &in, Session: "s"})
	require.NoError(t, res.Err)
	assert.Equal(t, "Hello!", outText(t, res, "ChatOutput-o", "message"))
	req := h.fake.Last(t)
	assert.Equal(t, "Bearer sk-from-variable", req.Header.Get("Authorization"), "the OPENAI_API_KEY variable, not the server's environment")
	require.Len(t, req.Chat.Messages, 2)
	assert.Equal(t, "system", req.Chat.Messages[0].Role)
	assert.Equal(t, "You are terse.", req.Chat.Messages[0].Text())
	assert.Equal(t, "user", req.Chat.Messages[1].Role)
	assert.Equal(t, "hi", req.Chat.Messages[1].Text())
	require.NotNil(t, req.Chat.Temperature)
	assert.InDelta(t, 0.4, *req.Chat.Temperature, 1e-9)
	assert.False(t, req.Chat.Stream)
	assert.NotContains(t, ev.names(), "token")
	ai := h.store.all()[1]
	assert.Equal(t, engine.SourceOf("LanguageModelComponent-m", "Language Model",
		"[{'category': 'OpenAI', 'icon': 'OpenAI', 'metadata': {'api_key_param': 'api_key', 'model_class': 'ChatOpenAI', 'model_name_param': 'model'}, 'name': 'gpt-4o-mini', 'provider': 'OpenAI'}]"),
		ai.Properties.Source, "the Python str() of the model field")

	// A reasoning model gets no temperature; the node's own key wins.
	res, _ = h.run(t, modelFlow(h, t, "LanguageModelComponent", map[string]any{"model": gpt("gpt-5", "gpt-5"), "api_key": fieldSpec("value", "sk-node", "load_from_db", false)}),
		engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	req = h.fake.Last(t)
	assert.Nil(t, req.Chat.Temperature)
	assert.Equal(t, "gpt-5", req.Chat.Model)
	assert.Equal(t, "Bearer sk-node", req.Header.Get("Authorization"))
}

func TestLanguageModel_Refusals(t *testing.T) {
	h := newHarness(t)
	in := "hi"
	run := func(vals map[string]any) string {
		res, _ := h.run(t, modelFlow(h, t, "LanguageModelComponent", vals), engine.RunInput{InputValue: &in})
		return failure(t, res, "LanguageModelComponent-m")
	}
	assert.Equal(t, "A model selection is required", run(map[string]any{"model": []any{}}))
	assert.Equal(t, "A model selection is required", run(nil))
	delete(h.vars, "OPENAI_API_KEY")
	assert.Equal(t, "OPENAI_API_KEY variable not found.", run(map[string]any{"model": gpt("gpt-4o")}))
	h.vars["OPENAI_API_KEY"] = ""
	assert.Equal(t, "OpenAI API key is required when using OpenAI provider. Please provide it in the component or configure it globally as OPENAI_API_KEY.",
		run(map[string]any{"model": gpt("gpt-4o")}))
	anthropic := []any{map[string]any{"name": "claude-opus-4-5-20251101", "provider": "Anthropic", "metadata": map[string]any{"model_class": "ChatAnthropic"}}}
	assert.Contains(t, run(map[string]any{"model": anthropic}), "the Anthropic provider is not supported by this server")
	assert.Empty(t, h.fake.Requests())
}

// Streaming next to a chat output: the model records a partial message,
// reports its first chunk (add_message) and every chunk (token), then the
// chat output completes the same message (same id) with the whole text.
func TestLanguageModel_Stream(t *testing.T) {
	h := newHarness(t)
	h.fake.Reply("gpt-4o-mini", fakeopenai.Reply{Chunks: []string{"Hel", "lo", "!"}})
	in := "hi"
	res, ev := h.run(t, modelFlow(h, t, "LanguageModelComponent", map[string]any{"model": gpt("gpt-4o-mini"), "stream": true}),
		engine.RunInput{InputValue: &in, Session: "s"})
	require.NoError(t, res.Err)
	assert.True(t, h.fake.Last(t).Chat.Stream)
	var names, chunks []string
	var ids []string
	for _, e := range ev.list() {
		switch x := e.(type) {
		case engine.Token:
			names = append(names, "token")
			chunks = append(chunks, x.Chunk)
			ids = append(ids, x.ID)
		case engine.MessageAdded:
			names = append(names, "add_message:"+x.Message.Text)
			ids = append(ids, x.Message.ID)
		case engine.VertexEnded:
			names = append(names, "end_vertex:"+x.Result.Vertex.ID)
		default:
			names = append(names, e.Name())
		}
	}
	assert.Equal(t, []string{"vertices_sorted", "add_message:hi", "end_vertex:ChatInput-i", "end_vertex:Prompt-p",
		"add_message:Hel", "token", "token", "token", "end_vertex:LanguageModelComponent-m",
		"add_message:Hello!", "end_vertex:ChatOutput-o", "end"}, names)
	assert.Equal(t, []string{"Hel", "lo", "!"}, chunks)
	streamed := ids[1:]
	for _, id := range streamed {
		assert.Equal(t, streamed[0], id, "one message id from the first chunk to the chat output")
	}
	stored := h.store.all()
	require.Len(t, stored, 2, "the streamed message is updated, not recorded twice")
	ai := stored[1]
	assert.Equal(t, "Hello!", ai.Text)
	assert.Equal(t, "complete", ai.Properties.State)
	assert.Equal(t, "brain-circuit", *ai.Properties.Icon)
	assert.Equal(t, "Machine", ai.Sender)

	// stream on without a chat output next to it: one plain call.
	data := h.flow(t).node("TextInput-a", "", map[string]any{"input_value": "q"}).
		node("LanguageModelComponent-m", "", map[string]any{"model": gpt("gpt-4o-mini"), "stream": true}).
		node("TextOutput-o", "", nil).
		edge("TextInput-a", "text", "LanguageModelComponent-m", "input_value").
		edge("LanguageModelComponent-m", "text_output", "TextOutput-o", "input_value").bytes()
	res, ev = h.run(t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	assert.False(t, h.fake.Last(t).Chat.Stream)
	assert.NotContains(t, ev.names(), "token")
	assert.Equal(t, "Hello!", outText(t, res, "TextOutput-o", "text"))
}

func TestOpenAIModel(t *testing.T) {
	h := newHarness(t)
	t.Setenv("OPENAI_API_KEY", "sk-server-environment")
	h.vars["MY_KEY"] = "sk-mine"
	other := fakeopenai.New(t)
	in := "hi"
	res, _ := h.run(t, modelFlow(h, t, "OpenAIModel", map[string]any{
		"model_name": "gpt-4o", "api_key": "MY_KEY", "max_tokens": 50, "seed": 3, "json_mode": true, "temperature": 0.2,
		"model_kwargs": map[string]any{"top_p": 0.9, "api_key": "never"}, "openai_api_base": other.URL,
	}), engine.RunInput{InputValue: &in, Session: "s"})
	require.NoError(t, res.Err)
	assert.Empty(t, h.fake.Requests(), "openai_api_base replaces the configured endpoint")
	req := other.Last(t)
	assert.Equal(t, "Bearer sk-mine", req.Header.Get("Authorization"))
	assert.Equal(t, "gpt-4o", req.Chat.Model)
	assert.EqualValues(t, 50, *req.Chat.MaxCompletionTokens)
	assert.EqualValues(t, 3, *req.Chat.Seed)
	assert.InDelta(t, 0.2, *req.Chat.Temperature, 1e-9)
	assert.Equal(t, map[string]any{"type": "json_object"}, req.Chat.ResponseFormat)
	assert.Equal(t, 0.9, req.Chat.Params["top_p"])
	assert.NotContains(t, string(req.Body), "never")
	assert.Equal(t, "gpt-4o", *h.store.all()[1].Properties.Source.Source, "ChatOutput names the model")

	// Reasoning: no temperature, no seed; max_tokens 0 is no limit.
	res, _ = h.run(t, modelFlow(h, t, "OpenAIModel", map[string]any{"model_name": "o1", "api_key": "", "max_tokens": 0}),
		engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	req = h.fake.Last(t)
	assert.Nil(t, req.Chat.Temperature)
	assert.Nil(t, req.Chat.Seed)
	assert.Nil(t, req.Chat.MaxCompletionTokens)
	assert.Equal(t, "Bearer sk-from-variable", req.Header.Get("Authorization"), "an empty key is the OPENAI_API_KEY variable")

	// A missing key variable fails as Langflow words it.
	res, _ = h.run(t, modelFlow(h, t, "OpenAIModel", map[string]any{"api_key": "NOPE"}), engine.RunInput{InputValue: &in})
	assert.Equal(t, "NOPE variable not found.", failure(t, res, "OpenAIModel-m"))
}

// The server's environment is a store of the server's own secrets: with
// VariablesFromEnv, only a secret field (a model's api_key) may take its
// variable from it, never the server's configuration (SKILLFLAW_*, PG*),
// and the key goes only to the endpoint the operator configured, never to
// one the node names, where the flow's author could collect it.
func TestVariables_FromEnvironment(t *testing.T) {
	h := newHarness(t)
	h.eng = engine.New(h.reg, engine.Limits{VariablesFromEnv: true})
	t.Setenv("FLOW_TEST_VARIABLE", "from-env")
	t.Setenv("SKILLFLAW_TEST_SECRET", "postgres://u:secret@db/x")
	t.Setenv("PGTEST_SECRET", "secret")
	text := func(name string) []byte {
		return h.flow(t).node("TextInput-a", "", map[string]any{"input_value": fieldSpec("value", name, "load_from_db", true)}).bytes()
	}
	res, _ := h.run(t, text("FLOW_TEST_VARIABLE"), engine.RunInput{})
	assert.Equal(t, "FLOW_TEST_VARIABLE variable not found.", failure(t, res, "TextInput-a"), "not a secret field")

	in := "hi"
	key := func(name, base string) map[string]any {
		return map[string]any{"model_name": "gpt-4o", "api_key": name, "openai_api_base": base}
	}
	res, _ = h.run(t, modelFlow(h, t, "OpenAIModel", key("FLOW_TEST_VARIABLE", "")), engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	assert.Equal(t, "Bearer from-env", h.fake.Last(t).Header.Get("Authorization"), "a secret field, to the configured endpoint")
	for _, name := range []string{"SKILLFLAW_TEST_SECRET", "PGTEST_SECRET"} {
		res, _ = h.run(t, modelFlow(h, t, "OpenAIModel", key(name, "")), engine.RunInput{InputValue: &in})
		assert.Equal(t, name+" variable not found.", failure(t, res, "OpenAIModel-m"))
	}
	calls := len(h.fake.Requests())
	t.Setenv("OPENAI_API_KEY", "sk-server-own")
	delete(h.vars, "OPENAI_API_KEY")                          // the user's own variable would be theirs to send
	for _, name := range []string{"FLOW_TEST_VARIABLE", ""} { // the field's variable, then the provider's
		res, _ = h.run(t, modelFlow(h, t, "OpenAIModel", key(name, h.fake.URL)), engine.RunInput{InputValue: &in})
		assert.Contains(t, failure(t, res, "OpenAIModel-m"), "the server's own OpenAI API key is sent only to the endpoint the operator configured")
	}
	assert.Len(t, h.fake.Requests(), calls, "nothing was sent to the node's endpoint")
}

// A model vertex without outgoing edges builds its model_output too; its
// text (what the build events and the event log show) names the model,
// never its key.
func TestModel_OutputHidesKey(t *testing.T) {
	h := newHarness(t)
	h.vars["MY_KEY"] = "sk-very-secret"
	in := "hi"
	for typ, vals := range map[string]map[string]any{
		"OpenAIModel":            {"api_key": "MY_KEY", "model_name": "gpt-4o"},
		"LanguageModelComponent": {"api_key": "MY_KEY", "model": gpt("gpt-4o")},
	} {
		data := h.flow(t).node("ChatInput-i", "", nil).node(typ+"-m", typ, vals).
			edge("ChatInput-i", "message", typ+"-m", "input_value").bytes()
		res, _ := h.run(t, data, engine.RunInput{InputValue: &in})
		require.NoError(t, res.Err)
		model := outValue(t, res, typ+"-m", "model_output")
		require.IsType(t, &Model{}, model)
		assert.Equal(t, "sk-very-secret", model.(*Model).Selection.APIKey, "the model keeps its key for its callers")
		assert.Equal(t, "ChatOpenAI(model_name='gpt-4o')", engine.PyStr(model), typ)
		assert.NotContains(t, string(engine.PyDumps(map[string]any{"m": model})), "sk-very-secret", typ)
	}
}

// A model error fails the vertex cleanly: no panic, its chat output does
// not build, the run ends; mid-stream the tokens already sent stay sent.
func TestModel_Errors(t *testing.T) {
	h := newHarness(t)
	h.fake.Reply("gpt-4o", fakeopenai.Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided"})
	h.fake.Reply("gpt-4o-mini", fakeopenai.Reply{Chunks: []string{"par", "tial", "never"}, MidStreamError: "overloaded", FailAfter: 2})
	in := "hi"
	res, ev := h.run(t, modelFlow(h, t, "OpenAIModel", map[string]any{"model_name": "gpt-4o", "api_key": "", "max_retries": 0}),
		engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	assert.Equal(t, "OpenAI model gpt-4o: error code 401 (Unauthorized): Incorrect API key provided", failure(t, res, "OpenAIModel-m"))
	assert.Nil(t, res.Result("ChatOutput-o"))
	assert.Equal(t, "end", ev.names()[len(ev.names())-1])

	res, ev = h.run(t, modelFlow(h, t, "OpenAIModel", map[string]any{"model_name": "gpt-4o-mini", "api_key": "", "stream": true}),
		engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	assert.Equal(t, "OpenAI model gpt-4o-mini: the answer broke off: overloaded", failure(t, res, "OpenAIModel-m"))
	var tokens []string
	for _, e := range ev.list() {
		if tok, ok := e.(engine.Token); ok {
			tokens = append(tokens, tok.Chunk)
		}
	}
	assert.Equal(t, []string{"par", "tial"}, tokens)
	assert.Nil(t, res.Result("ChatOutput-o"))
	assert.True(t, strings.HasPrefix(res.Result("OpenAIModel-m").ErrorText(), "Error building Component OpenAI: \n\n"))
}

// Cancelling a run stops the model's stream.
func TestModel_CancelDuringStream(t *testing.T) {
	h := newHarness(t)
	hold := make(chan struct{})
	defer close(hold)
	h.fake.Reply("", fakeopenai.Reply{Chunks: []string{"first ", "never"}, Hold: hold, HoldAfter: 1})
	g, err := h.eng.Compile(modelFlow(h, t, "LanguageModelComponent", map[string]any{"model": gpt("gpt-4o"), "stream": true}))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	sink := engine.SinkFunc(func(e engine.Event) {
		if _, ok := e.(engine.Token); ok {
			cancel()
		}
	})
	in := "hi"
	res := h.eng.Run(ctx, g, engine.RunInput{FlowID: "f", InputValue: &in}, h.env(), sink)
	assert.ErrorIs(t, res.Err, engine.ErrCancelled)
	r := res.Result("LanguageModelComponent-m")
	require.NotNil(t, r)
	assert.ErrorIs(t, r.Err, context.Canceled)
}
