package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// listModule serves Read Flows for these tests until app.Flows serves it
// itself; then it adds nothing.
type listModule struct{}

func (listModule) Register(*eventstore.Registry) error    { return nil }
func (listModule) Projections() []*projections.Projection { return nil }
func (listModule) Routes(s *httpapi.Server, d app.Deps) {
	for _, r := range s.Routes() {
		if r.Method == http.MethodGet && r.Path == "/api/v1/flows/" {
			return
		}
	}
	readapi.RegisterFlowList(s, d.Pool)
}

const listPassword = "list-password-1"

// listEnv is an App with Identity, Flows and Read Flows serving on a real
// listener until the test (or benchmark) ends.
type listEnv struct{ *harness }

// listStart serves a fresh database (or dbURL, if given) with active
// sign-ups (see startApp). wrap, if not nil, wraps the HTTP handler (the
// benchmarks time requests with it).
func listStart(t testing.TB, dbURL string, wrap func(http.Handler) http.Handler) *listEnv {
	t.Helper()
	return &listEnv{startApp(t, options{dbURL: dbURL, wrap: wrap, modules: []app.Module{&app.Identity{}, app.Flows{}, listModule{}},
		env: map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true", "SKILLFLAW_DB_MAX_CONNS": "20"}})}
}

// listCall sends body (nil: none) as JSON with token (empty: none) and
// returns the status and the raw answer.
func (e *listEnv) listCall(t testing.TB, token, method, path string, body any) (int, []byte) {
	t.Helper()
	r := e.call(t, method, path, body, token)
	return r.status, []byte(r.raw)
}

// listMust is listCall requiring status want; it decodes the answer into
// out (if not nil).
func (e *listEnv) listMust(t testing.TB, token, method, path string, body any, want int, out any) {
	t.Helper()
	status, raw := e.listCall(t, token, method, path, body)
	require.Equal(t, want, status, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
}

// listUser signs username up (active at once), logs in and returns the
// user's id and access token.
func (e *listEnv) listUser(t testing.TB, username string) (int64, string) {
	t.Helper()
	u := e.newUser(t, username, listPassword)
	return u.id, u.token
}

// listProject makes a project of user through POST /api/v1/projects/ when
// that is served; until the projects module is, it writes the row of the
// projects read model that flow commands check, directly.
func (e *listEnv) listProject(t testing.TB, token string, user int64, name string) uuid.UUID {
	t.Helper()
	status, raw := e.listCall(t, token, http.MethodPost, "/api/v1/projects/", map[string]any{"name": name})
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		require.Equal(t, http.StatusCreated, status, string(raw))
		var p struct {
			ID uuid.UUID `json:"id"`
		}
		require.NoError(t, json.Unmarshal(raw, &p))
		return p.ID
	}
	id := uuid.New()
	_, err := e.app.Pool().Exec(context.Background(), `INSERT INTO projects (id, user_id, name, ctime, utime, version)
VALUES ($1, $2, $3, now(), now(), 0)`, id, user, name)
	require.NoError(t, err)
	return id
}

// listSpec is one flow of the fixture and what happens to it after all
// flows are created.
type listSpec struct {
	name, desc string
	bob        bool // owned by bob, else ada
	project    int  // 1..3, 0: none
	component  bool
	flowType   string
	org, biz   int64
	// after creation:
	online  bool // a version is made and published
	offline bool // ... and taken offline again
	deleted bool
}

// listFixture is 30 flows: 22 of ada and 8 of bob over projects P1..P3
// (and none). Names start with distinct letters so that name order is
// plain; case varies to show that it is case-insensitive.
var listFixture = []listSpec{
	{name: "Apple pipeline", desc: "fetches quarterly REPORTS", project: 1, flowType: "chat", org: 10, biz: 100, online: true},
	{name: "banana agent", desc: "routes tickets", project: 1, flowType: "agent", org: 10, biz: 100},
	{name: "Cherry component", desc: "a reusable parser", project: 1, component: true, flowType: "chat", org: 10, biz: 101},
	{name: "date report", project: 2, flowType: "chat", org: 11, biz: 100, deleted: true},
	{name: "Elder summarizer", desc: "summaries of reports", project: 2, flowType: "agent", org: 11, biz: 102, online: true, offline: true},
	{name: "fig 100% done", desc: "percent literal", project: 2, flowType: "chat"},
	{name: "grape_underscore", desc: "underscore literal", project: 2, component: true, flowType: "agent", online: true},
	{name: "Honeydew", desc: "Monthly Report builder", project: 3, org: 12, biz: 100, online: true, deleted: true},
	{name: "ice cream", desc: "dessert", project: 3, component: true, org: 12, biz: 103},
	{name: "jackfruit", flowType: "chat"},
	{name: "Kiwi report", desc: "kiwi", flowType: "agent", org: 10, biz: 100, online: true},
	{name: "lemon", desc: "sour", project: 1, flowType: "chat", org: 10, biz: 100},
	{name: "Mango", desc: "sweet", project: 1, component: true, flowType: "chat", org: 11, biz: 101, deleted: true},
	{name: "nectarine", desc: "stone fruit", project: 3, flowType: "agent", org: 12, biz: 102},
	{name: "Orange", desc: "citrus", project: 2, flowType: "chat", org: 10, biz: 100, online: true},
	{name: "papaya", project: 3, biz: 100},
	{name: "Quince", desc: "jelly", project: 1, component: true, flowType: "agent", org: 10, biz: 101},
	{name: "raspberry", desc: "berry", project: 2, flowType: "chat", org: 11, biz: 100},
	{name: "strawberry", desc: "red", project: 3, flowType: "agent", org: 12, biz: 100},
	{name: "Tangerine", desc: "small citrus", flowType: "chat", org: 10, biz: 104},
	{name: "ugli fruit", desc: "ugly", project: 1, flowType: "chat", org: 13, biz: 104},
	{name: "Vanilla", desc: "pod", project: 2, component: true, flowType: "agent", org: 10, biz: 100},

	{name: "Apple pipeline", desc: "bob's report", bob: true, project: 1, flowType: "chat", org: 10, biz: 100},
	{name: "bob report two", desc: "second", bob: true, project: 2, flowType: "agent", org: 10, biz: 100, online: true},
	{name: "bob component", bob: true, project: 1, component: true, flowType: "chat", org: 10, biz: 101},
	{name: "bob deleted", bob: true, project: 3, deleted: true},
	{name: "Zucchini", desc: "green", bob: true, flowType: "chat", org: 10, biz: 100},
	{name: "yam", bob: true, project: 1, flowType: "agent", org: 11, biz: 100},
	{name: "xigua", desc: "melon", bob: true, project: 2, component: true},
	{name: "watermelon", desc: "melon", bob: true, project: 3, flowType: "chat"},
}

// listWorld is the fixture as created: both users, the projects, and
// every flow as GET /api/v1/flows/{id} shows it afterwards.
type listWorld struct {
	env                *listEnv
	adaToken, bobToken string
	adaID, bobID       int64
	// projects[0] are ada's, projects[1] bob's; [u][0] is unused.
	projects [2][4]uuid.UUID
	ada, bob []readapi.FlowRead
	byName   map[string]uuid.UUID // ada's flows by name
}

// listBuild creates the fixture through the HTTP API: POST /api/v1/flows/
// for every flow, then in a fixed order PATCHes (a description, a move to
// another org), versions and publishes, takes one offline and deletes, so
// that updated_at order differs from creation order.
func listBuild(t *testing.T) *listWorld {
	t.Helper()
	e := listStart(t, "", nil)
	w := &listWorld{env: e, byName: map[string]uuid.UUID{}}
	w.adaID, w.adaToken = e.listUser(t, "ada")
	w.bobID, w.bobToken = e.listUser(t, "bob")
	// The fixture's places, in the system tenant (the flows' tenant).
	e.placeIDs(t, tenancy.SystemTenantID, "list", []int64{100, 101, 102, 103, 104}, []int64{10, 11, 12, 13})
	for i := 1; i <= 3; i++ {
		w.projects[0][i] = e.listProject(t, w.adaToken, w.adaID, fmt.Sprintf("ada project %d", i))
		w.projects[1][i] = e.listProject(t, w.bobToken, w.bobID, fmt.Sprintf("bob project %d", i))
	}
	ids := make([]uuid.UUID, len(listFixture))
	for i, s := range listFixture {
		body := map[string]any{"name": s.name, "description": s.desc, "is_component": s.component, "flow_type": s.flowType,
			"org_id": s.org, "business_id": s.biz,
			"data": map[string]any{"nodes": []any{map[string]any{"id": fmt.Sprintf("node-%d", i)}}, "edges": []any{}}}
		if s.project > 0 {
			body["project_id"] = w.projects[w.user(s)][s.project]
		}
		var f readapi.FlowRead
		e.listMust(t, w.token(s), http.MethodPost, "/api/v1/flows/", body, http.StatusCreated, &f)
		require.Equal(t, s.name, f.Name)
		ids[i] = f.ID
	}
	path := func(i int) string { return "/api/v1/flows/" + ids[i].String() }
	// Edits after creation, newest last.
	lemon, cherry := listIndex("lemon", false), listIndex("Cherry component", false)
	e.listMust(t, w.adaToken, http.MethodPatch, path(lemon), map[string]any{"description": "now a report too"}, http.StatusOK, nil)
	e.listMust(t, w.adaToken, http.MethodPatch, path(cherry), map[string]any{"org_id": 13}, http.StatusOK, nil)
	for i, s := range listFixture {
		if !s.online {
			continue
		}
		var v struct {
			ID int64 `json:"id"`
		}
		e.listMust(t, w.token(s), http.MethodPost, path(i)+"/versions", map[string]any{"version": "v1"}, http.StatusCreated, &v)
		e.listMust(t, w.token(s), http.MethodPost, fmt.Sprintf("%s/versions/%d/publish", path(i), v.ID), nil, http.StatusOK, nil)
		if s.offline {
			e.listMust(t, w.token(s), http.MethodDelete, path(i)+"/online", nil, http.StatusOK, nil)
		}
	}
	for i, s := range listFixture {
		if s.deleted {
			e.listMust(t, w.token(s), http.MethodDelete, path(i), nil, http.StatusOK, nil)
		}
	}
	for i, s := range listFixture {
		var f readapi.FlowRead
		e.listMust(t, w.token(s), http.MethodGet, path(i), nil, http.StatusOK, &f)
		if s.bob {
			w.bob = append(w.bob, f)
		} else {
			w.ada = append(w.ada, f)
			w.byName[s.name] = f.ID
		}
	}
	return w
}

func (w *listWorld) user(s listSpec) int {
	if s.bob {
		return 1
	}
	return 0
}

func (w *listWorld) token(s listSpec) string {
	if s.bob {
		return w.bobToken
	}
	return w.adaToken
}

// listIndex is the fixture index of name (of bob's flows if bob).
func listIndex(name string, bob bool) int {
	return slices.IndexFunc(listFixture, func(s listSpec) bool { return s.name == name && s.bob == bob })
}

// listGet lists with query as token and decodes the answer into out.
func (w *listWorld) listGet(t *testing.T, token, query string, out any) {
	t.Helper()
	w.env.listMust(t, token, http.MethodGet, "/api/v1/flows/"+query, nil, http.StatusOK, out)
}

// listIDs lists with query (get_all) as token and returns the ids in order.
func (w *listWorld) listIDs(t *testing.T, token, query string) []uuid.UUID {
	t.Helper()
	var flows []readapi.FlowRead
	w.listGet(t, token, query, &flows)
	ids := make([]uuid.UUID, len(flows))
	for i, f := range flows {
		ids[i] = f.ID
	}
	return ids
}

// listExpect selects flows by keep and orders them as the list must:
// by sortBy ("name" case-insensitively, "create_at", else updated_at),
// ties by id, ascending or not.
func listExpect(flows []readapi.FlowRead, keep func(readapi.FlowRead) bool, sortBy string, asc bool) []uuid.UUID {
	var sel []readapi.FlowRead
	for _, f := range flows {
		if keep == nil || keep(f) {
			sel = append(sel, f)
		}
	}
	slices.SortFunc(sel, func(a, b readapi.FlowRead) int {
		var c int
		switch sortBy {
		case "name":
			c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case "create_at":
			c = a.CreateAt.Compare(b.CreateAt)
		default:
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		if c == 0 {
			c = bytes.Compare(a.ID[:], b.ID[:])
		}
		if !asc {
			c = -c
		}
		return c
	})
	ids := make([]uuid.UUID, len(sel))
	for i, f := range sel {
		ids[i] = f.ID
	}
	return ids
}

// listNames are the ids of ada's flows of these names, in this order.
func (w *listWorld) listNames(t *testing.T, names ...string) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, len(names))
	for i, n := range names {
		id, ok := w.byName[n]
		require.True(t, ok, "no flow %q", n)
		ids[i] = id
	}
	return ids
}

// listNamesOf maps ids back to ada's names (readable failures).
func (w *listWorld) listNamesOf(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
		for n, v := range w.byName {
			if v == id {
				out[i] = n
			}
		}
	}
	return out
}

// listSet sorts ids (to compare selections whose order is checked elsewhere).
func listSet(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}
