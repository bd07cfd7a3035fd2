package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
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
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The superuser every flows test server bootstraps.
const (
	flAdmin         = "fladmin"
	flAdminPassword = "fladmin-password-1"
	flPassword      = "user-password-1"
)

// flServer is an App with the Identity and Flows modules serving on a real
// listener until the test ends.
type flServer struct {
	app   *app.App
	base  string
	admin flUser
}

// flUser is a signed-in caller.
type flUser struct {
	id    int64
	name  string
	token string
}

// flStart opens a fresh database, serves Identity and Flows on
// 127.0.0.1:0 and signs the bootstrap superuser in.
func flStart(t *testing.T) *flServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          flAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": flAdminPassword,
		"SKILLFLAW_NEW_USER_IS_ACTIVE": "true",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), &app.Identity{}, app.Flows{})
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	if err := a.Bootstrap(ctx); err != nil {
		cancel()
		a.Close()
		require.NoError(t, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
	s := &flServer{app: a, base: "http://" + ln.Addr().String()}
	require.Eventually(t, func() bool {
		res, err := http.Get(s.base + "/health_check")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 5*time.Millisecond)
	// The superuser was written before the projectors ran; tokens are
	// checked against the users read model, so let it fold the log first.
	head := s.head(t)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head, "users"))
	s.admin = s.login(t, flAdmin, flAdminPassword)
	return s
}

// head is the position of the last event in the log.
func (s *flServer) head(t *testing.T) eventstore.Position {
	t.Helper()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	defer store.Close()
	head, err := store.Head(context.Background())
	require.NoError(t, err)
	return head
}

// login signs username in and returns the caller.
func (s *flServer) login(t *testing.T, username, password string) flUser {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	r := s.send(t, http.MethodPost, "/api/v1/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", "")
	require.Equal(t, http.StatusOK, r.status, "login %s: %s", username, r.raw)
	tok, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, tok, r.raw)
	me := s.call(t, http.MethodGet, "/api/v1/users/whoami", nil, tok)
	require.Equal(t, http.StatusOK, me.status, me.raw)
	id, ok := me.obj(t)["id"].(float64)
	require.True(t, ok, me.raw)
	return flUser{id: int64(id), name: username, token: tok}
}

// user signs a new (active) user up and in.
func (s *flServer) user(t *testing.T, username string) flUser {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": username, "password": flPassword}, "")
	require.Equal(t, http.StatusCreated, r.status, "sign up %s: %s", username, r.raw)
	return s.login(t, username, flPassword)
}

// flReply is one answer: status, decoded JSON body and the raw body.
type flReply struct {
	status int
	body   any
	raw    string
}

// obj returns the body as a JSON object.
func (r flReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.raw)
	return m
}

// list returns the body as a JSON array of objects.
func (r flReply) list(t *testing.T) []map[string]any {
	t.Helper()
	a, ok := r.body.([]any)
	require.True(t, ok, "body is not an array: %s", r.raw)
	out := make([]map[string]any, len(a))
	for i, v := range a {
		out[i], ok = v.(map[string]any)
		require.True(t, ok, "item %d is not an object: %s", i, r.raw)
	}
	return out
}

// detail returns body["detail"].
func (r flReply) detail() any {
	m, _ := r.body.(map[string]any)
	return m["detail"]
}

func (s *flServer) send(t *testing.T, method, path string, body io.Reader, contentType, token string) flReply {
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
	out := flReply{status: res.StatusCode, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// call sends jsonBody (nil: none) as JSON, as token ("": anonymous).
func (s *flServer) call(t *testing.T, method, path string, jsonBody any, token string) flReply {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.send(t, method, path, r, "application/json", token)
}

// create creates a flow as u and requires 201; it returns the flow.
func (s *flServer) create(t *testing.T, u flUser, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPost, "/api/v1/flows/", body, u.token)
	require.Equal(t, http.StatusCreated, r.status, "create %v: %s", body, r.raw)
	return r.obj(t)
}

// get reads flow id as u and requires 200.
func (s *flServer) get(t *testing.T, u flUser, id string) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodGet, flPath(id), nil, u.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.obj(t)
}

// patch updates flow id as u and requires 200; it returns the flow.
func (s *flServer) patch(t *testing.T, u flUser, id string, body map[string]any) map[string]any {
	t.Helper()
	r := s.call(t, http.MethodPatch, flPath(id), body, u.token)
	require.Equal(t, http.StatusOK, r.status, "patch %v: %s", body, r.raw)
	return r.obj(t)
}

// flPath is /api/v1/flows/{id} followed by rest.
func flPath(id string, rest ...string) string {
	p := "/api/v1/flows/" + id
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// flRequireDetail checks an answer's status and {"detail": want}.
func flRequireDetail(t *testing.T, r flReply, status int, want any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, append([]any{r.raw}, msgAndArgs...)...)
	require.Equal(t, want, r.detail(), append([]any{r.raw}, msgAndArgs...)...)
}

// flContentFields are the fields of a flow a version captures and a
// rollback restores (domain.FlowContent).
var flContentFields = []string{"name", "description", "flow_skill", "icon", "icon_bg_color", "gradient", "data",
	"is_component", "webhook", "endpoint_name", "tags", "mcp_enabled", "action_name", "action_description",
	"access_type", "flow_type", "is_hold", "is_endpoint"}

// flPick returns the given fields of a flow.
func flPick(m map[string]any, fields ...string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f] = m[f]
	}
	return out
}

// flWithout returns the flow without the given fields.
func flWithout(m map[string]any, fields ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, f := range fields {
		delete(out, f)
	}
	return out
}

// flRows returns every row of query as text, in order.
func (s *flServer) flRows(t *testing.T, query string) []string {
	t.Helper()
	rows, err := s.app.Pool().Query(context.Background(), query)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// try sends a JSON request without failing the test (for goroutines): it
// returns the status and raw body, or the transport error.
func (s *flServer) try(method, path string, jsonBody any, token string) (int, string, error) {
	b, err := json.Marshal(jsonBody)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, string(raw), err
}

// stream returns the types of the events of stream, in order.
func (s *flServer) stream(t *testing.T, stream string) []string {
	t.Helper()
	store := postgres.New(s.app.Pool(), postgres.Options{})
	defer store.Close()
	events, err := store.ReadStream(context.Background(), stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
