package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
)

// BenchmarkPermissionCheck measures what the privilege check costs one
// request: GET /api/v1/orgs?tenant-id=A as the tenant admin of A (not a
// superuser), so the Enforcer reads the caller's privileges in A before
// the handler runs. Server-side latency (router, authentication, the
// check, the handler, JSON), p50 and p99 over b.N requests, beside the
// same request with the checks switched off (the server's Authorizer set
// to nil, in alternating rounds on the same App and database): the raw
// figures; the difference is the check. It also times the check itself,
// the App's access.Checker.Scope (through its cache: check_p50_ms,
// check_p99_ms; target p99 < 0.2 ms), and the same question asked of
// PostgreSQL without the cache (query_p50_ms, query_p99_ms). The privileges read model holds 20 tenants and
// 100 users with roles in them.
//
//	go test -run '^$' -bench 'BenchmarkPermissionCheck' -benchtime 2000x ./app/
func BenchmarkPermissionCheck(b *testing.B) {
	const tenants, users, orgs = 20, 100, 10
	lat := &listLatencies{path: "/api/v1/orgs"}
	w := accStart(b, options{wrap: lat.wrap})
	ids := make([]string, tenants)
	for i := range ids {
		r := w.su(b, http.StatusCreated, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": fmt.Sprintf("bench tenant %02d", i)}, "")
		ids[i] = r.obj(b)["tenant_id"].(string)
	}
	roles := []string{"viewer", "developer", "business_admin", "tenant_admin"}
	for i := range users {
		u := w.newUser(b, fmt.Sprintf("bench%03d", i), accPassword)
		for k := range 3 {
			w.su(b, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles",
				map[string]any{"tenant_id": ids[(i+k*7)%tenants], "uid": u.id, "role_id": roles[(i+k)%len(roles)]}, "")
		}
	}
	a := ids[0]
	admin := w.newUser(b, "bench_admin_a", accPassword)
	w.su(b, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": a, "uid": admin.id, "role_id": "tenant_admin"}, "")
	for i := range orgs {
		w.su(b, http.StatusCreated, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": a, "org_name": fmt.Sprintf("org %d", i), "parent_org_id": 0}, "")
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	url := w.base + "/api/v1/orgs?tenant-id=" + a
	one := func() {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin.token)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("status %d, %.200s, %v", res.StatusCode, body, err)
		}
	}
	server := w.app.Server()
	enforcer, ok := server.Authorizer().(*access.Enforcer)
	if !ok {
		b.Fatalf("the App's Authorizer is %T", server.Authorizer())
	}
	checks := func(on bool) {
		if on {
			server.SetAuthorizer(enforcer)
		} else {
			server.SetAuthorizer(nil)
		}
	}
	// A caller without the privilege is refused while checks are on (the
	// benchmark measures a real check).
	outsider := w.newUser(b, "bench_outsider", accPassword)
	if r := w.call(b, http.MethodGet, "/api/v1/orgs?tenant-id="+a, nil, outsider.token); r.status != http.StatusForbidden {
		b.Fatalf("outsider: %d %s", r.status, r.raw)
	}

	ctx := context.Background()
	checker := enforcer.Checker                    // the App's, with its cache
	uncached := access.Checker{Pool: w.app.Pool()} // the query alone
	tenant := uuid.MustParse(a)
	var checkTook, queryTook []time.Duration
	check := func() {
		for _, c := range []struct {
			k    access.Checker
			took *[]time.Duration
		}{{checker, &checkTook}, {uncached, &queryTook}} {
			start := time.Now()
			s, err := c.k.Scope(ctx, admin.id, tenant, "orgs", "read")
			*c.took = append(*c.took, time.Since(start))
			if err != nil || !s.All {
				b.Fatalf("scope %+v, %v", s, err)
			}
		}
	}

	for range 200 { // warm every path
		one()
		check()
	}
	checks(false)
	for range 200 {
		one()
	}
	checks(true)
	lat.reset()
	checkTook, queryTook = checkTook[:0], queryTook[:0]
	b.ResetTimer()
	per := max(b.N/benchRounds, 1)
	var took, raw []time.Duration
	for range benchRounds {
		for range per {
			one()
		}
		took = append(took, lat.reset()...)
		b.StopTimer()
		checks(false)
		for range per {
			one()
		}
		raw = append(raw, lat.reset()...)
		checks(true)
		for range per {
			check()
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportLatencies(b, took, raw)
	b.ReportMetric(percentile(checkTook, 50), "check_p50_ms")
	b.ReportMetric(percentile(checkTook, 99), "check_p99_ms")
	b.ReportMetric(percentile(queryTook, 50), "query_p50_ms")
	b.ReportMetric(percentile(queryTook, 99), "query_p99_ms")
}
