package starters_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/starters"
)

// The parts of a node and an edge the graph's consistency depends on.
type (
	testNode struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Position *struct {
			X, Y float64
		} `json:"position"`
		Data struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Node *struct {
				DisplayName string                     `json:"display_name"`
				Template    map[string]json.RawMessage `json:"template"`
				BaseClasses []string                   `json:"base_classes"`
				Outputs     []struct {
					Name  string   `json:"name"`
					Types []string `json:"types"`
				} `json:"outputs"`
			} `json:"node"`
		} `json:"data"`
	}
	testHandle struct {
		// source handles
		DataType    string   `json:"dataType,omitempty"`
		Name        string   `json:"name,omitempty"`
		OutputTypes []string `json:"output_types,omitempty"`
		// target handles
		FieldName  string   `json:"fieldName,omitempty"`
		InputTypes []string `json:"inputTypes,omitempty"`
		Type       string   `json:"type,omitempty"`
		ID         string   `json:"id"`
	}
	testEdge struct {
		ID           string `json:"id"`
		Source       string `json:"source"`
		Target       string `json:"target"`
		SourceHandle string `json:"sourceHandle"`
		TargetHandle string `json:"targetHandle"`
		Data         struct {
			SourceHandle testHandle `json:"sourceHandle"`
			TargetHandle testHandle `json:"targetHandle"`
		} `json:"data"`
	}
	testField struct {
		Type       string   `json:"type"`
		InputTypes []string `json:"input_types"`
	}
)

// decodeHandle reads React Flow's handle string: JSON with œ for quotes.
func decodeHandle(t *testing.T, s string) testHandle {
	t.Helper()
	var h testHandle
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(s, "œ", `"`)), &h), s)
	return h
}

// Every starter graph is well formed: unique node ids, every node with a
// type and a template, every edge between existing nodes, from an output
// the source has, into a field the target has, whose input types accept
// what the output gives; the encoded handles say what the edge's data says.
func TestStarters_WellFormed(t *testing.T) {
	t.Parallel()
	all, err := starters.All()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(all), 3)
	names := map[string]bool{}
	for _, g := range all {
		t.Run(g.Name, func(t *testing.T) {
			assert.False(t, names[g.Name], "two starter projects named %q", g.Name)
			names[g.Name] = true
			assert.NotEmpty(t, g.Description)
			assert.False(t, g.IsComponent)
			assert.Positive(t, g.Data.Viewport.Zoom)

			nodes := map[string]testNode{}
			components := 0
			for i, raw := range g.Data.Nodes {
				var n testNode
				require.NoError(t, json.Unmarshal(raw, &n), "node %d", i)
				require.NotEmpty(t, n.ID, "node %d has no id", i)
				_, dup := nodes[n.ID]
				require.False(t, dup, "node id %s twice", n.ID)
				nodes[n.ID] = n
				assert.Equal(t, n.ID, n.Data.ID, "node %s: data.id", n.ID)
				assert.NotNil(t, n.Position, "node %s: position", n.ID)
				assert.NotEmpty(t, n.Data.Type, "node %s: data.type", n.ID)
				require.NotNil(t, n.Data.Node, "node %s: data.node", n.ID)
				assert.NotEmpty(t, n.Data.Node.Template, "node %s: data.node.template", n.ID)
				switch n.Type {
				case "genericNode":
					components++
					assert.True(t, strings.HasPrefix(n.ID, n.Data.Type+"-"), "node %s: id starts with its type", n.ID)
					assert.NotEmpty(t, n.Data.Node.DisplayName, "node %s: display_name", n.ID)
					assert.NotEmpty(t, n.Data.Node.BaseClasses, "node %s: base_classes", n.ID)
					assert.NotEmpty(t, n.Data.Node.Outputs, "node %s: outputs", n.ID)
					assert.Contains(t, n.Data.Node.Template, "_type", "node %s", n.ID)
				case "noteNode":
				default:
					t.Errorf("node %s: type %q, want genericNode or noteNode", n.ID, n.Type)
				}
			}
			require.GreaterOrEqual(t, components, 3)

			require.NotEmpty(t, g.Data.Edges)
			connected := map[string]bool{}
			edgeIDs := map[string]bool{}
			for i, raw := range g.Data.Edges {
				var e testEdge
				require.NoError(t, json.Unmarshal(raw, &e), "edge %d", i)
				assert.False(t, edgeIDs[e.ID], "edge id %s twice", e.ID)
				edgeIDs[e.ID] = true
				src, ok := nodes[e.Source]
				require.True(t, ok, "edge %d: source %q is no node", i, e.Source)
				tgt, ok := nodes[e.Target]
				require.True(t, ok, "edge %d: target %q is no node", i, e.Target)
				require.NotEqual(t, e.Source, e.Target, "edge %d loops", i)
				connected[e.Source], connected[e.Target] = true, true

				sh, th := e.Data.SourceHandle, e.Data.TargetHandle
				assert.Equal(t, sh, decodeHandle(t, e.SourceHandle), "edge %d: sourceHandle string and data", i)
				assert.Equal(t, th, decodeHandle(t, e.TargetHandle), "edge %d: targetHandle string and data", i)
				assert.Equal(t, e.Source, sh.ID, "edge %d", i)
				assert.Equal(t, e.Target, th.ID, "edge %d", i)
				assert.Equal(t, src.Data.Type, sh.DataType, "edge %d", i)

				j := slices.IndexFunc(src.Data.Node.Outputs, func(o struct {
					Name  string   `json:"name"`
					Types []string `json:"types"`
				}) bool {
					return o.Name == sh.Name
				})
				require.GreaterOrEqual(t, j, 0, "edge %d: %s has no output %q", i, e.Source, sh.Name)
				assert.Equal(t, src.Data.Node.Outputs[j].Types, sh.OutputTypes, "edge %d", i)

				rawField, ok := tgt.Data.Node.Template[th.FieldName]
				require.True(t, ok, "edge %d: %s has no field %q", i, e.Target, th.FieldName)
				var f testField
				require.NoError(t, json.Unmarshal(rawField, &f))
				// Langflow's own flows say "str" on edges into handle-only
				// ("other") fields, such as ChatOutput's input; both read alike.
				if !(f.Type == "other" && th.Type == "str") {
					assert.Equal(t, f.Type, th.Type, "edge %d: field type", i)
				}
				assert.Equal(t, f.InputTypes, th.InputTypes, "edge %d: input types", i)
				assert.True(t, slices.ContainsFunc(sh.OutputTypes, func(s string) bool { return slices.Contains(th.InputTypes, s) }),
					"edge %d: %v does not accept %v", i, th.InputTypes, sh.OutputTypes)
			}
			for id, n := range nodes {
				if n.Type == "genericNode" {
					assert.True(t, connected[id], "component %s is connected to nothing", id)
				}
			}
		})
	}
}

// All parses once and hands out the same projects.
func TestStarters_AllIsStable(t *testing.T) {
	t.Parallel()
	a, err := starters.All()
	require.NoError(t, err)
	b, err := starters.All()
	require.NoError(t, err)
	assert.Equal(t, a, b)
	want := []string{"Basic Prompting", "Memory Chatbot", "Basic Prompt Chaining", "Twitter Thread Generator"}
	got := make([]string, len(a))
	for i, g := range a {
		got[i] = g.Name
	}
	assert.Equal(t, want, got)
}
