package app_test

import (
	"context"
	"fmt"
	"net/http"
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

// Groups: add, read back, patch, remove; the audit fields come from the
// events; names are unique per tenant, case-insensitively, and bounded.
func TestUserGroups_CRUDAndNames(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")

	before := time.Now().UTC().Add(-time.Second)
	g := s.addGroup(t, ta, "Sales", "note", "west coast")
	id := ugInt(t, g["group_id"])
	assert.Equal(t, "Sales", g["group_name"])
	assert.Equal(t, ta.String(), g["tenant_id"])
	assert.Equal(t, true, g["is_enable"], "is_enable defaults to true")
	assert.Equal(t, "west coast", g["note"])
	assert.Equal(t, float64(s.adminID), g["c_uid"])
	assert.Equal(t, float64(s.adminID), g["m_uid"])
	ctime, err := time.Parse(time.RFC3339Nano, g["ctime"].(string))
	require.NoError(t, err)
	assert.True(t, ctime.After(before), "ctime is the write's time")
	assert.Equal(t, g["ctime"], g["utime"])
	assert.Equal(t, []map[string]any{g}, s.groups(t, ta))

	noNote := s.addGroup(t, ta, "Ops", "is_enable", false)
	assert.Nil(t, noNote["note"])
	assert.Equal(t, false, noNote["is_enable"])

	// Names are unique in a tenant, whatever their case; another tenant
	// may use them.
	r := s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": "SALES"}, s.admin)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf(`User group name "Sales" is already used by group %d`, id))
	s.addGroup(t, tb, "sales")

	// Patch: only what differs; m_uid/utime move, c_uid/ctime stay.
	path := "/api/v1/user-groups/" + fmt.Sprint(id) + ugQuery("tenant-id", ta)
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": "Sales EMEA", "is_enable": false, "note": "east"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	p := r.obj(t)
	assert.Equal(t, "Sales EMEA", p["group_name"])
	assert.Equal(t, false, p["is_enable"])
	assert.Equal(t, "east", p["note"])
	assert.Equal(t, g["ctime"], p["ctime"])
	assert.NotEqual(t, g["utime"], p["utime"])
	pos := r.header.Get("X-Event-Position")
	require.NotEmpty(t, pos)

	// A patch that changes nothing writes nothing.
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": "Sales EMEA", "note": nil}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.header.Get("X-Event-Position"), "no event for a patch that changes nothing")
	assert.Equal(t, p, r.obj(t))

	// Renaming onto another group's name is 409 (any case); a change of
	// case of its own name is fine.
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": "ops"}, s.admin)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf(`is already used by group %d`, ugInt(t, noNote["group_id"])))
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": "SALES emea"}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	// The old name is free again.
	s.addGroup(t, ta, "Sales")

	// Bad input: 422 in FastAPI's shape, never a write.
	long := strings.Repeat("n", 65)
	for _, body := range []map[string]any{
		{"tenant_id": ta, "group_name": ""},
		{"tenant_id": ta, "group_name": long},
		{"tenant_id": ta, "group_name": "   "},
		{"tenant_id": ta},
		{"group_name": "x"},
		{"tenant_id": "not-a-uuid", "group_name": "x"},
		{"tenant_id": ta, "group_name": "x", "is_enable": "maybe"},
	} {
		r := s.call(t, http.MethodPost, "/api/v1/user-groups", body, s.admin)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	r = s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": long}, s.admin)
	assert.Contains(t, r.raw, "string_too_long")
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": ""}, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodPatch, path, map[string]any{"group_name": long}, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodPatch, "/api/v1/user-groups/abc"+ugQuery("tenant-id", ta), map[string]any{}, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodGet, "/api/v1/user-groups?tenant-id=nope", nil, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodGet, "/api/v1/user-groups?sort_by=note", nil, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Len(t, s.groups(t, ta), 3, "no bad request wrote a group")

	// Unknown tenant, unknown group.
	r = s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": uuid.New(), "group_name": "x"}, s.admin)
	ugDetail(t, r, http.StatusNotFound, "Tenant not found")
	r = s.call(t, http.MethodPatch, "/api/v1/user-groups/999999"+ugQuery("tenant-id", ta), map[string]any{"note": "x"}, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group not found")

	// Remove.
	r = s.call(t, http.MethodDelete, path, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"detail": "User group deleted"}, r.body)
	assert.NotContains(t, ugField(s.groups(t, ta), "group_id"), fmt.Sprint(id))
	r = s.call(t, http.MethodDelete, path, nil, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group not found")
	r = s.call(t, http.MethodPatch, path, map[string]any{"note": "x"}, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group not found")

	// Without tenant-id, the X-Tenant-Id header, else the system tenant.
	sys := s.addGroup(t, tenancy.SystemTenantID, "Everyone")
	r = s.call(t, http.MethodGet, "/api/v1/user-groups", nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []map[string]any{sys}, r.objects(t))
}

// Members: added once per group, only active users, leaders changed,
// removed; a group with members cannot be removed.
func TestUserGroups_Members(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta := s.tenant(t, "A")
	ada := s.user(t, "ada", "Ada L")
	bob := s.user(t, "bob", "Bobby")
	g := ugInt(t, s.addGroup(t, ta, "Engineers")["group_id"])
	other := ugInt(t, s.addGroup(t, ta, "Writers")["group_id"])

	m := s.addMember(t, ta, g, ada, true)
	assert.Equal(t, float64(g), m["group_id"])
	assert.Equal(t, float64(ada), m["uid"])
	assert.Equal(t, "ada", m["username"])
	assert.Equal(t, "Ada L", m["nickname"])
	assert.Equal(t, true, m["is_leader"])
	assert.Equal(t, float64(s.adminID), m["c_uid"])
	assert.NotEmpty(t, m["ctime"])
	assert.ElementsMatch(t, []string{"id", "group_id", "uid", "username", "nickname", "is_leader", "c_uid", "ctime"}, ugKeys(m))
	mb := s.addMember(t, ta, g, bob, false)
	s.addMember(t, ta, other, ada, false) // one user, two groups

	add := func(group, uid int64) reply {
		return s.call(t, http.MethodPost, "/api/v1/user-group-members"+ugQuery("tenant-id", ta), map[string]any{"group_id": group, "uid": uid}, s.admin)
	}
	// The same user twice in a group: 409.
	ugDetail(t, add(g, ada), http.StatusConflict, fmt.Sprintf("User %d is already a member of group %d", ada, g))
	// Unknown and inactive users: 422 naming them.
	ugInvalid(t, add(g, 424242), "User 424242 does not exist")
	cyd := s.user(t, "cyd", "")
	r := s.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", cyd), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	ugInvalid(t, add(g, cyd), fmt.Sprintf("User %d is not active", cyd))
	// Unknown group: 404.
	ugDetail(t, add(999999, ada), http.StatusNotFound, "User group not found")
	// Missing fields: 422.
	r = s.call(t, http.MethodPost, "/api/v1/user-group-members"+ugQuery("tenant-id", ta), map[string]any{"group_id": g}, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Len(t, s.members(t, ta, g), 2, "no refused request added a member")

	// Patch the leader flag.
	mpath := "/api/v1/user-group-members/" + fmt.Sprint(ugInt(t, mb["id"])) + ugQuery("tenant-id", ta)
	r = s.call(t, http.MethodPatch, mpath, map[string]any{"is_leader": true}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.obj(t)["is_leader"])
	assert.Equal(t, mb["ctime"], r.obj(t)["ctime"])
	r = s.call(t, http.MethodPatch, mpath, map[string]any{}, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "is_leader is required: %s", r.raw)
	r = s.call(t, http.MethodPatch, "/api/v1/user-group-members/999999"+ugQuery("tenant-id", ta), map[string]any{"is_leader": true}, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group member not found")

	// A group with members is not removed.
	gpath := "/api/v1/user-groups/" + fmt.Sprint(g) + ugQuery("tenant-id", ta)
	ugDetail(t, s.call(t, http.MethodDelete, gpath, nil, s.admin), http.StatusConflict, fmt.Sprintf("Group %d still has 2 members", g))
	r = s.call(t, http.MethodDelete, mpath, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"detail": "User group member deleted"}, r.body)
	ugDetail(t, s.call(t, http.MethodDelete, mpath, nil, s.admin), http.StatusNotFound, "User group member not found")
	ugDetail(t, s.call(t, http.MethodDelete, gpath, nil, s.admin), http.StatusConflict, fmt.Sprintf("Group %d still has 1 member", g))
	// A removed member may join again (a new member id).
	again := s.addMember(t, ta, g, bob, false)
	assert.NotEqual(t, mb["id"], again["id"])
	for _, mm := range s.members(t, ta, g) {
		r := s.call(t, http.MethodDelete, "/api/v1/user-group-members/"+fmt.Sprint(ugInt(t, mm["id"]))+ugQuery("tenant-id", ta), nil, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	r = s.call(t, http.MethodDelete, gpath, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery("tenant-id", ta, "group-id", g), nil, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group not found")
	r = s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery("tenant-id", ta), nil, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "group-id is required: %s", r.raw)
	assert.Contains(t, r.raw, "group-id")
}

func ugKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The lists' filters and sort orders.
func TestUserGroups_FiltersAndSorts(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta := s.tenant(t, "A")
	beta := ugInt(t, s.addGroup(t, ta, "beta", "is_enable", false)["group_id"])
	alpha := ugInt(t, s.addGroup(t, ta, "Alpha team")["group_id"])
	gamma := ugInt(t, s.addGroup(t, ta, "gamma_100%")["group_id"])
	ids := func(rows []map[string]any) []int64 {
		out := make([]int64, len(rows))
		for i, r := range rows {
			out[i] = ugInt(t, r["group_id"])
		}
		return out
	}
	assert.Equal(t, []int64{beta, alpha, gamma}, ids(s.groups(t, ta)))
	assert.Equal(t, []int64{gamma, alpha, beta}, ids(s.groups(t, ta, "sort_order", "desc")))
	assert.Equal(t, []int64{alpha, beta, gamma}, ids(s.groups(t, ta, "sort_by", "group_name")), "names sort case-insensitively")
	assert.Equal(t, []int64{gamma, beta, alpha}, ids(s.groups(t, ta, "sort_by", "group_name", "sort_order", "desc")))
	assert.Equal(t, []int64{beta, alpha, gamma}, ids(s.groups(t, ta, "sort_by", "is_enable")), "false first, ties by id")
	assert.Equal(t, []int64{gamma, alpha, beta}, ids(s.groups(t, ta, "sort_by", "is_enable", "sort_order", "desc")))
	assert.Equal(t, []int64{alpha, gamma}, ids(s.groups(t, ta, "is-enable", true)))
	assert.Equal(t, []int64{beta}, ids(s.groups(t, ta, "is-enable", false)))
	assert.Equal(t, []int64{alpha, gamma}, ids(s.groups(t, ta, "search", "AM")), "case-insensitive substring")
	assert.Equal(t, []int64{alpha}, ids(s.groups(t, ta, "search", "ALPHA T")))
	assert.Equal(t, []int64{gamma}, ids(s.groups(t, ta, "search", "%")), "LIKE wildcards are literal")
	assert.Equal(t, []int64{gamma}, ids(s.groups(t, ta, "search", "_")))
	assert.Equal(t, []int64{}, ids(s.groups(t, ta, "search", "a_t")))
	assert.Equal(t, []int64{alpha}, ids(s.groups(t, ta, "search", "a", "is-enable", true, "sort_by", "group_name", "sort_order", "asc")[:1]))

	// Members.
	zed := s.user(t, "zed", "Aardvark")
	amy := s.user(t, "Amy", "zulu")
	kim := s.user(t, "kim", "Mid")
	mz := ugInt(t, s.addMember(t, ta, alpha, zed, false)["id"])
	ma := ugInt(t, s.addMember(t, ta, alpha, amy, true)["id"])
	mk := ugInt(t, s.addMember(t, ta, alpha, kim, false)["id"])
	mids := func(rows []map[string]any) []int64 {
		out := make([]int64, len(rows))
		for i, r := range rows {
			out[i] = ugInt(t, r["id"])
		}
		return out
	}
	assert.Equal(t, []int64{mz, ma, mk}, mids(s.members(t, ta, alpha)))
	assert.Equal(t, []int64{mk, ma, mz}, mids(s.members(t, ta, alpha, "sort_order", "desc")))
	assert.Equal(t, []int64{mz, ma, mk}, mids(s.members(t, ta, alpha, "sort_by", "uid")))
	assert.Equal(t, []int64{ma, mk, mz}, mids(s.members(t, ta, alpha, "sort_by", "username")))
	assert.Equal(t, []int64{mz, mk, ma}, mids(s.members(t, ta, alpha, "sort_by", "nickname")))
	assert.Equal(t, []int64{ma, mk, mz}, mids(s.members(t, ta, alpha, "sort_by", "nickname", "sort_order", "desc")))
	assert.Equal(t, []int64{mz, mk, ma}, mids(s.members(t, ta, alpha, "sort_by", "is_leader")))
	assert.Equal(t, []int64{ma, mk, mz}, mids(s.members(t, ta, alpha, "sort_by", "is_leader", "sort_order", "desc")))
	assert.Equal(t, []int64{ma}, mids(s.members(t, ta, alpha, "is-leader", true)))
	assert.Equal(t, []int64{mz, mk}, mids(s.members(t, ta, alpha, "is-leader", false)))
	assert.Equal(t, []int64{mz, ma}, mids(s.members(t, ta, alpha, "search", "A")), "username or nickname")
	assert.Equal(t, []int64{mk}, mids(s.members(t, ta, alpha, "search", "MID")))
	assert.Equal(t, []int64{}, mids(s.members(t, ta, alpha, "search", "nobody")))
	assert.Equal(t, []int64{}, mids(s.members(t, ta, beta)))
	r := s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery("tenant-id", ta, "group-id", alpha, "sort_by", "group_id"), nil, s.admin)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

// Candidates are active users not yet in the group; the user search
// lists memberships across the tenant's groups.
func TestUserGroups_CandidatesAndSearch(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta := s.tenant(t, "A")
	ada := s.user(t, "ada", "Countess")
	bob := s.user(t, "bob", "Builder")
	cyd := s.user(t, "cyd", "Cyd C")
	dan := s.user(t, "dan", "Daniel")
	r := s.call(t, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", dan), map[string]any{"is_active": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	g1 := ugInt(t, s.addGroup(t, ta, "Zeta")["group_id"])
	g2 := ugInt(t, s.addGroup(t, ta, "Alpha")["group_id"])
	s.addMember(t, ta, g1, ada, true)
	s.addMember(t, ta, g1, bob, false)
	s.addMember(t, ta, g2, bob, true)
	s.addMember(t, ta, g2, cyd, false)

	cand := func(kv ...any) (int64, []int64) {
		t.Helper()
		r := s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery(append([]any{"tenant-id", ta}, kv...)...), nil, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		body := r.obj(t)
		var ids []int64
		for _, u := range body["users"].([]any) {
			ids = append(ids, ugInt(t, u.(map[string]any)["id"]))
		}
		return ugInt(t, body["total_count"]), ids
	}
	// g1 has ada and bob: candidates are the admin and cyd (dan is inactive).
	n, ids := cand("group-id", g1)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, []int64{s.adminID, cyd}, ids)
	n, ids = cand("group-id", g1, "limit", 1)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, []int64{s.adminID}, ids)
	n, ids = cand("group-id", g1, "skip", 1)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, []int64{cyd}, ids)
	n, ids = cand("group-id", g1, "skip", 5)
	assert.Equal(t, int64(2), n)
	assert.Empty(t, ids)
	n, ids = cand("group-id", g1, "search", "cyd c")
	assert.Equal(t, int64(1), n)
	assert.Equal(t, []int64{cyd}, ids)
	n, ids = cand("group-id", g2)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, []int64{s.adminID, ada}, ids)
	r = s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery("tenant-id", ta, "group-id", g1, "search", "cyd"), nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"total_count": 1.0, "users": []any{map[string]any{"id": float64(cyd), "uid": float64(cyd),
		"username": "cyd", "nickname": "Cyd C", "email": "", "mobile": "", "profile_image": ""}}}, r.obj(t),
		"candidates have the shared candidate shape (no settings, no store_api_key)")
	for _, bad := range []string{"limit=0", "limit=501", "skip=-1"} {
		r := s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery("tenant-id", ta, "group-id", g1)+"&"+bad, nil, s.admin)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", bad, r.raw)
	}
	r = s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery("tenant-id", ta, "group-id", 999999), nil, s.admin)
	ugDetail(t, r, http.StatusNotFound, "User group not found")

	search := func(kv ...any) []string {
		t.Helper()
		r := s.call(t, http.MethodGet, "/api/v1/user-groups/user-search"+ugQuery(append([]any{"tenant-id", ta}, kv...)...), nil, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var out []string
		for _, row := range r.objects(t) {
			assert.ElementsMatch(t, []string{"id", "group_id", "group_name", "uid", "username", "nickname", "is_leader"}, ugKeys(row))
			out = append(out, fmt.Sprintf("%s/%s/%v", row["group_name"], row["username"], row["is_leader"]))
		}
		return out
	}
	assert.Equal(t, []string{"Zeta/ada/true", "Zeta/bob/false", "Alpha/bob/true", "Alpha/cyd/false"}, search())
	assert.Equal(t, []string{"Alpha/cyd/false", "Alpha/bob/true", "Zeta/bob/false", "Zeta/ada/true"}, search("sort_order", "desc"))
	assert.Equal(t, []string{"Alpha/bob/true", "Alpha/cyd/false", "Zeta/ada/true", "Zeta/bob/false"}, search("sort_by", "group_name"))
	assert.Equal(t, []string{"Zeta/bob/false", "Alpha/cyd/false", "Zeta/ada/true", "Alpha/bob/true"}, search("sort_by", "is_leader"))
	assert.Equal(t, []string{"Zeta/ada/true", "Zeta/bob/false", "Alpha/bob/true", "Alpha/cyd/false"}, search("sort_by", "uid"))
	assert.Equal(t, []string{"Zeta/bob/false", "Alpha/bob/true"}, search("search", "BUILD"))
	assert.Equal(t, []string{"Zeta/bob/false", "Alpha/bob/true", "Zeta/ada/true"}, search("search", "o", "sort_by", "nickname"))
	assert.Empty(t, search("search", "nobody"))
}

// Data of tenant A never appears in answers about tenant B, and B's
// operations cannot reach A's groups or members.
func TestUserGroups_TenantScoping(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	ada := s.user(t, "ada", "")
	ga := ugInt(t, s.addGroup(t, ta, "Shared name")["group_id"])
	ma := ugInt(t, s.addMember(t, ta, ga, ada, true)["id"])
	gb := ugInt(t, s.addGroup(t, tb, "Shared name")["group_id"])

	assert.Equal(t, []string{fmt.Sprint(gb)}, ugField(s.groups(t, tb), "group_id"))
	assert.Equal(t, []string{fmt.Sprint(ga)}, ugField(s.groups(t, ta), "group_id"))
	q := ugQuery("tenant-id", tb)
	for _, r := range []reply{
		s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery("tenant-id", tb, "group-id", ga), nil, s.admin),
		s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery("tenant-id", tb, "group-id", ga), nil, s.admin),
		s.call(t, http.MethodPatch, ugPath("/api/v1/user-groups", ga)+q, map[string]any{"note": "x"}, s.admin),
		s.call(t, http.MethodDelete, ugPath("/api/v1/user-groups", ga)+q, nil, s.admin),
		s.call(t, http.MethodPost, "/api/v1/user-group-members"+q, map[string]any{"group_id": ga, "uid": ada}, s.admin),
	} {
		ugDetail(t, r, http.StatusNotFound, "User group not found")
	}
	for _, r := range []reply{
		s.call(t, http.MethodPatch, ugPath("/api/v1/user-group-members", ma)+q, map[string]any{"is_leader": false}, s.admin),
		s.call(t, http.MethodDelete, ugPath("/api/v1/user-group-members", ma)+q, nil, s.admin),
	} {
		ugDetail(t, r, http.StatusNotFound, "User group member not found")
	}
	r := s.call(t, http.MethodGet, "/api/v1/user-groups/user-search"+q, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.objects(t))
	// The X-Tenant-Id header picks the tenant too.
	req, err := http.NewRequest(http.MethodGet, s.base+"/api/v1/user-groups", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set(tenancy.HeaderTenantID, tb.String())
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	// A's member is untouched by all of the above.
	m := s.members(t, ta, ga)
	require.Len(t, m, 1)
	assert.Equal(t, true, m[0]["is_leader"])
	assert.Equal(t, []string{"Shared name"}, ugField(s.groups(t, ta), "group_name"))
}

// A viewer of a tenant reads its groups, but does not write (403), and
// gets 403 in a disabled tenant.
func TestUserGroups_NonSuperuser(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta := s.tenant(t, "A")
	off := uuid.New()
	s.insertTenant(t, off, "Disabled", false)
	eve := s.user(t, "eve", "")
	token := s.login(t, "eve", ugPassword).access
	s.grantRole(t, s.admin, ta, eve, "viewer")
	s.grantRole(t, s.admin, off, eve, "viewer")
	g := ugInt(t, s.addGroup(t, ta, "G")["group_id"])
	m := ugInt(t, s.addMember(t, ta, g, eve, false)["id"])
	s.addGroup(t, off, "In a disabled tenant")

	q := ugQuery("tenant-id", ta)
	for _, r := range []reply{
		s.call(t, http.MethodGet, "/api/v1/user-groups"+q, nil, token),
		s.call(t, http.MethodGet, "/api/v1/user-group-members"+ugQuery("tenant-id", ta, "group-id", g), nil, token),
		s.call(t, http.MethodGet, "/api/v1/user-group-members/user-candidates"+ugQuery("tenant-id", ta, "group-id", g), nil, token),
		s.call(t, http.MethodGet, "/api/v1/user-groups/user-search"+q, nil, token),
	} {
		assert.Equal(t, http.StatusOK, r.status, r.raw)
	}
	for _, r := range []reply{
		s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": "mine"}, token),
		s.call(t, http.MethodPatch, ugPath("/api/v1/user-groups", g)+q, map[string]any{"note": "x"}, token),
		s.call(t, http.MethodDelete, ugPath("/api/v1/user-groups", g)+q, nil, token),
		s.call(t, http.MethodPost, "/api/v1/user-group-members"+q, map[string]any{"group_id": g, "uid": eve}, token),
		s.call(t, http.MethodPatch, ugPath("/api/v1/user-group-members", m)+q, map[string]any{"is_leader": true}, token),
		s.call(t, http.MethodDelete, ugPath("/api/v1/user-group-members", m)+q, nil, token),
	} {
		ugDetail(t, r, http.StatusForbidden, "The user doesn't have enough privileges")
	}
	r := s.call(t, http.MethodGet, "/api/v1/user-groups"+ugQuery("tenant-id", off), nil, token)
	ugDetail(t, r, http.StatusForbidden, "Tenant is disabled")
	r = s.call(t, http.MethodGet, "/api/v1/user-groups", nil, "")
	assert.Equal(t, http.StatusForbidden, r.status, "no credentials: %s", r.raw)
	// Nothing changed.
	assert.Equal(t, []string{"G"}, ugField(s.groups(t, ta), "group_name"))
	mm := s.members(t, ta, g)
	require.Len(t, mm, 1)
	assert.Equal(t, false, mm[0]["is_leader"])
}

// Concurrent writes to one tenant's groups are decided one after the
// other on the aggregate: of 8 groups of one name exactly one is added,
// 8 distinct names are all added, and one user joins a group once.
func TestUserGroups_ConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta := s.tenant(t, "A")
	ada := s.user(t, "ada", "")
	const n = 8
	run := func(fn func(i int) reply) []int {
		var (
			wg       sync.WaitGroup
			statuses = make([]int, n)
		)
		for i := range n {
			wg.Go(func() { statuses[i] = fn(i).status })
		}
		wg.Wait()
		return statuses
	}
	count := func(statuses []int, code int) int {
		c := 0
		for _, s := range statuses {
			if s == code {
				c++
			}
		}
		return c
	}
	same := run(func(int) reply {
		return s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": "Same"}, s.admin)
	})
	assert.Equal(t, 1, count(same, http.StatusCreated), "%v", same)
	assert.Equal(t, n-1, count(same, http.StatusConflict), "%v", same)
	distinct := run(func(i int) reply {
		return s.call(t, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": ta, "group_name": fmt.Sprintf("G%d", i)}, s.admin)
	})
	assert.Equal(t, n, count(distinct, http.StatusCreated), "%v", distinct)
	assert.Len(t, s.groups(t, ta), n+1)
	g := ugInt(t, s.groups(t, ta, "search", "Same")[0]["group_id"])
	join := run(func(int) reply {
		return s.call(t, http.MethodPost, "/api/v1/user-group-members"+ugQuery("tenant-id", ta), map[string]any{"group_id": g, "uid": ada}, s.admin)
	})
	assert.Equal(t, 1, count(join, http.StatusCreated), "%v", join)
	assert.Equal(t, n-1, count(join, http.StatusConflict), "%v", join)
	assert.Len(t, s.members(t, ta, g), 1)
}

// The aggregate's AuditState (loaded with its snapshots) is what the lists
// answer; folding without snapshots gives the same; folding the stream up
// to an earlier revision gives the groups as they were then; and
// rebuilding the projection from position 0 gives identical rows.
func TestUserGroups_AuditStateAndRebuild(t *testing.T) {
	t.Parallel()
	s := ugStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	users := make([]int64, 6)
	for i := range users {
		users[i] = s.user(t, fmt.Sprintf("u%d", i), fmt.Sprintf("User %d", i))
	}
	// Over 16 events in A's stream, so that its loads start from a snapshot.
	var groups []int64
	for i := range 4 {
		groups = append(groups, ugInt(t, s.addGroup(t, ta, fmt.Sprintf("Group %d", i), "note", fmt.Sprint(i))["group_id"]))
	}
	firstFour := s.groups(t, ta)
	var members []int64
	for i, u := range users {
		members = append(members, ugInt(t, s.addMember(t, ta, groups[i%3], u, i%2 == 0)["id"]))
	}
	s.addGroup(t, tb, "Group 0")
	q := ugQuery("tenant-id", ta)
	for i, m := range members[:3] {
		r := s.call(t, http.MethodPatch, ugPath("/api/v1/user-group-members", m)+q, map[string]any{"is_leader": i%2 == 1}, s.admin)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	r := s.call(t, http.MethodDelete, ugPath("/api/v1/user-group-members", members[5])+q, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodPatch, ugPath("/api/v1/user-groups", groups[1])+q, map[string]any{"group_name": "Renamed", "is_enable": false}, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodDelete, ugPath("/api/v1/user-groups", groups[3])+q, nil, s.admin)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	ctx := context.Background()
	repo := s.app.Deps().Repository
	agg, err := commands.LoadUserGroups(ctx, repo, ta)
	require.NoError(t, err)
	rev, _ := agg.Root().Revision()
	require.GreaterOrEqual(t, rev+1, uint64(16), "events in A's stream")
	var snapshots int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM aggregate_snapshots WHERE stream_id = $1`, domain.UserGroupsStream(ta)).Scan(&snapshots))
	assert.Equal(t, 1, snapshots, "the stream has a snapshot")
	full := domain.LoadUserGroups(ta)
	require.NoError(t, repo.LoadUntil(ctx, full, eventstore.MaxRevision))
	assert.Equal(t, full.AuditState(), agg.AuditState(), "snapshot + tail = whole fold")

	state := agg.AuditState().(domain.UserGroupsState)
	listed := s.groups(t, ta)
	require.Len(t, state.UserGroups, len(listed))
	for i, g := range listed {
		st := state.UserGroups[i]
		assert.Equal(t, ugInt(t, g["group_id"]), st.GroupID)
		assert.Equal(t, g["group_name"], st.GroupName)
		assert.Equal(t, g["is_enable"], st.IsEnable)
		assert.Equal(t, g["note"], *st.Note)
		assert.Equal(t, ta, st.TenantID)
	}
	var listedMembers []domain.UserGroupMemberState
	for _, g := range groups[:3] {
		for _, m := range s.members(t, ta, g) {
			listedMembers = append(listedMembers, domain.UserGroupMemberState{ID: ugInt(t, m["id"]), GroupID: g,
				UID: ugInt(t, m["uid"]), IsLeader: m["is_leader"].(bool)})
		}
	}
	assert.ElementsMatch(t, listedMembers, state.UserGroupMembers)

	// As of revision 3 (the fourth event): the four groups, no members.
	then := domain.LoadUserGroups(ta)
	require.NoError(t, repo.LoadUntil(ctx, then, 3))
	was := then.AuditState().(domain.UserGroupsState)
	assert.Empty(t, was.UserGroupMembers)
	require.Len(t, was.UserGroups, 4)
	for i, g := range firstFour {
		assert.Equal(t, g["group_name"], was.UserGroups[i].GroupName)
	}

	// Every event names its tenant in its metadata.
	var total, untagged int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE
    (metadata->>'tenant_id') IS DISTINCT FROM substr(stream_id, 13) OR tenant_id IS DISTINCT FROM substr(stream_id, 13)::uuid)
FROM events WHERE stream_id LIKE 'user\_groups-%'`).Scan(&total, &untagged))
	assert.Equal(t, int(rev)+2, total, "A's events and B's one")
	assert.Zero(t, untagged)

	live := ugDump(t, s)
	require.NotEmpty(t, live)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "user_groups", nil))
	assert.Equal(t, live, ugDump(t, s), "rebuilt from position 0")
}
