package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Flow is a flow's data as Langflow stores it ({"nodes", "edges",
// "viewport"}, or the same wrapped in {"data": …}), read into what the
// engine uses. Note nodes are left out. ParseFlow reads it; Compile turns
// it into a Graph.
type Flow struct {
	Nodes []Node
	Edges []Edge
}

// Node is a component node of a flow: data.id, data.type and data.node.
type Node struct {
	ID string
	// Type is data.type, the component type the engine dispatches on.
	Type        string
	DisplayName string
	// Template holds the node's fields by name (data.node.template).
	Template map[string]Field
	// Outputs are the node's declared outputs (data.node.outputs).
	Outputs []NodeOutput
	Frozen  bool
	// IsInput and IsOutput override the type's role when set.
	IsInput, IsOutput *bool
	// Edited is data.node.edited: the user changed the component's code.
	Edited bool
	// CustomFields is data.node.custom_fields (a Prompt's variables).
	CustomFields map[string][]string
	// ToolMode is data.node.tool_mode: the node is a tool of an agent, its
	// only output component_as_tool (see Tool). Its actions table, when the
	// node has one, is the template's tools_metadata field.
	ToolMode bool
}

// Field is one field of a node's template.
type Field struct {
	Name string
	// Type is the field's serialized type: str, int, float, bool, dict,
	// NestedDict, prompt, other, file, model, slider, tab, code …
	Type       string
	Value      any // decoded JSON (numbers as json.Number)
	HasValue   bool
	Show       bool
	Advanced   bool
	Required   bool
	List       bool
	LoadFromDB bool
	Password   bool
	InputTypes []string
	FilePath   any
}

// NodeOutput is one declared output of a node.
type NodeOutput struct {
	Name  string   `json:"name"`
	Types []string `json:"types"`
	// AllowsLoop marks the output of a loop component that a loop-back
	// edge may target.
	AllowsLoop bool `json:"allows_loop"`
}

// Edge joins an output of Source to a field of Target.
type Edge struct {
	ID     string
	Source string
	Target string
	// SourceOutput is sourceHandle.name, the source's output.
	SourceOutput string
	OutputTypes  []string
	SourceType   string // sourceHandle.dataType
	// TargetField is targetHandle.fieldName, the target's field (for a
	// loop-back edge, the loop output's name: targetHandle.name).
	TargetField string
	InputTypes  []string
	TargetType  string // targetHandle.type
	// LoopBack marks an edge into a loop component's output (its target
	// handle has the shape of an output handle).
	LoopBack bool
}

// Problem is one thing wrong with a flow, naming where.
type Problem struct {
	// Node is the node (or edge) the problem is about, "" for the flow.
	Node string
	Msg  string
}

func (p Problem) String() string {
	if p.Node == "" {
		return p.Msg
	}
	return p.Node + ": " + p.Msg
}

// InvalidFlowError lists every problem found in a flow before anything
// ran.
type InvalidFlowError struct{ Problems []Problem }

func (e *InvalidFlowError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	if len(parts) == 1 {
		return "invalid flow: " + parts[0]
	}
	return fmt.Sprintf("invalid flow (%d problems): %s", len(parts), strings.Join(parts, "; "))
}

type rawFlow struct {
	Data  *rawFlow          `json:"data"`
	Nodes []json.RawMessage `json:"nodes"`
	Edges []json.RawMessage `json:"edges"`
}

type rawNode struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Node *struct {
			DisplayName  string                     `json:"display_name"`
			Template     map[string]json.RawMessage `json:"template"`
			Outputs      []NodeOutput               `json:"outputs"`
			Frozen       bool                       `json:"frozen"`
			IsInput      *bool                      `json:"is_input"`
			IsOutput     *bool                      `json:"is_output"`
			Edited       bool                       `json:"edited"`
			CustomFields map[string][]string        `json:"custom_fields"`
			ToolMode     bool                       `json:"tool_mode"`
		} `json:"node"`
	} `json:"data"`
}

type rawField struct {
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	Show       *bool           `json:"show"`
	Advanced   bool            `json:"advanced"`
	Required   bool            `json:"required"`
	List       bool            `json:"list"`
	LoadFromDB bool            `json:"load_from_db"`
	Password   bool            `json:"password"`
	InputTypes []string        `json:"input_types"`
	FilePath   json.RawMessage `json:"file_path"`
}

type rawHandle struct {
	DataType    string   `json:"dataType"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	OutputTypes []string `json:"output_types"`
	FieldName   string   `json:"fieldName"`
	InputTypes  []string `json:"inputTypes"`
	Type        string   `json:"type"`
}

type rawEdge struct {
	ID           string          `json:"id"`
	Source       string          `json:"source"`
	Target       string          `json:"target"`
	SourceHandle json.RawMessage `json:"sourceHandle"`
	TargetHandle json.RawMessage `json:"targetHandle"`
	Data         *struct {
		SourceHandle *rawHandle `json:"sourceHandle"`
		TargetHandle *rawHandle `json:"targetHandle"`
	} `json:"data"`
}

// ParseFlow reads a flow's data. It fails only on JSON that is not a
// flow at all; what is wrong inside the flow (a node without an id, an
// edge whose handles cannot be read) is listed in the problems, for
// Compile to report with everything else.
func ParseFlow(data []byte) (*Flow, []Problem, error) {
	var raw rawFlow
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("flow data is not a JSON object with nodes and edges: %w", err)
	}
	if raw.Data != nil && raw.Nodes == nil && raw.Edges == nil {
		raw = *raw.Data
	}
	f := &Flow{}
	var problems []Problem
	for i, rn := range raw.Nodes {
		n, skip, err := parseNode(rn)
		switch {
		case err != nil:
			problems = append(problems, Problem{Node: fmt.Sprintf("node %d", i), Msg: err.Error()})
		case !skip:
			f.Nodes = append(f.Nodes, n)
		}
	}
	for i, re := range raw.Edges {
		e, err := parseEdge(re)
		if err != nil {
			problems = append(problems, Problem{Node: fmt.Sprintf("edge %d", i), Msg: err.Error()})
			continue
		}
		f.Edges = append(f.Edges, e)
	}
	return f, problems, nil
}

func decodeAny(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// parseNode reads one node; skip is true for note nodes.
func parseNode(raw json.RawMessage) (Node, bool, error) {
	var rn rawNode
	if err := json.Unmarshal(raw, &rn); err != nil {
		return Node{}, false, fmt.Errorf("not a node: %w", err)
	}
	if rn.Type == "noteNode" || (rn.Data != nil && rn.Data.Type == "note") {
		return Node{}, true, nil
	}
	if rn.Data == nil || rn.Data.Node == nil {
		return Node{}, false, fmt.Errorf("node %q has no data.node", rn.ID)
	}
	id := rn.Data.ID
	if id == "" {
		id = rn.ID
	}
	if id == "" {
		return Node{}, false, fmt.Errorf("a node has no id")
	}
	if rn.ID != "" && rn.Data.ID != "" && rn.ID != rn.Data.ID {
		return Node{}, false, fmt.Errorf("node %q: data.id is %q", rn.ID, rn.Data.ID)
	}
	dn := rn.Data.Node
	n := Node{ID: id, Type: rn.Data.Type, DisplayName: dn.DisplayName, Template: map[string]Field{}, Outputs: dn.Outputs,
		Frozen: dn.Frozen, IsInput: dn.IsInput, IsOutput: dn.IsOutput, Edited: dn.Edited, CustomFields: dn.CustomFields, ToolMode: dn.ToolMode}
	if n.Type == "" {
		n.Type, _, _ = strings.Cut(id, "-")
	}
	for name, rawF := range dn.Template {
		var rf rawField
		if err := json.Unmarshal(rawF, &rf); err != nil || rf.Type == "" {
			continue // not a field (_type, _frontend_node_flow_id, is_refresh …)
		}
		v, err := decodeAny(rf.Value)
		if err != nil {
			return Node{}, false, fmt.Errorf("node %q field %q: %w", id, name, err)
		}
		fp, _ := decodeAny(rf.FilePath)
		n.Template[name] = Field{Name: name, Type: rf.Type, Value: v, HasValue: len(rf.Value) > 0, Show: rf.Show == nil || *rf.Show,
			Advanced: rf.Advanced, Required: rf.Required, List: rf.List, LoadFromDB: rf.LoadFromDB, Password: rf.Password,
			InputTypes: rf.InputTypes, FilePath: fp}
	}
	return n, false, nil
}

// parseEdge reads one edge from its data handles, else from the handle
// strings (œ-encoded JSON, or plain JSON).
func parseEdge(raw json.RawMessage) (Edge, error) {
	var re rawEdge
	if err := json.Unmarshal(raw, &re); err != nil {
		return Edge{}, fmt.Errorf("not an edge: %w", err)
	}
	var src, tgt *rawHandle
	if re.Data != nil {
		src, tgt = re.Data.SourceHandle, re.Data.TargetHandle
	}
	var err error
	if src == nil {
		if src, err = handleString(re.SourceHandle); err != nil {
			return Edge{}, fmt.Errorf("edge %s -> %s: source handle: %w", re.Source, re.Target, err)
		}
	}
	if tgt == nil {
		if tgt, err = handleString(re.TargetHandle); err != nil {
			return Edge{}, fmt.Errorf("edge %s -> %s: target handle: %w", re.Source, re.Target, err)
		}
	}
	if re.Source == "" {
		re.Source = src.ID
	}
	if re.Target == "" {
		re.Target = tgt.ID
	}
	e := Edge{ID: re.ID, Source: re.Source, Target: re.Target, SourceOutput: src.Name, OutputTypes: src.OutputTypes,
		SourceType: src.DataType, TargetField: tgt.FieldName, InputTypes: tgt.InputTypes, TargetType: tgt.Type}
	if tgt.FieldName == "" && tgt.Name != "" {
		e.LoopBack, e.TargetField, e.InputTypes = true, tgt.Name, tgt.OutputTypes
	}
	switch {
	case e.Source == "" || e.Target == "":
		return e, fmt.Errorf("an edge lacks its source or target")
	case src.ID != "" && src.ID != e.Source:
		return e, fmt.Errorf("edge %s -> %s: its source handle names %q", e.Source, e.Target, src.ID)
	case tgt.ID != "" && tgt.ID != e.Target:
		return e, fmt.Errorf("edge %s -> %s: its target handle names %q", e.Source, e.Target, tgt.ID)
	case e.SourceOutput == "":
		return e, fmt.Errorf("edge %s -> %s: its source handle names no output", e.Source, e.Target)
	case e.TargetField == "":
		return e, fmt.Errorf("edge %s -> %s: its target handle names no field", e.Source, e.Target)
	}
	return e, nil
}

// handleString decodes a handle string: JSON with every " written as œ
// (Langflow's escape_json_dump), or plain JSON.
func handleString(raw json.RawMessage) (*rawHandle, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return nil, fmt.Errorf("missing")
	}
	var h rawHandle
	if err := json.Unmarshal([]byte(strings.ReplaceAll(s, "œ", `"`)), &h); err != nil {
		return nil, fmt.Errorf("unreadable handle %q", s)
	}
	return &h, nil
}
