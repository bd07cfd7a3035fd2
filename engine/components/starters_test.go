package components

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/starters"
)

// The fixtures in testdata/ have the node and edge shapes of Langflow
// 1.7.1's starter projects (full templates with _input_type, the 1.7
// model field, load_from_db, stale and hidden fields, œ-encoded and plain
// JSON handle strings, both edge id styles, note nodes with and without
// data.type), written for SkillFlaw with a chosen model and the key in a
// variable. Each runs end to end on the engine with in-memory ports and
// the fake OpenAI server.

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestStarter_BasicPrompting(t *testing.T) {
	h := newHarness(t)
	h.fake.Reply("gpt-4o-mini", fakeopenai.Reply{Text: "Ahoy! What be yer question?"})
	in := "Hi, who are you?"
	res, ev := h.run(t, fixture(t, "basic-prompting.json"), engine.RunInput{InputValue: &in, InputType: "chat", Session: "s1"})
	require.NoError(t, res.Err)
	assert.Equal(t, "Ahoy! What be yer question?", outText(t, res, "ChatOutput-Nn4Ty", "message"))
	req := h.fake.Last(t)
	assert.Equal(t, "Bearer sk-from-variable", req.Header.Get("Authorization"), "api_key empty: the OPENAI_API_KEY variable")
	assert.Equal(t, "gpt-4o-mini", req.Chat.Model)
	require.Len(t, req.Chat.Messages, 2)
	assert.Equal(t, "Answer the user as if you were a pirate.", req.Chat.Messages[0].Text())
	assert.Equal(t, "Hi, who are you?", req.Chat.Messages[1].Text())
	assert.InDelta(t, 0.1, *req.Chat.Temperature, 1e-9)
	assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex:ChatInput-k3Hq1"}, ev.names()[:3])
	stored := h.store.all()
	require.Len(t, stored, 2)
	assert.Equal(t, []string{"Hi, who are you?", "Ahoy! What be yer question?"}, []string{stored[0].Text, stored[1].Text})

	// Without an input value the template's text is sent.
	res, _ = h.run(t, fixture(t, "basic-prompting.json"), engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, "Hello", h.fake.Last(t).Chat.Messages[1].Text())
}

func TestStarter_BasicPromptChaining(t *testing.T) {
	h := newHarness(t)
	in := "ignored by the templates"
	res, _ := h.run(t, fixture(t, "basic-prompt-chaining.json"), engine.RunInput{InputValue: &in, Session: "s"})
	require.NoError(t, res.Err)
	// Every link targets tool_placeholder, which no template uses: the
	// answer is the last template, its {{…}} rendered as braces.
	want := "You are a product manager. Write the launch plan for [product_name], with {milestones} in braces."
	assert.Equal(t, want, outText(t, res, "ChatOutput-Mc2Rz", "message"))
	assert.Empty(t, h.fake.Requests())
	ai := h.store.all()[1]
	assert.Equal(t, engine.SourceOf("Prompt-Pu3Dh", "Prompt", "Prompt"), ai.Properties.Source)
	out := outValue(t, res, "ChatOutput-Mc2Rz", "message").(*engine.Message)
	assert.Contains(t, out.Data, "template", "the prompt's message is reused")
}

func TestStarter_MemoryChatbot(t *testing.T) {
	h := newHarness(t)
	delete(h.vars, "OPENAI_API_KEY")
	answers := []string{"Nice to meet you, Ana!", "Your name is Ana."}
	calls := 0
	h.fake.Handle(func(fakeopenai.Request) fakeopenai.Reply {
		calls++
		return fakeopenai.Reply{Text: answers[calls-1]}
	})
	data := fixture(t, "memory-chatbot.json")
	headerVars := map[string]string{"OPENAI_API_KEY": "sk-from-header"}
	first, second := "my name is Ana", "what is my name"
	res, _ := h.run(t, data, engine.RunInput{InputValue: &first, Session: "chat-1", Variables: headerVars})
	require.NoError(t, res.Err)
	res, _ = h.run(t, data, engine.RunInput{InputValue: &second, Session: "chat-1", Variables: headerVars})
	require.NoError(t, res.Err)
	assert.Equal(t, "Your name is Ana.", outText(t, res, "ChatOutput-2LjRt", "message"))
	req := h.fake.Last(t)
	assert.Equal(t, "Bearer sk-from-header", req.Header.Get("Authorization"), "the request's X-LANGFLOW-GLOBAL-VAR-* variable")
	assert.Equal(t, "You are a helpful assistant that answer questions.\n\nHistory: \n\n"+
		"User: my name is Ana\nAI: Nice to meet you, Ana!\nUser: what is my name\n", req.Chat.Messages[0].Text(),
		"the history includes the question just asked (the chat input runs first)")
	assert.Equal(t, "what is my name", req.Chat.Messages[1].Text())

	// Another session starts empty.
	calls = 0
	third := "hello"
	res, _ = h.run(t, data, engine.RunInput{InputValue: &third, Session: "chat-2", Variables: headerVars})
	require.NoError(t, res.Err)
	assert.Equal(t, "You are a helpful assistant that answer questions.\n\nHistory: \n\nUser: hello\n", h.fake.Last(t).Chat.Messages[0].Text())
}

func TestStarter_SEOKeywordGenerator(t *testing.T) {
	h := newHarness(t)
	h.vars["MY_OPENAI_KEY"] = "sk-seo"
	h.fake.Reply("gpt-4o", fakeopenai.Reply{Text: "focus app, deep work"})
	in := "no input vertex takes this"
	res, ev := h.run(t, fixture(t, "seo-keyword-generator.json"), engine.RunInput{InputValue: &in, Session: "s"})
	require.NoError(t, res.Err)
	assert.Equal(t, "focus app, deep work", outText(t, res, "ChatOutput-S7bzs", "message"))
	req := h.fake.Last(t)
	assert.Equal(t, "Bearer sk-seo", req.Header.Get("Authorization"), "api_key names a variable (load_from_db)")
	require.Len(t, req.Chat.Messages, 2)
	assert.Equal(t, "system", req.Chat.Messages[0].Role)
	assert.Equal(t, "You are a digital marketing strategist’s assistant. List keywords.", req.Chat.Messages[0].Text())
	assert.Equal(t, "user", req.Chat.Messages[1].Role, "a prompt's message is the user's")
	assert.Equal(t, "Product:\nFocusFlow - an app that plans your day\n \nPain Points:\n- too many meetings\n- context switching\n \n"+
		"Goals:\n- deep work\n \nCurrent Solutions:\n- paper lists\n \nSpecific Target Audience:\nknowledge workers\n\nExpertise Level:\nIntermediate\n",
		req.Chat.Messages[1].Text(), "variables from field values, a typed \\n a newline")
	sorted := ev.list()[0].(engine.VerticesSorted)
	assert.ElementsMatch(t, []string{"Prompt-Ks0e2", "Prompt-Ywjzc"}, sorted.IDs, "no chat input: the sources run first")
}

func TestStarter_TwitterThreadGenerator(t *testing.T) {
	h := newHarness(t)
	h.fake.Reply("gpt-5", fakeopenai.Reply{Chunks: []string{"1/ We ", "launched!"}})
	in := "Announce the launch"
	res, ev := h.run(t, fixture(t, "twitter-thread-generator.json"), engine.RunInput{InputValue: &in, InputType: "chat", Session: "s"})
	require.NoError(t, res.Err)
	assert.Equal(t, "1/ We launched!", outText(t, res, "ChatOutput-GgTgu", "message"))
	req := h.fake.Last(t)
	assert.Nil(t, req.Chat.Temperature, "gpt-5 is listed as a reasoning model: no temperature")
	system := req.Chat.Messages[0].Text()
	for _, want := range []string{"Write a thread for a Tech Company / AI Developer Platform.", "Guidelines: - Thread must be 5-7 tweets long",
		"Format: thread", "Language: English", "Refer to the profile as {PROFILE_TYPE} and the context as {CONTEXT}."} {
		assert.Contains(t, system, want)
	}
	assert.Equal(t, "Announce the launch", req.Chat.Messages[1].Text())
	assert.NotContains(t, ev.names(), "token", "stream is off in the starter")
	assert.Equal(t, "Content Guidelines", res.Result("TextInput-I5z2y").Vertex.DisplayName)

	// input_type "any" gives the value to every input vertex, the six text
	// inputs too (Langflow's substring match on ids).
	res, _ = h.run(t, fixture(t, "twitter-thread-generator.json"), engine.RunInput{InputValue: &in, InputType: "any"})
	require.NoError(t, res.Err)
	assert.Contains(t, h.fake.Last(t).Chat.Messages[0].Text(), "Format: Announce the launch")
}

// The server's own starter projects are made of these components: every
// one compiles and runs to its chat output (model calls go to the fake
// server with the key from the OPENAI_API_KEY variable).
func TestStarters_ServerProjects(t *testing.T) {
	projects, err := starters.All()
	require.NoError(t, err)
	require.Len(t, projects, 4)
	h := newHarness(t)
	h.fake.Reply("", fakeopenai.Reply{Text: "fine, thanks"})
	for _, p := range projects {
		data, err := json.Marshal(p.Data)
		require.NoError(t, err)
		calls := len(h.fake.Requests())
		in := "how are you?"
		res, _ := h.run(t, data, engine.RunInput{InputValue: &in, Session: "starter-" + p.Name})
		require.NoError(t, res.Err, p.Name)
		var answer string
		for _, r := range res.Results {
			require.True(t, r.Valid, "%s: %s: %v", p.Name, r.Vertex.ID, r.Err)
			if r.Vertex.Type == "ChatOutput" {
				answer = engine.Text(r.Outputs["message"])
			}
		}
		assert.NotEmpty(t, answer, p.Name)
		if len(h.fake.Requests()) > calls {
			assert.Equal(t, "fine, thanks", answer, p.Name)
			assert.Equal(t, "Bearer sk-from-variable", h.fake.Last(t).Header.Get("Authorization"), p.Name)
		}
	}
}
