package projections

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// Events counts the events the projection has applied so far; with a
	// store that reads by type (eventstore.TypeReader) it reads only these.
	Events int64
}

// RebuildResult says what one rebuild did.
type RebuildResult struct {
	Projection string
	Events     int64 // events applied
	Elapsed    time.Duration
}

// Rate returns the events applied per second.
func (r RebuildResult) Rate() float64 { return float64(r.Events) / max(r.Elapsed.Seconds(), 1e-9) }

// rebuildBatch is the most events a rebuild applies in one transaction (and,
// reading by type, the widest window of positions it reads at once).
const rebuildBatch = 2000

// rebuildJob is one rebuild in flight: where the shadow tables are, how far
// to go, and where to report.
type rebuildJob struct {
	shadow, live string // schema names
	searchPath   string // shadow first, so unqualified names hit the copies
	target       eventstore.Position
	started      time.Time
	onProgress   func(RebuildProgress)
	projection   string
	counts       *typeCounts // shared by the rebuilds of one call
	events       atomic.Int64

	once sync.Once
	done chan error
}

func (j *rebuildJob) report(pos eventstore.Position) {
	if j.onProgress != nil {
		j.onProgress(RebuildProgress{Projection: j.projection, Position: pos, Target: j.target,
			Elapsed: time.Since(j.started), Events: j.events.Load()})
	}
}

func (j *rebuildJob) finish(err error) {
	j.once.Do(func() { j.done <- err })
}

// typeCounts counts the log's events per type up to a settled head, once
// for every rebuild of one call: each needs the count of the types the
// registry does not know, which reading by type never sees.
type typeCounts struct {
	through eventstore.Position
	once    sync.Once
	counts  map[string]int64
	err     error
}

func (t *typeCounts) get(ctx context.Context, tr eventstore.TypeReader) (map[string]int64, error) {
	t.once.Do(func() { t.counts, t.err = tr.CountTypes(ctx, eventstore.Position{}, t.through) })
	return t.counts, t.err
}

// Rebuild replays the named projection from position 0 into shadow copies
// of its tables while the live tables keep serving, then replaces the live
// tables' contents and checkpoint in one transaction. A running live
// projector of the same name (in any process) waits for that transaction
// and continues from the rebuilt position. onProgress, if not nil, is
// called after every batch.
func (r *Runtime) Rebuild(ctx context.Context, name string, onProgress func(RebuildProgress)) error {
	_, err := r.RebuildMany(ctx, []string{name}, 1, onProgress)
	return err
}

// RebuildMany rebuilds the named projections as Rebuild does, up to
// parallel of them at once (each owns its tables, so they are independent;
// values below 1 mean one at a time). onProgress may be called from
// several goroutines at once. It returns one result per projection
// rebuilt, in the order given; on the first failure the rebuilds not yet
// started are not started, and those running finish.
func (r *Runtime) RebuildMany(ctx context.Context, names []string, parallel int, onProgress func(RebuildProgress)) ([]RebuildResult, error) {
	for _, name := range names {
		if _, ok := r.byName[name]; !ok {
			return nil, fmt.Errorf("rebuild: no projection %q", name)
		}
	}
	if err := r.ensureCheckpoints(ctx); err != nil {
		return nil, err
	}
	var live string
	if err := r.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&live); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	head, err := r.settledHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	counts := &typeCounts{through: head}
	results := make([]RebuildResult, len(names))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	slots := make(chan struct{}, max(parallel, 1))
	for i, name := range names {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		mu.Lock()
		stop := first != nil || ctx.Err() != nil
		mu.Unlock()
		if stop {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			res, err := r.rebuild(ctx, r.byName[name], live, head, counts, onProgress)
			mu.Lock()
			defer mu.Unlock()
			results[i] = res
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	if first != nil {
		return nil, first
	}
	return results, nil
}

// settledHead is where a rebuild replays to: a settled head where the
// store has one, the head otherwise (the swap catches up the rest).
func (r *Runtime) settledHead(ctx context.Context) (eventstore.Position, error) {
	if tr, ok := r.store.(eventstore.TypeReader); ok {
		return tr.SettledHead(ctx)
	}
	return r.store.Head(ctx)
}

func (r *Runtime) rebuild(ctx context.Context, p *Projection, live string, head eventstore.Position, counts *typeCounts, onProgress func(RebuildProgress)) (RebuildResult, error) {
	shadow := "rebuild_" + p.name
	if err := r.createShadow(ctx, p, shadow, live); err != nil {
		return RebuildResult{}, err
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := r.pool.Exec(dropCtx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{shadow}.Sanitize()+" CASCADE"); err != nil {
			r.log.Error("rebuild: drop shadow schema", "schema", shadow, "error", err)
		}
	}()
	job := &rebuildJob{
		shadow: shadow, live: live, target: head, started: time.Now(), onProgress: onProgress, projection: p.name,
		searchPath: pgx.Identifier{shadow}.Sanitize() + ", " + pgx.Identifier{live}.Sanitize(),
		counts:     counts, done: make(chan error, 1),
	}

	sub := &logSubscriber{rt: r, rebuild: job}
	router, err := r.newRouter(sub, []*Projection{p})
	if err != nil {
		return RebuildResult{}, err
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
	return RebuildResult{Projection: p.name, Events: job.events.Load(), Elapsed: time.Since(job.started)}, result
}

// replayTypes replays a rebuild's events by type up to its target, reading
// the next window while the current one is applied, then swaps.
func (c *consumer) replayTypes(ctx context.Context, tr eventstore.TypeReader) error {
	types := slices.Sorted(maps.Keys(c.p.handlers))
	for c.memPos.Less(c.job.target) {
		err := c.replayFrom(ctx, tr, types)
		if errors.Is(err, errRetryBatch) {
			continue // the failed batch again, its events one per transaction
		}
		if err != nil {
			return err
		}
	}
	counts, err := c.job.counts.get(ctx, tr)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", c.p.name, err)
	}
	for t, n := range counts {
		if !c.rt.reg.Known(t) {
			c.unknown[t] += n
		}
	}
	return c.swap(ctx)
}

// replayFrom applies the events of the given types from memPos to the
// target, one read ahead.
func (c *consumer) replayFrom(ctx context.Context, tr eventstore.TypeReader, types []string) error {
	type window struct {
		events  []eventstore.RecordedEvent
		reached eventstore.Position
		err     error
	}
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	windows := make(chan window, 1)
	go func() {
		defer close(windows)
		for after := c.memPos; after.Less(c.job.target); {
			events, reached, err := tr.ReadTypes(readCtx, after, c.job.target, types, rebuildBatch)
			select {
			case windows <- window{events, reached, err}:
			case <-readCtx.Done():
				return
			}
			if err != nil {
				return
			}
			after = reached
		}
	}()
	for w := range windows {
		if w.err != nil {
			return fmt.Errorf("rebuild %s: read log: %w", c.p.name, w.err)
		}
		if len(w.events) > 0 {
			if err := c.handleBatch(ctx, w.events); err != nil && !errors.Is(err, errCaughtUp) {
				return err
			}
		}
		c.memPos = w.reached
		c.job.report(c.memPos)
	}
	return ctx.Err()
}

func (r *Runtime) createShadow(ctx context.Context, p *Projection, shadow, live string) error {
	sh := pgx.Identifier{shadow}.Sanitize()
	stmts := []string{"DROP SCHEMA IF EXISTS " + sh + " CASCADE", "CREATE SCHEMA " + sh}
	for _, t := range p.tables {
		stmts = append(stmts, fmt.Sprintf("CREATE UNLOGGED TABLE %s (LIKE %s INCLUDING ALL)",
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
