package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/internal/testkit/tallyapi"
)

// served is an App with the tally module serving on a real listener until
// the test ends.
type served struct{ *harness }

func serve(t *testing.T) *served {
	t.Helper()
	return &served{startApp(t, options{modules: []app.Module{tallyapi.Module{}},
		beforeBootstrap: func(t testing.TB, a *app.App) { testkit.CreateTallyTables(t, a.Pool()) }})}
}

// do sends body (nil: none) as JSON; it returns the response (its body
// read) and the body as a JSON object (nil when empty).
func (s *served) do(t *testing.T, method, path string, body any, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	r := s.harness.do(t, method, path, body, header)
	var out map[string]any
	if len(r.raw) > 0 {
		out = r.obj(t)
	}
	return r.res, out
}

// Read your writes: 200 create-then-read pairs, and as many
// increment-then-read pairs, never see stale data.
func TestApp_ReadYourWrites(t *testing.T) {
	t.Parallel()
	s := serve(t)
	for i := range 200 {
		name := fmt.Sprintf("tally %d", i)
		res, created := s.do(t, http.MethodPost, "/api/v1/_test/tallies", map[string]any{"name": name}, nil)
		require.Equal(t, http.StatusCreated, res.StatusCode, created)
		require.NotEmpty(t, res.Header.Get("X-Event-Position"))
		require.Empty(t, res.Header.Get("X-Read-Model-Lag"))
		id := created["id"].(string)

		res, got := s.do(t, http.MethodGet, "/api/v1/_test/tallies/"+id, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "pair %d: created tally not readable", i)
		require.Equal(t, name, got["name"])

		res, _ = s.do(t, http.MethodPost, "/api/v1/_test/tallies/"+id+"/increment", map[string]any{"by": i + 1}, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		_, got = s.do(t, http.MethodGet, "/api/v1/_test/tallies/"+id, nil, nil)
		require.Equal(t, float64(i+1), got["total"], "pair %d: increment not visible", i)
	}
}

// A client that learned a position elsewhere (here: a write that did not go
// through this API) gets a read at least that fresh with X-Min-Position.
func TestApp_MinPositionOnReads(t *testing.T) {
	t.Parallel()
	s := serve(t)
	store := postgres.New(s.app.Pool(), postgres.Options{})
	t.Cleanup(store.Close)
	repo := commands.NewRepository(store, testkit.NewRegistry(t))
	for range 20 {
		id := uuid.New()
		tally, err := testkit.OpenTally(id, "direct")
		require.NoError(t, err)
		written, err := repo.Save(context.Background(), tally, eventstore.Metadata{})
		require.NoError(t, err)
		res, got := s.do(t, http.MethodGet, "/api/v1/_test/tallies/"+id.String(), nil,
			http.Header{"X-Min-Position": {written.Last().String()}})
		require.Equal(t, http.StatusOK, res.StatusCode, got)
	}
	res, got := s.do(t, http.MethodGet, "/api/v1/_test/tallies/"+uuid.NewString(), nil,
		http.Header{"X-Min-Position": {"not-a-position"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, got)
}

func TestApp_BadInputNeverFailsWith500(t *testing.T) {
	t.Parallel()
	s := serve(t)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
	}{
		{"missing_name", http.MethodPost, "/api/v1/_test/tallies", map[string]any{}, 422},
		{"name_too_long", http.MethodPost, "/api/v1/_test/tallies", map[string]any{"name": string(bytes.Repeat([]byte("x"), 65))}, 422},
		{"wrong_type", http.MethodPost, "/api/v1/_test/tallies", map[string]any{"name": 5}, 422},
		{"blank_name_domain_rule", http.MethodPost, "/api/v1/_test/tallies", map[string]any{"name": "   "}, 422},
		{"bad_uuid", http.MethodGet, "/api/v1/_test/tallies/nope", nil, 422},
		{"unknown_tally", http.MethodGet, "/api/v1/_test/tallies/" + uuid.NewString(), nil, 404},
		{"increment_unknown", http.MethodPost, "/api/v1/_test/tallies/" + uuid.NewString() + "/increment", map[string]any{"by": 1}, 404},
		{"zero_increment", http.MethodPost, "/api/v1/_test/tallies/" + uuid.NewString() + "/increment", map[string]any{"by": 0}, 422},
		{"unknown_route", http.MethodGet, "/api/v1/nope", nil, 404},
		{"wrong_method", http.MethodDelete, "/health_check", nil, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := s.do(t, tc.method, tc.path, tc.body, nil)
			assert.Equal(t, tc.status, res.StatusCode, body)
			assert.Contains(t, body, "detail")
		})
	}
	// Nothing was written by the refused requests.
	head, err := postgres.New(s.app.Pool(), postgres.Options{}).Head(context.Background())
	require.NoError(t, err)
	assert.True(t, head.IsZero(), "no event appended, head %s", head)
}

func TestApp_HealthAndContractRoutes(t *testing.T) {
	t.Parallel()
	s := serve(t)
	res, body := s.do(t, http.MethodGet, "/health_check", nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, map[string]any{"status": "ok", "chat": "ok", "db": "ok"}, body)

	res, doc := s.do(t, http.MethodGet, "/openapi.json", nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/health", "/health_check", "/api/v1/version", "/api/v1/config", "/api/v1/_test/tallies/{tally_id}"} {
		assert.Contains(t, paths, p)
	}
}

// A module that requires another (Requirer) is refused without it, before
// anything is opened, naming both; with it, the requirement holds.
func TestApp_RequiredModules(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	runs := &app.Runs{}
	for _, c := range []struct {
		mods    []app.Module
		missing string
	}{
		{[]app.Module{app.Projects{}}, "module app.Projects requires module app.Flows"},
		{[]app.Module{&app.Identity{}, app.Templates{}}, "module app.Templates requires module app.Flows"},
		{[]app.Module{&app.Identity{}, app.Messages{}}, "module app.Messages requires module app.Flows"},
		{[]app.Module{app.Flows{}, runs}, "module app.Runs requires module app.Messages"},
		{[]app.Module{&app.MCP{Runs: runs}}, "module app.MCP requires module app.Runs"},
		{[]app.Module{app.Flows{}, app.Messages{}, &app.Agentic{}}, "module app.Agentic requires module app.Runs"},
	} {
		_, err := app.Open(context.Background(), config.Config{}, log, c.mods...)
		require.EqualError(t, err, c.missing)
	}
	_, err := app.Open(context.Background(), config.Config{}, log, app.Flows{}, app.Messages{}, runs, &app.MCP{Runs: runs})
	require.ErrorContains(t, err, "SKILLFLAW_DATABASE_URL is not set", "the requirements hold: the next check answers")
}
