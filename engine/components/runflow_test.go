package components

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

// memFlows is an in-memory SubFlows port: run answers each request.
type memFlows struct {
	mu     sync.Mutex
	reqs   []engine.SubFlowRequest
	runs   []engine.RunInfo
	depths []int
	run    func(ctx context.Context, req engine.SubFlowRequest) (*engine.SubFlowResult, error)
}

func (m *memFlows) RunFlow(ctx context.Context, run engine.RunInfo, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.runs = append(m.runs, run)
	m.depths = append(m.depths, engine.SubFlowDepth(ctx))
	m.mu.Unlock()
	if err := engine.CheckSubFlowDepth(engine.SubFlowDepth(ctx)); err != nil {
		return nil, err
	}
	return m.run(ctx, req)
}

func runFlowFlow(h *harnessWith, t *testing.T, vals map[string]any) []byte {
	return h.flow(t).
		node("ChatInput-i", "", nil).
		node("RunFlow-r", "", vals).
		node("ChatOutput-o", "", nil).
		edge("ChatInput-i", "message", "RunFlow-r", "input_value").
		edge("RunFlow-r", "message", "ChatOutput-o", "input_value").bytes()
}

func TestRunFlow_RunsAnotherFlow(t *testing.T) {
	t.Parallel()
	flows := &memFlows{run: func(_ context.Context, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
		return &engine.SubFlowResult{Outputs: []engine.SubFlowOutput{
			{VertexID: "ChatOutput-a", DisplayName: "Chat Output", Message: engine.NewMessage("answer to " + *req.InputValue)},
			{VertexID: "TextOutput-b", DisplayName: "Text Output", Results: map[string]engine.Value{"text": engine.NewMessage("more")}},
		}}, nil
	}}
	h := newHarnessWith(t, func(e *engine.Env) { e.Flows = flows }, RunFlow{})
	in := "hi"
	data := runFlowFlow(h, t, map[string]any{"flow_name_selected": "Child", "TextInput-x~input_value": "tweaked"})
	res, _ := h.run(t, data, engine.RunInput{InputValue: &in, Session: "s1", UserID: 9, FlowID: "parent"})
	require.NoError(t, res.Err)
	assert.Equal(t, "answer to hi\n\nmore", outText(t, res, "ChatOutput-o", "message"))

	require.Len(t, flows.reqs, 1)
	req := flows.reqs[0]
	assert.Equal(t, "Child", req.Flow)
	assert.Equal(t, "hi", *req.InputValue)
	assert.Equal(t, "s1", req.Session, "the run's session")
	assert.Equal(t, engine.Tweaks{"TextInput-x": map[string]any{"input_value": "tweaked"}}, req.Tweaks,
		"<vertex>~<field> fields become tweaks")
	assert.Equal(t, int64(9), flows.runs[0].UserID, "as the run's user")
	assert.Equal(t, "parent", flows.runs[0].FlowID)
	assert.Equal(t, []int{1}, flows.depths, "one level deeper")

	data = h.flow(t).node("RunFlow-r", "", map[string]any{"flow_name_selected": "Child", "input_value": "x"}).
		node("ParserComponent-p", "", map[string]any{"pattern": "{component_id}:{text}"}).
		edge("RunFlow-r", "flow_outputs", "ParserComponent-p", "input_data").bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	outs := outValue(t, res, "RunFlow-r", "flow_outputs").([]engine.Value)
	require.Len(t, outs, 2)
	assert.Equal(t, map[string]any{"component_id": "ChatOutput-a", "component_display_name": "Chat Output", "text": "answer to x"},
		outs[0].(*engine.Data).Map)

	f, _ := RunFlow{}.Spec().Field("input_value")
	assert.True(t, f.ToolMode, "usable as a tool: the input is its argument")
}

func TestRunFlow_DepthLimit(t *testing.T) {
	t.Parallel()
	var h *harnessWith
	flows := &memFlows{}
	// The sub-flow is the flow itself: it runs itself until the limit.
	flows.run = func(ctx context.Context, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
		g, err := h.eng.Compile(runFlowFlow(h, t, map[string]any{"flow_name_selected": "Self"}))
		if err != nil {
			return nil, err
		}
		env := h.env()
		env.Flows = flows
		res := h.eng.Run(ctx, g, engine.RunInput{FlowID: "self", UserID: 7, InputValue: req.InputValue}, env, nil)
		if r := res.Result("RunFlow-r"); r != nil && !r.Valid {
			return nil, r.Err
		}
		return &engine.SubFlowResult{}, nil
	}
	h = newHarnessWith(t, func(e *engine.Env) { e.Flows = flows }, RunFlow{})
	in := "loop"
	res, _ := h.run(t, runFlowFlow(h, t, map[string]any{"flow_name_selected": "Self"}), engine.RunInput{InputValue: &in})
	msg := failure(t, res, "RunFlow-r")
	var depthErr *engine.SubFlowDepthError
	assert.True(t, errors.As(res.Result("RunFlow-r").Err, &depthErr), "the refusal comes back up: %s", msg)
	assert.Contains(t, msg, "at most 5 levels deep")
	assert.Equal(t, []int{1, 2, 3, 4, 5}, flows.depths, "five levels ran; the sixth was refused before it was asked for")

	flows.depths = nil
	deep := engine.WithSubFlowDepth(context.Background(), engine.MaxSubFlowDepth)
	res, _ = h.runCtx(deep, t, runFlowFlow(h, t, map[string]any{"flow_name_selected": "Child"}), engine.RunInput{InputValue: &in})
	assert.Contains(t, failure(t, res, "RunFlow-r"), "at most 5 levels deep")
	assert.Empty(t, flows.depths)
}

func TestRunFlow_Refusals(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, nil, RunFlow{})
	res, _ := h.run(t, runFlowFlow(h, t, map[string]any{"flow_name_selected": "Child"}), engine.RunInput{})
	assert.Contains(t, failure(t, res, "RunFlow-r"), "not available on this server")

	flows := &memFlows{run: func(context.Context, engine.SubFlowRequest) (*engine.SubFlowResult, error) {
		return nil, errors.New("Flow identifier Child not found")
	}}
	h = newHarnessWith(t, func(e *engine.Env) { e.Flows = flows }, RunFlow{})
	res, _ = h.run(t, runFlowFlow(h, t, nil), engine.RunInput{})
	assert.Contains(t, failure(t, res, "RunFlow-r"), "select the flow to run")
	res, _ = h.run(t, runFlowFlow(h, t, map[string]any{"flow_name_selected": "Child"}), engine.RunInput{})
	assert.Contains(t, failure(t, res, "RunFlow-r"), "Flow identifier Child not found")
}

// The four components' catalogue entries make nodes that compile, as the
// catalogue's own tests check for the components of All.
func TestSubFlowComponents_CatalogueEntriesCompile(t *testing.T) {
	t.Parallel()
	comps := []engine.Component{RunFlow{}, File{}, LoopComponent{}, StructuredOutput{}}
	h := newHarnessWith(t, nil, comps...)
	cat := h.reg.Catalogue()
	raw, err := json.Marshal(cat)
	require.NoError(t, err)
	for _, c := range comps {
		s := c.Spec()
		assert.Contains(t, string(raw), `"`+s.Type+`"`, "%s is in the catalogue", s.Type)
		node := engine.NodeTemplate(s, "m")
		id := s.Type + "-Cat01"
		data, err := json.Marshal(map[string]any{"nodes": []any{map[string]any{"id": id, "type": "genericNode",
			"data": map[string]any{"id": id, "type": s.Type, "node": node}}}, "edges": []any{}})
		require.NoError(t, err)
		g, err := h.eng.Compile(data)
		require.NoError(t, err, s.Type)
		v, ok := g.Vertex(id)
		require.True(t, ok)
		assert.Equal(t, len(s.Fields)+1, len(v.Template), "%s: every field and the code", s.Type)
		for _, o := range s.Outputs {
			assert.NotEmpty(t, o.Types, "%s.%s", s.Type, o.Name)
		}
		assert.NotEmpty(t, s.Category, s.Type)
	}
}
