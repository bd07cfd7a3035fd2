package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// An org's level and ancestor path follow its parent, six levels at most;
// the tree nests them; parents are found only in the org's own tenant.
func TestOrgs_TreeLevelsAndPaths(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta, tb := s.orgTenant(t, "Acme"), s.orgTenant(t, "Beta")

	root := s.orgAdd(t, ta, "HQ", 0, "org_code", "HQ", "note", "head office")
	assert.Equal(t, "HQ", root["org_name"])
	assert.Equal(t, ta, root["tenant_id"])
	assert.Equal(t, "HQ", root["org_code"])
	assert.Equal(t, "head office", root["note"])
	assert.Equal(t, true, root["is_enable"])
	assert.EqualValues(t, 1, root["org_level"])
	assert.EqualValues(t, 0, root["parent_org_id"])
	assert.Equal(t, root["org_id"], root["one_org_id"])
	assert.EqualValues(t, 0, root["two_org_id"])
	assert.NotZero(t, root["c_uid"])
	assert.Equal(t, root["c_uid"], root["m_uid"])
	assert.Equal(t, root["ctime"], root["utime"])

	slots := []string{"one_org_id", "two_org_id", "three_org_id", "four_org_id", "five_org_id", "six_org_id"}
	chain := []int64{orgID(root)}
	for level := 2; level <= 6; level++ {
		o := s.orgAdd(t, ta, fmt.Sprintf("L%d", level), chain[len(chain)-1], "is_enable", level%2 == 0)
		chain = append(chain, orgID(o))
		assert.EqualValues(t, level, o["org_level"])
		assert.EqualValues(t, chain[level-2], o["parent_org_id"])
		assert.Equal(t, level%2 == 0, o["is_enable"])
		assert.Nil(t, o["org_code"])
		for k, slot := range slots {
			want := int64(0)
			if k < level {
				want = chain[k]
			}
			assert.EqualValues(t, want, o[slot], "level %d %s", level, slot)
		}
	}
	orgRequire422(t, s.orgTry(t, ta, "L7", chain[5]), "value_error",
		fmt.Sprintf("Orgs are at most 6 levels deep: parent org %d is at level 6", chain[5]), "body")
	branch := s.orgAdd(t, ta, "Branch", chain[0])
	other := s.orgAdd(t, ta, "Other root", 0)

	requireDetail(t, s.orgTry(t, ta, "Lost", 987654321), http.StatusNotFound, "Parent org 987654321 not found")
	orgRequire422(t, s.orgTry(t, ta, "Negative", -1), "greater_than_equal", "", "body", "parent_org_id")
	// A parent of another tenant is not found in this one.
	requireDetail(t, s.orgTry(t, tb, "Foreign child", chain[0]), http.StatusNotFound,
		fmt.Sprintf("Parent org %d not found", chain[0]))
	requireDetail(t, s.orgTry(t, uuid.NewString(), "No tenant", 0), http.StatusNotFound, "Tenant not found")

	list := s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", ta)).objects(t)
	assert.Equal(t, append(append(chain[:6:6], orgID(branch)), orgID(other)), orgInts(list, "org_id"))
	assert.Equal(t, root, list[0], "the list shows the org as its creation answered it")

	tree := s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/tree", "tenant-id", ta)).objects(t)
	require.Len(t, tree, 2)
	assert.Equal(t, []int64{chain[0], orgID(other)}, orgInts(tree, "org_id"))
	assert.Equal(t, "head office", tree[0]["note"])
	assert.Equal(t, root["ctime"], tree[0]["ctime"])
	assert.Equal(t, []any{}, tree[1]["children"])
	node := tree[0]
	for level := 2; level <= 6; level++ {
		children := orgRows(t, node["children"])
		if level == 2 {
			require.Equal(t, []int64{chain[1], orgID(branch)}, orgInts(children, "org_id"))
		} else {
			require.Equal(t, []int64{chain[level-1]}, orgInts(children, "org_id"))
		}
		node = children[0]
		assert.EqualValues(t, level, node["org_level"])
	}
	assert.Equal(t, []any{}, node["children"], "the deepest org has no children")

	// The other tenant and the system tenant (the default) have none.
	assert.Empty(t, s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", tb)).objects(t))
	assert.Empty(t, s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/tree", "tenant-id", tb)).objects(t))
	assert.Empty(t, s.orgGet(t, s.admin, "/api/v1/orgs").objects(t))
	assert.Empty(t, s.orgGet(t, s.admin, "/api/v1/orgs/tree").objects(t))
	requireDetail(t, s.call(t, http.MethodGet, orgQuery("/api/v1/orgs", "tenant-id", uuid.NewString()), nil, s.admin),
		http.StatusNotFound, "Tenant not found")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/orgs", "tenant-id", "nope"), nil, s.admin),
		"uuid_parsing", "", "query", "tenant-id")
}

// orgRows reads a JSON list of objects (children of a tree node).
func orgRows(t *testing.T, v any) []map[string]any {
	t.Helper()
	items, ok := v.([]any)
	require.True(t, ok, "not a list: %v", v)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

// Patch Org changes an org's own fields; org codes are unique in a tenant,
// case-insensitively, and names are 1..64 characters.
func TestOrgs_PatchAndCodes(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta, tb := s.orgTenant(t, "Acme"), s.orgTenant(t, "Beta")
	sales := s.orgAdd(t, ta, "Sales", 0, "org_code", "SAL")
	ops := s.orgAdd(t, ta, "Ops", 0)
	path := func(o map[string]any, tenant string) string {
		return orgQuery(fmt.Sprintf("/api/v1/orgs/%d", orgID(o)), "tenant-id", tenant)
	}

	requireDetail(t, s.orgTry(t, ta, "Copy", 0, "org_code", "sal"), http.StatusConflict,
		fmt.Sprintf(`Org code "SAL" is already used by org %d (Sales)`, orgID(sales)))
	s.orgAdd(t, tb, "Sales elsewhere", 0, "org_code", "sal") // another tenant
	s.orgAdd(t, ta, "No code 1", 0, "org_code", "")          // blank codes never collide
	s.orgAdd(t, ta, "No code 2", 0, "org_code", "")
	requireDetail(t, s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_code": "Sal"}, s.admin),
		http.StatusConflict, fmt.Sprintf(`Org code "SAL" is already used by org %d (Sales)`, orgID(sales)))

	r := s.call(t, http.MethodPatch, path(sales, ta), map[string]any{"org_name": "Sales & Marketing", "org_code": "SM", "is_enable": false, "note": "renamed"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got := r.obj(t)
	assert.Equal(t, "Sales & Marketing", got["org_name"])
	assert.Equal(t, "SM", got["org_code"])
	assert.Equal(t, false, got["is_enable"])
	assert.Equal(t, "renamed", got["note"])
	assert.Equal(t, sales["ctime"], got["ctime"])
	assert.NotEqual(t, sales["utime"], got["utime"])
	assert.Equal(t, sales["one_org_id"], got["one_org_id"])
	// The old code is free now, for another org.
	r = s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_code": "sal"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "sal", r.obj(t)["org_code"])
	// Changing the case of one's own code is no conflict; null fields stay.
	r = s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_code": "SAL", "org_name": nil}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "SAL", r.obj(t)["org_code"])
	assert.Equal(t, "Ops", r.obj(t)["org_name"])
	// An empty body changes nothing and answers the org.
	r = s.call(t, http.MethodPatch, path(ops, ta), map[string]any{}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "SAL", r.obj(t)["org_code"])

	long := strings.Repeat("x", 65)
	orgRequire422(t, s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_name": ""}, s.admin),
		"string_too_short", "", "body", "org_name")
	orgRequire422(t, s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_name": long}, s.admin),
		"string_too_long", "", "body", "org_name")
	orgRequire422(t, s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_name": "   "}, s.admin),
		"value_error", "org_name must not be empty", "body")
	orgRequire422(t, s.orgTry(t, ta, long, 0), "string_too_long", "", "body", "org_name")
	orgRequire422(t, s.orgTry(t, ta, strings.Repeat("é", 64), 0, "org_code", long), "string_too_long", "", "body", "org_code")
	orgRequire422(t, s.call(t, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": ta}, s.admin),
		"missing", "", "body", "org_name")
	orgRequire422(t, s.call(t, http.MethodPost, "/api/v1/orgs", map[string]any{"org_name": "x"}, s.admin),
		"missing", "", "body", "tenant_id")
	orgRequire422(t, s.call(t, http.MethodPatch, "/api/v1/orgs/abc", map[string]any{}, s.admin),
		"int_parsing", "", "path", "org_id")
	s.orgAdd(t, ta, strings.Repeat("é", 64), 0) // 64 characters, more bytes

	// Another tenant's org is not found here, nor an unknown one.
	requireDetail(t, s.call(t, http.MethodPatch, path(ops, tb), map[string]any{"org_name": "x"}, s.admin),
		http.StatusNotFound, "Org not found")
	requireDetail(t, s.call(t, http.MethodPatch, "/api/v1/orgs/987654321?tenant-id="+ta, map[string]any{}, s.admin),
		http.StatusNotFound, "Org not found")
	requireDetail(t, s.call(t, http.MethodDelete, path(ops, tb), nil, s.admin), http.StatusNotFound, "Org not found")
	r = s.call(t, http.MethodPatch, path(ops, ta), map[string]any{"org_name": "Operations", "is_enable": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	list := s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", ta)).objects(t)
	assert.Equal(t, []string{"Sales & Marketing", "Operations", "No code 1", "No code 2", strings.Repeat("é", 64)},
		orgStrings(list, "org_name"))
	// The stored tree follows every change (its roots are these orgs).
	tree := s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/tree", "tenant-id", ta)).objects(t)
	for _, n := range tree {
		assert.Equal(t, []any{}, n["children"])
		delete(n, "children")
	}
	assert.Equal(t, list, tree)
}

// Members join in one all-or-nothing command, change and leave; a user is
// at most once in an org, and must exist and be active.
func TestOrgs_Members(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta, tb := s.orgTenant(t, "Acme"), s.orgTenant(t, "Beta")
	alice, bob := s.orgUser(t, "alice", "Alice A"), s.orgUser(t, "bob", "Bobby")
	carol, dave := s.orgUser(t, "carol", "Caz"), s.orgUser(t, "dave", "D")
	r := s.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", dave), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	eng := orgID(s.orgAdd(t, ta, "Eng", 0))
	foreign := orgID(s.orgAdd(t, tb, "Foreign", 0))

	r = s.orgMembers(t, ta, eng, "Engineer", "Backend", false, alice, bob, alice)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	added := r.objects(t)
	require.Len(t, added, 2, "a uid listed twice joins once")
	assert.Equal(t, []int64{alice, bob}, orgInts(added, "uid"))
	assert.Equal(t, []string{"alice", "bob"}, orgStrings(added, "username"))
	assert.Equal(t, []string{"Alice A", "Bobby"}, orgStrings(added, "nickname"))
	assert.Less(t, orgInts(added, "id")[0], orgInts(added, "id")[1])
	for _, m := range added {
		assert.Equal(t, ta, m["tenant_id"])
		assert.EqualValues(t, eng, m["org_id"])
		assert.Equal(t, "Engineer", m["position"])
		assert.Equal(t, "Backend", m["job"])
		assert.Equal(t, false, m["is_leader"])
		assert.NotZero(t, m["c_uid"])
		assert.Equal(t, m["ctime"], m["utime"])
	}
	members := func() []int64 {
		return orgInts(s.orgGet(t, s.admin, orgQuery("/api/v1/org-members", "tenant-id", ta, "org-id", eng)).objects(t), "uid")
	}

	// All or nothing: carol does not join when alice is already in.
	requireDetail(t, s.orgMembers(t, ta, eng, "x", "y", false, carol, alice), http.StatusConflict,
		fmt.Sprintf("User %d is already a member of org %d", alice, eng))
	requireDetail(t, s.orgMembers(t, ta, eng, "x", "y", false, carol, 987654321), http.StatusNotFound,
		"User 987654321 not found")
	orgRequire422(t, s.orgMembers(t, ta, eng, "x", "y", false, carol, dave), "value_error",
		fmt.Sprintf("User %d (dave) is not active", dave), "body", "uids", 1.0)
	orgRequire422(t, s.orgMembers(t, ta, eng, "x", "y", false), "value_error", "at least one user", "body", "uids")
	orgRequire422(t, s.orgMembers(t, ta, eng, "", "y", false, carol), "string_too_short", "", "body", "position")
	orgRequire422(t, s.orgMembers(t, ta, eng, "x", strings.Repeat("j", 65), false, carol), "string_too_long", "", "body", "job")
	orgRequire422(t, s.orgMembers(t, ta, eng, "  ", "y", false, carol), "value_error", "position must not be empty", "body")
	requireDetail(t, s.orgMembers(t, ta, 987654321, "x", "y", false, carol), http.StatusNotFound, "Org not found")
	requireDetail(t, s.orgMembers(t, ta, foreign, "x", "y", false, carol), http.StatusNotFound, "Org not found")
	requireDetail(t, s.orgMembers(t, uuid.NewString(), eng, "x", "y", false, carol), http.StatusNotFound, "Tenant not found")
	assert.Equal(t, []int64{alice, bob}, members())

	bobMember := added[1]["id"]
	mpath := func(id any, tenant string) string {
		return orgQuery(fmt.Sprintf("/api/v1/org-members/%v", id), "tenant-id", tenant)
	}
	r = s.call(t, http.MethodPatch, mpath(bobMember, ta), map[string]any{"position": "Lead", "is_leader": true}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got := r.obj(t)
	assert.Equal(t, "Lead", got["position"])
	assert.Equal(t, "Backend", got["job"])
	assert.Equal(t, true, got["is_leader"])
	assert.Equal(t, "bob", got["username"])
	assert.Equal(t, added[1]["ctime"], got["ctime"])
	assert.NotEqual(t, added[1]["utime"], got["utime"])
	orgRequire422(t, s.call(t, http.MethodPatch, mpath(bobMember, ta), map[string]any{"job": ""}, s.admin),
		"string_too_short", "", "body", "job")
	requireDetail(t, s.call(t, http.MethodPatch, mpath(987654321, ta), map[string]any{"job": "x"}, s.admin),
		http.StatusNotFound, "Org member not found")
	requireDetail(t, s.call(t, http.MethodPatch, mpath(bobMember, tb), map[string]any{"job": "x"}, s.admin),
		http.StatusNotFound, "Org member not found")

	requireDetail(t, s.call(t, http.MethodDelete, mpath(bobMember, tb), nil, s.admin), http.StatusNotFound,
		"Org member not found")
	requireDetail(t, s.call(t, http.MethodDelete, mpath(bobMember, ta), nil, s.admin), http.StatusOK, "Org member deleted")
	requireDetail(t, s.call(t, http.MethodDelete, mpath(bobMember, ta), nil, s.admin), http.StatusNotFound,
		"Org member not found")
	assert.Equal(t, []int64{alice}, members())

	// Bob may join again; a user may be in several orgs.
	r = s.orgMembers(t, ta, eng, "Engineer", "Frontend", true, bob)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, true, r.objects(t)[0]["is_leader"])
	assert.NotEqual(t, bobMember, r.objects(t)[0]["id"])
	r = s.orgMembers(t, tb, foreign, "Consultant", "Audit", false, alice)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, []int64{alice, bob}, members())
}

// An org with sub-orgs or members cannot be removed; the 409 says what
// blocks it.
func TestOrgs_RemoveBlocked(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta := s.orgTenant(t, "Acme")
	alice, bob := s.orgUser(t, "alice", ""), s.orgUser(t, "bob", "")
	p := orgID(s.orgAdd(t, ta, "Parent", 0))
	c1 := orgID(s.orgAdd(t, ta, "Child 1", p))
	c2 := orgID(s.orgAdd(t, ta, "Child 2", p))
	r := s.orgMembers(t, ta, p, "Head", "Lead", true, alice, bob)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	members := r.objects(t)
	opath := func(id int64) string { return orgQuery(fmt.Sprintf("/api/v1/orgs/%d", id), "tenant-id", ta) }

	requireDetail(t, s.call(t, http.MethodDelete, opath(p), nil, s.admin), http.StatusConflict,
		fmt.Sprintf("Org %d still has 2 sub-orgs and 2 members", p))
	requireDetail(t, s.call(t, http.MethodDelete, opath(c1), nil, s.admin), http.StatusOK, "Org deleted")
	requireDetail(t, s.call(t, http.MethodDelete, opath(c1), nil, s.admin), http.StatusNotFound, "Org not found")
	requireDetail(t, s.call(t, http.MethodDelete, opath(p), nil, s.admin), http.StatusConflict,
		fmt.Sprintf("Org %d still has 1 sub-org and 2 members", p))
	requireDetail(t, s.call(t, http.MethodDelete, opath(c2), nil, s.admin), http.StatusOK, "Org deleted")
	requireDetail(t, s.call(t, http.MethodDelete, opath(p), nil, s.admin), http.StatusConflict,
		fmt.Sprintf("Org %d still has 2 members", p))
	r = s.call(t, http.MethodDelete, orgQuery(fmt.Sprintf("/api/v1/org-members/%v", members[0]["id"]), "tenant-id", ta), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireDetail(t, s.call(t, http.MethodDelete, opath(p), nil, s.admin), http.StatusConflict,
		fmt.Sprintf("Org %d still has 1 member", p))
	r = s.call(t, http.MethodDelete, orgQuery(fmt.Sprintf("/api/v1/org-members/%v", members[1]["id"]), "tenant-id", ta), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	tree := s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/tree", "tenant-id", ta)).objects(t)
	require.Len(t, tree, 1)
	assert.Equal(t, []any{}, tree[0]["children"], "removed children leave the tree")
	requireDetail(t, s.call(t, http.MethodDelete, opath(p), nil, s.admin), http.StatusOK, "Org deleted")
	assert.Empty(t, s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", ta)).objects(t))
	assert.Empty(t, s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/tree", "tenant-id", ta)).objects(t))
	requireDetail(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members", "tenant-id", ta, "org-id", p), nil, s.admin),
		http.StatusNotFound, "Org not found")
}

// Candidates are the active users not in the org yet; member lists and the
// user search filter and sort; nothing of tenant A shows in tenant B.
func TestOrgs_CandidatesSearchAndSorts(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta, tb := s.orgTenant(t, "Acme"), s.orgTenant(t, "Beta")
	alice, bob := s.orgUser(t, "alice", "Zed"), s.orgUser(t, "bob", "Yan")
	carol, dave := s.orgUser(t, "carol", "Xia"), s.orgUser(t, "dave", "Wu")
	erin := s.orgUser(t, "erin", "Vo")
	r := s.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", erin), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	adminID := int64(s.orgGet(t, s.admin, "/api/v1/users/whoami").obj(t)["id"].(float64))

	root := orgID(s.orgAdd(t, ta, "Rome", 0))
	kid := orgID(s.orgAdd(t, ta, "Kitchen", root))
	add := func(tenant string, org int64, position, job string, leader bool, uid int64) {
		t.Helper()
		r := s.orgMembers(t, tenant, org, position, job, leader, uid)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
	}
	add(ta, root, "Manager", "Ops", true, alice)
	add(ta, root, "Analyst", "Data", false, bob)
	add(ta, kid, "Engineer", "Backend", false, carol)
	add(ta, kid, "Advisor", "Strategy", false, alice)
	beta := orgID(s.orgAdd(t, tb, "Bern", 0))
	add(tb, beta, "Auditor", "Compliance", false, dave)

	cands := func(kv ...any) (float64, []int64) {
		t.Helper()
		body := s.orgGet(t, s.admin, orgQuery("/api/v1/org-members/user-candidates", kv...)).obj(t)
		return body["total_count"].(float64), orgInts(orgRows(t, body["users"]), "id")
	}
	total, ids := cands("tenant-id", ta, "org-id", root)
	assert.EqualValues(t, 3, total)
	assert.Equal(t, []int64{adminID, carol, dave}, ids, "active users who are not members, by id")
	total, ids = cands("tenant-id", ta, "org-id", root, "search", "CAR")
	assert.EqualValues(t, 1, total)
	assert.Equal(t, []int64{carol}, ids)
	total, ids = cands("tenant-id", ta, "org-id", root, "search", "wu") // a nickname
	assert.EqualValues(t, 1, total)
	assert.Equal(t, []int64{dave}, ids)
	total, ids = cands("tenant-id", ta, "org-id", root, "skip", 1, "limit", 1)
	assert.EqualValues(t, 3, total)
	assert.Equal(t, []int64{carol}, ids)
	total, ids = cands("tenant-id", ta, "org-id", kid)
	assert.EqualValues(t, 3, total)
	assert.Equal(t, []int64{adminID, bob, dave}, ids)
	body := s.orgGet(t, s.admin, orgQuery("/api/v1/org-members/user-candidates", "tenant-id", ta, "org-id", root)).obj(t)
	assert.Equal(t, map[string]any{"id": float64(carol), "uid": float64(carol), "username": "carol", "nickname": "Xia",
		"email": "", "mobile": "", "profile_image": ""}, orgRows(t, body["users"])[1],
		"candidates have the shared candidate shape (no settings, no store_api_key)")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members/user-candidates", "tenant-id", ta, "org-id", root,
		"limit", 0), nil, s.admin),
		"greater_than_equal", "", "query", "limit")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members/user-candidates", "tenant-id", ta, "org-id", root,
		"limit", 501), nil, s.admin),
		"less_than_equal", "", "query", "limit")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members/user-candidates", "tenant-id", ta), nil, s.admin),
		"missing", "", "query", "org-id")
	requireDetail(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members/user-candidates", "tenant-id", tb, "org-id", root),
		nil, s.admin),
		http.StatusNotFound, "Org not found")

	memberUIDs := func(kv ...any) []int64 {
		t.Helper()
		return orgInts(s.orgGet(t, s.admin, orgQuery("/api/v1/org-members", append([]any{"tenant-id", ta, "org-id", root}, kv...)...)).objects(t), "uid")
	}
	assert.Equal(t, []int64{alice, bob}, memberUIDs())
	assert.Equal(t, []int64{bob, alice}, memberUIDs("sort_order", "desc"))
	assert.Equal(t, []int64{bob, alice}, memberUIDs("sort_by", "username", "sort_order", "desc"))
	assert.Equal(t, []int64{bob, alice}, memberUIDs("sort_by", "nickname"))
	assert.Equal(t, []int64{bob, alice}, memberUIDs("sort_by", "position"))
	assert.Equal(t, []int64{alice, bob}, memberUIDs("sort_by", "job", "sort_order", "desc"))
	assert.Equal(t, []int64{alice, bob}, memberUIDs("sort_by", "is_leader", "sort_order", "desc"))
	assert.Equal(t, []int64{bob, alice}, memberUIDs("sort_by", "is_leader"))
	assert.Equal(t, []int64{bob}, memberUIDs("search", "DATA"))
	assert.Equal(t, []int64{alice}, memberUIDs("search", "zed"))
	assert.Equal(t, []int64{alice}, memberUIDs("search", "manag"))
	assert.Equal(t, []int64{}, memberUIDs("search", "%"), "LIKE wildcards are literal")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members", "tenant-id", ta, "org-id", root, "sort_by", "org_id"),
		nil, s.admin),
		"enum", "", "query", "sort_by")
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/org-members", "tenant-id", ta), nil, s.admin),
		"missing", "", "query", "org-id")

	search := func(tenant string, kv ...any) []map[string]any {
		t.Helper()
		return s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/user-search", append([]any{"tenant-id", tenant}, kv...)...)).objects(t)
	}
	pairs := func(rows []map[string]any) [][2]int64 {
		out := make([][2]int64, len(rows))
		for i, r := range rows {
			out[i] = [2]int64{int64(r["uid"].(float64)), int64(r["org_id"].(float64))}
		}
		return out
	}
	all := search(ta)
	assert.Equal(t, [][2]int64{{alice, root}, {alice, kid}, {bob, root}, {carol, kid}}, pairs(all))
	assert.Equal(t, "Kitchen", all[1]["org_name"])
	assert.EqualValues(t, 2, all[1]["org_level"])
	assert.Equal(t, "Advisor", all[1]["position"])
	assert.Equal(t, "alice", all[1]["username"])
	assert.Equal(t, "Zed", all[1]["nickname"])
	assert.Equal(t, ta, all[1]["tenant_id"])
	assert.Equal(t, [][2]int64{{alice, kid}, {carol, kid}, {bob, root}, {alice, root}},
		pairs(search(ta, "sort_by", "org_level", "sort_order", "desc")))
	assert.Equal(t, [][2]int64{{alice, root}, {bob, root}, {carol, kid}, {alice, kid}}, pairs(search(ta, "sort_by", "org_id")))
	assert.Equal(t, [][2]int64{{alice, kid}, {bob, root}, {carol, kid}, {alice, root}}, pairs(search(ta, "sort_by", "position")))
	assert.Equal(t, [][2]int64{{carol, kid}, {bob, root}, {alice, root}, {alice, kid}},
		pairs(search(ta, "sort_by", "nickname", "sort_order", "asc")))
	assert.Equal(t, [][2]int64{{alice, root}, {alice, kid}, {carol, kid}, {bob, root}},
		pairs(search(ta, "sort_by", "is_leader", "sort_order", "desc")))
	assert.Equal(t, [][2]int64{{alice, kid}}, pairs(search(ta, "search", "strategy")))
	assert.Equal(t, [][2]int64{{alice, kid}, {carol, kid}}, pairs(search(ta, "search", "kitch")))
	orgRequire422(t, s.call(t, http.MethodGet, orgQuery("/api/v1/orgs/user-search", "sort_by", "id"), nil, s.admin),
		"enum", "", "query", "sort_by")

	// Tenant scoping: B sees only its own membership, A none of B's.
	assert.Equal(t, [][2]int64{{dave, beta}}, pairs(search(tb)))
	assert.Empty(t, search(ta, "search", "compliance"))
	assert.Empty(t, search(tenancy.SystemTenantID.String()), "the system tenant has no orgs")
}

// Writes need a superuser; reads need an authenticated user of an active
// tenant.
func TestOrgs_Authorization(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta := s.orgTenant(t, "Acme")
	bob := s.orgUser(t, "bob", "")
	token := s.login(t, "bob", orgPassword).access
	org := orgID(s.orgAdd(t, ta, "Eng", 0))
	r := s.orgMembers(t, ta, org, "Engineer", "Backend", false, bob)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	member := r.objects(t)[0]["id"]
	// Eng is granted viewer: its members read the tenant's orgs.
	r = s.call(t, http.MethodPost, "/api/v1/tenants/org-roles", map[string]any{"tenant_id": ta, "role_id": "viewer", "org_id": org}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)

	for _, w := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": ta, "org_name": "X"}},
		{http.MethodPatch, fmt.Sprintf("/api/v1/orgs/%d?tenant-id=%s", org, ta), map[string]any{"org_name": "Y"}},
		{http.MethodDelete, fmt.Sprintf("/api/v1/orgs/%d?tenant-id=%s", org, ta), nil},
		{http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": ta, "org_id": org, "uids": []int64{bob},
			"position": "p", "job": "j"}},
		{http.MethodPatch, fmt.Sprintf("/api/v1/org-members/%v?tenant-id=%s", member, ta), map[string]any{"job": "k"}},
		{http.MethodDelete, fmt.Sprintf("/api/v1/org-members/%v?tenant-id=%s", member, ta), nil},
	} {
		requireForbidden(t, s.call(t, w.method, w.path, w.body, token))
	}
	reads := []string{
		orgQuery("/api/v1/orgs", "tenant-id", ta),
		orgQuery("/api/v1/orgs/tree", "tenant-id", ta),
		orgQuery("/api/v1/org-members", "tenant-id", ta, "org-id", org),
		orgQuery("/api/v1/org-members/user-candidates", "tenant-id", ta, "org-id", org),
		orgQuery("/api/v1/orgs/user-search", "tenant-id", ta),
	}
	for _, path := range reads {
		s.orgGet(t, token, path)
	}
	assert.Len(t, s.orgGet(t, token, reads[2]).objects(t), 1, "nothing was written by the refused writes")
	assert.Equal(t, "Eng", s.orgGet(t, token, reads[0]).objects(t)[0]["org_name"])
	r = s.call(t, http.MethodGet, reads[0], nil, "")
	assert.Equal(t, http.StatusForbidden, r.status, "no credentials")

	// A disabled tenant refuses its users, not superusers.
	r = s.call(t, http.MethodPatch, "/api/v1/tenants/"+ta, map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	for _, path := range reads {
		requireDetail(t, s.call(t, http.MethodGet, path, nil, token), http.StatusForbidden, "Tenant is disabled")
		s.orgGet(t, s.admin, path)
	}
	s.orgAdd(t, ta, "Still manageable", 0)
}

// Concurrent writes to one tenant's orgs all land (a lost race is decided
// again), and the rules hold across them: one code, one winner.
func TestOrgs_ConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta := s.orgTenant(t, "Acme")
	const writers = 8
	post := func(body map[string]any) (int, error) {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		req, err := http.NewRequest(http.MethodPost, s.base+"/api/v1/orgs", bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	run := func(body func(i int) map[string]any) map[int]int {
		statuses := make([]int, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() { statuses[i], errs[i] = post(body(i)) })
		}
		wg.Wait()
		out := map[int]int{}
		for i := range writers {
			require.NoError(t, errs[i])
			out[statuses[i]]++
		}
		return out
	}
	assert.Equal(t, map[int]int{http.StatusCreated: writers},
		run(func(i int) map[string]any {
			return map[string]any{"tenant_id": ta, "org_name": fmt.Sprintf("Org %d", i)}
		}))
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: writers - 1},
		run(func(i int) map[string]any {
			return map[string]any{"tenant_id": ta, "org_name": fmt.Sprintf("Coded %d", i), "org_code": "DUP"}
		}))
	assert.Len(t, s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", ta)).objects(t), writers+1)
}

// Rebuilding the orgs projection from position 0 gives identical rows,
// and the aggregate's AuditState is what the list endpoints show (minus
// the audit fields and the users' names).
func TestOrgs_RebuildAndAuditState(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta, tb := s.orgTenant(t, "Acme"), s.orgTenant(t, "Beta")
	alice, bob := s.orgUser(t, "alice", "A"), s.orgUser(t, "bob", "B")
	root := orgID(s.orgAdd(t, ta, "Root", 0, "org_code", "R"))
	kid := orgID(s.orgAdd(t, ta, "Kid", root, "note", "n"))
	gone := orgID(s.orgAdd(t, ta, "Gone", kid))
	s.orgAdd(t, tb, "Beta root", 0)
	r := s.call(t, http.MethodPatch, orgQuery(fmt.Sprintf("/api/v1/orgs/%d", kid), "tenant-id", ta), map[string]any{"org_name": "Kid renamed", "is_enable": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodDelete, orgQuery(fmt.Sprintf("/api/v1/orgs/%d", gone), "tenant-id", ta), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.orgMembers(t, ta, kid, "P", "J", false, alice, bob)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	m := r.objects(t)
	r = s.call(t, http.MethodPatch, orgQuery(fmt.Sprintf("/api/v1/org-members/%v", m[0]["id"]), "tenant-id", ta), map[string]any{"is_leader": true, "job": "Boss"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodDelete, orgQuery(fmt.Sprintf("/api/v1/org-members/%v", m[1]["id"]), "tenant-id", ta), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.orgMembers(t, ta, root, "Q", "K", true, bob)
	require.Equal(t, http.StatusCreated, r.status, r.raw)

	before := orgDump(t, s)
	require.Len(t, before["orgs"], 3)
	require.Len(t, before["org_members"], 2)
	require.Len(t, before["org_trees"], 2)
	require.NoError(t, s.app.Runtime().Rebuild(context.Background(), "orgs", nil))
	assert.Equal(t, before, orgDump(t, s))

	// AuditState folds the stream: the same orgs and members as the reads.
	tree := domain.LoadOrgTree(uuid.MustParse(ta))
	require.NoError(t, s.app.Deps().Repository.Load(context.Background(), tree))
	state, err := json.Marshal(tree.AuditState())
	require.NoError(t, err)
	var folded struct {
		Orgs       []map[string]any `json:"orgs"`
		OrgMembers []map[string]any `json:"org_members"`
	}
	require.NoError(t, json.Unmarshal(state, &folded))
	strip := func(rows []map[string]any, keys ...string) []map[string]any {
		for _, r := range rows {
			for _, k := range append(keys, "c_uid", "m_uid", "ctime", "utime") {
				delete(r, k)
			}
		}
		return rows
	}
	assert.Equal(t, strip(s.orgGet(t, s.admin, orgQuery("/api/v1/orgs", "tenant-id", ta)).objects(t)), folded.Orgs)
	rows := strip(s.orgGet(t, s.admin, orgQuery("/api/v1/orgs/user-search", "tenant-id", ta, "sort_by", "uid")).objects(t),
		"username", "nickname", "org_name", "org_code", "org_level")
	assert.ElementsMatch(t, rows, folded.OrgMembers)
	assert.Len(t, folded.OrgMembers, 2)
}

// A tenant's org tree is loaded from a snapshot once its stream is long:
// the rules still see every org, code, sub-org and member.
func TestOrgs_SnapshotsKeepTheRules(t *testing.T) {
	t.Parallel()
	s := orgStart(t)
	ta := s.orgTenant(t, "Acme")
	alice := s.orgUser(t, "alice", "")
	root := orgID(s.orgAdd(t, ta, "Root", 0, "org_code", "ROOT"))
	r := s.orgMembers(t, ta, root, "P", "J", false, alice)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	const children = 34
	for i := range children {
		s.orgAdd(t, ta, fmt.Sprintf("Child %d", i), root, "org_code", fmt.Sprintf("C%d", i))
	}
	var revision int64
	require.NoError(t, s.app.Pool().QueryRow(context.Background(),
		`SELECT revision FROM aggregate_snapshots WHERE stream_id = $1`, "orgs-"+ta).Scan(&revision))
	assert.EqualValues(t, 31, revision, "a snapshot every 32 events")

	requireDetail(t, s.orgTry(t, ta, "Copy", 0, "org_code", "root"), http.StatusConflict,
		fmt.Sprintf(`Org code "ROOT" is already used by org %d (Root)`, root))
	requireDetail(t, s.orgTry(t, ta, "Copy", 0, "org_code", "c33"), http.StatusConflict,
		fmt.Sprintf(`Org code "C33" is already used by org %d (Child 33)`, root+children))
	requireDetail(t, s.call(t, http.MethodDelete, orgQuery(fmt.Sprintf("/api/v1/orgs/%d", root), "tenant-id", ta), nil, s.admin),
		http.StatusConflict, fmt.Sprintf("Org %d still has %d sub-orgs and 1 member", root, children))
	requireDetail(t, s.orgMembers(t, ta, root, "P", "J", false, alice), http.StatusConflict,
		fmt.Sprintf("User %d is already a member of org %d", alice, root))
	grand := s.orgAdd(t, ta, "Grandchild", root+children)
	assert.EqualValues(t, 3, grand["org_level"])
	assert.EqualValues(t, root, grand["one_org_id"])
	assert.EqualValues(t, root+children, grand["two_org_id"])
}
