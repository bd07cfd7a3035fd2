package agentic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The assistant's HTTP port (contract #193–#196): it binds the
// AssistantRequest, calls the Service and answers JSON, or the
// text/event-stream of assist/stream. Errors: 400 a configuration that
// cannot serve the request (no or unknown provider or model, a missing
// API key), 404 an unknown built-in flow or a flow the caller may not
// see, 403 a flow it reads but may not run, 422 an answer that did not
// validate after every attempt, 400 too a model call that failed and a
// built-in flow's run that failed (its error as detail): what fails there
// is the model's server or the configuration, not this one (Langflow
// answers 500; SkillFlaw keeps 5xx for its own faults).

const noCode = " The assistant never generates or executes code: its answers are text and names of existing components."

type port struct{ svc *Service }

// Register serves the assistant's operations of svc on s.
func Register(s *httpapi.Server, svc *Service) {
	p := &port{svc: svc}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/agentic/execute/{flow_name}", Tag: "Agentic",
		Summary: "Execute Named Flow", Access: access.Own("flows", "run"), Body: Request{}, Response: ExecuteResult{},
		Description: "Execute a named flow from the flows directory: one of the assistant's built-in flows (" +
			strings.Join(FlowNames(), ", ") + "), run through the run service as the caller in the place of flow_id (which " +
			"the caller must own or hold flows.run on; one it may not see is 404). Its chat input is the flow's components and " +
			"input_value; its model the request's provider and model_name, else check-config's defaults. Answers " +
			"{\"flow_name\", \"result\": <the chat output's text>, \"session_id\"}; an unknown flow_name is 404 " +
			"{\"detail\": \"Flow <name> not found\"}; no configured or an unknown provider, or a missing API key, 400; a run " +
			"that failed (the model unreachable …) 400 with its error (Langflow: 500). Recorded as a run (api \"agentic\")." + noCode,
		Handler: p.execute})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/agentic/check-config", Tag: "Agentic",
		Summary: "Check Assistant Config", Access: access.SignedIn(), Response: Config{},
		Description: "Check if the SkillFlaw Assistant is properly configured.\n\nReturns available providers with their " +
			"configured status and available models: the active providers of the model catalogue the caller may use (the " +
			"X-Tenant-Id tenant's own when the caller holds a privilege there, and the built-in ones), each with its active " +
			"language models not marked not supported, its default model (the one marked default, else the first) and whether " +
			"it is configured (it needs no API key, or its variable is a config of the tenant the caller may read, or — when " +
			"the server allows it — an environment variable). default_provider is the first configured provider." + noCode,
		Handler: p.checkConfig})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/agentic/assist", Tag: "Agentic",
		Summary: "Assist", Access: access.Own("flows", "run"), Body: Request{}, Response: AssistResult{},
		Description: "Chat with the SkillFlaw Assistant: it answers input_value about flow flow_id (which the caller must " +
			"own or hold flows.run on; one it may not see is 404) with a validated JSON object {\"result\": {\"answer\", " +
			"\"suggestions\": [{\"component\", \"reason\"}]}, \"validated\": true, \"validation_attempts\", \"provider\", " +
			"\"model_name\"}. Every suggested component is a component type of the engine; an answer that is not such an " +
			"object is asked again up to max_retries times (default 3), then refused with 422 {\"detail\": \"The assistant's " +
			"answer did not validate after N attempts: ...\"}. 400: no configured or an unknown provider or model, a missing " +
			"API key, or a model call that failed." + noCode,
		Handler: p.assist})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/agentic/assist/stream", Tag: "Agentic",
		Summary: "Assist Stream", Access: access.Own("flows", "run"), Body: Request{},
		Description: "The assistant's answer (as assist) as a text/event-stream of data: frames: {\"event\": \"progress\", " +
			"\"step\": \"generating\"|\"validating\"|\"validated\"|\"validation_failed\"|\"retrying\", \"attempt\", " +
			"\"max_attempts\"}, {\"event\": \"token\", \"chunk\"} (the model's answer as it comes), then {\"event\": \"complete\", " +
			"\"data\": <assist's answer>} or {\"event\": \"error\", \"message\"}. Errors found before the stream starts (flow " +
			"not found, not configured) are answered as by assist." + noCode,
		Handler: p.stream})
}

func (p *port) execute(c *gin.Context) {
	var body Request
	if !httpapi.BindJSON(c, &body) {
		return
	}
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	res, err := p.svc.Execute(c.Request.Context(), caller.UserID, c.Param("flow_name"), body, httpapi.Metadata(c, p.svc.now()))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (p *port) checkConfig(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	tenant := tenancy.SystemTenantID
	if raw := c.GetHeader(tenancy.HeaderTenantID); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "uuid_parsing",
				Loc: []any{"header", "x-tenant-id"}, Msg: "Input should be a valid UUID, " + err.Error(), Input: raw}}})
			return
		}
		in, err := p.svc.memberOf(c.Request.Context(), caller.UserID, caller.IsSuperuser, id)
		if err != nil {
			fail(c, err)
			return
		}
		if in {
			tenant = id
		}
	}
	cfg, err := p.svc.CheckConfig(c.Request.Context(), caller.UserID, tenant)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cfg)
}

func (p *port) assist(c *gin.Context) {
	var body Request
	if !httpapi.BindJSON(c, &body) {
		return
	}
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	res, err := p.svc.Assist(c.Request.Context(), caller.UserID, body, nil)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (p *port) stream(c *gin.Context) {
	var body Request
	if !httpapi.BindJSON(c, &body) {
		return
	}
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	started := false
	var writeErr error
	write := func(ev Event) {
		if writeErr != nil {
			return
		}
		if !started {
			started = true
			c.Status(http.StatusOK)
			c.Header("Content-Type", "text/event-stream")
			c.Header("Cache-Control", "no-cache")
			c.Header("Connection", "keep-alive")
			c.Header("X-Accel-Buffering", "no")
			c.Writer.WriteHeaderNow()
		}
		b, _ := json.Marshal(ev) // plain fields: cannot fail
		if _, writeErr = c.Writer.Write(append(append([]byte("data: "), b...), '\n', '\n')); writeErr == nil {
			c.Writer.Flush()
		}
	}
	res, err := p.svc.Assist(ctx, caller.UserID, body, write)
	switch {
	case err != nil && !started:
		fail(c, err)
	case err != nil:
		write(Event{Event: "error", Message: errorText(err)})
	default:
		write(Event{Event: "complete", Data: res})
	}
}

// memberOf reports whether user may use tenant's own providers: a
// superuser, or one holding a privilege there.
func (s *Service) memberOf(ctx context.Context, user int64, superuser bool, tenant uuid.UUID) (bool, error) {
	if superuser || tenant == tenancy.SystemTenantID {
		return true, nil
	}
	var in bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM access_privileges p WHERE p.uid = $1 AND p.tenant_id = $2)`,
		user, tenant).Scan(&in)
	return in, err
}

// errorText is what an error frame says: the detail the error would be
// answered with, never an internal error's text.
func errorText(err error) string {
	var (
		ce *ConfigError
		ve *ValidationError
		me *ModelError
		rf *RunFailedError
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &ve), errors.As(err, &me), errors.As(err, &rf):
		return err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "The request was cancelled or ran out of time"
	}
	return "Internal Server Error"
}

// fail answers err: the assistant's own errors with their status, the
// others through httpapi.Fail (domain errors, 500).
func fail(c *gin.Context, err error) {
	var (
		ce *ConfigError
		ve *ValidationError
		me *ModelError
		rf *RunFailedError
	)
	switch {
	case errors.As(err, &ce):
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: ce.Detail}
	case errors.As(err, &ve):
		err = &httpapi.StatusError{Status: http.StatusUnprocessableEntity, Detail: ve.Error()}
	case errors.As(err, &me):
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: me.Error()}
	case errors.As(err, &rf):
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: rf.Error()}
	}
	httpapi.Fail(c, err)
}
