package runs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The v2 workflow API (contract #214–#216): a thin port onto
// ExecuteWorkflow, WorkflowStatus and StopWorkflow. It binds Langflow's
// bodies, calls, maps errors (structured details) and writes the answers
// as FastAPI's JSONResponse does.

// WorkflowRequest is Execute Workflow's body (Langflow's
// WorkflowExecutionRequest, extra="forbid": any other key is 422
// extra_forbidden).
type WorkflowRequest struct {
	Background bool `json:"background"`
	Stream     bool `json:"stream"`
	// FlowID is the flow's id or endpoint name.
	FlowID *string `json:"flow_id" binding:"required"`
	// Inputs are flat: {"<component_id>.<param>": value}.
	Inputs map[string]any `json:"inputs"`
}

// workflowRequestKeys are WorkflowRequest's keys (it forbids any other).
var workflowRequestKeys = map[string]bool{"background": true, "stream": true, "flow_id": true, "inputs": true}

// WorkflowStopRequest is Stop Workflow's body.
type WorkflowStopRequest struct {
	// JobID is the job's id (a string or an integer, as the contract
	// allows; only UUIDs name jobs).
	JobID any `json:"job_id" binding:"required"`
}

// WorkflowStatusQuery is Get Workflow Status's query.
type WorkflowStatusQuery struct {
	JobID string `form:"job_id"`
}

type workflowPort struct {
	svc *Service
}

// RegisterWorkflow serves the v2 workflow API (#214–#216) of svc on s.
func RegisterWorkflow(s *httpapi.Server, svc *Service) {
	p := &workflowPort{svc: svc}
	run := access.Own("flows", "run")
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: WorkflowPath, Tag: "Workflow", Summary: "Execute Workflow",
		APIKey: true, Access: run, Body: WorkflowRequest{}, Response: WorkflowExecutionResponse{},
		Description: "Execute a workflow with support for sync, stream, and background modes. The flow (id or endpoint " +
			"name) runs as the API key's user, who must own it or hold flows.run where it lives (404 FLOW_NOT_FOUND " +
			"otherwise, 403 FORBIDDEN for a flow the caller may only read). inputs are flat, {\"<component_id>.<param>\": " +
			"value}, each a tweak of that component; \"<id>.session_id\" sets the session. Sync (default) answers the " +
			"WorkflowExecutionResponse once the run ended (a failed run is status failed with its errors, not an HTTP " +
			"error): outputs of the terminal vertices keyed by vertex id. background answers a WorkflowJobResponse " +
			"(object \"job\", status queued) once the job is recorded; stream answers text/event-stream of add_message, " +
			"token and end frames, as /api/v1/run?stream=true. Not both (422). The job id is the run's id.",
		Handler: p.execute})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: WorkflowPath, Tag: "Workflow", Summary: "Get Workflow Status",
		APIKey: true, Access: run, Response: WorkflowExecutionResponse{},
		Params: []httpapi.Param{{Name: "job_id", In: "query", Description: "Job ID to query"}},
		Description: "Get status of workflow job by job ID: queued, in_progress, completed (with its outputs), failed " +
			"(with its errors; a job whose server process stopped is failed JOB_INTERRUPTED once it is closed) or " +
			"cancelled, always as a WorkflowExecutionResponse. Read from the event log: every server process answers " +
			"the same, across restarts. 400 MISSING_PARAMETER without job_id; 404 JOB_NOT_FOUND for an id that names no " +
			"workflow job the caller may see (a malformed one included).",
		Handler: p.status})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: WorkflowPath + "/stop", Tag: "Workflow", Summary: "Stop Workflow",
		APIKey: true, Access: run, Body: WorkflowStopRequest{}, Response: WorkflowStopResponse{},
		Description: "Stop a running workflow execution: the job is cancelled (recorded as cancelled) wherever it runs. " +
			"status is stopped once its end is recorded (at once for a job that had ended), stopping when its end is " +
			"not recorded within a few seconds; 404 with status not_found for a job the caller may not see, 500 with " +
			"status error when the cancel could not be passed on.",
		Handler: p.stop})
}

func (p *workflowPort) execute(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpapi.Fail(c, &httpapi.BodyError{Err: err})
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var body WorkflowRequest
	if !httpapi.BindJSON(c, &body) {
		return
	}
	members, err := objectMembers(raw)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var extra []httpapi.ErrorItem
	for _, m := range members {
		if !workflowRequestKeys[m.key] {
			v, _ := decodeNumbers(m.value)
			extra = append(extra, httpapi.ErrorItem{Type: "extra_forbidden", Loc: []any{"body", m.key},
				Msg: "Extra inputs are not permitted", Input: v})
		}
	}
	if len(extra) > 0 {
		httpapi.Fail(c, &httpapi.ValidationError{Items: extra})
		return
	}
	if body.Background && body.Stream {
		input, _ := decodeNumbers(raw)
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: []any{"body"},
			Msg: "Value error, " + ErrBackgroundAndStream.Error(), Input: input, Ctx: map[string]any{"error": map[string]any{}}}}})
		return
	}
	inputs, _ := member(raw, "inputs")
	ctx := c.Request.Context()
	res, err := p.svc.ExecuteWorkflow(ctx, ExecuteWorkflow{FlowRef: *body.FlowID, UserID: caller.UserID, Inputs: inputs,
		Background: body.Background, Stream: body.Stream, Variables: requestVariables(c.Request.Header, nil),
		Metadata: httpapi.Metadata(c, p.svc.now())})
	switch {
	case err != nil:
		failWorkflow(c, err)
	case res.Queued != nil:
		writeWorkflowJSON(c, http.StatusOK, res.Queued)
	case res.Response != nil:
		writeWorkflowJSON(c, http.StatusOK, res.Response)
	default:
		streamRun(c, res.Job)
	}
}

func (p *workflowPort) status(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q WorkflowStatusQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	resp, err := p.svc.WorkflowStatus(c.Request.Context(), WorkflowStatus{UserID: caller.UserID, JobID: q.JobID})
	if err != nil {
		failWorkflow(c, err)
		return
	}
	writeWorkflowJSON(c, http.StatusOK, resp)
}

func (p *workflowPort) stop(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var body WorkflowStopRequest
	if !httpapi.BindJSON(c, &body) {
		return
	}
	var id string
	switch v := body.JobID.(type) {
	case string:
		id = v
	case float64:
		id = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "string_type", Loc: []any{"body", "job_id"},
			Msg: "Input should be a valid string", Input: v}}})
		return
	}
	resp, err := p.svc.StopWorkflow(c.Request.Context(), StopWorkflow{UserID: caller.UserID, JobID: id})
	if err != nil {
		failWorkflow(c, err)
		return
	}
	status := http.StatusOK
	switch resp.Status {
	case StopNotFound:
		status = http.StatusNotFound
	case StopError:
		status = http.StatusInternalServerError
	}
	writeWorkflowJSON(c, status, resp)
}

// writeWorkflowJSON writes v as FastAPI's JSONResponse does (compact,
// UTF-8, nothing escaped for HTML).
func writeWorkflowJSON(c *gin.Context, status int, v any) {
	c.Data(status, "application/json", encodeJSON(v))
}

// failWorkflow maps the workflow API's errors to answers: a WorkflowError
// is its structured detail with its code's status; a client gone is not
// answered; the rest as every handler does.
func failWorkflow(c *gin.Context, err error) {
	var we *WorkflowError
	switch {
	case errors.As(err, &we):
		se := &httpapi.StatusError{Status: http.StatusInternalServerError, Detail: we}
		switch we.Code {
		case CodeFlowNotFound, CodeJobNotFound:
			se.Status = http.StatusNotFound
		case CodeForbidden:
			se.Status = http.StatusForbidden
		case CodeInvalidFlowData, CodeMissingParameter:
			se.Status = http.StatusBadRequest
		case CodeServiceBusy, CodeServiceUnavailable:
			se.Status, se.Header = http.StatusServiceUnavailable, http.Header{"Retry-After": {"1"}}
		}
		err = se
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		if c.Request.Context().Err() != nil {
			return // the client went away
		}
	}
	httpapi.Fail(c, err)
}
