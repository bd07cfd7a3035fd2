package graphpatch

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// operation is one operation of an RFC 6902 patch.
type operation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  string          `json:"from,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// applyInPlace applies ops to doc by editing its text where they point
// (tidwall/gjson finds the place, tidwall/sjson splices the value in):
// the rest of the document is copied as it is, never decoded, which makes
// a patch of a few operations cost a few scans of the document instead of
// decoding and encoding all of it. It takes only what it does exactly as
// RFC 6902 says: replace, remove, and add to an object or at the end of an
// array, at paths whose members are plain names (letters, digits, '_',
// '-'; not all digits, not starting with '-') and whose indexes are plain
// numbers. Anything else (move, copy, test, an insertion inside an array,
// the root, other names) answers ok false, and Apply hands the whole patch
// to json-patch.
func applyInPlace(doc []byte, ops []operation) (out []byte, ok bool) {
	out = doc
	for _, o := range ops {
		tokens, ok := plainPointer(o.Path)
		if !ok || len(tokens) == 0 || (o.Op != "remove" && o.Value == nil) {
			return nil, false
		}
		parentPath := strings.Join(tokens[:len(tokens)-1], ".")
		var parent gjson.Result
		if parentPath == "" {
			parent = gjson.ParseBytes(out)
		} else {
			parent = gjson.GetBytes(out, parentPath)
		}
		last, path := tokens[len(tokens)-1], strings.Join(tokens, ".")
		var err error
		switch {
		case parent.IsArray():
			n := int(gjson.Get(parent.Raw, "#").Int())
			idx, isIndex := arrayIndex(last)
			switch {
			case o.Op == "add" && (last == "-" || isIndex && idx == n):
				out, err = sjson.SetRawBytes(out, joinPath(parentPath, "-1"), o.Value)
			case !isIndex || idx >= n:
				return nil, false
			case o.Op == "replace":
				out, err = sjson.SetRawBytes(out, path, o.Value)
			case o.Op == "remove":
				out, err = sjson.DeleteBytes(out, path)
			default:
				return nil, false // an insertion inside the array, or another op
			}
		case parent.IsObject():
			if _, isIndex := arrayIndex(last); isIndex || last == "-" || strings.HasPrefix(last, "-") {
				return nil, false
			}
			exists := gjson.GetBytes(out, path).Exists()
			switch {
			case o.Op == "add", o.Op == "replace" && exists:
				out, err = sjson.SetRawBytes(out, path, o.Value)
			case o.Op == "remove" && exists:
				out, err = sjson.DeleteBytes(out, path)
			default:
				return nil, false
			}
		default:
			return nil, false
		}
		if err != nil {
			return nil, false
		}
	}
	return out, true
}

func joinPath(parent, last string) string {
	if parent == "" {
		return last
	}
	return parent + "." + last
}

// plainPointer splits a JSON Pointer into its tokens when each is plain
// (see applyInPlace).
func plainPointer(p string) ([]string, bool) {
	if p == "" || p[0] != '/' {
		return nil, false
	}
	tokens := strings.Split(p[1:], "/")
	for _, t := range tokens {
		if t == "" {
			return nil, false
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return nil, false
			}
		}
	}
	return tokens, true
}

// arrayIndex reads an RFC 6901 array index: digits, no leading zero.
func arrayIndex(t string) (int, bool) {
	if t == "" || len(t) > 9 || t != "0" && t[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(t)
	return n, err == nil
}
