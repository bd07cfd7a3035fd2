package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The v2 workflow API's use cases (contract #214–#216, runtime reference
// §6 with the later 1.8.x models), under our prefix /api/v2/workflow. A
// workflow job is a run of the run API (StartRun, API "workflow") and what
// was chosen follows from that:
//
//   - The job id is the run id (stream run-<id>, a UUIDv7), and the job's
//     created_timestamp is the time in that id: the same on every process.
//   - The flat inputs {"<component_id>.<param>": value} are tweaks of those
//     components (a key without a dot whose value is an object tweaks that
//     component whole); the first non-empty "<id>.session_id" is the run's
//     session. Nothing goes in as the run's input value: a chat input
//     takes its text from its input_value tweak, as in Langflow.
//   - The outputs are those of the graph's terminal vertices (no outgoing
//     edge), keyed by vertex id, converted from the run's RunResponse as
//     Langflow's converters do (type: the vertex's first output type in
//     lower case; content simplified for output vertices and data
//     outputs; metadata.component_type: the vertex type).
//   - A job's status comes only from the event log, folded from its run
//     stream: queued (open, nothing built yet: a background job waiting
//     for a slot), in_progress, completed (outputs from RunFinished.Result,
//     the RunResponse the run recorded), failed (errors say why; a run
//     whose process stopped is failed with JOB_INTERRUPTED once the next
//     start's sweep, or a stop, closed it), cancelled. Any process answers
//     the same, before and after a restart; the sync answer is read back
//     from the log the same way once the run is recorded.
//   - Only the inputs that are inputs (input_value, session_id) are
//     recorded with the run, and a status read echoes those; other
//     parameters may carry keys. The sync answer echoes the request's
//     inputs as sent, to the caller who sent them.
//   - A job is found only by who may read it (its runner, the flow's owner,
//     flows.run where the flow lives) and only if it is a workflow job;
//     any other id, a malformed one included, is JOB_NOT_FOUND.

// WorkflowPath is the v2 workflow API's path (Langflow's later versions
// moved it to /api/v2/workflows).
const WorkflowPath = "/api/v2/workflow"

// Statuses of a workflow job (Langflow's JobStatus; timed_out is not
// used: a run over its wall time fails).
const (
	JobQueued     = "queued"
	JobInProgress = "in_progress"
	JobCompleted  = "completed"
	JobFailed     = "failed"
	JobCancelled  = "cancelled"
)

// Outcomes of a stop (WorkflowStopResponse.status).
const (
	// StopStopped: the job has ended (it was cancelled now, or had ended
	// before).
	StopStopped = "stopped"
	// StopStopping: its cancel is asked for and its end not recorded yet.
	StopStopping = "stopping"
	// StopNotFound: no workflow job the caller may see has that id.
	StopNotFound = "not_found"
	// StopError: the cancel could not be passed on (retry).
	StopError = "error"
)

// Codes of the workflow API's errors (WorkflowError.Code) and of a job's
// errors (WorkflowErrorItem.Code).
const (
	CodeFlowNotFound       = "FLOW_NOT_FOUND"
	CodeForbidden          = "FORBIDDEN"
	CodeInvalidFlowData    = "INVALID_FLOW_DATA"
	CodeJobNotFound        = "JOB_NOT_FOUND"
	CodeMissingParameter   = "MISSING_PARAMETER"
	CodeServiceBusy        = "SERVICE_BUSY"
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	// CodeExecutionError is a job that failed while it ran.
	CodeExecutionError = "EXECUTION_ERROR"
	// CodeJobInterrupted is a job whose server process stopped while it
	// ran (closed at the next start, or by a stop).
	CodeJobInterrupted = "JOB_INTERRUPTED"
	// CodeJobCancelled is a job cancelled (a stop, its client gone, a
	// shutdown).
	CodeJobCancelled = "JOB_CANCELLED"
)

// WorkflowError is a request of the workflow API that failed, with
// Langflow's structured detail {"error", "code", "message", "flow_id" |
// "job_id"}; Code tells what happened (CodeFlowNotFound …).
type WorkflowError struct {
	Title   string `json:"error"`
	Code    string `json:"code"`
	Message string `json:"message"`
	FlowID  string `json:"flow_id,omitempty"`
	JobID   string `json:"job_id,omitempty"`
}

func (e *WorkflowError) Error() string { return e.Code + ": " + e.Message }

func flowNotFound(ref string) *WorkflowError {
	return &WorkflowError{Title: "Flow not found", Code: CodeFlowNotFound,
		Message: fmt.Sprintf("Flow '%s' does not exist. Verify the flow_id and try again.", ref), FlowID: ref}
}

func jobNotFound(id string) *WorkflowError {
	return &WorkflowError{Title: "Workflow job not found", Code: CodeJobNotFound,
		Message: fmt.Sprintf("Workflow job %s not found", id), JobID: id}
}

// ErrBackgroundAndStream refuses a request for both modes at once.
var ErrBackgroundAndStream = domain.Invalidf("Both 'background' and 'stream' cannot be True")

// ExecuteWorkflow is the command of Execute Workflow: run a flow as a
// workflow job, synchronously (the default), streamed or in the
// background.
type ExecuteWorkflow struct {
	// FlowRef names the flow: its id or endpoint name.
	FlowRef string
	// UserID is the API key's user, who must own the flow or hold
	// flows.run where it lives.
	UserID int64
	// Inputs are the request's flat inputs as sent (a JSON object; nil or
	// null: none).
	Inputs json.RawMessage
	// Background answers at once (the job recorded, queued); Stream
	// streams the run's frames as /run?stream=true does. Not both.
	Background, Stream bool
	// Variables are the request's variables (X-LANGFLOW-GLOBAL-VAR-*).
	Variables map[string]string
	Metadata  eventstore.Metadata
}

// WorkflowStarted is what ExecuteWorkflow answers, by mode.
type WorkflowStarted struct {
	// Job is the run; a streamed one's frames are for the caller to
	// stream (Job.Stream).
	Job *Job
	// Response is the sync mode's answer.
	Response *WorkflowExecutionResponse
	// Queued is the background mode's answer.
	Queued *WorkflowJobResponse
}

// WorkflowExecutionResponse is a job's state and, once completed, its
// outputs (Langflow's WorkflowExecutionResponse).
type WorkflowExecutionResponse struct {
	// FlowID is the flow's id (even when the request named it by its
	// endpoint name).
	FlowID           string              `json:"flow_id"`
	JobID            string              `json:"job_id"`
	Object           string              `json:"object"`
	CreatedTimestamp string              `json:"created_timestamp"`
	Status           string              `json:"status"`
	Errors           []WorkflowErrorItem `json:"errors"`
	Inputs           json.RawMessage     `json:"inputs"`
	// Outputs are {<vertex id>: WorkflowComponentOutput}, in the graph's
	// order.
	Outputs  json.RawMessage `json:"outputs"`
	Metadata json.RawMessage `json:"metadata"`
}

// WorkflowComponentOutput is one terminal vertex's output (Langflow's
// ComponentOutput); Metadata is {"component_type", …}.
type WorkflowComponentOutput struct {
	Type        string          `json:"type"`
	ComponentID string          `json:"component_id"`
	Status      string          `json:"status"`
	Content     json.RawMessage `json:"content,omitempty"`
	Metadata    json.RawMessage `json:"metadata"`
}

// WorkflowErrorItem is one error of a job (Langflow's ErrorDetail).
type WorkflowErrorItem struct {
	Error   string            `json:"error"`
	Code    string            `json:"code,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// WorkflowJobResponse is the background mode's answer: the job, queued.
type WorkflowJobResponse struct {
	JobID            string              `json:"job_id"`
	FlowID           string              `json:"flow_id"`
	Object           string              `json:"object"`
	CreatedTimestamp string              `json:"created_timestamp"`
	Status           string              `json:"status"`
	Links            WorkflowLinks       `json:"links"`
	Errors           []WorkflowErrorItem `json:"errors"`
}

// WorkflowLinks are where a background job's status is read and where it
// is stopped.
type WorkflowLinks struct {
	Status string `json:"status"`
	Stop   string `json:"stop"`
}

// ExecuteWorkflow authorises the caller, starts the job and answers by
// mode: background once the job is recorded (queued), stream with the job
// to stream, sync once the run is recorded to its end, read back from the
// log. A sync caller that goes away (ctx ends first) cancels the job:
// nobody else knows its id. A flow that does not exist, or that the
// caller may not see, is CodeFlowNotFound; one the caller may read but
// not run CodeForbidden; one that does not compile CodeInvalidFlowData.
// A run that fails or is cancelled is an answer (status failed or
// cancelled), not an error.
func (s *Service) ExecuteWorkflow(ctx context.Context, cmd ExecuteWorkflow) (WorkflowStarted, error) {
	if cmd.Background && cmd.Stream {
		return WorkflowStarted{}, ErrBackgroundAndStream
	}
	in, err := parseFlatInputs(cmd.Inputs)
	if err != nil {
		return WorkflowStarted{}, err
	}
	id, err := s.Resolve(ctx, cmd.FlowRef, cmd.UserID, nil)
	if err != nil {
		return WorkflowStarted{}, workflowStartError(cmd.FlowRef, err)
	}
	fe, err := s.authorizedFlow(ctx, id, cmd.UserID, &FlowNotFoundError{Ref: cmd.FlowRef}, ErrPermission)
	if err != nil {
		return WorkflowStarted{}, workflowStartError(cmd.FlowRef, err)
	}
	data := fe.flow.Content().Data
	if d := bytes.TrimSpace(data); len(d) == 0 || string(d) == "null" {
		return WorkflowStarted{}, &WorkflowError{Title: "Workflow validation error", Code: CodeInvalidFlowData,
			Message: fmt.Sprintf("Flow %s has no data. The flow may be corrupted.", id), FlowID: cmd.FlowRef}
	}
	g, err := fe.compiled(s.opts.Engine, data, fe.rev, engine.Tweaks{"stream": cmd.Stream}, true)
	if err != nil {
		return WorkflowStarted{}, &WorkflowError{Title: "Workflow validation error", Code: CodeInvalidFlowData,
			Message: "Failed to build graph from flow data: " + err.Error(), FlowID: cmd.FlowRef}
	}
	var outputs []string
	for _, v := range terminalVertices(g) {
		outputs = append(outputs, v.ID)
	}
	job, err := s.StartRun(ctx, StartRun{FlowID: id, Ref: cmd.FlowRef, UserID: cmd.UserID, Source: SourceDraft,
		Advanced: true, Outputs: outputs, Tweaks: in.tweaks, SessionID: in.session, Stream: cmd.Stream,
		Variables: cmd.Variables, API: APIWorkflow, Background: cmd.Background, InputsRaw: in.recorded, Metadata: cmd.Metadata})
	if err != nil {
		return WorkflowStarted{}, workflowStartError(cmd.FlowRef, err)
	}
	switch {
	case cmd.Background:
		return WorkflowStarted{Job: job, Queued: &WorkflowJobResponse{JobID: job.ID.String(), FlowID: id.String(), Object: "job",
			CreatedTimestamp: createdTimestamp(job.ID), Status: JobQueued, Errors: []WorkflowErrorItem{},
			Links: WorkflowLinks{Status: WorkflowPath + "?job_id=" + job.ID.String(), Stop: WorkflowPath + "/stop"}}}, nil
	case cmd.Stream:
		return WorkflowStarted{Job: job}, nil
	}
	if _, err := job.Result(ctx); err != nil {
		var re *RunError
		if !errors.As(err, &re) {
			job.Cancel(domain.RunClientGone)
			return WorkflowStarted{}, err
		}
	}
	// The run is recorded to its end before Result returns.
	run, err := s.loadRun(ctx, job.ID)
	if err != nil {
		return WorkflowStarted{}, err
	}
	resp := workflowResponse(job.ID, run, g)
	resp.Inputs = in.echo
	return WorkflowStarted{Job: job, Response: resp}, nil
}

// workflowStartError turns the errors of starting a run into the
// workflow API's.
func workflowStartError(ref string, err error) error {
	var (
		nf   *FlowNotFoundError
		nd   *FlowNoDataError
		busy *BusyError
	)
	switch {
	case errors.As(err, &nf):
		return flowNotFound(ref)
	case errors.As(err, &nd):
		return &WorkflowError{Title: "Workflow validation error", Code: CodeInvalidFlowData,
			Message: nd.Error() + ". The flow may be corrupted.", FlowID: ref}
	case errors.Is(err, ErrPermission):
		return &WorkflowError{Title: "Permission denied", Code: CodeForbidden, Message: ErrPermission.Error(), FlowID: ref}
	case errors.As(err, &busy):
		return &WorkflowError{Title: "Service busy", Code: CodeServiceBusy, Message: busy.Error(), FlowID: ref}
	case errors.Is(err, ErrStopping):
		return &WorkflowError{Title: "Service unavailable", Code: CodeServiceUnavailable,
			Message: "The server is shutting down; retry", FlowID: ref}
	case errors.Is(err, ErrQueueUnavailable):
		return &WorkflowError{Title: "Service unavailable", Code: CodeServiceUnavailable, Message: ErrQueueUnavailable.Error(), FlowID: ref}
	}
	return err
}

// WorkflowStatus is the query of Get Workflow Status.
type WorkflowStatus struct {
	UserID int64
	// JobID is the job's id as the request gave it.
	JobID string
}

// WorkflowStatus answers a job's state, folded from its run stream (see
// the package's notes above): CodeMissingParameter without an id,
// CodeJobNotFound for a job the caller may not see.
func (s *Service) WorkflowStatus(ctx context.Context, q WorkflowStatus) (*WorkflowExecutionResponse, error) {
	if q.JobID == "" {
		return nil, &WorkflowError{Title: "Missing required parameter", Code: CodeMissingParameter, Message: "Job ID must be provided"}
	}
	id, run, err := s.workflowRun(ctx, q.UserID, q.JobID)
	if err != nil {
		return nil, err
	}
	var g *engine.Graph
	if _, completed := run.End().(domain.RunFinished); completed {
		info, _ := run.Started()
		g = s.runGraph(ctx, info)
	}
	return workflowResponse(id, run, g), nil
}

// workflowRun folds the run of workflow job id for user; a job user may
// not see (or no workflow job) is CodeJobNotFound.
func (s *Service) workflowRun(ctx context.Context, user int64, id string) (uuid.UUID, *domain.Run, error) {
	runID, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, nil, jobNotFound(id)
	}
	run, err := s.loadRun(ctx, runID)
	var nf *JobNotFoundError
	if errors.As(err, &nf) {
		return uuid.Nil, nil, jobNotFound(id)
	}
	if err != nil {
		return uuid.Nil, nil, err
	}
	info, started := run.Started()
	if !started || info.API != APIWorkflow || !allowed(ctx, Reader{UserID: user}, info) {
		return uuid.Nil, nil, jobNotFound(id)
	}
	return runID, run, nil
}

// runGraph is the graph a completed run ran (its flow's content at the
// recorded revision, without its tweaks, which change values only), for
// its outputs' types; nil when it cannot be had (the outputs are then
// converted without it).
func (s *Service) runGraph(ctx context.Context, info domain.RunStarted) *engine.Graph {
	if info.FlowRevision == nil {
		return nil
	}
	rev := *info.FlowRevision
	if fe, err := s.flow(ctx, info.FlowID); err == nil && fe.rev == rev && info.Source == SourceDraft {
		if g, err := fe.compiled(s.opts.Engine, fe.flow.Content().Data, rev, engine.Tweaks{"stream": false}, true); err == nil {
			return g
		}
	}
	c, err := commands.FlowContentAt(ctx, s.opts.Messages.Repo, info.FlowID, rev)
	if err != nil {
		return nil
	}
	g, err := s.opts.Engine.Compile(c.Data)
	if err != nil {
		return nil
	}
	return g
}

// StopWorkflow is the command of Stop Workflow.
type StopWorkflow struct {
	UserID int64
	// JobID is the job's id as the request gave it.
	JobID string
}

// WorkflowStopResponse is Stop Workflow's answer; Status is StopStopped,
// StopStopping, StopNotFound or StopError.
type WorkflowStopResponse struct {
	JobID   string `json:"job_id"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// stopWait bounds how long a stop waits for the job's end to be recorded
// before it answers StopStopping.
const stopWait = 5 * time.Second

// StopWorkflow cancels a job (Service.Cancel: on this process or the one
// running it; an open run whose process is gone is closed as interrupted)
// and waits a little for its end to be recorded. A job that had ended is
// StopStopped at once; one the caller may not see StopNotFound.
func (s *Service) StopWorkflow(ctx context.Context, cmd StopWorkflow) (WorkflowStopResponse, error) {
	resp := WorkflowStopResponse{JobID: cmd.JobID}
	// The head is read before the fold: an end recorded after it is
	// followed, one recorded before it is folded.
	head, err := s.store.Head(ctx)
	if err != nil {
		return resp, err
	}
	id, run, err := s.workflowRun(ctx, cmd.UserID, cmd.JobID)
	var we *WorkflowError
	switch {
	case errors.As(err, &we):
		resp.Status, resp.Message = StopNotFound, fmt.Sprintf("Job %s not found", cmd.JobID)
		return resp, nil
	case err != nil:
		return resp, err
	case !run.Open():
		resp.Status, resp.Message = StopStopped, fmt.Sprintf("Job %s has already ended (%s).", cmd.JobID, jobStatus(run))
		return resp, nil
	}
	if _, err := s.Cancel(ctx, Reader{UserID: cmd.UserID}, id.String()); err != nil {
		var nf *JobNotFoundError
		if errors.As(err, &nf) {
			resp.Status, resp.Message = StopNotFound, fmt.Sprintf("Job %s not found", cmd.JobID)
			return resp, nil
		}
		s.log.Error("stop a workflow job", "job_id", id, "error", err.Error())
		resp.Status, resp.Message = StopError, fmt.Sprintf("Job %s could not be stopped; retry", cmd.JobID)
		return resp, nil
	}
	if s.awaitEnd(ctx, id, head, stopWait) {
		resp.Status, resp.Message = StopStopped, fmt.Sprintf("Job %s cancelled successfully.", cmd.JobID)
	} else {
		resp.Status, resp.Message = StopStopping, fmt.Sprintf("Job %s is being cancelled.", cmd.JobID)
	}
	return resp, nil
}

// awaitEnd waits (at most wait) for the end of run id in the log after
// head; false when it did not come, or when too many reads wait already.
func (s *Service) awaitEnd(ctx context.Context, id uuid.UUID, head eventstore.Position, wait time.Duration) bool {
	select {
	case s.awaiting <- struct{}{}:
		defer func() { <-s.awaiting }()
	default:
		return false
	}
	stream := domain.RunStream(id)
	ends := map[string]bool{domain.RunFinished{}.EventType(): true, domain.RunFailed{}.EventType(): true,
		domain.RunCancelled{}.EventType(): true}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := s.store.Follow(fctx, head, func(_ context.Context, batch []eventstore.RecordedEvent) error {
		for _, rec := range batch {
			if rec.StreamID == stream && ends[rec.Type] {
				return errFound
			}
		}
		return nil
	})
	return errors.Is(err, errFound)
}

// jobStatus is the status of a workflow job whose run is folded as run.
func jobStatus(run *domain.Run) string {
	switch run.End().(type) {
	case nil:
		if run.Progressed() {
			return JobInProgress
		}
		return JobQueued
	case domain.RunFinished:
		return JobCompleted
	case domain.RunCancelled:
		return JobCancelled
	}
	return JobFailed
}

// workflowResponse is the state of workflow job id, its run folded as
// run; g is the graph it ran (nil: unknown).
func workflowResponse(id uuid.UUID, run *domain.Run, g *engine.Graph) *WorkflowExecutionResponse {
	info, _ := run.Started()
	flow := info.FlowID.String()
	resp := &WorkflowExecutionResponse{FlowID: flow, JobID: id.String(), Object: "response",
		CreatedTimestamp: createdTimestamp(id), Status: jobStatus(run), Errors: []WorkflowErrorItem{},
		Inputs: json.RawMessage(`{}`), Outputs: json.RawMessage(`{}`), Metadata: json.RawMessage(`{}`)}
	if len(bytes.TrimSpace(info.Inputs)) > 0 && json.Valid(info.Inputs) {
		resp.Inputs = compactJSON(info.Inputs)
	}
	switch e := run.End().(type) {
	case domain.RunFinished:
		resp.Outputs = workflowOutputs(e.Result, g)
	case domain.RunFailed:
		item := WorkflowErrorItem{Error: e.Error, Code: CodeExecutionError, Details: map[string]string{"flow_id": flow}}
		if e.Error == domain.RunInterrupted {
			item.Error = "The job was interrupted: the server process running it stopped before it ended."
			item.Code, item.Details["reason"] = CodeJobInterrupted, domain.RunInterrupted
		}
		resp.Errors = append(resp.Errors, item)
	case domain.RunCancelled:
		resp.Errors = append(resp.Errors, WorkflowErrorItem{Error: "The job was cancelled: " + e.Reason, Code: CodeJobCancelled,
			Details: map[string]string{"flow_id": flow, "reason": e.Reason}})
	}
	return resp
}

// createdTimestamp is when job id was created (the time in its UUIDv7),
// as Python's datetime.isoformat writes it in UTC.
func createdTimestamp(id uuid.UUID) string {
	at, ok := startedAt(id)
	if !ok {
		return ""
	}
	at = at.UTC()
	if at.Nanosecond()/1000 == 0 {
		return at.Format("2006-01-02T15:04:05") + "+00:00"
	}
	return at.Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// terminalVertices are the vertices of g with no outgoing edge, in the
// graph's order (Langflow's get_terminal_nodes).
func terminalVertices(g *engine.Graph) []*engine.Vertex {
	var out []*engine.Vertex
	for _, v := range g.Vertices {
		if len(v.Out) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// flatInputs are a request's flat inputs parsed: the tweaks, the session,
// the inputs recorded with the run and those echoed to its caller.
type flatInputs struct {
	tweaks   engine.Tweaks
	session  string
	recorded json.RawMessage
	echo     json.RawMessage
}

// recordedParams are the parameters of the flat inputs that are recorded
// with a run (the others may carry keys).
var recordedParams = map[string]bool{"input_value": true, "session_id": true}

// parseFlatInputs parses flat inputs (Langflow's parse_flat_inputs, in
// the object's order): "<component_id>.<param>": value tweaks param of
// that component; the first non-empty "<id>.session_id", a string, is the
// session; a key without a dot whose value is an object tweaks that
// component (replacing what came before it); other keys are ignored.
func parseFlatInputs(raw json.RawMessage) (flatInputs, error) {
	out := flatInputs{echo: json.RawMessage(`{}`)}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return out, nil
	}
	members, err := objectMembers(raw)
	if err != nil {
		return out, domain.Invalidf("inputs must be an object")
	}
	out.echo = compactJSON(raw)
	out.tweaks = engine.Tweaks{}
	var recorded []objectMember
	for _, m := range members {
		v, err := decodeNumbers(m.value)
		if err != nil {
			return out, domain.Invalidf("inputs.%s: %v", m.key, err)
		}
		component, param, dotted := strings.Cut(m.key, ".")
		if !dotted {
			if fields, ok := v.(map[string]any); ok {
				out.tweaks[m.key] = fields
			}
			continue
		}
		if param == "session_id" && out.session == "" {
			s, ok := v.(string)
			if !ok {
				return out, domain.Invalidf("inputs.%s must be a string", m.key)
			}
			out.session = s
		}
		fields, ok := out.tweaks[component].(map[string]any)
		if !ok {
			fields = map[string]any{}
			out.tweaks[component] = fields
		}
		fields[param] = v
		if recordedParams[param] {
			recorded = append(recorded, m)
		}
	}
	out.recorded = encodeMembers(recorded)
	return out, nil
}

// objectMember is one member of a JSON object.
type objectMember struct {
	key   string
	value json.RawMessage
}

var errNotObject = errors.New("not a JSON object")

// objectMembers returns the members of a JSON object in their order.
func objectMembers(raw []byte) ([]objectMember, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var out []objectMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, objectMember{key: key, value: v})
	}
	return out, nil
}

// member returns the value of key in a JSON object (ok false when absent,
// null, or raw is no object).
func member(raw []byte, key string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	v, ok := m[key]
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, true
}

// encodeMembers writes members as one JSON object, in their order.
func encodeMembers(members []objectMember) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(encodeJSON(m.key))
		b.WriteByte(':')
		b.Write(compactJSON(m.value))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// decodeNumbers decodes a JSON value, numbers as json.Number (as flows
// hold them).
func decodeNumbers(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// encodeJSON writes v as FastAPI's JSONResponse does: compact, UTF-8,
// nothing escaped for HTML.
func encodeJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(`null`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// compactJSON is raw, valid JSON, without its insignificant spaces.
func compactJSON(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// workflowOutputs converts a run's RunResponse (compact JSON, as
// RunFinished.Result records it) into the outputs of the terminal
// vertices of g, keyed by vertex id (Langflow's converters). Without a
// graph, each ResultData answered is an output vertex of unknown output
// type whose component type is its id's prefix.
func workflowOutputs(result json.RawMessage, g *engine.Graph) json.RawMessage {
	var rr struct {
		Outputs []struct {
			Outputs []json.RawMessage `json:"outputs"`
		} `json:"outputs"`
	}
	if len(result) > 0 {
		_ = json.Unmarshal(result, &rr) // a result that does not parse answers no data
	}
	data := map[string]map[string]json.RawMessage{}
	var order []string
	for _, run := range rr.Outputs {
		for _, item := range run.Outputs {
			var d map[string]json.RawMessage
			if json.Unmarshal(item, &d) != nil {
				continue
			}
			var id string
			if json.Unmarshal(d["component_id"], &id) != nil || id == "" {
				continue
			}
			if _, seen := data[id]; !seen {
				order = append(order, id)
			}
			data[id] = d
		}
	}
	type terminal struct {
		id, typ, componentType, displayName string
		isOutput                            bool
	}
	var vertices []terminal
	if g != nil {
		for _, v := range terminalVertices(g) {
			vertices = append(vertices, terminal{id: v.ID, typ: outputType(v), componentType: v.Type,
				displayName: displayName(v), isOutput: v.IsOutput})
		}
	} else {
		for _, id := range order {
			prefix, _, _ := strings.Cut(id, "-")
			vertices = append(vertices, terminal{id: id, typ: "unknown", componentType: prefix, displayName: id, isOutput: true})
		}
	}
	var outputs []objectMember
	for _, v := range vertices {
		out := WorkflowComponentOutput{Type: v.typ, ComponentID: v.id, Status: JobCompleted}
		meta := []objectMember{{"component_type", encodeJSON(v.componentType)}}
		if d := data[v.id]; len(d) > 0 {
			raw := rawContent(d)
			switch {
			case raw == nil:
			case v.isOutput || v.typ == "data" || v.typ == "dataframe":
				out.Content = simplifyContent(raw, v.typ)
			default:
				meta = append(meta, nonOutputMetadata(raw, v.id, v.displayName, v.componentType, v.typ)...)
			}
			if extra, err := objectMembers(d["metadata"]); err == nil {
				meta = append(meta, extra...)
			}
		}
		out.Metadata = encodeMembers(dedupe(meta))
		outputs = append(outputs, objectMember{v.id, encodeJSON(out)})
	}
	return encodeMembers(outputs)
}

// dedupe keeps each key's last value at its first place (a Python dict's
// update).
func dedupe(members []objectMember) []objectMember {
	at := map[string]int{}
	var out []objectMember
	for _, m := range members {
		if i, ok := at[m.key]; ok {
			out[i].value = m.value
			continue
		}
		at[m.key] = len(out)
		out = append(out, m)
	}
	return out
}

// outputType is a vertex's first output type in lower case (its node's
// declared outputs, else its component's), else its type in lower case.
func outputType(v *engine.Vertex) string {
	if len(v.Node.Outputs) > 0 && len(v.Node.Outputs[0].Types) > 0 {
		return strings.ToLower(v.Node.Outputs[0].Types[0])
	}
	if v.Spec != nil && len(v.Spec.Outputs) > 0 && len(v.Spec.Outputs[0].Types) > 0 {
		return strings.ToLower(v.Spec.Outputs[0].Types[0])
	}
	if v.Type != "" {
		return strings.ToLower(v.Type)
	}
	return "unknown"
}

// rawContent is a ResultData's content: its outputs, else its results,
// else its messages (nil when it has none of them).
func rawContent(d map[string]json.RawMessage) json.RawMessage {
	for _, k := range []string{"outputs", "results", "messages"} {
		if v, ok := d[k]; ok && string(bytes.TrimSpace(v)) != "null" {
			return v
		}
	}
	return nil
}

// simplifyContent is the content an output shows: a message's text, a
// data output's value, else the content as it is.
func simplifyContent(content json.RawMessage, typ string) json.RawMessage {
	if t := bytes.TrimSpace(content); len(t) == 0 || t[0] != '{' {
		return textJSON(content)
	}
	var paths [][]string
	switch typ {
	case "message", "text":
		for _, p := range [][]string{{"message", "message"}, {"text", "message"}, {"message", "text"}, {"message"},
			{"text", "text"}, {"text"}} {
			if v, ok := nested(content, p...); ok && bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) {
				return textJSON(v)
			}
		}
		return content
	case "data":
		paths = [][]string{{"result", "message"}, {"results", "message"}}
	case "dataframe":
		paths = [][]string{{"results", "message"}, {"result", "message"}, {"run_sql_query", "message"}}
	}
	for _, p := range paths {
		if v, ok := nested(content, p...); ok {
			return v
		}
	}
	return content
}

// nonOutputMetadata is what a terminal vertex that is no output shows of
// a message output: the model that answered, the file a SaveToFile wrote.
func nonOutputMetadata(content json.RawMessage, id, name, componentType, typ string) []objectMember {
	if typ != "message" {
		return nil
	}
	var out []objectMember
	if model, ok := nested(content, "model_output", "message", "model_name"); ok {
		out = append(out, objectMember{"source", encodeMembers([]objectMember{{"id", encodeJSON(id)},
			{"display_name", encodeJSON(name)}, {"source", model}})})
	}
	if componentType == "SaveToFile" {
		if path, ok := nested(content, "message", "message"); ok && bytes.HasPrefix(bytes.TrimSpace(path), []byte(`"`)) {
			out = append(out, objectMember{"file_path", textJSON(path)})
		}
	}
	return out
}

// textJSON is raw, a JSON string as the RunResponse writes it (non-ASCII
// escaped, as Python's json.dumps does), written as the answer writes
// text (UTF-8); any other value as it is.
func textJSON(raw json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return raw
	}
	return encodeJSON(s)
}

// nested is the value at keys in nested JSON objects (ok false when a
// step is missing or null).
func nested(raw json.RawMessage, keys ...string) (json.RawMessage, bool) {
	cur := raw
	for _, k := range keys {
		v, ok := member(cur, k)
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}
