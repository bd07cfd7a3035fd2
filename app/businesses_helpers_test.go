package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The superuser every businesses test server bootstraps.
const (
	bizAdmin         = "bizadmin"
	bizAdminPassword = "bizadmin-password-1"
	bizPassword      = "user-password-1"
	bizPath          = "/api/v1/businesses"
)

// bizWorld is an App with the Identity, Flows, Projects, Tenants and
// Businesses modules on a real listener, and its superuser signed in.
type bizWorld struct {
	*harness
	admin caller
}

// bizStart serves a fresh App (see bizWorld) until the test ends.
func bizStart(t *testing.T) *bizWorld {
	t.Helper()
	h := startApp(t, options{
		env: adminEnv(bizAdmin, bizAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Flows{}, app.Projects{}, app.Tenants{}, app.Businesses{},
			app.Permissions{}, app.TenantGrants{}},
	})
	return &bizWorld{harness: h, admin: h.signIn(t, bizAdmin, bizAdminPassword)}
}

// tenant adds an active tenant called name (POST /api/v1/tenants).
func (w *bizWorld) tenant(t *testing.T, name string) uuid.UUID {
	t.Helper()
	r := w.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, w.admin.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	id, err := uuid.Parse(r.obj(t)["tenant_id"].(string))
	require.NoError(t, err)
	return id
}

// addBody is the body of Add Business.
func bizBody(tenant uuid.UUID, name string, level int, first, second int64, more ...map[string]any) map[string]any {
	body := map[string]any{"tenant_id": tenant, "business_name": name, "business_level": level,
		"first_business_id": first, "second_business_id": second}
	for _, m := range more {
		for k, v := range m {
			body[k] = v
		}
	}
	return body
}

// add adds a business as the superuser, requires 201 and returns it.
func (w *bizWorld) add(t *testing.T, tenant uuid.UUID, name string, level int, first, second int64, more ...map[string]any) map[string]any {
	t.Helper()
	r := w.call(t, http.MethodPost, bizPath, bizBody(tenant, name, level, first, second, more...), w.admin.token)
	require.Equal(t, http.StatusCreated, r.status, "add %s: %s", name, r.raw)
	return r.obj(t)
}

// patch patches business id as the superuser and requires want.
func (w *bizWorld) patch(t *testing.T, id int64, body map[string]any, want int) reply {
	t.Helper()
	r := w.call(t, http.MethodPatch, bizIDPath(id), body, w.admin.token)
	require.Equal(t, want, r.status, "patch %d %v: %s", id, body, r.raw)
	return r
}

// get sends a GET as token with the X-Tenant-Id header (uuid.Nil: none).
func (w *bizWorld) get(t *testing.T, path, token string, tenant uuid.UUID) reply {
	t.Helper()
	return w.send(t, http.MethodGet, path, nil, token, tenant)
}

// send sends body (nil: none) as token with the X-Tenant-Id header
// (uuid.Nil: none).
func (w *bizWorld) send(t *testing.T, method, path string, body any, token string, tenant uuid.UUID) reply {
	t.Helper()
	h := withToken(token)
	if tenant != uuid.Nil {
		if h == nil {
			h = http.Header{}
		}
		h.Set(tenancy.HeaderTenantID, tenant.String())
	}
	return w.do(t, method, path, body, h)
}

// refused requires a write on one business of tenant by a caller without
// the privilege to be refused: 404 "Business not found" when the request
// acts in another tenant (naming none: the system tenant), so nothing is
// learnt of the business; 403 when it names the business's own tenant.
func (w *bizWorld) refused(t *testing.T, method, path string, body any, token string, tenant uuid.UUID) {
	t.Helper()
	requireDetail(t, w.send(t, method, path, body, token, uuid.Nil), http.StatusNotFound, "Business not found", method, path)
	requireForbidden(t, w.send(t, method, path, body, token, tenant), method, path)
}

// list reads Read Businesses of tenant with query (url-encoded filters).
func (w *bizWorld) list(t *testing.T, tenant uuid.UUID, query string) []map[string]any {
	t.Helper()
	r := w.get(t, bizPath+"?"+bizQuery(tenant, query), w.admin.token, uuid.Nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// tree reads Read Business Tree of tenant with query.
func (w *bizWorld) tree(t *testing.T, tenant uuid.UUID, query string) []any {
	t.Helper()
	r := w.get(t, bizPath+"/tree?"+bizQuery(tenant, query), w.admin.token, uuid.Nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.list(t)
}

func bizQuery(tenant uuid.UUID, query string) string {
	q := "tenant-id=" + url.QueryEscape(tenant.String())
	if query != "" {
		q += "&" + query
	}
	return q
}

// bizIDPath is the path of business id, with more segments.
func bizIDPath(id int64, more ...string) string {
	return strings.Join(append([]string{fmt.Sprintf("%s/%d", bizPath, id)}, more...), "/")
}

// bizID reads the business_id of a business.
func bizID(t *testing.T, b map[string]any) int64 {
	t.Helper()
	f, ok := b["business_id"].(float64)
	require.True(t, ok, "no business_id in %v", b)
	return int64(f)
}

// bizPlace is (first, second, third)_business_id of a business.
func bizPlace(b map[string]any) [3]int64 {
	return [3]int64{int64(b["first_business_id"].(float64)), int64(b["second_business_id"].(float64)),
		int64(b["third_business_id"].(float64))}
}

// bizNames lists the business_name of each business, in order.
func bizNames(list []map[string]any) []string {
	out := make([]string, len(list))
	for i, b := range list {
		out[i] = b["business_name"].(string)
	}
	return out
}

// bizShape writes a tree as "A[A1[A1x,A1y],A2],B" (names, children in
// brackets), to compare trees at a glance.
func bizShape(t *testing.T, nodes []any) string {
	t.Helper()
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		m, ok := n.(map[string]any)
		require.True(t, ok, "node %v", n)
		kids, ok := m["children"].([]any)
		require.True(t, ok, "children of %v must be a list", m["business_name"])
		parts[i] = m["business_name"].(string)
		if len(kids) > 0 {
			parts[i] += "[" + bizShape(t, kids) + "]"
		}
	}
	return strings.Join(parts, ",")
}

// bizFlatten lists the nodes of a tree depth first, without their
// children: what Read Businesses answers for the same tenant.
func bizFlatten(nodes []any) []map[string]any {
	var out []map[string]any
	for _, n := range nodes {
		m := n.(map[string]any)
		flat := map[string]any{}
		for k, v := range m {
			if k != "children" {
				flat[k] = v
			}
		}
		out = append(out, flat)
		out = append(out, bizFlatten(m["children"].([]any))...)
	}
	return out
}

// rows returns each row of query as text, for comparisons of whole tables.
func (w *bizWorld) rows(t *testing.T, query string, args ...any) []string {
	t.Helper()
	return w.textRows(t, query, args...)
}

// bizSorted returns ids sorted ascending.
func bizSorted(ids ...int64) []int64 {
	out := append([]int64(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
