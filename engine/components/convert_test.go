package components

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

func TestPyFormat(t *testing.T) {
	vars := map[string]string{"name": "Ana", "x": "1"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for _, c := range []struct {
		tpl, want, err string
		strict         bool
	}{
		{tpl: "Hi {name}!", want: "Hi Ana!", strict: true},
		{tpl: "{{name}} is {name}", want: "{name} is Ana", strict: true},
		{tpl: `{{"json": {x}}}`, want: `{"json": 1}`, strict: true},
		{tpl: "}}{{", want: "}{", strict: true},
		{tpl: "{missing}", err: "the template has no value for {missing}", strict: true},
		{tpl: "[{missing}]", want: "[]"},
		{tpl: "{name:>10}", err: "the template field {name:>10} has a format specification or conversion", strict: true},
		{tpl: "{name!r}", err: "the template field {name!r} has a format specification or conversion", strict: true},
		{tpl: "{}", err: "the template field {} is positional", strict: true},
		{tpl: "{0}", err: "the template field {0} is positional", strict: true},
		{tpl: "{name.upper}", err: "reads an attribute or an index", strict: true},
		{tpl: "{name[0]}", err: "reads an attribute or an index", strict: true},
		{tpl: "a } b", err: "Single '}' encountered in format string", strict: true},
		{tpl: "a {", err: "Single '{' encountered in format string", strict: true},
		{tpl: "a {name", err: "expected '}' before end of string", strict: true},
		{tpl: "héllo {name} ✓", want: "héllo Ana ✓", strict: true},
	} {
		got, err := pyFormat(c.tpl, lookup, c.strict)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.tpl)
			continue
		}
		require.NoError(t, err, c.tpl)
		assert.Equal(t, c.want, got, c.tpl)
	}
}

// Expected values computed with Python's re.sub as clean_string does.
func TestCleanString(t *testing.T) {
	for in, want := range map[string]string{
		"a\n \n\nb":             "a\n\nb",
		"a\n\n\n\nb":            "a\n\nb",
		"  \nx\n\t\n":           "\nx\n",
		"x\n   \n   \ny":        "x\n\ny",
		"line1\r\n  \r\nline2":  "line1\r\n\nline2",
		"kept  \n  as is":       "kept  \n  as is",
		"nbsp\n\u00a0\u3000\nz": "nbsp\n\nz",
	} {
		assert.Equal(t, want, cleanString(in), "%q", in)
	}
}

func TestSafeConvert(t *testing.T) {
	s, err := safeConvert(engine.NewData(map[string]any{"b": json.Number("1"), "a": "é <x> & y", "c": []any{true, nil}}), false)
	require.NoError(t, err)
	assert.Equal(t, "```json\n{\n  \"a\": \"é <x> & y\",\n  \"b\": 1,\n  \"c\": [\n    true,\n    null\n  ]\n}\n```", s)
	s, _ = safeConvert(engine.NewData(nil), false)
	assert.Equal(t, "```json\n{}\n```", s)
	msg := engine.NewMessage("a\n\n\n\nb")
	s, _ = safeConvert(msg, false)
	assert.Equal(t, "a\n\n\n\nb", s, "a message's text is not cleaned")
	s, _ = safeConvert("a\n\n\n\nb", false)
	assert.Equal(t, "a\n\nb", s)
	s, _ = safeConvert(json.Number("3"), false)
	assert.Equal(t, "3", s)
	s, _ = safeConvert(map[string]any{"k": true}, false)
	assert.Equal(t, "{'k': True}", s)
	assert.Equal(t, `{"a": "\u00e9", "b": [1, {"d": null}], "c": "x\"y"}`,
		pyJSONDumps(map[string]any{"a": "é", "b": []any{json.Number("1"), map[string]any{"d": nil}}, "c": `x"y`}))
}

// The pipe tables of tabulate (the shapes of its documentation's
// examples), as pandas' to_markdown(index=False) writes them.
func TestMarkdownTable(t *testing.T) {
	df := &engine.DataFrame{Columns: []string{"item", "qty"}, Rows: []map[string]any{
		{"item": "spam", "qty": json.Number("42")}, {"item": "eggs", "qty": json.Number("451")}, {"item": "bacon", "qty": json.Number("0")}}}
	assert.Equal(t, "| item   |   qty |\n|:-------|------:|\n| spam   |    42 |\n| eggs   |   451 |\n| bacon  |     0 |",
		markdownTable(df, true, false))

	// Floats in "g" format, decimal points lined up; a missing cell is
	// nan, a null one empty; pipes escaped; multi-line cells spread.
	df = &engine.DataFrame{Columns: []string{"name", "x", "note"}, Rows: []map[string]any{
		{"name": "a|b", "x": 1.5, "note": "one\ntwo"},
		{"name": "c", "x": json.Number("1234567.0"), "note": nil},
		{"name": "d", "note": "  "}}}
	assert.Equal(t, ""+
		"| name   |             x | note   |\n"+
		"|:-------|--------------:|:-------|\n"+
		"| a\\|b   |   1.5         | one    |\n"+
		"|        |               | two    |\n"+
		"| c      |   1.23457e+06 |        |\n"+
		"| d      | nan           |        |",
		markdownTable(df, true, false))
	// clean_data drops rows with no value at all and empties blank cells.
	df.Rows = append(df.Rows, map[string]any{"name": nil})
	assert.NotContains(t, markdownTable(df, true, true), "|        |               |        |\n|")
	assert.Equal(t, 7, len(splitLines(markdownTable(df, true, false))), "without clean_data the empty row stays")
}

func splitLines(s string) []string { return strings.Split(s, "\n") }
