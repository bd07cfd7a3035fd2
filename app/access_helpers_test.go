package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The access suites (matrix, leak, bench): one App with every module of
// cmd/skillflaw, a superuser, three tenants (A, B and a victim V), and the
// four signed-in callers of the matrix.
const (
	accRoot     = "accroot"
	accPassword = "acc-password-1"
)

// The callers of the matrix, least privileged first: a route's requests
// run in this order, so that a forbidden caller always meets the objects
// an allowed one may remove after it.
const (
	accAnon    = "anonymous"
	accMemberB = "member_of_B"
	accViewerA = "viewer_of_A"
	accAdminA  = "admin_of_A"
	accSuper   = "superuser"
)

var accCallers = []string{accAnon, accMemberB, accViewerA, accAdminA, accSuper}

// accOwned are the objects a caller owns in its personal workspace (the
// own variant of the matrix's Own routes).
type accOwned struct {
	flow, flowDel, flowBulk, flowOff string // flow has versions 1 and 2, 1 published; flowOff is online
	tpl, tplDel                      string
	proj, projDel                    string
	job                              string // a finished job of flow (the build API)
	wfJob                            string // a finished workflow job of flow (the v2 workflow API)
}

// accWorld is the served App and the fixture of tenant A: ids of its
// objects by name (accSetup), victims of the destructive routes, and
// markers (every name and uuid of A's objects, for the leak test).
type accWorld struct {
	*harness
	users   map[string]caller // by caller name (not anonymous)
	A, B, V string            // tenants
	ids     map[string]string // fixture ids (tenant A's objects and victims)
	own     map[string]*accOwned
	markers []string
	mark    string // unique marker prefix of A's names
	// fm are the ids of the files and monitor fixture (accSetupFM), by
	// key: "A.<thing>" (A's), "<variant>.<caller>.<thing>" (a victim of
	// one caller's destructive request), "own.<caller>.<thing>".
	fm map[string]string
	// keys are the callers' API keys (accKey), made on first use.
	keysMu sync.Mutex
	keys   map[string]string
}

// accKey returns the API key of caller who (made once).
func (w *accWorld) accKey(t testing.TB, who string) string {
	w.keysMu.Lock()
	defer w.keysMu.Unlock()
	if k, ok := w.keys[who]; ok {
		return k
	}
	if w.keys == nil {
		w.keys = map[string]string{}
	}
	w.keys[who] = w.apiKey(t, w.users[who].token)
	return w.keys[who]
}

func accModules() []app.Module {
	runs := &app.Runs{}
	return []app.Module{
		&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Templates{},
		app.Businesses{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}, app.Files{}, app.Messages{}, app.Dictionary{}, app.Configs{}, app.ModelCatalog{}, app.Components{}, app.MCPServers{TestTimeout: 3 * time.Second},
		runs, &app.MCP{Runs: runs}, &app.Agentic{Runs: runs}, &app.Logs{}, &app.Audit{},
	}
}

// accStart serves a fresh App with every module and signs the superuser in.
func accStart(t testing.TB, o options) *accWorld {
	t.Helper()
	o.env = adminEnv(accRoot, accPassword)
	o.env["SKILLFLAW_STORAGE_DIR"] = t.TempDir()
	o.env["SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE"] = "1000"
	o.modules = accModules()
	h := startApp(t, o)
	w := &accWorld{harness: h, users: map[string]caller{}, ids: map[string]string{}, own: map[string]*accOwned{},
		fm:   map[string]string{},
		mark: "accAmark" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")}
	w.users[accSuper] = h.signIn(t, accRoot, accPassword)
	return w
}

// su sends jsonBody as the superuser (with X-Tenant-Id tenant when not
// empty) and requires want; it returns the answer.
func (w *accWorld) su(t testing.TB, want int, method, path string, body any, tenant string) reply {
	t.Helper()
	h := bearer(w.users[accSuper].token)
	if tenant != "" {
		h.Set(tenancy.HeaderTenantID, tenant)
	}
	r := w.do(t, method, path, body, h)
	require.Equal(t, want, r.status, "%s %s %v: %s", method, path, body, r.raw)
	return r
}

// as sends jsonBody as token (with X-Tenant-Id tenant when not empty).
func (w *accWorld) as(t testing.TB, token string, want int, method, path string, body any, tenant string) reply {
	t.Helper()
	h := withToken(token)
	if tenant != "" {
		if h == nil {
			h = http.Header{}
		}
		h.Set(tenancy.HeaderTenantID, tenant)
	}
	r := w.do(t, method, path, body, h)
	require.Equal(t, want, r.status, "%s %s %v: %s", method, path, body, r.raw)
	return r
}

// named is a name of one of A's objects, remembered as a leak marker.
func (w *accWorld) named(what string) string {
	n := w.mark + "-" + what
	w.markers = append(w.markers, n)
	return n
}

// keep records id under key (and as a marker when it is a uuid).
func (w *accWorld) keep(key string, id any) string {
	s := fmt.Sprint(id)
	if f, ok := id.(float64); ok {
		s = fmt.Sprint(int64(f))
	}
	w.ids[key] = s
	if _, err := uuid.Parse(s); err == nil && !strings.HasPrefix(key, "v_") && !strings.HasPrefix(key, "b_") {
		w.markers = append(w.markers, s)
	}
	return s
}

func accNum(t testing.TB, v any) string {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "not a number: %v", v)
	return fmt.Sprint(int64(f))
}

// accSetup builds the fixture: tenants A, B, V; the callers and their
// grants (tenant_admin of A, viewer of A, tenant_admin of B); in A a
// business tree, orgs with members, user groups with members, role grants
// to users, groups and orgs, business roles, flows placed in A (versions,
// published), templates of them; spare users and victims for every
// destructive route; the callers' own flows, templates and projects.
func accSetup(t testing.TB, w *accWorld) {
	t.Helper()
	tenant := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name, "note": name}, "")
		return r.obj(t)["tenant_id"].(string)
	}
	w.A = w.keep("tenant_A", tenant(w.named("tenant")))
	w.B = tenant("acc tenant B")
	w.V = tenant("acc victim tenant")
	w.ids["b_tenant"] = w.B
	w.ids["v_tenant"] = w.V

	user := func(name string) caller { return w.newUser(t, name, accPassword, map[string]any{"nickname": name}) }
	for _, who := range []string{accMemberB, accViewerA, accAdminA} {
		w.users[who] = user("acc_" + who)
	}
	spare := map[string]int64{}
	for _, n := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "del"} {
		spare[n] = user("acc_spare_" + n).id
	}
	w.ids["v_user"] = fmt.Sprint(spare["del"])
	grantUser := func(tenant string, uid int64, role string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": tenant, "uid": uid, "role_id": role}, "")
		return accNum(t, r.obj(t)["id"])
	}
	grantUser(w.A, w.users[accAdminA].id, "tenant_admin")
	grantUser(w.A, w.users[accViewerA].id, "viewer")
	grantUser(w.B, w.users[accMemberB].id, "tenant_admin")
	w.ids["v_user_rel"] = grantUser(w.A, spare["s1"], "viewer")
	w.ids["v_user_rel_bulk"] = grantUser(w.A, spare["s2"], "viewer")
	w.ids["spare_uid"] = fmt.Sprint(spare["s3"])

	// Businesses: Sales (level 1) > Sales East (level 2); a victim.
	biz := func(name string, level int, first int64) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/businesses", map[string]any{"tenant_id": w.A, "business_name": name,
			"business_level": level, "first_business_id": first, "second_business_id": 0, "note": name}, "")
		return accNum(t, r.obj(t)["business_id"])
	}
	w.ids["business"] = biz(w.named("business"), 1, 0)
	var first int64
	fmt.Sscan(w.ids["business"], &first)
	w.ids["business2"] = biz(w.named("business-east"), 2, first)
	w.ids["v_business"] = biz(w.named("business-victim"), 1, 0)
	brole := func(uid int64) string {
		r := w.su(t, http.StatusOK, http.MethodPut, "/api/v1/businesses/"+w.ids["business"]+"/user-roles", map[string]any{"uid": uid, "role_ids": []string{"developer"}}, w.A)
		rows := r.objects(t)
		require.Len(t, rows, 1, r.raw)
		return accNum(t, rows[0]["id"])
	}
	w.ids["v_biz_rel"] = brole(spare["s4"])
	w.ids["v_biz_rel_bulk"] = brole(spare["s5"])
	brole(spare["s6"])
	w.ids["v_biz_uid"] = fmt.Sprint(spare["s6"])

	// Orgs and members.
	org := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/orgs", map[string]any{"tenant_id": w.A, "org_name": name, "parent_org_id": 0, "org_code": name, "note": name}, "")
		return accNum(t, r.obj(t)["org_id"])
	}
	w.ids["org"] = org(w.named("org"))
	w.ids["v_org"] = org(w.named("org-victim"))
	r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/org-members", map[string]any{"tenant_id": w.A, "org_id": intOf(w.ids["org"]),
		"uids": []int64{spare["s1"], spare["s2"]}, "position": w.named("position"), "job": w.named("job"), "is_leader": false}, "")
	members := r.objects(t)
	require.Len(t, members, 2, r.raw)
	w.ids["org_member"] = accNum(t, members[0]["id"])
	w.ids["v_org_member"] = accNum(t, members[1]["id"])

	// User groups and members.
	group := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/user-groups", map[string]any{"tenant_id": w.A, "group_name": name, "note": name}, "")
		return accNum(t, r.obj(t)["group_id"])
	}
	w.ids["group"] = group(w.named("group"))
	w.ids["v_group"] = group(w.named("group-victim"))
	gm := func(uid int64) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/user-group-members?tenant-id="+w.A, map[string]any{"group_id": intOf(w.ids["group"]), "uid": uid, "is_leader": false}, "")
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["group_member"] = gm(spare["s1"])
	w.ids["v_group_member"] = gm(spare["s2"])

	// The dictionary: an index with an item, and victims of the removals
	// (an index without items, an item).
	dictIndex := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/dictionary/indexes", map[string]any{"config_key": key,
			"config_name": w.named(key), "config_en_name": key, "note": key}, w.A)
		return accNum(t, r.obj(t)["config_id"])
	}
	dictItem := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/dictionary/indexes/"+w.ids["dict_index"]+"/items",
			map[string]any{"config_key": key, "config_name": w.named(key), "config_en_name": key, "config_value": key, "key_order": 1}, w.A)
		return accNum(t, r.obj(t)["config_id"])
	}
	w.ids["dict_index"] = dictIndex("acc-index")
	w.ids["v_dict_index"] = dictIndex("acc-index-victim")
	w.ids["dict_item"] = dictItem("acc-item")
	w.ids["v_dict_item"] = dictItem("acc-item-victim")

	// Configs: one to read and patch, a victim of the removal.
	config := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/configs", map[string]any{"config_key": key,
			"config_name": w.named(key), "config_value": key}, w.A)
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["config"] = config("ACC_CONFIG")
	w.ids["v_config"] = config("ACC_CONFIG_VICTIM")

	// The model catalogue: a provider of A with a model to read and patch,
	// victims of the removals (bulk ones too).
	provider := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/model-management/providers", map[string]any{"provider_key": key,
			"provider_name": w.named(key), "variable_name": "ACC_KEY", "model_class": "ChatOpenAI"}, w.A)
		return accNum(t, r.obj(t)["provider_id"])
	}
	model := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/model-management/models", map[string]any{"provider_id": intOf(w.ids["provider"]),
			"model_name": name, "model_type": "language"}, w.A)
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["provider"] = provider("acc-provider")
	w.ids["v_provider"] = provider("acc-provider-victim")
	w.ids["v_provider_bulk"] = provider("acc-provider-bulk")
	w.ids["model"] = model("acc-model")
	w.ids["v_model"] = model("acc-model-victim")
	w.ids["v_model_bulk"] = model("acc-model-bulk")
	// Components: a group with a component to read and patch, an empty
	// group and a component as victims of the removals (tenant scope 1).
	compGroup := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/component-groups", map[string]any{"group_name": w.named(key),
			"group_en_name": key, "component_type": "component"}, w.A)
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["comp_group"] = compGroup("acc-comp-group")
	w.ids["v_comp_group"] = compGroup("acc-comp-group-victim")
	component := func(key string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/components", map[string]any{"component_group_id": intOf(w.ids["comp_group"]),
			"component_name": w.named(key), "code": "# " + key}, w.A)
		id, _ := r.obj(t)["id"].(string)
		require.NotEmpty(t, id, r.raw)
		return id
	}
	w.ids["component"] = component("acc-component")
	w.ids["v_component"] = component("acc-component-victim")
	// MCP servers: one to read, patch and test (a public-looking URL: the
	// test connection fails, 200 success false), a victim of the removal.
	mcpServer := func(name string) string {
		r := w.su(t, http.StatusOK, http.MethodPost, "/api/v2/mcp/servers/"+name, map[string]any{"url": "https://mcp.example.com/mcp",
			"note": name}, w.A)
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["mcp_server"], w.ids["v_mcp_server"] = "acc-mcp", "acc-mcp-victim"
	w.ids["mcp_server_id"] = mcpServer(w.ids["mcp_server"])
	mcpServer(w.ids["v_mcp_server"])

	// Role grants to groups and orgs (victims of the removals).
	grantTo := func(kind, key, id, role string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/"+kind+"-roles", map[string]any{"tenant_id": w.A, key: intOf(id), "role_id": role}, "")
		return accNum(t, r.obj(t)["id"])
	}
	w.ids["v_group_rel"] = grantTo("group", "group_id", w.ids["group"], "viewer")
	w.ids["v_group_rel_bulk"] = grantTo("group", "group_id", w.ids["group"], "developer")
	w.ids["v_org_rel"] = grantTo("org", "org_id", w.ids["org"], "viewer")
	w.ids["v_org_rel_bulk"] = grantTo("org", "org_id", w.ids["org"], "developer")

	// The catalogue's victims: a custom role with an item, a role to
	// remove, custom privileges to patch and remove.
	w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/permissions/modules/flows/privs", map[string]any{"priv_id": "accpatch", "priv_name": "Acc patch", "is_sys_priv": false}, "")
	w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/permissions/modules/flows/privs", map[string]any{"priv_id": "accdel", "priv_name": "Acc del", "is_sys_priv": false}, "")
	for _, role := range []string{"accrole", "accroledel"} {
		w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/permissions/roles", map[string]any{"role_id": role, "role_name": role}, "")
	}
	w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/permissions/roles/accrole/privs", map[string]any{"module_id": "flows", "priv_id": "read"}, "")

	// Flows placed in A, as the superuser.
	flow := func(token, name, tenant string) string {
		body := map[string]any{"name": name, "description": name}
		if tenant != "" {
			body["tenant_id"] = tenant
		}
		r := w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/flows/", body, "")
		return r.obj(t)["id"].(string)
	}
	versioned := func(token, id, tenant string) {
		for _, v := range []string{"1.0", "2.0"} {
			w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/flows/"+id+"/versions", map[string]any{"version": v}, tenant)
		}
		w.as(t, token, http.StatusOK, http.MethodPost, "/api/v1/flows/"+id+"/versions/1/publish", nil, tenant)
	}
	template := func(token, flow, name, tenant string) string {
		r := w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/flows/"+flow+"/templates", map[string]any{"name": name, "note": name}, tenant)
		return r.obj(t)["id"].(string)
	}
	project := func(token, name string) string {
		r := w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/projects/", map[string]any{"name": name, "description": name}, "")
		id := r.obj(t)["id"].(string)
		w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/flows/", map[string]any{"name": name + " flow", "project_id": id}, "")
		return id
	}
	root := w.users[accSuper].token
	w.keep("flow", flow(root, w.named("flow"), w.A))
	versioned(root, w.ids["flow"], w.A)
	w.keep("flow_off", flow(root, w.named("flow-off"), w.A))
	versioned(root, w.ids["flow_off"], w.A)
	w.keep("v_flow", flow(root, w.named("flow-victim"), w.A))
	w.keep("v_flow_bulk", flow(root, w.named("flow-victim-bulk"), w.A))
	w.keep("template", template(root, w.ids["flow"], w.named("template"), w.A))
	w.keep("v_template", template(root, w.ids["flow"], w.named("template-victim"), w.A))
	// Projects have no tenant: the superuser's personal ones stand for
	// "another user's project".
	w.ids["project"] = project(root, "acc root project")
	w.ids["v_project"] = project(root, "acc root project victim")

	// Every signed-in caller's own workspace.
	for _, who := range accCallers[1:] {
		tok := w.users[who].token
		o := &accOwned{}
		o.flow = flow(tok, "own flow "+who, "")
		versioned(tok, o.flow, "")
		o.flowOff = flow(tok, "own flow off "+who, "")
		versioned(tok, o.flowOff, "")
		o.flowDel = flow(tok, "own flow del "+who, "")
		o.flowBulk = flow(tok, "own flow bulk "+who, "")
		o.tpl = template(tok, o.flow, "own template "+who, "")
		o.tplDel = template(tok, o.flow, "own template del "+who, "")
		o.proj = project(tok, "own project "+who)
		o.projDel = project(tok, "own project del "+who)
		o.job = w.accJob(t, tok, o.flow)
		o.wfJob = w.accWorkflowJob(t, w.users[who].id, o.flow, "")
		w.own[who] = o
	}
	w.keep("job", w.accJob(t, root, w.ids["flow"]))
	w.keep("wf_job", w.accWorkflowJob(t, w.users[accSuper].id, w.ids["flow"], w.A))
	accSetupFM(t, w)
}

// accJob runs flow as token (the build API) and reads its events to their
// end, so that the job is recorded when the fixture is done.
func (w *accWorld) accJob(t testing.TB, token, flow string) string {
	t.Helper()
	r := w.as(t, token, http.StatusOK, http.MethodPost, "/api/v1/build/"+flow+"/flow", map[string]any{"inputs": map[string]any{"input_value": "acc"}}, "")
	job := r.obj(t)["job_id"].(string)
	w.as(t, token, http.StatusOK, http.MethodGet, "/api/v1/build/"+job+"/events", nil, "")
	return job
}

// accWorkflowJob records a finished workflow job of flow run by user
// (placed in tenant when not empty): the fixture's flows have no data, so
// none runs through the API.
func (w *accWorld) accWorkflowJob(t testing.TB, user int64, flow, tenant string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	start := domain.RunStarted{RunID: id, FlowID: uuid.MustParse(flow), RecordsFlowID: uuid.MustParse(flow), UserID: user,
		OwnerID: user, Source: "draft", API: "workflow", Session: flow, Instance: uuid.New()}
	md := eventstore.Metadata{OccurredAt: time.Now().UTC()}
	if tenant != "" {
		tid := uuid.MustParse(tenant)
		start.TenantID, md.TenantID = &tid, tid
	}
	run := domain.LoadRun(id)
	require.NoError(t, run.Start(start))
	require.NoError(t, run.Close(domain.RunFinished{}))
	_, err := w.app.Deps().Repository.Save(context.Background(), run, md)
	require.NoError(t, err)
	return id.String()
}

func intOf(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// accOp is one operation of the served OpenAPI document.
type accOp struct {
	method, path string
	access       string // x-access; "" for public ones
	public       bool
	params       map[string]string // name -> in (path, query, header)
	places       map[string]string // name -> x-place of the parameters that name a place
	body         bool
	bodyFields   []string // the top-level fields of an object body
	// apiKey marks an operation that takes an API key only (its security
	// names no OAuth2 scheme): callers send theirs (x-api-key).
	apiKey bool
}

func (o accOp) key() string { return o.method + " " + o.path }

// accOps reads the served /openapi.json and returns its operations,
// ordered by path and method. It fails the test when an operation that
// needs credentials (it has a security requirement) has no x-access.
func accOps(t testing.TB, w *accWorld) []accOp {
	t.Helper()
	r := w.call(t, http.MethodGet, "/openapi.json", nil, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	doc := r.obj(t)
	paths := doc["paths"].(map[string]any)
	var out []accOp
	for path, item := range paths {
		for method, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			o := accOp{method: strings.ToUpper(method), path: path, params: map[string]string{}, places: map[string]string{}}
			sec, secured := op["security"].([]any)
			o.public = !secured
			o.apiKey = secured && !slices.ContainsFunc(sec, func(r any) bool {
				_, oauth := r.(map[string]any)["OAuth2PasswordBearerCookie"]
				return oauth
			})
			o.access, _ = op["x-access"].(string)
			if !o.public {
				require.NotEmpty(t, o.access, "%s %s needs credentials but declares no x-access", o.method, path)
			}
			ps, _ := op["parameters"].([]any)
			for _, p := range ps {
				pm := p.(map[string]any)
				o.params[pm["name"].(string)] = pm["in"].(string)
				if place, ok := pm["x-place"].(string); ok {
					o.places[pm["name"].(string)] = place
				}
			}
			_, o.body = op["requestBody"]
			o.bodyFields = accBodyFields(doc, op)
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

// accBodyFields lists the properties of op's JSON request body schema
// (resolving a $ref into doc's components); none for other bodies.
func accBodyFields(doc map[string]any, op map[string]any) []string {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	if ref, ok := schema["$ref"].(string); ok {
		comps, _ := doc["components"].(map[string]any)
		schemas, _ := comps["schemas"].(map[string]any)
		schema, _ = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	props, _ := schema["properties"].(map[string]any)
	var out []string
	for name := range props {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

var accPathParam = regexp.MustCompile(`\{([^}]+)\}`)

// accRequest is what one caller sends to one operation.
type accRequest struct {
	method, path string // path with its query
	header       http.Header
	body         any
}

// accBuild fills op's path parameters (pathIDs: name -> value), adds
// tenant (when not empty) as X-Tenant-Id and as every tenant_id /
// tenant-id query parameter op has, and the extra query pairs.
func accBuild(op accOp, token string, pathIDs map[string]string, tenant string, query url.Values, body any) accRequest {
	path := accPathParam.ReplaceAllStringFunc(op.path, func(m string) string {
		return url.PathEscape(pathIDs[m[1:len(m)-1]])
	})
	q := url.Values{}
	for k, v := range query {
		if _, ok := op.params[k]; ok {
			q[k] = v
		}
	}
	h := withToken(token)
	if h == nil {
		h = http.Header{}
	}
	if tenant != "" {
		h.Set(tenancy.HeaderTenantID, tenant)
		for _, name := range []string{"tenant_id", "tenant-id"} {
			if op.params[name] == "query" {
				q.Set(name, tenant)
			}
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return accRequest{method: op.method, path: path, header: h, body: body}
}

// accSend sends r and decodes the answer; an accUpload body is sent as
// a multipart form, anything else as JSON.
func (w *accWorld) accSend(t testing.TB, r accRequest) reply {
	t.Helper()
	req := (*http.Request)(nil)
	if u, ok := r.body.(accUpload); ok {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		part, err := mw.CreateFormFile("file", u.name)
		require.NoError(t, err)
		_, err = part.Write(u.content)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		req = w.request(t, r.method, r.path, &buf, mw.FormDataContentType(), r.header)
	} else {
		req = w.jsonRequest(t, r.method, r.path, r.body, r.header)
	}
	if accEndless(r.path) {
		return accStatus(t, req)
	}
	out, err := exchange(req)
	require.NoError(t, err)
	return out
}

// accEndless reports whether path answers a stream that only ends when
// the client goes (the log stream, an MCP SSE session).
func accEndless(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return p == "/logs-stream" || strings.HasSuffix(p, "/mcp/sse")
}

// accStatus sends req and answers its status and headers only, leaving
// at once (the body of an endless stream never ends; an error's body,
// which does, is read).
func accStatus(t testing.TB, req *http.Request) reply {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	require.NoError(t, err)
	defer res.Body.Close()
	out := reply{status: res.StatusCode, header: res.Header, res: res}
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		out.raw = string(raw)
	}
	return out
}

// accUpload is a multipart body: the file field "file" named name.
type accUpload struct {
	name    string
	content []byte
}
