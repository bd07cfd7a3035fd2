package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/readapi"
)

// The flow benchmarks put each figure beside raw PostgreSQL measured in the
// same run on the same database, as the event store's do. Run them with
// `make bench` (a durable cluster) or:
//
//	go test -run '^$' -bench 'BenchmarkReadFlows' -benchtime 2000x ./app/
//	go test -run '^$' -bench 'BenchmarkPatchFlows' -benchtime 400x ./app/

const (
	benchUsers        = 100
	benchFlowsPerUser = 1000 // 100 000 flows
	benchKeyword      = "support"
	benchRounds       = 4 // alternating rounds of ours and raw
)

// listLatencies records how long the server's handler took per request of
// one path, from the moment the router gets it to the moment it returns.
type listLatencies struct {
	mu   sync.Mutex
	path string
	took []time.Duration
}

func (l *listLatencies) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		took := time.Since(start)
		if r.URL.Path == l.path {
			l.mu.Lock()
			l.took = append(l.took, took)
			l.mu.Unlock()
		}
	})
}

func (l *listLatencies) reset() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.took
	l.took = nil
	return out
}

// BenchmarkReadFlows measures Read Flows (get_all=false, pages of 50) over
// 100 000 flows of 100 users: the handler's latency inside the real HTTP
// server (router, authentication, binding, the SQL, JSON), p50 and p99 over
// b.N requests, beside the latency of the same page's SQL (the page and its
// count, pipelined in one round trip, as the handler sends them) run by hand
// on the same data. Each request is a user's page of their own flows, users
// and pages taken in turn. Sub-benchmarks: no filter (pages 1..20), and a
// keyword matching about one flow in eight (pages 1..2).
//
// It is a read benchmark: the flows are loaded straight into the flows read
// model with COPY (the event log stays empty; writing 100 000 flows through
// the API measures something else, see BenchmarkPatchFlows). Each flow's
// data is a small graph (~1 KiB, stored inline); big graphs make every list
// answer big, whatever serves it, which is what header_flows=true is for.
func BenchmarkReadFlows(b *testing.B) {
	lat := &listLatencies{path: "/api/v1/flows/"}
	e := listStart(b, "", lat.wrap)
	ctx := context.Background()
	pool := e.app.Pool()

	users := make([]int64, benchUsers)
	tokens := make([]string, benchUsers)
	for i := range users {
		users[i], tokens[i] = e.listUser(b, fmt.Sprintf("reader%03d", i))
	}
	loadFlows(b, pool, users)

	page := func(keyword bool, i int) (user, pageNo int) {
		if keyword {
			return i % benchUsers, 1 + (i/benchUsers)%2
		}
		return i % benchUsers, 1 + (i/benchUsers)%20
	}
	for _, keyword := range []bool{false, true} {
		name := "page50"
		if keyword {
			name = "page50_keyword"
		}
		b.Run(name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			ours := func(i int) {
				u, p := page(keyword, i)
				q := fmt.Sprintf("?get_all=false&size=50&page=%d", p)
				if keyword {
					q += "&keyword=" + benchKeyword
				}
				req, err := http.NewRequest(http.MethodGet, e.base+"/api/v1/flows/"+q, nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+tokens[u])
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte(`{"items":[{"name":`)) {
					b.Fatalf("%s: status %d, %.200s, %v", q, res.StatusCode, body, err)
				}
			}
			// The same page by hand: the SELECT and the count the page needs.
			cond := `f.user_id = $1`
			if keyword {
				cond += ` AND (f.name ILIKE $4 OR f.description ILIKE $4)`
			}
			pageSQL := `SELECT f.*, coalesce(nullif(u.nickname, ''), u.username, '') FROM flows f LEFT JOIN users u ON u.id = f.user_id
WHERE ` + cond + ` ORDER BY f.updated_at DESC, f.id DESC LIMIT $2 OFFSET $3`
			countSQL := `SELECT count(*) FROM flows f WHERE ` + strings.ReplaceAll(cond, "$4", "$2")
			var raw []time.Duration
			rawOne := func(i int) {
				u, p := page(keyword, i)
				args, countArgs := []any{users[u], 50, (p - 1) * 50}, []any{users[u]}
				if keyword {
					args, countArgs = append(args, "%"+benchKeyword+"%"), append(countArgs, "%"+benchKeyword+"%")
				}
				start := time.Now()
				batch := &pgx.Batch{}
				batch.Queue(pageSQL, args...)
				batch.Queue(countSQL, countArgs...)
				br := pool.SendBatch(ctx, batch)
				rows, _ := br.Query()
				n := 0
				for rows.Next() {
					_ = rows.RawValues()
					n++
				}
				err := rows.Err()
				var total int64
				if err == nil {
					err = br.QueryRow().Scan(&total)
				}
				if cerr := br.Close(); err == nil {
					err = cerr
				}
				raw = append(raw, time.Since(start))
				if err != nil || n == 0 {
					b.Fatalf("raw page: %d rows, %v", n, err)
				}
			}
			for i := range benchUsers { // warm both paths
				ours(i)
				rawOne(i)
			}
			lat.reset()
			raw = raw[:0]
			b.ResetTimer()
			per := max(b.N/benchRounds, 1)
			for r := range benchRounds {
				for i := range per {
					ours(r*per + i)
				}
				b.StopTimer()
				for i := range per {
					rawOne(r*per + i)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportLatencies(b, lat.reset(), raw)
		})
	}
}

// reportLatencies reports p50 and p99 of took and of raw (the physical
// limit measured in the same run) in milliseconds, and raw p99 / our p99,
// as scripts/bench's table reads them.
func reportLatencies(b *testing.B, took, raw []time.Duration) {
	p99, rawP99 := percentile(took, 99), percentile(raw, 99)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentile(took, 50), "p50_ms")
	b.ReportMetric(p99, "p99_ms")
	b.ReportMetric(percentile(raw, 50), "raw_p50_ms")
	b.ReportMetric(rawP99, "raw_p99_ms")
	b.ReportMetric(rawP99/p99, "ratio")
}

// percentile is the p-th percentile of d in milliseconds (nearest rank).
func percentile(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// loadFlows writes benchFlowsPerUser flows per user straight into the
// flows read model (COPY), then vacuums and analyzes the table.
func loadFlows(b *testing.B, pool *pgxpool.Pool, users []int64) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"report", "triage", "summary", "agent", "router", "search", "digest", "review"}
	now := time.Now().UTC()
	data := json.RawMessage(smallGraph)
	for _, user := range users {
		projects := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
		rows := make([][]any, benchFlowsPerUser)
		for i := range rows {
			name := fmt.Sprintf("%s flow %d-%d", words[rng.IntN(len(words))], user, i)
			desc := "A flow that " + words[rng.IntN(len(words))] + "s tickets"
			if rng.IntN(8) == 0 {
				desc = "Customer " + benchKeyword + " " + desc
			}
			created := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			updated := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1)))
			rows[i] = []any{uuid.New(), user, name, desc, data, rng.IntN(10) == 0, "chat", projects[rng.IntN(3)],
				rng.IntN(20) == 0, created, updated, user, user, int64(rng.IntN(30))}
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"flows"}, []string{"id", "user_id", "name", "description", "data",
			"is_component", "flow_type", "project_id", "is_deleted", "create_at", "updated_at", "c_uid", "m_uid", "version"},
			pgx.CopyFromRows(rows))
		require.NoError(b, err)
	}
	// Settled, as autovacuum leaves a table after a bulk insert: statistics
	// and the visibility map (index-only scans) up to date.
	_, err := pool.Exec(ctx, `VACUUM ANALYZE flows`)
	require.NoError(b, err)
}

// smallGraph is a three-node flow (~1 KiB).
const smallGraph = `{"nodes":[` +
	`{"id":"ChatInput-a1","type":"genericNode","position":{"x":0,"y":0},"data":{"type":"ChatInput","node":{"display_name":"Chat Input","description":"Get chat inputs from the Playground.","template":{"input_value":{"type":"str","value":"","display_name":"Text"}}}}},` +
	`{"id":"OpenAIModel-b2","type":"genericNode","position":{"x":400,"y":0},"data":{"type":"OpenAIModel","node":{"display_name":"OpenAI","description":"Generates text using OpenAI LLMs.","template":{"model_name":{"type":"str","value":"gpt-4o-mini"},"temperature":{"type":"float","value":0.1}}}}},` +
	`{"id":"ChatOutput-c3","type":"genericNode","position":{"x":800,"y":0},"data":{"type":"ChatOutput","node":{"display_name":"Chat Output","description":"Display a chat message in the Playground.","template":{"sender":{"type":"str","value":"Machine"}}}}}],` +
	`"edges":[{"id":"e1","source":"ChatInput-a1","target":"OpenAIModel-b2"},{"id":"e2","source":"OpenAIModel-b2","target":"ChatOutput-c3"}],` +
	`"viewport":{"x":0,"y":0,"zoom":1}}`

// BenchmarkPatchFlows measures Update Flow (PATCH /api/v1/flows/{id}) of a
// 200-node graph through the HTTP server: 4 writers, each patching its own
// 4 flows in turn (a node moves, so each PATCH records one graph event: a
// patch of the graph, flow.graph_patched, with the whole graph every 32),
// every PATCH answered after the flows read model shows it. Beside it: a
// plain INSERT + COMMIT of a row holding the same JSON (jsonb) by 4 writers
// on the same database, measured in alternating rounds. Every PATCH adds
// an event to its flow's stream, and a PATCH folds the stream from the
// flow's snapshot (every 16 events for a big graph), so the rate depends
// on b.N: `make bench` runs 200 (12 per flow).
func BenchmarkPatchFlows(b *testing.B) {
	const writers, flowsPerWriter = 4, 4
	e := listStart(b, "", nil)
	ctx := context.Background()
	pool := e.app.Pool()
	_, token := e.listUser(b, "patcher")
	graph := func(move int) json.RawMessage { return bigGraph(200, move) }
	size := len(graph(0))
	var ids []uuid.UUID
	for i := range writers * flowsPerWriter {
		var f readapi.FlowRead
		e.listMust(b, token, http.MethodPost, "/api/v1/flows/", map[string]any{"name": fmt.Sprintf("big %d", i), "data": graph(0)},
			http.StatusCreated, &f)
		ids = append(ids, f.ID)
	}
	_, err := pool.Exec(ctx, `CREATE TABLE raw_flow_rows (id uuid PRIMARY KEY, data jsonb NOT NULL)`)
	require.NoError(b, err)
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{"data": graph(i + 1)})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}}
	patch := func(w, i int) error {
		id := ids[w*flowsPerWriter+i%flowsPerWriter]
		req, err := http.NewRequest(http.MethodPatch, e.base+"/api/v1/flows/"+id.String(), strings.NewReader(string(bodies[i%len(bodies)])))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("X-Read-Model-Lag") != "" {
			return fmt.Errorf("patch: status %d, lag %q", res.StatusCode, res.Header.Get("X-Read-Model-Lag"))
		}
		return nil
	}
	rawInsert := func(w, i int) error {
		_, err := pool.Exec(ctx, `INSERT INTO raw_flow_rows (id, data) VALUES ($1, $2)`, uuid.New(), json.RawMessage(bodies[i%len(bodies)]))
		return err
	}
	b.ResetTimer()
	b.StopTimer()
	var oursTime, rawTime time.Duration
	var roundRates []float64
	per := max(b.N/benchRounds/writers, 1) * writers
	for r := range benchRounds {
		start := time.Now()
		b.StartTimer()
		runWriters(b, per, writers, r*per/writers, patch)
		b.StopTimer()
		took := time.Since(start)
		oursTime += took
		roundRates = append(roundRates, float64(per)/took.Seconds())
		start = time.Now()
		runWriters(b, per, writers, r*per/writers, rawInsert)
		rawTime += time.Since(start)
	}
	n := float64(per * benchRounds)
	ours, raw := n/oursTime.Seconds(), n/rawTime.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ours, "patches/s")
	b.ReportMetric(raw, "raw_inserts/s")
	b.ReportMetric(ours/raw, "ratio")
	b.ReportMetric(float64(size)/1024, "KiB/graph")
	b.ReportMetric(n/float64(writers*flowsPerWriter), "patches/flow")
	// A PATCH folds the flow's whole stream (every earlier graph) before
	// deciding: the first and the last round show how that grows.
	b.ReportMetric(roundRates[0], "first_round_patches/s")
	b.ReportMetric(roundRates[len(roundRates)-1], "last_round_patches/s")
}

// runWriters performs n operations over writers goroutines; writer w's
// operations get indexes from offset on.
func runWriters(b *testing.B, n, writers, offset int, op func(w, i int) error) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range n / writers {
				if err := op(w, offset+i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// bigGraph is a Langflow-shaped graph of n nodes in a chain; move shifts
// the first node, so graphs of different moves differ.
func bigGraph(n, move int) json.RawMessage {
	type field struct {
		Type        string `json:"type"`
		Value       any    `json:"value"`
		DisplayName string `json:"display_name"`
		Info        string `json:"info"`
		Advanced    bool   `json:"advanced"`
		Show        bool   `json:"show"`
	}
	nodes := make([]any, n)
	edges := make([]any, 0, n)
	for i := range nodes {
		x := i * 300
		if i == 0 {
			x += move
		}
		nodes[i] = map[string]any{
			"id": fmt.Sprintf("Component-%05d", i), "type": "genericNode", "width": 384, "height": 420,
			"position": map[string]any{"x": x, "y": (i % 7) * 250},
			"data": map[string]any{"type": "PromptComponent", "id": fmt.Sprintf("Component-%05d", i), "node": map[string]any{
				"display_name": fmt.Sprintf("Prompt %d", i), "description": "Create a prompt template with dynamic variables.",
				"base_classes": []string{"Message"}, "output_types": []string{"Message"},
				"template": map[string]any{
					"template":     field{"prompt", "Answer the question using the context: {context}\nQuestion: {question}", "Template", "", false, true},
					"context":      field{"str", "", "context", "Variable of the template.", false, true},
					"question":     field{"str", "", "question", "Variable of the template.", false, true},
					"tool_mode":    field{"bool", false, "Tool Mode", "Use the component as a tool.", true, true},
					"_input_type":  field{"str", "PromptInput", "Input type", "", true, false},
					"code_version": field{"int", 3, "Code version", "", true, false},
				},
			}},
		}
		if i > 0 {
			edges = append(edges, map[string]any{"id": fmt.Sprintf("edge-%05d", i),
				"source": fmt.Sprintf("Component-%05d", i-1), "target": fmt.Sprintf("Component-%05d", i),
				"sourceHandle": "{œdataTypeœ:œPromptComponentœ,œnameœ:œpromptœ}", "targetHandle": "{œfieldNameœ:œcontextœ}"})
		}
	}
	out, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges, "viewport": map[string]any{"x": 0, "y": 0, "zoom": 0.5}})
	if err != nil {
		panic(err)
	}
	return out
}
