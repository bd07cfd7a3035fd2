package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// The binder's fuzz targets. `go test` runs their seeds (NUL, invalid
// UTF-8, lone surrogates, huge and fractional numbers, deep nesting, wrong
// types) as ordinary tests; `go test -fuzz FuzzDecodeJSON ./httpapi/`
// explores further. Whatever the input, decoding must not panic and must
// end in success or a *ValidationError (a 422) — never a plain error,
// which Fail would answer with 500.

// fuzzBody has a field of every kind the request bodies use.
type fuzzBody struct {
	Name    string            `json:"name" binding:"required,max=64"`
	Note    *string           `json:"note"`
	Count   int64             `json:"count" binding:"gte=0"`
	Small   *uint8            `json:"small"`
	Ratio   float64           `json:"ratio"`
	On      *bool             `json:"on"`
	ID      *uuid.UUID        `json:"id"`
	At      *time.Time        `json:"at"`
	Tags    []string          `json:"tags" binding:"max=5,dive,max=16"`
	IDs     []int64           `json:"ids"`
	Data    json.RawMessage   `json:"data" binding:"maxbody"`
	Optins  json.RawMessage   `json:"optins"`
	Props   map[string]any    `json:"props"`
	Nested  []fuzzPart        `json:"nested" binding:"dive"`
	Secrets map[string]string `json:"secrets"`
}

type fuzzPart struct {
	Label string `json:"label" binding:"required"`
	Qty   int    `json:"qty"`
}

func jsonSeeds() []string {
	return []string{
		`{"name":"ok","data":{"nodes":[{"id":"a"}]},"tags":["x"],"nested":[{"label":"l","qty":1}]}`,
		`{"name":"a\u0000b"}`,
		`{"name":"ok","data":{"nodes":[{"id":"x\u0000"}]}}`,
		"{\"name\":\"\xff\xfe\"}",
		"{\"name\":\"ok\",\"data\":{\"k\":\"\xc3\x28\"}}",
		`{"name":"\ud800"}`,
		`{"name":"ok","data":["\udc00\ud800"]}`,
		`{"name":"ok","data":["\ud83d\ude00"]}`,
		`{"name":"ok","count":99999999999999999999999}`,
		`{"name":"ok","count":-1,"small":256}`,
		`{"name":"ok","ratio":1e309}`,
		`{"name":"ok","data":{"w":[1e-400,-1e400,1` + strings.Repeat("0", 400) + `]}}`,
		`{"name":"ok","count":1.5}`,
		`{"name":"ok","count":1e3}`,
		`{"name":7,"on":"yes","id":"nope","at":"yesterday","ids":[1,"2",3.5]}`,
		`{"name":"ok","props":{"a":{"b":[1,2,{"c":null}]}}}`,
		`{"name":"ok","nested":[{"qty":"many"},null,7]}`,
		`{"name":"ok","secrets":{"k":1}}`,
		`[1,2,3]`, `"string"`, `null`, `0`, `{}`, ``, `   `, `{"name":`, `{"name":"ok"} trailing`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		`{"name":"ok","data":` + strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300) + `}`,
		`{"name":"` + strings.Repeat("x", DefaultMaxStringLength+1) + `"}`,
		`{"name":"ok","note":"` + strings.Repeat("é", DefaultMaxStringLength+1) + `"}`,
		`{"name":"ok","ids":[` + strings.Repeat("1,", DefaultMaxItems) + `1]}`,
		`{"name":"ok","optins":"` + strings.Repeat("o", DefaultMaxJSONBytes) + `"}`,
		`{"Name":"case","NAME":"insensitive"}`,
		`{"name":"ok","\u0000key":1}`,
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add([]byte(s))
	}
	v := newValidator()
	f.Fuzz(func(t *testing.T, data []byte) {
		var dst fuzzBody
		err := decodeJSON(data, &dst, v)
		requireClientError(t, err, data)
		if err == nil {
			requireText(t, reflect.ValueOf(dst))
			if off, p := scanJSON(dst.Data); p != jsonOK {
				t.Fatalf("decoded data holds problem %d at %d", p, off)
			}
		}
		var list []uuid.UUID // a top-level list body (bulk deletes)
		requireClientError(t, decodeJSON(data, &list, v), data)
	})
}

// requireClientError fails unless err is nil or a *ValidationError.
func requireClientError(t *testing.T, err error, input []byte) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := errors.AsType[*ValidationError](err); !ok {
		t.Fatalf("%.200q: a plain error (a 500): %v", input, err)
	}
	if status, _, _ := errorResponse(err); status != http.StatusUnprocessableEntity {
		t.Fatalf("%.200q: status %d", input, status)
	}
}

// requireText fails if a string in v is not valid UTF-8 or holds a NUL.
func requireText(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			requireText(t, v.Elem())
		}
	case reflect.String:
		if s := v.String(); !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("decoded string %q is not text", s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				requireText(t, v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			requireText(t, v.Index(i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			requireText(t, iter.Key())
			requireText(t, iter.Value())
		}
	}
}

// fuzzQuery is a query (or form) of every scalar kind.
type fuzzQuery struct {
	Page  int64      `form:"page,default=1" binding:"gte=1,lte=1000000000"`
	Size  *int       `form:"size" binding:"omitempty,gte=1,lte=100"`
	Small uint8      `form:"small"`
	Ratio float64    `form:"ratio"`
	Flag  bool       `form:"flag"`
	ID    *uuid.UUID `form:"id"`
	At    *time.Time `form:"at"`
	Tags  []string   `form:"tag"`
	Name  string     `form:"name"`
}

func FuzzDecodeValues(f *testing.F) {
	for _, s := range []string{
		"page=2&size=10&flag=yes&tag=a&tag=b&name=x",
		"page=0&size=101", "page=99999999999999999999", "page=-1", "page=1e3", "page=1.5", "small=256",
		"ratio=1e309", "ratio=NaN", "flag=maybe", "id=nope", "at=2026-13-45", "name=%00", "name=%FF%FE",
		"name=" + strings.Repeat("x", DefaultMaxStringLength+1), "tag=" + strings.Repeat("t&tag=", DefaultMaxItems+1),
		"%zz=1&name", "=&&=", "name=a%00b&page=1",
	} {
		f.Add(s)
	}
	v := newValidator()
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // what parses: net/http drops the rest too
		var dst fuzzQuery
		err := decodeValues(q, &dst, v, "query")
		requireClientError(t, err, []byte(raw))
		if err == nil {
			requireText(t, reflect.ValueOf(dst))
		}
	})
}

// FuzzMultipartForm sends a multipart body (boundary "b") to a route that
// binds a form: every answer is 2xx or 4xx.
func FuzzMultipartForm(f *testing.F) {
	var good bytes.Buffer
	mw := multipart.NewWriter(&good)
	_ = mw.SetBoundary("b")
	_ = mw.WriteField("username", "ada")
	fw, _ := mw.CreateFormFile("file", "x.json")
	_, _ = fw.Write([]byte(`{"a":1}`))
	_ = mw.Close()
	for _, s := range []string{
		good.String(),
		good.String()[:good.Len()/2], // truncated
		"--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nada\x00\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n\xff\xfe\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u202Eb\"\r\n\r\nx\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data\r\n\r\n",
		"--b--\r\n", "", "not multipart at all",
		"--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n" + strings.Repeat("u", 2<<10) + "\r\n--b--\r\n",
	} {
		f.Add([]byte(s))
	}
	s := New(Options{MaxBodyBytes: 1 << 10})
	s.Handle(Operation{Method: http.MethodPost, Path: "/form", Summary: "Form", Public: true, Handler: func(c *gin.Context) {
		var in struct {
			Username string `form:"username" binding:"required"`
		}
		if BindForm(c, &in) {
			c.JSON(http.StatusOK, in)
		}
	}})
	h, err := s.Handler()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/form", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%.200q: %d %s", body, rec.Code, rec.Body)
		}
	})
}
