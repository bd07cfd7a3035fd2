package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits bound every run; zero fields take the defaults.
type Limits struct {
	// WallTime bounds a run (default 10 minutes).
	WallTime time.Duration
	// MaxVertices bounds the components of a flow (default 1000).
	MaxVertices int
	// Parallelism bounds the vertices building at once (default 8).
	Parallelism int
	// MaxOutputBytes bounds the text of one output of one vertex (default
	// 8 MiB): a vertex that produces more fails.
	MaxOutputBytes int
	// VariablesFromEnv lets a load_from_db field fall back to the process
	// environment (on by default in the server's config, as Langflow's
	// fallback_to_env_vars; off keeps the server's environment private),
	// never to the server's own configuration (SKILLFLAW_*, PG*).
	VariablesFromEnv bool
}

// Defaults of Limits.
const (
	DefaultWallTime       = 10 * time.Minute
	DefaultMaxVertices    = 1000
	DefaultParallelism    = 8
	DefaultMaxOutputBytes = 8 << 20
)

func (l Limits) withDefaults() Limits {
	if l.WallTime <= 0 {
		l.WallTime = DefaultWallTime
	}
	if l.MaxVertices <= 0 {
		l.MaxVertices = DefaultMaxVertices
	}
	if l.Parallelism <= 0 {
		l.Parallelism = DefaultParallelism
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	return l
}

// Engine compiles flows and runs their graphs. It holds no state of its
// own between runs: one Engine serves every run of a process.
type Engine struct {
	reg    *Registry
	limits Limits
}

// New returns an engine of the components in reg.
func New(reg *Registry, limits Limits) *Engine {
	return &Engine{reg: reg, limits: limits.withDefaults()}
}

// Registry returns the engine's components.
func (e *Engine) Registry() *Registry { return e.reg }

// Limits returns the engine's limits (defaults filled in).
func (e *Engine) Limits() Limits { return e.limits }

// Compile parses and checks flow data (a flow's data as Langflow stores
// it): every problem is reported at once, in an *InvalidFlowError.
func (e *Engine) Compile(data []byte) (*Graph, error) {
	flow, problems, err := ParseFlow(data)
	if err != nil {
		return nil, &InvalidFlowError{Problems: []Problem{{Msg: err.Error()}}}
	}
	return Compile(flow, e.reg, e.limits.MaxVertices, problems...)
}

// RunInput is what a run is asked to do.
type RunInput struct {
	RunID    string
	FlowID   string
	FlowName string
	UserID   int64
	// Tenant is the tenant of the stored flow the run runs, whose
	// variables and model providers it uses (its caller's business: ""
	// leaves Variables and ModelCatalog to find it from FlowID).
	Tenant string
	// Session is the chat session (default: the flow id).
	Session string
	// SessionOverride writes Session into every vertex's session_id field,
	// as /run does; otherwise only into empty ones, as /build does.
	SessionOverride bool
	// InputValue, when not nil, is given to the input vertices InputType
	// selects: "chat" (ChatInput…), "text" (TextInput…), "any" (every
	// one; the default). Vertex ids are matched as Langflow does: the type
	// is a substring of the lower-cased id. InputComponents, when not
	// empty, restricts them to these vertex ids or display names.
	InputValue      *string
	InputType       string
	InputComponents []string
	// Files are given to ChatInput.
	Files []string
	// StartComponentID runs from this vertex on (and what it needs);
	// StopComponentID runs only this vertex and its ancestors.
	StartComponentID string
	StopComponentID  string
	// Variables are the request's variables, by upper-cased name.
	Variables map[string]string
	// AbortOnError stops the whole run at the first failing vertex (the
	// run API); otherwise a failure stops only its descendants (/build).
	AbortOnError bool
}

// RunResult is what a run did.
type RunResult struct {
	// Results are the vertices built, in the order they finished.
	Results []*VertexResult
	// Err is why the run stopped early (cancelled, timed out, aborted by a
	// failing vertex), nil if it ran to its end.
	Err error
}

// Result returns the result of vertex id, nil if it did not build.
func (r *RunResult) Result(id string) *VertexResult {
	for _, x := range r.Results {
		if x.Vertex.ID == id {
			return x
		}
	}
	return nil
}

// ErrCancelled is the error of a run whose context was cancelled.
var ErrCancelled = errors.New("run cancelled")

// Run builds the graph's vertices as the runtime reference's §11.4 says,
// reporting to sink and recording through env.Recorder, and returns what
// it did. Independent branches build in parallel (Limits.Parallelism); a
// failing vertex stops its descendants and, with AbortOnError, the run.
// Cancelling ctx (a cancel call, a client gone, a shutdown) stops the
// builds in flight through their contexts; the run then ends with
// ErrCancelled and no "end" event.
func (e *Engine) Run(ctx context.Context, g *Graph, in RunInput, env Env, sink Sink) *RunResult {
	if in.Session == "" {
		in.Session = in.FlowID
	}
	if in.InputType == "" {
		in.InputType = "any"
	}
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	ctx, cancel := context.WithTimeoutCause(ctx, e.limits.WallTime,
		fmt.Errorf("the run took longer than its limit of %s", e.limits.WallTime))
	defer cancel()
	r := newRun(e, g, in, env, sink)
	return r.execute(ctx, cancel)
}
