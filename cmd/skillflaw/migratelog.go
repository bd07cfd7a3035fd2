package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/kurrentdb"
	"github.com/skillflaw/skillflaw-go/eventstore/logcopy"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/migrations"
)

const migrateLogUsage = "migrate-log --to kurrentdb|postgres [--target-url URL] [--batch N] [--verify-only] [--no-switch]"

// migrateLogArgs are the flags of migrate-log.
type migrateLogArgs struct {
	to, targetURL string
	batch         int
	verifyOnly    bool
	noSwitch      bool
}

func parseMigrateLog(args []string) (migrateLogArgs, error) {
	var a migrateLogArgs
	fs := flag.NewFlagSet("migrate-log", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.to, "to", "", "kurrentdb or postgres")
	fs.StringVar(&a.targetURL, "target-url", "", "the target's connection string")
	fs.IntVar(&a.batch, "batch", logcopy.DefaultBatch, "events per read and at most per append")
	fs.BoolVar(&a.verifyOnly, "verify-only", false, "compare the logs without copying")
	fs.BoolVar(&a.noSwitch, "no-switch", false, "kurrentdb: leave the read models on PostgreSQL positions")
	if err := fs.Parse(args); err != nil {
		return a, usageError("%s: %v", migrateLogUsage, err)
	}
	if fs.NArg() > 0 {
		return a, usageError("%s: unexpected argument %q", migrateLogUsage, fs.Arg(0))
	}
	if a.to != "kurrentdb" && a.to != "postgres" {
		return a, usageError("%s: --to must be kurrentdb or postgres (got %q)", migrateLogUsage, a.to)
	}
	if a.batch < 1 || a.batch > 10000 {
		return a, usageError("%s: --batch must be from 1 to 10000", migrateLogUsage)
	}
	return a, nil
}

// migrateLog runs "migrate-log": it copies the PostgreSQL log of
// SKILLFLAW_DATABASE_URL to another store with logcopy.Copy (resuming a
// copy that stopped), then compares both logs whole with logcopy.Verify.
// To KurrentDB, a verified copy then moves the read models' positions to
// KurrentDB's (logcopy.SwitchReadModels; not with --no-switch or
// --verify-only): from then on the process serves only with
// SKILLFLAW_EVENT_STORE=kurrentdb. A copy to another PostgreSQL database
// leaves the source's read models alone (the target's are built by its
// projectors). Stop every server first: events appended meanwhile are not
// copied.
func (e *env) migrateLog(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := parseMigrateLog(args)
	if err != nil {
		return err
	}
	if e.cfg.DatabaseURL == "" {
		return errors.New("SKILLFLAW_DATABASE_URL is not set: migrate-log copies the log of that PostgreSQL database")
	}
	targetURL := a.targetURL
	switch a.to {
	case "kurrentdb":
		if targetURL == "" {
			targetURL = e.cfg.KurrentDBURL
		}
		if targetURL == "" {
			return errors.New("migrate-log --to kurrentdb needs the KurrentDB connection string: set SKILLFLAW_KURRENTDB_URL or pass --target-url")
		}
		if err := config.CheckKurrentDBURL(targetURL); err != nil {
			return fmt.Errorf("target URL %s: %w", config.RedactURL(targetURL), err)
		}
	case "postgres":
		if targetURL == "" {
			return errors.New("migrate-log --to postgres needs --target-url: the PostgreSQL database to copy the log to")
		}
		if targetURL == e.cfg.DatabaseURL {
			return errors.New("migrate-log --to postgres: --target-url is SKILLFLAW_DATABASE_URL, the source itself")
		}
	}
	shown := config.RedactURL(targetURL)

	sourcePool, err := openPool(ctx, e.cfg.DatabaseURL, "source")
	if err != nil {
		return err
	}
	defer sourcePool.Close()
	if e.cfg.AutoMigrate { // the checkpoint table is a migration
		if err := migrate(ctx, sourcePool, "source"); err != nil {
			return err
		}
	}
	source := postgres.New(sourcePool, postgres.Options{BatchSize: a.batch, Logger: e.log})
	defer source.Close()

	var target eventstore.Store
	switch a.to {
	case "kurrentdb":
		k, err := kurrentdb.Open(ctx, targetURL, kurrentdb.Options{Logger: e.log, BatchSize: a.batch})
		if err != nil {
			return fmt.Errorf("target: KurrentDB at %s: %w", shown, err)
		}
		defer func() {
			if err := k.Close(); err != nil {
				e.log.Warn("close the KurrentDB client", "error", err.Error())
			}
		}()
		target = k
	default:
		targetPool, err := openPool(ctx, targetURL, "target")
		if err != nil {
			return err
		}
		defer targetPool.Close()
		if same, err := sameDatabase(ctx, sourcePool, targetPool); err != nil {
			return err
		} else if same {
			return fmt.Errorf("migrate-log --to postgres: %s is the source database itself", shown)
		}
		if err := migrate(ctx, targetPool, "target"); err != nil {
			return err
		}
		p := postgres.New(targetPool, postgres.Options{BatchSize: a.batch, Logger: e.log})
		defer p.Close()
		target = p
	}

	if !a.verifyOnly {
		fmt.Fprintf(stdout, "migrate-log: copying the log of %s to %s %s\n", config.RedactURL(e.cfg.DatabaseURL), a.to, shown)
		start := time.Now()
		report, done := progressReporter(e.stderr)
		res, err := logcopy.Copy(ctx, source, target, logcopy.PostgresState{Pool: sourcePool}, logcopy.Options{
			Target: logcopy.TargetKey(a.to, shown), TargetName: shown, Batch: a.batch, Progress: report,
		})
		done()
		if err != nil {
			return fmt.Errorf("migrate-log: %w", err)
		}
		elapsed := time.Since(start)
		if res.Resumed {
			fmt.Fprintf(stdout, "migrate-log: resumed after source position %s\n", res.From)
		}
		fmt.Fprintf(stdout, "migrate-log: copied %d events in %d appends in %s (%.0f events/s); %d re-sent; %d in the target up to source position %s\n",
			res.Appended, res.Appends, elapsed.Round(time.Millisecond), float64(res.Appended)/max(elapsed.Seconds(), 1e-3),
			res.Resent, res.Copied, res.Head)
	}
	start := time.Now()
	rep, err := logcopy.Verify(ctx, source, target, a.batch)
	fmt.Fprintf(stdout, "source: %d events, sha256 %s\n", rep.SourceEvents, rep.SourceSum)
	fmt.Fprintf(stdout, "target: %d events, sha256 %s\n", rep.TargetEvents, rep.TargetSum)
	if err != nil {
		return fmt.Errorf("migrate-log: verify: %w", err)
	}
	fmt.Fprintf(stdout, "verified in %s: the logs are equal (count and checksum)\n", time.Since(start).Round(time.Millisecond))
	if a.to != "kurrentdb" || a.verifyOnly || a.noSwitch {
		return nil
	}
	sw, err := logcopy.SwitchReadModels(ctx, sourcePool, source, target, logcopy.StoreKurrentDB, a.batch)
	if err != nil {
		return fmt.Errorf("migrate-log: %w", err)
	}
	if sw.Already {
		_, err = fmt.Fprintln(stdout, "read models: they follow the KurrentDB log already")
		return err
	}
	_, err = fmt.Fprintf(stdout, "read models: %d checkpoints and %d audit_log rows moved to KurrentDB positions (%d events mapped); "+
		"serve with SKILLFLAW_EVENT_STORE=kurrentdb from now on\n", sw.Checkpoints, sw.AuditRows, sw.Events)
	return err
}

// openPool connects to a PostgreSQL database and checks it answers.
func openPool(ctx context.Context, url, role string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%s database %s: %w", role, config.RedactURL(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s database %s: %w", role, config.RedactURL(url), err)
	}
	return pool, nil
}

// migrate applies the repository's migrations (the event store's schema
// among them) to a database.
func migrate(ctx context.Context, pool *pgxpool.Pool, role string) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if _, err := migrations.Up(ctx, db); err != nil {
		return fmt.Errorf("%s database: %w", role, err)
	}
	return nil
}

// sameDatabase tells whether two pools reach one database (two URLs may
// name it differently): same name on a server started at the same instant
// and listening on the same port.
func sameDatabase(ctx context.Context, a, b *pgxpool.Pool) (bool, error) {
	const q = `SELECT current_database() || '/' || pg_postmaster_start_time()::text || '/' || coalesce(inet_server_port(), 0)::text`
	var x, y string
	if err := a.QueryRow(ctx, q).Scan(&x); err != nil {
		return false, fmt.Errorf("identify the source database: %w", err)
	}
	if err := b.QueryRow(ctx, q).Scan(&y); err != nil {
		return false, fmt.Errorf("identify the target database: %w", err)
	}
	return x == y, nil
}

// progressReporter shows a copy's progress on w: a bar (total, rate, ETA)
// on a terminal, a line every few seconds otherwise. done ends it.
func progressReporter(w io.Writer) (report func(logcopy.Progress), done func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		report = func(p logcopy.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions64(p.Total,
					progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription("migrate-log"),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("events"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond))
			}
			_ = bar.Set64(p.Copied)
		}
		return report, func() {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(w)
			}
		}
	}
	var (
		start, last = time.Now(), time.Now()
		first       = int64(-1)
		latest      logcopy.Progress
	)
	report = func(p logcopy.Progress) {
		if first < 0 {
			first = p.Copied - 1 // the events of earlier runs do not count in the rate
		}
		latest = p
		if time.Since(last) >= 2*time.Second {
			last = time.Now()
			fmt.Fprintln(w, copyProgressLine(p, p.Copied-first, time.Since(start)))
		}
	}
	return report, func() {
		if first >= 0 {
			fmt.Fprintln(w, copyProgressLine(latest, latest.Copied-first, time.Since(start)))
		}
	}
}

// copyProgressLine renders "migrate-log: C/T events (x%), R events/s, ETA
// d"; the rate is of this run's events.
func copyProgressLine(p logcopy.Progress, thisRun int64, elapsed time.Duration) string {
	rate := float64(thisRun) / max(elapsed.Seconds(), 1e-3)
	if p.Total < 0 {
		return fmt.Sprintf("migrate-log: %d events, %.0f events/s", p.Copied, rate)
	}
	eta := time.Duration(0)
	if rate > 0 && p.Copied < p.Total {
		eta = time.Duration(float64(p.Total-p.Copied) / rate * float64(time.Second))
	}
	return fmt.Sprintf("migrate-log: %d/%d events (%.1f%%), %.0f events/s, ETA %s",
		p.Copied, p.Total, 100*float64(p.Copied)/float64(max(p.Total, 1)), rate, eta.Round(time.Second))
}
