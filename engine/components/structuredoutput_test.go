package components

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// structuredFlow: a ChatInput feeds a StructuredOutput whose output out
// feeds a Parser.
func structuredFlow(h *harnessWith, t *testing.T, out string, schema []any) []byte {
	return h.flow(t).
		node("ChatInput-i", "", nil).
		node("StructuredOutput-s", "", map[string]any{"model": gpt("gpt-4o-mini"), "output_schema": schema, "schema_name": "Person"}).
		node("ParserComponent-p", "", map[string]any{"pattern": "{name} is {age}"}).
		edge("ChatInput-i", "message", "StructuredOutput-s", "input_value").
		edge("StructuredOutput-s", out, "ParserComponent-p", "input_data").bytes()
}

var personSchema = []any{
	map[string]any{"name": "name", "description": "the person's name", "type": "str", "multiple": "False"},
	map[string]any{"name": "age", "description": "age in years", "type": "int", "multiple": false},
	map[string]any{"name": "tags", "description": "", "type": "str", "multiple": "True"},
}

// scripted answers each call with the next of answers.
func scripted(h *harnessWith, answers ...string) *atomic.Int32 {
	var n atomic.Int32
	h.fake.Handle(func(fakeopenai.Request) fakeopenai.Reply {
		i := int(n.Add(1)) - 1
		if i >= len(answers) {
			i = len(answers) - 1
		}
		return fakeopenai.Reply{Text: answers[i]}
	})
	return &n
}

func TestStructuredOutput_RetriesOnceOnInvalid(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, StructuredOutput{})
	calls := scripted(h, `{"objects": [{"name": "Ann", "age": "thirty"}]}`,
		`{"objects": [{"name": "Ann", "age": "31", "tags": ["a", "b"]}, {"name": "Bob", "age": 42.0, "tags": null}]}`)
	in := "Ann is 31, Bob 42"
	res, _ := h.run(t, structuredFlow(h, t, "dataframe_output", personSchema), engine.RunInput{InputValue: &in})
	require.NoError(t, res.Err)
	assert.Equal(t, int32(2), calls.Load())
	assert.Equal(t, "Ann is 31\nBob is 42", outText(t, res, "ParserComponent-p", "parsed_text"))
	df := outValue(t, res, "StructuredOutput-s", "dataframe_output").(*engine.DataFrame)
	assert.Equal(t, []map[string]any{{"name": "Ann", "age": int64(31), "tags": []any{"a", "b"}},
		{"name": "Bob", "age": int64(42), "tags": nil}}, df.Rows, "values converted to the schema's types")

	reqs := h.fake.Requests()
	require.Len(t, reqs, 2)
	first, second := reqs[0].Chat, reqs[1].Chat
	assert.Equal(t, map[string]any{"type": "json_object"}, first.ResponseFormat, "JSON mode")
	require.Len(t, first.Messages, 2)
	assert.Contains(t, first.Messages[0].Text(), "extracts structured JSON objects", "the format instructions")
	assert.Contains(t, first.Messages[0].Text(), `"title":"Person"`, "and the schema")
	assert.Contains(t, first.Messages[0].Text(), `"age":{"description":"age in years","type":["integer","null"]}`)
	assert.Equal(t, in, first.Messages[1].Text())
	require.Len(t, second.Messages, 4, "the bad answer and what is wrong with it go back to the model")
	assert.Equal(t, "assistant", second.Messages[2].Role)
	assert.Contains(t, second.Messages[3].Text(), `objects[0].age: 'thirty' is not a valid int`)
}

func TestStructuredOutput_TwoInvalidAnswersFail(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, StructuredOutput{})
	calls := scripted(h, "not json at all", `{"objects": []}`)
	in := "nobody"
	res, _ := h.run(t, structuredFlow(h, t, "structured_output", personSchema), engine.RunInput{InputValue: &in})
	msg := failure(t, res, "StructuredOutput-s")
	assert.Equal(t, int32(2), calls.Load(), "asked twice, not more")
	assert.Contains(t, msg, "the model's answers did not match the output schema (2 attempts)")
	assert.Contains(t, msg, "the answer is not JSON")
	assert.Contains(t, msg, `"objects" is empty`)
	assert.Nil(t, res.Result("ParserComponent-p"))
}

func TestStructuredOutput_DataOutput(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, StructuredOutput{})
	scripted(h, "```json\n{\"name\": \"Ann\", \"age\": 31, \"tags\": []}\n```")
	in := "Ann"
	res, _ := h.run(t, structuredFlow(h, t, "structured_output", personSchema), engine.RunInput{InputValue: &in})
	d := outValue(t, res, "StructuredOutput-s", "structured_output").(*engine.Data)
	assert.Equal(t, map[string]any{"name": "Ann", "age": int64(31), "tags": []any{}}, d.Map,
		"one object (unwrapped, fenced: accepted) is the Data itself")

	scripted(h, `{"objects": [{"name": "A", "age": 1, "tags": []}, {"name": "B", "age": 2, "tags": ["x"]}]}`)
	res, _ = h.run(t, structuredFlow(h, t, "structured_output", personSchema), engine.RunInput{InputValue: &in})
	d = outValue(t, res, "StructuredOutput-s", "structured_output").(*engine.Data)
	assert.Len(t, d.Map["results"], 2, "several: {results: [...]}")
}

func TestStructuredOutput_BadSchema(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, StructuredOutput{})
	in := "x"
	for schema, want := range map[string][]any{
		"has type \"date\"":               {map[string]any{"name": "d", "type": "date"}},
		"names field \"a\" twice":         {map[string]any{"name": "a"}, map[string]any{"name": "a"}},
		"output schema row 1 has no name": {map[string]any{"type": "str"}},
	} {
		res, _ := h.run(t, structuredFlow(h, t, "structured_output", want), engine.RunInput{InputValue: &in})
		assert.Contains(t, failure(t, res, "StructuredOutput-s"), schema)
	}
	assert.Len(t, h.fake.Requests(), 0, "a bad schema never reaches the model")
	f, _ := StructuredOutput{}.Spec().Field("input_value")
	assert.True(t, f.ToolMode)
}
