package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// testAppendMulti is the append_multi group. Its subtests run one after
// the other on one store, so each may reason about the whole log.
func testAppendMulti(t *testing.T, s eventstore.Store, opts Options) {
	t.Run("writes_all_streams_in_call_order", func(t *testing.T) { testMultiWrites(t, s) })
	t.Run("wrong_version_on_one_stream_writes_nothing", func(t *testing.T) { testMultiWrongVersion(t, s) })
	t.Run("concurrent_no_stream_one_wins", func(t *testing.T) { testMultiConcurrent(t, s) })
	t.Run("retry_is_idempotent", func(t *testing.T) { testMultiRetry(t, s, opts) })
	t.Run("invalid_calls_are_refused", func(t *testing.T) { testMultiInvalid(t, s) })
	t.Run("read_all_and_follow_see_every_event_in_order", func(t *testing.T) { testMultiRead(t, s) })
}

func testMultiWrites(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	a, b, d := stream(), stream(), stream()
	_, err := s.Append(c, a, eventstore.NoStream(), Events(1)...)
	require.NoError(t, err)

	appends := []eventstore.StreamAppend{
		{Stream: a, Expected: eventstore.Exact(0), Events: Events(2)},
		{Stream: b, Expected: eventstore.NoStream(), Events: Events(3)},
		{Stream: d, Expected: eventstore.Any(), Events: Events(1)},
	}
	results, err := s.AppendMulti(c, appends...)
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.Equal(t, uint64(2), results[0].NextExpectedVersion)
	assert.Equal(t, uint64(2), results[1].NextExpectedVersion)
	assert.Equal(t, uint64(0), results[2].NextExpectedVersion)

	var all []eventstore.Position
	for i, res := range results {
		require.Len(t, res.Positions, len(appends[i].Events))
		all = append(all, res.Positions...)
	}
	for i := 1; i < len(all); i++ {
		assert.True(t, all[i-1].Less(all[i]), "positions in call order: %v", all)
	}

	for i, ap := range appends {
		got, err := s.ReadStream(c, ap.Stream, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		require.Len(t, got, int(results[i].NextExpectedVersion)+1)
		first := results[i].NextExpectedVersion + 1 - uint64(len(ap.Events))
		got = got[first:]
		require.Len(t, got, len(ap.Events))
		for j, e := range got {
			assert.Equal(t, ap.Events[j].ID, e.ID)
			assert.Equal(t, first+uint64(j), e.StreamVersion)
			assert.Equal(t, results[i].Positions[j], e.Position)
		}
	}
	head, err := s.Head(c)
	require.NoError(t, err)
	assert.Equal(t, results[2].Last(), head)
}

func testMultiWrongVersion(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	a, b, d := stream(), stream(), stream()
	_, err := s.Append(c, a, eventstore.NoStream(), Events(1)...)
	require.NoError(t, err)
	_, err = s.Append(c, b, eventstore.NoStream(), Events(2)...)
	require.NoError(t, err)
	head, err := s.Head(c)
	require.NoError(t, err)

	results, err := s.AppendMulti(c,
		eventstore.StreamAppend{Stream: a, Expected: eventstore.Exact(0), Events: Events(2)},
		eventstore.StreamAppend{Stream: b, Expected: eventstore.Exact(0), Events: Events(1)}, // b is at 1
		eventstore.StreamAppend{Stream: d, Expected: eventstore.NoStream(), Events: Events(3)},
	)
	var wrong *eventstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &wrong)
	require.ErrorIs(t, err, domain.ErrConflict)
	assert.Empty(t, results)
	assert.Equal(t, b, wrong.Stream)
	assert.Equal(t, ptr(1), wrong.Actual)

	for st, n := range map[string]int{a: 1, b: 2, d: 0} {
		got, err := s.ReadStream(c, st, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		assert.Len(t, got, n, "stream %s", st)
	}
	after, err := s.Head(c)
	require.NoError(t, err)
	assert.Equal(t, head, after, "nothing written anywhere")
}

func testMultiConcurrent(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	a, b := stream(), stream()
	const writers = 8
	calls := make([][]eventstore.StreamAppend, writers)
	for w := range calls {
		calls[w] = []eventstore.StreamAppend{
			{Stream: a, Expected: eventstore.NoStream(), Events: Events(1)},
			{Stream: b, Expected: eventstore.NoStream(), Events: Events(2)},
		}
	}
	var conflicts atomic.Int32
	winner := make(chan int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AppendMulti(c, calls[w]...)
			var wrong *eventstore.WrongExpectedVersionError
			switch {
			case err == nil:
				winner <- w
			case errors.As(err, &wrong):
				conflicts.Add(1)
			default:
				t.Errorf("append multi: %v", err)
			}
		}()
	}
	wg.Wait()
	close(winner)
	require.Len(t, winner, 1, "exactly one call wins")
	assert.Equal(t, int32(writers-1), conflicts.Load())

	w := <-winner
	for _, ap := range calls[w] {
		got, err := s.ReadStream(c, ap.Stream, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		require.Len(t, got, len(ap.Events))
		for i, e := range got {
			assert.Equal(t, ap.Events[i].ID, e.ID, "both streams hold the winner's events")
		}
	}
}

func testMultiRetry(t *testing.T, s eventstore.Store, opts Options) {
	c := ctx(t)
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Any()} {
		t.Run(exp.String(), func(t *testing.T) {
			appends := []eventstore.StreamAppend{
				{Stream: stream(), Expected: exp, Events: Events(2)},
				{Stream: stream(), Expected: exp, Events: Events(1)},
				{Stream: stream(), Expected: exp, Events: Events(3)},
			}
			first, err := s.AppendMulti(c, appends...)
			require.NoError(t, err)
			head, err := s.Head(c)
			require.NoError(t, err)

			again, err := s.AppendMulti(c, appends...)
			require.NoError(t, err)
			assert.Equal(t, first, again)
			for _, ap := range appends {
				got, err := s.ReadStream(c, ap.Stream, 0, eventstore.MaxRevision)
				require.NoError(t, err)
				assert.Len(t, got, len(ap.Events))
			}
			after, err := s.Head(c)
			require.NoError(t, err)
			assert.Equal(t, head, after, "a retry writes nothing")
		})
	}
	t.Run("ids_stored_otherwise_conflict", func(t *testing.T) {
		if opts.NoCrossStreamDuplicateIDs {
			t.Skip(skipDuplicates)
		}
		a, b := stream(), stream()
		evA, evB := Events(2), Events(1)
		_, err := s.AppendMulti(c,
			eventstore.StreamAppend{Stream: a, Expected: eventstore.Any(), Events: evA},
			eventstore.StreamAppend{Stream: b, Expected: eventstore.Any(), Events: evB})
		require.NoError(t, err)
		head, err := s.Head(c)
		require.NoError(t, err)

		other := stream()
		cases := map[string][]eventstore.StreamAppend{
			"id_in_another_stream": {
				{Stream: other, Expected: eventstore.Any(), Events: Events(1)},
				{Stream: stream(), Expected: eventstore.Any(), Events: evB},
			},
			"streams_in_another_order": {
				{Stream: b, Expected: eventstore.Any(), Events: evB},
				{Stream: a, Expected: eventstore.Any(), Events: evA},
			},
			"one_stored_one_new": {
				{Stream: a, Expected: eventstore.Any(), Events: evA},
				{Stream: other, Expected: eventstore.Any(), Events: Events(1)},
			},
		}
		for name, appends := range cases {
			_, err := s.AppendMulti(c, appends...)
			var dup *eventstore.DuplicateEventError
			require.ErrorAs(t, err, &dup, name)
			require.ErrorIs(t, err, domain.ErrConflict, name)
		}
		got, err := s.ReadStream(c, other, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		assert.Empty(t, got)
		after, err := s.Head(c)
		require.NoError(t, err)
		assert.Equal(t, head, after)
	})
}

func testMultiInvalid(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	head, err := s.Head(c)
	require.NoError(t, err)
	st, shared := stream(), Events(1)[0]
	bad := map[string][]eventstore.StreamAppend{
		"no_appends": nil,
		"same_stream_twice": {
			{Stream: st, Expected: eventstore.Any(), Events: Events(1)},
			{Stream: st, Expected: eventstore.Any(), Events: Events(1)},
		},
		"invalid_part": {
			{Stream: stream(), Expected: eventstore.Any(), Events: Events(1)},
			{Stream: "$all", Expected: eventstore.Any(), Events: Events(1)},
		},
		"empty_part": {
			{Stream: stream(), Expected: eventstore.Any(), Events: Events(1)},
			{Stream: stream(), Expected: eventstore.Any()},
		},
		"id_in_two_streams": {
			{Stream: stream(), Expected: eventstore.Any(), Events: []eventstore.EventData{shared}},
			{Stream: stream(), Expected: eventstore.Any(), Events: []eventstore.EventData{shared}},
		},
	}
	for name, appends := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := s.AppendMulti(c, appends...)
			require.ErrorIs(t, err, eventstore.ErrInvalidAppend)
		})
	}
	after, err := s.Head(c)
	require.NoError(t, err)
	assert.Equal(t, head, after)
}

func testMultiRead(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	start, err := s.Head(c)
	require.NoError(t, err)

	var mu sync.Mutex
	var followed []eventstore.RecordedEvent
	fctx, cancel := context.WithCancel(c)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(fctx, start, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			mu.Lock()
			defer mu.Unlock()
			followed = append(followed, batch...)
			return nil
		})
	}()

	// Concurrent multi-appends, with single appends between them.
	const writers, calls = 4, 10
	var (
		wantMu sync.Mutex
		want   = map[eventstore.Position]uuid.UUID{}
		wg     sync.WaitGroup
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				appends := []eventstore.StreamAppend{
					{Stream: stream(), Expected: eventstore.NoStream(), Events: Events(2)},
					{Stream: stream(), Expected: eventstore.Any(), Events: Events(1)},
					{Stream: stream(), Expected: eventstore.NoStream(), Events: Events(3)},
				}
				if i%3 == 2 {
					appends = appends[:1]
				}
				results, err := s.AppendMulti(c, appends...)
				if !assert.NoError(t, err) {
					return
				}
				wantMu.Lock()
				for k, res := range results {
					for j, p := range res.Positions {
						want[p] = appends[k].Events[j].ID
					}
				}
				wantMu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	positions := make([]eventstore.Position, 0, len(want))
	for p := range want {
		positions = append(positions, p)
	}
	slices.SortFunc(positions, func(a, b eventstore.Position) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})

	var read []eventstore.RecordedEvent
	for deadline := time.Now().Add(waitLimit); len(read) < len(positions) && time.Now().Before(deadline); {
		after := start
		if len(read) > 0 {
			after = read[len(read)-1].Position
		}
		page, err := s.ReadAll(c, after, 7)
		require.NoError(t, err)
		read = append(read, page...)
	}
	checkLog(t, "ReadAll", read, positions, want)

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(followed) >= len(positions)
	}, waitLimit, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	checkLog(t, "Follow", followed, positions, want)
}

// checkLog asserts that got is exactly the events at positions, in order.
func checkLog(t *testing.T, reader string, got []eventstore.RecordedEvent, positions []eventstore.Position, ids map[eventstore.Position]uuid.UUID) {
	t.Helper()
	require.Len(t, got, len(positions), reader)
	for i, e := range got {
		assert.Equal(t, positions[i], e.Position, "%s: event %d", reader, i)
		assert.Equal(t, ids[e.Position], e.ID, "%s: event at %s", reader, e.Position)
	}
}
