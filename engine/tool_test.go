package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

// toolee is a component usable as a tool: expr is its tool-mode input,
// unit a plain one (fed by the node or an edge). Its result output
// answers "<expr> <unit>" as Data, its shout output the same as a
// message; "fail" as expr fails the build. It sends a message on every
// build, which a tool run must not record.
type toolee struct{ builds atomic.Int64 }

func (*toolee) Spec() *engine.Spec {
	return &engine.Spec{Type: "Toolee", DisplayName: "Toolee", Description: "Computes things.",
		Fields: []engine.FieldSpec{
			{Name: "expr", Type: "str", Input: "MessageTextInput", ToolMode: true, Info: "What to compute.", InputTypes: []string{"Message"}},
			{Name: "count", Type: "int", Input: "IntInput", ToolMode: true},
			{Name: "unit", Type: "str", Input: "MessageTextInput", InputTypes: []string{"Message"}},
		},
		Outputs: []engine.OutputSpec{
			{Name: "result", Types: []string{"Data"}, Method: "compute"},
			{Name: "shout", Types: []string{"Message"}, Method: "compute shout"},
		}}
}

func (c *toolee) Build(ctx context.Context, b *engine.Build) error {
	c.builds.Add(1)
	if b.Str("expr") == "fail" {
		return errors.New("cannot compute fail")
	}
	if _, err := b.Send(ctx, engine.NewMessage("working")); err != nil {
		return err
	}
	text := b.Str("expr") + " " + b.Str("unit")
	if b.Wants("result") {
		b.Set("result", engine.NewData(map[string]any{"result": text}))
	}
	if b.Wants("shout") {
		b.Set("shout", engine.NewMessage(strings.ToUpper(text)))
	}
	return nil
}

// plain has no tool-mode input: it cannot be a tool.
type plain struct{}

func (plain) Spec() *engine.Spec {
	return &engine.Spec{Type: "Plain", Fields: []engine.FieldSpec{{Name: "x", Type: "str"}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}, Method: "out"}}}
}

func (plain) Build(context.Context, *engine.Build) error { return nil }

// caller runs every tool it is given with the JSON arguments of its args
// field and answers "name=text" lines (or "name!error").
type caller struct{ got []*engine.Tool }

func (*caller) Spec() *engine.Spec {
	return &engine.Spec{Type: "Caller", Fields: []engine.FieldSpec{
		{Name: "tools", Type: "other", Input: "HandleInput", List: true, InputTypes: []string{"Tool"}},
		{Name: "args", Type: "str"},
	}, Outputs: []engine.OutputSpec{{Name: "text", Types: []string{"Message"}}}}
}

func (c *caller) Build(ctx context.Context, b *engine.Build) error {
	args, err := engine.DecodeToolArguments(b.Str("args"))
	if err != nil {
		return err
	}
	v, _ := b.Param("tools")
	var lines []string
	for _, list := range v.([]engine.Value) {
		for _, x := range list.([]engine.Value) {
			t := x.(*engine.Tool)
			c.got = append(c.got, t)
			res, err := t.Run(ctx, args)
			if err != nil {
				lines = append(lines, t.Name+"!"+err.Error())
				continue
			}
			lines = append(lines, t.Name+"="+res.Text)
		}
	}
	b.Set("text", engine.NewMessage(strings.Join(lines, "\n")))
	return nil
}

type toolWorld struct {
	eng    *engine.Engine
	toolee *toolee
	caller *caller
}

func newToolWorld(t *testing.T) *toolWorld {
	t.Helper()
	w := &toolWorld{toolee: &toolee{}, caller: &caller{}}
	reg, err := engine.NewRegistry(textIn{}, chatIn{}, w.toolee, plain{}, w.caller)
	require.NoError(t, err)
	w.eng = engine.New(reg, engine.Limits{})
	return w
}

func (w *toolWorld) run(t *testing.T, data []byte, in engine.RunInput) (*engine.RunResult, *collect) {
	t.Helper()
	g, err := w.eng.Compile(data)
	require.NoError(t, err)
	c := &collect{}
	return w.eng.Run(context.Background(), g, in, engine.Env{}, c), c
}

// toolFlow is TIn-1 → Toolee-1.unit, Toolee-1 (tool mode, with meta as
// its actions table when not nil) → Caller-1.tools, Caller-1.args = args.
func toolFlow(args string, meta []any) []byte {
	tpl := map[string]any{
		"expr": map[string]any{"type": "str", "value": "node's expr", "show": true, "tool_mode": true},
		"unit": map[string]any{"type": "str", "value": "", "show": true},
	}
	if meta != nil {
		tpl["tools_metadata"] = map[string]any{"type": "tools", "value": meta, "show": true}
	}
	node := func(id, typ string, tpl map[string]any, toolMode bool) any {
		return map[string]any{"id": id, "data": map[string]any{"id": id, "type": typ,
			"node": map[string]any{"display_name": id, "template": tpl, "tool_mode": toolMode}}}
	}
	edge := func(src, out, tgt, field string, types []string) any {
		return map[string]any{"source": src, "target": tgt, "data": map[string]any{
			"sourceHandle": map[string]any{"id": src, "name": out, "output_types": types},
			"targetHandle": map[string]any{"id": tgt, "fieldName": field, "inputTypes": types, "type": "other"}}}
	}
	data, _ := json.Marshal(map[string]any{
		"nodes": []any{
			node("TIn-1", "TIn", map[string]any{"input_value": map[string]any{"type": "str", "value": "km", "show": true}}, false),
			node("Toolee-1", "Toolee", tpl, true),
			node("Caller-1", "Caller", map[string]any{"args": map[string]any{"type": "str", "value": args, "show": true}}, false),
		},
		"edges": []any{
			edge("TIn-1", "text", "Toolee-1", "unit", []string{"Message"}),
			edge("Toolee-1", engine.ToolOutput, "Caller-1", "tools", []string{"Tool"}),
		}})
	return data
}

func TestToolMode_RunsTheComponentAsATool(t *testing.T) {
	w := newToolWorld(t)
	// unit is no tool-mode input: the model cannot set it; it keeps the
	// edge's value.
	res, ev := w.run(t, toolFlow(`{"expr": "2+2", "unit": "miles", "count": 3}`, nil), engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, "compute={\"result\": \"2+2 km\"}\ncompute-shout=2+2 KM", outText(t, res, "Caller-1", "text"),
		"one tool per output, named after its method; Data is given as JSON, a message as its text")
	assert.EqualValues(t, 2, w.toolee.builds.Load(), "the tool-mode vertex itself is not built")
	tool := res.Result("Toolee-1")
	require.NotNil(t, tool)
	assert.Len(t, tool.Outputs[engine.ToolOutput], 2)
	assert.Equal(t, []engine.OutputSpec{{Name: engine.ToolOutput, DisplayName: "Toolset", Types: []string{"Tool"}, Method: "to_toolkit"}},
		tool.Vertex.OutputSpecs())

	var frames []string
	for _, e := range ev.events {
		switch x := e.(type) {
		case engine.BuildStarted:
			frames = append(frames, "start:"+x.ID)
		case engine.BuildEnded:
			frames = append(frames, "end:"+x.ID)
		case engine.MessageAdded:
			frames = append(frames, "message:"+x.Message.Text)
		}
	}
	assert.Equal(t, []string{"start:Toolee-1", "end:Toolee-1", "start:Toolee-1", "end:Toolee-1"}, frames,
		"each tool run is framed; its messages are not reported")

	got := w.caller.got[0]
	assert.Equal(t, "Computes things.", got.Description, "the component's description")
	assert.Equal(t, map[string]any{"type": "object", "properties": map[string]any{
		"expr":  map[string]any{"type": "string", "title": "Expr", "description": "What to compute."},
		"count": map[string]any{"type": "integer", "title": "Count"},
	}}, got.Parameters, "the schema of the tool-mode inputs only")
	assert.Equal(t, "compute", got.Spec().Name)
}

func TestToolMode_ActionsTable(t *testing.T) {
	w := newToolWorld(t)
	meta := []any{
		map[string]any{"name": "calc", "description": "Adds numbers.", "tags": []any{"compute"}, "status": true},
		map[string]any{"name": "compute-shout", "description": "Shouts.", "tags": []any{"compute-shout"}, "status": false},
	}
	res, _ := w.run(t, toolFlow(`{"expr": "1"}`, meta), engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, `calc={"result": "1 km"}`, outText(t, res, "Caller-1", "text"), "renamed; the disabled tool is left out")
	require.Len(t, w.caller.got, 1)
	assert.Equal(t, "Adds numbers.", w.caller.got[0].Description)

	// A tool the table does not list is no tool, as in Langflow.
	w = newToolWorld(t)
	res, _ = w.run(t, toolFlow(`{"expr": "1"}`, meta[1:2]), engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Empty(t, outText(t, res, "Caller-1", "text"))
}

func TestToolMode_FailingTool(t *testing.T) {
	w := newToolWorld(t)
	res, ev := w.run(t, toolFlow(`{"expr": "fail"}`, nil), engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, "compute!cannot compute fail\ncompute-shout!cannot compute fail", outText(t, res, "Caller-1", "text"),
		"a tool's failure is the caller's to handle, not the run's")
	n := 0
	for _, name := range ev.names() {
		if name == "build_end" {
			n++
		}
	}
	assert.Equal(t, 2, n, "build_end also ends a failed tool run")

	_, err := engine.DecodeToolArguments(`{"expr": `)
	assert.Error(t, err)
}

func TestCompile_ToolModeProblems(t *testing.T) {
	w := newToolWorld(t)
	data := toolFlow("{}", []any{map[string]any{"name": "two words", "tags": []any{"compute"}}})
	var f map[string]any
	require.NoError(t, json.Unmarshal(data, &f))
	nodes := f["nodes"].([]any)
	nodes = append(nodes, map[string]any{"id": "Plain-1", "data": map[string]any{"id": "Plain-1", "type": "Plain",
		"node": map[string]any{"template": map[string]any{}, "tool_mode": true}}})
	f["nodes"] = nodes
	edges := f["edges"].([]any)
	edges = append(edges, map[string]any{"source": "Toolee-1", "target": "Caller-1", "data": map[string]any{
		"sourceHandle": map[string]any{"id": "Toolee-1", "name": "shout", "output_types": []string{"Message"}},
		"targetHandle": map[string]any{"id": "Caller-1", "fieldName": "args", "inputTypes": []string{"Message"}, "type": "str"}}})
	f["edges"] = edges
	data, _ = json.Marshal(f)
	_, err := w.eng.Compile(data)
	var inv *engine.InvalidFlowError
	require.ErrorAs(t, err, &inv)
	var msgs []string
	for _, p := range inv.Problems {
		msgs = append(msgs, p.String())
	}
	sort.Strings(msgs)
	assert.Equal(t, []string{
		"Plain-1: the Plain component cannot be used as a tool: it declares no tool-mode inputs",
		"Toolee-1: Invalid tool name 'two words': must only contain letters, numbers, underscores, dashes, and cannot contain spaces.",
		fmt.Sprintf("edge Toolee-1 -> Caller-1: Toolee-1 (Toolee) is in tool mode: its only output is %q, not \"shout\"", engine.ToolOutput),
	}, msgs)
}

func TestNewTool(t *testing.T) {
	tool := engine.NewTool("now", "Tells the time.", map[string]any{"type": "object"},
		func(_ context.Context, args map[string]any) (engine.Value, error) {
			return engine.NewData(map[string]any{"tz": args["tz"]}), nil
		})
	res, err := tool.Run(context.Background(), map[string]any{"tz": "UTC"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"tz": "UTC"}, res.Output)
	assert.Equal(t, `{"tz": "UTC"}`, res.Text)
	assert.Equal(t, engine.ToolSpec{Name: "now", Description: "Tells the time.", Parameters: map[string]any{"type": "object"}}, tool.Spec())
}
