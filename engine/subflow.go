package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SubFlows runs another flow for a component (Run Flow): as the run's
// user, who must be allowed to run it, one level deeper than the run.
// The context RunFlow gets carries the depth of the sub-flow to run
// (SubFlowDepth); an implementation refuses one deeper than
// MaxSubFlowDepth with a *SubFlowDepthError and runs the sub-flow with
// that depth in its context, so that its own Run Flow components see it.
type SubFlows interface {
	RunFlow(ctx context.Context, run RunInfo, req SubFlowRequest) (*SubFlowResult, error)
}

// SubFlowRequest is a sub-flow to run.
type SubFlowRequest struct {
	// Flow is the flow's id or name.
	Flow string
	// InputValue goes to its chat input (nil: none); Tweaks change its
	// fields (see Tweaks).
	InputValue *string
	Tweaks     Tweaks
	// Session is the chat session (default: the caller's).
	Session string
}

// SubFlowResult is what a sub-flow answered: its output vertices that
// built, in graph order.
type SubFlowResult struct {
	Outputs []SubFlowOutput
}

// SubFlowOutput is what one output vertex of a sub-flow gave.
type SubFlowOutput struct {
	VertexID    string
	DisplayName string
	// Results are the vertex's outputs, by output name.
	Results map[string]Value
	// Message is the message the vertex answered with (a chat output's),
	// nil if none.
	Message *Message
}

// MaxSubFlowDepth is how deeply flows may run flows: a run is at depth
// 0, a flow it runs at 1 … a Run Flow at MaxSubFlowDepth is refused. It
// stops a flow that runs itself, directly or in a ring, long before it
// exhausts the server.
const MaxSubFlowDepth = 5

// SubFlowDepthError refuses a sub-flow deeper than the limit.
type SubFlowDepthError struct{ Limit int }

func (e *SubFlowDepthError) Error() string {
	return fmt.Sprintf("Run Flow: flows may run other flows at most %d levels deep; this one would run a flow one level deeper (does a flow run itself?)", e.Limit)
}

type subFlowDepthKey struct{}

// WithSubFlowDepth returns ctx for running a flow at depth (0: a run a
// client asked for).
func WithSubFlowDepth(ctx context.Context, depth int) context.Context {
	return context.WithValue(ctx, subFlowDepthKey{}, depth)
}

// SubFlowDepth is the depth of the flow ctx runs (0 when none was set).
func SubFlowDepth(ctx context.Context) int {
	d, _ := ctx.Value(subFlowDepthKey{}).(int)
	return d
}

// CheckSubFlowDepth returns a *SubFlowDepthError when depth, the depth of
// a sub-flow about to run, is past MaxSubFlowDepth.
func CheckSubFlowDepth(depth int) error {
	if depth > MaxSubFlowDepth {
		return &SubFlowDepthError{Limit: MaxSubFlowDepth}
	}
	return nil
}

// A loop's body is a sub-flow of its own graph: the vertices reached from
// the loop's loop output (Spec.Loop, OutputSpec.AllowsLoop) up to the
// edge back into that output. RunLoop builds it once per item, in this
// run, the way Langflow 1.7+ runs a loop body as a subgraph (runtime
// reference §11.8).

// RunLoop runs the body of the loop that b builds once for each of items,
// in order: the loop's output gives the item, every body vertex builds
// (reported and recorded like any build), and the values coming back
// into output through its loop-back edges are collected, one per
// loop-back edge and item. Then the body is switched off for the rest of
// the run (Stop), so that the run does not build it once more. A body
// vertex that fails stops the loop with its error; one a router inside
// the body switches off is skipped for that item. What feeds the body
// from outside the loop is waited for (see awaitOutside).
func (b *Build) RunLoop(ctx context.Context, output string, items []Value) ([]Value, error) {
	v, r := b.Vertex, b.run
	var back []*Edge
	for _, e := range v.In {
		if e.LoopBack && e.TargetField == output {
			back = append(back, e)
		}
	}
	if len(back) == 0 {
		return nil, fmt.Errorf("%s: nothing comes back into its %q output: connect the end of the loop's body to it", v.ID, output)
	}
	order, outside, err := r.loopBody(v, output, back)
	if err != nil {
		return nil, err
	}
	if err := r.awaitOutside(ctx, v, outside); err != nil {
		return nil, err
	}
	var collected []Value
	for i, item := range items {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		results, err := r.loopIteration(ctx, v, output, item, order)
		if err != nil {
			return nil, fmt.Errorf("item %d of %d: %w", i+1, len(items), err)
		}
		for _, e := range back {
			if res := results[e.Source]; res != nil {
				collected = append(collected, res.Outputs[e.SourceOutput])
			}
		}
	}
	b.Stop(output)
	return collected, nil
}

// loopBody returns the body of loop v's output in build order, and the
// vertices outside it that feed it.
func (r *run) loopBody(v *Vertex, output string, back []*Edge) (order []*Vertex, outside []string, err error) {
	body := map[string]bool{}
	var stack []string
	for _, e := range v.Out {
		if e.SourceOutput == output && !e.LoopBack && !body[e.Target] {
			body[e.Target] = true
			stack = append(stack, e.Target)
		}
	}
	for len(stack) > 0 {
		w, _ := r.g.Vertex(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		for _, e := range w.Out {
			if e.LoopBack || e.Target == v.ID || body[e.Target] {
				continue
			}
			if w.Spec.Loop {
				// An inner loop builds its own body inside its build.
				if o, ok := w.Spec.Output(e.SourceOutput); ok && o.AllowsLoop {
					continue
				}
			}
			body[e.Target] = true
			stack = append(stack, e.Target)
		}
	}
	for _, e := range back {
		if !body[e.Source] {
			return nil, nil, fmt.Errorf("%s: %s feeds its %q output back but is not reached from it", v.ID, e.Source, output)
		}
	}
	// Kahn's order within the body, and what feeds it from outside.
	r.mu.Lock()
	defer r.mu.Unlock()
	indeg := map[string]int{}
	for _, w := range r.g.Vertices {
		if !body[w.ID] {
			continue
		}
		for _, e := range w.In {
			switch {
			case e.LoopBack && body[e.Source]:
				// an inner loop's own loop-back edge
			case e.LoopBack:
			case body[e.Source]:
				indeg[w.ID]++
			case e.Source == v.ID && e.SourceOutput == output:
			case e.Source == v.ID:
				return nil, nil, fmt.Errorf("%s: %s is inside the loop's body but takes its %q output", v.ID, w.ID, e.SourceOutput)
			case !slices.Contains(outside, e.Source):
				outside = append(outside, e.Source)
			}
		}
	}
	var ready []*Vertex
	for _, w := range r.g.Vertices {
		if body[w.ID] && indeg[w.ID] == 0 {
			ready = append(ready, w)
		}
	}
	for len(ready) > 0 {
		w := ready[0]
		ready = ready[1:]
		order = append(order, w)
		for _, e := range w.Out {
			if e.LoopBack || !body[e.Target] {
				continue
			}
			if indeg[e.Target]--; indeg[e.Target] == 0 {
				t, _ := r.g.Vertex(e.Target)
				ready = append(ready, t)
			}
		}
	}
	if len(order) != len(body) {
		return nil, nil, fmt.Errorf("%s: the loop's body has a cycle of its own", v.ID)
	}
	return order, outside, nil
}

// awaitOutside waits until the vertices outside loop v's body that feed
// it have built: the run schedules them independently of the loop, which
// runs its body inside its own build. One that comes after the loop (it
// depends on the loop's done output), fails, or is switched off cannot
// feed the body: refused. While it waits the loop gives its parallelism
// slot back (what it waits for may need it) and wakes when a vertex's
// state changes.
func (r *run) awaitOutside(ctx context.Context, v *Vertex, outside []string) error {
	after := r.closure(v, func(w *Vertex) []string { return targets(w.Out) })
	for _, id := range outside {
		if after[id] {
			return fmt.Errorf("%s: its body needs %s, which comes after the loop", v.ID, id)
		}
	}
	// What each waits for: a failure or a switch-off there means it never
	// builds (the descendants of a failed vertex stay pending).
	needs := map[string]map[string]bool{}
	for _, id := range outside {
		w, _ := r.g.Vertex(id)
		needs[id] = r.closure(w, func(w *Vertex) []string { return sources(w.In) })
	}
	released := false
	defer func() {
		if released {
			r.sem <- struct{}{} // the caller gives the slot back after the build
		}
	}()
	for {
		pending, never := "", ""
		r.mu.Lock()
		for _, id := range outside {
			if r.state[id] == built {
				continue
			}
			pending = id
			for a := range needs[id] {
				if st := r.state[a]; st == failed || st == off {
					never = id
				}
			}
		}
		changed := r.changed
		r.mu.Unlock()
		if never != "" {
			return fmt.Errorf("%s: its body needs %s, which does not build in this run", v.ID, never)
		}
		if pending == "" {
			return nil
		}
		if !released {
			<-r.sem
			released = true
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-changed:
		}
	}
}

// loopIteration builds the body once with item as the loop's output and
// returns the results of the body's vertices.
func (r *run) loopIteration(ctx context.Context, v *Vertex, output string, item Value, order []*Vertex) (map[string]*VertexResult, error) {
	r.mu.Lock()
	r.results[v.ID] = &VertexResult{Vertex: v, Outputs: map[string]Value{output: item}, Valid: true}
	r.mu.Unlock()
	results := map[string]*VertexResult{}
	skip := map[string]bool{}
	for _, w := range order {
		if skip[w.ID] {
			continue
		}
		res := &VertexResult{Vertex: w, Outputs: map[string]Value{}}
		res.Started = r.env.now()
		r.buildVertex(ctx, w, res)
		res.Duration = r.env.now().Sub(res.Started)
		res.Valid = res.Err == nil
		if r.env.Recorder != nil && ctx.Err() == nil {
			if err := r.env.Recorder.VertexBuilt(context.WithoutCancel(ctx), r.info, res); err != nil && res.Err == nil {
				res.Err, res.Valid = fmt.Errorf("record the build: %w", err), false
			}
		}
		r.emit(VertexEnded{Result: res})
		if res.Err != nil {
			return nil, fmt.Errorf("%s failed: %w", w.ID, res.Err)
		}
		for _, id := range res.Inactivated {
			skip[id] = true
		}
		results[w.ID] = res
		r.mu.Lock()
		r.results[w.ID] = res
		r.mu.Unlock()
	}
	return results, nil
}

// errNoLoop is returned by LoopItems for a value it cannot iterate.
var errNoLoop = errors.New("The 'data' input must be a DataFrame, a list of Data/Message objects, or a single Data/Message object.")

// LoopItems returns the items a loop iterates over, as Langflow's Loop
// reads its input: a DataFrame's rows, a Data, a Message (as a Data of
// its text), or a list of Data and Messages, each as a Data.
func LoopItems(v Value) ([]Value, error) {
	toData := func(x Value) (*Data, bool) {
		switch d := x.(type) {
		case *Data:
			return d, true
		case *Message:
			return NewData(map[string]any{"text": d.Text}), true
		}
		return nil, false
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *DataFrame:
		out := make([]Value, len(x.Rows))
		for i, row := range x.Rows {
			out[i] = NewData(row)
		}
		return out, nil
	case []Value:
		out := make([]Value, 0, len(x))
		for _, e := range x {
			if df, ok := e.(*DataFrame); ok {
				rows, _ := LoopItems(df)
				out = append(out, rows...)
				continue
			}
			d, ok := toData(e)
			if !ok {
				return nil, errNoLoop
			}
			out = append(out, d)
		}
		return out, nil
	}
	if d, ok := toData(v); ok {
		return []Value{d}, nil
	}
	return nil, errNoLoop
}

// HasLoopBack reports whether output of b's vertex has an edge back into it.
func (b *Build) HasLoopBack(output string) bool {
	return slices.ContainsFunc(b.Vertex.In, func(e *Edge) bool { return e.LoopBack && e.TargetField == output })
}

// SubFlowsFunc is a SubFlows of a function: the port of a service wired
// before the service exists (the run service runs sub-flows as runs of
// its own).
type SubFlowsFunc func(ctx context.Context, run RunInfo, req SubFlowRequest) (*SubFlowResult, error)

// RunFlow implements SubFlows.
func (f SubFlowsFunc) RunFlow(ctx context.Context, run RunInfo, req SubFlowRequest) (*SubFlowResult, error) {
	return f(ctx, run, req)
}
