package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Test components: small, observable stand-ins for the real ones.

// textIn is an input vertex: its output is its input_value.
type textIn struct{}

func (textIn) Spec() *engine.Spec {
	return &engine.Spec{Type: "TIn", IsInput: true, DisplayName: "Text In",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "str", Input: "MessageTextInput"}},
		Outputs: []engine.OutputSpec{{Name: "text", Types: []string{"Message"}}}}
}

func (textIn) Build(_ context.Context, b *engine.Build) error {
	b.Set("text", engine.NewMessage(b.Str("input_value")))
	return nil
}

// chatIn is a chat input: it sends its message.
type chatIn struct{}

func (chatIn) Spec() *engine.Spec {
	return &engine.Spec{Type: "ChatInput", IsInput: true, ChatInput: true, DisplayName: "Chat Input",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "str"}, {Name: "session_id", Type: "str"}},
		Outputs: []engine.OutputSpec{{Name: "message", Types: []string{"Message"}}}}
}

func (chatIn) Build(ctx context.Context, b *engine.Build) error {
	m := engine.NewMessage(b.Str("input_value"))
	m.Sender, m.SenderName = engine.SenderUser, engine.SenderNameUser
	sent, err := b.Send(ctx, m)
	if err != nil {
		return err
	}
	b.Set("message", sent)
	return nil
}

// join concatenates its "in" inputs (a list field) with "+" and its
// prefix.
type join struct {
	mu    sync.Mutex
	calls map[string]int
}

func (*join) Spec() *engine.Spec {
	return &engine.Spec{Type: "Join", DisplayName: "Join",
		Fields: []engine.FieldSpec{{Name: "in", Type: "other", Input: "HandleInput", List: true, InputTypes: []string{"Message"}},
			{Name: "prefix", Type: "str", Default: ""}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}, {Name: "other", Types: []string{"Message"}}}}
}

func (j *join) Build(_ context.Context, b *engine.Build) error {
	j.mu.Lock()
	j.calls[b.Vertex.ID]++
	j.mu.Unlock()
	v, _ := b.Param("in")
	var parts []string
	if list, ok := v.([]engine.Value); ok {
		for _, x := range list {
			parts = append(parts, engine.Text(x))
		}
	}
	text := b.Str("prefix") + strings.Join(parts, "+")
	for _, o := range []string{"out", "other"} {
		if b.Wants(o) {
			b.Set(o, engine.NewMessage(text))
		}
	}
	return nil
}

// fail fails.
type fail struct{}

func (fail) Spec() *engine.Spec {
	return &engine.Spec{Type: "Fail", DisplayName: "Failer",
		Fields:  []engine.FieldSpec{{Name: "in", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (fail) Build(context.Context, *engine.Build) error { return errors.New("boom") }

// gate blocks until its channel is closed or the run is cancelled; it
// counts the gates building at once (peak, the most there were).
type gate struct {
	started        chan string
	release        chan struct{}
	building, peak atomic.Int32
}

func (*gate) Spec() *engine.Spec {
	return &engine.Spec{Type: "Gate", Fields: []engine.FieldSpec{{Name: "in", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (g *gate) Build(ctx context.Context, b *engine.Build) error {
	n := g.building.Add(1)
	defer g.building.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	g.started <- b.Vertex.ID
	select {
	case <-g.release:
		b.Set("out", engine.NewMessage(b.Vertex.ID))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// route sends its input down "yes" when it contains "y", else "no", and
// switches the other branch off.
type route struct{}

func (route) Spec() *engine.Spec {
	return &engine.Spec{Type: "Route", Fields: []engine.FieldSpec{{Name: "in", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "yes", Types: []string{"Message"}}, {Name: "no", Types: []string{"Message"}}}}
}

func (route) Build(_ context.Context, b *engine.Build) error {
	in := b.Str("in")
	taken, other := "no", "yes"
	if strings.Contains(in, "y") {
		taken, other = "yes", "no"
	}
	b.Set(taken, engine.NewMessage(in))
	b.Stop(other)
	return nil
}

type world struct {
	eng  *engine.Engine
	join *join
	gate *gate
}

func newWorld(t *testing.T, limits engine.Limits) *world {
	t.Helper()
	w := &world{join: &join{calls: map[string]int{}}, gate: &gate{started: make(chan string, 100), release: make(chan struct{})}}
	reg, err := engine.NewRegistry(textIn{}, chatIn{}, w.join, fail{}, w.gate, route{})
	require.NoError(t, err)
	w.eng = engine.New(reg, limits)
	return w
}

// flow writes a flow's data: nodes "id:Type" (fields as id.field=value
// in vals) and edges "src.output>tgt.field".
func flow(nodes []string, edges []string, vals map[string]any) []byte {
	var ns, es []any
	for _, n := range nodes {
		id, typ, _ := strings.Cut(n, ":")
		tpl := map[string]any{"code": map[string]any{"type": "code", "value": "class X: pass"}}
		for k, v := range vals {
			if node, field, _ := strings.Cut(k, "."); node == id {
				tpl[field] = map[string]any{"type": "str", "value": v, "show": true}
			}
		}
		ns = append(ns, map[string]any{"id": id, "type": "genericNode", "data": map[string]any{"id": id, "type": typ,
			"node": map[string]any{"display_name": id, "template": tpl}}})
	}
	for _, e := range edges {
		src, tgt, _ := strings.Cut(e, ">")
		sid, out, _ := strings.Cut(src, ".")
		tid, field, _ := strings.Cut(tgt, ".")
		es = append(es, map[string]any{"source": sid, "target": tid, "data": map[string]any{
			"sourceHandle": map[string]any{"id": sid, "name": out, "output_types": []string{"Message"}, "dataType": "X"},
			"targetHandle": map[string]any{"id": tid, "fieldName": field, "inputTypes": []string{"Message"}, "type": "str"}}})
	}
	b, _ := json.Marshal(map[string]any{"nodes": ns, "edges": es, "viewport": map[string]any{}})
	return b
}

// collect is a Sink keeping the events.
type collect struct {
	mu     sync.Mutex
	events []engine.Event
}

func (c *collect) Emit(e engine.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

func (c *collect) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.events {
		s := e.Name()
		if v, ok := e.(engine.VertexEnded); ok {
			s += ":" + v.Result.Vertex.ID
		}
		out = append(out, s)
	}
	return out
}

func (w *world) run(t *testing.T, data []byte, in engine.RunInput) (*engine.RunResult, *collect) {
	t.Helper()
	g, err := w.eng.Compile(data)
	require.NoError(t, err)
	c := &collect{}
	return w.eng.Run(context.Background(), g, in, engine.Env{}, c), c
}

func outText(t *testing.T, r *engine.RunResult, id, output string) string {
	t.Helper()
	res := r.Result(id)
	require.NotNil(t, res, "%s did not build", id)
	return engine.Text(res.Outputs[output])
}

func TestCompile_ReportsEveryProblemAtOnce(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"a:TIn", "b:Nope", "c:Join", "d:Join", "e:ChatInput", "f:ChatInput", "g:Join"},
		[]string{"a.text>c.in", "a.missing>c.in", "a.text>c.nofield", "zz.text>c.in", "c.out>d.in", "d.out>c.in"}, nil)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	raw["nodes"].([]any)[6].(map[string]any)["data"].(map[string]any)["node"].(map[string]any)["edited"] = true
	data, _ = json.Marshal(raw)
	_, err := w.eng.Compile(data)
	var inv *engine.InvalidFlowError
	require.ErrorAs(t, err, &inv)
	msg := err.Error()
	for _, want := range []string{
		`b: component type "Nope" has no Go implementation`,
		`g: the code of this Join component was edited`,
		`a (TIn) has no output "missing"`,
		`c (Join) has no field "nofield"`,
		`source vertex zz not found`,
		`cycle without a loop component: c -> d -> c`,
		`Only one chat input is allowed in the graph (found e, f)`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, inv.Problems, 7, msg)

	_, err = w.eng.Compile([]byte(`[1,2]`))
	require.ErrorAs(t, err, &inv)
	small := engine.New(w.eng.Registry(), engine.Limits{MaxVertices: 2})
	_, err = small.Compile(flow([]string{"a:TIn", "b:TIn", "c:TIn"}, nil, nil))
	assert.ErrorContains(t, err, "the flow has 3 components; a run may have at most 2")
}

func TestCompile_IncompatibleHandlesAndNotes(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := `{"nodes":[
 {"id":"n1","type":"noteNode","data":{"id":"n1","node":{"description":"hi","template":{"backgroundColor":"amber"}}}},
 {"id":"a","type":"genericNode","data":{"id":"a","type":"TIn","node":{"template":{"input_value":{"type":"str","value":"x"}}}}},
 {"id":"b","type":"genericNode","data":{"id":"b","type":"Join","node":{"template":{}}}}],
 "edges":[{"source":"a","target":"b",
   "sourceHandle":"{œdataTypeœ: œTInœ, œidœ: œaœ, œnameœ: œtextœ, œoutput_typesœ: [œDataœ]}",
   "targetHandle":"{\"fieldName\": \"in\", \"id\": \"b\", \"inputTypes\": [\"Message\"], \"type\": \"other\"}"}]}`
	_, err := w.eng.Compile([]byte(data))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Edge between a and b has invalid handles")
	ok := strings.Replace(data, "[œDataœ]", "[œMessageœ]", 1)
	g, err := w.eng.Compile([]byte(ok))
	require.NoError(t, err, "œ-encoded and plain JSON handle strings, note nodes skipped")
	assert.Len(t, g.Vertices, 2)
}

// A diamond: a feeds b and c, which both feed d.
func TestRun_Diamond(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"a:TIn", "b:Join", "c:Join", "d:Join"}, []string{"a.text>b.in", "a.text>c.in", "b.out>d.in", "c.out>d.in"},
		map[string]any{"a.input_value": "x", "b.prefix": "B", "c.prefix": "C"})
	res, ev := w.run(t, data, engine.RunInput{FlowID: "f"})
	require.NoError(t, res.Err)
	assert.Equal(t, "Bx+Cx", outText(t, res, "d", "out"))
	names := ev.names()
	assert.Equal(t, "vertices_sorted", names[0])
	assert.Equal(t, "end_vertex:a", names[1])
	assert.Equal(t, "end_vertex:d", names[4])
	assert.Equal(t, "end", names[5])
	assert.Equal(t, 1, w.join.calls["d"], "d builds once, after both")
	sorted := ev.events[0].(engine.VerticesSorted)
	assert.Equal(t, []string{"a"}, sorted.IDs)
	assert.Equal(t, []string{"a", "b", "c", "d"}, sorted.ToRun)
	assert.ElementsMatch(t, []string{"b", "c"}, res.Result("a").Next)
}

// Independent branches build at the same time: two gates are both
// started before either is released.
func TestRun_ParallelBranches(t *testing.T) {
	w := newWorld(t, engine.Limits{Parallelism: 4})
	data := flow([]string{"a:TIn", "g1:Gate", "g2:Gate", "j:Join"}, []string{"a.text>g1.in", "a.text>g2.in", "g1.out>j.in", "g2.out>j.in"}, nil)
	g, err := w.eng.Compile(data)
	require.NoError(t, err)
	done := make(chan *engine.RunResult)
	go func() { done <- w.eng.Run(context.Background(), g, engine.RunInput{}, engine.Env{}, nil) }()
	started := map[string]bool{}
	for range 2 {
		select {
		case id := <-w.gate.started:
			started[id] = true
		case <-time.After(10 * time.Second):
			t.Fatal("the branches did not both start")
		}
	}
	close(w.gate.release)
	res := <-done
	require.NoError(t, res.Err)
	assert.Equal(t, "g1+g2", outText(t, res, "j", "out"))
}

// A failing vertex: its descendants do not build, its siblings do, and
// the run still ends. With AbortOnError the run stops.
func TestRun_FailingVertex(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"a:TIn", "f:Fail", "after:Join", "sib:Join"}, []string{"a.text>f.in", "f.out>after.in", "a.text>sib.in"}, nil)
	res, ev := w.run(t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	fr := res.Result("f")
	require.NotNil(t, fr)
	assert.False(t, fr.Valid)
	assert.Equal(t, "Error building Component f: \n\nboom", fr.ErrorText())
	assert.Nil(t, res.Result("after"), "a failed vertex's descendants do not build")
	assert.NotNil(t, res.Result("sib"))
	assert.Equal(t, "end", ev.names()[len(ev.names())-1])

	res, ev = w.run(t, data, engine.RunInput{AbortOnError: true})
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "Error running graph: Error building Component f: \n\nboom")
	assert.NotContains(t, ev.names(), "end")
}

// A router switches the branch it does not take off: its vertices do not
// build and are reported as inactivated.
func TestRun_ConditionalRouting(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"a:TIn", "r:Route", "y:Join", "y2:Join", "n:Join"},
		[]string{"a.text>r.in", "r.yes>y.in", "y.out>y2.in", "r.no>n.in"}, map[string]any{"a.input_value": "nope"})
	res, _ := w.run(t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	assert.ElementsMatch(t, []string{"y", "y2"}, res.Result("r").Inactivated)
	assert.Nil(t, res.Result("y"))
	assert.Nil(t, res.Result("y2"))
	assert.Equal(t, "nope", outText(t, res, "n", "out"))
}

// Parallelism bounds the vertices building at once: of six ready
// branches two build, the others wait for a slot. An output larger than
// MaxOutputBytes fails its vertex.
func TestRun_ParallelismAndOutputLimits(t *testing.T) {
	w := newWorld(t, engine.Limits{Parallelism: 2})
	nodes, edges := []string{"a:TIn"}, []string(nil)
	for i := range 6 {
		nodes = append(nodes, fmt.Sprintf("g%d:Gate", i))
		edges = append(edges, fmt.Sprintf("a.text>g%d.in", i))
	}
	g, err := w.eng.Compile(flow(nodes, edges, nil))
	require.NoError(t, err)
	done := make(chan *engine.RunResult)
	go func() { done <- w.eng.Run(context.Background(), g, engine.RunInput{}, engine.Env{}, nil) }()
	<-w.gate.started
	<-w.gate.started
	select { // a third would start at once if nothing held it back
	case id := <-w.gate.started:
		t.Errorf("%s started while two were building", id)
	case <-time.After(200 * time.Millisecond):
	}
	close(w.gate.release)
	res := <-done
	require.NoError(t, res.Err)
	assert.Len(t, w.gate.started, 4, "the other four built after them")
	assert.Equal(t, int32(2), w.gate.peak.Load(), "never more than two at once")

	small := engine.New(w.eng.Registry(), engine.Limits{MaxOutputBytes: 10})
	for in, valid := range map[string]bool{"0123456789": true, "0123456789+": false} {
		g, err := small.Compile(flow([]string{"a:TIn", "j:Join"}, []string{"a.text>j.in"}, map[string]any{"a.input_value": in}))
		require.NoError(t, err)
		res := small.Run(context.Background(), g, engine.RunInput{}, engine.Env{}, nil)
		require.NoError(t, res.Err)
		assert.Equal(t, valid, res.Result("a").Valid, in)
		if !valid {
			assert.Contains(t, res.Result("a").ErrorText(), `output "text" of a is 11 bytes, more than the limit of 10`)
			assert.Nil(t, res.Result("j"), "its descendants do not build")
		}
	}
}

// Cancelling stops the builds in flight; the run ends without "end".
func TestRun_Cancel(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	g, err := w.eng.Compile(flow([]string{"a:TIn", "g:Gate"}, []string{"a.text>g.in"}, nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c := &collect{}
	done := make(chan *engine.RunResult)
	go func() { done <- w.eng.Run(ctx, g, engine.RunInput{}, engine.Env{}, c) }()
	<-w.gate.started
	cancel()
	res := <-done
	assert.ErrorIs(t, res.Err, engine.ErrCancelled)
	assert.NotContains(t, c.names(), "end")

	short := engine.New(w.eng.Registry(), engine.Limits{WallTime: 50 * time.Millisecond})
	res = short.Run(context.Background(), g, engine.RunInput{}, engine.Env{}, nil)
	assert.ErrorContains(t, res.Err, "the run took longer than its limit of 50ms")
}

// The run's input goes to the input vertices its type selects; the chat
// input runs first, alone.
func TestRun_InputsAndChatFirst(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"TIn-1:TIn", "ChatInput-1:ChatInput", "j:Join"}, []string{"TIn-1.text>j.in", "ChatInput-1.message>j.in"},
		map[string]any{"TIn-1.input_value": "t"})
	hi := "hi"
	res, ev := w.run(t, data, engine.RunInput{InputValue: &hi, InputType: "chat", Session: "s"})
	require.NoError(t, res.Err)
	assert.Equal(t, "t+hi", outText(t, res, "j", "out"))
	assert.Equal(t, []string{"ChatInput-1"}, ev.events[0].(engine.VerticesSorted).IDs)
	assert.Equal(t, "end_vertex:ChatInput-1", ev.names()[2], "after its add_message")
	assert.Equal(t, "add_message", ev.names()[1])
	msg := ev.events[1].(engine.MessageAdded).Message
	assert.Equal(t, "s", msg.SessionID)
	res, _ = w.run(t, data, engine.RunInput{InputValue: &hi, InputType: "any"})
	assert.Equal(t, "hi+hi", outText(t, res, "j", "out"))
}

// stop_component_id runs a vertex and its ancestors; start_component_id
// runs from a vertex on, with what it needs.
func TestRun_StopAndStartComponents(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	data := flow([]string{"a:TIn", "b:Join", "c:Join", "x:TIn"}, []string{"a.text>b.in", "b.out>c.in"}, nil)
	res, ev := w.run(t, data, engine.RunInput{StopComponentID: "b"})
	require.NoError(t, res.Err)
	assert.Equal(t, []string{"a", "b"}, ev.events[0].(engine.VerticesSorted).ToRun)
	assert.Nil(t, res.Result("c"))
	res, _ = w.run(t, data, engine.RunInput{StartComponentID: "b"})
	require.NoError(t, res.Err)
	assert.NotNil(t, res.Result("c"))
	assert.Nil(t, res.Result("x"))
	res, _ = w.run(t, data, engine.RunInput{StopComponentID: "zz"})
	assert.ErrorContains(t, res.Err, "stop component zz not found")
}

// A 200-vertex graph (a chain of joins fed by a fan of inputs) runs.
func TestRun_BigGraph(t *testing.T) {
	w := newWorld(t, engine.Limits{Parallelism: 8})
	var nodes, edges []string
	vals := map[string]any{}
	for i := range 100 {
		nodes = append(nodes, fmt.Sprintf("in%d:TIn", i), fmt.Sprintf("j%d:Join", i))
		vals[fmt.Sprintf("in%d.input_value", i)] = "x"
		edges = append(edges, fmt.Sprintf("in%d.text>j%d.in", i, i))
		if i > 0 {
			edges = append(edges, fmt.Sprintf("j%d.out>j%d.in", i-1, i))
		}
	}
	var built atomic.Int64
	g, err := w.eng.Compile(flow(nodes, edges, vals))
	require.NoError(t, err)
	res := w.eng.Run(context.Background(), g, engine.RunInput{}, engine.Env{},
		engine.SinkFunc(func(e engine.Event) {
			if _, ok := e.(engine.VertexEnded); ok {
				built.Add(1)
			}
		}))
	require.NoError(t, res.Err)
	assert.EqualValues(t, 200, built.Load())
	assert.Len(t, outText(t, res, "j99", "out"), 199)
}

// A lattice (every vertex fed by both of the layer above) behind the chat
// input's successor: finding what became runnable visits each pending
// ancestor once, not once per path (2^40 here).
func TestRun_LatticeBehindChatInput(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	close(w.gate.release) // gates pass at once, their output their id
	const layers = 40
	nodes := []string{"ChatInput-c:ChatInput", "ta:TIn", "tb:TIn", "end:Join"}
	edges := []string{"ChatInput-c.message>end.in"}
	prev := []string{"ta.text", "tb.text"}
	for i := range layers {
		cur := []string{fmt.Sprintf("l%da", i), fmt.Sprintf("l%db", i)}
		for _, id := range cur {
			nodes = append(nodes, id+":Gate")
			for _, p := range prev {
				edges = append(edges, p+">"+id+".in")
			}
		}
		prev = []string{cur[0] + ".out", cur[1] + ".out"}
	}
	for _, p := range prev {
		edges = append(edges, p+">end.in")
	}
	g, err := w.eng.Compile(flow(nodes, edges, map[string]any{"ChatInput-c.input_value": "hi"}))
	require.NoError(t, err)
	done := make(chan *engine.RunResult, 1)
	go func() { done <- w.eng.Run(context.Background(), g, engine.RunInput{}, engine.Env{}, nil) }()
	select {
	case res := <-done:
		require.NoError(t, res.Err)
		assert.Len(t, res.Results, 4+2*layers)
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end")
	}
}

// memFrozen is a FrozenCache of a map.
type memFrozen struct {
	mu sync.Mutex
	m  map[string]*engine.VertexResult
}

func (c *memFrozen) key(run engine.RunInfo, v string) string {
	return fmt.Sprintf("%s/%d/%s", run.FlowID, run.UserID, v)
}

func (c *memFrozen) Get(run engine.RunInfo, v string) (*engine.VertexResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[c.key(run, v)]
	return r, ok
}

func (c *memFrozen) Put(run engine.RunInfo, v string, r *engine.VertexResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[c.key(run, v)] = r
}

// A frozen vertex reuses its last result (used_frozen_result), for the
// same user only.
func TestRun_FrozenVertex(t *testing.T) {
	w := newWorld(t, engine.Limits{})
	var raw map[string]any
	require.NoError(t, json.Unmarshal(flow([]string{"a:TIn", "j:Join"}, []string{"a.text>j.in"}, map[string]any{"a.input_value": "x"}), &raw))
	raw["nodes"].([]any)[1].(map[string]any)["data"].(map[string]any)["node"].(map[string]any)["frozen"] = true
	data, _ := json.Marshal(raw)
	g, err := w.eng.Compile(data)
	require.NoError(t, err)
	env := engine.Env{Frozen: &memFrozen{m: map[string]*engine.VertexResult{}}}
	run := func(user int64) *engine.VertexResult {
		res := w.eng.Run(context.Background(), g, engine.RunInput{FlowID: "f", UserID: user}, env, nil)
		require.NoError(t, res.Err)
		return res.Result("j")
	}
	assert.False(t, run(1).UsedFrozen)
	second := run(1)
	assert.True(t, second.UsedFrozen)
	assert.Equal(t, "x", engine.Text(second.Outputs["out"]))
	assert.Equal(t, 1, w.join.calls["j"], "built once for user 1")
	assert.False(t, run(2).UsedFrozen, "another user's run builds it")
	assert.Equal(t, 2, w.join.calls["j"])
}
