package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// startPair starts two Apps on one database, as two server processes
// behind a load balancer: each has its own pool, projections runtime (the
// leases decide which runs a projector) and permission cache.
func startPair(t *testing.T, modules func() []app.Module, env map[string]string) (one, two *harness) {
	t.Helper()
	one = startApp(t, options{env: env, modules: modules()})
	two = startApp(t, options{env: env, modules: modules(), dbURL: one.dbURL})
	return one, two
}

// A grant (or revocation) written through one process holds on the other
// at the grant's position: X-Min-Position waits for the access projection
// there before the request is authorised, and that process's permission
// cache follows the projection wherever it runs.
func TestTwoProcesses_GrantHoldsOnTheOtherAtItsPosition(t *testing.T) {
	t.Parallel()
	one, two := startPair(t, func() []app.Module {
		return []app.Module{&app.Identity{}, app.Tenants{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}}
	}, adminEnv("root", "root-password-1"))
	admin := one.signIn(t, "root", "root-password-1")
	r := one.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Pair"}, admin.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	vera := one.newUser(t, "vera", "vera-password-1")
	orgs := "/api/v1/orgs?tenant-id=" + tenant
	asVera := func(pos string) reply {
		return two.do(t, http.MethodGet, orgs, nil, http.Header{"Authorization": {"Bearer " + vera.token}, "X-Min-Position": {pos}})
	}
	// Vera's refusals are cached on process two from the start.
	requireForbidden(t, asVera("0"))

	for i := range 30 {
		r := one.call(t, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": tenant, "uid": vera.id, "role_id": "viewer"}, admin.token)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		granted := asVera(r.header.Get("X-Event-Position"))
		require.Equal(t, http.StatusOK, granted.status, "round %d, granted at %s: %s", i, r.header.Get("X-Event-Position"), granted.raw)

		r = one.call(t, http.MethodDelete, fmt.Sprintf("/api/v1/tenants/user-roles/%v?tenant_id=%s", r.obj(t)["id"], tenant), nil, admin.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		requireForbidden(t, asVera(r.header.Get("X-Event-Position")), "round %d, revoked at %s", i, r.header.Get("X-Event-Position"))
	}
	assert.True(t, one.app.Runtime().Holds("access") != two.app.Runtime().Holds("access"), "one process runs the access projector")
}
