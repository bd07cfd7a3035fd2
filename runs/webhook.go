package runs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// Webhooks (contract #54, runtime reference §4): a request's raw body goes
// to every Webhook node of a flow, which runs in the background as its
// owner. The run is recorded (its start) before the request is answered,
// so a webhook that was answered 202 is never lost: it runs, or it is
// recorded as cancelled (a shutdown) or, when the process stopped while it
// ran, closed as interrupted at the next start (it is not resumed: a
// half-run flow may have sent messages or called tools already).
//
// Unlike Langflow, a flow without a Webhook node is refused (400): with
// webhook authentication off (the default) anyone who knows a flow's id
// or endpoint name may trigger it, so only flows built to be triggered
// are.

// Webhook is the command of a webhook call.
type Webhook struct {
	// Ref names the flow (an id or an endpoint name); FlowID, when not
	// nil, is the flow Ref was already resolved to.
	Ref    string
	FlowID uuid.UUID
	// Body is the request's body as sent.
	Body []byte
	// Caller is the API key's user when webhook authentication is on
	// (the flow must be theirs); nil when it is off.
	Caller *int64
	// UserFilter restricts an endpoint name to one user's flows.
	UserFilter *int64
	Metadata   eventstore.Metadata
}

// Webhook errors, with Langflow's texts.
var (
	ErrWebhookEmpty    = domain.Invalidf("Request body is empty. You should provide a JSON payload containing the flow ID.")
	ErrWebhookNotOwner = domain.Forbiddenf("Access denied: You can only execute webhooks for flows you own")
	ErrNoWebhookNode   = domain.Invalidf("This flow has no Webhook component: add one to trigger it by webhook")
)

// StartWebhook starts a webhook's background run and returns it once its
// start is recorded.
func (s *Service) StartWebhook(ctx context.Context, cmd Webhook) (*Job, error) {
	id := cmd.FlowID
	if id == uuid.Nil {
		var err error
		if id, err = s.Resolve(ctx, cmd.Ref, 0, cmd.UserFilter); err != nil {
			return nil, err
		}
	}
	fe, err := s.existingFlow(ctx, id, &FlowNotFoundError{Ref: cmd.Ref})
	if err != nil {
		return nil, err
	}
	if cmd.Caller != nil && *cmd.Caller != fe.flow.UserID() {
		return nil, ErrWebhookNotOwner
	}
	if len(cmd.Body) == 0 {
		return nil, ErrWebhookEmpty
	}
	g, err := fe.compiled(s.opts.Engine, fe.flow.Content().Data, fe.rev, engine.Tweaks{"stream": false}, true)
	tweaks := engine.Tweaks{}
	if err == nil {
		payload := strings.ToValidUTF8(string(cmd.Body), string(utf8.RuneError))
		for _, v := range g.Vertices {
			if strings.Contains(v.ID, "Webhook") {
				tweaks[v.ID] = map[string]any{"data": payload}
			}
		}
		if len(tweaks) == 0 {
			return nil, ErrNoWebhookNode
		}
	}
	empty := ""
	md := cmd.Metadata
	if cmd.Caller != nil {
		md.ActorUserID = *cmd.Caller
	}
	return s.StartRun(ctx, StartRun{FlowID: id, Ref: cmd.Ref, AsOwner: true, InputValue: &empty, InputType: "chat",
		OutputType: "chat", Tweaks: tweaks, API: APIWebhook, Background: true, Metadata: md,
		InputsRaw: []byte(`{"input_value":"","input_type":"chat","output_type":"chat"}`)})
}

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
