package runs

import (
	"slices"
	"time"

	"github.com/skillflaw/skillflaw-go/engine"
)

// vertexBuild is what the build API and the monitor show of one vertex
// build: the ResultDataResponse (data), the artifacts and params, as
// Langflow's _build_vertex makes them (runtime reference §1.5).
type vertexBuild struct {
	data      obj // ResultDataResponse
	artifacts any
	params    string
	valid     bool
}

// chatComponent tells ChatInput and ChatOutput, whose artifacts are the
// chat message's (message, sender, sender_name, files, type).
func chatComponent(v *engine.Vertex) bool {
	return v.Spec != nil && (v.Spec.Type == "ChatInput" || v.Spec.Type == "ChatOutput")
}

// buildOf makes the build data of res; elapsed is its timedelta.
func buildOf(res *engine.VertexResult, elapsed time.Duration, ser Serialization) vertexBuild {
	v := res.Vertex
	b := vertexBuild{valid: res.Valid}
	data := obj{}
	var artifacts any = obj{}
	if !res.Valid {
		label := "output"
		if v.Spec != nil && len(v.Spec.Outputs) > 0 {
			label = v.Spec.Outputs[0].Name
		}
		trace := ""
		if res.Err != nil {
			trace = res.Err.Error()
		}
		b.params = res.ErrorText()
		data = obj{
			{"results", obj{}},
			{"outputs", obj{{label, obj{{"message", obj{{"errorMessage", b.params}, {"stackTrace", trace}}}, {"type", "error"}}}}},
			{"logs", obj{}},
		}
	} else {
		var outputs, logs, results obj
		var perOutput obj
		for _, o := range outputsOf(v) {
			val, built := res.Outputs[o]
			if !built {
				outputs.set(o, obj{{"message", ""}, {"type", "unknown"}})
				continue
			}
			raw, typ := outputRaw(val)
			outputs.set(o, obj{{"message", raw}, {"type", typ}})
			logs.set(o, []any{})
			perOutput.set(o, obj{{"repr", reprOf(res.Status, val, raw)}, {"raw", raw}, {"type", typ}})
			if v.IsInput || v.IsOutput {
				results.set(o, serialize(val))
			}
		}
		switch {
		case chatComponent(v):
			m := chatMessage(res)
			a := obj{{"message", machineText(m.Sender, m.Text)}, {"sender", m.Sender}, {"sender_name", m.SenderName},
				{"files", chatFiles(m.Files)}, {"type", "object"}}
			artifacts = a
			b.params = yamlDump([]any{titled(a)})
		case v.IsInput || v.IsOutput:
			artifacts = perOutput
			b.params = yamlDump([]any{titled(perOutput)})
		default:
			artifacts = perOutput
			b.params = "None"
		}
		data = obj{{"results", orEmpty(results)}, {"outputs", orEmpty(outputs)}, {"logs", orEmpty(logs)}}
	}
	artifacts = ser.truncate(orEmptyAny(artifacts))
	data = ser.truncate(data).(obj)
	data = append(data, obj{
		{"message", artifacts}, {"artifacts", artifacts},
		{"timedelta", elapsed.Seconds()}, {"duration", formatElapsed(elapsed)}, {"used_frozen_result", res.UsedFrozen},
	}...)
	b.data, b.artifacts = data, artifacts
	return b
}

func orEmpty(o obj) obj {
	if o == nil {
		return obj{}
	}
	return o
}

func orEmptyAny(v any) any {
	if o, ok := v.(obj); ok && o == nil {
		return obj{}
	}
	return v
}

// outputsOf lists v's outputs: its spec's, in order (a vertex in tool
// mode: its tool output).
func outputsOf(v *engine.Vertex) []string {
	var out []string
	for _, o := range v.OutputSpecs() {
		out = append(out, o.Name)
	}
	return out
}

// reprOf is an output's repr in its artifact: the component's status when
// it reported text, else the raw value's text.
func reprOf(status, val engine.Value, raw any) string {
	switch s := status.(type) {
	case string:
		return s
	case *engine.Message:
		return s.Text
	}
	if s, ok := raw.(string); ok {
		return s
	}
	return string(pyDumps(raw))
}

// chatMessage is the message of a chat component's build: the last one it
// sent, else its output (chatMessageOf), else an empty one.
func chatMessage(res *engine.VertexResult) *engine.Message {
	if m := chatMessageOf(res); m != nil {
		return m
	}
	return engine.NewMessage("")
}

// vertexBuildResponse is the end_vertex event's build_data: Langflow's
// VertexBuildResponse. next are the vertices the build made runnable
// (only the stop component when it is among them).
func vertexBuildResponse(res *engine.VertexResult, b vertexBuild, stop string, at time.Time) obj {
	next := slices.Clone(res.Next)
	if stop != "" && slices.Contains(next, stop) {
		next = []string{stop}
	}
	inactivated := slices.Clone(res.Inactivated)
	return obj{
		{"id", res.Vertex.ID}, {"inactivated_vertices", strs(inactivated)}, {"next_vertices_ids", strs(next)},
		{"top_level_vertices", strs(next)}, {"valid", b.valid}, {"params", b.params}, {"data", b.data},
		{"timestamp", pydanticTime(at)},
	}
}

func strs(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
