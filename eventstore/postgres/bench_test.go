package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The append benchmarks report events/s of Store.Append beside raw
// PostgreSQL measured in the same run on the same database: the same rows
// written by a plain INSERT + COMMIT per event at the same concurrency
// (COPY for batches), and the ratio of the two. Run them with `make bench`
// (a durable cluster: fsync and synchronous commit on).

// rawSchema is a copy of the events table with the same columns and
// indexes: the baseline writes the same rows with the same uniqueness
// guarantees, by hand, with no version check.
const rawSchema = `CREATE TABLE IF NOT EXISTS raw_events (LIKE events INCLUDING ALL)`

var benchData = json.RawMessage(`{"flow_id":"6a3c1d0e-2f4b-4c8a-9d1e-0b2c3d4e5f60","name":"Customer support triage","description":"Routes tickets","tags":["support","triage"]}`)

func benchMeta() eventstore.Metadata {
	return eventstore.Metadata{ActorUserID: 42, TenantID: uuid.MustParse("0b1f9e1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
		CorrelationID: "bench", ClientIP: "127.0.0.1", OccurredAt: time.Now()}
}

func benchEvents(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: "flow.renamed", SchemaVersion: 1, Data: benchData, Metadata: benchMeta()}
	}
	return out
}

func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			pool := benchPool(b, writers)
			s := New(pool, Options{})
			b.Cleanup(s.Close)
			ctx := context.Background()

			meta, _ := json.Marshal(benchMeta())
			ours, raw := measurePair(b, pool, writers, func(w, i int) error {
				stream := fmt.Sprintf("bench-%d", w)
				expected := eventstore.NoStream()
				if i > 0 {
					expected = eventstore.Exact(uint64(i - 1))
				}
				_, err := s.Append(ctx, stream, expected, benchEvents(1)...)
				return err
			}, func(w, i int) error {
				_, err := pool.Exec(ctx, `INSERT INTO raw_events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
VALUES ($1, $2, $3, 'flow.renamed', 1, $4, $5, $6)`, uuid.Must(uuid.NewV7()), fmt.Sprintf("bench-%d", w), i, benchData, meta, benchMeta().TenantID)
				return err
			})
			report(b, ours, raw)
			s.group.mu.Lock()
			b.ReportMetric(float64(s.group.appends)/float64(max(s.group.commits, 1)), "appends/commit") // group commit at work
			s.group.mu.Unlock()
			if writers == 16 && b.N > 1 { // not in the probe run of b.N = 1
				reportPgbench(b, pool, writers, meta)
			}
		})
	}
}

// pgbenchSeconds is how long the pgbench baseline runs.
const pgbenchSeconds = 5

// reportPgbench reports, as pgbench_tps, the rate of pgbench (when it is on
// PATH) running the raw baseline's one-row INSERT, one per transaction,
// with as many clients on the same database: a second raw figure, from a C
// client that does nothing else. Its stream versions come from a sequence.
func reportPgbench(b *testing.B, pool *pgxpool.Pool, clients int, meta []byte) {
	b.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		b.Logf("no pgbench baseline: %v", err)
		return
	}
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS raw_pgbench_version`); err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(b.TempDir(), "insert.sql")
	sql := fmt.Sprintf(`INSERT INTO raw_events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id) `+
		`VALUES (gen_random_uuid(), 'pgbench-' || :client_id, nextval('raw_pgbench_version'), 'flow.renamed', 1, '%s', '%s', '%s');`+"\n",
		benchData, meta, benchMeta().TenantID)
	if err := os.WriteFile(script, []byte(sql), 0o600); err != nil {
		b.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(pgbenchSeconds), "-f", script, pool.Config().ConnString()).CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench: no tps in its output:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(tps, "pgbench_tps")
}

func BenchmarkAppendBatch100(b *testing.B) {
	const size = 100
	pool := benchPool(b, 1)
	s := New(pool, Options{})
	b.Cleanup(s.Close)
	ctx := context.Background()
	meta, _ := json.Marshal(benchMeta())
	ours, raw := measurePair(b, pool, 1, func(_, i int) error {
		_, err := s.Append(ctx, "batch-bench", eventstore.Any(), benchEvents(size)...)
		return err
	}, func(_, i int) error {
		rows := make([][]any, size)
		for j := range rows {
			rows[j] = []any{uuid.Must(uuid.NewV7()), "batch-bench", int64(i*size + j), "flow.renamed", int32(1), benchData, json.RawMessage(meta)}
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"raw_events"},
			[]string{"event_id", "stream_id", "stream_version", "event_type", "schema_version", "data", "metadata"},
			pgx.CopyFromRows(rows))
		return err
	})
	report(b, ours*size, raw*size)
}

func benchPool(b *testing.B, writers int) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(testkit.DatabaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(writers + 2)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), rawSchema); err != nil {
		b.Fatal(err)
	}
	return pool
}

// rounds is how many alternating slices ours and raw are measured in, so
// that drift of the machine (checkpoints, disk caches) hits both alike.
const rounds = 4

// measurePair runs b.N operations of ours and of raw, each spread over
// writers goroutines, alternating in rounds; ours is timed by the
// benchmark. It returns operations per second of each, and reports the
// CPU time each spent per operation, this process's and the server's
// together (cpu_us/op, raw_cpu_us/op; see cpuNow): on a shared machine,
// rates move with the neighbours' load, CPU time much less.
func measurePair(b *testing.B, pool *pgxpool.Pool, writers int, ours, raw func(w, i int) error) (oursRate, rawRate float64) {
	b.ResetTimer()
	b.StopTimer()
	var oursTime, rawTime time.Duration
	var oursCPU, rawCPU time.Duration
	per := max(b.N/rounds/writers, 1) * writers // each writer's indexes run on across rounds
	for r := range rounds {
		c0 := cpuNow(pool)
		start := time.Now()
		b.StartTimer()
		run(per, writers, r*per, b, ours)
		b.StopTimer()
		oursTime += time.Since(start)
		c1 := cpuNow(pool)
		start = time.Now()
		run(per, writers, r*per, b, raw)
		rawTime += time.Since(start)
		oursCPU, rawCPU = oursCPU+c1-c0, rawCPU+cpuNow(pool)-c1
	}
	n := float64(per * rounds)
	if oursCPU > 0 && rawCPU > 0 {
		b.ReportMetric(float64(oursCPU.Microseconds())/n, "cpu_us/op")
		b.ReportMetric(float64(rawCPU.Microseconds())/n, "raw_cpu_us/op")
	}
	return n / oursTime.Seconds(), n / rawTime.Seconds()
}

// run performs n operations (a multiple of writers) over writers
// goroutines; writer w's i-th operation gets index offset/writers + i.
func run(n, writers, offset int, b *testing.B, op func(w, i int) error) {
	var wg sync.WaitGroup
	for w := range writers {
		count := n / writers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				if err := op(w, offset/writers+i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func report(b *testing.B, ours, raw float64) {
	b.ReportMetric(ours, "events/s")
	b.ReportMetric(raw, "raw_events/s")
	b.ReportMetric(ours/raw, "ratio")
}
