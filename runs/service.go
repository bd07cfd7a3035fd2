package runs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Options configure a Service.
type Options struct {
	// Engine runs the graphs (its Limits bound every run).
	Engine Engine
	// Messages is the command API runs record through.
	Messages *commands.Messages
	// Env gives runs their ports (history, variables, models, frozen
	// results); Recorder is the run's own and is ignored here.
	Env engine.Env
	// Serialization limits the build data.
	Serialization Serialization
	// MaxConcurrentPerUser bounds the jobs a user runs at once on this
	// process (public runs count per flow); 0: 8.
	MaxConcurrentPerUser int
	// Retention is how long a finished job's feed (with its tokens) stays
	// in memory; later reads replay it from the log. 0: 10 minutes.
	Retention time.Duration
	// FlushInterval bounds how long what a run did waits in memory
	// before it is appended (it is appended at the run's end anyway).
	// 0: 250 ms.
	FlushInterval time.Duration
	// WaitForRuns waits until the runs read model reached a position
	// (the startup sweep reads it); nil: no wait.
	WaitForRuns func(ctx context.Context, pos eventstore.Position) error
	// WaitForHistory waits (bounded) until the messages read model has
	// caught up with the log, before a component reads a session's history;
	// nil: no wait.
	WaitForHistory func(ctx context.Context) error
	// Queue, when set, takes the background runs (webhooks, background
	// workflow jobs): they are recorded as queued and run by a worker
	// (Execute; see queued.go). Sealer seals their tasks (required with
	// a Queue, on both sides).
	Queue  Queue
	Sealer Sealer
	// QueueCalls, with a Queue, queues the MCP tool calls too (an api-only
	// process, --role api): their caller waits for the run's end in the
	// log (Job.Result) while a worker runs it. Other runs whose caller
	// waits (the run API, builds, Responses, synchronous or streamed
	// workflow calls) still run in this process.
	QueueCalls bool
	// RepublishAfter is how old a queued run nobody claimed must be
	// before Republish publishes its task again (its accepting process
	// gone). 0: a minute.
	RepublishAfter time.Duration
	// MaxAttempts is how many attempts of a queued run may be cut off by
	// a worker that died (a graceful hand-back does not count) before a
	// delivery closes the run as failed instead of claiming it again.
	// 0: 3.
	MaxAttempts int
	// Instance names this process (its runs carry it); zero: a new one.
	Instance uuid.UUID
	Logger   *slog.Logger
	// Clock is the time source (time.Now when nil).
	Clock func() time.Time
}

// Engine is what the service needs of the flow engine (*engine.Engine):
// the doors onto the engine depend on this interface, not on its type.
type Engine interface {
	Compile(data []byte) (*engine.Graph, error)
	CompileTweaked(data []byte, tweaks engine.Tweaks) (*engine.Graph, error)
	Run(ctx context.Context, g *engine.Graph, in engine.RunInput, env engine.Env, sink engine.Sink) *engine.RunResult
	Limits() engine.Limits
}

var _ Engine = (*engine.Engine)(nil)

// Service runs flows as jobs: it starts them (StartBuild), keeps each
// job's feed of events for any number of readers (Events), cancels them
// (Cancel), records them as events, and serves the jobs of other
// processes sharing the database from the log. It has no HTTP: the build
// API (Routes), and later the run API, webhooks, MCP and the CLI call it.
type Service struct {
	opts  Options
	log   *slog.Logger
	store eventstore.Store

	base   context.Context
	stop   context.CancelFunc
	jobsWG sync.WaitGroup

	sessions *commands.SessionCache
	// awaiting bounds the reads waiting for a job started a moment ago on
	// another process (awaitStream): each follows the log for up to a few
	// seconds, and job ids are easy to make up.
	awaiting chan struct{}

	mu        sync.Mutex
	flows     map[uuid.UUID]*flowEntry
	flowBytes int // the size of the cached flows' data
	jobs      map[uuid.UUID]*job
	replicas  map[uuid.UUID]*replica
	slots     map[string]chan struct{}
	stopping  bool
	// handling are the queued runs a delivery is being handled of
	// (Execute).
	handling map[uuid.UUID]bool
	// republished are the runs Republish published again, and when
	// (republishMu).
	republishMu sync.Mutex
	republished map[uuid.UUID]time.Time
	// beforePublish is SetBeforePublish's hook (tests).
	beforePublish atomic.Pointer[func(uuid.UUID) error]
}

// maxAwaiting is how many reads at once may wait for a job another
// process started a moment ago; more are answered as unknown jobs.
const maxAwaiting = 32

// New returns a Service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxConcurrentPerUser <= 0 {
		opts.MaxConcurrentPerUser = 8
	}
	if opts.Retention <= 0 {
		opts.Retention = 10 * time.Minute
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 250 * time.Millisecond
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.RepublishAfter <= 0 {
		opts.RepublishAfter = time.Minute
	}
	if opts.Instance == uuid.Nil {
		opts.Instance = uuid.New()
	}
	opts.Serialization = opts.Serialization.withDefaults()
	base, stop := context.WithCancel(context.Background())
	return &Service{opts: opts, log: opts.Logger, store: opts.Messages.Store, base: base, stop: stop,
		sessions: sessionCache(opts.Messages), awaiting: make(chan struct{}, maxAwaiting), flows: map[uuid.UUID]*flowEntry{},
		jobs: map[uuid.UUID]*job{}, replicas: map[uuid.UUID]*replica{}, slots: map[string]chan struct{}{},
		handling: map[uuid.UUID]bool{}, republished: map[uuid.UUID]time.Time{}}
}

// sessionCache is the chat sessions the runs' records keep: those of m
// when it keeps them (one cache per process: a session written by a run
// and by a message is kept once), else the service's own.
func sessionCache(m *commands.Messages) *commands.SessionCache {
	if m != nil && m.Sessions != nil {
		return m.Sessions
	}
	return commands.NewSessionCache(maxCached)
}

// Instance is the id of this process's runs.
func (s *Service) Instance() uuid.UUID { return s.opts.Instance }

func (s *Service) now() time.Time { return s.opts.Clock().UTC() }

// Errors of the build API's use cases.
var (
	// ErrStopping refuses new jobs while the server shuts down.
	ErrStopping = errors.New("the server is shutting down")
	// ErrNoEventTask is the answer for a job whose run is open in the log
	// while the process running it is gone (until it is closed as
	// interrupted).
	ErrNoEventTask = errors.New("No event task found for job")
)

// JobNotFoundError is a job nobody may see: unknown, or not the reader's.
type JobNotFoundError struct{ JobID string }

func (e *JobNotFoundError) Error() string {
	return "Job not found: Job queue not found for job_id: " + e.JobID
}

// BusyError refuses a job over the limit of jobs running at once.
type BusyError struct{ Limit int }

func (e *BusyError) Error() string {
	return fmt.Sprintf("Too many flow builds running at once: at most %d; retry when one has finished", e.Limit)
}

// Inputs is the build API's InputValueRequest.
type Inputs struct {
	InputValue *string `json:"input_value"`
	// Session is the chat session (default: the flow id).
	Session           *string  `json:"session"`
	Components        []string `json:"components"`
	Type              *string  `json:"type" binding:"omitempty,oneof=chat text any"`
	ClientRequestTime *int64   `json:"client_request_time"`
}

// Public names the anonymous client of a public flow (its client_id
// cookie).
type Public struct{ ClientID string }

func (p Public) hash() string {
	sum := sha256.Sum256([]byte(p.ClientID))
	return hex.EncodeToString(sum[:])
}

// VirtualFlowID is the flow id a public client's run is recorded under,
// as Langflow makes it: uuid5(NAMESPACE_DNS, "<client_id>_<flow_id>").
func VirtualFlowID(clientID string, flow uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceDNS, []byte(clientID+"_"+flow.String()))
}

// StartBuild is the build API's command: run a flow as a job.
type StartBuild struct {
	FlowID uuid.UUID
	// UserID is the signed-in caller; Public the anonymous client of a
	// public flow (then the run runs as the flow's owner).
	UserID int64
	Public *Public
	// Inputs are the request's inputs (nil: none); InputsRaw them as sent,
	// for the record.
	Inputs    *Inputs
	InputsRaw json.RawMessage
	// Data is a graph to run instead of the stored flow (ignored for
	// public clients: they run the flow as stored).
	Data      json.RawMessage
	Files     []string
	StartID   string
	StopID    string
	FlowName  string
	LogBuilds bool
	// Variables are the request's variables (X-LANGFLOW-GLOBAL-VAR-*),
	// which come before the runner's own (ignored for public clients: they
	// would replace the owner's, whose flow runs with the owner's secrets).
	Variables map[string]string
	// Metadata says who asks, from where, in which correlation.
	Metadata eventstore.Metadata
}

// Job is a started job.
type Job struct {
	ID uuid.UUID
	j  *job
}

// StartBuild authorises the caller, starts the job and returns it. The
// caller must own the flow or hold the request's privilege (flows.run)
// where it lives; a flow the caller may not even read is not found (404
// "Flow with id <id> not found"), one it reads but may not run is 403. A
// public client may run a public flow only ("Flow is not public").
func (s *Service) StartBuild(ctx context.Context, cmd StartBuild) (*Job, error) {
	fe, err := s.loadFlow(ctx, cmd)
	if err != nil {
		return nil, err
	}
	f := fe.flow
	place := monitored(cmd.FlowID, f)
	records := cmd.FlowID
	user := cmd.UserID
	start := domain.RunStarted{FlowID: cmd.FlowID, FlowName: cmd.FlowName, OwnerID: place.OwnerID, TenantID: place.TenantID,
		BusinessID: place.BusinessID, Inputs: cmd.InputsRaw, Files: cmd.Files, StartComponentID: cmd.StartID,
		StopComponentID: cmd.StopID, LogBuilds: cmd.LogBuilds, Instance: s.opts.Instance}
	key := "user:" + strconv.FormatInt(user, 10)
	data := f.Content().Data
	if cmd.Public != nil {
		records, user = VirtualFlowID(cmd.Public.ClientID, cmd.FlowID), f.UserID()
		// The flow's own name, not Langflow's "<client_id>_<flow_id>": the
		// cookie names the visitor, and only its hash is recorded.
		start.Public, start.ClientHash = true, cmd.Public.hash()
		cmd.Variables = nil
		key = "public:" + cmd.FlowID.String()
	} else if cmd.Data != nil {
		data = cmd.Data
	}
	if cmd.Data == nil || cmd.Public != nil {
		rev := fe.rev
		start.Source, start.FlowRevision = "draft", &rev
	} else {
		start.Source = "data"
	}
	if start.FlowName == "" {
		start.FlowName = f.Content().Name
	}
	sum := sha256.Sum256(data)
	start.GraphHash = hex.EncodeToString(sum[:])
	start.RecordsFlowID, start.UserID = records, user
	start.Session = records.String()
	if cmd.Inputs != nil && cmd.Inputs.Session != nil && *cmd.Inputs.Session != "" {
		start.Session = *cmd.Inputs.Session
	}
	if err := domain.ValidSessionID("session", start.Session); err != nil {
		return nil, err
	}
	var (
		g          *engine.Graph
		compileErr error
	)
	if start.Source == "draft" {
		g, compileErr = fe.graph(s.opts.Engine)
	} else {
		g, compileErr = s.opts.Engine.Compile(data)
	}

	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("job id: %w", err)
	}
	start.RunID = id
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil, ErrStopping
	}
	select {
	case s.slot(key) <- struct{}{}:
	default:
		s.mu.Unlock()
		return nil, &BusyError{Limit: s.opts.MaxConcurrentPerUser}
	}
	j := s.newJob(id, cmd, start, place, g, compileErr, key)
	j.holdsSlot = true
	s.jobs[id] = j
	s.jobsWG.Add(1)
	s.mu.Unlock()
	go j.run()
	return &Job{ID: id, j: j}, nil
}

// maxCached bounds the flows and chat sessions a process keeps folded;
// maxCachedFlowBytes bounds the flows by the size of their data too (a
// flow of components with their code weighs hundreds of kilobytes, its
// compiled graph a few times that).
const (
	maxCached          = 10000
	maxCachedFlowBytes = 64 << 20
)

// flowEntry is a flow as folded at a revision, with its draft compiled
// once: a Graph may run many times at once.
type flowEntry struct {
	flow *domain.Flow
	rev  uint64
	size int // of its data

	once       sync.Once
	g          *engine.Graph
	compileErr error

	// variants are the run API's graphs of this flow (a version, the
	// stream flag as a tweak), compiled once each.
	variantsMu sync.Mutex
	variants   map[string]compiledGraph
}

func (e *flowEntry) graph(eng Engine) (*engine.Graph, error) {
	e.once.Do(func() { e.g, e.compileErr = eng.Compile(e.flow.Content().Data) })
	return e.g, e.compileErr
}

// flow returns flow id folded from the log (a flow created a moment ago
// runs at once): the one folded before when its stream has no event past
// it (one read), else folded again.
func (s *Service) flow(ctx context.Context, id uuid.UUID) (*flowEntry, error) {
	s.mu.Lock()
	e := s.flows[id]
	s.mu.Unlock()
	if e != nil {
		same, err := s.opts.Messages.Repo.Unchanged(ctx, domain.FlowStream(id), e.rev)
		if err != nil {
			return nil, err
		}
		if same {
			return e, nil
		}
	}
	f := graphpatch.LoadFlow(id)
	if err := s.opts.Messages.Repo.Load(ctx, f); err != nil {
		return nil, err
	}
	rev, _ := f.Root().Revision()
	e = &flowEntry{flow: f, rev: rev, size: len(f.Content().Data)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.flows[id]; old != nil {
		delete(s.flows, id)
		s.flowBytes -= old.size
	}
	for k, old := range s.flows { // arbitrary ones go
		if len(s.flows) < maxCached && s.flowBytes+e.size <= maxCachedFlowBytes {
			break
		}
		delete(s.flows, k)
		s.flowBytes -= old.size
	}
	s.flows[id] = e
	s.flowBytes += e.size
	return e, nil
}

// loadFlow returns the flow to run and checks the caller may run it.
func (s *Service) loadFlow(ctx context.Context, cmd StartBuild) (*flowEntry, error) {
	e, err := s.flow(ctx, cmd.FlowID)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	found := err == nil && !e.flow.Deleted()
	if cmd.Public != nil {
		if !found || e.flow.Content().AccessType != domain.AccessPublic {
			return nil, domain.Forbiddenf("Flow is not public")
		}
		return e, nil
	}
	if !found {
		return nil, domain.NotFoundf("Flow with id %s not found", cmd.FlowID)
	}
	return e, s.mayRun(ctx, e.flow, cmd.UserID, domain.NotFoundf("Flow with id %s not found", cmd.FlowID), nil)
}

// authorizedFlow returns flow id for user, who must be allowed to run it
// (mayRun); a flow that does not exist is notFound.
func (s *Service) authorizedFlow(ctx context.Context, id uuid.UUID, user int64, notFound, forbidden error) (*flowEntry, error) {
	e, err := s.existingFlow(ctx, id, notFound)
	if err != nil {
		return nil, err
	}
	return e, s.mayRun(ctx, e.flow, user, notFound, forbidden)
}

// existingFlow returns flow id, notFound when there is none or it was
// deleted.
func (s *Service) existingFlow(ctx context.Context, id uuid.UUID, notFound error) (*flowEntry, error) {
	e, err := s.flow(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, notFound
	case err != nil:
		return nil, err
	case e.flow.Deleted():
		return nil, notFound
	}
	return e, nil
}

// mayRun tells whether user may run f: its owner, or one holding the
// request's privilege (flows.run) where f lives. A caller refused who may
// read f is told so (forbidden, or the privilege's own 403 when nil); for
// anyone else f does not exist (notFound).
func (s *Service) mayRun(ctx context.Context, f *domain.Flow, user int64, notFound, forbidden error) error {
	if f.UserID() == user {
		return nil
	}
	pl := f.Placement()
	tenant := tenancy.OrSystem(pl.TenantID)
	if err := tenancy.Authorize(ctx, tenant, pl.BusinessID); err != nil {
		if scope, serr := tenancy.ScopeOf(ctx, "flows", "read", tenant); serr == nil && scope.Holds(pl.BusinessID) {
			if forbidden != nil {
				return forbidden
			}
			return err
		}
		return notFound
	}
	return nil
}

// Reader is who reads or cancels a job: a signed-in user, or the
// anonymous client of a public flow.
type Reader struct {
	UserID int64
	Public *Public
}

// runInfo is what reads and cancels need of a run: its start.
type runInfo = domain.RunStarted

// allowed tells whether r may read and cancel the run that started as
// info: its public client, or a signed-in user who runs it, owns the flow
// or holds the request's privilege (flows.run) where the flow lives.
func allowed(ctx context.Context, r Reader, info runInfo) bool {
	if r.Public != nil {
		return info.Public && info.ClientHash == r.Public.hash()
	}
	if r.UserID != 0 && (r.UserID == info.UserID && !info.Public || r.UserID == info.OwnerID) {
		return true
	}
	return r.UserID != 0 && tenancy.Authorize(ctx, tenancy.OrSystem(info.TenantID), info.BusinessID) == nil
}

// localJob parses job id and returns the job if it runs (or ran) on this
// process, nil if not; one r may not see is not found.
func (s *Service) localJob(ctx context.Context, r Reader, id string) (uuid.UUID, *job, error) {
	jobID, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, nil, &JobNotFoundError{JobID: id}
	}
	s.mu.Lock()
	j := s.jobs[jobID]
	s.mu.Unlock()
	if j != nil && !allowed(ctx, r, j.start) {
		return uuid.Nil, nil, &JobNotFoundError{JobID: id}
	}
	return jobID, j, nil
}

// Events returns the feed of job id for r: the job's own on this
// process, else the run's events in the log, followed live while it runs
// on another process. A job r may not see is not found.
func (s *Service) Events(ctx context.Context, r Reader, id string) (*Events, error) {
	jobID, j, err := s.localJob(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if j != nil {
		return &Events{s: s, id: jobID, f: j.feed, j: j}, nil
	}
	rep, err := s.replica(ctx, r, jobID)
	if err != nil {
		return nil, err
	}
	return &Events{s: s, id: jobID, f: rep.feed}, nil
}

// Events is a reader's view of a job's feed.
type Events struct {
	s  *Service
	id uuid.UUID
	f  *feed
	j  *job // the local job, nil for one of another process
}

// Stream calls write with every frame of the job from its first, as they
// come, until the job ends; it returns ctx's error if ctx ends first.
func (e *Events) Stream(ctx context.Context, write func([]byte) error) error {
	return e.f.stream(ctx, write)
}

// Poll answers a poll (see feed.poll).
func (e *Events) Poll(ctx context.Context) ([]byte, error) { return e.f.poll(ctx) }

// Done reports whether the job's feed ended.
func (e *Events) Done() bool {
	_, done, _ := e.f.since(1 << 62)
	return done
}

// LastStreamerGone cancels the job for a streaming client that went away
// when no other reader streams it on this process and it still runs, as
// Langflow cancels a build whose event stream is closed. A job of another
// process is left alone: this process cannot know who else follows it.
func (e *Events) LastStreamerGone(ctx context.Context) {
	if e.j != nil && e.f.streaming() == 0 {
		e.CancelIfRunning(ctx, domain.RunClientGone)
	}
}

// CancelIfRunning cancels the job for reason (a direct client gone): the
// local job only; for another process's, it asks that process.
func (e *Events) CancelIfRunning(ctx context.Context, reason string) {
	if e.Done() {
		return
	}
	if e.j != nil {
		e.j.cancel(reason)
		return
	}
	if err := e.s.notifyCancel(ctx, e.id, reason); err != nil {
		e.s.log.Warn("cancel a run on another process", "job_id", e.id, "error", err.Error())
	}
}

// Cancel cancels job id for r and tells whether it is cancelled (or
// already over). A job of another process is cancelled by that process;
// an open run whose process is gone is closed as interrupted.
func (s *Service) Cancel(ctx context.Context, r Reader, id string) (bool, error) {
	jobID, j, err := s.localJob(ctx, r, id)
	if err != nil {
		return false, err
	}
	if j != nil {
		j.cancel(domain.RunCancelRequested)
		return true, nil
	}
	if _, err := s.runStream(ctx, jobID); err != nil {
		return false, err
	}
	run, err := s.loadRun(ctx, jobID)
	if err != nil {
		return false, err
	}
	info, started := run.Started()
	if !started || !allowed(ctx, r, info) {
		return false, &JobNotFoundError{JobID: id}
	}
	if !run.Open() {
		return true, nil
	}
	instance := run.Instance()
	if instance == uuid.Nil {
		// Queued, claimed by no worker: cancelled in the log (its delivery
		// then does nothing). One claimed meanwhile is cancelled by its
		// worker: every process hears the NOTIFY.
		if err := s.closeQueued(ctx, jobID, domain.RunCancelled{Reason: domain.RunCancelRequested}); err != nil {
			return false, err
		}
		return true, s.notifyCancel(ctx, jobID, domain.RunCancelRequested)
	}
	alive, err := s.alive(ctx, instance)
	if err != nil {
		return false, err
	}
	if alive {
		return true, s.notifyCancel(ctx, jobID, domain.RunCancelRequested)
	}
	return true, s.interrupt(ctx, jobID)
}

// loadRun folds run id from the log (not found: a JobNotFoundError).
func (s *Service) loadRun(ctx context.Context, id uuid.UUID) (*domain.Run, error) {
	run := domain.LoadRun(id)
	if err := s.opts.Messages.Repo.Load(ctx, run); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, &JobNotFoundError{JobID: id.String()}
		}
		return nil, err
	}
	return run, nil
}

// finished forgets a job's running slot, and its feed after the
// retention.
func (s *Service) finished(j *job) {
	if j.holdsSlot {
		s.release(j.key)
	}
	if j.api != nil {
		// A run's answer went to its caller: nobody reads its feed later.
		s.mu.Lock()
		delete(s.jobs, j.id)
		s.mu.Unlock()
		s.jobsWG.Done()
		return
	}
	time.AfterFunc(s.opts.Retention, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.jobs[j.id] == j {
			delete(s.jobs, j.id)
		}
	})
	s.jobsWG.Done()
}

// slot returns the semaphore of the running-jobs limit of key; s.mu is
// held.
func (s *Service) slot(key string) chan struct{} {
	ch, ok := s.slots[key]
	if !ok {
		ch = make(chan struct{}, s.opts.MaxConcurrentPerUser)
		s.slots[key] = ch
	}
	return ch
}

// acquire waits for a slot of key's limit (until ctx ends).
func (s *Service) acquire(ctx context.Context, key string) error {
	s.mu.Lock()
	ch := s.slot(key)
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives a slot of key back.
func (s *Service) release(key string) {
	s.mu.Lock()
	ch := s.slot(key)
	s.mu.Unlock()
	<-ch
}

// Shutdown refuses new jobs, cancels the running ones (recorded as
// cancelled by the server's shutdown) and waits until they are recorded
// or ctx ends.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	running := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		running = append(running, j)
	}
	s.mu.Unlock()
	for _, j := range running {
		j.cancel(domain.RunShutdown)
	}
	done := make(chan struct{})
	go func() {
		s.jobsWG.Wait()
		close(done)
	}()
	defer s.stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runs still recording at shutdown: %w", ctx.Err())
	}
}
