package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The superuser every template test server bootstraps.
const (
	tplAdmin         = "tpladmin"
	tplAdminPassword = "tpl-admin-password"
	tplPassword      = "tpl-user-password"
)

// tplServer is an App with Identity, Flows and Templates serving on a
// real listener until the test ends.
type tplServer struct{ *harness }

// tplStart serves Identity, Flows and Templates on a fresh database (see
// startApp), with the tplAdmin superuser and active sign-ups, and
// businesses 3, 4, 7, 9 and 42 of the system tenant.
func tplStart(t *testing.T) *tplServer {
	t.Helper()
	s := &tplServer{startApp(t, options{modules: []app.Module{&app.Identity{}, app.Flows{}, app.Templates{}}, env: adminEnv(tplAdmin, tplAdminPassword)})}
	// The businesses the tests' business templates name, in the system
	// tenant (their flows' tenant).
	s.placeIDs(t, tenancy.SystemTenantID, "tpl", []int64{3, 4, 7, 9, 42}, nil)
	return s
}

// tplUser is a signed-up user, its id as JSON numbers decode.
type tplUser struct {
	id    float64
	name  string
	token string
}

func tplUserOf(u caller) tplUser { return tplUser{id: float64(u.id), name: u.name, token: u.token} }

// tplSignUp signs username up (active at once) and logs it in.
func (s *tplServer) tplSignUp(t *testing.T, username string) tplUser {
	t.Helper()
	return tplUserOf(s.newUser(t, username, tplPassword))
}

// tplAdminUser logs the bootstrap superuser in.
func (s *tplServer) tplAdminUser(t *testing.T) tplUser {
	t.Helper()
	return tplUserOf(s.signIn(t, tplAdmin, tplAdminPassword))
}

// tplCreate makes a template of flow as u (scope "" leaves the default)
// and requires 201.
func (s *tplServer) tplCreate(t *testing.T, u tplUser, flowID any, name, scope string) map[string]any {
	t.Helper()
	body := map[string]any{"name": name}
	if scope != "" {
		body["scope"] = scope
	}
	r := s.call(t, http.MethodPost, fmt.Sprintf("/api/v1/flows/%s/templates", flowID), body, u.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// tplPath is the path of template id.
func tplPath(id any) string { return fmt.Sprintf("/api/v1/flow-templates/%s", id) }

// tplRows is every row of flow_templates, all columns, as JSON.
func (s *tplServer) tplRows(t *testing.T) string {
	t.Helper()
	var rows string
	err := s.app.Pool().QueryRow(context.Background(),
		`SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]'::jsonb)::text FROM flow_templates t`).Scan(&rows)
	require.NoError(t, err)
	return rows
}

// tplIDs is the "id" of every item.
func tplIDs(items []map[string]any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it["id"]
	}
	return out
}
