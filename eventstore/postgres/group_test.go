package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The group-commit tests make a group form on purpose: they hold every
// slot with appends blocked on a stream row that the test has locked,
// queue the appends under test behind them, and release the lock once all
// of them wait, so that the queued appends go as one group.

// groupStore is a store on a fresh database with a pool large enough for
// the blocked transactions, a group and its members' fallbacks.
func groupStore(t *testing.T) (*Store, *pgxpool.Pool) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testkit.DatabaseURL(t))
	require.NoError(t, err)
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := New(pool, Options{})
	t.Cleanup(s.Close)
	return s, pool
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// committerState returns how many slots are taken and how many appends wait.
func committerState(s *Store) (running, queued int) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.running, len(s.group.queue)
}

// lockStream creates stream and locks its row in a transaction that the
// returned function commits: an append to stream blocks until then.
func lockStream(t *testing.T, ctx context.Context, s *Store, stream string) (release func()) {
	t.Helper()
	_, err := s.Append(ctx, stream, eventstore.NoStream(), storetest.Events(1)...)
	require.NoError(t, err)
	tx, err := s.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT 1 FROM streams WHERE stream_id = $1 FOR UPDATE`, stream)
	require.NoError(t, err)
	return func() { require.NoError(t, tx.Commit(ctx)) }
}

// holdSlots takes every slot with an append blocked on a locked stream;
// release lets them finish and checks that they succeeded.
func holdSlots(t *testing.T, ctx context.Context, s *Store) (release func()) {
	t.Helper()
	var unlocks []func()
	done := make(chan error, groupSlots)
	for i := range groupSlots {
		stream := fmt.Sprintf("blocker-%d-%s", i, uuid.NewString())
		unlocks = append(unlocks, lockStream(t, ctx, s, stream))
		go func() {
			_, err := s.Append(ctx, stream, eventstore.Any(), storetest.Events(1)...)
			done <- err
		}()
	}
	require.Eventually(t, func() bool {
		running, _ := committerState(s)
		return running == groupSlots
	}, 10*time.Second, time.Millisecond, "blockers never took the slots")
	return func() {
		for _, unlock := range unlocks {
			unlock()
		}
		for range groupSlots {
			require.NoError(t, <-done)
		}
	}
}

// waitQueued waits until n appends wait for a slot.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, queued := committerState(s)
		return queued == n
	}, 10*time.Second, time.Millisecond, "appends never queued")
}

// call is one append under test and what it got.
type call struct {
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.EventData
	res      eventstore.AppendResult
	err      error
}

// runQueued starts every call while the slots are held, waits until all
// of them are queued, then releases the slots and waits for their ends:
// the calls go as one group.
func runQueued(t *testing.T, ctx context.Context, s *Store, calls []*call) {
	t.Helper()
	release := holdSlots(t, ctx, s)
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.res, c.err = s.Append(ctx, c.stream, c.expected, c.events...)
		}()
	}
	waitQueued(t, s, len(calls))
	release()
	wg.Wait()
}

// assertStored checks that c's events are stored in its stream as its
// result says.
func assertStored(t *testing.T, ctx context.Context, s *Store, c *call) {
	t.Helper()
	got, err := s.ReadStream(ctx, c.stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, got, len(c.events), "events of %s", c.stream)
	for i, e := range got {
		assert.Equal(t, c.events[i].ID, e.ID)
		assert.Equal(t, c.res.Positions[i], e.Position)
	}
	assert.Equal(t, got[len(got)-1].StreamVersion, c.res.NextExpectedVersion)
}

// xmins returns the distinct transaction ids that wrote the events of streams.
func xmins(t *testing.T, ctx context.Context, pool *pgxpool.Pool, streams []string) []string {
	t.Helper()
	var out []string
	err := pool.QueryRow(ctx, `SELECT array_agg(DISTINCT xmin::text) FROM events WHERE stream_id = ANY($1)`, streams).Scan(&out)
	require.NoError(t, err)
	return out
}

// A wrong expected version in a group is its caller's alone: the others'
// events commit in one transaction, and the caller gets its typed error.
func TestGroupCommit_SharesOneTransaction(t *testing.T) {
	s, pool := groupStore(t)
	ctx := testCtx(t)
	wrong := &call{stream: "wrong-" + uuid.NewString(), expected: eventstore.Exact(5), events: storetest.Events(1)}
	_, err := s.Append(ctx, wrong.stream, eventstore.NoStream(), storetest.Events(1)...)
	require.NoError(t, err)

	calls := []*call{wrong}
	var ok []string
	for i := range 15 {
		c := &call{stream: "ok-" + uuid.NewString(), expected: eventstore.NoStream(), events: storetest.Events(1 + i%3)}
		calls = append(calls, c)
		ok = append(ok, c.stream)
	}
	runQueued(t, ctx, s, calls)

	var wev *eventstore.WrongExpectedVersionError
	require.ErrorAs(t, wrong.err, &wev)
	require.NotNil(t, wev.Actual)
	assert.Equal(t, uint64(0), *wev.Actual)
	for _, c := range calls[1:] {
		require.NoError(t, c.err)
		assertStored(t, ctx, s, c)
	}
	assert.Len(t, xmins(t, ctx, pool, ok), 1, "the group's appends share one transaction")
	got, err := s.ReadStream(ctx, wrong.stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, got, 1, "the wrong-version append wrote nothing")
}

// A group with a wrong expected version and a duplicate event id among 14
// good appends: the duplicate aborts the group's transaction, every member
// runs alone, the 14 are stored and the two failures are each their own
// caller's.
func TestGroupCommit_FailuresStayTheirOwn(t *testing.T) {
	s, _ := groupStore(t)
	ctx := testCtx(t)
	wrong := &call{stream: "wrong-" + uuid.NewString(), expected: eventstore.Exact(5), events: storetest.Events(1)}
	_, err := s.Append(ctx, wrong.stream, eventstore.NoStream(), storetest.Events(1)...)
	require.NoError(t, err)
	stored := storetest.Events(1)
	_, err = s.Append(ctx, "elsewhere-"+uuid.NewString(), eventstore.NoStream(), stored...)
	require.NoError(t, err)
	dup := &call{stream: "dup-" + uuid.NewString(), expected: eventstore.Any(), events: append(storetest.Events(1), stored...)}

	calls := []*call{wrong}
	for i := range 14 {
		calls = append(calls, &call{stream: "ok-" + uuid.NewString(), expected: eventstore.NoStream(), events: storetest.Events(1 + i%3)})
	}
	calls = slices.Insert(calls, 7, dup) // mid-group: members before and after it
	runQueued(t, ctx, s, calls)

	var wev *eventstore.WrongExpectedVersionError
	require.ErrorAs(t, wrong.err, &wev)
	require.NotNil(t, wev.Actual)
	assert.Equal(t, uint64(0), *wev.Actual)
	var dev *eventstore.DuplicateEventError
	require.ErrorAs(t, dup.err, &dev)
	assert.Equal(t, dup.stream, dev.Stream)
	for _, c := range calls {
		if c == wrong || c == dup {
			continue
		}
		require.NoError(t, c.err, c.stream)
		assertStored(t, ctx, s, c)
	}
	got, err := s.ReadStream(ctx, dup.stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Empty(t, got, "the duplicate's new event is not stored either")
	got, err = s.ReadStream(ctx, wrong.stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

// A retry of a stored append in a group gets the stored result, and
// concurrent retries of one append in one group store it once.
func TestGroupCommit_RetryIsIdempotent(t *testing.T) {
	s, _ := groupStore(t)
	ctx := testCtx(t)
	before := &call{stream: "retried-" + uuid.NewString(), expected: eventstore.NoStream(), events: storetest.Events(2)}
	var err error
	before.res, err = s.Append(ctx, before.stream, before.expected, before.events...)
	require.NoError(t, err)
	retry := &call{stream: before.stream, expected: before.expected, events: before.events}
	twice := storetest.Events(2)
	twin := func() *call {
		return &call{stream: "twice-" + twice[0].ID.String(), expected: eventstore.Any(), events: twice}
	}
	calls := []*call{retry, twin()}
	for range 12 {
		calls = append(calls, &call{stream: "ok-" + uuid.NewString(), expected: eventstore.Any(), events: storetest.Events(1)})
	}
	calls = append(calls, twin())
	runQueued(t, ctx, s, calls)

	for _, c := range calls {
		require.NoError(t, c.err, c.stream)
	}
	assert.Equal(t, before.res, retry.res)
	assert.Equal(t, calls[1].res, calls[len(calls)-1].res, "both twins get the one stored result")
	assertStored(t, ctx, s, before)
	for _, c := range calls[1:] {
		assertStored(t, ctx, s, c)
	}
}

// An append whose context ends while it waits returns the context's error
// and writes nothing; one whose context ends after its group was taken
// gets the true outcome, here success.
func TestGroupCommit_Cancel(t *testing.T) {
	s, _ := groupStore(t)
	ctx := testCtx(t)

	t.Run("while_waiting", func(t *testing.T) {
		release := holdSlots(t, ctx, s)
		waitCtx, cancel := context.WithCancel(ctx)
		stream := "cancelled-" + uuid.NewString()
		done := make(chan error, 1)
		go func() {
			_, err := s.Append(waitCtx, stream, eventstore.Any(), storetest.Events(1)...)
			done <- err
		}()
		waitQueued(t, s, 1)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		_, queued := committerState(s)
		assert.Zero(t, queued)
		release()
		got, err := s.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	// The group is taken and blocks on a's locked stream; a's context
	// ends before the group commits. a leads the group or waits in it.
	for _, aFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("after_taken/leader=%t", aFirst), func(t *testing.T) {
			locked := "locked-" + uuid.NewString()
			unlock := lockStream(t, ctx, s, locked)
			release := holdSlots(t, ctx, s)
			aCtx, cancelA := context.WithCancel(ctx)
			defer cancelA()
			a := &call{stream: locked, expected: eventstore.Exact(0), events: storetest.Events(1)}
			b := &call{stream: "b-" + uuid.NewString(), expected: eventstore.NoStream(), events: storetest.Events(1)}
			aDone, bDone := make(chan struct{}), make(chan struct{})
			startA := func() {
				go func() {
					defer close(aDone)
					a.res, a.err = s.Append(aCtx, a.stream, a.expected, a.events...)
				}()
			}
			startB := func() {
				go func() {
					defer close(bDone)
					b.res, b.err = s.Append(ctx, b.stream, b.expected, b.events...)
				}()
			}
			if aFirst {
				startA()
				waitQueued(t, s, 1)
				startB()
			} else {
				startB()
				waitQueued(t, s, 1)
				startA()
			}
			waitQueued(t, s, 2)
			release()
			waitQueued(t, s, 0)
			running, _ := committerState(s)
			require.Equal(t, 1, running, "the group holds the slot")
			cancelA()
			unlock()
			<-aDone
			<-bDone
			require.NoError(t, a.err)
			require.NoError(t, b.err)
			got, err := s.ReadStream(ctx, locked, 0, eventstore.MaxRevision)
			require.NoError(t, err)
			require.Len(t, got, 2)
			assert.Equal(t, a.events[0].ID, got[1].ID)
			assertStored(t, ctx, s, b)
		})
	}
}

// Concurrent appends, many of them in groups, to one stream and to a
// stream each: the shared stream's versions are consecutive, each caller's
// result is its own events' and the per-writer Exact chains never conflict.
func TestGroupCommit_ConcurrentAppends(t *testing.T) {
	s, _ := groupStore(t)
	ctx := testCtx(t)
	const writers, each = 16, 40
	shared := "shared-" + uuid.NewString()
	type got struct {
		id  uuid.UUID
		res eventstore.AppendResult
	}
	results := make([][]got, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("own-%d-%s", w, uuid.NewString())
			for i := range each {
				expected := eventstore.NoStream()
				if i > 0 {
					expected = eventstore.Exact(uint64(i - 1))
				}
				if _, err := s.Append(ctx, own, expected, storetest.Events(1)...); err != nil {
					t.Errorf("writer %d, own stream, append %d: %v", w, i, err)
					return
				}
				evs := storetest.Events(1)
				res, err := s.Append(ctx, shared, eventstore.Any(), evs...)
				if err != nil {
					t.Errorf("writer %d, shared stream, append %d: %v", w, i, err)
					return
				}
				results[w] = append(results[w], got{evs[0].ID, res})
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	stored, err := s.ReadStream(ctx, shared, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, stored, writers*each)
	byID := make(map[uuid.UUID]eventstore.RecordedEvent, len(stored))
	for i, e := range stored {
		require.Equal(t, uint64(i), e.StreamVersion, "consecutive versions")
		if i > 0 {
			require.Greater(t, e.Position.Commit, stored[i-1].Position.Commit, "positions follow versions")
		}
		byID[e.ID] = e
	}
	for _, rs := range results {
		for i, r := range rs {
			e, ok := byID[r.id]
			require.True(t, ok)
			assert.Equal(t, e.StreamVersion, r.res.NextExpectedVersion)
			assert.Equal(t, []eventstore.Position{e.Position}, r.res.Positions)
			if i > 0 {
				assert.Greater(t, r.res.NextExpectedVersion, rs[i-1].res.NextExpectedVersion, "a writer's own appends in order")
			}
		}
	}
}

// Followers see every event of grouped appends exactly once and in order,
// while one append in ten reuses a stored event id: it aborts its group's
// transaction after positions were taken (holes), and the group's members
// run again alone.
func TestGroupCommit_FollowersSeeEveryEventInOrder(t *testing.T) {
	s, _ := groupStore(t)
	ctx := testCtx(t)
	const writers, each = 16, 60
	stored := storetest.Events(1)
	_, err := s.Append(ctx, "stored-"+uuid.NewString(), eventstore.NoStream(), stored...)
	require.NoError(t, err)

	followCtx, stopFollow := context.WithCancel(ctx)
	var (
		mu  sync.Mutex
		got []eventstore.RecordedEvent
	)
	followed := make(chan error, 1)
	go func() {
		followed <- s.Follow(followCtx, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, batch...)
			return nil
		})
	}()

	var (
		wmu  sync.Mutex
		want = map[uuid.UUID]eventstore.Position{stored[0].ID: {}}
	)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("follow-%d-%s", w, uuid.NewString())
			for i := range each {
				evs := storetest.Events(1)
				if (w+i)%10 == 0 {
					evs = append(evs, stored...)
				}
				res, err := s.Append(ctx, stream, eventstore.Any(), evs...)
				var dup *eventstore.DuplicateEventError
				switch {
				case len(evs) > 1 && errors.As(err, &dup):
					continue
				case err != nil:
					t.Errorf("writer %d, append %d: %v", w, i, err)
					return
				}
				wmu.Lock()
				want[evs[0].ID] = res.Positions[0]
				wmu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())
	s.group.mu.Lock()
	commits, appends := s.group.commits, s.group.appends
	s.group.mu.Unlock()
	require.Greater(t, appends, commits, "some appends went in groups")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	}, 30*time.Second, 5*time.Millisecond, "follower stalled")
	stopFollow()
	require.ErrorIs(t, <-followed, context.Canceled)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, len(want), "every event exactly once")
	for i, e := range got {
		if i > 0 {
			require.Greater(t, e.Position.Commit, got[i-1].Position.Commit, "in position order")
		}
		p, ok := want[e.ID]
		require.True(t, ok, "an event nobody was told was stored")
		if e.ID != stored[0].ID {
			assert.Equal(t, p, e.Position)
		}
	}
	var head eventstore.Position
	head, err = s.Head(ctx)
	require.NoError(t, err)
	assert.Greater(t, head.Commit, uint64(len(want)), "aborted groups left holes")
}
