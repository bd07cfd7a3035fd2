package app_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TestTenants_SystemTenant: the system tenant exists once the server
// started (a second bootstrap adds nothing); it can be renamed but neither
// removed, disabled nor made a regular tenant.
func TestTenants_SystemTenant(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	sys := tenPath(tenancy.SystemTenantID)

	r := s.call(t, http.MethodGet, sys, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got := r.obj(t)
	assert.Equal(t, "System", got["tenant_name"])
	assert.Equal(t, true, got["is_sys"])
	assert.Equal(t, true, got["is_active"])
	assert.Nil(t, got["note"])
	assert.Equal(t, tenancy.SystemTenantID.String(), got["tenant_id"])
	assert.Equal(t, float64(0), got["c_uid"], "created by the system, not by a user")
	names, _ := s.list(t, s.admin, "")
	assert.Equal(t, []string{"System"}, names)

	ctx := context.Background()
	require.NoError(t, s.app.Bootstrap(ctx), "a second start")
	events, err := s.app.Deps().Store.ReadStream(ctx, domain.TenantStream(tenancy.SystemTenantID), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, events, 1, "the system tenant is created once")

	requireDetail(t, s.call(t, http.MethodDelete, sys, nil, s.admin), http.StatusConflict, "The system tenant cannot be removed")
	requireDetail(t, s.call(t, http.MethodPatch, sys, map[string]any{"is_active": false}, s.admin),
		http.StatusConflict, "The system tenant cannot be disabled")
	requireDetail(t, s.call(t, http.MethodPatch, sys, map[string]any{"is_sys": false}, s.admin),
		http.StatusConflict, "The system tenant cannot stop being a system tenant")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "SYSTEM"}, s.admin),
		http.StatusConflict, "Tenant name already exists")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Other", "tenant_id": tenancy.SystemTenantID}, s.admin),
		http.StatusConflict, "Tenant already exists")

	r = s.call(t, http.MethodPatch, sys, map[string]any{"tenant_name": "Platform", "note": "home", "is_active": true}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Platform", r.obj(t)["tenant_name"])
	assert.Equal(t, true, r.obj(t)["is_active"])
	r = s.call(t, http.MethodGet, sys, nil, s.admin)
	assert.Equal(t, "home", r.obj(t)["note"])
}

// TestTenants_SystemTenantConcurrentBootstrap: nodes starting at once
// create the system tenant exactly once, and none fails.
func TestTenants_SystemTenantConcurrentBootstrap(t *testing.T) {
	t.Parallel()
	pool := testkit.NewDatabase(t)
	store := postgres.New(pool, postgres.Options{})
	t.Cleanup(store.Close)
	reg := eventstore.NewRegistry()
	for _, s := range append(domain.ClaimEvents(), domain.TenantEvents()...) {
		require.NoError(t, reg.Register(s.Event, s.Version))
	}
	repo := commands.NewRepository(store, reg)
	ctx := context.Background()
	const nodes = 8
	var (
		wg      sync.WaitGroup
		created = make([]bool, nodes)
		errs    = make([]error, nodes)
	)
	for i := range nodes {
		wg.Go(func() {
			created[i], errs[i] = commands.EnsureSystemTenant(ctx, repo, tenancy.SystemTenantID, "System",
				eventstore.Metadata{OccurredAt: time.Now().UTC()})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	n := 0
	for _, c := range created {
		if c {
			n++
		}
	}
	assert.Equal(t, 1, n, "exactly one node created it")
	events, err := store.ReadStream(ctx, domain.TenantStream(tenancy.SystemTenantID), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, events, 1)
	claim, err := store.ReadStream(ctx, domain.ClaimStream(domain.TenantNameScope, "System"), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, claim, 1)
}

// TestTenants_CRUD: add (generated and client-chosen ids), read, patch,
// remove; audit fields from event metadata; every event carries its
// tenant; the aggregate's AuditState replays the tenant as of each event.
func TestTenants_CRUD(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	ctx := context.Background()
	var adminID float64
	{
		r := s.call(t, http.MethodGet, "/api/v1/users/whoami", nil, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		adminID = r.obj(t)["id"].(float64)
	}

	before := time.Now().UTC().Add(-time.Second)
	acme := s.create(t, map[string]any{"tenant_name": "Acme", "note": "first"})
	id := acme["tenant_id"].(string)
	_, err := uuid.Parse(id)
	require.NoError(t, err)
	assert.Equal(t, "Acme", acme["tenant_name"])
	assert.Equal(t, false, acme["is_sys"])
	assert.Equal(t, true, acme["is_active"], "is_active defaults to true")
	assert.Equal(t, "first", acme["note"])
	assert.Equal(t, adminID, acme["c_uid"])
	assert.Equal(t, adminID, acme["m_uid"])
	assert.Equal(t, acme["ctime"], acme["utime"])
	ctime, err := time.Parse(time.RFC3339Nano, acme["ctime"].(string))
	require.NoError(t, err)
	assert.True(t, ctime.After(before), "ctime %s", ctime)
	assert.ElementsMatch(t, []string{"tenant_name", "is_sys", "is_active", "note", "tenant_id", "c_uid", "m_uid", "ctime", "utime"},
		tenKeys(acme), "the spec's response keys")

	r := s.call(t, http.MethodGet, tenPath(id), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, acme, r.obj(t))

	r = s.call(t, http.MethodPatch, tenPath(id), map[string]any{"tenant_name": "Acme Corp", "note": "second", "is_sys": nil}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	patched := r.obj(t)
	assert.Equal(t, "Acme Corp", patched["tenant_name"])
	assert.Equal(t, "second", patched["note"])
	assert.Equal(t, false, patched["is_sys"], "null leaves a field as it is")
	assert.Equal(t, acme["ctime"], patched["ctime"])
	assert.Equal(t, acme["c_uid"], patched["c_uid"])
	assert.NotEqual(t, acme["utime"], patched["utime"])

	r = s.call(t, http.MethodPatch, tenPath(id), map[string]any{}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, patched, r.obj(t), "an empty patch changes nothing")

	// A client-chosen id; used twice it is a conflict.
	chosen := uuid.New()
	r = s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Chosen", "tenant_id": chosen,
		"is_active": false, "is_sys": true, "note": nil}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, chosen.String(), r.obj(t)["tenant_id"])
	assert.Equal(t, false, r.obj(t)["is_active"])
	assert.Equal(t, true, r.obj(t)["is_sys"])
	assert.Nil(t, r.obj(t)["note"])
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Chosen 2", "tenant_id": chosen}, s.admin),
		http.StatusConflict, "Tenant already exists")
	tenRequire422(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Bad", "tenant_id": "nope"}, s.admin),
		"uuid_parsing", "body", "tenant_id")
	tenRequire422(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Nil", "tenant_id": uuid.Nil}, s.admin),
		"value_error")

	// Remove: 200, then it is gone everywhere; its name is free, its id is not.
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(id), nil, s.admin), http.StatusOK, "Tenant deleted")
	requireDetail(t, s.call(t, http.MethodGet, tenPath(id), nil, s.admin), http.StatusNotFound, "Tenant not found")
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(id), nil, s.admin), http.StatusNotFound, "Tenant not found")
	requireDetail(t, s.call(t, http.MethodPatch, tenPath(id), map[string]any{"note": "x"}, s.admin), http.StatusNotFound, "Tenant not found")
	names, _ := s.list(t, s.admin, "?is_all=true")
	assert.Equal(t, []string{"Chosen", "System"}, names)
	again := s.create(t, map[string]any{"tenant_name": "acme corp"})
	assert.NotEqual(t, id, again["tenant_id"])
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Reuse", "tenant_id": id}, s.admin),
		http.StatusConflict, "Tenant already exists")

	// Unknown and malformed ids.
	for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		requireDetail(t, s.call(t, m, tenPath(uuid.New()), map[string]any{}, s.admin), http.StatusNotFound, "Tenant not found")
		tenRequire422(t, s.call(t, m, tenPath("nope"), map[string]any{}, s.admin), "uuid_parsing", "path", "tenant_id")
	}

	// Every event of the tenant carries it in its metadata (the audit log
	// reads that), and folding the stream to each event gives the tenant
	// as it was then.
	tid := uuid.MustParse(id)
	events, err := s.app.Deps().Store.ReadStream(ctx, domain.TenantStream(tid), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, events, 3, "created, updated, deleted")
	for _, e := range events {
		assert.Equal(t, tid, e.Metadata.TenantID, e.Type)
		assert.Equal(t, int64(adminID), e.Metadata.ActorUserID, e.Type)
	}
	asOf := func(rev uint64) any {
		agg := domain.LoadTenant(tid)
		require.NoError(t, s.app.Deps().Repository.LoadUntil(ctx, agg, rev))
		return agg.AuditState()
	}
	first := "first"
	second := "second"
	assert.Equal(t, domain.TenantState{TenantName: "Acme", IsActive: true, Note: &first, TenantID: tid}, asOf(0))
	assert.Equal(t, domain.TenantState{TenantName: "Acme Corp", IsActive: true, Note: &second, TenantID: tid}, asOf(1))
	assert.Nil(t, asOf(2), "removed")
}

// TestTenants_Names: tenant names are unique case-insensitively, renames
// move the claim, and the spec's 64-character limit holds (in characters,
// not bytes).
func TestTenants_Names(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	post := func(body map[string]any) reply {
		return s.call(t, http.MethodPost, "/api/v1/tenants", body, s.admin)
	}

	acme := s.create(t, map[string]any{"tenant_name": "Acme"})
	beta := s.create(t, map[string]any{"tenant_name": "Beta"})
	requireDetail(t, post(map[string]any{"tenant_name": "ACME"}), http.StatusConflict, "Tenant name already exists")
	requireDetail(t, s.call(t, http.MethodPatch, tenPath(beta["tenant_id"]), map[string]any{"tenant_name": "acme"}, s.admin),
		http.StatusConflict, "Tenant name already exists")

	r := s.call(t, http.MethodPatch, tenPath(acme["tenant_id"]), map[string]any{"tenant_name": "ACME"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, "a tenant may change the case of its own name: %s", r.raw)
	r = s.call(t, http.MethodPatch, tenPath(acme["tenant_id"]), map[string]any{"tenant_name": "Gamma"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.create(t, map[string]any{"tenant_name": "acme"}) // free again after the rename
	requireDetail(t, post(map[string]any{"tenant_name": "gamma"}), http.StatusConflict, "Tenant name already exists")

	// Two adds of one new name at once: exactly one wins.
	var (
		wg       sync.WaitGroup
		statuses [6]int
	)
	for i := range statuses {
		wg.Go(func() { statuses[i] = post(map[string]any{"tenant_name": "Race"}).status })
	}
	wg.Wait()
	assert.Equal(t, 1, tenCount(statuses[:], http.StatusCreated), "statuses %v", statuses)
	assert.Equal(t, len(statuses)-1, tenCount(statuses[:], http.StatusConflict), "statuses %v", statuses)

	long := strings.Repeat("é", 64)
	r = post(map[string]any{"tenant_name": long})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, long, r.obj(t)["tenant_name"])
	tenRequire422(t, post(map[string]any{"tenant_name": long + "x"}), "string_too_long", "body", "tenant_name")
	tenRequire422(t, s.call(t, http.MethodPatch, tenPath(beta["tenant_id"]), map[string]any{"tenant_name": long + "x"}, s.admin),
		"string_too_long", "body", "tenant_name")
	tenRequire422(t, post(map[string]any{"note": "no name"}), "missing", "body", "tenant_name")
	tenRequire422(t, post(map[string]any{"tenant_name": "   "}), "value_error")
	tenRequire422(t, s.call(t, http.MethodPatch, tenPath(beta["tenant_id"]), map[string]any{"tenant_name": ""}, s.admin), "value_error")
	tenRequire422(t, post(map[string]any{"tenant_name": 7}), "string_type", "body", "tenant_name")
	r = s.call(t, http.MethodGet, tenPath(beta["tenant_id"]), nil, s.admin)
	assert.Equal(t, "Beta", r.obj(t)["tenant_name"], "refused patches change nothing")
}

// TestTenants_ListFiltersAndSorts: is_all, sort_by and sort_order.
func TestTenants_ListFiltersAndSorts(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	s.create(t, map[string]any{"tenant_name": "bravo"})
	s.create(t, map[string]any{"tenant_name": "Alpha", "is_active": false})
	s.create(t, map[string]any{"tenant_name": "charlie", "is_sys": true})
	delta := s.create(t, map[string]any{"tenant_name": "Delta"})
	r := s.call(t, http.MethodPatch, tenPath(delta["tenant_id"]), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	token := s.admin // superusers list every tenant; others those they read (TestTenants_Permissions)

	names, _ := s.list(t, token, "")
	assert.Equal(t, []string{"bravo", "charlie", "System"}, names, "active tenants by name, case-insensitively")
	names, _ = s.list(t, token, "?is_all=false&sort_order=desc")
	assert.Equal(t, []string{"System", "charlie", "bravo"}, names)
	names, _ = s.list(t, token, "?is_all=true")
	assert.Equal(t, []string{"Alpha", "bravo", "charlie", "Delta", "System"}, names)
	names, _ = s.list(t, token, "?is_all=true&sort_by=tenant_name&sort_order=desc")
	assert.Equal(t, []string{"System", "Delta", "charlie", "bravo", "Alpha"}, names)

	_, all := s.list(t, token, "?is_all=true&sort_by=tenant_id")
	ids := tenField(all, "tenant_id")
	assert.True(t, slices.IsSorted(ids), "%v", ids)
	_, all = s.list(t, token, "?is_all=true&sort_by=tenant_id&sort_order=desc")
	ids = tenField(all, "tenant_id")
	assert.True(t, slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }), "%v", ids)

	// Booleans: false first ascending; ties by tenant_id.
	checkBool := func(query, key string, desc bool) {
		t.Helper()
		_, all := s.list(t, token, query)
		require.Len(t, all, 5)
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			av, bv := a[key].(bool), b[key].(bool)
			if av == bv {
				assert.Equal(t, desc, a["tenant_id"].(string) > b["tenant_id"].(string), "%s: ties by tenant_id", query)
				continue
			}
			assert.Equal(t, desc, av, "%s: %s order", query, key)
		}
	}
	checkBool("?is_all=true&sort_by=is_sys", "is_sys", false)
	checkBool("?is_all=true&sort_by=is_sys&sort_order=desc", "is_sys", true)
	checkBool("?is_all=true&sort_by=is_active", "is_active", false)
	checkBool("?is_all=true&sort_by=is_active&sort_order=desc", "is_active", true)
	_, all = s.list(t, token, "?is_all=true&sort_by=is_sys")
	assert.Equal(t, []any{false, false, false, true, true}, tenAnyField(all, "is_sys"), "charlie and System are is_sys")

	tenRequire422(t, s.call(t, http.MethodGet, "/api/v1/tenants?sort_by=note", nil, token), "enum", "query", "sort_by")
	tenRequire422(t, s.call(t, http.MethodGet, "/api/v1/tenants?sort_order=up", nil, token), "enum", "query", "sort_order")
	tenRequire422(t, s.call(t, http.MethodGet, "/api/v1/tenants?is_all=perhaps", nil, token), "bool_parsing", "query", "is_all")
}

// TestTenants_Permissions: anyone signed in reads; only superusers write.
func TestTenants_Permissions(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	acme := s.create(t, map[string]any{"tenant_name": "Acme"})
	token := s.user(t, "plain")

	requireForbidden(t, s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Mine"}, token))
	requireForbidden(t, s.call(t, http.MethodPatch, tenPath(acme["tenant_id"]), map[string]any{"note": "x"}, token))
	requireForbidden(t, s.call(t, http.MethodDelete, tenPath(acme["tenant_id"]), nil, token))
	requireForbidden(t, s.call(t, http.MethodDelete, tenPath(tenancy.SystemTenantID), nil, token))

	requireForbidden(t, s.call(t, http.MethodGet, "/api/v1/tenants", nil, token), "no privilege anywhere")
	requireForbidden(t, s.call(t, http.MethodGet, tenPath(acme["tenant_id"]), nil, token))
	names, _ := s.list(t, s.admin, "")
	assert.Equal(t, []string{"Acme", "System"}, names, "the refused writes changed nothing")
	viewer := s.newUser(t, "acme-viewer", tenPassword)
	s.grantRole(t, s.admin, acme["tenant_id"], viewer.id, "viewer")
	names, _ = s.list(t, viewer.token, "")
	assert.Equal(t, []string{"Acme"}, names, "a viewer of Acme lists Acme only")
	r := s.call(t, http.MethodGet, tenPath(acme["tenant_id"]), nil, viewer.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, acme, r.obj(t))
	requireForbidden(t, s.call(t, http.MethodGet, tenPath(tenancy.SystemTenantID), nil, viewer.token))

	r = s.call(t, http.MethodGet, "/api/v1/tenants", nil, "")
	assert.Equal(t, http.StatusForbidden, r.status, "no credentials: %s", r.raw)
	r = s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Anon"}, "")
	assert.Equal(t, http.StatusForbidden, r.status, "no credentials: %s", r.raw)
}

// TestTenants_DisabledTenant: a disabled tenant refuses non-superusers'
// requests that name it (path parameter or X-Tenant-Id) with 403;
// superusers still reach it; enabled again, it serves everyone.
func TestTenants_DisabledTenant(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	on := s.create(t, map[string]any{"tenant_name": "On"})
	off := s.create(t, map[string]any{"tenant_name": "Off"})
	r := s.call(t, http.MethodPatch, tenPath(off["tenant_id"]), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["is_active"])
	member := s.newUser(t, "member", tenPassword)
	token := member.token
	s.grantRole(t, s.admin, on["tenant_id"], member.id, "viewer")
	s.grantRole(t, s.admin, off["tenant_id"], member.id, "viewer")
	probe := func(token, tenant string) reply {
		h := bearer(token)
		if tenant != "" {
			h.Set("X-Tenant-Id", tenant)
		}
		return s.send(t, http.MethodGet, tenProbePath, nil, "", h)
	}

	requireDetail(t, s.call(t, http.MethodGet, tenPath(off["tenant_id"]), nil, token), http.StatusForbidden, "Tenant is disabled")
	requireDetail(t, probe(token, off["tenant_id"].(string)), http.StatusForbidden, "Tenant is disabled")
	r = s.call(t, http.MethodGet, tenPath(off["tenant_id"]), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, "superusers still manage a disabled tenant: %s", r.raw)
	r = probe(s.admin, off["tenant_id"].(string))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Off", r.obj(t)["tenant_name"])

	r = probe(token, on["tenant_id"].(string))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "On", r.obj(t)["tenant_name"])
	r = probe(token, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, tenancy.SystemTenantID.String(), r.obj(t)["tenant_id"], "no tenant named: the system tenant")
	requireForbidden(t, probe(token, uuid.NewString()), "a tenant the caller holds nothing in: whether it exists is not told")
	requireDetail(t, probe(s.admin, uuid.NewString()), http.StatusNotFound, "Tenant not found")
	tenRequire422(t, probe(token, "nope"), "uuid_parsing", "header", "x-tenant-id")

	r = s.call(t, http.MethodPatch, tenPath(off["tenant_id"]), map[string]any{"is_active": true}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodGet, tenPath(off["tenant_id"]), nil, token)
	require.Equal(t, http.StatusOK, r.status, "enabled again: %s", r.raw)
	require.Equal(t, http.StatusOK, probe(token, off["tenant_id"].(string)).status)
}

// TestTenants_RemoveOnlyEmpty: a tenant that still has flows cannot be
// removed (409 naming them); flows of other tenants and deleted flows do
// not count; once empty it is removed.
func TestTenants_RemoveOnlyEmpty(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	busy := s.create(t, map[string]any{"tenant_name": "Busy"})
	other := s.create(t, map[string]any{"tenant_name": "Other"})
	flow := func(name string, tenant any) string {
		r := s.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": name, "tenant_id": tenant}, s.admin)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		require.Equal(t, tenant, r.obj(t)["tenant_id"])
		return r.obj(t)["id"].(string)
	}
	f1 := flow("one", busy["tenant_id"])
	f2 := flow("two", busy["tenant_id"])
	flow("elsewhere", other["tenant_id"])

	requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin),
		http.StatusConflict, `Tenant "Busy" still has 2 flows`)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/flows/"+f1, nil, s.admin).status)
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin),
		http.StatusConflict, `Tenant "Busy" still has 1 flow`)

	// A project of the tenant blocks too (written straight into its read
	// model: Create Project has no tenant_id yet).
	ctx := context.Background()
	_, err := s.app.Pool().Exec(ctx, `INSERT INTO projects (id, user_id, name, tenant_id, ctime, utime, version)
VALUES ($1, 1, 'p', $2, now(), now(), 0)`, uuid.New(), busy["tenant_id"])
	require.NoError(t, err)
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin),
		http.StatusConflict, `Tenant "Busy" still has 1 flow and 1 project`)
	_, err = s.app.Pool().Exec(ctx, `UPDATE projects SET is_deleted = true WHERE tenant_id = $1`, busy["tenant_id"])
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/flows/"+f2, nil, s.admin).status)
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin), http.StatusOK, "Tenant deleted")
	names, _ := s.list(t, s.admin, "?is_all=true")
	assert.Equal(t, []string{"Other", "System"}, names)
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(other["tenant_id"]), nil, s.admin),
		http.StatusConflict, `Tenant "Other" still has 1 flow`)
}

// TestTenants_Rebuild: replaying the tenants read model from position 0
// gives the same rows.
func TestTenants_Rebuild(t *testing.T) {
	t.Parallel()
	s := tenStart(t)
	a := s.create(t, map[string]any{"tenant_name": "A", "note": "n"})
	b := s.create(t, map[string]any{"tenant_name": "B", "is_sys": true})
	c := s.create(t, map[string]any{"tenant_name": "C"})
	for _, p := range []struct {
		id   any
		body map[string]any
	}{
		{a["tenant_id"], map[string]any{"tenant_name": "A2", "is_active": false}},
		{b["tenant_id"], map[string]any{"note": "later"}},
		{tenancy.SystemTenantID, map[string]any{"note": "sys"}},
	} {
		r := s.call(t, http.MethodPatch, tenPath(p.id), p.body, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, tenPath(c["tenant_id"]), nil, s.admin).status)

	ctx := context.Background()
	rows := func() []string {
		r, _ := s.app.Pool().Query(ctx, `SELECT x::text FROM tenants x ORDER BY tenant_id`)
		out, err := pgx.CollectRows(r, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	before := rows()
	require.Len(t, before, 3, "System, A2, B")
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "tenants", nil))
	assert.Equal(t, before, rows())
}

func tenKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func tenCount(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func tenField(items []map[string]any, key string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it[key].(string)
	}
	return out
}

func tenAnyField(items []map[string]any, key string) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it[key]
	}
	return out
}

// Every read model a module declares as a tenant's (TenantResourcer)
// keeps the tenant from being removed: each table has a tenant_id column
// (a declaration naming a table without one would never block), and one
// row of the tenant in it is named in Remove Tenant's 409. The rows are
// written straight into the read models, built from each table's own
// columns, so a module added later is covered without a line here.
func TestTenants_EveryDeclaredResourceBlocksRemoval(t *testing.T) {
	t.Parallel()
	s := &tenServer{harness: startApp(t, options{env: adminEnv(tenAdmin, tenAdminPassword), modules: accModules()})}
	s.admin = s.login(t, tenAdmin, tenAdminPassword).access
	busy := s.create(t, map[string]any{"tenant_name": "Busy"})
	resources := s.app.Deps().TenantResources
	require.GreaterOrEqual(t, len(resources), 11, "every module's declarations")
	ctx := context.Background()
	db := s.app.Pool()
	for _, r := range resources {
		rows, err := db.Query(ctx, `SELECT column_name::text, data_type::text FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1
  AND (column_name = 'tenant_id' OR (is_nullable = 'NO' AND column_default IS NULL))`, r.Table)
		require.NoError(t, err)
		type column struct{ name, typ string }
		cols, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (column, error) {
			var c column
			return c, row.Scan(&c.name, &c.typ)
		})
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(cols, func(c column) bool { return c.name == "tenant_id" }),
			"%s: a tenant's rows need a tenant_id", r.Table)
		names, values := []string{}, []string{}
		for _, c := range cols {
			v := map[string]string{"uuid": "gen_random_uuid()", "bigint": "(random() * 1e15)::bigint", "integer": "0",
				"boolean": "false", "text": "'x'", "character varying": "'x'", "jsonb": "'{}'", "json": "'{}'",
				"timestamp with time zone": "now()", "ARRAY": "'{}'", "bytea": "''", "smallint": "0", "double precision": "0"}[c.typ]
			require.NotEmpty(t, v, "%s.%s: no test value for type %s", r.Table, c.name, c.typ)
			if c.name == "tenant_id" {
				v = "'" + busy["tenant_id"].(string) + "'"
			}
			names, values = append(names, c.name), append(values, v)
		}
		_, err = db.Exec(ctx, `INSERT INTO `+r.Table+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(values, ", ")+`)`)
		require.NoError(t, err, r.Table)
		requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin),
			http.StatusConflict, `Tenant "Busy" still has 1 `+r.One)
		_, err = db.Exec(ctx, `DELETE FROM `+r.Table+` WHERE tenant_id = $1`, busy["tenant_id"])
		require.NoError(t, err)
	}
	requireDetail(t, s.call(t, http.MethodDelete, tenPath(busy["tenant_id"]), nil, s.admin), http.StatusOK, "Tenant deleted")
}
