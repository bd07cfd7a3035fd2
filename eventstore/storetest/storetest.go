// Package storetest is the conformance suite of the eventstore.Store port.
// Every adapter's tests call Run with a factory of empty stores; an adapter
// is done when the whole suite passes. An adapter that cannot give a
// guarantee of the port by nature calls RunWith instead, whose Options name
// that guarantee, so the difference is explicit and documented.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Factory returns an empty store that lives until the test ends.
type Factory func(t *testing.T) eventstore.Store

// Run runs the whole suite against stores made by open.
// waitLimit bounds how long a test waits for what must happen (a follower
// to see every event): generous, because a loaded 2-core CI machine running
// every package's tests at once with -race is slow; a test that passes
// returns as soon as the condition holds.
const waitLimit = 45 * time.Second

func Run(t *testing.T, open Factory) { RunWith(t, open, Options{}) }

// Options names the guarantees of the port that an adapter does not give,
// so that RunWith skips the tests of exactly those, saying why. The zero
// Options is the whole port; the postgres and memory adapters run it.
type Options struct {
	// NoCrossStreamDuplicateIDs is set by stores that do not refuse event
	// ids already stored in another stream (or stored otherwise than a
	// retry would store them) with a *DuplicateEventError. KurrentDB is
	// one: it has no index of event ids across streams. It skips
	// reused_event_ids_elsewhere_conflict and the
	// ids_stored_otherwise_conflict case of append_multi.
	NoCrossStreamDuplicateIDs bool
}

// RunWith runs the suite as Run does, without the tests of the guarantees
// opts says the store does not give.
func RunWith(t *testing.T, open Factory, opts Options) {
	tests := map[string]func(*testing.T, eventstore.Store){
		"append_numbers_revisions_from_zero":          testAppendRevisions,
		"expected_version_checks":                     testExpectedVersion,
		"concurrent_exact_appends_one_wins":           testConcurrentExact,
		"retried_append_is_idempotent":                testIdempotentRetry,
		"reused_event_ids_elsewhere_conflict":         testDuplicateIDs,
		"invalid_appends_are_refused":                 testInvalidAppend,
		"read_stream_ranges":                          testReadStream,
		"envelope_round_trips":                        testEnvelope,
		"read_all_in_position_order_with_limit":       testReadAll,
		"follow_delivers_history_then_live_in_order":  testFollow,
		"follow_returns_handler_error_and_ctx_cancel": testFollowStops,
		"head_is_last_position":                       testHead,
		"append_multi":                                func(t *testing.T, s eventstore.Store) { testAppendMulti(t, s, opts) },
		"read_by_type":                                testReadTypes,
	}
	if opts.NoCrossStreamDuplicateIDs {
		tests["reused_event_ids_elsewhere_conflict"] = func(t *testing.T, _ eventstore.Store) {
			t.Skip(skipDuplicates)
		}
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

const skipDuplicates = "the store does not detect event ids stored in other streams (storetest.Options.NoCrossStreamDuplicateIDs)"

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// Events returns n events of type "test.happened" whose data is {"n": i}.
func Events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{
			ID:            uuid.New(),
			Type:          "test.happened",
			SchemaVersion: 1,
			Data:          json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		}
	}
	return out
}

func stream() string { return "test-" + uuid.NewString() }

func testAppendRevisions(t *testing.T, s eventstore.Store) {
	c, st := ctx(t), stream()
	res, err := s.Append(c, st, eventstore.NoStream(), Events(3)...)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), res.NextExpectedVersion)
	require.Len(t, res.Positions, 3)
	assert.True(t, res.Positions[0].Less(res.Positions[1]) && res.Positions[1].Less(res.Positions[2]))

	res2, err := s.Append(c, st, eventstore.Exact(2), Events(2)...)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), res2.NextExpectedVersion)
	assert.True(t, res.Last().Less(res2.Positions[0]))

	got, err := s.ReadStream(c, st, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i, e := range got {
		assert.Equal(t, uint64(i), e.StreamVersion)
		assert.Equal(t, st, e.StreamID)
	}
}

func testExpectedVersion(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	missing, existing := stream(), stream()
	_, err := s.Append(c, existing, eventstore.NoStream(), Events(2)...)
	require.NoError(t, err)

	cases := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		actual   *uint64
		ok       bool
	}{
		{"no_stream_on_existing", existing, eventstore.NoStream(), ptr(1), false},
		{"exact_stale", existing, eventstore.Exact(0), ptr(1), false},
		{"exact_ahead", existing, eventstore.Exact(7), ptr(1), false},
		{"exact_on_missing", missing, eventstore.Exact(0), nil, false},
		{"stream_exists_on_missing", missing, eventstore.StreamExists(), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(c, tc.stream, tc.expected, Events(1)...)
			var wrong *eventstore.WrongExpectedVersionError
			require.ErrorAs(t, err, &wrong)
			require.ErrorIs(t, err, domain.ErrConflict)
			assert.Equal(t, tc.stream, wrong.Stream)
			assert.Equal(t, tc.actual, wrong.Actual)
		})
	}
	// Nothing of the refused appends was written.
	got, err := s.ReadStream(c, existing, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, got, 2)
	got, err = s.ReadStream(c, missing, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, exp := range []eventstore.ExpectedVersion{eventstore.StreamExists(), eventstore.Exact(2), eventstore.Any()} {
		_, err := s.Append(c, existing, exp, Events(1)...)
		require.NoError(t, err, "expected %s", exp)
	}
	res, err := s.Append(c, missing, eventstore.Any(), Events(1)...)
	require.NoError(t, err)
	assert.Equal(t, uint64(0), res.NextExpectedVersion)
}

func testConcurrentExact(t *testing.T, s eventstore.Store) {
	c, st := ctx(t), stream()
	_, err := s.Append(c, st, eventstore.NoStream(), Events(1)...)
	require.NoError(t, err)

	const writers = 8
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(c, st, eventstore.Exact(0), Events(1)...)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, domain.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("append: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
	assert.Equal(t, int32(writers-1), conflicts.Load())
	got, err := s.ReadStream(c, st, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}

func testIdempotentRetry(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Any()} {
		t.Run(exp.String(), func(t *testing.T) {
			st, evs := stream(), Events(3)
			first, err := s.Append(c, st, exp, evs...)
			require.NoError(t, err)
			again, err := s.Append(c, st, exp, evs...)
			require.NoError(t, err)
			assert.Equal(t, first, again)
			got, err := s.ReadStream(c, st, 0, eventstore.MaxRevision)
			require.NoError(t, err)
			assert.Len(t, got, 3)
		})
	}
	t.Run("exact_retry_after_success", func(t *testing.T) {
		st := stream()
		_, err := s.Append(c, st, eventstore.NoStream(), Events(1)...)
		require.NoError(t, err)
		evs := Events(2)
		first, err := s.Append(c, st, eventstore.Exact(0), evs...)
		require.NoError(t, err)
		again, err := s.Append(c, st, eventstore.Exact(0), evs...) // the version moved, but it is the same append
		require.NoError(t, err)
		assert.Equal(t, first, again)
	})
	t.Run("concurrent_retries", func(t *testing.T) {
		st, evs := stream(), Events(2)
		results := make([]eventstore.AppendResult, 6)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				results[i], err = s.Append(c, st, eventstore.Any(), evs...)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		for _, r := range results[1:] {
			assert.Equal(t, results[0], r)
		}
		got, err := s.ReadStream(c, st, 0, eventstore.MaxRevision)
		require.NoError(t, err)
		assert.Len(t, got, 2)
	})
}

func testDuplicateIDs(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	evs := Events(2)
	_, err := s.Append(c, stream(), eventstore.NoStream(), evs...)
	require.NoError(t, err)

	other := stream()
	_, err = s.Append(c, other, eventstore.Any(), evs[0])
	require.ErrorIs(t, err, domain.ErrConflict, "same id in another stream")

	mixed := append(Events(1), evs[1])
	_, err = s.Append(c, other, eventstore.Any(), mixed...)
	require.ErrorIs(t, err, domain.ErrConflict, "one new id and one stored id")

	got, err := s.ReadStream(c, other, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func testInvalidAppend(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	dup := Events(1)[0]
	bad := map[string]struct {
		stream string
		events []eventstore.EventData
	}{
		"no_events":       {stream(), nil},
		"empty_stream":    {"", Events(1)},
		"reserved_stream": {"$all", Events(1)},
		"duplicate_ids":   {stream(), []eventstore.EventData{dup, dup}},
		"no_type":         {stream(), []eventstore.EventData{{ID: uuid.New(), SchemaVersion: 1, Data: json.RawMessage(`{}`)}}},
		"not_json":        {stream(), []eventstore.EventData{{ID: uuid.New(), Type: "x", SchemaVersion: 1, Data: json.RawMessage(`{`)}}},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := s.Append(c, tc.stream, eventstore.Any(), tc.events...)
			require.ErrorIs(t, err, eventstore.ErrInvalidAppend)
		})
	}
}

func testReadStream(t *testing.T, s eventstore.Store) {
	c, st := ctx(t), stream()
	_, err := s.Append(c, st, eventstore.NoStream(), Events(10)...)
	require.NoError(t, err)
	_, err = s.Append(c, stream(), eventstore.NoStream(), Events(3)...) // a neighbour
	require.NoError(t, err)

	for _, r := range []struct{ from, to uint64 }{{0, 9}, {3, 5}, {9, 20}, {0, 0}, {5, eventstore.MaxRevision}} {
		got, err := s.ReadStream(c, st, r.from, r.to)
		require.NoError(t, err)
		want := int(min(r.to, 9) - r.from + 1)
		require.Len(t, got, want, "range %d..%d", r.from, r.to)
		for i, e := range got {
			assert.Equal(t, r.from+uint64(i), e.StreamVersion)
		}
	}
	got, err := s.ReadStream(c, st, 11, 20)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = s.ReadStream(c, "missing-"+uuid.NewString(), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func testEnvelope(t *testing.T, s eventstore.Store) {
	c, st := ctx(t), stream()
	tenant := uuid.New()
	occurred := time.Date(2026, 11, 27, 10, 30, 0, 123456000, time.UTC)
	in := eventstore.EventData{
		ID:            uuid.New(),
		Type:          "test.enveloped",
		SchemaVersion: 3,
		Data:          json.RawMessage(`{"name":"ünïcode ✓","nested":{"list":[1,2,3]},"n":null}`),
		Metadata: eventstore.Metadata{
			ActorUserID:   42,
			TenantID:      tenant,
			BusinessID:    7,
			CorrelationID: "req-1",
			CausationID:   "cmd-1",
			ClientIP:      "203.0.113.9",
			OccurredAt:    occurred,
		},
	}
	before := time.Now().Add(-time.Minute)
	res, err := s.Append(c, st, eventstore.NoStream(), in)
	require.NoError(t, err)

	got, err := s.ReadStream(c, st, 0, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	e := got[0]
	assert.Equal(t, in.ID, e.ID)
	assert.Equal(t, st, e.StreamID)
	assert.Equal(t, uint64(0), e.StreamVersion)
	assert.Equal(t, res.Positions[0], e.Position)
	assert.Equal(t, in.Type, e.Type)
	assert.Equal(t, 3, e.SchemaVersion)
	assert.JSONEq(t, string(in.Data), string(e.Data))
	assert.Equal(t, in.Metadata.ActorUserID, e.Metadata.ActorUserID)
	assert.Equal(t, tenant, e.Metadata.TenantID)
	assert.Equal(t, int64(7), e.Metadata.BusinessID)
	assert.Equal(t, "req-1", e.Metadata.CorrelationID)
	assert.Equal(t, "cmd-1", e.Metadata.CausationID)
	assert.Equal(t, "203.0.113.9", e.Metadata.ClientIP)
	assert.True(t, occurred.Equal(e.Metadata.OccurredAt), "occurred at %s", e.Metadata.OccurredAt)
	assert.True(t, e.RecordedAt.After(before), "recorded at %s", e.RecordedAt)

	all, err := s.ReadAll(c, eventstore.Position{}, 10)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, e, all[0])
}

func testReadAll(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	var positions []eventstore.Position
	for range 5 {
		res, err := s.Append(c, stream(), eventstore.NoStream(), Events(4)...)
		require.NoError(t, err)
		positions = append(positions, res.Positions...)
	}
	all, err := s.ReadAll(c, eventstore.Position{}, 100)
	require.NoError(t, err)
	require.Len(t, all, 20)
	for i, e := range all {
		assert.Equal(t, positions[i], e.Position)
	}
	page, err := s.ReadAll(c, positions[5], 3)
	require.NoError(t, err)
	require.Len(t, page, 3)
	assert.Equal(t, positions[6], page[0].Position)
	rest, err := s.ReadAll(c, positions[19], 10)
	require.NoError(t, err)
	assert.Empty(t, rest)
}

func testFollow(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	var want []eventstore.Position
	for range 3 {
		res, err := s.Append(c, stream(), eventstore.NoStream(), Events(5)...)
		require.NoError(t, err)
		want = append(want, res.Positions...)
	}
	start := want[4] // follow from the middle of history
	want = want[5:]

	var mu sync.Mutex
	var got []eventstore.Position
	fctx, cancel := context.WithCancel(c)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(fctx, start, func(_ context.Context, batch []eventstore.RecordedEvent) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range batch {
				got = append(got, e.Position)
			}
			return nil
		})
	}()
	for range 10 { // live appends while following
		res, err := s.Append(c, stream(), eventstore.NoStream(), Events(2)...)
		require.NoError(t, err)
		want = append(want, res.Positions...)
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	}, waitLimit, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, got)
}

func testFollowStops(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	_, err := s.Append(c, stream(), eventstore.NoStream(), Events(3)...)
	require.NoError(t, err)
	boom := errors.New("boom")
	err = s.Follow(c, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return boom })
	require.ErrorIs(t, err, boom)

	fctx, cancel := context.WithCancel(c)
	cancel()
	err = s.Follow(fctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

func testHead(t *testing.T, s eventstore.Store) {
	c := ctx(t)
	head, err := s.Head(c)
	require.NoError(t, err)
	assert.True(t, head.IsZero())
	res, err := s.Append(c, stream(), eventstore.NoStream(), Events(4)...)
	require.NoError(t, err)
	head, err = s.Head(c)
	require.NoError(t, err)
	assert.Equal(t, res.Last(), head)
}

func ptr(v uint64) *uint64 { return &v }

// testReadTypes checks eventstore.TypeReader, for stores that have it.
func testReadTypes(t *testing.T, s eventstore.Store) {
	tr, ok := s.(eventstore.TypeReader)
	if !ok {
		t.Skip("the store does not read by type")
	}
	c := ctx(t)
	types := []string{"test.a", "test.b", "test.c"}
	var all []eventstore.Position
	wanted := map[eventstore.Position]string{}
	for i := range 7 {
		events := Events(3)
		for k := range events {
			events[k].Type = types[(i+k)%3]
		}
		res, err := s.Append(c, stream(), eventstore.NoStream(), events...)
		require.NoError(t, err)
		for k, p := range res.Positions {
			all = append(all, p)
			if events[k].Type != "test.b" {
				wanted[p] = events[k].Type
			}
		}
	}
	head, err := tr.SettledHead(c)
	require.NoError(t, err)
	assert.Equal(t, all[len(all)-1], head)

	// Walk the log in small reads: every a and c event, in order, and
	// nothing else; reached never passes through and ends there.
	through := all[16]
	var got []eventstore.Position
	after := eventstore.Position{}
	for after != through {
		events, reached, err := tr.ReadTypes(c, after, through, []string{"test.a", "test.c"}, 2)
		require.NoError(t, err)
		require.True(t, after.Less(reached), "reached %s does not move past %s", reached, after)
		require.False(t, through.Less(reached), "reached %s passes through %s", reached, through)
		for _, e := range events {
			assert.Equal(t, wanted[e.Position], e.Type)
			assert.False(t, reached.Less(e.Position))
			got = append(got, e.Position)
		}
		after = reached
	}
	var want []eventstore.Position
	for _, p := range all[:17] {
		if _, ok := wanted[p]; ok {
			want = append(want, p)
		}
	}
	assert.Equal(t, want, got)

	none, reached, err := tr.ReadTypes(c, eventstore.Position{}, head, []string{"test.none"}, 4)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Equal(t, head, reached)

	counts, err := tr.CountTypes(c, all[2], head)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"test.a": 6, "test.b": 6, "test.c": 6}, counts)
}
