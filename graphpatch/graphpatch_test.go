package graphpatch_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/graphpatch"
)

func TestDiff_apply_gives_the_target(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ from, to string }{
		"same":             {`{"a":1}`, `{"a": 1}`},
		"member order":     {`{"a":1,"b":2}`, `{"b":2,"a":1}`},
		"move a node":      {`{"nodes":[{"id":"a","position":{"x":0,"y":0}},{"id":"b"}]}`, `{"nodes":[{"id":"a","position":{"x":15,"y":0}},{"id":"b"}]}`},
		"append a node":    {`{"nodes":[{"id":"a"}]}`, `{"nodes":[{"id":"a"},{"id":"b"}]}`},
		"remove a node":    {`{"nodes":[{"id":"a"},{"id":"b"},{"id":"c"}]}`, `{"nodes":[{"id":"a"},{"id":"c"}]}`},
		"numbers as text":  {`{"t":1.0,"big":12345678901234567890123}`, `{"t":1.50,"big":12345678901234567890124}`},
		"1.0 to 1":         {`{"t":1.0}`, `{"t":1}`},
		"escaped keys":     {`{"a/b":{"c~d":1},"":2}`, `{"a/b":{"c~d":2},"":3}`},
		"type change":      {`{"v":[1,2]}`, `{"v":{"0":1}}`},
		"unicode and html": {`{"s":"<a>"}`, `{"s":"œ & <b> \u2028"}`},
		"null and bool":    {`{"a":null,"b":true}`, `{"a":false,"b":null}`},
		"root array":       {`[1,2,3]`, `[3,2,1,0]`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			patch, err := graphpatch.Diff([]byte(c.from), []byte(c.to))
			require.NoError(t, err)
			got, err := graphpatch.Apply([]byte(c.from), patch)
			require.NoError(t, err)
			assert.True(t, graphpatch.Equal(got, []byte(c.to)), "got %s, want %s (patch %s)", got, c.to, patch)
			var ops []map[string]any
			require.NoError(t, json.Unmarshal(patch, &ops), "an RFC 6902 array of operations")
		})
	}
}

func TestApply_several_patches_in_one_pass(t *testing.T) {
	t.Parallel()
	docs := []string{`{"n":[{"x":0}]}`, `{"n":[{"x":1}]}`, `{"n":[{"x":1},{"x":2}]}`, `{"n":[{"x":3},{"x":2}],"v":1}`}
	var patches []json.RawMessage
	for i := 1; i < len(docs); i++ {
		p, err := graphpatch.Diff([]byte(docs[i-1]), []byte(docs[i]))
		require.NoError(t, err)
		patches = append(patches, p)
	}
	got, err := graphpatch.Apply([]byte(docs[0]), patches...)
	require.NoError(t, err)
	assert.True(t, graphpatch.Equal(got, []byte(docs[len(docs)-1])), "%s", got)
}

func TestApply_refuses_a_patch_of_another_document(t *testing.T) {
	t.Parallel()
	_, err := graphpatch.Apply([]byte(`{"a":{}}`), json.RawMessage(`[{"op":"replace","path":"/b/c","value":1}]`))
	require.Error(t, err)
	_, err = graphpatch.Apply([]byte(`{"a":{}}`), json.RawMessage(`{"op":"replace"}`))
	require.Error(t, err, "not an array of operations")
}

func TestEqual(t *testing.T) {
	t.Parallel()
	assert.True(t, graphpatch.Equal([]byte(`{"a":[1,{"b":"c"}],"d":null}`), []byte(` {"d": null, "a": [1, {"b": "c"}]}`)))
	assert.False(t, graphpatch.Equal([]byte(`{"a":1.0}`), []byte(`{"a":1}`)), "numbers as written")
	assert.False(t, graphpatch.Equal([]byte(`[1,2]`), []byte(`[2,1]`)))
	assert.False(t, graphpatch.Equal([]byte(`{"a":1}`), []byte(`{"a":1,"b":1}`)))
	assert.False(t, graphpatch.Equal([]byte(`{`), []byte(`{`)), "invalid JSON equals nothing")
}
