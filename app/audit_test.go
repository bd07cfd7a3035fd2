package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The audit trail (package audit): the state of a tenant as of every
// instant of a scripted sequence equals what the list endpoints answered
// at that instant; the events endpoint's filters and pagination; the
// audit_log rebuild.

const (
	auditAdmin    = "auditadmin"
	auditPassword = "audit-password-1"
)

// auditModules are the modules of cmd/skillflaw's modules(), Audit last.
func auditModules() []app.Module {
	return []app.Module{
		&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Templates{},
		app.Businesses{}, app.Orgs{}, app.UserGroups{},
		&app.Audit{},
	}
}

// The fields of each part of the audit state (AuditState of the
// aggregates): the API's fields minus the audit fields and user names.
var (
	auditTenantKeys      = []string{"tenant_id", "tenant_name", "is_sys", "is_active", "note"}
	auditBusinessKeys    = []string{"business_id", "tenant_id", "business_name", "business_level", "first_business_id", "second_business_id", "third_business_id", "is_enable", "note"}
	auditOrgKeys         = []string{"org_id", "org_name", "tenant_id", "org_code", "org_level", "one_org_id", "two_org_id", "three_org_id", "four_org_id", "five_org_id", "six_org_id", "parent_org_id", "is_enable", "note"}
	auditOrgMemberKeys   = []string{"id", "tenant_id", "org_id", "uid", "position", "job", "is_leader"}
	auditGroupKeys       = []string{"group_id", "group_name", "tenant_id", "is_enable", "note"}
	auditGroupMemberKeys = []string{"id", "group_id", "uid", "is_leader"}
	auditFlowKeys        = []string{"id", "name", "description", "project_id", "business_id", "org_id", "user_id", "access_type", "is_component", "is_deleted", "is_online", "tags"}
)

// auditView is what the list endpoints answered at one instant, reduced
// to the fields of the audit state, each list ordered by id.
type auditView struct {
	tenant                                             map[string]any
	businesses, orgs, orgMembers, groups, groupMembers []map[string]any
}

// auditStep is one write of the script: its X-Event-Position and the view
// right after it.
type auditStep struct {
	name string
	pos  string
	view auditView
}

type auditWorld struct {
	*harness
	admin  caller
	tenant uuid.UUID
	steps  []auditStep
}

// pick keeps keys of row (every key must be there).
func auditPick(t *testing.T, row map[string]any, keys []string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, k := range keys {
		v, ok := row[k]
		require.True(t, ok, "no %s in %v", k, row)
		out[k] = v
	}
	return out
}

// auditRows reduces rows to keys, ordered by the number idKey.
func auditRows(t *testing.T, rows []map[string]any, keys []string, idKey string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, auditPick(t, r, keys))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][idKey].(float64) < out[j][idKey].(float64) })
	return out
}

func (w *auditWorld) get(t *testing.T, path string, kv ...any) reply {
	t.Helper()
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i].(string), fmt.Sprint(kv[i+1]))
	}
	if len(kv) > 0 {
		path += "?" + q.Encode()
	}
	return w.call(t, http.MethodGet, path, nil, w.admin.token)
}

func (w *auditWorld) getOK(t *testing.T, path string, kv ...any) reply {
	t.Helper()
	r := w.get(t, path, kv...)
	require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.raw)
	return r
}

// view reads the tenant, its businesses, orgs, org members, groups and
// group members from the list endpoints.
func (w *auditWorld) view(t *testing.T) auditView {
	t.Helper()
	v := auditView{tenant: auditPick(t, w.getOK(t, "/api/v1/tenants/"+w.tenant.String()).obj(t), auditTenantKeys)}
	v.businesses = auditRows(t, w.getOK(t, "/api/v1/businesses", "tenant-id", w.tenant).objects(t), auditBusinessKeys, "business_id")
	v.orgs = auditRows(t, w.getOK(t, "/api/v1/orgs", "tenant-id", w.tenant).objects(t), auditOrgKeys, "org_id")
	var members []map[string]any
	for _, o := range v.orgs {
		members = append(members, w.getOK(t, "/api/v1/org-members", "tenant-id", w.tenant, "org-id", o["org_id"]).objects(t)...)
	}
	v.orgMembers = auditRows(t, members, auditOrgMemberKeys, "id")
	v.groups = auditRows(t, w.getOK(t, "/api/v1/user-groups", "tenant-id", w.tenant).objects(t), auditGroupKeys, "group_id")
	members = nil
	for _, g := range v.groups {
		members = append(members, w.getOK(t, "/api/v1/user-group-members", "tenant-id", w.tenant, "group-id", g["group_id"]).objects(t)...)
	}
	v.groupMembers = auditRows(t, members, auditGroupMemberKeys, "id")
	return v
}

// write sends a write as token, requires want, records its position and
// the view after it, and returns the answer.
func (w *auditWorld) write(t *testing.T, token, name, method, path string, body any, want int) reply {
	t.Helper()
	r := w.call(t, method, path, body, token)
	require.Equal(t, want, r.status, "%s: %s", name, r.raw)
	pos := r.header.Get("X-Event-Position")
	require.NotEmpty(t, pos, name)
	w.steps = append(w.steps, auditStep{name: name, pos: pos, view: w.view(t)})
	return r
}

// state reads GET /api/v1/audit/state of the tenant as of asOf.
func (w *auditWorld) state(t *testing.T, asOf string) map[string]any {
	t.Helper()
	return w.getOK(t, "/api/v1/audit/state", "tenant_id", w.tenant, "as_of", asOf).obj(t)
}

// auditPart returns list key of part of a state (nil part: empty).
func auditPart(t *testing.T, st map[string]any, part, key string) []map[string]any {
	t.Helper()
	p, ok := st[part]
	require.True(t, ok, "no %s in state", part)
	if p == nil {
		return []map[string]any{}
	}
	items := p.(map[string]any)[key].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

// requireState checks that st holds exactly view's entities.
func requireState(t *testing.T, st map[string]any, v auditView, msg string) {
	t.Helper()
	tenant, ok := st["tenant"].(map[string]any)
	require.True(t, ok, "%s: tenant %v", msg, st["tenant"])
	require.Equal(t, v.tenant, tenant, msg)
	check := func(part, key string, keys []string, idKey string, want []map[string]any) {
		got := auditPart(t, st, part, key)
		for _, row := range got {
			require.ElementsMatch(t, keys, slices.Collect(mapsKeys(row)), "%s: the fields of %s", msg, key)
		}
		require.Equal(t, want, auditRows(t, got, keys, idKey), "%s: %s", msg, key)
	}
	check("businesses", "businesses", auditBusinessKeys, "business_id", v.businesses)
	require.Empty(t, auditPart(t, st, "businesses", "business_users"), msg)
	check("orgs", "orgs", auditOrgKeys, "org_id", v.orgs)
	check("orgs", "org_members", auditOrgMemberKeys, "id", v.orgMembers)
	check("user_groups", "user_groups", auditGroupKeys, "group_id", v.groups)
	check("user_groups", "user_group_members", auditGroupMemberKeys, "id", v.groupMembers)
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "not a number: %v", v)
	return int64(f)
}

// auditEvents walks GET /api/v1/audit/events with kv (and limit), page by
// page, and returns every item and the number of pages.
func (w *auditWorld) auditEvents(t *testing.T, limit int, kv ...any) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	cursor, pages := "", 0
	for {
		args := append([]any{"limit", limit}, kv...)
		if cursor != "" {
			args = append(args, "cursor", cursor)
		}
		m := w.getOK(t, "/api/v1/audit/events", args...).obj(t)
		pages++
		items := m["items"].([]any)
		require.LessOrEqual(t, len(items), limit)
		for _, it := range items {
			all = append(all, it.(map[string]any))
		}
		next, _ := m["next_cursor"].(string)
		if m["next_cursor"] == nil {
			return all, pages
		}
		require.Len(t, items, limit, "a page before the last is full")
		cursor = next
		require.Less(t, pages, 100)
	}
}

func positions(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it["position"].(string)
	}
	return out
}

func TestAudit_ReplayEqualsListsAtEveryInstant(t *testing.T) {
	t.Parallel()
	h := startApp(t, options{env: adminEnv(auditAdmin, auditPassword), modules: auditModules()})
	w := &auditWorld{harness: h, admin: h.signIn(t, auditAdmin, auditPassword)}
	ann := h.newUser(t, "ann", "ann-password-1")
	bob := h.newUser(t, "bob", "bob-password-1")
	cyd := h.newUser(t, "cyd", "cyd-password-1", map[string]any{"nickname": "Cyd N."})
	// A second superuser, whose writes the actor filter tells apart.
	r := h.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", cyd.id), map[string]any{"is_superuser": true}, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	before := h.head(t).String()

	// The script.
	r = h.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Audit Co", "note": "first"}, w.admin.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	w.tenant = uuid.MustParse(r.obj(t)["tenant_id"].(string))
	require.NotEmpty(t, r.header.Get("X-Event-Position"))
	w.steps = append(w.steps, auditStep{name: "create tenant", pos: r.header.Get("X-Event-Position"), view: w.view(t)})
	T := w.tenant.String()
	admin := w.admin.token
	biz := func(name string, level int, first, second int64) int64 {
		r := w.write(t, admin, "add business "+name, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": T,
			"business_name": name, "business_level": level, "first_business_id": first, "second_business_id": second}, http.StatusCreated)
		return num(t, r.obj(t)["business_id"])
	}
	b1 := biz("Retail", 1, 0, 0)
	b2 := biz("Stores", 2, b1, 0)
	b3 := biz("Store 7", 3, b1, b2)
	w.write(t, admin, "rename business", http.MethodPatch, fmt.Sprintf("/api/v1/businesses/%d?tenant-id=%s", b3, T),
		map[string]any{"business_name": "Store Seven", "note": "renamed"}, http.StatusOK)
	w.write(t, admin, "disable business", http.MethodPatch, fmt.Sprintf("/api/v1/businesses/%d?tenant-id=%s", b3, T),
		map[string]any{"is_enable": false}, http.StatusOK)
	w.write(t, admin, "enable business", http.MethodPatch, fmt.Sprintf("/api/v1/businesses/%d?tenant-id=%s", b3, T),
		map[string]any{"is_enable": true}, http.StatusOK)
	r = w.write(t, admin, "add root org", http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": T, "org_name": "HQ", "org_code": "hq"}, http.StatusCreated)
	root := num(t, r.obj(t)["org_id"])
	r = w.write(t, admin, "add child org", http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": T, "org_name": "Sales", "parent_org_id": root, "note": "n"}, http.StatusCreated)
	child := num(t, r.obj(t)["org_id"])
	r = w.write(t, admin, "add org members", http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": T, "org_id": child,
		"uids": []int64{ann.id, bob.id}, "position": "clerk", "job": "sales", "is_leader": false}, http.StatusCreated)
	member := num(t, r.objects(t)[0]["id"])
	w.write(t, admin, "add org leader", http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": T, "org_id": root,
		"uids": []int64{cyd.id}, "position": "boss", "job": "ceo", "is_leader": true}, http.StatusCreated)
	w.write(t, admin, "patch org member", http.MethodPatch, fmt.Sprintf("/api/v1/org-members/%d?tenant-id=%s", member, T),
		map[string]any{"position": "lead", "is_leader": true}, http.StatusOK)
	w.write(t, admin, "rename org", http.MethodPatch, fmt.Sprintf("/api/v1/orgs/%d?tenant-id=%s", child, T),
		map[string]any{"org_name": "Sales EMEA", "org_code": "emea"}, http.StatusOK)
	r = w.write(t, admin, "add group", http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": T, "group_name": "Ops"}, http.StatusCreated)
	g1 := num(t, r.obj(t)["group_id"])
	r = w.write(t, admin, "add group 2", http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": T, "group_name": "Temp", "note": "x"}, http.StatusCreated)
	g2 := num(t, r.obj(t)["group_id"])
	r = w.write(t, admin, "add group member", http.MethodPost, "/api/v1/user-group-members?tenant-id="+T,
		map[string]any{"group_id": g1, "uid": ann.id, "is_leader": true}, http.StatusCreated)
	gm := num(t, r.obj(t)["id"])
	w.write(t, admin, "add group member 2", http.MethodPost, "/api/v1/user-group-members?tenant-id="+T,
		map[string]any{"group_id": g1, "uid": bob.id}, http.StatusCreated)
	w.write(t, admin, "remove group member", http.MethodDelete, fmt.Sprintf("/api/v1/user-group-members/%d?tenant-id=%s", gm, T), nil, http.StatusOK)
	w.write(t, admin, "remove group", http.MethodDelete, fmt.Sprintf("/api/v1/user-groups/%d?tenant-id=%s", g2, T), nil, http.StatusOK)
	w.write(t, admin, "rename tenant", http.MethodPatch, "/api/v1/tenants/"+T, map[string]any{"tenant_name": "Audit Company", "note": "second"}, http.StatusOK)
	flowStep := len(w.steps)
	r = w.write(t, cyd.token, "create flow", http.MethodPost, "/api/v1/flows/", map[string]any{"name": "Audited", "description": "d",
		"tenant_id": T, "tags": []string{"a"}}, http.StatusCreated)
	flow := r.obj(t)
	w.write(t, cyd.token, "delete flow", http.MethodDelete, "/api/v1/flows/"+flow["id"].(string), nil, http.StatusOK)
	require.Len(t, w.steps, 22)

	// Another tenant, whose events must never show in the first's.
	r = h.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Other Co"}, admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	other := r.obj(t)["tenant_id"].(string)
	r = h.call(t, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": other, "business_name": "Elsewhere", "business_level": 1}, admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	otherFlow := h.createFlow(t, admin, map[string]any{"name": "Other flow", "tenant_id": other})

	// Every event of the tenant, in log order, with its actor.
	all, _ := w.auditEvents(t, 1000, "tenant_id", T)
	require.NotEmpty(t, all)
	streams := map[string]bool{}
	for i, e := range all {
		streams[e["stream_id"].(string)] = true
		if i > 0 {
			require.True(t, posLess(t, all[i-1]["position"].(string), e["position"].(string)), "log order")
		}
		switch num(t, e["actor_id"]) {
		case w.admin.id:
			assert.Equal(t, auditAdmin, e["actor_name"])
		case cyd.id:
			assert.Equal(t, "Cyd N.", e["actor_name"])
		default:
			t.Errorf("unexpected actor of %v", e)
		}
		require.NotEmpty(t, e["event_type"])
		require.NotNil(t, e["data"])
	}
	for _, want := range []string{"tenant-" + T, "businesses-" + T, "orgs-" + T, "user_groups-" + T, "flow-" + flow["id"].(string),
		"claim-tenant_name-audit co", "claim-tenant_name-audit company"} {
		assert.True(t, streams[want], "events of %s", want)
	}
	for s := range streams { // the aggregates of the tenant and the claims of its writes
		assert.True(t, strings.HasSuffix(s, T) || s == "flow-"+flow["id"].(string) || strings.HasPrefix(s, "claim-"), s)
	}

	// Each write's occurred time: that of the last event of the tenant at
	// or before its position, which comes after the previous write's.
	times := make([]string, len(w.steps))
	for i, s := range w.steps {
		k := -1
		for j, e := range all {
			if !posLess(t, s.pos, e["position"].(string)) {
				k = j
			}
		}
		require.GreaterOrEqual(t, k, 0, s.name)
		if i > 0 {
			require.True(t, posLess(t, w.steps[i-1].pos, all[k]["position"].(string)), "%s wrote an event of the tenant", s.name)
		}
		times[i] = all[k]["occurred_at"].(string)
	}

	// 1. The state as of every instant, by position and by time, is what
	// the lists answered then.
	st := w.state(t, before)
	for _, part := range []string{"tenant", "businesses", "orgs", "user_groups"} {
		assert.Nil(t, st[part], "before the tenant: %s", part)
	}
	assert.Equal(t, []any{}, st["flows"])
	for i, s := range w.steps {
		for _, asOf := range []string{s.pos, times[i]} {
			st := w.state(t, asOf)
			msg := fmt.Sprintf("after %q as of %s", s.name, asOf)
			require.Equal(t, T, st["tenant_id"], msg)
			require.Equal(t, asOf, st["as_of"], msg)
			requireState(t, st, s.view, msg)
			flows := st["flows"].([]any)
			switch {
			case i < flowStep:
				require.Empty(t, flows, msg)
			default:
				require.Len(t, flows, 1, msg)
				got := flows[0].(map[string]any)
				require.ElementsMatch(t, auditFlowKeys, slices.Collect(mapsKeys(got)), msg)
				want := auditPick(t, flow, auditFlowKeys)
				want["is_deleted"] = i > flowStep
				require.Equal(t, want, got, msg)
			}
		}
	}
	// The other tenant's flow is in its state only.
	r = w.getOK(t, "/api/v1/audit/state", "tenant_id", other, "as_of", "9999999")
	require.Len(t, r.obj(t)["flows"], 1)
	assert.Equal(t, otherFlow["id"], r.obj(t)["flows"].([]any)[0].(map[string]any)["id"])
	assert.Equal(t, "Other Co", r.obj(t)["tenant"].(map[string]any)["tenant_name"])

	// 2. The events: filters narrow exactly.
	filter := func(keep func(e map[string]any) bool) []string {
		out := []string{}
		for _, e := range all {
			if keep(e) {
				out = append(out, e["position"].(string))
			}
		}
		return out
	}
	query := func(kv ...any) []string {
		items, _ := w.auditEvents(t, 1000, append([]any{"tenant_id", T}, kv...)...)
		return append([]string{}, positions(items)...)
	}
	from, to := times[3], times[10]
	assert.Equal(t, filter(func(e map[string]any) bool { return e["occurred_at"].(string) >= from }), query("from", from))
	assert.Equal(t, filter(func(e map[string]any) bool { return e["occurred_at"].(string) <= to }), query("to", to))
	between := query("from", from, "to", to)
	assert.Equal(t, filter(func(e map[string]any) bool {
		return e["occurred_at"].(string) >= from && e["occurred_at"].(string) <= to
	}), between)
	assert.NotEmpty(t, between)
	assert.Less(t, len(between), len(all))
	for _, actor := range []int64{w.admin.id, cyd.id} {
		got := query("actor", actor)
		assert.NotEmpty(t, got)
		assert.Equal(t, filter(func(e map[string]any) bool { return num(t, e["actor_id"]) == actor }), got)
	}
	assert.Empty(t, query("actor", ann.id))
	for s := range streams {
		got := query("stream", s)
		assert.NotEmpty(t, got)
		assert.Equal(t, filter(func(e map[string]any) bool { return e["stream_id"] == s }), got, s)
	}
	typ := all[1]["event_type"].(string)
	assert.Equal(t, filter(func(e map[string]any) bool { return e["event_type"] == typ }), query("type", typ))
	assert.Equal(t, filter(func(e map[string]any) bool { return e["event_type"] == typ && num(t, e["actor_id"]) == w.admin.id }),
		query("type", typ, "actor", w.admin.id))
	assert.Empty(t, query("type", "NoSuchEvent"))

	// Pages of 3 walk the whole trail, without gaps or repeats.
	paged, pages := w.auditEvents(t, 3, "tenant_id", T)
	assert.Equal(t, positions(all), positions(paged))
	assert.Equal(t, (len(all)+2)/3, pages)
	assert.Equal(t, all, paged)

	// The other tenant's trail holds only its own streams.
	others, _ := w.auditEvents(t, 1000, "tenant_id", other)
	require.NotEmpty(t, others)
	for _, e := range others {
		id := e["stream_id"].(string)
		assert.True(t, strings.HasSuffix(id, other) || id == "flow-"+otherFlow["id"].(string) || strings.HasPrefix(id, "claim-"), id)
		assert.False(t, streams[id], "%s is in both tenants' trails", id)
		assert.NotContains(t, positions(all), e["position"])
	}

	// Who may read and bad input.
	for _, path := range []string{"/api/v1/audit/events?tenant_id=" + T, "/api/v1/audit/state?as_of=1&tenant_id=" + T} {
		requireForbidden(t, h.call(t, http.MethodGet, path, nil, ann.token), path)
		assert.Equal(t, http.StatusForbidden, h.call(t, http.MethodGet, path, nil, "").status, path)
	}
	bad := func(path string, loc ...any) {
		t.Helper()
		res := w.call(t, http.MethodGet, path, nil, admin)
		require.Equal(t, http.StatusUnprocessableEntity, res.status, "%s: %s", path, res.raw)
		items := res.detail().([]any)
		require.NotEmpty(t, items, res.raw)
		assert.Equal(t, loc, items[0].(map[string]any)["loc"], res.raw)
	}
	bad("/api/v1/audit/events?cursor=abc&tenant_id="+T, "query", "cursor")
	bad("/api/v1/audit/events?tenant_id=nope", "query", "tenant_id")
	bad("/api/v1/audit/events", "query", "tenant_id")
	bad("/api/v1/audit/events?limit=0&tenant_id="+T, "query", "limit")
	bad("/api/v1/audit/events?from=yesterday&tenant_id="+T, "query", "from")
	bad("/api/v1/audit/state?as_of=yesterday&tenant_id="+T, "query", "as_of")
	bad("/api/v1/audit/state?as_of=1&tenant_id=nope", "query", "tenant_id")
	bad("/api/v1/audit/state?tenant_id="+T, "query", "as_of")
	requireDetail(t, w.get(t, "/api/v1/audit/state", "tenant_id", uuid.New(), "as_of", "1"), http.StatusNotFound, "Tenant not found")

	// 4. Rebuilding audit_log from position 0 gives identical rows.
	ctx := context.Background()
	dump := func() []string {
		return h.textRows(t, `SELECT to_jsonb(a)::text FROM audit_log a ORDER BY commit_position, prepare_position`)
	}
	require.NoError(t, h.app.Runtime().WaitFor(ctx, h.head(t), "audit_log"))
	rowsBefore := dump()
	system, _ := w.auditEvents(t, 1000, "tenant_id", tenancy.SystemTenantID)
	require.Len(t, rowsBefore, len(all)+len(others)+len(system), "every event of a tenant, and no other")
	require.NoError(t, h.app.Runtime().Rebuild(ctx, "audit_log", nil))
	assert.Equal(t, rowsBefore, dump())
}

// posLess tells whether log position a comes before b.
func posLess(t *testing.T, a, b string) bool {
	t.Helper()
	var pa, pb [2]uint64
	parse := func(s string, p *[2]uint64) {
		n, err := fmt.Sscanf(s, "%d/%d", &p[0], &p[1])
		if n == 1 {
			p[1] = p[0]
			return
		}
		require.NoError(t, err, s)
	}
	parse(a, &pa)
	parse(b, &pb)
	return pa[0] < pb[0] || pa[0] == pb[0] && pa[1] < pb[1]
}
