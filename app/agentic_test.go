package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// agServer is an App with the assistant, a provider "Acme LLM" of the
// built-in catalogue answering from a fake OpenAI server (once agAcme
// ran), and a flow of the root user.
type agServer struct {
	*rtServer
	fake *fakeopenai.Server
	sys  http.Header
	flow string
}

func agStart(t *testing.T) *agServer {
	t.Helper()
	fake := fakeopenai.New(t)
	runs := &app.Runs{Components: components.All()}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], app.ModelCatalog{}, app.Configs{}, &app.Agentic{Runs: runs}, mods[len(mods)-1])
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_SECRET_KEY"] = cfgSecretKey
	env["SKILLFLAW_RUN_VARIABLES_FROM_ENV"] = "false"
	h := startApp(t, options{env: env, modules: mods})
	s := &agServer{rtServer: &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}, fake: fake}
	_, err := h.app.Pool().Exec(context.Background(), `INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, ctime, utime, version)
VALUES ($1, 'System', true, true, now(), now(), 0) ON CONFLICT DO NOTHING`, tenancy.SystemTenantID)
	require.NoError(t, err)
	s.sys = bearer(s.root.token)
	s.sys.Set(tenancy.HeaderTenantID, tenancy.SystemTenantID.String())
	// The built-in providers that need no key (Ollama) are switched off:
	// nothing is configured until Acme is.
	r := s.do(t, http.MethodGet, mcProviders, nil, s.sys)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &list), r.raw)
	for _, p := range list {
		if p["requires_api_key"] == false {
			r := s.do(t, http.MethodPatch, ugPath(mcProviders, p["provider_id"]), map[string]any{"is_active": false}, s.sys)
			require.Equal(t, http.StatusOK, r.status, r.raw)
		}
	}
	s.flow = s.rtServer.flow(t, s.root.token, starterData(t, "basic-prompting"), nil)
	return s
}

// agAcme adds provider Acme LLM (model acme-1, the fake's) and its key.
func (s *agServer) agAcme(t *testing.T) {
	t.Helper()
	post := func(path string, body map[string]any) map[string]any {
		r := s.do(t, http.MethodPost, path, body, s.sys)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)
	}
	p := post(mcProviders, map[string]any{"provider_key": "acme", "provider_name": "Acme LLM", "variable_name": "ACME_API_KEY",
		"model_class": "ChatOpenAI", "base_url": s.fake.URL})
	post("/api/v1/model-management/models", map[string]any{"provider_id": p["provider_id"], "model_name": "acme-1",
		"model_type": "language", "model_display_name": "Acme One"})
	post("/api/v1/configs", map[string]any{"config_key": "ACME_API_KEY", "config_name": "Acme", "config_value": "sk-acme-42", "secret": true})
}

func (s *agServer) post(t *testing.T, path string, body map[string]any, token string) reply {
	t.Helper()
	return s.call(t, http.MethodPost, path, body, token)
}

func agBody(flow, input string, more map[string]any) map[string]any {
	b := map[string]any{"flow_id": flow, "input_value": input, "provider": "Acme LLM"}
	for k, v := range more {
		b[k] = v
	}
	return b
}

// TestAgentic_CheckConfigAndExecute: check-config before and after a
// provider is configured; a built-in flow answers with the model's text
// (the model got the flow's components); unknown flows are 404; a caller
// who may not read the flow is 404; not configured is 400.
func TestAgentic_CheckConfigAndExecute(t *testing.T) {
	t.Parallel()
	s := agStart(t)

	r := s.call(t, http.MethodGet, "/api/v1/agentic/check-config", nil, s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	cfg := r.obj(t)
	assert.Equal(t, false, cfg["configured"], r.raw)
	assert.Empty(t, cfg["configured_providers"], r.raw)
	assert.Nil(t, cfg["default_provider"], r.raw)
	assert.Contains(t, r.raw, `"name":"OpenAI","configured":false,"default_model":"gpt-4o-mini"`)

	r = s.post(t, "/api/v1/agentic/execute/explain_flow", map[string]any{"flow_id": s.flow}, s.root.token)
	assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Contains(t, r.raw, "not configured")
	r = s.post(t, "/api/v1/agentic/assist", map[string]any{"flow_id": s.flow}, s.root.token)
	assert.Equal(t, http.StatusBadRequest, r.status, r.raw)

	s.agAcme(t)
	r = s.call(t, http.MethodGet, "/api/v1/agentic/check-config", nil, s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	cfg = r.obj(t)
	assert.Equal(t, true, cfg["configured"], r.raw)
	assert.Equal(t, []any{"Acme LLM"}, cfg["configured_providers"], r.raw)
	assert.Equal(t, "Acme LLM", cfg["default_provider"], r.raw)
	assert.Equal(t, "acme-1", cfg["default_model"], r.raw)
	assert.Contains(t, r.raw, `{"name":"Acme LLM","configured":true,"default_model":"acme-1","models":[{"name":"acme-1","display_name":"Acme One"}]}`)
	assert.NotContains(t, r.raw, "sk-acme-42")

	s.fake.Script("acme-1", fakeopenai.Reply{Text: "This flow chats with a model."})
	r = s.post(t, "/api/v1/agentic/execute/explain_flow", map[string]any{"flow_id": s.flow, "input_value": "What does it do?"}, s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	out := r.obj(t)
	assert.Equal(t, "This flow chats with a model.", out["result"], r.raw)
	assert.Equal(t, "explain_flow", out["flow_name"])
	assert.True(t, strings.HasPrefix(out["session_id"].(string), "agentic-"), "a session of its own: %s", r.raw)
	assert.Eventually(t, func() bool {
		var n int
		require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events
WHERE stream_id LIKE 'run-%' AND event_type = 'run.started' AND data->>'api' = 'agentic' AND data->>'source' = 'data'
  AND data->>'flow_id' = $1`, s.flow).Scan(&n))
		return n == 1
	}, 5*time.Second, 20*time.Millisecond, "recorded as a run of the flow, by the assistant")
	var msgs int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE flow_id = $1`, s.flow).Scan(&msgs))
	assert.Zero(t, msgs, "the flow's chat is left alone")
	last := s.fake.Last(t)
	assert.Equal(t, "Bearer sk-acme-42", last.Header.Get("Authorization"))
	var sent []string
	for _, m := range last.Chat.Messages {
		sent = append(sent, m.Text())
	}
	all := strings.Join(sent, "\n")
	assert.Contains(t, all, "(type LanguageModelComponent)", "the model is told the flow's components")
	assert.Contains(t, all, "What does it do?")
	assert.Contains(t, all, "Never write or run code")

	r = s.post(t, "/api/v1/agentic/execute/no_such_flow", map[string]any{"flow_id": s.flow}, s.root.token)
	assert.Equal(t, http.StatusNotFound, r.status, r.raw)
	assert.JSONEq(t, `{"detail": "Flow no_such_flow not found"}`, r.raw)
	r = s.post(t, "/api/v1/agentic/execute/explain_flow", map[string]any{"flow_id": s.flow, "provider": "Nobody"}, s.root.token)
	assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
	assert.Contains(t, r.raw, "Unknown provider")

	other := s.newUser(t, "agother", "ag-other-password-1")
	for _, path := range []string{"/api/v1/agentic/execute/explain_flow", "/api/v1/agentic/assist", "/api/v1/agentic/assist/stream"} {
		r = s.post(t, path, agBody(s.flow, "explain", nil), other.token)
		assert.Equal(t, http.StatusNotFound, r.status, "%s: %s", path, r.raw)
	}
	r = s.call(t, http.MethodGet, "/api/v1/agentic/check-config", nil, other.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["configured"], "the key is a config of the system tenant only its readers resolve: %s", r.raw)
	assert.Contains(t, r.raw, `{"name":"Acme LLM","configured":false,`)
}

// TestAgentic_Assist: a valid answer validates at once; an answer naming
// an unknown component is retried with the error and the second answer
// validates (validation_attempts 2); one that never validates is 422
// after max_retries+1 attempts.
func TestAgentic_Assist(t *testing.T) {
	t.Parallel()
	s := agStart(t)
	s.agAcme(t)

	good := `{"answer": "Add a memory.", "suggestions": [{"component": "Memory", "reason": "to keep the chat history"}]}`
	s.fake.Script("acme-1", fakeopenai.Reply{Text: good})
	r := s.post(t, "/api/v1/agentic/assist", agBody(s.flow, "What next?", nil), s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.JSONEq(t, `{"result": {"answer": "Add a memory.", "suggestions": [{"component": "Memory", "reason": "to keep the chat history"}]},
		"validated": true, "validation_attempts": 1, "provider": "Acme LLM", "model_name": "acme-1"}`, r.raw)
	last := s.fake.Last(t)
	assert.NotNil(t, last.Chat.ResponseFormat, "JSON mode")
	assert.Contains(t, last.Chat.Messages[0].Text(), "ChatOutput", "the model is told the component types")

	bad := `{"answer": "Add a teleporter.", "suggestions": [{"component": "Teleporter", "reason": "fast"}]}`
	s.fake.Script("acme-1", fakeopenai.Reply{Text: bad}, fakeopenai.Reply{Text: good})
	r = s.post(t, "/api/v1/agentic/assist", agBody(s.flow, "What next?", nil), s.root.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	res := r.obj(t)
	assert.EqualValues(t, 2, res["validation_attempts"], r.raw)
	assert.Equal(t, true, res["validated"])
	retry := s.fake.Last(t).Chat.Messages
	require.Len(t, retry, 4, "system, user, the invalid answer, the error")
	assert.Equal(t, bad, retry[2].Text())
	assert.Contains(t, retry[3].Text(), `"Teleporter", which is not a component type`)

	s.fake.Script("acme-1", fakeopenai.Reply{Text: "not json"}, fakeopenai.Reply{Text: bad}, fakeopenai.Reply{Text: "still not"})
	r = s.post(t, "/api/v1/agentic/assist", agBody(s.flow, "What next?", map[string]any{"max_retries": 2}), s.root.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	var detail struct{ Detail string }
	require.NoError(t, json.Unmarshal([]byte(r.raw), &detail), r.raw)
	assert.True(t, strings.HasPrefix(detail.Detail, "The assistant's answer did not validate after 3 attempts: "), r.raw)

	r = s.post(t, "/api/v1/agentic/assist", agBody(s.flow, "x", map[string]any{"model_name": "acme-9"}), s.root.token)
	assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
}

// TestAgentic_AssistStream: the stream's frames, in order: progress
// generating, the model's tokens, validating, validated, complete; a
// failed validation shows validation_failed and retrying; one that never
// validates ends with an error frame.
func TestAgentic_AssistStream(t *testing.T) {
	t.Parallel()
	s := agStart(t)
	s.agAcme(t)
	type frame map[string]any
	frames := func(r reply) []frame {
		t.Helper()
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var out []frame
		for _, block := range strings.Split(r.raw, "\n\n") {
			if block == "" {
				continue
			}
			data, ok := strings.CutPrefix(block, "data: ")
			require.True(t, ok, "frame %q", block)
			var f frame
			require.NoError(t, json.Unmarshal([]byte(data), &f), data)
			out = append(out, f)
		}
		return out
	}
	steps := func(fs []frame) []string {
		var out []string
		for _, f := range fs {
			s := f["event"].(string)
			if st, ok := f["step"].(string); ok {
				s += ":" + st
			}
			if len(out) == 0 || out[len(out)-1] != s || s != "token" {
				out = append(out, s)
			}
		}
		return out
	}

	good := `{"answer": "Add a memory.", "suggestions": [{"component": "Memory", "reason": "history"}]}`
	s.fake.Script("acme-1", fakeopenai.Reply{Chunks: []string{`{"answer": "Add a memory.", `, `"suggestions": [{"component": "Memory", `, `"reason": "history"}]}`}})
	r := s.post(t, "/api/v1/agentic/assist/stream", agBody(s.flow, "What next?", nil), s.root.token)
	assert.Equal(t, "text/event-stream", r.header.Get("Content-Type"))
	fs := frames(r)
	assert.Equal(t, []string{"progress:generating", "token", "progress:validating", "progress:validated", "complete"}, steps(fs), r.raw)
	assert.Equal(t, frame{"event": "progress", "step": "generating", "attempt": 1.0, "max_attempts": 4.0}, fs[0])
	var chunks string
	for _, f := range fs {
		if f["event"] == "token" {
			chunks += f["chunk"].(string)
		}
	}
	assert.Equal(t, good, chunks, "the tokens are the model's answer")
	complete := fs[len(fs)-1]["data"].(map[string]any)
	assert.Equal(t, true, complete["validated"])
	assert.EqualValues(t, 1, complete["validation_attempts"])
	assert.True(t, s.fake.Last(t).Chat.Stream, "the model's answer was streamed")

	s.fake.Script("acme-1", fakeopenai.Reply{Text: `{"answer": "x", "suggestions": [{"component": "Nope", "reason": "r"}]}`}, fakeopenai.Reply{Text: good})
	fs = frames(s.post(t, "/api/v1/agentic/assist/stream", agBody(s.flow, "What next?", map[string]any{"max_retries": 1}), s.root.token))
	assert.Equal(t, []string{"progress:generating", "token", "progress:validating", "progress:validation_failed", "progress:retrying",
		"progress:generating", "token", "progress:validating", "progress:validated", "complete"}, steps(fs))
	assert.EqualValues(t, 2, fs[len(fs)-1]["data"].(map[string]any)["validation_attempts"])

	s.fake.Script("acme-1", fakeopenai.Reply{Text: "nope"})
	fs = frames(s.post(t, "/api/v1/agentic/assist/stream", agBody(s.flow, "What next?", map[string]any{"max_retries": 0}), s.root.token))
	last := fs[len(fs)-1]
	assert.Equal(t, "error", last["event"])
	assert.Contains(t, last["message"], "did not validate after 1 attempts")
}
