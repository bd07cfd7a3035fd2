package runs

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The bytes Python writes, checked against values printed by CPython
// 3.12 (json.dumps, yaml.dump of PyYAML 6, langflow's format_elapsed_time).

func TestPyDumps_PythonSpacingEscapesAndFloats(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{obj{{"b", 1}, {"a", []any{true, nil, "x"}}}, `{"b": 1, "a": [true, null, "x"]}`},
		{map[string]any{"z": 1, "a": obj{}}, `{"a": {}, "z": 1}`},
		{"é ü 中 😀", `"\u00e9 \u00fc \u4e2d \ud83d\ude00"`},
		{"tab\t nl\n cr\r bs\b ff\f q\" back\\ del\x7f nul\x00", `"tab\t nl\n cr\r bs\b ff\f q\" back\\ del\u007f nul\u0000"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{[]any{0.1, 1.0, 1e-05, 1.5e+20, 1e16, 123456789.0, math.Inf(1), math.NaN(), math.Copysign(0, -1)}, `[0.1, 1.0, 1e-05, 1.5e+20, 1e+16, 123456789.0, Infinity, NaN, -0.0]`},
		{json.RawMessage(`{"z":1,"a":[1.50,2,"é"],"n":null}`), `{"z": 1, "a": [1.5, 2, "\u00e9"], "n": null}`},
		{json.RawMessage(`12345678901234567890`), `12345678901234567890`},
		{[]string{}, `[]`},
	} {
		assert.Equal(t, c.want, string(pyDumps(c.v)))
	}
	assert.Equal(t, "{\"event\": \"end\", \"data\": {}}\n\n", string(endFrame))
}

func TestYAMLDump_PyYAMLStyles(t *testing.T) {
	for _, c := range []struct {
		name string
		v    map[string]any
		want string
	}{
		{"chat artifacts", map[string]any{"Message": "hi", "Sender": "User", "Sender Name": "User", "Files": []any{}, "Type": "object"},
			"- Files: []\n  Message: hi\n  Sender: User\n  Sender Name: User\n  Type: object\n"},
		{"quoted scalars", map[string]any{"a": "", "b": "yes", "c": "123", "d": "- x", "e": "a: b", "f": " lead", "g": "it's"},
			"- a: ''\n  b: 'yes'\n  c: '123'\n  d: '- x'\n  e: 'a: b'\n  f: ' lead'\n  g: it's\n"},
		{"multi-line", map[string]any{"m": "one\ntwo"}, "- m: 'one\n\n    two'\n"},
		{"special", map[string]any{"t": "a\tb"}, "- t: \"a\\tb\"\n"},
		{"unicode", map[string]any{"u": "héllo 中"}, "- u: héllo 中\n"},
		{"nested", map[string]any{"Text": map[string]any{"raw": "hi", "repr": "hi", "type": "text"}, "L": []any{"a.png", "b"}},
			"- L:\n  - a.png\n  - b\n  Text:\n    raw: hi\n    repr: hi\n    type: text\n"},
		{"folded", map[string]any{"Message": "word word word word word word word word word word word word word word word word word word"},
			"- Message: word word word word word word word word word word word word word word word\n    word word word\n"},
	} {
		assert.Equal(t, c.want, yamlDump([]any{c.v}), c.name)
	}
}

func TestFormatElapsed_AsLangflow(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 ms"}, {12345 * time.Microsecond, "12 ms"}, {12500 * time.Microsecond, "12 ms"}, {13500 * time.Microsecond, "14 ms"},
		{time.Second, "1.0 second"}, {1500 * time.Millisecond, "1.5 seconds"}, {2345 * time.Millisecond, "2.35 seconds"},
		{61*time.Second + 250*time.Millisecond, "1 minute, 1.25 seconds"}, {125 * time.Second, "2 minutes, 5.0 seconds"},
	} {
		assert.Equal(t, c.want, formatElapsed(c.d), c.d.String())
	}
	at := time.Date(2025, 12, 1, 10, 0, 0, 123456789, time.UTC)
	assert.Equal(t, "2025-12-01T10:00:00.123456Z", pydanticTime(at))
	assert.Equal(t, "2025-12-01T10:00:00Z", pydanticTime(at.Truncate(time.Second)))
	assert.Equal(t, "2025-12-01T10:00:00.123456+00:00", pyISO(at))
}

func TestTruncate_TextsAndLists(t *testing.T) {
	s := Serialization{MaxText: 3, MaxItems: 2}
	got := s.truncate(obj{{"t", "abcdé"}, {"l", []any{"a", "b", "c", "d"}}, {"short", "ab"}})
	assert.Equal(t, `{"t": "abc...", "l": ["a", "b", "... [truncated 2 items]"], "short": "ab"}`, string(pyDumps(got)))
}
