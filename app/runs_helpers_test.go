package app_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine"
)

// The build API's test bench: components that stand in for the native
// ones (which live in engine/components; golden tests with them come once
// both are merged), flows made of them, an App serving the Runs module,
// and readers of the events.

var updateGolden = flag.Bool("update-golden", false, "rewrite the build API's golden files (app/testdata/build)")

// rtClock is the pinned clock of the golden runs.
var rtClock = time.Date(2025, 12, 1, 10, 0, 0, 123456000, time.UTC)

// Components.

// rtChatIn is a ChatInput: it sends the input as the user's message.
type rtChatIn struct{}

func (rtChatIn) Spec() *engine.Spec {
	return &engine.Spec{Type: "ChatInput", DisplayName: "Chat Input", IsInput: true, ChatInput: true,
		Fields: []engine.FieldSpec{{Name: "input_value", Type: "str"}, {Name: "session_id", Type: "str"},
			{Name: "sender", Type: "str", Default: engine.SenderUser}, {Name: "sender_name", Type: "str", Default: engine.SenderNameUser}},
		Outputs: []engine.OutputSpec{{Name: "message", Types: []string{"Message"}}}}
}

func (rtChatIn) Build(ctx context.Context, b *engine.Build) error {
	m := engine.NewMessage(b.Str("input_value"))
	m.Sender, m.SenderName, m.SessionID = b.Str("sender"), b.Str("sender_name"), b.Session()
	if v, ok := b.Param("files"); ok {
		for _, f := range v.([]string) {
			m.Files = append(m.Files, f)
		}
	}
	sent, err := b.Send(ctx, m)
	if err != nil {
		return err
	}
	b.Set("message", sent)
	return nil
}

// rtPrompt is a Prompt: its template with {input} replaced.
type rtPrompt struct{}

func (rtPrompt) Spec() *engine.Spec {
	return &engine.Spec{Type: "Prompt", DisplayName: "Prompt",
		Fields: []engine.FieldSpec{{Name: "template", Type: "prompt"},
			{Name: "input", Type: "str", Input: "MessageTextInput", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "prompt", Types: []string{"Message"}}}}
}

func (rtPrompt) Build(_ context.Context, b *engine.Build) error {
	b.Set("prompt", engine.NewMessage(strings.ReplaceAll(b.Str("template"), "{input}", b.Str("input"))))
	return nil
}

// rtModel is an instant model: "echo: <input>"; with stream=true next to
// a chat output it streams its answer word by word (add_message, then a
// token per chunk); with pause=true too it waits after the first chunk
// until its vertex's gate opens.
type rtModel struct{ gate *rtGate }

func (rtModel) Spec() *engine.Spec {
	return &engine.Spec{Type: "TModel", DisplayName: "Test Model",
		Fields: []engine.FieldSpec{{Name: "input_value", Type: "str", Input: "MessageTextInput", InputTypes: []string{"Message"}},
			{Name: "stream", Type: "bool"}, {Name: "pause", Type: "bool"}},
		Outputs: []engine.OutputSpec{{Name: "text_output", Types: []string{"Message"}}}}
}

func (mod rtModel) Build(ctx context.Context, b *engine.Build) error {
	answer := "echo: " + b.Str("input_value")
	if !b.Bool("stream") || !b.NextTo("ChatOutput") {
		b.Set("text_output", engine.NewMessage(answer))
		return nil
	}
	m := engine.NewMessage("")
	src := engine.SourceOf(b.Vertex.ID, "Test Model", "test-model")
	m.Properties.Source = src
	sent, err := b.SendStream(ctx, m, func(onChunk func(string) error) (string, error) {
		words := strings.SplitAfter(answer, " ")
		for i, w := range words {
			if err := onChunk(w); err != nil {
				return "", err
			}
			if i == 0 && b.Bool("pause") {
				release := mod.gate.gate(b.Vertex.ID)
				mod.gate.started <- b.Vertex.ID
				select {
				case <-release:
				case <-ctx.Done():
					return "", context.Cause(ctx)
				}
			}
		}
		return answer, nil
	})
	if err != nil {
		return err
	}
	b.Set("text_output", sent)
	return nil
}

// rtChatOut is a ChatOutput: it sends its input as the machine's message
// (updating a streamed one in place).
type rtChatOut struct{}

func (rtChatOut) Spec() *engine.Spec {
	return &engine.Spec{Type: "ChatOutput", DisplayName: "Chat Output", IsOutput: true,
		Fields: []engine.FieldSpec{{Name: "input_value", Type: "other", Input: "HandleInput", InputTypes: []string{"Message"}},
			{Name: "session_id", Type: "str"}},
		Outputs: []engine.OutputSpec{{Name: "message", Types: []string{"Message"}}}}
}

func (rtChatOut) Build(ctx context.Context, b *engine.Build) error {
	in, _ := b.Param("input_value")
	var m *engine.Message
	if x, ok := in.(*engine.Message); ok && x.ID != "" && !b.NextTo("ChatInput") {
		m = x.Clone()
	} else {
		m = engine.NewMessage(engine.Text(in))
	}
	m.Sender, m.SenderName, m.SessionID = engine.SenderMachine, engine.SenderNameMachine, b.Session()
	if src := b.Source("input_value"); src != nil {
		name := src.Spec.DisplayName
		m.Properties.Source = engine.SourceOf(src.ID, name, name)
	}
	sent, err := b.Send(ctx, m)
	if err != nil {
		return err
	}
	b.Set("message", sent)
	return nil
}

// rtFail fails.
type rtFail struct{}

func (rtFail) Spec() *engine.Spec {
	return &engine.Spec{Type: "TFail", DisplayName: "Failer",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (rtFail) Build(context.Context, *engine.Build) error { return errors.New("boom") }

// rtErr sends an error message, then fails.
type rtErr struct{}

func (rtErr) Spec() *engine.Spec {
	return &engine.Spec{Type: "TError", DisplayName: "Complainer",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (rtErr) Build(ctx context.Context, b *engine.Build) error {
	m := engine.NewMessage("it went wrong\n")
	red, icon := "red", "error"
	m.Error, m.Category = true, "error"
	m.Sender, m.SenderName = "Complainer", "Complainer"
	m.Properties.TextColor, m.Properties.BackgroundColor, m.Properties.Icon = &red, &red, &icon
	m.Properties.Source = engine.SourceOf(b.Vertex.ID, "Complainer", "Complainer")
	m.ContentBlocks = []engine.ContentBlock{{Title: "Error", AllowMarkdown: true, Contents: []map[string]any{{"type": "error",
		"reason": "**ValueError**\n - **Details: it went wrong**\n"}}}}
	if _, err := b.Send(ctx, m); err != nil {
		return err
	}
	return errors.New("it went wrong")
}

// rtTool builds as a tool would: build_start, build_end, then its output.
type rtTool struct{}

func (rtTool) Spec() *engine.Spec {
	return &engine.Spec{Type: "TTool", DisplayName: "Tool",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (rtTool) Build(_ context.Context, b *engine.Build) error {
	b.Emit(engine.BuildStarted{ID: b.Vertex.ID})
	b.Emit(engine.BuildEnded{ID: b.Vertex.ID})
	b.Set("out", engine.NewMessage("tool: "+b.Str("input_value")))
	return nil
}

// rtGate blocks until its vertex is opened (or the run is cancelled):
// started gets the vertex id when it starts.
type rtGate struct {
	started chan string
	mu      sync.Mutex
	gates   map[string]chan struct{}
}

func newGate() *rtGate {
	return &rtGate{started: make(chan string, 100), gates: map[string]chan struct{}{}}
}

func (g *rtGate) gate(id string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates[id] == nil {
		g.gates[id] = make(chan struct{})
	}
	return g.gates[id]
}

// open lets the builds of vertex id through.
func (g *rtGate) open(id string) { close(g.gate(id)) }

// waitStarted waits until vertex id started building.
func (g *rtGate) waitStarted(t testing.TB, id string) {
	t.Helper()
	for {
		select {
		case got := <-g.started:
			if got == id {
				return
			}
		case <-time.After(10 * time.Second):
			require.FailNow(t, "the gate did not start", id)
		}
	}
}

func (*rtGate) Spec() *engine.Spec {
	return &engine.Spec{Type: "TGate", DisplayName: "Gate",
		Fields:  []engine.FieldSpec{{Name: "input_value", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "out", Types: []string{"Message"}}}}
}

func (g *rtGate) Build(ctx context.Context, b *engine.Build) error {
	release := g.gate(b.Vertex.ID)
	g.started <- b.Vertex.ID
	select {
	case <-release:
		b.Set("out", engine.NewMessage("opened "+b.Vertex.ID))
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// rtGated is ChatInput → gate (vertex id gate) → ChatOutput.
func rtGated(gate string) map[string]any {
	return rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node(gate+":TGate", nil), node("ChatOutput-DDDDD:ChatOutput", nil)},
		"ChatInput-AAAAA.message>"+gate+".input_value", gate+".out>ChatOutput-DDDDD.input_value")
}

// rtRoute sends its input down "yes" when it contains "y", else "no".
type rtRoute struct{}

func (rtRoute) Spec() *engine.Spec {
	return &engine.Spec{Type: "TRoute", DisplayName: "Router",
		Fields: []engine.FieldSpec{{Name: "input_value", Type: "other", InputTypes: []string{"Message"}}},
		Outputs: []engine.OutputSpec{{Name: "yes", Types: []string{"Message"}, GroupOutputs: true},
			{Name: "no", Types: []string{"Message"}, GroupOutputs: true}}}
}

func (rtRoute) Build(_ context.Context, b *engine.Build) error {
	in := b.Str("input_value")
	taken, other := "no", "yes"
	if strings.Contains(in, "y") {
		taken, other = "yes", "no"
	}
	b.Set(taken, engine.NewMessage(in))
	b.Stop(other)
	return nil
}

// rtComponents are the components of the bench, with gate.
func rtComponents(gate *rtGate) []engine.Component {
	return []engine.Component{rtChatIn{}, rtPrompt{}, rtModel{gate: gate}, rtChatOut{}, rtFail{}, rtErr{}, rtTool{}, gate, rtRoute{}}
}

// Flows.

// rtNode is a node "id:Type" with field values.
type rtNode struct {
	id, typ string
	vals    map[string]any
}

func node(spec string, vals map[string]any) rtNode {
	id, typ, _ := strings.Cut(spec, ":")
	return rtNode{id: id, typ: typ, vals: vals}
}

// rtFlowData writes a flow's data as Langflow stores it: nodes with
// their templates (fields of the values given) and outputs, and edges
// "src.output>tgt.field" with dict handles.
func rtFlowData(nodes []rtNode, edges ...string) map[string]any {
	ns, es := []any{}, []any{}
	types := map[string]string{}
	for _, n := range nodes {
		types[n.id] = n.typ
		tpl := map[string]any{"_type": "Component", "code": map[string]any{"type": "code", "value": "class X(Component): pass"}}
		for k, v := range n.vals {
			typ := "str"
			switch v.(type) {
			case bool:
				typ = "bool"
			}
			if k == "template" {
				typ = "prompt"
			}
			tpl[k] = map[string]any{"type": typ, "value": v, "show": true}
		}
		ns = append(ns, map[string]any{"id": n.id, "type": "genericNode", "position": map[string]any{"x": 0, "y": 0},
			"data": map[string]any{"id": n.id, "type": n.typ, "node": map[string]any{"display_name": n.id, "template": tpl}}})
	}
	ns = append(ns, map[string]any{"id": "note-1", "type": "noteNode", "data": map[string]any{"id": "note-1", "type": "note",
		"node": map[string]any{"description": "a note", "template": map[string]any{}}}})
	for _, e := range edges {
		src, tgt, _ := strings.Cut(e, ">")
		sid, out, _ := strings.Cut(src, ".")
		tid, field, _ := strings.Cut(tgt, ".")
		es = append(es, map[string]any{"source": sid, "target": tid, "id": "xy-edge__" + sid + "-" + tid, "data": map[string]any{
			"sourceHandle": map[string]any{"dataType": types[sid], "id": sid, "name": out, "output_types": []string{"Message"}},
			"targetHandle": map[string]any{"fieldName": field, "id": tid, "inputTypes": []string{"Message"}, "type": "str"}}})
	}
	return map[string]any{"nodes": ns, "edges": es, "viewport": map[string]any{"x": 0, "y": 0, "zoom": 1}}
}

// rtBasic is ChatInput → Prompt → model → ChatOutput.
func rtBasic(stream bool) map[string]any {
	return rtFlowData([]rtNode{
		node("ChatInput-AAAAA:ChatInput", nil),
		node("Prompt-BBBBB:Prompt", map[string]any{"template": "Answer: {input}"}),
		node("TModel-CCCCC:TModel", map[string]any{"stream": stream}),
		node("ChatOutput-DDDDD:ChatOutput", nil),
	}, "ChatInput-AAAAA.message>Prompt-BBBBB.input", "Prompt-BBBBB.prompt>TModel-CCCCC.input_value",
		"TModel-CCCCC.text_output>ChatOutput-DDDDD.input_value")
}

// The served App.

const (
	rtRoot     = "rtroot"
	rtPassword = "rt-password-1"
)

// rtServer is an App with the Runs module over the bench's components.
type rtServer struct {
	*harness
	gate *rtGate
	runs *app.Runs
	root caller
}

// rtModules are the modules of a runs App (a fresh Runs of comps).
func rtModules(runs *app.Runs) []app.Module {
	return []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Businesses{}, app.Permissions{},
		app.TenantGrants{}, app.Messages{}, runs, &app.Audit{}}
}

// rtStart serves a runs App (env added to the defaults); a pinned clock
// when pinned.
func rtStart(t testing.TB, pinned bool, env map[string]string, dbURL string) *rtServer {
	t.Helper()
	gate := newGate()
	runs := &app.Runs{Components: rtComponents(gate)}
	if pinned {
		runs.Clock = func() time.Time { return rtClock }
	}
	e := adminEnv(rtRoot, rtPassword)
	for k, v := range env {
		e[k] = v
	}
	h := startApp(t, options{env: e, modules: rtModules(runs), dbURL: dbURL})
	return &rtServer{harness: h, gate: gate, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
}

// flow creates a flow of token with data (and more fields).
func (s *rtServer) flow(t testing.TB, token string, data map[string]any, more map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "run flow " + uuid.NewString()[:8], "data": data}
	for k, v := range more {
		body[k] = v
	}
	return s.createFlow(t, token, body)["id"].(string)
}

// build posts a build of flow as token and returns the answer.
func (s *rtServer) build(t testing.TB, token, flow, query string, body any) reply {
	t.Helper()
	path := "/api/v1/build/" + flow + "/flow"
	if query != "" {
		path += "?" + query
	}
	return s.call(t, http.MethodPost, path, body, token)
}

// job starts a build and returns its job id.
func (s *rtServer) job(t testing.TB, token, flow string, body any) string {
	t.Helper()
	r := s.build(t, token, flow, "", body)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	id, _ := r.obj(t)["job_id"].(string)
	require.NotEmpty(t, id, r.raw)
	return id
}

// events reads a job's events (streaming, the default) to their end.
func (s *rtServer) events(t testing.TB, token, job, delivery string) reply {
	t.Helper()
	path := "/api/v1/build/" + job + "/events"
	if delivery != "" {
		path += "?event_delivery=" + delivery
	}
	return s.call(t, http.MethodGet, path, nil, token)
}

// inputs is a build body with an input value and a session.
func inputs(value, session string) map[string]any {
	in := map[string]any{"input_value": value}
	if session != "" {
		in["session"] = session
	}
	return map[string]any{"inputs": in}
}

// frameRE matches one frame of the build API.
var frameRE = regexp.MustCompile(`^\{"event": "([a-z_]+)", "data": .*\}$`)

// frames splits an events body into its frames (each ends in "\n\n");
// a malformed body fails the test.
func frames(t testing.TB, body string) []string {
	t.Helper()
	if body == "" {
		return nil
	}
	require.True(t, strings.HasSuffix(body, "\n\n"), "frames end in a blank line: %q", body)
	var out []string
	for _, f := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		f = strings.TrimPrefix(f, "\n") // polling joins frames with "\n"
		require.Regexp(t, frameRE, f)
		out = append(out, f)
	}
	return out
}

// names are the event names of frames.
func names(t testing.TB, fs []string) []string {
	t.Helper()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = frameRE.FindStringSubmatch(f)[1]
	}
	return out
}

// golden compares got with testdata/build/<name>.golden, with the ids
// that change from run to run named by placeholders.
func golden(t *testing.T, name, got string, ids map[string]string) {
	t.Helper()
	for placeholder, id := range ids {
		if id != "" {
			got = strings.ReplaceAll(got, id, placeholder)
		}
	}
	path := filepath.Join("testdata", "build", name+".golden")
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update-golden to write %s", path)
	require.Equal(t, string(want), got, "golden %s", path)
}

// streamLines opens a job's streaming events and returns a channel of
// its frames as they come (closed at the end of the body) and a function
// that closes the connection.
func (s *rtServer) streamLines(t testing.TB, path string, header http.Header) (<-chan string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := make(chan string, 100)
	var once sync.Once
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if line := sc.Text(); line != "" {
				out <- line
			}
		}
	}()
	return out, func() { once.Do(cancel) }
}

// gatedJob runs a gated flow (rtGated(gate)) as the superuser, waits
// until the gate started, and opens the job's stream (its first frame
// read): the job id, the stream and the function that closes it.
func (s *rtServer) gatedJob(t testing.TB, gate string) (string, <-chan string, func()) {
	t.Helper()
	flow := s.flow(t, s.root.token, rtGated(gate), nil)
	job := s.job(t, s.root.token, flow, inputs("hi", ""))
	s.gate.waitStarted(t, gate)
	ch, closeStream := s.streamLines(t, "/api/v1/build/"+job+"/events", bearer(s.root.token))
	require.Contains(t, next(t, ch), `"event": "vertices_sorted"`)
	return job, ch, closeStream
}

// next waits for the next frame of ch (failing after 10 s).
func next(t testing.TB, ch <-chan string) string {
	t.Helper()
	select {
	case f, ok := <-ch:
		require.True(t, ok, "the stream ended")
		return f
	case <-time.After(10 * time.Second):
		require.FailNow(t, "no frame within 10 s")
	}
	return ""
}

func rtItoa(n int64) string { return fmt.Sprint(n) }
