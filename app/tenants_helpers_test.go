package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The superuser every tenants test server bootstraps.
const (
	tenAdmin         = "tadmin"
	tenAdminPassword = "tadmin-password-1"
	tenPassword      = "user-password-1"
	// tenProbePath is served by tenProbe: the caller's tenant as
	// tenancy.Resolve finds it (X-Tenant-Id, else the system tenant).
	tenProbePath = "/api/v1/_test/tenant"
)

// tenProbe is a test-only module with one route that resolves the
// request's tenant like every tenant-scoped operation does.
type tenProbe struct{}

func (tenProbe) Register(*eventstore.Registry) error    { return nil }
func (tenProbe) Projections() []*projections.Projection { return nil }
func (tenProbe) Routes(s *httpapi.Server, d app.Deps) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: tenProbePath, Tag: "Test", Summary: "Resolve Tenant",
		Hidden: true, ReadModels: readapi.TenantReadModels, Access: access.Own("flows", "read"), Handler: func(c *gin.Context) {
			t, ok := tenancy.Resolve(c, d.Pool, nil)
			if !ok {
				return
			}
			c.JSON(http.StatusOK, gin.H{"tenant_id": t.ID, "tenant_name": t.Name})
		}})
}

// tenServer is an App with the Identity, Flows and Tenants modules (and
// tenProbe) serving on a real listener; admin is the superuser's access
// token.
type tenServer struct {
	*harness
	admin string
}

// tenStart serves the App on a fresh database until the test ends (see
// startApp) and logs the superuser in.
func tenStart(t *testing.T) *tenServer {
	t.Helper()
	s := &tenServer{harness: startApp(t, options{env: adminEnv(tenAdmin, tenAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Flows{}, app.Projects{}, app.Tenants{}, app.Permissions{}, app.TenantGrants{}, tenProbe{}}})}
	s.admin = s.login(t, tenAdmin, tenAdminPassword).access
	return s
}

// user signs a (non-super) user up and logs it in; it returns the token.
func (s *tenServer) user(t *testing.T, username string) string {
	t.Helper()
	return s.newUser(t, username, tenPassword).token
}

// create adds a tenant as the superuser and requires 201.
func (s *tenServer) create(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/tenants", body, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// list reads Read Tenants with query and returns the tenant names.
func (s *tenServer) list(t *testing.T, token, query string) ([]string, []map[string]any) {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v1/tenants"+query, nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	out := r.objects(t)
	names := make([]string, len(out))
	for i, row := range out {
		names[i], _ = row["tenant_name"].(string)
	}
	return names, out
}

// tenPath is the path of tenant id.
func tenPath(id any) string { return fmt.Sprintf("/api/v1/tenants/%v", id) }

// tenRequire422 checks a 422 whose first error is of type typ at loc.
func tenRequire422(t *testing.T, r reply, typ string, loc ...any) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok := r.detail().([]any)
	require.True(t, ok && len(items) > 0, r.raw)
	first := items[0].(map[string]any)
	assert.Equal(t, typ, first["type"], r.raw)
	if loc != nil {
		assert.Equal(t, loc, first["loc"], r.raw)
	}
}
