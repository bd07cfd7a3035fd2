package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Build is a component's view of one build of its vertex: its resolved
// parameters, the outputs wanted, and what it may do in the run (send
// messages, stream tokens, switch a branch off).
type Build struct {
	Vertex *Vertex
	run    *run
	res    *VertexResult
	params map[string]Value
	wants  []string
	// fromServer are the parameters whose value the server's environment
	// gave (a secret field's variable).
	fromServer map[string]bool
	// asTool marks the build of a component an agent runs as a tool: its
	// messages are neither recorded nor reported.
	asTool bool
}

// newBuild resolves v's parameters for this run (§11.2 of the runtime
// reference) and the outputs to compute: those with outgoing edges, or
// all of them when none has.
func (r *run) newBuild(ctx context.Context, v *Vertex, res *VertexResult) (*Build, error) {
	params, fromServer, err := r.staticParams(ctx, v)
	if err != nil {
		return nil, err
	}
	fed := map[string]bool{}
	for _, e := range v.In {
		if !e.LoopBack {
			fed[e.TargetField] = true
			delete(fromServer, e.TargetField)
		}
	}
	if _, has := v.Template["session_id"]; has && !fed["session_id"] {
		if s, _ := params["session_id"].(string); s == "" || r.in.SessionOverride {
			params["session_id"] = r.in.Session
		}
	}
	if v.IsInput && r.in.InputValue != nil && r.takesInput(v) {
		params["input_value"] = *r.in.InputValue
		if v.Spec.ChatInput && r.in.Files != nil {
			params["files"] = slices.Clone(r.in.Files)
		}
	}
	r.mu.Lock()
	for _, e := range v.In {
		if e.LoopBack {
			continue
		}
		src := r.results[e.Source]
		var val Value
		if src != nil {
			val = src.Outputs[e.SourceOutput]
		}
		if r.isList(v, e.TargetField) {
			list, _ := params[e.TargetField].([]Value)
			params[e.TargetField] = append(list, val)
		} else {
			params[e.TargetField] = val
		}
	}
	r.mu.Unlock()
	for _, f := range v.Spec.Fields {
		if _, ok := params[f.Name]; !ok && f.Default != nil {
			params[f.Name] = f.Default
		}
	}
	b := &Build{Vertex: v, run: r, res: res, params: params, fromServer: fromServer}
	for _, e := range v.Out {
		if !slices.Contains(b.wants, e.SourceOutput) {
			b.wants = append(b.wants, e.SourceOutput)
		}
	}
	if len(b.wants) == 0 {
		for _, o := range v.Spec.Outputs {
			b.wants = append(b.wants, o.Name)
		}
	}
	return b, nil
}

// takesInput reports whether input vertex v receives the run's input
// value: Langflow matches the input type as a substring of the
// lower-cased vertex id ("any" matches all), and the input components,
// when given, by id or display name.
func (r *run) takesInput(v *Vertex) bool {
	if t := r.in.InputType; t != "any" && !strings.Contains(strings.ToLower(v.ID), t) {
		return false
	}
	return len(r.in.InputComponents) == 0 || slices.Contains(r.in.InputComponents, v.ID) ||
		slices.Contains(r.in.InputComponents, v.DisplayName)
}

func (r *run) isList(v *Vertex, field string) bool {
	if f, ok := v.Template[field]; ok && f.List {
		return true
	}
	f, ok := v.Spec.Field(field)
	return ok && f.List
}

// Param returns parameter name as resolved (nil, false when absent).
func (b *Build) Param(name string) (Value, bool) {
	v, ok := b.params[name]
	return v, ok && v != nil
}

// Str returns parameter name as text (a connected message's text), ""
// when absent: Langflow's MessageTextInput coercion.
func (b *Build) Str(name string) string {
	v, _ := b.Param(name)
	return Text(v)
}

// Message returns parameter name as a message (text becomes a message;
// an absent one is an empty message): Langflow's MessageInput coercion.
func (b *Build) Message(name string) *Message {
	v, _ := b.Param(name)
	return AsMessage(v)
}

// Bool returns parameter name as a boolean (false when absent).
func (b *Build) Bool(name string) bool {
	v, _ := b.Param(name)
	return Truthy(v)
}

// Int returns parameter name as an integer; ok is false when it is absent
// or not a number.
func (b *Build) Int(name string) (int64, bool) {
	v, ok := b.Param(name)
	if !ok {
		return 0, false
	}
	return toInt(v)
}

// Float returns parameter name as a number; ok is false when it is absent
// or not a number.
func (b *Build) Float(name string) (float64, bool) {
	v, ok := b.Param(name)
	if !ok {
		return 0, false
	}
	return toFloat(v)
}

// Params returns every parameter (a Prompt's variables are the ones its
// spec does not declare).
func (b *Build) Params() map[string]Value { return b.params }

// Wants reports whether output name is to be computed.
func (b *Build) Wants(name string) bool { return slices.Contains(b.wants, name) }

// Set sets the value of output name.
func (b *Build) Set(name string, v Value) { b.res.Outputs[name] = v }

// SetStatus sets what the component reports as its status.
func (b *Build) SetStatus(v Value) { b.res.Status = v }

// Session returns the session the vertex works in: its session_id
// parameter, else the run's.
func (b *Build) Session() string {
	if s := b.Str("session_id"); s != "" {
		return s
	}
	return b.run.in.Session
}

// Run returns the run this build belongs to.
func (b *Build) Run() RunInfo { return b.run.info }

// Variable resolves the secret variable name the way a secret
// load_from_db field is resolved: the request's variables
// (X-LANGFLOW-GLOBAL-VAR-* headers), then the Variables port, then — when
// the engine allows it — the process environment; fromServer tells a
// value the environment gave. An unknown variable is an
// *ErrVariableNotFound. Model components use it for their provider's key
// variable (OPENAI_API_KEY …) when their api_key field is empty.
func (b *Build) Variable(ctx context.Context, name string) (value string, fromServer bool, err error) {
	return b.run.variable(ctx, name, true)
}

// ParamFromServer reports whether parameter name holds a secret of the
// server's own, read from its environment: a component sends it only to
// endpoints the operator configured, never to one a flow names.
func (b *Build) ParamFromServer(name string) bool { return b.fromServer[name] }

// AsTool reports whether the component runs as an agent's tool.
func (b *Build) AsTool() bool { return b.asTool }

// Graph returns the graph the run builds.
func (b *Build) Graph() *Graph { return b.run.g }

// Env returns the run's ports.
func (b *Build) Env() *Env { return &b.run.env }

// Emit reports an event of this build (build_start and build_end of a
// component run as a tool …).
func (b *Build) Emit(ev Event) { b.run.emit(ev) }

// NextTo reports whether a vertex whose id contains s is joined to this
// one by an edge, either way (Langflow's test for streaming to a chat
// output and for sending messages).
func (b *Build) NextTo(s string) bool {
	for _, e := range b.Vertex.In {
		if strings.Contains(e.Source, s) {
			return true
		}
	}
	for _, e := range b.Vertex.Out {
		if strings.Contains(e.Target, s) {
			return true
		}
	}
	return false
}

// Source returns the vertex of the first edge into field (nil if none).
func (b *Build) Source(field string) *Vertex {
	for _, e := range b.Vertex.In {
		if e.TargetField == field {
			v, _ := b.run.g.Vertex(e.Source)
			return v
		}
	}
	return nil
}

// State returns the run's state under key for this vertex (a router's
// iteration count …); Store sets it.
func (b *Build) State(key string) (any, bool) {
	return b.run.graphData.Load(b.Vertex.ID + "_" + key)
}

// StoreState sets the run's state under key for this vertex.
func (b *Build) StoreState(key string, v any) { b.run.graphData.Store(b.Vertex.ID+"_"+key, v) }

// Stop switches off the branch of output: every vertex reached through
// the edges leaving that output, and everything below them. They do not
// build in this run and are reported as inactivated.
func (b *Build) Stop(output string) {
	seen := map[string]bool{}
	var stack []string
	for _, e := range b.Vertex.Out {
		if e.SourceOutput == output && !e.LoopBack && !seen[e.Target] {
			seen[e.Target] = true
			stack = append(stack, e.Target)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !slices.Contains(b.res.Inactivated, id) {
			b.res.Inactivated = append(b.res.Inactivated, id)
		}
		v, _ := b.run.g.Vertex(id)
		for _, t := range targets(v.Out) {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
}

// sends reports whether a message of this vertex reaches the playground:
// Langflow sends only from input and output vertices and from the
// neighbours of a chat output.
func (b *Build) sends(m *Message) bool {
	if b.asTool {
		return false
	}
	return m.Error || b.Vertex.IsInput || b.Vertex.IsOutput || b.NextTo("ChatOutput")
}

// fill gives m the run's defaults: session, sender, flow.
func (b *Build) fill(m *Message) {
	if m.SessionID == "" {
		m.SessionID = b.Session()
	}
	if m.Sender == "" {
		m.Sender = SenderMachine
	}
	if m.SenderName == "" {
		m.SenderName = SenderNameMachine
	}
	if m.FlowID == "" {
		m.FlowID = b.run.in.FlowID
	}
	if m.Category == "" {
		m.Category = "message"
	}
	if m.Properties.State == "" {
		m.Properties.State = "complete"
	}
}

// Send records m (a message of this component: Langflow's send_message)
// and reports it as add_message; it returns the message as recorded. A
// message that already has an id is updated. Messages of vertices that do
// not reach the playground are returned unrecorded.
func (b *Build) Send(ctx context.Context, m *Message) (*Message, error) {
	if !b.sends(m) {
		return m, nil
	}
	b.fill(m)
	stored, err := b.store(ctx, m)
	if err != nil {
		return nil, err
	}
	b.res.Messages = append(b.res.Messages, stored)
	if stored.Error {
		b.run.emit(ErrorRaised{Message: stored})
	} else {
		b.run.emit(MessageAdded{Message: stored})
	}
	return stored, nil
}

func (b *Build) store(ctx context.Context, m *Message) (*Message, error) {
	if b.run.env.Recorder == nil {
		return m, nil
	}
	stored, err := b.run.env.Recorder.StoreMessage(ctx, b.run.info, m)
	if err != nil {
		return nil, fmt.Errorf("record the message: %w", err)
	}
	return stored, nil
}

// SendStream records m as a message being written (state "partial"),
// then streams its text: produce calls its argument with each chunk; the
// first is reported with add_message, every one with token; at the end
// the message is updated with the whole text (state "complete") and
// returned. Tokens are live only: what is recorded is the final text.
func (b *Build) SendStream(ctx context.Context, m *Message, produce func(onChunk func(string) error) (string, error)) (*Message, error) {
	if b.asTool {
		full, err := produce(func(string) error { return ctx.Err() })
		if err != nil {
			return nil, err
		}
		if full != "" {
			m.Text = full
		}
		b.fill(m)
		return m, nil
	}
	b.fill(m)
	m.Properties.State = "partial"
	text := m.Text
	m.Text = ""
	stored, err := b.store(ctx, m)
	if err != nil {
		return nil, err
	}
	first := true
	full, err := produce(func(chunk string) error {
		if first {
			first = false
			head := stored.Clone()
			head.Text = chunk
			b.run.emit(MessageAdded{Message: head})
		}
		b.run.emit(Token{Chunk: chunk, ID: stored.ID})
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	if full == "" {
		full = text
	}
	final := stored.Clone()
	final.Text = full
	final.Properties.State = "complete"
	final, err = b.store(ctx, final)
	if err != nil {
		return nil, err
	}
	b.res.Messages = append(b.res.Messages, final)
	return final, nil
}

// LiveMessage is a message a component shows while it writes it (an
// agent's steps and answer): recorded once when begun (state "partial"),
// shown again as it changes (add_message events, not recorded: Langflow's
// skip_db_update), streamed into (token events), and recorded complete at
// the end. For a vertex whose messages do not reach the playground, and
// for a component run as a tool, nothing is recorded or reported.
type LiveMessage struct {
	b      *Build
	on     bool
	stored *Message
}

// Begin records m as a message being written and reports it.
func (b *Build) Begin(ctx context.Context, m *Message) (*LiveMessage, error) {
	l := &LiveMessage{b: b}
	b.fill(m)
	m.Properties.State = "partial"
	if !b.sends(m) {
		return l, nil
	}
	stored, err := b.store(ctx, m)
	if err != nil {
		return nil, err
	}
	l.on, l.stored = true, stored
	b.run.emit(MessageAdded{Message: stored.Clone()})
	return l, nil
}

// Live reports whether the message is recorded and reported.
func (l *LiveMessage) Live() bool { return l.on }

// ID returns the message's id ("" when it is not recorded).
func (l *LiveMessage) ID() string {
	if !l.on {
		return ""
	}
	return l.stored.ID
}

// own gives m the recorded message's identity.
func (l *LiveMessage) own(m *Message) *Message {
	c := m.Clone()
	l.b.fill(c)
	if l.on {
		c.ID, c.Timestamp, c.FlowID, c.SessionID = l.stored.ID, l.stored.Timestamp, l.stored.FlowID, l.stored.SessionID
	}
	return c
}

// Show reports m, the message as it now is (state "partial" unless set),
// without recording it. m must not change afterwards: events are read
// later.
func (l *LiveMessage) Show(m *Message) {
	if !l.on {
		return
	}
	c := l.own(m)
	if m.Properties.State == "" {
		c.Properties.State = "partial"
	}
	l.b.run.emit(MessageAdded{Message: c})
}

// Token reports a chunk of the message's text.
func (l *LiveMessage) Token(chunk string) {
	if l.on && chunk != "" {
		l.b.run.emit(Token{Chunk: chunk, ID: l.stored.ID})
	}
}

// Remove withdraws the message (a failed agent's): the recorder removes
// it when it can, and remove_message reports it.
func (l *LiveMessage) Remove(ctx context.Context) error {
	if !l.on {
		return nil
	}
	l.on = false
	if rm, ok := l.b.run.env.Recorder.(MessageRemover); ok {
		if err := rm.RemoveMessage(ctx, l.b.run.info, l.stored); err != nil {
			return err
		}
	}
	l.b.run.emit(MessageRemoved{ID: l.stored.ID})
	return nil
}

// Finish records m as the message's final state (state "complete"),
// reports it and returns it as recorded (unrecorded when the message is
// not live).
func (l *LiveMessage) Finish(ctx context.Context, m *Message) (*Message, error) {
	c := l.own(m)
	c.Properties.State = "complete"
	if !l.on {
		return c, nil
	}
	stored, err := l.b.store(ctx, c)
	if err != nil {
		return nil, err
	}
	l.b.res.Messages = append(l.b.res.Messages, stored)
	l.b.run.emit(MessageAdded{Message: stored.Clone()})
	return stored, nil
}
