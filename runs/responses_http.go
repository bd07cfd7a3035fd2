package runs

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The Responses API's port (contract #146): it binds Langflow's
// OpenAIResponsesRequest, calls CreateResponse and answers the response
// object, an error object (HTTP 200, as Langflow answers every error but a
// body that does not validate) or the streamed chunks.

// ResponsesRequest is the body of POST /api/v1/responses (Langflow's
// OpenAIResponsesRequest): model is the flow's id or endpoint name, input
// the chat input's text.
type ResponsesRequest struct {
	Model *string `json:"model" binding:"required"`
	Input *string `json:"input" binding:"required,maxbody"`
	// Stream answers text/event-stream chunks.
	Stream bool `json:"stream"`
	// Background is accepted and ignored, as in Langflow.
	Background bool `json:"background"`
	// Tools must be null: any list is refused (tools_not_supported).
	Tools []any `json:"tools"`
	// PreviousResponseID is a response's id (its session) to continue.
	PreviousResponseID *string `json:"previous_response_id"`
	// Include may ask for "tool_call.results".
	Include []string `json:"include"`
}

type responsesPort struct {
	svc *Service
}

// RegisterResponses serves the OpenAI Responses API (#146) of svc on s.
func RegisterResponses(s *httpapi.Server, svc *Service) {
	p := &responsesPort{svc: svc}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/responses", Tag: "OpenAI Responses API",
		Summary: "Create Response", APIKey: true, Access: access.Own("flows", "run"), Body: ResponsesRequest{},
		Description: "Run a flow as an OpenAI-compatible model: model is the flow's id or the endpoint name of one of the " +
			"API key user's flows (who must own the flow or hold flows.run where it lives), input the text of its chat " +
			"input; the flow needs a ChatInput and a ChatOutput. The response's id is its session: pass it as " +
			"previous_response_id to continue the conversation (the follow-up answers the same id). X-LANGFLOW-GLOBAL-VAR-* " +
			"headers are variables of the run. Every error but a body that does not validate (422) is HTTP 200 with " +
			"{\"error\": {\"message\", \"type\", \"code\"?}}: tools given (tools_not_supported), a flow that does not exist " +
			"or that the caller may not see (flow_not_found), a processing_error otherwise (a flow without chat input or " +
			"output, a run that failed). With stream=true the answer is text/event-stream of \"data: {response.chunk}\" " +
			"frames ended by \"data: [DONE]\" (Langflow's format, not OpenAI's event protocol); unlike Langflow a run that " +
			"fails sends data: {\"error\": …} before its completed chunk. Recorded as a run (stream run-<id>).",
		Handler: p.create})
}

func (p *responsesPort) create(c *gin.Context) {
	var body ResponsesRequest
	if !httpapi.BindJSON(c, &body) {
		return
	}
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	resp, err := p.svc.CreateResponse(c.Request.Context(), CreateResponse{Model: *body.Model, Input: *body.Input,
		Stream: body.Stream, PreviousResponseID: body.PreviousResponseID, Include: body.Include, Tools: body.Tools,
		Variables: requestVariables(c.Request.Header, nil), UserID: caller.UserID, Metadata: httpapi.Metadata(c, p.svc.now())})
	var re *ResponsesError
	switch {
	case errors.As(err, &re):
		c.Data(http.StatusOK, "application/json", re.JSON())
		return
	case err != nil:
		failRun(c, err)
		return
	case !body.Stream:
		c.Data(http.StatusOK, "application/json", resp.JSON())
		return
	}
	c.Status(http.StatusOK)
	c.Header("Content-Type", eventStream)
	c.Header("Cache-Control", "no-cache")
	c.Header("Connection", "keep-alive")
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("X-Accel-Buffering", "no")
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()
	err = resp.Stream(c.Request.Context(), func(b []byte) error {
		if _, err := c.Writer.Write(b); err != nil {
			return err
		}
		c.Writer.Flush()
		return nil
	})
	if err != nil {
		resp.Cancel(domain.RunClientGone)
	}
}
