package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrgs_MovesAndCycles moves orgs with their sub-orgs, and checks that a
// move never creates a cycle, never goes deeper than six levels, and that
// the paths, the levels and the stored tree follow the move.
func TestOrgs_MovesAndCycles(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	tenant := s.orgTenant(t, "Moves")
	a := orgID(s.orgAdd(t, tenant, "A", 0))
	b := orgID(s.orgAdd(t, tenant, "B", a))
	c := orgID(s.orgAdd(t, tenant, "C", b))
	x := orgID(s.orgAdd(t, tenant, "X", 0))
	move := func(org, parent int64) reply {
		return s.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/orgs/%d?tenant-id=%s", org, tenant), map[string]any{"parent_org_id": parent}, s.admin)
	}
	row := func(org int64) map[string]any {
		for _, o := range s.orgGet(t, s.admin, "/api/v1/orgs?tenant-id="+tenant).objects(t) {
			if orgID(o) == org {
				return o
			}
		}
		t.Fatalf("org %d not listed", org)
		return nil
	}

	// Cycles: under itself, under its child, under its grandchild.
	for _, parent := range []int64{a, b, c} {
		r := move(a, parent)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	}
	assert.Equal(t, float64(a), row(c)["one_org_id"], "a refused move changes nothing")

	// B (with C) moves under X: levels stay, paths follow.
	r := move(b, x)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(x), r.obj(t)["parent_org_id"])
	bc := row(c)
	assert.Equal(t, []any{float64(x), float64(b), float64(c), float64(0)},
		[]any{bc["one_org_id"], bc["two_org_id"], bc["three_org_id"], bc["four_org_id"]})
	assert.Equal(t, float64(3), bc["org_level"])

	// B becomes a root: C moves up a level with it.
	require.Equal(t, http.StatusOK, move(b, 0).status)
	bc = row(c)
	assert.Equal(t, float64(2), bc["org_level"])
	assert.Equal(t, []any{float64(b), float64(c), float64(0)}, []any{bc["one_org_id"], bc["two_org_id"], bc["three_org_id"]})

	// Depth: a chain of six levels cannot take a subtree of two more.
	parent := a
	for i := 2; i <= 6; i++ {
		parent = orgID(s.orgAdd(t, tenant, fmt.Sprintf("L%d", i), parent))
	}
	r = move(b, parent)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Equal(t, float64(0), row(b)["parent_org_id"])

	// The stored tree follows: X has no children any more, B has C.
	tree := s.orgGet(t, s.admin, "/api/v1/orgs/tree?tenant-id="+tenant).objects(t)
	children := map[float64]int{}
	for _, n := range tree {
		kids, _ := n["children"].([]any)
		children[n["org_id"].(float64)] = len(kids)
	}
	assert.Equal(t, 0, children[float64(x)])
	assert.Equal(t, 1, children[float64(b)])
}
