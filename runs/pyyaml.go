package runs

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The params of an interface vertex's build data is PyYAML's dump of its
// artifacts: yaml.dump([artifacts], default_flow_style=False,
// allow_unicode=True). yamlDump writes the part of PyYAML's emitter that
// such data needs: block sequences and mappings (keys sorted, sequences
// in mappings not indented), empty ones as [] and {}, and scalars in the
// style PyYAML chooses — plain, single-quoted or double-quoted — folded
// at spaces past column 80 as PyYAML does.

const yamlWidth = 80

// yamlDump dumps items, a list of mappings (or other values).
func yamlDump(items []any) string {
	e := &yamlEmitter{}
	if len(items) == 0 {
		return "[]\n"
	}
	for _, it := range items {
		e.write("- ")
		e.node(it, 2, true)
		e.lineBreak()
	}
	return e.b.String()
}

type yamlEmitter struct {
	b   strings.Builder
	col int
}

func (e *yamlEmitter) write(s string) {
	e.b.WriteString(s)
	e.col += utf8.RuneCountInString(s)
}

func (e *yamlEmitter) lineBreak() {
	e.b.WriteByte('\n')
	e.col = 0
}

// indent starts a new line at column n.
func (e *yamlEmitter) indent(n int) {
	e.lineBreak()
	e.write(strings.Repeat(" ", n))
}

// node writes v at indent (the column of a mapping's keys); inline is true
// when the cursor already stands where v begins (after "- ").
func (e *yamlEmitter) node(v any, indent int, inline bool) {
	switch x := v.(type) {
	case obj:
		m := make(map[string]any, len(x))
		for _, p := range x {
			m[p.k] = p.v
		}
		e.node(m, indent, inline)
	case map[string]any:
		if len(x) == 0 {
			e.write("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 || !inline {
				e.indent(indent)
			}
			e.scalar(k, indent+2, true)
			e.write(":")
			e.value(x[k], indent)
		}
	case []any:
		if len(x) == 0 {
			e.write("[]")
			return
		}
		for i, it := range x {
			if i > 0 || !inline {
				e.indent(indent - 2)
			}
			e.write("- ")
			e.node(it, indent, true)
		}
	default:
		e.scalar(v, indent, false)
	}
}

// value writes the value of a mapping key of a mapping at indent.
func (e *yamlEmitter) value(v any, indent int) {
	switch x := v.(type) {
	case obj:
		if len(x) == 0 {
			e.write(" {}")
			return
		}
		e.node(x, indent+2, false)
	case map[string]any:
		if len(x) == 0 {
			e.write(" {}")
			return
		}
		e.node(x, indent+2, false)
	case []any:
		if len(x) == 0 {
			e.write(" []")
			return
		}
		// PyYAML does not indent a sequence inside a mapping.
		for _, it := range x {
			e.indent(indent)
			e.write("- ")
			e.node(it, indent+2, true)
		}
	default:
		e.write(" ")
		e.scalar(v, indent+2, false)
	}
}

// scalar writes a scalar; cont is the column of its continuation lines,
// key tells a mapping key (which is never multi-line).
func (e *yamlEmitter) scalar(v any, cont int, key bool) {
	switch x := v.(type) {
	case nil:
		e.write("null")
	case bool:
		e.write(strconv.FormatBool(x))
	case int:
		e.write(strconv.Itoa(x))
	case int64:
		e.write(strconv.FormatInt(x, 10))
	case float64:
		e.write(yamlFloat(x))
	case string:
		e.str(x, cont, key)
	default:
		e.str(fmt.Sprint(x), cont, key)
	}
}

func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strings.ToLower(pyJSONFloat(f))
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

func (e *yamlEmitter) str(s string, cont int, key bool) {
	a := analyzeScalar(s)
	switch {
	case s != "" && !yamlResolvesOther(s) && a.blockPlain && !(key && a.multiline):
		e.plain([]rune(s), cont)
	case a.singleQuoted && !(key && a.multiline):
		e.singleQuoted([]rune(s), cont)
	default:
		e.doubleQuoted([]rune(s), cont)
	}
}

// scalarAnalysis is PyYAML's analyze_scalar (block context).
type scalarAnalysis struct {
	multiline, blockPlain, singleQuoted bool
}

func isBreak(r rune) bool { return r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 }

func isSpaceOrBreak(r rune) bool { return r == 0 || r == ' ' || r == '\t' || r == '\r' || isBreak(r) }

func analyzeScalar(s string) scalarAnalysis {
	if s == "" {
		return scalarAnalysis{blockPlain: true, singleQuoted: true}
	}
	rs := []rune(s)
	var blockInd, lineBreaks, special, leadSpace, leadBreak, trailSpace, trailBreak, breakSpace, spaceBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockInd = true
	}
	preceded := true
	followed := len(rs) == 1 || isSpaceOrBreak(rs[1])
	prevSpace, prevBreak := false, false
	for i, ch := range rs {
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", ch) {
				blockInd = true
			}
			if (ch == '?' || ch == ':') && followed {
				blockInd = true
			}
			if ch == '-' && followed {
				blockInd = true
			}
		} else {
			if ch == ':' && followed {
				blockInd = true
			}
			if ch == '#' && preceded {
				blockInd = true
			}
		}
		if isBreak(ch) {
			lineBreaks = true
		}
		if ch != '\n' && (ch < 0x20 || ch > 0x7e) {
			if (ch == 0x85 || ch >= 0xa0 && ch <= 0xd7ff || ch >= 0xe000 && ch <= 0xfffd || ch >= 0x10000 && ch < 0x10ffff) && ch != 0xfeff {
				// printable Unicode: allowed (allow_unicode)
			} else {
				special = true
			}
		}
		switch {
		case ch == ' ':
			if i == 0 {
				leadSpace = true
			}
			if i == len(rs)-1 {
				trailSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isBreak(ch):
			if i == 0 {
				leadBreak = true
			}
			if i == len(rs)-1 {
				trailBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		preceded = isSpaceOrBreak(ch)
		followed = i+2 >= len(rs) || isSpaceOrBreak(rs[i+2])
	}
	a := scalarAnalysis{multiline: lineBreaks, blockPlain: true, singleQuoted: true}
	if leadSpace || leadBreak || trailSpace || trailBreak {
		a.blockPlain = false
	}
	if breakSpace {
		a.blockPlain, a.singleQuoted = false, false
	}
	if spaceBreak || special {
		a.blockPlain, a.singleQuoted = false, false
	}
	if lineBreaks || blockInd {
		a.blockPlain = false
	}
	return a
}

// PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one of
// them would read back as another type, so such strings are quoted.
var yamlImplicit = []*regexp.Regexp{
	regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`),
	regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`),
	regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`),
	regexp.MustCompile(`^(?:<<)$`),
	regexp.MustCompile(`^(?:~|null|Null|NULL)$`),
	regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`),
	regexp.MustCompile(`^(?:=)$`),
}

func yamlResolvesOther(s string) bool {
	for _, re := range yamlImplicit {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// plain is PyYAML's write_plain (no line breaks: such strings are never
// plain).
func (e *yamlEmitter) plain(t []rune, cont int) {
	spaces := false
	start := 0
	for end := 0; end <= len(t); end++ {
		ch := rune(-1)
		if end < len(t) {
			ch = t[end]
		}
		if spaces {
			if ch != ' ' {
				if start+1 == end && e.col > yamlWidth {
					e.indent(cont)
				} else {
					e.write(string(t[start:end]))
				}
				start = end
			}
		} else if ch == -1 || ch == ' ' {
			e.write(string(t[start:end]))
			start = end
		}
		if ch != -1 {
			spaces = ch == ' '
		}
	}
}

// singleQuoted is PyYAML's write_single_quoted.
func (e *yamlEmitter) singleQuoted(t []rune, cont int) {
	e.write("'")
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(t); end++ {
		ch := rune(-1)
		if end < len(t) {
			ch = t[end]
		}
		switch {
		case spaces:
			if ch != ' ' {
				if start+1 == end && e.col > yamlWidth && start != 0 && end != len(t) {
					e.indent(cont)
				} else {
					e.write(string(t[start:end]))
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isBreak(ch) {
				if t[start] == '\n' {
					e.lineBreak()
				}
				for _, br := range t[start:end] {
					if br == '\n' {
						e.lineBreak()
					} else {
						e.b.WriteRune(br)
						e.col = 0
					}
				}
				e.write(strings.Repeat(" ", cont))
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isBreak(ch) || ch == '\'' {
				if start < end {
					e.write(string(t[start:end]))
					start = end
				}
			}
		}
		if ch == '\'' {
			e.write("''")
			start = end + 1
		}
		if ch != -1 {
			spaces, breaks = ch == ' ', isBreak(ch)
		}
	}
	e.write("'")
}

var yamlEscapes = map[rune]string{0: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0a: "n", 0x0b: "v", 0x0c: "f", 0x0d: "r",
	0x1b: "e", '"': "\"", '\\': "\\", 0x85: "N", 0xa0: "_", 0x2028: "L", 0x2029: "P"}

// doubleQuoted is PyYAML's write_double_quoted (allow_unicode).
func (e *yamlEmitter) doubleQuoted(t []rune, cont int) {
	e.write("\"")
	start := 0
	for end := 0; end <= len(t); end++ {
		ch := rune(-1)
		if end < len(t) {
			ch = t[end]
		}
		if ch == -1 || strings.ContainsRune("\"\\\u0085\u2028\u2029\ufeff", ch) ||
			!(ch >= 0x20 && ch <= 0x7e || ch >= 0xa0 && ch <= 0xd7ff || ch >= 0xe000 && ch <= 0xfffd) {
			if start < end {
				e.write(string(t[start:end]))
				start = end
			}
			if ch != -1 {
				var data string
				switch r, ok := yamlEscapes[ch]; {
				case ok:
					data = "\\" + r
				case ch <= 0xff:
					data = fmt.Sprintf("\\x%02X", ch)
				case ch <= 0xffff:
					data = fmt.Sprintf("\\u%04X", ch)
				default:
					data = fmt.Sprintf("\\U%08X", ch)
				}
				e.write(data)
				start = end + 1
			}
		}
		if end > 0 && end < len(t)-1 && (ch == ' ' || start >= end) && e.col+(end-start) > yamlWidth {
			data := string(t[start:end]) + "\\"
			if start < end {
				start = end
			}
			e.write(data)
			e.indent(cont)
			if t[start] == ' ' {
				e.write("\\")
			}
		}
	}
	e.write("\"")
}
