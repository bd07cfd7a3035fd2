package runs

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Compact writes v as FastAPI's JSONResponse (and pydantic's
// model_dump_json) do: no spaces, key order kept (obj), text as UTF-8
// (only ", \ and control characters escaped), other values as Python's
// json.dumps writes them.
func Compact(v any) []byte {
	var b bytes.Buffer
	writeFastAPI(&b, v)
	return b.Bytes()
}

func writeFastAPI(b *bytes.Buffer, v any) {
	object := func(each func(func(k string, v any))) {
		b.WriteByte('{')
		first := true
		each(func(k string, v any) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeUTF8String(b, k)
			b.WriteByte(':')
			writeFastAPI(b, v)
		})
		b.WriteByte('}')
	}
	switch x := v.(type) {
	case string:
		writeUTF8String(b, x)
	case obj:
		object(x.PyEach)
	case map[string]any:
		object(func(f func(k string, v any)) {
			for _, k := range slices.Sorted(maps.Keys(x)) {
				f(k, x[k])
			}
		})
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeFastAPI(b, e)
		}
		b.WriteByte(']')
	default:
		raw := pyDumps(x)
		if err := json.Compact(b, raw); err != nil {
			b.Write(raw) // Infinity or NaN: as Python writes them
		}
	}
}

// writeUTF8String writes s as a JSON string the way Python's json.dumps
// does with ensure_ascii=False.
func writeUTF8String(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[r>>4])
				b.WriteByte(hex[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
