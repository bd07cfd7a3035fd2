// Package starters holds the starter projects shipped with the server
// (GET /api/v1/starter-projects/): small, complete graphs in Langflow's
// node JSON shape — data.nodes (genericNode components with their
// templates and outputs, and notes), data.edges (with React Flow's encoded
// handles) and data.viewport — written for SkillFlaw.
//
// Each *.json file is one project in the shape of Langflow's GraphDump:
// {"data": {"nodes", "edges", "viewport"}, "is_component", "name",
// "description", "endpoint_name"}. Files are served in the order of their
// names (hence the numeric prefixes).
package starters

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

//go:embed *.json
var files embed.FS

// GraphDump is a starter project as the API serves it (Langflow's
// GraphDump).
type GraphDump struct {
	Data         GraphData `json:"data"`
	IsComponent  bool      `json:"is_component"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	EndpointName *string   `json:"endpoint_name"`
}

// GraphData is a graph: its nodes and edges, kept as written, and where the
// canvas looks.
type GraphData struct {
	Nodes    []json.RawMessage `json:"nodes"`
	Edges    []json.RawMessage `json:"edges"`
	Viewport Viewport          `json:"viewport"`
}

// Viewport is React Flow's view of the canvas.
type Viewport struct {
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Zoom float64 `json:"zoom"`
}

var load = sync.OnceValues(parse)

// All returns the starter projects, parsed once; callers must not change
// them.
func All() ([]GraphDump, error) { return load() }

// parse reads every embedded file, strictly: an unknown top-level key or a
// missing part is an error, so a typo cannot ship.
func parse() ([]GraphDump, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]GraphDump, 0, len(names))
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var g GraphDump
		if err := dec.Decode(&g); err != nil {
			return nil, fmt.Errorf("starter project %s: %w", name, err)
		}
		switch {
		case g.Name == "":
			return nil, fmt.Errorf("starter project %s: no name", name)
		case len(g.Data.Nodes) == 0:
			return nil, fmt.Errorf("starter project %s: no nodes", name)
		case g.Data.Edges == nil:
			g.Data.Edges = []json.RawMessage{}
		}
		out = append(out, g)
	}
	return out, nil
}
