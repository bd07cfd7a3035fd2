package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/tenancy"
)

const (
	flMsgNotFound        = "Flow not found"
	flMsgVersionNotFound = "Flow version not found"
	flMsgNameNotUnique   = "Name must be unique"
	flMsgEndpointTaken   = "Endpoint name must be unique"
	flMsgLocked          = "Flow is locked. Unlock it before making changes."
	flMsgDeleted         = "Flow deleted successfully"
	flFlowsPath          = "/api/v1/flows/"
	flBatchPath          = "/api/v1/flows/batch/"
)

// The spec's flow response fields, all of which every flow answer carries.
var flResponseFields = []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
	"is_component", "updated_at", "webhook", "endpoint_name", "tags", "locked", "is_online", "is_version", "is_hold",
	"is_endpoint", "is_deleted", "flow_type", "online_version", "mcp_enabled", "action_name", "action_description",
	"access_type", "id", "user_id", "tenant_id", "business_id", "is_self", "org_id", "project_id", "create_at", "m_uid",
	"creator_name"}

func TestFlows_Create(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice, bob := s.user(t, "alice"), s.user(t, "bob")

	t.Run("fields", func(t *testing.T) {
		f := s.create(t, alice, map[string]any{"name": "Fields"})
		keys := make([]string, 0, len(f))
		for k := range f {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, flResponseFields, keys, "the spec's fields")
		_, err := uuid.Parse(f["id"].(string))
		require.NoError(t, err)
		assert.Equal(t, map[string]any{
			"name": "Fields", "description": "", "flow_skill": "", "icon": "", "icon_bg_color": "", "gradient": "",
			"data": nil, "is_component": false, "webhook": false, "endpoint_name": nil, "tags": []any{},
			"locked": false, "is_online": false, "is_version": false, "is_hold": false, "is_endpoint": false,
			"is_deleted": false, "flow_type": "", "online_version": nil, "mcp_enabled": false, "action_name": nil,
			"action_description": nil, "access_type": "PRIVATE", "user_id": float64(alice.id), "tenant_id": nil,
			"business_id": float64(0), "is_self": false, "org_id": float64(0), "m_uid": float64(alice.id),
			"creator_name": "alice",
		}, flWithout(f, "id", "updated_at", "create_at", "project_id"))
		created, err := time.Parse(time.RFC3339Nano, f["create_at"].(string))
		require.NoError(t, err)
		updated, err := time.Parse(time.RFC3339Nano, f["updated_at"].(string))
		require.NoError(t, err)
		assert.Equal(t, created, updated)
		assert.WithinDuration(t, time.Now(), created, time.Minute)
		assert.Equal(t, f, s.get(t, alice, f["id"].(string)), "GET shows what create answered")

		full := map[string]any{"name": "Full", "description": "d", "flow_skill": "s", "icon": "i", "icon_bg_color": "#fff",
			"gradient": "g", "data": map[string]any{"nodes": []any{map[string]any{"id": "n1"}}, "edges": []any{}},
			"is_component": true, "webhook": true, "endpoint_name": "full-ep", "tags": []any{"b", "a"}, "is_hold": true,
			"is_endpoint": true, "flow_type": "chat", "mcp_enabled": true, "action_name": "act", "action_description": "does",
			"access_type": "PUBLIC", "locked": true}
		g := s.create(t, alice, full)
		assert.Equal(t, full, flPick(g, "name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
			"is_component", "webhook", "endpoint_name", "tags", "is_hold", "is_endpoint", "flow_type", "mcp_enabled",
			"action_name", "action_description", "access_type", "locked"))
	})

	t.Run("name_suffixes", func(t *testing.T) {
		names := []string{}
		for _, n := range []string{"A", "A", "A", "a"} {
			names = append(names, s.create(t, alice, map[string]any{"name": n})["name"].(string))
		}
		assert.Equal(t, []string{"A", "A (1)", "A (2)", "a (3)"}, names)
		// Another user has names of their own.
		assert.Equal(t, "A", s.create(t, bob, map[string]any{"name": "A"})["name"])
		assert.Equal(t, "A (1)", s.create(t, bob, map[string]any{"name": "A"})["name"])
	})

	t.Run("endpoint_suffixes", func(t *testing.T) {
		eps := []any{}
		for i := range 3 {
			f := s.create(t, alice, map[string]any{"name": fmt.Sprintf("E%d", i), "endpoint_name": "ep"})
			eps = append(eps, f["endpoint_name"])
		}
		assert.Equal(t, []any{"ep", "ep-1", "ep-2"}, eps)
		assert.Equal(t, "ep", s.create(t, bob, map[string]any{"name": "E", "endpoint_name": "ep"})["endpoint_name"])
	})

	// A name that collides only on its claim (the read model compares
	// names untrimmed, claims trimmed) must not push the endpoint name,
	// which is free, to a suffix.
	t.Run("suffix_only_what_collides", func(t *testing.T) {
		s.create(t, alice, map[string]any{"name": "N"})
		f := s.create(t, alice, map[string]any{"name": "N ", "endpoint_name": "fresh"})
		assert.Equal(t, "fresh", f["endpoint_name"], "the endpoint name was free; name became %q", f["name"])
	})

	t.Run("refused", func(t *testing.T) {
		before := s.head(t)
		r := s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": "bad ep", "endpoint_name": "a b"}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": "bad access", "access_type": "X"}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Equal(t, []any{"body", "access_type"}, r.detail().([]any)[0].(map[string]any)["loc"], r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"description": "no name"}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		item := r.detail().([]any)[0].(map[string]any)
		assert.Equal(t, []any{"body", "name"}, item["loc"], r.raw)
		assert.Equal(t, "missing", item["type"], r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": ""}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": strings.Repeat("n", 256)}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": "anon"}, "")
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		// An import with an id already in use (even another user's).
		taken := s.create(t, bob, map[string]any{"name": "imported"})["id"]
		before = s.head(t)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": "again", "id": taken}, alice.token)
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		r = s.call(t, http.MethodPost, flFlowsPath, map[string]any{"name": "again", "id": taken}, bob.token)
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		assert.Equal(t, before, s.head(t), "refused creates write nothing")
	})

	// Concurrent creates of one name by one user all succeed, with
	// distinct names.
	t.Run("concurrent_same_name", func(t *testing.T) {
		const n = 8
		statuses, raws, errs := make([]int, n), make([]string, n), make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range n {
			wg.Go(func() {
				<-start
				statuses[g], raws[g], errs[g] = s.try(http.MethodPost, flFlowsPath, map[string]any{"name": "Same"}, alice.token)
			})
		}
		close(start)
		wg.Wait()
		seen := map[string]bool{}
		for g := range n {
			require.NoError(t, errs[g])
			require.Equal(t, http.StatusCreated, statuses[g], raws[g])
			var f map[string]any
			require.NoError(t, json.Unmarshal([]byte(raws[g]), &f))
			name := strings.ToLower(f["name"].(string))
			assert.False(t, seen[name], "name %q given twice", name)
			seen[name] = true
		}
		assert.True(t, seen["same"], "one of them got the name itself: %v", seen)
	})
}

func TestFlows_UpdateUniqueness(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice, bob := s.user(t, "alice"), s.user(t, "bob")
	one := s.create(t, alice, map[string]any{"name": "One", "endpoint_name": "ep1"})
	two := s.create(t, alice, map[string]any{"name": "Two", "endpoint_name": "ep2"})
	twoID := two["id"].(string)

	before := s.head(t)
	for _, n := range []string{"One", "one"} {
		r := s.call(t, http.MethodPatch, flPath(twoID), map[string]any{"name": n, "description": "changed"}, alice.token)
		requireDetail(t, r, http.StatusBadRequest, flMsgNameNotUnique, "rename to %q", n)
	}
	r := s.call(t, http.MethodPatch, flPath(twoID), map[string]any{"endpoint_name": "ep1", "description": "changed"}, alice.token)
	requireDetail(t, r, http.StatusBadRequest, flMsgEndpointTaken)
	for _, body := range []map[string]any{{"name": ""}, {"endpoint_name": "a b"}, {"access_type": "X"}, {"name": 5},
		{"last_known_updated_at": "yesterday"}} {
		r = s.call(t, http.MethodPatch, flPath(twoID), body, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	r = s.call(t, http.MethodPatch, flPath(uuid.NewString()), map[string]any{"name": "z"}, alice.token)
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)
	r = s.call(t, http.MethodPatch, flPath("nope"), map[string]any{"name": "z"}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Equal(t, before, s.head(t), "refused updates write nothing")
	assert.Equal(t, "Two", s.patch(t, alice, twoID, map[string]any{"name": nil})["name"], "null leaves a field as it is")
	assert.Equal(t, two, s.get(t, alice, twoID), "and change nothing")

	// Own name in another case, and the same name, are fine.
	assert.Equal(t, "TWO", s.patch(t, alice, twoID, map[string]any{"name": "TWO"})["name"])
	assert.Equal(t, "TWO", s.patch(t, alice, twoID, map[string]any{"name": "TWO"})["name"])
	// The old name is free again; another user's names are no obstacle.
	assert.Equal(t, "Deux", s.patch(t, alice, twoID, map[string]any{"name": "Deux"})["name"])
	three := s.create(t, alice, map[string]any{"name": "Two"})
	assert.Equal(t, "Two", three["name"])
	bobs := s.create(t, bob, map[string]any{"name": "Mine"})
	assert.Equal(t, "One", s.patch(t, bob, bobs["id"].(string), map[string]any{"name": "One", "endpoint_name": "ep1"})["name"])

	// A deleted flow's name and endpoint can be taken by a new flow, unsuffixed,
	// and by a rename.
	r = s.call(t, http.MethodDelete, flPath(one["id"].(string)), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	again := s.create(t, alice, map[string]any{"name": "One", "endpoint_name": "ep1"})
	assert.Equal(t, "One", again["name"])
	assert.Equal(t, "ep1", again["endpoint_name"])
	r = s.call(t, http.MethodDelete, flPath(again["id"].(string)), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	renamed := s.patch(t, alice, twoID, map[string]any{"name": "One", "endpoint_name": "ep1"})
	assert.Equal(t, "One", renamed["name"])
	assert.Equal(t, "ep1", renamed["endpoint_name"])
	// The names twoID gave up are free.
	assert.Equal(t, "Deux", s.create(t, alice, map[string]any{"name": "Deux"})["name"])
	assert.Equal(t, "TWO (1)", s.create(t, alice, map[string]any{"name": "TWO"})["name"], "three still holds Two")
	assert.Equal(t, "ep2", s.create(t, alice, map[string]any{"name": "x", "endpoint_name": "ep2"})["endpoint_name"])
}

func TestFlows_UpdateLastKnownUpdatedAt(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice := s.user(t, "alice")
	f := s.create(t, alice, map[string]any{"name": "F"})
	id, at := f["id"].(string), f["updated_at"].(string)
	stamp, err := time.Parse(time.RFC3339Nano, at)
	require.NoError(t, err)

	older := stamp.Add(-time.Microsecond).Format(time.RFC3339Nano)
	r := s.call(t, http.MethodPatch, flPath(id), map[string]any{"description": "x", "last_known_updated_at": older}, alice.token)
	require.Equal(t, http.StatusConflict, r.status, r.raw)
	assert.IsType(t, "", r.detail(), r.raw)

	g := s.patch(t, alice, id, map[string]any{"description": "x", "last_known_updated_at": at})
	assert.Equal(t, "x", g["description"])
	assert.NotEqual(t, at, g["updated_at"], "the update moved updated_at")

	// The first client's view is now stale.
	r = s.call(t, http.MethodPatch, flPath(id), map[string]any{"description": "y", "last_known_updated_at": at}, alice.token)
	require.Equal(t, http.StatusConflict, r.status, r.raw)
	assert.Equal(t, "x", s.get(t, alice, id)["description"])
	// Newer than stored is fine (a client clock ahead), and so is none.
	s.patch(t, alice, id, map[string]any{"description": "z", "last_known_updated_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)})
	assert.Equal(t, "w", s.patch(t, alice, id, map[string]any{"description": "w"})["description"])
}

// Concurrent updates of one flow, all made on the same view: one wins, the
// others get 409, nothing 500s, and the losers' names stay free.
func TestFlows_ConcurrentUpdates(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice := s.user(t, "alice")
	f := s.create(t, alice, map[string]any{"name": "C"})
	id := f["id"].(string)
	const n = 8
	for round := range 3 {
		at := s.get(t, alice, id)["updated_at"].(string)
		statuses := make([]int, n)
		raws := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range n {
			wg.Go(func() {
				<-start
				statuses[g], raws[g], errs[g] = s.try(http.MethodPatch, flPath(id),
					map[string]any{"name": fmt.Sprintf("C r%d g%d", round, g), "last_known_updated_at": at}, alice.token)
			})
		}
		close(start)
		wg.Wait()
		var winners, losers []string
		for g := range n {
			require.NoError(t, errs[g])
			name := fmt.Sprintf("C r%d g%d", round, g)
			switch statuses[g] {
			case http.StatusOK:
				winners = append(winners, name)
			case http.StatusConflict:
				losers = append(losers, name)
			default:
				t.Errorf("round %d goroutine %d: %d %s", round, g, statuses[g], raws[g])
			}
		}
		require.Len(t, winners, 1, "round %d: statuses %v", round, statuses)
		assert.Equal(t, winners[0], s.get(t, alice, id)["name"], "round %d", round)
		// A loser's name was never taken: a new flow gets it unsuffixed.
		for _, l := range losers[:min(2, len(losers))] {
			assert.Equal(t, l, s.create(t, alice, map[string]any{"name": l})["name"], "round %d", round)
		}
	}
	// The original name was released by the first winner.
	assert.Equal(t, "C", s.create(t, alice, map[string]any{"name": "C"})["name"])
}

func TestFlows_Locked(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice := s.user(t, "alice")
	f := s.create(t, alice, map[string]any{"name": "L", "locked": true, "data": map[string]any{"a": 1.0}, "tags": []any{"t"}})
	id := f["id"].(string)
	require.Equal(t, true, f["locked"])

	before := s.head(t)
	for _, body := range []map[string]any{
		{"data": map[string]any{"a": 2.0}},
		{"name": "L2"},
		{"locked": true, "description": "d"},
		{"tags": []any{}},
		{"is_deleted": true},
	} {
		r := s.call(t, http.MethodPatch, flPath(id), body, alice.token)
		requireDetail(t, r, http.StatusLocked, flMsgLocked, "patch %v", body)
	}
	assert.Equal(t, before, s.head(t), "refused patches write nothing")

	// Sending the flow's values back changes nothing and is fine.
	same := s.patch(t, alice, id, map[string]any{"name": "L", "data": map[string]any{"a": 1.0}, "tags": []any{"t"},
		"locked": true, "description": "", "access_type": "PRIVATE"})
	assert.Equal(t, f, same)
	assert.Equal(t, before, s.head(t), "identical values write nothing")

	// Unlocking and changing in one request.
	g := s.patch(t, alice, id, map[string]any{"locked": false, "name": "x"})
	assert.Equal(t, false, g["locked"])
	assert.Equal(t, "x", g["name"])
	g = s.patch(t, alice, id, map[string]any{"data": map[string]any{"a": 3.0}, "locked": true})
	assert.Equal(t, true, g["locked"])
	assert.Equal(t, map[string]any{"a": 3.0}, g["data"])
}

func TestFlows_VersionsPublishRollback(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice := s.user(t, "alice")
	f := s.create(t, alice, map[string]any{"name": "V", "description": "d0", "data": map[string]any{"nodes": []any{"n0"}},
		"tags": []any{"t0", "t1"}, "endpoint_name": "vep", "icon": "i0", "flow_type": "chat", "action_name": "act"})
	id := f["id"].(string)
	versions := flPath(id, "versions")

	snap1 := s.get(t, alice, id)
	r := s.call(t, http.MethodPost, versions, map[string]any{"version": "1.0", "note": "first"}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	v1 := r.obj(t)
	assert.Equal(t, float64(1), v1["id"])
	assert.Equal(t, "1.0", v1["flow_version"])
	assert.Equal(t, "first", v1["version_note"])
	assert.Equal(t, id, v1["flow_id"])
	versionContent := []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
		"is_component", "webhook", "endpoint_name", "tags", "mcp_enabled", "action_name", "action_description",
		"access_type", "flow_type", "is_hold"}
	assert.Equal(t, flPick(snap1, versionContent...), flPick(v1, versionContent...), "version 1 is the draft")
	assert.Equal(t, true, s.get(t, alice, id)["is_version"])

	snap2 := s.patch(t, alice, id, map[string]any{"name": "V two", "data": map[string]any{"nodes": []any{"n1"}},
		"is_endpoint": true, "webhook": true, "tags": []any{"t2"}})
	r = s.call(t, http.MethodPost, versions, map[string]any{"version": "1.1"}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	v2 := r.obj(t)
	assert.Equal(t, float64(2), v2["id"])
	assert.Equal(t, flPick(snap2, versionContent...), flPick(v2, versionContent...), "version 2 is the draft")

	r = s.call(t, http.MethodPost, versions, map[string]any{"version": "1.0"}, alice.token)
	require.Equal(t, http.StatusConflict, r.status, r.raw)
	r = s.call(t, http.MethodPost, versions, map[string]any{}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	listed := s.call(t, http.MethodGet, versions, nil, alice.token)
	require.Equal(t, http.StatusOK, listed.status, listed.raw)
	list := listed.objects(t)
	require.Len(t, list, 2)
	assert.Equal(t, v2, list[0], "newest first")
	assert.Equal(t, v1, list[1])

	t.Run("rollback", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 20 {
			body := map[string]any{}
			for len(body) == 0 {
				if rng.IntN(2) == 0 {
					body["data"] = map[string]any{"nodes": []any{fmt.Sprintf("n%d", rng.IntN(1000))}, "i": float64(i)}
				}
				if rng.IntN(2) == 0 {
					body["name"] = fmt.Sprintf("V edit %d", i)
				}
				if rng.IntN(2) == 0 {
					body["description"] = fmt.Sprintf("desc %d", rng.IntN(1000))
				}
				if rng.IntN(2) == 0 {
					body["tags"] = []any{fmt.Sprintf("t%d", rng.IntN(10)), fmt.Sprintf("u%d", i)}
				}
			}
			s.patch(t, alice, id, body)
		}
		beforeRollback := s.get(t, alice, id)
		events := s.stream(t, "flow-"+id)

		r := s.call(t, http.MethodPost, flPath(id, "versions", "1", "rollback"), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		after := s.get(t, alice, id)
		assert.Equal(t, after, r.obj(t), "rollback answers the flow")
		assert.Equal(t, flPick(snap1, flContentFields...), flPick(after, flContentFields...), "exactly version 1's content")
		assert.Equal(t, flPick(v1, versionContent...), flPick(after, versionContent...), "as the version showed it")
		assert.Equal(t, flWithout(beforeRollback, append(flContentFields, "updated_at")...),
			flWithout(after, append(flContentFields, "updated_at")...), "nothing else changed")
		assert.Equal(t, append(events, "flow.rolled_back"), s.stream(t, "flow-"+id), "one event")
		listed := s.call(t, http.MethodGet, versions, nil, alice.token)
		assert.Equal(t, []map[string]any{v2, v1}, listed.objects(t), "versions untouched")

		// Rolling back to a name another flow took meanwhile is refused.
		s.patch(t, alice, id, map[string]any{"name": "V elsewhere"})
		other := s.create(t, alice, map[string]any{"name": "V"})
		assert.Equal(t, "V", other["name"])
		before := s.head(t)
		r = s.call(t, http.MethodPost, flPath(id, "versions", "1", "rollback"), nil, alice.token)
		requireDetail(t, r, http.StatusBadRequest, flMsgNameNotUnique)
		assert.Equal(t, before, s.head(t))
		r = s.call(t, http.MethodDelete, flPath(other["id"].(string)), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = s.call(t, http.MethodPost, flPath(id, "versions", "1", "rollback"), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "V", r.obj(t)["name"])

		r = s.call(t, http.MethodPost, flPath(id, "versions", "99", "rollback"), nil, alice.token)
		requireDetail(t, r, http.StatusNotFound, flMsgVersionNotFound)
		r = s.call(t, http.MethodPost, flPath(id, "versions", "x", "rollback"), nil, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	})

	t.Run("publish", func(t *testing.T) {
		r := s.call(t, http.MethodGet, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)

		r = s.call(t, http.MethodPost, flPath(id, "versions", "1", "publish"), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, true, r.obj(t)["is_online"])
		assert.Equal(t, "1.0", r.obj(t)["online_version"])

		// The draft moves on; the online flow does not.
		draft := s.patch(t, alice, id, map[string]any{"name": "V draft", "data": map[string]any{"draft": true},
			"is_endpoint": true, "is_hold": true, "tags": []any{"d"}, "mcp_enabled": true, "description": "draft"})
		online := s.call(t, http.MethodGet, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusOK, online.status, online.raw)
		assert.Equal(t, flPick(snap1, flContentFields...), flPick(online.obj(t), flContentFields...), "version 1's content")
		assert.Equal(t, flWithout(draft, flContentFields...), flWithout(online.obj(t), flContentFields...),
			"the flow's other fields")

		r = s.call(t, http.MethodPost, flPath(id, "versions", "2", "publish"), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "1.1", r.obj(t)["online_version"])
		online = s.call(t, http.MethodGet, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusOK, online.status, online.raw)
		assert.Equal(t, flPick(snap2, flContentFields...), flPick(online.obj(t), flContentFields...), "version 2's content")

		r = s.call(t, http.MethodPost, flPath(id, "versions", "3", "publish"), nil, alice.token)
		requireDetail(t, r, http.StatusNotFound, flMsgVersionNotFound)

		release := s.call(t, http.MethodGet, flPath(id, "release")+"?v=1.0", nil, alice.token)
		require.Equal(t, http.StatusOK, release.status, release.raw)
		assert.Equal(t, flPick(snap1, flContentFields...), flPick(release.obj(t), flContentFields...), "release 1.0")
		r = s.call(t, http.MethodGet, flPath(id, "release")+"?v=9", nil, alice.token)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = s.call(t, http.MethodGet, flPath(id, "release"), nil, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Equal(t, []any{"query", "v"}, r.detail().([]any)[0].(map[string]any)["loc"], r.raw)

		r = s.call(t, http.MethodDelete, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, false, r.obj(t)["is_online"])
		assert.Nil(t, r.obj(t)["online_version"])
		assert.Contains(t, r.obj(t), "online_version")
		r = s.call(t, http.MethodGet, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = s.call(t, http.MethodDelete, flPath(id, "online"), nil, alice.token)
		require.Equal(t, http.StatusConflict, r.status, r.raw)
		assert.Equal(t, true, s.get(t, alice, id)["is_version"], "the versions stay")
	})
}

func TestFlows_Delete(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice, bob := s.user(t, "alice"), s.user(t, "bob")
	d := s.create(t, alice, map[string]any{"name": "D", "endpoint_name": "dep"})
	id := d["id"].(string)

	r := s.call(t, http.MethodDelete, flPath(id), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"message": flMsgDeleted}, r.body)
	got := s.get(t, alice, id)
	assert.Equal(t, true, got["is_deleted"])
	assert.Equal(t, flWithout(d, "is_deleted", "updated_at"), flWithout(got, "is_deleted", "updated_at"))
	r = s.call(t, http.MethodDelete, flPath(id), nil, alice.token)
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)

	// The name is free: a new flow takes it unsuffixed, and restoring the
	// deleted one is then refused.
	d2 := s.create(t, alice, map[string]any{"name": "D"})
	assert.Equal(t, "D", d2["name"])
	before := s.head(t)
	r = s.call(t, http.MethodPatch, flPath(id), map[string]any{"is_deleted": false}, alice.token)
	requireDetail(t, r, http.StatusBadRequest, flMsgNameNotUnique)
	assert.Equal(t, before, s.head(t))
	assert.Equal(t, true, s.get(t, alice, id)["is_deleted"])

	// Once the name is free again the flow comes back with it (and its
	// endpoint name).
	r = s.call(t, http.MethodDelete, flPath(d2["id"].(string)), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	back := s.patch(t, alice, id, map[string]any{"is_deleted": false})
	assert.Equal(t, false, back["is_deleted"])
	assert.Equal(t, "D", back["name"])
	assert.Equal(t, "dep", back["endpoint_name"])
	assert.Equal(t, "D (1)", s.create(t, alice, map[string]any{"name": "D"})["name"])
	assert.Equal(t, "dep-1", s.create(t, alice, map[string]any{"name": "D ep", "endpoint_name": "dep"})["endpoint_name"])

	t.Run("many", func(t *testing.T) {
		own := s.create(t, alice, map[string]any{"name": "mine"})["id"].(string)
		other := s.create(t, bob, map[string]any{"name": "theirs"})["id"].(string)
		r := s.call(t, http.MethodDelete, flFlowsPath, []string{own, other, uuid.NewString()}, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, map[string]any{"deleted": float64(1)}, r.body)
		assert.Equal(t, true, s.get(t, alice, own)["is_deleted"])
		assert.Equal(t, false, s.get(t, bob, other)["is_deleted"])
		// Deleting again counts nothing.
		r = s.call(t, http.MethodDelete, flFlowsPath, []string{own}, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, map[string]any{"deleted": float64(0)}, r.body)
		twice := s.create(t, alice, map[string]any{"name": "twice"})["id"].(string)
		r = s.call(t, http.MethodDelete, flFlowsPath, []string{twice, twice}, alice.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, map[string]any{"deleted": float64(1)}, r.body, "an id given twice is deleted once")
		r = s.call(t, http.MethodDelete, flFlowsPath, []string{"nope"}, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	})
}

func TestFlows_Isolation(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice, bob := s.user(t, "alice"), s.user(t, "bob")
	f := s.create(t, alice, map[string]any{"name": "Private"})
	id := f["id"].(string)
	r := s.call(t, http.MethodPost, flPath(id, "versions"), map[string]any{"version": "1.0"}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	r = s.call(t, http.MethodPost, flPath(id, "versions", "1", "publish"), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	f = s.get(t, alice, id)

	before := s.head(t)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, flPath(id), nil},
		{http.MethodPatch, flPath(id), map[string]any{"name": "mine now"}},
		{http.MethodDelete, flPath(id), nil},
		{http.MethodGet, flPath(id, "versions"), nil},
		{http.MethodPost, flPath(id, "versions"), map[string]any{"version": "2.0"}},
		{http.MethodPost, flPath(id, "versions", "1", "publish"), nil},
		{http.MethodPost, flPath(id, "versions", "1", "rollback"), nil},
		{http.MethodGet, flPath(id, "online"), nil},
		{http.MethodDelete, flPath(id, "online"), nil},
		{http.MethodGet, flPath(id, "release") + "?v=1.0", nil},
	} {
		r := s.call(t, c.method, c.path, c.body, bob.token)
		requireDetail(t, r, http.StatusNotFound, flMsgNotFound, "%s %s", c.method, c.path)
	}
	r = s.call(t, http.MethodDelete, flFlowsPath, []string{id}, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"deleted": float64(0)}, r.body)
	assert.Equal(t, before, s.head(t), "bob wrote nothing")
	assert.Equal(t, f, s.get(t, alice, id))

	// Public reads: a private flow is not found, a public one is served to
	// anyone, a deleted one is not.
	r = s.call(t, http.MethodGet, flPath("public_flow", id), nil, "")
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)
	r = s.call(t, http.MethodGet, flPath("public_flow", id), nil, bob.token)
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)
	pub := s.patch(t, alice, id, map[string]any{"access_type": "PUBLIC"})
	r = s.call(t, http.MethodGet, flPath("public_flow", id), nil, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, pub, r.obj(t))
	r = s.call(t, http.MethodGet, flPath("public_flow", uuid.NewString()), nil, "")
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)
	// PUBLIC is about reading; bob still cannot change it.
	r = s.call(t, http.MethodPatch, flPath(id), map[string]any{"name": "mine now"}, bob.token)
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)
	r = s.call(t, http.MethodDelete, flPath(id), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodGet, flPath("public_flow", id), nil, "")
	requireDetail(t, r, http.StatusNotFound, flMsgNotFound)

	// A superuser reads and changes anyone's flow, within the owner's names;
	// without credentials nothing is read.
	assert.Equal(t, id, s.get(t, s.admin, id)["id"])
	s.create(t, alice, map[string]any{"name": "Taken"})
	target := s.create(t, alice, map[string]any{"name": "Target"})["id"].(string)
	r = s.call(t, http.MethodPatch, flPath(target), map[string]any{"name": "Taken"}, s.admin.token)
	requireDetail(t, r, http.StatusBadRequest, flMsgNameNotUnique)
	byAdmin := s.patch(t, s.admin, target, map[string]any{"name": "Renamed by admin"})
	assert.Equal(t, float64(alice.id), byAdmin["user_id"])
	assert.Equal(t, float64(s.admin.id), byAdmin["m_uid"])
	assert.Equal(t, "Renamed by admin", s.get(t, alice, target)["name"])
	r = s.call(t, http.MethodGet, flPath(id), nil, "")
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
}

func TestFlows_Batch(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice := s.user(t, "alice")

	r := s.call(t, http.MethodPost, flBatchPath, map[string]any{"flows": []any{
		map[string]any{"name": "x"}, map[string]any{"name": "x", "endpoint_name": "bep"}, map[string]any{"name": "x"}}}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	list := r.objects(t)
	require.Len(t, list, 3)
	assert.Equal(t, []any{"x", "x (1)", "x (2)"}, []any{list[0]["name"], list[1]["name"], list[2]["name"]})
	assert.Equal(t, []any{nil, "bep", nil}, []any{list[0]["endpoint_name"], list[1]["endpoint_name"], list[2]["endpoint_name"]})
	for _, f := range list {
		assert.Equal(t, f, s.get(t, alice, f["id"].(string)))
	}

	cases := []struct {
		name  string
		flows []any
		bad   int
	}{
		{"missing_name", []any{map[string]any{"name": "ok"}, map[string]any{"description": "no name"}}, 1},
		{"bad_access_type", []any{map[string]any{"name": "ok", "access_type": "X"}}, 0},
		{"bad_endpoint", []any{map[string]any{"name": "ok"}, map[string]any{"name": "ok2"}, map[string]any{"name": "z", "endpoint_name": "a b"}}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.head(t)
			r := s.call(t, http.MethodPost, flBatchPath, map[string]any{"flows": c.flows}, alice.token)
			require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
			items, ok := r.detail().([]any)
			require.True(t, ok, r.raw)
			require.NotEmpty(t, items)
			loc, _ := items[0].(map[string]any)["loc"].([]any)
			require.GreaterOrEqual(t, len(loc), 3, r.raw)
			assert.Equal(t, []any{"body", "flows", float64(c.bad)}, loc[:3], r.raw)
			assert.Equal(t, before, s.head(t), "a refused batch writes nothing")
		})
	}
	r = s.call(t, http.MethodPost, flBatchPath, map[string]any{}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

// Replaying the log into fresh read models gives the same rows.
func TestFlows_Rebuild(t *testing.T) {
	t.Parallel()
	s := flStart(t)
	alice, bob := s.user(t, "alice"), s.user(t, "bob")
	a := s.create(t, alice, map[string]any{"name": "R", "data": map[string]any{"k": 1.0}, "tags": []any{"a"}, "endpoint_name": "r"})
	aID := a["id"].(string)
	s.create(t, alice, map[string]any{"name": "R"})
	b := s.create(t, bob, map[string]any{"name": "R", "access_type": "PUBLIC", "locked": true})
	bID := b["id"].(string)
	post := func(u caller, path string, body any) {
		r := s.call(t, http.MethodPost, path, body, u.token)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, r.status, r.raw)
	}
	post(alice, flPath(aID, "versions"), map[string]any{"version": "1", "note": "n"})
	biz, org := s.placeIn(t, tenancy.SystemTenantID, "R")
	s.patch(t, alice, aID, map[string]any{"name": "R2", "description": "d", "data": map[string]any{"k": 2.0}, "webhook": true,
		"mcp_enabled": true, "action_name": "a", "access_type": "RESTRICTED", "org_id": org, "business_id": biz, "is_self": true})
	post(alice, flPath(aID, "versions"), map[string]any{"version": "2"})
	post(alice, flPath(aID, "versions", "1", "publish"), nil)
	s.patch(t, alice, aID, map[string]any{"tags": []any{"x", "y"}, "locked": true})
	s.patch(t, alice, aID, map[string]any{"locked": false})
	post(alice, flPath(aID, "versions", "1", "rollback"), nil)
	post(alice, flPath(aID, "versions", "2", "publish"), nil)
	r := s.call(t, http.MethodDelete, flPath(aID, "online"), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.patch(t, bob, bID, map[string]any{"locked": false, "name": "B"})
	r = s.call(t, http.MethodDelete, flPath(bID), nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.patch(t, bob, bID, map[string]any{"is_deleted": false})
	post(bob, flBatchPath, map[string]any{"flows": []any{map[string]any{"name": "B"}, map[string]any{"name": "B"}}})

	const flowsQ = `SELECT x::text FROM flows x ORDER BY id`
	const versionsQ = `SELECT x::text FROM flow_versions x ORDER BY flow_id, version_id`
	flows, vers := s.flRows(t, flowsQ), s.flRows(t, versionsQ)
	require.Len(t, flows, 5)
	require.Len(t, vers, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "flows", nil))
	assert.Equal(t, flows, s.flRows(t, flowsQ))
	assert.Equal(t, vers, s.flRows(t, versionsQ))
	// And the API still serves from the rebuilt tables.
	assert.Equal(t, "R", s.get(t, alice, aID)["name"])
}
