package app_test

import (
	"fmt"
	"maps"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// The superuser every identity test server bootstraps (unless the test's
// env overrides SKILLFLAW_SUPERUSER).
const (
	idAdmin         = "admin"
	idAdminPassword = "admin-password-1"
)

// idServer is an App with the Identity module serving on a real listener.
type idServer struct{ *harness }

// startIdentity serves the Identity module (see startApp) with env on top
// of the test defaults and the idAdmin superuser; opts, if given, tune the
// rest (a database to reuse, a logger, a step before Bootstrap, no
// catch-up).
func startIdentity(t *testing.T, env map[string]string, opts ...options) *idServer {
	t.Helper()
	var o options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.env = map[string]string{"SKILLFLAW_SUPERUSER": idAdmin, "SKILLFLAW_SUPERUSER_PASSWORD": idAdminPassword}
	maps.Copy(o.env, env)
	o.modules = []app.Module{&app.Identity{}}
	return &idServer{startApp(t, o)}
}

// admin logs the bootstrap superuser in and returns its access token.
func (s *idServer) admin(t *testing.T) string {
	t.Helper()
	return s.login(t, idAdmin, idAdminPassword).access
}

// addUser adds a user as the superuser adminToken, then makes it active
// (whatever SKILLFLAW_NEW_USER_IS_ACTIVE says); it returns the user's id.
func (s *idServer) addUser(t *testing.T, adminToken, username, password string) int64 {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "password": password}, bearer(adminToken))
	require.Equal(t, http.StatusCreated, r.status, "add %s: %s", username, r.raw)
	id := idOf(t, r.obj(t))
	if r.obj(t)["is_active"] != true {
		p := s.do(t, http.MethodPatch, userPath(id), map[string]any{"is_active": true}, bearer(adminToken))
		require.Equal(t, http.StatusOK, p.status, p.raw)
		require.Equal(t, true, p.obj(t)["is_active"])
	}
	return id
}

func userPath(id int64) string { return fmt.Sprintf("/api/v1/users/%d", id) }
