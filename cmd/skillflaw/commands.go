package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/dataset"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// env is the configuration and logger every command shares.
type env struct {
	cfg    config.Config
	log    *slog.Logger
	stderr io.Writer
}

func newEnv(getenv func(string) string, stderr io.Writer) (*env, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(stderr, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(stderr, opts)
	}
	return &env{cfg: cfg, log: slog.New(h), stderr: stderr}, nil
}

func (e *env) open(ctx context.Context, modules []app.Module) (*app.App, error) {
	return app.Open(ctx, e.cfg, e.log, modules...)
}

// openMigrated opens the App and, unless SKILLFLAW_AUTO_MIGRATE=false,
// applies pending migrations (for commands that write).
func (e *env) openMigrated(ctx context.Context, modules []app.Module) (*app.App, error) {
	a, err := e.open(ctx, modules)
	if err != nil {
		return nil, err
	}
	if e.cfg.AutoMigrate {
		if err := a.Migrate(ctx); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// serveFlags reads serve's flags: --role (or --role=) overrides
// SKILLFLAW_ROLE, checked as it is.
func (e *env) serveFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", e.cfg.Role, "")
	if err := fs.Parse(args); err != nil {
		return usageError("serve: %v", err)
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments but --role")
	}
	switch *role {
	case config.RoleAll, config.RoleAPI, config.RoleWorker:
	default:
		return usageError("serve: --role must be all, api or worker, not %q", *role)
	}
	e.cfg.Role = *role
	return e.cfg.CheckRole()
}

func (e *env) serve(ctx context.Context, modules []app.Module) error {
	a, err := e.open(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	e.log.Info("starting skillflaw", "version", app.Version, "role", e.cfg.Role, "config", e.cfg.Redacted())
	if e.cfg.AutoMigrate {
		if err := a.Migrate(ctx); err != nil {
			return err
		}
	}
	if err := a.Bootstrap(ctx); err != nil {
		return err
	}
	if e.cfg.AutoLogin {
		e.log.Warn("SKILLFLAW_AUTO_LOGIN is on: GET /api/v1/auto_login hands out a superuser token without a password; use it only on your own machine",
			"superuser", e.cfg.Superuser)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return a.Serve(ctx, ln)
}

func (e *env) migrate(ctx context.Context, modules []app.Module) error {
	a, err := e.open(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Migrate(ctx)
}

func (e *env) projections(ctx context.Context, args []string, stdout io.Writer, modules []app.Module) error {
	if len(args) == 0 {
		return usageError("projections needs status or rebuild")
	}
	switch args[0] {
	case "status":
		asJSON := false
		switch {
		case len(args) == 2 && args[1] == "--json":
			asJSON = true
		case len(args) > 1:
			return usageError("projections status takes only --json")
		}
		a, err := e.open(ctx, modules)
		if err != nil {
			return err
		}
		defer a.Close()
		st, err := a.Runtime().Status(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		}
		return printStatus(stdout, st)
	case "rebuild":
		names, all, parallel, err := rebuildArgs(args[1:])
		if err != nil {
			return err
		}
		a, err := e.open(ctx, modules)
		if err != nil {
			return err
		}
		defer a.Close()
		if all {
			names = a.Runtime().Names()
			if len(names) == 0 {
				fmt.Fprintln(stdout, "no projections to rebuild")
				return nil
			}
		}
		return rebuild(ctx, a.Runtime(), names, parallel, stdout)
	default:
		return usageError("unknown projections command %q", args[0])
	}
}

func printStatus(w io.Writer, st []projections.Status) error {
	if len(st) == 0 {
		_, err := fmt.Fprintln(w, "no projections")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPOSITION\tHEAD\tLAG EVENTS\tLAG SECONDS\tUPDATED\tRUNS IN\tERRORS\tLAST ERROR")
	for _, s := range st {
		name := s.Name
		if !s.Registered {
			name += " (not in this binary)"
		}
		lastErr := "-"
		if s.LastError != "" {
			lastErr = fmt.Sprintf("at %d: %s", s.ErrorPosition, s.LastError)
		}
		for t, n := range s.UnknownTypes {
			lastErr += fmt.Sprintf(" [unknown type %s x%d]", t, n)
		}
		updated := "-"
		if !s.UpdatedAt.IsZero() {
			updated = s.UpdatedAt.UTC().Format(time.RFC3339)
		}
		holder := "-"
		if s.Holder != "" {
			holder = s.Holder
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t%d\t%s\n",
			name, s.Position, s.Head, s.LagEvents, s.LagSeconds, updated, holder, s.ErrorCount, lastErr)
	}
	return tw.Flush()
}

// rebuildArgs reads "NAME|--all [--parallel N]", in any order. --parallel
// defaults to the number of CPUs (at least 2): projections own disjoint
// tables, and a rebuild waits on the database about as much as it computes.
func rebuildArgs(args []string) (names []string, all bool, parallel int, err error) {
	parallel = max(runtime.NumCPU(), 2)
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--all":
			all = true
		case a == "--parallel" || strings.HasPrefix(a, "--parallel="):
			v, ok := strings.CutPrefix(a, "--parallel=")
			if !ok {
				if i+1 == len(args) {
					return nil, false, 0, usageError("--parallel needs a number")
				}
				i++
				v = args[i]
			}
			if parallel, err = strconv.Atoi(v); err != nil || parallel < 1 {
				return nil, false, 0, usageError("--parallel needs a number of at least 1, not %q", v)
			}
		case strings.HasPrefix(a, "-"):
			return nil, false, 0, usageError("projections rebuild: unknown flag %s", a)
		default:
			names = append(names, a)
		}
	}
	if all == (len(names) > 0) || len(names) > 1 {
		return nil, false, 0, usageError("projections rebuild needs a projection name or --all")
	}
	return names, all, parallel, nil
}

// rebuild replays the named projections, up to parallel at once. One
// projection on a terminal draws a progress bar; otherwise each prints a
// progress line every second. Each finished projection prints its events
// and rate, and several print the total.
func rebuild(ctx context.Context, rt *projections.Runtime, names []string, parallel int, out io.Writer) error {
	var (
		mu     sync.Mutex
		report func(projections.RebuildProgress)
	)
	if f, ok := out.(*os.File); ok && len(names) == 1 && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		report = func(p projections.RebuildProgress) {
			if bar == nil {
				bar = progressbar.NewOptions64(int64(max(p.Target.Commit, 1)),
					progressbar.OptionSetWriter(out),
					progressbar.OptionSetDescription("rebuild "+p.Projection),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("events"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(int64(min(p.Position.Commit, p.Target.Commit)))
		}
	} else {
		last := map[string]time.Time{}
		report = func(p projections.RebuildProgress) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(last[p.Projection]) < time.Second && p.Position.Less(p.Target) {
				return
			}
			last[p.Projection] = time.Now()
			fmt.Fprintln(out, progressLine(p))
		}
	}
	start := time.Now()
	results, err := rt.RebuildMany(ctx, names, parallel, report)
	if err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintf(out, "rebuilt %s in %s: %d events applied, %.0f events/s\n",
			r.Projection, r.Elapsed.Round(time.Millisecond), r.Events, r.Rate())
	}
	if len(results) > 1 {
		fmt.Fprintf(out, "rebuilt %d projections in %s (%d at once)\n", len(results), time.Since(start).Round(time.Millisecond), parallel)
	}
	return nil
}

// progressLine renders "rebuild NAME: P/T events (x%), R events/s, ETA d".
func progressLine(p projections.RebuildProgress) string {
	done, total := float64(p.Position.Commit), float64(max(p.Target.Commit, 1))
	rate := done / max(p.Elapsed.Seconds(), 1e-3)
	eta := time.Duration(0)
	if rate > 0 && done < total {
		eta = time.Duration((total - done) / rate * float64(time.Second))
	}
	return fmt.Sprintf("rebuild %s: %d/%d events (%.1f%%), %.0f events/s, ETA %s",
		p.Projection, p.Position.Commit, p.Target.Commit, 100*min(done/total, 1), rate, eta.Round(time.Second))
}

// users runs "users create-superuser" and "users unlock".
func (e *env) users(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, modules []app.Module) error {
	if len(args) > 0 && args[0] == "unlock" {
		return e.unlock(ctx, args[1:], stdout, modules)
	}
	if len(args) == 0 || args[0] != "create-superuser" {
		return usageError("users needs create-superuser or unlock")
	}
	fs := flag.NewFlagSet("users create-superuser", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	username := fs.String("username", e.cfg.Superuser, "username")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usageError("users create-superuser [--username NAME] [--password-stdin]")
	}
	password := e.cfg.SuperuserPassword
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if *username == "" || password == "" {
		return usageError("a username (--username or SKILLFLAW_SUPERUSER) and a password (--password-stdin or SKILLFLAW_SUPERUSER_PASSWORD) are needed")
	}
	a, err := e.openMigrated(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	d := a.Deps()
	created, err := commands.EnsureSuperuser(ctx, d.Repository, commands.NewSequences(d.Pool),
		auth.NewPasswords(e.cfg.PasswordHashCost), *username, password)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("user %q already exists", *username)
	}
	fmt.Fprintf(stdout, "superuser %s created\n", *username)
	return nil
}

// unlock runs "users unlock NAME": the account's failed logins are
// forgotten from every address and its administrative lock is lifted (an
// event whose actor is the system, caused by the CLI).
func (e *env) unlock(ctx context.Context, args []string, stdout io.Writer, modules []app.Module) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError("users unlock NAME")
	}
	a, err := e.openMigrated(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	d := a.Deps()
	res, err := commands.UnlockUser(ctx, d.Repository, app.LoginThrottle(d), args[0],
		eventstore.Metadata{CausationID: "cli:users unlock", OccurredAt: time.Now().UTC()})
	if err != nil {
		return err
	}
	lock := "it was not locked"
	if res.AdminLockLifted {
		lock = "its lock is lifted"
	}
	fmt.Fprintf(stdout, "user %s unlocked: failed logins forgotten from %d addresses; %s\n", args[0], res.Addresses, lock)
	return nil
}

// audit runs "audit replay": the tenant's state as of an instant, folded
// from the log, as GET /api/v1/audit/state answers it.
func (e *env) audit(ctx context.Context, args []string, stdout io.Writer, modules []app.Module) error {
	if len(args) == 0 || args[0] != "replay" {
		return usageError("audit needs replay")
	}
	fs := flag.NewFlagSet("audit replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	tenantArg := fs.String("tenant", "", "tenant id")
	until := fs.String("until", "", "RFC 3339 time or log position")
	outPath := fs.String("out", "", "file to write (default: standard output)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *tenantArg == "" || *until == "" {
		return usageError("audit replay --tenant ID --until TIME|POSITION [--out FILE]")
	}
	tenant, err := uuid.Parse(*tenantArg)
	if err != nil {
		return usageError("--tenant %q: %v", *tenantArg, err)
	}
	at, err := audit.ParseInstant(*until)
	if err != nil {
		return usageError("--until: %v", err)
	}
	a, err := e.open(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := app.AuditReplayer(a.Deps()).State(ctx, tenant, at)
	if err != nil {
		return err
	}
	doc, err := st.JSON()
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	if *outPath == "" {
		_, err = stdout.Write(doc)
		return err
	}
	return os.WriteFile(*outPath, doc, 0o644)
}

// files runs "files sweep": the orphans of the blob store (contents no
// file's metadata names, older than --older-than, which must exceed the
// longest upload plus the files read model's lag) and stale temp files are
// removed (blob.Sweep, Local.SweepTemp).
func (e *env) files(ctx context.Context, args []string, stdout io.Writer, modules []app.Module) error {
	if len(args) == 0 || args[0] != "sweep" {
		return usageError("files needs sweep")
	}
	fs := flag.NewFlagSet("files sweep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	olderThan := fs.Duration("older-than", time.Hour, "minimum age of what is removed")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *olderThan < time.Minute {
		return usageError("files sweep [--older-than DURATION (at least 1m)]")
	}
	a, err := e.open(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	store, err := blob.NewLocal(e.cfg.FileStorageDir())
	if err != nil {
		return err
	}
	now := time.Now()
	removed, err := blob.Sweep(ctx, store, readapi.BlobInUse(a.Pool()), *olderThan, now)
	if err != nil {
		return err
	}
	temps, err := store.SweepTemp(*olderThan, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "swept %d orphan blobs and %d temp files from %s\n", len(removed), temps, store.Dir())
	return err
}

// dev runs "dev seed-flows": a generated log of flows (internal/dataset),
// appended to the configured database, for benchmarks and rebuild trials.
func (e *env) dev(ctx context.Context, args []string, stdout io.Writer, modules []app.Module) error {
	if len(args) == 0 || args[0] != "seed-flows" {
		return usageError("dev needs seed-flows")
	}
	fs := flag.NewFlagSet("dev seed-flows", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flows := fs.Int("flows", 0, "how many flows")
	edits := fs.Int("edits", 3, "renames per flow")
	seed := fs.Uint64("seed", 1, "seed of the ids and names")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *flows < 1 || *edits < 0 {
		return usageError("dev seed-flows --flows N (at least 1) [--edits M] [--seed S]")
	}
	a, err := e.openMigrated(ctx, modules)
	if err != nil {
		return err
	}
	defer a.Close()
	d := dataset.Flows{Flows: *flows, Edits: *edits, Seed: *seed}
	start, last := time.Now(), time.Now()
	err = d.Write(ctx, commands.NewRepository(a.Deps().Store, a.Deps().Registry), func(n int) {
		if time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(stdout, "seed-flows: %d/%d events, %.0f events/s\n", n, d.Events(), float64(n)/time.Since(start).Seconds())
		}
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "seed-flows: appended %d events (%d flows x %d) in %s\n",
		d.Events(), *flows, 1+*edits, time.Since(start).Round(time.Millisecond))
	return err
}
