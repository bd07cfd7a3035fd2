package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeaseNamespace is the first key of every projection lease, a
// session-level advisory lock: pg_try_advisory_lock(LeaseNamespace,
// hashtext(name)) ("SFPJ"). A session that holds one keeps every process
// from running that projector (tests hold them to keep a read model
// behind).
const LeaseNamespace int32 = 0x5346504a

// leases are this process's leases on its projections: a projector runs
// only in the process that holds its lease, so two server processes on
// one database never both apply a batch. The locks live on a connection of
// their own: they end with it, when the process dies or loses the
// database, and another process's next poll takes them over.
type leases struct {
	rt    *Runtime
	names []string
	kick  chan struct{}

	mu      sync.Mutex
	held    map[string]*lease
	changed chan struct{} // closed and replaced whenever held changes
}

// lease is one held lease; ctx ends when it is lost.
type lease struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newLeases(rt *Runtime, names []string) *leases {
	return &leases{rt: rt, names: names, kick: make(chan struct{}, 1), held: map[string]*lease{}, changed: make(chan struct{})}
}

// acquire blocks until this process holds name's lease and returns a
// context that ends when ctx does or the lease is lost.
func (l *leases) acquire(ctx context.Context, name string) (context.Context, context.CancelFunc, error) {
	for {
		l.mu.Lock()
		h, ch := l.held[name], l.changed
		l.mu.Unlock()
		if h != nil && h.ctx.Err() == nil {
			held, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(h.ctx, cancel)
			return held, func() { stop(); cancel() }, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// holds reports whether this process holds name's lease.
func (l *leases) holds(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held[name]
	return h != nil && h.ctx.Err() == nil
}

// heldNames lists the leases this process holds, sorted.
func (l *leases) heldNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.held))
	for n, h := range l.held {
		if h.ctx.Err() == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func (l *leases) set(update func(held map[string]*lease)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	update(l.held)
	close(l.changed)
	l.changed = make(chan struct{})
}

// dropAll ends every held lease (their projectors stop).
func (l *leases) dropAll() {
	l.set(func(held map[string]*lease) {
		for n, h := range held {
			h.cancel()
			delete(held, n)
		}
	})
}

// poke makes the next poll happen now (a holder announced it let go).
func (l *leases) poke() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// run holds a lease connection until ctx ends, reconnecting with backoff;
// each LeasePoll it tries to take the leases it does not hold. Losing the
// connection ends every lease it held.
func (l *leases) run(ctx context.Context) {
	l.rt.reconnecting(ctx, "projections: lease connection lost; projectors stopped until it is back", l.session)
}

func (l *leases) session(ctx context.Context) error {
	conn, err := l.rt.connect(ctx, "")
	if err != nil {
		return err
	}
	defer func() {
		// The projectors stop before the locks go (with the session), so
		// that another process taking them over rarely meets a batch of
		// this one's in flight (its checkpoint update would then fail).
		l.dropAll()
		conn.Close(context.Background()) //nolint:errcheck // closing
	}()
	for {
		// A connection that stopped answering (a network partition) counts
		// as lost: its leases are, or soon will be, another process's.
		pollCtx, cancel := context.WithTimeout(ctx, max(5*time.Second, 2*l.rt.cfg.LeasePoll))
		err := l.poll(pollCtx, conn)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.kick:
		case <-time.After(l.rt.cfg.LeasePoll):
		}
	}
}

// poll tries to take the leases this process lacks; with none to take it
// checks that the connection (and so every lease) is still there.
func (l *leases) poll(ctx context.Context, conn *pgx.Conn) error {
	var want []string
	for _, n := range l.names {
		if !l.holds(n) {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		_, err := conn.Exec(ctx, "SELECT 1")
		return err
	}
	rows, _ := conn.Query(ctx, `SELECT n FROM unnest($2::text[]) AS n WHERE pg_try_advisory_lock($1, hashtext(n))`,
		LeaseNamespace, want)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("take projection leases: %w", err)
	}
	if len(got) == 0 {
		return nil
	}
	l.set(func(held map[string]*lease) {
		for _, n := range got {
			lctx, cancel := context.WithCancel(context.Background())
			held[n] = &lease{ctx: lctx, cancel: cancel}
		}
	})
	l.rt.log.Info("projections: leases taken; their projectors run in this process", "projections", got,
		"instance", l.rt.cfg.Instance)
	return nil
}
