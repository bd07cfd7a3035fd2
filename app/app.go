package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/kurrentdb"
	"github.com/skillflaw/skillflaw-go/eventstore/logcopy"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/logbuf"
	"github.com/skillflaw/skillflaw-go/migrations"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/secrets"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// snapshotEvery is how many events of a snapshotting aggregate (a flow)
// pass between two snapshots: loads fold at most that many events.
const snapshotEvery = 16

// cachedChats bounds the chat sessions and the monitored flows a process
// keeps (Deps.ChatSessions, Deps.MonitoredFlows).
const cachedChats = 10000

// Version is the version of SkillFlaw-Go.
const Version = "0.1.0"

// Module is one feature's part of the process: its event types, the
// projections that build its read models, and its HTTP operations.
type Module interface {
	// Register adds the module's event types (and upcasters).
	Register(reg *eventstore.Registry) error
	// Projections returns the module's read models.
	Projections() []*projections.Projection
	// Routes registers the module's operations.
	Routes(s *httpapi.Server, d Deps)
}

// Bootstrapper is a Module with work to do once the database is migrated
// and before serving (seeding, first superuser); it must be idempotent.
type Bootstrapper interface {
	Bootstrap(ctx context.Context, d Deps) error
}

// TenantResourcer is a Module whose read models hold rows of a tenant:
// Remove Tenant refuses while one of them does.
type TenantResourcer interface {
	TenantResources() []commands.TenantResource
}

// AuditSourcer is a Module whose aggregates make up a tenant, for the
// audit replay (audit state as of a time).
type AuditSourcer interface {
	AuditSources() []audit.Source
}

// Requirer is a Module that works only beside others: its use cases
// write their events or wait for their read models. Open refuses a
// process that lacks one (the modules are compared by type).
type Requirer interface {
	Requires() []Module
}

// missingRequired names the first module a module of modules requires
// and modules lack.
func missingRequired(modules []Module) error {
	have := make(map[reflect.Type]bool, len(modules))
	for _, m := range modules {
		have[moduleType(m)] = true
	}
	for _, m := range modules {
		r, ok := m.(Requirer)
		if !ok {
			continue
		}
		for _, need := range r.Requires() {
			if !have[moduleType(need)] {
				return fmt.Errorf("module %v requires module %v", moduleType(m), moduleType(need))
			}
		}
	}
	return nil
}

// moduleType is m's type, a pointer's element type for a pointer.
func moduleType(m Module) reflect.Type {
	t := reflect.TypeOf(m)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// Runner is a Module with work of its own while the process serves (the
// flow runs). Serve starts Run before it accepts requests and, at
// shutdown, stops it (cancelling ctx) and waits for it to return before
// the HTTP server drains: Run must end what it started, recorded.
type Runner interface {
	Run(ctx context.Context, d Deps) error
}

// Deps is what a module's handlers may use.
type Deps struct {
	Pool       *pgxpool.Pool
	Store      eventstore.Store
	Registry   *eventstore.Registry
	Repository *commands.Repository
	Runtime    *projections.Runtime
	Config     config.Config
	Logger     *slog.Logger
	Clock      func() time.Time
	// Secrets seals and opens secret values at rest (nil: no key is
	// configured).
	Secrets *secrets.Ring
	// Logs is the ring of the process's own log records (nil: disabled).
	Logs *logbuf.Buffer
	// TenantResources and AuditSources are what the modules declared
	// (TenantResourcer, AuditSourcer), in their order.
	TenantResources []commands.TenantResource
	AuditSources    []audit.Source
	// ChatSessions and MonitoredFlows are the process's chat sessions and
	// monitored flows as last stored and folded, shared by every writer
	// of messages (see commands.Messages).
	ChatSessions   *commands.SessionCache
	MonitoredFlows *commands.MonitoredFlows
}

// App is an assembled process.
type App struct {
	cfg   config.Config
	log   *slog.Logger
	pool  *pgxpool.Pool
	store eventstore.Store
	// closeStore releases the store (nil before it is open).
	closeStore func()
	reg        *eventstore.Registry
	runtime    *projections.Runtime
	server     *httpapi.Server
	deps       Deps
	modules    []Module
}

// Open connects to the database and assembles everything. It does not
// migrate, serve or project; see Migrate and Serve. Call Close when done.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, modules ...Module) (*App, error) {
	if err := missingRequired(modules); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("SKILLFLAW_DATABASE_URL is not set: point it at PostgreSQL (make run starts one for you)")
	}
	if err := cfg.CheckEventStore(); err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("SKILLFLAW_DATABASE_URL: %w", err)
	}
	if cfg.DBMaxConns > 0 {
		poolCfg.MaxConns = cfg.DBMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database at %s: %w", config.RedactURL(cfg.DatabaseURL), err)
	}

	// The log retriever (GET /logs): every record the process logs is
	// teed into its ring, secrets masked (nil when disabled).
	logs := logbuf.New(cfg.LogRetrieverBufferSize)
	log = slog.New(logbuf.Tee(log.Handler(), logs, cfg.LogLevel))
	a := &App{cfg: cfg, log: log, pool: pool, reg: eventstore.NewRegistry(), modules: modules}
	if err := registerEvents(a.reg, domain.ClaimEvents()); err != nil {
		a.Close()
		return nil, err
	}
	if a.store, a.closeStore, err = openStore(ctx, cfg, pool, log); err != nil {
		a.Close()
		return nil, err
	}
	var projs []*projections.Projection
	for _, m := range modules {
		if err := m.Register(a.reg); err != nil {
			a.Close()
			return nil, fmt.Errorf("register events: %w", err)
		}
		projs = append(projs, m.Projections()...)
	}
	// Effective permissions are part of the core: every non-public
	// operation is authorised against them (access.Enforcer). Their
	// projection reads the events of modules an App may lack; those types
	// are registered anyway (none of them will ever be appended then).
	for _, sc := range projections.AccessEvents() {
		if !a.reg.Known(sc.Event.EventType()) {
			if err := a.reg.Register(sc.Event, sc.Version); err != nil {
				a.Close()
				return nil, err
			}
		}
	}
	projs = append(projs, projections.Access())
	a.runtime, err = projections.NewRuntime(pool, a.store, a.reg, projs, projections.Config{Logger: log})
	if err != nil {
		a.Close()
		return nil, err
	}

	a.server = httpapi.New(httpapi.Options{
		Logger:                log,
		CORSOrigins:           cfg.CORSOrigins,
		CORSAllowCredentials:  cfg.CORSAllowCredentials,
		TrustedProxies:        cfg.TrustedProxies,
		MaxBodyBytes:          cfg.MaxBodyBytes(),
		LargeBodyBytes:        cfg.MaxFlowBodyBytes(),
		LargeBodyMemory:       int64(cfg.MaxBodyMemoryMB) << 20,
		BodyReadTimeout:       cfg.ReadTimeout,
		ReadYourWritesTimeout: cfg.ReadYourWritesTimeout,
		Waiter:                a.runtime,
		AccessReadModels:      []string{projections.AccessName},
		Title:                 "SkillFlaw",
		Version:               Version,
	})
	readapi.RegisterHealth(a.server, pool, a.runtime.Health)
	readapi.RegisterBase(a.server, cfg, Version)
	// The key ring of secrets at rest: a key file that does not load stops
	// the start; no key at all leaves Secrets nil (the features sealing
	// secrets refuse then, naming the variables to set).
	ring, err := secrets.LoadRing(cfg.SecretsKeyFile, cfg.SecretKey)
	if err != nil && !errors.Is(err, secrets.ErrNoKey) {
		a.Close()
		return nil, fmt.Errorf("secrets: %w", err)
	}
	a.deps = Deps{
		Pool: pool, Store: a.store, Registry: a.reg,
		Repository: commands.NewRepository(a.store, a.reg).WithSnapshots(commands.NewPostgresSnapshots(pool), snapshotEvery),
		Runtime:    a.runtime, Config: cfg, Logger: log, Clock: time.Now, Secrets: ring, Logs: logs,
		ChatSessions: commands.NewSessionCache(cachedChats), MonitoredFlows: commands.NewMonitoredFlows(cachedChats),
	}
	for _, m := range modules {
		if r, ok := m.(TenantResourcer); ok {
			a.deps.TenantResources = append(a.deps.TenantResources, r.TenantResources()...)
		}
		if r, ok := m.(AuditSourcer); ok {
			a.deps.AuditSources = append(a.deps.AuditSources, r.AuditSources()...)
		}
	}
	for _, m := range modules {
		m.Routes(a.server, a.deps)
	}
	checkPlaces(a.server)
	return a, nil
}

// openStore opens the event store cfg.EventStore names and returns it with
// the function that releases it. Both keep their optional parts
// (group commit, eventstore.TypeReader, projections.LagCounter …): the
// callers reach them through interfaces. The kurrentdb store is refused
// while the PostgreSQL events table still holds the log and KurrentDB's is
// empty (logcopy.CheckMigrated); read models, checkpoints, leases and
// sessions stay in PostgreSQL whichever store holds the log.
func openStore(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (eventstore.Store, func(), error) {
	if cfg.EventStore != "kurrentdb" {
		follows, err := logcopy.ReadModelsFollow(ctx, pool)
		if err != nil {
			return nil, nil, fmt.Errorf("event store: %w", err)
		}
		if follows != "postgres" {
			return nil, nil, fmt.Errorf("the read models follow the %s log since `skillflaw migrate-log --to %s`: set SKILLFLAW_EVENT_STORE=%s (the PostgreSQL events table holds the log as it was before the move)",
				follows, follows, follows)
		}
		s := postgres.New(pool, postgres.Options{BatchSize: cfg.ProjectionBatchSize, Logger: log})
		return s, s.Close, nil
	}
	k, err := kurrentdb.Open(ctx, cfg.KurrentDBURL, kurrentdb.Options{Logger: log, BatchSize: cfg.ProjectionBatchSize})
	if err != nil {
		return nil, nil, fmt.Errorf("event store: KurrentDB at %s: %w", config.RedactURL(cfg.KurrentDBURL), err)
	}
	closeK := func() {
		if err := k.Close(); err != nil {
			log.Warn("close the KurrentDB client", "error", err.Error())
		}
	}
	if err := checkLogMigrated(ctx, pool, k); err != nil {
		closeK()
		return nil, nil, err
	}
	return k, closeK, nil
}

// checkLogMigrated is logcopy.CheckMigrated against the events table of
// pool, when it exists (`skillflaw migrate` opens the App before the first
// migration creates it), and the log its read models follow.
func checkLogMigrated(ctx context.Context, pool *pgxpool.Pool, active eventstore.Store) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('events') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("event store: look for a PostgreSQL log: %w", err)
	}
	if !exists {
		return nil
	}
	follows, err := logcopy.ReadModelsFollow(ctx, pool)
	if err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	pgLog := postgres.New(pool, postgres.Options{})
	defer pgLog.Close()
	if err := logcopy.CheckMigrated(ctx, pgLog, active, follows); err != nil {
		return err
	}
	if follows == logcopy.StoreKurrentDB {
		return nil
	}
	// A deployment that starts on KurrentDB (no PostgreSQL events): its
	// read models follow KurrentDB from the first event on, which the
	// postgres store must refuse later as it refuses a migrated one.
	if err := pool.QueryRow(ctx, `SELECT to_regclass('read_model_log') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err // not migrated yet: the next start records it
	}
	if err := logcopy.RecordReadModelsFollow(ctx, pool, logcopy.StoreKurrentDB); err != nil {
		return fmt.Errorf("event store: record that the read models follow KurrentDB: %w", err)
	}
	return nil
}

// checkPlaces refuses to serve (Handler fails) an operation whose
// parameter declares a kind of place tenancy does not locate: the
// Authorizer would pass it unchecked, as a place that does not exist.
func checkPlaces(s *httpapi.Server) {
	for path, item := range s.OpenAPI().Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if kind, ok := p.Value.Extensions["x-place"].(string); ok && !tenancy.KnownPlace(kind) {
					s.Misconfigured(fmt.Errorf("%s %s: parameter %q declares an unknown kind of place %q", method, path, p.Value.Name, kind))
				}
			}
		}
	}
}

// Bootstrap runs every module's Bootstrap (after Migrate, before Serve).
func (a *App) Bootstrap(ctx context.Context) error {
	for _, m := range a.modules {
		if b, ok := m.(Bootstrapper); ok {
			if err := b.Bootstrap(ctx, a.deps); err != nil {
				return err
			}
		}
	}
	return nil
}

// Server returns the HTTP server the modules registered their operations
// with (benchmarks take its Authorizer away to measure what it costs).
func (a *App) Server() *httpapi.Server { return a.server }

// Deps returns what the modules were given (for commands of the CLI).
func (a *App) Deps() Deps { return a.deps }

// Close releases the store's connections and, once the snapshots being
// written aside are written, the pool.
func (a *App) Close() {
	if a.closeStore != nil {
		a.closeStore()
	}
	if a.deps.Repository != nil {
		a.deps.Repository.Wait() // snapshots written aside
	}
	a.pool.Close()
}

// Pool returns the database pool.
func (a *App) Pool() *pgxpool.Pool { return a.pool }

// Runtime returns the projections runtime.
func (a *App) Runtime() *projections.Runtime { return a.runtime }

// Migrate applies every pending migration.
func (a *App) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(a.pool)
	defer db.Close()
	res, err := migrations.Up(ctx, db)
	for _, r := range res {
		if r.Error == nil {
			a.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
		}
	}
	return err
}

// startRunners runs every Runner module until the returned function is
// called; that function waits for them to return (idempotent).
func (a *App) startRunners(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, m := range a.modules {
		if r, ok := m.(Runner); ok {
			wg.Go(func() {
				if err := r.Run(ctx, a.deps); err != nil {
					a.log.Error("module stopped", "error", err.Error())
				}
			})
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// Handler returns the HTTP handler of every registered operation.
func (a *App) Handler() (http.Handler, error) { return a.server.Handler() }

// Serve runs the projections and the HTTP server on ln until ctx ends, then
// shuts down gracefully: no new connections, in-flight requests finish
// (bounded by ShutdownTimeout), then the projectors stop.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	handler, err := a.server.Handler()
	if err != nil {
		return err
	}
	if a.cfg.Role == config.RoleWorker {
		handler = healthOnly(handler)
	}
	runCtx, stopRuntime := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRuntime()
	runtimeDone := make(chan error, 1)
	go func() { runtimeDone <- a.runtime.Run(runCtx) }()
	stopRunners := a.startRunners(context.WithoutCancel(ctx))
	defer stopRunners()

	// No ReadTimeout or WriteTimeout: they would cut streaming answers.
	// Bodies get their own read deadline (httpapi.Options.BodyReadTimeout).
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		MaxHeaderBytes:    a.cfg.MaxHeaderSizeKB << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("serving", "url", "http://"+ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs",
		"projections", a.runtime.Names())

	runtimeStopped := false
	select {
	case err = <-served:
	case rerr := <-runtimeDone:
		runtimeStopped = true
		err = fmt.Errorf("projections stopped: %w", rerr)
		_ = srv.Close()
	case <-ctx.Done():
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
		stopRunners() // flow runs are cancelled and recorded; their streams end
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
		defer cancel()
		err = srv.Shutdown(shutCtx)
	}
	stopRuntime()
	if !runtimeStopped {
		if rerr := <-runtimeDone; rerr != nil && err == nil && !errors.Is(rerr, context.Canceled) {
			err = rerr
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// healthOnly serves the health checks (GET /health, /health_check) of a
// worker process, for its probes, and nothing else of the API.
func healthOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" || r.URL.Path == "/health_check" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not Found: this process is a worker (--role worker) and serves no API"}`))
	})
}
