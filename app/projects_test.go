package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

func projPath(id any) string { return fmt.Sprintf("/api/v1/projects/%v", id) }

// TestProjects_DefaultProject: every account starts with "Starter
// Project": created with the account at sign-up, at start for the
// bootstrap superuser, and at login for accounts older than projects;
// flows without project_id land in it.
func TestProjects_DefaultProject(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)

	r := s.call(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "ada", "password": projPassword}, "")
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	var n int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM projects WHERE user_id = $1 AND is_default`,
		int64(r.obj(t)["id"].(float64))).Scan(&n))
	assert.Equal(t, 1, n, "the sign-up answers once its default project is in the read model")
	token := s.login(t, "ada", projPassword).access
	list := s.projList(t, token, "")
	require.Len(t, list, 1)
	def := list[0]
	assert.Equal(t, "Starter Project", def["name"])
	assert.Equal(t, "ada", def["creator_name"])
	assert.Equal(t, false, def["is_deleted"])
	assert.Equal(t, true, def["is_enable"])

	f := s.createFlow(t, token, map[string]any{"name": "first"})
	assert.Equal(t, def["id"], f["project_id"], "a flow without project_id lands in the default project")

	r = s.call(t, http.MethodDelete, projPath(def["id"]), nil, token)
	requireDetail(t, r, http.StatusBadRequest, "The default project cannot be deleted")
	assert.Equal(t, false, s.readFlow(t, token, f["id"])["is_deleted"])

	admin := s.login(t, projAdmin, projAdminPassword).access
	list = s.projList(t, admin, "")
	require.Len(t, list, 1, "the bootstrap superuser has its default project")
	assert.Equal(t, "Starter Project", list[0]["name"])

	// An account registered before projects existed (no default project):
	// its login makes one.
	d := s.app.Deps()
	id, _, err := commands.RegisterUser(context.Background(), d.Repository, commands.NewSequences(d.Pool),
		auth.NewPasswords(4), commands.NewUser{Username: "legacy", Password: projPassword, IsActive: true},
		eventstore.Metadata{OccurredAt: d.Clock()})
	require.NoError(t, err)
	legacy := s.login(t, "legacy", projPassword).access
	list = s.projList(t, legacy, "")
	require.Len(t, list, 1)
	assert.Equal(t, "Starter Project", list[0]["name"])
	assert.Equal(t, domain.DefaultProjectID(id).String(), list[0]["id"])
	assert.Len(t, s.projList(t, s.login(t, "legacy", projPassword).access, ""), 1, "a second login makes no second one")
}

// TestProjects_CRUD covers create, read, list, update and delete, unique
// names with Langflow's suffixes, masked secrets and isolation.
func TestProjects_CRUD(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, uid := s.projUser(t, "bob")
	other, _ := s.projUser(t, "eve")
	s.placeIDs(t, tenancy.SystemTenantID, "proj", nil, []int64{7})

	p := s.projCreate(t, token, map[string]any{"name": "Alpha", "description": "first", "org_id": 7, "is_hold": true,
		"release_version": "v1", "priv_type": "private", "project_skill": "skill", "icon": "star",
		"auth_settings": map[string]any{"auth_type": "oauth", "oauth_client_secret": "s3cret", "api_key": "sk-x", "empty": ""}})
	keys := []string{"name", "description", "id", "parent_id", "tenant_id", "business_id", "org_id", "is_self", "is_enable",
		"is_release", "is_version", "is_hold", "is_deleted", "release_version", "priv_type", "project_skill", "auth_settings",
		"icon", "user_id", "m_uid", "ctime", "utime", "creator_name"}
	got := make([]string, 0, len(p))
	for k := range p {
		got = append(got, k)
	}
	assert.ElementsMatch(t, keys, got, "exactly the spec's fields")
	assert.Equal(t, "Alpha", p["name"])
	assert.Equal(t, "first", p["description"])
	assert.EqualValues(t, 7, p["org_id"])
	assert.Equal(t, true, p["is_hold"])
	assert.Equal(t, true, p["is_enable"])
	assert.Equal(t, "v1", p["release_version"])
	assert.Equal(t, "star", p["icon"])
	assert.EqualValues(t, uid, p["user_id"])
	assert.EqualValues(t, uid, p["m_uid"])
	assert.Equal(t, "bob", p["creator_name"])
	assert.Nil(t, p["parent_id"])
	assert.Equal(t, map[string]any{"auth_type": "oauth", "oauth_client_secret": "*******", "api_key": "*******", "empty": ""},
		p["auth_settings"])
	assert.NotContains(t, string(s.call(t, http.MethodGet, "/api/v1/projects/", nil, token).raw), "s3cret")

	// Names: a taken name (any case) gets " (n)", n one past the largest.
	assert.Equal(t, "Alpha (1)", s.projCreate(t, token, map[string]any{"name": "Alpha"})["name"])
	assert.Equal(t, "alpha (2)", s.projCreate(t, token, map[string]any{"name": "alpha"})["name"])
	assert.Equal(t, "Alpha", s.projCreate(t, other, map[string]any{"name": "Alpha"})["name"], "names are unique per user")
	for _, name := range []any{"", "   "} {
		r := s.call(t, http.MethodPost, "/api/v1/projects/", map[string]any{"name": name}, token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
		assert.Contains(t, string(r.raw), "name must not be empty")
	}
	r := s.call(t, http.MethodPost, "/api/v1/projects/", map[string]any{"name": "x", "auth_settings": []any{1}}, token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))

	// Read one.
	r = s.call(t, http.MethodGet, projPath(p["id"]), nil, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, p, r.obj(t)["project"])
	assert.Equal(t, []any{}, r.obj(t)["flows"])

	// Update: absent fields stay, a masked secret sent back keeps the
	// stored one, a rename onto a taken name is 400.
	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"description": "second", "is_enable": false,
		"auth_settings": map[string]any{"auth_type": "apikey", "oauth_client_secret": "*******", "api_key": "sk-new"}}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	u := r.obj(t)
	assert.Equal(t, "Alpha", u["name"])
	assert.Equal(t, "second", u["description"])
	assert.Equal(t, false, u["is_enable"])
	assert.Equal(t, "star", u["icon"])
	assert.Equal(t, p["ctime"], u["ctime"])
	assert.NotEqual(t, p["utime"], u["utime"])
	agg := domain.LoadProject(uuid.MustParse(p["id"].(string)))
	require.NoError(t, s.app.Deps().Repository.Load(context.Background(), agg))
	var stored map[string]any
	require.NoError(t, json.Unmarshal(agg.Fields().AuthSettings, &stored))
	assert.Equal(t, map[string]any{"auth_type": "apikey", "oauth_client_secret": "s3cret", "api_key": "sk-new"}, stored,
		"the log keeps the secret the masked value stood for")

	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": "ALPHA (1)"}, token)
	requireDetail(t, r, http.StatusBadRequest, "Project name must be unique")
	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": "ALPHA"}, token)
	require.Equal(t, http.StatusOK, r.status, "a change of case is the same name: %s", r.raw)
	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": "Beta"}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, "Alpha", s.projCreate(t, token, map[string]any{"name": "Alpha"})["name"], "a rename frees the old name")
	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": ""}, token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))

	// List: the default first, then sort_by/sort_order.
	names := func(list []map[string]any) []string {
		out := make([]string, len(list))
		for i, p := range list {
			out[i] = p["name"].(string)
		}
		return out
	}
	assert.Equal(t, []string{"Starter Project", "Alpha", "Alpha (1)", "alpha (2)", "Beta"},
		names(s.projList(t, token, "?sort_by=name&sort_order=asc")))
	assert.Equal(t, []string{"Starter Project", "Alpha", "Beta", "alpha (2)", "Alpha (1)"}, names(s.projList(t, token, "")),
		"default: utime desc")
	assert.Equal(t, []string{"Starter Project", "Beta", "Alpha (1)", "alpha (2)", "Alpha"},
		names(s.projList(t, token, "?sort_by=ctime&sort_order=asc")))
	for _, q := range []string{"?sort_order=up", "?sort_by=size"} {
		r := s.call(t, http.MethodGet, "/api/v1/projects/"+q, nil, token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
	}

	// Isolation: another user's project does not exist for you.
	assert.Equal(t, []string{"Starter Project", "Alpha"}, names(s.projList(t, other, "?sort_by=name&sort_order=asc")))
	for _, r := range []reply{
		s.call(t, http.MethodGet, projPath(p["id"]), nil, other),
		s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": "mine"}, other),
		s.call(t, http.MethodDelete, projPath(p["id"]), nil, other),
		s.call(t, http.MethodGet, "/api/v1/projects/download/"+p["id"].(string), nil, other),
		s.call(t, http.MethodGet, projPath(uuid.New()), nil, token),
	} {
		requireDetail(t, r, http.StatusNotFound, "Project not found")
	}
	r = s.call(t, http.MethodGet, projPath("nope"), nil, token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))

	// Delete: gone from reads, its name free again.
	r = s.call(t, http.MethodDelete, projPath(p["id"]), nil, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, map[string]any{"detail": []any{}}, r.body)
	requireDetail(t, s.call(t, http.MethodGet, projPath(p["id"]), nil, token), http.StatusNotFound, "Project not found")
	requireDetail(t, s.call(t, http.MethodDelete, projPath(p["id"]), nil, token), http.StatusNotFound, "Project not found")
	requireDetail(t, s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"icon": "x"}, token),
		http.StatusNotFound, "Project not found")
	assert.Equal(t, "Beta", s.projCreate(t, token, map[string]any{"name": "Beta"})["name"])
}

// TestProjects_FlowsInProjects: moving flows with create and update,
// reading a project's flows (list and pages), deleting a project with its
// flows.
func TestProjects_FlowsInProjects(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "cy")
	other, _ := s.projUser(t, "dee")

	f1 := s.createFlow(t, token, map[string]any{"name": "one", "endpoint_name": "one"})
	f2 := s.createFlow(t, token, map[string]any{"name": "two"})
	c1 := s.createFlow(t, token, map[string]any{"name": "comp", "is_component": true})
	foreign := s.createFlow(t, other, map[string]any{"name": "theirs"})

	p := s.projCreate(t, token, map[string]any{"name": "Work", "flows_list": []any{f1["id"], foreign["id"], uuid.New()}})
	assert.Equal(t, p["id"], s.readFlow(t, token, f1["id"])["project_id"], "flows_list moves the caller's flows")
	assert.NotEqual(t, p["id"], s.readFlow(t, other, foreign["id"])["project_id"], "another's flow stays where it is")

	r := s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"flows": []any{f2["id"]}}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	r = s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"components": []any{c1["id"]}, "flows": []any{f2["id"]}}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	for _, f := range []map[string]any{f2, c1} {
		assert.Equal(t, p["id"], s.readFlow(t, token, f["id"])["project_id"])
	}

	for i := range 3 {
		s.createFlow(t, token, map[string]any{"name": fmt.Sprintf("extra %d", i), "project_id": p["id"]})
	}
	s.createFlow(t, token, map[string]any{"name": "100% done_1", "project_id": p["id"]})

	read := func(q string) map[string]any {
		t.Helper()
		r := s.call(t, http.MethodGet, projPath(p["id"])+q, nil, token)
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		return r.obj(t)
	}
	all := read("")["flows"].([]any)
	assert.Equal(t, []string{"100% done_1", "extra 2", "extra 1", "extra 0", "comp", "two", "one"}, projNames(all),
		"every flow, newest change first")

	page := read("?page=2&size=3")["flows"].(map[string]any)
	assert.EqualValues(t, 7, page["total"])
	assert.EqualValues(t, 2, page["page"])
	assert.EqualValues(t, 3, page["size"])
	assert.EqualValues(t, 3, page["pages"])
	assert.Equal(t, []string{"extra 0", "comp", "two"}, projNames(page["items"].([]any)))
	page = read("?size=2")["flows"].(map[string]any)
	assert.EqualValues(t, 1, page["page"])
	assert.Len(t, page["items"], 2)
	page = read("?page=1")["flows"].(map[string]any)
	assert.EqualValues(t, 50, page["size"])
	assert.Len(t, page["items"], 7)
	assert.Equal(t, []string{"comp"}, projNames(read("?page=1&is_component=true")["flows"].(map[string]any)["items"].([]any)))
	assert.Len(t, read("?page=1&is_flow=true")["flows"].(map[string]any)["items"], 6)
	assert.Equal(t, []string{"extra 2", "extra 1", "extra 0"}, projNames(read("?page=1&search=XTRA")["flows"].(map[string]any)["items"].([]any)))
	assert.Equal(t, []string{"100% done_1"}, projNames(read("?page=1&search=%25%20done_")["flows"].(map[string]any)["items"].([]any)),
		"LIKE wildcards in search are literal")
	assert.Empty(t, read("?page=1&search=0_%20d")["flows"].(map[string]any)["items"])
	empty := read("?page=9&size=5")["flows"].(map[string]any)
	assert.Equal(t, []any{}, empty["items"])
	assert.EqualValues(t, 2, empty["pages"])
	for _, q := range []string{"?size=101", "?size=0", "?page=0", "?page=x"} {
		r := s.call(t, http.MethodGet, projPath(p["id"])+q, nil, token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
	}

	// Deleting the project deletes its flows and frees their names.
	r = s.call(t, http.MethodDelete, projPath(p["id"]), nil, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	ids := r.obj(t)["detail"].([]any)
	assert.Len(t, ids, 7)
	assert.Contains(t, ids, f1["id"])
	for _, id := range ids {
		assert.Equal(t, true, s.readFlow(t, token, id)["is_deleted"])
	}
	assert.Equal(t, false, s.readFlow(t, other, foreign["id"])["is_deleted"])
	again := s.createFlow(t, token, map[string]any{"name": "one", "endpoint_name": "one"})
	assert.Equal(t, "one", again["name"], "the deleted flow's name is free again")
	assert.Equal(t, "one", again["endpoint_name"])
}

// TestProjects_DownloadUploadRoundTrip downloads a project as a zip and
// uploads it again as a new project.
func TestProjects_DownloadUploadRoundTrip(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "fay")
	other, _ := s.projUser(t, "gus")

	p := s.projCreate(t, token, map[string]any{"name": "Export Me"})
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/projects/download/"+p["id"].(string), nil, token),
		http.StatusNotFound, "No flows found in project")
	graph := map[string]any{"nodes": []any{map[string]any{"id": "n1", "data": map[string]any{"type": "ChatInput"}}}, "edges": []any{}}
	originals := map[string]map[string]any{}
	for _, body := range []map[string]any{
		{"name": "chat", "description": "a chat", "data": graph, "tags": []any{"a"}, "endpoint_name": "chat-ep"},
		{"name": "a/b..c", "data": map[string]any{"nodes": []any{}}},
		{"name": "tool", "is_component": true, "data": graph},
	} {
		body["project_id"] = p["id"]
		f := s.createFlow(t, token, body)
		originals[f["name"].(string)] = f
	}
	gone := s.createFlow(t, token, map[string]any{"name": "gone", "project_id": p["id"]})
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/flows/"+gone["id"].(string), nil, token).status)

	r := s.call(t, http.MethodGet, "/api/v1/projects/download/"+p["id"].(string), nil, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, "application/x-zip-compressed", r.header.Get("Content-Type"))
	cd := r.header.Get("Content-Disposition")
	assert.Regexp(t, `^attachment; filename="\d{8}_\d{6}_Export Me_flows\.zip"$`, cd)
	files := projUnzip(t, r.raw)
	require.Len(t, files, 3, "deleted flows are left out")
	require.Contains(t, files, "a_b_c.json", "path separators and .. are made harmless")
	var chat map[string]any
	require.NoError(t, json.Unmarshal(files["chat.json"], &chat))
	assert.Equal(t, originals["chat"], chat, "each file is the flow as the API shows it")

	filename := strings.TrimSuffix(strings.TrimPrefix(cd, `attachment; filename="`), `"`)
	up := s.projUpload(t, "/api/v1/projects/upload/", token, "file", filename, []byte(r.raw))
	require.Equal(t, http.StatusCreated, up.status, string(up.raw))
	imported := up.list(t)
	require.Len(t, imported, 3)
	var newProject any
	for _, it := range imported {
		f := it.(map[string]any)
		name := f["name"].(string)
		base := strings.TrimSuffix(name, " (1)")
		require.NotEqual(t, base, name, "names already used get a suffix: %s", name)
		orig := originals[base]
		require.NotNil(t, orig, name)
		assert.NotEqual(t, orig["id"], f["id"], "an import gets new ids")
		for _, k := range []string{"data", "description", "is_component", "tags", "access_type"} {
			assert.Equal(t, orig[k], f[k], "%s of %s", k, name)
		}
		if newProject == nil {
			newProject = f["project_id"]
		}
		assert.Equal(t, newProject, f["project_id"])
		assert.NotEqual(t, p["id"], f["project_id"])
	}
	assert.Equal(t, "chat-ep-1", func() any {
		for _, it := range imported {
			if f := it.(map[string]any); f["name"] == "chat (1)" {
				return f["endpoint_name"]
			}
		}
		return nil
	}())
	got := s.call(t, http.MethodGet, projPath(newProject), nil, token)
	require.Equal(t, http.StatusOK, got.status, string(got.raw))
	assert.Equal(t, strings.TrimSuffix(filename, ".zip"), got.obj(t)["project"].(map[string]any)["name"])
	assert.Len(t, got.obj(t)["flows"], 3)

	// Another user cannot download the flows.
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/projects/download/"+p["id"].(string), nil, other),
		http.StatusNotFound, "Project not found")
}

// TestProjects_UploadJSON uploads a project document and checks the
// answers to bad files.
func TestProjects_UploadJSON(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "hal")
	s.projCreate(t, token, map[string]any{"name": "Imported"})
	s.createFlow(t, token, map[string]any{"name": "x"})

	doc := `{"folder_name": "Imported", "folder_description": "from a file",
	  "flows": [{"name": "x", "data": {"nodes": []}, "id": "` + uuid.NewString() + `", "user_id": 999}, {"name": "y"}]}`
	r := s.projUpload(t, "/api/v1/projects/upload/", token, "file", "project.json", []byte(doc))
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	flows := r.list(t)
	assert.Equal(t, []string{"x (1)", "y"}, projNames(flows))
	pid := flows[0].(map[string]any)["project_id"]
	p := s.call(t, http.MethodGet, projPath(pid), nil, token).obj(t)["project"].(map[string]any)
	assert.Equal(t, "Imported (1)", p["name"])
	assert.Equal(t, "from a file", p["description"])

	for _, c := range []struct {
		name, field, filename, content string
		status                         int
		detail                         any
	}{
		{"no file", "", "", "", http.StatusBadRequest, "No file provided"},
		{"empty", "file", "p.json", "", http.StatusBadRequest, "The uploaded file is empty"},
		{"missing fields", "file", "p.json", `{"flows": []}`, http.StatusBadRequest, "Missing required field(s): folder_name, flows"},
		{"not an object", "file", "p.json", `[1]`, http.StatusBadRequest, "Missing required field(s): folder_name, flows"},
		{"no flows", "file", "p.json", `{"folder_name": "n", "flows": []}`, http.StatusBadRequest, "No flows found in the file"},
		{"flows not a list", "file", "p.json", `{"folder_name": "n", "flows": 3}`, http.StatusUnprocessableEntity,
			"Invalid JSON: 'flows' must be a list of flow objects"},
		{"empty zip", "file", "p.zip", string(projZip(t, [2]string{"readme.txt", "hi"})), http.StatusBadRequest, "No flows found in the file"},
	} {
		r := s.projUpload(t, "/api/v1/projects/upload/", token, c.field, c.filename, []byte(c.content))
		requireDetail(t, r, c.status, c.detail)
	}
	r = s.projUpload(t, "/api/v1/projects/upload/", token, "file", "p.json", []byte(`{"folder_name": `))
	require.Equal(t, http.StatusBadRequest, r.status, string(r.raw))
	assert.True(t, strings.HasPrefix(r.detail().(string), "Invalid JSON file: "), string(r.raw))
	r = s.projUpload(t, "/api/v1/projects/upload/", token, "file", "p.json", []byte(`{"folder_name": "n", "flows": [{"name": "ok"}, {"name": ""}]}`))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
	assert.Contains(t, string(r.raw), "name must not be empty")
	names := []string{}
	for _, p := range s.projList(t, token, "?sort_by=name&sort_order=asc") {
		names = append(names, p["name"].(string))
	}
	assert.Equal(t, []string{"Starter Project", "Imported", "Imported (1)"}, names, "failed uploads wrote nothing")
	r = s.projUpload(t, "/api/v1/projects/upload/", "", "file", "p.json", []byte(doc))
	require.Equal(t, http.StatusForbidden, r.status, string(r.raw))
}

// TestFlowFiles_UploadDownload covers POST /api/v1/flows/upload/ and
// /api/v1/flows/download/.
func TestFlowFiles_UploadDownload(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "ida")
	other, _ := s.projUser(t, "jo")
	def := s.projList(t, token, "")[0]["id"]
	p := s.projCreate(t, token, map[string]any{"name": "Target"})
	theirs := s.projCreate(t, other, map[string]any{"name": "Theirs"})
	s.createFlow(t, token, map[string]any{"name": "single", "endpoint_name": "single"})

	// A single flow object: create-style suffixes, the default project.
	r := s.projUpload(t, "/api/v1/flows/upload/", token, "file", "flow.json",
		[]byte(`{"name": "single", "endpoint_name": "single", "data": {"nodes": [1]}, "project_id": "`+theirs["id"].(string)+`"}`))
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	one := r.list(t)[0].(map[string]any)
	assert.Equal(t, "single (1)", one["name"])
	assert.Equal(t, "single-1", one["endpoint_name"])
	assert.Equal(t, def, one["project_id"], "a project named in the file is ignored")
	assert.Equal(t, map[string]any{"nodes": []any{1.0}}, one["data"])

	// {"flows": [...]} into project_id.
	r = s.projUpload(t, "/api/v1/flows/upload/?project_id="+p["id"].(string), token, "file", "flows.json",
		[]byte(`{"flows": [{"name": "a"}, {"name": "b", "is_component": true}]}`))
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	assert.Equal(t, []string{"a", "b"}, projNames(r.list(t)))
	for _, f := range r.list(t) {
		assert.Equal(t, p["id"], f.(map[string]any)["project_id"])
	}

	// A zip: JSON files only, invalid ones skipped.
	zipped := projZip(t, [2]string{"z1.json", `{"name": "z1"}`}, [2]string{"dir/z2.json", `{"flows": [{"name": "z2"}]}`},
		[2]string{"notes.txt", "not a flow"}, [2]string{"bad.json", "{nope"}, [2]string{"__MACOSX/._z1.json", "junk"})
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "flows.zip", zipped)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	assert.Equal(t, []string{"z1", "z2"}, projNames(r.list(t)))

	for _, c := range []struct {
		name, path, filename, content string
		status                        int
		detail                        any
	}{
		{"not my project", "?project_id=" + theirs["id"].(string), "f.json", `{"name": "q"}`, http.StatusBadRequest, "Project not found"},
		{"unknown project", "?project_id=" + uuid.NewString(), "f.json", `{"name": "q"}`, http.StatusBadRequest, "Project not found"},
		{"array", "", "f.json", `[{"name": "q"}]`, http.StatusUnprocessableEntity,
			"Invalid JSON: expected an object with 'flows' or a single flow object"},
		{"flows not a list", "", "f.json", `{"flows": {"name": "q"}}`, http.StatusUnprocessableEntity,
			"Invalid JSON: 'flows' must be a list of flow objects"},
		{"flows of strings", "", "f.json", `{"flows": ["q"]}`, http.StatusUnprocessableEntity,
			"Invalid JSON: 'flows' must be a list of flow objects"},
		{"empty", "", "f.json", "", http.StatusBadRequest, "The uploaded file is empty"},
		{"zip without flows", "", "f.zip", string(projZip(t, [2]string{"a.txt", "x"}, [2]string{"b.json", "[1]"})),
			http.StatusBadRequest, "No valid flow JSON files found in the ZIP"},
	} {
		r := s.projUpload(t, "/api/v1/flows/upload/"+c.path, token, "file", c.filename, []byte(c.content))
		requireDetail(t, r, c.status, c.detail)
	}
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "f.json", []byte("{oops"))
	require.Equal(t, http.StatusBadRequest, r.status, string(r.raw))
	assert.True(t, strings.HasPrefix(r.detail().(string), "Invalid JSON file: "), string(r.raw))
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "f.zip", []byte("PK not really a zip"))
	require.Equal(t, http.StatusBadRequest, r.status, string(r.raw))
	assert.True(t, strings.HasPrefix(r.detail().(string), "Uploaded file is not a valid ZIP archive: "), string(r.raw))
	many := make([][2]string, 501)
	for i := range many {
		many[i] = [2]string{fmt.Sprintf("f%d.json", i), `{"name": "m"}`}
	}
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "many.zip", projZip(t, many...))
	require.Equal(t, http.StatusBadRequest, r.status, string(r.raw))
	assert.Contains(t, r.detail(), "Too many files")
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "big.json", []byte(`{"name": "`+strings.Repeat("x", 5<<20)+`"}`))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, "SKILLFLAW_MAX_FILE_SIZE_UPLOAD bounds uploads")
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "file", "bomb.zip",
		projZip(t, [2]string{"a.json", `{"name": "a"}`}, [2]string{"b.json", `{"name": "` + strings.Repeat("x", 5<<20) + `"}`}))
	requireDetail(t, r, http.StatusRequestEntityTooLarge, "The ZIP archive's contents exceed 4 MiB")
	r = s.projUpload(t, "/api/v1/flows/upload/", token, "", "", nil)
	requireDetail(t, r, http.StatusBadRequest, "No file provided")

	// Download: one flow as JSON, several as a zip, only the caller's.
	r = s.call(t, http.MethodPost, "/api/v1/flows/download/", []any{one["id"]}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, `attachment; filename="single (1).json"`, r.header.Get("Content-Disposition"))
	assert.Equal(t, one, r.obj(t))

	a := s.createFlow(t, token, map[string]any{"name": "dl/a"})
	b := s.createFlow(t, token, map[string]any{"name": "dl b", "data": map[string]any{"k": "v"}})
	gone := s.createFlow(t, token, map[string]any{"name": "dl gone"})
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/flows/"+gone["id"].(string), nil, token).status)
	r = s.call(t, http.MethodPost, "/api/v1/flows/download/", []any{a["id"], b["id"], gone["id"], uuid.New()}, token)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.Equal(t, "application/x-zip-compressed", r.header.Get("Content-Type"))
	assert.Regexp(t, `^attachment; filename=\d{8}_\d{6}_skillflaw_flows\.zip$`, r.header.Get("Content-Disposition"))
	files := projUnzip(t, r.raw)
	require.Len(t, files, 2)
	var got map[string]any
	require.NoError(t, json.Unmarshal(files["dl b.json"], &got))
	assert.Equal(t, b, got)
	assert.Contains(t, files, "dl_a.json")

	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/flows/download/", []any{a["id"], b["id"]}, other),
		http.StatusNotFound, "No flows found.")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/flows/download/", []any{gone["id"]}, token),
		http.StatusNotFound, "No flows found.")
	r = s.call(t, http.MethodPost, "/api/v1/flows/download/", []any{"nope"}, token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.raw))
}

// TestProjects_Rebuild replays the projects read model from position 0:
// the same rows.
func TestProjects_Rebuild(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "kit")
	p := s.projCreate(t, token, map[string]any{"name": "R", "auth_settings": map[string]any{"api_key": "k"}})
	s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"name": "R2", "icon": "i"}, token)
	q := s.projCreate(t, token, map[string]any{"name": "Q"})
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, projPath(q["id"]), nil, token).status)

	ctx := context.Background()
	rows := func() []string {
		r, _ := s.app.Pool().Query(ctx, `SELECT x::text FROM projects x ORDER BY id`)
		out, err := pgx.CollectRows(r, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	before := rows()
	require.Len(t, before, 4, "two default projects (the superuser's, kit's), R2, Q")
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "projects", nil))
	assert.Equal(t, before, rows())
	assert.NotContains(t, strings.Join(before, ""), `"k"`, "secrets are not in the read model")
}

// TestProjects_nested_auth_settings_secrets proves that auth_settings
// secrets are masked at any depth in every answer and in the read model,
// and that masks sent back at any depth keep the stored secrets.
func TestProjects_nested_auth_settings_secrets(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "nest")
	settings := map[string]any{"auth_type": "oauth",
		"oauth": map[string]any{"client_id": "cid", "client_secret": "nested-cs", "token_url": "https://idp/token"},
		"providers": []any{
			map[string]any{"name": "a", "api_key": "nested-k-a"},
			map[string]any{"name": "b", "headers": map[string]any{"Authorization": "Bearer nested-bearer"}}},
	}
	masked := map[string]any{"auth_type": "oauth",
		"oauth": map[string]any{"client_id": "cid", "client_secret": "*******", "token_url": "https://idp/token"},
		"providers": []any{
			map[string]any{"name": "a", "api_key": "*******"},
			map[string]any{"name": "b", "headers": map[string]any{"Authorization": "*******"}}},
	}
	p := s.projCreate(t, token, map[string]any{"name": "Nested", "auth_settings": settings})
	assert.Equal(t, masked, p["auth_settings"])
	for _, path := range []string{"/api/v1/projects/", projPath(p["id"])} {
		r := s.call(t, http.MethodGet, path, nil, token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.NotContains(t, r.raw, "nested-", path)
	}
	rows := s.textRows(t, `SELECT auth_settings::text FROM projects WHERE id = $1`, p["id"])
	assert.NotContains(t, strings.Join(rows, ""), "nested-", "the read model keeps no secret")

	// The shown settings sent back with a change keep every masked secret.
	back := masked
	back["oauth"].(map[string]any)["client_id"] = "cid-2"
	r := s.call(t, http.MethodPatch, projPath(p["id"]), map[string]any{"auth_settings": back}, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "cid-2", r.obj(t)["auth_settings"].(map[string]any)["oauth"].(map[string]any)["client_id"])
	assert.NotContains(t, r.raw, "nested-")
	agg := domain.LoadProject(uuid.MustParse(p["id"].(string)))
	require.NoError(t, s.app.Deps().Repository.Load(context.Background(), agg))
	var stored map[string]any
	require.NoError(t, json.Unmarshal(agg.Fields().AuthSettings, &stored))
	settings["oauth"].(map[string]any)["client_id"] = "cid-2"
	assert.Equal(t, settings, stored, "the log keeps the secrets the masks stood for")
}
