package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
)

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) eventstore.Store { return memory.New() })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestFollow_CancelWhileWaiting(t *testing.T) {
	s, c := memory.New(), ctx(t)
	res, err := s.Append(c, "s-1", eventstore.NoStream(), storetest.Events(2)...)
	require.NoError(t, err)

	fctx, cancel := context.WithCancel(c)
	caughtUp := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(fctx, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			if batch[len(batch)-1].Position == res.Last() {
				close(caughtUp)
			}
			return nil
		})
	}()
	<-caughtUp
	select {
	case err := <-done:
		t.Fatalf("Follow returned while caught up: %v", err)
	default:
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestFollow_DeadlineWhileWaiting(t *testing.T) {
	s := memory.New()
	fctx, cancel := context.WithTimeout(ctx(t), 10*time.Millisecond)
	defer cancel()
	err := s.Follow(fctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error {
		t.Error("handler called on an empty log")
		return nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFollow_CanceledContextCallsNoHandler(t *testing.T) {
	s, c := memory.New(), ctx(t)
	_, err := s.Append(c, "s-1", eventstore.NoStream(), storetest.Events(3)...)
	require.NoError(t, err)
	fctx, cancel := context.WithCancel(c)
	cancel()
	err = s.Follow(fctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error {
		t.Error("handler called after the context ended")
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestFollow_BatchSize(t *testing.T) {
	s, c := memory.New(memory.WithBatchSize(2)), ctx(t)
	_, err := s.Append(c, "s-1", eventstore.NoStream(), storetest.Events(5)...)
	require.NoError(t, err)

	stop := errors.New("stop")
	var sizes []int
	var seen []eventstore.Position
	err = s.Follow(c, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
		sizes = append(sizes, len(batch))
		for _, e := range batch {
			seen = append(seen, e.Position)
		}
		if len(seen) == 5 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, []int{2, 2, 1}, sizes)
	assert.Equal(t, []eventstore.Position{
		eventstore.At(1), eventstore.At(2), eventstore.At(3), eventstore.At(4), eventstore.At(5),
	}, seen)
}

func TestPositions_AreACounterFromOne(t *testing.T) {
	s, c := memory.New(), ctx(t)
	res, err := s.Append(c, "a", eventstore.NoStream(), storetest.Events(2)...)
	require.NoError(t, err)
	assert.Equal(t, []eventstore.Position{eventstore.At(1), eventstore.At(2)}, res.Positions)
	multi, err := s.AppendMulti(c,
		eventstore.StreamAppend{Stream: "b", Expected: eventstore.NoStream(), Events: storetest.Events(1)},
		eventstore.StreamAppend{Stream: "a", Expected: eventstore.Exact(1), Events: storetest.Events(1)})
	require.NoError(t, err)
	assert.Equal(t, []eventstore.Position{eventstore.At(3)}, multi[0].Positions)
	assert.Equal(t, []eventstore.Position{eventstore.At(4)}, multi[1].Positions)

	// A commit/prepare pair from another log reads as its place among these.
	got, err := s.ReadAll(c, eventstore.Position{Commit: 3, Prepare: 2}, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, eventstore.At(3), got[0].Position)
	got, err = s.ReadAll(c, eventstore.Position{Commit: 3, Prepare: 9}, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, eventstore.At(4), got[0].Position)
	got, err = s.ReadAll(c, eventstore.At(^uint64(0)), 10)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestData_IsCopied(t *testing.T) {
	s, c := memory.New(), ctx(t)
	in := storetest.Events(1)
	data := in[0].Data
	_, err := s.Append(c, "s-1", eventstore.NoStream(), in...)
	require.NoError(t, err)
	data[2] = 'X' // the appender's slice

	got, err := s.ReadStream(c, "s-1", 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.JSONEq(t, `{"n":0}`, string(got[0].Data))
	got[0].Data[2] = 'Y' // a reader's slice

	for _, read := range []func() ([]eventstore.RecordedEvent, error){
		func() ([]eventstore.RecordedEvent, error) { return s.ReadStream(c, "s-1", 0, 0) },
		func() ([]eventstore.RecordedEvent, error) { return s.ReadAll(c, eventstore.Position{}, 1) },
	} {
		again, err := read()
		require.NoError(t, err)
		require.Len(t, again, 1)
		assert.JSONEq(t, `{"n":0}`, string(again[0].Data))
		again[0].Data[2] = 'Z'
	}
	stop := errors.New("stop")
	err = s.Follow(c, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
		assert.JSONEq(t, `{"n":0}`, string(batch[0].Data))
		return stop
	})
	require.ErrorIs(t, err, stop)
}

func TestTimestamps_FromTheClockInUTCToTheMicrosecond(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	clock := time.Date(2026, 12, 5, 4, 0, 0, 123456789, berlin)
	s, c := memory.New(memory.WithClock(func() time.Time { return clock })), ctx(t)
	occurred := time.Date(2026, 1, 2, 3, 4, 5, 987654321, berlin)
	evs := storetest.Events(2)
	evs[1].Metadata.OccurredAt = occurred
	_, err := s.Append(c, "s-1", eventstore.NoStream(), evs...)
	require.NoError(t, err)

	got, err := s.ReadStream(c, "s-1", 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, got, 2)
	want := clock.UTC().Truncate(time.Microsecond)
	for _, e := range got {
		assert.Equal(t, want, e.RecordedAt)
		assert.Equal(t, time.UTC, e.RecordedAt.Location())
	}
	assert.Equal(t, want, got[0].Metadata.OccurredAt, "no occurrence time: the time of the append")
	assert.Equal(t, occurred.UTC().Truncate(time.Microsecond), got[1].Metadata.OccurredAt)
	assert.Equal(t, time.UTC, got[1].Metadata.OccurredAt.Location())
}

func TestAppendMulti_FirstFailingPartNamesTheError(t *testing.T) {
	s, c := memory.New(), ctx(t)
	stored := storetest.Events(1)
	_, err := s.Append(c, "a", eventstore.NoStream(), stored...)
	require.NoError(t, err)

	// The version check of part 0 fails before part 1's stored id counts.
	_, err = s.AppendMulti(c,
		eventstore.StreamAppend{Stream: "b", Expected: eventstore.Exact(3), Events: storetest.Events(1)},
		eventstore.StreamAppend{Stream: "c", Expected: eventstore.Any(), Events: stored})
	var wrong *eventstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, "b", wrong.Stream)
	assert.Nil(t, wrong.Actual)

	// A stored id in part 0 fails before part 1's version check.
	_, err = s.AppendMulti(c,
		eventstore.StreamAppend{Stream: "c", Expected: eventstore.Any(), Events: stored},
		eventstore.StreamAppend{Stream: "b", Expected: eventstore.Exact(3), Events: storetest.Events(1)})
	var dup *eventstore.DuplicateEventError
	require.ErrorAs(t, err, &dup)
	assert.Equal(t, "c", dup.Stream)

	head, err := s.Head(c)
	require.NoError(t, err)
	assert.Equal(t, eventstore.At(1), head)
}

func TestEndedContext_IsRefused(t *testing.T) {
	s := memory.New()
	c, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Append(c, "s-1", eventstore.Any(), storetest.Events(1)...)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.AppendMulti(c, eventstore.StreamAppend{Stream: "s-1", Expected: eventstore.Any(), Events: storetest.Events(1)})
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ReadStream(c, "s-1", 0, eventstore.MaxRevision)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ReadAll(c, eventstore.Position{}, 10)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Head(c)
	require.ErrorIs(t, err, context.Canceled)

	head, err := s.Head(context.Background())
	require.NoError(t, err)
	assert.True(t, head.IsZero(), "nothing written")
}

func TestFollow_EveryFollowerSeesLiveAppends(t *testing.T) {
	s, c := memory.New(), ctx(t)
	const followers = 4
	fctx, cancel := context.WithCancel(c)
	defer cancel()
	got := make(chan eventstore.Position, followers)
	done := make(chan error, followers)
	for range followers {
		go func() {
			done <- s.Follow(fctx, eventstore.Position{}, func(_ context.Context, batch []eventstore.RecordedEvent) error {
				for _, e := range batch {
					got <- e.Position
				}
				return nil
			})
		}()
	}
	// The second append comes when every follower has caught up with the
	// first, so most of them are waiting for it.
	for range 2 {
		res, err := s.Append(c, "s-1", eventstore.Any(), storetest.Events(1)...)
		require.NoError(t, err)
		for range followers {
			select {
			case p := <-got:
				assert.Equal(t, res.Last(), p)
			case <-c.Done():
				t.Fatal("a follower did not see the append")
			}
		}
	}
	cancel()
	for range followers {
		require.ErrorIs(t, <-done, context.Canceled)
	}
}
