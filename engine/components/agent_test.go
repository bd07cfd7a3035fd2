package components

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// agentComponents are the components agent flows use besides All's: the
// Agent and its tools (each added only when All does not have it yet).
func agentComponents(extra ...engine.Component) []engine.Component {
	comps := All()
	have := map[string]bool{}
	for _, c := range comps {
		have[c.Spec().Type] = true
	}
	for _, c := range append([]engine.Component{Agent{}, Calculator{}, URLComponent{}}, extra...) {
		if !have[c.Spec().Type] {
			have[c.Spec().Type] = true
			comps = append(comps, c)
		}
	}
	return comps
}

// newAgentHarness is a harness whose registry has the agent components
// and extra (test tools).
func newAgentHarness(t *testing.T, extra ...engine.Component) *harness {
	t.Helper()
	h := newHarness(t)
	reg, err := engine.NewRegistry(agentComponents(extra...)...)
	require.NoError(t, err)
	h.reg, h.eng = reg, engine.New(reg, engine.Limits{})
	return h
}

// runAgentFlow runs data with the harness's ports, env changing them.
func runAgentFlow(t *testing.T, h *harness, data []byte, in engine.RunInput, env func(*engine.Env)) (*engine.RunResult, *events) {
	t.Helper()
	g, err := h.eng.Compile(data)
	require.NoError(t, err)
	if in.FlowID == "" {
		in.FlowID = "flow-1"
	}
	if in.UserID == 0 {
		in.UserID = 7
	}
	e := h.env()
	if env != nil {
		env(&e)
	}
	ev := &events{}
	return h.eng.Run(context.Background(), g, in, e, ev), ev
}

// asTool puts node id in tool mode.
func (f *flowBuilder) asTool(id string) *flowBuilder {
	for _, n := range f.nodes {
		if n.(map[string]any)["id"] == id {
			node := n.(map[string]any)["data"].(map[string]any)["node"].(map[string]any)
			node["tool_mode"] = true
			node["outputs"] = []any{map[string]any{"name": engine.ToolOutput, "types": []string{"Tool"}, "method": "to_toolkit"}}
		}
	}
	return f
}

// toolEdge joins src's component_as_tool to the agent's tools.
func (f *flowBuilder) toolEdge(src, agent string) *flowBuilder {
	f.edges = append(f.edges, map[string]any{"id": fmt.Sprintf("e%d", len(f.edges)), "source": src, "target": agent, "data": map[string]any{
		"sourceHandle": map[string]any{"id": src, "name": engine.ToolOutput, "output_types": []string{"Tool"}, "dataType": f.types[src]},
		"targetHandle": map[string]any{"id": agent, "fieldName": "tools", "inputTypes": []string{"Tool"}, "type": "other"}}})
	return f
}

var agentModelField = []any{map[string]any{"provider": "OpenAI", "name": "gpt-4o-mini",
	"metadata": map[string]any{"model_class": "ChatOpenAI"}}}

// agentFlow is ChatInput → Agent (with values) → ChatOutput, the tools
// (tool-mode nodes of the given types, ids "<Type>-t") into the agent.
func agentFlow(t *testing.T, h *harness, values map[string]any, tools ...string) []byte {
	vals := map[string]any{"model": agentModelField, "add_current_date_tool": false}
	for k, v := range values {
		vals[k] = v
	}
	f := h.flow(t).node("ChatInput-i", "", nil).node("Agent-a", "", vals).node("ChatOutput-o", "", nil).
		edge("ChatInput-i", "message", "Agent-a", "input_value").edge("Agent-a", "response", "ChatOutput-o", "input_value")
	for _, typ := range tools {
		f.node(typ+"-t", typ, nil).asTool(typ+"-t").toolEdge(typ+"-t", "Agent-a")
	}
	return f.bytes()
}

// forecastTool is a test tool: the forecast of a city; Atlantis fails.
type forecastTool struct{}

func (forecastTool) Spec() *engine.Spec {
	return &engine.Spec{Type: "ForecastTest", DisplayName: "Forecast", Description: "Gives the weather forecast of a city.",
		Fields:  []engine.FieldSpec{messageTextInput("city", "City", "", func(f *engine.FieldSpec) { f.ToolMode = true }, info("The city."))},
		Outputs: []engine.OutputSpec{output("forecast", "Forecast", "get_forecast")}}
}

func (forecastTool) Build(_ context.Context, b *engine.Build) error {
	city := b.Str("city")
	if city == "Atlantis" {
		return errors.New("no weather under the sea")
	}
	b.Set("forecast", engine.NewMessage("Sunny in "+city))
	return nil
}

// barrierTool is a test tool whose runs each wait until n of them run at
// once (or fail after a while): calls of one turn must run in parallel.
type barrierTool struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (*barrierTool) Spec() *engine.Spec {
	return &engine.Spec{Type: "BarrierTest", DisplayName: "Barrier", Description: "Meets the others.",
		Fields:  []engine.FieldSpec{messageTextInput("name", "Name", "", func(f *engine.FieldSpec) { f.ToolMode = true })},
		Outputs: []engine.OutputSpec{output("met", "Met", "meet")}}
}

func (bt *barrierTool) Build(ctx context.Context, b *engine.Build) error {
	bt.mu.Lock()
	if bt.all == nil {
		bt.all = make(chan struct{})
	}
	bt.arrived++
	if bt.arrived == bt.n {
		close(bt.all)
	}
	all := bt.all
	bt.mu.Unlock()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		return errors.New("the other calls did not run meanwhile")
	case <-ctx.Done():
		return ctx.Err()
	}
	b.Set("met", engine.NewMessage("met "+b.Str("name")))
	return nil
}

// agentMessage is the agent's message as recorded last (the chat
// output's update of it).
func agentMessage(t *testing.T, h *harness) *engine.Message {
	t.Helper()
	for _, m := range h.store.all() {
		if len(m.ContentBlocks) > 0 && m.ContentBlocks[0].Title == "Agent Steps" {
			return m
		}
	}
	t.Fatal("no agent message was recorded")
	return nil
}

// steps are the contents of the message's Agent Steps block.
func steps(t *testing.T, m *engine.Message) []map[string]any {
	t.Helper()
	require.Len(t, m.ContentBlocks, 1)
	require.Equal(t, "Agent Steps", m.ContentBlocks[0].Title)
	return m.ContentBlocks[0].Contents
}

func header(title, icon string) map[string]any { return map[string]any{"title": title, "icon": icon} }

// frames lists the events of interest: build frames with their vertex,
// tokens with their text, agent message updates with their steps' titles.
func frames(ev *events) []string {
	var out []string
	for _, e := range ev.list() {
		switch x := e.(type) {
		case engine.BuildStarted:
			out = append(out, "build_start:"+x.ID)
		case engine.BuildEnded:
			out = append(out, "build_end:"+x.ID)
		case engine.Token:
			out = append(out, "token:"+x.Chunk)
		case engine.MessageAdded:
			if len(x.Message.ContentBlocks) == 0 {
				out = append(out, "message:"+x.Message.Sender)
				continue
			}
			var titles []string
			for _, c := range x.Message.ContentBlocks[0].Contents {
				titles = append(titles, c["header"].(map[string]any)["title"].(string))
			}
			out = append(out, "steps:"+x.Message.Properties.State+":"+strings.Join(titles, "|"))
		case engine.VertexEnded:
			out = append(out, "end_vertex:"+x.Result.Vertex.ID)
		}
	}
	return out
}

func TestAgent_OneTool(t *testing.T) {
	h := newAgentHarness(t)
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_1", "evaluate_expression", `{"expression": "2+2"}`)}},
		fakeopenai.Reply{Chunks: []string{"2+2 ", "is 4."}})
	in := "what is 2+2?"
	res, ev := runAgentFlow(t, h, agentFlow(t, h, nil, "CalculatorComponent"), engine.RunInput{InputValue: &in, Session: "s1"}, nil)
	require.NoError(t, res.Err)
	assert.Equal(t, "2+2 is 4.", outText(t, res, "ChatOutput-o", "message"))

	reqs := h.fake.Requests()
	require.Len(t, reqs, 2)
	first := reqs[0].Chat
	assert.True(t, first.Stream, "the agent's message reaches the playground: streamed")
	require.Len(t, first.Tools, 1)
	assert.Equal(t, map[string]any{"type": "function", "function": map[string]any{"name": "evaluate_expression",
		"description": "Perform basic arithmetic operations on a given expression.",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"expression": map[string]any{
			"type": "string", "title": "Expression", "description": "The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20')."}}}}},
		first.Tools[0])
	require.Len(t, first.Messages, 2, "system and input: the history leaves the question just asked out")
	assert.Equal(t, "You are a helpful assistant that can use tools to answer questions and perform tasks.", first.Messages[0].Text())
	assert.Equal(t, "user", first.Messages[1].Role)
	assert.Equal(t, "what is 2+2?", first.Messages[1].Text())
	second := reqs[1].Chat.Messages
	require.Len(t, second, 4)
	assert.Equal(t, "assistant", second[2].Role)
	assert.Equal(t, []fakeopenai.ToolCall{fakeopenai.Call("call_1", "evaluate_expression", `{"expression": "2+2"}`)}, second[2].ToolCalls)
	assert.Equal(t, "tool", second[3].Role)
	assert.Equal(t, "call_1", second[3].ToolCallID)
	assert.Equal(t, `{"result": "4"}`, second[3].Text(), "a Data result goes to the model as JSON")

	m := agentMessage(t, h)
	assert.Equal(t, "2+2 is 4.", m.Text)
	assert.Equal(t, engine.SenderMachine, m.Sender)
	assert.Equal(t, "AI", m.SenderName, "the chat output's sender name")
	assert.Equal(t, "complete", m.Properties.State)
	st := steps(t, m)
	require.Len(t, st, 3)
	assert.Equal(t, "text", st[0]["type"])
	assert.Equal(t, "what is 2+2?", st[0]["text"])
	assert.Equal(t, header("Input", "MessageSquare"), st[0]["header"])
	assert.Equal(t, "tool_use", st[1]["type"])
	assert.Equal(t, "evaluate_expression", st[1]["name"])
	assert.Equal(t, map[string]any{"expression": "2+2"}, st[1]["tool_input"])
	assert.Equal(t, map[string]any{"result": "4"}, st[1]["output"])
	assert.Nil(t, st[1]["error"])
	assert.Equal(t, header("Executed **evaluate_expression**", "Hammer"), st[1]["header"])
	assert.IsType(t, int64(0), st[1]["duration"])
	assert.Equal(t, map[string]any{"type": "text", "text": "2+2 is 4.", "header": header("Output", "MessageSquare"),
		"duration": st[2]["duration"]}, st[2])
	assert.Len(t, h.store.all(), 2, "the user's message and the agent's, recorded once and updated")

	assert.Equal(t, []string{
		"message:User", "end_vertex:ChatInput-i", "end_vertex:CalculatorComponent-t",
		"steps:partial:", "steps:partial:Input",
		"steps:partial:Input|Accessing **evaluate_expression**",
		"build_start:CalculatorComponent-t", "build_end:CalculatorComponent-t",
		"steps:partial:Input|Executed **evaluate_expression**",
		"token:2+2 ", "token:is 4.",
		"steps:complete:Input|Executed **evaluate_expression**|Output",
		"end_vertex:Agent-a",
		"steps:complete:Input|Executed **evaluate_expression**|Output", "end_vertex:ChatOutput-o",
	}, frames(ev))
	var tokenIDs []string
	for _, e := range ev.list() {
		if tok, ok := e.(engine.Token); ok {
			tokenIDs = append(tokenIDs, tok.ID)
		}
	}
	assert.Equal(t, []string{m.ID, m.ID}, tokenIDs, "tokens name the agent's message")

	// The next run of the session has the conversation as history.
	h.fake.Script("gpt-4o-mini", fakeopenai.Reply{Text: "You asked about 2+2."})
	again := "what did I ask?"
	res, _ = runAgentFlow(t, h, agentFlow(t, h, nil, "CalculatorComponent"), engine.RunInput{InputValue: &again, Session: "s1"}, nil)
	require.NoError(t, res.Err)
	msgs := h.fake.Last(t).Chat.Messages
	var convo []string
	for _, x := range msgs[1:] {
		convo = append(convo, x.Role+": "+x.Text())
	}
	assert.Equal(t, []string{"user: what is 2+2?", "assistant: 2+2 is 4.", "user: what did I ask?"}, convo)
}

func TestAgent_ParallelToolsInOneTurn(t *testing.T) {
	bt := &barrierTool{n: 3}
	h := newAgentHarness(t, bt, forecastTool{})
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{
			fakeopenai.Call("c1", "meet", `{"name": "ann"}`),
			fakeopenai.Call("c2", "get_forecast", `{"city": "Oslo"}`),
			fakeopenai.Call("c3", "meet", `{"name": "bob"}`),
			fakeopenai.Call("c4", "meet", `{"name": "cy"}`),
		}},
		fakeopenai.Reply{Text: "All met; sunny in Oslo."})
	in := "meet everyone"
	res, ev := runAgentFlow(t, h, agentFlow(t, h, nil, "BarrierTest", "ForecastTest"), engine.RunInput{InputValue: &in}, nil)
	require.NoError(t, res.Err)
	assert.Equal(t, "All met; sunny in Oslo.", outText(t, res, "ChatOutput-o", "message"))

	msgs := h.fake.Last(t).Chat.Messages
	require.Len(t, msgs, 7)
	var results []string
	for _, m := range msgs[3:] {
		results = append(results, m.ToolCallID+"="+m.Text())
	}
	assert.Equal(t, []string{"c1=met ann", "c2=Sunny in Oslo", "c3=met bob", "c4=met cy"}, results,
		"results go back in the calls' order, whatever order they ended in")
	st := steps(t, agentMessage(t, h))
	require.Len(t, st, 6)
	for i, want := range []string{"met ann", "Sunny in Oslo", "met bob", "met cy"} {
		assert.Equal(t, want, st[i+1]["output"])
	}
	starts := 0
	for _, f := range frames(ev) {
		if strings.HasPrefix(f, "build_start:") {
			starts++
		}
	}
	assert.Equal(t, 4, starts, "one build_start per tool run")
}

func TestAgent_ToolErrorGoesBackToTheModel(t *testing.T) {
	h := newAgentHarness(t, forecastTool{})
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{
			fakeopenai.Call("c1", "get_forecast", `{"city": "Atlantis"}`),
			fakeopenai.Call("c2", "teleport", `{}`),
			fakeopenai.Call("c3", "get_forecast", `{"city": `),
		}},
		fakeopenai.Reply{Text: "I could not get the forecast."})
	in := "weather in Atlantis?"
	res, ev := runAgentFlow(t, h, agentFlow(t, h, nil, "ForecastTest"), engine.RunInput{InputValue: &in}, nil)
	require.NoError(t, res.Err, "a tool's failure is not the agent's")
	assert.Equal(t, "I could not get the forecast.", outText(t, res, "ChatOutput-o", "message"))
	msgs := h.fake.Last(t).Chat.Messages
	require.Len(t, msgs, 6)
	assert.Equal(t, "Error: no weather under the sea", msgs[3].Text())
	assert.Equal(t, "Error: teleport is not a valid tool, try one of [get_forecast].", msgs[4].Text())
	assert.Equal(t, "Error: Could not parse tool input: {\"city\":  because the `arguments` is not valid JSON.", msgs[5].Text())
	st := steps(t, agentMessage(t, h))
	require.Len(t, st, 5)
	assert.Equal(t, "no weather under the sea", st[1]["error"])
	assert.Nil(t, st[1]["output"])
	assert.Equal(t, header("Error using **get_forecast**", "Hammer"), st[1]["header"])
	assert.Equal(t, "teleport", st[2]["name"])
	assert.Contains(t, frames(ev), "build_end:ForecastTest-t")

	// Without handle_parsing_errors unreadable arguments fail the agent.
	h.fake.Script("gpt-4o-mini", fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("c1", "get_forecast", `{`)}})
	res, _ = runAgentFlow(t, h, agentFlow(t, h, map[string]any{"handle_parsing_errors": false}, "ForecastTest"), engine.RunInput{InputValue: &in}, nil)
	assert.Contains(t, failure(t, res, "Agent-a"), "Could not parse tool input: {")
}

func TestAgent_IterationLimit(t *testing.T) {
	h := newAgentHarness(t, forecastTool{})
	h.fake.Reply("gpt-4o-mini", fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("c", "get_forecast", `{"city": "Oslo"}`)}})
	in := "loop forever"
	res, _ := runAgentFlow(t, h, agentFlow(t, h, map[string]any{"max_iterations": 3}, "ForecastTest"), engine.RunInput{InputValue: &in}, nil)
	require.NoError(t, res.Err)
	assert.Equal(t, "Agent stopped due to max iterations.", outText(t, res, "ChatOutput-o", "message"))
	assert.Len(t, h.fake.Requests(), 3, "max_iterations model turns")
	st := steps(t, agentMessage(t, h))
	require.Len(t, st, 5)
	assert.Equal(t, "Agent stopped due to max iterations.", st[4]["text"])
}

func TestAgent_StreamingWithToolCalls(t *testing.T) {
	h := newAgentHarness(t, forecastTool{})
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{Chunks: []string{"Let me ", "look."}, ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("c", "get_forecast", `{"city": "Rome"}`)}},
		fakeopenai.Reply{Text: "Sunny in Rome, enjoy!"})
	in := "weather in Rome?"
	res, ev := runAgentFlow(t, h, agentFlow(t, h, map[string]any{"add_current_date_tool": true}, "ForecastTest"),
		engine.RunInput{InputValue: &in}, nil)
	require.NoError(t, res.Err)
	var tokens []string
	for _, f := range frames(ev) {
		if s, ok := strings.CutPrefix(f, "token:"); ok {
			tokens = append(tokens, s)
		}
	}
	assert.Equal(t, []string{"Let me ", "look.", "Sunny ", "in ", "Rome, ", "enjoy!"}, tokens, "every turn's text is streamed, as Langflow's agent does")
	assert.Equal(t, "Sunny in Rome, enjoy!", agentMessage(t, h).Text, "the answer is the last turn's text")
	first := h.fake.Requests()[0].Chat
	require.Len(t, first.Tools, 2)
	date := first.Tools[1].(map[string]any)["function"].(map[string]any)
	assert.Equal(t, "get_current_date", date["name"], "add_current_date_tool")
	second := h.fake.Last(t).Chat.Messages
	assert.Equal(t, "Let me look.", second[2].Text(), "the tool-calling turn's text goes back with its calls")

	// An agent whose message reaches no chat output records nothing and
	// calls the model without streaming.
	h = newAgentHarness(t, forecastTool{})
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("c", "get_forecast", `{"city": "Rome"}`)}},
		fakeopenai.Reply{Text: "Sunny."})
	data := h.flow(t).node("TextInput-i", "", map[string]any{"input_value": "weather?"}).
		node("Agent-a", "", map[string]any{"model": agentModelField, "add_current_date_tool": false}).
		node("ForecastTest-t", "ForecastTest", nil).asTool("ForecastTest-t").toolEdge("ForecastTest-t", "Agent-a").
		edge("TextInput-i", "text", "Agent-a", "input_value").bytes()
	res, ev = runAgentFlow(t, h, data, engine.RunInput{}, nil)
	require.NoError(t, res.Err)
	out := outValue(t, res, "Agent-a", "response").(*engine.Message)
	assert.Equal(t, "Sunny.", out.Text)
	assert.Len(t, steps(t, out), 3, "the steps are in the output all the same")
	assert.Empty(t, h.store.all())
	assert.False(t, h.fake.Last(t).Chat.Stream)
	assert.NotContains(t, strings.Join(frames(ev), " "), "token:")
}

func TestAgent_Refusals(t *testing.T) {
	h := newAgentHarness(t)
	in := "hi"
	res, _ := runAgentFlow(t, h, agentFlow(t, h, map[string]any{"model": []any{}}), engine.RunInput{InputValue: &in}, nil)
	assert.Equal(t, "No language model selected. Please choose a model to proceed.", failure(t, res, "Agent-a"))

	// An older node's agent_llm and model_name select the model.
	h.fake.Reply("gpt-4o", fakeopenai.Reply{Text: "hello"})
	res, _ = runAgentFlow(t, h, agentFlow(t, h, map[string]any{"model": []any{}, "agent_llm": "OpenAI", "model_name": "gpt-4o",
		"temperature": 0.2}), engine.RunInput{InputValue: &in}, nil)
	require.NoError(t, res.Err)
	assert.Equal(t, "hello", outText(t, res, "ChatOutput-o", "message"))
	assert.Equal(t, "gpt-4o", h.fake.Last(t).Chat.Model)
	assert.InDelta(t, 0.2, *h.fake.Last(t).Chat.Temperature, 1e-9)

	// A component without tool-mode inputs cannot be a tool.
	data := h.flow(t).node("Agent-a", "", map[string]any{"model": agentModelField}).node("ChatOutput-x", "", nil).
		asTool("ChatOutput-x").toolEdge("ChatOutput-x", "Agent-a").bytes()
	_, err := h.eng.Compile(data)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ChatOutput-x: the ChatOutput component cannot be used as a tool: it declares no tool-mode inputs")
}

func TestStarter_SimpleAgent(t *testing.T) {
	h := newAgentHarness(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><head><title>Prices</title></head><body><p>A widget costs 15 euros.</p></body></html>")
	}))
	t.Cleanup(page.Close)
	h.fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{
			fakeopenai.Call("call_url", "fetch_content", fmt.Sprintf(`{"urls": [%q]}`, page.URL)),
			fakeopenai.Call("call_calc", "evaluate_expression", `{"expression": "15*4"}`),
		}},
		fakeopenai.Reply{Chunks: []string{"Four widgets ", "cost 60 euros."}})
	in := "How much do four widgets cost? See " + page.URL
	res, ev := runAgentFlow(t, h, fixture(t, "simple-agent.json"), engine.RunInput{InputValue: &in, InputType: "chat", Session: "s"},
		func(e *engine.Env) { e.HTTP = loopback().HTTPClient() })
	require.NoError(t, res.Err)
	for _, r := range res.Results {
		require.True(t, r.Valid, "%s: %v", r.Vertex.ID, r.Err)
	}
	assert.Equal(t, "Four widgets cost 60 euros.", outText(t, res, "ChatOutput-Pe5Nc", "message"))

	first := h.fake.Requests()[0]
	assert.Equal(t, "Bearer sk-from-variable", first.Header.Get("Authorization"))
	var names []string
	for _, tool := range first.Chat.Tools {
		names = append(names, tool.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	assert.ElementsMatch(t, []string{"evaluate_expression", "fetch_content", "get_current_date"}, names,
		"the actions tables name the tools; the current date tool is on")

	out := outValue(t, res, "ChatOutput-Pe5Nc", "message").(*engine.Message)
	st := steps(t, out)
	require.Len(t, st, 4)
	byName := map[string]map[string]any{}
	for _, s := range st[1:3] {
		assert.Equal(t, "tool_use", s["type"])
		byName[s["name"].(string)] = s
	}
	assert.Equal(t, map[string]any{"result": "60"}, byName["evaluate_expression"]["output"])
	rows, ok := byName["fetch_content"]["output"].([]map[string]any)
	require.True(t, ok, "%T", byName["fetch_content"]["output"])
	require.Len(t, rows, 1)
	assert.Contains(t, rows[0]["text"], "A widget costs 15 euros.")
	assert.Equal(t, []any{page.URL}, byName["fetch_content"]["tool_input"].(map[string]any)["urls"])
	fr := strings.Join(frames(ev), " ")
	for _, id := range []string{"URLComponent-Hx2Wd", "CalculatorComponent-Vb8Tr"} {
		assert.Contains(t, fr, "build_start:"+id)
		assert.Contains(t, fr, "build_end:"+id)
	}
	assert.Equal(t, out.ID, agentMessage(t, h).ID)
}

func TestStarter_SaaSPricing(t *testing.T) {
	h := newAgentHarness(t)
	calc := func(id, expr string) fakeopenai.Reply {
		return fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call(id, "evaluate_expression", fmt.Sprintf(`{"expression": %q}`, expr))}}
	}
	h.fake.Script("gpt-4o-mini", calc("c1", "2000+1000+3000"), calc("c2", "6000*1.3"), calc("c3", "7800/200"),
		fakeopenai.Reply{Text: "The subscription should cost $39 a month."})
	res, _ := runAgentFlow(t, h, fixture(t, "saas-pricing.json"), engine.RunInput{Session: "s"}, nil)
	require.NoError(t, res.Err)
	assert.Equal(t, "The subscription should cost $39 a month.", outText(t, res, "ChatOutput-Dd9Fh", "message"))

	first := h.fake.Requests()[0].Chat.Messages
	require.Len(t, first, 2, "no history: the session is new")
	assert.Contains(t, first[1].Text(), "Infrastructure per month: $2000\n", "the prompt's message is the input")
	assert.Contains(t, first[1].Text(), "Expected subscribers: 200\n")
	last := h.fake.Last(t).Chat.Messages
	var results []string
	for _, m := range last {
		if m.Role == "tool" {
			results = append(results, m.Text())
		}
	}
	assert.Equal(t, []string{`{"result": "6000"}`, `{"result": "7800"}`, `{"result": "39"}`}, results)

	st := steps(t, agentMessage(t, h))
	require.Len(t, st, 5)
	for i, want := range []string{"6000", "7800", "39"} {
		assert.Equal(t, "tool_use", st[i+1]["type"])
		assert.Equal(t, map[string]any{"result": want}, st[i+1]["output"])
	}
	assert.Equal(t, "The subscription should cost $39 a month.", st[4]["text"])
}
