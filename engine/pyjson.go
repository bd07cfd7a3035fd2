package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Python's json.dumps with its defaults, which Langflow's wire formats
// (the build API's events, the run API's streams) and some components'
// texts are written with: ", " between items, ": " after keys, every
// character outside printable ASCII escaped as \uXXXX (a surrogate pair
// beyond the BMP), floats as Python's repr, and Infinity/NaN for the
// floats JSON lacks. Key order is the order the values were built in, so
// objects are PyOrdered where it matters; Go maps are written with sorted
// keys.

// PyOrdered is a JSON object whose keys keep their order: PyDumps writes
// its members in the order PyEach gives them.
type PyOrdered interface {
	PyEach(func(k string, v any))
}

// PyDumps returns v as Python's json.dumps writes it.
func PyDumps(v any) []byte {
	var b bytes.Buffer
	dumps.write(&b, v)
	return b.Bytes()
}

// CompactDumps returns v as json.dumps(v, separators=(",", ":"),
// ensure_ascii=False) writes it: FastAPI's JSONResponse (and pydantic's
// model_dump_json of the same values): no spaces, text as UTF-8 (only ",
// \ and control characters escaped), the rest as PyDumps.
func CompactDumps(v any) []byte {
	var b bytes.Buffer
	compact.write(&b, v)
	return b.Bytes()
}

// pyStyle is how json.dumps is asked to write: its separators and
// ensure_ascii.
type pyStyle struct {
	item, key string
	ascii     bool
}

var (
	dumps   = pyStyle{item: ", ", key: ": ", ascii: true}
	compact = pyStyle{item: ",", key: ":"}
)

func (st pyStyle) str(b *bytes.Buffer, s string) { writeString(b, s, st.ascii) }

func (st pyStyle) write(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		st.str(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(PyJSONFloat(x))
	case json.Number:
		writePyNumber(b, x)
	case json.RawMessage:
		if err := st.transcode(b, x); err != nil {
			st.str(b, string(x)) // not JSON: shown as text rather than lost
		}
	case PyOrdered:
		st.object(b, x.PyEach)
	case map[string]any:
		st.object(b, func(f func(k string, v any)) {
			for _, k := range slices.Sorted(maps.Keys(x)) {
				f(k, x[k])
			}
		})
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(st.item)
			}
			st.write(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(st.item)
			}
			st.str(b, e)
		}
		b.WriteByte(']')
	default:
		st.reflect(b, v)
	}
}

// object writes the members each gives as a JSON object.
func (st pyStyle) object(b *bytes.Buffer, each func(func(k string, v any))) {
	b.WriteByte('{')
	first := true
	each(func(k string, v any) {
		if !first {
			b.WriteString(st.item)
		}
		first = false
		st.str(b, k)
		b.WriteString(st.key)
		st.write(b, v)
	})
	b.WriteByte('}')
}

// reflect writes the other slices and maps, and numbers of other kinds;
// anything else is written as its text (pyObjectStr).
func (st pyStyle) reflect(b *bytes.Buffer, v any) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		st.write(b, items)
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := map[string]any{}
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			st.write(b, m)
			return
		}
		st.str(b, pyObjectStr(v))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32:
		b.WriteString(PyJSONFloat(rv.Float()))
	case reflect.Pointer:
		if rv.IsNil() {
			b.WriteString("null")
			return
		}
		if _, ok := v.(fmt.Stringer); ok {
			st.str(b, pyObjectStr(v))
			return
		}
		st.write(b, rv.Elem().Interface())
	default:
		st.str(b, pyObjectStr(v))
	}
}

// PyJSONFloat is a float as json.dumps writes it: its repr, or Infinity,
// -Infinity, NaN.
func PyJSONFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	return PyFloat(f)
}

// writePyNumber writes a JSON number as Python reads and writes it back:
// integers as they are, other numbers as floats.
func writePyNumber(b *bytes.Buffer, n json.Number) {
	s := string(n)
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		b.WriteString(s)
		return
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !bytes.ContainsAny([]byte(s), ".eE") { // a big integer: Python keeps it whole
			b.WriteString(s)
			return
		}
		b.WriteString(PyJSONFloat(f))
		return
	}
	b.WriteString(s)
}

const hexDigits = "0123456789abcdef"

// WritePyString writes s as json.dumps does with ensure_ascii: ", \ and
// the short escapes \n \r \t \b \f, every other character outside
// space..~ as \uXXXX (lower-case hex; a surrogate pair beyond the BMP).
// Bytes that are not UTF-8 are U+FFFD.
func WritePyString(b *bytes.Buffer, s string) { writeString(b, s, true) }

// writeString writes s as json.dumps does, with ensure_ascii or without
// (then only the control characters are escaped besides " and \).
func writeString(b *bytes.Buffer, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteByte(byte(r))
		case r == utf8.RuneError:
			writeU(b, 0xfffd)
		case !ascii && r >= 0x20:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			writeU(b, 0xd800+(r>>10))
			writeU(b, 0xdc00+(r&0x3ff))
		default:
			writeU(b, r)
		}
	}
	b.WriteByte('"')
}

func writeU(b *bytes.Buffer, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[r>>12&0xf])
	b.WriteByte(hexDigits[r>>8&0xf])
	b.WriteByte(hexDigits[r>>4&0xf])
	b.WriteByte(hexDigits[r&0xf])
}

// transcode writes the JSON document raw in Python's form, keeping its
// key order (Python's json.loads then json.dumps does the same).
func (st pyStyle) transcode(b *bytes.Buffer, raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	if err := st.transcodeValue(&out, dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("extra data after the JSON value")
	}
	b.Write(out.Bytes())
	return nil
}

func (st pyStyle) transcodeValue(b *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := json.Delim(']')
		if t == '{' {
			closing = '}'
		}
		b.WriteByte(byte(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(st.item)
			}
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				st.str(b, k.(string))
				b.WriteString(st.key)
			}
			if err := st.transcodeValue(b, dec); err != nil {
				return err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return err
		}
		if end != closing {
			return fmt.Errorf("unbalanced JSON")
		}
		b.WriteByte(byte(closing))
	default:
		st.write(b, t)
	}
	return nil
}
