package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
)

// The superuser every flows test server bootstraps, and the password of
// its users.
const (
	flAdmin         = "fladmin"
	flAdminPassword = "fladmin-password-1"
	flPassword      = "user-password-1"
)

// flServer is an App with the Identity and Flows modules serving on a real
// listener until the test ends.
type flServer struct {
	*harness
	admin caller
}

// flStart serves Identity and Flows on a fresh database (see startApp),
// with active sign-ups, and signs the bootstrap superuser in.
func flStart(t *testing.T) *flServer {
	t.Helper()
	s := &flServer{harness: startApp(t, options{modules: []app.Module{&app.Identity{}, app.Flows{}}, env: adminEnv(flAdmin, flAdminPassword)})}
	s.admin = s.signIn(t, flAdmin, flAdminPassword)
	return s
}

// user signs a new (active) user up and in.
func (s *flServer) user(t *testing.T, username string) caller {
	t.Helper()
	return s.newUser(t, username, flPassword)
}

// create creates a flow as u and requires 201; it returns the flow.
func (s *flServer) create(t *testing.T, u caller, body map[string]any) map[string]any {
	t.Helper()
	return s.createFlow(t, u.token, body)
}

// get reads flow id as u and requires 200.
func (s *flServer) get(t *testing.T, u caller, id string) map[string]any {
	t.Helper()
	return s.readFlow(t, u.token, id)
}

// patch updates flow id as u and requires 200; it returns the flow.
func (s *flServer) patch(t *testing.T, u caller, id string, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPatch, flPath(id), body, u.token)
	require.Equal(t, http.StatusOK, r.status, "patch %v: %s", body, r.raw)
	return r.obj(t)
}

// flPath is /api/v1/flows/{id} followed by rest.
func flPath(id string, rest ...string) string {
	p := "/api/v1/flows/" + id
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// flContentFields are the fields of a flow a version captures and a
// rollback restores (domain.FlowContent).
var flContentFields = []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
	"is_component", "webhook", "endpoint_name", "tags", "mcp_enabled", "action_name", "action_description",
	"access_type", "flow_type", "is_hold", "is_endpoint"}

// flPick returns the given fields of a flow.
func flPick(m map[string]any, fields ...string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f] = m[f]
	}
	return out
}

// flWithout returns the flow without the given fields.
func flWithout(m map[string]any, fields ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, f := range fields {
		delete(out, f)
	}
	return out
}

// flRows returns every row of query as text, in order.
func (s *flServer) flRows(t *testing.T, query string) []string {
	t.Helper()
	return s.textRows(t, query)
}

// try sends a JSON request without failing the test (for goroutines): it
// returns the status and raw body, or the transport error.
func (s *flServer) try(method, path string, jsonBody any, token string) (int, string, error) {
	b, err := json.Marshal(jsonBody)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := exchange(req)
	return r.status, r.raw, err
}

// stream returns the types of the events of stream, in order.
func (s *flServer) stream(t *testing.T, stream string) []string {
	t.Helper()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	defer store.Close()
	events, err := store.ReadStream(context.Background(), stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
