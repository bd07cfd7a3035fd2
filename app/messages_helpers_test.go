package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The superuser every messages test server bootstraps.
const (
	msgAdmin         = "madmin"
	msgAdminPassword = "madmin-password-1"
	msgPassword      = "user-password-1"
)

// msgServer is an App with Identity, Tenants, Flows, Projects and Messages
// serving on a real listener, and the command API the flow engine calls.
type msgServer struct {
	*harness
	cmds *commands.Messages
}

// msgStart serves the modules on a fresh database (see startApp).
func msgStart(t *testing.T) *msgServer {
	t.Helper()
	h := startApp(t, options{env: adminEnv(msgAdmin, msgAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Messages{}}})
	return &msgServer{harness: h, cmds: app.MessagesCommands(h.app.Deps())}
}

// msgUser signs a user up and in.
func (s *msgServer) msgUser(t *testing.T, name string) caller {
	t.Helper()
	return s.newUser(t, name, msgPassword)
}

// msgFlow creates a flow of u (with access_type when not empty) and
// returns its id.
func (s *msgServer) msgFlow(t *testing.T, u caller, name, accessType string) uuid.UUID {
	t.Helper()
	body := map[string]any{"name": name}
	if accessType != "" {
		body["access_type"] = accessType
	}
	return uuid.MustParse(s.createFlow(t, u.token, body)["id"].(string))
}

// msgMD is the metadata of an engine's write as user at.
func msgMD(user int64, at time.Time) eventstore.Metadata {
	return eventstore.Metadata{ActorUserID: user, OccurredAt: at.UTC()}
}

// msgWait waits until every read model folded pos.
func (s *msgServer) msgWait(t *testing.T, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(ctx, pos))
}

// msgRecord records a message as the flow engine does (as user, in the
// session of flow) and waits for the read models; it returns its id.
func (s *msgServer) msgRecord(t *testing.T, user int64, flow uuid.UUID, session, sender, text string, at time.Time) int64 {
	t.Helper()
	res, err := s.cmds.RecordMessage(context.Background(), msgMD(user, at), commands.NewMessage{
		SessionKey: commands.SessionKey{FlowID: &flow, SessionID: session}, UserID: user,
		Fields: domain.MessageFields{Sender: sender, SenderName: sender + " name", Text: text, Timestamp: at}})
	require.NoError(t, err)
	s.msgWait(t, res.Position)
	return res.ID
}

// msgGet lists messages as u with query (url.Values) and requires 200.
func (s *msgServer) msgGet(t *testing.T, u caller, q url.Values) []map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v1/monitor/messages?"+q.Encode(), nil, u.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// msgIDs are the ids of rows, in order.
func msgIDs(rows []map[string]any) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, int64(r["id"].(float64)))
	}
	return out
}

// msgTexts are the texts of rows, in order.
func msgTexts(rows []map[string]any) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprint(r["text"]))
	}
	return out
}

// msgItoa formats an id for a path.
func msgItoa(id int64) string { return fmt.Sprint(id) }
