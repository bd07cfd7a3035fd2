package app_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
)

// The access matrix: every operation the server documents (its
// /openapi.json, so a new route is covered the day it is registered) ×
// five callers, each request naming tenant A (X-Tenant-Id, and the
// operation's tenant_id / tenant-id query parameters) and filled with the
// ids of A's objects (or victims created for the destructive routes).
//
// The expected outcome comes from the operation's x-access and the
// caller's role, by these rules (the role × privilege catalogue of
// domain/permission_seed.go):
//   - anonymous: refused before anything else (401, or Langflow's 403
//     "An API key must be passed as query or header");
//   - superuser: allowed everywhere;
//   - "superuser": 403 for every other caller;
//   - "signed in": allowed for every signed-in caller (the handler only
//     touches the caller's own account: /users/{user_id} is the caller's
//     own id);
//   - "m.p" (a tenant operation): tenant_admin of A holds every privilege
//     of A, viewer of A holds only read, the member of B holds nothing in
//     A: 403;
//   - "own resources, or m.p": two variants. "A": the resource is the
//     superuser's, placed in tenant A (flows, templates made of them):
//     the rule of "m.p"; a project (projects have no tenant) is the
//     superuser's personal one: every other caller is refused (403, or
//     404 as Langflow hides another user's workspace). "own": the
//     caller's own resources, naming no tenant: allowed for every
//     signed-in caller.
//   - the build API's jobs ({job_id}) follow their flow: variant A is a
//     job the superuser ran of its flow placed in A, "own" a job the
//     caller ran of its own flow (the rule of "own resources, or
//     flows.run");
//   - the files and monitor routes (v1 flow files, v2 user files, the
//     monitor, the public chat's messages) have rules and a third variant
//     of their own: see access_fm_test.go.
//
// Allowed means not 401/403 and not 5xx; an allowed GET of real ids must
// answer 2xx. Forbidden means 403 (401 for anonymous). A route's callers
// run in order, least privileged first, so a refused caller always meets
// the objects an allowed one may remove after it; routes run in parallel,
// each on its own objects where it changes or removes them (Delete All
// Files runs last, as it removes what other routes read).

// accCase's variant is "A" (A's objects, tenant A named), "own", or
// (files and monitor routes) "unnamed" (A's objects, no tenant named).
type accCase struct {
	op      accOp
	variant string
	who     string
}

// accExpect is the expected outcome of a case: allowed, or the statuses a
// refusal may have.
func accExpect(c accCase) (allowed bool, refusals []int) {
	switch {
	case c.who == accAnon:
		return false, []int{http.StatusUnauthorized, http.StatusForbidden}
	case c.who == accSuper:
		return true, nil
	case c.op.access == "superuser":
		return false, []int{http.StatusForbidden}
	case c.op.access == "signed in":
		return true, nil
	case c.variant == "own":
		return true, nil
	}
	priv := c.op.access
	if i := strings.LastIndex(priv, ", or "); i >= 0 {
		priv = priv[i+len(", or "):]
		if strings.Contains(c.op.path, "{project_id}") {
			// The superuser's personal project: not A's.
			return false, []int{http.StatusForbidden, http.StatusNotFound}
		}
	}
	module, p, _ := strings.Cut(priv, ".")
	_ = module
	switch c.who {
	case accAdminA:
		return true, nil
	case accViewerA:
		if p == "read" {
			return true, nil
		}
	}
	return false, []int{http.StatusForbidden}
}

// accPathIDs fills the path parameters of a case.
func (w *accWorld) accPathIDs(c accCase) map[string]string {
	del := c.op.method == http.MethodDelete
	pick := func(normal, victim string) string {
		if del {
			return w.ids[victim]
		}
		return w.ids[normal]
	}
	self := c.who
	if self == accAnon {
		self = accViewerA
	}
	ids := map[string]string{
		"version_id": "2", "other_version_id": "1",
		"flow_id":      pick("flow", "v_flow"),
		"template_id":  pick("template", "v_template"),
		"project_id":   pick("project", "v_project"),
		"business_id":  w.ids["business"],
		"uid":          w.ids["v_biz_uid"],
		"org_id":       pick("org", "v_org"),
		"group_id":     pick("group", "v_group"),
		"index_id":     pick("dict_index", "v_dict_index"),
		"item_id":      pick("dict_item", "v_dict_item"),
		"config_id":    pick("config", "v_config"),
		"component_id": pick("component", "v_component"),
		"provider_id":  pick("provider", "v_provider"),
		"model_id":     pick("model", "v_model"),
		"server_name":  pick("mcp_server", "v_mcp_server"),
		"module_id":    "flows",
		"flow_name":    "explain_flow",
		"priv_id":      "accpatch",
		"role_id":      "accrole",
		"tenant_id":    w.A,
		"user_id":      fmt.Sprint(w.users[self].id),
		"api_key_id":   uuid.NewString(),
		"job_id":       w.ids["job"],
		// The run API's flows: A's flow, or (own) the caller's.
		"flow_id_or_name": w.ids["flow"],
	}
	p := c.op.path
	if strings.HasPrefix(p, "/api/v1/component-groups/") {
		ids["group_id"] = pick("comp_group", "v_comp_group")
	}
	switch {
	case strings.HasSuffix(p, "/rollback"):
		ids["version_id"] = "1"
	case strings.HasSuffix(p, "/online") && del:
		ids["flow_id"] = w.ids["flow_off"]
	case strings.HasSuffix(p, "/flows/{flow_id}") && del:
		ids["flow_id"] = w.ids["v_flow"]
	case strings.HasPrefix(p, "/api/v1/flows/{flow_id}"):
		ids["flow_id"] = w.ids["flow"]
	}
	if p == "/api/v2/mcp/servers/{server_name}" && c.op.method == http.MethodPost {
		ids["server_name"] = "acc-new-" + strings.NewReplacer("_", "", "-", "").Replace(c.who+"-"+c.variant)
	}
	switch {
	case p == "/api/v1/businesses/{business_id}" && del:
		ids["business_id"] = w.ids["v_business"]
	case strings.HasPrefix(p, "/api/v1/businesses/"):
		ids["relation_id"] = w.ids["v_biz_rel"]
	case strings.HasPrefix(p, "/api/v1/tenants/user-roles/"):
		ids["relation_id"] = w.ids["v_user_rel"]
	case strings.HasPrefix(p, "/api/v1/tenants/group-roles/"):
		ids["relation_id"] = w.ids["v_group_rel"]
	case strings.HasPrefix(p, "/api/v1/tenants/org-roles/"):
		ids["relation_id"] = w.ids["v_org_rel"]
	case strings.HasPrefix(p, "/api/v1/org-members/"):
		ids["member_id"] = pick("org_member", "v_org_member")
	case strings.HasPrefix(p, "/api/v1/user-group-members/"):
		ids["member_id"] = pick("group_member", "v_group_member")
	case p == "/api/v1/tenants/{tenant_id}" && del:
		ids["tenant_id"] = w.V
	case p == "/api/v1/users/{user_id}" && del:
		ids["user_id"] = w.ids["v_user"]
	case p == "/api/v1/permissions/modules/{module_id}/privs/{priv_id}" && del:
		ids["priv_id"] = "accdel"
	case p == "/api/v1/permissions/roles/{role_id}/privs/{module_id}/{priv_id}":
		ids["priv_id"] = "read"
	case p == "/api/v1/permissions/roles/{role_id}" && del:
		ids["role_id"] = "accroledel"
	case p == "/api/v1/permissions/roles/{role_id}/privs" && c.op.method == http.MethodGet:
		ids["role_id"] = "viewer"
	}
	if c.variant == "own" {
		o := w.own[self]
		ids["flow_id"], ids["template_id"], ids["project_id"], ids["job_id"] = o.flow, o.tpl, o.proj, o.job
		ids["flow_id_or_name"] = o.flow
		switch {
		case strings.HasSuffix(p, "/online") && del:
			ids["flow_id"] = o.flowOff
		case p == "/api/v1/flows/{flow_id}" && del:
			ids["flow_id"] = o.flowDel
		case del:
			ids["template_id"], ids["project_id"] = o.tplDel, o.projDel
		}
	}
	w.accFMPathIDs(c, ids)
	return ids
}

// accBody is the body a case sends (a valid one: an allowed caller's
// write goes through).
func (w *accWorld) accBody(c accCase) any {
	if b, ok := w.accFMBody(c); ok {
		return b
	}
	tag := c.who + "-" + c.variant
	tenant := func(m map[string]any) map[string]any {
		if c.variant == "A" {
			m["tenant_id"] = w.A
		}
		return m
	}
	o := w.own[c.who]
	if o == nil {
		o = w.own[accViewerA]
	}
	short := strings.NewReplacer("_", "", "-", "").Replace(tag)
	switch c.op.key() {
	case "POST /api/v1/api_key/":
		return map[string]any{"name": "key " + tag}
	case "POST /api/v1/businesses":
		return map[string]any{"tenant_id": w.A, "business_name": "acc biz " + tag, "business_level": 1, "first_business_id": 0, "second_business_id": 0}
	case "PATCH /api/v1/businesses/{business_id}", "PATCH /api/v1/orgs/{org_id}", "PATCH /api/v1/user-groups/{group_id}", "PATCH /api/v1/tenants/{tenant_id}":
		return map[string]any{"note": "patched by " + tag}
	case "DELETE /api/v1/businesses/{business_id}/user-roles":
		return map[string]any{"ids": []any{intOf(w.ids["v_biz_rel_bulk"])}}
	case "PUT /api/v1/businesses/{business_id}/user-roles":
		return map[string]any{"uid": intOf(w.ids["spare_uid"]), "role_ids": []string{"viewer"}}
	case "DELETE /api/v1/flows/":
		if c.variant == "own" {
			return []string{o.flowBulk}
		}
		return []string{w.ids["v_flow_bulk"]}
	case "POST /api/v1/flows/download/":
		if c.variant == "own" {
			return []string{o.flow}
		}
		return []string{w.ids["flow"]}
	case "POST /api/v1/flows/":
		return tenant(map[string]any{"name": "acc new flow " + tag})
	case "POST /api/v2/workflow":
		if c.variant == "own" {
			return map[string]any{"flow_id": o.flow}
		}
		return map[string]any{"flow_id": w.ids["flow"]}
	case "POST /api/v2/workflow/stop":
		if c.variant == "own" {
			return map[string]any{"job_id": o.wfJob}
		}
		return map[string]any{"job_id": w.ids["wf_job"]}
	case "POST /api/v1/build/{flow_id}/flow", "POST /api/v1/build_public_tmp/{flow_id}/flow":
		return map[string]any{"inputs": map[string]any{"input_value": "acc " + tag}}
	case "POST /api/v1/responses":
		return map[string]any{"model": w.ids["flow"], "input": "acc " + tag}
	case "POST /api/v1/agentic/execute/{flow_name}", "POST /api/v1/agentic/assist", "POST /api/v1/agentic/assist/stream":
		if c.variant == "own" {
			return map[string]any{"flow_id": o.flow, "input_value": "acc " + tag, "max_retries": 0}
		}
		return map[string]any{"flow_id": w.ids["flow"], "input_value": "acc " + tag, "max_retries": 0}
	case "POST /api/v1/run/{flow_id_or_name}", "POST /api/v1/run/dev/{flow_id_or_name}", "POST /api/v1/run/online/{flow_id_or_name}",
		"POST /api/v1/run/release/{flow_id_or_name}":
		return map[string]any{"input_value": "acc " + tag}
	case "POST /api/v1/run/advanced/{flow_id_or_name}":
		return map[string]any{"inputs": []any{map[string]any{"input_value": "acc " + tag}}}
	case "POST /api/v1/flows/batch/":
		return map[string]any{"flows": []any{tenant(map[string]any{"name": "acc batch flow " + tag})}}
	case "PATCH /api/v1/flows/{flow_id}", "PATCH /api/v1/flow-templates/{template_id}", "PATCH /api/v1/projects/{project_id}":
		return map[string]any{"description": "patched by " + tag}
	case "POST /api/v1/flows/{flow_id}/templates":
		return map[string]any{"name": "acc template " + tag}
	case "POST /api/v1/flows/{flow_id}/versions":
		return map[string]any{"version": "v " + tag}
	case "POST /api/v1/org-members":
		return map[string]any{"tenant_id": w.A, "org_id": intOf(w.ids["org"]), "uids": []int64{intOf(w.ids["spare_uid"])}, "position": "p", "job": "j", "is_leader": false}
	case "PATCH /api/v1/org-members/{member_id}":
		return map[string]any{"job": "job of " + tag}
	case "POST /api/v1/orgs":
		return map[string]any{"tenant_id": w.A, "org_name": "acc org " + tag, "parent_org_id": 0}
	case "POST /api/v1/permissions/modules/{module_id}/privs":
		return map[string]any{"priv_id": "n" + short, "priv_name": "New " + tag, "is_sys_priv": false}
	case "PATCH /api/v1/permissions/modules/{module_id}/privs/{priv_id}":
		return map[string]any{"priv_name": "Patched " + tag}
	case "POST /api/v1/permissions/roles":
		return map[string]any{"role_id": "r" + short[:min(len(short), 30)], "role_name": "Role " + tag}
	case "PATCH /api/v1/permissions/roles/{role_id}":
		return map[string]any{"role_name": "Patched " + tag}
	case "POST /api/v1/permissions/roles/{role_id}/privs":
		return map[string]any{"module_id": "flows", "priv_id": "write"}
	case "POST /api/v1/projects/":
		return map[string]any{"name": "acc project " + tag}
	case "POST /api/v1/tenants":
		return map[string]any{"tenant_name": "acc new tenant " + tag}
	case "POST /api/v1/tenants/user-roles":
		return map[string]any{"tenant_id": w.A, "uid": intOf(w.ids["spare_uid"]), "role_id": "developer"}
	case "POST /api/v1/tenants/group-roles":
		return map[string]any{"tenant_id": w.A, "group_id": intOf(w.ids["group"]), "role_id": "business_admin"}
	case "POST /api/v1/tenants/org-roles":
		return map[string]any{"tenant_id": w.A, "org_id": intOf(w.ids["org"]), "role_id": "business_admin"}
	case "DELETE /api/v1/tenants/user-roles":
		return map[string]any{"ids": []any{intOf(w.ids["v_user_rel_bulk"])}}
	case "DELETE /api/v1/tenants/group-roles":
		return map[string]any{"ids": []any{intOf(w.ids["v_group_rel_bulk"])}}
	case "DELETE /api/v1/tenants/org-roles":
		return map[string]any{"ids": []any{intOf(w.ids["v_org_rel_bulk"])}}
	case "POST /api/v1/user-group-members":
		return map[string]any{"group_id": intOf(w.ids["group"]), "uid": intOf(w.ids["spare_uid"]), "is_leader": false}
	case "PATCH /api/v1/user-group-members/{member_id}":
		return map[string]any{"is_leader": false}
	case "POST /api/v1/user-groups":
		return map[string]any{"tenant_id": w.A, "group_name": "acc group " + tag}
	case "POST /api/v1/component-groups":
		return map[string]any{"group_name": "Acc group " + tag, "group_en_name": "acc-group-" + tag, "component_type": "bundle"}
	case "PATCH /api/v1/component-groups/{group_id}":
		return map[string]any{"note": "patched by " + tag}
	case "POST /api/v1/components":
		return map[string]any{"component_group_id": intOf(w.ids["comp_group"]), "component_name": "Acc component " + tag, "code": "# " + tag}
	case "PATCH /api/v1/components/{component_id}":
		return map[string]any{"code": "# patched by " + tag, "version_note": tag}
	case "POST /api/v1/configs":
		return map[string]any{"config_key": "ACC_CONFIG_" + tag, "config_name": "Acc config " + tag, "config_value": "value " + tag}
	case "PATCH /api/v1/configs/{config_id}":
		return map[string]any{"note": "patched by " + tag}
	case "POST /api/v1/model-management/providers":
		return map[string]any{"provider_key": "acc-" + tag, "provider_name": "Acc " + tag, "variable_name": "ACC_KEY", "model_class": "ChatOpenAI"}
	case "PATCH /api/v1/model-management/providers/{provider_id}", "PATCH /api/v1/model-management/models/{model_id}":
		return map[string]any{"note": "patched by " + tag}
	case "DELETE /api/v1/model-management/providers":
		return map[string]any{"ids": []any{intOf(w.ids["v_provider_bulk"])}}
	case "POST /api/v1/model-management/models":
		return map[string]any{"provider_id": intOf(w.ids["provider"]), "model_name": "acc-" + tag, "model_type": "language"}
	case "DELETE /api/v1/model-management/models":
		return map[string]any{"ids": []any{intOf(w.ids["v_model_bulk"])}}
	case "POST /api/v2/mcp/servers/{server_name}":
		return map[string]any{"url": "https://mcp.example.com/sse", "note": "new by " + tag}
	case "PATCH /api/v2/mcp/servers/{server_name}", "PATCH /api/v2/mcp/servers":
		return map[string]any{"note": "patched by " + tag}
	case "POST /api/v1/dictionary/indexes":
		return map[string]any{"config_key": "acc-index-" + tag, "config_name": "Acc index " + tag, "config_en_name": "Acc index " + tag}
	case "PATCH /api/v1/dictionary/indexes/{index_id}", "PATCH /api/v1/dictionary/items/{item_id}":
		return map[string]any{"note": "patched by " + tag}
	case "POST /api/v1/dictionary/indexes/{index_id}/items":
		return map[string]any{"config_key": "acc-item-" + tag, "config_name": "Acc item " + tag, "config_en_name": "Acc item " + tag,
			"config_value": "value " + tag, "key_order": 2}
	case "PATCH /api/v1/users/{user_id}":
		return map[string]any{"nickname": "nick " + tag}
	case "PATCH /api/v1/users/{user_id}/reset-password":
		return map[string]any{"password": accPassword}
	}
	return nil
}

// accQuery is the query a case of op sends (only the pairs op declares
// are kept).
func (w *accWorld) accQuery(op accOp) url.Values {
	q := url.Values{"uid": {fmt.Sprint(w.users[accViewerA].id)}, "module_id": {"flows"}, "priv_id": {"read"},
		"org-id": {w.ids["org"]}, "group-id": {w.ids["group"]}, "v": {"1.0"},
		"server_id": {w.ids["mcp_server_id"]}}
	if op.path == "/api/v1/audit/state" {
		q.Set("as_of", time.Now().UTC().Format(time.RFC3339Nano))
	}
	return q
}

// accCaseQuery is the query of case c (accQuery, with the files and
// monitor routes' ids of c).
func (w *accWorld) accCaseQuery(c accCase) url.Values {
	q := w.accQuery(c.op)
	if c.op.path == "/api/v2/workflow" {
		q.Set("job_id", w.ids["wf_job"])
		if o := w.own[c.who]; c.variant == "own" && o != nil {
			q.Set("job_id", o.wfJob)
		}
	}
	if strings.HasPrefix(c.op.path, "/api/v1/component-groups/") || strings.HasPrefix(c.op.path, "/api/v1/components/") {
		q.Set("scope", "1") // A's tenant-scoped catalogue entries
	}
	w.accFMQuery(c, q)
	return q
}

// accResult is one case's outcome, for the summary and the report.
type accResult struct {
	c       accCase
	status  int
	allowed bool
	ok      bool
	raw     string
}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var logMu sync.Mutex
	w := accStart(t, options{logger: slog.New(slog.NewTextHandler(&accLockedWriter{w: &logs, mu: &logMu}, nil))})
	defer func() {
		if t.Failed() {
			logMu.Lock()
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "ERROR") || strings.Contains(l, "status=500") {
					t.Log(l)
				}
			}
			logMu.Unlock()
		}
	}()
	accSetup(t, w)
	ops := accOps(t, w)

	var (
		mu      sync.Mutex
		results []accResult
	)
	record := func(r accResult) {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, r)
	}
	routes := 0
	runRoute := func(t *testing.T, op accOp) {
		variants := []string{"A"}
		if strings.HasPrefix(op.access, "own resources") {
			variants = append(variants, "own")
		}
		if v := accFMVariants(op); v != nil {
			variants = v
		}
		for _, variant := range variants {
			for _, who := range accCallers {
				c := accCase{op: op, variant: variant, who: who}
				token := ""
				if u, ok := w.users[who]; ok {
					token = u.token
				}
				tenant := w.A
				if variant != "A" {
					tenant = ""
				}
				req := accBuild(op, token, w.accPathIDs(c), tenant, w.accCaseQuery(c), w.accBody(c))
				if op.apiKey && token != "" {
					req.header.Del("Authorization")
					req.header.Set("X-Api-Key", w.accKey(t, who))
				}
				r := w.accSend(t, req)
				where := fmt.Sprintf("%s [%s] as %s", req.method+" "+req.path, variant, who)
				if accFMKindOf(op) != fmNone {
					allowed, wrong := accFMJudge(c, r)
					res := accResult{c: c, status: r.status, allowed: allowed, raw: r.raw, ok: wrong == ""}
					if wrong != "" {
						assert.Fail(t, wrong, "%s: %d %s", where, r.status, r.raw)
					}
					record(res)
					continue
				}
				allowed, refusals := accExpect(c)
				res := accResult{c: c, status: r.status, allowed: allowed, raw: r.raw}
				switch {
				case r.status >= 500:
					assert.Fail(t, "server error", "%s: %d %s", where, r.status, r.raw)
				case allowed && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					assert.Fail(t, "refused an allowed caller", "%s: %d %s", where, r.status, r.raw)
				case allowed && op.method == http.MethodGet && r.status/100 != 2 &&
					!(strings.HasSuffix(strings.TrimSuffix(op.path, "/"), "/mcp/streamable") && r.status == http.StatusMethodNotAllowed):
					// (the stateless MCP transport has no GET stream: 405)
					assert.Fail(t, "allowed read failed", "%s: %d %s", where, r.status, r.raw)
				case !allowed && !slices.Contains(refusals, r.status):
					assert.Fail(t, "not refused", "%s: want %v, got %d %s", where, refusals, r.status, r.raw)
				default:
					res.ok = true
				}
				record(res)
			}
		}
	}
	var early []accOp
	for _, op := range ops {
		if !op.public && !accFMLate(op) {
			early = append(early, op)
		}
	}
	routes += len(early)
	t.Run("routes", func(t *testing.T) { accEach(t, early, runRoute) })
	// Routes that remove what the others read run after them, one by one.
	t.Run("late", func(t *testing.T) {
		for _, op := range ops {
			if !op.public && accFMLate(op) {
				routes++
				t.Run(op.key(), func(t *testing.T) { runRoute(t, op) })
			}
		}
	})
	accSummary(t, routes, results)
}

// accWorkers is how many routes the access suites run at once: their
// requests mostly wait (for PostgreSQL, for read models), so more than
// -test.parallel's default (GOMAXPROCS).
const accWorkers = 8

// accEach runs fn on every op, each as a subtest of t, accWorkers at a
// time.
func accEach(t *testing.T, ops []accOp, fn func(*testing.T, accOp)) {
	next := make(chan accOp)
	var wg sync.WaitGroup
	for range accWorkers {
		wg.Go(func() {
			for op := range next {
				t.Run(op.key(), func(t *testing.T) { fn(t, op) })
			}
		})
	}
	for _, op := range ops {
		next <- op
	}
	close(next)
	wg.Wait()
}

// accSummary logs routes × callers: per caller, how many cases were
// expected allowed / refused and how many answered as expected.
func accSummary(t *testing.T, routes int, results []accResult) {
	type tally struct{ allowed, refused, ok, total int }
	by := map[string]*tally{}
	var failed []string
	anon := map[int]int{}
	for _, r := range results {
		if r.c.who == accAnon {
			anon[r.status]++
		}
		k := r.c.who
		if by[k] == nil {
			by[k] = &tally{}
		}
		tl := by[k]
		tl.total++
		if r.allowed {
			tl.allowed++
		} else {
			tl.refused++
		}
		if r.ok {
			tl.ok++
		} else {
			failed = append(failed, fmt.Sprintf("%s [%s] %s: %d", r.c.op.key(), r.c.variant, r.c.who, r.status))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "access matrix: %d routes x %d callers = %d cases\n", routes, len(accCallers), len(results))
	fmt.Fprintf(&b, "%-12s %7s %8s %8s %6s\n", "caller", "cases", "allowed", "refused", "as-expected")
	for _, who := range accCallers {
		if tl := by[who]; tl != nil {
			fmt.Fprintf(&b, "%-12s %7d %8d %8d %6d\n", who, tl.total, tl.allowed, tl.refused, tl.ok)
		}
	}
	fmt.Fprintf(&b, "anonymous answers by status: %v\n", anon)
	sort.Strings(failed)
	if len(failed) > 0 {
		fmt.Fprintf(&b, "unexpected (%d):\n  %s\n", len(failed), strings.Join(failed, "\n  "))
	}
	t.Log(b.String())
}

// accLockedWriter serialises the app's log lines.
type accLockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *accLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
