package app_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/queue"
	"github.com/skillflaw/skillflaw-go/runs"
)

// Worker mode in process: an api App queues webhook runs on an embedded
// NATS JetStream, worker Apps claim and run them (runs/queued.go).

// qEnv is the env of a role on the queue at url (a short AckWait: the
// runs of a worker gone come again within a second).
func qEnv(role, url string) map[string]string {
	return map[string]string{"SKILLFLAW_ROLE": role, "SKILLFLAW_QUEUE_URL": url, "SKILLFLAW_QUEUE_ACK_WAIT": "1s",
		"SKILLFLAW_SECRET_KEY": "queue-test-secret-key-0123456789abcdef"}
}

// embeddedNATS starts a NATS JetStream server for the test and returns
// its URL.
func embeddedNATS(t testing.TB) string {
	t.Helper()
	nats, err := queue.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(nats.Shutdown)
	return nats.URL()
}

// qWorker serves a worker App (no sign-in: it serves no API).
func qWorker(t testing.TB, url, dbURL string) *rtServer {
	t.Helper()
	gate := newGate()
	runs := &app.Runs{Components: append(rtComponents(gate), components.Webhook{})}
	e := adminEnv(rtRoot, rtPassword)
	maps.Copy(e, qEnv("worker", url))
	return &rtServer{harness: startApp(t, options{env: e, modules: rtModules(runs), dbURL: dbURL}), gate: gate, runs: runs}
}

// runIDs are the ids of flow's runs, oldest first.
func (s *rtServer) runIDs(t testing.TB, flow string) []string {
	t.Helper()
	return s.textRows(t, `SELECT data->>'run_id' FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1
		ORDER BY global_position`, flow)
}

// claims are the claims of run id.
func (s *rtServer) claims(t testing.TB, id string) []domain.RunClaimed {
	t.Helper()
	_, es := s.runEvents(t, id)
	var out []domain.RunClaimed
	for _, e := range es {
		if c, ok := e.(domain.RunClaimed); ok {
			out = append(out, c)
		}
	}
	return out
}

func webhookCmd(flow string) runs.StartRun {
	empty := ""
	return runs.StartRun{FlowID: uuid.MustParse(flow), AsOwner: true, InputValue: &empty, InputType: "chat", OutputType: "chat",
		API: runs.APIWebhook, Background: true}
}

func TestQueue_WorkersClaimQueuedRuns(t *testing.T) {
	t.Parallel()
	natsURL := embeddedNATS(t)
	api := whStart(t, qEnv("api", natsURL), "")
	w1 := qWorker(t, natsURL, api.dbURL)
	root := api.root.token
	ctx := context.Background()

	// A worker serves its health checks, nothing else.
	assert.Equal(t, http.StatusOK, w1.call(t, http.MethodGet, "/health", nil, "").status)
	requireDetail(t, w1.call(t, http.MethodGet, "/api/v1/flows/", nil, root), http.StatusNotFound,
		"Not Found: this process is a worker (--role worker) and serves no API")

	// A webhook on the api runs on the worker: queued, claimed, finished.
	flow := api.flow(t, root, whFlow(""), nil)
	require.Equal(t, http.StatusAccepted, api.hook(t, flow, `{"n": 1}`, nil).status)
	require.Eventually(t, func() bool { return api.runCount(t, flow, "run.finished") == 1 }, 15*time.Second, 10*time.Millisecond)
	id := api.runIDs(t, flow)[0]
	_, es := api.runEvents(t, id)
	start := es[0].(domain.RunStarted)
	assert.True(t, start.Queued)
	assert.Equal(t, api.runs.Service().Instance(), start.Instance, "recorded by the api")
	assert.Equal(t, []domain.RunClaimed{{Instance: w1.runs.Service().Instance(), Attempt: 1}}, api.claims(t, id))
	assert.Equal(t, "run.finished", es[len(es)-1].EventType())
	require.Eventually(t, func() bool {
		rows := api.textRows(t, `SELECT outputs::text FROM transactions WHERE flow_id = $1 AND vertex_id = 'Webhook-WWWWW'`, flow)
		return len(rows) == 1
	}, 15*time.Second, 10*time.Millisecond, "the body reached the Webhook node on the worker")

	// Delivered again, a finished run does nothing.
	task, err := api.runs.Service().TaskOf(uuid.MustParse(id), webhookCmd(flow))
	require.NoError(t, err)
	require.NoError(t, w1.runs.Service().Execute(ctx, task))
	_, again := api.runEvents(t, id)
	assert.Len(t, again, len(es), "nothing appended")

	// A run a live worker runs is deferred, not claimed again.
	gated := api.flow(t, root, whFlow("TGate-Q1"), nil)
	require.Equal(t, http.StatusAccepted, api.hook(t, gated, `{"n": 2}`, nil).status)
	w1.gate.waitStarted(t, "TGate-Q1")
	gid := api.runIDs(t, gated)[0]
	task, err = api.runs.Service().TaskOf(uuid.MustParse(gid), webhookCmd(gated))
	require.NoError(t, err)
	var deferred *runs.DeferredError
	require.ErrorAs(t, api.runs.Service().Execute(ctx, task), &deferred)
	assert.Equal(t, w1.runs.Service().Instance(), deferred.Instance)
	assert.Len(t, api.claims(t, gid), 1)

	// The worker stops: it hands its run back (open, not cancelled); the
	// sweep leaves a queued run alone.
	w1.stop()
	n, err := api.runs.Service().Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, es = api.runEvents(t, gid)
	assert.NotContains(t, eventTypes(es), "run.cancelled")
	assert.NotContains(t, eventTypes(es), "run.failed")

	// Queued while no worker runs: cancelled in the log, never run.
	require.Equal(t, http.StatusAccepted, api.hook(t, flow, `{"n": 3}`, nil).status)
	cancelled := api.runIDs(t, flow)[1]
	c := api.call(t, http.MethodPost, "/api/v1/build/"+cancelled+"/cancel", nil, root)
	require.Equal(t, http.StatusOK, c.status, c.raw)
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, api.lastEvent(t, cancelled))

	// Another worker takes the handed-back run over (attempt 2, not an
	// interrupted one: w1 released its claim) and finishes it; the
	// cancelled one is not claimed.
	w1id := w1.runs.Service().Instance()
	assert.Equal(t, domain.RunReleased{Instance: w1id, Attempt: 1}, api.lastEvent(t, gid), "handed back in the log")
	w2 := qWorker(t, natsURL, api.dbURL)
	w2.gate.open("TGate-Q1")
	require.Eventually(t, func() bool { return api.runCount(t, gated, "run.finished") == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, []domain.RunClaimed{{Instance: w1id, Attempt: 1}, {Instance: w2.runs.Service().Instance(), Attempt: 2}},
		api.claims(t, gid))
	assert.Zero(t, api.runCount(t, gated, "run.failed")+api.runCount(t, gated, "run.cancelled"))
	assert.Empty(t, api.claims(t, cancelled))
	assert.Equal(t, 1, api.runCount(t, flow, "run.finished"))

	// The runs read model names the claimer.
	want := w2.runs.Service().Instance().String() + " finished"
	require.Eventually(t, func() bool {
		rows := api.textRows(t, `SELECT instance::text || ' ' || status FROM runs WHERE run_id = $1`, gid)
		return len(rows) == 1 && rows[0] == want
	}, 10*time.Second, 10*time.Millisecond, "the runs read model: %s", want)
}

// An api process that cannot reach its queue answers a webhook 503 (and
// records the run as failed: nobody waits for it).
func TestQueue_UnavailableQueue(t *testing.T) {
	t.Parallel()
	api := whStart(t, qEnv("api", "nats://127.0.0.1:1"), "")
	flow := api.flow(t, api.root.token, whFlow(""), nil)
	r := api.hook(t, flow, `{"n": 1}`, nil)
	requireDetail(t, r, http.StatusServiceUnavailable, "the work queue is unavailable; retry later")
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Equal(t, 1, api.runCount(t, flow, "run.failed"))
	assert.Zero(t, api.runCount(t, flow, "run.claimed"))
}

// A background workflow job on an api process runs on a worker: its
// status and outputs read on the api as if it had run there; a stop on
// the api cancels it on the worker.
func TestQueue_BackgroundWorkflowJob(t *testing.T) {
	t.Parallel()
	natsURL := embeddedNATS(t)
	api := whStart(t, qEnv("api", natsURL), "")
	w := qWorker(t, natsURL, api.dbURL)
	root := api.root.token
	key := api.apiKey(t, root)
	basic := api.flow(t, root, wfBasic(), nil)
	in := map[string]any{"ChatInput-AAAAA.input_value": "queued please"}

	// The same job in the foreground (in the api process), for its outputs.
	sync := api.workflow(t, key, map[string]any{"flow_id": basic, "inputs": in})
	require.Equal(t, http.StatusOK, sync.status, sync.raw)

	r := api.workflow(t, key, map[string]any{"flow_id": basic, "background": true, "inputs": in})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "queued", r.obj(t)["status"])
	job := wfJob(t, r)
	done := api.wfAwait(t, key, job, "completed")
	require.NotEmpty(t, sync.obj(t)["outputs"])
	assert.Equal(t, sync.obj(t)["outputs"], done.obj(t)["outputs"], "the worker's job answers as the api's")
	assert.Equal(t, []domain.RunClaimed{{Instance: w.runs.Service().Instance(), Attempt: 1}}, api.claims(t, job))

	gated := api.flow(t, root, rtGated("TGate-QW"), nil)
	r = api.workflow(t, key, map[string]any{"flow_id": gated, "background": true})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	running := wfJob(t, r)
	w.gate.waitStarted(t, "TGate-QW")
	stop := api.wfStop(t, key, running)
	require.Equal(t, http.StatusOK, stop.status, stop.raw)
	api.wfAwait(t, key, running, "cancelled")
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, api.lastEvent(t, running))
}

// An api process killed between recording a queued run's start and
// publishing its task (SetBeforePublish stops there): the start carries
// the sealed task (the outbox), in ciphertext; no process publishes it
// while the accepting one lives; once it is gone, the re-publish sweep of
// another process (here the worker's) publishes it, and the run runs once.
func TestQueue_LostPublishIsRepublished(t *testing.T) {
	t.Parallel()
	natsURL := embeddedNATS(t)
	api := whStart(t, qEnv("api", natsURL), "")
	root := api.root.token
	ctx := context.Background()
	api.runs.Service().SetBeforePublish(func(uuid.UUID) error { return errors.New("killed before the publish") })

	const secret = "outbox-secret-7f3a9c"
	flow := api.flow(t, root, whFlow(""), nil)
	require.Equal(t, http.StatusAccepted, api.hook(t, flow, `{"token": "`+secret+`"}`, nil).status)
	id := api.runIDs(t, flow)[0]
	_, es := api.runEvents(t, id)
	require.Len(t, es, 1, "recorded, not run")
	start := es[0].(domain.RunStarted)
	assert.True(t, start.Queued)
	assert.NotEmpty(t, start.Task, "the sealed task is in the start")
	assert.NotContains(t, start.Task, secret)
	assert.Empty(t, api.textRows(t, `SELECT event_type FROM events WHERE data::text LIKE '%' || $1 || '%'`, secret),
		"the command is in no event in clear")
	if start.TenantID != nil {
		require.Eventually(t, func() bool {
			return len(api.textRows(t, `SELECT event_type FROM audit_log WHERE stream_id = $1`, "run-"+id)) == 1
		}, 10*time.Second, 10*time.Millisecond, "the start's audit row")
		assert.Empty(t, api.textRows(t, `SELECT event_type FROM audit_log WHERE stream_id = $1 AND data ? 'task'`, "run-"+id),
			"the audit row drops the task")
	}

	// Another api process whose sweep sees the run past the grace period
	// leaves it alone while its accepting process lives.
	api2 := whStart(t, qEnv("api", natsURL), api.dbURL)
	require.Eventually(t, func() bool {
		return len(api2.textRows(t, `SELECT run_id::text FROM runs WHERE run_id = $1 AND queued AND NOT claimed
			AND started_at < now() - interval '3 seconds'`, id)) == 1
	}, 15*time.Second, 50*time.Millisecond, "the run in the read model, past the grace period")
	n, err := api2.runs.Service().Republish(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "its accepting process lives")
	nc, err := natsgo.Connect(natsURL)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	require.NoError(t, err)
	tasks := func() uint64 {
		info, err := js.StreamInfo(queue.StreamName)
		require.NoError(t, err)
		return info.State.Msgs
	}
	assert.Zero(t, tasks(), "nothing published")

	// The first api process is gone: the other's sweep publishes the task
	// again, once (a second sweep of that process leaves it: it is in
	// the queue).
	api.stop()
	require.Eventually(t, func() bool { return tasks() == 1 }, 20*time.Second, 20*time.Millisecond, "published again")
	n, err = api2.runs.Service().Republish(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "published once by a process")

	// A worker takes it and runs it, once.
	w := qWorker(t, natsURL, api.dbURL)
	require.Eventually(t, func() bool { return api2.runCount(t, flow, "run.finished") == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, []domain.RunClaimed{{Instance: w.runs.Service().Instance(), Attempt: 1}}, api2.claims(t, id))
	require.Eventually(t, func() bool {
		rows := api2.textRows(t, `SELECT outputs::text FROM transactions WHERE flow_id = $1 AND vertex_id = 'Webhook-WWWWW'`, flow)
		return len(rows) == 1 && strings.Contains(rows[0], secret)
	}, 15*time.Second, 10*time.Millisecond, "the body, opened from the sealed task, reached the Webhook node")
	for _, p := range []*rtServer{api2, w} {
		n, err = p.runs.Service().Republish(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "an ended run is not published again")
	}
	assert.Equal(t, 1, api2.runCount(t, flow, "run.finished"))
	assert.Zero(t, api2.runCount(t, flow, "run.failed")+api2.runCount(t, flow, "run.cancelled"))
	assert.Len(t, api2.claims(t, id), 1)
	require.Eventually(t, func() bool { return tasks() == 0 }, 10*time.Second, 20*time.Millisecond, "the task acked")
}

// deadClaims appends to queued run id the claims of n workers that died
// one after the other (instances that hold no liveness lock), each
// claim but the first naming the one before it as interrupted.
func (s *rtServer) deadClaims(t testing.TB, id string, n int) {
	t.Helper()
	ctx := context.Background()
	repo := s.app.Deps().Repository
	run := domain.LoadRun(uuid.MustParse(id))
	require.NoError(t, repo.Load(ctx, run))
	info, _ := run.Started()
	var last *uuid.UUID
	if c, held := run.Claim(); held {
		last = &c.Instance
	}
	for range n {
		dead := uuid.New()
		require.NoError(t, run.ClaimFor(dead, last))
		last = &dead
	}
	md := eventstore.Metadata{CausationID: "test:dead-claims", OccurredAt: time.Now(), BusinessID: info.BusinessID}
	if info.TenantID != nil {
		md.TenantID = *info.TenantID
	}
	_, err := repo.Save(ctx, run, md)
	require.NoError(t, err)
}

// A queued run whose attempts are all cut off by dying workers is run
// SKILLFLAW_QUEUE_MAX_ATTEMPTS times at most: the delivery that finds the
// last one cut off fails it, and no delivery runs it again. Below the
// limit, it is claimed again (interrupted) and runs.
func TestQueue_AttemptLimit(t *testing.T) {
	t.Parallel()
	natsURL := embeddedNATS(t)
	api := whStart(t, qEnv("api", natsURL), "")
	root := api.root.token
	ctx := context.Background()
	// Tasks are handed to the worker by the test (Execute), not by the queue.
	api.runs.Service().SetBeforePublish(func(uuid.UUID) error { return errors.New("not published") })
	w := qWorker(t, natsURL, api.dbURL)
	flow := api.flow(t, root, whFlow(""), nil)
	deliver := func(id string) error {
		task, err := api.runs.Service().TaskOf(uuid.MustParse(id), webhookCmd(flow))
		require.NoError(t, err)
		return w.runs.Service().Execute(ctx, task)
	}

	// Two attempts died (default limit 3): the third runs.
	require.Equal(t, http.StatusAccepted, api.hook(t, flow, `{"n": 1}`, nil).status)
	below := api.runIDs(t, flow)[0]
	api.deadClaims(t, below, 2)
	require.NoError(t, deliver(below))
	cs := api.claims(t, below)
	require.Len(t, cs, 3)
	assert.Equal(t, w.runs.Service().Instance(), cs[2].Instance)
	assert.Equal(t, 3, cs[2].Attempt)
	assert.Equal(t, &cs[1].Instance, cs[2].Interrupted)
	assert.Equal(t, "run.finished", api.lastEvent(t, below).EventType())

	// Three attempts died: failed, never run again.
	require.Equal(t, http.StatusAccepted, api.hook(t, flow, `{"n": 2}`, nil).status)
	over := api.runIDs(t, flow)[1]
	api.deadClaims(t, over, 3)
	require.NoError(t, deliver(over), "done with: acked")
	const msg = "the run's worker stopped during each of its 3 attempts; it is not run again"
	assert.Equal(t, domain.RunFailed{Error: msg}, api.lastEvent(t, over))
	assert.Len(t, api.claims(t, over), 3, "not claimed again")
	_, es := api.runEvents(t, over)
	require.NoError(t, deliver(over))
	_, again := api.runEvents(t, over)
	assert.Len(t, again, len(es), "delivered again: nothing appended")
	assert.Equal(t, 1, api.runCount(t, flow, "run.vertices_sorted"), "only the run below the limit ran")
	require.Eventually(t, func() bool {
		rows := api.textRows(t, `SELECT status || ' ' || coalesce(error, '') FROM runs WHERE run_id = $1`, over)
		return len(rows) == 1 && rows[0] == "failed "+msg
	}, 10*time.Second, 10*time.Millisecond, "the runs read model")
}
