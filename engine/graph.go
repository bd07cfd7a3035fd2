package engine

import (
	"fmt"
	"slices"
	"strings"
)

// Graph is a compiled flow: every vertex has a Go component and every
// edge joins an output to a field it fits. A Graph is never changed by a
// run; runs keep their state apart, so one Graph may run many times at
// once.
type Graph struct {
	// Vertices are in the flow's node order.
	Vertices []*Vertex
	Edges    []*Edge
	byID     map[string]*Vertex
}

// Vertex is a node of a graph with its component.
type Vertex struct {
	Node
	Component Component
	Spec      *Spec
	// In and Out are the vertex's edges, in the flow's edge order.
	In, Out []*Edge
	// IsInput and IsOutput: the vertex receives a run's input value / gives
	// its results (the type's role, or the node's override).
	IsInput, IsOutput bool
	// tools are the tools of a vertex in tool mode (Node.ToolMode, or an
	// edge leaves its component_as_tool output).
	tools []toolDef
}

// Vertex returns the vertex id.
func (g *Graph) Vertex(id string) (*Vertex, bool) {
	v, ok := g.byID[id]
	return v, ok
}

// interfaceTypes are the id prefixes Langflow treats as input and output
// vertices whatever their data.type says (§11.3 of the runtime reference).
var (
	inputPrefixes  = []string{"ChatInput", "Webhook", "TextInput"}
	outputPrefixes = []string{"ChatOutput", "DataOutput", "TextOutput"}
)

// Compile checks flow against the registry and returns its graph. Every
// problem is found before anything runs and reported together (an
// *InvalidFlowError): a node whose type has no Go component, a node whose
// code was edited, edges to unknown vertices, outputs or fields, edges
// whose types do not fit, a cycle without a loop component, two chat
// inputs, more vertices than maxVertices (0: no limit), a node in tool
// mode whose component cannot be a tool (see Tool). parsed are the
// problems ParseFlow found.
func Compile(flow *Flow, reg *Registry, maxVertices int, parsed ...Problem) (*Graph, error) {
	g := &Graph{byID: map[string]*Vertex{}}
	problems := slices.Clone(parsed)
	add := func(node, format string, args ...any) {
		problems = append(problems, Problem{Node: node, Msg: fmt.Sprintf(format, args...)})
	}
	if maxVertices > 0 && len(flow.Nodes) > maxVertices {
		add("", "the flow has %d components; a run may have at most %d", len(flow.Nodes), maxVertices)
	}
	for _, n := range flow.Nodes {
		if _, dup := g.byID[n.ID]; dup {
			add(n.ID, "two nodes have this id")
			continue
		}
		v := &Vertex{Node: n}
		g.byID[n.ID] = v
		g.Vertices = append(g.Vertices, v)
		c, ok := reg.Lookup(n.Type)
		switch {
		case !ok:
			add(n.ID, "component type %q has no Go implementation on this server; SkillFlaw runs only its built-in components, never a node's Python code", n.Type)
			continue
		case n.Edited:
			add(n.ID, "the code of this %s component was edited; SkillFlaw runs its own Go implementation of each type and refuses edited code rather than run it with different behaviour", n.Type)
		}
		v.Component, v.Spec = c, c.Spec()
		prefix, _, _ := strings.Cut(n.ID, "-")
		v.IsInput = v.Spec.IsInput || slices.Contains(inputPrefixes, prefix)
		v.IsOutput = v.Spec.IsOutput || slices.Contains(outputPrefixes, prefix)
		if n.IsInput != nil {
			v.IsInput = *n.IsInput
		}
		if n.IsOutput != nil {
			v.IsOutput = *n.IsOutput
		}
	}
	for i := range flow.Edges {
		if e := &flow.Edges[i]; e.SourceOutput == ToolOutput {
			if v, ok := g.byID[e.Source]; ok {
				v.ToolMode = true
			}
		}
	}
	for _, v := range g.Vertices {
		if v.ToolMode && v.Spec != nil {
			var msgs []string
			v.tools, msgs = toolDefs(v)
			for _, m := range msgs {
				add(v.ID, "%s", m)
			}
		}
	}
	for i := range flow.Edges {
		e := &flow.Edges[i]
		where := fmt.Sprintf("edge %s -> %s", e.Source, e.Target)
		src, okS := g.byID[e.Source]
		tgt, okT := g.byID[e.Target]
		if !okS {
			add(where, "source vertex %s not found", e.Source)
		}
		if !okT {
			add(where, "target vertex %s not found", e.Target)
		}
		if !okS || !okT || src.Spec == nil || tgt.Spec == nil {
			continue
		}
		if msg := checkEdge(e, src, tgt); msg != "" {
			add(where, "%s", msg)
			continue
		}
		g.Edges = append(g.Edges, e)
		src.Out = append(src.Out, e)
		tgt.In = append(tgt.In, e)
	}
	if cycle := g.cycle(); cycle != nil {
		add("", "the flow has a cycle without a loop component: %s", strings.Join(cycle, " -> "))
	}
	var chats []string
	for _, v := range g.Vertices {
		if v.Spec != nil && v.Spec.ChatInput && len(v.In) == 0 {
			chats = append(chats, v.ID)
		}
	}
	if len(chats) > 1 {
		add("", "Only one chat input is allowed in the graph (found %s)", strings.Join(chats, ", "))
	}
	if len(problems) > 0 {
		return nil, &InvalidFlowError{Problems: problems}
	}
	return g, nil
}

// checkEdge returns what is wrong with e, "" if nothing: the source must
// have the output, the target the field (or, for a loop-back edge, the
// loop output), and one of the output's types must be one the field
// accepts (Langflow's handle check: an output type among the input types,
// or the target type among the output types).
func checkEdge(e *Edge, src, tgt *Vertex) string {
	out, ok := src.Spec.Output(e.SourceOutput)
	if src.ToolMode {
		if e.SourceOutput != ToolOutput {
			return fmt.Sprintf("%s (%s) is in tool mode: its only output is %q, not %q", src.ID, src.Type, ToolOutput, e.SourceOutput)
		}
		out, ok = toolOutputSpec, true
	}
	if !ok {
		return fmt.Sprintf("%s (%s) has no output %q", src.ID, src.Type, e.SourceOutput)
	}
	outTypes := e.OutputTypes
	if len(outTypes) == 0 {
		outTypes = out.Types
	}
	if e.LoopBack {
		lo, ok := tgt.Spec.Output(e.TargetField)
		if !ok || !lo.AllowsLoop {
			return fmt.Sprintf("%s (%s) has no loop output %q", tgt.ID, tgt.Type, e.TargetField)
		}
		return ""
	}
	inTypes := e.InputTypes
	if f, ok := tgt.Spec.Field(e.TargetField); ok {
		if len(inTypes) == 0 {
			inTypes = f.InputTypes
		}
	} else if _, dynamic := tgt.Template[e.TargetField]; !dynamic || !tgt.Spec.DynamicFields {
		return fmt.Sprintf("%s (%s) has no field %q", tgt.ID, tgt.Type, e.TargetField)
	}
	for _, t := range outTypes {
		if slices.Contains(inTypes, t) {
			return ""
		}
	}
	if e.TargetType != "" && slices.Contains(outTypes, e.TargetType) {
		return ""
	}
	return fmt.Sprintf("Edge between %s and %s has invalid handles: output %q gives %v, field %q accepts %v",
		src.ID, tgt.ID, e.SourceOutput, outTypes, e.TargetField, inTypes)
}

// cycle returns the vertices of a cycle that does not pass through a loop
// component's loop-back edge, nil if there is none.
func (g *Graph) cycle() []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(v *Vertex) []string
	visit = func(v *Vertex) []string {
		state[v.ID] = onPath
		path = append(path, v.ID)
		for _, e := range v.Out {
			if e.LoopBack {
				continue
			}
			next := g.byID[e.Target]
			switch state[next.ID] {
			case onPath:
				i := slices.Index(path, next.ID)
				return append(slices.Clone(path[i:]), next.ID)
			case unseen:
				if c := visit(next); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[v.ID] = done
		return nil
	}
	for _, v := range g.Vertices {
		if state[v.ID] == unseen {
			if c := visit(v); c != nil {
				return c
			}
		}
	}
	return nil
}
