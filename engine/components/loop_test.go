package components

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

// newHarnessWith is newHarness with extra components (replacing those
// of All of the same type) and ports set by env.
func newHarnessWith(t *testing.T, env func(*engine.Env), extra ...engine.Component) *harnessWith {
	t.Helper()
	h := newHarness(t)
	comps := []engine.Component{}
	for _, c := range All() {
		replaced := false
		for _, x := range extra {
			if x.Spec().Type == c.Spec().Type {
				replaced = true
			}
		}
		if !replaced {
			comps = append(comps, c)
		}
	}
	reg, err := engine.NewRegistry(append(comps, extra...)...)
	require.NoError(t, err)
	h.reg, h.eng = reg, engine.New(reg, engine.Limits{})
	return &harnessWith{harness: h, setEnv: env}
}

// harnessWith runs flows with the harness's ports plus its own.
type harnessWith struct {
	*harness
	setEnv func(*engine.Env)
}

func (h *harnessWith) runCtx(ctx context.Context, t *testing.T, data []byte, in engine.RunInput) (*engine.RunResult, *events) {
	t.Helper()
	g, err := h.eng.Compile(data)
	require.NoError(t, err)
	if in.FlowID == "" {
		in.FlowID = "flow-1"
	}
	if in.UserID == 0 {
		in.UserID = 7
	}
	env := h.env()
	if h.setEnv != nil {
		h.setEnv(&env)
	}
	ev := &events{}
	return h.eng.Run(ctx, g, in, env, ev), ev
}

func (h *harnessWith) run(t *testing.T, data []byte, in engine.RunInput) (*engine.RunResult, *events) {
	t.Helper()
	return h.runCtx(context.Background(), t, data, in)
}

// loopEdge joins output out of src back into loop output item of loop,
// as Langflow writes a loop-back edge (a target handle of the output
// shape).
func (f *flowBuilder) loopEdge(src, out, loop, item string) *flowBuilder {
	c, _ := f.reg.Lookup(f.types[src])
	o, ok := c.Spec().Output(out)
	require.True(f.t, ok)
	f.edges = append(f.edges, map[string]any{"id": fmt.Sprintf("e%d", len(f.edges)), "source": src, "target": loop, "data": map[string]any{
		"sourceHandle": map[string]any{"id": src, "name": out, "output_types": o.Types, "dataType": f.types[src]},
		"targetHandle": map[string]any{"id": loop, "name": item, "output_types": []string{"Data", "Message"}, "dataType": f.types[loop]}}})
	return f
}

// memFiles is an in-memory Files port: files by path, each readable by
// its owner only.
type memFiles struct {
	mu    sync.Mutex
	files map[string]memFile
	reads []string
}

type memFile struct {
	owner   int64
	content string
}

func (m *memFiles) Read(_ context.Context, run engine.RunInfo, path string, limit int64) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads = append(m.reads, path)
	f, ok := m.files[path]
	if !ok || f.owner != run.UserID {
		return "", nil, engine.ErrFileNotFound
	}
	if int64(len(f.content)) > limit {
		return "", nil, &engine.FileTooLargeError{Path: path, Limit: limit}
	}
	_, name, _ := strings.Cut(path, "/")
	return name, []byte(f.content), nil
}

func loopFlow(h *harnessWith, t *testing.T) []byte {
	return h.flow(t).
		node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/people.csv"})}).
		node("LoopComponent-l", "", nil).
		node("ParserComponent-body", "", map[string]any{"pattern": "Hello {name} ({age})"}).
		node("ParserComponent-out", "", map[string]any{"pattern": "{text}"}).
		node("TextOutput-o", "", nil).
		edge("File-f", "dataframe", "LoopComponent-l", "data").
		edge("LoopComponent-l", "item", "ParserComponent-body", "input_data").
		loopEdge("ParserComponent-body", "parsed_text", "LoopComponent-l", "item").
		edge("LoopComponent-l", "done", "ParserComponent-out", "input_data").
		edge("ParserComponent-out", "parsed_text", "TextOutput-o", "input_value").bytes()
}

func TestLoopComponent_ForEachItem(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{"7/people.csv": {owner: 7, content: "name,age\nAnn,31\nBob,42\nCy,7\n"}}}
	h := newHarnessWith(t, func(e *engine.Env) { e.Files = files }, LoopComponent{}, File{})
	res, ev := h.run(t, loopFlow(h, t), engine.RunInput{})
	require.NoError(t, res.Err)

	assert.Equal(t, "Hello Ann (31)\nHello Bob (42)\nHello Cy (7)", outText(t, res, "TextOutput-o", "text"),
		"the body ran once per row, and done collected what came back")
	done := outValue(t, res, "LoopComponent-l", "done").(*engine.DataFrame)
	assert.Equal(t, []map[string]any{{"text": "Hello Ann (31)"}, {"text": "Hello Bob (42)"}, {"text": "Hello Cy (7)"}}, done.Rows)
	assert.Nil(t, res.Result("ParserComponent-body"), "the body is not built once more by the run")
	loop := res.Result("LoopComponent-l")
	assert.Contains(t, loop.Inactivated, "ParserComponent-body")

	var bodyEnds int
	for _, n := range ev.names() {
		if n == "end_vertex:ParserComponent-body" {
			bodyEnds++
		}
	}
	assert.Equal(t, 3, bodyEnds, "each build of the body is reported")
	assert.Len(t, h.store.builds, 3+4, "and recorded: 3 body builds, the 4 other vertices")
}

func TestLoopComponent_BodyFailureStopsTheLoop(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{"7/people.csv": {owner: 7, content: "name\nAnn\n"}}}
	h := newHarnessWith(t, func(e *engine.Env) { e.Files = files }, LoopComponent{}, File{})
	data := h.flow(t).
		node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/people.csv"})}).
		node("LoopComponent-l", "", nil).
		node("parser-body", "parser", map[string]any{"pattern": "{missing}"}).
		node("ParserComponent-out", "", nil).
		edge("File-f", "dataframe", "LoopComponent-l", "data").
		edge("LoopComponent-l", "item", "parser-body", "input_data").
		loopEdge("parser-body", "parsed_text", "LoopComponent-l", "item").
		edge("LoopComponent-l", "done", "ParserComponent-out", "input_data").bytes()
	res, _ := h.run(t, data, engine.RunInput{})
	msg := failure(t, res, "LoopComponent-l")
	assert.Contains(t, msg, "item 1 of 1: parser-body failed")
	assert.Contains(t, msg, "{missing}")
	assert.Nil(t, res.Result("ParserComponent-out"))
}

func TestLoopComponent_WithoutBody(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{"7/people.csv": {owner: 7, content: "name\nAnn\nBob\n"}}}
	h := newHarnessWith(t, func(e *engine.Env) { e.Files = files }, LoopComponent{}, File{})
	data := h.flow(t).
		node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/people.csv"})}).
		node("LoopComponent-l", "", nil).
		node("ParserComponent-out", "", map[string]any{"pattern": "{name}", "sep": ","}).
		edge("File-f", "dataframe", "LoopComponent-l", "data").
		edge("LoopComponent-l", "done", "ParserComponent-out", "input_data").bytes()
	res, _ := h.run(t, data, engine.RunInput{})
	assert.Equal(t, "Ann,Bob", outText(t, res, "ParserComponent-out", "parsed_text"), "no body: done gives the items")
}

func TestLoopItems(t *testing.T) {
	t.Parallel()
	msg := engine.NewMessage("hi")
	items, err := engine.LoopItems([]engine.Value{engine.NewData(map[string]any{"a": 1}), msg,
		engine.NewDataFrame([]map[string]any{{"b": 2}, {"b": 3}})})
	require.NoError(t, err)
	var maps []map[string]any
	for _, it := range items {
		maps = append(maps, it.(*engine.Data).Map)
	}
	assert.Equal(t, []map[string]any{{"a": 1}, {"text": "hi"}, {"b": 2}, {"b": 3}}, maps)
	_, err = engine.LoopItems("text")
	assert.ErrorContains(t, err, "must be a DataFrame")
	none, err := engine.LoopItems(nil)
	assert.NoError(t, err)
	assert.Empty(t, none)
}

// outsideFlow: the loop's body (a Parser, then a CombineText) also takes
// text2 from outside the loop, from the vertex feeding it (set by feed).
func outsideFlow(h *harnessWith, t *testing.T, feed func(f *flowBuilder) *flowBuilder) []byte {
	f := h.flow(t).
		node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/people.csv"})}).
		node("LoopComponent-l", "", nil).
		node("ParserComponent-body", "", map[string]any{"pattern": "{name}"}).
		node("CombineText-c", "", nil).
		node("ParserComponent-out", "", map[string]any{"pattern": "{text}", "sep": "|"}).
		edge("File-f", "dataframe", "LoopComponent-l", "data").
		edge("LoopComponent-l", "item", "ParserComponent-body", "input_data").
		edge("ParserComponent-body", "parsed_text", "CombineText-c", "text1").
		loopEdge("CombineText-c", "combined_text", "LoopComponent-l", "item").
		edge("LoopComponent-l", "done", "ParserComponent-out", "input_data")
	return feed(f).bytes()
}

func TestLoopComponent_BodyFedFromOutside(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{"7/people.csv": {owner: 7, content: "name\nAnn\nBob\n"}}}
	h := newHarnessWith(t, func(e *engine.Env) { e.Files = files }, LoopComponent{}, File{})

	data := outsideFlow(h, t, func(f *flowBuilder) *flowBuilder {
		return f.node("TextInput-t", "", map[string]any{"input_value": "!"}).edge("TextInput-t", "text", "CombineText-c", "text2")
	})
	res, _ := h.run(t, data, engine.RunInput{})
	assert.Equal(t, "Ann !|Bob !", outText(t, res, "ParserComponent-out", "parsed_text"),
		"the loop waits for what feeds its body from outside")
	// With one vertex building at a time the waiting loop gives its slot
	// to what it waits for.
	one := *h
	one.eng = engine.New(h.reg, engine.Limits{Parallelism: 1})
	res, _ = one.runCtx(t.Context(), t, data, engine.RunInput{})
	require.NoError(t, res.Err)
	assert.Equal(t, "Ann !|Bob !", outText(t, res, "ParserComponent-out", "parsed_text"), "parallelism 1")

	data = outsideFlow(h, t, func(f *flowBuilder) *flowBuilder {
		return f.node("ParserComponent-bad", "", nil).edge("ParserComponent-bad", "parsed_text", "CombineText-c", "text2")
	})
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Contains(t, failure(t, res, "LoopComponent-l"), "its body needs ParserComponent-bad, which does not build in this run")

	data = outsideFlow(h, t, func(f *flowBuilder) *flowBuilder {
		return f.node("ParserComponent-after", "", map[string]any{"pattern": "{text}"}).
			edge("LoopComponent-l", "done", "ParserComponent-after", "input_data").
			edge("ParserComponent-after", "parsed_text", "CombineText-c", "text2")
	})
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Contains(t, failure(t, res, "LoopComponent-l"), "its body needs ParserComponent-after, which comes after the loop")
}
