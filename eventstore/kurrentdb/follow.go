package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Backoff of Follow's resubscriptions after a drop.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// Follow calls handle with every event after the given position (see
// eventstore.Store), from a catch-up subscription to $all with a
// server-side filter (the stream prefix, or every stream whose name does
// not start with $); system event types are dropped as they arrive. Each
// call of handle gets the events that are available at once, up to
// BatchSize, in position order.
//
// When the subscription drops (the server restarts, the leader changes, the
// connection breaks), Follow subscribes again from the last position it
// delivered, after a backoff that doubles from 100ms to 5s and starts over
// once events flow again; every drop is logged. Errors that a retry cannot
// cure (access denied, bad credentials, an event whose metadata does not
// decode) end Follow with that error. It returns handle's error, or
// ctx.Err() when ctx ends.
func (s *Store) Follow(ctx context.Context, after eventstore.Position, handle func(ctx context.Context, batch []eventstore.RecordedEvent) error) error {
	f := follower{
		names:   s.names,
		batch:   s.batch,
		log:     s.log,
		backoff: firstBackoff,
		subscribe: func(ctx context.Context, from eventstore.Position) (subscription, error) {
			sub, err := s.client.SubscribeToAll(ctx, kdb.SubscribeToAllOptions{From: allFrom(from), Filter: s.names.filter()})
			if err != nil {
				return nil, err
			}
			return sub, nil
		},
	}
	return f.follow(ctx, after, handle)
}

// subscription is what Follow uses of a *kurrentdb.Subscription.
type subscription interface {
	Recv() *kdb.SubscriptionEvent
	Close() error
}

// follower is Follow's machinery, apart from the client so that its
// batching, filtering and resubscribing can be tested without a server.
type follower struct {
	names   names
	batch   int
	log     *slog.Logger
	backoff time.Duration // the first one; it doubles up to maxBackoff
	// subscribe opens a catch-up subscription to $all after a position.
	subscribe func(ctx context.Context, from eventstore.Position) (subscription, error)
}

func (f follower) follow(ctx context.Context, after eventstore.Position, handle func(ctx context.Context, batch []eventstore.RecordedEvent) error) error {
	cursor := after
	backoff := f.backoff
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		delivered, err := f.once(ctx, &cursor, handle)
		var he handlerError
		switch {
		case errors.As(err, &he):
			return he.err
		case ctx.Err() != nil:
			return ctx.Err()
		case permanent(err):
			return fmt.Errorf("kurrentdb: follow $all: %w", err)
		}
		if delivered {
			backoff = f.backoff
		}
		f.log.Warn("kurrentdb: subscription to $all dropped; subscribing again",
			"after", cursor.String(), "backoff", backoff, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// handlerError marks an error of the caller's handler.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// decodeError marks an event Follow cannot map.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }
func (e decodeError) Unwrap() error { return e.err }

// permanent reports errors that resubscribing cannot cure.
func permanent(err error) bool {
	if errors.As(err, new(decodeError)) {
		return true
	}
	var ke *kdb.Error
	return errors.As(err, &ke) && permanentCode(ke.Code())
}

// permanentCode reports the client's error codes that resubscribing
// cannot cure.
func permanentCode(code kdb.ErrorCode) bool {
	switch code {
	case kdb.ErrorCodeAccessDenied, kdb.ErrorCodeUnauthenticated, kdb.ErrorCodeUnsupportedFeature, kdb.ErrorCodeParsing:
		return true
	}
	return false
}

// item is what the receiving goroutine passes on: an event or the drop.
type item struct {
	event   *kdb.RecordedEvent
	dropped error
}

// once runs one subscription until it drops, ctx ends or handle fails,
// moving *cursor past every delivered event; delivered reports whether it
// delivered any.
func (f follower) once(ctx context.Context, cursor *eventstore.Position, handle func(context.Context, []eventstore.RecordedEvent) error) (delivered bool, err error) {
	sub, err := f.subscribe(ctx, *cursor)
	if err != nil {
		return false, err
	}
	defer sub.Close()

	items := make(chan item, f.batch)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			ev := sub.Recv()
			var it item
			switch {
			case ev.SubscriptionDropped != nil:
				it.dropped = ev.SubscriptionDropped.Error
				if it.dropped == nil {
					it.dropped = errors.New("subscription dropped")
				}
			case ev.EventAppeared != nil:
				it.event = ev.EventAppeared.OriginalEvent()
				if it.event == nil {
					continue
				}
			default: // checkpoints, caught up, fell behind
				continue
			}
			select {
			case items <- it:
			case <-stop:
				return
			}
			if it.dropped != nil {
				return
			}
		}
	}()

	for {
		// Wait for one item, then take what else is there, up to a batch.
		var first item
		select {
		case <-ctx.Done():
			return delivered, ctx.Err()
		case first = <-items:
		}
		// A fresh slice each time: handle may keep the one it got.
		var batch []eventstore.RecordedEvent
		var dropped error
		take := func(it item) error {
			if it.dropped != nil {
				dropped = it.dropped
				return nil
			}
			p := position(it.event.Position)
			if !after(p, *cursor) || (len(batch) > 0 && !after(p, batch[len(batch)-1].Position)) {
				return nil
			}
			e, ok, err := f.names.recorded(it.event)
			if err != nil {
				return decodeError{err}
			}
			if ok {
				batch = append(batch, e)
			}
			return nil
		}
		if err := take(first); err != nil {
			return delivered, err
		}
	drain:
		for dropped == nil && len(batch) < f.batch {
			select {
			case it := <-items:
				if err := take(it); err != nil {
					return delivered, err
				}
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if err := handle(ctx, batch); err != nil {
				return delivered, handlerError{err}
			}
			*cursor = batch[len(batch)-1].Position
			delivered = true
		}
		if dropped != nil {
			return delivered, dropped
		}
	}
}
