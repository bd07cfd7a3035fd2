package runs

import (
	"encoding/json"
	"slices"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Texts is a run's answer as an MCP tool call gives it (Langflow's
// handle_call_tool): for each vertex answered, the text of its chat
// messages, then of each of its outputs (a message's text, else the value
// as Python's str), without repeats.
func (o *RunOutput) Texts() []string {
	if o.Recorded != nil {
		return RecordedTexts(o.Recorded)
	}
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for i, r := range o.Results {
		if r == nil {
			continue
		}
		if i < len(o.Outputs) {
			if msgs, _ := lookup(o.Outputs[i], "messages"); msgs != nil {
				list, _ := msgs.([]any)
				for _, m := range list {
					if mo, ok := m.(obj); ok {
						if v, ok := lookup(mo, "message"); ok {
							if s, ok := v.(string); ok {
								add(s)
							}
						}
					}
				}
			}
		}
		for _, name := range outputsOf(r.Vertex) {
			v, ok := r.Outputs[name]
			if !ok {
				continue
			}
			if t, ok := textOf(v); ok {
				add(t)
			} else {
				add(engine.PyStr(v))
			}
		}
	}
	return out
}

// RecordedTexts is Texts of a run whose answer is read from the log (a
// queued MCP tool call: RunFinished.Result, the RunResponse its worker
// recorded). Each vertex's ResultData gives what Texts reads from the
// engine: its messages, then per output (in the vertex's order) the
// "outputs" entry — a text or Message is its text ("type" "text"), any
// value that is neither text, Data, DataFrame nor list its Python str
// (outputRaw's "unknown") — or, for Data ("object"), the text key's value
// from "results", else its default value; a nil output is None. One case
// differs: a DataFrame or list output ("array") is the Python str of its
// recorded JSON value here, where Texts formats the Go value (Go's own
// notation, pointers included).
func RecordedTexts(result json.RawMessage) []string {
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	var resp struct {
		Outputs []struct {
			Outputs []json.RawMessage `json:"outputs"`
		} `json:"outputs"`
	}
	if json.Unmarshal(result, &resp) != nil {
		return nil
	}
	for _, run := range resp.Outputs {
		for _, rd := range run.Outputs {
			recordedVertexTexts(rd, add)
		}
	}
	return out
}

// recordedVertexTexts adds the texts of one vertex's recorded ResultData.
func recordedVertexTexts(rd json.RawMessage, add func(string)) {
	var d struct {
		Messages []struct {
			Message any `json:"message"`
		} `json:"messages"`
		Results json.RawMessage `json:"results"`
	}
	if json.Unmarshal(rd, &d) != nil {
		return
	}
	for _, m := range d.Messages {
		if s, ok := m.Message.(string); ok {
			add(s)
		}
	}
	outputs, _ := member(rd, "outputs")
	members, err := objectMembers(outputs)
	if err != nil {
		return
	}
	for _, m := range members {
		var o struct {
			Message json.RawMessage `json:"message"`
			Type    string          `json:"type"`
		}
		if json.Unmarshal(m.value, &o) != nil {
			continue
		}
		value, _ := member(d.Results, m.key)
		switch {
		case value == nil:
			add(engine.PyStr(nil))
		case o.Type == "object":
			add(recordedDataText(value))
		case o.Type == "text" || o.Type == "unknown":
			var s string
			if json.Unmarshal(o.Message, &s) == nil {
				add(s)
				continue
			}
			fallthrough
		default:
			v, _ := decodeNumbers(value)
			add(engine.PyStr(v))
		}
	}
}

// recordedDataText is textOf of a Data as serialize recorded it
// ({"text_key", "data", "default_value"}).
func recordedDataText(value json.RawMessage) string {
	var d struct {
		TextKey      string                     `json:"text_key"`
		Data         map[string]json.RawMessage `json:"data"`
		DefaultValue any                        `json:"default_value"`
	}
	if json.Unmarshal(value, &d) != nil {
		return ""
	}
	t, ok := d.Data[d.TextKey]
	if !ok {
		s, _ := d.DefaultValue.(string)
		return s
	}
	v, _ := decodeNumbers(t)
	if s, ok := v.(string); ok {
		return s
	}
	return engine.PyStr(v)
}
