package projections

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// RebuildProgress is reported while a rebuild replays the log.
type RebuildProgress struct {
	Projection string
	Position   eventstore.Position // reached
	Target     eventstore.Position // head of the log when the rebuild started
	Elapsed    time.Duration
}

// rebuildJob is one rebuild in flight: where the shadow tables are, how far
// to go, and where to report.
type rebuildJob struct {
	shadow, live string // schema names
	searchPath   string // shadow first, so unqualified names hit the copies
	target       eventstore.Position
	started      time.Time
	onProgress   func(RebuildProgress)
	projection   string

	once sync.Once
	done chan error
}

func (j *rebuildJob) report(pos eventstore.Position) {
	if j.onProgress != nil {
		j.onProgress(RebuildProgress{Projection: j.projection, Position: pos, Target: j.target, Elapsed: time.Since(j.started)})
	}
}

func (j *rebuildJob) finish(err error) {
	j.once.Do(func() { j.done <- err })
}

// Rebuild replays the named projection from position 0 into shadow copies
// of its tables while the live tables keep serving, then replaces the live
// tables' contents and checkpoint in one transaction. A running live
// projector of the same name (in any process) waits for that transaction
// and continues from the rebuilt position. onProgress, if not nil, is
// called after every batch.
func (r *Runtime) Rebuild(ctx context.Context, name string, onProgress func(RebuildProgress)) error {
	p, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("rebuild: no projection %q", name)
	}
	if err := r.ensureCheckpoints(ctx); err != nil {
		return err
	}
	var live string
	if err := r.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&live); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	shadow := "rebuild_" + name
	if err := r.createShadow(ctx, p, shadow, live); err != nil {
		return err
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := r.pool.Exec(dropCtx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{shadow}.Sanitize()+" CASCADE"); err != nil {
			r.log.Error("rebuild: drop shadow schema", "schema", shadow, "error", err)
		}
	}()
	head, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	job := &rebuildJob{
		shadow: shadow, live: live, target: head, started: time.Now(), onProgress: onProgress, projection: name,
		searchPath: pgx.Identifier{shadow}.Sanitize() + ", " + pgx.Identifier{live}.Sanitize(),
		done:       make(chan error, 1),
	}

	sub := &logSubscriber{rt: r, rebuild: job}
	router, err := r.newRouter(sub, []*Projection{p})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(runCtx) }()
	result := <-job.done
	_ = router.Close()
	cancel()
	if err := <-routerDone; err != nil && result == nil {
		result = err
	}
	return result
}

func (r *Runtime) createShadow(ctx context.Context, p *Projection, shadow, live string) error {
	sh := pgx.Identifier{shadow}.Sanitize()
	stmts := []string{"DROP SCHEMA IF EXISTS " + sh + " CASCADE", "CREATE SCHEMA " + sh}
	for _, t := range p.tables {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)",
			pgx.Identifier{shadow, t}.Sanitize(), pgx.Identifier{live, t}.Sanitize()))
	}
	for _, s := range stmts {
		if _, err := r.pool.Exec(ctx, s); err != nil {
			return fmt.Errorf("rebuild %s: prepare shadow tables: %w", p.name, err)
		}
	}
	return nil
}

// swap catches the shadow tables up to the head of the log while holding
// the checkpoint row (so the live projector cannot move), then replaces
// the live tables' rows and the checkpoint, in one transaction.
func (c *consumer) swap(ctx context.Context) error {
	tx, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	// Lock in the order the live projector does: it writes its tables, then
	// moves its checkpoint. Taking the checkpoint row first and the live
	// rows after (the DELETE below) would deadlock with a live batch in
	// flight. SHARE ROW EXCLUSIVE waits for such a batch to commit, keeps
	// further writers out until the swap commits, and lets readers read.
	live := make([]string, len(c.p.tables))
	for i, t := range c.p.tables {
		live[i] = pgx.Identifier{c.job.live, t}.Sanitize()
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(live, ", ")+` IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("rebuild %s: lock live tables: %w", c.p.name, err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, c.p.name); err != nil {
		return fmt.Errorf("rebuild %s: lock checkpoint: %w", c.p.name, err)
	}
	for {
		events, err := c.rt.store.ReadAll(ctx, c.memPos, 1000)
		if err != nil {
			return fmt.Errorf("rebuild %s: final catch-up: %w", c.p.name, err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			if _, ok := c.p.handlers[e.Type]; !ok && !c.rt.reg.Known(e.Type) {
				c.unknown[e.Type]++
			}
		}
		if mine := c.handled(events); len(mine) > 0 {
			if e, err := c.deliver(ctx, tx, mine, false); err != nil {
				return fmt.Errorf("rebuild %s: event at %s (%s): %w", c.p.name, e.Position, e.Type, err)
			}
		}
		c.memPos = events[len(events)-1].Position
	}
	for _, t := range c.p.tables {
		live, shadow := pgx.Identifier{c.job.live, t}.Sanitize(), pgx.Identifier{c.job.shadow, t}.Sanitize()
		tx.Queue("DELETE FROM " + live)
		tx.Queue("INSERT INTO " + live + " SELECT * FROM " + shadow)
	}
	types, err := jsonTypes(c.unknown)
	if err != nil {
		return err
	}
	if _, err := tx.flushWith(ctx, replaceSQL, c.p.name, int64(c.memPos.Commit), int64(c.memPos.Prepare), types); err != nil {
		return fmt.Errorf("rebuild %s: swap: %w", c.p.name, err)
	}
	if err := tx.tx.Commit(ctx); err != nil {
		return fmt.Errorf("rebuild %s: swap: %w", c.p.name, err)
	}
	c.job.report(c.memPos)
	c.rt.advanced(c.p.name, c.memPos)
	return nil
}
