package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// lastEvent is the last event of a job's run stream (nil: none).
func (s *rtServer) lastEvent(t testing.TB, job string) domain.Event {
	t.Helper()
	_, es := s.runEvents(t, job)
	if len(es) == 0 {
		return nil
	}
	return es[len(es)-1]
}

// drain reads ch to its end and returns the frames.
func drain(t testing.TB, ch <-chan string) []string {
	t.Helper()
	var out []string
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, f)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "the stream did not end", "%d frames", len(out))
		}
	}
}

// Cancelling a job during its stream: the stream ends without an end
// event, the run is recorded as cancelled, a second cancel still answers
// success. The last streaming client that goes away cancels the job, as
// a direct one does.
func TestBuild_CancelAndDisconnect(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	root := s.root.token
	auth := bearer(root)

	t.Run("cancel_during_streaming", func(t *testing.T) {
		job, ch, closeStream := s.gatedJob(t, "TGate-C1")
		defer closeStream()
		c := s.call(t, http.MethodPost, "/api/v1/build/"+job+"/cancel", nil, root)
		require.Equal(t, http.StatusOK, c.status, c.raw)
		assert.Equal(t, map[string]any{"success": true, "message": "Flow build cancelled successfully"}, c.body)
		rest := drain(t, ch)
		assert.NotContains(t, strings.Join(rest, "\n"), `"event": "end"`)
		assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, s.lastEvent(t, job))
		again := s.call(t, http.MethodPost, "/api/v1/build/"+job+"/cancel", nil, root)
		assert.Equal(t, true, again.obj(t)["success"])
	})

	t.Run("streaming_client_gone", func(t *testing.T) {
		// Two readers stream the job: the first going away leaves it
		// running; the last one going away cancels it, as Langflow does.
		job, _, closeFirst := s.gatedJob(t, "TGate-C2")
		ch, closeLast := s.streamLines(t, "/api/v1/build/"+job+"/events", auth)
		require.Contains(t, next(t, ch), `"event": "vertices_sorted"`)
		closeFirst()
		c := s.call(t, http.MethodGet, "/api/v1/flows/", nil, root) // a request after the first reader left
		require.Equal(t, http.StatusOK, c.status, c.raw)
		closeLast()
		require.Eventually(t, func() bool {
			e := s.lastEvent(t, job)
			return e != nil && e.EventType() == "run.cancelled"
		}, 10*time.Second,
			10*time.Millisecond, "the last streaming reader's going away cancels the job")
		assert.Equal(t, domain.RunCancelled{Reason: domain.RunClientGone}, s.lastEvent(t, job))

		// A job whose streaming reader stays to the end runs to its end.
		job2, ch2, close2 := s.gatedJob(t, "TGate-C4")
		defer close2()
		s.gate.open("TGate-C4")
		rest := drain(t, ch2)
		assert.Contains(t, rest[len(rest)-1], `"event": "end"`)
		assert.Equal(t, "run.finished", s.lastEvent(t, job2).EventType())
	})

	t.Run("direct_client_gone", func(t *testing.T) {
		flow := s.flow(t, root, rtGated("TGate-C3"), nil)
		ctx, cancel := context.WithCancel(context.Background())
		req := s.jsonRequest(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?event_delivery=direct", inputs("hi", ""), auth)
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		s.gate.waitStarted(t, "TGate-C3")
		cancel()
		res.Body.Close()
		var job string
		require.Eventually(t, func() bool {
			err := s.app.Pool().QueryRow(context.Background(), `SELECT e.stream_id FROM events e
JOIN events st ON st.stream_id = e.stream_id AND st.event_type = 'run.started' AND st.data->>'flow_id' = $2
WHERE e.event_type = 'run.cancelled' AND e.data->>'reason' = $1`, domain.RunClientGone, flow).Scan(&job)
			return err == nil
		}, 10*time.Second, 10*time.Millisecond, "the run is recorded as cancelled by its client's going away")
		assert.True(t, strings.HasPrefix(job, "run-"))
		// Nothing it did before is lost: the chat input's message and
		// build are recorded, and the monitor shows the message.
		_, es := s.runEvents(t, strings.TrimPrefix(job, "run-"))
		assert.Equal(t, []string{"run.started", "run.vertices_sorted", "run.message_sent", "run.vertex_built", "run.vertex_built",
			"run.cancelled"}, eventTypes(es))
		r := s.do(t, http.MethodGet, "/api/v1/monitor/messages?flow_id="+flow, nil,
			http.Header{"Authorization": {"Bearer " + root}, "X-Min-Position": {s.head(t).String()}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Len(t, r.objects(t), 1)
		assert.Equal(t, "hi", r.objects(t)[0]["text"])
	})
}

// Two server processes on one database: a job runs on one; the other
// serves its events from the log — at once after the start, live while it
// runs, byte for byte what the first shows (it has no tokens) — polls
// them, and cancels it (the first process cancels and records it).
func TestRun_TwoProcesses(t *testing.T) {
	t.Parallel()
	one := rtStart(t, false, nil, "")
	two := rtStart(t, false, nil, one.dbURL)
	root := one.root.token
	auth := bearer(root)
	flow := one.flow(t, root, rtGated("TGate-P1"), nil)

	job := one.job(t, root, flow, inputs("hi", ""))
	// Asked at once (before the first flush), the other process waits
	// for the run to be in the log.
	ch, closeStream := two.streamLines(t, "/api/v1/build/"+job+"/events", auth)
	defer closeStream()
	assert.Contains(t, next(t, ch), `"event": "vertices_sorted"`)
	assert.Contains(t, next(t, ch), `"event": "add_message"`)
	assert.Contains(t, next(t, ch), `"event": "end_vertex"`)
	one.gate.waitStarted(t, "TGate-P1")
	poll := two.events(t, root, job, "polling")
	require.Equal(t, http.StatusOK, poll.status, poll.raw)
	assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex"}, names(t, frames(t, strings.ReplaceAll(poll.raw, "\n\n\n", "\n\n"))))

	one.gate.open("TGate-P1")
	rest := drain(t, ch)
	require.NotEmpty(t, rest)
	assert.Equal(t, `{"event": "end", "data": {}}`, rest[len(rest)-1])
	onOne := one.events(t, root, job, "")
	onTwo := two.events(t, root, job, "")
	assert.Equal(t, onOne.raw, onTwo.raw, "the other process replays the run byte for byte")
	// The next poll takes the rest, the one after it the duplicate end.
	poll = two.events(t, root, job, "polling")
	assert.Equal(t, []string{"end_vertex", "add_message", "end_vertex", "end"}, names(t, frames(t, strings.ReplaceAll(poll.raw, "\n\n\n", "\n\n"))))
	assert.Equal(t, "{\"event\": \"end\", \"data\": {}}\n\n", two.events(t, root, job, "polling").raw)

	// Cancel through the other process.
	flow2 := one.flow(t, root, rtGated("TGate-P2"), nil)
	job2 := one.job(t, root, flow2, inputs("hi", ""))
	one.gate.waitStarted(t, "TGate-P2")
	c := two.call(t, http.MethodPost, "/api/v1/build/"+job2+"/cancel", nil, root)
	require.Equal(t, http.StatusOK, c.status, c.raw)
	assert.Equal(t, true, c.obj(t)["success"])
	end := one.events(t, root, job2, "")
	assert.NotContains(t, end.raw, `"event": "end"`)
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, one.lastEvent(t, job2))

	// Another user of neither process's job: not found on both.
	stranger := one.newUser(t, "rt_two_stranger", rtPassword)
	requireDetail(t, two.events(t, stranger.token, job, ""), http.StatusNotFound, "Job not found: Job queue not found for job_id: "+job)
}

// A run left open by a process that went away is closed as failed
// "interrupted" when a process starts (the sweep), and its events end
// with an error saying so; runs of a live process are left alone.
func TestRun_StartupSweepClosesInterruptedRuns(t *testing.T) {
	t.Parallel()
	one := rtStart(t, false, nil, "")
	root := one.root.token
	live, ch, closeStream := one.gatedJob(t, "TGate-S1")
	defer closeStream()
	flow := one.flow(t, root, rtBasic(false), nil)
	require.Eventually(t, func() bool { return one.lastEvent(t, live) != nil }, 10*time.Second, 10*time.Millisecond, "flushed")

	// A run of a process that is gone (its instance holds no lock).
	dead := uuid.Must(uuid.NewV7())
	run := domain.LoadRun(dead)
	require.NoError(t, run.Start(domain.RunStarted{RunID: dead, FlowID: uuid.MustParse(flow), RecordsFlowID: uuid.MustParse(flow),
		UserID: one.root.id, OwnerID: one.root.id, Source: "draft", Session: "s", Instance: uuid.New()}))
	require.NoError(t, run.Emit(domain.RunVerticesSorted{Data: `{"ids": ["ChatInput-AAAAA"], "to_run": ["ChatInput-AAAAA"]}`}))
	_, err := one.app.Deps().Repository.Save(context.Background(), run, eventstore.Metadata{OccurredAt: time.Now().UTC()})
	require.NoError(t, err)

	two := rtStart(t, false, nil, one.dbURL)
	require.Eventually(t, func() bool {
		e := two.lastEvent(t, dead.String())
		return e != nil && e.EventType() == "run.failed"
	}, 15*time.Second, 20*time.Millisecond, "the startup sweep closes the dead process's run")
	assert.Equal(t, domain.RunFailed{Error: domain.RunInterrupted}, two.lastEvent(t, dead.String()))
	n, err := two.runs.Service().Sweep(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to sweep: the live run is not touched")
	assert.Equal(t, "run.vertex_built", one.lastEvent(t, live).EventType(), "the live run is still open")

	ev := two.events(t, root, dead.String(), "")
	require.Equal(t, http.StatusOK, ev.status, ev.raw)
	assert.Equal(t, []string{"vertices_sorted", "error"}, names(t, frames(t, ev.raw)))
	assert.Contains(t, ev.raw, "The run was interrupted")

	one.gate.open("TGate-S1")
	rest := drain(t, ch)
	assert.Equal(t, `{"event": "end", "data": {}}`, rest[len(rest)-1])
}

// A server shutting down cancels its runs and records them as cancelled
// by the shutdown; their streams end.
func TestRun_ShutdownRecordsCancelled(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	job, ch, closeStream := s.gatedJob(t, "TGate-D1")
	defer closeStream()
	s.stop() // graceful: the harness checks Serve returned no error
	drain(t, ch)

	after := rtStart(t, false, nil, s.dbURL)
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunShutdown}, after.lastEvent(t, job))
	ev := after.events(t, after.root.token, job, "")
	require.Equal(t, http.StatusOK, ev.status, ev.raw)
	assert.NotContains(t, ev.raw, `"event": "end"`)
}
