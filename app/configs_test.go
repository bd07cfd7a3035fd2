package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// cfgSecretKey is the SKILLFLAW_SECRET_KEY of the configs tests.
const cfgSecretKey = "configs-test-secret-key-0123456789abcdef"

// cfgStart serves an App with the Identity and Configs modules (and the
// permissions, to grant roles) on a fresh database with the system tenant
// row; env is added (nil: a secret key is set).
func cfgStart(t *testing.T, env map[string]string) *ugServer {
	t.Helper()
	e := adminEnv(ugAdmin, ugAdminPassword)
	if env == nil {
		env = map[string]string{"SKILLFLAW_SECRET_KEY": cfgSecretKey}
	}
	for k, v := range env {
		e[k] = v
	}
	s := &ugServer{harness: startApp(t, options{env: e,
		modules: []app.Module{&app.Identity{}, app.Configs{}, app.Permissions{}, app.TenantGrants{}}})}
	s.insertTenant(t, tenancy.SystemTenantID, "System", true)
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	s.admin, s.adminID = admin.token, admin.id
	return s
}

// cfgAdd adds a config to tenant as the superuser and requires 201.
func cfgAdd(t *testing.T, s *ugServer, tenant uuid.UUID, body map[string]any) map[string]any {
	t.Helper()
	r := dictCall(t, s, http.MethodPost, "/api/v1/configs", body, s.admin, tenant)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// cfgList reads Read Configs of tenant (query kv) as the superuser.
func cfgList(t *testing.T, s *ugServer, tenant uuid.UUID, kv ...any) []map[string]any {
	t.Helper()
	return dictList(t, s, tenant, "/api/v1/configs", kv...)
}

func cfgDump(t *testing.T, s *ugServer) []string {
	t.Helper()
	return s.textRows(t, `SELECT row_to_json(c)::text FROM configs c ORDER BY id`)
}

// CRUD, validation (422, nothing written), unique keys (409), search and
// sort, secret sealing (never in an event, a row or an answer), AuditState
// and an identical rebuild.
func TestConfigs_CRUDSecretsAndRebuild(t *testing.T) {
	t.Parallel()
	s := cfgStart(t, nil)
	ta := s.tenant(t, "A")
	note := "the endpoint"
	plain := cfgAdd(t, s, ta, map[string]any{"config_key": "BASE_URL", "config_name": "Base URL", "config_value": "http://x", "note": note})
	assert.Equal(t, "BASE_URL", plain["config_key"])
	assert.Equal(t, "Base URL", plain["config_name"])
	assert.Equal(t, "http://x", plain["config_value"])
	assert.Equal(t, note, plain["note"])
	assert.Equal(t, false, plain["secret"])
	for _, k := range []string{"id", "c_uid", "m_uid", "ctime", "utime"} {
		assert.Contains(t, plain, k)
	}
	assert.EqualValues(t, s.adminID, ugInt(t, plain["c_uid"]))

	const clear = "sk-very-secret-config-value-4711"
	secret := cfgAdd(t, s, ta, map[string]any{"config_key": "OPENAI_API_KEY", "config_name": "OpenAI key", "config_value": clear, "secret": true})
	assert.Equal(t, domain.SecretMask, secret["config_value"])
	assert.Equal(t, true, secret["secret"])
	cfgAdd(t, s, ta, map[string]any{"config_key": "a_first", "config_name": "zed", "config_value": "zzz"})

	// Validation: 422, nothing written. Duplicate key: 409.
	head := s.head(t)
	long := strings.Repeat("k", 129)
	for _, body := range []map[string]any{
		{"config_name": "n", "config_value": "v"},
		{"config_key": "k", "config_value": "v"},
		{"config_key": "k", "config_name": "n"},
		{"config_key": long, "config_name": "n", "config_value": "v"},
		{"config_key": "k", "config_name": strings.Repeat("n", 65), "config_value": "v"},
		{"config_key": "  ", "config_name": "n", "config_value": "v"},
		{"config_key": "k", "config_name": "n", "config_value": ""},
		{"config_key": "k", "config_name": "n", "config_value": domain.SecretMask, "secret": true},
	} {
		r := dictCall(t, s, http.MethodPost, "/api/v1/configs", body, s.admin, ta)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	r := dictCall(t, s, http.MethodPatch, ugPath("/api/v1/configs", plain["id"]), map[string]any{"config_name": ""}, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = dictCall(t, s, http.MethodPost, "/api/v1/configs", map[string]any{"config_key": "BASE_URL", "config_name": "n", "config_value": "v"}, s.admin, ta)
	assert.Equal(t, http.StatusConflict, r.status, r.raw)
	ugDetail(t, dictCall(t, s, http.MethodPatch, "/api/v1/configs/999999", map[string]any{"note": "x"}, s.admin, ta), http.StatusNotFound, domain.MsgConfigNotFound)
	ugDetail(t, dictCall(t, s, http.MethodDelete, "/api/v1/configs/999999", nil, s.admin, ta), http.StatusNotFound, domain.MsgConfigNotFound)
	assert.Equal(t, head, s.head(t), "nothing written")

	// Search and sort.
	assert.Equal(t, []string{"BASE_URL", "OPENAI_API_KEY", "a_first"}, dictKeys(cfgList(t, s, ta)))
	assert.Equal(t, []string{"a_first", "OPENAI_API_KEY", "BASE_URL"}, dictKeys(cfgList(t, s, ta, "sort_order", "desc")))
	assert.Equal(t, []string{"BASE_URL", "OPENAI_API_KEY", "a_first"}, dictKeys(cfgList(t, s, ta, "sort_by", "config_name")))
	assert.Equal(t, []string{"BASE_URL"}, dictKeys(cfgList(t, s, ta, "search", "endpoint")))
	assert.Empty(t, cfgList(t, s, ta, "search", "very-secret"), "a secret's value is not searched")
	r = dictCall(t, s, http.MethodGet, "/api/v1/configs?sort_by=nope", nil, s.admin, ta)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Patch: a plain value; a secret's new value is sealed; the mask sent
	// back keeps it.
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/configs", plain["id"]), map[string]any{"config_value": "http://y", "note": nil}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "http://y", r.obj(t)["config_value"])
	assert.Equal(t, note, r.obj(t)["note"])
	const clear2 = "sk-rotated-config-value-0815"
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/configs", secret["id"]), map[string]any{"config_value": clear2}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, domain.SecretMask, r.obj(t)["config_value"])
	head = s.head(t)
	r = dictCall(t, s, http.MethodPatch, ugPath("/api/v1/configs", secret["id"]), map[string]any{"config_value": domain.SecretMask}, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, head, s.head(t), "the mask sent back changes nothing")

	// The secret opens to its latest value, and appears in clear nowhere.
	ctx := context.Background()
	var sealed string
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT config_value FROM configs WHERE id = $1`, ugInt(t, secret["id"])).Scan(&sealed))
	opened, err := s.app.Deps().Secrets.Open(sealed, commands.ConfigAAD(ta, "OPENAI_API_KEY"))
	require.NoError(t, err)
	assert.Equal(t, clear2, string(opened))
	for _, v := range []string{clear, clear2} {
		var n int
		require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE data::text LIKE $1 OR metadata::text LIKE $1`,
			"%"+v+"%").Scan(&n))
		assert.Zero(t, n, "the events hold no secret in clear")
		require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM configs WHERE config_value LIKE $1`, "%"+v+"%").Scan(&n))
		assert.Zero(t, n, "the read model holds no secret in clear")
		r = dictCall(t, s, http.MethodGet, "/api/v1/configs", nil, s.admin, ta)
		assert.NotContains(t, r.raw, v)
	}

	// AuditState is what the list answers.
	c, err := commands.LoadConfigsAggregate(ctx, s.app.Deps().Repository, ta)
	require.NoError(t, err)
	state := c.AuditState().(domain.ConfigsState)
	var listed []domain.ConfigEntry
	for _, m := range cfgList(t, s, ta) {
		listed = append(listed, domain.ConfigEntry{ConfigID: ugInt(t, m["id"]), ConfigKey: m["config_key"].(string),
			ConfigName: m["config_name"].(string), ConfigValue: m["config_value"].(string), Note: m["note"].(string), Secret: m["secret"].(bool)})
	}
	assert.ElementsMatch(t, listed, state.Configs)

	// Remove, then rebuild: identical rows.
	r = dictCall(t, s, http.MethodDelete, ugPath("/api/v1/configs", cfgList(t, s, ta, "search", "a_first")[0]["id"]), nil, s.admin, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "Config deleted", r.obj(t)["detail"])
	assert.Len(t, cfgList(t, s, ta), 2)
	live := cfgDump(t, s)
	require.Len(t, live, 2)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "configs", nil))
	assert.Equal(t, live, cfgDump(t, s), "rebuilt from position 0")
}

// Another tenant's config is 404 (nothing of it answered); a viewer reads
// and writes nothing; without a key a secret config is refused.
func TestConfigs_TenantsRolesAndNoKey(t *testing.T) {
	t.Parallel()
	s := cfgStart(t, map[string]string{})
	ta, tb := s.tenant(t, "A"), s.tenant(t, "B")
	a := cfgAdd(t, s, ta, map[string]any{"config_key": "K", "config_name": "A's", "config_value": "A's value"})
	b := cfgAdd(t, s, tb, map[string]any{"config_key": "K", "config_name": "B's", "config_value": "B's value"})

	head := s.head(t)
	bPath := ugPath("/api/v1/configs", b["id"])
	for _, r := range []reply{
		dictCall(t, s, http.MethodPatch, bPath, map[string]any{"note": "mine"}, s.admin, ta),
		dictCall(t, s, http.MethodDelete, bPath, nil, s.admin, ta),
	} {
		ugDetail(t, r, http.StatusNotFound, domain.MsgConfigNotFound)
		assert.NotContains(t, r.raw, "B's")
	}
	assert.Equal(t, []string{"A's"}, ugField(cfgList(t, s, ta), "config_name"))

	// No key: a secret config is refused, saying what to set.
	r := dictCall(t, s, http.MethodPost, "/api/v1/configs", map[string]any{"config_key": "S", "config_name": "s", "config_value": "v", "secret": true}, s.admin, ta)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Contains(t, r.raw, commands.MsgConfigSecretsUnset)
	assert.Equal(t, head, s.head(t), "nothing written")

	eve := s.user(t, "eve", "")
	token := s.login(t, "eve", ugPassword).access
	s.grantRole(t, s.admin, ta, eve, "viewer")
	r = dictCall(t, s, http.MethodGet, "/api/v1/configs", nil, token, ta)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.objects(t), 1)
	head = s.head(t)
	aPath := ugPath("/api/v1/configs", a["id"])
	for _, r := range []reply{
		dictCall(t, s, http.MethodPost, "/api/v1/configs", map[string]any{"config_key": "V", "config_name": "v", "config_value": "v"}, token, ta),
		dictCall(t, s, http.MethodPatch, aPath, map[string]any{"note": "x"}, token, ta),
		dictCall(t, s, http.MethodDelete, aPath, nil, token, ta),
		dictCall(t, s, http.MethodGet, "/api/v1/configs", nil, token, tb),
	} {
		requireForbidden(t, r)
	}
	assert.Equal(t, head, s.head(t), "the viewer wrote nothing")
}

// A flow's load_from_db variable (the model's OPENAI_API_KEY) is read
// from a secret config of the flow's tenant: the fake OpenAI server
// receives it as the bearer key; a request header still wins.
func TestConfigs_EngineReadsConfig(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.Reply("gpt-4o-mini", fakeopenai.Reply{Text: "Hello!"})
	runs := &app.Runs{Components: components.All(), Env: engine.Env{Models: &models.OpenAI{BaseURL: fake.URL}}}
	mods := append(rtModules(runs), app.Configs{})
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_SECRET_KEY"] = cfgSecretKey
	h := startApp(t, options{env: env, modules: mods})
	s := &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
	flow := s.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)

	ctx := context.Background()
	var tenant *uuid.UUID
	require.NoError(t, h.app.Pool().QueryRow(ctx, `SELECT tenant_id FROM flows WHERE id = $1`, flow).Scan(&tenant))
	t0 := tenancy.OrSystem(tenant)
	_, err := h.app.Pool().Exec(ctx, `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, 'System', true, true, now(), now(), 0) ON CONFLICT DO NOTHING`, t0)
	require.NoError(t, err)
	const key = "sk-from-config-31337"
	hd := bearer(s.root.token)
	hd.Set(tenancy.HeaderTenantID, t0.String())
	r := s.do(t, http.MethodPost, "/api/v1/configs", map[string]any{"config_key": "OPENAI_API_KEY", "config_name": "OpenAI",
		"config_value": key, "secret": true}, hd)
	require.Equal(t, http.StatusCreated, r.status, r.raw)

	r = s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", inputs("Hi", "s1"), bearer(s.root.token))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotContains(t, r.raw, key)
	assert.Equal(t, "Bearer "+key, fake.Last(t).Header.Get("Authorization"))

	var n int
	require.NoError(t, h.app.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE data::text LIKE $1`, "%"+key+"%").Scan(&n))
	assert.Zero(t, n, fmt.Sprintf("no event holds %s", "the key"))

	s.buildWithKey(t, flow, inputs("Hi", "s2"))
	assert.Equal(t, "Bearer sk-from-header", fake.Last(t).Header.Get("Authorization"), "the request's variable comes first")
}
