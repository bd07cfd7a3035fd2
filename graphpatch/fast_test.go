package graphpatch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyInPlace_agrees_with_json_patch applies random patches both in
// place and with json-patch and requires the same documents; and that the
// operations it does not take are handed over.
func TestApplyInPlace_agrees_with_json_patch(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	doc := map[string]any{"nodes": []any{}, "edges": []any{}, "viewport": map[string]any{"zoom": 1}}
	node := func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("n-%d", i), "position": map[string]any{"x": i, "y": 0},
			"data": map[string]any{"0": "numeric key", "template": map[string]any{"v": fmt.Sprintf("<%d> \"q\"", i)}}}
	}
	for i := range 20 {
		doc["nodes"] = append(doc["nodes"].([]any), node(i))
	}
	inPlace := 0
	for step := range 300 {
		from, err := json.Marshal(doc)
		require.NoError(t, err)
		nodes := doc["nodes"].([]any)
		n := nodes[rng.IntN(len(nodes))].(map[string]any)
		switch rng.IntN(7) {
		case 0:
			if pos, ok := n["position"].(map[string]any); ok {
				pos["x"] = rng.Float64()
			} else {
				n["position"] = map[string]any{"x": step}
			}
		case 1:
			doc["nodes"] = append(nodes, node(100+step))
		case 2:
			if len(nodes) > 5 {
				doc["nodes"] = nodes[:len(nodes)-1]
			}
		case 3:
			n["data"].(map[string]any)["0"] = step // a numeric key: handed over
		case 4:
			delete(n, "position")
			n["position2"] = []any{step}
		case 5:
			doc["edges"] = append(doc["edges"].([]any), map[string]any{"id": step, "a/b": "~"})
		default:
			n["data"].(map[string]any)["template"].(map[string]any)["v"] = nil
		}
		to, err := json.Marshal(doc)
		require.NoError(t, err)
		patch, err := Diff(from, to)
		require.NoError(t, err, "step %d", step)
		var ops []operation
		require.NoError(t, json.Unmarshal(patch, &ops))
		p, err := jsonpatch.DecodePatch(patch)
		require.NoError(t, err)
		want, err := p.Apply(from)
		require.NoError(t, err)
		if got, ok := applyInPlace(from, ops); ok {
			inPlace++
			require.True(t, Equal(got, want), "step %d: %s\nin place: %s\njson-patch: %s", step, patch, got, want)
		}
		require.True(t, Equal(want, to), "step %d", step)
	}
	assert.Greater(t, inPlace, 150, "most edits are applied in place")
}

func TestApplyInPlace_hands_over(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"a":[1,2,3],"o":{"-1":1,"7":2,"x/y":3}}`)
	for _, patch := range []string{
		`[{"op":"add","path":"/a/1","value":9}]`,      // insertion inside an array
		`[{"op":"replace","path":"/o/-1","value":9}]`, // a name like an index
		`[{"op":"replace","path":"/o/7","value":9}]`,
		`[{"op":"replace","path":"/o/x~1y","value":9}]`,
		`[{"op":"move","from":"/a/0","path":"/a/-"}]`,
		`[{"op":"test","path":"/a/0","value":1}]`,
		`[{"op":"replace","path":"","value":9}]`,
		`[{"op":"replace","path":"/a/3","value":9}]`, // out of range: json-patch's error
		`[{"op":"remove","path":"/o/none"}]`,
	} {
		var ops []operation
		require.NoError(t, json.Unmarshal([]byte(patch), &ops))
		_, ok := applyInPlace(doc, ops)
		assert.False(t, ok, patch)
		p, err := jsonpatch.DecodePatch([]byte(patch))
		require.NoError(t, err)
		want, wantErr := p.Apply(doc)
		got, err := Apply(doc, json.RawMessage(patch))
		if wantErr != nil {
			assert.Error(t, err, patch)
			continue
		}
		require.NoError(t, err, patch)
		assert.True(t, Equal(got, want), patch)
	}
}
