package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// Component is the Go implementation of one Langflow component type. The
// engine dispatches on a node's data.type (or one of the Spec's aliases),
// never on the Python source a node carries.
type Component interface {
	// Spec declares the component: its node template (fields, outputs)
	// and role. It validates nodes and is what the component catalogue
	// serves.
	Spec() *Spec
	// Build computes the outputs b asks for (b.Wants) from b's parameters
	// and sets them (b.Set). An error fails the vertex: its descendants
	// do not run, other branches go on.
	Build(ctx context.Context, b *Build) error
}

// Spec declares a component type as Langflow's node template does.
type Spec struct {
	// Type is the catalogue name (data.type of new nodes); Aliases are the
	// other data.type values flows carry for it ("Prompt" for "Prompt
	// Template", "parser" for "ParserComponent" …).
	Type    string
	Aliases []string
	// Category is the catalogue's section for the component: the
	// sub-package of lfx/components Langflow 1.7 files it under
	// (input_output, models_and_agents, processing, flow_controls,
	// openai …). Empty files it under DefaultCategory.
	Category string
	// DisplayName, Description, Icon and BaseClasses are as in Langflow.
	DisplayName string
	Description string
	Icon        string
	BaseClasses []string
	Fields      []FieldSpec
	Outputs     []OutputSpec
	// IsInput and IsOutput mark interface vertices: input vertices receive
	// a run's input value (ChatInput, TextInput, Webhook), output vertices
	// give its results (ChatOutput, TextOutput).
	IsInput, IsOutput bool
	// Chat marks ChatInput, which runs first in its own layer.
	ChatInput bool
	// Loop marks a loop component (a cycle through it is allowed).
	Loop bool
	// Minimized and Legacy are the catalogue's flags of the same names
	// (the chat input and output are shown minimized; a legacy component
	// is kept for old flows).
	Minimized, Legacy bool
	// DynamicFields allows fields the spec does not list (a Prompt's
	// variables, named by custom_fields).
	DynamicFields bool
}

// FieldSpec declares one field of a component's template.
type FieldSpec struct {
	Name        string
	DisplayName string
	// Type is the serialized field type: str, int, float, bool, dict,
	// NestedDict, prompt, other, file, model, slider, tab …
	Type string
	// Input is Langflow's input class (MessageTextInput, MessageInput,
	// HandleInput, SecretStrInput …): it decides how a connected value is
	// coerced (Build.Str, Build.Message).
	Input      string
	Default    any
	InputTypes []string
	List       bool
	Advanced   bool
	Required   bool
	Show       *bool
	Password   bool
	LoadFromDB bool
	Multiline  bool
	Options    []string
	Info       string
	// ToolMode marks an input that is an argument of the component when
	// it runs as a tool (Langflow's tool_mode=True inputs).
	ToolMode bool
}

// OutputSpec declares one output of a component.
type OutputSpec struct {
	Name        string
	DisplayName string
	Types       []string
	Method      string
	// GroupOutputs shows all outputs at once (a router's true and false).
	GroupOutputs bool
	AllowsLoop   bool
}

// Field returns the spec's field name.
func (s *Spec) Field(name string) (FieldSpec, bool) {
	i := slices.IndexFunc(s.Fields, func(f FieldSpec) bool { return f.Name == name })
	if i < 0 {
		return FieldSpec{}, false
	}
	return s.Fields[i], true
}

// Output returns the spec's output name.
func (s *Spec) Output(name string) (OutputSpec, bool) {
	i := slices.IndexFunc(s.Outputs, func(o OutputSpec) bool { return o.Name == name })
	if i < 0 {
		return OutputSpec{}, false
	}
	return s.Outputs[i], true
}

// Registry maps data.type values (and aliases) to components. main (and
// tests) build one; there is no global registry.
type Registry struct {
	byType map[string]Component
	specs  []*Spec
}

// NewRegistry returns a registry of comps; a type or alias declared twice
// is an error.
func NewRegistry(comps ...Component) (*Registry, error) {
	r := &Registry{byType: map[string]Component{}}
	for _, c := range comps {
		s := c.Spec()
		for _, name := range append([]string{s.Type}, s.Aliases...) {
			if _, dup := r.byType[name]; dup {
				return nil, fmt.Errorf("component type %q registered twice", name)
			}
			r.byType[name] = c
		}
		r.specs = append(r.specs, s)
	}
	sort.Slice(r.specs, func(i, j int) bool { return r.specs[i].Type < r.specs[j].Type })
	return r, nil
}

// Lookup returns the component of a node's data.type.
func (r *Registry) Lookup(typ string) (Component, bool) {
	c, ok := r.byType[typ]
	return c, ok
}

// Specs lists every registered component's spec, by type.
func (r *Registry) Specs() []*Spec { return slices.Clone(r.specs) }
