package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Tool mode (Langflow's component_as_tool): a node whose data.node.tool_mode
// is on is not built as its component; its only output, component_as_tool
// (types ["Tool"]), gives the agent it feeds one Tool per output of the
// component. An agent runs a tool by building the component with the
// arguments the model chose set on its tool-mode inputs (FieldSpec.ToolMode)
// — and only on those: the other inputs keep the node's values and edges,
// so a model never sets an API key or a URL base the author did not offer.
// Only components that declare tool-mode inputs can be tools; Compile
// refuses the others.

// ToolOutput is the output of a component in tool mode (display name
// "Toolset").
const ToolOutput = "component_as_tool"

// ToolOutputs is implemented by a component only some of whose outputs
// are tools (Langflow's Output(tool_mode=False) on the others): it names
// those that are. Without it every output that does not itself give tools
// is one.
type ToolOutputs interface {
	ToolOutputs() []string
}

// Toolkit is implemented by a component whose tools are found when its
// vertex is built in tool mode, not declared by its outputs and inputs
// (MCP Tools: the tools of an MCP server). Such a vertex is built: its
// fields and edges resolved as for any build, Toolkit gives the tools
// (NewTool ones, called directly with the model's arguments), and the
// node's actions table (tools_metadata, by tool name) renames,
// redescribes or disables them. Compile asks it for no tool-mode inputs.
type Toolkit interface {
	Toolkit(ctx context.Context, b *Build) ([]*Tool, error)
}

// toolOutputSpec is the output of a vertex in tool mode.
var toolOutputSpec = OutputSpec{Name: ToolOutput, DisplayName: "Toolset", Types: []string{"Tool"}, Method: "to_toolkit"}

// OutputSpecs returns the outputs v has in a flow: the component's, or
// component_as_tool alone when v is in tool mode.
func (v *Vertex) OutputSpecs() []OutputSpec {
	if v.ToolMode {
		return []OutputSpec{toolOutputSpec}
	}
	if v.Spec == nil {
		return nil
	}
	return v.Spec.Outputs
}

// Tool is a tool an agent may call: the value list of a component_as_tool
// output holds one per tool of the component, or an agent makes its own
// (NewTool).
type Tool struct {
	// Name and Description are what the model is told; Parameters is the
	// JSON schema of the arguments (an object).
	Name        string
	Description string
	Parameters  map[string]any
	// Vertex is the component the tool builds (nil for a tool of NewTool).
	Vertex *Vertex

	output string // the output whose value is the tool's answer
	run    *run
	fn     func(ctx context.Context, args map[string]any) (Value, error)
}

// NewTool returns a tool that calls fn (an agent's own tool, such as the
// current date).
func NewTool(name, description string, parameters map[string]any, fn func(ctx context.Context, args map[string]any) (Value, error)) *Tool {
	return &Tool{Name: name, Description: description, Parameters: parameters, fn: fn}
}

// Spec returns the tool as a model is given it.
func (t *Tool) Spec() ToolSpec {
	return ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
}

// String names the tool (in build data and logs).
func (t *Tool) String() string {
	return "Tool(name=" + PyRepr(t.Name) + ", description=" + PyRepr(t.Description) + ")"
}

// ToolResult is what a tool run gave: Output as an agent's steps show it
// (a message's text, a Data's dict, a DataFrame's rows …) and Text as the
// model reads it (Output as is when text, else as JSON).
type ToolResult struct {
	Output any
	Text   string
}

// Run runs the tool with args (the model's arguments, decoded). A
// component's tool builds the vertex as it is in the run — its fields and
// the values of its incoming edges — with args set on its tool-mode
// inputs (other names are ignored), computes the tool's output only, and
// reports the build with build_start and build_end events (build_end also
// when the build fails, which Langflow leaves out). Messages the
// component sends are neither recorded nor reported: only the agent
// speaks. An error is the component's failure, for the agent to give to
// the model.
func (t *Tool) Run(ctx context.Context, args map[string]any) (*ToolResult, error) {
	if t.fn != nil {
		v, err := t.fn(ctx, args)
		if err != nil {
			return nil, err
		}
		return toolResult(v), nil
	}
	if t.run == nil || t.Vertex == nil {
		return nil, fmt.Errorf("tool %s is not part of a run", t.Name)
	}
	r, v := t.run, t.Vertex
	r.emit(BuildStarted{ID: v.ID})
	defer r.emit(BuildEnded{ID: v.ID})
	res := &VertexResult{Vertex: v, Outputs: map[string]Value{}}
	b, err := r.newBuild(ctx, v, res)
	if err != nil {
		return nil, err
	}
	b.asTool = true
	b.wants = []string{t.output}
	for name, val := range args {
		if f, ok := v.Spec.Field(name); ok && f.ToolMode {
			b.params[name] = val
			delete(b.fromServer, name)
		}
	}
	if err := r.call(ctx, v, b); err != nil {
		return nil, err
	}
	if err := r.checkOutputs(v, res); err != nil {
		return nil, err
	}
	out, ok := res.Outputs[t.output]
	if !ok {
		return nil, fmt.Errorf("the %s component gave no %s output", v.Type, t.output)
	}
	return toolResult(out), nil
}

// toolResult is a component's output as a tool's answer, as Langflow's
// component tools and agent give it: a message's text, a Data's dict, a
// DataFrame's rows, given to the model as JSON when not text.
func toolResult(v Value) *ToolResult {
	out := toolOutputValue(v)
	if s, ok := out.(string); ok {
		return &ToolResult{Output: s, Text: s}
	}
	return &ToolResult{Output: out, Text: string(PyDumps(out))}
}

func toolOutputValue(v Value) any {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *Message:
		return x.Text
	case *Data:
		return x.Map
	case *DataFrame:
		return x.Rows
	case []Value:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toolOutputValue(e)
		}
		return out
	case map[string]any, []any, bool, json.Number, float64, int64, int:
		return x
	}
	return PyStr(v)
}

// DecodeToolArguments decodes a model's arguments (a JSON object; empty
// text is no arguments), numbers kept as json.Number as in flows.
func DecodeToolArguments(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var args map[string]any
	if err := dec.Decode(&args); err != nil {
		return nil, err
	}
	if args == nil {
		args = map[string]any{}
	}
	return args, nil
}

// toolDef is one tool of a vertex in tool mode, as Compile found it.
type toolDef struct {
	name, description, output string
}

var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// toolDefs returns the tools of v (in tool mode) and what is wrong with
// them: a component without tool-mode inputs, a tool name a model would
// refuse. A tool is named after its output's method and described by the
// component's description, unless the node's actions table
// (tools_metadata, by the tool's first tag) renames, redescribes or
// disables it; with a table, outputs it does not list are not tools, as
// in Langflow.
func toolDefs(v *Vertex) ([]toolDef, []string) {
	if _, ok := v.Component.(Toolkit); ok {
		return nil, nil
	}
	if !slices.ContainsFunc(v.Spec.Fields, func(f FieldSpec) bool { return f.ToolMode }) {
		return nil, []string{fmt.Sprintf("the %s component cannot be used as a tool: it declares no tool-mode inputs", v.Type)}
	}
	var allowed []string
	if to, ok := v.Component.(ToolOutputs); ok {
		allowed = to.ToolOutputs()
	}
	meta, hasMeta := toolsMetadata(v)
	var defs []toolDef
	var problems []string
	for _, o := range v.Spec.Outputs {
		if slices.ContainsFunc(o.Types, func(t string) bool { return t == "Tool" || t == "BaseTool" || t == "StructuredTool" }) ||
			(allowed != nil && !slices.Contains(allowed, o.Name)) {
			continue
		}
		method := o.Method
		if method == "" {
			method = o.Name
		}
		tag := formatToolName(method)
		d := toolDef{name: tag, description: v.Spec.Description, output: o.Name}
		if hasMeta {
			rec, ok := meta[tag]
			if !ok || rec["status"] == false {
				continue
			}
			if s, ok := rec["name"].(string); ok && s != "" {
				d.name = s
			}
			if s, ok := rec["description"].(string); ok && s != "" {
				d.description = s
			}
			if c := rec["commands"]; Truthy(c) {
				d.description = "very_time you see one of those commands " + PyStr(c) + " run the tool. tool description is " + d.description
			}
		}
		if !toolNameRE.MatchString(d.name) {
			problems = append(problems, fmt.Sprintf("Invalid tool name '%s': must only contain letters, numbers, underscores, dashes, and cannot contain spaces.", d.name))
			continue
		}
		defs = append(defs, d)
	}
	return defs, problems
}

// applyToolsMetadata applies v's actions table to the tools of a Toolkit:
// a tool the table lists (by its name, the record's first tag, with the
// characters a model refuses as "-") takes the
// record's name and description, or is left out when disabled; with a
// table, tools it does not list are kept (a server's new tools), unlike
// outputs. A name a model would refuse is an error.
func applyToolsMetadata(v *Vertex, tools []*Tool) ([]Value, error) {
	meta, hasMeta := toolsMetadata(v)
	out := make([]Value, 0, len(tools))
	for _, t := range tools {
		if hasMeta {
			rec, ok := meta[t.Name]
			if !ok {
				// A tag may be the server's own name, which the tool's
				// name made acceptable to a model.
				for tag, r := range meta {
					if formatToolName(tag) == t.Name {
						rec, ok = r, true
						break
					}
				}
			}
			if ok {
				if rec["status"] == false {
					continue
				}
				if s, ok := rec["name"].(string); ok && s != "" {
					t.Name = s
				}
				if s, ok := rec["description"].(string); ok && s != "" {
					t.Description = s
				}
			}
		}
		if !toolNameRE.MatchString(t.Name) {
			return nil, fmt.Errorf("Invalid tool name '%s': must only contain letters, numbers, underscores, dashes, and cannot contain spaces.", t.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// toolsMetadata reads the node's actions table (tools_metadata) by each
// record's first tag; ok is false when the node has none.
func toolsMetadata(v *Vertex) (map[string]map[string]any, bool) {
	f, ok := v.Template["tools_metadata"]
	if !ok {
		return nil, false
	}
	list, _ := f.Value.([]any)
	if len(list) == 0 {
		return nil, false
	}
	out := map[string]map[string]any{}
	for _, item := range list {
		rec, _ := item.(map[string]any)
		tags, _ := rec["tags"].([]any)
		if len(tags) == 0 {
			continue
		}
		if tag, ok := tags[0].(string); ok {
			out[tag] = rec
		}
	}
	return out, true
}

var notToolNameChar = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// formatToolName is Langflow's _format_tool_name: every character a tool
// name may not have becomes "-".
func formatToolName(s string) string { return notToolNameChar.ReplaceAllString(s, "-") }

// toolSchema is the JSON schema of a component's tool arguments: its
// tool-mode inputs, by name, with their info as description.
func toolSchema(spec *Spec) map[string]any {
	props := map[string]any{}
	required := []any{}
	for _, f := range spec.Fields {
		if !f.ToolMode {
			continue
		}
		p := jsonSchemaType(f)
		p["title"] = pyTitle(f.Name)
		if f.Info != "" {
			p["description"] = f.Info
		}
		props[f.Name] = p
		if f.Required {
			required = append(required, f.Name)
		}
	}
	schema := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		schema["required"] = required
	}
	return schema
}

func jsonSchemaType(f FieldSpec) map[string]any {
	var t string
	switch f.Type {
	case "int":
		t = "integer"
	case "float", "slider":
		t = "number"
	case "bool":
		t = "boolean"
	case "dict", "NestedDict":
		t = "object"
	default:
		t = "string"
	}
	if f.List {
		return map[string]any{"type": "array", "items": map[string]any{"type": t}}
	}
	return map[string]any{"type": t}
}

// pyTitle is pydantic's default title of a field: its name with
// underscores as spaces, each word capitalised.
func pyTitle(name string) string {
	words := strings.Fields(strings.ReplaceAll(name, "_", " "))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
	}
	return strings.Join(words, " ")
}

// toolset is the value of a tool-mode vertex's component_as_tool output
// in run r: its tools, bound to the run.
func (r *run) toolset(v *Vertex) []Value {
	schema := toolSchema(v.Spec)
	out := make([]Value, len(v.tools))
	for i, d := range v.tools {
		out[i] = &Tool{Name: d.name, Description: d.description, Parameters: schema, Vertex: v, output: d.output, run: r}
	}
	return out
}
