package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The superuser every history test server bootstraps.
const (
	histAdmin         = "histadmin"
	histAdminPassword = "histadmin-password-1"
	histPassword      = "hist-password-1"
)

// histServer is an App with the Identity and Flows modules on a real
// listener until the test ends.
type histServer struct{ *harness }

// histStart serves Identity and Flows on a fresh database (see startApp),
// with a bootstrapped superuser and active sign-ups.
func histStart(t *testing.T) *histServer {
	t.Helper()
	return &histServer{startApp(t, options{modules: []app.Module{&app.Identity{}, app.Flows{}}, env: adminEnv(histAdmin, histAdminPassword)})}
}

// histSignUp signs a new active user (with nickname, if not empty) up and in.
func (s *histServer) histSignUp(t *testing.T, username, nickname string) caller {
	t.Helper()
	if nickname == "" {
		return s.newUser(t, username, histPassword)
	}
	return s.newUser(t, username, histPassword, map[string]any{"nickname": nickname})
}

// histRequire checks a reply's status, showing its body on failure.
func histRequire(t *testing.T, r reply, status int, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, "%v: %s", msgAndArgs, r.raw)
}

// histDetail checks a reply's status and {"detail": want}.
func histDetail(t *testing.T, r reply, status int, want string, msgAndArgs ...any) {
	t.Helper()
	histRequire(t, r, status, msgAndArgs...)
	require.Equal(t, want, r.obj(t)["detail"], "%v: %s", msgAndArgs, r.raw)
}

// histLoc checks a 422 whose first error is located at loc.
func histLoc(t *testing.T, r reply, loc ...any) {
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
	reader caller
	id     string // the flow, from the first write's answer
	steps  []histStep
}

// write sends a write as who, requires status and an X-Event-Position,
// then reads the flow.
func (sc *histScript) write(t *testing.T, name string, who caller, method, path string, body any, status int) reply {
	t.Helper()
	r := sc.s.call(t, method, path, body, who.token)
	histRequire(t, r, status, name)
	pos, err := eventstore.ParsePosition(r.header.Get("X-Event-Position"))
	require.NoError(t, err, name)
	if sc.id == "" {
		sc.id = r.obj(t)["id"].(string)
	}
	got := sc.s.call(t, http.MethodGet, "/api/v1/flows/"+sc.id, nil, sc.reader.token)
	histRequire(t, got, http.StatusOK, name)
	sc.steps = append(sc.steps, histStep{name: name, pos: pos, read: got.raw, updatedAt: got.obj(t)["updated_at"].(string)})
	return r
}

// checkAsOf requires that as_of at each write's position, at its time (in
// UTC and at +02:00), and just before the next write's time answers
// exactly what Read Flow answered right after that write.
func (sc *histScript) checkAsOf(t *testing.T) {
	t.Helper()
	asOf := func(v string) reply {
		return sc.s.call(t, http.MethodGet, "/api/v1/flows/"+sc.id+"?as_of="+url.QueryEscape(v), nil, sc.reader.token)
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
