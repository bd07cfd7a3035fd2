package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// job is one run on this process: the engine runs its graph, reporting
// to the job (its Sink) and recording through it (its Recorder); the job
// puts every event in its feed at once, and queues it (but tokens) with
// the messages, vertex builds and transactions in its records, appended
// together every FlushInterval and at the run's end.
type job struct {
	s       *Service
	id      uuid.UUID
	key     string // the running-jobs limit it counts against
	cmd     StartBuild
	start   domain.RunStarted
	graph   *engine.Graph
	compile error
	feed    *feed
	records *commands.RunRecords

	ctx       context.Context
	cancelRun context.CancelFunc
	cancelMu  sync.Mutex
	reason    string // why it was cancelled

	// api is a run of the run API (nil for a build); holdsSlot tells a
	// job holding a slot of its key's running-jobs limit (a background
	// run takes one when it gets to run); begun a job whose start is
	// recorded.
	api       *apiRun
	holdsSlot bool
	begun     bool
	// worker marks a queued run this process claimed from the queue: at
	// the server's shutdown it is handed back (not closed) for another
	// worker to run again.
	worker bool

	history *jobHistory
	builds  sync.Map // *engine.VertexResult -> vertexBuild
	mu      sync.Mutex
	results map[string]*engine.VertexResult // by vertex id, as built

	flushMu    sync.Mutex
	flushArmed bool
	closing    bool

	// What Wait tells, set before done is closed.
	done       chan struct{}
	outcome    Outcome
	statsMu    sync.Mutex
	appended   int
	flushCount int
}

// Outcome is how a job ended.
type Outcome struct {
	// Status is finished, failed or cancelled.
	Status string
	// Engine is the time the engine took to run the graph; Total the
	// job's, its recording included.
	Engine, Total time.Duration
	// Events is how many events the job appended, in Flushes appends.
	Events, Flushes int
}

// Wait waits until the job ended and was recorded, and tells how.
func (j *Job) Wait(ctx context.Context) (Outcome, error) {
	select {
	case <-j.j.done:
		return j.j.outcome, nil
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

func (s *Service) newJob(id uuid.UUID, cmd StartBuild, start domain.RunStarted, place commands.MonitoredFlow, g *engine.Graph,
	compileErr error, key string) *job {
	return s.newJobOf(domain.LoadRun(id), cmd, start, place, g, compileErr, key)
}

// newJobOf is newJob for run as folded (a queued run a worker claimed:
// its records continue its stream).
func (s *Service) newJobOf(run *domain.Run, cmd StartBuild, start domain.RunStarted, place commands.MonitoredFlow, g *engine.Graph,
	compileErr error, key string) *job {
	id := start.RunID
	j := &job{s: s, id: id, key: key, cmd: cmd, start: start, graph: g, compile: compileErr, feed: newFeed(),
		results: map[string]*engine.VertexResult{}, done: make(chan struct{})}
	j.ctx, j.cancelRun = context.WithCancel(s.base)
	md := cmd.Metadata
	md.OccurredAt = time.Time{}
	j.records = s.opts.Messages.NewRunRecords(run, start.RecordsFlowID, place, md, s.sessions, s.log)
	return j
}

// cancel stops the run for reason (the first reason given is kept).
func (j *job) cancel(reason string) {
	j.cancelMu.Lock()
	if j.reason == "" {
		j.reason = reason
	}
	j.cancelMu.Unlock()
	j.cancelRun()
}

func (j *job) cancelReason() string {
	j.cancelMu.Lock()
	defer j.cancelMu.Unlock()
	if j.reason == "" {
		return domain.RunCancelRequested
	}
	return j.reason
}

// run runs the job to its end and records it.
func (j *job) run() {
	defer j.s.finished(j)
	defer close(j.done)
	defer j.cancelRun()
	wall := time.Now()
	if !j.begun {
		if err := j.records.Run(func(r *domain.Run) error { return r.Start(j.start) }); err != nil {
			j.s.log.Error("start a run", "job_id", j.id, "error", err.Error())
			if j.api != nil {
				j.endAPI(nil, domain.RunFailed{Error: err.Error()})
				j.api.publish(j.feed)
			}
			j.feed.end(false)
			return
		}
	}
	if !j.holdsSlot {
		if err := j.s.acquire(j.ctx, j.key); err != nil {
			j.finish(wall, nil, domain.RunCancelled{Reason: j.cancelReason()})
			return
		}
		j.holdsSlot = true
	}
	began := j.s.now()
	var res *engine.RunResult
	var end domain.Event
	if j.compile != nil {
		j.flowError("InvalidFlowError", j.compile.Error())
		end = domain.RunFailed{Error: j.compile.Error()}
	} else {
		res = j.s.opts.Engine.Run(j.ctx, j.graph, j.input(), j.env(), j)
		j.outcome.Engine = time.Since(wall)
		failed := 0
		for _, r := range res.Results {
			if !r.Valid {
				failed++
			}
		}
		switch {
		case res.Err == nil:
			end = domain.RunFinished{Vertices: len(res.Results), Failed: failed, DurationMS: j.s.now().Sub(began).Milliseconds()}
		case errors.Is(res.Err, engine.ErrCancelled):
			end = domain.RunCancelled{Reason: j.cancelReason()}
		default:
			typ := "RuntimeError"
			if j.s.now().Sub(began) >= j.s.opts.Engine.Limits().WallTime {
				typ = "TimeoutError"
			}
			j.flowError(typ, res.Err.Error())
			end = domain.RunFailed{Error: res.Err.Error()}
		}
	}
	j.finish(wall, res, end)
}

// finish closes the run with end, records everything and tells its
// readers.
func (j *job) finish(wall time.Time, res *engine.RunResult, end domain.Event) {
	if c, ok := end.(domain.RunCancelled); ok && j.worker && c.Reason == domain.RunShutdown {
		j.handBack(wall)
		return
	}
	if j.api != nil {
		end = j.endAPI(res, end)
	}
	if err := j.records.Run(func(r *domain.Run) error { return r.Close(end) }); err != nil {
		j.s.log.Error("close a run", "job_id", j.id, "error", err.Error())
	}
	j.finalFlush()
	j.release()
	j.outcome.Total = time.Since(wall)
	j.statsMu.Lock()
	j.outcome.Events, j.outcome.Flushes = j.appended, j.flushCount
	j.statsMu.Unlock()
	switch end.(type) {
	case domain.RunFinished:
		j.outcome.Status = "finished"
	case domain.RunCancelled:
		j.outcome.Status = "cancelled"
	default:
		j.outcome.Status = "failed"
	}
	// The end event is shown once everything the run did is in the log:
	// a client that saw the end never loses what it was shown.
	_, finished := end.(domain.RunFinished)
	switch {
	case j.api != nil:
		j.api.publish(j.feed)
		finished = false
	case finished:
		j.feed.push(endFrame)
	}
	j.feed.end(finished)
}

// handBack ends a worker's job cut off by the server's shutdown without
// closing its run: what it recorded is appended with the claim's release
// (domain.RunReleased: the next claim is not an interrupted one, and does
// not count against the attempt limit), and the queue delivers the run
// again to a worker that runs it from the start (the task is nacked: see
// Service.Execute).
func (j *job) handBack(wall time.Time) {
	if err := j.records.Run(func(r *domain.Run) error { return r.Release(j.s.opts.Instance) }); err != nil {
		j.s.log.Error("hand a run back", "job_id", j.id, "error", err.Error())
	}
	j.finalFlush()
	j.release()
	j.outcome.Total = time.Since(wall)
	j.outcome.Status = statusHandedBack
	if j.api != nil {
		j.api.err = &RunError{Detail: "The run was handed back to the queue: " + domain.RunShutdown, Cancelled: true}
		j.api.publish(j.feed)
	}
	j.feed.end(false)
}

// statusHandedBack is the Outcome of a worker's job handed back to the
// queue at shutdown.
const statusHandedBack = "handed back"

// begin records the run's start at once (a background run is answered
// only once its start is in the log).
func (j *job) begin() error {
	if err := j.records.Run(func(r *domain.Run) error { return r.Start(j.start) }); err != nil {
		return err
	}
	if err := j.flush(); err != nil {
		return err
	}
	j.begun = true
	return nil
}

// close records the end of a run that never ran.
func (j *job) close(end domain.Event) {
	if err := j.records.Run(func(r *domain.Run) error { return r.Close(end) }); err != nil {
		j.s.log.Error("close a run", "job_id", j.id, "error", err.Error())
	}
	j.finalFlush()
}

// release lets go of what the run built (its results, whole, and the
// graph a request sent) once it is recorded: a finished job stays for its
// feed only, for the retention time.
func (j *job) release() {
	j.mu.Lock()
	j.results = nil
	j.mu.Unlock()
	j.builds.Clear()
	if j.history != nil {
		j.history.forget()
	}
	j.graph, j.cmd.Data = nil, nil
}

// input is the engine's input of the run: the request's input value goes
// to the chat input only, as /build does.
func (j *job) input() engine.RunInput {
	in := engine.RunInput{RunID: j.id.String(), FlowID: j.start.RecordsFlowID.String(), FlowName: j.start.FlowName,
		Tenant: tenancy.OrSystem(j.start.TenantID).String(), UserID: j.start.UserID, Session: j.start.Session, InputType: "chat", Files: j.cmd.Files,
		StartComponentID: j.cmd.StartID, StopComponentID: j.cmd.StopID, Variables: j.cmd.Variables}
	if j.cmd.Inputs != nil {
		in.InputValue = j.cmd.Inputs.InputValue
	}
	if a := j.api; a != nil {
		// The run API: the session goes into every vertex, the input to
		// the input vertices the request selects, and the first failing
		// vertex stops the run.
		in.SessionOverride, in.AbortOnError = true, true
		in.InputValue, in.InputType, in.InputComponents = a.cmd.InputValue, a.cmd.InputType, a.cmd.InputComponents
		if in.InputType == "" {
			in.InputType = "chat"
		}
	}
	return in
}

func (j *job) env() engine.Env {
	env := j.s.opts.Env
	env.Recorder = j
	j.history = &jobHistory{base: env.History, wait: j.s.opts.WaitForHistory}
	if j.start.Public {
		j.history.flow = j.start.RecordsFlowID.String()
	}
	env.History = j.history
	if env.Clock == nil {
		env.Clock = j.s.opts.Clock
	}
	return env
}

// emit puts a frame in the feed and its event in the run's records. A
// run of the run API shows only its messages and tokens, and only when it
// streams.
func (j *job) emit(name string, data []byte, e domain.Event) {
	if j.api == nil || j.api.cmd.Stream && (name == "add_message" || name == "token") {
		j.feed.push(frame(name, data))
	}
	if e == nil {
		return
	}
	if err := j.records.Run(func(r *domain.Run) error { return r.Emit(e) }); err != nil {
		j.s.log.Error("record a run's event", "job_id", j.id, "event", name, "error", err.Error())
	}
	j.armFlush()
}

// Emit implements engine.Sink: each event becomes a frame at once.
func (j *job) Emit(ev engine.Event) {
	switch e := ev.(type) {
	case engine.VerticesSorted:
		data := pyDumps(obj{{"ids", strs(e.IDs)}, {"to_run", strs(e.ToRun)}})
		j.emit(ev.Name(), data, domain.RunVerticesSorted{Data: string(data)})
	case engine.MessageAdded:
		data := pyDumps(messageData(e.Message))
		id, _ := strconv.ParseInt(e.Message.ID, 10, 64)
		j.emit(ev.Name(), data, domain.RunMessageSent{MessageID: id, Data: string(data)})
	case engine.MessageRemoved:
		data := pyDumps(obj{{"id", e.ID}})
		j.emit(ev.Name(), data, domain.RunEventEmitted{Event: ev.Name(), Data: string(data)})
	case engine.Token:
		if j.api == nil || j.api.cmd.Stream {
			j.emit(ev.Name(), pyDumps(obj{{"chunk", e.Chunk}, {"id", e.ID}}), nil) // live only
		}
	case engine.ErrorRaised:
		data := pyDumps(messageData(e.Message))
		j.emit(ev.Name(), data, domain.RunErrorRaised{Data: string(data)})
	case engine.VertexEnded:
		b := j.buildData(e.Result)
		data := pyDumps(obj{{"build_data", vertexBuildResponse(e.Result, b, j.cmd.StopID, j.s.now())}})
		j.emit(ev.Name(), data, domain.RunVertexBuilt{VertexID: e.Result.Vertex.ID, Valid: e.Result.Valid, Data: string(data)})
	case engine.BuildStarted:
		data := pyDumps(obj{{"id", e.ID}})
		j.emit(ev.Name(), data, domain.RunEventEmitted{Event: ev.Name(), Data: string(data)})
	case engine.BuildEnded:
		data := pyDumps(obj{{"id", e.ID}})
		j.emit(ev.Name(), data, domain.RunEventEmitted{Event: ev.Name(), Data: string(data)})
	case engine.RunEnded:
		// Sent by run once the run is recorded (see run).
	default:
		data := pyDumps(obj{})
		j.emit(ev.Name(), data, domain.RunEventEmitted{Event: ev.Name(), Data: string(data)})
	}
}

// flowError sends the error event of a run that failed as a whole (a
// flow that does not compile, a limit): Langflow's ErrorMessage(flow_id,
// exception, session_id).data.
func (j *job) flowError(typ, msg string) {
	data := pyDumps(flowErrorData(j.start.RecordsFlowID.String(), j.start.Session, typ, msg))
	j.emit("error", data, domain.RunErrorRaised{Data: string(data)})
}

func flowErrorData(flowID, session, typ, msg string) obj {
	red, icon := "red", "error"
	props := properties(engine.Properties{TextColor: &red, BackgroundColor: &red, Icon: &icon, State: "complete", Targets: []any{}})
	content := obj{{"type", "error"}, {"duration", nil}, {"header", obj{}}, {"component", nil}, {"field", nil},
		{"reason", "**" + typ + "**\n - **Details: " + msg + "**\n"}, {"solution", nil}, {"traceback", msg}}
	return obj{
		{"session_id", session}, {"context_id", nil}, {"sender", nil}, {"sender_name", nil}, {"text", msg + "\n"},
		{"properties", props}, {"category", "error"}, {"error", true},
		{"content_blocks", []any{obj{{"title", "Error"}, {"contents", []any{content}}, {"allow_markdown", true}, {"media_url", nil}}}},
		{"flow_id", flowID},
	}
}

// elapsed is a build's timedelta: its duration, or, when the client said
// when it asked, the time since then.
func (j *job) elapsed(res *engine.VertexResult) time.Duration {
	if in := j.cmd.Inputs; in != nil && in.ClientRequestTime != nil {
		return j.s.now().Sub(time.UnixMilli(*in.ClientRequestTime))
	}
	return res.Duration
}

// buildData returns the build data of res (made once).
func (j *job) buildData(res *engine.VertexResult) vertexBuild {
	if b, ok := j.builds.Load(res); ok {
		return b.(vertexBuild)
	}
	b := buildOf(res, j.elapsed(res), j.s.opts.Serialization)
	j.builds.Store(res, b)
	return b
}

// StoreMessage implements engine.Recorder: a new message gets its id at
// once and is queued; one with an id is updated.
func (j *job) StoreMessage(ctx context.Context, _ engine.RunInfo, m *engine.Message) (*engine.Message, error) {
	stored := m.Clone()
	if stored.Timestamp.IsZero() {
		stored.Timestamp = j.s.now()
	}
	stored.Timestamp = stored.Timestamp.UTC().Truncate(time.Microsecond)
	if stored.FlowID == "" {
		stored.FlowID = j.start.RecordsFlowID.String()
	}
	if stored.SessionID == "" {
		stored.SessionID = j.start.Session
	}
	props, err := json.Marshal(stored.Properties)
	if err != nil {
		return nil, err
	}
	// Content blocks are ordered objects (obj): written as the events
	// show them.
	blocks := json.RawMessage(Compact(contentBlocks(stored.ContentBlocks)))
	if stored.ID == "" {
		f := domain.MessageFields{Sender: stored.Sender, SenderName: stored.SenderName, Text: stored.Text, Files: stored.Files,
			Error: stored.Error, Edit: stored.Edit, Properties: props, Category: stored.Category, ContentBlocks: blocks,
			Timestamp: stored.Timestamp}
		if stored.ContextID != "" {
			f.ContextID = &stored.ContextID
		}
		id, err := j.records.AddMessage(ctx, stored.SessionID, f)
		if err != nil {
			return nil, err
		}
		stored.ID = strconv.FormatInt(id, 10)
	} else {
		id, err := strconv.ParseInt(stored.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("message id %q: %w", stored.ID, err)
		}
		files := slices.Clone(stored.Files)
		j.records.UpdateMessage(stored.SessionID, id, domain.MessageChange{Text: &stored.Text, Sender: &stored.Sender,
			SenderName: &stored.SenderName, Files: &files, Error: &stored.Error, Properties: props, ContentBlocks: blocks,
			Completes: true})
	}
	if j.history != nil {
		j.history.recorded(stored)
	}
	j.armFlush()
	return stored, nil
}

// RemoveMessage implements engine.MessageRemover: the message is dropped
// from what is queued, or deleted from its session at the next flush.
func (j *job) RemoveMessage(_ context.Context, _ engine.RunInfo, m *engine.Message) error {
	id, err := strconv.ParseInt(m.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("message id %q: %w", m.ID, err)
	}
	session := m.SessionID
	if session == "" {
		session = j.start.Session
	}
	j.records.RemoveMessage(session, id)
	j.armFlush()
	return nil
}

// VertexBuilt implements engine.Recorder: the build (unless the request
// said log_builds=false) and its transaction are queued.
func (j *job) VertexBuilt(_ context.Context, _ engine.RunInfo, res *engine.VertexResult) error {
	b := j.buildData(res)
	j.mu.Lock()
	j.results[res.Vertex.ID] = res
	inputs := obj{}
	for _, e := range res.Vertex.In {
		if src := j.results[e.Source]; src != nil && !e.LoopBack {
			inputs.set(e.TargetField, serialize(src.Outputs[e.SourceOutput]))
		}
	}
	j.mu.Unlock()
	at := res.Started.Add(res.Duration).UTC()
	if j.cmd.LogBuilds {
		params := b.params
		if err := j.records.VertexBuild(domain.VertexBuildRecorded{VertexID: res.Vertex.ID, Timestamp: at, Data: pyDumps(b.data),
			Artifacts: pyDumps(b.artifacts), Params: &params, Valid: b.valid}); err != nil {
			return err
		}
	}
	outputs := obj{}
	for _, name := range outputsOf(res.Vertex) {
		if v, ok := res.Outputs[name]; ok {
			outputs.set(name, serialize(v))
		}
	}
	t := domain.TransactionRecorded{VertexID: res.Vertex.ID, Timestamp: at, Status: "success",
		Inputs: pyDumps(j.s.opts.Serialization.truncate(inputs)), Outputs: pyDumps(j.s.opts.Serialization.truncate(outputs))}
	if !res.Valid {
		t.Status = "error"
		msg := res.ErrorText()
		t.Error = &msg
	}
	if err := j.records.Transaction(t); err != nil {
		return err
	}
	j.armFlush()
	return nil
}

// armFlush makes sure what was queued is appended within FlushInterval.
func (j *job) armFlush() {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	if j.flushArmed || j.closing {
		return
	}
	j.flushArmed = true
	time.AfterFunc(j.s.opts.FlushInterval, func() {
		j.flushMu.Lock()
		j.flushArmed = false
		j.flushMu.Unlock()
		if err := j.flush(); err != nil {
			j.s.log.Warn("record a run (will retry)", "job_id", j.id, "error", err.Error())
			j.armFlush()
		}
	})
}

func (j *job) flush() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(j.ctx), 30*time.Second)
	defer cancel()
	res, err := j.records.Flush(ctx, j.s.now())
	if n := len(res.Positions); n > 0 {
		j.statsMu.Lock()
		j.appended += n
		j.flushCount++
		j.statsMu.Unlock()
	}
	return err
}

// finalFlush appends what is left, retrying for a while when the database
// fails; what is still not recorded then is logged as lost (the run is
// closed as interrupted at the next start).
func (j *job) finalFlush() {
	j.flushMu.Lock()
	j.closing = true
	j.flushMu.Unlock()
	wait := 50 * time.Millisecond
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := j.flush()
		if err == nil && j.records.Pending() == 0 {
			return
		}
		if err != nil && time.Now().After(deadline) {
			j.s.log.Error("a run could not be recorded", "job_id", j.id, "error", err.Error())
			return
		}
		if err != nil {
			j.s.log.Warn("record a run (will retry)", "job_id", j.id, "error", err.Error())
			time.Sleep(wait)
			wait = min(2*wait, 5*time.Second)
		}
	}
}
