package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/runs"
)

// BenchmarkRunAPI runs ChatInput → Prompt → model (instant) → ChatOutput
// through POST /api/v1/run/{flow_id} with an API key, by conc clients
// over kept-alive connections, and reports runs/s and the p50/p99 of a
// request (answered once the run is recorded). Beside it, in alternating
// rounds of the same run: the run API's use case called directly
// (Service.StartRun, then Job.Result: the engine and its recording, no
// HTTP) — direct runs/s and p50/p99; overhead_p99_ms is the difference
// of the p99s (what HTTP, the API key and the JSON answer add); ratio =
// HTTP runs/s / direct runs/s. `make bench`:
//
//	go test -run '^$' -bench 'BenchmarkRunAPI' -benchtime 1000x ./app/
func BenchmarkRunAPI(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", conc), func(b *testing.B) { benchRunAPI(b, conc) })
	}
}

func benchRunAPI(b *testing.B, conc int) {
	s := rtStart(b, false, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "64"}, "")
	ctx := context.Background()
	key := s.apiKey(b, s.root.token)
	flowID := s.flow(b, s.root.token, rtBasic(false), nil)
	flow := uuid.MustParse(flowID)
	svc := s.runs.Service()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conc, MaxConnsPerHost: 2 * conc}}
	url := s.base + "/api/v1/run/" + flowID
	hi := "What is the capital of France?"
	overHTTP := func(worker int) error {
		body := fmt.Sprintf(`{"input_value": %q, "session_id": "bench-%d"}`, hi, worker)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-key", key)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("%d: %s", res.StatusCode, raw)
		}
		return err
	}
	direct := func(worker int) error {
		job, err := svc.StartRun(ctx, runs.StartRun{FlowID: flow, UserID: s.root.id, InputValue: &hi, InputType: "chat",
			OutputType: "chat", SessionID: fmt.Sprintf("bench-%d", worker), API: runs.APIRun,
			Metadata: eventstore.Metadata{ActorUserID: s.root.id, CorrelationID: "bench-" + uuid.NewString()}})
		if err != nil {
			return err
		}
		_, err = job.Result(ctx)
		return err
	}
	for w := range conc { // open the sessions and the connections
		require.NoError(b, overHTTP(w))
		require.NoError(b, direct(w))
	}
	var (
		httpLat, directLat []time.Duration
		httpTime, dirTime  time.Duration
	)
	round := max(conc*8, 32)
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		httpTime += benchParallel(b, conc, n, &httpLat, overHTTP)
		dirTime += benchParallel(b, conc, n, &directLat, direct)
	}
	b.StopTimer()
	httpRate, dirRate := float64(b.N)/httpTime.Seconds(), float64(b.N)/dirTime.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(httpRate, "http_runs/s")
	b.ReportMetric(percentile(httpLat, 50), "http_p50_ms")
	b.ReportMetric(percentile(httpLat, 99), "http_p99_ms")
	b.ReportMetric(dirRate, "direct_runs/s")
	b.ReportMetric(percentile(directLat, 50), "direct_p50_ms")
	b.ReportMetric(percentile(directLat, 99), "direct_p99_ms")
	b.ReportMetric(percentile(httpLat, 99)-percentile(directLat, 99), "overhead_p99_ms")
	b.ReportMetric(httpRate/dirRate, "ratio")
}
