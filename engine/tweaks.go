package engine

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Tweaks change a flow's field values for one run, as Langflow's
// process_tweaks does (runtime reference §2.3): a key that is a node's id
// or display name holds that node's fields ({"field": value}); any other
// key whose value is not an object sets that field on every node having
// it (a global tweak). Per field:
//   - a field the node does not have is ignored, and so is "code" (a run
//     never changes a component's source);
//   - an object value writes its keys onto the field ({"value": "sk-…",
//     "load_from_db": false} passes a literal to a load_from_db field);
//   - a NestedDict field given a string takes it as JSON when it parses;
//   - a file field takes the value as its file path;
//   - otherwise the value becomes the field's value.
type Tweaks map[string]any

// Apply applies t to flow's nodes in place.
func (t Tweaks) Apply(flow *Flow) {
	nodeKeys := map[string]bool{}
	for i := range flow.Nodes {
		n := &flow.Nodes[i]
		for _, key := range []string{n.ID, n.DisplayName} {
			if fields, ok := t[key].(map[string]any); ok && key != "" {
				nodeKeys[key] = true
				for name, v := range fields {
					tweakField(n, name, v)
				}
			}
		}
	}
	for key, v := range t {
		if _, isObject := v.(map[string]any); isObject || nodeKeys[key] {
			continue
		}
		for i := range flow.Nodes {
			tweakField(&flow.Nodes[i], key, v)
		}
	}
}

// tweakField sets one field of n (see Tweaks).
func tweakField(n *Node, name string, v any) {
	f, ok := n.Template[name]
	if !ok || name == "code" || f.Type == "code" {
		return
	}
	v = normalize(v)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "value":
				f.Value, f.HasValue = e, true
			case "load_from_db":
				f.LoadFromDB = Truthy(e)
			case "file_path":
				f.FilePath = e
			case "show":
				f.Show = Truthy(e)
			case "advanced":
				f.Advanced = Truthy(e)
			}
		}
	default:
		switch {
		case f.Type == "NestedDict":
			if s, ok := x.(string); ok {
				if parsed, err := decodeAny(json.RawMessage(repairJSON(s))); err == nil {
					v = parsed
				}
			}
			f.Value, f.HasValue = v, true
		case f.Type == "file":
			f.FilePath = v
		default:
			f.Value, f.HasValue = v, true
		}
	}
	n.Template[name] = f
}

// repairJSON turns the single-quoted dicts people type into JSON: the
// cheap part of Langflow's json_repair.
func repairJSON(s string) string {
	s = strings.TrimSpace(s)
	if json.Valid([]byte(s)) {
		return s
	}
	return strings.ReplaceAll(s, "'", `"`)
}

// normalize makes a tweak value decoded by encoding/json look like a value
// ParseFlow decoded (numbers as json.Number).
func normalize(v any) any {
	switch x := v.(type) {
	case float64:
		b, _ := json.Marshal(x)
		return json.Number(b)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// DecodeTweaks reads a tweaks object (numbers kept as json.Number).
func DecodeTweaks(raw json.RawMessage) (Tweaks, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var t Tweaks
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	return t, nil
}

// CompileTweaked parses flow data, applies tweaks and compiles the result
// (see Compile).
func (e *Engine) CompileTweaked(data []byte, tweaks Tweaks) (*Graph, error) {
	flow, problems, err := ParseFlow(data)
	if err != nil {
		return nil, &InvalidFlowError{Problems: []Problem{{Msg: err.Error()}}}
	}
	tweaks.Apply(flow)
	return Compile(flow, e.reg, e.limits.MaxVertices, problems...)
}
