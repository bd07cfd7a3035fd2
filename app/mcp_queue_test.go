package app_test

import (
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine/components"
)

// mcpQStart serves the MCP server in role env (qEnv) on dbURL ("" a fresh
// database), its tool calls bounded by callTimeout.
func mcpQStart(t *testing.T, env map[string]string, dbURL string, callTimeout time.Duration) *rtServer {
	t.Helper()
	runs := &app.Runs{Components: components.All()}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], app.Files{}, &app.MCP{Runs: runs, Progress: 20 * time.Millisecond, CallTimeout: callTimeout},
		mods[len(mods)-1])
	e := adminEnv(rtRoot, rtPassword)
	e["SKILLFLAW_STORAGE_DIR"] = t.TempDir()
	maps.Copy(e, env)
	h := startApp(t, options{env: e, modules: mods, dbURL: dbURL})
	return &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
}

// mcpQWorker serves a worker App with every component.
func mcpQWorker(t *testing.T, url, dbURL string) *rtServer {
	t.Helper()
	runs := &app.Runs{Components: components.All()}
	e := adminEnv(rtRoot, rtPassword)
	maps.Copy(e, qEnv("worker", url))
	return &rtServer{harness: startApp(t, options{env: e, modules: rtModules(runs), dbURL: dbURL}), runs: runs}
}

// An MCP tool call on an api process (--role api) is queued: a worker
// runs it and the call answers what the same call answers on an `all`
// process, read from the run's end in the log. With no worker the call
// times out with the tool's error text, the run stays queued, and a
// worker started later runs it.
func TestQueue_MCPToolCalls(t *testing.T) {
	t.Parallel()
	natsURL := embeddedNATS(t)

	// On an `all` process (with the queue) the call runs in process.
	all := mcpQStart(t, qEnv("all", natsURL), "", 0)
	flow := all.flow(t, all.root.token, mcpEcho(), map[string]any{"name": "queue echo", "mcp_enabled": true})
	broken := all.flow(t, all.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", map[string]any{"input_value": ""}),
		node("Nope-NNNNN:NoSuchComponent", nil)}, "ChatInput-AAAAA.message>Nope-NNNNN.input_value"),
		map[string]any{"name": "queue broken", "mcp_enabled": true})
	cs := mcpSession(t, all.base, "/api/v1/mcp", "streamable", all.root.token, "", nil)
	want, isErr := callText(t, cs, "queue_echo", map[string]any{"input_value": "hello queue"}, nil)
	require.False(t, isErr)
	assert.Equal(t, "hello queue", want)
	wantBroken, _ := callText(t, cs, "queue_broken", map[string]any{"input_value": "x"}, nil)
	assert.Contains(t, wantBroken, "Error Executing the queue broken tool. Error: ")
	t.Logf("in-process failure: %s", wantBroken)
	_, es := all.runEvents(t, all.runIDs(t, flow)[0])
	start := es[0].(domain.RunStarted)
	assert.False(t, start.Queued)
	assert.Equal(t, all.runs.Service().Instance(), start.Instance)
	all.stop()

	// On an api process the same call is queued, run by the worker.
	api := mcpQStart(t, qEnv("api", natsURL), all.dbURL, 3*time.Second)
	w1 := mcpQWorker(t, natsURL, all.dbURL)
	var progress atomic.Int32
	cs = mcpSession(t, api.base, "/api/v1/mcp", "streamable", api.root.token, "", func(float64) { progress.Add(1) })
	got, isErr := callText(t, cs, "queue_echo", map[string]any{"input_value": "hello queue"}, nil)
	require.False(t, isErr)
	assert.Equal(t, want, got)
	id := api.runIDs(t, flow)[1]
	_, es = api.runEvents(t, id)
	start = es[0].(domain.RunStarted)
	assert.True(t, start.Queued)
	assert.Equal(t, api.runs.Service().Instance(), start.Instance, "recorded by the api")
	assert.Equal(t, []domain.RunClaimed{{Instance: w1.runs.Service().Instance(), Attempt: 1}}, api.claims(t, id))
	assert.Equal(t, "run.finished", es[len(es)-1].EventType())
	assert.Equal(t, 2, api.runCount(t, flow, "run.finished"), "once each")
	// A run that fails on the worker answers the in-process error text.
	gotBroken, _ := callText(t, cs, "queue_broken", map[string]any{"input_value": "x"}, nil)
	assert.Equal(t, wantBroken, gotBroken)
	bid := api.runIDs(t, broken)[1]
	assert.Len(t, api.claims(t, bid), 1)

	// No worker: the call times out (its progress notifications sent
	// meanwhile); the run stays queued, and a worker started later runs it.
	w1.stop()
	began := time.Now()
	got, _ = callText(t, cs, "queue_echo", map[string]any{"input_value": "later"}, "p-later")
	took := time.Since(began)
	assert.Equal(t, "Error Executing the queue echo tool. Error: context deadline exceeded", got)
	assert.GreaterOrEqual(t, took, 3*time.Second)
	assert.Positive(t, progress.Load(), "progress notifications while waiting")
	t.Logf("timed-out call: %v, %d progress notifications", took, progress.Load())
	late := api.runIDs(t, flow)[2]
	_, es = api.runEvents(t, late)
	assert.Equal(t, []string{"run.started"}, eventTypes(es), "queued, unclaimed, open")
	w2 := mcpQWorker(t, natsURL, all.dbURL)
	require.Eventually(t, func() bool { return api.runCount(t, flow, "run.finished") == 3 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, []domain.RunClaimed{{Instance: w2.runs.Service().Instance(), Attempt: 1}}, api.claims(t, late))
}
