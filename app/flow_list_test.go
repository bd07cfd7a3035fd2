package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/readapi"
)

// Read Flows (#28): every parameter over the 30-flow fixture, checked
// against the flows as GET /api/v1/flows/{id} shows them (which ids, in
// which order), and against hand-written expectations where the answer is
// known by construction.
func TestFlowList_Parameters(t *testing.T) {
	t.Parallel()
	w := listBuild(t)
	require.Len(t, w.ada, 22)
	require.Len(t, w.bob, 8)
	p1, p2 := w.projects[0][1].String(), w.projects[0][2].String()
	all := func(readapi.FlowRead) bool { return true }
	is := func(names ...string) func(readapi.FlowRead) bool {
		return func(f readapi.FlowRead) bool { return slices.Contains(names, f.Name) }
	}

	cases := []struct {
		name   string
		query  string
		keep   func(readapi.FlowRead) bool
		sortBy string
		asc    bool
		// names, if set, is the selection written out by hand (any order).
		names []string
	}{
		{name: "default_all_mine_deleted_included", query: "", keep: all},
		{name: "get_all_explicit", query: "?get_all=true", keep: all},
		{name: "remove_example_flows_removes_nothing", query: "?remove_example_flows=true", keep: all},
		{name: "exclude_deleted", query: "?exclude_deleted=true", keep: func(f readapi.FlowRead) bool { return !f.IsDeleted },
			names: listWithout(listAdaNames(), "date report", "Honeydew", "Mango")},
		{name: "exclude_deleted_false", query: "?exclude_deleted=false", keep: all},
		{name: "components_only", query: "?components_only=true", keep: func(f readapi.FlowRead) bool { return f.IsComponent },
			names: []string{"Cherry component", "grape_underscore", "ice cream", "Mango", "Quince", "Vanilla"}},
		{name: "project", query: "?project_id=" + p1, keep: func(f readapi.FlowRead) bool { return f.ProjectID != nil && *f.ProjectID == w.projects[0][1] },
			names: []string{"Apple pipeline", "banana agent", "Cherry component", "lemon", "Mango", "Quince", "ugli fruit"}},
		{name: "project_all_projects", query: "?all_projects=true&project_id=" + p1, keep: all},
		{name: "all_projects_alone", query: "?all_projects=true", keep: all},
		{name: "keyword_name_or_description_any_case", query: "?keyword=RePoRt",
			keep: func(f readapi.FlowRead) bool {
				return listContains(f.Name, "report") || listContains(f.Description, "report")
			},
			names: []string{"Apple pipeline", "date report", "Elder summarizer", "Honeydew", "Kiwi report", "lemon"}},
		{name: "keyword_percent_is_literal", query: "?keyword=" + url.QueryEscape("%"), keep: is("fig 100% done"), names: []string{"fig 100% done"}},
		{name: "keyword_underscore_is_literal", query: "?keyword=_", keep: is("grape_underscore"), names: []string{"grape_underscore"}},
		{name: "keyword_backslash_matches_nothing", query: "?keyword=" + url.QueryEscape(`\`), keep: is()},
		{name: "keyword_empty_is_absent", query: "?keyword=", keep: all},
		{name: "flow_type_agent", query: "?flow_type=agent", keep: func(f readapi.FlowRead) bool { return f.FlowType == "agent" },
			names: []string{"banana agent", "Elder summarizer", "grape_underscore", "Kiwi report", "nectarine", "Quince", "strawberry", "Vanilla"}},
		{name: "flow_type_chat", query: "?flow_type=chat", keep: func(f readapi.FlowRead) bool { return f.FlowType == "chat" }},
		{name: "flow_type_empty_is_absent", query: "?flow_type=", keep: all},
		{name: "workflow_online", query: "?workflow_status=online", keep: func(f readapi.FlowRead) bool { return f.IsOnline },
			names: []string{"Apple pipeline", "grape_underscore", "Honeydew", "Kiwi report", "Orange"}},
		{name: "workflow_published", query: "?workflow_status=published", keep: is("Apple pipeline", "grape_underscore", "Honeydew", "Kiwi report", "Orange")},
		{name: "workflow_offline", query: "?workflow_status=offline", keep: func(f readapi.FlowRead) bool { return !f.IsOnline },
			names: listWithout(listAdaNames(), "Apple pipeline", "grape_underscore", "Honeydew", "Kiwi report", "Orange")},
		{name: "workflow_draft", query: "?workflow_status=draft", keep: func(f readapi.FlowRead) bool { return !f.IsOnline }},
		{name: "org", query: "?org_id=10", keep: func(f readapi.FlowRead) bool { return f.OrgID == 10 },
			names: []string{"Apple pipeline", "banana agent", "Kiwi report", "lemon", "Orange", "Quince", "Tangerine", "Vanilla"}},
		{name: "org_moved_by_patch", query: "?org_id=13", keep: is("Cherry component", "ugli fruit"), names: []string{"Cherry component", "ugli fruit"}},
		{name: "org_zero", query: "?org_id=0", keep: func(f readapi.FlowRead) bool { return f.OrgID == 0 }},
		{name: "org_descendants_widen_nothing_yet", query: "?org_id=10&include_descendant_orgs=true", keep: func(f readapi.FlowRead) bool { return f.OrgID == 10 }},
		{name: "business", query: "?filter-business-id=101", keep: func(f readapi.FlowRead) bool { return f.BusinessID == 101 },
			names: []string{"Cherry component", "Mango", "Quince"}},
		{name: "business_subs_widen_nothing_yet", query: "?filter-business-id=101&include-sub-businesses=true&include_scope_sub_businesses=true",
			keep: func(f readapi.FlowRead) bool { return f.BusinessID == 101 }},
		{name: "org_and_business", query: "?org_id=10&filter-business-id=100", keep: func(f readapi.FlowRead) bool { return f.OrgID == 10 && f.BusinessID == 100 },
			names: []string{"Apple pipeline", "banana agent", "Kiwi report", "lemon", "Orange", "Vanilla"}},
		{name: "sort_name_asc", query: "?sort_by=name&sort_order=asc", keep: all, sortBy: "name", asc: true},
		{name: "sort_name_desc", query: "?sort_by=name", keep: all, sortBy: "name"},
		{name: "sort_create_at_asc", query: "?sort_by=create_at&sort_order=asc", keep: all, sortBy: "create_at", asc: true},
		{name: "sort_created_at_alias", query: "?sort_by=created_at", keep: all, sortBy: "create_at"},
		{name: "sort_updated_at_asc", query: "?sort_by=updated_at&sort_order=asc", keep: all, asc: true},
		{name: "sort_order_asc_alone", query: "?sort_order=asc", keep: all, asc: true},
		{name: "sort_empty_is_default", query: "?sort_by=&sort_order=", keep: all},
		{name: "combined", query: "?project_id=" + p2 + "&components_only=true&exclude_deleted=true&keyword=A&sort_by=name&sort_order=asc",
			keep:   is("grape_underscore", "Vanilla"),
			sortBy: "name", asc: true, names: []string{"grape_underscore", "Vanilla"}},
		{name: "combined_online_org", query: "?workflow_status=online&org_id=10&flow_type=chat&all_projects=true&project_id=" + p2,
			keep: is("Apple pipeline", "Orange"), names: []string{"Apple pipeline", "Orange"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := listExpect(w.ada, tc.keep, tc.sortBy, tc.asc)
			got := w.listIDs(t, w.adaToken, tc.query)
			require.Equal(t, w.listNamesOf(want), w.listNamesOf(got))
			require.Equal(t, want, got)
			if tc.names != nil {
				assert.Equal(t, listSet(w.listNames(t, tc.names...)), listSet(got), "hand-written selection")
			}
		})
	}

	// Orders written out by hand: names are case-insensitive; the default
	// is updated_at desc, where the edits made after creation come first
	// (deletes last of all, then publishes, then the two PATCHes).
	t.Run("name_order_by_hand", func(t *testing.T) {
		got := w.listIDs(t, w.adaToken, "?sort_by=name&sort_order=asc")
		assert.Equal(t, listAdaNames(), w.listNamesOf(got))
	})
	t.Run("updated_order_by_hand", func(t *testing.T) {
		got := w.listNamesOf(w.listIDs(t, w.adaToken, ""))
		assert.Equal(t, []string{"Mango", "Honeydew", "date report", "Orange", "Kiwi report", "grape_underscore",
			"Elder summarizer", "Apple pipeline", "Cherry component", "lemon", "Vanilla", "ugli fruit"}, got[:12])
		got = w.listNamesOf(w.listIDs(t, w.adaToken, "?sort_by=create_at&sort_order=asc"))
		assert.Equal(t, listAdaNames(), got, "created in fixture order")
	})
}

// Users never see each other's flows, whatever the filters say.
func TestFlowList_Isolation(t *testing.T) {
	t.Parallel()
	w := listBuild(t)
	bobs := listExpect(w.bob, nil, "", false)
	assert.Equal(t, bobs, w.listIDs(t, w.bobToken, ""))
	adas := listExpect(w.ada, nil, "", false)
	assert.Equal(t, adas, w.listIDs(t, w.adaToken, ""))
	for _, id := range bobs {
		assert.NotContains(t, adas, id)
	}
	// Same project, same org, same name: still only one's own.
	assert.Equal(t, listExpect(w.bob, func(f readapi.FlowRead) bool { return f.ProjectID != nil && *f.ProjectID == w.projects[1][1] }, "", false),
		w.listIDs(t, w.bobToken, "?project_id="+w.projects[1][1].String()))
	assert.Empty(t, w.listIDs(t, w.bobToken, "?project_id="+w.projects[0][1].String()), "ada's project, as bob")
	assert.Equal(t, listExpect(w.bob, func(f readapi.FlowRead) bool { return f.Name == "Apple pipeline" }, "", false),
		w.listIDs(t, w.bobToken, "?keyword=apple"))
	assert.Equal(t, listExpect(w.bob, func(f readapi.FlowRead) bool { return f.OrgID == 10 && f.BusinessID == 100 }, "", false),
		w.listIDs(t, w.bobToken, "?org_id=10&filter-business-id=100&include_descendant_orgs=true&include-sub-businesses=true"))
	var page readapi.FlowPage[readapi.FlowRead]
	w.listGet(t, w.bobToken, "?get_all=false&size=100", &page)
	assert.EqualValues(t, 8, page.Total)
	// A fresh user has nothing: [] (not null), and an empty page.
	_, carol := w.env.listUser(t, "carol")
	status, raw := w.env.listCall(t, carol, http.MethodGet, "/api/v1/flows/", nil)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `[]`, string(raw))
	status, raw = w.env.listCall(t, carol, http.MethodGet, "/api/v1/flows/?get_all=false&header_flows=true", nil)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"items":[],"total":0,"page":1,"size":50,"pages":0}`, string(raw))
	// No credentials: refused before anything is read.
	status, raw = w.env.listCall(t, "", http.MethodGet, "/api/v1/flows/", nil)
	assert.Equal(t, http.StatusForbidden, status, string(raw))
}

// get_all=false: Langflow's Page, pages that never overlap and add up to
// the whole list, filters counted in total.
func TestFlowList_Pages(t *testing.T) {
	t.Parallel()
	w := listBuild(t)
	whole := listExpect(w.ada, nil, "", false)

	var def readapi.FlowPage[readapi.FlowRead]
	w.listGet(t, w.adaToken, "?get_all=false", &def)
	assert.Equal(t, readapi.FlowPage[readapi.FlowRead]{Items: def.Items, Total: 22, Page: 1, Size: 50, Pages: 1}, def)
	assert.Len(t, def.Items, 22)

	var got []uuid.UUID
	for p := 1; p <= 5; p++ {
		var page readapi.FlowPage[readapi.FlowRead]
		w.listGet(t, w.adaToken, "?get_all=false&size=5&page="+strconv.Itoa(p), &page)
		assert.EqualValues(t, 22, page.Total)
		assert.EqualValues(t, p, page.Page)
		assert.EqualValues(t, 5, page.Size)
		assert.EqualValues(t, 5, page.Pages)
		wantLen := 5
		if p == 5 {
			wantLen = 2
		}
		require.Len(t, page.Items, wantLen, "page %d", p)
		for _, f := range page.Items {
			got = append(got, f.ID)
		}
	}
	assert.Equal(t, whole, got, "pages concatenated are the whole list")

	// Past the end: no items, the count still right (pages past 10⁹ are
	// 422: TestFlowList_BadParameters).
	for _, q := range []string{"?get_all=false&size=5&page=6", "?get_all=false&size=100&page=1000000000"} {
		status, raw := w.env.listCall(t, w.adaToken, http.MethodGet, "/api/v1/flows/"+q, nil)
		require.Equal(t, http.StatusOK, status, string(raw))
		var page map[string]any
		require.NoError(t, json.Unmarshal(raw, &page))
		assert.Equal(t, []any{}, page["items"], q)
		assert.EqualValues(t, 22, page["total"], q)
	}

	// Filters and sorting apply to pages and their count.
	var filtered readapi.FlowPage[readapi.FlowRead]
	w.listGet(t, w.adaToken, "?get_all=false&exclude_deleted=true&sort_by=name&sort_order=asc&size=4&page=2", &filtered)
	live := listExpect(w.ada, func(f readapi.FlowRead) bool { return !f.IsDeleted }, "name", true)
	assert.EqualValues(t, 19, filtered.Total)
	assert.EqualValues(t, 5, filtered.Pages)
	assert.Equal(t, live[4:8], listPageIDs(filtered.Items))
	var one readapi.FlowPage[readapi.FlowRead]
	w.listGet(t, w.adaToken, "?get_all=false&size=1&keyword=kiwi", &one)
	assert.Equal(t, readapi.FlowPage[readapi.FlowRead]{Items: one.Items, Total: 1, Page: 1, Size: 1, Pages: 1}, one)
	assert.Equal(t, w.listNames(t, "Kiwi report"), listPageIDs(one.Items))

	// The page's items are whole FlowReads, as the get_all list shows them.
	var list []readapi.FlowRead
	w.listGet(t, w.adaToken, "", &list)
	assert.Equal(t, list[:5], listFirst(t, w, "?get_all=false&size=5"))
}

// header_flows=true: FlowHeaders, in a list or a page; data only for
// components.
func TestFlowList_Headers(t *testing.T) {
	t.Parallel()
	w := listBuild(t)
	full := map[uuid.UUID]readapi.FlowRead{}
	for _, f := range w.ada {
		full[f.ID] = f
	}
	keys := []string{"id", "name", "folder_id", "project_id", "is_component", "endpoint_name", "description", "data",
		"access_type", "tags", "mcp_enabled", "action_name", "action_description"}
	slices.Sort(keys)
	check := func(t *testing.T, items []map[string]any) {
		for _, h := range items {
			var got []string
			for k := range h {
				got = append(got, k)
			}
			slices.Sort(got)
			require.Equal(t, keys, got)
			f := full[uuid.MustParse(h["id"].(string))]
			assert.Equal(t, f.Name, h["name"])
			if f.ProjectID == nil {
				assert.Nil(t, h["project_id"], f.Name)
			} else {
				assert.Equal(t, f.ProjectID.String(), h["project_id"], f.Name)
			}
			assert.Equal(t, h["project_id"], h["folder_id"])
			assert.Equal(t, f.IsComponent, h["is_component"])
			assert.Equal(t, f.Description, h["description"])
			assert.Equal(t, "PRIVATE", h["access_type"])
			assert.Equal(t, []any{}, h["tags"])
			if f.IsComponent {
				assert.JSONEq(t, string(f.Data), listJSONOf(t, h["data"]), f.Name)
				assert.Contains(t, listJSONOf(t, h["data"]), "node-", "the component's graph")
			} else {
				assert.Nil(t, h["data"], f.Name)
			}
		}
	}
	var list []map[string]any
	w.listGet(t, w.adaToken, "?header_flows=true&all_projects=true&project_id="+w.projects[0][2].String(), &list)
	want := listExpect(w.ada, nil, "", false)
	require.Len(t, list, len(want))
	for i, h := range list {
		assert.Equal(t, want[i].String(), h["id"])
	}
	check(t, list)

	var page struct {
		Items []map[string]any `json:"items"`
		Total int64            `json:"total"`
		Pages int64            `json:"pages"`
	}
	w.listGet(t, w.adaToken, "?header_flows=true&get_all=false&size=3&page=2&components_only=true&sort_by=name&sort_order=asc", &page)
	assert.EqualValues(t, 6, page.Total)
	assert.EqualValues(t, 2, page.Pages)
	require.Len(t, page.Items, 3)
	comps := listExpect(w.ada, func(f readapi.FlowRead) bool { return f.IsComponent }, "name", true)
	for i, h := range page.Items {
		assert.Equal(t, comps[3+i].String(), h["id"])
	}
	check(t, page.Items)

	// A flow created without project_id is in the user's default project,
	// or in none (null folder_id and project_id) while there is none.
	var jack []map[string]any
	w.listGet(t, w.adaToken, "?header_flows=true&keyword=jackfruit", &jack)
	require.Len(t, jack, 1)
	check(t, jack)
}

// Flows created by one batch request share their creation time (one event
// time per request): ties are broken by id, in the sort's direction, so
// pages neither overlap nor skip.
func TestFlowList_TiesBrokenByID(t *testing.T) {
	t.Parallel()
	e := listStart(t, "", nil)
	_, token := e.listUser(t, "erin")
	var created []readapi.FlowRead
	batch := []map[string]any{}
	for _, n := range []string{"t1", "t2", "t3", "t4", "t5"} {
		batch = append(batch, map[string]any{"name": n})
	}
	e.listMust(t, token, http.MethodPost, "/api/v1/flows/batch/", map[string]any{"flows": batch}, http.StatusCreated, &created)
	require.Len(t, created, 5)
	for _, f := range created[1:] {
		require.Equal(t, created[0].UpdatedAt, f.UpdatedAt, "one batch, one time")
		require.Equal(t, created[0].CreateAt, f.CreateAt)
	}
	byID := listSet(listPageIDs(created))
	desc := slices.Clone(byID)
	slices.Reverse(desc)
	w := &listWorld{env: e}
	for q, want := range map[string][]uuid.UUID{
		"":                                      desc,
		"?sort_order=asc":                       byID,
		"?sort_by=create_at":                    desc,
		"?sort_by=created_at&sort_order=asc":    byID,
		"?sort_by=updated_at&sort_order=desc":   desc,
		"?keyword=t&sort_order=asc&get_all=1":   byID,
		"?components_only=false&sort_order=asc": byID,
	} {
		assert.Equal(t, want, w.listIDs(t, token, q), q)
	}
	var got []uuid.UUID
	for p := 1; p <= 3; p++ {
		var page readapi.FlowPage[readapi.FlowRead]
		w.listGet(t, token, "?get_all=false&size=2&page="+strconv.Itoa(p), &page)
		got = append(got, listPageIDs(page.Items)...)
	}
	assert.Equal(t, desc, got)
}

// Malformed parameters are 422 in pydantic's shape, never a 500, and name
// the parameter.
func TestFlowList_BadParameters(t *testing.T) {
	t.Parallel()
	e := listStart(t, "", nil)
	_, token := e.listUser(t, "dora")
	cases := []struct {
		query, param, typ string
	}{
		{"page=0", "page", "greater_than_equal"},
		{"page=-3&get_all=false", "page", "greater_than_equal"},
		{"page=abc", "page", "int_parsing"},
		{"page=1000000001&get_all=false", "page", "less_than_equal"},
		{"page=9223372036854775807&get_all=false", "page", "less_than_equal"},
		{"page=99999999999999999999&get_all=false", "page", "less_than_equal"},
		{"size=0", "size", "greater_than_equal"},
		{"size=101&get_all=false", "size", "less_than_equal"},
		{"size=1.5", "size", "int_parsing"},
		{"sort_by=owner", "sort_by", "enum"},
		{"sort_by=NAME", "sort_by", "enum"},
		{"sort_order=up", "sort_order", "enum"},
		{"workflow_status=archived", "workflow_status", "enum"},
		{"project_id=not-a-uuid", "project_id", "uuid_parsing"},
		{"project_id=", "project_id", "uuid_parsing"},
		{"org_id=ten", "org_id", "int_parsing"},
		{"filter-business-id=x", "filter-business-id", "int_parsing"},
		{"get_all=maybe", "get_all", "bool_parsing"},
		{"header_flows=2", "header_flows", "bool_parsing"},
		{"exclude_deleted=nope", "exclude_deleted", "bool_parsing"},
		{"include-sub-businesses=perhaps", "include-sub-businesses", "bool_parsing"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			status, raw := e.listCall(t, token, http.MethodGet, "/api/v1/flows/?"+tc.query, nil)
			require.Equal(t, http.StatusUnprocessableEntity, status, string(raw))
			var body struct {
				Detail []struct {
					Loc  []any  `json:"loc"`
					Msg  string `json:"msg"`
					Type string `json:"type"`
				} `json:"detail"`
			}
			require.NoError(t, json.Unmarshal(raw, &body), string(raw))
			require.Len(t, body.Detail, 1, string(raw))
			assert.Equal(t, []any{"query", tc.param}, body.Detail[0].Loc)
			assert.Equal(t, tc.typ, body.Detail[0].Type, string(raw))
			assert.NotEmpty(t, body.Detail[0].Msg)
		})
	}
	status, raw := e.listCall(t, token, http.MethodGet, "/api/v1/flows/?size=101", nil)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(raw), "Input should be less than or equal to 100")
	status, raw = e.listCall(t, token, http.MethodGet, "/api/v1/flows/?workflow_status=x", nil)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(raw), `Input should be 'online', 'published', 'offline' or 'draft'`)
	// Boundaries are fine.
	for _, q := range []string{"page=1&size=1", "size=100&get_all=false", "sort_by=created_at&sort_order=asc", "workflow_status=draft"} {
		status, raw := e.listCall(t, token, http.MethodGet, "/api/v1/flows/?"+q, nil)
		assert.Equal(t, http.StatusOK, status, "%s: %s", q, raw)
	}
}

// The operation is in the OpenAPI document with its parameters.
func TestFlowList_Documented(t *testing.T) {
	t.Parallel()
	e := listStart(t, "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	e.listMust(t, "", http.MethodGet, "/openapi.json", nil, http.StatusOK, &doc)
	op, ok := doc.Paths["/api/v1/flows/"]["get"]
	require.True(t, ok)
	var names []string
	for _, p := range op.Parameters {
		if p.In == "query" {
			names = append(names, p.Name)
		}
	}
	assert.Equal(t, []string{"remove_example_flows", "components_only", "get_all", "project_id", "header_flows", "all_projects",
		"exclude_deleted", "include_scope_sub_businesses", "keyword", "flow_type", "workflow_status", "sort_by", "sort_order",
		"org_id", "include_descendant_orgs", "filter-business-id", "include-sub-businesses", "page", "size"}, names)
}

// listAdaNames are ada's flow names in fixture (= creation = name) order.
func listAdaNames() []string {
	var out []string
	for _, s := range listFixture {
		if !s.bob {
			out = append(out, s.name)
		}
	}
	return out
}

func listWithout(names []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}

func listContains(s, sub string) bool { return strings.Contains(strings.ToLower(s), sub) }

func listPageIDs(items []readapi.FlowRead) []uuid.UUID {
	out := make([]uuid.UUID, len(items))
	for i, f := range items {
		out[i] = f.ID
	}
	return out
}

func listFirst(t *testing.T, w *listWorld, query string) []readapi.FlowRead {
	t.Helper()
	var page readapi.FlowPage[readapi.FlowRead]
	w.listGet(t, w.adaToken, query, &page)
	return page.Items
}

func listJSONOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
