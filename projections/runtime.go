package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Config tunes a Runtime; zero fields take the defaults in brackets.
type Config struct {
	Logger *slog.Logger
	// HandlerRetries is how often the Retry middleware retries a failing
	// event before it is recorded as failed [3].
	HandlerRetries int
	// RetryInterval is the first pause of those retries; it doubles [20ms].
	RetryInterval time.Duration
	// FailureBackoff is the first pause after an event failed all its
	// retries; it doubles up to MaxFailureBackoff [1s, 1m].
	FailureBackoff    time.Duration
	MaxFailureBackoff time.Duration
	// CheckpointInterval is how often a projector that only passes over
	// events it does not handle saves its position [1s].
	CheckpointInterval time.Duration
	// LeasePoll is how often a process tries to take the leases of the
	// projectors it does not run (see leases) [1s]: another process takes
	// over a dead one's projectors within about this time.
	LeasePoll time.Duration
	// PollInterval is how often the checkpoints are read, in case a
	// notification of another process's progress was lost [1s].
	PollInterval time.Duration
	// Instance names this process in the lease holders' list of `projections
	// status` (the application_name of its connections) [host:pid].
	Instance string
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HandlerRetries <= 0 {
		c.HandlerRetries = 3
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 20 * time.Millisecond
	}
	if c.FailureBackoff <= 0 {
		c.FailureBackoff = time.Second
	}
	if c.MaxFailureBackoff <= 0 {
		c.MaxFailureBackoff = time.Minute
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = time.Second
	}
	if c.LeasePoll <= 0 {
		c.LeasePoll = time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
}

// Runtime runs a set of projections against one event store and database.
type Runtime struct {
	pool        *pgxpool.Pool
	store       eventstore.Store
	reg         *eventstore.Registry
	projections []*Projection
	byName      map[string]*Projection
	progress    map[string]*progress
	cfg         Config
	log         *slog.Logger
	running     atomic.Bool
	leases      *leases
	kick        chan struct{} // progress to publish
	types       columnTypes   // of the tables Tx.Insert, Update and Add write
}

// NewRuntime checks the projections' definitions against the registry and
// returns a Runtime for them.
func NewRuntime(pool *pgxpool.Pool, store eventstore.Store, reg *eventstore.Registry, projections []*Projection, cfg Config) (*Runtime, error) {
	cfg.setDefaults()
	r := &Runtime{
		pool: pool, store: store, reg: reg, projections: projections, cfg: cfg, log: cfg.Logger,
		byName:   make(map[string]*Projection, len(projections)),
		progress: make(map[string]*progress, len(projections)),
		kick:     make(chan struct{}, 1),
	}
	for _, p := range projections {
		if err := p.check(reg); err != nil {
			return nil, err
		}
		if _, dup := r.byName[p.name]; dup {
			return nil, fmt.Errorf("projection %s defined twice", p.name)
		}
		r.byName[p.name] = p
		r.progress[p.name] = newProgress()
	}
	r.leases = newLeases(r, r.Names())
	return r, nil
}

// Names returns the names of the runtime's projections, in order.
func (r *Runtime) Names() []string {
	names := make([]string, len(r.projections))
	for i, p := range r.projections {
		names[i] = p.name
	}
	return names
}

// Run catches every projection up from its checkpoint and follows the log
// until ctx ends. Each projector runs only while this process holds its
// lease (other processes on the database may run it meanwhile); the
// others' progress is followed all the same (see progressChannel).
func (r *Runtime) Run(ctx context.Context) error {
	if len(r.projections) == 0 {
		r.running.Store(true)
		defer r.running.Store(false)
		<-ctx.Done()
		return nil
	}
	if err := r.ensureCheckpoints(ctx); err != nil {
		return err
	}
	sub := &logSubscriber{rt: r}
	router, err := r.newRouter(sub, r.projections)
	if err != nil {
		return err
	}
	// The leases outlive the projectors: they stop before another process
	// may take over.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { r.leases.run(bgCtx) })
	bg.Go(func() { r.publish(bgCtx) })
	bg.Go(func() { r.listen(bgCtx) })
	bg.Go(func() { r.pollCheckpoints(bgCtx) })
	defer func() {
		_ = sub.Close()
		held := len(r.leases.heldNames()) > 0
		stopBackground()
		bg.Wait()
		if held {
			r.released()
		}
	}()

	stop := context.AfterFunc(ctx, func() { _ = router.Close() })
	defer stop()
	r.running.Store(true)
	defer r.running.Store(false)
	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("projections router: %w", err)
	}
	return nil
}

// Health reports whether the runtime is running.
func (r *Runtime) Health(context.Context) error {
	if !r.running.Load() {
		return errors.New("projections runtime is not running")
	}
	return nil
}

// WaitFor blocks until the named projections (all when none are named)
// have processed the log up to pos, or ctx ends.
func (r *Runtime) WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error {
	if len(names) == 0 {
		names = r.Names()
	}
	for _, n := range names {
		p, ok := r.progress[n]
		if !ok {
			return fmt.Errorf("wait for projection %s: not defined", n)
		}
		if err := p.wait(ctx, pos); err != nil {
			return err
		}
	}
	return nil
}

// Position returns how far the named projection has processed the log, as
// this process knows it: its own progress where it holds the lease, what
// the holder published (or saved) otherwise.
func (r *Runtime) Position(name string) (eventstore.Position, bool) {
	p, ok := r.progress[name]
	if !ok {
		return eventstore.Position{}, false
	}
	return p.get(), true
}

// Holds reports whether this process holds the named projection's lease
// (and so runs its projector).
func (r *Runtime) Holds(name string) bool { return r.leases.holds(name) }

func (r *Runtime) newRouter(sub message.Subscriber, projections []*Projection) (*message.Router, error) {
	logger := watermill.NewSlogLoggerWithLevelMapping(r.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, fmt.Errorf("projections router: %w", err)
	}
	router.AddMiddleware(
		middleware.Retry{
			MaxRetries:      r.cfg.HandlerRetries,
			InitialInterval: r.cfg.RetryInterval,
			MaxInterval:     time.Second,
			Multiplier:      2,
			ShouldRetry: func(p middleware.RetryParams) bool {
				return !errors.Is(p.Err, errInBatch)
			},
			Logger: logger,
		}.Middleware,
		attempt,
		middleware.Recoverer,
	)
	for _, p := range projections {
		router.AddConsumerHandler(p.name, p.name, sub, r.dispatch(p))
	}
	return router, nil
}

// dispatch is the Watermill handler of one projection: for each event of
// the message, decode it and call the projection's handler for its type.
func (r *Runtime) dispatch(p *Projection) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		d := deliveryOf(msg)
		ctx := msg.Context()
		for i, rec := range d.recs {
			d.failed = i
			var (
				e   eventstore.Event
				err error
			)
			if !p.raw[rec.Type] {
				e, err = r.reg.Decode(rec)
			}
			if err == nil {
				err = p.handlers[rec.Type](ctx, d.tx, rec, e)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// progress is how far a projection has got as this process knows it, with
// a broadcast for waiters.
type progress struct {
	mu      sync.Mutex
	pos     eventstore.Position
	changed chan struct{}
}

func newProgress() *progress { return &progress{changed: make(chan struct{})} }

func (p *progress) get() eventstore.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos
}

// advance moves the position forward (never back: a read model that has
// shown position N keeps showing at least N) and reports whether it moved.
func (p *progress) advance(pos eventstore.Position) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.pos.Less(pos) {
		return false
	}
	p.pos = pos
	close(p.changed)
	p.changed = make(chan struct{})
	return true
}

func (p *progress) wait(ctx context.Context, pos eventstore.Position) error {
	for {
		p.mu.Lock()
		reached, ch := !p.pos.Less(pos), p.changed
		p.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
