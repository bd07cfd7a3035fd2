package app

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/models"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
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

	svc *runs.Service
	reg *engine.Registry
	env engine.Env
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
	m.svc = runs.New(runs.Options{
		Engine: eng, Messages: MessagesCommands(d), Env: env,
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
func (m *Runs) Run(ctx context.Context, d Deps) error {
	return m.svc.Run(ctx, d.Config.ShutdownTimeout)
}

// Service returns the run service (after Routes).
func (m *Runs) Service() *runs.Service { return m.svc }

// Requires implements Requirer: it runs flows and waits for the messages its runs record.
func (m *Runs) Requires() []Module { return []Module{Flows{}, Messages{}} }
