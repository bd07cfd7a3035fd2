package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/projections"
)

// runEvents reads a job's run stream, decoded.
func (s *rtServer) runEvents(t testing.TB, job string) ([]eventstore.RecordedEvent, []domain.Event) {
	t.Helper()
	recs, err := s.app.Deps().Store.ReadStream(context.Background(), domain.RunStream(uuid.MustParse(job)), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	var out []domain.Event
	for _, rec := range recs {
		e, err := s.app.Deps().Registry.Decode(rec)
		require.NoError(t, err)
		out = append(out, e)
	}
	return recs, out
}

func eventTypes(es []domain.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.EventType()
	}
	return out
}

var idRE = regexp.MustCompile(`"id": "([0-9]+)", "flow_id"`)

// A run is events: its start (who, which flow and revision, the graph's
// hash, the inputs, the process), every event of the build API but the
// tokens, its end — in its stream, with the flow's tenant, so that the
// tenant's audit shows it — and its messages, vertex builds and
// transactions through the monitor's command API, so that the monitor
// routes show them. A short run is appended in one transaction.
func TestRun_RecordedAsEvents(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	root := s.root.token
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Recorded"}, root)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	data := rtBasic(true)
	created := s.createFlow(t, root, map[string]any{"name": "recorded", "data": data, "tenant_id": tenant})
	flow := created["id"].(string)

	post := s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow", inputs("hi", "sess-1"), http.Header{
		"Authorization": {"Bearer " + root}, "X-Request-ID": {"req-recorded-1"}})
	require.Equal(t, http.StatusOK, post.status, post.raw)
	job := post.obj(t)["job_id"].(string)
	live := s.events(t, root, job, "")
	fs := frames(t, live.raw)
	require.Equal(t, "end", names(t, fs)[len(fs)-1])

	recs, es := s.runEvents(t, job)
	require.Equal(t, []string{"run.started", "run.vertices_sorted", "run.message_sent", "run.vertex_built", "run.vertex_built",
		"run.message_sent", "run.vertex_built", "run.message_sent", "run.vertex_built", "run.finished"}, eventTypes(es))
	start := es[0].(domain.RunStarted)
	assert.Equal(t, uuid.MustParse(flow), start.FlowID)
	assert.Equal(t, uuid.MustParse(flow), start.RecordsFlowID)
	assert.Equal(t, s.root.id, start.UserID)
	assert.Equal(t, "draft", start.Source)
	require.NotNil(t, start.FlowRevision)
	flowRecs, err := s.app.Deps().Store.ReadStream(context.Background(), domain.FlowStream(uuid.MustParse(flow)), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Equal(t, flowRecs[len(flowRecs)-1].StreamVersion, *start.FlowRevision)
	assert.Len(t, start.GraphHash, 64)
	assert.JSONEq(t, `{"input_value":"hi","session":"sess-1"}`, string(start.Inputs))
	assert.Equal(t, "sess-1", start.Session)
	assert.Equal(t, s.runs.Service().Instance(), start.Instance)
	for _, rec := range recs {
		assert.Equal(t, uuid.MustParse(tenant), rec.Metadata.TenantID, "the flow's tenant on %s", rec.Type)
		assert.Equal(t, s.root.id, rec.Metadata.ActorUserID)
		assert.Equal(t, "req-recorded-1", rec.Metadata.CorrelationID)
	}
	// The stream replays the frames byte for byte, but the tokens.
	var replay []string
	for _, f := range fs {
		if !strings.HasPrefix(f, `{"event": "token"`) {
			replay = append(replay, f)
		}
	}
	assert.Len(t, replay, len(fs)-3, "three tokens")
	for i, e := range es[1 : len(es)-1] {
		var data string
		switch e := e.(type) {
		case domain.RunVerticesSorted:
			data = e.Data
		case domain.RunMessageSent:
			data = e.Data
		case domain.RunVertexBuilt:
			data = e.Data
		}
		assert.Equal(t, replay[i], `{"event": "`+names(t, []string{replay[i]})[0]+`", "data": `+data+`}`)
	}

	// One transaction for everything the run wrote: its stream, the
	// session, its messages, builds and transactions.
	var events, txs int
	require.NoError(t, s.app.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT xmin::text) FROM events
WHERE metadata->>'correlation_id' = 'req-recorded-1'`).Scan(&events, &txs))
	assert.Equal(t, 1, txs, "appended together")
	assert.Equal(t, 10+1+2+4+4, events, "run 10, session 1, messages 2 (the streamed one once), builds 4, transactions 4")

	// The monitor shows them, at the position the run reached.
	head := s.head(t).String()
	get := func(path string) reply {
		r := s.do(t, http.MethodGet, path, nil, http.Header{"Authorization": {"Bearer " + root}, "X-Min-Position": {head}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return r
	}
	msgs := get("/api/v1/monitor/messages?flow_id=" + flow).objects(t)
	require.Len(t, msgs, 2)
	var shown []string
	for _, m := range idRE.FindAllStringSubmatch(live.raw, -1) {
		if len(shown) == 0 || shown[len(shown)-1] != m[1] {
			shown = append(shown, m[1])
		}
	}
	assert.Equal(t, []string{fmt.Sprint(msgs[0]["id"]), fmt.Sprint(msgs[1]["id"])}, []string{shown[0], shown[len(shown)-1]},
		"the ids the events showed are the monitor's")
	assert.Equal(t, "hi", msgs[0]["text"])
	assert.Equal(t, "echo: Answer: hi", msgs[1]["text"], "the streamed message, complete")
	assert.Equal(t, "sess-1", msgs[1]["session_id"])
	builds := get("/api/v1/monitor/builds?flow_id=" + flow).obj(t)["vertex_builds"].(map[string]any)
	assert.Len(t, builds, 4)
	assert.Equal(t, float64(4), get("/api/v1/monitor/transactions?flow_id=" + flow).obj(t)["total"])
	sessions := get("/api/v1/monitor/messages/sessions?flow_id=" + flow).objects(t)
	require.Len(t, sessions, 1)

	// The tenant's audit and the runs read model.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().WaitFor(ctx, s.head(t)))
	var audited int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND stream_id = $2`,
		tenant, "run-"+job).Scan(&audited))
	assert.Equal(t, 10, audited)
	var status string
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT status FROM runs WHERE run_id = $1`, job).Scan(&status))
	assert.Equal(t, "finished", status)

	// The monitor changes the session between two runs of the chat: the
	// next run's flush meets a newer session than the one it kept, reads
	// it again and records its messages all the same.
	del := s.do(t, http.MethodDelete, "/api/v1/monitor/messages", []int64{int64(msgs[0]["id"].(float64))}, bearer(root))
	require.Equal(t, http.StatusOK, del.status, del.raw)
	again := s.build(t, root, flow, "event_delivery=direct", inputs("again", "sess-1"))
	require.True(t, strings.HasSuffix(again.raw, "{\"event\": \"end\", \"data\": {}}\n\n"), again.raw)
	head = s.head(t).String()
	texts := []string{}
	for _, m := range get("/api/v1/monitor/messages?flow_id=" + flow).objects(t) {
		texts = append(texts, m["text"].(string))
	}
	assert.Equal(t, []string{"echo: Answer: hi", "again", "echo: Answer: again"}, texts)

	// A streamed answer flushed before it was complete is completed by
	// an update that does not mark it edited.
	paused := rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil),
		node("TModel-PAUSE:TModel", map[string]any{"stream": true, "pause": true}), node("ChatOutput-DDDDD:ChatOutput", nil)},
		"ChatInput-AAAAA.message>TModel-PAUSE.input_value", "TModel-PAUSE.text_output>ChatOutput-DDDDD.input_value")
	pflow := s.flow(t, root, paused, nil)
	pjob := s.job(t, root, pflow, inputs("slow", "sess-p"))
	s.gate.waitStarted(t, "TModel-PAUSE")
	require.Eventually(t, func() bool {
		var n int
		err := s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'run.message_sent'`,
			"run-"+pjob).Scan(&n)
		return err == nil && n == 2
	}, 10*time.Second, 10*time.Millisecond, "the partial answer is flushed while the model waits")
	s.gate.open("TModel-PAUSE")
	s.events(t, root, pjob, "")
	head = s.head(t).String()
	pm := get("/api/v1/monitor/messages?flow_id=" + pflow).objects(t)
	require.Len(t, pm, 2)
	assert.Equal(t, "echo: slow", pm[1]["text"])
	assert.Equal(t, false, pm[1]["edit"], "completed, not edited")
	assert.Equal(t, "complete", pm[1]["properties"].(map[string]any)["state"])

	// log_builds=false: no vertex builds, the rest as before.
	r = s.do(t, http.MethodPost, "/api/v1/build/"+flow+"/flow?log_builds=false", inputs("hi", "sess-2"), http.Header{
		"Authorization": {"Bearer " + root}, "X-Request-ID": {"req-recorded-2"}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	s.events(t, root, r.obj(t)["job_id"].(string), "")
	var builds2 int
	require.NoError(t, s.app.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE metadata->>'correlation_id' = 'req-recorded-2'
AND event_type = 'vertex_build.recorded'`).Scan(&builds2))
	assert.Zero(t, builds2)

	// A run of a graph sent with the request records its hash, not its
	// revision.
	sent := rtBasic(false)
	body := inputs("x", "")
	body["data"] = sent
	job3 := s.job(t, root, flow, body)
	s.events(t, root, job3, "")
	_, es3 := s.runEvents(t, job3)
	start3 := es3[0].(domain.RunStarted)
	assert.Equal(t, "data", start3.Source)
	assert.Nil(t, start3.FlowRevision)
	raw, err := json.Marshal(sent)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	assert.Equal(t, hex.EncodeToString(sum[:]), start3.GraphHash)

	// The runs replay: read models rebuilt from the log answer the
	// monitor routes as before, and hold the same rows.
	require.NoError(t, s.app.Runtime().WaitFor(ctx, s.head(t)))
	head = s.head(t).String()
	monitor := func() []string {
		var got []string
		for _, f := range []string{flow, pflow} {
			for _, path := range []string{"/api/v1/monitor/messages?flow_id=", "/api/v1/monitor/builds?flow_id=",
				"/api/v1/monitor/transactions?flow_id=", "/api/v1/monitor/messages/sessions?flow_id="} {
				got = append(got, get(path+f).raw)
			}
		}
		return append(got, s.textRows(t, `SELECT x::text FROM runs x ORDER BY run_id`)...)
	}
	before := monitor()
	require.Len(t, before, 8+5, "five runs")
	for _, name := range []string{projections.MessagesName, "monitor", projections.RunsName} {
		require.NoError(t, s.app.Runtime().Rebuild(ctx, name, nil), name)
	}
	assert.Equal(t, before, monitor())
}

// A failing vertex stops its descendants; its siblings go on and the run
// still ends.
func TestBuild_FailingVertexSiblingsGoOn(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	flow := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-A:ChatInput", nil), node("TFail-F:TFail", nil),
		node("ChatOutput-X:ChatOutput", nil), node("Prompt-P:Prompt", map[string]any{"template": "ok {input}"}),
		node("ChatOutput-Y:ChatOutput", nil)},
		"ChatInput-A.message>TFail-F.input_value", "TFail-F.out>ChatOutput-X.input_value",
		"ChatInput-A.message>Prompt-P.input", "Prompt-P.prompt>ChatOutput-Y.input_value"), nil)
	r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("hi", ""))
	fs := frames(t, r.raw)
	assert.Equal(t, "end", names(t, fs)[len(fs)-1])
	built := map[string]string{}
	for _, f := range fs {
		var ev struct {
			Event string
			Data  struct {
				BuildData struct {
					ID    string
					Valid bool
					Data  struct {
						Outputs map[string]struct {
							Message any
							Type    string
						}
					}
				} `json:"build_data"`
			}
		}
		require.NoError(t, json.Unmarshal([]byte(f), &ev))
		if ev.Event == "end_vertex" {
			b := ev.Data.BuildData
			built[b.ID] = fmt.Sprint(b.Valid)
			if !b.Valid {
				out := b.Data.Outputs["out"]
				assert.Equal(t, "error", out.Type)
				assert.Equal(t, "Error building Component TFail-F: \n\nboom", out.Message.(map[string]any)["errorMessage"])
			}
		}
	}
	assert.Equal(t, map[string]string{"ChatInput-A": "true", "TFail-F": "false", "Prompt-P": "true", "ChatOutput-Y": "true"}, built)
}

// A 200-vertex chain runs, every vertex reported.
func TestBuild_BigGraph(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	nodes := []rtNode{node("ChatInput-0:ChatInput", nil)}
	var edges []string
	prev, out := "ChatInput-0", "message"
	for i := 1; i < 200; i++ {
		id := fmt.Sprintf("Prompt-%d", i)
		nodes = append(nodes, node(id+":Prompt", map[string]any{"template": "{input}."}))
		edges = append(edges, prev+"."+out+">"+id+".input")
		prev, out = id, "prompt"
	}
	flow := s.flow(t, s.root.token, rtFlowData(nodes, edges...), nil)
	r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("x", ""))
	fs := frames(t, r.raw)
	require.Len(t, fs, 1+1+200+1, "vertices_sorted, add_message, 200 end_vertex, end")
	assert.Contains(t, fs[len(fs)-2], `"id": "Prompt-199"`)
	assert.Contains(t, fs[len(fs)-2], `"x`+strings.Repeat(".", 199)+`"`)
}
