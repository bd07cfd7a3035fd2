package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// TestFlowGraphPatch_SQLAgreesWithGo applies patches with the flows
// projection's flow_graph_patch (SQL, on jsonb) and with graphpatch.Apply
// (Go, what the log's folds use) and requires equal documents, for the
// operations Diff makes and for every other RFC 6902 operation; and that
// both refuse a patch that does not apply.
func TestFlowGraphPatch_SQLAgreesWithGo(t *testing.T) {
	t.Parallel()
	pool := testkit.NewDatabase(t)
	ctx := context.Background()
	sqlApply := func(doc, patch []byte) ([]byte, error) {
		var out []byte
		err := pool.QueryRow(ctx, `SELECT flow_graph_patch($1::jsonb, $2::jsonb)::text`, string(doc), string(patch)).Scan(&out)
		return out, err
	}
	check := func(name string, doc, patch []byte) {
		t.Helper()
		want, goErr := graphpatch.Apply(doc, patch)
		got, sqlErr := sqlApply(doc, patch)
		if goErr != nil {
			assert.Error(t, sqlErr, "%s: Go refuses %s: %v", name, patch, goErr)
			return
		}
		require.NoError(t, sqlErr, "%s: %s", name, patch)
		assert.True(t, graphpatch.Equal(got, want), "%s: %s\nSQL: %s\nGo:  %s", name, patch, got, want)
	}

	doc := []byte(`{"a":[1,2,{"b":null}],"o":{"x/y":{"~":1},"":2,"-":3,"7":[]},"n":1.50}`)
	for _, p := range []string{
		`[]`,
		`[{"op":"replace","path":"/a/2/b","value":{"c":[1]}}]`,
		`[{"op":"add","path":"/a/1","value":"in"}]`,
		`[{"op":"add","path":"/a/3","value":"end"}]`,
		`[{"op":"add","path":"/a/-","value":"end"}]`,
		`[{"op":"add","path":"/o/7/-","value":0}]`,
		`[{"op":"add","path":"/o/new","value":[]}]`,
		`[{"op":"add","path":"/o/-","value":"member named -"}]`,
		`[{"op":"add","path":"/n","value":2}]`,
		`[{"op":"replace","path":"/o/x~1y/~0","value":2}]`,
		`[{"op":"replace","path":"/o/","value":"empty name"}]`,
		`[{"op":"remove","path":"/a/0"},{"op":"remove","path":"/o/7"}]`,
		`[{"op":"move","from":"/a/0","path":"/o/first"}]`,
		`[{"op":"copy","from":"/o","path":"/a/0"}]`,
		`[{"op":"test","path":"/a/0","value":1},{"op":"replace","path":"/a/0","value":5}]`,
		`[{"op":"replace","path":"","value":[true]}]`,
		`[{"op":"add","path":"","value":{"z":1}}]`,
		// Patches that do not apply.
		`[{"op":"replace","path":"/missing","value":1}]`,
		`[{"op":"remove","path":"/a/9"}]`,
		`[{"op":"add","path":"/a/9","value":1}]`,
		`[{"op":"add","path":"/missing/x","value":1}]`,
		`[{"op":"test","path":"/a/0","value":2}]`,
		`[{"op":"jump","path":"/a"}]`,
	} {
		check("fixed", doc, []byte(p))
	}

	// Chains of the patches Diff makes for random edits.
	rng := rand.New(rand.NewPCG(3, 5))
	g := map[string]any{"nodes": []any{}, "viewport": map[string]any{"zoom": json.Number("0.50")}}
	for i := range 15 {
		g["nodes"] = append(g["nodes"].([]any), map[string]any{"id": fmt.Sprint(i), "position": map[string]any{"x": i}})
	}
	cur, err := json.Marshal(g)
	require.NoError(t, err)
	row := cur
	for step := range 60 {
		nodes := g["nodes"].([]any)
		switch rng.IntN(5) {
		case 0:
			g["nodes"] = append(nodes, map[string]any{"id": fmt.Sprint(100 + step), "k/~": "<>&"})
		case 1:
			g["nodes"] = append([]any{map[string]any{"id": fmt.Sprint(200 + step)}}, nodes...)
		case 2:
			if len(nodes) > 3 {
				g["nodes"] = nodes[1:]
			}
		default:
			n := nodes[rng.IntN(len(nodes))].(map[string]any)
			n["position"] = map[string]any{"x": json.Number(fmt.Sprintf("%d.0", rng.IntN(1000)))}
		}
		next, err := json.Marshal(g)
		require.NoError(t, err)
		patch, err := graphpatch.Diff(cur, next)
		require.NoError(t, err)
		check(fmt.Sprintf("step %d", step), cur, patch)
		row, err = sqlApply(row, patch) // the row, patched edit after edit
		require.NoError(t, err)
		require.True(t, graphpatch.Equal(row, next), "step %d: the row after the chain", step)
		cur = next
	}
}
