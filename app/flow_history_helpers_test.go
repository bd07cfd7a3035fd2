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

// The superuser every history test server bootstraps.
const (
	histAdmin         = "histadmin"
	histAdminPassword = "histadmin-password-1"
	histPassword      = "hist-password-1"
)

// histServer is an App with the Identity and Flows modules on a real
// listener until the test ends.
type histServer struct {
	app  *app.App
	base string
}

// histUser is a signed-in caller.
type histUser struct {
	id    int64
	token string
}

// histStart opens a fresh database and serves Identity and Flows on
// 127.0.0.1:0, with a bootstrapped superuser and active sign-ups.
func histStart(t *testing.T) *histServer {
	t.Helper()
	vars := map[string]string{
		"SKILLFLAW_DATABASE_URL":       testkit.DatabaseURL(t),
		"HOME":                         t.TempDir(),
		"SKILLFLAW_PASSWORD_HASH_COST": "4",
		"SKILLFLAW_SUPERUSER":          histAdmin,
		"SKILLFLAW_SUPERUSER_PASSWORD": histAdminPassword,
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
	s := &histServer{app: a, base: "http://" + ln.Addr().String()}
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
	store := postgres.New(a.Pool(), postgres.Options{})
	head, err := store.Head(ctx)
	store.Close()
	require.NoError(t, err)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head, "users"))
	return s
}

// histReply is one answer: status, headers, raw and decoded body.
type histReply struct {
	status int
	header http.Header
	raw    string
	body   any
}

// obj is the body as a JSON object.
func (r histReply) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.body.(map[string]any)
	require.True(t, ok, "not an object: %s", r.raw)
	return m
}

// histSend sends a request with a raw body and decodes the answer.
func (s *histServer) histSend(t *testing.T, method, path string, body io.Reader, contentType, token string) histReply {
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
	out := histReply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "%s %s: %s", method, path, raw)
	}
	return out
}

// histCall sends jsonBody (nil: none) as JSON with token's credentials.
func (s *histServer) histCall(t *testing.T, method, path string, jsonBody any, token string) histReply {
	t.Helper()
	var r io.Reader
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	return s.histSend(t, method, path, r, "application/json", token)
}

// histLogin signs username in and returns the caller.
func (s *histServer) histLogin(t *testing.T, username, password string) histUser {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	r := s.histSend(t, http.MethodPost, "/api/v1/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", "")
	require.Equal(t, http.StatusOK, r.status, "login %s: %s", username, r.raw)
	tok, _ := r.obj(t)["access_token"].(string)
	require.NotEmpty(t, tok, r.raw)
	me := s.histCall(t, http.MethodGet, "/api/v1/users/whoami", nil, tok)
	require.Equal(t, http.StatusOK, me.status, me.raw)
	id, ok := me.obj(t)["id"].(float64)
	require.True(t, ok, me.raw)
	return histUser{id: int64(id), token: tok}
}

// histSignUp signs a new active user (with nickname, if not empty) up and in.
func (s *histServer) histSignUp(t *testing.T, username, nickname string) histUser {
	t.Helper()
	body := map[string]any{"username": username, "password": histPassword}
	if nickname != "" {
		body["nickname"] = nickname
	}
	r := s.histCall(t, http.MethodPost, "/api/v1/users/", body, "")
	require.Equal(t, http.StatusCreated, r.status, "sign up %s: %s", username, r.raw)
	return s.histLogin(t, username, histPassword)
}

// histRequire checks a reply's status, showing its body on failure.
func histRequire(t *testing.T, r histReply, status int, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, "%v: %s", msgAndArgs, r.raw)
}

// histDetail checks a reply's status and {"detail": want}.
func histDetail(t *testing.T, r histReply, status int, want string, msgAndArgs ...any) {
	t.Helper()
	histRequire(t, r, status, msgAndArgs...)
	require.Equal(t, want, r.obj(t)["detail"], "%v: %s", msgAndArgs, r.raw)
}

// histLoc checks a 422 whose first error is located at loc.
func histLoc(t *testing.T, r histReply, loc ...any) {
	t.Helper()
	histRequire(t, r, http.StatusUnprocessableEntity)
	items, ok := r.obj(t)["detail"].([]any)
	require.True(t, ok, r.raw)
	require.NotEmpty(t, items, r.raw)
	require.Equal(t, loc, items[0].(map[string]any)["loc"], r.raw)
}

// histNode is a graph node with id and an extra payload.
func histNode(id string, x int, payload map[string]any) map[string]any {
	return map[string]any{"id": id, "type": "genericNode", "position": map[string]any{"x": x, "y": 0}, "data": payload}
}

// histGraph is flow data of nodes and edges.
func histGraph(nodes []any, edges []any) map[string]any {
	return map[string]any{"nodes": nodes, "edges": edges, "viewport": map[string]any{"x": 0, "y": 0, "zoom": 1}}
}

// histStrings turns a decoded JSON list into strings.
func histStrings(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	require.True(t, ok, "not a list: %v", v)
	out := make([]string, len(list))
	for i, s := range list {
		out[i], ok = s.(string)
		require.True(t, ok, "not a string: %v", s)
	}
	return out
}

// histDecode decodes a raw JSON object.
func histDecode(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &m), raw)
	return m
}

// histStep is a write of a scripted sequence and what Read Flow answered
// right after it.
type histStep struct {
	name      string
	pos       eventstore.Position // the write's X-Event-Position
	read      string              // GET /api/v1/flows/{id}, raw
	updatedAt string              // its updated_at
}

// histScript runs the writes of a flow's life and keeps, after each, what
// Read Flow (by reader) answered.
type histScript struct {
	s      *histServer
	reader histUser
	id     string // the flow, from the first write's answer
	steps  []histStep
}

// write sends a write as who, requires status and an X-Event-Position,
// then reads the flow.
func (sc *histScript) write(t *testing.T, name string, who histUser, method, path string, body any, status int) histReply {
	t.Helper()
	r := sc.s.histCall(t, method, path, body, who.token)
	histRequire(t, r, status, name)
	pos, err := eventstore.ParsePosition(r.header.Get("X-Event-Position"))
	require.NoError(t, err, name)
	if sc.id == "" {
		sc.id = r.obj(t)["id"].(string)
	}
	got := sc.s.histCall(t, http.MethodGet, "/api/v1/flows/"+sc.id, nil, sc.reader.token)
	histRequire(t, got, http.StatusOK, name)
	sc.steps = append(sc.steps, histStep{name: name, pos: pos, read: got.raw, updatedAt: got.obj(t)["updated_at"].(string)})
	return r
}

// checkAsOf requires that as_of at each write's position, at its time (in
// UTC and at +02:00), and just before the next write's time answers
// exactly what Read Flow answered right after that write.
func (sc *histScript) checkAsOf(t *testing.T) {
	t.Helper()
	asOf := func(v string) histReply {
		return sc.s.histCall(t, http.MethodGet, "/api/v1/flows/"+sc.id+"?as_of="+url.QueryEscape(v), nil, sc.reader.token)
	}
	for i, st := range sc.steps {
		at, err := time.Parse(time.RFC3339Nano, st.updatedAt)
		require.NoError(t, err)
		cases := map[string]string{
			"position": st.pos.String(),
			"time":     st.updatedAt,
			"+02:00":   at.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano),
		}
		if i+1 < len(sc.steps) {
			next, err := time.Parse(time.RFC3339Nano, sc.steps[i+1].updatedAt)
			require.NoError(t, err)
			cases["just before the next write"] = next.Add(-time.Microsecond).Format(time.RFC3339Nano)
		}
		for what, v := range cases {
			r := asOf(v)
			histRequire(t, r, http.StatusOK, st.name, what)
			require.Equal(t, st.read, r.raw, "as_of %s (%s) after %s", what, v, st.name)
		}
	}
}
