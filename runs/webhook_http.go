package runs

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The webhook's port (#54): binds, authenticates when
// SKILLFLAW_WEBHOOK_AUTH_ENABLE, calls StartWebhook and answers 202.

// WebhookAccepted is the webhook's answer.
type WebhookAccepted struct {
	Message string `json:"message"`
	Status  string `json:"status"`
}

// RegisterWebhook serves the webhook (#54) of svc on s; authEnable is
// SKILLFLAW_WEBHOOK_AUTH_ENABLE.
func RegisterWebhook(s *httpapi.Server, svc *Service, authEnable bool) {
	h := &webhookPort{svc: svc, server: s, authEnable: authEnable}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/webhook/{flow_id_or_name}", Tag: "Base",
		Summary: "Webhook Run Flow", Public: true, Status: http.StatusAccepted, Response: WebhookAccepted{},
		Params: []httpapi.Param{{Name: "flow_id_or_name", In: "path", Description: "The flow's id, or its endpoint name"},
			{Name: "user_id", In: "query", Type: "integer", Description: "Look an endpoint name up among this user's flows only"},
			{Name: auth.APIKeyName, In: "header", Description: "The flow owner's API key (required when SKILLFLAW_WEBHOOK_AUTH_ENABLE)"}},
		Description: "Run the flow in the background as its owner, the raw body (any content type) given to every Webhook " +
			"node, and answer 202 once the run is recorded. With SKILLFLAW_WEBHOOK_AUTH_ENABLE the owner's API key is " +
			"required (x-api-key header or query). A flow without a Webhook node is 400 (Langflow runs it). A run of a " +
			"process that stops is closed as interrupted at the next start.",
		Handler: h.serve})
}

type webhookPort struct {
	svc        *Service
	server     *httpapi.Server
	authEnable bool
}

func (p *webhookPort) serve(c *gin.Context) {
	var q RunQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	cmd := Webhook{Ref: c.Param("flow_id_or_name"), UserFilter: q.UserID, Metadata: httpapi.Metadata(c, p.svc.now())}
	ctx := c.Request.Context()
	if p.authEnable {
		// Langflow answers a flow that does not exist before it checks
		// the key.
		id, err := p.svc.Resolve(ctx, cmd.Ref, 0, q.UserID)
		if err != nil {
			failRun(c, err)
			return
		}
		cmd.FlowID = id
		user, err := p.caller(c)
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		cmd.Caller = &user
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpapi.Fail(c, &httpapi.BodyError{Err: err})
		return
	}
	cmd.Body = body
	if _, err := p.svc.StartWebhook(ctx, cmd); err != nil {
		if errors.Is(err, ErrWebhookEmpty) {
			err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: ErrWebhookEmpty.Error()}
		} else if errors.Is(err, ErrNoWebhookNode) {
			err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: ErrNoWebhookNode.Error()}
		}
		failRun(c, err)
		return
	}
	c.JSON(http.StatusAccepted, WebhookAccepted{Message: "Task started in the background", Status: "in progress"})
}

// caller is the API key's user of a webhook with authentication on.
func (p *webhookPort) caller(c *gin.Context) (int64, error) {
	key := c.GetHeader(auth.APIKeyName)
	if key == "" {
		key = c.Query(auth.APIKeyName)
	}
	if key == "" {
		return 0, &httpapi.StatusError{Status: http.StatusForbidden, Detail: "API key required when webhook authentication is enabled"}
	}
	invalid := &httpapi.StatusError{Status: http.StatusForbidden, Detail: "Invalid API key"}
	keys := p.server.APIKeys()
	if keys == nil {
		return 0, invalid
	}
	r := c.Request.Clone(c.Request.Context())
	r.Header.Set(auth.APIKeyName, key)
	q := r.URL.Query()
	q.Del(auth.APIKeyName)
	r.URL.RawQuery = q.Encode()
	ctx, err := keys.AuthenticateAPIKey(r)
	if err != nil {
		return 0, invalid
	}
	pr, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return 0, invalid
	}
	return pr.UserID, nil
}
