package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/readapi"
)

// BenchmarkTwoProcesses times flow writes — creates of flows with a
// 20-node graph, then PATCHes of their graphs, 4 parallel writers, each
// answered once the flows read model shows it — sent to one server
// process, and the same spread over two processes on the same database
// (every other request to each), in alternating rounds. The projectors
// run in one of the two (leases): half the writes of the pair wait for its
// progress through the database. p50/p95 of both, and one process's p95 /
// two processes' p95.
func BenchmarkTwoProcesses(b *testing.B) {
	const writers = 4
	one := listStart(b, "", nil)
	two := listStart(b, one.dbURL, nil)
	_, token := one.listUser(b, "writer")
	graphs := make([]json.RawMessage, 64)
	for i := range graphs {
		graphs[i] = bigGraph(20, i+1)
	}
	var (
		idsMu sync.Mutex
		ids   = map[[2]int]uuid.UUID{} // by writer and operation: created at i, patched at i+1
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * writers}}
	var (
		mu    sync.Mutex
		took  []time.Duration
		bases []string
	)
	write := func(w, i int) error {
		base := bases[(w+i)%len(bases)]
		method, path := http.MethodPost, "/api/v1/flows/"
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("flow %d-%d", w, i), "data": graphs[i%len(graphs)]})
		if i%2 == 1 {
			idsMu.Lock()
			id := ids[[2]int{w, i - 1}]
			idsMu.Unlock()
			method, path = http.MethodPatch, "/api/v1/flows/"+id.String()
			body, _ = json.Marshal(map[string]any{"data": graphs[i%len(graphs)]})
		}
		req, err := http.NewRequest(method, base+path, strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		var f readapi.FlowRead
		err = json.NewDecoder(res.Body).Decode(&f)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(start)
		if err != nil || res.StatusCode >= 300 || res.Header.Get("X-Read-Model-Lag") != "" {
			return fmt.Errorf("%s via %s: status %d, lag %q, %v", method, base, res.StatusCode, res.Header.Get("X-Read-Model-Lag"), err)
		}
		if method == http.MethodPost {
			idsMu.Lock()
			ids[[2]int{w, i}] = f.ID
			idsMu.Unlock()
		}
		mu.Lock()
		took = append(took, d)
		mu.Unlock()
		return nil
	}
	run := func(via []string, offset, n int) []time.Duration {
		bases, took = via, nil
		runWriters(b, n, writers, offset, write)
		return took
	}
	// Writer w's operations are offset+i, i < n/writers: even ones create
	// a flow, the next odd one patches it; in the pair of processes, one
	// process creates and the other patches.
	per := max(b.N/benchRounds/writers/2, 1) * 2 * writers
	offset := 0
	next := func() int { o := offset; offset += per / writers; return o }
	run([]string{one.base, two.base}, 1<<20, 4*writers) // warm both
	b.ResetTimer()
	var single, pair []time.Duration
	for range benchRounds {
		single = append(single, run([]string{one.base}, next(), per)...)
		pair = append(pair, run([]string{one.base, two.base}, next(), per)...)
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentile(pair, 50), "p50_ms")
	b.ReportMetric(percentile(pair, 95), "p95_ms")
	b.ReportMetric(percentile(single, 50), "one_p50_ms")
	b.ReportMetric(percentile(single, 95), "one_p95_ms")
	b.ReportMetric(percentile(single, 95)/percentile(pair, 95), "ratio")
}
