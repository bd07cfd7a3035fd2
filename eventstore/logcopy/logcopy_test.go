package logcopy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/logcopy"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// pgStore is a postgres store on a fresh migrated database.
func pgStore(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testkit.NewDatabase(t)
	s := postgres.New(pool, postgres.Options{})
	t.Cleanup(s.Close)
	return s, pool
}

func event(i int, tenant uuid.UUID) eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.New(), Type: fmt.Sprintf("thing.happened.%d", i%3), SchemaVersion: 1 + i%2,
		Data: json.RawMessage(fmt.Sprintf(`{"n": %d, "text": "é\u00e9 %d", "nested": {"b": [1, 2.5, null], "a": true}}`, i, i)),
		Metadata: eventstore.Metadata{
			ActorUserID: int64(i), TenantID: tenant, BusinessID: int64(i % 5), CorrelationID: fmt.Sprintf("req-%d", i/4),
			CausationID: fmt.Sprintf("cmd-%d", i), ClientIP: "10.0.0.7",
			OccurredAt: time.Date(2026, 12, 5, 11, 0, 0, i*1001, time.UTC),
		},
	}
}

// seed writes a log of interleaved streams: single appends, runs of
// several events, streams that come back later, and multi-stream appends
// (whose events sit consecutively in the log). It returns the number of
// events.
func seed(t *testing.T, ctx context.Context, s eventstore.Store, rounds int) int {
	t.Helper()
	tenant := uuid.New()
	run := uuid.NewString()[:8]
	streams := []string{"flow-" + uuid.NewString(), "user-" + run, "tenant-" + tenant.String(), "session-" + run}
	next := map[string]uint64{}
	expect := func(stream string) eventstore.ExpectedVersion {
		if n, ok := next[stream]; ok {
			return eventstore.Exact(n - 1)
		}
		return eventstore.NoStream()
	}
	n := 0
	for r := range rounds {
		for k, stream := range streams {
			size := 1 + (r+k)%4
			events := make([]eventstore.EventData, size)
			for i := range events {
				events[i] = event(n, tenant)
				n++
			}
			_, err := s.Append(ctx, stream, expect(stream), events...)
			require.NoError(t, err)
			next[stream] += uint64(size)
		}
		a, b := "multi-a-"+run+fmt.Sprint(r%3), "multi-b-"+run+fmt.Sprint(r%2)
		ea, eb := []eventstore.EventData{event(n, tenant), event(n+1, tenant)}, []eventstore.EventData{event(n+2, tenant)}
		n += 3
		_, err := s.AppendMulti(ctx, eventstore.StreamAppend{Stream: a, Expected: expect(a), Events: ea},
			eventstore.StreamAppend{Stream: b, Expected: expect(b), Events: eb})
		require.NoError(t, err)
		next[a] += 2
		next[b]++
	}
	return n
}

func readAll(t *testing.T, ctx context.Context, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	var after eventstore.Position
	for {
		batch, err := s.ReadAll(ctx, after, 1000)
		require.NoError(t, err)
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Position
	}
}

// assertSameLog checks every event's id, order, stream, revision, type,
// schema version, data bytes and metadata.
func assertSameLog(t *testing.T, ctx context.Context, source, target eventstore.Store) {
	t.Helper()
	src, dst := readAll(t, ctx, source), readAll(t, ctx, target)
	require.Len(t, dst, len(src))
	for i := range src {
		s, d := src[i], dst[i]
		require.Equal(t, s.ID, d.ID, "event %d", i)
		assert.Equal(t, s.StreamID, d.StreamID, "event %d", i)
		assert.Equal(t, s.StreamVersion, d.StreamVersion, "event %d", i)
		assert.Equal(t, s.Type, d.Type, "event %d", i)
		assert.Equal(t, s.SchemaVersion, d.SchemaVersion, "event %d", i)
		assert.Equal(t, string(s.Data), string(d.Data), "event %d", i)
		assert.Equal(t, s.Metadata.OccurredAt.UTC(), d.Metadata.OccurredAt.UTC(), "event %d", i)
		s.Metadata.OccurredAt, d.Metadata.OccurredAt = time.Time{}, time.Time{}
		assert.Equal(t, s.Metadata, d.Metadata, "event %d", i)
	}
}

func verifyEqual(t *testing.T, ctx context.Context, source, target eventstore.Store, n int) logcopy.Report {
	t.Helper()
	rep, err := logcopy.Verify(ctx, source, target, 64)
	require.NoError(t, err)
	assert.Equal(t, int64(n), rep.SourceEvents)
	assert.Equal(t, int64(n), rep.TargetEvents)
	assert.Equal(t, rep.SourceSum, rep.TargetSum)
	assert.Len(t, rep.SourceSum, 64)
	assert.Nil(t, rep.First)
	return rep
}

// seededSource is the common start of the copy tests: a context, and a
// postgres store (with its pool) seeded with rounds rounds of events, n of
// them.
func seededSource(t *testing.T, rounds int) (context.Context, *postgres.Store, *pgxpool.Pool, int) {
	t.Helper()
	ctx := testCtx(t)
	source, pool := pgStore(t)
	return ctx, source, pool, seed(t, ctx, source, rounds)
}

func TestCopy_FullCopyEqualsSource(t *testing.T) {
	t.Parallel()
	ctx, source, pool, n := seededSource(t, 40)
	targets := map[string]eventstore.Store{"postgres": nil, "memory": memory.New()}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			if target == nil {
				target, _ = pgStore(t)
			}
			var calls int
			res, err := logcopy.Copy(ctx, source, target, logcopy.PostgresState{Pool: pool},
				logcopy.Options{Target: "test:" + name, Batch: 3, Progress: func(p logcopy.Progress) {
					calls++
					assert.Equal(t, int64(n), p.Total)
					assert.LessOrEqual(t, p.Copied, int64(n))
				}})
			require.NoError(t, err)
			assert.Equal(t, int64(n), res.Copied)
			assert.Equal(t, int64(n), res.Appended)
			assert.Zero(t, res.Resent)
			assert.False(t, res.Resumed)
			assert.Equal(t, int(res.Appends), calls)
			assertSameLog(t, ctx, source, target)
			verifyEqual(t, ctx, source, target, n)

			// Stream by stream, the revisions are the source's.
			streams := map[string]bool{}
			for _, e := range readAll(t, ctx, source) {
				streams[e.StreamID] = true
			}
			require.Len(t, streams, 9)
			for stream := range streams {
				want, err := source.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
				require.NoError(t, err)
				got, err := target.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
				require.NoError(t, err)
				require.Len(t, got, len(want), stream)
				for i := range want {
					assert.Equal(t, want[i].ID, got[i].ID, stream)
					assert.Equal(t, uint64(i), got[i].StreamVersion, stream)
				}
			}

			// A second run finds the copy complete and writes nothing.
			again, err := logcopy.Copy(ctx, source, target, logcopy.PostgresState{Pool: pool}, logcopy.Options{Target: "test:" + name, Batch: 3})
			require.NoError(t, err)
			assert.True(t, again.Resumed)
			assert.Zero(t, again.Appended)
			assert.Equal(t, int64(n), again.Copied)
			verifyEqual(t, ctx, source, target, n)
		})
	}
}

// A copy stopped from its progress callback (Ctrl-C) resumes from its
// checkpoint and ends with exactly one copy of each event.
func TestCopy_ResumesAfterCancel(t *testing.T) {
	t.Parallel()
	ctx, source, pool, n := seededSource(t, 30)
	target, _ := pgStore(t)
	state := logcopy.PostgresState{Pool: pool}
	opts := logcopy.Options{Target: "test:cancel", Batch: 4}

	runCtx, cancel := context.WithCancel(ctx)
	stopAt := int64(n / 3)
	opts.Progress = func(p logcopy.Progress) {
		if p.Copied >= stopAt {
			cancel()
		}
	}
	first, err := logcopy.Copy(runCtx, source, target, state, opts)
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, first.Copied, stopAt)
	require.Less(t, first.Copied, int64(n))
	cp, found, err := state.Load(ctx, opts.Target)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, first.Copied, cp.Events)
	assert.Len(t, readAll(t, ctx, target), int(first.Copied))

	opts.Progress = nil
	second, err := logcopy.Copy(ctx, source, target, state, opts)
	require.NoError(t, err)
	assert.True(t, second.Resumed)
	assert.Zero(t, second.Resent, "every append of the first run was checkpointed")
	assert.Equal(t, int64(n)-first.Copied, second.Appended)
	assert.Equal(t, int64(n), second.Copied)
	assertSameLog(t, ctx, source, target)
	verifyEqual(t, ctx, source, target, n)
}

// A crash between an append and its checkpoint: the re-run re-sends that
// append, which every adapter takes as an idempotent retry, so the target
// holds each event once.
func TestCopy_CrashBetweenAppendAndCheckpoint(t *testing.T) {
	t.Parallel()
	ctx, source, pool, n := seededSource(t, 30)
	targets := map[string]eventstore.Store{"postgres": nil, "memory": memory.New()}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			if target == nil {
				target, _ = pgStore(t)
			}
			state := logcopy.PostgresState{Pool: pool}
			crash := errors.New("crash")
			appends, crashAt := 0, 17
			var held int64
			opts := logcopy.Options{Target: "test:crash:" + name, Batch: 4, AfterAppend: func(p logcopy.Progress) error {
				appends++
				if appends == crashAt {
					held = p.Copied
					return crash
				}
				return nil
			}}
			_, err := logcopy.Copy(ctx, source, target, state, opts)
			require.ErrorIs(t, err, crash)
			cp, found, err := state.Load(ctx, opts.Target)
			require.NoError(t, err)
			require.True(t, found)
			require.Less(t, cp.Events, held, "the crashed append has no checkpoint")
			require.Len(t, readAll(t, ctx, target), int(held), "but its events are in the target")

			opts.AfterAppend = nil
			res, err := logcopy.Copy(ctx, source, target, state, opts)
			require.NoError(t, err)
			assert.True(t, res.Resumed)
			assert.Equal(t, held-cp.Events, res.Resent, "the crashed append was sent again")
			assert.Positive(t, res.Resent)
			assert.Equal(t, int64(n), res.Copied)
			assertSameLog(t, ctx, source, target)
			verifyEqual(t, ctx, source, target, n)
		})
	}
}

// Verify names the first event a tampered target differs in, and fails
// on a target that misses events.
func TestVerify_TamperedTarget(t *testing.T) {
	t.Parallel()
	ctx, source, pool, n := seededSource(t, 10)
	target, tpool := pgStore(t)
	_, err := logcopy.Copy(ctx, source, target, logcopy.PostgresState{Pool: pool}, logcopy.Options{Target: "test:tamper"})
	require.NoError(t, err)
	good := verifyEqual(t, ctx, source, target, n)

	events := readAll(t, ctx, source)
	victim := events[n/2]
	_, err = tpool.Exec(ctx, `UPDATE events SET data = data || '{"n": -1}' WHERE event_id = $1`, victim.ID)
	require.NoError(t, err)
	rep, err := logcopy.Verify(ctx, source, target, 16)
	require.ErrorIs(t, err, logcopy.ErrMismatch)
	require.NotNil(t, rep.First)
	assert.Equal(t, int64(n/2+1), rep.First.Index)
	assert.Equal(t, victim.ID, rep.First.SourceID)
	assert.Equal(t, victim.ID, rep.First.TargetID)
	assert.Equal(t, "data", rep.First.Field)
	assert.Equal(t, good.SourceSum, rep.SourceSum)
	assert.NotEqual(t, rep.SourceSum, rep.TargetSum)
	assert.Equal(t, int64(n), rep.TargetEvents)
	assert.Contains(t, err.Error(), fmt.Sprintf("first difference: event #%d (data): source position %s id %s", n/2+1, victim.Position, victim.ID))

	// Metadata counts too.
	_, err = tpool.Exec(ctx, `UPDATE events SET data = $2, metadata = jsonb_set(metadata, '{client_ip}', '"10.9.9.9"') WHERE event_id = $1`,
		victim.ID, victim.Data)
	require.NoError(t, err)
	rep, err = logcopy.Verify(ctx, source, target, 16)
	require.ErrorIs(t, err, logcopy.ErrMismatch)
	assert.Equal(t, "metadata", rep.First.Field)

	// A target that lacks the last event.
	last := events[n-1]
	_, err = tpool.Exec(ctx, `UPDATE events SET metadata = $2 WHERE event_id = $1`, victim.ID, mustJSON(t, victim.Metadata))
	require.NoError(t, err)
	_, err = tpool.Exec(ctx, `DELETE FROM events WHERE event_id = $1`, last.ID)
	require.NoError(t, err)
	rep, err = logcopy.Verify(ctx, source, target, 16)
	require.ErrorIs(t, err, logcopy.ErrMismatch)
	assert.Equal(t, int64(n-1), rep.TargetEvents)
	assert.Equal(t, "missing from the target", rep.First.Field)
	assert.Equal(t, last.ID, rep.First.SourceID)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// A target with events of its own is refused (the copy would interleave
// two histories); one that holds a prefix of the source without a
// checkpoint is completed.
func TestCopy_RefusesTargetThatIsNotAPrefix(t *testing.T) {
	t.Parallel()
	ctx, source, pool, n := seededSource(t, 10)
	state := logcopy.PostgresState{Pool: pool}

	foreign := memory.New()
	_, err := foreign.Append(ctx, "user-1", eventstore.NoStream(), event(0, uuid.New()))
	require.NoError(t, err)
	_, err = logcopy.Copy(ctx, source, foreign, state, logcopy.Options{Target: "test:foreign"})
	require.ErrorIs(t, err, logcopy.ErrNotPrefix)
	assert.Contains(t, err.Error(), "event #1 differs (id)")
	events, err := foreign.ReadAll(ctx, eventstore.Position{}, 10)
	require.NoError(t, err)
	assert.Len(t, events, 1, "nothing was copied")

	// A prefix copied before (its checkpoint lost): the copy re-sends it
	// and goes on.
	prefix := memory.New()
	crash := errors.New("crash")
	_, err = logcopy.Copy(ctx, source, prefix, state, logcopy.Options{Target: "test:prefix", Batch: 5,
		AfterAppend: func(p logcopy.Progress) error {
			if p.Copied > int64(n/2) {
				return crash
			}
			return nil
		}})
	require.ErrorIs(t, err, crash)
	require.NoError(t, state.Reset(ctx, "test:prefix"))
	res, err := logcopy.Copy(ctx, source, prefix, state, logcopy.Options{Target: "test:prefix", Batch: 5})
	require.NoError(t, err)
	assert.Greater(t, res.Resent, int64(n/2))
	verifyEqual(t, ctx, source, prefix, n)

	// The source's events plus one more: refused too.
	_, err = prefix.Append(ctx, "extra", eventstore.NoStream(), event(1, uuid.New()))
	require.NoError(t, err)
	require.NoError(t, state.Reset(ctx, "test:prefix"))
	_, err = logcopy.Copy(ctx, source, prefix, state, logcopy.Options{Target: "test:prefix"})
	require.ErrorIs(t, err, logcopy.ErrNotPrefix)
	assert.Contains(t, err.Error(), fmt.Sprintf("the target's event #%d", n+1))
}

func TestCheckMigrated(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	pgLog, _ := pgStore(t)
	kurrent := memory.New()

	require.NoError(t, logcopy.CheckMigrated(ctx, pgLog, kurrent, "postgres"), "a new deployment: both empty")
	_, err := kurrent.Append(ctx, "user-1", eventstore.NoStream(), event(0, uuid.New()))
	require.NoError(t, err)
	require.NoError(t, logcopy.CheckMigrated(ctx, pgLog, kurrent, "postgres"), "events only in the configured store")

	seed(t, ctx, pgLog, 1)
	err = logcopy.CheckMigrated(ctx, pgLog, memory.New(), logcopy.StoreKurrentDB)
	require.ErrorIs(t, err, logcopy.ErrLogNotMigrated)
	assert.Contains(t, err.Error(), "the log is still in PostgreSQL: run `skillflaw migrate-log --to kurrentdb` first (PostgreSQL holds events")
	err = logcopy.CheckMigrated(ctx, pgLog, kurrent, "postgres")
	require.ErrorIs(t, err, logcopy.ErrLogNotMigrated, "copied but not switched")
	assert.Contains(t, err.Error(), "the read models still follow the PostgreSQL log")
	require.NoError(t, logcopy.CheckMigrated(ctx, pgLog, kurrent, logcopy.StoreKurrentDB), "copied and switched")
}

// SwitchReadModels moves the checkpoints and the audit_log's keys to the
// target's positions (which differ: the source's sequence jumped) and
// records the switch once.
func TestSwitchReadModels(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	source, pool := pgStore(t)
	seed(t, ctx, source, 3)
	_, err := pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('events', 'global_position'), 1000)`)
	require.NoError(t, err)
	n := seed(t, ctx, source, 3) * 2
	target := memory.New()
	_, err = logcopy.Copy(ctx, source, target, logcopy.PostgresState{Pool: pool}, logcopy.Options{Target: "test:switch"})
	require.NoError(t, err)
	src, dst := readAll(t, ctx, source), readAll(t, ctx, target)
	require.Len(t, src, n)
	k := n/2 + 3 // after the jump
	require.Greater(t, src[k].Position.Commit, uint64(1000))
	require.NotEqual(t, src[k].Position, dst[k].Position)

	// Checkpoints: at an event, between events (the jump), at the start,
	// at the end; audit rows keyed by three events' positions.
	_, err = pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_position, prepare_position, error_position) VALUES
    ('at', $1, $1, $1), ('gap', 999, 999, NULL), ('zero', 0, 0, NULL), ('end', $2, $2, NULL)`,
		int64(src[k].Position.Commit), int64(src[n-1].Position.Commit))
	require.NoError(t, err)
	for _, i := range []int{0, k, n - 1} {
		_, err = pool.Exec(ctx, `INSERT INTO audit_log (commit_position, prepare_position, tenant_id, event_id, stream_id, stream_version,
    event_type, occurred_at, data) VALUES ($1, $1, $2, $3, $4, $5, $6, now(), '{}')`,
			int64(src[i].Position.Commit), uuid.New(), src[i].ID, src[i].StreamID, int64(src[i].StreamVersion), src[i].Type)
		require.NoError(t, err)
	}

	follows, err := logcopy.ReadModelsFollow(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, "postgres", follows)
	res, err := logcopy.SwitchReadModels(ctx, pool, source, target, logcopy.StoreKurrentDB, 7)
	require.NoError(t, err)
	assert.Equal(t, int64(n), res.Events)
	assert.Equal(t, int64(3), res.AuditRows)
	assert.GreaterOrEqual(t, res.Checkpoints, int64(4))

	checkpoint := func(name string) (eventstore.Position, *int64) {
		var c, p int64
		var e *int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT commit_position, prepare_position, error_position FROM projection_checkpoints WHERE name = $1`, name).
			Scan(&c, &p, &e))
		return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, e
	}
	at, errPos := checkpoint("at")
	assert.Equal(t, dst[k].Position, at)
	require.NotNil(t, errPos)
	assert.Equal(t, int64(dst[k].Position.Commit), *errPos)
	gap, _ := checkpoint("gap")
	assert.Equal(t, dst[n/2-1].Position, gap, "the last event before the jump")
	zero, _ := checkpoint("zero")
	assert.True(t, zero.IsZero())
	end, _ := checkpoint("end")
	assert.Equal(t, dst[n-1].Position, end)
	for _, i := range []int{0, k, n - 1} {
		var c int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT commit_position FROM audit_log WHERE event_id = $1`, src[i].ID).Scan(&c))
		assert.Equal(t, int64(dst[i].Position.Commit), c, "audit row of event %d", i)
	}
	follows, err = logcopy.ReadModelsFollow(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, logcopy.StoreKurrentDB, follows)

	again, err := logcopy.SwitchReadModels(ctx, pool, source, target, logcopy.StoreKurrentDB, 7)
	require.NoError(t, err)
	assert.True(t, again.Already)
	at2, _ := checkpoint("at")
	assert.Equal(t, at, at2, "moved once")
}

// A target that is not the source's log is refused, and nothing moves.
func TestSwitchReadModels_RefusesDifferentLogs(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	source, pool := pgStore(t)
	seed(t, ctx, source, 2)
	other := memory.New()
	seed(t, ctx, other, 2)
	_, err := logcopy.SwitchReadModels(ctx, pool, source, other, logcopy.StoreKurrentDB, 0)
	require.ErrorIs(t, err, logcopy.ErrMismatch)
	follows, err := logcopy.ReadModelsFollow(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, "postgres", follows)
}
