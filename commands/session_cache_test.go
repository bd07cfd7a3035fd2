package commands

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

// A session is lent to one flush at a time: a second take of the same
// stream waits until the first gives it back (put or release), other
// streams are not held up, and a wait ends with its context.
func TestSessionCache_LendsOneAtATime(t *testing.T) {
	c := NewSessionCache(10)
	ctx := context.Background()
	flow := uuid.New()
	stream := domain.ChatSessionStream(&flow, "s")
	s, err := c.take(ctx, stream)
	require.NoError(t, err)
	assert.Nil(t, s, "nothing cached yet")

	_, err = c.take(ctx, domain.ChatSessionStream(&flow, "other"))
	require.NoError(t, err, "another session is not held up")

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = c.take(short, stream)
	require.ErrorIs(t, err, context.DeadlineExceeded, "lent: the second take waits")

	got := make(chan *domain.ChatSession)
	go func() {
		s, err := c.take(ctx, stream)
		assert.NoError(t, err)
		got <- s
	}()
	sess := domain.LoadChatSession(&flow, "s")
	c.put(sess)
	assert.Same(t, sess, <-got, "the waiting take gets the session given back")
	c.release(stream)
	s, err = c.take(ctx, stream)
	require.NoError(t, err)
	assert.Nil(t, s, "a release keeps nothing")
}
