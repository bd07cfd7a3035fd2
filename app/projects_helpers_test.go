package app_test

import (
	"archive/zip"
	"bytes"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// The superuser every projects test server bootstraps.
const (
	projAdmin         = "padmin"
	projAdminPassword = "padmin-password-1"
	projPassword      = "user-password-1"
)

// projServer is an App with the Identity, Flows and Projects modules
// serving on a real listener.
type projServer struct{ *harness }

// projStart serves Identity, Flows and Projects on a fresh database (see
// startApp) with env on top of the test defaults: the projAdmin superuser,
// active sign-ups and uploads of up to 4 MB.
func projStart(t *testing.T, env map[string]string) *projServer {
	t.Helper()
	vars := adminEnv(projAdmin, projAdminPassword)
	vars["SKILLFLAW_MAX_FILE_SIZE_UPLOAD"] = "4"
	maps.Copy(vars, env)
	return &projServer{startApp(t, options{env: vars, modules: []app.Module{&app.Identity{}, app.Flows{}, app.Projects{}}})}
}

// projUpload posts content as the multipart field "file" called filename
// (field "" sends a form without a file).
func (s *projServer) projUpload(t *testing.T, path, token, field, filename string, content []byte) reply {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if field != "" {
		w, err := mw.CreateFormFile(field, filename)
		require.NoError(t, err)
		_, err = w.Write(content)
		require.NoError(t, err)
	} else {
		require.NoError(t, mw.WriteField("other", "x"))
	}
	require.NoError(t, mw.Close())
	return s.send(t, http.MethodPost, path, &buf, mw.FormDataContentType(), withToken(token))
}

// projUser signs a user up and logs it in; it returns the token and id.
func (s *projServer) projUser(t *testing.T, username string) (string, int64) {
	t.Helper()
	u := s.newUser(t, username, projPassword)
	return u.token, u.id
}

// projCreate creates a project and requires 201.
func (s *projServer) projCreate(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/projects/", body, token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	return r.obj(t)
}

// projList lists the caller's projects.
func (s *projServer) projList(t *testing.T, token, query string) []map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, "/api/v1/projects/"+query, nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.objects(t)
}

// projZip builds a zip of name → content, in the order given.
func projZip(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		require.NoError(t, err)
		_, err = w.Write([]byte(e[1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// projUnzip reads a zip into name → content.
func projUnzip(t *testing.T, raw string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		out[f.Name] = b
	}
	return out
}

// projNames lists the "name" of objects.
func projNames(items []any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)["name"].(string)
	}
	return out
}
