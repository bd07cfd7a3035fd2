package kurrentdb

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// These tests drive Follow's own logic (batching, filtering, resubscribing)
// with scripted subscriptions; what a server sends is not simulated beyond
// the client's SubscriptionEvent values.

// scripted is a subscription that hands out its events, then blocks until
// closed (or, with drop set, reports a drop after them).
type scripted struct {
	events chan *kdb.SubscriptionEvent
	closed chan struct{}
	once   sync.Once
}

func newScripted(drop error, events ...*kdb.SubscriptionEvent) *scripted {
	s := &scripted{events: make(chan *kdb.SubscriptionEvent, len(events)+1), closed: make(chan struct{})}
	for _, e := range events {
		s.events <- e
	}
	if drop != nil {
		s.events <- &kdb.SubscriptionEvent{SubscriptionDropped: &kdb.SubscriptionDropped{Error: drop}}
	}
	return s
}

func (s *scripted) Recv() *kdb.SubscriptionEvent {
	select {
	case e := <-s.events:
		return e
	case <-s.closed:
		return &kdb.SubscriptionEvent{SubscriptionDropped: &kdb.SubscriptionDropped{Error: errors.New("closed")}}
	}
}

func (s *scripted) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// fakeServer hands out scripted subscriptions in turn and records where
// each was asked to start.
type fakeServer struct {
	mu    sync.Mutex
	subs  []subscription
	errs  []error // per call; nil: the next scripted subscription
	froms []eventstore.Position
}

func (f *fakeServer) subscribe(ctx context.Context, from eventstore.Position) (subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.froms = append(f.froms, from)
	call := len(f.froms) - 1
	if call < len(f.errs) && f.errs[call] != nil {
		return nil, f.errs[call]
	}
	if len(f.subs) == 0 {
		return newScripted(nil), nil // nothing more: wait until closed
	}
	s := f.subs[0]
	f.subs = f.subs[1:]
	return s, nil
}

func (f *fakeServer) from() []eventstore.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]eventstore.Position(nil), f.froms...)
}

func testFollower(srv *fakeServer, prefix string, batch int) follower {
	return follower{
		names:     names{prefix: prefix},
		batch:     batch,
		log:       slog.New(slog.DiscardHandler),
		backoff:   time.Millisecond,
		subscribe: srv.subscribe,
	}
}

// appeared is an event of stream at commit position n.
func appeared(stream, eventType string, n uint64) *kdb.SubscriptionEvent {
	return &kdb.SubscriptionEvent{EventAppeared: &kdb.ResolvedEvent{Event: &kdb.RecordedEvent{
		EventID:     uuid.New(),
		EventType:   eventType,
		StreamID:    stream,
		EventNumber: n,
		Position:    kdb.Position{Commit: n, Prepare: n},
		CreatedDate: time.Unix(0, 0).UTC(),
		Data:        []byte(`{}`),
	}}}
}

// collector is a handler that keeps positions and stops after want events.
type collector struct {
	mu      sync.Mutex
	batches [][]uint64
	want    int
	cancel  context.CancelFunc
}

func (c *collector) handle(_ context.Context, batch []eventstore.RecordedEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ns []uint64
	for _, e := range batch {
		ns = append(ns, e.Position.Commit)
	}
	c.batches = append(c.batches, ns)
	if c.count() >= c.want {
		c.cancel()
	}
	return nil
}

func (c *collector) count() int {
	n := 0
	for _, b := range c.batches {
		n += len(b)
	}
	return n
}

func (c *collector) all() []uint64 {
	var out []uint64
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

func TestFollow_BatchesFiltersAndOrders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := &fakeServer{subs: []subscription{newScripted(nil,
		appeared("app1-a", "t", 5), // at the start position: not after it
		appeared("app1-a", "t", 6),
		&kdb.SubscriptionEvent{CheckPointReached: &kdb.Position{Commit: 6, Prepare: 6}},
		appeared("app1-a", "$metadata", 7), // system type
		appeared("app2-a", "t", 8),         // another prefix
		appeared("$stats", "t", 9),         // system stream
		appeared("app1-b", "t", 10),
		&kdb.SubscriptionEvent{CaughtUp: &kdb.CaughtUp{}},
		appeared("app1-b", "t", 11),
		appeared("app1-c", "t", 12),
		appeared("app1-c", "t", 13),
		appeared("app1-c", "t", 14),
	)}}
	col := &collector{want: 6}
	fctx, fcancel := context.WithCancel(ctx)
	col.cancel = fcancel
	err := testFollower(srv, "app1-", 2).follow(fctx, eventstore.Position{Commit: 5, Prepare: 5}, col.handle)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []uint64{6, 10, 11, 12, 13, 14}, col.all())
	for _, b := range col.batches {
		assert.NotEmpty(t, b)
		assert.LessOrEqual(t, len(b), 2, "no batch above BatchSize")
	}
	assert.Equal(t, []eventstore.Position{{Commit: 5, Prepare: 5}}, srv.from())
}

func TestFollow_ResubscribesFromTheLastDeliveredPosition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := &fakeServer{
		errs: []error{nil, errors.New("unavailable"), nil},
		subs: []subscription{
			newScripted(errors.New("connection reset"), appeared("a", "t", 1), appeared("a", "t", 2)),
			// After the drop (and one failed attempt), the server sends
			// the last delivered event again: it is not delivered twice.
			newScripted(nil, appeared("a", "t", 2), appeared("a", "t", 3)),
		},
	}
	col := &collector{want: 3}
	fctx, fcancel := context.WithCancel(ctx)
	col.cancel = fcancel
	err := testFollower(srv, "", 100).follow(fctx, eventstore.Position{}, col.handle)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []uint64{1, 2, 3}, col.all())
	assert.Equal(t, []eventstore.Position{{}, {Commit: 2, Prepare: 2}, {Commit: 2, Prepare: 2}}, srv.from())
}

func TestFollow_ReturnsTheHandlersError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	boom := errors.New("boom")
	srv := &fakeServer{subs: []subscription{newScripted(nil, appeared("a", "t", 1))}}
	err := testFollower(srv, "", 10).follow(ctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return boom })
	assert.Same(t, boom, err)
}

func TestFollow_StopsWithCtx(t *testing.T) {
	srv := &fakeServer{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := testFollower(srv, "", 10).follow(ctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return nil })
	require.ErrorIs(t, err, context.Canceled)

	// While waiting for events.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- testFollower(srv, "", 10).follow(ctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return nil })
	}()
	require.Eventually(t, func() bool { return len(srv.from()) > 0 }, 10*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after its ctx ended")
	}
}

func TestFollow_UndecodableEventEndsFollow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bad := appeared("a", "t", 1)
	bad.EventAppeared.Event.UserMetadata = []byte(`{"actor_user_id":"x"}`)
	srv := &fakeServer{subs: []subscription{newScripted(nil, bad)}}
	err := testFollower(srv, "", 10).follow(ctx, eventstore.Position{}, func(context.Context, []eventstore.RecordedEvent) error { return nil })
	require.Error(t, err)
	assert.NotErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "actor_user_id")
	assert.Len(t, srv.from(), 1, "no resubscription: a retry cannot cure it")
}
