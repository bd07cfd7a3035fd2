package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TestHostileInput sends hostile values to every parameter of every
// operation the server documents (its /openapi.json: a new route is
// covered the day it is registered), as a superuser on the access
// matrix's world: each path and query parameter in turn, and each
// top-level field of the request body's schema, the other parameters
// and fields being valid (real ids of tenant A's objects), plus malformed
// bodies and, for uploads, hostile multipart bodies. No answer may be a
// 5xx, and nothing may log an error or a panic.
//
// Each parameter gets hostileSubset values of hostileValues (a rotation
// that differs per parameter, so every value meets every kind of
// parameter somewhere); bodies get every malformed body.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var logMu sync.Mutex
	w := accStart(t, options{logger: slog.New(slog.NewTextHandler(&accLockedWriter{w: &logs, mu: &logMu}, nil))})
	accSetup(t, w)
	logMu.Lock()
	setupLogs := logs.Len() // the start's health checks log errors until the projectors run
	logMu.Unlock()
	ops := accOps(t, w)
	bodies := hostileBodySchemas(t, w)

	var (
		mu       sync.Mutex
		requests int
		failures []string
	)
	run := func(t *testing.T, op accOp) {
		c := accCase{op: op, variant: "A", who: accSuper}
		ids, query, base := w.accPathIDs(c), w.accCaseQuery(c), w.accBody(c)
		for _, h := range hostileRequests(op, ids, query, base, bodies[op.key()]) {
			req := w.hostileRequest(t, op, h)
			r, err := exchange(req)
			mu.Lock()
			requests++
			switch {
			case err != nil:
				failures = append(failures, fmt.Sprintf("%s %s [%s]: %v", op.method, op.path, h.what, err))
			case r.status >= 500:
				failures = append(failures, fmt.Sprintf("%s %s [%s]: %d %.300s", op.method, op.path, h.what, r.status, r.raw))
			}
			mu.Unlock()
		}
	}
	var early, late []accOp
	for _, op := range ops {
		if op.path == "/openapi.json" || op.path == "/docs" {
			continue
		}
		if accFMLate(op) || op.method == http.MethodDelete {
			late = append(late, op) // after the others: they may remove what those read
		} else {
			early = append(early, op)
		}
	}
	t.Run("routes", func(t *testing.T) { accEach(t, early, run) })
	t.Run("deletions", func(t *testing.T) { accEach(t, late, run) })

	sort.Strings(failures)
	assert.Empty(t, failures, "answers that are not the client's fault")
	logMu.Lock()
	defer logMu.Unlock()
	for _, l := range strings.Split(logs.String()[setupLogs:], "\n") {
		assert.False(t, strings.Contains(l, "level=ERROR") || strings.Contains(l, "panic"), "logged: %.500s", l)
	}
	t.Logf("hostile input: %d routes, %d requests, %d answered 5xx", len(early)+len(late), requests, len(failures))
}

// hostileValue is one hostile input: as text (a path segment, a query
// value) and as a raw JSON value (a body field).
type hostileValue struct {
	name string
	text string
	json string
}

var hostileValues = []hostileValue{
	{"nul", "a\x00b", `"a\u0000b"`},
	{"invalid_utf8", "\xff\xfe", "\"\xff\xfe\""},
	{"lone_surrogate", "\xed\xa0\x80", `"\ud800"`},
	{"overlong", strings.Repeat("x", 10_001), `"` + strings.Repeat("x", 10_001) + `"`},
	{"huge_int", "99999999999999999999999", "99999999999999999999999"},
	{"minus_one", "-1", "-1"},
	{"inf", "1e309", "1e309"},
	{"deep_nesting", strings.Repeat("[", 300), strings.Repeat("[", 300) + strings.Repeat("]", 300)},
	{"wrong_type", `{"a":1}`, `{"a":[1,{"b":true}]}`},
	{"bidi", "evil\u202Etxt.exe", `"evil\u202etxt.exe"`},
	{"traversal", "../../etc/passwd", `"../../etc/passwd"`},
	{"empty", "", `""`},
	{"null", "null", "null"},
	{"huge_list", strings.Repeat("i&x=", 3), "[" + strings.Repeat("1,", 1_000) + "1]"},
}

// hostileSubset is how many values each parameter and field gets.
const hostileSubset = 5

// hostilePick is the values parameter key gets: hostileSubset in a row,
// from a place that depends on key.
func hostilePick(key string) []hostileValue {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	start := int(h.Sum32() % uint32(len(hostileValues)))
	out := make([]hostileValue, hostileSubset)
	for i := range out {
		out[i] = hostileValues[(start+i)%len(hostileValues)]
	}
	return out
}

// hostileMalformed are bodies that are not what any operation takes.
var hostileMalformed = []hostileValue{
	{name: "truncated", json: `{"name": "x`},
	{name: "not_json", json: `name=x`},
	{name: "invalid_utf8", json: "{\"name\":\"\xc3\x28\"}"},
	{name: "nul", json: `{"name":"\u0000"}`},
	{name: "deep", json: strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000)},
	{name: "wrong_type", json: `[{"a":1e999}]`},
	{name: "null", json: `null`},
	{name: "empty", json: ``},
}

// hostileReq is one hostile variant of a valid request.
type hostileReq struct {
	what  string
	path  string            // with the path parameters filled
	query url.Values        // the query
	body  []byte            // raw JSON, or nil
	multi *hostileMultipart // a multipart body instead
}

type hostileMultipart struct {
	filename  string
	truncated bool
}

// hostileRequests lists op's hostile variants: ids fills the path,
// query and base (a valid body) the rest; fields are the top-level
// fields of op's body schema.
func hostileRequests(op accOp, ids map[string]string, query url.Values, base any, fields []string) []hostileReq {
	fill := func(override map[string]string) string {
		return accPathParam.ReplaceAllStringFunc(op.path, func(m string) string {
			name := m[1 : len(m)-1]
			if v, ok := override[name]; ok {
				return url.PathEscape(v)
			}
			return url.PathEscape(ids[name])
		})
	}
	q := url.Values{}
	for k, v := range query {
		if _, ok := op.params[k]; ok {
			q[k] = v
		}
	}
	baseBody, _ := json.Marshal(base)
	if base == nil {
		baseBody = nil
	}
	var out []hostileReq
	for name, in := range op.params {
		for _, v := range hostilePick(op.key() + " " + name) {
			switch in {
			case "path":
				out = append(out, hostileReq{what: "path " + name + "=" + v.name, path: fill(map[string]string{name: v.text}), query: q, body: baseBody})
			case "query":
				hq := url.Values{}
				for k, vs := range q {
					hq[k] = vs
				}
				if v.name == "huge_list" {
					hq[name] = slices.Repeat([]string{"1"}, 1_001)
				} else {
					hq.Set(name, v.text)
				}
				out = append(out, hostileReq{what: "query " + name + "=" + v.name, path: fill(nil), query: hq, body: baseBody})
			}
		}
	}
	if op.body {
		for _, v := range hostileMalformed {
			out = append(out, hostileReq{what: "body " + v.name, path: fill(nil), query: q, body: []byte(v.json)})
		}
		for _, f := range fields {
			for _, v := range hostilePick(op.key() + " body " + f) {
				out = append(out, hostileReq{what: "body." + f + "=" + v.name, path: fill(nil), query: q, body: withField(baseBody, f, v.json)})
			}
		}
		if len(fields) == 0 { // a list body: hostile items
			for _, v := range hostilePick(op.key() + " body") {
				out = append(out, hostileReq{what: "body [" + v.name + "]", path: fill(nil), query: q, body: []byte("[" + v.json + "]")})
			}
		}
	}
	if in, ok := op.params["file"]; ok && in == "query" { // a multipart upload
		for _, name := range []string{"a\x00b.json", "\xff\xfe.json", "evil\u202Enosj.exe", "../../etc/passwd", "", "x\r\ny.json"} {
			out = append(out, hostileReq{what: fmt.Sprintf("file %q", name), path: fill(nil), query: q, multi: &hostileMultipart{filename: name}})
		}
		out = append(out, hostileReq{what: "truncated multipart", path: fill(nil), query: q, multi: &hostileMultipart{filename: "f.json", truncated: true}})
	}
	return out
}

// withField is the JSON object base (or {}) with field set to raw, built
// as text so that raw keeps bytes json.Marshal would change.
func withField(base []byte, field, raw string) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(base, &obj) != nil || obj == nil {
		obj = map[string]json.RawMessage{}
	}
	obj[field] = json.RawMessage(`"\u0001hostile\u0001"`) // a placeholder no field holds
	out, _ := json.Marshal(obj)
	return bytes.Replace(out, []byte(`"\u0001hostile\u0001"`), []byte(raw), 1)
}

// hostileRequest builds h as the superuser, naming tenant A.
func (w *accWorld) hostileRequest(t *testing.T, op accOp, h hostileReq) *http.Request {
	t.Helper()
	target := h.path
	if len(h.query) > 0 {
		target += "?" + h.query.Encode()
	}
	header := bearer(w.users[accSuper].token)
	header.Set(tenancy.HeaderTenantID, w.A)
	var body io.Reader
	contentType := ""
	switch {
	case h.multi != nil:
		raw := "--hb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + h.multi.filename + "\"\r\n" +
			"Content-Type: application/json\r\n\r\n{\"name\": \"hostile upload\"}\r\n--hb--\r\n"
		if h.multi.truncated {
			raw = raw[:len(raw)-12]
		}
		body, contentType = strings.NewReader(raw), "multipart/form-data; boundary=hb"
	case h.body != nil:
		body, contentType = bytes.NewReader(h.body), "application/json"
	}
	return w.request(t, op.method, target, body, contentType, header)
}

// hostileBodySchemas reads the top-level fields of every operation's
// request body from the served /openapi.json, by "METHOD /path".
func hostileBodySchemas(t *testing.T, w *accWorld) map[string][]string {
	t.Helper()
	r := w.call(t, http.MethodGet, "/openapi.json", nil, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Content map[string]struct {
					Schema hostileSchema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]hostileSchema `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.raw), &doc))
	out := map[string][]string{}
	for path, item := range doc.Paths {
		for method, op := range item {
			if op.RequestBody == nil {
				continue
			}
			s := op.RequestBody.Content["application/json"].Schema
			if ref, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
				s = doc.Components.Schemas[ref]
			}
			var fields []string
			for f := range s.Properties {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			out[strings.ToUpper(method)+" "+path] = fields
		}
	}
	return out
}

type hostileSchema struct {
	Ref        string                     `json:"$ref"`
	Properties map[string]json.RawMessage `json:"properties"`
}
