package runs

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Webhooks (contract #54, runtime reference §4): a request's raw body goes
// to every Webhook node of a flow, which runs in the background as its
// owner. The run is recorded (its start) before the request is answered,
// so a webhook that was answered 202 is never lost: it runs, or it is
// recorded as cancelled (a shutdown) or, when the process stopped while it
// ran, closed as interrupted at the next start (it is not resumed: a
// half-run flow may have sent messages or called tools already). With a
// work queue the run is queued instead and a worker runs it (queued.go):
// a worker that dies mid-run has it run again, from the start, by
// another.
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
