package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

// secretGraph is a Langflow graph whose node "llm" holds key in a template
// field marked password (and a plain field beside it).
func secretGraph(key string) map[string]any {
	return map[string]any{"nodes": []any{map[string]any{"id": "llm", "type": "genericNode",
		"data": map[string]any{"id": "llm", "type": "OpenAIModel", "node": map[string]any{"template": map[string]any{
			"api_key":    map[string]any{"name": "api_key", "password": true, "value": key, "load_from_db": false},
			"model_name": map[string]any{"name": "model_name", "password": false, "value": "gpt-4o"},
		}}}}}, "edges": []any{}}
}

// TestFlowSecrets_masked_for_readers_who_cannot_write proves that the
// values of password fields reach only those who may change the flow —
// its owner (bea, developer in b2), holders of flows.write or
// flows.modify where it lives (olga, developer tenant-wide; tom, a role
// with modify) and superusers — on every read of its
// graph: the flow, the list, as_of, versions, online and release reads,
// the version diff, while a viewer (gina, flows.read only) gets them
// emptied there, and in the history and the audit trail; so does a holder
// of flows.delete alone (mona), in the answers of her changes too; the
// public read empties them for everyone.
func TestFlowSecrets_masked_for_readers_who_cannot_write(t *testing.T) {
	t.Parallel()
	w := rbacStart(t)
	const first, second = "sk-first-SECRET", "sk-second-SECRET"

	// bea's flow in b3 (below b2, where she is a developer): version 1.0
	// with the first key, online; version 2.0 differs only by the key.
	r := w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "secretive", "tenant_id": w.tenant,
		"business_id": w.b3, "data": secretGraph(first)}, w.bea.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	id := r.obj(t)["id"].(string)
	created := r.header.Get(httpapi.HeaderEventPosition)
	require.NotEmpty(t, created)
	flow := "/api/v1/flows/" + id
	ok := func(method, path string, body any) {
		t.Helper()
		r := w.call(t, method, path, body, w.bea.token)
		require.Less(t, r.status, 300, "%s %s: %s", method, path, r.raw)
	}
	ok(http.MethodPost, flow+"/versions", map[string]any{"version": "1.0"})
	ok(http.MethodPatch, flow, map[string]any{"data": secretGraph(second)})
	ok(http.MethodPost, flow+"/versions", map[string]any{"version": "2.0"})
	ok(http.MethodPost, flow+"/versions/1/publish", nil)
	ok(http.MethodPatch, flow, map[string]any{"access_type": "PUBLIC"})

	reads := map[string]string{
		"flow":     flow,
		"as_of":    flow + "?as_of=" + created,
		"versions": flow + "/versions",
		"online":   flow + "/online",
		"release":  flow + "/release?v=2.0",
		"list":     "/api/v1/flows/?get_all=true",
		"page":     "/api/v1/flows/?get_all=false&size=100",
	}
	read := func(who caller, what string) reply {
		t.Helper()
		r := w.get(t, reads[what], who.token, w.tenant)
		require.Equal(t, http.StatusOK, r.status, "%s as %s: %s", what, who.name, r.raw)
		return r
	}
	for _, who := range []caller{w.bea, w.olga, w.admin} {
		for what := range reads {
			r := read(who, what)
			assert.True(t, strings.Contains(r.raw, first) || strings.Contains(r.raw, second), "%s sees the key in %s", who.name, what)
		}
	}
	for what := range reads {
		r := read(w.gina, what)
		assert.NotContains(t, r.raw, "SECRET", "gina sees no key in %s", what)
		assert.Contains(t, r.raw, "gpt-4o", "gina sees the rest of the graph in %s", what)
		assert.Contains(t, r.raw, `"password":true,"value":""`, "gina sees the field emptied in %s", what)
	}

	// The diff of versions that differ only by the key: a change for
	// those who see keys, none for gina.
	diff := flow + "/versions/1/diff/2"
	owner := w.get(t, diff, w.bea.token, uuid.Nil)
	require.Equal(t, http.StatusOK, owner.status, owner.raw)
	assert.Equal(t, []any{"llm"}, owner.obj(t)["nodes"].(map[string]any)["changed"])
	viewer := w.get(t, diff, w.gina.token, uuid.Nil)
	require.Equal(t, http.StatusOK, viewer.status, viewer.raw)
	assert.Equal(t, []any{}, viewer.obj(t)["nodes"].(map[string]any)["changed"], "a changed key is no change gina can see")

	// History, the audit trail (auditors read it whoever they are) and
	// the public read never show a key.
	history := w.get(t, flow+"/history", w.gina.token, uuid.Nil)
	require.Equal(t, http.StatusOK, history.status, history.raw)
	assert.NotContains(t, history.raw, "SECRET")
	for _, who := range []caller{w.gina, w.admin} {
		audit := w.get(t, "/api/v1/audit/events?limit=1000&stream=flow-"+id+"&tenant_id="+w.tenant.String(), who.token, uuid.Nil)
		require.Equal(t, http.StatusOK, audit.status, audit.raw)
		assert.Contains(t, audit.raw, "gpt-4o", "the audit trail shows the graphs")
		assert.NotContains(t, audit.raw, "SECRET", "the audit trail shows no key to %s", who.name)
	}
	// A role that may take flows offline (flows.delete) but neither write
	// nor change them sees no key, in its reads nor in the answers of its
	// changes; one that may change them (flows.modify) sees them, so that
	// what it saves back keeps them.
	for role, privs := range map[string][]string{"flow_closer": {"read", "delete"}, "flow_tuner": {"read", "modify"}} {
		w.admin201(t, http.MethodPost, "/api/v1/permissions/roles", map[string]any{"role_id": role, "role_name": role})
		for _, priv := range privs {
			w.admin201(t, http.MethodPost, "/api/v1/permissions/roles/"+role+"/privs", map[string]any{"module_id": "flows", "priv_id": priv})
		}
	}
	mona, tom := w.newUser(t, "mona", bizPassword), w.newUser(t, "tom", bizPassword)
	w.grantRole(t, w.admin.token, w.tenant, mona.id, "flow_closer")
	w.grantRole(t, w.admin.token, w.tenant, tom.id, "flow_tuner")
	r = w.call(t, http.MethodDelete, flow+"/online", nil, mona.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, r.raw, "gpt-4o")
	assert.NotContains(t, r.raw, "SECRET", "the answer of mona's change")
	assert.NotContains(t, read(mona, "flow").raw, "SECRET")
	r = w.call(t, http.MethodPatch, flow, map[string]any{"description": "tuned"}, tom.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, r.raw, second, "the answer of tom's change")
	assert.Contains(t, read(tom, "flow").raw, second)

	public := w.get(t, "/api/v1/flows/public_flow/"+id, "", uuid.Nil)
	require.Equal(t, http.StatusOK, public.status, public.raw)
	assert.NotContains(t, public.raw, "SECRET")
	assert.Contains(t, public.raw, "gpt-4o")
}
