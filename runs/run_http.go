package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The run API (contract #50–#53, #55): a thin port onto StartRun. It
// binds Langflow's bodies, calls, and answers RunResponse (or streams
// its frames).

// SimplifiedAPIRequest is the body of the simplified run (every key
// optional). Unlike Langflow 1.6+, which silently runs with defaults when
// the body does not validate, a bad value is a 422.
type SimplifiedAPIRequest struct {
	InputValue      *string       `json:"input_value"`
	InputType       *string       `json:"input_type" binding:"omitempty,oneof=chat text any"`
	OutputType      *string       `json:"output_type" binding:"omitempty,oneof=chat text any debug"`
	OutputComponent *string       `json:"output_component"`
	Tweaks          engine.Tweaks `json:"tweaks"`
	SessionID       *string       `json:"session_id"`
}

// RunBody is the simplified run's body: the request itself, or embedded
// as {"input_request": …, "context": …} (the only way to pass context,
// whose request_variables are variables of the run).
type RunBody struct {
	SimplifiedAPIRequest
	InputRequest *SimplifiedAPIRequest `json:"input_request"`
	Context      map[string]any        `json:"context"`
}

// AdvancedInput is one input of the advanced run (InputValueRequest).
type AdvancedInput struct {
	Components        []string `json:"components"`
	InputValue        *string  `json:"input_value"`
	Session           *string  `json:"session"`
	Type              *string  `json:"type" binding:"omitempty,oneof=chat text any"`
	ClientRequestTime *int64   `json:"client_request_time"`
}

// AdvancedBody is the advanced run's body (every key optional).
type AdvancedBody struct {
	Inputs    []AdvancedInput `json:"inputs" binding:"omitempty,max=100,dive"`
	Outputs   []string        `json:"outputs" binding:"omitempty,max=1000"`
	Tweaks    engine.Tweaks   `json:"tweaks"`
	Stream    bool            `json:"stream"`
	SessionID *string         `json:"session_id"`
}

// RunQuery is the simplified run's query.
type RunQuery struct {
	Stream bool   `form:"stream"`
	UserID *int64 `form:"user_id"`
}

// eventStream is the content type of the run's stream (Starlette adds the
// charset to text types).
const eventStream = "text/event-stream; charset=utf-8"

type runPort struct {
	svc *Service
}

// RegisterRun serves the run API of svc on s.
func RegisterRun(s *httpapi.Server, svc *Service) {
	p := &runPort{svc: svc}
	ref := httpapi.Param{Name: "flow_id_or_name", In: "path", Description: "The flow's id, or its endpoint name"}
	stream := httpapi.Param{Name: "stream", In: "query", Type: "boolean", Default: false,
		Description: "Stream add_message, token and end frames ({\"event\": …, \"data\": …}\\n\\n) as text/event-stream"}
	user := httpapi.Param{Name: "user_id", In: "query", Type: "integer",
		Description: "Look an endpoint name up among this user's flows only"}
	run := access.Own("flows", "run")
	common := "Runs the flow to its end as the API key's user, who must own it or hold flows.run where it lives " +
		"(403 \"You do not have permission to run this flow\" for a flow the caller may read only; 404 \"Flow identifier " +
		"<x> not found\" otherwise). Body: Langflow's SimplifiedAPIRequest, top level or embedded as {\"input_request\", " +
		"\"context\"}; unlike Langflow a body that does not validate is 422, not a run with defaults. Tweaks by node id, " +
		"display name or globally; session_id defaults to the flow id and is written into every vertex. With stream=true " +
		"the answer is text/event-stream of add_message, token and end frames, and, unlike Langflow, a failed run ends " +
		"with an error frame {\"event\": \"error\", \"data\": {\"error\": <detail>}}. Recorded as a run (stream run-<id>)."
	for _, r := range []struct {
		path, summary, source, what string
		params                      []httpapi.Param
	}{
		{"/api/v1/run/{flow_id_or_name}", "Simplified Run Flow", SourceDraft, "Run the flow as it stands (its draft). ", []httpapi.Param{ref, stream, user}},
		{"/api/v1/run/dev/{flow_id_or_name}", "Simplified Run Dev Flow", SourceDraft, "Run the flow's draft. ", []httpapi.Param{ref, stream, user}},
		{"/api/v1/run/online/{flow_id_or_name}", "Simplified Run Online Flow", SourceOnline,
			"Run the flow's published online version (folded from its history; 404 when none is online). ", []httpapi.Param{ref, stream}},
		{"/api/v1/run/release/{flow_id_or_name}", "Simplified Run Release Flow", SourceRelease,
			"Run the flow's version named v (folded from its history; 404 when it has none). ",
			[]httpapi.Param{ref, {Name: "v", In: "query", Required: true, Description: "The version to run"}, stream}},
	} {
		s.Handle(httpapi.Operation{Method: http.MethodPost, Path: r.path, Tag: "Base", Summary: r.summary, APIKey: true,
			Description: r.what + common, Access: run, Params: r.params, Body: RunBody{}, LargeBody: true,
			Handler: p.simple(r.source)})
	}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/run/advanced/{flow_id_or_name}", Tag: "Base",
		Summary: "Experimental Run Flow", APIKey: true, Access: run, Params: []httpapi.Param{ref}, Body: AdvancedBody{}, LargeBody: true,
		Description: "Run the flow once per input (each a run of its own, answered in order): an input goes to the input " +
			"vertices its components name (all when none; type defaults to any), outputs name the vertices answered (all " +
			"output vertices when none). session_id is the chat session of every run (Langflow's graph session cache is " +
			"not kept). The answer leaves null fields out.",
		Handler: p.advanced})
}

// requestVariables are the variables of a request: X-LANGFLOW-GLOBAL-VAR-*
// and X-SKILLFLAW-GLOBAL-VAR-* headers, over context.request_variables.
func requestVariables(h http.Header, context map[string]any) map[string]string {
	out := variables(h)
	const prefix = "X-SKILLFLAW-GLOBAL-VAR-"
	for k, vs := range h {
		if up := strings.ToUpper(k); strings.HasPrefix(up, prefix) && len(up) > len(prefix) && len(vs) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[up[len(prefix):]] = vs[0]
		}
	}
	if rv, ok := context["request_variables"].(map[string]any); ok {
		for k, v := range rv {
			s, ok := v.(string)
			if !ok {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			if _, set := out[strings.ToUpper(k)]; !set {
				out[strings.ToUpper(k)] = s
			}
		}
	}
	return out
}

// bindOptional binds an optional JSON body (none or null: zero dst).
func bindOptional(c *gin.Context, dst any) ([]byte, bool) {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpapi.Fail(c, &httpapi.BodyError{Err: err})
		return nil, false
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, true
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	return raw, httpapi.BindJSON(c, dst)
}

// resolve finds the flow a request names and the caller.
func (p *runPort) resolve(c *gin.Context, user *int64) (StartRun, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return StartRun{}, false
	}
	ref := c.Param("flow_id_or_name")
	id, err := p.svc.Resolve(c.Request.Context(), ref, caller.UserID, user)
	if err != nil {
		failRun(c, err)
		return StartRun{}, false
	}
	return StartRun{FlowID: id, Ref: ref, UserID: caller.UserID, Metadata: httpapi.Metadata(c, p.svc.now())}, true
}

func (p *runPort) simple(source string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var q RunQuery
		if !httpapi.BindQuery(c, &q) {
			return
		}
		var body RunBody
		raw, ok := bindOptional(c, &body)
		if !ok {
			return
		}
		req := body.SimplifiedAPIRequest
		if body.InputRequest != nil {
			req = *body.InputRequest
		}
		cmd, ok := p.resolve(c, q.UserID)
		if !ok {
			return
		}
		cmd.Source, cmd.Version = source, c.Query("v")
		if source == SourceRelease && cmd.Version == "" {
			httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "missing", Loc: []any{"query", "v"},
				Msg: "Field required"}}})
			return
		}
		cmd.API, cmd.Stream, cmd.Tweaks = APIRun, q.Stream, req.Tweaks
		cmd.InputValue, cmd.InputType, cmd.OutputType = req.InputValue, deref(req.InputType, "chat"), deref(req.OutputType, "chat")
		cmd.OutputComponent, cmd.SessionID = deref(req.OutputComponent, ""), deref(req.SessionID, "")
		cmd.Variables = requestVariables(c.Request.Header, body.Context)
		cmd.InputsRaw = recordedInputs(raw)
		job, err := p.svc.StartRun(c.Request.Context(), cmd)
		if err != nil {
			failRun(c, err)
			return
		}
		if q.Stream {
			streamRun(c, job)
			return
		}
		out, err := job.Result(c.Request.Context())
		if err != nil {
			failRun(c, err)
			return
		}
		c.Data(http.StatusOK, "application/json", Compact(RunResponse(out.Session, out)))
	}
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// recordedInputs are the request's inputs as a run records them: the body
// without its tweaks (which may carry keys) and context.
func recordedInputs(raw []byte) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	if in, ok := m["input_request"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(in, &inner) == nil {
			m = inner
		}
	}
	delete(m, "tweaks")
	delete(m, "context")
	delete(m, "input_request")
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// streamRun writes a run's frames as they come; a client that goes away
// cancels the run (recorded as cancelled, with what it did until then).
func streamRun(c *gin.Context, job *Job) {
	c.Status(http.StatusOK)
	c.Header("Content-Type", eventStream)
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()
	err := job.Stream(c.Request.Context(), func(b []byte) error {
		if _, err := c.Writer.Write(b); err != nil {
			return err
		}
		c.Writer.Flush()
		return nil
	})
	if err != nil {
		job.Cancel(domain.RunClientGone)
	}
}

func (p *runPort) advanced(c *gin.Context) {
	var body AdvancedBody
	if _, ok := bindOptional(c, &body); !ok {
		return
	}
	base, ok := p.resolve(c, nil)
	if !ok {
		return
	}
	inputs := body.Inputs
	if len(inputs) == 0 {
		empty := ""
		inputs = []AdvancedInput{{InputValue: &empty}}
	}
	var session any
	if body.SessionID != nil {
		session = *body.SessionID
	}
	outs := make([]*RunOutput, 0, len(inputs))
	for _, in := range inputs {
		cmd := base
		cmd.API, cmd.Advanced, cmd.Stream, cmd.Tweaks, cmd.Outputs = APIRunAdvanced, true, body.Stream, body.Tweaks, body.Outputs
		cmd.InputValue, cmd.InputType, cmd.InputComponents = in.InputValue, deref(in.Type, "any"), in.Components
		cmd.SessionID = deref(body.SessionID, deref(in.Session, ""))
		cmd.Variables = requestVariables(c.Request.Header, nil)
		if b, err := json.Marshal(in); err == nil {
			cmd.InputsRaw = b
		}
		job, err := p.svc.StartRun(c.Request.Context(), cmd)
		if err != nil {
			failAdvanced(c, err)
			return
		}
		out, err := job.Result(c.Request.Context())
		if err != nil {
			failAdvanced(c, err)
			return
		}
		outs = append(outs, out)
	}
	c.Data(http.StatusOK, "application/json", Compact(RunResponse(session, outs...)))
}

// failAdvanced answers an advanced run's failure as Langflow does there:
// a plain 500 detail.
func failAdvanced(c *gin.Context, err error) {
	var re *RunError
	if errors.As(err, &re) && !re.Cancelled && !re.Invalid {
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusInternalServerError, Detail: re.Detail})
		return
	}
	failRun(c, err)
}

// failRun maps the run API's errors to Langflow's answers (runtime
// reference §2.6): a run that failed is 500 with an APIException detail
// (a JSON string), 404 when its message says "not found", 400 for a bad
// UUID text.
func failRun(c *gin.Context, err error) {
	var (
		tc   *TweakConflictError
		nf   *FlowNotFoundError
		nd   *FlowNoDataError
		vnf  *VersionNotFoundError
		re   *RunError
		busy *BusyError
	)
	switch {
	case errors.As(err, &tc):
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: tc.Error()}
	case errors.As(err, &nf):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: nf.Error()}
	case errors.As(err, &nd):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: nd.Error()}
	case errors.As(err, &re) && re.Invalid:
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: re.Detail}
	case errors.As(err, &vnf):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: vnf.Error()}
	case errors.As(err, &re) && re.Cancelled:
		err = &httpapi.StatusError{Status: http.StatusServiceUnavailable, Detail: re.Detail}
	case errors.As(err, &re) && strings.Contains(re.Detail, "badly formed hexadecimal UUID string"):
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: re.Detail}
	case errors.As(err, &re) && strings.Contains(re.Detail, "not found"):
		err = &httpapi.StatusError{Status: http.StatusNotFound, Detail: re.Detail}
	case errors.As(err, &re):
		err = &httpapi.StatusError{Status: http.StatusInternalServerError, Detail: APIExceptionDetail(re.Detail)}
	case errors.As(err, &busy):
		err = &httpapi.StatusError{Status: http.StatusTooManyRequests, Detail: busy.Error(), Header: http.Header{"Retry-After": {"1"}}}
	case errors.Is(err, ErrStopping):
		err = &httpapi.StatusError{Status: http.StatusServiceUnavailable, Detail: "The server is shutting down; retry",
			Header: http.Header{"Retry-After": {"1"}}}
	case errors.Is(err, ErrQueueUnavailable):
		err = &httpapi.StatusError{Status: http.StatusServiceUnavailable, Detail: ErrQueueUnavailable.Error(),
			Header: http.Header{"Retry-After": {"5"}}}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return // the client went away
	}
	httpapi.Fail(c, err)
}

// APIExceptionDetail is Langflow's APIException detail: an ExceptionBody
// as compact JSON text.
func APIExceptionDetail(msg string) string {
	b, _ := json.Marshal(struct {
		Message     string  `json:"message"`
		Traceback   *string `json:"traceback"`
		Description *string `json:"description"`
		Code        *string `json:"code"`
		Suggestion  *string `json:"suggestion"`
	}{Message: msg})
	return string(b)
}
