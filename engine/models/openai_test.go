package models_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

func open(t *testing.T, o *models.OpenAI, sel engine.ModelSelection) engine.ChatModel {
	t.Helper()
	m, err := o.Open(context.Background(), sel)
	require.NoError(t, err)
	return m
}

func userSays(text string) engine.ChatRequest {
	return engine.ChatRequest{Messages: []engine.ChatMessage{{Role: "user", Content: text}}}
}

// The server's own OPENAI_* environment never reaches a call: the node's
// key and the configured base URL are passed explicitly.
func TestOpenAI_KeyAndBaseURLAreExplicit(t *testing.T) {
	fake := fakeopenai.New(t)
	t.Setenv("OPENAI_API_KEY", "sk-server-own")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
	t.Setenv("OPENAI_ORG_ID", "org-server")
	t.Setenv("OPENAI_PROJECT_ID", "proj-server")
	t.Setenv("OPENAI_CUSTOM_HEADERS", "X-Leak: yes")
	o := &models.OpenAI{BaseURL: fake.URL}
	m := open(t, o, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "sk-node"})
	text, err := m.Chat(context.Background(), userSays("hi"), nil)
	require.NoError(t, err)
	assert.Equal(t, "echo: hi", text)
	req := fake.Last(t)
	assert.Equal(t, "/v1/chat/completions", req.Path)
	assert.Equal(t, "Bearer sk-node", req.Header.Get("Authorization"))
	assert.Empty(t, req.Header.Get("OpenAI-Organization"))
	assert.Empty(t, req.Header.Get("OpenAI-Project"))
	assert.Empty(t, req.Header.Get("X-Leak"))

	// The node's base URL wins over the configured one (the fake server,
	// on loopback, allow-listed for the flows' egress).
	o = &models.OpenAI{BaseURL: "http://127.0.0.1:9/v1", Egress: loopbackAllowed(t)}
	m = open(t, o, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "sk-node2", BaseURL: fake.URL})
	_, err = m.Chat(context.Background(), userSays("again"), nil)
	require.NoError(t, err)
	assert.Equal(t, "Bearer sk-node2", fake.Last(t).Header.Get("Authorization"))
}

// loopbackAllowed is an egress policy letting flows reach the loopback
// interface (the fake server).
func loopbackAllowed(t *testing.T) *egress.Policy {
	t.Helper()
	p, err := egress.New([]string{"127.0.0.0/8"})
	require.NoError(t, err)
	return p
}

// A node's own endpoint (the flow's choice, not the operator's) goes
// through the egress policy: loopback, private and metadata addresses are
// refused unless allow-listed, and the key never leaves; the configured
// endpoint is the operator's and is not limited.
func TestOpenAI_NodeEndpointPassesTheEgressPolicy(t *testing.T) {
	fake := fakeopenai.New(t)
	for _, base := range []string{fake.URL, "http://169.254.169.254/v1", "http://[::1]:9/v1", "http://10.0.0.1:9/v1",
		"http://localhost:9/v1"} {
		o := &models.OpenAI{BaseURL: fake.URL}
		m := open(t, o, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "sk-node", BaseURL: base})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := m.Chat(ctx, userSays("hi"), nil)
		cancel()
		require.ErrorIs(t, err, egress.ErrRefused, base)
	}
	assert.Empty(t, fake.Requests(), "nothing reached the server")
	m := open(t, &models.OpenAI{BaseURL: fake.URL, Egress: loopbackAllowed(t)},
		engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "sk-node", BaseURL: fake.URL})
	_, err := m.Chat(context.Background(), userSays("hi"), nil)
	require.NoError(t, err, "allow-listed")
}

func TestOpenAI_RequestParameters(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("gpt-4o", fakeopenai.Reply{Text: "ok"})
	m := open(t, &models.OpenAI{BaseURL: fake.URL}, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o", APIKey: "k"})
	temp, maxTok, seed := 0.3, int64(77), int64(5)
	text, err := m.Chat(context.Background(), engine.ChatRequest{
		Messages: []engine.ChatMessage{{Role: "system", Content: "be brief"}, {Role: "user", Content: "q"},
			{Role: "assistant", Content: "a"}, {Role: "user", Content: "q2"}},
		Temperature: &temp, MaxTokens: &maxTok, Seed: &seed, JSONMode: true,
		Extra: map[string]any{"top_p": 0.5, "model": "other", "stream": true},
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", text)
	c := fake.Last(t).Chat
	assert.Equal(t, "gpt-4o", c.Model, "extra parameters never replace the model")
	assert.False(t, c.Stream)
	require.Len(t, c.Messages, 4)
	for i, want := range [][2]string{{"system", "be brief"}, {"user", "q"}, {"assistant", "a"}, {"user", "q2"}} {
		assert.Equal(t, want[0], c.Messages[i].Role)
		assert.Equal(t, want[1], c.Messages[i].Text())
	}
	require.NotNil(t, c.Temperature)
	assert.InDelta(t, 0.3, *c.Temperature, 1e-9)
	require.NotNil(t, c.MaxCompletionTokens)
	assert.EqualValues(t, 77, *c.MaxCompletionTokens)
	assert.Nil(t, c.MaxTokens)
	require.NotNil(t, c.Seed)
	assert.EqualValues(t, 5, *c.Seed)
	assert.Equal(t, map[string]any{"type": "json_object"}, c.ResponseFormat)
	assert.Equal(t, 0.5, c.Params["top_p"])

	_, err = m.Chat(context.Background(), userSays("x"), nil)
	require.NoError(t, err)
	c = fake.Last(t).Chat
	assert.Nil(t, c.Temperature, "no temperature unless asked (reasoning models refuse it)")
	assert.Nil(t, c.Seed)
	assert.NotContains(t, c.Params, "response_format")
}

func TestOpenAI_Stream(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("gpt-4o-mini", fakeopenai.Reply{Chunks: []string{"Hel", "lo", " there"}})
	m := open(t, &models.OpenAI{BaseURL: fake.URL}, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "k"})
	var got []string
	text, err := m.Chat(context.Background(), userSays("hi"), func(c string) error {
		got = append(got, c)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "Hello there", text)
	assert.Equal(t, []string{"Hel", "lo", " there"}, got)
	assert.True(t, fake.Last(t).Chat.Stream)

	// An error of onChunk stops the stream and is returned.
	stop := errors.New("enough")
	_, err = m.Chat(context.Background(), userSays("hi"), func(string) error { return stop })
	assert.ErrorIs(t, err, stop)
}

func TestOpenAI_Errors(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("bad-key", fakeopenai.Reply{Status: http.StatusUnauthorized, Error: "Incorrect API key provided: sk-n***"})
	fake.Reply("down", fakeopenai.Reply{Status: http.StatusInternalServerError, Error: "The server had an error"})
	fake.Reply("flaky", fakeopenai.Reply{Chunks: []string{"a", "b", "c"}, MidStreamError: "overloaded", FailAfter: 2})
	o := &models.OpenAI{BaseURL: fake.URL}
	sel := func(name string) engine.ModelSelection {
		return engine.ModelSelection{Provider: "OpenAI", Name: name, APIKey: "k"}
	}

	_, err := open(t, o, sel("bad-key")).Chat(context.Background(), userSays("x"), nil)
	assert.EqualError(t, err, "OpenAI model bad-key: error code 401 (Unauthorized): Incorrect API key provided: sk-n***")
	// Streamed, the same error comes before any chunk.
	_, err = open(t, o, sel("bad-key")).Chat(context.Background(), userSays("x"), func(string) error { return nil })
	assert.ErrorContains(t, err, "error code 401 (Unauthorized)")

	before := len(fake.Requests())
	_, err = open(t, o, sel("down")).Chat(context.Background(), userSays("x"), nil)
	assert.ErrorContains(t, err, "error code 500 (Internal Server Error): The server had an error")
	assert.Len(t, fake.Requests(), before+1, "no retries unless configured")

	var got []string
	_, err = open(t, o, sel("flaky")).Chat(context.Background(), userSays("x"), func(c string) error {
		got = append(got, c)
		return nil
	})
	assert.EqualError(t, err, "OpenAI model flaky: the answer broke off: overloaded")
	assert.Equal(t, []string{"a", "b"}, got)

	_, err = o.Open(context.Background(), engine.ModelSelection{Provider: "Anthropic", Name: "claude-opus-4-5-20251101", APIKey: "k"})
	assert.ErrorContains(t, err, "the Anthropic provider is not supported by this server")
	_, err = o.Open(context.Background(), engine.ModelSelection{Provider: "Ollama", Name: "llama3", BaseURL: "http://127.0.0.1:11434"})
	assert.ErrorContains(t, err, "the Ollama provider is not supported by this server")
	_, err = o.Open(context.Background(), engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o", BaseURL: "file:///etc/passwd"})
	assert.ErrorContains(t, err, `the base URL "file:///etc/passwd" is not an http(s) URL`)

	// A provider the server names is served through the same client.
	o.Providers = map[string]string{"Local": fake.URL}
	text, err := open(t, o, engine.ModelSelection{Provider: "Local", Name: "m"}).Chat(context.Background(), userSays("hey"), nil)
	require.NoError(t, err)
	assert.Equal(t, "echo: hey", text)
}

// Cancelling the context stops a call in the middle of its stream.
func TestOpenAI_CancelStopsTheStream(t *testing.T) {
	fake := fakeopenai.New(t)
	hold := make(chan struct{})
	defer close(hold)
	fake.Reply("", fakeopenai.Reply{Chunks: []string{"first ", "never"}, Hold: hold, HoldAfter: 1})
	m := open(t, &models.OpenAI{BaseURL: fake.URL}, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o", APIKey: "k"})
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	_, err := m.Chat(ctx, userSays("x"), func(c string) error {
		got = append(got, c)
		cancel()
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"first "}, got)
}

// A model given tools answers tool calls, plain and streamed (the calls'
// deltas put together, text streamed meanwhile); the conversation goes
// back with the assistant's calls and the tools' results.
func TestOpenAI_ToolCalls(t *testing.T) {
	fake := fakeopenai.New(t)
	calls := []fakeopenai.ToolCall{fakeopenai.Call("call_a", "evaluate_expression", `{"expression": "2+2"}`),
		fakeopenai.Call("call_b", "fetch_content", `{"urls": ["https://example.com"]}`)}
	fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: calls},
		fakeopenai.Reply{Chunks: []string{"Let me ", "check."}, ToolCalls: calls[:1]},
		fakeopenai.Reply{Text: "It is 4."})
	m := open(t, &models.OpenAI{BaseURL: fake.URL}, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", APIKey: "sk"})
	tm, ok := m.(engine.ToolChatModel)
	require.True(t, ok)
	schema := map[string]any{"type": "object", "properties": map[string]any{"expression": map[string]any{"type": "string"}}}
	req := engine.ChatRequest{Messages: []engine.ChatMessage{{Role: "user", Content: "2+2?"}},
		Tools: []engine.ToolSpec{{Name: "evaluate_expression", Description: "Adds.", Parameters: schema}}}

	a, err := tm.Converse(context.Background(), req, nil)
	require.NoError(t, err)
	want := []engine.ToolCall{{ID: "call_a", Name: "evaluate_expression", Arguments: `{"expression": "2+2"}`},
		{ID: "call_b", Name: "fetch_content", Arguments: `{"urls": ["https://example.com"]}`}}
	assert.Equal(t, &engine.ChatAnswer{ToolCalls: want}, a)
	sent := fake.Last(t).Chat
	require.Len(t, sent.Tools, 1)
	assert.Equal(t, map[string]any{"type": "function", "function": map[string]any{"name": "evaluate_expression",
		"description": "Adds.", "parameters": schema}}, sent.Tools[0])

	var chunks []string
	a, err = tm.Converse(context.Background(), req, func(s string) error { chunks = append(chunks, s); return nil })
	require.NoError(t, err)
	assert.Equal(t, &engine.ChatAnswer{Text: "Let me check.", ToolCalls: want[:1]}, a)
	assert.Equal(t, []string{"Let me ", "check."}, chunks)

	req.Messages = append(req.Messages,
		engine.ChatMessage{Role: "assistant", Content: "Let me check.", ToolCalls: want[:1]},
		engine.ChatMessage{Role: "tool", ToolCallID: "call_a", Content: `{"result": "4"}`})
	text, err := m.Chat(context.Background(), req, nil)
	require.NoError(t, err)
	assert.Equal(t, "It is 4.", text)
	msgs := fake.Last(t).Chat.Messages
	require.Len(t, msgs, 3)
	assert.Equal(t, "assistant", msgs[1].Role)
	assert.Equal(t, "Let me check.", msgs[1].Text())
	assert.Equal(t, []fakeopenai.ToolCall{calls[0]}, msgs[1].ToolCalls)
	assert.Equal(t, "tool", msgs[2].Role)
	assert.Equal(t, "call_a", msgs[2].ToolCallID)
	assert.Equal(t, `{"result": "4"}`, msgs[2].Text())

	_, err = m.Chat(context.Background(), req, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the script of model gpt-4o-mini is spent")
}
