package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// fileKeys are the spec's keys of a file.
var fileKeys = []string{"id", "tenant_id", "business_id", "is_self", "user_id", "c_uid", "m_uid", "name", "path",
	"size", "provider", "created_at", "updated_at"}

// TestFiles_UserFileRoundTrip: upload on both slash forms, list, download
// (attachment and return_content), unique names, rename, delete.
func TestFiles_UserFileRoundTrip(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)

	f := s.fileUploadOK(t, ada.token, "report.txt", []byte("hello files"))
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, fileKeys, keys)
	assert.Equal(t, "report", f["name"])
	assert.Equal(t, fmt.Sprintf("%d/report.txt", ada.id), f["path"])
	assert.Equal(t, float64(11), f["size"])
	assert.Equal(t, "local", f["provider"])
	assert.Equal(t, float64(ada.id), f["user_id"])
	assert.Equal(t, float64(ada.id), f["c_uid"])
	id := f["id"].(string)

	// The other slash form, and the same name again: "report (1)".
	r := s.fileMultipart(t, "/api/v2/files", ada.token, filePart{field: "file", filename: "report.txt", content: []byte("second")})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, "report (1)", r.obj(t)["name"])
	assert.Equal(t, fmt.Sprintf("%d/report (1).txt", ada.id), r.obj(t)["path"])
	assert.Equal(t, "report (2)", s.fileUploadOK(t, ada.token, "report.txt", []byte("third"))["name"])
	assert.Equal(t, []string{"report", "report (1)", "report (2)"}, fileNames(s.fileList(t, ada.token)))
	r = s.call(t, http.MethodGet, "/api/v2/files/", nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.list(t), 3)

	dl := s.fileGet(t, "/api/v2/files/"+id, ada.token)
	require.Equal(t, http.StatusOK, dl.status, dl.raw)
	assert.Equal(t, "hello files", dl.raw)
	assert.Equal(t, "application/octet-stream", dl.header.Get("Content-Type"))
	assert.Contains(t, dl.header.Get("Content-Disposition"), `filename="report.txt"`)
	assert.Equal(t, "nosniff", dl.header.Get("X-Content-Type-Options"))
	rc := s.call(t, http.MethodGet, "/api/v2/files/"+id+"?return_content=true", nil, ada.token)
	require.Equal(t, http.StatusOK, rc.status, rc.raw)
	assert.Equal(t, "hello files", rc.body)

	// Rename: the name changes, the stored path (and extension) stays.
	r = s.call(t, http.MethodPut, "/api/v2/files/"+id+"?name="+fileEsc("final report"), nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "final report", r.obj(t)["name"])
	assert.Equal(t, fmt.Sprintf("%d/report.txt", ada.id), r.obj(t)["path"])
	assert.Contains(t, s.fileGet(t, "/api/v2/files/"+id, ada.token).header.Get("Content-Disposition"), `filename="final report.txt"`)
	r = s.call(t, http.MethodPut, "/api/v2/files/"+id, nil, ada.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Delete by id: gone from the list, the download and the disk.
	before := len(s.fileBlobs(t))
	r = s.call(t, http.MethodDelete, "/api/v2/files/"+id, nil, ada.token)
	requireDetail(t, r, http.StatusOK, "File final report deleted successfully")
	assert.Len(t, s.fileBlobs(t), before-1)
	assert.Equal(t, []string{"report (1)", "report (2)"}, fileNames(s.fileList(t, ada.token)))
	requireDetail(t, s.call(t, http.MethodGet, "/api/v2/files/"+id, nil, ada.token), http.StatusNotFound, "File not found")
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v2/files/"+id, nil, ada.token), http.StatusNotFound, "File not found")
	requireDetail(t, s.call(t, http.MethodPut, "/api/v2/files/"+id+"?name=x", nil, ada.token), http.StatusNotFound, "File not found")

	// return_content of a binary file: 422, not a 500.
	bin := s.fileUploadOK(t, ada.token, "blob.bin", []byte{0xff, 0xfe, 0x00, 0x01})
	r = s.call(t, http.MethodGet, fmt.Sprintf("/api/v2/files/%v?return_content=true", bin["id"]), nil, ada.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

// TestFiles_Append: append=true extends the caller's file of that name.
func TestFiles_Append(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	first := s.fileUploadOK(t, ada.token, "log.txt", []byte("hello "))
	r := s.fileUpload(t, ada.token, "log.txt", "?append=true", []byte("world"))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, first["id"], r.obj(t)["id"])
	assert.Equal(t, float64(11), r.obj(t)["size"])
	assert.Equal(t, "hello world", s.fileGet(t, fmt.Sprintf("/api/v2/files/%v", first["id"]), ada.token).raw)
	assert.Len(t, s.fileBlobs(t), 1, "the replaced content is removed")
	// append to a name that is not there: a new file; append=false: a copy.
	assert.Equal(t, "other", s.fileUploadOK(t, ada.token, "other.txt", []byte("x"))["name"])
	r = s.fileUpload(t, ada.token, "log.txt", "?append=false", []byte("new"))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, "log (1)", r.obj(t)["name"])
	r = s.fileUpload(t, ada.token, "log.txt", "?append=maybe", []byte("new"))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

// TestFiles_BatchAndDeleteAll: the zip of a batch download (names with
// their extensions, duplicates kept apart), batch delete, delete all with
// the MCP servers configuration kept.
func TestFiles_BatchAndDeleteAll(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	bob := s.newUser(t, "bob", filePassword)
	a := s.fileUploadOK(t, ada.token, "notes.md", []byte("# notes"))
	b := s.fileUploadOK(t, ada.token, "data.csv", []byte("a,b\n1,2\n"))
	c := s.fileUploadOK(t, ada.token, "notes.txt", []byte("plain"))
	// Renamed so that two files would share a zip entry name.
	r := s.call(t, http.MethodPut, fmt.Sprintf("/api/v2/files/%v?name=notes", c["id"]), nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	d := s.fileUploadOK(t, ada.token, "notes.md", []byte("second notes"))
	theirs := s.fileUploadOK(t, bob.token, "secret.txt", []byte("bob's"))

	r = s.call(t, http.MethodPost, "/api/v2/files/batch/", []any{a["id"], b["id"], c["id"], d["id"], theirs["id"]}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "application/x-zip-compressed", r.header.Get("Content-Type"))
	assert.Regexp(t, `attachment; filename="\d{8}_\d{6}_langflow_files.zip"`, r.header.Get("Content-Disposition"))
	assert.Equal(t, map[string]string{"notes.md": "# notes", "data.csv": "a,b\n1,2\n", "notes.txt": "plain",
		"notes (1).md": "second notes"}, fileUnzip(t, r.raw), "bob's file is not in ada's zip")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v2/files/batch/", []any{theirs["id"]}, ada.token), http.StatusNotFound, "No files found")
	r = s.call(t, http.MethodPost, "/api/v2/files/batch/", []any{"not-a-uuid"}, ada.token)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	r = s.call(t, http.MethodDelete, "/api/v2/files/batch/", []any{a["id"], theirs["id"], uuid.NewString()}, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"message": "1 files deleted successfully", "files_deleted": float64(1), "files_kept": float64(2)}, r.body)
	assert.Equal(t, []string{"data", "notes", "notes (1)"}, fileNames(s.fileList(t, ada.token)))
	assert.Equal(t, []string{"secret"}, fileNames(s.fileList(t, bob.token)))
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v2/files/batch/", []any{theirs["id"]}, ada.token), http.StatusNotFound, "No files found")

	// The MCP servers configuration: hidden from the list, replaced in
	// place on upload, kept by Delete All.
	mcpName := fmt.Sprintf("_mcp_servers_%d", ada.id)
	mcp := s.fileUploadOK(t, ada.token, mcpName+".json", []byte(`{"mcpServers":{}}`))
	assert.Equal(t, mcpName, mcp["name"])
	again := s.fileUploadOK(t, ada.token, mcpName+".json", []byte(`{"mcpServers":{"x":{}}}`))
	assert.Equal(t, mcp["id"], again["id"])
	assert.Equal(t, []string{"data", "notes", "notes (1)"}, fileNames(s.fileList(t, ada.token)))

	for i, path := range []string{"/api/v2/files/", "/api/v2/files"} {
		r = s.call(t, http.MethodDelete, path, nil, ada.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		want := map[string]any{"message": "All files deleted successfully", "files_deleted": float64(3), "files_kept": float64(1)}
		if i == 1 {
			want["files_deleted"] = float64(0)
		}
		assert.Equal(t, want, r.body)
	}
	assert.Empty(t, s.fileList(t, ada.token))
	assert.Equal(t, `{"mcpServers":{"x":{}}}`, s.fileGet(t, fmt.Sprintf("/api/v2/files/%v", mcp["id"]), ada.token).raw)
	assert.Equal(t, []string{"secret"}, fileNames(s.fileList(t, bob.token)), "bob's files survive ada's delete all")
	assert.Len(t, s.fileBlobs(t), 2, "only the MCP file's and bob's contents remain")
}

// TestFiles_Isolation: no route reaches another user's file (GHSA-style:
// a plain user never sees another plain user's files), by id or by flow.
func TestFiles_Isolation(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	bob := s.newUser(t, "bob", filePassword)
	f := s.fileUploadOK(t, ada.token, "private.txt", []byte("ada only"))
	id := f["id"].(string)
	flow := s.createFlow(t, ada.token, map[string]any{"name": "ada's flow"})
	flowID := flow["id"].(string)
	up := s.fileMultipart(t, "/api/v1/files/upload/"+flowID, ada.token, filePart{field: "file", filename: "pic.png", content: []byte("png")})
	require.Equal(t, http.StatusCreated, up.status, up.raw)
	stored := strings.TrimPrefix(up.obj(t)["file_path"].(string), flowID+"/")

	assert.Empty(t, s.fileList(t, bob.token))
	for _, r := range []reply{
		s.call(t, http.MethodGet, "/api/v2/files/"+id, nil, bob.token),
		s.call(t, http.MethodGet, "/api/v2/files/"+id+"?return_content=true", nil, bob.token),
		s.call(t, http.MethodPut, "/api/v2/files/"+id+"?name=stolen", nil, bob.token),
		s.call(t, http.MethodDelete, "/api/v2/files/"+id, nil, bob.token),
	} {
		requireDetail(t, r, http.StatusNotFound, "File not found")
	}
	requireDetail(t, s.call(t, http.MethodPost, "/api/v2/files/batch/", []any{id}, bob.token), http.StatusNotFound, "No files found")
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v2/files/batch/", []any{id}, bob.token), http.StatusNotFound, "No files found")
	r := s.call(t, http.MethodDelete, "/api/v2/files", nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(0), r.obj(t)["files_deleted"])
	// Flow files: bob is not the flow's owner.
	for _, r := range []reply{
		s.call(t, http.MethodGet, "/api/v1/files/list/"+flowID, nil, bob.token),
		s.call(t, http.MethodGet, "/api/v1/files/download/"+flowID+"/"+fileEsc(stored), nil, bob.token),
		s.call(t, http.MethodGet, "/api/v1/files/images/"+flowID+"/"+fileEsc(stored), nil, bob.token),
		s.call(t, http.MethodDelete, "/api/v1/files/delete/"+flowID+"/"+fileEsc(stored), nil, bob.token),
		s.fileMultipart(t, "/api/v1/files/upload/"+flowID, bob.token, filePart{field: "file", filename: "x.txt", content: []byte("x")}),
	} {
		requireDetail(t, r, http.StatusNotFound, "Flow not found")
	}
	// Anonymous callers get nothing either.
	assert.Equal(t, http.StatusForbidden, s.call(t, http.MethodGet, "/api/v2/files/"+id, nil, "").status)
	// Everything of ada's is intact.
	assert.Equal(t, "ada only", s.fileGet(t, "/api/v2/files/"+id, ada.token).raw)
	assert.Equal(t, "private", s.fileList(t, ada.token)[0]["name"])
	assert.Equal(t, "png", s.fileGet(t, "/api/v1/files/images/"+flowID+"/"+fileEsc(stored), ada.token).raw)
}

// TestFiles_FlowFiles: v1 upload, list, download, image, delete.
func TestFiles_FlowFiles(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	flowID := s.createFlow(t, ada.token, map[string]any{"name": "f"})["id"].(string)
	png := []byte("\x89PNG\r\n\x1a\nfake")
	r := s.fileMultipart(t, "/api/v1/files/upload/"+flowID, ada.token, filePart{field: "file", filename: "chart.png", content: png})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, flowID, r.obj(t)["flowId"])
	path := r.obj(t)["file_path"].(string)
	assert.Regexp(t, `^`+flowID+`/\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_chart\.png$`, path)
	png1 := strings.TrimPrefix(path, flowID+"/")
	r = s.fileMultipart(t, "/api/v1/files/upload/"+flowID, ada.token, filePart{field: "file", filename: "notes.txt", content: []byte("text")})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	txt := strings.TrimPrefix(r.obj(t)["file_path"].(string), flowID+"/")

	r = s.call(t, http.MethodGet, "/api/v1/files/list/"+flowID, nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.ElementsMatch(t, []any{png1, txt}, r.obj(t)["files"])

	dl := s.fileGet(t, "/api/v1/files/download/"+flowID+"/"+fileEsc(txt), ada.token)
	require.Equal(t, http.StatusOK, dl.status, dl.raw)
	assert.Equal(t, "text", dl.raw)
	assert.Equal(t, "application/octet-stream", dl.header.Get("Content-Type"))
	assert.Contains(t, dl.header.Get("Content-Disposition"), "attachment;")
	img := s.fileGet(t, "/api/v1/files/images/"+flowID+"/"+fileEsc(png1), ada.token)
	require.Equal(t, http.StatusOK, img.status, img.raw)
	assert.Equal(t, "image/png", img.header.Get("Content-Type"))
	assert.Equal(t, string(png), img.raw)
	requireDetail(t, s.fileGet(t, "/api/v1/files/images/"+flowID+"/"+fileEsc(txt), ada.token),
		http.StatusUnsupportedMediaType, "Content type text/plain is not an image")
	requireDetail(t, s.fileGet(t, "/api/v1/files/download/"+flowID+"/nope.txt", ada.token), http.StatusNotFound, "File not found")
	requireDetail(t, s.fileGet(t, "/api/v1/files/list/"+uuid.NewString(), ada.token), http.StatusNotFound, "Flow not found")
	assert.Equal(t, http.StatusUnprocessableEntity, s.fileGet(t, "/api/v1/files/list/not-a-uuid", ada.token).status)

	r = s.call(t, http.MethodDelete, "/api/v1/files/delete/"+flowID+"/"+fileEsc(txt), nil, ada.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "File "+txt+" deleted successfully", r.obj(t)["message"])
	requireDetail(t, s.fileGet(t, "/api/v1/files/download/"+flowID+"/"+fileEsc(txt), ada.token), http.StatusNotFound, "File not found")
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v1/files/delete/"+flowID+"/"+fileEsc(txt), nil, ada.token), http.StatusNotFound, "File not found")
	r = s.call(t, http.MethodGet, "/api/v1/files/list/"+flowID, nil, ada.token)
	assert.Equal(t, []any{png1}, r.obj(t)["files"])
	// Flow files are not user files.
	assert.Empty(t, s.fileList(t, ada.token))
}

// TestFiles_Traversal: every route that takes a name refuses names that
// could leave their place, in every spelling, and stores nothing.
func TestFiles_Traversal(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	flowID := s.createFlow(t, ada.token, map[string]any{"name": "f"})["id"].(string)
	good := s.fileUploadOK(t, ada.token, "good.txt", []byte("ok"))
	blobsBefore := s.fileBlobs(t)

	bad := []string{"../evil.txt", "../../etc/passwd", "/etc/passwd", "a/b.txt", `a\b.txt`, `..\..\win.ini`, "..", ".",
		"%2e%2e%2fevil.txt", "..%2fevil", "%2e%2e", "%252e%252e%252fevil", "..%5cevil", "evil%00.txt", "evil\x00.txt",
		"C:evil.txt", "c:\\evil.txt", "new\nline.txt", "%0d%0aX.txt", " ", strings.Repeat("a", 256)}
	for _, name := range bad {
		// Upload (v2 and v1), through the file name of the part.
		disp := fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.ReplaceAll(name, `"`, `\"`))
		for _, path := range []string{"/api/v2/files/", "/api/v1/files/upload/" + flowID} {
			r := s.fileMultipart(t, path, ada.token, filePart{field: "file", disposition: disp, content: []byte("x")})
			assert.True(t, r.status == http.StatusUnprocessableEntity || r.status == http.StatusBadRequest, "%s %q: %d %s", path, name, r.status, r.raw)
		}
		// RFC 2231 spelling of the same name.
		disp = `form-data; name="file"; filename*=UTF-8''` + fileEsc(name)
		r := s.fileMultipart(t, "/api/v2/files/", ada.token, filePart{field: "file", disposition: disp, content: []byte("x")})
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "filename* %q: %s", name, r.raw)
		// Rename.
		r = s.call(t, http.MethodPut, fmt.Sprintf("/api/v2/files/%v?name=%s", good["id"], url_QueryEscape(name)), nil, ada.token)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "rename %q: %s", name, r.raw)
		// Names in a path (escaped, so they arrive as the name).
		for _, p := range []string{"/api/v1/files/download/" + flowID + "/", "/api/v1/files/images/" + flowID + "/",
			"/api/v1/files/profile_pictures/People/", "/api/v1/files/profile_pictures/" + fileEsc(name) + "/x/"} {
			r := s.fileGet(t, p+fileEsc(name), ada.token)
			assert.True(t, r.status >= 400 && r.status < 500, "GET %s%q: %d", p, name, r.status)
		}
		r = s.call(t, http.MethodDelete, "/api/v1/files/delete/"+flowID+"/"+fileEsc(name), nil, ada.token)
		assert.True(t, r.status >= 400 && r.status < 500, "DELETE %q: %d", name, r.status)
	}
	// Raw (unescaped) traversal in paths.
	for _, p := range []string{"/api/v1/files/download/" + flowID + "/../../../etc/passwd", "/api/v1/files/images/" + flowID + "/..%2f..%2fetc%2fpasswd",
		"/api/v1/files/profile_pictures/../../go.mod", "/api/v1/files/profile_pictures/People/..%2f..%2fgo.mod"} {
		req := s.request(t, http.MethodGet, "", nil, "", bearer(ada.token))
		req.URL.Opaque = p // sent exactly as written
		r, err := exchange(req)
		require.NoError(t, err)
		assert.True(t, r.status >= 300 && r.status < 500, "%s: %d", p, r.status)
		assert.NotContains(t, r.raw, "root:")
		assert.NotContains(t, r.raw, "module ")
	}
	assert.Equal(t, []string{"good"}, fileNames(s.fileList(t, ada.token)), "nothing was stored")
	assert.Equal(t, "good", s.readFileName(t, ada.token, good["id"]))
	assert.Equal(t, blobsBefore, s.fileBlobs(t), "no blob, no temporary file left")
	r := s.call(t, http.MethodGet, "/api/v1/files/list/"+flowID, nil, ada.token)
	assert.Empty(t, r.obj(t)["files"])
}

// readFileName is the name of file id as its owner lists it.
func (s *fileServer) readFileName(t *testing.T, token string, id any) string {
	t.Helper()
	for _, f := range s.fileList(t, token) {
		if f["id"] == id {
			return f["name"].(string)
		}
	}
	return ""
}

// url_QueryEscape escapes a query value (url.QueryEscape; named here so
// the test reads as what it sends).
func url_QueryEscape(s string) string { return strings.ReplaceAll(fileEsc(s), "&", "%26") }

// TestFiles_Limits: the upload limit (413 with Langflow's detail), empty
// files and missing parts (422); failed uploads leave nothing behind.
func TestFiles_Limits(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil) // 1 MB
	ada := s.newUser(t, "ada", filePassword)
	flowID := s.createFlow(t, ada.token, map[string]any{"name": "f"})["id"].(string)
	exact := bytes.Repeat([]byte("a"), 1<<20)
	s.fileUploadOK(t, ada.token, "exact.txt", exact)
	blobs := s.fileBlobs(t)
	require.Len(t, blobs, 1)

	for _, path := range []string{"/api/v2/files/", "/api/v2/files", "/api/v1/files/upload/" + flowID} {
		for _, size := range []int{1<<20 + 1, 3 << 20} {
			r := s.fileMultipart(t, path, ada.token, filePart{field: "file", filename: "big.txt", content: bytes.Repeat([]byte("b"), size)})
			requireDetail(t, r, http.StatusRequestEntityTooLarge, "File size is larger than the maximum file size 1MB.", path, size)
		}
		r := s.fileMultipart(t, path, ada.token, filePart{field: "file", filename: "empty.txt"})
		requireDetail(t, r, http.StatusUnprocessableEntity, []any{map[string]any{"type": "value_error", "loc": []any{"body"},
			"msg": "Value error, The uploaded file is empty", "input": nil}}, path)
		r = s.fileMultipart(t, path, ada.token, filePart{field: "other", content: []byte("x")})
		requireDetail(t, r, http.StatusUnprocessableEntity, []any{map[string]any{"type": "missing", "loc": []any{"body", "file"},
			"msg": "Field required", "input": nil}}, path)
		r = s.send(t, http.MethodPost, path, strings.NewReader(`{"file":"x"}`), "application/json", bearer(ada.token))
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	}
	// Appending past the limit is refused too; the file keeps its content.
	id := s.fileList(t, ada.token)[0]["id"]
	r := s.fileUpload(t, ada.token, "exact.txt", "?append=true", bytes.Repeat([]byte("c"), 1<<20+1))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, r.raw)
	assert.Equal(t, []string{"exact"}, fileNames(s.fileList(t, ada.token)))
	assert.Equal(t, string(exact), s.fileGet(t, fmt.Sprintf("/api/v2/files/%v", id), ada.token).raw)
	assert.Equal(t, blobs, s.fileBlobs(t), "no blob, no temporary file left by the refused uploads")
	r = s.call(t, http.MethodGet, "/api/v1/files/list/"+flowID, nil, ada.token)
	assert.Empty(t, r.obj(t)["files"])
}

// TestFiles_RebuildAndOrphans: the files read model rebuilt from position
// 0 is the live one; a crash between a blob and its event leaves only an
// orphan blob, which the sweep removes without touching live contents.
func TestFiles_RebuildAndOrphans(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	ada := s.newUser(t, "ada", filePassword)
	bob := s.newUser(t, "bob", filePassword)
	flowID := s.createFlow(t, ada.token, map[string]any{"name": "f"})["id"].(string)
	a := s.fileUploadOK(t, ada.token, "a.txt", []byte("a"))
	s.fileUploadOK(t, ada.token, "a.txt", []byte("a2"))
	require.Equal(t, http.StatusCreated, s.fileUpload(t, ada.token, "a.txt", "?append=true", []byte("+")).status)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodPut, fmt.Sprintf("/api/v2/files/%v?name=renamed", a["id"]), nil, ada.token).status)
	gone := s.fileUploadOK(t, bob.token, "gone.txt", []byte("g"))
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, fmt.Sprintf("/api/v2/files/%v", gone["id"]), nil, bob.token).status)
	s.fileUploadOK(t, bob.token, "kept.txt", []byte("k"))
	r := s.fileMultipart(t, "/api/v1/files/upload/"+flowID, ada.token, filePart{field: "file", filename: "f.txt", content: []byte("f")})
	require.Equal(t, http.StatusCreated, r.status, r.raw)

	live := s.fileDump(t)
	require.Len(t, live, 4)
	ctx := context.Background()
	require.NoError(t, s.app.Runtime().Rebuild(ctx, "files", nil))
	assert.Equal(t, live, s.fileDump(t))

	// A crash after the blob was written and before its event: an orphan
	// blob (and a temporary file of a write cut short), no metadata.
	store, err := blob.NewLocal(s.storage)
	require.NoError(t, err)
	orphan, err := store.Put(ctx, blob.NewKey("files/"+uuid.NewString()), strings.NewReader("half"), 0)
	require.NoError(t, err)
	fileWrite(t, s.storage, ".tmp/put-crashed", []byte("partial"))
	assert.Len(t, s.fileList(t, ada.token), 2, "no file without its event")
	used := len(s.fileBlobs(t)) - 2

	// Too young: kept (it may be an upload in flight).
	removed, err := blob.Sweep(ctx, store, readapi.BlobInUse(s.app.Pool()), time.Hour, time.Now())
	require.NoError(t, err)
	assert.Empty(t, removed)
	removed, err = blob.Sweep(ctx, store, readapi.BlobInUse(s.app.Pool()), time.Hour, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{orphan.Key}, removed)
	n, err := store.SweepTemp(time.Hour, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, s.fileBlobs(t), used)
	assert.Equal(t, live, s.fileDump(t))
	assert.Equal(t, "a+", s.fileGet(t, fmt.Sprintf("/api/v2/files/%v", a["id"]), ada.token).raw)
}

// TestFiles_ProfilePictures: the built-in pictures, replaced by those of
// the configured directory, with the built-in ones as the fallback.
func TestFiles_ProfilePictures(t *testing.T) {
	t.Parallel()
	s := fileStart(t, nil)
	r := s.call(t, http.MethodGet, "/api/v1/files/profile_pictures/list", nil, "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	files := r.obj(t)["files"].([]any)
	assert.Contains(t, files, "People/Ada.svg")
	assert.Contains(t, files, "Space/Rocket.svg")
	pic := s.fileGet(t, "/api/v1/files/profile_pictures/People/Ada.svg", "")
	require.Equal(t, http.StatusOK, pic.status, pic.raw)
	assert.Equal(t, "image/svg+xml", pic.header.Get("Content-Type"))
	assert.Contains(t, pic.raw, "<svg")
	requireDetail(t, s.fileGet(t, "/api/v1/files/profile_pictures/People/Nobody.svg", ""), http.StatusNotFound,
		"Profile picture People/Nobody.svg not found")

	dir := t.TempDir()
	fileWrite(t, dir, "People/Me.png", []byte("\x89PNG mine"))
	fileWrite(t, dir, "Space/Comet.svg", []byte("<svg>comet</svg>"))
	o := fileStart(t, map[string]string{"SKILLFLAW_PROFILE_PICTURES_DIR": dir})
	r = o.call(t, http.MethodGet, "/api/v1/files/profile_pictures/list", nil, "")
	assert.Equal(t, []any{"People/Me.png", "Space/Comet.svg"}, r.obj(t)["files"])
	me := o.fileGet(t, "/api/v1/files/profile_pictures/People/Me.png", "")
	assert.Equal(t, "image/png", me.header.Get("Content-Type"))
	assert.Equal(t, "\x89PNG mine", me.raw)
	assert.Equal(t, http.StatusOK, o.fileGet(t, "/api/v1/files/profile_pictures/People/Ada.svg", "").status, "built-in fallback")
}

// A storage directory that cannot be created is a configuration error:
// the server does not start, and says why.
func TestFiles_UnusableStorageDirStopsTheServer(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))
	vars := map[string]string{"SKILLFLAW_DATABASE_URL": testkit.DatabaseURL(t), "SKILLFLAW_STORAGE_DIR": filepath.Join(notADir, "storage"),
		"HOME": t.TempDir()}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Flows{}, app.Files{})
	require.NoError(t, err)
	defer a.Close()
	_, err = a.Handler()
	require.ErrorContains(t, err, "files: ")
	require.ErrorContains(t, err, "SKILLFLAW_STORAGE_DIR")
}
