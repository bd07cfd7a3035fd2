package app_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/internal/dataset"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// BenchmarkRebuild rebuilds read models from a log of 1,000,000 flow events
// (250,000 flows, each created then renamed three times, written by
// internal/dataset; SKILLFLAW_BENCH_REBUILD_EVENTS changes the size), as
// `skillflaw projections rebuild` does: the flows read model alone, then
// every projection of the server at once (--all). Beside it, the raw limit
// measured in the same run: reading every event of the log (data and
// metadata) plus COPYing the 250,000 resulting rows into a table like
// flows. --all is compared with its largest projection rebuilt alone. Run
// it with -benchtime=1x.
func BenchmarkRebuild(b *testing.B) {
	events := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SKILLFLAW_BENCH_REBUILD_EVENTS")); err == nil && v >= 4 {
		events = v
	}
	ctx := context.Background()
	vars := map[string]string{"SKILLFLAW_DATABASE_URL": testkit.DatabaseURL(b), "HOME": b.TempDir()}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(b, err)
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), binaryModules()...)
	require.NoError(b, err)
	b.Cleanup(a.Close)
	require.NoError(b, a.Migrate(ctx))
	d := dataset.Flows{Flows: events / 4, Edits: 3, Seed: 1}
	start := time.Now()
	require.NoError(b, d.Write(ctx, commands.NewRepository(a.Deps().Store, a.Deps().Registry), nil))
	seeded := time.Since(start)
	pool := a.Pool()
	// The seeding's dirty pages are written out before the clock starts:
	// the rebuild is timed, not the write-back of the log it reads.
	_, err = pool.Exec(ctx, `VACUUM ANALYZE events`)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `CHECKPOINT`)
	require.NoError(b, err)
	rt := a.Runtime()

	b.ResetTimer()
	var flows, all, largestAlone time.Duration
	for range b.N {
		start := time.Now()
		res, err := rt.RebuildMany(ctx, []string{"flows"}, 1, nil)
		require.NoError(b, err)
		require.EqualValues(b, d.Events(), res[0].Events)
		flows += time.Since(start)

		start = time.Now()
		res, err = rt.RebuildMany(ctx, rt.Names(), 2, nil)
		require.NoError(b, err)
		all += time.Since(start)
		largest := res[0]
		for _, r := range res {
			if r.Elapsed > largest.Elapsed {
				largest = r
			}
		}
		// The largest of --all, rebuilt alone: what --all is compared with.
		start = time.Now()
		_, err = rt.RebuildMany(ctx, []string{largest.Projection}, 1, nil)
		require.NoError(b, err)
		largestAlone += time.Since(start)
		b.Logf("largest projection of --all: %s (%d events, %s in --all)", largest.Projection, largest.Events, largest.Elapsed.Round(time.Millisecond))
	}
	b.StopTimer()
	var rows int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM flows`).Scan(&rows))
	require.Equal(b, d.Flows, rows)

	// The raw limit: read the whole log, then COPY the resulting rows.
	start = time.Now()
	read, err := pool.Query(ctx, `SELECT global_position, event_id, stream_id, stream_version, event_type, data, metadata FROM events ORDER BY global_position`)
	require.NoError(b, err)
	n := 0
	for read.Next() {
		n++
		_ = read.RawValues()
	}
	require.NoError(b, read.Err())
	require.GreaterOrEqual(b, n, d.Events())
	_, err = pool.Exec(ctx, `CREATE TABLE raw_flows (LIKE flows INCLUDING ALL)`)
	require.NoError(b, err)
	copied, err := pool.Query(ctx, `SELECT * FROM flows`)
	require.NoError(b, err)
	cols := copied.FieldDescriptions()
	var values [][]any
	for copied.Next() {
		v, err := copied.Values()
		require.NoError(b, err)
		values = append(values, v)
	}
	require.NoError(b, copied.Err())
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	readTime := time.Since(start)
	start = time.Now()
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"raw_flows"}, names, pgx.CopyFromRows(values))
	require.NoError(b, err)
	raw := readTime + time.Since(start) // the rows' own SELECT is counted as part of "the log's read": a small overcount

	rate := float64(d.Events()) * float64(b.N) / flows.Seconds()
	rawRate := float64(d.Events()) / raw.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rawRate, "raw_events/s")
	b.ReportMetric(rate/rawRate, "ratio")
	b.ReportMetric(flows.Seconds()/float64(b.N), "flows_s")
	b.ReportMetric(all.Seconds()/float64(b.N), "all_s")
	b.ReportMetric(largestAlone.Seconds()/float64(b.N), "largest_alone_s")
	b.ReportMetric(all.Seconds()/largestAlone.Seconds(), "all_over_largest")
	b.ReportMetric(float64(d.Events()), "log_events")
	b.ReportMetric(float64(d.Events())/seeded.Seconds(), "seed_events/s")
}

// binaryModules is what cmd/skillflaw serves: every projection of the
// server.
func binaryModules() []app.Module {
	runs := &app.Runs{Components: components.All()}
	return []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Templates{}, app.Businesses{},
		app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}, app.Files{}, app.Messages{}, app.Dictionary{},
		app.Configs{}, app.ModelCatalog{}, app.Components{}, app.MCPServers{}, &app.Logs{}, runs, &app.MCP{Runs: runs},
		&app.Agentic{Runs: runs}, &app.Audit{}}
}
