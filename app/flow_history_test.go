package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// histContentFields are the content fields a creation or a rollback sets.
var histContentFields = []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
	"is_component", "webhook", "endpoint_name", "tags", "mcp_enabled", "action_name", "action_description",
	"access_type", "flow_type", "is_hold", "is_endpoint"}

// The graphs of the script: G2 adds node C and an edge without id; G3
// moves A and adds edge e0; G4 drops B (and its edges), changes C, adds D,
// relabels e0 and adds two edges.
var (
	histG1 = histGraph(
		[]any{histNode("A", 0, map[string]any{"k": "a"}), histNode("B", 100, map[string]any{"k": "b"})},
		[]any{map[string]any{"id": "e1", "source": "A", "target": "B"}})
	histG2 = histGraph(
		[]any{histNode("A", 0, map[string]any{"k": "a"}), histNode("B", 100, map[string]any{"k": "b"}),
			histNode("C", 200, map[string]any{"k": "c"})},
		[]any{map[string]any{"id": "e1", "source": "A", "target": "B"},
			map[string]any{"source": "B", "target": "C", "sourceHandle": "hb", "targetHandle": "hc"}})
	histG3 = histGraph(
		[]any{histNode("A", 50, map[string]any{"k": "a"}), histNode("B", 100, map[string]any{"k": "b"}),
			histNode("C", 200, map[string]any{"k": "c"})},
		[]any{map[string]any{"id": "e1", "source": "A", "target": "B"},
			map[string]any{"source": "B", "target": "C", "sourceHandle": "hb", "targetHandle": "hc"},
			map[string]any{"id": "e0", "source": "A", "target": "C", "label": "x"}})
	histG4 = histGraph(
		[]any{histNode("A", 50, map[string]any{"k": "a"}), histNode("C", 200, map[string]any{"k": "c2"}),
			histNode("D", 300, map[string]any{"k": "d"})},
		[]any{map[string]any{"id": "e0", "source": "A", "target": "C", "label": "y"},
			map[string]any{"id": "e2", "source": "C", "target": "D"},
			map[string]any{"source": "D", "target": "A"}})
)

// A scripted life of a flow (create, rename, graph edits by its owner and
// by a superuser, tags, version 1.0, a rename with a graph edit in one
// request, version 2.0, publish, rollback, delete): its history lists every
// event with its fields and actor, newest first, and pages; as_of at each
// write's position and time is exactly what Read Flow answered right after
// that write; diffs of the versions name the scripted nodes and edges.
func TestFlowHistory_ScriptedLife(t *testing.T) {
	t.Parallel()
	s := histStart(t)
	admin := s.signIn(t, histAdmin, histAdminPassword)
	alice := s.histSignUp(t, "alice", "Ally")
	bob := s.histSignUp(t, "bob", "")

	script := &histScript{s: s, reader: alice}
	write := script.write
	write(t, "create", alice, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "Hist", "description": "d0", "data": histG1}, http.StatusCreated)
	flow := "/api/v1/flows/" + script.id
	write(t, "rename", alice, http.MethodPatch, flow, map[string]any{"name": "Hist 2", "description": "d1"}, http.StatusOK)
	write(t, "edit G2", alice, http.MethodPatch, flow, map[string]any{"data": histG2}, http.StatusOK)
	write(t, "edit G3 by admin", admin, http.MethodPatch, flow, map[string]any{"data": histG3}, http.StatusOK)
	write(t, "tags", alice, http.MethodPatch, flow, map[string]any{"tags": []string{"x", "y"}}, http.StatusOK)
	write(t, "version 1.0", alice, http.MethodPost, flow+"/versions", map[string]any{"version": "1.0"}, http.StatusCreated)
	write(t, "rename+edit G4", alice, http.MethodPatch, flow, map[string]any{"name": "Hist 3", "data": histG4}, http.StatusOK)
	write(t, "version 2.0", alice, http.MethodPost, flow+"/versions", map[string]any{"version": "2.0"}, http.StatusCreated)
	write(t, "publish 1", alice, http.MethodPost, flow+"/versions/1/publish", nil, http.StatusOK)
	write(t, "rollback 1", alice, http.MethodPost, flow+"/versions/1/rollback", nil, http.StatusOK)
	write(t, "delete", alice, http.MethodDelete, flow, nil, http.StatusOK)
	steps := script.steps

	// History: one item per event, newest first.
	type want struct {
		change string
		fields []string
		actor  caller
		step   int // the write it belongs to
	}
	wants := []want{ // oldest first; revision = index
		{"created", histContentFields, alice, 0},
		{"renamed/described", []string{"name", "description"}, alice, 1},
		{"graph edited", []string{"data"}, alice, 2},
		{"graph edited", []string{"data"}, admin, 3},
		{"tags changed", []string{"tags"}, alice, 4},
		{"version 1.0 created", []string{"is_version"}, alice, 5},
		{"renamed/described", []string{"name"}, alice, 6},
		{"graph edited", []string{"data"}, alice, 6},
		{"version 2.0 created", []string{"is_version"}, alice, 7},
		{"version 1.0 published", []string{"is_online", "online_version"}, alice, 8},
		{"rolled back to version 1.0", histContentFields, alice, 9},
		{"deleted", []string{"is_deleted"}, alice, 10},
	}
	types := []string{"flow.created", "flow.details_changed", "flow.data_changed", "flow.data_changed", "flow.tags_changed",
		"flow.version_created", "flow.details_changed", "flow.data_changed", "flow.version_created",
		"flow.version_published", "flow.rolled_back", "flow.deleted"}
	full := s.call(t, http.MethodGet, flow+"/history?size=100", nil, alice.token)
	histRequire(t, full, http.StatusOK)
	page := full.obj(t)
	require.Equal(t, map[string]any{"total": float64(len(wants)), "page": float64(1), "size": float64(100), "pages": float64(1)},
		map[string]any{"total": page["total"], "page": page["page"], "size": page["size"], "pages": page["pages"]})
	items := page["items"].([]any)
	require.Len(t, items, len(wants))
	positions := make([]eventstore.Position, len(wants)) // by revision
	for i, raw := range items {
		it := raw.(map[string]any)
		rev := len(wants) - 1 - i
		w := wants[rev]
		msg := fmt.Sprintf("item %d (revision %d): %v", i, rev, it)
		require.Equal(t, float64(rev), it["revision"], msg)
		require.Equal(t, types[rev], it["event_type"], msg)
		require.Equal(t, w.change, it["change"], msg)
		require.Equal(t, w.fields, histStrings(t, it["fields"]), msg)
		require.Equal(t, float64(w.actor.id), it["actor_id"], msg)
		wantName := map[int64]string{alice.id: "Ally", admin.id: histAdmin}[w.actor.id]
		require.Equal(t, wantName, it["actor_name"], msg)
		pos, err := eventstore.ParsePosition(it["position"].(string))
		require.NoError(t, err, msg)
		positions[rev] = pos
		// The event belongs to its write: at or before the write's
		// position, after the previous write's.
		require.False(t, steps[w.step].pos.Less(pos), msg)
		if w.step > 0 {
			require.True(t, steps[w.step-1].pos.Less(pos), msg)
		}
		// Events of one write share its time, which Read Flow showed as
		// updated_at right after it.
		occurred, err := time.Parse(time.RFC3339Nano, it["occurred_at"].(string))
		require.NoError(t, err, msg)
		updated, err := time.Parse(time.RFC3339Nano, steps[w.step].updatedAt)
		require.NoError(t, err, msg)
		require.True(t, occurred.Equal(updated), "%s: occurred_at %s, updated_at %s", msg, occurred, updated)
	}
	for rev := 1; rev < len(positions); rev++ {
		require.True(t, positions[rev-1].Less(positions[rev]), "positions grow with revisions")
	}

	// Pages of 5 are the full list cut in order; past the end is empty.
	var paged []any
	for p := 1; p <= 3; p++ {
		r := s.call(t, http.MethodGet, fmt.Sprintf("%s/history?page=%d&size=5", flow, p), nil, alice.token)
		histRequire(t, r, http.StatusOK)
		m := r.obj(t)
		require.Equal(t, []any{float64(12), float64(p), float64(5), float64(3)}, []any{m["total"], m["page"], m["size"], m["pages"]})
		require.Len(t, m["items"], map[int]int{1: 5, 2: 5, 3: 2}[p])
		paged = append(paged, m["items"].([]any)...)
	}
	require.Equal(t, items, paged)
	past := s.call(t, http.MethodGet, flow+"/history?page=4&size=5", nil, alice.token)
	histRequire(t, past, http.StatusOK)
	require.Equal(t, []any{}, past.obj(t)["items"])
	require.Equal(t, float64(12), past.obj(t)["total"])
	def := s.call(t, http.MethodGet, flow+"/history", nil, alice.token)
	histRequire(t, def, http.StatusOK)
	require.Equal(t, float64(50), def.obj(t)["size"])
	require.Equal(t, items, def.obj(t)["items"])

	// as_of at each write's position and time is what Read Flow answered
	// right after it.
	script.checkAsOf(t)
	asOf := func(v string) reply {
		return s.call(t, http.MethodGet, flow+"?as_of="+url.QueryEscape(v), nil, alice.token)
	}
	// The first event of the flow alone is the flow as created; inside the
	// rename+edit write, after its first event, the name changed and the
	// graph did not yet.
	r := asOf(positions[0].String())
	histRequire(t, r, http.StatusOK)
	require.Equal(t, steps[0].read, r.raw)
	r = asOf(positions[6].String())
	histRequire(t, r, http.StatusOK)
	mid := r.obj(t)
	require.Equal(t, "Hist 3", mid["name"])
	require.Equal(t, histDecode(t, steps[5].read)["data"], mid["data"])
	// Before the flow existed it is not found.
	histDetail(t, asOf(eventstore.At(positions[0].Commit-1).String()), http.StatusNotFound, "Flow not found")
	created, err := time.Parse(time.RFC3339Nano, histDecode(t, steps[0].read)["create_at"].(string))
	require.NoError(t, err)
	histDetail(t, asOf(created.Add(-time.Microsecond).Format(time.RFC3339Nano)), http.StatusNotFound, "Flow not found")
	// Without as_of Read Flow is the read model's row, as before.
	now := s.call(t, http.MethodGet, flow, nil, alice.token)
	histRequire(t, now, http.StatusOK)
	require.Equal(t, steps[len(steps)-1].read, now.raw)

	// Diffs of the versions: 1.0 holds G3 and "Hist 2", 2.0 holds G4 and "Hist 3".
	diff := func(a, b string, who caller) reply {
		return s.call(t, http.MethodGet, flow+"/versions/"+a+"/diff/"+b, nil, who.token)
	}
	d := diff("1", "2", alice)
	histRequire(t, d, http.StatusOK)
	require.JSONEq(t, `{"from":1,"to":2,
		"nodes":{"added":["D"],"removed":["B"],"changed":["C"]},
		"edges":{"added":["D->A:->","e2"],"removed":["B->C:hb->hc","e1"],"changed":["e0"]},
		"fields":["name"]}`, d.raw)
	d = diff("2", "1", admin)
	histRequire(t, d, http.StatusOK)
	require.JSONEq(t, `{"from":2,"to":1,
		"nodes":{"added":["B"],"removed":["D"],"changed":["C"]},
		"edges":{"added":["B->C:hb->hc","e1"],"removed":["D->A:->","e2"],"changed":["e0"]},
		"fields":["name"]}`, d.raw)
	d = diff("1", "1", alice)
	histRequire(t, d, http.StatusOK)
	require.JSONEq(t, `{"from":1,"to":1,"nodes":{"added":[],"removed":[],"changed":[]},
		"edges":{"added":[],"removed":[],"changed":[]},"fields":[]}`, d.raw)
	histDetail(t, diff("1", "3", alice), http.StatusNotFound, "Flow version not found")
	histDetail(t, diff("0", "1", alice), http.StatusNotFound, "Flow version not found")
	histLoc(t, diff("one", "2", alice), "path", "version_id")
	histLoc(t, diff("1", "2.5", alice), "path", "other_version_id")

	// Isolation: another user sees none of it; a superuser does.
	histDetail(t, s.call(t, http.MethodGet, flow+"/history", nil, bob.token), http.StatusNotFound, "Flow not found")
	histDetail(t, s.call(t, http.MethodGet, flow+"?as_of="+steps[3].pos.String(), nil, bob.token), http.StatusNotFound, "Flow not found")
	histDetail(t, diff("1", "2", bob), http.StatusNotFound, "Flow not found")
	histRequire(t, s.call(t, http.MethodGet, flow+"/history", nil, admin.token), http.StatusOK)
	r = s.call(t, http.MethodGet, flow+"?as_of="+steps[3].pos.String(), nil, admin.token)
	histRequire(t, r, http.StatusOK)
	require.Equal(t, steps[3].read, r.raw)
	unknown := "/api/v1/flows/" + uuid.NewString()
	histDetail(t, s.call(t, http.MethodGet, unknown+"/history", nil, alice.token), http.StatusNotFound, "Flow not found")
	histDetail(t, s.call(t, http.MethodGet, unknown+"?as_of=1", nil, alice.token), http.StatusNotFound, "Flow not found")
	histDetail(t, s.call(t, http.MethodGet, unknown+"/versions/1/diff/2", nil, alice.token), http.StatusNotFound, "Flow not found")
}

// The other kinds of change (settings, access, MCP, move, lock, unlock,
// taking offline, restore), on a flow without data or tags: labelled and
// listed in the history, and as_of reproduces Read Flow after each.
func TestFlowHistory_EveryKindOfChange(t *testing.T) {
	t.Parallel()
	s := histStart(t)
	carol := s.histSignUp(t, "carol", "")
	script := &histScript{s: s, reader: carol}
	write := func(name, method, suffix string, body any) {
		t.Helper()
		status := http.StatusOK
		if method == http.MethodPost && suffix == "" {
			status = http.StatusCreated
		}
		path := "/api/v1/flows/" + script.id + suffix
		if script.id == "" {
			path = "/api/v1/flows/"
		}
		if suffix == "/versions" {
			status = http.StatusCreated
		}
		script.write(t, name, carol, method, path, body, status)
	}
	write("create", http.MethodPost, "", map[string]any{"name": "Bare"})
	write("settings", http.MethodPatch, "", map[string]any{"endpoint_name": "bare-ep", "webhook": true, "is_hold": false})
	write("access", http.MethodPatch, "", map[string]any{"access_type": "PUBLIC"})
	write("mcp", http.MethodPatch, "", map[string]any{"mcp_enabled": true, "action_name": "act"})
	biz, org := s.placeIn(t, tenancy.SystemTenantID, "move")
	write("move", http.MethodPatch, "", map[string]any{"org_id": org, "business_id": biz})
	write("lock", http.MethodPatch, "", map[string]any{"locked": true})
	write("unlock", http.MethodPatch, "", map[string]any{"locked": false})
	write("version", http.MethodPost, "/versions", map[string]any{"version": "v1"})
	write("publish", http.MethodPost, "/versions/1/publish", nil)
	write("offline", http.MethodDelete, "/online", nil)
	write("delete", http.MethodDelete, "", nil)
	write("restore", http.MethodPatch, "", map[string]any{"is_deleted": false})
	require.Equal(t, nil, histDecode(t, script.steps[0].read)["data"], "a flow without data")
	script.checkAsOf(t)

	r := s.call(t, http.MethodGet, "/api/v1/flows/"+script.id+"/history", nil, carol.token)
	histRequire(t, r, http.StatusOK)
	var got [][]any
	for _, raw := range r.obj(t)["items"].([]any) {
		it := raw.(map[string]any)
		got = append(got, []any{it["change"], histStrings(t, it["fields"]), it["actor_name"]})
	}
	want := [][]any{
		{"restored", []string{"is_deleted"}, "carol"},
		{"deleted", []string{"is_deleted"}, "carol"},
		{"taken offline", []string{"is_online", "online_version"}, "carol"},
		{"version v1 published", []string{"is_online", "online_version"}, "carol"},
		{"version v1 created", []string{"is_version"}, "carol"},
		{"unlocked", []string{"locked"}, "carol"},
		{"locked", []string{"locked"}, "carol"},
		{"moved", []string{"business_id", "org_id"}, "carol"},
		{"MCP settings changed", []string{"mcp_enabled", "action_name"}, "carol"},
		{"access changed", []string{"access_type"}, "carol"},
		{"settings changed", []string{"endpoint_name", "webhook"}, "carol"},
		{"created", histContentFields, "carol"},
	}
	require.Equal(t, want, got)
}

// Malformed parameters are 422s located where they are; none is a 500.
func TestFlowHistory_BadInput(t *testing.T) {
	t.Parallel()
	s := histStart(t)
	alice := s.histSignUp(t, "alice", "")
	r := s.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "F"}, alice.token)
	histRequire(t, r, http.StatusCreated)
	flow := "/api/v1/flows/" + r.obj(t)["id"].(string)

	for _, c := range []struct {
		path string
		loc  []any
	}{
		{flow + "/history?page=0", []any{"query", "page"}},
		{flow + "/history?page=x", []any{"query", "page"}},
		{flow + "/history?size=0", []any{"query", "size"}},
		{flow + "/history?size=101", []any{"query", "size"}},
		{flow + "/history?size=ten", []any{"query", "size"}},
		{"/api/v1/flows/not-a-uuid/history", []any{"path", "flow_id"}},
		{flow + "?as_of=yesterday", []any{"query", "as_of"}},
		{flow + "?as_of=", []any{"query", "as_of"}},
		{flow + "?as_of=-3", []any{"query", "as_of"}},
		{flow + "?as_of=2026-13-01T00:00:00Z", []any{"query", "as_of"}},
		{flow + "?as_of=2026-01-01", []any{"query", "as_of"}},
		{"/api/v1/flows/not-a-uuid?as_of=1", []any{"path", "flow_id"}},
		{"/api/v1/flows/not-a-uuid/versions/1/diff/2", []any{"path", "flow_id"}},
	} {
		got := s.call(t, http.MethodGet, c.path, nil, alice.token)
		histLoc(t, got, c.loc...)
	}
	histRequire(t, s.call(t, http.MethodGet, flow+"/history?size=100&page=1", nil, alice.token), http.StatusOK)
	// Without credentials: Langflow's 403, as every flow route.
	histRequire(t, s.call(t, http.MethodGet, flow+"/history", nil, ""), http.StatusForbidden)
}
