package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine/components"
)

// The webhook (#54) black-box: 202 at once, the run in the background as
// the flow's owner, recorded before the answer and never lost.

// whStart serves a runs App of the bench's components and the native
// Webhook (env added to the defaults).
func whStart(t testing.TB, env map[string]string, dbURL string) *rtServer {
	t.Helper()
	gate := newGate()
	runs := &app.Runs{Components: append(rtComponents(gate), components.Webhook{})}
	e := adminEnv(rtRoot, rtPassword)
	for k, v := range env {
		e[k] = v
	}
	h := startApp(t, options{env: e, modules: rtModules(runs), dbURL: dbURL})
	return &rtServer{harness: h, gate: gate, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
}

// whFlow is a Webhook node beside ChatInput → (gate) → ChatOutput.
func whFlow(gate string) map[string]any {
	nodes := []rtNode{node("Webhook-WWWWW:Webhook", map[string]any{"data": ""}), node("ChatInput-AAAAA:ChatInput", nil),
		node("ChatOutput-DDDDD:ChatOutput", nil)}
	if gate == "" {
		return rtFlowData(nodes, "ChatInput-AAAAA.message>ChatOutput-DDDDD.input_value")
	}
	return rtFlowData(append(nodes, node(gate+":TGate", nil)), "ChatInput-AAAAA.message>"+gate+".input_value",
		gate+".out>ChatOutput-DDDDD.input_value")
}

// hook posts body raw (text/plain) to the webhook of flow.
func (s *rtServer) hook(t testing.TB, flow, body string, header http.Header) reply {
	t.Helper()
	return s.send(t, http.MethodPost, "/api/v1/webhook/"+flow, strings.NewReader(body), "text/plain", header)
}

// runCount counts flow's runs with event type typ in the log.
func (s *rtServer) runCount(t testing.TB, flow, typ string) int {
	t.Helper()
	rows := s.textRows(t, `SELECT count(*)::text FROM events e WHERE e.event_type = $2 AND e.stream_id IN
		(SELECT stream_id FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1)`, flow, typ)
	var n int
	_, err := fmt.Sscan(rows[0], &n)
	require.NoError(t, err)
	return n
}

func TestWebhook_RunsInTheBackground(t *testing.T) {
	t.Parallel()
	s := whStart(t, nil, "")
	flow := s.flow(t, s.root.token, whFlow(""), map[string]any{"endpoint_name": "hook-ep"})

	r := s.hook(t, flow, `{"order": 42, "text": "ship it"}`, nil)
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	assert.Equal(t, `{"message":"Task started in the background","status":"in progress"}`, r.raw)
	assert.Equal(t, 1, s.runCount(t, flow, "run.started"), "recorded before the answer")
	assert.Equal(t, []string{`webhook true ` + rtItoa(s.root.id)}, s.textRows(t, `SELECT (data->>'api') || ' ' || (data->>'background') || ' ' ||
		(data->>'user_id') FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1`, flow), "as the owner")
	require.Eventually(t, func() bool { return s.runCount(t, flow, "run.finished") == 1 }, 15*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		rows := s.textRows(t, `SELECT outputs::text FROM transactions WHERE flow_id = $1 AND vertex_id = 'Webhook-WWWWW'`, flow)
		return len(rows) == 1 && strings.Contains(rows[0], "ship it")
	}, 15*time.Second, 10*time.Millisecond, "the body reached the Webhook node; the monitor shows the run")

	r = s.hook(t, "hook-ep", `not json`, nil)
	require.Equal(t, http.StatusAccepted, r.status, "by endpoint name: %s", r.raw)
	requireDetail(t, s.hook(t, flow, "", nil), http.StatusBadRequest,
		"Request body is empty. You should provide a JSON payload containing the flow ID.")
	requireDetail(t, s.hook(t, "no-such-hook", "{}", nil), http.StatusNotFound, "Flow identifier no-such-hook not found")
	plain := s.flow(t, s.root.token, rtBasic(false), nil)
	requireDetail(t, s.hook(t, plain, "{}", nil), http.StatusBadRequest,
		"This flow has no Webhook component: add one to trigger it by webhook")
	assert.Equal(t, 0, s.runCount(t, plain, "run.started"))
}

func TestWebhook_Auth(t *testing.T) {
	t.Parallel()
	s := whStart(t, map[string]string{"SKILLFLAW_WEBHOOK_AUTH_ENABLE": "true"}, "")
	flow := s.flow(t, s.root.token, whFlow(""), nil)
	requireDetail(t, s.hook(t, "nope", "{}", nil), http.StatusNotFound, "Flow identifier nope not found")
	requireDetail(t, s.hook(t, flow, "{}", nil), http.StatusForbidden, "API key required when webhook authentication is enabled")
	requireDetail(t, s.hook(t, flow, "{}", keyHeader("sk-bad")), http.StatusForbidden, "Invalid API key")
	other := s.newUser(t, "hook-other", "hook-password-1")
	requireDetail(t, s.hook(t, flow, "{}", keyHeader(s.apiKey(t, other.token))), http.StatusForbidden,
		"Access denied: You can only execute webhooks for flows you own")
	assert.Equal(t, 0, s.runCount(t, flow, "run.started"))
	key := s.apiKey(t, s.root.token)
	require.Equal(t, http.StatusAccepted, s.hook(t, flow, "{}", keyHeader(key)).status)
	r := s.send(t, http.MethodPost, "/api/v1/webhook/"+flow+"?x-api-key="+key, strings.NewReader("{}"), "", nil)
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	assert.Equal(t, 2, s.runCount(t, flow, "run.started"))
}

// A burst of 500 webhook calls: every one answered 202 and every run
// recorded to its end — queued behind the owner's running-jobs limit,
// none refused, none lost.
func TestWebhook_Burst(t *testing.T) {
	t.Parallel()
	s := whStart(t, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "32"}, "")
	flow := s.flow(t, s.root.token, whFlow(""), nil)
	const calls, clients = 500, 32
	statuses := make(chan int, calls)
	var wg sync.WaitGroup
	work := make(chan int, calls)
	for i := range calls {
		work <- i
	}
	close(work)
	t0 := time.Now()
	for range clients {
		wg.Go(func() {
			for i := range work {
				out, err := exchange(s.request(t, http.MethodPost, "/api/v1/webhook/"+flow,
					strings.NewReader(fmt.Sprintf(`{"n": %d}`, i)), "application/json", nil))
				if err != nil {
					statuses <- -1
					continue
				}
				statuses <- out.status
			}
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: calls}, counts)
	t.Logf("%d calls accepted in %v", calls, time.Since(t0))
	assert.Equal(t, calls, s.runCount(t, flow, "run.started"))
	require.Eventually(t, func() bool { return s.runCount(t, flow, "run.finished") == calls }, 120*time.Second, 50*time.Millisecond,
		"every run finishes")
	t.Logf("%d runs finished in %v", calls, time.Since(t0))
	assert.Zero(t, s.runCount(t, flow, "run.failed")+s.runCount(t, flow, "run.cancelled"))
	require.Eventually(t, func() bool {
		rows := s.textRows(t, `SELECT count(DISTINCT outputs->'output_data'->'data'->>'n')::text FROM transactions
			WHERE flow_id = $1 AND vertex_id = 'Webhook-WWWWW'`, flow)
		return rows[0] == fmt.Sprint(calls)
	}, 60*time.Second, 50*time.Millisecond, "each payload reached its run")
}

// A server that stops with webhook runs running and queued records every
// one of them (cancelled by the shutdown): an accepted webhook is never
// lost. (A process that dies without stopping leaves its runs open; the
// next start closes them as interrupted: TestRun_StartupSweepClosesInterruptedRuns.)
func TestWebhook_ShutdownRecordsEveryRun(t *testing.T) {
	t.Parallel()
	s := whStart(t, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "2"}, "")
	flow := s.flow(t, s.root.token, whFlow("TGate-W1"), nil)
	for range 4 {
		require.Equal(t, http.StatusAccepted, s.hook(t, flow, "{}", nil).status)
	}
	s.gate.waitStarted(t, "TGate-W1")
	s.gate.waitStarted(t, "TGate-W1")
	assert.Equal(t, 4, s.runCount(t, flow, "run.started"), "two running, two queued: all four recorded")
	s.stop()

	after := whStart(t, nil, s.dbURL)
	assert.Equal(t, 4, after.runCount(t, flow, "run.cancelled"), "every accepted run is closed")
	assert.Equal(t, []string{"server shutdown"}, after.textRows(t, `SELECT DISTINCT data->>'reason' FROM events WHERE event_type = 'run.cancelled'
		AND stream_id IN (SELECT stream_id FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1)`, flow))
}
