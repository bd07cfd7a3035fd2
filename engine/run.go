package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
)

// vstate is where a vertex is in a run.
type vstate int

const (
	pending   vstate = iota // not started yet
	scheduled               // started (or about to)
	built                   // built successfully
	failed                  // its build failed
	off                     // not part of this run, or switched off by a router
)

// run is the state of one run of a graph.
type run struct {
	e    *Engine
	g    *Graph
	in   RunInput
	env  Env
	sink Sink
	info RunInfo
	sem  chan struct{}

	emitMu sync.Mutex // one event at a time, in order

	mu      sync.Mutex // guards what follows
	state   map[string]vstate
	results map[string]*VertexResult
	order   []*VertexResult
	running int
	first   map[string]bool // the first layer, while it builds
	roots   []string        // vertices without predecessors after the first layer
	stopErr error           // why the run stopped early
	done    chan struct{}
	// changed is closed (and replaced) whenever a vertex's state changes:
	// a loop waiting for what feeds its body waits on it.
	changed   chan struct{}
	graphData sync.Map // components' per-run state (a router's iterations …)
}

func newRun(e *Engine, g *Graph, in RunInput, env Env, sink Sink) *run {
	return &run{e: e, g: g, in: in, env: env, sink: sink,
		info: RunInfo{RunID: in.RunID, FlowID: in.FlowID, FlowName: in.FlowName, UserID: in.UserID, Session: in.Session, Tenant: in.Tenant},
		sem:  make(chan struct{}, e.limits.Parallelism), state: map[string]vstate{}, results: map[string]*VertexResult{},
		first: map[string]bool{}, done: make(chan struct{}), changed: make(chan struct{})}
}

func (r *run) emit(ev Event) {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.sink.Emit(ev)
}

// execute runs the graph to its end (or until ctx ends, or a failure
// aborts it).
func (r *run) execute(ctx context.Context, cancel context.CancelFunc) *RunResult {
	kept, err := r.keep()
	if err != nil {
		return &RunResult{Err: err}
	}
	var toRun, roots []string
	for _, v := range r.g.Vertices {
		if !kept[v.ID] {
			r.state[v.ID] = off
			continue
		}
		toRun = append(toRun, v.ID)
		if len(r.preds(v, kept)) == 0 {
			roots = append(roots, v.ID)
		}
	}
	first := roots
	for _, id := range roots {
		if v, _ := r.g.Vertex(id); v.Spec.ChatInput {
			first = []string{id}
			break
		}
	}
	for _, id := range first {
		r.first[id] = true
	}
	for _, id := range roots {
		if !r.first[id] {
			r.roots = append(r.roots, id)
		}
	}
	r.emit(VerticesSorted{IDs: slices.Clone(first), ToRun: toRun})
	r.mu.Lock()
	r.start(ctx, cancel, first)
	idle := r.running == 0
	r.mu.Unlock()
	if !idle {
		<-r.done
	}
	res := &RunResult{Results: r.order, Err: r.stopErr}
	if res.Err == nil && ctx.Err() != nil {
		res.Err = context.Cause(ctx)
		if errors.Is(ctx.Err(), context.Canceled) {
			res.Err = ErrCancelled
		}
	}
	if res.Err == nil {
		r.emit(RunEnded{})
	}
	return res
}

// keep returns the vertices this run considers: all, or those the stop
// and start components select.
func (r *run) keep() (map[string]bool, error) {
	kept := map[string]bool{}
	for _, v := range r.g.Vertices {
		kept[v.ID] = true
	}
	if id := r.in.StartComponentID; id != "" {
		v, ok := r.g.Vertex(id)
		if !ok {
			return nil, fmt.Errorf("start component %s not found", id)
		}
		down := r.closure(v, func(v *Vertex) []string { return targets(v.Out) })
		need := map[string]bool{}
		for id := range down {
			w, _ := r.g.Vertex(id)
			for a := range r.closure(w, func(v *Vertex) []string { return sources(v.In) }) {
				need[a] = true
			}
		}
		kept = need
	}
	if id := r.in.StopComponentID; id != "" {
		v, ok := r.g.Vertex(id)
		if !ok {
			return nil, fmt.Errorf("stop component %s not found", id)
		}
		up := r.closure(v, func(v *Vertex) []string { return sources(v.In) })
		for k := range kept {
			if !up[k] {
				delete(kept, k)
			}
		}
	}
	return kept, nil
}

// closure is v and every vertex reached from it through next.
func (r *run) closure(v *Vertex, next func(*Vertex) []string) map[string]bool {
	seen := map[string]bool{v.ID: true}
	stack := []*Vertex{v}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, id := range next(cur) {
			if !seen[id] {
				seen[id] = true
				w, _ := r.g.Vertex(id)
				stack = append(stack, w)
			}
		}
	}
	return seen
}

func targets(es []*Edge) []string {
	var out []string
	for _, e := range es {
		if !e.LoopBack {
			out = append(out, e.Target)
		}
	}
	return out
}

func sources(es []*Edge) []string {
	var out []string
	for _, e := range es {
		if !e.LoopBack {
			out = append(out, e.Source)
		}
	}
	return out
}

// preds are v's predecessors among kept, each once.
func (r *run) preds(v *Vertex, kept map[string]bool) []string {
	var out []string
	for _, id := range sources(v.In) {
		if (kept == nil || kept[id]) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// ready reports whether every predecessor of v is built. (A vertex the
// run does not consider has only such predecessors: the stop and start
// filters keep whole ancestries, and a router switches off whole
// descendancies.) Called with r.mu held.
func (r *run) ready(v *Vertex) bool {
	for _, id := range r.preds(v, nil) {
		if r.state[id] != built {
			return false
		}
	}
	return true
}

// runnable returns what to start for successor v of a vertex that just
// built: v if it is ready; else those of its predecessors that are ready
// and not started (Langflow's get_next_runnable_vertices). seen holds the
// vertices already visited for this build, so each pending ancestor is
// visited once, not once per path to it. Called with r.mu held.
func (r *run) runnable(v *Vertex, out []string, seen map[string]bool) []string {
	if r.state[v.ID] != pending || seen[v.ID] {
		return out
	}
	seen[v.ID] = true
	if r.ready(v) {
		return append(out, v.ID)
	}
	for _, id := range r.preds(v, nil) {
		p, _ := r.g.Vertex(id)
		out = r.runnable(p, out, seen)
	}
	return out
}

// start builds ids, each in its own goroutine. Called with r.mu held.
func (r *run) start(ctx context.Context, cancel context.CancelFunc, ids []string) {
	for _, id := range ids {
		v, _ := r.g.Vertex(id)
		r.state[id] = scheduled
		r.running++
		go r.build(ctx, cancel, v)
	}
}

// build builds v and hands its result on.
func (r *run) build(ctx context.Context, cancel context.CancelFunc, v *Vertex) {
	res := &VertexResult{Vertex: v, Outputs: map[string]Value{}}
	select {
	case r.sem <- struct{}{}:
		res.Started = r.env.now()
		r.buildVertex(ctx, v, res)
		<-r.sem
	case <-ctx.Done():
		res.Started = r.env.now()
		res.Err = context.Cause(ctx)
	}
	res.Duration = r.env.now().Sub(res.Started)
	res.Valid = res.Err == nil
	if r.env.Recorder != nil && ctx.Err() == nil {
		// What a run did is recorded even when it is cancelled a moment
		// later: recording uses its own context.
		if err := r.env.Recorder.VertexBuilt(context.WithoutCancel(ctx), r.info, res); err != nil && res.Err == nil {
			res.Err, res.Valid = fmt.Errorf("record the build: %w", err), false
		}
	}
	r.finish(ctx, cancel, v, res)
}

// buildVertex runs v's component (or reuses a frozen result). A vertex
// in tool mode is not built: its output is its tools, which the agent it
// feeds builds when the model calls them.
func (r *run) buildVertex(ctx context.Context, v *Vertex, res *VertexResult) {
	if tk, ok := v.Component.(Toolkit); ok && v.ToolMode {
		res.Err = r.toolkit(ctx, v, tk, res)
		return
	}
	if v.ToolMode {
		res.Outputs[ToolOutput] = r.toolset(v)
		return
	}
	if v.Frozen && !v.Spec.Loop && r.env.Frozen != nil { // Langflow never freezes a loop
		if prev, ok := r.env.Frozen.Get(r.info, v.ID); ok {
			res.Outputs, res.Status, res.UsedFrozen = prev.Outputs, prev.Status, true
			return
		}
	}
	b, err := r.newBuild(ctx, v, res)
	if err == nil {
		err = r.call(ctx, v, b)
	}
	if err == nil {
		err = r.checkOutputs(v, res)
	}
	if err != nil {
		res.Err = err
		return
	}
	if v.Frozen && !v.Spec.Loop && r.env.Frozen != nil {
		r.env.Frozen.Put(r.info, v.ID, res)
	}
}

// toolkit builds v, in tool mode, as a Toolkit: its tools are its
// component_as_tool output.
func (r *run) toolkit(ctx context.Context, v *Vertex, tk Toolkit, res *VertexResult) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the %s component failed: %v\n%s", v.Type, p, debug.Stack())
		}
	}()
	b, err := r.newBuild(ctx, v, res)
	if err != nil {
		return err
	}
	b.asTool = true
	b.wants = []string{ToolOutput}
	tools, err := tk.Toolkit(ctx, b)
	if err != nil {
		return err
	}
	list, err := applyToolsMetadata(v, tools)
	if err != nil {
		return err
	}
	res.Outputs[ToolOutput] = list
	return nil
}

// call runs the component, turning a panic into the vertex's failure.
func (r *run) call(ctx context.Context, v *Vertex, b *Build) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the %s component failed: %v\n%s", v.Type, p, debug.Stack())
		}
	}()
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	return v.Component.Build(ctx, b)
}

// checkOutputs refuses outputs larger than the limit.
func (r *run) checkOutputs(v *Vertex, res *VertexResult) error {
	limit := r.e.limits.MaxOutputBytes
	for name, val := range res.Outputs {
		if n := approxSize(val); n > limit {
			return fmt.Errorf("output %q of %s is %d bytes, more than the limit of %d", name, v.ID, n, limit)
		}
	}
	return nil
}

func approxSize(v Value) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case *Message:
		return len(x.Text)
	case *Data:
		return len(PyStr(x.Map))
	case *DataFrame:
		n := 0
		for _, row := range x.Rows {
			n += len(PyStr(row))
		}
		return n
	case []Value:
		n := 0
		for _, e := range x {
			n += approxSize(e)
		}
		return n
	}
	return 0
}

// finish records v's result, switches off what its component switched
// off, starts what became runnable and reports the vertex.
func (r *run) finish(ctx context.Context, cancel context.CancelFunc, v *Vertex, res *VertexResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[v.ID] = res
	r.order = append(r.order, res)
	if res.Valid {
		r.state[v.ID] = built
	} else {
		r.state[v.ID] = failed
		if r.in.AbortOnError && r.stopErr == nil && ctx.Err() == nil {
			r.stopErr = fmt.Errorf("Error running graph: %s", res.ErrorText())
			cancel()
		}
	}
	for _, id := range res.Inactivated {
		if r.state[id] == pending {
			r.state[id] = off
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
	var next []string
	if res.Valid && ctx.Err() == nil {
		seen := map[string]bool{}
		for _, id := range targets(v.Out) {
			t, _ := r.g.Vertex(id)
			next = r.runnable(t, next, seen)
		}
	}
	if r.first[v.ID] {
		delete(r.first, v.ID)
		if len(r.first) == 0 && ctx.Err() == nil {
			for _, id := range r.roots {
				if r.state[id] == pending && !slices.Contains(next, id) {
					next = append(next, id)
				}
			}
		}
	}
	res.Next = next
	r.emit(VertexEnded{Result: res})
	r.running--
	r.start(ctx, cancel, next)
	if r.running == 0 {
		close(r.done)
	}
}
