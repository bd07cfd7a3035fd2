package engine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// CompactDumps is json.dumps(v, separators=(",", ":"), ensure_ascii=False):
// FastAPI's answers. PyDumps is the default json.dumps.
func TestCompactDumps(t *testing.T) {
	v := map[string]any{"b": []any{1.5, json.Number("2"), nil, true}, "a": "héllo \"q\"\n\u0001 😀", "c": json.RawMessage(`{"z": 1, "y": [2]}`)}
	assert.Equal(t, `{"a":"héllo \"q\"\n\u0001 😀","b":[1.5,2,null,true],"c":{"z":1,"y":[2]}}`, string(CompactDumps(v)))
	assert.Equal(t, `{"a": "h\u00e9llo \"q\"\n\u0001 \ud83d\ude00", "b": [1.5, 2, null, true], "c": {"z": 1, "y": [2]}}`, string(PyDumps(v)))
}
