package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// How processes see each other's projectors: the process holding a
// projection's lease publishes how far it got on progressChannel, as
// "name position;name position…" (its position in memory, which counts
// the events it passed over without saving the checkpoint); every process
// listens and moves its own view (Runtime.WaitFor, Runtime.Position)
// forward. A listener that (re)connects asks the holders to publish ("?");
// a process that lets go of its leases says so ("-"), so that another
// takes them over at once. Lost notifications only cost time: the
// checkpoint table is read every PollInterval as well.
const (
	progressChannel = "skillflaw_projections"
	askPositions    = "?"
	leasesReleased  = "-"
)

// publishWindow is the shortest time between two notifications of one
// process: the other processes see its progress at most this much later.
const publishWindow = 2 * time.Millisecond

// connect opens a connection of its own (not from the pool), named after
// the instance so that status can tell who holds a lease.
func (r *Runtime) connect(ctx context.Context, setup string) (*pgx.Conn, error) {
	cfg := r.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "skillflaw " + r.cfg.Instance
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if setup != "" {
		if _, err := conn.Exec(ctx, setup); err != nil {
			conn.Close(context.Background()) //nolint:errcheck // already failing
			return nil, err
		}
	}
	return conn, nil
}

// advanced records that projection name reached pos in this process and,
// when that moved it, has it published.
func (r *Runtime) advanced(name string, pos eventstore.Position) {
	if r.progress[name].advance(pos) {
		r.publishSoon()
	}
}

func (r *Runtime) publishSoon() {
	select {
	case r.kick <- struct{}{}:
	default: // a notification is already due; it covers this too
	}
}

// publish sends the positions of the projections whose leases this
// process holds, once per burst of progress, on a connection of its own
// whose commits do not wait for a WAL flush.
func (r *Runtime) publish(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background()) //nolint:errcheck // closing
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		held := r.leases.heldNames()
		if len(held) == 0 {
			continue
		}
		parts := make([]string, len(held))
		for i, n := range held {
			parts[i] = n + " " + r.progress[n].get().String()
		}
		err := r.notify(ctx, &conn, strings.Join(parts, ";"))
		if sleep(ctx, publishWindow) != nil {
			return
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("projections: NOTIFY failed; other processes see this one's progress by polling", "error", err)
		}
	}
}

// notify sends payload on progressChannel through *conn, connecting first
// if needed; a failed connection is closed for the next call to replace.
func (r *Runtime) notify(ctx context.Context, conn **pgx.Conn, payload string) error {
	var err error
	if *conn == nil {
		*conn, err = r.connect(ctx, "SET synchronous_commit TO off")
	}
	if err == nil {
		_, err = (*conn).Exec(ctx, "SELECT pg_notify($1, $2)", progressChannel, payload)
	}
	if err != nil && *conn != nil {
		(*conn).Close(context.Background()) //nolint:errcheck // replaced
		*conn = nil
	}
	return err
}

// listen follows the other processes' progress until ctx ends,
// reconnecting with backoff.
func (r *Runtime) listen(ctx context.Context) {
	r.reconnecting(ctx, "projections: LISTEN connection lost, reconnecting", r.listenOnce)
}

// reconnecting runs session until ctx ends, again after each failure
// (logged with msg) after a pause that doubles from 100ms to 10s, and
// starts from 100ms again after a session that lasted longer than that.
func (r *Runtime) reconnecting(ctx context.Context, msg string, session func(context.Context) error) {
	const first, most = 100 * time.Millisecond, 10 * time.Second
	pause := first
	for ctx.Err() == nil {
		began := time.Now()
		err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > most {
			pause = first
		}
		r.log.Warn(msg, "error", err, "retry_in", pause)
		if sleep(ctx, pause) != nil {
			return
		}
		pause = min(2*pause, most)
	}
}

func (r *Runtime) listenOnce(ctx context.Context) error {
	conn, err := r.connect(ctx, "LISTEN "+progressChannel)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // closing
	if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", progressChannel, askPositions); err != nil {
		return err
	}
	if err := r.refresh(ctx); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Payload {
		case askPositions:
			r.publishSoon()
		case leasesReleased:
			r.leases.poke()
		default:
			r.observe(n.Payload)
		}
	}
}

// observe moves this process's view forward to the positions another
// published.
func (r *Runtime) observe(payload string) {
	for part := range strings.SplitSeq(payload, ";") {
		name, raw, ok := strings.Cut(part, " ")
		p, known := r.progress[name]
		if !ok || !known {
			continue
		}
		if pos, err := eventstore.ParsePosition(raw); err == nil {
			p.advance(pos)
		}
	}
}

// refresh moves this process's view forward to the saved checkpoints.
func (r *Runtime) refresh(ctx context.Context) error {
	rows, _ := r.pool.Query(ctx, `SELECT name, commit_position, prepare_position FROM projection_checkpoints WHERE name = ANY($1)`, r.Names())
	var (
		name            string
		commit, prepare int64
	)
	_, err := pgx.ForEachRow(rows, []any{&name, &commit, &prepare}, func() error {
		r.progress[name].advance(eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	return nil
}

// pollCheckpoints reads the checkpoints every PollInterval, in case a
// notification was lost.
func (r *Runtime) pollCheckpoints(ctx context.Context) {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("projections: read checkpoints", "error", err)
			}
		}
	}
}

// released tells the other processes that this one let go of its leases.
func (r *Runtime) released() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var conn *pgx.Conn
	if err := r.notify(ctx, &conn, leasesReleased); err != nil {
		r.log.Warn("projections: announce released leases", "error", err)
	}
	if conn != nil {
		conn.Close(ctx) //nolint:errcheck // closing
	}
}
