package components

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

func TestSpecs(t *testing.T) {
	reg, err := Registry()
	require.NoError(t, err)
	want := map[string]string{"ChatInput": "Chat Input", "ChatOutput": "Chat Output", "TextInput": "Text Input",
		"TextOutput": "Text Output", "Webhook": "Webhook", "Prompt Template": "Prompt Template", "Prompt": "Prompt Template",
		"LanguageModelComponent": "Language Model", "OpenAIModel": "OpenAI", "Memory": "Message History",
		"ParserComponent": "Parser", "parser": "Parser", "SplitText": "Split Text", "CombineText": "Combine Text",
		"ConditionalRouter": "If-Else", "Agent": "Agent", "CalculatorComponent": "Calculator", "CurrentDate": "Current Date",
		"URLComponent": "URL", "URL": "URL", "APIRequest": "API Request", "MCPTools": "MCP Tools"}
	for typ, display := range want {
		c, ok := reg.Lookup(typ)
		require.True(t, ok, typ)
		assert.Equal(t, display, c.Spec().DisplayName, typ)
	}
	assert.Len(t, reg.Specs(), 24)
	for _, s := range reg.Specs() {
		assert.NotEmpty(t, s.Icon, s.Type)
		assert.NotEmpty(t, s.BaseClasses, s.Type)
		assert.NotEmpty(t, s.Outputs, s.Type)
		for _, f := range s.Fields {
			assert.NotEmpty(t, f.Type, "%s.%s", s.Type, f.Name)
			assert.NotEmpty(t, f.Input, "%s.%s", s.Type, f.Name)
			assert.NotEmpty(t, f.DisplayName, "%s.%s", s.Type, f.Name)
		}
		for _, o := range s.Outputs {
			assert.NotEmpty(t, o.Types, "%s.%s", s.Type, o.Name)
			assert.NotEmpty(t, o.Method, "%s.%s", s.Type, o.Name)
		}
	}
	co := ChatOutput{}.Spec()
	f, _ := co.Field("input_value")
	assert.Equal(t, engine.FieldSpec{Name: "input_value", DisplayName: "Inputs", Type: "other", Input: "HandleInput", Default: "",
		InputTypes: []string{"Data", "DataFrame", "Message"}, Required: true, Info: "Message to be passed as output."}, f)
	lm := LanguageModelComponent{}.Spec()
	f, _ = lm.Field("model")
	assert.Equal(t, "model", f.Type)
	assert.Equal(t, "ModelInput", f.Input)
	assert.True(t, f.Required)
	f, _ = lm.Field("temperature")
	assert.Equal(t, "slider", f.Type)
	assert.Equal(t, 0.1, f.Default)
	f, _ = OpenAIModel{}.Spec().Field("api_key")
	assert.True(t, f.LoadFromDB)
	assert.True(t, f.Password)
	assert.Equal(t, "OPENAI_API_KEY", f.Default)
	f, _ = ConditionalRouter{}.Spec().Field("operator")
	assert.Equal(t, []string{"equals", "not equals", "contains", "starts with", "ends with", "regex",
		"less than", "less than or equal", "greater than", "greater than or equal"}, f.Options)
	f, _ = Memory{}.Spec().Field("template")
	assert.Equal(t, false, *f.Show)
	assert.True(t, ChatInput{}.Spec().ChatInput)
}

// SplitText against LangChain's CharacterTextSplitter (expected values
// computed by its _split_text_with_regex and _merge_splits).
func TestSplitText_Merge(t *testing.T) {
	for _, c := range []struct {
		text, sep, keep string
		size, overlap   int
		want            []string
	}{
		{"one two three four five six seven", " ", "", 10, 4, []string{"one two", "two three", "four five", "five six", "six seven"}},
		{"aaaa\nbb\ncccccccccccc\nd\n\neeee\nff", "\n", "", 8, 3, []string{"aaaa\nbb", "cccccccccccc", "d\neeee", "ff"}},
		{"a. b. c. d. e.", ". ", "start", 5, 2, []string{"a. b", ". c", ". d", ". e."}},
		{"a. b. c. d. e.", ". ", "end", 5, 0, []string{"a.", "b.", "c.", "d. e."}},
		{"  héllo wörld  \n\n  x  ", "\n", "", 6, 0, []string{"héllo wörld", "x"}},
		{"abcdefgh", "", "", 3, 1, []string{"abc", "cde", "efg", "gh"}},
		{"p1\n\np2 is longer\n\np3\n\np4", "\n\n", "", 12, 5, []string{"p1", "p2 is longer", "p3\n\np4"}},
		{"   ", "\n", "", 5, 0, nil},
	} {
		got, err := splitText(c.text, c.sep, c.keep, c.size, c.overlap)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%q", c.text)
	}
	_, err := splitText("x", " ", "", 10, 20)
	assert.EqualError(t, err, "Got a larger chunk overlap (20) than chunk size (10), should be smaller.")
}

func TestSplitText_Component(t *testing.T) {
	h := newHarness(t)
	data := h.flow(t).
		node("TextInput-a", "", map[string]any{"input_value": `first line\nsecond line\nthird`}).
		node("SplitText-s", "", map[string]any{"chunk_size": 12, "chunk_overlap": 0, "separator": `\n`}).
		edge("TextInput-a", "text", "SplitText-s", "data_inputs").bytes()
	res, _ := h.run(t, data, engine.RunInput{})
	df, ok := outValue(t, res, "SplitText-s", "dataframe").(*engine.DataFrame)
	require.True(t, ok)
	var texts []string
	for _, r := range df.Rows {
		texts = append(texts, r["text"].(string))
		assert.Contains(t, r, "category", "a message's other fields come along")
	}
	assert.Equal(t, []string{"first line", "second line", "third"}, texts)
	assert.Equal(t, "text", df.Columns[len(df.Columns)-1])

	data = h.flow(t).node("SplitText-s", "", map[string]any{"chunk_size": 5, "chunk_overlap": 10}).
		node("Webhook-w", "", map[string]any{"data": `{"text": "a b c"}`}).
		edge("Webhook-w", "output_data", "SplitText-s", "data_inputs").bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Equal(t, "Error splitting text: Got a larger chunk overlap (10) than chunk size (5), should be smaller.", failure(t, res, "SplitText-s"))
}

func TestPrompt(t *testing.T) {
	h := newHarness(t)
	data := h.flow(t).
		node("TextInput-a", "", map[string]any{"input_value": "Ana"}).
		node("Prompt-p", "", map[string]any{
			"template": "Hello {name}, {{not a var}} {list} {n} {multi}",
			"name":     "", "list": "", "n": "x", "multi": `one\ntwo`}).
		edge("TextInput-a", "text", "Prompt-p", "name").bytes()
	res, _ := h.run(t, data, engine.RunInput{})
	m := outValue(t, res, "Prompt-p", "prompt").(*engine.Message)
	assert.Equal(t, "Hello Ana, {not a var}  x one\ntwo", m.Text)
	assert.Equal(t, "Hello {name}, {{not a var}} {list} {n} {multi}", m.Data["template"])
	assert.Equal(t, map[string]any{"name": "Ana", "list": "", "n": "x", "multi": "one\ntwo"}, m.Data["variables"])

	// A variable without a field or edge fails with a clear error.
	data = h.flow(t).node("Prompt-p", "", map[string]any{"template": "Hi {who} and {name}", "name": "x"}).bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Contains(t, failure(t, res, "Prompt-p"), "the prompt uses the variable {who}, which has no value")

	data = h.flow(t).node("Prompt-p", "", map[string]any{"template": "{x:>4}", "x": "1"}).bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Contains(t, failure(t, res, "Prompt-p"), "format specification or conversion")

	// Values as Python's str(): lists in their repr, messages and Data by
	// their text.
	assert.Equal(t, "['a', 'b']", promptText([]engine.Value{engine.NewMessage("a"), "b"}))
	assert.Equal(t, "x", promptText(engine.NewData(map[string]any{"text": "x"})))
	assert.Equal(t, "None", promptText(nil))
	assert.Equal(t, "True", promptText(true))
	assert.Equal(t, "[1, None]", promptText([]any{json.Number("1"), nil}))
}

func TestConditionalRouter_Operators(t *testing.T) {
	for _, c := range []struct {
		op, in, match string
		cs, want      bool
	}{
		{"equals", "Hello", "Hello", true, true},
		{"equals", "Hello", "hello", true, false},
		{"equals", "Hello", "hello", false, true},
		{"not equals", "a", "b", true, true},
		{"not equals", "A", "a", false, false},
		{"contains", "say Hello there", "hello", false, true},
		{"contains", "say Hello there", "hello", true, false},
		{"starts with", "Hello", "He", true, true},
		{"starts with", "Hello", "he", true, false},
		{"ends with", "Hello", "LLO", false, true},
		{"regex", "abc123", `\d+`, true, false},
		{"regex", "123abc", `\d+`, true, true},
		{"regex", "ABC", `abc`, false, false},
		{"regex", "abc", `(`, true, false},
		{"regex", "abc", `(?=a)`, true, false},
		{"less than", " 1_000 ", "1e4", true, true},
		{"less than", "abc", "1", true, false},
		{"less than or equal", "2", "2.0", true, true},
		{"greater than", "inf", "1e308", true, true},
		{"greater than", "nan", "1", true, false},
		{"greater than or equal", "-0", "0", true, true},
		{"greater than", "0x10", "1", true, false},
		{"unknown", "a", "a", true, false},
	} {
		assert.Equal(t, c.want, evaluateCondition(c.in, c.match, c.op, c.cs), "%s %q %q cs=%v", c.op, c.in, c.match, c.cs)
	}
}

func routerFlow(h *harness, t *testing.T, input string, extra map[string]any) []byte {
	vals := map[string]any{"operator": "contains", "match_text": "yes",
		"true_case_message": "went true", "false_case_message": "went false"}
	for k, v := range extra {
		vals[k] = v
	}
	return h.flow(t).
		node("TextInput-a", "", map[string]any{"input_value": input}).
		node("ConditionalRouter-r", "", vals).
		node("TextOutput-t", "", nil).node("TextOutput-f", "", nil).node("CombineText-after", "", nil).
		edge("TextInput-a", "text", "ConditionalRouter-r", "input_text").
		edge("ConditionalRouter-r", "true_result", "TextOutput-t", "input_value").
		edge("TextOutput-t", "text", "CombineText-after", "text1").
		edge("ConditionalRouter-r", "false_result", "TextOutput-f", "input_value").bytes()
}

func TestConditionalRouter_Routing(t *testing.T) {
	h := newHarness(t)
	res, _ := h.run(t, routerFlow(h, t, "oh yes", nil), engine.RunInput{})
	r := res.Result("ConditionalRouter-r")
	assert.Equal(t, "went true", engine.Text(r.Outputs["true_result"]), "the configured message, not the input")
	assert.Equal(t, "", engine.Text(r.Outputs["false_result"]))
	assert.Equal(t, []string{"TextOutput-f"}, r.Inactivated)
	assert.Equal(t, "went true", outText(t, res, "TextOutput-t", "text"))
	assert.Nil(t, res.Result("TextOutput-f"))

	res, _ = h.run(t, routerFlow(h, t, "no", nil), engine.RunInput{})
	r = res.Result("ConditionalRouter-r")
	assert.ElementsMatch(t, []string{"TextOutput-t", "CombineText-after"}, r.Inactivated, "the branch below is off too")
	assert.Equal(t, "went false", outText(t, res, "TextOutput-f", "text"))
	assert.Nil(t, res.Result("CombineText-after"))

	// max_iterations reached at once: the default route is forced.
	res, _ = h.run(t, routerFlow(h, t, "no", map[string]any{"max_iterations": 0, "default_route": "true_result"}), engine.RunInput{})
	r = res.Result("ConditionalRouter-r")
	assert.Equal(t, "went true", engine.Text(r.Outputs["true_result"]))
	assert.Equal(t, "went false", engine.Text(r.Outputs["false_result"]))
	assert.Equal(t, []string{"TextOutput-f"}, r.Inactivated, "past max_iterations the non-default route is stopped")
}

func TestChatOutput_Conversions(t *testing.T) {
	df := &engine.DataFrame{Columns: []string{"a"}, Rows: []map[string]any{{"a": "x"}, {"a": nil}}}
	for _, c := range []struct {
		in   engine.Value
		want string
		err  string
	}{
		{in: "a\n \n\n\nb", want: "a\n\nb"},
		{in: engine.NewMessage("a\n\n\n\nb"), want: "a\n\n\n\nb"},
		{in: engine.NewData(map[string]any{"k": "v"}), want: "```json\n{\n  \"k\": \"v\"\n}\n```"},
		{in: df, want: "| a   |\n|:----|\n| x   |\n|     |"},
		{in: []engine.Value{"x\n\n\n\ny", engine.NewMessage("m"), df}, want: "x\n\ny\nm\n| a   |\n|:----|\n| x   |"},
		{in: []engine.Value{"x", json.Number("1")}, err: "Expected Data or DataFrame or Message or str, got ['int']"},
		{in: true, err: "Expected Data or DataFrame or Message or str, Generator or None, got bool"},
	} {
		got, err := toChatText(c.in, true)
		if c.err != "" {
			assert.EqualError(t, err, c.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
}

func TestChatIO(t *testing.T) {
	h := newHarness(t)
	data := h.flow(t).
		node("ChatInput-i", "", map[string]any{"input_value": "template text"}).
		node("ChatOutput-o", "", nil).
		edge("ChatInput-i", "message", "ChatOutput-o", "input_value").bytes()
	in := "hi there"
	res, ev := h.run(t, data, engine.RunInput{InputValue: &in, Session: "s1"})
	require.NoError(t, res.Err)
	assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex:ChatInput-i", "add_message", "end_vertex:ChatOutput-o", "end"}, ev.names())
	stored := h.store.all()
	require.Len(t, stored, 2)
	user, ai := stored[0], stored[1]
	assert.Equal(t, [4]string{"hi there", "User", "User", "s1"}, [4]string{user.Text, user.Sender, user.SenderName, user.SessionID})
	assert.Equal(t, [4]string{"hi there", "Machine", "AI", "s1"}, [4]string{ai.Text, ai.Sender, ai.SenderName, ai.SessionID})
	assert.NotEqual(t, user.ID, ai.ID, "next to a chat input, the chat output makes a new message")
	assert.Equal(t, engine.SourceOf("ChatInput-i", "Chat Input", "Chat Input"), ai.Properties.Source)
	assert.Equal(t, "flow-1", ai.FlowID)

	// should_store_message off: no message, no event; the run's session
	// otherwise the flow id.
	h.store = newMemStore()
	data = h.flow(t).
		node("ChatInput-i", "", map[string]any{"should_store_message": false, "input_value": "x"}).
		node("ChatOutput-o", "", map[string]any{"should_store_message": false}).
		edge("ChatInput-i", "message", "ChatOutput-o", "input_value").bytes()
	res, ev = h.run(t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	assert.NotContains(t, ev.names(), "add_message")
	assert.Empty(t, h.store.all())
	assert.Equal(t, "x", outText(t, res, "ChatOutput-o", "message"))

	// Unconnected: Langflow's error.
	data = h.flow(t).node("ChatOutput-o", "", nil).bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Equal(t, "Input data cannot be None", failure(t, res, "ChatOutput-o"))
}

func TestTextIOWebhookCombine(t *testing.T) {
	h := newHarness(t)
	data := h.flow(t).
		node("TextInput-a", "", map[string]any{"input_value": "left"}).
		node("Webhook-w", "", map[string]any{"data": `{"text": "from hook", "n": 1}`}).
		node("Parser-p", "ParserComponent", map[string]any{"pattern": "{text}/{n}/{absent}"}).
		node("CombineText-c", "", map[string]any{"delimiter": " + "}).
		node("TextOutput-o", "", nil).
		edge("Webhook-w", "output_data", "Parser-p", "input_data").
		edge("TextInput-a", "text", "CombineText-c", "text1").
		edge("Parser-p", "parsed_text", "CombineText-c", "text2").
		edge("CombineText-c", "combined_text", "TextOutput-o", "input_value").bytes()
	res, ev := h.run(t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, "left + from hook/1/", outText(t, res, "TextOutput-o", "text"))
	assert.NotContains(t, ev.names(), "add_message", "text components send nothing")

	hook := func(payload string) *engine.RunResult {
		res, _ := h.run(t, h.flow(t).node("Webhook-w", "", map[string]any{"data": payload}).bytes(), engine.RunInput{})
		return res
	}
	res = hook("")
	assert.Equal(t, map[string]any{}, outValue(t, res, "Webhook-w", "output_data").(*engine.Data).Map)
	assert.Equal(t, "No data provided.", res.Result("Webhook-w").Status)
	res = hook("not json")
	assert.Equal(t, map[string]any{"payload": "not json"}, outValue(t, res, "Webhook-w", "output_data").(*engine.Data).Map)
	res = hook("[1, 2]")
	assert.Equal(t, "the webhook payload must be a JSON object, not a list", failure(t, res, "Webhook-w"))

	// CombineText keeps empty texts.
	res, _ = h.run(t, h.flow(t).node("CombineText-c", "", map[string]any{"text2": "b"}).bytes(), engine.RunInput{})
	assert.Equal(t, " b", outText(t, res, "CombineText-c", "combined_text"))
}

func TestParser_Modes(t *testing.T) {
	h := newHarness(t)
	parse := func(typ string, vals map[string]any, hook string) *engine.RunResult {
		data := h.flow(t).node("Webhook-w", "", map[string]any{"data": hook}).
			node("P-p", typ, vals).edge("Webhook-w", "output_data", "P-p", "input_data").bytes()
		res, _ := h.run(t, data, engine.RunInput{})
		return res
	}
	// A Data: ParserComponent renders a missing key as "", parser fails.
	res := parse("ParserComponent", map[string]any{"pattern": "{a}-{b}"}, `{"a": "x"}`)
	assert.Equal(t, "x-", outText(t, res, "P-p", "parsed_text"))
	res = parse("parser", map[string]any{"pattern": "{a}-{b}"}, `{"a": "x"}`)
	assert.Equal(t, "the template uses {b}, which the input does not have", failure(t, res, "P-p"))

	// Stringify: fenced JSON against json.dumps.
	res = parse("ParserComponent", map[string]any{"mode": "Stringify"}, `{"a": "é"}`)
	assert.Equal(t, "```json\n{\n  \"a\": \"é\"\n}\n```", outText(t, res, "P-p", "parsed_text"))
	res = parse("parser", map[string]any{"mode": "Stringify"}, `{"a": "é"}`)
	assert.Equal(t, `{"a": "\u00e9"}`, outText(t, res, "P-p", "parsed_text"))

	// A DataFrame (SplitText's chunks): one line per row joined by sep; a
	// missing column fails in both.
	data := h.flow(t).node("TextInput-a", "", map[string]any{"input_value": "a b c"}).
		node("SplitText-s", "", map[string]any{"chunk_size": 1, "chunk_overlap": 0, "separator": " "}).
		node("ParserComponent-p", "", map[string]any{"pattern": "[{text}]", "sep": ", "}).
		node("parser-q", "", map[string]any{"pattern": "{nope}"}).
		node("ParserComponent-s", "", map[string]any{"mode": "Stringify"}).
		edge("TextInput-a", "text", "SplitText-s", "data_inputs").
		edge("SplitText-s", "dataframe", "ParserComponent-p", "input_data").
		edge("SplitText-s", "dataframe", "parser-q", "input_data").
		edge("SplitText-s", "dataframe", "ParserComponent-s", "input_data").bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Equal(t, "[a], [b], [c]", outText(t, res, "ParserComponent-p", "parsed_text"))
	assert.Contains(t, failure(t, res, "parser-q"), "{nope}")
	table := outText(t, res, "ParserComponent-s", "parsed_text")
	assert.True(t, strings.HasPrefix(table, "| category"), table)
	assert.Contains(t, table, "| message    |              | False  | False   | []      |          |               |              | a      |")

	// Unconnected.
	res, _ = h.run(t, h.flow(t).node("ParserComponent-p", "", nil).bytes(), engine.RunInput{})
	assert.Equal(t, "Unsupported input type: <class 'NoneType'>. Expected DataFrame or Data.", failure(t, res, "ParserComponent-p"))
}
