package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The superuser every projects test server bootstraps.
const (
	projAdmin         = "padmin"
	projAdminPassword = "padmin-password-1"
	projPassword      = "user-password-1"
)

// projServer is an App with the Identity, Flows and Projects modules
// serving on a real listener.
type projServer struct {
	app  *app.App
	base string
}

// projStart opens, bootstraps and serves an App on a fresh database (env
// on top of the test defaults) until the test ends, and waits until every
// read model folded what the bootstrap wrote.
func projStart(t *testing.T, env map[string]string) *projServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":         testkit.DatabaseURL(t),
		"HOME":                           t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST":   "4",
		"SKILLFLAW_SUPERUSER":            projAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD":   projAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE":   "true",
		"SKILLFLAW_MAX_FILE_SIZE_UPLOAD": "4",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Flows{}, app.Projects{})
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		err = a.Bootstrap(ctx)
	}
	if err != nil {
		cancel()
		a.Close()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "graceful shutdown")
		a.Close()
	})
	s := &projServer{app: a, base: "http://" + ln.Addr().String()}
	store := postgres.New(a.Pool(), postgres.Options{})
	head, err := store.Head(ctx)
	store.Close()
	require.NoError(t, err)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head), "read models catch up with the bootstrap")
	return s
}

// projReply is one answer: status, headers, raw body and the body decoded
// as JSON when it is JSON.
type projReply struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func (r projReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

func (r projReply) list(t *testing.T) []any {
	t.Helper()
	l, ok := r.body.([]any)
	require.True(t, ok, "body is not a list: %s", r.raw)
	return l
}

func (r projReply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

// projSend sends body with contentType, as token (none when "").
func (s *projServer) projSend(t *testing.T, method, path, token string, body io.Reader, contentType string) projReply {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := projReply{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// projDo sends jsonBody (nil: none) as JSON.
func (s *projServer) projDo(t *testing.T, method, path, token string, jsonBody any) projReply {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.projSend(t, method, path, token, r, "application/json")
}

// projUpload posts content as the multipart field "file" called filename
// (field "" sends a form without a file).
func (s *projServer) projUpload(t *testing.T, path, token, field, filename string, content []byte) projReply {
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
	return s.projSend(t, http.MethodPost, path, token, &buf, mw.FormDataContentType())
}

// projLogin logs in and returns the access token.
func (s *projServer) projLogin(t *testing.T, username, password string) string {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	r := s.projSend(t, http.MethodPost, "/api/v1/login", "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	token, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, token)
	return token
}

// projUser signs a user up and logs it in; it returns the token and id.
func (s *projServer) projUser(t *testing.T, username string) (string, int64) {
	t.Helper()
	r := s.projDo(t, http.MethodPost, "/api/v1/users/", "", map[string]any{"username": username, "password": projPassword})
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return s.projLogin(t, username, projPassword), int64(r.obj(t)["id"].(float64))
}

// projCreate creates a project and requires 201.
func (s *projServer) projCreate(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.projDo(t, http.MethodPost, "/api/v1/projects/", token, body)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return r.obj(t)
}

// projFlow creates a flow and requires 201.
func (s *projServer) projFlow(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.projDo(t, http.MethodPost, "/api/v1/flows/", token, body)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	return r.obj(t)
}

// projGetFlow reads a flow and requires 200.
func (s *projServer) projGetFlow(t *testing.T, token string, id any) map[string]any {
	t.Helper()
	r := s.projDo(t, http.MethodGet, fmt.Sprintf("/api/v1/flows/%v", id), token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	return r.obj(t)
}

// projList lists the caller's projects.
func (s *projServer) projList(t *testing.T, token, query string) []map[string]any {
	t.Helper()
	r := s.projDo(t, http.MethodGet, "/api/v1/projects/"+query, token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	var out []map[string]any
	for _, p := range r.list(t) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// projRequireDetail checks an answer's status and {"detail": want}.
func projRequireDetail(t *testing.T, r projReply, status int, want any) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.raw))
	require.Equal(t, want, r.detail(), string(r.raw))
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
func projUnzip(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
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
