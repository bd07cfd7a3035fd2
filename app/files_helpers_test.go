package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// The superuser every files test server bootstraps.
const (
	fileAdmin         = "fadmin"
	fileAdminPassword = "fadmin-password-1"
	filePassword      = "user-password-1"
)

// fileServer is an App with the Identity, Tenants, Flows, Projects and
// Files modules, its blob store in storage.
type fileServer struct {
	*harness
	storage string
}

// fileStart serves the files module on a fresh database with env on top
// of the test defaults: the fileAdmin superuser, active sign-ups, a blob
// store in a temporary directory and uploads of up to 1 MB.
func fileStart(t *testing.T, env map[string]string) *fileServer {
	t.Helper()
	storage := t.TempDir()
	vars := adminEnv(fileAdmin, fileAdminPassword)
	vars["SKILLFLAW_STORAGE_DIR"] = storage
	vars["SKILLFLAW_MAX_FILE_SIZE_UPLOAD"] = "1"
	maps.Copy(vars, env)
	h := startApp(t, options{env: vars, modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Files{}}})
	return &fileServer{harness: h, storage: storage}
}

// filePart is one part of a multipart body: a form field, or a file when
// filename is set (disposition, when set, replaces the whole
// Content-Disposition, to send names a well-behaved client would not).
type filePart struct {
	field, filename, disposition string
	content                      []byte
}

// fileMultipart posts parts to path as token.
func (s *fileServer) fileMultipart(t *testing.T, path, token string, parts ...filePart) reply {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		switch {
		case p.disposition != "":
			h.Set("Content-Disposition", p.disposition)
		case p.filename != "":
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.field, p.filename))
		default:
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, p.field))
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write(p.content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return s.send(t, http.MethodPost, path, &buf, mw.FormDataContentType(), withToken(token))
}

// fileUpload uploads content as a user file called name (v2, the
// trailing-slash path; query is appended as is) and returns the answer.
func (s *fileServer) fileUpload(t *testing.T, token, name, query string, content []byte) reply {
	t.Helper()
	return s.fileMultipart(t, "/api/v2/files/"+query, token, filePart{field: "file", filename: name, content: content})
}

// fileUploadOK uploads and requires 201; it returns the file.
func (s *fileServer) fileUploadOK(t *testing.T, token, name string, content []byte) map[string]any {
	t.Helper()
	r := s.fileUpload(t, token, name, "", content)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// fileList lists the caller's user files.
func (s *fileServer) fileList(t *testing.T, token string) []map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v2/files", nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// fileNames are the names of a list of files, sorted.
func fileNames(files []map[string]any) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i], _ = f["name"].(string)
	}
	sort.Strings(out)
	return out
}

// fileGet downloads a path as token (raw answer).
func (s *fileServer) fileGet(t *testing.T, path, token string) reply {
	t.Helper()
	return s.send(t, http.MethodGet, path, nil, "", withToken(token))
}

// fileBlobs lists the blob store's files (relative paths), temporary ones
// included, so a test sees everything a failed upload may have left.
func (s *fileServer) fileBlobs(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(s.storage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(s.storage, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

// fileUnzip reads a zip answer: entry name to content.
func fileUnzip(t *testing.T, raw string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		out[f.Name] = string(data)
	}
	return out
}

// fileDump is the files read model as text rows, in id order.
func (s *fileServer) fileDump(t *testing.T) []string {
	t.Helper()
	rows, err := s.app.Pool().Query(context.Background(), `SELECT row_to_json(f)::text FROM files f ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var row string
		require.NoError(t, rows.Scan(&row))
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// fileEsc escapes a name for a path segment.
func fileEsc(name string) string { return url.PathEscape(name) }

// fileWrite writes a file under dir (creating its directory).
func fileWrite(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
	require.NoError(t, os.WriteFile(p, data, 0o600))
}
