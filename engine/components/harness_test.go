package components

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// memStore is an in-memory Recorder and History: messages get ids in
// order and timestamps one second apart; a message with an id is
// updated in place.
type memStore struct {
	mu     sync.Mutex
	msgs   []storedMsg
	builds []*engine.VertexResult
	clock  time.Time
}

type storedMsg struct {
	user int64
	m    *engine.Message
}

func newMemStore() *memStore {
	return &memStore{clock: time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)}
}

func (s *memStore) StoreMessage(_ context.Context, run engine.RunInfo, m *engine.Message) (*engine.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := m.Clone()
	if c.ID != "" {
		for i, x := range s.msgs {
			if x.m.ID == c.ID {
				c.Timestamp = x.m.Timestamp
				s.msgs[i].m = c
				return c.Clone(), nil
			}
		}
	}
	c.ID = strconv.Itoa(len(s.msgs) + 1)
	s.clock = s.clock.Add(time.Second)
	c.Timestamp = s.clock
	if c.FlowID == "" {
		c.FlowID = run.FlowID
	}
	s.msgs = append(s.msgs, storedMsg{user: run.UserID, m: c})
	return c.Clone(), nil
}

func (s *memStore) VertexBuilt(_ context.Context, _ engine.RunInfo, r *engine.VertexResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds = append(s.builds, r)
	return nil
}

func (s *memStore) Messages(_ context.Context, q engine.HistoryQuery) ([]*engine.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*engine.Message
	for _, x := range s.msgs {
		m := x.m
		if x.user != q.User || (q.SessionID != "" && m.SessionID != q.SessionID) || (q.ContextID != "" && m.ContextID != q.ContextID) ||
			(q.Sender != "" && m.Sender != q.Sender) || (q.SenderName != "" && m.SenderName != q.SenderName) {
			continue
		}
		out = append(out, m.Clone())
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

// all returns the stored messages in order.
func (s *memStore) all() []*engine.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*engine.Message, len(s.msgs))
	for i, x := range s.msgs {
		out[i] = x.m.Clone()
	}
	return out
}

// memVars is a Variables port of a map.
type memVars map[string]string

func (v memVars) Lookup(_ context.Context, _ int64, name string) (string, bool, error) {
	s, ok := v[name]
	return s, ok, nil
}

// events is a Sink keeping the events.
type events struct {
	mu  sync.Mutex
	evs []engine.Event
}

func (e *events) Emit(ev engine.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *events) list() []engine.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

// names lists the events, end_vertex with its vertex.
func (e *events) names() []string {
	var out []string
	for _, ev := range e.list() {
		s := ev.Name()
		if v, ok := ev.(engine.VertexEnded); ok {
			s += ":" + v.Result.Vertex.ID
		}
		out = append(out, s)
	}
	return out
}

// harness runs flows on the real components with in-memory ports and a
// fake OpenAI server.
type harness struct {
	eng   *engine.Engine
	store *memStore
	fake  *fakeopenai.Server
	vars  memVars
	reg   *engine.Registry
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	reg, err := Registry()
	require.NoError(t, err)
	return &harness{eng: engine.New(reg, engine.Limits{}), store: newMemStore(), fake: fakeopenai.New(t),
		vars: memVars{"OPENAI_API_KEY": "sk-from-variable"}, reg: reg}
}

// loopback lets flows' own model endpoints reach the fake server.
func loopback() *egress.Policy {
	p, err := egress.New([]string{"127.0.0.0/8"})
	if err != nil {
		panic(err) // a literal that parses
	}
	return p
}

func (h *harness) env() engine.Env {
	return engine.Env{Recorder: h.store, History: h.store, Variables: h.vars,
		Models: &models.OpenAI{BaseURL: h.fake.URL, Egress: loopback()}, Clock: func() time.Time { return time.Unix(0, 0) }}
}

// run compiles data and runs it; the run must compile.
func (h *harness) run(t *testing.T, data []byte, in engine.RunInput) (*engine.RunResult, *events) {
	t.Helper()
	g, err := h.eng.Compile(data)
	require.NoError(t, err)
	if in.FlowID == "" {
		in.FlowID = "flow-1"
	}
	if in.UserID == 0 {
		in.UserID = 7
	}
	ev := &events{}
	return h.eng.Run(context.Background(), g, in, h.env(), ev), ev
}

// outValue returns output name of vertex id; the vertex must have built.
func outValue(t *testing.T, r *engine.RunResult, id, name string) engine.Value {
	t.Helper()
	res := r.Result(id)
	require.NotNil(t, res, "%s did not build", id)
	require.True(t, res.Valid, "%s failed: %v", id, res.Err)
	return res.Outputs[name]
}

func outText(t *testing.T, r *engine.RunResult, id, name string) string {
	t.Helper()
	return engine.Text(outValue(t, r, id, name))
}

// failure returns the error of vertex id, which must have failed.
func failure(t *testing.T, r *engine.RunResult, id string) string {
	t.Helper()
	res := r.Result(id)
	require.NotNil(t, res, "%s did not build", id)
	require.False(t, res.Valid, "%s did not fail", id)
	return res.Err.Error()
}

// flowBuilder writes flows in Langflow's shape: nodes whose templates
// carry every field of their component's spec (with its type, input
// types and default, or the value given), and edges with their data
// handles.
type flowBuilder struct {
	t     *testing.T
	reg   *engine.Registry
	nodes []any
	edges []any
	types map[string]string
}

func (h *harness) flow(t *testing.T) *flowBuilder {
	return &flowBuilder{t: t, reg: h.reg, types: map[string]string{}}
}

// node adds a node id of data.type typ (the id's prefix when ""), with
// field values; a value of a field the spec does not have adds a str
// field (a prompt variable).
func (f *flowBuilder) node(id, typ string, values map[string]any) *flowBuilder {
	if typ == "" {
		typ, _, _ = strings.Cut(id, "-")
	}
	c, ok := f.reg.Lookup(typ)
	require.True(f.t, ok, typ)
	spec := c.Spec()
	tpl := map[string]any{"_type": "Component", "code": map[string]any{"type": "code", "value": "# test"}}
	for _, fs := range spec.Fields {
		fd := map[string]any{"type": fs.Type, "_input_type": fs.Input, "name": fs.Name, "value": fs.Default,
			"show": fs.Show == nil || *fs.Show, "advanced": fs.Advanced, "required": fs.Required, "list": fs.List,
			"load_from_db": fs.LoadFromDB, "password": fs.Password}
		if fs.InputTypes != nil {
			fd["input_types"] = fs.InputTypes
		}
		tpl[fs.Name] = fd
	}
	var custom []string
	for k, v := range values {
		if fd, ok := tpl[k].(map[string]any); ok {
			if m, isMap := v.(map[string]any); isMap && m["__field__"] == true {
				for fk, fv := range m {
					if fk != "__field__" {
						fd[fk] = fv
					}
				}
				continue
			}
			fd["value"] = v
			continue
		}
		tpl[k] = map[string]any{"type": "str", "value": v, "show": true, "input_types": []string{"Message"}}
		custom = append(custom, k)
	}
	slices.Sort(custom)
	var outs []any
	for _, o := range spec.Outputs {
		outs = append(outs, map[string]any{"name": o.Name, "types": o.Types, "method": o.Method})
	}
	f.types[id] = typ
	f.nodes = append(f.nodes, map[string]any{"id": id, "type": "genericNode", "data": map[string]any{"id": id, "type": typ,
		"node": map[string]any{"display_name": spec.DisplayName, "template": tpl, "outputs": outs,
			"custom_fields": map[string]any{"template": custom}}}})
	return f
}

// fieldSpec is a node value that sets several keys of a field.
func fieldSpec(kv ...any) map[string]any {
	m := map[string]any{"__field__": true}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// edge joins output out of src to field of tgt.
func (f *flowBuilder) edge(src, out, tgt, field string) *flowBuilder {
	c, _ := f.reg.Lookup(f.types[src])
	o, ok := c.Spec().Output(out)
	require.True(f.t, ok, "%s has no output %s", src, out)
	inTypes := o.Types
	if tc, ok := f.reg.Lookup(f.types[tgt]); ok {
		if fs, ok := tc.Spec().Field(field); ok && len(fs.InputTypes) > 0 {
			inTypes = fs.InputTypes
		}
	}
	f.edges = append(f.edges, map[string]any{"id": fmt.Sprintf("e%d", len(f.edges)), "source": src, "target": tgt, "data": map[string]any{
		"sourceHandle": map[string]any{"id": src, "name": out, "output_types": o.Types, "dataType": f.types[src]},
		"targetHandle": map[string]any{"id": tgt, "fieldName": field, "inputTypes": inTypes, "type": "str"}}})
	return f
}

func (f *flowBuilder) bytes() []byte {
	b, err := json.Marshal(map[string]any{"nodes": f.nodes, "edges": f.edges, "viewport": map[string]any{"x": 0, "y": 0, "zoom": 1}})
	require.NoError(f.t, err)
	return b
}

func ptr[T any](v T) *T { return &v }
