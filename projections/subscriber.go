package projections

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

var (
	// errInBatch marks a handler error inside a multi-event batch: no retry
	// there (the transaction is spoiled); the batch is replayed one event
	// per transaction instead.
	errInBatch = errors.New("handler failed inside a batch")
	// errReposition ends a Follow when the checkpoint row moved under the
	// consumer (another instance, or a rebuild swapped the tables).
	errReposition = errors.New("checkpoint moved")
	// errRetryBatch ends a Follow after a failed batch; the consumer
	// reloads its checkpoint and follows again.
	errRetryBatch = errors.New("batch failed")
	// errCaughtUp ends a rebuild's Follow when it reached its target.
	errCaughtUp = errors.New("caught up")
)

// delivery is what a message's context carries to the handler: the events
// of one transaction (those the projection handles, in order) and the
// transaction. One message per transaction, not per event: the router then
// costs one hand-over per batch, and a failed batch is replayed one event
// per message, where the Retry middleware retries it.
type delivery struct {
	recs     []eventstore.RecordedEvent
	tx       *Tx
	isolated bool  // one event with the transaction to itself
	failed   int   // index in recs of the event whose handler failed
	err      error // the last handler error, for the failure record
}

type deliveryKey struct{}

func deliveryOf(msg *message.Message) *delivery {
	d, _ := msg.Context().Value(deliveryKey{}).(*delivery)
	return d
}

// attempt runs each handler attempt of an isolated event inside a savepoint,
// so the Retry middleware can retry it in the same transaction; in a batch
// it turns errors into errInBatch.
func attempt(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		d := deliveryOf(msg)
		if !d.isolated {
			out, err := h(msg)
			if err != nil {
				d.err = err
				return nil, fmt.Errorf("%w: %w", errInBatch, err)
			}
			return out, nil
		}
		ctx := msg.Context()
		if _, err := d.tx.tx.Exec(ctx, "SAVEPOINT attempt"); err != nil {
			d.err = err
			return nil, err
		}
		out, err := h(msg)
		if err == nil {
			err = d.tx.Flush(ctx)
		}
		if err != nil {
			d.tx.discard()
			if _, rbErr := d.tx.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT attempt"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
			d.err = err
			return nil, err
		}
		return out, nil
	}
}

// logSubscriber is the Watermill subscriber of the projections: topic =
// projection name; messages = the events it handles, from its checkpoint.
type logSubscriber struct {
	rt      *Runtime
	rebuild *rebuildJob // nil for the live projections

	mu      sync.Mutex
	cancels []context.CancelFunc
	wg      sync.WaitGroup
}

// Subscribe implements message.Subscriber.
func (s *logSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	p, ok := s.rt.byName[topic]
	if !ok {
		return nil, fmt.Errorf("subscribe: no projection %q", topic)
	}
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancels = append(s.cancels, cancel)
	s.mu.Unlock()

	out := make(chan *message.Message)
	c := &consumer{rt: s.rt, p: p, out: out, job: s.rebuild, unknown: map[string]int64{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		c.run(ctx)
	}()
	return out, nil
}

// Close implements message.Subscriber; it may be called more than once.
func (s *logSubscriber) Close() error {
	s.mu.Lock()
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// consumer feeds one projection.
type consumer struct {
	rt  *Runtime
	p   *Projection
	out chan<- *message.Message
	job *rebuildJob // nil when live

	dbPos, memPos  eventstore.Position // saved checkpoint; position reached
	lastSave       time.Time
	isolateThrough eventstore.Position // events up to here get a transaction each
	failures       int
	unknown        map[string]int64
	warned         map[string]bool
}

// run feeds a live projection while this process holds its lease, and a
// rebuild until it is done.
func (c *consumer) run(ctx context.Context) {
	if c.job != nil {
		c.follow(ctx)
		return
	}
	for ctx.Err() == nil {
		held, release, err := c.rt.leases.acquire(ctx, c.p.name)
		if err != nil {
			return
		}
		c.follow(held)
		release()
	}
}

// follow catches up from the checkpoint and follows the log until ctx ends.
func (c *consumer) follow(ctx context.Context) {
	pause := c.rt.cfg.FailureBackoff
	for ctx.Err() == nil {
		if err := c.load(ctx); err != nil {
			c.rt.log.Error("projection: load checkpoint", "projection", c.p.name, "error", err)
			if sleep(ctx, pause) != nil {
				break
			}
			pause = min(2*pause, c.rt.cfg.MaxFailureBackoff)
			continue
		}
		if c.job != nil && !c.memPos.Less(c.job.target) { // nothing (more) to replay
			c.job.finish(c.swap(ctx))
			return
		}
		if tr, ok := c.rt.store.(eventstore.TypeReader); ok && c.job != nil {
			c.job.finish(c.replayTypes(ctx, tr))
			return
		}
		err := c.rt.store.Follow(ctx, c.memPos, c.handleBatch)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errReposition), errors.Is(err, errRetryBatch):
		case errors.Is(err, errCaughtUp):
			c.job.finish(c.swap(ctx))
			return
		case c.job != nil:
			c.job.finish(err)
			return
		default:
			c.rt.log.Error("projection: follow", "projection", c.p.name, "error", err)
			_ = sleep(ctx, pause)
		}
	}
	if c.job != nil {
		c.job.finish(ctx.Err())
		return
	}
	// Save the position passed over events the projection does not handle.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = c.saveSkipped(saveCtx)
}

// load reads the checkpoint (live) or keeps the in-memory one (rebuild).
func (c *consumer) load(ctx context.Context) error {
	if c.job != nil {
		return nil
	}
	cp, err := loadCheckpoint(ctx, c.rt.pool, c.p.name)
	if err != nil {
		return err
	}
	c.dbPos, c.memPos, c.unknown, c.lastSave = cp.pos, cp.pos, cp.unknown, time.Now()
	c.rt.advanced(c.p.name, cp.pos)
	return nil
}

// handleBatch applies one batch of the log: events up to isolateThrough
// one per transaction, the rest in one transaction.
func (c *consumer) handleBatch(ctx context.Context, events []eventstore.RecordedEvent) error {
	for len(events) > 0 {
		isolated := !c.isolateThrough.Less(events[0].Position)
		n := len(events)
		if isolated {
			n = 1
		}
		if err := c.apply(ctx, events[:n], isolated); err != nil {
			return err
		}
		events = events[n:]
	}
	if c.job != nil {
		c.job.report(c.memPos)
		if !c.memPos.Less(c.job.target) {
			return errCaughtUp
		}
	}
	return nil
}

// apply runs the projection's handlers for events in one transaction and
// moves the checkpoint in the same commit.
func (c *consumer) apply(ctx context.Context, events []eventstore.RecordedEvent, isolated bool) error {
	last := events[len(events)-1].Position
	batchUnknown := map[string]int64{}
	handled := false
	for _, e := range events {
		if _, ok := c.p.handlers[e.Type]; ok {
			handled = true
		} else if !c.rt.reg.Known(e.Type) {
			batchUnknown[e.Type]++
		}
	}
	if !handled && len(batchUnknown) == 0 {
		c.memPos = last
		return c.saveSkippedEvery(ctx)
	}

	tx, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	mine := c.handled(events)
	if len(mine) > 0 {
		if e, err := c.deliver(ctx, tx, mine, isolated); err != nil {
			return c.failed(ctx, e, isolated, err)
		}
	}
	unknown := c.unknown
	if len(batchUnknown) > 0 {
		unknown = maps.Clone(c.unknown)
		for t, n := range batchUnknown {
			unknown[t] += n
			c.warnUnknown(t, events)
		}
	}
	if err := c.commit(ctx, tx, last, unknown); err != nil {
		if errors.Is(err, errReposition) || ctx.Err() != nil {
			return err
		}
		return c.failed(ctx, events[len(events)-1], isolated, err)
	}
	c.unknown, c.failures = unknown, 0
	c.dbPos, c.memPos, c.lastSave = last, last, time.Now()
	if c.job == nil {
		c.rt.advanced(c.p.name, last)
	} else {
		c.job.events.Add(int64(len(mine)))
	}
	return nil
}

// handled returns the events the projection has a handler for.
func (c *consumer) handled(events []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	mine := events[:0:0]
	for _, e := range events {
		if _, ok := c.p.handlers[e.Type]; ok {
			mine = append(mine, e)
		}
	}
	return mine
}

func (c *consumer) begin(ctx context.Context) (*Tx, error) {
	tx, err := c.rt.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("projection %s: begin: %w", c.p.name, err)
	}
	setup := "SET LOCAL synchronous_commit TO off"
	if c.job != nil {
		setup += "; SET LOCAL search_path TO " + c.job.searchPath
	}
	if _, err := tx.Exec(ctx, setup); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("projection %s: begin: %w", c.p.name, err)
	}
	return &Tx{tx: tx, types: &c.rt.types}, nil
}

// deliver hands the events of one transaction to the router as one
// message and waits for the handler's verdict. On failure it returns the
// event whose handler failed.
func (c *consumer) deliver(ctx context.Context, tx *Tx, events []eventstore.RecordedEvent, isolated bool) (eventstore.RecordedEvent, error) {
	first, last := events[0], events[len(events)-1]
	msg := message.NewMessage(first.ID.String(), nil)
	msg.Metadata.Set("first_position", first.Position.String())
	msg.Metadata.Set("last_position", last.Position.String())
	msg.Metadata.Set("events", strconv.Itoa(len(events)))
	d := &delivery{recs: events, tx: tx, isolated: isolated}
	msg.SetContext(context.WithValue(ctx, deliveryKey{}, d))
	select {
	case c.out <- msg:
	case <-ctx.Done():
		return first, ctx.Err()
	}
	// When ctx ends, still wait a while for the verdict: the handler may be
	// using tx. A router that is closing may drop a message it had not yet
	// started, so the wait is bounded.
	var grace <-chan time.Time
	done := ctx.Done()
	for {
		select {
		case <-msg.Acked():
			return last, nil
		case <-msg.Nacked():
			if d.err == nil {
				d.err = errors.New("handler failed")
			}
			return events[d.failed], d.err
		case <-done:
			done, grace = nil, time.After(shutdownGrace)
		case <-grace:
			return first, ctx.Err()
		}
	}
}

// shutdownGrace bounds the wait for a handler's verdict after shutdown began.
const shutdownGrace = 30 * time.Second

// failed handles a failed transaction: a batch is replayed event by event;
// an isolated event's failure is recorded and retried after a backoff.
func (c *consumer) failed(ctx context.Context, e eventstore.RecordedEvent, isolated bool, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !isolated {
		c.isolateThrough = e.Position
		return errRetryBatch
	}
	c.failures++
	pause := c.rt.cfg.FailureBackoff << min(c.failures-1, 16)
	pause = min(pause, c.rt.cfg.MaxFailureBackoff)
	c.rt.log.Error("projection: event failed; retrying later",
		"projection", c.p.name, "position", e.Position.String(), "event_type", e.Type,
		"failures", c.failures, "retry_in", pause, "error", err)
	if c.job != nil {
		return fmt.Errorf("rebuild %s: event at %s (%s): %w", c.p.name, e.Position, e.Type, err)
	}
	if rerr := recordFailure(ctx, c.rt.pool, c.p.name, e.Position, err); rerr != nil {
		c.rt.log.Error("projection: record failure", "projection", c.p.name, "error", rerr)
	}
	if err := sleep(ctx, pause); err != nil {
		return err
	}
	return errRetryBatch
}

// commit flushes the queued statements with the checkpoint update in one
// round trip and commits.
func (c *consumer) commit(ctx context.Context, tx *Tx, last eventstore.Position, unknown map[string]int64) error {
	if c.job != nil {
		if err := tx.Flush(ctx); err != nil {
			return err
		}
	} else {
		types, err := jsonTypes(unknown)
		if err != nil {
			return err
		}
		tag, err := tx.flushWith(ctx, advanceSQL, c.p.name, int64(last.Commit), int64(last.Prepare), types,
			int64(c.dbPos.Commit), int64(c.dbPos.Prepare))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errReposition
		}
	}
	if err := tx.tx.Commit(ctx); err != nil {
		return fmt.Errorf("projection %s: commit: %w", c.p.name, err)
	}
	return nil
}

func (c *consumer) saveSkippedEvery(ctx context.Context) error {
	if c.job == nil && time.Since(c.lastSave) < c.rt.cfg.CheckpointInterval {
		c.rt.advanced(c.p.name, c.memPos)
		return nil
	}
	return c.saveSkipped(ctx)
}

// saveSkipped saves a position reached by passing over unhandled events.
func (c *consumer) saveSkipped(ctx context.Context) error {
	if c.job != nil || c.memPos == c.dbPos {
		c.dbPos = c.memPos
		return nil
	}
	tag, err := c.rt.pool.Exec(ctx, skipSQL, c.p.name, int64(c.memPos.Commit), int64(c.memPos.Prepare),
		int64(c.dbPos.Commit), int64(c.dbPos.Prepare))
	if err != nil {
		return fmt.Errorf("projection %s: save checkpoint: %w", c.p.name, err)
	}
	if tag.RowsAffected() == 0 {
		return errReposition
	}
	c.dbPos, c.lastSave = c.memPos, time.Now()
	c.rt.advanced(c.p.name, c.memPos)
	return nil
}

func (c *consumer) warnUnknown(t string, events []eventstore.RecordedEvent) {
	if c.warned == nil {
		c.warned = map[string]bool{}
	}
	if c.warned[t] {
		return
	}
	c.warned[t] = true
	for _, e := range events {
		if e.Type == t {
			c.rt.log.Warn("projection: event of unknown type; counted in status, not applied",
				"projection", c.p.name, "event_type", t, "position", e.Position.String())
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
