// Command skillflaw is the SkillFlaw server and its operations tool.
//
//	skillflaw serve [--role api|worker|all]  run the API, the projectors and the runs
//	skillflaw migrate                        apply pending database migrations
//	skillflaw projections status [--json]    where each projector is, its lag and last error
//	skillflaw projections rebuild NAME|--all [--parallel N]
//	                                         replay read models from the start of the log
//	skillflaw users create-superuser         create a superuser (name and password from flags, env or stdin)
//	skillflaw users unlock NAME              forget NAME's failed logins and lift its lock
//	skillflaw audit replay --tenant ID --until TIME|POSITION [--out FILE]
//	                                         a tenant's state as of an instant, replayed from the log
//	skillflaw migrate-log --to kurrentdb|postgres [--target-url URL] [--batch N] [--verify-only] [--no-switch]
//	                                         copy the PostgreSQL log to another store, then verify it
//	skillflaw dev seed-flows --flows N --edits M
//	                                         append a generated log of flows (benchmarks, trials)
//	skillflaw version                        print the version
//
// Configuration comes from SKILLFLAW_* environment variables (see README).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine/components"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, modules()...)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "skillflaw:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// modules lists the features this binary serves (health, version and
// config routes are part of every App). Identity comes first: it installs
// the authenticator every other module relies on.
func modules() []app.Module {
	// Audit comes last: it records every event type registered before it.
	runs := &app.Runs{Components: components.All()}
	return []app.Module{
		&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Templates{},
		app.Businesses{}, app.Orgs{}, app.UserGroups{}, app.Permissions{}, app.TenantGrants{}, app.Files{}, app.Messages{}, app.Dictionary{}, app.Configs{}, app.ModelCatalog{}, app.Components{}, app.MCPServers{}, &app.Logs{},
		runs, &app.MCP{Runs: runs}, &app.Agentic{Runs: runs},
		&app.Audit{},
	}
}

const usage = `usage: skillflaw <command>

commands:
  serve [--role all|api|worker]    run the API and the projectors (SKILLFLAW_HOST:SKILLFLAW_PORT);
                                   --role (default SKILLFLAW_ROLE, all): api serves the API and
                                   queues background runs, worker runs queued runs (health
                                   checks only), all both; api and worker need SKILLFLAW_QUEUE_URL
  migrate                          apply pending database migrations
  projections status [--json]      position, lag and last error of every projector
  projections rebuild NAME|--all [--parallel N]
                                   replay read models from position 0, then swap them in;
                                   --all rebuilds N at once (default: the CPUs, at least 2)
  users create-superuser [--username NAME] [--password-stdin]
                                   create a superuser; defaults: SKILLFLAW_SUPERUSER and
                                   SKILLFLAW_SUPERUSER_PASSWORD
  users unlock NAME                forget the failed logins of NAME from every address and
                                   lift its administrative lock
  audit replay --tenant ID --until TIME|POSITION [--out FILE]
                                   a tenant's entities as of an instant, replayed from the log
  files sweep [--older-than 1h]    remove stored contents no file names (left by a crash
                                   between storing and recording) and stale temp files
  migrate-log --to kurrentdb|postgres [--target-url URL] [--batch N] [--verify-only] [--no-switch]
                                   copy the log of SKILLFLAW_DATABASE_URL, in order and with
                                   its ids, to KurrentDB (SKILLFLAW_KURRENTDB_URL or --target-url)
                                   or another PostgreSQL database (--target-url); resumes a copy
                                   that stopped; then compares counts and SHA-256 checksums of
                                   both logs (alone with --verify-only); to KurrentDB, then moves
                                   the read models' positions to KurrentDB's (not with
                                   --no-switch). Stop the servers first.
  dev seed-flows --flows N --edits M [--seed S]
                                   append N generated flows, each created then renamed M
                                   times, as real domain events (to try rebuilds at scale)
  version                          print the version

configuration: SKILLFLAW_* environment variables; see README.md`

var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s\n\n%s", errUsage, fmt.Sprintf(format, args...), usage)
}

// run is the whole program; main only adds the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, modules ...app.Module) error {
	if len(args) == 0 {
		return usageError("no command")
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintf(stdout, "skillflaw %s\n", app.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "serve", "migrate", "projections", "users", "audit", "files", "dev", "migrate-log":
	default:
		return usageError("unknown command %q", args[0])
	}

	env, err := newEnv(getenv, stderr)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		if err := env.serveFlags(args[1:]); err != nil {
			return err
		}
		return env.serve(ctx, modules)
	case "migrate":
		if len(args) > 1 {
			return usageError("migrate takes no arguments")
		}
		return env.migrate(ctx, modules)
	case "users":
		return env.users(ctx, args[1:], stdin, stdout, modules)
	case "audit":
		return env.audit(ctx, args[1:], stdout, modules)
	case "files":
		return env.files(ctx, args[1:], stdout, modules)
	case "dev":
		return env.dev(ctx, args[1:], stdout, modules)
	case "migrate-log":
		return env.migrateLog(ctx, args[1:], stdout)
	default:
		return env.projections(ctx, args[1:], stdout, modules)
	}
}
