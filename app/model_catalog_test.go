package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// mcStart serves an App with the Identity and ModelCatalog modules (and
// the permissions, to grant roles) on a fresh database with the system
// tenant row.
func mcStart(t *testing.T) *ugServer {
	t.Helper()
	s := &ugServer{harness: startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword),
		modules: []app.Module{&app.Identity{}, app.ModelCatalog{}, app.Permissions{}, app.TenantGrants{}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

const mcProviders = "/api/v1/model-management/providers"

// mcAdd posts body to path of tenant as the superuser and requires 201.
func mcAdd(t *testing.T, s *ugServer, tenant uuid.UUID, path string, body map[string]any) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, path, body, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

func mcDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	return append(s.textRows(t, `SELECT row_to_json(p)::text FROM model_providers p ORDER BY provider_id`),
		s.textRows(t, `SELECT row_to_json(m)::text FROM provider_models m ORDER BY id`)...)
}

// The built-in catalogue is seeded once; providers and models: CRUD,
// defaults, validation (422, nothing written), unique keys and names
// (409), search and sort, cascade and bulk removals, AuditState and an
// identical rebuild.
func TestModelCatalog_SeedCRUDAndRebuild(t *testing.T) {
	t.Parallel()
	s := mcStart(t)
	sys := tenancy.SystemTenantID
	ctx := context.Background()

	// The seed: four providers in key_order, their models.
	seeded := dictList(t, s, sys, mcProviders)
	assert.Equal(t, []string{"openai", "anthropic", "ollama", "openai_compatible"}, ugField(seeded, "provider_key"))
	assert.Equal(t, true, seeded[0]["is_builtin"])
	openai := seeded[0]["provider_id"]
	models := dictList(t, s, sys, ugPath(mcProviders, openai, "models"))
	assert.Equal(t, []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1", "o3-mini", "text-embedding-3-small"}, ugField(models, "model_name"))
	assert.Equal(t, []string{"text-embedding-3-small"}, ugField(dictList(t, s, sys, ugPath(mcProviders, openai, "models"), "model_type", "embedding"), "model_name"))
	assert.Equal(t, []string{"o3-mini", "gpt-4o-mini", "gpt-4o", "gpt-4.1", "text-embedding-3-small"}[0],
		ugField(dictList(t, s, sys, ugPath(mcProviders, openai, "models"), "search", "O3"), "model_name")[0])
	head := s.head(t)
	require.NoError(t, s.app.Bootstrap(ctx))
	assert.Equal(t, head, s.head(t), "a second start seeds nothing")
	types := dictList(t, s, sys, "/api/v1/model-management/model-types")
	assert.Equal(t, []string{"language", "embedding", "image", "audio", "rerank"}, ugField(types, "model_type"))
	assert.Equal(t, []string{"11", "1", "0", "0", "0"}, ugField(types, "model_count"))

	// A provider with the spec's defaults.
	p := mcAdd(t, s, sys, mcProviders, map[string]any{"provider_key": "acme", "provider_name": "Acme", "variable_name": "ACME_API_KEY",
		"model_class": "ChatOpenAI", "base_url": "https://llm.acme.test/v1", "key_order": 9})
	for k, v := range map[string]any{"icon": "Bot", "requires_api_key": true, "model_name_param": "model", "api_key_param": "api_key",
		"max_tokens_field_name": "max_tokens", "is_active": true, "note": nil, "api_docs_url": nil, "c_uid": float64(s.adminID)} {
		assert.Equal(t, v, p[k], k)
	}
	pid := p["provider_id"]
	head = s.head(t)
	for body, status := range map[string]int{
		`{"provider_name":"x","variable_name":"X","model_class":"C"}`:                                                  422,
		`{"provider_key":"` + strings.Repeat("k", 65) + `","provider_name":"x","variable_name":"X","model_class":"C"}`: 422,
		`{"provider_key":"k2","provider_name":"x","variable_name":"X","model_class":"C","base_url":"ftp://x"}`:         422,
		`{"provider_key":"acme","provider_name":"x","variable_name":"X","model_class":"C"}`:                            409,
		`{"provider_key":"k3","provider_name":"x","variable_name":"X","model_class":"C","is_active":"yes"}`:            422,
	} {
		r := s.send(t, http.MethodPost, mcProviders, strings.NewReader(body), "application/json", mcHeader(s, sys))
		assert.Equal(t, status, r.status, "%s: %s", body, r.raw)
	}
	assert.Equal(t, head, s.head(t), "refused writes wrote nothing")

	r := dictCall(t, s, http.MethodPatch, ugPath(mcProviders, pid), map[string]any{"provider_name": "Acme Corp", "note": "n", "is_active": false}, s.admin, sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Acme Corp", r.obj(t)["provider_name"])
	assert.Equal(t, false, r.obj(t)["is_active"])
	r = dictCall(t, s, http.MethodPatch, ugPath(mcProviders, pid), map[string]any{"note": ""}, s.admin, sys)
	assert.Nil(t, r.obj(t)["note"], "an empty string clears a nullable field")
	ugDetail(t, dictCall(t, s, http.MethodPatch, ugPath(mcProviders, 999999), map[string]any{"note": "x"}, s.admin, sys),
		http.StatusNotFound, domain.MsgProviderNotFound)
	assert.Equal(t, "acme", dictList(t, s, sys, mcProviders, "sort_by", "key_order", "sort_order", "desc")[0]["provider_key"])
	assert.Equal(t, []string{"acme"}, ugField(dictList(t, s, sys, mcProviders, "search", "CORP"), "provider_key"))
	r = dictCall(t, s, http.MethodGet, mcProviders+"?sort_by=nope", nil, s.admin, sys)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Models.
	m := mcAdd(t, s, sys, "/api/v1/model-management/models", map[string]any{"provider_id": pid, "model_name": "acme-1",
		"model_type": "language", "context_length": 8000, "is_tool_calling": true, "metadata": map[string]any{"tier": "gold"}})
	assert.Equal(t, map[string]any{"tier": "gold"}, m["metadata"])
	for k, v := range map[string]any{"is_active": true, "is_default": false, "key_order": float64(0), "model_display_name": nil} {
		assert.Equal(t, v, m[k], k)
	}
	mcAdd(t, s, sys, "/api/v1/model-management/models", map[string]any{"provider_id": pid, "model_name": "acme-2", "model_type": "embedding"})
	head = s.head(t)
	for _, c := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"provider_id": pid, "model_name": "acme-3", "model_type": "video"}, 422},
		{map[string]any{"provider_id": 999999, "model_name": "acme-3", "model_type": "language"}, 404},
		{map[string]any{"provider_id": pid, "model_name": "acme-1", "model_type": "language"}, 409},
		{map[string]any{"provider_id": pid, "model_type": "language"}, 422},
		{map[string]any{"provider_id": pid, "model_name": "acme-4", "model_type": "language", "context_length": -1}, 422},
	} {
		r := dictCall(t, s, http.MethodPost, "/api/v1/model-management/models", c.body, s.admin, sys)
		assert.Equal(t, c.status, r.status, "%v: %s", c.body, r.raw)
	}
	assert.Equal(t, head, s.head(t), "refused writes wrote nothing")
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/model-management/models", m["id"]),
		map[string]any{"is_not_supported": true, "model_display_name": "Acme One"}, s.admin, sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.obj(t)["is_not_supported"])
	assert.Equal(t, []string{"acme-2", "acme-1"}, ugField(dictList(t, s, sys, ugPath(mcProviders, pid, "models"), "sort_by", "model_type"), "model_name"))

	// Bulk removal counts what existed; a provider's removal takes its
	// models.
	r = dictCall(t, s, http.MethodDelete, "/api/v1/model-management/models", map[string]any{"ids": []any{m["id"], 999999}}, s.admin, sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(1), r.obj(t)["deleted_count"])
	ugDetail(t, dictCall(t, s, http.MethodDelete, ugPath("/api/v1/model-management/models", m["id"]), nil, s.admin, sys),
		http.StatusNotFound, domain.MsgModelNotFound)
	r = dictCall(t, s, http.MethodDelete, ugPath(mcProviders, pid), nil, s.admin, sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var left int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM provider_models WHERE provider_id = $1`, ugInt(t, pid)).Scan(&left))
	assert.Zero(t, left, "the provider's models went with it")
	r = dictCall(t, s, http.MethodDelete, mcProviders, map[string]any{"ids": []any{seeded[2]["provider_id"], seeded[3]["provider_id"], 999999}}, s.admin, sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(2), r.obj(t)["deleted_count"])
	assert.Equal(t, []string{"openai", "anthropic"}, ugField(dictList(t, s, sys, mcProviders), "provider_key"))

	// Removed built-ins stay removed across starts; rebuild is identical.
	require.NoError(t, s.app.Bootstrap(ctx))
	assert.Len(t, dictList(t, s, sys, mcProviders), 2)
	live := mcDump(t, s)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "model_catalog", nil))
	assert.Equal(t, live, mcDump(t, s), "rebuilt from position 0")
}

func mcHeader(s *ugServer, tenant uuid.UUID) http.Header {
	h := bearer(s.admin)
	h.Set(tenancy.HeaderTenantID, tenant.String())
	return h
}

// A tenant's providers are its own: listed beside the built-in ones in
// it, invisible and untouchable from another tenant; the built-in ones
// change only in the system tenant; a viewer reads and writes nothing.
func TestModelCatalog_TenantsAndRoles(t *testing.T) {
	t.Parallel()
	s := mcStart(t)
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	a := mcAdd(t, s, ta, mcProviders, map[string]any{"provider_key": "own", "provider_name": "A's", "variable_name": "A_KEY", "model_class": "ChatOpenAI"})
	listA := dictList(t, s, ta, mcProviders)
	assert.Equal(t, []string{"own", "openai", "anthropic", "ollama", "openai_compatible"}, ugField(listA, "provider_key"))
	assert.Equal(t, false, listA[0]["is_builtin"])
	assert.NotContains(t, ugField(dictList(t, s, tb, mcProviders), "provider_key"), "own")

	aPath := ugPath(mcProviders, a["provider_id"])
	builtin := ugPath(mcProviders, listA[1]["provider_id"])
	head := s.head(t)
	for _, r := range []reply{
		dictCall(t, s, http.MethodPatch, aPath, map[string]any{"note": "mine"}, s.admin, tb),
		dictCall(t, s, http.MethodDelete, aPath, nil, s.admin, tb),
		dictCall(t, s, http.MethodGet, aPath+"/models", nil, s.admin, tb),
		dictCall(t, s, http.MethodPatch, builtin, map[string]any{"note": "mine"}, s.admin, ta),
	} {
		ugDetail(t, r, http.StatusNotFound, domain.MsgProviderNotFound)
		assert.NotContains(t, r.raw, "A's")
	}
	assert.Equal(t, head, s.head(t), "nothing written")

	eve := s.user(t, "eve", "")
	token := s.login(t, "eve", ugPassword).access
	s.grantRole(t, s.admin, ta, eve, "viewer")
	head = s.head(t)
	r := dictCall(t, s, http.MethodGet, mcProviders, nil, token, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.objects(t), 5)
	for _, r := range []reply{
		dictCall(t, s, http.MethodPost, mcProviders, map[string]any{"provider_key": "v", "provider_name": "v", "variable_name": "V", "model_class": "C"}, token, ta),
		dictCall(t, s, http.MethodPatch, aPath, map[string]any{"note": "x"}, token, ta),
		dictCall(t, s, http.MethodDelete, aPath, nil, token, ta),
		dictCall(t, s, http.MethodGet, mcProviders, nil, token, tb),
	} {
		requireForbidden(t, r)
	}
	assert.Equal(t, head, s.head(t), "the viewer wrote nothing")
}

// The engine resolves a flow's model through the catalogue: a provider
// and model created through the API, pointing at the fake
// OpenAI-compatible server, its key a secret config named by the
// provider's variable_name. Marking the model not supported, or the
// provider inactive, refuses the run by name; a tenant's own provider
// pointing at a loopback address is refused by the egress policy.
func TestModelCatalog_EngineUsesProvider(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.Reply("acme-1", fakeopenai.Reply{Text: "Hello from Acme!"})
	runs := &app.Runs{Components: components.All()}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], app.ModelCatalog{}, app.Configs{}, mods[len(mods)-1])
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_SECRET_KEY"] = cfgSecretKey
	var (
		logs  bytes.Buffer
		logMu sync.Mutex
	)
	h := startApp(t, options{env: env, modules: mods,
		logger: slog.New(slog.NewTextHandler(&accLockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s := &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
	sys := tenancy.SystemTenantID
	_, err := h.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, 'System', true, true, now(), now(), 0) ON CONFLICT DO NOTHING`, sys)
	require.NoError(t, err)
	hd := bearer(s.root.token)
	hd.Set(tenancy.HeaderTenantID, sys.String())
	post := func(path string, body map[string]any) map[string]any {
		r := s.do(t, http.MethodPost, path, body, hd)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)
	}
	p := post(mcProviders, map[string]any{"provider_key": "acme", "provider_name": "Acme LLM", "variable_name": "ACME_API_KEY",
		"model_class": "ChatOpenAI", "base_url": fake.URL})
	m := post("/api/v1/model-management/models", map[string]any{"provider_id": p["provider_id"], "model_name": "acme-1", "model_type": "language"})
	const key = "sk-acme-from-config-4242"
	post("/api/v1/configs", map[string]any{"config_key": "ACME_API_KEY", "config_name": "Acme", "config_value": key, "secret": true})

	data := starterData(t, "basic-prompting")
	for _, n := range data["nodes"].([]any) {
		node := n.(map[string]any)["data"].(map[string]any)
		if node["type"] == "LanguageModelComponent" {
			node["node"].(map[string]any)["template"].(map[string]any)["model"].(map[string]any)["value"] = []any{
				map[string]any{"provider": "Acme LLM", "name": "acme-1", "metadata": map[string]any{"model_class": "ChatOpenAI"}}}
		}
	}
	flow := s.flow(t, s.root.token, data, nil)
	runOf := func(flow, session string) reply {
		r := s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", inputs("Hi", session), bearer(s.root.token))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return r
	}
	run := func(session string) reply { return runOf(flow, session) }
	r := run("s1")
	assert.Contains(t, r.raw, "Hello from Acme!")
	assert.NotContains(t, r.raw, key)
	assert.Equal(t, "Bearer "+key, fake.Last(t).Header.Get("Authorization"), "the provider's variable, from the tenant's configs")
	// A public flow's anonymous run is its owner's, in its tenant: the
	// same provider and config.
	pub := s.flow(t, s.root.token, data, map[string]any{"access_type": "PUBLIC"})
	r = s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+pub+"/flow?event_delivery=direct", inputs("Hi", ""),
		http.Header{"Cookie": {"client_id=visitor-1"}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, r.raw, "Hello from Acme!")
	assert.Equal(t, "Bearer "+key, fake.Last(t).Header.Get("Authorization"))

	var n int
	require.NoError(t, h.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE data::text LIKE $1`, "%"+key+"%").Scan(&n))
	assert.Zero(t, n, "no event holds the key")
	for _, table := range []string{"configs", "model_providers", "provider_models", "runs", "messages"} {
		assert.NotContains(t, strings.Join(h.textRows(t, `SELECT row_to_json(x)::text FROM `+table+` x`), "\n"), key, table)
	}
	t.Cleanup(func() {
		logMu.Lock()
		defer logMu.Unlock()
		assert.NotEmpty(t, logs.String(), "the app logged")
		assert.NotContains(t, logs.String(), key, "no log line holds the key")
	})

	patch := func(path string, body map[string]any) {
		r := s.do(t, http.MethodPatch, path, body, hd)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	calls := len(fake.Requests())
	patch(ugPath("/api/v1/model-management/models", m["id"]), map[string]any{"is_not_supported": true})
	assert.Contains(t, run("s2").raw, "The model acme-1 of Acme LLM is marked not supported on this server")
	patch(ugPath("/api/v1/model-management/models", m["id"]), map[string]any{"is_not_supported": false})
	patch(ugPath(mcProviders, p["provider_id"]), map[string]any{"is_active": false})
	assert.Contains(t, run("s3").raw, "The model provider Acme LLM is not active on this server")
	assert.Equal(t, calls, len(fake.Requests()), "refused runs called no model")

	// The same provider as a tenant's own (not the operator's): its
	// loopback endpoint is refused by the egress policy.
	patch(ugPath(mcProviders, p["provider_id"]), map[string]any{"is_active": true, "provider_key": "acme-builtin", "provider_name": "Acme Builtin"})
	ta := uuid.New()
	_, err = h.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, 'A', false, true, now(), now(), 0)`, ta)
	require.NoError(t, err)
	hd.Set(tenancy.HeaderTenantID, ta.String())
	post(mcProviders, map[string]any{"provider_key": "acme", "provider_name": "Acme LLM", "variable_name": "ACME_API_KEY",
		"model_class": "ChatOpenAI", "base_url": fake.URL})
	post("/api/v1/configs", map[string]any{"config_key": "ACME_API_KEY", "config_name": "Acme", "config_value": key, "secret": true})
	inA := s.flow(t, s.root.token, data, map[string]any{"tenant_id": ta.String()})
	out := runOf(inA, "s4").raw
	assert.Contains(t, out, "refused", "a tenant's provider at a loopback address: %s", out)
	assert.Equal(t, calls, len(fake.Requests()), "the loopback endpoint was not reached")
}
