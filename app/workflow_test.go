package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The v2 workflow API (#214–#216) black-box, with the bench's components
// (runs_helpers_test.go): flat inputs, the three modes, job statuses read
// from the log by any process, stops, and the structured errors.

const wfPath = "/api/v2/workflow"

// wfBasic is ChatInput (its input_value a field, for the flat inputs to
// tweak) → Prompt → model → ChatOutput.
func wfBasic() map[string]any {
	return rtFlowData([]rtNode{
		node("ChatInput-AAAAA:ChatInput", map[string]any{"input_value": ""}),
		node("Prompt-BBBBB:Prompt", map[string]any{"template": "Answer: {input}"}),
		node("TModel-CCCCC:TModel", map[string]any{"stream": false}),
		node("ChatOutput-DDDDD:ChatOutput", nil),
	}, "ChatInput-AAAAA.message>Prompt-BBBBB.input", "Prompt-BBBBB.prompt>TModel-CCCCC.input_value",
		"TModel-CCCCC.text_output>ChatOutput-DDDDD.input_value")
}

// workflow posts body to Execute Workflow with key.
func (s *rtServer) workflow(t testing.TB, key string, body any) reply {
	t.Helper()
	return s.do(t, http.MethodPost, wfPath, body, keyHeader(key))
}

// wfStatus reads job's status with key.
func (s *rtServer) wfStatus(t testing.TB, key, job string) reply {
	t.Helper()
	return s.do(t, http.MethodGet, wfPath+"?job_id="+url.QueryEscape(job), nil, keyHeader(key))
}

// wfStop stops job with key.
func (s *rtServer) wfStop(t testing.TB, key string, job any) reply {
	t.Helper()
	return s.do(t, http.MethodPost, wfPath+"/stop", map[string]any{"job_id": job}, keyHeader(key))
}

// wfAwait polls job's status until it is want (failing after 15 s) and
// returns that answer.
func (s *rtServer) wfAwait(t testing.TB, key, job, want string) reply {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		r := s.wfStatus(t, key, job)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		if r.obj(t)["status"] == want {
			return r
		}
		require.True(t, time.Now().Before(deadline), "job %s is not %s within 15 s: %s", job, want, r.raw)
		<-tick.C
	}
}

// wfJob is the job id of an answer (a UUID).
func wfJob(t testing.TB, r reply) string {
	t.Helper()
	id, _ := r.obj(t)["job_id"].(string)
	_, err := uuid.Parse(id)
	require.NoError(t, err, r.raw)
	return id
}

// without is m without key.
func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// chatOutput is the output of the bench's ChatOutput-DDDDD with content.
func chatOutput(content string) map[string]any {
	return map[string]any{"ChatOutput-DDDDD": map[string]any{"type": "message", "component_id": "ChatOutput-DDDDD",
		"status": "completed", "content": content, "metadata": map[string]any{"component_type": "ChatOutput"}}}
}

func TestWorkflow_Execute(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	root := s.root.token
	key := s.apiKey(t, root)
	flow := s.flow(t, root, wfBasic(), map[string]any{"endpoint_name": "wf-basic"})
	stranger := s.newUser(t, "wf_stranger", rtPassword)
	strangerKey := s.apiKey(t, stranger.token)

	var syncJob string
	t.Run("sync_flat_inputs", func(t *testing.T) {
		inputs := map[string]any{"ChatInput-AAAAA.input_value": "héllo <b>", "Prompt-BBBBB.template": "Q: {input}",
			"ChatInput-AAAAA.session_id": "wf-session-1"}
		r := s.workflow(t, key, map[string]any{"flow_id": flow, "inputs": inputs})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.True(t, strings.HasPrefix(r.raw, `{"flow_id":"`+flow+`","job_id":"`), r.raw)
		syncJob = wfJob(t, r)
		body := r.obj(t)
		created, err := time.Parse("2006-01-02T15:04:05.999999Z07:00", body["created_timestamp"].(string))
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now(), created, time.Minute)
		assert.Equal(t, map[string]any{"flow_id": flow, "job_id": syncJob, "object": "response", "created_timestamp": body["created_timestamp"],
			"status": "completed", "errors": []any{}, "inputs": inputs, "outputs": chatOutput("echo: Q: héllo <b>"), "metadata": map[string]any{}}, body,
			"every input is a tweak; the outputs are the terminal vertices'")
		assert.Contains(t, r.raw, `"content":"echo: Q: héllo <b>"`, "text as FastAPI writes it: UTF-8, nothing escaped")
		assert.Equal(t, []string{"workflow wf-session-1"}, s.textRows(t, `SELECT (data->>'api') || ' ' || (data->>'session') FROM events
			WHERE stream_id = $1 AND event_type = 'run.started'`, "run-"+syncJob), "<id>.session_id is the run's session")

		st := s.wfStatus(t, key, syncJob)
		require.Equal(t, http.StatusOK, st.status, st.raw)
		assert.Equal(t, without(body, "inputs"), without(st.obj(t), "inputs"), "the status reads the same answer from the log")
		assert.Equal(t, map[string]any{"ChatInput-AAAAA.input_value": "héllo <b>", "ChatInput-AAAAA.session_id": "wf-session-1"},
			st.obj(t)["inputs"], "only the inputs proper are recorded (other parameters may carry keys)")
	})

	t.Run("by_endpoint_name", func(t *testing.T) {
		r := s.workflow(t, key, map[string]any{"flow_id": "wf-basic", "inputs": map[string]any{"ChatInput-AAAAA.input_value": "ep"}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, flow, r.obj(t)["flow_id"])
		assert.Equal(t, chatOutput("echo: Answer: ep"), r.obj(t)["outputs"])
	})

	t.Run("failed_run", func(t *testing.T) {
		failing := s.flow(t, root, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TFail-FFFFF:TFail", nil),
			node("ChatOutput-DDDDD:ChatOutput", nil)}, "ChatInput-AAAAA.message>TFail-FFFFF.input_value",
			"TFail-FFFFF.out>ChatOutput-DDDDD.input_value"), nil)
		r := s.workflow(t, key, map[string]any{"flow_id": failing})
		require.Equal(t, http.StatusOK, r.status, "a failed run is an answer: %s", r.raw)
		body := r.obj(t)
		assert.Equal(t, "failed", body["status"])
		assert.Equal(t, map[string]any{}, body["outputs"])
		errs := body["errors"].([]any)
		require.Len(t, errs, 1, r.raw)
		assert.Equal(t, "EXECUTION_ERROR", errs[0].(map[string]any)["code"])
		assert.Contains(t, errs[0].(map[string]any)["error"], "boom")
		st := s.wfStatus(t, key, wfJob(t, r))
		assert.Equal(t, r.raw, st.raw, "the status answers the same, byte for byte")
	})

	t.Run("stream", func(t *testing.T) {
		r := s.workflow(t, key, map[string]any{"flow_id": flow, "stream": true,
			"inputs": map[string]any{"ChatInput-AAAAA.input_value": "streamed"}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "text/event-stream; charset=utf-8", r.header.Get("Content-Type"))
		fs := frames(t, r.raw)
		require.NotEmpty(t, fs)
		assert.Contains(t, names(t, fs), "add_message")
		assert.Equal(t, "end", names(t, fs)[len(fs)-1])
		assert.Contains(t, fs[len(fs)-1], "echo: Answer: streamed")
	})

	t.Run("request_errors", func(t *testing.T) {
		requireDetail(t, s.workflow(t, key, map[string]any{"flow_id": "no-such-flow"}), http.StatusNotFound, map[string]any{
			"error": "Flow not found", "code": "FLOW_NOT_FOUND", "flow_id": "no-such-flow",
			"message": "Flow 'no-such-flow' does not exist. Verify the flow_id and try again."})
		unknown := uuid.NewString()
		r := s.workflow(t, key, map[string]any{"flow_id": unknown})
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, "FLOW_NOT_FOUND", r.detail().(map[string]any)["code"])
		r = s.workflow(t, strangerKey, map[string]any{"flow_id": flow})
		require.Equal(t, http.StatusNotFound, r.status, "another user's flow does not exist for the caller: %s", r.raw)
		assert.Equal(t, "FLOW_NOT_FOUND", r.detail().(map[string]any)["code"])

		r = s.workflow(t, key, map[string]any{"flow_id": flow, "tweaks": map[string]any{}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Equal(t, []any{map[string]any{"type": "extra_forbidden", "loc": []any{"body", "tweaks"}, "msg": "Extra inputs are not permitted",
			"input": map[string]any{}}}, r.detail())
		r = s.workflow(t, key, map[string]any{"flow_id": flow, "background": true, "stream": true})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Equal(t, "value_error", r.detail().([]any)[0].(map[string]any)["type"])
		assert.Contains(t, r.raw, "Both 'background' and 'stream' cannot be True")
		r = s.workflow(t, key, map[string]any{"inputs": map[string]any{}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
		assert.Equal(t, "missing", r.detail().([]any)[0].(map[string]any)["type"])
		r = s.workflow(t, key, map[string]any{"flow_id": flow, "inputs": map[string]any{"ChatInput-AAAAA.session_id": 7}})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "a session id is a string: %s", r.raw)

		empty := s.flow(t, root, nil, nil)
		r = s.workflow(t, key, map[string]any{"flow_id": empty})
		require.Equal(t, http.StatusBadRequest, r.status, "a flow without data: %s", r.raw)
		assert.Equal(t, map[string]any{"error": "Workflow validation error", "code": "INVALID_FLOW_DATA", "flow_id": empty,
			"message": "Flow " + empty + " has no data. The flow may be corrupted."}, r.detail())

		r = s.do(t, http.MethodPost, wfPath, map[string]any{"flow_id": flow}, bearer(root))
		assert.Equal(t, http.StatusForbidden, r.status, "API key only: %s", r.raw)
		assert.Zero(t, s.runCount(t, flow, "run.failed"))
	})

	t.Run("unknown_and_foreign_jobs", func(t *testing.T) {
		requireDetail(t, s.do(t, http.MethodGet, wfPath, nil, keyHeader(key)), http.StatusBadRequest, map[string]any{
			"error": "Missing required parameter", "code": "MISSING_PARAMETER", "message": "Job ID must be provided"})
		unknown := uuid.NewString()
		requireDetail(t, s.wfStatus(t, key, unknown), http.StatusNotFound, map[string]any{"error": "Workflow job not found",
			"code": "JOB_NOT_FOUND", "message": "Workflow job " + unknown + " not found", "job_id": unknown})
		r := s.wfStatus(t, key, "not-a-uuid")
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, "JOB_NOT_FOUND", r.detail().(map[string]any)["code"])
		build := s.job(t, root, flow, inputs("hi", ""))
		r = s.wfStatus(t, key, build)
		require.Equal(t, http.StatusNotFound, r.status, "a build is no workflow job: %s", r.raw)

		r = s.wfStop(t, key, unknown)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, map[string]any{"job_id": unknown, "status": "not_found", "message": "Job " + unknown + " not found"}, r.body)
		r = s.wfStop(t, key, 42)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, "42", r.obj(t)["job_id"])

		require.NotEmpty(t, syncJob, "sync_flat_inputs ran")
		r = s.wfStatus(t, strangerKey, syncJob)
		require.Equal(t, http.StatusNotFound, r.status, "another user's job: %s", r.raw)
		assert.Equal(t, "JOB_NOT_FOUND", r.detail().(map[string]any)["code"])
		r = s.wfStop(t, strangerKey, syncJob)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		assert.Equal(t, "not_found", r.obj(t)["status"])
		r = s.wfStop(t, key, syncJob)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "stopped", r.obj(t)["status"], "a job that ended is stopped")
	})
}

// Background jobs on one process, read and stopped through another over
// the same database: queued (behind the user's only slot), in progress,
// completed or cancelled — the same answer from both, from the log. A job
// left open by a process that died is failed (interrupted) once the next
// process started.
func TestWorkflow_BackgroundAcrossProcesses(t *testing.T) {
	t.Parallel()
	one := rtStart(t, false, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "1"}, "")
	root := one.root.token
	key := one.apiKey(t, root)
	gated := one.flow(t, root, rtGated("TGate-WF1"), nil)
	basic := one.flow(t, root, wfBasic(), nil)

	// A job of a process that is gone (its instance holds no lock): open,
	// it had begun building.
	dead := uuid.Must(uuid.NewV7()).String()
	run := domain.LoadRun(uuid.MustParse(dead))
	require.NoError(t, run.Start(domain.RunStarted{RunID: uuid.MustParse(dead), FlowID: uuid.MustParse(basic),
		RecordsFlowID: uuid.MustParse(basic), UserID: one.root.id, OwnerID: one.root.id, Source: "draft", API: "workflow",
		Background: true, Session: "s", Instance: uuid.New()}))
	require.NoError(t, run.Emit(domain.RunVerticesSorted{Data: `{"ids": ["ChatInput-AAAAA"], "to_run": ["ChatInput-AAAAA"]}`}))
	_, err := one.app.Deps().Repository.Save(context.Background(), run, eventstore.Metadata{OccurredAt: time.Now().UTC()})
	require.NoError(t, err)
	assert.Equal(t, "in_progress", one.wfStatus(t, key, dead).obj(t)["status"], "open until a start closes it")

	two := rtStart(t, false, nil, one.dbURL)

	// Queued at once, recorded before the answer.
	r := one.workflow(t, key, map[string]any{"flow_id": gated, "background": true})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	job := wfJob(t, r)
	body := r.obj(t)
	assert.Equal(t, map[string]any{"job_id": job, "flow_id": gated, "object": "job", "created_timestamp": body["created_timestamp"],
		"status": "queued", "links": map[string]any{"status": wfPath + "?job_id=" + job, "stop": wfPath + "/stop"}, "errors": []any{}}, body)
	first := two.wfStatus(t, key, job)
	require.Equal(t, http.StatusOK, first.status, "the other process knows the job at once: %s", first.raw)
	assert.Contains(t, []any{"queued", "in_progress"}, first.obj(t)["status"])
	one.gate.waitStarted(t, "TGate-WF1")
	running := two.wfAwait(t, key, job, "in_progress")
	assert.Equal(t, running.raw, one.wfStatus(t, key, job).raw, "both processes answer the same")

	// A second job waits for the user's only slot: queued, on both.
	r = one.workflow(t, key, map[string]any{"flow_id": basic, "background": true,
		"inputs": map[string]any{"ChatInput-AAAAA.input_value": "waits"}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	queued := wfJob(t, r)
	q := two.wfStatus(t, key, queued)
	require.Equal(t, http.StatusOK, q.status, q.raw)
	assert.Equal(t, "queued", q.obj(t)["status"])
	assert.Equal(t, q.raw, one.wfStatus(t, key, queued).raw)
	// Stopped through the other process: the one running it cancels it.
	stop := two.wfStop(t, key, queued)
	require.Equal(t, http.StatusOK, stop.status, stop.raw)
	assert.Contains(t, []any{"stopped", "stopping"}, stop.obj(t)["status"])
	assert.Equal(t, queued, stop.obj(t)["job_id"])
	c := one.wfAwait(t, key, queued, "cancelled")
	assert.Equal(t, []any{map[string]any{"error": "The job was cancelled: cancel requested", "code": "JOB_CANCELLED",
		"details": map[string]any{"flow_id": basic, "reason": "cancel requested"}}}, c.obj(t)["errors"])
	assert.Equal(t, c.raw, two.wfStatus(t, key, queued).raw)
	again := one.wfStop(t, key, queued)
	require.Equal(t, http.StatusOK, again.status, again.raw)
	assert.Equal(t, map[string]any{"job_id": queued, "status": "stopped", "message": "Job " + queued + " has already ended (cancelled)."}, again.body)

	// The first job completes: its outputs, read by either process.
	one.gate.open("TGate-WF1")
	done := two.wfAwait(t, key, job, "completed")
	assert.Equal(t, chatOutput("opened TGate-WF1"), done.obj(t)["outputs"])
	assert.Equal(t, []any{}, done.obj(t)["errors"])
	assert.Equal(t, body["created_timestamp"], done.obj(t)["created_timestamp"])
	assert.Equal(t, done.raw, one.wfStatus(t, key, job).raw)

	// Stopping a running job cancels it.
	gated2 := one.flow(t, root, rtGated("TGate-WF2"), nil)
	r = one.workflow(t, key, map[string]any{"flow_id": gated2, "background": true})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	running2 := wfJob(t, r)
	one.gate.waitStarted(t, "TGate-WF2")
	stop = one.wfStop(t, key, running2)
	require.Equal(t, http.StatusOK, stop.status, stop.raw)
	assert.Contains(t, []any{"stopped", "stopping"}, stop.obj(t)["status"])
	two.wfAwait(t, key, running2, "cancelled")
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, one.lastEvent(t, running2))

	// The dead process's job: the other process's start closed it.
	f := two.wfAwait(t, key, dead, "failed")
	errs := f.obj(t)["errors"].([]any)
	require.Len(t, errs, 1, f.raw)
	assert.Equal(t, "JOB_INTERRUPTED", errs[0].(map[string]any)["code"])
	assert.Contains(t, errs[0].(map[string]any)["error"], "interrupted")
	assert.Equal(t, f.raw, one.wfStatus(t, key, dead).raw)
}
