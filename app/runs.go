package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/queue"
	"github.com/skillflaw/skillflaw-go/runs"
)

// Runs is the module that runs flows: the engine over Components, the
// run service (package runs) and the build API (#1, #2, #4–#7), runs as
// events (stream run-<id>) and their read model ("runs"). It records
// through the monitor's command API, so it needs Identity, Flows and
// Messages registered before it, and Audit after it.
type Runs struct {
	// Components are the engine's components (main passes the native
	// ones; tests their own).
	Components []engine.Component
	// Env gives runs their ports beyond recording and history (models,
	// variables, frozen results); a nil Frozen gets an in-memory cache, nil
	// Models the OpenAI-compatible client at SKILLFLAW_OPENAI_BASE_URL.
	Env engine.Env
	// Clock is the runs' time source (Deps.Clock when nil; tests pin it).
	Clock func() time.Time

	svc   *runs.Service
	reg   *engine.Registry
	env   engine.Env
	queue *queueHolder
}

// queueHolder is the work queue once Run connected to it (runs.Queue): a
// background run queued before that fails (the queue is unavailable).
type queueHolder struct {
	mu sync.Mutex
	q  *queue.Queue
}

func (h *queueHolder) get() *queue.Queue {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q
}

func (h *queueHolder) set(q *queue.Queue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.q = q
}

// Publish implements runs.Queue.
func (h *queueHolder) Publish(ctx context.Context, id string, payload []byte) error {
	q := h.get()
	if q == nil {
		return errors.New("not connected to the work queue yet")
	}
	return q.Publish(ctx, id, payload)
}

// Engine returns what Routes built for the modules after it (the agentic
// assistant): the run service, the engine's registry and the runs' ports.
// Nil before Routes ran.
func (m *Runs) Engine() (*runs.Service, *engine.Registry, engine.Env) { return m.svc, m.reg, m.env }

var (
	_ Module = (*Runs)(nil)
	_ Runner = (*Runs)(nil)
)

// Register implements Module.
func (m *Runs) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.RunEvents())
}

// Projections implements Module.
func (m *Runs) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Runs()}
}

// Routes implements Module: it builds the engine and the service.
func (m *Runs) Routes(s *httpapi.Server, d Deps) {
	reg, err := engine.NewRegistry(m.Components...)
	if err != nil {
		s.Misconfigured(fmt.Errorf("flow components: %w", err))
		reg, _ = engine.NewRegistry()
	}
	cfg := d.Config
	eng := engine.New(reg, engine.Limits{WallTime: cfg.RunWallTime, MaxVertices: cfg.RunMaxVertices,
		Parallelism: cfg.RunParallelism, MaxOutputBytes: cfg.RunMaxOutputMB << 20, VariablesFromEnv: cfg.RunVariablesFromEnv})
	env := m.Env
	clock := m.Clock
	if clock == nil {
		clock = d.Clock
	}
	if env.Clock == nil {
		env.Clock = clock
	}
	if env.History == nil {
		env.History = runs.History{Pool: d.Pool}
	}
	if env.Frozen == nil {
		env.Frozen = runs.NewFrozenCache()
	}
	policy, err := egress.New(cfg.EgressAllow)
	if err != nil {
		s.Misconfigured(fmt.Errorf("SKILLFLAW_EGRESS_ALLOW: %w", err))
		policy, _ = egress.New(nil)
	}
	if env.Models == nil {
		// Every OpenAI-compatible model, at the configured endpoint unless
		// the node names one (then through the egress policy); keys always
		// explicit (engine/models).
		env.Models = &models.OpenAI{BaseURL: cfg.OpenAIBaseURL, MaxRetries: 2, Egress: policy}
	}
	if env.HTTP == nil {
		// The URL and API request components reach only what the egress
		// policy allows (never the server's machine or networks).
		env.HTTP = policy.HTTPClient()
	}
	if env.Files == nil {
		// The File component reads uploaded files the run's user may read,
		// from the blob store only.
		blobs, err := blob.NewLocal(cfg.FileStorageDir())
		if err != nil {
			s.Misconfigured(fmt.Errorf("run files: %w (set SKILLFLAW_STORAGE_DIR)", err))
		} else {
			env.Files = runs.Files{Pool: d.Pool, Blobs: blobs}
		}
	}
	if env.Variables == nil {
		// load_from_db fields read the configs of the flow's tenant (after
		// the request's X-LANGFLOW-GLOBAL-VAR-* headers); secret ones are
		// opened in memory with Deps.Secrets.
		env.Variables = runs.ConfigVariables{Pool: d.Pool, Secrets: d.Secrets}
	}
	if env.Catalog == nil {
		// Model fields resolve through the model catalogue (the flow
		// tenant's providers, then the built-in ones).
		env.Catalog = runs.CatalogModels{Pool: d.Pool}
	}
	if env.MCP == nil {
		// MCP Tools reaches the registry's servers the run's user sees
		// (MCPServers module), secrets opened in memory, through the
		// egress policy; stdio ones only with SKILLFLAW_MCP_STDIO_ENABLE
		// and when a superuser vouched for them (runs.MCPTools).
		env.MCP = runs.MCPTools{Pool: d.Pool, Secrets: d.Secrets, HTTP: policy.HTTPClient(),
			StdioEnabled: cfg.MCPStdioEnable, Timeout: cfg.MCPToolTimeout}
	}
	if env.Flows == nil {
		// Run Flow runs other flows through the service (set below).
		env.Flows = engine.SubFlowsFunc(func(ctx context.Context, run engine.RunInfo, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
			return m.svc.RunFlow(ctx, run, req)
		})
	}
	var (
		rq     runs.Queue
		sealer runs.Sealer
	)
	if cfg.QueueURL != "" {
		// Background runs go to the work queue (see runs/queued.go), their
		// tasks sealed with the secrets key; Run connects.
		m.queue = &queueHolder{}
		rq = m.queue
		if d.Secrets == nil {
			s.Misconfigured(errors.New("SKILLFLAW_QUEUE_URL: the queued runs' tasks are sealed with the secrets key: " +
				"set SKILLFLAW_SECRET_KEY or SKILLFLAW_SECRETS_KEY_FILE (the same on every api and worker process)"))
		} else {
			sealer = d.Secrets
		}
	}
	m.svc = runs.New(runs.Options{
		Queue: rq, Sealer: sealer,
		// An api-only process has no runs of its own to run: its MCP
		// tool calls go to the workers too (their caller waits for the
		// end in the log).
		QueueCalls: cfg.Role == config.RoleAPI,
		// A task lost between a run's record and its publish is published
		// again once its accepting process is gone, a few ack waits on
		// (Republish).
		RepublishAfter: 3 * cfg.QueueAckWait,
		MaxAttempts:    cfg.QueueMaxAttempts,
		Engine:         eng, Messages: MessagesCommands(d), Env: env,
		Serialization:        runs.Serialization{MaxText: cfg.SerializationMaxTextLength, MaxItems: cfg.SerializationMaxItemsLength},
		MaxConcurrentPerUser: cfg.RunMaxConcurrentPerUser, Retention: cfg.RunFeedRetention, FlushInterval: cfg.RunFlushInterval,
		WaitForRuns: func(ctx context.Context, pos eventstore.Position) error {
			return d.Runtime.WaitFor(ctx, pos, projections.RunsName)
		},
		WaitForHistory: func(ctx context.Context) error {
			head, err := d.Store.Head(ctx)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.ReadYourWritesTimeout)
			defer cancel()
			return d.Runtime.WaitFor(ctx, head, projections.MessagesName)
		},
		Logger: d.Logger, Clock: clock,
	})
	m.reg, m.env = reg, env
	runs.Register(s, m.svc)
	runs.RegisterRun(s, m.svc)
	runs.RegisterWebhook(s, m.svc, cfg.WebhookAuthEnable)
	runs.RegisterResponses(s, m.svc)
	runs.RegisterWorkflow(s, m.svc)
	runs.RegisterCatalogue(s, reg)
}

// Run implements Runner: the service's part of the cluster (liveness,
// cancels from other processes, the startup sweep) until ctx ends, then
// the jobs are cancelled and recorded.
//
// With a work queue it connects to it (retrying until it can) and, in
// the worker and all roles, runs the queued runs (runs.Service.Execute),
// SKILLFLAW_QUEUE_WORKERS at once. At the end the jobs are shut down
// first — a worker's queued runs are handed back to the queue — and the
// queue's consumer stops after them.
func (m *Runs) Run(ctx context.Context, d Deps) error {
	if m.queue == nil {
		return m.svc.Run(ctx, d.Config.ShutdownTimeout)
	}
	cfg := d.Config
	consumeCtx, stopConsume := context.WithCancel(context.WithoutCancel(ctx))
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		q := m.connect(ctx, d)
		if q == nil {
			return
		}
		defer q.Close()
		// Every role publishes again the tasks lost by accepting
		// processes that died (at start, then every ack wait).
		republished := make(chan struct{})
		defer func() { <-republished }()
		go func() {
			defer close(republished)
			m.republish(consumeCtx, d)
		}()
		if cfg.Role == config.RoleAPI {
			<-consumeCtx.Done()
			return
		}
		d.Logger.Info("runs: working the queue", "workers", cfg.QueueWorkers, "instance", m.svc.Instance())
		err := q.Consume(consumeCtx, func(ctx context.Context, _ string, payload []byte, _ uint64) error {
			return m.svc.Execute(ctx, payload)
		})
		if err != nil {
			d.Logger.Error("runs: the queue's consumer stopped", "error", err.Error())
		}
	}()
	err := m.svc.Run(ctx, cfg.ShutdownTimeout)
	stopConsume()
	<-consumed
	return err
}

// republish runs the re-publish sweep (runs.Service.Republish) now and
// every SKILLFLAW_QUEUE_ACK_WAIT until ctx ends.
func (m *Runs) republish(ctx context.Context, d Deps) {
	t := time.NewTicker(d.Config.QueueAckWait)
	defer t.Stop()
	for {
		n, err := m.svc.Republish(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			d.Logger.Error("runs: the re-publish sweep failed", "error", err.Error())
		case n > 0:
			d.Logger.Warn("runs: published again the tasks of queued runs whose accepting process is gone", "runs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// connect opens the work queue, retrying every two seconds until it can
// or ctx ends (nil then).
func (m *Runs) connect(ctx context.Context, d Deps) *queue.Queue {
	cfg := d.Config
	for {
		q, err := queue.Open(ctx, queue.Config{URL: cfg.QueueURL, AckWait: cfg.QueueAckWait, Workers: cfg.QueueWorkers,
			// A run's wall time, and its recording and shutdown after it.
			MaxRun: cfg.RunWallTime + cfg.ShutdownTimeout + 2*time.Minute, Logger: d.Logger})
		if err == nil {
			m.queue.set(q)
			return q
		}
		d.Logger.Warn("runs: cannot reach the work queue; retrying", "url", config.RedactURL(cfg.QueueURL), "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

// Service returns the run service (after Routes).
func (m *Runs) Service() *runs.Service { return m.svc }

// Requires implements Requirer: it runs flows and waits for the messages its runs record.
func (m *Runs) Requires() []Module { return []Module{Flows{}, Messages{}} }
