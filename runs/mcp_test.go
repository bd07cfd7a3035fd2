package runs

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skillflaw/skillflaw-go/engine"
)

// A queued MCP tool call reads its answer from the RunResponse its worker
// recorded (RecordedTexts): the same texts as Texts over the engine's
// results, for every kind of output value.
func TestRecordedTexts_AsTexts(t *testing.T) {
	spec := func(typ string, outs ...string) *engine.Spec {
		s := &engine.Spec{Type: typ}
		for _, o := range outs {
			s.Outputs = append(s.Outputs, engine.OutputSpec{Name: o})
		}
		return s
	}
	chat := &engine.Vertex{Node: engine.Node{ID: "ChatOutput-AAAAA"}, Spec: spec("ChatOutput", "message")}
	machine := &engine.Message{Text: "line one\nline two", Sender: engine.SenderMachine, SenderName: "AI"}
	other := &engine.Vertex{Node: engine.Node{ID: "Mixed-BBBBB"}, Spec: spec("Mixed", "s", "msg", "dtext", "dnum", "dmissing", "n", "f", "b", "m", "null", "dup", "absent")}
	results := []*engine.VertexResult{
		{Vertex: chat, Valid: true, Outputs: map[string]engine.Value{"message": machine}, Messages: []*engine.Message{machine}},
		{Vertex: other, Valid: true, Outputs: map[string]engine.Value{
			"s":        "plain text",
			"msg":      &engine.Message{Text: "a message", Sender: engine.SenderUser},
			"dtext":    &engine.Data{Map: map[string]any{"text": "data text", "x": 1}},
			"dnum":     &engine.Data{TextKey: "score", Map: map[string]any{"score": 0.5}},
			"dmissing": &engine.Data{TextKey: "nope", Map: map[string]any{"a": "b"}, DefaultValue: "the default"},
			"n":        42,
			"f":        1.0,
			"b":        true,
			"m":        map[string]any{"k": "v", "list": []any{1, "two"}},
			"null":     nil,
			"dup":      "plain text",
		}},
	}
	out := &RunOutput{Session: "s-1", Inputs: obj{}}
	for _, r := range results {
		out.Results = append(out.Results, r)
		out.Outputs = append(out.Outputs, resultData(r, "s-1", false))
	}
	want := out.Texts()
	assert.Equal(t, []string{"line one\n\nline two", "line one\nline two", "plain text", "a message", "data text", "0.5",
		"the default", "42", "1.0", "True", "{'k': 'v', 'list': [1, 'two']}", "None"}, want)
	recorded := Compact(RunResponse(out.Session, out))
	assert.Equal(t, want, RecordedTexts(recorded))
	assert.Equal(t, want, (&RunOutput{Session: "s-1", Recorded: recorded}).Texts())

	assert.Nil(t, RecordedTexts([]byte(`not json`)))
	assert.Nil(t, RecordedTexts([]byte(`{"session_id": "s", "outputs": []}`)))
}
