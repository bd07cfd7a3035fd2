package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The build API (contract #1, #2, #4–#7): a thin port onto the Service.
// It binds, calls, maps errors and writes the events.

// BuildBody is the body of Build Flow (every key optional): the inputs,
// a graph to run instead of the stored flow, and files for the chat
// input.
type BuildBody struct {
	Inputs *Inputs          `json:"inputs"`
	Data   *FlowDataRequest `json:"data"`
	Files  []string         `json:"files"`
	raw    map[string]json.RawMessage
}

// FlowDataRequest is a graph sent with the request.
type FlowDataRequest struct {
	Nodes    []map[string]any `json:"nodes" binding:"required"`
	Edges    []map[string]any `json:"edges" binding:"required"`
	Viewport map[string]any   `json:"viewport"`
}

// BuildQuery is Build Flow's query.
type BuildQuery struct {
	StopComponentID  string `form:"stop_component_id"`
	StartComponentID string `form:"start_component_id"`
	LogBuilds        bool   `form:"log_builds,default=true"`
	FlowName         string `form:"flow_name"`
	EventDelivery    string `form:"event_delivery,default=polling" binding:"oneof=polling streaming direct"`
}

// JobResponse is Build Flow's answer (polling and streaming delivery).
type JobResponse struct {
	JobID string `json:"job_id"`
}

// CancelResponse is Cancel Build's answer (Langflow's CancelFlowResponse).
type CancelResponse struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// Delivery modes of the events.
const (
	Polling   = "polling"
	Streaming = "streaming"
	Direct    = "direct"
)

// ndjson is the content type of the events (no charset, as Starlette
// writes it).
const ndjson = "application/x-ndjson"

type port struct {
	svc   *Service
	clock func() time.Time
}

// Register serves the build API of svc on s.
func Register(s *httpapi.Server, svc *Service) {
	p := &port{svc: svc, clock: svc.opts.Clock}
	flowParam := httpapi.Param{Name: "flow_id", In: "path", Format: "uuid"}
	jobParam := httpapi.Param{Name: "job_id", In: "path"}
	buildParams := []httpapi.Param{flowParam,
		{Name: "stop_component_id", In: "query", Description: "Build only this component and what it needs"},
		{Name: "start_component_id", In: "query", Description: "Build from this component on (and what it needs)"},
		{Name: "log_builds", In: "query", Type: "boolean", Default: true, Description: "Record the vertex builds (the monitor's builds)"},
		{Name: "flow_name", In: "query", Description: "Name of the flow run from data"},
		{Name: "event_delivery", In: "query", Default: Polling, Enum: []string{Streaming, Polling, Direct},
			Description: "polling and streaming answer {job_id}; direct answers the events themselves"}}
	eventsParams := []httpapi.Param{jobParam, {Name: "event_delivery", In: "query", Default: Streaming,
		Enum: []string{Streaming, Polling, Direct}}}
	run := access.Own("flows", "run")
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/build/{flow_id}/flow", Tag: "Chat", Summary: "Build Flow",
		Description: "Run a flow (its stored draft, or the graph in data) as a job and answer {job_id}, or the events " +
			"themselves with event_delivery=direct. The caller must own the flow or hold flows.run where it lives: a flow " +
			"the caller may read but not run is 403, any other is 404. The job's events, messages, vertex builds and " +
			"transactions are recorded as events; at most SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER jobs of a user run at " +
			"once on a process (429 beyond).",
		Access: run, Params: buildParams, Body: BuildBody{}, Response: JobResponse{}, Handler: p.build})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/build/{job_id}/events", Tag: "Chat", Summary: "Get Build Events",
		Description: "The job's events: streaming (default) writes every event from the first as they come until the " +
			"job ends; polling answers the events no poll took yet (waiting for one); direct streams, and cancels the " +
			"job when the client goes away. Any server process answers (from the log, without the live tokens, for " +
			"a job running on another). Jobs the caller may not run are 404.",
		Access: run, Params: eventsParams, Handler: p.events(false)})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/build/{job_id}/cancel", Tag: "Chat", Summary: "Cancel Build",
		Description: "Cancel a job (recorded as cancelled). A finished job answers success as well.",
		Access:      run, Params: []httpapi.Param{jobParam}, Response: CancelResponse{}, Handler: p.cancel(false)})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/build_public_tmp/{flow_id}/flow", Tag: "Chat",
		Summary: "Build Public Tmp", Public: true,
		Description: "Run a PUBLIC flow for an anonymous client named by its client_id cookie (400 without it; 403 \"Flow " +
			"is not public\" for any other flow), as the flow's owner, recorded under the client's virtual flow id " +
			"uuid5(NAMESPACE_DNS, \"<client_id>_<flow_id>\"). The stored flow runs, with the owner's variables: data in " +
			"the body and X-LANGFLOW-GLOBAL-VAR-* headers are ignored.",
		Params: buildParams, Body: BuildBody{}, Response: JobResponse{}, Handler: p.buildPublic})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/build_public_tmp/{job_id}/events", Tag: "Chat",
		Summary: "Get Public Build Events", Public: true,
		Description: "The events of a public job, for the client_id cookie that started it (any other is 404).",
		Params:      eventsParams, Handler: p.events(true)})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/build_public_tmp/{job_id}/cancel", Tag: "Chat",
		Summary: "Cancel Public Build", Public: true,
		Description: "Cancel a public job, for the client_id cookie that started it (any other is 404).",
		Params:      []httpapi.Param{jobParam}, Response: CancelResponse{}, Handler: p.cancel(true)})
}

// inputKeys are InputValueRequest's fields (it forbids any other).
var inputKeys = []string{"input_value", "session", "components", "type", "client_request_time"}

// bindBody reads the optional body: none, or a JSON object.
func bindBody(c *gin.Context) (BuildBody, bool) {
	var body BuildBody
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpapi.Fail(c, err)
		return body, false
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return body, true
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	if !httpapi.BindJSON(c, &body) {
		return body, false
	}
	if err := json.Unmarshal(raw, &body.raw); err != nil {
		httpapi.Fail(c, err)
		return body, false
	}
	if in := body.raw["inputs"]; len(in) > 0 && string(in) != "null" {
		var fields map[string]any
		if err := json.Unmarshal(in, &fields); err == nil {
			var items []httpapi.ErrorItem
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !slices.Contains(inputKeys, k) {
					items = append(items, httpapi.ErrorItem{Type: "extra_forbidden", Loc: []any{"body", "inputs", k},
						Msg: "Extra inputs are not permitted", Input: fields[k]})
				}
			}
			if len(items) > 0 {
				httpapi.Fail(c, &httpapi.ValidationError{Items: items})
				return body, false
			}
		}
	}
	return body, true
}

// variables are the request's X-LANGFLOW-GLOBAL-VAR-* headers, by
// upper-cased name (dashes kept, as Langflow does).
func variables(h http.Header) map[string]string {
	const prefix = "X-LANGFLOW-GLOBAL-VAR-"
	var out map[string]string
	for k, vs := range h {
		if up := strings.ToUpper(k); strings.HasPrefix(up, prefix) && len(up) > len(prefix) && len(vs) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[up[len(prefix):]] = vs[0]
		}
	}
	return out
}

// command binds a build request into the use case's command.
func (p *port) command(c *gin.Context) (StartBuild, BuildQuery, bool) {
	var q BuildQuery
	id, ok := httpapi.PathUUID(c, "flow_id")
	if !ok || !httpapi.BindQuery(c, &q) {
		return StartBuild{}, q, false
	}
	body, ok := bindBody(c)
	if !ok {
		return StartBuild{}, q, false
	}
	cmd := StartBuild{FlowID: id, Inputs: body.Inputs, InputsRaw: body.raw["inputs"], Files: body.Files,
		StartID: q.StartComponentID, StopID: q.StopComponentID, FlowName: q.FlowName, LogBuilds: q.LogBuilds,
		Variables: variables(c.Request.Header), Metadata: httpapi.Metadata(c, p.clock())}
	if body.Data != nil {
		cmd.Data = body.raw["data"]
	}
	return cmd, q, true
}

func (p *port) build(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	cmd, q, ok := p.command(c)
	if !ok {
		return
	}
	cmd.UserID = caller.UserID
	p.start(c, cmd, q)
}

func (p *port) buildPublic(c *gin.Context) {
	client, ok := clientID(c)
	if !ok {
		return
	}
	cmd, q, ok := p.command(c)
	if !ok {
		return
	}
	cmd.Public, cmd.Data = &Public{ClientID: client}, nil
	cmd.Metadata.ActorUserID = 0
	p.start(c, cmd, q)
}

func (p *port) start(c *gin.Context, cmd StartBuild, q BuildQuery) {
	job, err := p.svc.StartBuild(c.Request.Context(), cmd)
	if err != nil {
		fail(c, err)
		return
	}
	if q.EventDelivery != Direct {
		c.JSON(http.StatusOK, JobResponse{JobID: job.ID.String()})
		return
	}
	ev := &Events{s: p.svc, id: job.ID, f: job.j.feed, j: job.j}
	stream(c, ev, true)
}

// clientID is the public client's client_id cookie (400 without one).
func clientID(c *gin.Context) (string, bool) {
	ck, err := c.Request.Cookie("client_id")
	if err != nil || ck.Value == "" {
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusBadRequest, Detail: "No client_id cookie found"})
		return "", false
	}
	return ck.Value, true
}

func (p *port) reader(c *gin.Context, public bool) (Reader, bool) {
	if public {
		client, ok := clientID(c)
		return Reader{Public: &Public{ClientID: client}}, ok
	}
	caller, ok := auth.CallerOf(c)
	return Reader{UserID: caller.UserID}, ok
}

func (p *port) events(public bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		var q struct {
			EventDelivery string `form:"event_delivery,default=streaming" binding:"oneof=polling streaming direct"`
		}
		r, ok := p.reader(c, public)
		if !ok || !httpapi.BindQuery(c, &q) {
			return
		}
		ev, err := p.svc.Events(c.Request.Context(), r, c.Param("job_id"))
		if err != nil {
			fail(c, err)
			return
		}
		if q.EventDelivery != Polling {
			stream(c, ev, q.EventDelivery == Direct)
			return
		}
		body, err := ev.Poll(c.Request.Context())
		if err != nil {
			return // the client went away
		}
		c.Data(http.StatusOK, ndjson, body)
	}
}

// stream writes the job's events as they come. A client that goes away
// cancels the job, as Langflow does: under direct delivery always, under
// streaming when it was the last reader streaming the job on this process
// (several may follow one job here; the job goes on while one does). A
// job cancelled so is recorded as cancelled, with what it did until then.
func stream(c *gin.Context, ev *Events, direct bool) {
	c.Status(http.StatusOK)
	c.Header("Content-Type", ndjson)
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()
	ctx := c.Request.Context()
	err := ev.Stream(ctx, func(b []byte) error {
		if _, err := c.Writer.Write(b); err != nil {
			return err
		}
		c.Writer.Flush()
		return nil
	})
	switch {
	case err == nil:
	case direct:
		ev.CancelIfRunning(context.WithoutCancel(ctx), domain.RunClientGone)
	default:
		ev.LastStreamerGone(context.WithoutCancel(ctx))
	}
}

func (p *port) cancel(public bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := p.reader(c, public)
		if !ok {
			return
		}
		done, err := p.svc.Cancel(c.Request.Context(), r, c.Param("job_id"))
		if err != nil {
			fail(c, err)
			return
		}
		if !done {
			c.JSON(http.StatusOK, CancelResponse{Success: false, Message: "Failed to cancel flow build"})
			return
		}
		c.JSON(http.StatusOK, CancelResponse{Success: true, Message: "Flow build cancelled successfully"})
	}
}

// fail maps the use cases' errors to answers: not found jobs 404 with
// Langflow's texts, the running-jobs limit 429, a shutdown 503, the rest
// as every handler does.
func fail(c *gin.Context, err error) {
	var nf *JobNotFoundError
	var busy *BusyError
	switch {
	case errors.As(err, &nf):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: nf.Error()}
	case errors.Is(err, ErrNoEventTask):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: ErrNoEventTask.Error()}
	case errors.As(err, &busy):
		err = &httpapi.StatusError{Status: http.StatusTooManyRequests, Detail: busy.Error(), Header: http.Header{"Retry-After": {"1"}}}
	case errors.Is(err, ErrStopping):
		err = &httpapi.StatusError{Status: http.StatusServiceUnavailable, Detail: "The server is shutting down; retry",
			Header: http.Header{"Retry-After": {"1"}}}
	}
	httpapi.Fail(c, err)
}
