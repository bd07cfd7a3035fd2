package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text that reaches a handler — path and query parameters, form values,
// the strings and keys of a JSON body — is valid UTF-8 without NUL.
// PostgreSQL refuses both in text and jsonb (a 500 if they got that far),
// and neither is ever meant; encoding/json would turn invalid UTF-8 into
// U+FFFD in Go strings without a word, yet keep it, and \u0000, in a
// json.RawMessage. textError and scanJSON are the checks; the binder and
// the route chain (checkParams) run them before anything else reads the
// request.

// MaxJSONDepth bounds how deeply a JSON body nests (arrays and objects):
// pydantic's parser stops at 200 too. Deeper bodies are json_invalid.
const MaxJSONDepth = 200

// Messages of the text errors (pydantic's words where it has them).
const (
	msgNotUnicode = "Input should be a valid string, unable to parse raw data as a unicode string"
	msgNUL        = "Value error, NUL characters are not allowed"
)

// textError reports s if it is not valid UTF-8 (string_unicode) or holds
// a NUL (value_error); nil otherwise.
func textError(s string) *ErrorItem {
	if !utf8.ValidString(s) {
		return &ErrorItem{Type: "string_unicode", Msg: msgNotUnicode, Input: strings.ToValidUTF8(s, "\uFFFD")}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return &ErrorItem{Type: "value_error", Msg: msgNUL, Input: s}
	}
	return nil
}

// paramError is textError plus the default length bound, for path and
// query parameters (which every handler may read raw).
func paramError(s string) *ErrorItem {
	if it := textError(s); it != nil {
		return it
	}
	if len(s) > DefaultMaxStringLength && utf8.RuneCountInString(s) > DefaultMaxStringLength {
		return stringTooLong(s, DefaultMaxStringLength)
	}
	return nil
}

// jsonProblem is what scanJSON found.
type jsonProblem int

const (
	jsonOK        jsonProblem = iota
	jsonNotUTF8               // a string with invalid UTF-8
	jsonNUL                   // \u0000 in a string
	jsonSurrogate             // a \uD800–\uDFFF escape that is not half of a pair
	jsonTooDeep               // nesting beyond MaxJSONDepth
	jsonInfinite              // a number no float64 holds (1e309)
)

// scanJSON looks through a JSON document for what encoding/json lets pass
// but a request must not carry: strings with invalid UTF-8, \u0000 or a
// lone surrogate escape, numbers beyond float64 (PostgreSQL would keep
// them, and answer them back in a form most JSON parsers refuse), and
// nesting deeper than MaxJSONDepth. It returns the offset of the first
// one and what it is, or -1 and jsonOK. It does not check the syntax
// (encoding/json does) and reads each byte once.
func scanJSON(data []byte) (offset int, problem jsonProblem) {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '[' || c == '{':
			if depth++; depth > MaxJSONDepth {
				return i, jsonTooDeep
			}
		case c == ']' || c == '}':
			depth--
		case c == '"':
			end, at, p := scanString(data, i+1)
			if p != jsonOK {
				return at, p
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			end := i + 1
			for end < len(data) && strings.IndexByte("0123456789+-.eE", data[end]) >= 0 {
				end++
			}
			if !finite(data[i:end]) {
				return i, jsonInfinite
			}
			i = end - 1
		}
	}
	return -1, jsonOK
}

// finite reports whether the number num fits a float64. Only long ones
// and ones with an exponent can fail, so the others are not parsed.
func finite(num []byte) bool {
	if len(num) < 300 && bytes.IndexAny(num, "eE") < 0 {
		return true
	}
	_, err := strconv.ParseFloat(string(num), 64)
	return err == nil || !errors.Is(err, strconv.ErrRange)
}

// scanString scans the string whose content starts at i; it returns the
// offset of its closing quote (len(data) when there is none) or the
// offset of a problem.
func scanString(data []byte, i int) (end, at int, problem jsonProblem) {
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i, 0, jsonOK
		case c == '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hex4(data[i+2:])
				switch {
				case !ok: // a syntax error; encoding/json reports it
				case r == 0:
					return 0, i, jsonNUL
				case r >= 0xDC00 && r <= 0xDFFF:
					return 0, i, jsonSurrogate
				case r >= 0xD800 && r <= 0xDBFF:
					if lo, ok := hex4(data[min(i+8, len(data)):]); !ok || i+7 >= len(data) ||
						data[i+6] != '\\' || data[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
						return 0, i, jsonSurrogate
					}
					i += 6 // the low half follows
				}
				i += 6
				continue
			}
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, i, jsonNotUTF8
			}
			i += size
		}
	}
	return len(data), 0, jsonOK
}

// hex4 reads the 4 hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// CheckJSON answers a JSON document (an uploaded file, a zip's entry)
// as BindJSON answers a body: 422 if it nests deeper than MaxJSONDepth or
// a string in it is not text (invalid UTF-8, \u0000, a lone surrogate),
// located under loc; nil otherwise.
func CheckJSON(data []byte, loc ...any) error {
	if offset, problem := scanJSON(data); problem != jsonOK {
		return jsonTextError(data, offset, problem, loc)
	}
	return nil
}

// jsonTextError is the 422 of a problem scanJSON found at offset of body,
// located at the member or element that holds it ([root, "data", "nodes",
// 3, "id"]).
func jsonTextError(body []byte, offset int, problem jsonProblem, root []any) error {
	if problem == jsonTooDeep {
		return jsonInvalid(root, offset, "recursion limit exceeded")
	}
	path, input := jsonPathAt(body, offset)
	it := ErrorItem{Type: "string_unicode", Msg: msgNotUnicode, Input: input}
	switch problem {
	case jsonNUL:
		it.Type, it.Msg = "value_error", msgNUL
	case jsonInfinite:
		it.Type, it.Msg = "finite_number", "Input should be a finite number"
		if n, ok := input.(json.Number); ok {
			it.Input = string(n)
		}
	}
	return &ValidationError{Items: []ErrorItem{at(it, append(append([]any{}, root...), path...)...)}}
}

// jsonPathAt walks body's tokens up to offset and returns the path of the
// member or element the token at offset belongs to, and that token (a
// string, with invalid UTF-8 replaced). It walks iteratively, so depth
// costs no stack.
func jsonPathAt(body []byte, offset int) (path []any, token any) {
	type frame struct {
		object  bool
		wantKey bool
		key     string
		index   int
	}
	var stack []frame
	here := func() []any {
		out := make([]any, 0, len(stack))
		for _, f := range stack {
			switch {
			case f.object && f.key != "":
				out = append(out, f.key)
			case !f.object && f.index >= 0:
				out = append(out, f.index)
			}
		}
		return out
	}
	// value marks the start of a value in the enclosing container.
	value := func() {
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].index++
		}
	}
	// done marks the end of a value in the enclosing container.
	done := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return here(), nil
		}
		end := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				value()
				if end > offset {
					return here(), nil
				}
				stack = append(stack, frame{object: t == '{', wantKey: t == '{', index: -1})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				if end > offset {
					return here(), t
				}
				continue
			}
			value()
			if end > offset {
				return here(), t
			}
			done()
		default:
			value()
			if end > offset {
				return here(), t
			}
			done()
		}
	}
}
