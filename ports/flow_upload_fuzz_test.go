package ports

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// FuzzUploadParts feeds multipart bodies (boundary "b") to a flow
// import's file (readUpload, then its JSON or zip) and requires a 2xx or
// 4xx answer: a truncated, malformed or hostile upload is the client's
// mistake. `go test` runs the seeds. (A user file streamed to storage is
// fuzzed in ports, FuzzUserFileUpload.)
func FuzzUploadParts(f *testing.F) {
	addUploadSeeds(f)
	s := httpapi.New(httpapi.Options{MaxBodyBytes: 1 << 20})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/import", Summary: "Import", Public: true, Handler: func(c *gin.Context) {
		u, err := readUpload(c, 1<<20)
		var flows []commands.FlowInput
		switch {
		case err != nil:
		case u.zip:
			flows, err = u.zipFlows(1 << 20)
		default:
			flows, err = flowsDocument(u.data)
		}
		if err == nil {
			err = checkImports(s, flows)
		}
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		c.Status(http.StatusOK)
	}})
	h, err := s.Handler()
	if err != nil {
		f.Fatal(err)
	}
	fuzzUpload(f, h, "/import")
}

// addUploadSeeds adds the seeds of the upload fuzzers: multipart bodies
// (boundary "b") of a field "file" holding flows, broken JSON, zips, hostile
// names, truncated and empty bodies.
func addUploadSeeds(f *testing.F) {
	part := func(filename, content string) string {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.SetBoundary("b")
		w, _ := mw.CreateFormFile("file", filename)
		_, _ = io.WriteString(w, content)
		_ = mw.Close()
		return buf.String()
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("a.json")
	_, _ = io.WriteString(w, `{"name":"z","data":{"n":"\u0000"}}`)
	_ = zw.Close()
	ok := part("flow.json", `{"name":"f","data":{"nodes":[]}}`)
	for _, s := range []string{
		ok, ok[:len(ok)/2], ok[:len(ok)-4],
		part("flows.json", `{"flows":[{"name":"a"},{"name":"b\u0000"}]}`),
		part("flows.json", `{"flows":[`+strings.Repeat(`{"name":"m"},`, commands.MaxFlowsPerBatch)+`{"name":"m"}]}`),
		part("deep.json", strings.Repeat("[", 5000)),
		part("bad.json", "{\"name\":\"\xff\"}"),
		part("inf.json", `{"name":"i","data":[1e999]}`),
		part("x.zip", zipped.String()),
		part("x.zip", "PK\x03\x04 not really"),
		part("a\x00b.txt", "content"), part("evil\u202Etxt.exe", "content"), part("../../etc/passwd", "content"),
		part("\xff.txt", "content"), part("empty.txt", ""),
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\r\nno closing boundary",
		"--b--\r\n", "", "garbage",
	} {
		f.Add([]byte(s))
	}
}

// fuzzUpload posts each input to path of h as a multipart body (boundary
// "b") and fails on a 5xx: a hostile upload is the client's mistake.
func fuzzUpload(f *testing.F, h http.Handler, path string) {
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %.200q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}
