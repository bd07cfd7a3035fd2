package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// The build API with the native components (engine/components) and the
// OpenAI-compatible client against the in-process fake server: the
// starter fixtures of engine/components/testdata, in Langflow 1.7's node
// shapes, run through POST /api/v1/build/{flow_id}/flow.

// natStart serves a runs App of the native components whose model calls
// go to fake; a pinned clock when pinned.
func natStart(t *testing.T, fake *fakeopenai.Server, pinned bool) *rtServer {
	t.Helper()
	runs := &app.Runs{Components: components.All(), Env: engine.Env{Models: &models.OpenAI{BaseURL: fake.URL}}}
	if pinned {
		runs.Clock = func() time.Time { return rtClock }
	}
	mods := append([]app.Module{app.Templates{}}, rtModules(runs)...)
	mods[0], mods[1] = mods[1], mods[0] // Identity first
	h := startApp(t, options{env: adminEnv(rtRoot, rtPassword), modules: mods})
	return &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
}

// starterData reads a fixture's flow data.
func starterData(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "engine", "components", "testdata", name+".json"))
	require.NoError(t, err)
	var f struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(raw, &f))
	return f.Data
}

// buildWithKey runs flow with direct delivery, the OpenAI key as a
// request variable.
func (s *rtServer) buildWithKey(t *testing.T, flow string, body any) reply {
	t.Helper()
	h := bearer(s.root.token)
	h.Set("X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY", "sk-from-header")
	r := s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", body, h)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r
}

// Basic Prompting, byte for byte: the chat input, the prompt, the model's
// answer and the chat output, on a pinned clock.
func TestBuild_NativeBasicPrompting(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Reply("gpt-4o-mini", fakeopenai.Reply{Text: "Hello!\nHow can I help?"})
	s := natStart(t, fake, true)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)
	r := s.buildWithKey(t, flow, inputs("Hi there", "s1"))
	fs := frames(t, r.raw)
	assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "end_vertex", "end_vertex", "add_message",
		"end_vertex", "end"}, names(t, fs), r.raw)
	golden(t, "native_basic_prompting", r.raw, map[string]string{"<flow>": flow})

	call := fake.Last(t)
	assert.Equal(t, "Bearer sk-from-header", call.Header.Get("Authorization"))
	require.Len(t, call.Chat.Messages, 2)
	assert.Equal(t, "system", call.Chat.Messages[0].Role)
	assert.Equal(t, "user", call.Chat.Messages[1].Role)
	assert.Equal(t, "Hi there", call.Chat.Messages[1].Text())
}

// Memory Chatbot twice in one session: the second call's history holds
// the first exchange and the question just asked, although the run's
// records are still in memory and the read model may lag.
func TestBuild_NativeMemoryChatbot(t *testing.T) {
	fake := fakeopenai.New(t)
	answers := []string{"Nice to meet you, Ada.", "Your name is Ada."}
	fake.Handle(func(fakeopenai.Request) fakeopenai.Reply {
		n := len(fake.Requests())
		return fakeopenai.Reply{Text: answers[min(n, len(answers))-1]}
	})
	s := natStart(t, fake, false)
	flow := s.flow(t, s.root.token, starterData(t, "memory-chatbot"), nil)
	s.buildWithKey(t, flow, inputs("My name is Ada.", "chat-1"))
	r := s.buildWithKey(t, flow, inputs("What is my name?", "chat-1"))
	assert.Contains(t, r.raw, "Your name is Ada.")
	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	system := reqs[1].Chat.Messages[0].Text()
	for _, want := range []string{"My name is Ada.", "Nice to meet you, Ada.", "What is my name?"} {
		assert.Contains(t, system, want, "the second call's history")
	}
	assert.Less(t, strings.Index(system, "My name is Ada."), strings.Index(system, "What is my name?"), "oldest first")
	first := reqs[0].Chat.Messages[0].Text()
	assert.NotContains(t, first, "Nice to meet you", "the first call has no earlier answer")
	assert.Contains(t, first, "My name is Ada.", "but the question just asked (Langflow's ChatInput runs first)")
}

// The server's own starter projects run through the build API.
func TestBuild_NativeStarterProjects(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Handle(func(fakeopenai.Request) fakeopenai.Reply { return fakeopenai.Reply{Text: "ok"} })
	s := natStart(t, fake, false)
	r := s.call(t, http.MethodGet, "/api/v1/starter-projects/", nil, s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var starters []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &starters))
	require.NotEmpty(t, starters)
	require.Len(t, starters, 4)
	for _, st := range starters {
		name, _ := st["name"].(string)
		data, _ := st["data"].(map[string]any)
		flow := s.flow(t, s.root.token, data, nil)
		r := s.buildWithKey(t, flow, inputs("hello", ""))
		fs := names(t, frames(t, r.raw))
		assert.Equal(t, "end", fs[len(fs)-1], "%s: %s", name, r.raw)
		assert.NotContains(t, r.raw, `"valid": false`, name)
	}
}

// A public flow's anonymous visitor runs the flow as its owner stored it:
// the visitor's X-LANGFLOW-GLOBAL-VAR-* headers do not replace the
// variables of the owner, whose flow runs with the owner's secrets.
func TestBuild_NativePublicVisitorVariables(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Handle(func(fakeopenai.Request) fakeopenai.Reply { return fakeopenai.Reply{Text: "ok"} })
	s := natStart(t, fake, false)
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), map[string]any{"access_type": "PUBLIC"})
	h := http.Header{"Cookie": {"client_id=visitor-1"}, "X-Langflow-Global-Var-Openai_api_key": {"sk-visitor"}}
	r := s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+flow+"/flow?event_delivery=direct", inputs("hi", ""), h)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	for _, req := range fake.Requests() {
		assert.NotEqual(t, "Bearer sk-visitor", req.Header.Get("Authorization"), "a visitor's variable")
	}
}

// A public flow's visitor reads through Memory only its own chat: naming
// the owner's playground session (the flow id) does not show the owner's
// messages, which are held by the owner the public run runs as.
func TestBuild_NativePublicVisitorHistory(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Handle(func(fakeopenai.Request) fakeopenai.Reply { return fakeopenai.Reply{Text: "ok"} })
	s := natStart(t, fake, false)
	data := starterData(t, "memory-chatbot")
	for _, n := range data["nodes"].([]any) {
		node := n.(map[string]any)["data"].(map[string]any)
		if node["type"] == "LanguageModelComponent" {
			tpl := node["node"].(map[string]any)["template"].(map[string]any)
			tpl["api_key"].(map[string]any)["value"] = "sk-owner" // the visitor runs with the owner's key
		}
	}
	flow := s.flow(t, s.root.token, data, map[string]any{"access_type": "PUBLIC"})
	s.buildWithKey(t, flow, inputs("The vault code is 7341.", "")) // the owner's session: the flow id

	h := http.Header{"Cookie": {"client_id=visitor-1"}}
	r := s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+flow+"/flow?event_delivery=direct", inputs("What is the vault code?", flow), h)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	reqs := fake.Requests()
	require.Len(t, reqs, 2, r.raw)
	system := reqs[1].Chat.Messages[0].Text()
	assert.NotContains(t, system, "7341", "the owner's session")
	assert.Contains(t, system, "What is the vault code?", "the visitor's own question")
}

// A developer running the owner's Memory Chatbot in the owner's tenant has
// a history of their own: their earlier exchange in the session they
// opened, never the owner's chat.
func TestBuild_NativeMemoryOfAnotherUsersFlow(t *testing.T) {
	fake := fakeopenai.New(t)
	fake.Handle(func(r fakeopenai.Request) fakeopenai.Reply {
		return fakeopenai.Reply{Text: "noted: " + r.Chat.Messages[len(r.Chat.Messages)-1].Text()}
	})
	s := natStart(t, fake, false)
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Memory T"}, s.root.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	dev := s.newUser(t, "mem_dev", rtPassword)
	s.grantRole(t, s.root.token, tenant, dev.id, "developer")
	flow := s.flow(t, s.root.token, starterData(t, "memory-chatbot"), map[string]any{"tenant_id": tenant})
	s.buildWithKey(t, flow, inputs("The owner's secret plan.", "owner-chat"))

	build := func(text string) {
		h := bearer(dev.token)
		h.Set("X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY", "sk-dev")
		r := s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", inputs(text, "dev-chat"), h)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	build("I am the developer.")
	build("Who am I?")
	system := fake.Last(t).Chat.Messages[0].Text()
	assert.Contains(t, system, "I am the developer.", "the developer's own earlier message")
	assert.Contains(t, system, "noted: I am the developer.", "and its answer")
	assert.NotContains(t, system, "secret plan", "never the owner's chat")
}
