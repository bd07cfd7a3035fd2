package components

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Conversions of values to text as Langflow's helpers do them
// (lfx/helpers/data.py): clean_string, safe_convert, the fenced JSON of a
// Data, the markdown table of a DataFrame.

// pySpace is Python's \s (str.isspace) as a character class.
const pySpace = "[" + pySpaceChars + "]"

var (
	blankLines   = regexp.MustCompile(`(?m)^` + pySpace + `*$`)
	manyNewlines = regexp.MustCompile(`\n{3,}`)
	blankCell    = regexp.MustCompile(`^` + pySpace + `*$`)
	newlineRuns  = regexp.MustCompile(`\n+`)
)

// cleanString is Langflow's clean_string: whitespace-only lines are
// emptied (Python's re.sub(r"^\s*$", "", s, flags=re.M), which can take
// a line break with them), then runs of three or more newlines become
// two.
func cleanString(s string) string {
	return manyNewlines.ReplaceAllString(blankLines.ReplaceAllString(s, ""), "\n\n")
}

// safeConvert is Langflow's safe_convert: a string cleaned, a message's
// text, a Data as a fenced JSON block (cleaned), a DataFrame as a
// markdown table (with cleanData, cleaned cells first), anything else as
// Python's str() cleaned.
func safeConvert(v engine.Value, cleanData bool) (string, error) {
	switch x := v.(type) {
	case string:
		return cleanString(x), nil
	case *engine.Message:
		return x.Text, nil
	case *engine.Data:
		j, err := dataJSON(x.Map)
		if err != nil {
			return "", fmt.Errorf("Error converting data: %w", err)
		}
		return cleanString("```json\n" + j + "\n```"), nil
	case *engine.DataFrame:
		return markdownTable(x, true, cleanData), nil
	}
	return cleanString(engine.PyStr(jsonable(v))), nil
}

// asList returns v's items when it is a list ([]engine.Value from a list
// field, or a decoded JSON list).
func asList(v engine.Value) ([]engine.Value, bool) {
	switch x := v.(type) {
	case []engine.Value:
		return x, true
	case []any:
		items := make([]engine.Value, len(x))
		for i, e := range x {
			items[i] = e
		}
		return items, true
	}
	return nil, false
}

// jsonable turns engine values inside a value into JSON-like ones
// (FastAPI's jsonable_encoder): a message becomes its fields, a Data its
// dict, a DataFrame its rows.
func jsonable(v any) any {
	switch x := v.(type) {
	case *engine.Message:
		return jsonable(x.Fields())
	case *engine.Data:
		return jsonable(x.Map)
	case *engine.DataFrame:
		rows := make([]any, len(x.Rows))
		for i, r := range x.Rows {
			rows[i] = jsonable(r)
		}
		return rows
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any, []engine.Value:
		items, _ := asList(x)
		out := make([]any, len(items))
		for i, e := range items {
			out[i] = jsonable(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	return v
}

// dataJSON is a Data's dict as orjson writes it with OPT_INDENT_2: two
// spaces of indent, ": " between key and value, non-ASCII as is. Keys are
// sorted (a Go map keeps no order; Langflow keeps insertion order).
func dataJSON(m map[string]any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonable(m)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// pyJSONDumps is Python's json.dumps with its defaults: ", " and ": "
// separators, non-ASCII escaped as \uXXXX, keys sorted (see dataJSON).
func pyJSONDumps(v any) string { return string(engine.PyDumps(jsonable(v))) }

// pyTypeName is the Python type name of a value, for error messages.
func pyTypeName(v engine.Value) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "float"
		}
		return "int"
	case float64, float32:
		return "float"
	case int, int64, int32:
		return "int"
	case map[string]any:
		return "dict"
	case []any, []engine.Value, []string:
		return "list"
	case *engine.Message:
		return "Message"
	case *engine.Data:
		return "Data"
	case *engine.DataFrame:
		return "DataFrame"
	}
	return fmt.Sprintf("%T", v)
}

// The markdown table of a DataFrame, as pandas' to_markdown(index=False)
// writes it through tabulate's "pipe" format: numeric columns right
// aligned (decimal points lined up, floats in Python's "g" format),
// others left aligned, every column at least its header plus two wide,
// cells padded by one space, multi-line cells spread over several lines.
// A cell missing from a row is NaN ("nan"), a null cell empty.

type cell struct {
	v       any
	missing bool
}

func markdownTable(df *engine.DataFrame, escapePipes, clean bool) string {
	cols := df.Columns
	if len(cols) == 0 {
		return ""
	}
	var rows [][]cell
	for _, r := range df.Rows {
		row := make([]cell, len(cols))
		empty := true
		for i, c := range cols {
			v, ok := r[c]
			row[i] = cell{v: v, missing: !ok}
			if ok && v != nil {
				empty = false
			}
		}
		if clean && empty {
			continue // dropna(how="all")
		}
		for i := range row {
			s, isStr := row[i].v.(string)
			if !isStr {
				continue
			}
			if clean {
				s = newlineRuns.ReplaceAllString(blankCell.ReplaceAllString(s, ""), "\n")
			}
			if escapePipes {
				s = strings.ReplaceAll(s, "|", `\|`)
			}
			row[i].v = s
		}
		rows = append(rows, row)
	}
	texts := make([][]string, len(rows))
	for i := range texts {
		texts[i] = make([]string, len(cols))
	}
	numeric := make([]bool, len(cols))
	for j := range cols {
		kind := kindNone
		for _, row := range rows {
			kind = max(kind, cellKind(row[j]))
		}
		numeric[j] = kind == kindInt || kind == kindFloat
		for i, row := range rows {
			texts[i][j] = formatCell(row[j], kind)
		}
		if numeric[j] {
			decimals := make([]int, len(rows))
			most := -1
			for i := range rows {
				decimals[i] = afterPoint(texts[i][j])
				most = max(most, decimals[i])
			}
			for i := range rows {
				texts[i][j] += strings.Repeat(" ", most-decimals[i])
			}
		}
	}
	widths := make([]int, len(cols))
	for j, c := range cols {
		widths[j] = textWidth(c) + 2
		for i := range rows {
			widths[j] = max(widths[j], textWidth(texts[i][j]))
		}
	}
	pad := func(s string, j int) string {
		gap := strings.Repeat(" ", widths[j]-textWidth(s))
		if numeric[j] {
			return gap + s
		}
		return s + gap
	}
	var b strings.Builder
	writeRow := func(cells []string) {
		lines := 1
		split := make([][]string, len(cells))
		for j, c := range cells {
			split[j] = strings.Split(c, "\n")
			lines = max(lines, len(split[j]))
		}
		for l := range lines {
			b.WriteString("|")
			for j := range cells {
				line := ""
				if l < len(split[j]) {
					line = split[j][l]
				}
				b.WriteString(" " + pad(line, j) + " |")
			}
			b.WriteString("\n")
		}
	}
	writeRow(cols)
	b.WriteString("|")
	for j := range cols {
		if numeric[j] {
			b.WriteString(strings.Repeat("-", widths[j]+1) + ":|")
		} else {
			b.WriteString(":" + strings.Repeat("-", widths[j]+1) + "|")
		}
	}
	b.WriteString("\n")
	for _, row := range texts {
		writeRow(row)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// textWidth is the width of the widest line of s, in code points.
func textWidth(s string) int {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, len([]rune(line)))
	}
	return w
}

// The column types of tabulate, from the least general.
const (
	kindNone = iota
	kindBool
	kindInt
	kindFloat
	kindStr
)

func cellKind(c cell) int {
	if c.missing {
		return kindFloat // NaN
	}
	switch x := c.v.(type) {
	case nil:
		return kindNone
	case bool:
		return kindBool
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return kindInt
		}
		return kindFloat
	case int, int64:
		return kindInt
	case float64:
		return kindFloat
	case string:
		if strings.Contains(x, "\n") {
			return kindStr
		}
		if _, ok := pyInt(x); ok {
			return kindInt
		}
		if _, ok := pyFloat(x); ok {
			return kindFloat
		}
	}
	return kindStr
}

func formatCell(c cell, kind int) string {
	if c.missing {
		return "nan"
	}
	switch x := c.v.(type) {
	case nil:
		return ""
	case string:
		if kind == kindFloat {
			if f, ok := pyFloat(x); ok {
				return formatG(f)
			}
		}
		return x
	case json.Number:
		if kind == kindFloat {
			if f, err := x.Float64(); err == nil {
				return formatG(f)
			}
		}
		return x.String()
	case float64:
		if kind == kindFloat {
			return formatG(x)
		}
	}
	return engine.PyStr(jsonable(c.v))
}

// formatG is Python's format(f, "g").
func formatG(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// afterPoint is tabulate's _afterpoint: the digits after the decimal
// point (or the exponent) of a number, -1 for an integer or a non-number.
func afterPoint(s string) int {
	t := strings.TrimSpace(s)
	if _, ok := pyInt(t); ok {
		return -1
	}
	if _, ok := pyFloat(t); !ok {
		return -1
	}
	pos := strings.LastIndex(t, ".")
	if pos < 0 {
		pos = strings.LastIndex(strings.ToLower(t), "e")
	}
	if pos < 0 {
		return -1
	}
	return len(t) - pos - 1
}

var (
	pyIntSyntax   = regexp.MustCompile(`^[+-]?\d(?:_?\d)*$`)
	pyFloatSyntax = regexp.MustCompile(`^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$`)
	pyFloatWords  = regexp.MustCompile(`(?i)^[+-]?(?:inf|infinity|nan)$`)
)

// pyInt parses s as Python's int() does (surrounding whitespace and
// underscores between digits allowed).
func pyInt(s string) (int64, bool) {
	s = strings.Trim(s, pySpaceChars)
	if !pyIntSyntax.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return n, err == nil
}

// pyFloat parses s as Python's float() does: surrounding whitespace,
// underscores between digits, inf, infinity and nan in any case.
func pyFloat(s string) (float64, bool) {
	s = strings.Trim(s, pySpaceChars)
	if !pyFloatSyntax.MatchString(s) && !pyFloatWords.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// pySpaceChars are the characters of Python's \s (str.isspace).
const pySpaceChars = "\t\n\v\f\r \x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
