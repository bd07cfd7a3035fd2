package logcopy

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// cursor hands out a store's events one by one, in position order, after a
// position and up to a head taken before: what is appended later is not
// read (the source should not be written to while it is copied).
type cursor struct {
	store eventstore.Store
	name  string // "source" or "target", for errors
	after eventstore.Position
	head  eventstore.Position
	batch int
	buf   []eventstore.RecordedEvent
}

func newCursor(store eventstore.Store, name string, after, head eventstore.Position, batch int) *cursor {
	return &cursor{store: store, name: name, after: after, head: head, batch: batch}
}

// stallLimit bounds how long next waits for ReadAll to return the events
// below the head: an append in flight ends within it, and a log whose head
// ReadAll never reaches is an error rather than a copy cut short.
const stallLimit = 30 * time.Second

// next returns the next event; ok is false at the head. ReadAll may
// return nothing while an earlier append is in flight: next waits for it,
// polling with a growing pause, up to stallLimit.
func (c *cursor) next(ctx context.Context) (e eventstore.RecordedEvent, ok bool, err error) {
	pause, waited := time.Millisecond, time.Duration(0)
	for len(c.buf) == 0 {
		if !c.after.Less(c.head) {
			return e, false, nil
		}
		events, err := c.store.ReadAll(ctx, c.after, c.batch)
		if err != nil {
			return e, false, fmt.Errorf("read the %s log after %s: %w", c.name, c.after, err)
		}
		for i, ev := range events {
			if c.head.Less(ev.Position) {
				events = events[:i]
				c.head = c.after // nothing more to read
				break
			}
		}
		if len(events) == 0 && c.after.Less(c.head) {
			if waited >= stallLimit {
				return e, false, fmt.Errorf("read the %s log after %s: no event for %s although its head is %s", c.name, c.after, stallLimit, c.head)
			}
			waited += pause
			select {
			case <-ctx.Done():
				return e, false, ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, 100*time.Millisecond)
			continue
		}
		c.buf = events
	}
	e, c.buf = c.buf[0], c.buf[1:]
	c.after = e.Position
	return e, true, nil
}
