package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/starters"
)

// The keys of the spec's FlowTemplateRead.
var tplTemplateKeys = []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data", "tags",
	"flow_type", "id", "tenant_id", "business_id", "is_self", "user_id", "creator_name", "create_at", "updated_at"}

func tplKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A template is the flow's current draft under its own name; it does not
// follow later edits of the flow.
func TestTemplates_CreateFromFlow(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada := s.tplSignUp(t, "ada")
	flow := s.createFlow(t, ada.token, map[string]any{
		"name": "Support bot", "description": "Answers support questions", "flow_skill": "support", "icon": "Bot",
		"icon_bg_color": "#ffeecc", "gradient": "3", "tags": []string{"support", "chat"}, "flow_type": "chat",
		"endpoint_name": "support-bot", "data": map[string]any{"nodes": []any{map[string]any{"id": "n1"}}, "edges": []any{}},
	})
	flowPath := fmt.Sprintf("/api/v1/flows/%s", flow["id"])
	// The draft as it is now, not as it was created.
	r := s.call(t, http.MethodPatch, flowPath, map[string]any{
		"description": "Answers support questions, politely", "tags": []string{"support"},
		"data": map[string]any{"nodes": []any{map[string]any{"id": "n1"}, map[string]any{"id": "n2"}}, "edges": []any{},
			"viewport": map[string]any{"x": 1.5, "y": 2, "zoom": 0.8}},
	}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	flow = r.obj(t)

	r = s.call(t, http.MethodPost, flowPath+"/templates", map[string]any{"name": "Support starter", "note": "for the helpdesk"}, ada.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))
	assert.Empty(t, r.header.Get("X-Read-Model-Lag"))
	tpl := r.obj(t)
	assert.ElementsMatch(t, tplTemplateKeys, tplKeys(tpl), r.raw)
	for _, k := range []string{"description", "flow_skill", "icon", "icon_bg_color", "gradient", "data", "tags", "flow_type"} {
		assert.Equal(t, flow[k], tpl[k], k)
	}
	assert.Equal(t, "Support starter", tpl["name"])
	assert.Equal(t, ada.id, tpl["user_id"])
	assert.Equal(t, "ada", tpl["creator_name"])
	assert.Equal(t, false, tpl["is_self"])
	assert.Equal(t, float64(0), tpl["business_id"])
	assert.Nil(t, tpl["tenant_id"])
	id, err := uuid.Parse(tpl["id"].(string))
	require.NoError(t, err)
	assert.NotEqual(t, flow["id"], id.String())
	created, err := time.Parse(time.RFC3339Nano, tpl["create_at"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), created, time.Minute)
	assert.Equal(t, tpl["create_at"], tpl["updated_at"])

	got := s.call(t, http.MethodGet, tplPath(id), nil, ada.token)
	require.Equal(t, http.StatusOK, got.status, got.raw)
	assert.Equal(t, tpl, got.obj(t))

	// Later edits of the flow leave the template alone.
	r = s.call(t, http.MethodPatch, flowPath, map[string]any{"description": "changed", "data": map[string]any{"nodes": []any{}}}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got = s.call(t, http.MethodGet, tplPath(id), nil, ada.token)
	assert.Equal(t, tpl, got.obj(t))
}

func TestTemplates_CreateScopesAndRefusals(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada, bob, admin := s.tplSignUp(t, "ada"), s.tplSignUp(t, "bob"), s.tplAdminUser(t)
	flow := s.createFlow(t, ada.token, map[string]any{"name": "Flow of ada", "data": map[string]any{"nodes": []any{}}})
	create := func(u tplUser, flowID any, body map[string]any) reply {
		return s.call(t, http.MethodPost, fmt.Sprintf("/api/v1/flows/%s/templates", flowID), body, u.token)
	}

	personal := s.tplCreate(t, ada, flow["id"], "Mine", "personal")
	assert.Equal(t, true, personal["is_self"])
	assert.Equal(t, float64(0), personal["business_id"])
	tenant := s.tplCreate(t, ada, flow["id"], "Ours", "tenant")
	assert.Equal(t, false, tenant["is_self"])
	r := create(ada, flow["id"], map[string]any{"name": "Of a business", "scope": "business", "business_id": 42})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, float64(42), r.obj(t)["business_id"])
	assert.Equal(t, false, r.obj(t)["is_self"])
	// The contract's sample: business_id 0 with another scope is no business.
	r = create(admin, flow["id"], map[string]any{"name": "For everyone", "scope": "system", "business_id": 0, "note": "n"})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, admin.id, r.obj(t)["user_id"], "a superuser may template anyone's flow; the template is the superuser's")

	gone := s.createFlow(t, ada.token, map[string]any{"name": "Deleted flow"})
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, fmt.Sprintf("/api/v1/flows/%s", gone["id"]), nil, ada.token).status)

	head := s.head(t)
	for _, tc := range []struct {
		name   string
		user   tplUser
		flow   any
		body   map[string]any
		status int
		detail any
	}{
		{"missing name", ada, flow["id"], map[string]any{"scope": "tenant"}, 422, nil},
		{"blank name", ada, flow["id"], map[string]any{"name": "   "}, 422, nil},
		{"name too long", ada, flow["id"], map[string]any{"name": strings.Repeat("x", 256)}, 422, nil},
		{"unknown scope", ada, flow["id"], map[string]any{"name": "x", "scope": "galaxy"}, 422, nil},
		{"empty scope", ada, flow["id"], map[string]any{"name": "x", "scope": ""}, 422, nil},
		{"business without business_id", ada, flow["id"], map[string]any{"name": "x", "scope": "business"}, 422, nil},
		{"business_id 0", ada, flow["id"], map[string]any{"name": "x", "scope": "business", "business_id": 0}, 422, nil},
		{"business_id without business", ada, flow["id"], map[string]any{"name": "x", "business_id": 3}, 422, nil},
		{"negative business_id", ada, flow["id"], map[string]any{"name": "x", "scope": "business", "business_id": -1}, 422, nil},
		{"business_id not a number", ada, flow["id"], map[string]any{"name": "x", "business_id": "seven"}, 422, nil},
		{"system by a user", ada, flow["id"], map[string]any{"name": "x", "scope": "system"}, 403, "Only superusers can create system templates"},
		{"someone else's flow", bob, flow["id"], map[string]any{"name": "x"}, 404, "Flow not found"},
		{"unknown flow", ada, uuid.New(), map[string]any{"name": "x"}, 404, "Flow not found"},
		{"deleted flow", ada, gone["id"], map[string]any{"name": "x"}, 404, "Flow not found"},
		{"bad flow id", ada, "not-a-uuid", map[string]any{"name": "x"}, 422, nil},
		{"no credentials", tplUser{}, flow["id"], map[string]any{"name": "x"}, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := create(tc.user, tc.flow, tc.body)
			require.Equal(t, tc.status, r.status, r.raw)
			if tc.detail != nil {
				requireDetail(t, r, tc.status, tc.detail)
			}
			if tc.status == 422 {
				_, isList := r.obj(t)["detail"].([]any)
				assert.True(t, isList, "422 lists its errors: %s", r.raw)
			}
		})
	}
	r = create(ada, flow["id"], map[string]any{"name": "x", "scope": "business"})
	items, _ := r.obj(t)["detail"].([]any)
	require.Len(t, items, 1, r.raw)
	assert.Equal(t, []any{"body", "business_id"}, items[0].(map[string]any)["loc"], r.raw)
	assert.Equal(t, head, s.head(t), "refused requests write nothing")
}

// Who sees which template: creator, another user and a superuser ×
// personal, tenant, business and system templates; Read Basic Examples
// lists exactly the visible ones, newest first, as flows.
func TestTemplates_Visibility(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada, bob, admin := s.tplSignUp(t, "ada"), s.tplSignUp(t, "bob"), s.tplAdminUser(t)
	adaFlow := s.createFlow(t, ada.token, map[string]any{"name": "Ada's", "data": map[string]any{"nodes": []any{map[string]any{"id": "a"}}}})
	adminFlow := s.createFlow(t, admin.token, map[string]any{"name": "Admin's", "data": map[string]any{"nodes": []any{}}})

	personal := s.tplCreate(t, ada, adaFlow["id"], "Ada personal", "personal")
	tenant := s.tplCreate(t, ada, adaFlow["id"], "Ada tenant", "")
	r := s.call(t, http.MethodPost, fmt.Sprintf("/api/v1/flows/%s/templates", adaFlow["id"]),
		map[string]any{"name": "Ada business", "scope": "business", "business_id": 7}, ada.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	business := r.obj(t)
	system := s.tplCreate(t, admin, adminFlow["id"], "System", "system")
	adminPersonal := s.tplCreate(t, admin, adminFlow["id"], "Admin personal", "personal")
	all := []map[string]any{personal, tenant, business, system, adminPersonal} // in creation order

	visible := map[string][]map[string]any{
		"creator":   {personal, tenant, business, system},
		"other":     {tenant, business, system},
		"superuser": all,
	}
	users := map[string]tplUser{"creator": ada, "other": bob, "superuser": admin}
	for who, u := range users {
		for _, tpl := range all {
			r := s.call(t, http.MethodGet, tplPath(tpl["id"]), nil, u.token)
			if slices.ContainsFunc(visible[who], func(v map[string]any) bool { return v["id"] == tpl["id"] }) {
				require.Equal(t, http.StatusOK, r.status, "%s reads %s: %s", who, tpl["name"], r.raw)
				assert.Equal(t, tpl, r.obj(t))
			} else {
				requireDetail(t, r, http.StatusNotFound, "Template not found", "%s reads %s", who, tpl["name"])
			}
		}
		r := s.call(t, http.MethodGet, "/api/v1/flows/basic_examples/", nil, u.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		want := slices.Clone(visible[who])
		slices.Reverse(want) // newest first
		assert.Equal(t, tplIDs(want), tplIDs(r.objects(t)), "%s's basic examples", who)
	}

	// Basic examples are templates shown as flows.
	r = s.call(t, http.MethodGet, "/api/v1/flows/basic_examples/", nil, bob.token)
	list := r.objects(t)
	require.Len(t, list, 3)
	example := list[2] // the tenant template
	for _, k := range []string{"name", "description", "data", "tags", "flow_type", "id", "user_id", "creator_name", "is_self",
		"business_id", "tenant_id", "create_at", "updated_at", "icon", "gradient", "flow_skill", "icon_bg_color"} {
		assert.Equal(t, tenant[k], example[k], k)
	}
	for k, v := range map[string]any{"is_component": false, "webhook": false, "endpoint_name": nil, "locked": false,
		"is_online": false, "is_version": false, "is_deleted": false, "access_type": "PRIVATE", "project_id": nil,
		"org_id": float64(0), "mcp_enabled": false, "online_version": nil, "m_uid": ada.id} {
		assert.Equal(t, v, example[k], k)
	}

	requireDetail(t, s.call(t, http.MethodGet, tplPath(uuid.New()), nil, ada.token), http.StatusNotFound, "Template not found")
	assert.Equal(t, http.StatusUnprocessableEntity, s.call(t, http.MethodGet, tplPath("nope"), nil, ada.token).status)
	assert.Equal(t, http.StatusForbidden, s.call(t, http.MethodGet, "/api/v1/flows/basic_examples/", nil, "").status)
	// Read Flow still serves flows beside the literal basic_examples/.
	assert.Equal(t, http.StatusOK, s.call(t, http.MethodGet, fmt.Sprintf("/api/v1/flows/%s", adaFlow["id"]), nil, ada.token).status)
}

// Only the creator or a superuser changes or deletes a template; others
// get 403 when they can see it and 404 when they cannot.
func TestTemplates_UpdateAndDelete(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada, bob, admin := s.tplSignUp(t, "ada"), s.tplSignUp(t, "bob"), s.tplAdminUser(t)
	flow := s.createFlow(t, ada.token, map[string]any{"name": "Ada's", "data": map[string]any{"nodes": []any{}}})
	shared := s.tplCreate(t, ada, flow["id"], "Shared", "")
	private := s.tplCreate(t, ada, flow["id"], "Private", "personal")
	system := s.tplCreate(t, admin, flow["id"], "System", "system")

	head := s.head(t)
	requireDetail(t, s.call(t, http.MethodPatch, tplPath(shared["id"]), map[string]any{"name": "Hijacked"}, bob.token),
		http.StatusForbidden, "Only the template's creator, a superuser or a holder of the privilege where it lives can change it")
	requireDetail(t, s.call(t, http.MethodPatch, tplPath(system["id"]), map[string]any{"name": "Hijacked"}, ada.token),
		http.StatusForbidden, "Only the template's creator, a superuser or a holder of the privilege where it lives can change it")
	requireDetail(t, s.call(t, http.MethodPatch, tplPath(private["id"]), map[string]any{"name": "Hijacked"}, bob.token),
		http.StatusNotFound, "Template not found")
	requireDetail(t, s.call(t, http.MethodDelete, tplPath(shared["id"]), nil, bob.token),
		http.StatusForbidden, "Only the template's creator, a superuser or a holder of the privilege where it lives can change it")
	requireDetail(t, s.call(t, http.MethodDelete, tplPath(private["id"]), nil, bob.token),
		http.StatusNotFound, "Template not found")
	for _, bad := range []map[string]any{
		{"name": ""}, {"name": "   "}, {"business_id": -2}, {"tags": "x"}, {"is_self": "yes"},
		{"is_self": true, "business_id": 3},
	} {
		r := s.call(t, http.MethodPatch, tplPath(shared["id"]), bad, ada.token)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", bad, r.raw)
	}
	requireDetail(t, s.call(t, http.MethodPatch, tplPath(uuid.New()), map[string]any{"name": "x"}, ada.token),
		http.StatusNotFound, "Template not found")
	assert.Equal(t, head, s.head(t), "refused changes write nothing")

	// The creator changes it.
	change := map[string]any{"name": "Shared v2", "description": "Second take", "flow_skill": "triage", "flow_type": "agent",
		"icon": "Star", "icon_bg_color": "#000000", "gradient": "5", "tags": []string{"x", "y"},
		"data": map[string]any{"nodes": []any{map[string]any{"id": "z"}}, "edges": []any{}}}
	r := s.call(t, http.MethodPatch, tplPath(shared["id"]), change, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))
	updated := r.obj(t)
	for k, v := range change {
		want, _ := json.Marshal(v)
		gotJSON, _ := json.Marshal(updated[k])
		assert.JSONEq(t, string(want), string(gotJSON), k)
	}
	assert.Equal(t, shared["create_at"], updated["create_at"])
	assert.NotEqual(t, shared["updated_at"], updated["updated_at"])
	assert.Equal(t, ada.id, updated["user_id"])
	assert.Equal(t, updated, s.call(t, http.MethodGet, tplPath(shared["id"]), nil, bob.token).obj(t))

	// Changing nothing writes nothing.
	head = s.head(t)
	for _, same := range []map[string]any{{}, {"name": "Shared v2", "tags": []string{"x", "y"}, "is_self": false, "business_id": 0}} {
		r = s.call(t, http.MethodPatch, tplPath(shared["id"]), same, ada.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Empty(t, r.header.Get("X-Event-Position"))
		assert.Equal(t, updated, r.obj(t))
	}
	assert.Equal(t, head, s.head(t))

	// is_self and business_id move it between scopes.
	r = s.call(t, http.MethodPatch, tplPath(shared["id"]), map[string]any{"is_self": true}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.obj(t)["is_self"])
	requireDetail(t, s.call(t, http.MethodGet, tplPath(shared["id"]), nil, bob.token), http.StatusNotFound, "Template not found")
	r = s.call(t, http.MethodPatch, tplPath(shared["id"]), map[string]any{"business_id": 9}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["is_self"])
	assert.Equal(t, float64(9), r.obj(t)["business_id"])
	assert.Equal(t, http.StatusOK, s.call(t, http.MethodGet, tplPath(shared["id"]), nil, bob.token).status)
	r = s.call(t, http.MethodPatch, tplPath(shared["id"]), map[string]any{"business_id": 0}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(0), r.obj(t)["business_id"])

	// A superuser changes anyone's template; it stays its creator's.
	r = s.call(t, http.MethodPatch, tplPath(private["id"]), map[string]any{"name": "Renamed by admin"}, admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Renamed by admin", r.obj(t)["name"])
	assert.Equal(t, ada.id, r.obj(t)["user_id"])

	// Deletes.
	r = s.call(t, http.MethodDelete, tplPath(shared["id"]), nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"detail": "Template deleted"}, r.obj(t))
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))
	requireDetail(t, s.call(t, http.MethodGet, tplPath(shared["id"]), nil, ada.token), http.StatusNotFound, "Template not found")
	requireDetail(t, s.call(t, http.MethodDelete, tplPath(shared["id"]), nil, ada.token), http.StatusNotFound, "Template not found")
	requireDetail(t, s.call(t, http.MethodPatch, tplPath(shared["id"]), map[string]any{"name": "back"}, admin.token),
		http.StatusNotFound, "Template not found")
	r = s.call(t, http.MethodGet, "/api/v1/flows/basic_examples/", nil, ada.token)
	assert.Equal(t, []any{system["id"], private["id"]}, tplIDs(r.objects(t)))

	r = s.call(t, http.MethodDelete, tplPath(private["id"]), nil, admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodDelete, tplPath(system["id"]), nil, admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodGet, "/api/v1/flows/basic_examples/", nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "[]", r.raw)
}

// Of concurrent changes of one template each either lands (200, one
// event) or is refused with 409; none is lost or merged silently.
func TestTemplates_ConcurrentUpdates(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada := s.tplSignUp(t, "ada")
	flow := s.createFlow(t, ada.token, map[string]any{"name": "Ada's"})
	tpl := s.tplCreate(t, ada, flow["id"], "Raced", "")
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := s.call(t, http.MethodPatch, tplPath(tpl["id"]), map[string]any{"name": fmt.Sprintf("name %d", i)}, ada.token)
			statuses[i] = r.status
			if r.status == http.StatusConflict {
				assert.Contains(t, r.obj(t)["detail"], "changed by another request", r.raw)
			}
		})
	}
	wg.Wait()
	landed := map[any]bool{}
	for i, st := range statuses {
		require.Contains(t, []int{http.StatusOK, http.StatusConflict}, st)
		if st == http.StatusOK {
			landed[fmt.Sprintf("name %d", i)] = true
		}
	}
	require.NotEmpty(t, landed)
	var updates int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'flow_template.updated'`,
		"flow_template-"+tpl["id"].(string)).Scan(&updates))
	assert.Equal(t, len(landed), updates, "one event per accepted change")
	got := s.call(t, http.MethodGet, tplPath(tpl["id"]), nil, ada.token).obj(t)
	assert.True(t, landed[got["name"]], "the name is one that landed: %v", got["name"])
}

// The starter projects endpoint serves the graphs of package starters.
func TestTemplates_StarterProjects(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada := s.tplSignUp(t, "ada")
	r := s.call(t, http.MethodGet, "/api/v1/starter-projects/", nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	want, err := starters.All()
	require.NoError(t, err)
	raw, err := json.Marshal(want)
	require.NoError(t, err)
	var wantBody any
	require.NoError(t, json.Unmarshal(raw, &wantBody))
	assert.Equal(t, wantBody, r.body)

	list := r.objects(t)
	require.Len(t, list, len(want))
	names := make([]any, len(list))
	for i, g := range list {
		assert.ElementsMatch(t, []string{"data", "is_component", "name", "description", "endpoint_name"}, tplKeys(g))
		data, ok := g["data"].(map[string]any)
		require.True(t, ok)
		assert.ElementsMatch(t, []string{"nodes", "edges", "viewport"}, tplKeys(data))
		assert.NotEmpty(t, data["nodes"])
		names[i] = g["name"]
	}
	assert.Equal(t, []any{"Basic Prompting", "Memory Chatbot", "Basic Prompt Chaining", "Twitter Thread Generator"}, names)
	assert.Equal(t, http.StatusForbidden, s.call(t, http.MethodGet, "/api/v1/starter-projects/", nil, "").status)

	doc := s.call(t, http.MethodGet, "/openapi.json", nil, "").obj(t)
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/flows/{flow_id}/templates", "/api/v1/flow-templates/{template_id}",
		"/api/v1/flows/basic_examples/", "/api/v1/starter-projects/"} {
		assert.Contains(t, paths, p)
	}
}

// Rebuilding flow_templates from position 0 gives the same rows, whatever
// the live table held.
func TestTemplates_Rebuild(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada, admin := s.tplSignUp(t, "ada"), s.tplAdminUser(t)
	flow := s.createFlow(t, ada.token, map[string]any{"name": "Ada's", "tags": []string{"t"}, "data": map[string]any{"nodes": []any{}}})
	kept := s.tplCreate(t, ada, flow["id"], "Kept", "")
	s.tplCreate(t, ada, flow["id"], "Personal", "personal")
	s.tplCreate(t, admin, flow["id"], "System", "system")
	gone := s.tplCreate(t, ada, flow["id"], "Gone", "")
	r := s.call(t, http.MethodPatch, tplPath(kept["id"]), map[string]any{"name": "Kept v2", "business_id": 4,
		"data": map[string]any{"nodes": []any{map[string]any{"id": "k"}}}, "tags": []string{}}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, tplPath(gone["id"]), nil, ada.token).status)

	before := s.tplRows(t)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(before), &rows))
	require.Len(t, rows, 3)

	// Spoil the live table: the rebuild must replace it from the log.
	_, err := s.app.Pool().Exec(context.Background(), `UPDATE flow_templates SET name = 'spoiled', data = NULL`)
	require.NoError(t, err)
	require.NotEqual(t, before, s.tplRows(t))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "flow_templates", nil))
	assert.JSONEq(t, before, s.tplRows(t))
}

// TestTemplates_carry_no_password_values proves that a template, shared
// with its scope, never shows the values of password fields: not copied
// from the flow, and emptied when read (for data a PATCH put there).
func TestTemplates_carry_no_password_values(t *testing.T) {
	t.Parallel()
	s := tplStart(t)
	ada := s.tplSignUp(t, "ada")
	bob := s.tplSignUp(t, "bob")
	flow := s.createFlow(t, ada.token, map[string]any{"name": "Keyed", "data": secretGraph("sk-flow-SECRET")})
	tpl := s.tplCreate(t, ada, flow["id"], "Keyed starter", "")
	assert.NotContains(t, fmt.Sprint(tpl), "SECRET")
	assert.Contains(t, fmt.Sprint(tpl), "gpt-4o")
	path := fmt.Sprintf("/api/v1/flow-templates/%s", tpl["id"])
	r := s.call(t, http.MethodPatch, path, map[string]any{"data": secretGraph("sk-patched-SECRET")}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotContains(t, r.raw, "SECRET")
	for _, who := range []tplUser{ada, bob} {
		for _, p := range []string{path, "/api/v1/flows/basic_examples/"} {
			r := s.call(t, http.MethodGet, p, nil, who.token)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Contains(t, r.raw, "gpt-4o", "%s reads %s", who.name, p)
			assert.NotContains(t, r.raw, "SECRET", "%s reads %s", who.name, p)
		}
	}
}
