package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/runs"
)

// BenchmarkRunFlow runs ChatInput → Prompt → model (instant) → ChatOutput
// through the run service (what the build API calls), conc runs at once,
// each in its worker's chat session, and reports runs/s (a run counted
// once it is recorded), p50/p99 of the engine's own time and of the whole
// job, and the events each run appended (and in how many appends). Beside
// it, the limit measured in the same run, in alternating rounds: the same
// events — those one run wrote, read back from the log — appended as one
// AppendMulti per run, by conc writers (raw_batches/s); ratio = runs/s /
// raw_batches/s. The test components stand in for the native ones (one
// vertex each, the chat input and output send a message). `make bench`:
//
//	go test -run '^$' -bench 'BenchmarkRunFlow' -benchtime 1000x ./app/
func BenchmarkRunFlow(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("runs=%d", conc), func(b *testing.B) { benchRunFlow(b, conc) })
	}
}

func benchRunFlow(b *testing.B, conc int) {
	s := rtStart(b, false, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "64"}, "")
	ctx := context.Background()
	flow := uuid.MustParse(s.flow(b, s.root.token, rtBasic(false), nil))
	svc := s.runs.Service()
	hi := "What is the capital of France?"
	run := func(worker int) (runs.Outcome, error) {
		session := fmt.Sprintf("bench-%d", worker)
		job, err := svc.StartBuild(ctx, runs.StartBuild{FlowID: flow, UserID: s.root.id, LogBuilds: true,
			Inputs:   &runs.Inputs{InputValue: &hi, Session: &session},
			Metadata: eventstore.Metadata{ActorUserID: s.root.id, CorrelationID: "bench-" + uuid.NewString()}})
		if err != nil {
			return runs.Outcome{}, err
		}
		return job.Wait(ctx)
	}
	// Warm the sessions up (a session's first run opens it: one event
	// more), then learn a run's events from the last one.
	for range 2 {
		for w := range conc {
			_, err := run(w)
			require.NoError(b, err)
		}
	}
	sample := benchRunEvents(b, s)

	var (
		mu             sync.Mutex
		engine, total  []time.Duration
		events, writes int
		ours, raw      time.Duration
	)
	store := s.app.Deps().Store
	round := max(conc*8, 32)
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		ours += benchParallel(b, conc, n, nil, func(w int) error {
			o, err := run(w)
			if err == nil && o.Status != "finished" {
				err = fmt.Errorf("run %s", o.Status)
			}
			mu.Lock()
			engine, total = append(engine, o.Engine), append(total, o.Total)
			events, writes = events+o.Events, writes+o.Flushes
			mu.Unlock()
			return err
		})
		raw += benchParallel(b, conc, n, nil, func(int) error {
			_, err := store.AppendMulti(ctx, sample.fresh()...)
			return err
		})
	}
	b.StopTimer()
	runsPerSec := float64(b.N) / ours.Seconds()
	rawPerSec := float64(b.N) / raw.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(runsPerSec, "runs/s")
	b.ReportMetric(percentile(engine, 50), "engine_p50_ms")
	b.ReportMetric(percentile(engine, 99), "engine_p99_ms")
	b.ReportMetric(percentile(total, 50), "job_p50_ms")
	b.ReportMetric(percentile(total, 99), "job_p99_ms")
	b.ReportMetric(float64(events)/float64(b.N), "events/run")
	b.ReportMetric(float64(writes)/float64(b.N), "appends/run")
	b.ReportMetric(float64(len(sample.events)), "raw_events/batch")
	b.ReportMetric(rawPerSec, "raw_batches/s")
	b.ReportMetric(runsPerSec/rawPerSec, "ratio")
}

// benchParallel calls fn n times over conc workers (fn gets its worker's
// number) and returns the wall time; each call's latency is appended to
// lat when it is not nil.
func benchParallel(b *testing.B, conc, n int, lat *[]time.Duration, fn func(worker int) error) time.Duration {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
	)
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := fn(w); err != nil {
					b.Error(err)
					return
				}
				if lat != nil {
					d := time.Since(t0)
					mu.Lock()
					*lat = append(*lat, d)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// benchSample are the events one run wrote, to append again as a batch.
type benchSample struct {
	events []benchEvent
}

type benchEvent struct {
	stream, typ string
	schema      int
	data        json.RawMessage
	md          eventstore.Metadata
}

// benchRunEvents reads the events of the last run's correlation.
func benchRunEvents(b *testing.B, s *rtServer) benchSample {
	b.Helper()
	ctx := context.Background()
	var corr string
	require.NoError(b, s.app.Pool().QueryRow(ctx, `SELECT metadata->>'correlation_id' FROM events WHERE event_type = 'run.finished'
ORDER BY global_position DESC LIMIT 1`).Scan(&corr))
	rows, err := s.app.Pool().Query(ctx, `SELECT stream_id, event_type, schema_version, data, metadata FROM events
WHERE metadata->>'correlation_id' = $1 ORDER BY global_position`, corr)
	require.NoError(b, err)
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (benchEvent, error) {
		var e benchEvent
		var md []byte
		if err := row.Scan(&e.stream, &e.typ, &e.schema, &e.data, &md); err != nil {
			return e, err
		}
		return e, json.Unmarshal(md, &e.md)
	})
	require.NoError(b, err)
	require.NotEmpty(b, evs)
	return benchSample{events: evs}
}

// fresh are the sample's events as one multi-stream append to new run
// and session streams (the flow's builds and transactions at any
// revision, as a run appends them).
func (s benchSample) fresh() []eventstore.StreamAppend {
	renamed := map[string]int{}
	var out []eventstore.StreamAppend
	suffix := uuid.NewString()
	for _, e := range s.events {
		stream, expected := e.stream, eventstore.Any()
		if strings.HasPrefix(stream, "run-") || strings.HasPrefix(stream, "session-") {
			stream, expected = "bench-"+stream+"-"+suffix, eventstore.NoStream()
		}
		i, ok := renamed[stream]
		if !ok {
			i = len(out)
			renamed[stream] = i
			out = append(out, eventstore.StreamAppend{Stream: stream, Expected: expected})
		}
		out[i].Events = append(out[i].Events, eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: e.typ, SchemaVersion: e.schema,
			Data: e.data, Metadata: e.md})
	}
	return out
}
