package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// BenchmarkCatchUp measures a projector catching up over 200k events (2000
// tallies, each opened then incremented 99 times): the whole path of
// reading the log, Watermill dispatch, the handler and the batched
// checkpointed commits. Beside it: the raw rate of 200k single-row INSERTs
// on the same database, pipelined 1000 per transaction with asynchronous
// commit, the way the projector writes. Run it with -benchtime=1x.
func BenchmarkCatchUp(b *testing.B) {
	const streams, perStream = 2000, 100
	ctx := context.Background()
	pool := testkit.NewDatabase(b)
	testkit.CreateTallyTables(b, pool)
	store := postgres.New(pool, postgres.Options{})
	b.Cleanup(store.Close)
	reg := testkit.NewRegistry(b)
	seed(b, store, reg, streams, perStream)
	head, err := store.Head(ctx)
	require.NoError(b, err)
	total := float64(streams * perStream)

	b.ResetTimer()
	var ours time.Duration
	for range b.N {
		_, err := pool.Exec(ctx, `DELETE FROM projection_checkpoints; TRUNCATE tallies`)
		require.NoError(b, err)
		rt, err := projections.NewRuntime(pool, store, reg, []*projections.Projection{testkit.TallyProjection()}, projections.Config{})
		require.NoError(b, err)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- rt.Run(runCtx) }()
		require.NoError(b, rt.WaitFor(ctx, head))
		ours += time.Since(start)
		cancel()
		require.NoError(b, <-done)
	}
	b.StopTimer()

	_, err = pool.Exec(ctx, `CREATE TABLE raw_rows (id bigint PRIMARY KEY, name text NOT NULL, total bigint NOT NULL, at timestamptz NOT NULL)`)
	require.NoError(b, err)
	start := time.Now()
	for tx := range streams * perStream / 1000 {
		batch := &pgx.Batch{}
		batch.Queue("BEGIN")
		batch.Queue("SET LOCAL synchronous_commit TO off")
		for i := range 1000 {
			batch.Queue(`INSERT INTO raw_rows (id, name, total, at) VALUES ($1, $2, $3, $4)`, tx*1000+i, "tally", int64(i), time.Now())
		}
		batch.Queue("COMMIT")
		require.NoError(b, pool.SendBatch(ctx, batch).Close())
	}
	raw := total / time.Since(start).Seconds()

	rate := total * float64(b.N) / ours.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(raw, "raw_inserts/s")
	b.ReportMetric(rate/raw, "ratio")
}

// seed appends streams tallies of perStream events each, 100 per append.
func seed(b *testing.B, store eventstore.Store, reg *eventstore.Registry, streams, perStream int) {
	b.Helper()
	ctx := context.Background()
	for range streams {
		id := uuid.New()
		events := make([]eventstore.EventData, 0, perStream)
		add := func(e eventstore.Event) {
			d, err := reg.Encode(e)
			require.NoError(b, err)
			d.ID, d.Metadata = uuid.Must(uuid.NewV7()), eventstore.Metadata{ActorUserID: 1, OccurredAt: time.Now()}
			events = append(events, d)
		}
		add(testkit.TallyOpened{TallyID: id, Name: fmt.Sprintf("tally %s", id)})
		for len(events) < perStream {
			add(testkit.TallyIncremented{TallyID: id, By: 1})
		}
		_, err := store.Append(ctx, testkit.TallyStream(id), eventstore.NoStream(), events...)
		require.NoError(b, err)
	}
}
