package runs

import (
	"slices"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Texts is a run's answer as an MCP tool call gives it (Langflow's
// handle_call_tool): for each vertex answered, the text of its chat
// messages, then of each of its outputs (a message's text, else the value
// as Python's str), without repeats.
func (o *RunOutput) Texts() []string {
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
