package app_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// everyModule is the binary's set of features.
func everyModule() []app.Module {
	return []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Templates{}, app.Businesses{},
		app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}, app.Files{}, app.Messages{}, &app.Audit{}}
}

// lagWrite is one write made while no projector runs: what to send, and
// where its answer is read again once the read models caught up.
type lagWrite struct {
	name         string
	method, path string
	body         any
	status       int
	// key names the answer's id field; get is where the resource is read
	// afterwards (%v: the answer's key), and holds an object whose key is
	// that id (itself, in a list, in a page or in a wrapper).
	key, get string
}

// Writes answer from what they decided even when none of their read
// models caught up in time: a process that holds every projector's lease
// has stopped working (as a dead process would before its lease is taken
// over). Every write answers its success status, with X-Read-Model-Lag,
// and the body the read models show once they caught up — never 404 for
// what it created.
func TestReadYourWrites_AnswersWhileReadModelsLag(t *testing.T) {
	t.Parallel()
	env := adminEnv("root", "root-password-1")
	env["SKILLFLAW_READ_YOUR_WRITES_TIMEOUT"] = "50ms"
	env["SKILLFLAW_STORAGE_DIR"] = t.TempDir()
	setup := startApp(t, options{env: env, modules: everyModule()})
	admin := setup.signIn(t, "root", "root-password-1")
	r := setup.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Lagging Co"}, admin.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	flow := setup.createFlow(t, admin.token, map[string]any{"name": "Existing", "description": "before"})["id"].(string)
	versioned := setup.createFlow(t, admin.token, map[string]any{"name": "Versioned"})["id"].(string)
	user := setup.newUser(t, "ursula", "ursula-password-1")
	other := setup.newUser(t, "victor", "victor-password-1")
	names := setup.app.Runtime().Names()
	setup.stop()

	release := testkit.HoldLeases(t, setup.dbURL, names...)
	s := startApp(t, options{env: env, modules: everyModule(), dbURL: setup.dbURL, noCatchUp: true})
	tq := "?tenant-id=" + tenant
	writes := []lagWrite{
		{name: "create flow", method: http.MethodPost, path: "/api/v1/flows/", body: map[string]any{"name": "Lagging flow", "tags": []string{"x"}},
			status: http.StatusCreated, key: "id", get: "/api/v1/flows/%v"},
		{name: "patch flow", method: http.MethodPatch, path: "/api/v1/flows/" + flow, body: map[string]any{"description": "after"},
			status: http.StatusOK, key: "id", get: "/api/v1/flows/%v"},
		{name: "create version", method: http.MethodPost, path: "/api/v1/flows/" + versioned + "/versions", body: map[string]any{"version": "1.0"},
			status: http.StatusCreated, key: "id", get: "/api/v1/flows/" + versioned + "/versions"},
		{name: "create project", method: http.MethodPost, path: "/api/v1/projects/", body: map[string]any{"name": "Lagging project"},
			status: http.StatusCreated, key: "id", get: "/api/v1/projects/%v"},
		{name: "create template", method: http.MethodPost, path: "/api/v1/flows/" + flow + "/templates", body: map[string]any{"name": "Lagging template"},
			status: http.StatusCreated, key: "id", get: "/api/v1/flow-templates/%v"},
		{name: "create tenant", method: http.MethodPost, path: "/api/v1/tenants", body: map[string]any{"tenant_name": "Lagging tenant"},
			status: http.StatusCreated, key: "tenant_id", get: "/api/v1/tenants/%v"},
		{name: "patch tenant", method: http.MethodPatch, path: "/api/v1/tenants/" + tenant, body: map[string]any{"note": "changed"},
			status: http.StatusOK, key: "tenant_id", get: "/api/v1/tenants/%v"},
		{name: "add business", method: http.MethodPost, path: "/api/v1/businesses",
			body:   map[string]any{"tenant_id": tenant, "business_name": "Lagging business", "business_level": 1},
			status: http.StatusCreated, key: "business_id", get: "/api/v1/businesses/%v" + tq},
		{name: "add org", method: http.MethodPost, path: "/api/v1/orgs", body: map[string]any{"tenant_id": tenant, "org_name": "Lagging org"},
			status: http.StatusCreated, key: "org_id", get: "/api/v1/orgs" + tq},
		{name: "add user group", method: http.MethodPost, path: "/api/v1/user-groups", body: map[string]any{"tenant_id": tenant, "group_name": "Lagging group"},
			status: http.StatusCreated, key: "group_id", get: "/api/v1/user-groups" + tq},
		{name: "grant role", method: http.MethodPost, path: "/api/v1/tenants/user-roles",
			body:   map[string]any{"tenant_id": tenant, "uid": user.id, "role_id": "viewer"},
			status: http.StatusCreated, key: "id", get: "/api/v1/tenants/user-roles?tenant_id=" + tenant},
		{name: "add role", method: http.MethodPost, path: "/api/v1/permissions/roles", body: map[string]any{"role_id": "lagging", "role_name": "Lagging"},
			status: http.StatusCreated, key: "role_id", get: "/api/v1/permissions/roles"},
		{name: "add user", method: http.MethodPost, path: "/api/v1/users/", body: map[string]any{"username": "lagging", "password": "lagging-password-1"},
			status: http.StatusCreated, key: "id", get: "/api/v1/users/"},
		{name: "patch user", method: http.MethodPatch, path: fmt.Sprintf("/api/v1/users/%d", other.id), body: map[string]any{"nickname": "Vic"},
			status: http.StatusOK, key: "id", get: "/api/v1/users/"},
		{name: "create session", method: http.MethodPost, path: "/api/v1/monitor/messages/sessions", body: map[string]any{"flow_id": flow, "session_id": "lagging"},
			status: http.StatusCreated, key: "session_id", get: "/api/v1/monitor/messages/sessions?flow_id=" + flow},
	}
	answers := make([]reply, len(writes))
	for i, w := range writes {
		r := s.call(t, w.method, w.path, w.body, admin.token)
		require.Equal(t, w.status, r.status, "%s: %s", w.name, r.raw)
		assert.NotEmpty(t, r.header.Get("X-Read-Model-Lag"), "%s: the read models were behind", w.name)
		answers[i] = r
	}
	up := (&fileServer{harness: s}).fileUpload(t, admin.token, "lagging.txt", "", []byte("lagging"))
	require.Equal(t, http.StatusCreated, up.status, up.raw)
	assert.NotEmpty(t, up.header.Get("X-Read-Model-Lag"))

	// The projectors run again: what each write answered is what the read
	// models now show.
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(ctx, s.head(t)))
	for i, w := range writes {
		want := answers[i].obj(t)
		path := w.get
		if strings.Contains(path, "%v") {
			path = fmt.Sprintf(path, want[w.key])
		}
		g := s.call(t, http.MethodGet, path, nil, admin.token)
		require.Equal(t, http.StatusOK, g.status, "%s: %s", w.name, g.raw)
		got := findObject(g.body, w.key, want[w.key])
		require.NotNil(t, got, "%s: %v %v not in %s", w.name, w.key, want[w.key], g.raw)
		assert.Equal(t, want, got, w.name)
	}
	assert.Contains(t, (&fileServer{harness: s}).fileList(t, admin.token), up.obj(t), "upload user file")
}

// findObject is the first object under v (v itself, or within lists and
// objects) whose key is want.
func findObject(v any, key string, want any) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if got, ok := v[key]; ok && fmt.Sprint(got) == fmt.Sprint(want) {
			return v
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if m := findObject(v[k], key, want); m != nil {
				return m
			}
		}
	case []any:
		for _, it := range v {
			if m := findObject(it, key, want); m != nil {
				return m
			}
		}
	}
	return nil
}
