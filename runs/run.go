package runs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The run API's use cases (runtime reference §2–§6): a flow run to its
// end as one request, by its API (/run, /run/advanced, webhooks, the
// OpenAI Responses API, workflow jobs). A run is a job like a build (the
// same recording, limits and cancellation) whose answer is Langflow's
// RunResponse instead of the build API's events.

// Which content of a flow a run runs.
const (
	// SourceDraft is the flow as it stands (its draft).
	SourceDraft = "draft"
	// SourceOnline is the flow's published online version.
	SourceOnline = "online"
	// SourceRelease is a version named by its version string.
	SourceRelease = "release"
)

// The doors of runs (RunStarted.API).
const (
	APIRun         = "run"
	APIRunAdvanced = "run_advanced"
	APIWebhook     = "webhook"
	APIResponses   = "responses"
	APIWorkflow    = "workflow"
	APIMCP         = "mcp"
)

// StartRun is the command of the run API: run a flow to its end.
type StartRun struct {
	// FlowID is the flow (Resolve finds it from an id or endpoint name);
	// Ref is how the request named it (for the texts of errors).
	FlowID uuid.UUID
	Ref    string
	// UserID is the caller, who must own the flow or hold flows.run where
	// it lives; with AsOwner the run runs as the flow's owner and the
	// caller was checked before (webhooks).
	UserID  int64
	AsOwner bool
	// Source is SourceDraft (default), SourceOnline or SourceRelease of
	// version Version.
	Source  string
	Version string
	// InputValue goes to the input vertices InputType selects (chat,
	// text or any; default chat), restricted to InputComponents (vertex
	// ids or display names) when given; nil: no input.
	InputValue      *string
	InputType       string
	InputComponents []string
	// OutputType (chat, text, any or debug; default chat) and
	// OutputComponent select the vertices answered, as /run does;
	// Outputs (vertex ids or display names) as /run/advanced does.
	OutputType      string
	OutputComponent string
	Outputs         []string
	Advanced        bool
	// Tweaks change fields for this run (engine.Tweaks).
	Tweaks engine.Tweaks
	// SessionID is the chat session (default: the flow id).
	SessionID string
	// Stream turns on the models' streaming (the "stream" global tweak)
	// and the stream of add_message, token and end frames (Job.Stream).
	Stream bool
	// Variables are the request's variables (X-LANGFLOW-GLOBAL-VAR-*).
	Variables map[string]string
	// API is the door (APIRun …); Background runs are recorded before
	// StartRun returns and wait for a slot instead of being refused.
	API        string
	Background bool
	// InputsRaw are the request's inputs as recorded (never its tweaks,
	// which may carry keys).
	InputsRaw json.RawMessage
	Metadata  eventstore.Metadata
	// Data, when not nil, is a graph to run instead of the flow's content
	// (Source is then ignored; the run is recorded with source "data"):
	// the agentic assistant's built-in flows run so, in the place of the
	// flow the caller works on, which the caller must be allowed to run.
	Data json.RawMessage
}

// Errors of the run API's use cases.
var (
	// ErrPermission is Langflow's 403 for a flow the caller may see but
	// not run.
	ErrPermission = domain.Forbiddenf("You do not have permission to run this flow")
)

// FlowNotFoundError is a flow a request named that does not exist (or
// that the caller may not see): 404 "Flow identifier <ref> not found".
type FlowNotFoundError struct{ Ref string }

func (e *FlowNotFoundError) Error() string { return "Flow identifier " + e.Ref + " not found" }

// TweakConflictError refuses a tweak that sets the input value of the
// input the request's input_value goes to (runtime reference §2.3.1):
// Input is "chat" or "text".
type TweakConflictError struct{ Input string }

func (e *TweakConflictError) Error() string {
	return "If you pass an input_value to the " + e.Input + " input, you cannot pass a tweak with the same name."
}

// checkTweaks returns a TweakConflictError for a simplified run whose
// tweaks set the input its input_value goes to.
func checkTweaks(cmd StartRun) error {
	if cmd.InputValue == nil || cmd.Advanced {
		return nil
	}
	for key, v := range cmd.Tweaks {
		fields, ok := v.(map[string]any)
		if _, sets := fields["input_value"]; !ok || !sets {
			continue
		}
		switch {
		case cmd.InputType == "chat" && (strings.Contains(key, "ChatInput") || strings.Contains(key, "Chat Input")):
			return &TweakConflictError{Input: "chat"}
		case cmd.InputType == "text" && (strings.Contains(key, "TextInput") || strings.Contains(key, "Text Input")):
			return &TweakConflictError{Input: "text"}
		}
	}
	return nil
}

// VersionNotFoundError is a version a run asked for that the flow lacks.
type VersionNotFoundError struct{ Detail string }

func (e *VersionNotFoundError) Error() string { return e.Detail }

// RunError is a run that failed: Detail is Langflow's message ("Error
// running graph: …").
type RunError struct {
	Detail string
	// Cancelled tells a run cancelled (by a stop, a client gone, the
	// server's shutdown) from one that failed; Invalid one whose flow
	// does not compile (a client's error, not the server's).
	Cancelled bool
	Invalid   bool
}

// FlowNoDataError is a flow without a graph: 404 "Flow <ref> has no data",
// as Langflow's advanced run says.
type FlowNoDataError struct{ Ref string }

func (e *FlowNoDataError) Error() string { return "Flow " + e.Ref + " has no data" }

func (e *RunError) Error() string { return e.Detail }

// Resolve returns the flow a request names: a UUID is an id (whether it
// exists is for StartRun to tell), anything else an endpoint name, looked
// up among the flows not deleted — the caller's own first, then the
// oldest — or among user's only when user is not nil (the ?user_id of
// Langflow's routes).
func (s *Service) Resolve(ctx context.Context, ref string, caller int64, user *int64) (uuid.UUID, error) {
	if id, err := uuid.Parse(ref); err == nil {
		return id, nil
	}
	if ref == "" || len(ref) > domain.MaxEndpointLength {
		return uuid.Nil, &FlowNotFoundError{Ref: ref}
	}
	id, ok, err := readapi.FlowIDByEndpoint(ctx, s.opts.Messages.Pool, ref, caller, user)
	switch {
	case err != nil:
		return uuid.Nil, err
	case !ok:
		return uuid.Nil, &FlowNotFoundError{Ref: ref}
	}
	return id, nil
}

// StartRun authorises the caller, records the run's start and runs it;
// Job.Result waits for its answer. A flow the caller may not see is
// not found (FlowNotFoundError), one it may see but not run is
// ErrPermission. A run asked for while the caller's runs fill their
// slots waits for one (until ctx ends); a background run waits in the
// background.
func (s *Service) StartRun(ctx context.Context, cmd StartRun) (*Job, error) {
	if err := checkTweaks(cmd); err != nil {
		return nil, err
	}
	ref := cmd.Ref
	if ref == "" {
		ref = cmd.FlowID.String()
	}
	var (
		fe  *flowEntry
		err error
	)
	if cmd.AsOwner {
		fe, err = s.existingFlow(ctx, cmd.FlowID, &FlowNotFoundError{Ref: ref})
	} else {
		fe, err = s.authorizedFlow(ctx, cmd.FlowID, cmd.UserID, &FlowNotFoundError{Ref: ref}, ErrPermission)
	}
	if err != nil {
		return nil, err
	}
	f := fe.flow
	place := monitored(cmd.FlowID, f)
	start := domain.RunStarted{FlowID: cmd.FlowID, RecordsFlowID: cmd.FlowID, FlowName: f.Content().Name, OwnerID: place.OwnerID,
		TenantID: place.TenantID, BusinessID: place.BusinessID, Inputs: cmd.InputsRaw, LogBuilds: true,
		Instance: s.opts.Instance, API: cmd.API, Background: cmd.Background, UserID: cmd.UserID, Session: cmd.SessionID}
	if cmd.AsOwner {
		start.UserID = f.UserID()
	}
	if start.Session == "" {
		start.Session = cmd.FlowID.String()
	}
	if err := domain.ValidSessionID("session_id", start.Session); err != nil {
		return nil, err
	}
	data, rev, err := s.content(ctx, fe, cmd)
	if err != nil {
		return nil, err
	}
	if cmd.Data != nil {
		data, cmd.Source = cmd.Data, "data"
	}
	if d := bytes.TrimSpace(data); len(d) == 0 || string(d) == "null" {
		return nil, &FlowNoDataError{Ref: ref}
	}
	start.Source, start.FlowRevision = cmd.Source, &rev
	if cmd.Data != nil {
		start.FlowRevision = nil
	}
	if start.Source == "" {
		start.Source = SourceDraft
	}
	if start.Source == SourceRelease {
		start.Version = cmd.Version
	} else if start.Source == SourceOnline {
		v, _ := f.Version(f.OnlineVersion())
		start.Version = v.Version
	}
	g, compileErr := s.compileRun(fe, data, rev, cmd, cmd.Data == nil)
	// The hash of what ran: the data, and the tweaks applied to it (the
	// flow's data is shared: never appended to).
	h := sha256.New()
	h.Write(data)
	if len(cmd.Tweaks) > 0 {
		if b, err := json.Marshal(cmd.Tweaks); err == nil {
			h.Write(b)
		}
	}
	start.GraphHash = hex.EncodeToString(h.Sum(nil))
	key := "run:" + fmt.Sprint(start.UserID)
	// A background run goes to the work queue when there is one: recorded
	// as queued here, run by a worker (Execute).
	// So does an MCP tool call on an api-only process (QueueCalls): its
	// caller waits for the run's end in the log (Job.Result).
	queued := (cmd.Background || cmd.API == APIMCP && s.opts.QueueCalls) && s.opts.Queue != nil
	start.Queued = queued
	if !cmd.Background && !queued {
		if err := s.acquire(ctx, key); err != nil {
			return nil, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		s.release(key)
		return nil, fmt.Errorf("run id: %w", err)
	}
	start.RunID = id
	if queued {
		// The task's outbox: the sealed command goes into the start (see
		// queued.go), so that a task whose publish was lost is published
		// again from the log.
		if start.Task, err = s.sealCommand(id, cmd); err != nil {
			s.log.Error("queue a run", "job_id", id, "error", err.Error())
			return nil, ErrQueueUnavailable
		}
	}
	build := StartBuild{FlowID: cmd.FlowID, UserID: start.UserID, Variables: cmd.Variables, Metadata: cmd.Metadata, LogBuilds: true}
	j := s.newJob(id, build, start, place, g, compileErr, key)
	j.api = &apiRun{cmd: cmd, done: make(chan struct{})}
	j.holdsSlot = !cmd.Background && !queued
	if cmd.Background || queued {
		// Recorded before it is answered: a background run is never lost
		// (a process that stops before it ends leaves it open, and the
		// next start closes it as interrupted).
		if err := j.begin(); err != nil {
			return nil, err
		}
	}
	if queued {
		return s.enqueue(ctx, j)
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		if j.holdsSlot {
			s.release(key)
		}
		if j.begun {
			j.close(domain.RunCancelled{Reason: domain.RunShutdown})
		}
		return nil, ErrStopping
	}
	s.jobs[id] = j
	s.jobsWG.Add(1)
	s.mu.Unlock()
	go j.run()
	return &Job{ID: id, j: j}, nil
}

// RunnableFlow returns flow id, which user must be allowed to run as
// StartRun checks it (its owner, or flows.run where it lives): a flow the
// user may not even read is a *FlowNotFoundError, one it reads but may not
// run ErrPermission.
func (s *Service) RunnableFlow(ctx context.Context, id uuid.UUID, user int64) (*domain.Flow, error) {
	fe, err := s.authorizedFlow(ctx, id, user, &FlowNotFoundError{Ref: id.String()}, ErrPermission)
	if err != nil {
		return nil, err
	}
	return fe.flow, nil
}

// monitored is where flow f lives, as the monitor records its runs.
func monitored(id uuid.UUID, f *domain.Flow) commands.MonitoredFlow {
	pl := f.Placement()
	return commands.MonitoredFlow{ID: id, OwnerID: f.UserID(), TenantID: pl.TenantID, BusinessID: pl.BusinessID,
		Public: f.Content().AccessType == domain.AccessPublic}
}

// content returns the data a run runs and the flow's revision it was
// folded at: the draft, the online version or a released one.
func (s *Service) content(ctx context.Context, fe *flowEntry, cmd StartRun) ([]byte, uint64, error) {
	f := fe.flow
	var v domain.FlowVersionRef
	switch cmd.Source {
	case "", SourceDraft:
		return f.Content().Data, fe.rev, nil
	case SourceOnline:
		var ok bool
		if v, ok = f.Version(f.OnlineVersion()); !ok || f.OnlineVersion() == 0 {
			return nil, 0, &VersionNotFoundError{Detail: "Flow " + cmd.Ref + " has no online version: publish a version first"}
		}
	case SourceRelease:
		var ok bool
		if v, ok = f.VersionByName(cmd.Version); !ok {
			return nil, 0, &VersionNotFoundError{Detail: fmt.Sprintf("Flow %s has no version %q", cmd.Ref, cmd.Version)}
		}
	default:
		return nil, 0, domain.Invalidf("unknown source %q", cmd.Source)
	}
	c, err := commands.FlowContentAt(ctx, s.opts.Messages.Repo, f.ID(), v.Revision)
	if err != nil {
		return nil, 0, err
	}
	return c.Data, v.Revision, nil
}

// compileRun returns the graph of a run of cmd: data (the flow's content
// at rev) with cmd's tweaks and its stream flag applied; shared is false
// for data that is not the flow's (the compiled graph is not kept).
func (s *Service) compileRun(fe *flowEntry, data []byte, rev uint64, cmd StartRun, shared bool) (*engine.Graph, error) {
	tweaks := cmd.Tweaks
	if _, given := tweaks["stream"]; !given {
		// Langflow always adds the request's stream flag as a global tweak.
		tweaks = make(engine.Tweaks, len(cmd.Tweaks)+1)
		for k, v := range cmd.Tweaks {
			tweaks[k] = v
		}
		tweaks["stream"] = cmd.Stream
	}
	return fe.compiled(s.opts.Engine, data, rev, tweaks, len(cmd.Tweaks) == 0 && shared)
}

// compiled returns the graph of data (the flow's content at rev) with
// tweaks applied; plain runs (no tweaks but the stream flag) share one
// compiled graph per revision and flag.
func (e *flowEntry) compiled(eng Engine, data []byte, rev uint64, tweaks engine.Tweaks, plain bool) (*engine.Graph, error) {
	if !plain {
		return eng.CompileTweaked(data, tweaks)
	}
	key := fmt.Sprintf("%d/%v", rev, tweaks["stream"])
	e.variantsMu.Lock()
	defer e.variantsMu.Unlock()
	if c, ok := e.variants[key]; ok {
		return c.g, c.err
	}
	g, err := eng.CompileTweaked(data, tweaks)
	if e.variants == nil {
		e.variants = map[string]compiledGraph{}
	}
	if len(e.variants) < 8 {
		e.variants[key] = compiledGraph{g, err}
	}
	return g, err
}

type compiledGraph struct {
	g   *engine.Graph
	err error
}

// apiRun is what a job of the run API keeps besides a build's: its
// command, whether it waits for a slot, and its answer once it ended.
type apiRun struct {
	cmd    StartRun
	done   chan struct{}
	result *RunOutput
	err    error
}

// RunOutput is a run's answer: Langflow's RunOutputs of its one input.
type RunOutput struct {
	// Session is the run's session id.
	Session string
	// Inputs are {"input_value": …} or {} (no input).
	Inputs obj
	// Outputs are the ResultData of the vertices answered.
	Outputs []obj
	// Results are the vertices answered, for the doors that read them
	// (the Responses API's text, workflow outputs).
	Results []*engine.VertexResult
	// Recorded is, for a run a worker ran (a queued MCP tool call), the
	// answer as its end recorded it (RunFinished.Result, the RunResponse):
	// Outputs and Results are then empty, and Texts reads it instead.
	Recorded json.RawMessage
}

// Result waits until a run of the run API ended and returns its answer,
// or a *RunError. The job keeps running when ctx ends first.
func (j *Job) Result(ctx context.Context) (*RunOutput, error) {
	if j.j.api == nil {
		return nil, errors.New("not a run of the run API")
	}
	if j.j.start.Queued && !j.j.worker {
		// A worker runs it: its answer is read from the log.
		return j.j.s.queuedResult(ctx, j.ID)
	}
	select {
	case <-j.j.api.done:
		return j.j.api.result, j.j.api.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Stream calls write with the run's frames (add_message, token, then
// end with the result, or error) as they come; see Events.Stream.
func (j *Job) Stream(ctx context.Context, write func([]byte) error) error {
	return j.j.feed.stream(ctx, write)
}

// Cancel cancels the run (a client gone, a stop).
func (j *Job) Cancel(reason string) { j.j.cancel(reason) }

// endAPI makes the answer of a run of the run API that ended with end,
// and returns the end to record (a workflow job's carries its result).
func (j *job) endAPI(res *engine.RunResult, end domain.Event) domain.Event {
	j.finishAPI(res, end)
	// A queued MCP tool call's caller waits in another process: it reads
	// the answer from the end (queuedResult).
	recordResult := j.api.cmd.API == APIWorkflow || j.api.cmd.API == APIMCP && j.start.Queued
	if fin, ok := end.(domain.RunFinished); ok && recordResult && j.api.result != nil {
		fin.Result = Compact(RunResponse(j.start.Session, j.api.result))
		end = fin
	}
	return end
}

// publish tells the run's caller its answer, once the run is recorded: a
// streaming one gets the end frame with the result, or an error frame
// (Langflow sends none; a client would not know the run failed).
func (a *apiRun) publish(f *feed) {
	if a.cmd.Stream {
		if a.err != nil {
			f.push(frame("error", pyDumps(obj{{"error", a.err.Error()}})))
		} else {
			f.push(frame("end", pyDumps(obj{{"result", RunResponse(a.result.Session, a.result)}})))
		}
	}
	close(a.done)
}

// finishAPI makes the run API's answer of a run that ended: its outputs,
// or its error; a streamed run's feed gets its end (or error) frame.
func (j *job) finishAPI(res *engine.RunResult, end domain.Event) {
	a := j.api
	switch e := end.(type) {
	case domain.RunFinished:
		a.result = j.runOutput(res)
	case domain.RunCancelled:
		a.err = &RunError{Detail: "The run was cancelled: " + e.Reason, Cancelled: true}
	case domain.RunFailed:
		a.err = &RunError{Detail: e.Error, Invalid: j.compile != nil}
	}
}

// runOutput is the answer of a run that finished: the ResultData of the
// vertices the request selects that built, in the graph's order.
func (j *job) runOutput(res *engine.RunResult) *RunOutput {
	cmd := j.api.cmd
	out := &RunOutput{Session: j.start.Session, Inputs: obj{}}
	if cmd.InputValue != nil {
		out.Inputs = obj{{"input_value", *cmd.InputValue}}
	}
	built := map[string]*engine.VertexResult{}
	for _, r := range res.Results {
		if r.Valid {
			built[r.Vertex.ID] = r
		}
	}
	for _, v := range selectOutputs(j.graph, cmd) {
		if r := built[v.ID]; r != nil {
			out.Results = append(out.Results, r)
			out.Outputs = append(out.Outputs, resultData(r, j.start.Session, cmd.Advanced))
		}
	}
	return out
}

// selectOutputs returns the vertices a run answers (runtime reference
// §2.3.5 and §3): the output component; else the advanced run's outputs
// (all output vertices when none); else every vertex for debug, or the
// output vertices whose id contains the output type (any: all) — all
// output vertices when that selects none.
func selectOutputs(g *engine.Graph, cmd StartRun) []*engine.Vertex {
	named := func(names []string) []*engine.Vertex {
		var out []*engine.Vertex
		for _, v := range g.Vertices {
			for _, n := range names {
				if v.ID == n || v.DisplayName == n {
					out = append(out, v)
					break
				}
			}
		}
		return out
	}
	outputs := func(keep func(*engine.Vertex) bool) []*engine.Vertex {
		var out []*engine.Vertex
		for _, v := range g.Vertices {
			if v.IsOutput && keep(v) {
				out = append(out, v)
			}
		}
		return out
	}
	all := func(*engine.Vertex) bool { return true }
	switch {
	case cmd.OutputComponent != "":
		return named([]string{cmd.OutputComponent})
	case cmd.Advanced && len(cmd.Outputs) > 0:
		return named(cmd.Outputs)
	case cmd.Advanced:
		return outputs(all)
	case cmd.OutputType == "debug":
		return g.Vertices
	}
	typ := cmd.OutputType
	if typ == "" {
		typ = "chat"
	}
	sel := outputs(func(v *engine.Vertex) bool { return typ == "any" || strings.Contains(strings.ToLower(v.ID), typ) })
	if len(sel) == 0 {
		return outputs(all)
	}
	return sel
}

// resultData is one vertex's ResultData as /run answers it (runtime
// reference §2.4): nothing truncated, timedelta and duration null; an
// advanced run leaves the null fields out.
func resultData(r *engine.VertexResult, session string, omitNull bool) obj {
	v := r.Vertex
	var results, outputs, logs, perOutput obj
	for _, name := range outputsOf(v) {
		val, ok := r.Outputs[name]
		if !ok {
			continue
		}
		raw, typ := outputRaw(val)
		results.set(name, serialize(val))
		outputs.set(name, obj{{"message", raw}, {"type", typ}})
		logs.set(name, []any{})
		perOutput.set(name, obj{{"repr", reprOf(r.Status, val, raw)}, {"raw", raw}, {"type", typ}})
	}
	var artifacts any = orEmpty(perOutput)
	messages := []any{}
	if chatComponent(v) || v.IsOutput || v.IsInput {
		if m := chatMessageOf(r); m != nil {
			text := machineText(m.Sender, m.Text)
			artifacts = obj{{"message", text}, {"sender", m.Sender}, {"sender_name", m.SenderName},
				{"files", chatFiles(m.Files)}, {"type", "object"}}
			msg := obj{{"message", text}, {"sender", m.Sender}, {"sender_name", m.SenderName}, {"session_id", session},
				{"stream_url", nil}, {"component_id", v.ID}, {"files", chatFiles(m.Files)}, {"type", "text"}}
			if omitNull {
				msg = dropNulls(msg)
			}
			messages = append(messages, msg)
		}
	}
	d := obj{{"results", orEmpty(results)}, {"artifacts", artifacts}, {"outputs", orEmpty(outputs)}, {"logs", orEmpty(logs)},
		{"messages", messages}, {"timedelta", nil}, {"duration", nil}, {"component_display_name", displayName(v)},
		{"component_id", v.ID}, {"used_frozen_result", r.UsedFrozen}}
	if omitNull {
		d = dropNulls(d)
	}
	return d
}

// chatMessageOf is the message an interface vertex answered with: the last
// it sent, else its Message output; nil for other outputs.
func chatMessageOf(r *engine.VertexResult) *engine.Message {
	if n := len(r.Messages); n > 0 {
		return r.Messages[n-1]
	}
	for _, name := range outputsOf(r.Vertex) {
		if m, ok := r.Outputs[name].(*engine.Message); ok {
			return m
		}
	}
	return nil
}

func displayName(v *engine.Vertex) string {
	if v.DisplayName != "" {
		return v.DisplayName
	}
	if v.Spec != nil {
		return v.Spec.DisplayName
	}
	return v.ID
}

func dropNulls(o obj) obj {
	out := make(obj, 0, len(o))
	for _, p := range o {
		if p.v != nil {
			out = append(out, p)
		}
	}
	return out
}

// RunResponse is Langflow's RunResponse of runs (one per input):
// {"session_id", "outputs": [{"inputs", "outputs"}]}, as Python's
// json.dumps writes it (PyDumps form; Compact turns it into FastAPI's).
func RunResponse(session any, runs ...*RunOutput) obj {
	outs := make([]any, len(runs))
	for i, r := range runs {
		items := make([]any, len(r.Outputs))
		for k, o := range r.Outputs {
			items[k] = o
		}
		outs[i] = obj{{"inputs", r.Inputs}, {"outputs", items}}
	}
	return obj{{"session_id", session}, {"outputs", outs}}
}
