package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
	"github.com/skillflaw/skillflaw-go/queue"
)

// The "done when" for worker mode: one `serve --role api` and two
// `serve --role worker` processes on one database and an embedded NATS
// JetStream; 1,000 webhook runs queued; one worker SIGKILLed while it
// runs some. Every run ends exactly once, finished; the killed worker's
// runs are claimed again by the survivor (attempt 2) and finish.

const (
	queueRuns = 1000
	// slowRuns wait for the fake model until the test lets them go: the
	// runs a worker is surely in the middle of when it is killed.
	slowRuns = 6
	// slowModel is the model of the slow flow (the fast one calls
	// gpt-4o-mini).
	slowModel = "gpt-4o"
)

// webhookFlow is the Basic Prompting starter with a Webhook node, its
// model set to model.
func webhookFlow(t *testing.T, model string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "engine", "components", "testdata", "basic-prompting.json"))
	require.NoError(t, err)
	var f struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(raw, &f))
	nodes := f.Data["nodes"].([]any)
	for _, n := range nodes {
		nd := n.(map[string]any)["data"].(map[string]any)
		if nd["type"] == "LanguageModelComponent" {
			tpl := nd["node"].(map[string]any)["template"].(map[string]any)
			tpl["model"].(map[string]any)["value"].([]any)[0].(map[string]any)["name"] = model
		}
	}
	f.Data["nodes"] = append(nodes, map[string]any{"id": "Webhook-WWWWW", "type": "genericNode", "position": map[string]any{"x": 0, "y": 0},
		"data": map[string]any{"id": "Webhook-WWWWW", "type": "Webhook", "node": map[string]any{"display_name": "Webhook",
			"template": map[string]any{"_type": "Component", "data": map[string]any{"type": "str", "value": "", "show": true}}}}})
	return f.Data
}

// apiClient signs in as root on base.
type apiClient struct {
	base, token string
}

func signIn(t *testing.T, base string) apiClient {
	t.Helper()
	res, err := http.PostForm(base+"/api/v1/login", url.Values{"username": {"root"}, "password": {"root-password-1"}})
	require.NoError(t, err)
	defer res.Body.Close()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&pair))
	require.NotEmpty(t, pair.AccessToken)
	return apiClient{base: base, token: pair.AccessToken}
}

func (c apiClient) createFlow(t *testing.T, name string, data map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"name": name, "data": data})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/v1/flows/", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var f struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&f))
	return f.ID
}

// hook posts a webhook call and returns its status (-1: no answer).
func hook(base, flow string, n int) int {
	res, err := http.Post(base+"/api/v1/webhook/"+flow, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
	if err != nil {
		return -1
	}
	res.Body.Close()
	return res.StatusCode
}

var instanceLine = regexp.MustCompile(`msg="runs: working the queue".* instance=([0-9a-f-]{36})`)

// instanceOf is the run instance of a worker, from its log.
func instanceOf(t *testing.T, c *child) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.Eventually(t, func() bool {
		m := instanceLine.FindStringSubmatch(c.out.String())
		if m == nil {
			return false
		}
		id = uuid.MustParse(m[1])
		return true
	}, 30*time.Second, 10*time.Millisecond, "the worker works the queue")
	return id
}

// claim is a run.claimed event of the log.
type claim struct {
	run      string
	instance uuid.UUID
	attempt  int
	replaced *uuid.UUID
	pos      int64
}

func claims(t *testing.T, pool *pgxpool.Pool, flows []string) []claim {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT substr(stream_id, 5), (data->>'instance')::uuid, (data->>'attempt')::int,
		(data->>'interrupted')::uuid, global_position FROM events WHERE event_type = 'run.claimed' AND stream_id IN
		(SELECT stream_id FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = ANY($1)) ORDER BY global_position`, flows)
	require.NoError(t, err)
	defer rows.Close()
	var out []claim
	for rows.Next() {
		var c claim
		require.NoError(t, rows.Scan(&c.run, &c.instance, &c.attempt, &c.replaced, &c.pos))
		out = append(out, c)
	}
	require.NoError(t, rows.Err())
	return out
}

// ends maps every run of flows to its end events' types (none: open).
func ends(t *testing.T, pool *pgxpool.Pool, flows []string) map[string][]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT substr(s.stream_id, 5), e.event_type FROM events s
		LEFT JOIN events e ON e.stream_id = s.stream_id AND e.event_type IN ('run.finished', 'run.failed', 'run.cancelled')
		WHERE s.event_type = 'run.started' AND s.data->>'flow_id' = ANY($1)`, flows)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var run string
		var typ *string
		require.NoError(t, rows.Scan(&run, &typ))
		if _, ok := out[run]; !ok {
			out[run] = []string{}
		}
		if typ != nil {
			out[run] = append(out[run], *typ)
		}
	}
	require.NoError(t, rows.Err())
	return out
}

func ended(m map[string][]string) int {
	n := 0
	for _, e := range m {
		if len(e) > 0 {
			n++
		}
	}
	return n
}

func TestServe_WorkersRunEveryQueuedRunExactlyOnce(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before the fake server closes (cleanups run last first)
	var slowCalls atomic.Int64
	fake.Handle(func(r fakeopenai.Request) fakeopenai.Reply {
		if r.Chat.Model == slowModel {
			slowCalls.Add(1)
			<-release
		}
		return fakeopenai.Reply{Text: "Arr!"}
	})
	nats, err := queue.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(nats.Shutdown)
	dbURL := testkit.DatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	common := []string{"SKILLFLAW_QUEUE_URL=" + nats.URL(), "SKILLFLAW_QUEUE_ACK_WAIT=2s", "SKILLFLAW_QUEUE_WORKERS=8",
		"SKILLFLAW_SECRET_KEY=queue-kill-test-secret-0123456789abcdef", "SKILLFLAW_OPENAI_BASE_URL=" + fake.URL, "OPENAI_API_KEY=sk-test"}
	api := serveChild(t, dbURL, append(common, envChild+"=serve --role api")...)
	workers := []*child{serveChild(t, dbURL, append(common, envChild+"=serve --role worker")...),
		serveChild(t, dbURL, append(common, envChild+"=serve --role worker")...)}
	instances := []uuid.UUID{instanceOf(t, workers[0]), instanceOf(t, workers[1])}
	root := signIn(t, api.base)
	fast := root.createFlow(t, "fast hook", webhookFlow(t, "gpt-4o-mini"))
	slow := root.createFlow(t, "slow hook", webhookFlow(t, slowModel))
	flows := []string{fast, slow}

	// The slow runs first: every one claimed, held at the model.
	t0 := time.Now()
	for i := range slowRuns {
		require.Equal(t, http.StatusAccepted, hook(api.base, slow, i))
	}
	require.Eventually(t, func() bool { return slowCalls.Load() == slowRuns }, 30*time.Second, 10*time.Millisecond,
		"every slow run calls the model")

	// Then the fast ones, 32 clients at once; once a fifth of them ended,
	// the worker holding most slow runs is killed.
	statuses := make(chan int, queueRuns)
	work := make(chan int, queueRuns)
	for i := slowRuns; i < queueRuns; i++ {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range work {
				statuses <- hook(api.base, fast, i)
			}
		})
	}
	require.Eventually(t, func() bool { return ended(ends(t, pool, flows)) >= queueRuns/5 }, 60*time.Second, 20*time.Millisecond)
	held := map[uuid.UUID]int{}
	for _, c := range claims(t, pool, []string{slow}) {
		held[c.instance]++
	}
	victim := 0
	if held[instances[1]] > held[instances[0]] {
		victim = 1
	}
	require.NotZero(t, held[instances[victim]], "the victim runs slow runs: %v", held)
	require.NoError(t, workers[victim].cmd.Process.Kill())
	_ = workers[victim].cmd.Wait()
	killedAt := time.Now()
	dead, survivor := instances[victim], instances[1-victim]
	// What the victim was running when it died, from the log (its lock
	// is gone with it: nothing it runs can be recorded any more).
	var killHead int64
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT coalesce(max(global_position), 0) FROM events`).Scan(&killHead))
	atKill := ends(t, pool, flows)
	inFlight := map[string]bool{}
	for _, c := range claims(t, pool, flows) {
		if c.instance == dead && len(atKill[c.run]) == 0 {
			inFlight[c.run] = true
		}
	}
	require.NotEmpty(t, inFlight)
	letGo()

	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: queueRuns - slowRuns}, counts)
	require.Eventually(t, func() bool { return ended(ends(t, pool, flows)) == queueRuns }, 120*time.Second, 50*time.Millisecond,
		"every run ends")
	wall := time.Since(t0)

	// Exactly once: one end each, finished.
	final := ends(t, pool, flows)
	require.Len(t, final, queueRuns)
	for run, e := range final {
		require.Equal(t, []string{"run.finished"}, e, "run %s", run)
	}
	all := claims(t, pool, flows)
	byRun := map[string][]claim{}
	for _, c := range all {
		byRun[c.run] = append(byRun[c.run], c)
		if c.pos > killHead {
			assert.Equal(t, survivor, c.instance, "after the kill, the survivor runs everything")
		}
	}
	assert.Len(t, byRun, queueRuns, "every run was claimed")
	again := 0
	for run, cs := range byRun {
		last := cs[len(cs)-1]
		if inFlight[run] {
			require.Len(t, cs, 2, "run %s: claimed by the victim, then the survivor", run)
			assert.Equal(t, claim{run: run, instance: survivor, attempt: 2, replaced: &dead, pos: last.pos}, last)
			again++
			continue
		}
		require.Len(t, cs, 1, "run %s ran once", run)
		assert.Equal(t, 1, last.attempt)
	}
	assert.Equal(t, len(inFlight), again)
	var slowAgain int
	for run := range inFlight {
		if slices.Contains(runsOf(t, pool, slow), run) {
			slowAgain++
		}
	}
	deferred := 0
	for _, w := range workers {
		deferred += strings.Count(w.out.String(), `msg="queue: a task will come again"`)
	}
	t.Logf("%d runs (%d slow) in %s (%.0f runs/s); killed worker had %d in flight (%d slow), re-run by the survivor (attempt 2); killed %s after the start, last run ended %s after the kill; %d deliveries deferred (nacked)",
		queueRuns, slowRuns, wall.Round(time.Millisecond), float64(queueRuns)/wall.Seconds(), len(inFlight), slowAgain,
		killedAt.Sub(t0).Round(time.Millisecond), time.Since(killedAt).Round(time.Millisecond), deferred)
}

// runsOf are the run ids of flow.
func runsOf(t *testing.T, pool *pgxpool.Pool, flow string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT substr(stream_id, 5) FROM events WHERE event_type = 'run.started' AND data->>'flow_id' = $1`, flow)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	return out
}
