package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// bizMsg is the message of an error answer: the detail string, or the msg
// of the first item of a 422.
func bizMsg(r reply) string {
	switch d := r.detail().(type) {
	case string:
		return d
	case []any:
		if len(d) > 0 {
			if m, ok := d[0].(map[string]any); ok {
				msg, _ := m["msg"].(string)
				return msg
			}
		}
	}
	return ""
}

// A three-level tree: what Add answers, the list in the tree's order, the
// tree, and every filter of both.
func TestBusinesses_ThreeLevelTree(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten := w.tenant(t, "Acme")

	a := w.add(t, ten, "A", 1, 0, 0, map[string]any{"note": "top"})
	aID := bizID(t, a)
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"tenant_id", "business_name", "business_level", "first_business_id", "second_business_id",
		"third_business_id", "is_enable", "note", "business_id", "c_uid", "m_uid", "ctime", "utime"}, keys)
	assert.Equal(t, ten.String(), a["tenant_id"])
	assert.Equal(t, [3]int64{aID, 0, 0}, bizPlace(a), "a level-1 business's first_business_id is its own id")
	assert.Equal(t, 1.0, a["business_level"])
	assert.Equal(t, true, a["is_enable"])
	assert.Equal(t, "top", a["note"])
	assert.Equal(t, float64(w.admin.id), a["c_uid"])
	assert.Equal(t, float64(w.admin.id), a["m_uid"])
	assert.Equal(t, a["ctime"], a["utime"])

	b := w.add(t, ten, "B", 1, 0, 0)
	bID := bizID(t, b)
	assert.Nil(t, b["note"])
	a1 := w.add(t, ten, "A1", 2, aID, 0)
	a1ID := bizID(t, a1)
	assert.Equal(t, [3]int64{aID, a1ID, 0}, bizPlace(a1))
	a2 := w.add(t, ten, "A2", 2, aID, 0, map[string]any{"is_enable": false})
	assert.Equal(t, false, a2["is_enable"])
	b1ID := bizID(t, w.add(t, ten, "B1", 2, bID, 0))
	a1x := w.add(t, ten, "A1x", 3, aID, a1ID)
	a1xID := bizID(t, a1x)
	assert.Equal(t, [3]int64{aID, a1ID, a1xID}, bizPlace(a1x))
	w.add(t, ten, "A1y", 3, aID, a1ID, map[string]any{"is_enable": false})
	w.add(t, ten, "B1x", 3, bID, b1ID)

	all := w.list(t, ten, "")
	assert.Equal(t, []string{"A", "A1", "A1x", "A1y", "A2", "B", "B1", "B1x"}, bizNames(all), "depth first, siblings by id")
	full := w.tree(t, ten, "")
	assert.Equal(t, "A[A1[A1x,A1y],A2],B[B1[B1x]]", bizShape(t, full))
	assert.Equal(t, all, bizFlatten(full), "the tree's nodes are the list's businesses")
	for _, row := range all {
		r := w.get(t, bizIDPath(bizID(t, row)), w.admin.token, uuid.Nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, row, r.obj(t))
	}

	for _, tc := range []struct {
		query string
		list  []string
		tree  string
	}{
		{"level=0", []string{"A", "A1", "A1x", "A1y", "A2", "B", "B1", "B1x"}, "A[A1[A1x,A1y],A2],B[B1[B1x]]"},
		{"level=1", []string{"A", "B"}, "A,B"},
		{"level=2", []string{"A1", "A2", "B1"}, "A[A1,A2],B[B1]"},
		{"level=3", []string{"A1x", "A1y", "B1x"}, "A[A1[A1x,A1y]],B[B1[B1x]]"},
		{"is-enable=false", []string{"A1y", "A2"}, "A[A1[A1y],A2]"},
		{"is-enable=true", []string{"A", "A1", "A1x", "B", "B1", "B1x"}, "A[A1[A1x]],B[B1[B1x]]"},
		{fmt.Sprintf("first-business-id=%d", aID), []string{"A", "A1", "A1x", "A1y", "A2"}, "A[A1[A1x,A1y],A2]"},
		{fmt.Sprintf("second-business-id=%d", a1ID), []string{"A1", "A1x", "A1y"}, "A[A1[A1x,A1y]]"},
		{fmt.Sprintf("level=3&first-business-id=%d", bID), []string{"B1x"}, "B[B1[B1x]]"},
		{"level=2&is-enable=false", []string{"A2"}, "A[A2]"},
		{fmt.Sprintf("level=1&second-business-id=%d", a1ID), []string{}, ""},
		{"first-business-id=999999999", []string{}, ""},
	} {
		assert.Equal(t, tc.list, bizNames(w.list(t, ten, tc.query)), "list ?%s", tc.query)
		assert.Equal(t, tc.tree, bizShape(t, w.tree(t, ten, tc.query)), "tree ?%s", tc.query)
	}

	// A tenant without businesses has an empty list and tree.
	empty := w.tenant(t, "Empty")
	assert.Empty(t, w.list(t, empty, ""))
	assert.Empty(t, w.tree(t, empty, ""))

	for _, q := range []string{"level=4", "level=-1", "level=x", "is-enable=maybe", "first-business-id=x", "second-business-id=1.5"} {
		for _, p := range []string{bizPath, bizPath + "/tree"} {
			r := w.get(t, p+"?"+bizQuery(ten, q), w.admin.token, uuid.Nil)
			assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s?%s: %s", p, q, r.raw)
		}
	}
	r := w.get(t, bizPath+"?tenant-id=nope", w.admin.token, uuid.Nil)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = w.get(t, bizPath+"/tree?tenant-id="+uuid.NewString(), w.admin.token, uuid.Nil)
	requireDetail(t, r, http.StatusNotFound, "Tenant not found")
	r = w.get(t, bizIDPath(999999999), w.admin.token, uuid.Nil)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	r = w.get(t, bizPath+"/abc", w.admin.token, uuid.Nil)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

// Every rule of levels and parents on Add: 422 (or 404 for the tenant) with
// a detail saying what is wrong, and nothing written.
func TestBusinesses_LevelAndParentRules(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten, other := w.tenant(t, "Rules"), w.tenant(t, "Other")
	aID := bizID(t, w.add(t, ten, "A", 1, 0, 0))
	bID := bizID(t, w.add(t, ten, "B", 1, 0, 0))
	offID := bizID(t, w.add(t, ten, "Off", 1, 0, 0, map[string]any{"is_enable": false}))
	a1ID := bizID(t, w.add(t, ten, "A1", 2, aID, 0))
	a2offID := bizID(t, w.add(t, ten, "A2off", 2, aID, 0, map[string]any{"is_enable": false}))
	oaID := bizID(t, w.add(t, other, "OA", 1, 0, 0))
	oa1ID := bizID(t, w.add(t, other, "OA1", 2, oaID, 0))
	before := w.list(t, ten, "")
	head := w.head(t)

	id := func(n int64) string { return fmt.Sprint(n) }
	cases := []struct {
		name   string
		body   map[string]any
		status int
		msg    string
	}{
		{"level 0", bizBody(ten, "X", 0, 0, 0), 422, "business_level must be 1, 2 or 3, not 0"},
		{"level 4", bizBody(ten, "X", 4, 0, 0), 422, "business_level must be 1, 2 or 3, not 4"},
		{"level 1 with a parent", bizBody(ten, "X", 1, aID, 0), 422, "a level-1 business has no parent"},
		{"level 1 with a third id", bizBody(ten, "X", 1, 0, 0, map[string]any{"third_business_id": 5}), 422,
			"a level-1 business has no parent"},
		{"level 2 without a parent", bizBody(ten, "X", 2, 0, 0), 422, "a level-2 business needs its level-1 parent in first_business_id"},
		{"level 2 with its own id", bizBody(ten, "X", 2, aID, 77), 422, "second_business_id and third_business_id of a new level-2 business must be 0"},
		{"level 2 under a level 2", bizBody(ten, "X", 2, a1ID, 0), 422,
			"first_business_id " + id(a1ID) + " is a level-2 business, not a level-1 one"},
		{"level 2 under nothing", bizBody(ten, "X", 2, 999999999, 0), 422, "first_business_id 999999999 is not a business of this tenant"},
		{"level 2 under another tenant's", bizBody(ten, "X", 2, oaID, 0), 422,
			"first_business_id " + id(oaID) + " is not a business of this tenant"},
		{"level 2 under a disabled parent", bizBody(ten, "X", 2, offID, 0), 422,
			"first_business_id " + id(offID) + ": business " + id(offID) + " (Off) is disabled"},
		{"level 3 without a level-2 parent", bizBody(ten, "X", 3, aID, 0), 422, "a level-3 business needs its level-1 ancestor"},
		{"level 3 without a level-1 ancestor", bizBody(ten, "X", 3, 0, a1ID), 422, "a level-3 business needs its level-1 ancestor"},
		{"level 3 under a level 1", bizBody(ten, "X", 3, aID, bID), 422,
			"second_business_id " + id(bID) + " is a level-1 business, not a level-2 one"},
		{"level 3 with inconsistent ancestors", bizBody(ten, "X", 3, bID, a1ID), 422,
			"second_business_id " + id(a1ID) + " belongs to first_business_id " + id(aID) + ", not " + id(bID)},
		{"level 3 under a disabled parent", bizBody(ten, "X", 3, aID, a2offID), 422, "(A2off) is disabled"},
		{"level 3 with its own id", bizBody(ten, "X", 3, aID, a1ID, map[string]any{"third_business_id": 3}), 422,
			"third_business_id of a new level-3 business must be 0"},
		{"level 3 under another tenant's", bizBody(ten, "X", 3, oaID, oa1ID), 422,
			"second_business_id " + id(oa1ID) + " is not a business of this tenant"},
		{"empty name", bizBody(ten, "", 1, 0, 0), 422, "business_name must not be empty"},
		{"blank name", bizBody(ten, "   ", 1, 0, 0), 422, "business_name must not be empty"},
		{"long name", bizBody(ten, strings.Repeat("é", 65), 1, 0, 0), 422, "String should have at most 64 characters"},
		{"no tenant", map[string]any{"business_name": "X", "business_level": 1}, 422, "Field required"},
		{"no level", map[string]any{"tenant_id": ten, "business_name": "X"}, 422, "Field required"},
		{"no name", map[string]any{"tenant_id": ten, "business_level": 1}, 422, "Field required"},
		{"level not an integer", map[string]any{"tenant_id": ten, "business_name": "X", "business_level": "one"}, 422, ""},
		{"tenant not a uuid", map[string]any{"tenant_id": "t", "business_name": "X", "business_level": 1}, 422, ""},
		{"unknown tenant", bizBody(uuid.New(), "X", 1, 0, 0), 404, "Tenant not found"},
	}
	for _, tc := range cases {
		r := w.call(t, http.MethodPost, bizPath, tc.body, w.admin.token)
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.name, r.raw)
		assert.Contains(t, bizMsg(r), tc.msg, "%s: %s", tc.name, r.raw)
	}
	r := w.call(t, http.MethodPost, bizPath, bizBody(ten, strings.Repeat("x", 65), 1, 0, 0), w.admin.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	item := r.detail().([]any)[0].(map[string]any)
	assert.Equal(t, "string_too_long", item["type"])
	assert.Equal(t, []any{"body", "business_name"}, item["loc"])

	assert.Equal(t, before, w.list(t, ten, ""), "no refused request wrote anything")
	assert.Equal(t, head, w.head(t), "nothing appended to the log")

	// The limits themselves are fine: 64 characters, and a parent that is
	// enabled again.
	w.add(t, ten, strings.Repeat("é", 64), 1, 0, 0)
	w.patch(t, offID, map[string]any{"is_enable": true}, http.StatusOK)
	w.add(t, ten, "X", 2, offID, 0)
}

// Names are unique among siblings, case-insensitively, on Add, rename and
// move; the same name under other parents or in other tenants is fine.
func TestBusinesses_SiblingNames(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten, other := w.tenant(t, "Names"), w.tenant(t, "Names2")
	aID := bizID(t, w.add(t, ten, "A", 1, 0, 0))
	bID := bizID(t, w.add(t, ten, "B", 1, 0, 0))
	conflict := func(body map[string]any, want string) {
		t.Helper()
		r := w.call(t, http.MethodPost, bizPath, body, w.admin.token)
		requireDetail(t, r, http.StatusConflict, want)
	}
	conflict(bizBody(ten, "a", 1, 0, 0), fmt.Sprintf(`Business name "A" is already used by level-1 business %d`, aID))
	a1ID := bizID(t, w.add(t, ten, "Sales", 2, aID, 0))
	b1ID := bizID(t, w.add(t, ten, "Sales", 2, bID, 0))
	conflict(bizBody(ten, "SALES", 2, aID, 0), fmt.Sprintf(`Business name "Sales" is already used by business %d under business %d`, a1ID, aID))
	xID := bizID(t, w.add(t, ten, "East", 3, aID, a1ID))
	w.add(t, ten, "East", 3, bID, b1ID)
	conflict(bizBody(ten, "east", 3, aID, a1ID), fmt.Sprintf(`Business name "East" is already used by business %d under business %d`, xID, a1ID))
	w.add(t, other, "A", 1, 0, 0)

	r := w.patch(t, bID, map[string]any{"business_name": "a"}, http.StatusConflict)
	assert.Equal(t, fmt.Sprintf(`Business name "A" is already used by level-1 business %d`, aID), r.detail())
	r = w.patch(t, aID, map[string]any{"business_name": "a"}, http.StatusOK)
	assert.Equal(t, "a", r.obj(t)["business_name"], "a business may change the case of its own name")
	r = w.patch(t, b1ID, map[string]any{"first_business_id": aID}, http.StatusConflict)
	assert.Equal(t, fmt.Sprintf(`Business name "Sales" is already used by business %d under business %d`, a1ID, aID), r.detail())
	r = w.patch(t, b1ID, map[string]any{"first_business_id": aID, "business_name": "Sales 2"}, http.StatusOK)
	assert.Equal(t, [3]int64{aID, b1ID, 0}, bizPlace(r.obj(t)), "moved under a new name")

	// One tenant's businesses are one aggregate: of 8 concurrent adds of
	// one name, exactly one wins.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	reqs := make([]*http.Request, 8)
	for i := range reqs {
		reqs[i] = w.jsonRequest(t, http.MethodPost, bizPath, bizBody(ten, "Race", 1, 0, 0), bearer(w.admin.token))
	}
	for _, req := range reqs {
		wg.Go(func() {
			out, err := exchange(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			statuses[out.status]++
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: 7}, statuses)
	n := 0
	for _, name := range bizNames(w.list(t, ten, "level=1")) {
		if name == "Race" {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

// PATCH: rename, note, moves (with children, consistently or 422), level
// changes refused, enabling and disabling along the tree (409), no-op
// patches writing nothing.
func TestBusinesses_PatchAndMoves(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten, other := w.tenant(t, "Moves"), w.tenant(t, "Elsewhere")
	aID := bizID(t, w.add(t, ten, "A", 1, 0, 0))
	bID := bizID(t, w.add(t, ten, "B", 1, 0, 0))
	cID := bizID(t, w.add(t, ten, "C", 1, 0, 0, map[string]any{"is_enable": false}))
	a1 := w.add(t, ten, "A1", 2, aID, 0)
	a1ID := bizID(t, a1)
	a2ID := bizID(t, w.add(t, ten, "A2", 2, aID, 0))
	b1ID := bizID(t, w.add(t, ten, "B1", 2, bID, 0))
	a1xID := bizID(t, w.add(t, ten, "A1x", 3, aID, a1ID))
	a1yID := bizID(t, w.add(t, ten, "A1y", 3, aID, a1ID))
	user := w.newUser(t, "mover", bizPassword)

	r := w.patch(t, a1ID, map[string]any{"business_name": "A1 renamed", "note": "moved soon"}, http.StatusOK)
	got := r.obj(t)
	assert.Equal(t, "A1 renamed", got["business_name"])
	assert.Equal(t, "moved soon", got["note"])
	assert.Equal(t, a1["ctime"], got["ctime"])
	assert.Equal(t, a1["c_uid"], got["c_uid"])
	assert.NotEqual(t, a1["utime"], got["utime"])
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))

	// Sending the business back as read, with nothing changed (0s and the
	// audit fields included), writes nothing.
	head := w.head(t)
	back := w.get(t, bizIDPath(a1ID), w.admin.token, uuid.Nil).obj(t)
	r = w.patch(t, a1ID, back, http.StatusOK)
	assert.Equal(t, back, r.obj(t))
	assert.Empty(t, r.header.Get("X-Event-Position"))
	r = w.patch(t, a1ID, map[string]any{"business_level": 0, "first_business_id": 0, "second_business_id": 0,
		"third_business_id": 0, "business_name": nil, "tenant_id": nil}, http.StatusOK)
	assert.Equal(t, back, r.obj(t))
	assert.Equal(t, head, w.head(t))

	// A level-2 business moves to another level-1 parent with its children.
	r = w.patch(t, a1ID, map[string]any{"first_business_id": bID}, http.StatusOK)
	assert.Equal(t, [3]int64{bID, a1ID, 0}, bizPlace(r.obj(t)))
	for _, id := range []int64{a1xID, a1yID} {
		row := w.get(t, bizIDPath(id), w.admin.token, uuid.Nil).obj(t)
		assert.Equal(t, [3]int64{bID, a1ID, id}, bizPlace(row), "a child moves along")
		assert.Equal(t, float64(w.admin.id), row["m_uid"])
	}
	assert.Equal(t, "A[A2],B[A1 renamed[A1x,A1y],B1],C", bizShape(t, w.tree(t, ten, "")))
	assert.Equal(t, []string{"B", "A1 renamed", "A1x", "A1y", "B1"}, bizNames(w.list(t, ten, fmt.Sprintf("first-business-id=%d", bID))))

	// A level-3 business named by its new parent alone follows that
	// parent's ancestor.
	r = w.patch(t, a1xID, map[string]any{"second_business_id": a2ID}, http.StatusOK)
	assert.Equal(t, [3]int64{aID, a2ID, a1xID}, bizPlace(r.obj(t)))
	r = w.patch(t, a1yID, map[string]any{"first_business_id": aID, "second_business_id": a2ID}, http.StatusOK)
	assert.Equal(t, [3]int64{aID, a2ID, a1yID}, bizPlace(r.obj(t)))
	assert.Equal(t, "A[A2[A1x,A1y]],B[A1 renamed,B1],C", bizShape(t, w.tree(t, ten, "")))

	head = w.head(t)
	for _, tc := range []struct {
		id     int64
		body   map[string]any
		status int
		msg    string
	}{
		{a1yID, map[string]any{"first_business_id": bID, "second_business_id": a2ID}, 422,
			fmt.Sprintf("second_business_id %d belongs to first_business_id %d, not %d", a2ID, aID, bID)},
		{a1yID, map[string]any{"first_business_id": bID}, 422,
			fmt.Sprintf("second_business_id %d belongs to first_business_id %d, not %d", a2ID, aID, bID)},
		{a1yID, map[string]any{"second_business_id": aID}, 422, fmt.Sprintf("second_business_id %d is a level-1 business", aID)},
		{a1yID, map[string]any{"third_business_id": a1xID}, 422,
			fmt.Sprintf("third_business_id of a level-3 business is its own id (%d), not %d", a1yID, a1xID)},
		{a2ID, map[string]any{"business_level": 1}, 422, fmt.Sprintf("business_level cannot change: business %d is level 2", a2ID)},
		{a2ID, map[string]any{"business_level": 3, "second_business_id": a1ID}, 422, "business_level cannot change"},
		{a2ID, map[string]any{"second_business_id": b1ID}, 422,
			fmt.Sprintf("second_business_id of a level-2 business is its own id (%d), not %d", a2ID, b1ID)},
		{a2ID, map[string]any{"third_business_id": 5}, 422, "third_business_id of a level-2 business must be 0"},
		{aID, map[string]any{"first_business_id": bID}, 422, fmt.Sprintf("first_business_id of a level-1 business is its own id (%d)", aID)},
		{aID, map[string]any{"second_business_id": a2ID}, 422, "second_business_id of a level-1 business must be 0"},
		{b1ID, map[string]any{"first_business_id": cID}, 422, "(C) is disabled"},
		{b1ID, map[string]any{"first_business_id": a2ID}, 422, fmt.Sprintf("first_business_id %d is a level-2 business", a2ID)},
		{b1ID, map[string]any{"first_business_id": 999999999}, 422, "first_business_id 999999999 is not a business of this tenant"},
		{b1ID, map[string]any{"tenant_id": other}, 422, "cannot move to another tenant"},
		{b1ID, map[string]any{"business_name": ""}, 422, "business_name must not be empty"},
		{b1ID, map[string]any{"business_name": strings.Repeat("n", 65)}, 422, "String should have at most 64 characters"},
		{b1ID, map[string]any{"is_enable": "sometimes"}, 422, ""},
		{999999999, map[string]any{"business_name": "Z"}, 404, "Business not found"},
		// Enabling and disabling along the tree.
		{aID, map[string]any{"is_enable": false}, 409,
			fmt.Sprintf("Business %d still has 1 enabled sub-business (%d): disable them first", aID, a2ID)},
		{a2ID, map[string]any{"is_enable": false}, 409,
			fmt.Sprintf("Business %d still has 2 enabled sub-businesses (%d, %d): disable them first", a2ID, a1xID, a1yID)},
	} {
		r := w.call(t, http.MethodPatch, bizIDPath(tc.id), tc.body, w.admin.token)
		assert.Equal(t, tc.status, r.status, "%d %v: %s", tc.id, tc.body, r.raw)
		assert.Contains(t, bizMsg(r), tc.msg, "%d %v: %s", tc.id, tc.body, r.raw)
	}
	assert.Equal(t, head, w.head(t), "refused patches write nothing")

	for _, id := range []int64{a1xID, a1yID, a2ID, aID} {
		r := w.patch(t, id, map[string]any{"is_enable": false}, http.StatusOK)
		assert.Equal(t, false, r.obj(t)["is_enable"])
	}
	r = w.patch(t, a2ID, map[string]any{"is_enable": true}, http.StatusConflict)
	assert.Equal(t, fmt.Sprintf("Business %d cannot be enabled while its parent business %d is disabled: enable the parent first",
		a2ID, aID), r.detail())
	w.patch(t, aID, map[string]any{"is_enable": true}, http.StatusOK)
	w.patch(t, a2ID, map[string]any{"is_enable": true, "note": ""}, http.StatusOK)
	assert.Equal(t, []string{"A1x", "A1y", "C"}, bizNames(w.list(t, ten, "is-enable=false")))

	// Only superusers write.
	w.refused(t, http.MethodPatch, bizIDPath(a2ID), map[string]any{"business_name": "mine"}, user.token, ten)
}

// A business is removed only without sub-businesses (409 naming them);
// then it is gone and its name is free again.
func TestBusinesses_Remove(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten := w.tenant(t, "Removals")
	aID := bizID(t, w.add(t, ten, "A", 1, 0, 0))
	a1ID := bizID(t, w.add(t, ten, "A1", 2, aID, 0))
	a2ID := bizID(t, w.add(t, ten, "A2", 2, aID, 0))
	a1xID := bizID(t, w.add(t, ten, "A1x", 3, aID, a1ID))
	del := func(id int64) reply {
		t.Helper()
		return w.call(t, http.MethodDelete, bizIDPath(id), nil, w.admin.token)
	}
	requireDetail(t, del(aID), http.StatusConflict, fmt.Sprintf("Business %d still has 2 sub-businesses (%d, %d)", aID, a1ID, a2ID))
	requireDetail(t, del(a1ID), http.StatusConflict, fmt.Sprintf("Business %d still has 1 sub-business (%d)", a1ID, a1xID))
	r := del(a1xID)
	requireDetail(t, r, http.StatusOK, "Business deleted")
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))
	requireDetail(t, w.get(t, bizIDPath(a1xID), w.admin.token, uuid.Nil), http.StatusNotFound, "Business not found")
	requireDetail(t, del(a1xID), http.StatusNotFound, "Business not found")
	assert.Equal(t, "A[A1,A2]", bizShape(t, w.tree(t, ten, "")))
	for _, id := range []int64{a1ID, a2ID, aID} {
		requireDetail(t, del(id), http.StatusOK, "Business deleted")
	}
	assert.Empty(t, w.list(t, ten, ""))
	assert.Empty(t, w.tree(t, ten, ""))
	assert.Equal(t, []string{"[]"}, w.rows(t, `SELECT tree::text FROM business_trees WHERE tenant_id = $1`, ten))
	again := w.add(t, ten, "A", 1, 0, 0)
	assert.Greater(t, bizID(t, again), aID, "ids are never reused")

	r = w.call(t, http.MethodDelete, bizPath+"/abc", nil, w.admin.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	user := w.newUser(t, "remover", bizPassword)
	w.refused(t, http.MethodDelete, bizIDPath(bizID(t, again)), nil, user.token, ten)
}

// Read Business Resources: the business's flows, components and projects
// (not deleted, in its tenant), searched and sorted; other types are [];
// non-superusers see their own.
func TestBusinesses_Resources(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten, other := w.tenant(t, "Res"), w.tenant(t, "ResOther")
	xID := bizID(t, w.add(t, ten, "X", 1, 0, 0))
	yID := bizID(t, w.add(t, ten, "Y", 1, 0, 0))
	ann := w.newUser(t, "ann", bizPassword)
	w.grantRole(t, w.admin.token, ten, ann.id, "developer")
	flow := func(token, name string, business int64, tenant uuid.UUID, more ...map[string]any) string {
		body := map[string]any{"name": name, "business_id": business, "tenant_id": tenant}
		for _, m := range more {
			for k, v := range m {
				body[k] = v
			}
		}
		return w.createFlow(t, token, body)["id"].(string)
	}
	ids := map[string]string{
		"beta":     flow(w.admin.token, "beta", xID, ten),
		"Alpha":    flow(w.admin.token, "Alpha", xID, ten),
		"ann-flow": flow(ann.token, "ann-flow", xID, ten),
	}
	flow(w.admin.token, "gamma", yID, ten)
	// A flow of another tenant cannot be filed under X.
	r := w.call(t, http.MethodPost, "/api/v1/flows/", map[string]any{"name": "elsewhere", "business_id": xID, "tenant_id": other}, w.admin.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Contains(t, r.raw, fmt.Sprintf("no business %d in tenant %s", xID, other))
	comp := flow(w.admin.token, "comp", xID, ten, map[string]any{"is_component": true})
	gone := flow(w.admin.token, "gone", xID, ten)
	r = w.call(t, http.MethodDelete, "/api/v1/flows/"+gone, nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	// Projects get a business only from their events (no project
	// operation sets it yet): one is written through the repository.
	ctx := context.Background()
	p, err := domain.CreateProject(uuid.New(), domain.NewProject{UserID: w.admin.id, Fields: domain.ProjectFields{
		Name: "Biz project", TenantID: &ten, BusinessID: xID, IsEnable: true}})
	require.NoError(t, err)
	res, err := w.app.Deps().Repository.Save(ctx, p, eventstore.Metadata{ActorUserID: w.admin.id, TenantID: ten,
		OccurredAt: time.Now().UTC().Truncate(time.Microsecond)})
	require.NoError(t, err)
	minPos := http.Header{"X-Min-Position": {res.Last().String()}, "Authorization": {"Bearer " + w.admin.token}}

	names := func(token string, tenant uuid.UUID, query string) []string {
		t.Helper()
		r := w.get(t, bizIDPath(xID, "resources")+"?"+query, token, tenant)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var out []string
		for _, it := range r.objects(t) {
			out = append(out, it["name"].(string))
		}
		return out
	}
	byID := []string{"beta", "Alpha", "ann-flow"}
	sort.Slice(byID, func(i, j int) bool { return ids[byID[i]] < ids[byID[j]] })
	assert.Equal(t, byID, names(w.admin.token, uuid.Nil, ""), "flows by id")
	assert.Equal(t, byID, names(w.admin.token, uuid.Nil, "resource-type=flow&sort-by=id&sort-order=asc"))
	assert.Equal(t, []string{"Alpha", "ann-flow", "beta"}, names(w.admin.token, uuid.Nil, "sort-by=name"))
	assert.Equal(t, []string{"beta", "ann-flow", "Alpha"}, names(w.admin.token, uuid.Nil, "sort-by=name&sort-order=desc"))
	assert.Equal(t, []string{"Alpha"}, names(w.admin.token, uuid.Nil, "search=ALP"))
	assert.Empty(t, names(w.admin.token, uuid.Nil, "search=%25"), "LIKE wildcards are literal")
	assert.Equal(t, []string{"comp"}, names(w.admin.token, uuid.Nil, "resource-type=component"))
	r = w.do(t, http.MethodGet, bizIDPath(xID, "resources")+"?resource-type=project", nil, minPos)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	projects := r.objects(t)
	require.Len(t, projects, 1)
	assert.Equal(t, "Biz project", projects[0]["name"])
	assert.Equal(t, p.ID().String(), projects[0]["id"])
	for _, typ := range []string{"variable", "skill", "mcp", "plugin", "knowledge_base"} {
		r := w.get(t, bizIDPath(xID, "resources")+"?resource-type="+typ, w.admin.token, uuid.Nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "[]", strings.TrimSpace(r.raw), typ)
	}
	r = w.get(t, bizIDPath(xID, "resources")+"?resource-type=flow", w.admin.token, uuid.Nil)
	item := r.objects(t)[0]
	assert.Equal(t, float64(xID), item["business_id"])
	assert.Equal(t, ten.String(), item["tenant_id"])
	assert.NotEqual(t, comp, item["id"])

	// Others see their own resources, in the business's tenant only.
	assert.Equal(t, []string{"ann-flow"}, names(ann.token, ten, ""))
	assert.Empty(t, names(ann.token, ten, "resource-type=project"))
	requireDetail(t, w.get(t, bizIDPath(xID, "resources"), ann.token, uuid.Nil), http.StatusNotFound, "Business not found")

	for _, q := range []string{"resource-type=widget", "sort-by=created", "sort-order=up"} {
		r := w.get(t, bizIDPath(xID, "resources")+"?"+q, w.admin.token, uuid.Nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
	}
	requireDetail(t, w.get(t, bizIDPath(999999999, "resources"), w.admin.token, uuid.Nil), http.StatusNotFound, "Business not found")
}

// Candidates are the active users who are not users of the business;
// Remove Business User removes what exists (nothing, until business roles).
func TestBusinesses_CandidatesAndBusinessUsers(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten := w.tenant(t, "Cand")
	xID := bizID(t, w.add(t, ten, "X", 1, 0, 0))
	ann := w.newUser(t, "ann", bizPassword, map[string]any{"nickname": "Annie"})
	bob := w.newUser(t, "bob", bizPassword)
	carl := w.newUser(t, "carl", bizPassword)
	r := w.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", carl.id), map[string]any{"email": "carl@corp.test"}, carl.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	dave := w.newUser(t, "dave", bizPassword)
	r = w.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", dave.id), map[string]any{"is_active": false}, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	cands := func(token string, tenant uuid.UUID, query string) (float64, []int64) {
		t.Helper()
		r := w.get(t, bizIDPath(xID, "user-candidates")+"?"+query, token, tenant)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		m := r.obj(t)
		var uids []int64
		for _, u := range m["users"].([]any) {
			uids = append(uids, int64(u.(map[string]any)["uid"].(float64)))
		}
		return m["total_count"].(float64), uids
	}
	everyone := bizSorted(w.admin.id, ann.id, bob.id, carl.id)
	n, uids := cands(w.admin.token, uuid.Nil, "")
	assert.Equal(t, 4.0, n, "active users only")
	assert.Equal(t, everyone, uids)
	n, uids = cands(w.admin.token, uuid.Nil, "skip=1&limit=2")
	assert.Equal(t, 4.0, n)
	assert.Equal(t, everyone[1:3], uids)
	_, uids = cands(w.admin.token, uuid.Nil, "search=CORP")
	assert.Equal(t, []int64{carl.id}, uids, "email")
	_, uids = cands(w.admin.token, uuid.Nil, "search=annie")
	assert.Equal(t, []int64{ann.id}, uids, "nickname")
	n, uids = cands(w.admin.token, uuid.Nil, "search=dave")
	assert.Equal(t, 0.0, n, "inactive users are no candidates")
	assert.Empty(t, uids)
	r = w.get(t, bizIDPath(xID, "user-candidates")+"?search=bob", w.admin.token, uuid.Nil)
	assert.Equal(t, map[string]any{"total_count": 1.0, "users": []any{map[string]any{"id": float64(bob.id), "uid": float64(bob.id),
		"username": "bob", "nickname": "", "email": "", "mobile": "", "profile_image": ""}}}, r.obj(t))
	w.grantRole(t, w.admin.token, ten, ann.id, "viewer")
	// A tenant sees its members (ann, by her role); users outside it only
	// by their exact username or e-mail, and without contact details.
	n, uids = cands(ann.token, ten, "")
	assert.Equal(t, 1.0, n, "a viewer of the tenant reads its members")
	assert.Equal(t, []int64{ann.id}, uids)
	for _, q := range []string{"search=CORP", "search=car", "search=bo"} {
		n, _ = cands(ann.token, ten, q)
		assert.Equal(t, 0.0, n, "%s: no browsing of other tenants' users", q)
	}
	r = w.get(t, bizIDPath(xID, "user-candidates")+"?search=Carl@Corp.Test", ann.token, ten)
	assert.Equal(t, map[string]any{"total_count": 1.0, "users": []any{map[string]any{"id": float64(carl.id), "uid": float64(carl.id),
		"username": "carl", "nickname": "", "email": "", "mobile": "", "profile_image": ""}}}, r.obj(t), "by exact e-mail, without it")
	_, uids = cands(ann.token, ten, "search=BOB")
	assert.Equal(t, []int64{bob.id}, uids, "by exact username")

	// Users of the business are no candidates: the RBAC issue's business
	// user roles write these rows; here one stands for them.
	_, err := w.app.Pool().Exec(context.Background(), `INSERT INTO business_users (tenant_id, business_id, uid) VALUES ($1, $2, $3)`,
		ten, xID, carl.id)
	require.NoError(t, err)
	n, uids = cands(w.admin.token, uuid.Nil, "")
	assert.Equal(t, 3.0, n)
	assert.Equal(t, bizSorted(w.admin.id, ann.id, bob.id), uids)

	for _, q := range []string{"limit=0", "skip=-1", "limit=x"} {
		r := w.get(t, bizIDPath(xID, "user-candidates")+"?"+q, w.admin.token, uuid.Nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
	}
	requireDetail(t, w.get(t, bizIDPath(999999999, "user-candidates"), w.admin.token, uuid.Nil), http.StatusNotFound, "Business not found")

	// Remove Business User: the user has no roles in the business (they
	// come with the RBAC operations), so nothing is removed and nothing is
	// written.
	head := w.head(t)
	r = w.call(t, http.MethodDelete, bizIDPath(xID, "users", fmt.Sprint(ann.id)), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"deleted_count": 0.0}, r.obj(t))
	assert.Equal(t, head, w.head(t))
	r = w.call(t, http.MethodDelete, bizIDPath(999999999, "users", fmt.Sprint(ann.id)), nil, w.admin.token)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	r = w.call(t, http.MethodDelete, bizIDPath(xID, "users", "x"), nil, w.admin.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	w.refused(t, http.MethodDelete, bizIDPath(xID, "users", fmt.Sprint(bob.id)), nil, ann.token, ten)
}

// Tenant A's businesses never appear in answers about tenant B, and a
// disabled tenant refuses its users.
func TestBusinesses_TenantScoping(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ta, tb := w.tenant(t, "Tenant A"), w.tenant(t, "Tenant B")
	aID := bizID(t, w.add(t, ta, "Shared", 1, 0, 0))
	w.add(t, ta, "Only A", 2, aID, 0)
	bID := bizID(t, w.add(t, tb, "Shared", 1, 0, 0))
	w.add(t, tb, "Only B", 1, 0, 0)
	ann := w.newUser(t, "ann", bizPassword)
	w.grantRole(t, w.admin.token, tb, ann.id, "viewer")
	w.grantRole(t, w.admin.token, ta, ann.id, "viewer") // for the disabled tenant below

	for tenant, want := range map[uuid.UUID][]string{ta: {"Shared", "Only A"}, tb: {"Shared", "Only B"}} {
		list := w.list(t, tenant, "")
		assert.Equal(t, want, bizNames(list))
		for _, b := range list {
			assert.Equal(t, tenant.String(), b["tenant_id"])
		}
		for _, b := range bizFlatten(w.tree(t, tenant, "")) {
			assert.Equal(t, tenant.String(), b["tenant_id"])
		}
	}
	assert.Equal(t, "Shared[Only A]", bizShape(t, w.tree(t, ta, "")))
	assert.Equal(t, "Shared,Only B", bizShape(t, w.tree(t, tb, "")))
	// The system tenant (no tenant-id, no header) has none of them.
	r := w.get(t, bizPath, w.admin.token, uuid.Nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.list(t))
	r = w.get(t, bizPath+"/tree", ann.token, tb)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.list(t), 2, "X-Tenant-Id names the tenant of a list")

	// One business, named by id: the request's tenant must be its own.
	paths := []string{bizIDPath(bID), bizIDPath(bID, "user-candidates"), bizIDPath(bID, "resources")}
	for _, p := range paths {
		requireDetail(t, w.get(t, p, w.admin.token, ta), http.StatusNotFound, "Business not found", p)
		requireDetail(t, w.get(t, p, ann.token, uuid.Nil), http.StatusNotFound, "Business not found", p)
		assert.Equal(t, http.StatusOK, w.get(t, p, ann.token, tb).status, p)
		assert.Equal(t, http.StatusOK, w.get(t, p, w.admin.token, uuid.Nil).status, p)
	}
	inA := http.Header{"Authorization": {"Bearer " + w.admin.token}, tenancy.HeaderTenantID: {ta.String()}}
	r = w.do(t, http.MethodPatch, bizIDPath(bID), map[string]any{"business_name": "Taken over"}, inA)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	r = w.do(t, http.MethodDelete, bizIDPath(bID, "users", fmt.Sprint(ann.id)), nil, inA)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	r = w.do(t, http.MethodDelete, bizIDPath(bID), nil, inA)
	requireDetail(t, r, http.StatusNotFound, "Business not found")
	assert.Equal(t, []string{"Shared", "Only B"}, bizNames(w.list(t, tb, "")))

	// A disabled tenant refuses its users; superusers still manage it.
	r = w.call(t, http.MethodPatch, "/api/v1/tenants/"+ta.String(), map[string]any{"is_active": false}, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireDetail(t, w.get(t, bizPath+"?tenant-id="+ta.String(), ann.token, uuid.Nil), http.StatusForbidden, "Tenant is disabled")
	requireDetail(t, w.get(t, bizPath+"/tree", ann.token, ta), http.StatusForbidden, "Tenant is disabled")
	requireDetail(t, w.get(t, bizIDPath(aID), ann.token, ta), http.StatusForbidden, "Tenant is disabled")
	assert.Len(t, w.list(t, ta, ""), 2)
	w.add(t, ta, "Added while disabled", 1, 0, 0)
}

// Only superusers write: everyone else gets 403 and nothing is written.
func TestBusinesses_NonSuperuserWrites(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	ten := w.tenant(t, "Guarded")
	xID := bizID(t, w.add(t, ten, "X", 1, 0, 0))
	ann := w.newUser(t, "ann", bizPassword)
	head := w.head(t)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, bizPath, bizBody(ten, "Mine", 1, 0, 0)},
		{http.MethodPost, bizPath, map[string]any{}},
		{http.MethodPatch, bizIDPath(xID), map[string]any{"business_name": "Mine"}},
		{http.MethodDelete, bizIDPath(xID), nil},
		{http.MethodDelete, bizIDPath(xID, "users", fmt.Sprint(ann.id)), nil},
	} {
		if req.method == http.MethodPost {
			requireForbidden(t, w.call(t, req.method, req.path, req.body, ann.token), req.method, req.path)
		} else {
			w.refused(t, req.method, req.path, req.body, ann.token, ten)
		}
		r := w.call(t, req.method, req.path, req.body, "")
		assert.Equal(t, http.StatusForbidden, r.status, "anonymous %s %s: %s", req.method, req.path, r.raw)
	}
	assert.Equal(t, head, w.head(t))
	assert.Equal(t, []string{"X"}, bizNames(w.list(t, ten, "")))
}

// Rebuilding the projection from position 0 gives identical rows, and the
// aggregate's AuditState (folded from the log) is the list without its
// audit fields.
func TestBusinesses_RebuildAndAuditState(t *testing.T) {
	t.Parallel()
	w := bizStart(t)
	t1, t2 := w.tenant(t, "Rebuild 1"), w.tenant(t, "Rebuild 2")
	aID := bizID(t, w.add(t, t1, "A", 1, 0, 0, map[string]any{"note": "n"}))
	bID := bizID(t, w.add(t, t1, "B", 1, 0, 0))
	a1ID := bizID(t, w.add(t, t1, "A1", 2, aID, 0))
	a2ID := bizID(t, w.add(t, t1, "A2", 2, aID, 0))
	for i := range 6 {
		w.add(t, t1, fmt.Sprintf("A1-%d", i), 3, aID, a1ID)
	}
	w.add(t, t2, "A", 1, 0, 0)
	w.patch(t, a1ID, map[string]any{"first_business_id": bID, "business_name": "A1 moved"}, http.StatusOK)
	w.patch(t, a2ID, map[string]any{"is_enable": false, "note": "off"}, http.StatusOK)
	w.patch(t, aID, map[string]any{"business_name": "A renamed"}, http.StatusOK)
	r := w.call(t, http.MethodDelete, bizIDPath(a2ID), nil, w.admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	last := w.add(t, t1, "Last", 2, bID, 0)
	w.patch(t, bizID(t, last), map[string]any{"note": "after a snapshot"}, http.StatusOK)

	const (
		businessesQ = `SELECT x::text FROM businesses x ORDER BY business_id`
		treesQ      = `SELECT x::text FROM business_trees x ORDER BY tenant_id`
		usersQ      = `SELECT x::text FROM business_users x ORDER BY business_id, uid`
	)
	businesses, trees, users := w.rows(t, businessesQ), w.rows(t, treesQ), w.rows(t, usersQ)
	require.Len(t, businesses, 11)
	require.Len(t, trees, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, w.app.Runtime().Rebuild(ctx, "businesses", nil))
	assert.Equal(t, businesses, w.rows(t, businessesQ))
	assert.Equal(t, trees, w.rows(t, treesQ))
	assert.Equal(t, users, w.rows(t, usersQ))
	assert.Equal(t, "A renamed,B[A1 moved[A1-0,A1-1,A1-2,A1-3,A1-4,A1-5],Last]", bizShape(t, w.tree(t, t1, "")))

	// The state of the tenant folded from its stream (the repository
	// starts from a snapshot: the stream is longer than the snapshot
	// interval) is the list without the audit fields.
	repo := w.app.Deps().Repository
	tree := domain.LoadBusinessTree(t1)
	require.NoError(t, repo.Load(ctx, tree))
	state, err := json.Marshal(tree.AuditState())
	require.NoError(t, err)
	list := w.list(t, t1, "")
	sort.Slice(list, func(i, j int) bool { return bizID(t, list[i]) < bizID(t, list[j]) })
	for _, b := range list {
		for _, k := range []string{"c_uid", "m_uid", "ctime", "utime"} {
			delete(b, k)
		}
	}
	want, err := json.Marshal(map[string]any{"businesses": list, "business_users": []any{}})
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(state))

	// Folding from revision 0 gives the same state as from the snapshot.
	scratch := commands.NewRepository(w.app.Deps().Store, w.app.Deps().Registry)
	fromZero := domain.LoadBusinessTree(t1)
	require.NoError(t, scratch.Load(ctx, fromZero))
	assert.Equal(t, tree.AuditState(), fromZero.AuditState())
	snap, err := tree.Snapshot()
	require.NoError(t, err)
	restored := domain.LoadBusinessTree(t1)
	require.NoError(t, restored.Restore(snap))
	assert.Equal(t, tree.AuditState(), restored.AuditState())
	var snapshots int
	require.NoError(t, w.app.Pool().QueryRow(ctx, `SELECT count(*) FROM aggregate_snapshots WHERE stream_id = $1`,
		domain.BusinessesStream(t1)).Scan(&snapshots))
	assert.Equal(t, 1, snapshots, "the tree's stream is snapshotted")
}
