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

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// dictStart serves an App with the Identity and Dictionary modules (and
// the permissions, to grant roles) on a fresh database, with the system
// tenant row, and signs the superuser in (ugServer's helpers apply).
func dictStart(t *testing.T) *ugServer {
	t.Helper()
	s := &ugServer{harness: startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Dictionary{}, app.Permissions{}, app.TenantGrants{}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

// dictCall sends body as token with X-Tenant-Id tenant.
func dictCall(t *testing.T, s *ugServer, method, path string, body any, token string, tenant uuid.UUID) reply {
	t.Helper()
	h := bearer(token)
	h.Set(tenancy.HeaderTenantID, tenant.String())
	return s.do(t, method, path, body, h)
}

// dictIndex adds an index to tenant as the superuser and requires 201.
func dictIndex(t *testing.T, s *ugServer, tenant uuid.UUID, key, name, enName string) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, "/api/v1/dictionary/indexes",
		map[string]any{"config_key": key, "config_name": name, "config_en_name": enName}, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// dictItem adds an item to index of tenant as the superuser and requires
// 201.
func dictItem(t *testing.T, s *ugServer, tenant uuid.UUID, index any, key string, order int, value string) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, ugPath("/api/v1/dictionary/indexes", index, "items"), map[string]any{"config_key": key,
		"config_name": "Name " + key, "config_en_name": "En " + key, "key_order": order, "config_value": value}, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// dictList reads path (with query kv) of tenant as the superuser.
func dictList(t *testing.T, s *ugServer, tenant uuid.UUID, path string, kv ...any) []map[string]any {
	t.Helper()
	q := ""
	if len(kv) > 0 {
		q = ugQuery(kv...)
	}
	r := dictCall(t, s, http.MethodGet, path+q, nil, s.admin, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// dictKeys lists every entry's config_key.
func dictKeys(rows []map[string]any) []string { return ugField(rows, "config_key") }

// dictDump returns every row of the dictionary read model, in order, as
// text (to compare a rebuild with the live table).
func dictDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	return s.textRows(t, `SELECT row_to_json(d)::text FROM dictionary_entries d ORDER BY config_id`)
}

// Indexes and items: add, read back (the spec's fields, audit fields from
// the events), patch, remove; keys are unique per tenant (indexes) and
// per index (items); an index with items is not removed (409).
func TestDictionary_CRUD(t *testing.T) {
	t.Parallel()
	s := dictStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")

	before := time.Now().UTC().Add(-time.Second)
	r := dictCall(t, s, http.MethodPost, "/api/v1/dictionary/indexes",
		map[string]any{"config_key": "colour", "config_name": "颜色", "config_en_name": "Colour", "note": "paint"}, s.admin, ta)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	idx := r.obj(t)
	assert.Equal(t, []string{"c_uid", "config_en_name", "config_id", "config_key", "config_name", "config_value", "ctime",
		"key_order", "m_uid", "note", "parent_id", "utime"}, slices.Sorted(maps.Keys(idx)))
	id := ugInt(t, idx["config_id"])
	assert.Equal(t, "colour", idx["config_key"])
	assert.Equal(t, "颜色", idx["config_name"])
	assert.Equal(t, "Colour", idx["config_en_name"])
	assert.Equal(t, "paint", idx["note"])
	assert.Equal(t, float64(0), idx["parent_id"])
	assert.Equal(t, float64(0), idx["key_order"])
	assert.Equal(t, "", idx["config_value"])
	assert.Equal(t, float64(s.adminID), idx["c_uid"])
	assert.Equal(t, float64(s.adminID), idx["m_uid"])
	ctime, err := time.Parse(time.RFC3339Nano, idx["ctime"].(string))
	require.NoError(t, err)
	assert.True(t, ctime.After(before), "ctime is the write's time")
	assert.Equal(t, idx["ctime"], idx["utime"])
	assert.Equal(t, []map[string]any{idx}, dictList(t, s, ta, "/api/v1/dictionary/indexes"))

	noNote := dictIndex(t, s, ta, "size", "尺寸", "Size")
	assert.Equal(t, "", noNote["note"], "note defaults to \"\"")

	// Keys are unique in a tenant; another tenant may use them.
	r = dictCall(t, s, http.MethodPost, "/api/v1/dictionary/indexes",
		map[string]any{"config_key": "colour", "config_name": "x", "config_en_name": "x"}, s.admin, ta)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf(`Dictionary index key "colour" is already used by index %d`, id))
	dictIndex(t, s, tb, "colour", "B", "B")

	// Patch: only what differs; m_uid/utime move, c_uid/ctime and the key
	// stay.
	path := ugPath("/api/v1/dictionary/indexes", id)
	r = dictCall(t, s, http.MethodPatch, path, map[string]any{"config_name": "色", "config_en_name": "Color", "note": nil}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	p := r.obj(t)
	assert.Equal(t, "色", p["config_name"])
	assert.Equal(t, "Color", p["config_en_name"])
	assert.Equal(t, "paint", p["note"], "null leaves the note")
	assert.Equal(t, "colour", p["config_key"])
	assert.Equal(t, idx["ctime"], p["ctime"])
	assert.NotEqual(t, idx["utime"], p["utime"])
	require.NotEmpty(t, r.header.Get("X-Event-Position"))
	r = dictCall(t, s, http.MethodPatch, path, map[string]any{"config_name": "色", "config_key": "ignored"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.header.Get("X-Event-Position"), "no event for a patch that changes nothing")
	assert.Equal(t, p, r.obj(t))

	// Items: parent_id is the index; defaults; keys unique per index.
	items := ugPath(path, "items")
	r = dictCall(t, s, http.MethodPost, items, map[string]any{"config_key": "red", "config_name": "红", "config_en_name": "Red",
		"config_value": "#f00"}, s.admin, ta)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	red := r.obj(t)
	redID := ugInt(t, red["config_id"])
	assert.Equal(t, float64(id), red["parent_id"])
	assert.Equal(t, float64(0), red["key_order"], "key_order defaults to 0")
	assert.Equal(t, "#f00", red["config_value"])
	assert.Equal(t, "", red["note"])
	green := dictItem(t, s, ta, id, "green", 2, "#0f0")
	r = dictCall(t, s, http.MethodPost, items, map[string]any{"config_key": "red", "config_name": "r", "config_en_name": "r",
		"config_value": "x"}, s.admin, ta)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf(`Dictionary item key "red" is already used by item %d of index %d`, redID, id))
	dictItem(t, s, ta, ugInt(t, noNote["config_id"]), "red", 0, "small red")
	assert.Equal(t, []string{"green", "red"}, dictKeys(dictList(t, s, ta, items)))

	// Patch an item.
	itemPath := ugPath("/api/v1/dictionary/items", redID)
	r = dictCall(t, s, http.MethodPatch, itemPath, map[string]any{"key_order": 5, "config_value": "#ff0000", "note": "primary"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	pr := r.obj(t)
	assert.Equal(t, float64(5), pr["key_order"])
	assert.Equal(t, "#ff0000", pr["config_value"])
	assert.Equal(t, "primary", pr["note"])
	assert.Equal(t, "红", pr["config_name"])
	assert.Equal(t, float64(id), pr["parent_id"])

	// An index's id is not an item's, nor the other way round.
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/dictionary/items", id), map[string]any{"note": "x"}, s.admin, ta)
	ugDetail(t, r, http.StatusNotFound, domain.MsgDictionaryItemNotFound)
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/dictionary/indexes", redID), map[string]any{"note": "x"}, s.admin, ta)
	ugDetail(t, r, http.StatusNotFound, domain.MsgDictionaryIndexNotFound)
	r = dictCall(t, s, http.MethodGet, ugPath("/api/v1/dictionary/indexes", redID, "items"), nil, s.admin, ta)
	ugDetail(t, r, http.StatusNotFound, domain.MsgDictionaryIndexNotFound)
	r = dictCall(t, s, http.MethodPost, ugPath("/api/v1/dictionary/indexes", 999999, "items"), map[string]any{"config_key": "k",
		"config_name": "n", "config_en_name": "n", "config_value": "v"}, s.admin, ta)
	ugDetail(t, r, http.StatusNotFound, domain.MsgDictionaryIndexNotFound)

	// Removing an index with items is refused, whole: nothing is removed.
	head := s.head(t)
	r = dictCall(t, s, http.MethodDelete, path, nil, s.admin, ta)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf("Dictionary index %d still has 2 items", id))
	assert.Equal(t, head, s.head(t))
	assert.Len(t, dictList(t, s, ta, items), 2)

	r = dictCall(t, s, http.MethodDelete, itemPath, nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"detail": "Dictionary item deleted"}, r.body)
	r = dictCall(t, s, http.MethodDelete, itemPath, nil, s.admin, ta)
	ugDetail(t, r, http.StatusNotFound, domain.MsgDictionaryItemNotFound)
	r = dictCall(t, s, http.MethodDelete, path, nil, s.admin, ta)
	ugDetail(t, r, http.StatusConflict, fmt.Sprintf("Dictionary index %d still has 1 item", id))
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/dictionary/items", green["config_id"]), nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = dictCall(t, s, http.MethodDelete, path, nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"detail": "Dictionary index deleted"}, r.body)
	assert.Equal(t, []string{"size"}, dictKeys(dictList(t, s, ta, "/api/v1/dictionary/indexes")))
	// The key is free again.
	dictIndex(t, s, ta, "colour", "c", "c")
}

// Bad input is a FastAPI-style 422 (never a 500), and never writes.
func TestDictionary_Validation(t *testing.T) {
	t.Parallel()
	s := dictStart(t)
	ta := s.tenant(t, "A")
	idx := dictIndex(t, s, ta, "k", "n", "e")
	item := dictItem(t, s, ta, idx["config_id"], "i", 0, "v")
	head := s.head(t)

	long := func(n int) string { return strings.Repeat("x", n) }
	ok := map[string]any{"config_key": "new", "config_name": "n", "config_en_name": "e"}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<absent>" {
				delete(out, kv[i].(string))
				continue
			}
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	okItem := with(ok, "config_value", "v", "key_order", 1)
	indexes := "/api/v1/dictionary/indexes"
	items := ugPath(indexes, idx["config_id"], "items")
	for _, c := range []struct {
		method, path string
		body         any
		want         string
	}{
		{http.MethodPost, indexes, with(ok, "config_key", "<absent>"), "missing"},
		{http.MethodPost, indexes, with(ok, "config_name", "<absent>"), "missing"},
		{http.MethodPost, indexes, with(ok, "config_en_name", "<absent>"), "missing"},
		{http.MethodPost, indexes, with(ok, "config_key", ""), "string_too_short"},
		{http.MethodPost, indexes, with(ok, "config_key", long(129)), "string_too_long"},
		{http.MethodPost, indexes, with(ok, "config_name", long(65)), "string_too_long"},
		{http.MethodPost, indexes, with(ok, "config_en_name", long(65)), "string_too_long"},
		{http.MethodPost, indexes, with(ok, "config_key", "   "), "must not be empty"},
		{http.MethodPost, indexes, with(ok, "config_name", 7), ""},
		{http.MethodPost, indexes, "not an object", ""},
		{http.MethodPatch, ugPath(indexes, idx["config_id"]), map[string]any{"config_name": ""}, "string_too_short"},
		{http.MethodPatch, ugPath(indexes, idx["config_id"]), map[string]any{"config_en_name": long(65)}, "string_too_long"},
		{http.MethodPatch, ugPath(indexes, idx["config_id"]), map[string]any{"config_name": " "}, "must not be empty"},
		{http.MethodPatch, ugPath(indexes, "abc"), map[string]any{"note": "x"}, "int_parsing"},
		{http.MethodPost, items, with(okItem, "config_value", "<absent>"), "missing"},
		{http.MethodPost, items, with(okItem, "config_value", ""), "string_too_short"},
		{http.MethodPost, items, with(okItem, "key_order", "first"), ""},
		{http.MethodPost, items, with(okItem, "key_order", 1.5), ""},
		{http.MethodPost, items, with(okItem, "config_key", long(129)), "string_too_long"},
		{http.MethodPost, ugPath(indexes, "abc", "items"), okItem, "int_parsing"},
		{http.MethodPatch, ugPath("/api/v1/dictionary/items", item["config_id"]), map[string]any{"config_value": ""}, "string_too_short"},
		{http.MethodPatch, ugPath("/api/v1/dictionary/items", item["config_id"]), map[string]any{"key_order": "x"}, ""},
		{http.MethodDelete, ugPath("/api/v1/dictionary/items", "x"), nil, "int_parsing"},
		{http.MethodGet, indexes + ugQuery("sort_by", "note"), nil, "enum"},
		{http.MethodGet, indexes + ugQuery("sort_order", "up"), nil, "enum"},
		{http.MethodGet, items + ugQuery("sort_by", "ctime"), nil, "enum"},
	} {
		r := dictCall(t, s, c.method, c.path, c.body, s.admin, ta)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s %s %v: %s", c.method, c.path, c.body, r.raw)
		_, isList := r.detail().([]any)
		assert.True(t, isList, "FastAPI's shape: %s", r.raw)
		assert.Contains(t, r.raw, c.want, "%s %s %v", c.method, c.path, c.body)
	}
	r := dictCall(t, s, http.MethodGet, indexes, nil, s.admin, uuid.Nil)
	assert.NotEqual(t, http.StatusInternalServerError, r.status, r.raw)
	h := bearer(s.admin)
	h.Set(tenancy.HeaderTenantID, "not-a-uuid")
	r = s.do(t, http.MethodPost, indexes, ok, h)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Equal(t, head, s.head(t), "no bad request wrote")
	r = dictCall(t, s, http.MethodPost, indexes, ok, s.admin, uuid.New())
	ugDetail(t, r, http.StatusNotFound, "Tenant not found")
}

// Search and sort as the spec gives them: search is a case-insensitive
// substring (indexes: key and names; items: also the value), sort_by
// defaults to config_key, ties go by config_id.
func TestDictionary_SearchAndSort(t *testing.T) {
	t.Parallel()
	s := dictStart(t)
	ta := s.tenant(t, "A")
	dictIndex(t, s, ta, "b-size", "Alpha", "zeta")
	dictIndex(t, s, ta, "a-colour", "Charlie", "Yankee")
	c := dictIndex(t, s, ta, "c-shape", "bravo", "Xray")
	indexes := "/api/v1/dictionary/indexes"
	assert.Equal(t, []string{"a-colour", "b-size", "c-shape"}, dictKeys(dictList(t, s, ta, indexes)))
	assert.Equal(t, []string{"c-shape", "b-size", "a-colour"}, dictKeys(dictList(t, s, ta, indexes, "sort_order", "desc")))
	assert.Equal(t, []string{"b-size", "c-shape", "a-colour"}, dictKeys(dictList(t, s, ta, indexes, "sort_by", "config_name")))
	assert.Equal(t, []string{"c-shape", "a-colour", "b-size"}, dictKeys(dictList(t, s, ta, indexes, "sort_by", "config_en_name")))
	assert.Equal(t, []string{"b-size", "a-colour", "c-shape"},
		dictKeys(dictList(t, s, ta, indexes, "sort_by", "config_en_name", "sort_order", "desc")))
	assert.Equal(t, []string{"a-colour"}, dictKeys(dictList(t, s, ta, indexes, "search", "COLOUR")))
	assert.Equal(t, []string{"c-shape"}, dictKeys(dictList(t, s, ta, indexes, "search", "xRa")))
	assert.Equal(t, []string{"b-size", "c-shape"}, dictKeys(dictList(t, s, ta, indexes, "search", "-S")))
	assert.Empty(t, dictList(t, s, ta, indexes, "search", "%"), "LIKE's wildcards match themselves")

	id := c["config_id"]
	items := ugPath(indexes, id, "items")
	dictItem(t, s, ta, id, "square", 2, "4 sides")
	dictItem(t, s, ta, id, "circle", 3, "round")
	dictItem(t, s, ta, id, "triangle", 1, "3 sides")
	dictItem(t, s, ta, id, "oval", 1, "round-ish")
	assert.Equal(t, []string{"circle", "oval", "square", "triangle"}, dictKeys(dictList(t, s, ta, items)))
	assert.Equal(t, []string{"triangle", "oval", "square", "circle"}, dictKeys(dictList(t, s, ta, items, "sort_by", "key_order")),
		"ties of key_order by config_id")
	assert.Equal(t, []string{"circle", "square", "oval", "triangle"},
		dictKeys(dictList(t, s, ta, items, "sort_by", "key_order", "sort_order", "desc")))
	assert.Equal(t, []string{"triangle", "square", "circle", "oval"}, dictKeys(dictList(t, s, ta, items, "sort_by", "config_value")))
	assert.Equal(t, []string{"circle", "oval"}, dictKeys(dictList(t, s, ta, items, "search", "ROUND")))
	assert.Equal(t, []string{"square"}, dictKeys(dictList(t, s, ta, items, "search", "name squ")))
	assert.Equal(t, []string{"triangle"}, dictKeys(dictList(t, s, ta, items, "search", "en TRI")), "the English name")
}

// Tenancy and RBAC: another tenant's index or item is 404 (never changed,
// never listed); a viewer reads but does not write (403); a user without a
// role in the tenant is refused.
func TestDictionary_TenantsAndRoles(t *testing.T) {
	t.Parallel()
	s := dictStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	ia := dictIndex(t, s, ta, "a", "A's", "A's")
	ib := dictIndex(t, s, tb, "b", "B's", "B's")
	itemB := dictItem(t, s, tb, ib["config_id"], "secret", 0, "B's value")
	dictItem(t, s, ta, ia["config_id"], "open", 0, "A's value")

	// The superuser acting in A meets none of B's.
	head := s.head(t)
	bIndex, bItem := ugPath("/api/v1/dictionary/indexes", ib["config_id"]), ugPath("/api/v1/dictionary/items", itemB["config_id"])
	for _, c := range []struct {
		method, path string
		body         any
		want         string
	}{
		{http.MethodGet, bIndex + "/items", nil, domain.MsgDictionaryIndexNotFound},
		{http.MethodPost, bIndex + "/items", map[string]any{"config_key": "x", "config_name": "x", "config_en_name": "x", "config_value": "x"}, domain.MsgDictionaryIndexNotFound},
		{http.MethodPatch, bIndex, map[string]any{"note": "mine"}, domain.MsgDictionaryIndexNotFound},
		{http.MethodDelete, bIndex, nil, domain.MsgDictionaryIndexNotFound},
		{http.MethodPatch, bItem, map[string]any{"note": "mine"}, domain.MsgDictionaryItemNotFound},
		{http.MethodDelete, bItem, nil, domain.MsgDictionaryItemNotFound},
	} {
		r := dictCall(t, s, c.method, c.path, c.body, s.admin, ta)
		ugDetail(t, r, http.StatusNotFound, c.want)
		assert.NotContains(t, r.raw, "B's")
	}
	assert.Equal(t, head, s.head(t), "nothing written")
	assert.Equal(t, []string{"a"}, dictKeys(dictList(t, s, ta, "/api/v1/dictionary/indexes")))
	assert.Equal(t, []string{"secret"}, dictKeys(dictList(t, s, tb, bIndex+"/items")))

	// A viewer of A reads A's dictionary and writes nothing; in B it holds
	// nothing.
	eve := s.user(t, "eve", "")
	token := s.login(t, "eve", ugPassword).access
	s.grantRole(t, s.admin, ta, eve, "viewer")
	aIndex := ugPath("/api/v1/dictionary/indexes", ia["config_id"])
	r := dictCall(t, s, http.MethodGet, "/api/v1/dictionary/indexes", nil, token, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.objects(t), 1)
	r = dictCall(t, s, http.MethodGet, aIndex+"/items", nil, token, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	head = s.head(t)
	aItem := ugPath("/api/v1/dictionary/items", dictList(t, s, ta, aIndex+"/items")[0]["config_id"])
	for _, r := range []reply{
		dictCall(t, s, http.MethodPost, "/api/v1/dictionary/indexes", map[string]any{"config_key": "v", "config_name": "v", "config_en_name": "v"}, token, ta),
		dictCall(t, s, http.MethodPatch, aIndex, map[string]any{"note": "x"}, token, ta),
		dictCall(t, s, http.MethodDelete, aIndex, nil, token, ta),
		dictCall(t, s, http.MethodPost, aIndex+"/items", map[string]any{"config_key": "v", "config_name": "v", "config_en_name": "v", "config_value": "v"}, token, ta),
		dictCall(t, s, http.MethodPatch, aItem, map[string]any{"note": "x"}, token, ta),
		dictCall(t, s, http.MethodDelete, aItem, nil, token, ta),
		dictCall(t, s, http.MethodGet, "/api/v1/dictionary/indexes", nil, token, tb),
		dictCall(t, s, http.MethodGet, bIndex+"/items", nil, token, tb),
	} {
		requireForbidden(t, r)
	}
	r = s.call(t, http.MethodGet, "/api/v1/dictionary/indexes", nil, "")
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.status, "no credentials: %s", r.raw)
	assert.Equal(t, head, s.head(t), "the viewer wrote nothing")
}

// The aggregate's AuditState is what the lists answer; every event names
// its tenant; rebuilding the projection from position 0 gives identical
// rows.
func TestDictionary_AuditStateAndRebuild(t *testing.T) {
	t.Parallel()
	s := dictStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	// Over 16 events in A's stream, so that its loads start from a snapshot.
	var idx []any
	for i := range 4 {
		idx = append(idx, dictIndex(t, s, ta, fmt.Sprintf("k%d", i), fmt.Sprintf("Index %d", i), fmt.Sprintf("En %d", i))["config_id"])
	}
	var items []any
	for i := range 12 {
		items = append(items, dictItem(t, s, ta, idx[i%3], fmt.Sprintf("item%d", i), 12-i, fmt.Sprint("value ", i))["config_id"])
	}
	dictIndex(t, s, tb, "k0", "B", "B")
	for i, id := range items[:4] {
		r := dictCall(t, s, http.MethodPatch, ugPath("/api/v1/dictionary/items", id), map[string]any{"note": fmt.Sprint("n", i), "key_order": i}, s.admin, ta)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	r := dictCall(t, s, http.MethodDelete, ugPath("/api/v1/dictionary/items", items[5]), nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/dictionary/indexes", idx[3]), nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/dictionary/indexes", idx[0]), map[string]any{"config_name": "Renamed"}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	ctx := context.Background()
	repo := s.app.Deps().Repository
	d, err := commands.LoadDictionary(ctx, repo, ta)
	require.NoError(t, err)
	state := d.AuditState().(domain.DictionaryState)
	entry := func(m map[string]any) domain.DictionaryEntry {
		return domain.DictionaryEntry{ConfigID: ugInt(t, m["config_id"]), ParentID: ugInt(t, m["parent_id"]),
			ConfigKey: m["config_key"].(string), ConfigName: m["config_name"].(string), ConfigEnName: m["config_en_name"].(string),
			KeyOrder: ugInt(t, m["key_order"]), ConfigValue: m["config_value"].(string), Note: m["note"].(string)}
	}
	var listedIdx, listedItems []domain.DictionaryEntry
	for _, m := range dictList(t, s, ta, "/api/v1/dictionary/indexes") {
		listedIdx = append(listedIdx, entry(m))
		for _, it := range dictList(t, s, ta, ugPath("/api/v1/dictionary/indexes", m["config_id"], "items")) {
			listedItems = append(listedItems, entry(it))
		}
	}
	assert.ElementsMatch(t, listedIdx, state.Indexes)
	assert.ElementsMatch(t, listedItems, state.Items)
	require.Len(t, state.Indexes, 3)
	require.Len(t, state.Items, 11)

	// Folded without snapshots, the state is the same.
	plain := domain.LoadDictionary(ta)
	require.NoError(t, repo.LoadUntil(ctx, plain, 1<<40))
	assert.Equal(t, state, plain.AuditState())

	// Every event names its tenant in its metadata and its row.
	var total, untagged int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE
    (metadata->>'tenant_id') IS DISTINCT FROM substr(stream_id, 12) OR tenant_id IS DISTINCT FROM substr(stream_id, 12)::uuid)
FROM events WHERE stream_id LIKE 'dictionary-%'`).Scan(&total, &untagged))
	assert.Equal(t, 4+12+1+4+1+1+1, total)
	assert.Zero(t, untagged)

	live := dictDump(t, s)
	require.Len(t, live, 1+3+11)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "dictionary", nil))
	assert.Equal(t, live, dictDump(t, s), "rebuilt from position 0")
}

// A tenant that still has dictionary entries is not removed (409); once
// they are gone, it is.
func TestDictionary_TenantRemoval(t *testing.T) {
	t.Parallel()
	h := startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Dictionary{}, app.Permissions{}, app.TenantGrants{}}})
	s := &ugServer{harness: h}
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Lookup Co"}, s.admin)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := uuid.MustParse(r.obj(t)["tenant_id"].(string))
	idx := dictIndex(t, s, tenant, "k", "n", "e")
	item := dictItem(t, s, tenant, idx["config_id"], "i", 0, "v")

	path := ugPath("/api/v1/tenants", tenant)
	requireDetail(t, s.call(t, http.MethodDelete, path, nil, s.admin), http.StatusConflict,
		`Tenant "Lookup Co" still has 2 dictionary entries`)
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/dictionary/items", item["config_id"]), nil, s.admin, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/dictionary/indexes", idx["config_id"]), nil, s.admin, tenant)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireDetail(t, s.call(t, http.MethodDelete, path, nil, s.admin), http.StatusOK, "Tenant deleted")
}
