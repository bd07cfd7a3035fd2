// Package promptgraph builds Langflow-shaped graphs of prompt nodes in a
// chain (about 1.2 KiB a node), for the tests of big flows: graph edits
// recorded as patches (domain) and through the API (app).
package promptgraph

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Graph is a flow's data: nodes, edges and viewport, numbers as written.
type Graph struct {
	Nodes    []map[string]any `json:"nodes"`
	Edges    []map[string]any `json:"edges"`
	Viewport map[string]any   `json:"viewport"`
	toolMode bool
}

// New returns a chain of n prompt nodes; toolMode gives every node's
// template a tool_mode field too (and nodes Node adds later).
func New(n int, toolMode bool) *Graph {
	g := &Graph{Viewport: map[string]any{"x": 0, "y": 0, "zoom": json.Number("0.5")}, toolMode: toolMode}
	for i := range n {
		g.Nodes = append(g.Nodes, g.Node(i))
		if i > 0 {
			g.Edges = append(g.Edges, map[string]any{"id": fmt.Sprintf("e-%05d", i),
				"source": fmt.Sprintf("Prompt-%05d", i-1), "target": fmt.Sprintf("Prompt-%05d", i)})
		}
	}
	return g
}

// Node returns prompt node i of g's kind (not added to g).
func (g *Graph) Node(i int) map[string]any {
	id := fmt.Sprintf("Prompt-%05d", i)
	field := func(typ string, v any, name string) map[string]any {
		return map[string]any{"type": typ, "value": v, "display_name": name, "info": "Variable of the template.", "show": true}
	}
	template := map[string]any{
		"template":    field("prompt", "Answer using {context}\nQuestion: {question}", "Template"),
		"temperature": field("float", json.Number("0.10"), "Temperature"),
		"context":     field("str", "", "context"),
	}
	if g.toolMode {
		template["tool_mode"] = field("bool", false, "Tool Mode")
	}
	return map[string]any{"id": id, "type": "genericNode", "width": 384, "height": 420,
		"position": map[string]any{"x": i * 300, "y": (i % 7) * 250},
		"data": map[string]any{"type": "Prompt", "id": id, "node": map[string]any{
			"display_name": fmt.Sprintf("Prompt %d", i), "description": "Create a prompt template with dynamic variables.",
			"template": template}}}
}

// JSON encodes g.
func (g *Graph) JSON(t *testing.T) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(g)
	require.NoError(t, err)
	return raw
}
