package postgres

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// TestFollow_NeverSkipsLateCommits is the proof of the gap-safe reader: 16
// writers append 500 events each, one per transaction, pausing a random
// moment inside the transaction after the position is taken, so positions
// commit out of order all the time; one append in 20 rolls back and leaves
// a hole for ever. A follower running throughout must receive every
// committed event exactly once, in position order.
//
// A naive follower (position > last seen) runs beside it and reports how
// many events it lost under the same load.
func TestFollow_NeverSkipsLateCommits(t *testing.T) {
	const writers, perWriter = 16, 500
	pool := testkit.NewDatabase(t)
	s := New(pool, Options{BatchSize: 256})
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	followCtx, stopFollow := context.WithCancel(ctx)
	var got []uint64
	followed := make(chan error, 1)
	var gotMu sync.Mutex
	go func() {
		followed <- s.Follow(followCtx, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			gotMu.Lock()
			defer gotMu.Unlock()
			for _, e := range batch {
				got = append(got, e.Position.Commit)
			}
			return nil
		})
	}()
	naiveSeen := make(map[uint64]bool)
	naiveDone := make(chan struct{})
	go func() {
		defer close(naiveDone)
		var last int64
		for followCtx.Err() == nil {
			rows, err := pool.Query(followCtx, `SELECT global_position FROM events WHERE global_position > $1 ORDER BY global_position`, last)
			if err != nil {
				return
			}
			for rows.Next() {
				var p int64
				if rows.Scan(&p) == nil {
					naiveSeen[uint64(p)] = true
					last = p
				}
			}
			rows.Close()
		}
	}()

	var committed sync.Map // position -> true
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			stream := "gap-" + uuid.NewString()
			for range perWriter {
				if err := appendWithPause(ctx, s, stream, rng, &committed); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	var want []uint64
	committed.Range(func(k, _ any) bool { want = append(want, k.(uint64)); return true })
	require.Eventually(t, func() bool {
		gotMu.Lock()
		defer gotMu.Unlock()
		return len(got) >= len(want)
	}, time.Minute, 5*time.Millisecond, "follower stalled")
	stopFollow()
	require.ErrorIs(t, <-followed, context.Canceled)
	<-naiveDone

	gotMu.Lock()
	defer gotMu.Unlock()
	assert.Len(t, got, len(want), "every committed event exactly once")
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order or duplicate at %d: %d after %d", i, got[i], got[i-1])
		}
	}
	seen := make(map[uint64]bool, len(got))
	for _, p := range got {
		seen[p] = true
	}
	missing := 0
	for _, p := range want {
		if !seen[p] {
			missing++
		}
	}
	assert.Zero(t, missing, "committed events the follower never received")
	rolledBack := writers*perWriter - len(want)
	assert.Positive(t, rolledBack, "the load must leave holes")

	naiveLost := 0
	for _, p := range want {
		if !naiveSeen[p] {
			naiveLost++
		}
	}
	t.Logf("%d events committed, %d rolled back (holes); gap-safe follower received %d; a naive follower lost %d",
		len(want), rolledBack, len(got), naiveLost)
}

// appendWithPause appends one event in its own transaction, pauses up to
// 2ms inside it, then commits (or, one time in 20, rolls back).
func appendWithPause(ctx context.Context, s *Store, stream string, rng *rand.Rand, committed *sync.Map) error {
	b, err := encodeBatch(stream, storetest.Events(1), time.Now())
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	res, err := s.appendWith(ctx, tx, stream, eventstore.Any(), b)
	if err != nil {
		return err
	}
	time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond) // the pause inside the transaction is the point of the test
	if rng.IntN(20) == 0 {
		return tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.appended()
	committed.Store(res.Positions[0].Commit, true)
	return nil
}

// A hole left by a rolled-back append is stepped over while an unrelated
// long transaction (one that has a transaction id but never appends) stays
// open: followers are not held up by work that cannot fill the hole.
func TestFollow_UnrelatedLongTransactionDoesNotStall(t *testing.T) {
	pool := testkit.NewDatabase(t)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	long, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer long.Rollback(context.Background()) //nolint:errcheck // test cleanup
	_, err = long.Exec(ctx, `CREATE TABLE unrelated (id int); INSERT INTO unrelated VALUES (1)`)
	require.NoError(t, err)

	stream := "hole-" + uuid.NewString()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	b, err := encodeBatch(stream, storetest.Events(1), time.Now())
	require.NoError(t, err)
	_, err = s.appendWith(ctx, tx, stream, eventstore.Any(), b)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx)) // a hole for ever
	res, err := s.Append(ctx, stream, eventstore.Any(), storetest.Events(1)...)
	require.NoError(t, err)
	require.Greater(t, res.Positions[0].Commit, uint64(1), "the rolled-back append took position 1")

	got := make(chan eventstore.Position, 1)
	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		_ = s.Follow(followCtx, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			got <- batch[0].Position
			return context.Canceled
		})
	}()
	select {
	case p := <-got:
		assert.Equal(t, res.Positions[0], p)
	case <-time.After(10 * time.Second):
		t.Fatal("follower stalled behind an unrelated open transaction")
	}
	all, err := s.ReadAll(ctx, eventstore.Position{}, 10)
	require.NoError(t, err)
	require.Len(t, all, 1)
}
