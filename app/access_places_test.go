package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TestAccessPlaces: a place of tenant B named in a request never widens
// what the request may do in tenant A. Callers hold one seeded role each
// (tenant_admin, business_admin, developer, viewer) only in a business of
// tenant B — plus B's tenant admin — and aim every operation of
// /openapi.json (so a new route is covered the day it is registered) at
// tenant A: A's ids in the path, A as every tenant parameter (query, both
// spellings, and in the body), and B's places — the business they hold
// their role in, B's org, group, members and role relations — as every
// other place parameter, in the query and the body, under both spellings
// (business_id and business-id …), with X-Tenant-Id naming A, then B. No
// 2xx may carry A's data (the markers of TestAccessLeak), no answer may be
// a 5xx, nothing may be appended to A's streams, and none of the callers
// may end up holding anything in A.
func TestAccessPlaces(t *testing.T) {
	t.Parallel()
	w := accStart(t, options{})
	accSetup(t, w)
	b := accSetupB(t, w)
	ops := accOps(t, w)
	ctx := context.Background()
	var aStreams []string
	rows, err := w.app.Pool().Query(ctx, `SELECT DISTINCT stream_id FROM events WHERE tenant_id = $1`, w.A)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		aStreams = append(aStreams, s)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, aStreams)
	before := w.head(t)

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		cases    int
	)
	var targets []accOp
	for _, op := range ops {
		if !op.public {
			targets = append(targets, op)
		}
	}
	accEach(t, targets, func(t *testing.T, op accOp) {
		for _, who := range b.attackers {
			for _, header := range []string{w.A, w.B} {
				req := w.accPlacesRequest(t, op, who, header, b)
				r := w.accSend(t, req)
				where := fmt.Sprintf("%s %s as %s (X-Tenant-Id %s)", req.method, req.path, who, header)
				assert.Less(t, r.status, 500, "%s: %s", where, r.raw)
				if r.status/100 == 2 {
					// An id the request itself carried, echoed in an error
					// object (the Responses API's 200 errors), is not A's data.
					sent, _ := json.Marshal(req.body)
					asked := req.path + string(sent)
					var shown []string
					for _, m := range append([]string{w.mark}, w.markers...) {
						if strings.Contains(r.raw, m) && !strings.Contains(asked, m) {
							shown = append(shown, m)
						}
					}
					if len(shown) > 0 {
						assert.Failf(t, "A's data shown", "%s answered %d with %d of A's markers (%s …): %.300s",
							where, r.status, len(shown), shown[0], r.raw)
					}
				}
				mu.Lock()
				statuses[r.status]++
				cases++
				mu.Unlock()
			}
		}
	})

	// A business-level role never creates tenant-level grants, not even in
	// its own tenant B, whatever place the request adds.
	grantsB := w.head(t)
	biz := b.places[tenancy.PlaceBusiness]
	for _, who := range b.attackers[:4] {
		for _, kind := range []struct{ path, key, id string }{
			{"user-roles", "uid", fmt.Sprint(w.users[who].id)},
			{"group-roles", "group_id", b.places[tenancy.PlaceGroup]},
			{"org-roles", "org_id", b.places[tenancy.PlaceOrg]},
		} {
			path := "/api/v1/tenants/" + kind.path + "?tenant_id=" + w.B + "&business_id=" + biz + "&business-id=" + biz
			h := withToken(w.users[who].token)
			h.Set(tenancy.HeaderTenantID, w.B)
			r := w.do(t, http.MethodPost, path, map[string]any{"tenant_id": w.B, kind.key: intOf(kind.id), "role_id": "tenant_admin",
				"business_id": intOf(biz), "business-id": intOf(biz)}, h)
			requireForbidden(t, r, who, kind.path)
		}
	}
	var grants int
	require.NoError(t, w.app.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE global_position > $1 AND stream_id = $2`,
		int64(grantsB.Commit), "tenant_grants-"+w.B).Scan(&grants))
	assert.Zero(t, grants, "tenant grants written by business roles")

	var appended int
	require.NoError(t, w.app.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE global_position > $1
  AND (tenant_id = $2 OR stream_id = ANY($3))`, int64(before.Commit), w.A, aStreams).Scan(&appended))
	assert.Zero(t, appended, "events appended to tenant A's streams")
	var held []string
	rows, err = w.app.Pool().Query(ctx, `SELECT DISTINCT module_id || '.' || priv_id FROM access_privileges
WHERE tenant_id = $1 AND uid = ANY($2)`, w.A, b.uids)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		held = append(held, s)
	}
	require.NoError(t, rows.Err())
	assert.Empty(t, held, "privileges in A held by B's callers")
	t.Logf("cross-tenant places: %d routes x %d callers x 2 X-Tenant-Id = %d cases; answers by status: %v",
		len(targets), len(b.attackers), cases, statuses)
}

// accB is tenant B's side of TestAccessPlaces: its places by kind
// (tenancy.Place*) and the callers holding roles in it.
type accB struct {
	places    map[string]string
	attackers []string
	uids      []int64
}

// accSetupB builds, in tenant B, a business with one caller per seeded
// role holding that role there only, an org with a member, a user group
// with a member, and role grants to a user, the group and the org; the
// tenant admin of B (the matrix's member of B) attacks too.
func accSetupB(t testing.TB, w *accWorld) *accB {
	t.Helper()
	b := &accB{places: map[string]string{tenancy.PlaceTenant: w.A}}
	num := func(r reply, key string) string { return accNum(t, r.obj(t)[key]) }
	biz := num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": w.B,
		"business_name": "B sales", "business_level": 1, "first_business_id": 0, "second_business_id": 0}, ""), "business_id")
	b.places[tenancy.PlaceBusiness] = biz
	org := num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": w.B, "org_name": "B org",
		"parent_org_id": 0}, ""), "org_id")
	b.places[tenancy.PlaceOrg] = org
	group := num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": w.B,
		"group_name": "B group"}, ""), "group_id")
	b.places[tenancy.PlaceGroup] = group
	spare := w.newUser(t, "acc_b_spare", accPassword, nil)
	r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": w.B, "org_id": intOf(org),
		"uids": []int64{spare.id}, "position": "p", "job": "j", "is_leader": false}, "")
	b.places[tenancy.PlaceOrgMember] = accNum(t, r.objects(t)[0]["id"])
	b.places[tenancy.PlaceGroupMember] = num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/user-group-members?tenant-id="+w.B,
		map[string]any{"group_id": intOf(group), "uid": spare.id, "is_leader": false}, ""), "id")
	b.places[tenancy.PlaceTenantUserRelation] = num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles",
		map[string]any{"tenant_id": w.B, "uid": spare.id, "role_id": "viewer"}, ""), "id")
	b.places[tenancy.PlaceTenantGroupRelation] = num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/group-roles",
		map[string]any{"tenant_id": w.B, "group_id": intOf(group), "role_id": "viewer"}, ""), "id")
	b.places[tenancy.PlaceTenantOrgRelation] = num(w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/org-roles",
		map[string]any{"tenant_id": w.B, "org_id": intOf(org), "role_id": "viewer"}, ""), "id")
	for _, role := range []string{"tenant_admin", "business_admin", "developer", "viewer"} {
		who := "b_business_" + role
		u := w.newUser(t, "acc_"+who, accPassword, nil)
		w.users[who] = u
		r := w.su(t, http.StatusOK, http.MethodPut, "/api/v1/businesses/"+biz+"/user-roles",
			map[string]any{"uid": u.id, "role_ids": []string{role}}, w.B)
		b.places[tenancy.PlaceBusinessRelation] = accNum(t, r.objects(t)[0]["id"])
		b.attackers = append(b.attackers, who)
		b.uids = append(b.uids, u.id)
	}
	b.attackers = append(b.attackers, accMemberB)
	b.uids = append(b.uids, w.users[accMemberB].id)
	return b
}

// accPlaceKind is the kind of place a parameter or body field named name
// identifies on the operation at path, by its name alone (for the
// spellings the operation does not declare).
func accPlaceKind(path, name string) string {
	m := httpapi.PlaceLike.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	switch m[2] {
	case "tenant":
		return tenancy.PlaceTenant
	case "business":
		return tenancy.PlaceBusiness
	case "org":
		return tenancy.PlaceOrg
	case "group":
		return tenancy.PlaceGroup
	case "member":
		if strings.Contains(path, "user-group") {
			return tenancy.PlaceGroupMember
		}
		return tenancy.PlaceOrgMember
	}
	switch { // relation
	case strings.HasPrefix(path, "/api/v1/businesses"):
		return tenancy.PlaceBusinessRelation
	case strings.Contains(path, "group-roles"):
		return tenancy.PlaceTenantGroupRelation
	case strings.Contains(path, "org-roles"):
		return tenancy.PlaceTenantOrgRelation
	}
	return tenancy.PlaceTenantUserRelation
}

// accSpellings are a place name and its other spelling (- and _ swapped).
func accSpellings(name string) []string {
	other := strings.ReplaceAll(name, "_", "-")
	if other == name {
		other = strings.ReplaceAll(name, "-", "_")
	}
	return []string{name, other}
}

// accEveryPlaceName is every name of a place parameter or field the API
// uses, for the query of every operation (both spellings are added).
var accEveryPlaceName = []string{"tenant_id", "business_id", "first_business_id", "second_business_id", "third_business_id",
	"filter_business_id", "org_id", "parent_org_id", "group_id", "member_id", "relation_id"}

// accPlacesRequest is TestAccessPlaces' request of who to op: A's ids in
// the path, and every place parameter and body field set to A (tenants)
// or B's place of its kind, header as X-Tenant-Id.
func (w *accWorld) accPlacesRequest(t testing.TB, op accOp, who, header string, b *accB) accRequest {
	c := accCase{op: op, variant: "A", who: who}
	ids := w.accPathIDs(c)
	path := accPathParam.ReplaceAllStringFunc(op.path, func(m string) string { return url.PathEscape(ids[m[1:len(m)-1]]) })
	q := url.Values{}
	for k, v := range w.accCaseQuery(c) {
		if op.params[k] == "query" {
			q[k] = v
		}
	}
	value := func(name, kind string) string {
		if kind == "" {
			kind = accPlaceKind(op.path, name)
		}
		return b.places[kind]
	}
	for _, name := range accEveryPlaceName {
		for _, n := range accSpellings(name) {
			if op.params[n] != "path" {
				q.Set(n, value(n, ""))
			}
		}
	}
	for name, kind := range op.places {
		for _, n := range accSpellings(name) {
			if op.params[n] != "path" {
				q.Set(n, value(n, kind))
			}
		}
	}
	h := withToken(w.users[who].token)
	if op.apiKey {
		h = http.Header{"X-Api-Key": {w.accKey(t, who)}}
	}
	h.Set(tenancy.HeaderTenantID, header)
	body := w.accBody(c)
	if m, ok := body.(map[string]any); ok || (body == nil && len(op.bodyFields) > 0) {
		if m == nil {
			m = map[string]any{}
		}
		for _, f := range op.bodyFields {
			if kind := accPlaceKind(op.path, f); kind != "" {
				for _, n := range accSpellings(f) {
					v := value(n, kind)
					if kind == tenancy.PlaceTenant {
						m[n] = v
					} else {
						m[n] = intOf(v)
					}
				}
			}
		}
		// A grant is asked for the caller itself, as tenant admin.
		if _, ok := m["uid"]; ok {
			m["uid"] = w.users[who].id
		}
		if _, ok := m["role_id"]; ok && strings.HasPrefix(op.path, "/api/v1/tenants/") {
			m["role_id"] = "tenant_admin"
		}
		body = m
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return accRequest{method: op.method, path: path, header: h, body: body}
}

// TestAccessPlaces_repeated_parameters: a parameter sent twice is checked
// as its handler reads it (the last value), so that B's admin cannot name
// B first for the check and A last for the handler.
func TestAccessPlaces_repeated_parameters(t *testing.T) {
	t.Parallel()
	w := accStart(t, options{})
	tenant := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, "")
		return r.obj(t)["tenant_id"].(string)
	}
	a, b := tenant(w.named("tenant")), tenant("repeated B")
	org := func(tenant, name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": tenant, "org_name": name, "parent_org_id": 0}, "")
		return accNum(t, r.obj(t)["org_id"])
	}
	orgA, orgB := org(a, w.named("org")), org(b, "repeated B org")
	admin := w.newUser(t, "repeated_b_admin", accPassword, nil)
	w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": b, "uid": admin.id, "role_id": "tenant_admin"}, "")

	for _, c := range []struct {
		path string
		want int
	}{
		{"/api/v1/audit/events?tenant_id=" + b + "&tenant_id=" + a, http.StatusForbidden},
		{"/api/v1/audit/state?as_of=2999-01-01T00:00:00Z&tenant_id=" + b + "&tenant_id=" + a, http.StatusForbidden},
		{"/api/v1/orgs?tenant-id=" + b + "&tenant-id=" + a, http.StatusForbidden},
		{"/api/v1/org-members?tenant-id=" + b + "&org-id=" + orgB + "&org-id=" + orgA, http.StatusNotFound},
		// The last value is the one that counts, both ways.
		{"/api/v1/audit/events?tenant_id=" + a + "&tenant_id=" + b, http.StatusOK},
		{"/api/v1/org-members?tenant-id=" + b + "&org-id=" + orgA + "&org-id=" + orgB, http.StatusOK},
	} {
		r := w.do(t, http.MethodGet, c.path, nil, withToken(admin.token))
		assert.Equal(t, c.want, r.status, "%s: %.300s", c.path, r.raw)
		for _, m := range w.markers {
			assert.NotContains(t, r.raw, m, "%s shows A's data", c.path)
		}
	}
}

// misplacedModule declares a parameter with a kind of place tenancy does
// not know (a typo the Authorizer would take for a place that does not
// exist, and let pass).
type misplacedModule struct{}

func (misplacedModule) Register(*eventstore.Registry) error    { return nil }
func (misplacedModule) Projections() []*projections.Projection { return nil }
func (misplacedModule) Routes(s *httpapi.Server, _ app.Deps) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/_test/misplaced/{business_id}", Tag: "Test", Summary: "Misplaced",
		Access: access.Tenant("businesses", "read"), Handler: func(*gin.Context) {},
		Params: []httpapi.Param{{Name: "business_id", In: "path", Type: "integer", Place: "buisness"}}})
}

// TestAccessPlaces_unknown_kind_stops_the_server: a parameter declaring a
// kind of place that is not one is a configuration error.
func TestAccessPlaces_unknown_kind_stops_the_server(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"SKILLFLAW_DATABASE_URL": testkit.DatabaseURL(t), "HOME": t.TempDir()}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), misplacedModule{})
	require.NoError(t, err)
	defer a.Close()
	_, err = a.Handler()
	require.ErrorContains(t, err, `unknown kind of place "buisness"`)
}
