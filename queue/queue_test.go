package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/queue"
)

func embedded(t *testing.T) string {
	t.Helper()
	srv, err := queue.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	return srv.URL()
}

func open(t *testing.T, url string, ackWait time.Duration) *queue.Queue {
	t.Helper()
	q, err := queue.Open(context.Background(), queue.Config{URL: url, AckWait: ackWait, RetryDelay: 50 * time.Millisecond, Workers: 4})
	require.NoError(t, err)
	t.Cleanup(q.Close)
	return q
}

type delivery struct {
	id      string
	payload string
	attempt uint64
}

// consume runs q.Consume with h in the background until the test ends.
func consume(t *testing.T, q *queue.Queue, h queue.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, q.Consume(ctx, h))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// Every task published is handled once when its handler succeeds.
func TestQueue_PublishConsume(t *testing.T) {
	t.Parallel()
	url := embedded(t)
	q := open(t, url, 5*time.Second)
	var mu sync.Mutex
	got := map[string]delivery{}
	consume(t, q, func(_ context.Context, id string, payload []byte, attempt uint64) error {
		mu.Lock()
		defer mu.Unlock()
		_, dup := got[id]
		assert.False(t, dup, "task %s handled twice", id)
		got[id] = delivery{id, string(payload), attempt}
		return nil
	})
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, q.Publish(context.Background(), id, []byte("payload "+id)))
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 }, 10*time.Second, 5*time.Millisecond)
	mu.Lock()
	assert.Equal(t, delivery{"b", "payload b", 1}, got["b"])
	mu.Unlock()
	// Published again within the deduplication window, a task is not
	// stored twice.
	require.NoError(t, q.Publish(context.Background(), "a", []byte("again")))
	require.NoError(t, q.Publish(context.Background(), "d", []byte("payload d")))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 }, 10*time.Second, 5*time.Millisecond)
}

// A task whose handler fails comes again after the retry delay, numbered.
func TestQueue_NackRedelivers(t *testing.T) {
	t.Parallel()
	q := open(t, embedded(t), 5*time.Second)
	attempts := make(chan uint64, 8)
	consume(t, q, func(_ context.Context, _ string, _ []byte, attempt uint64) error {
		attempts <- attempt
		if attempt < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	require.NoError(t, q.Publish(context.Background(), "t", []byte("x")))
	for want := uint64(1); want <= 3; want++ {
		select {
		case got := <-attempts:
			assert.Equal(t, want, got)
		case <-time.After(10 * time.Second):
			t.Fatalf("attempt %d never came", want)
		}
	}
	select {
	case got := <-attempts:
		t.Fatalf("acked task came again (attempt %d)", got)
	case <-time.After(300 * time.Millisecond): // longer than the retry delay: a nacked task would be back
	}
}

// A task whose worker goes away without an answer comes to another worker
// once AckWait passed; a handler that runs longer than AckWait keeps its
// task meanwhile (in-progress signs).
func TestQueue_NoAckRedeliversAfterAckWait(t *testing.T) {
	t.Parallel()
	url := embedded(t)
	const ackWait = 600 * time.Millisecond
	first := open(t, url, ackWait)
	started := make(chan string, 4)
	release := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		_ = first.Consume(ctx, func(_ context.Context, id string, _ []byte, _ uint64) error {
			started <- id
			<-release
			return nil
		})
	}()
	require.NoError(t, first.Publish(context.Background(), "slow", []byte("x")))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first worker never got the task")
	}

	second := open(t, url, ackWait)
	got := make(chan delivery, 4)
	consume(t, second, func(_ context.Context, id string, _ []byte, attempt uint64) error {
		got <- delivery{id: id, attempt: attempt}
		return nil
	})
	// The first worker holds it for 3×AckWait: still its own.
	select {
	case d := <-got:
		t.Fatalf("a task in progress went to another worker: %+v", d)
	case <-time.After(3 * ackWait):
	}
	// It goes away without an answer (its connection closed).
	first.Close()
	close(release)
	stop()
	<-firstDone
	select {
	case d := <-got:
		assert.Equal(t, delivery{id: "slow", attempt: 2}, d)
	case <-time.After(10 * time.Second):
		t.Fatal("the task never came to the second worker")
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	assert.NoError(t, queue.CheckURL("nats://127.0.0.1:4222"))
	assert.NoError(t, queue.CheckURL("nats://user:pw@nats:4222"))
	assert.Error(t, queue.CheckURL("http://nats:4222"))
	assert.Error(t, queue.CheckURL("nats://"))
	assert.Error(t, queue.CheckURL(""))
}
