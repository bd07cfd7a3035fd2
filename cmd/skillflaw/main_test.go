package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/internal/testkit/tallyapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

type cli struct {
	env   map[string]string
	stdin string
	// modules are the App's modules (nil: the tally test module).
	modules []app.Module
}

func newCLI(t *testing.T, url string) *cli {
	return &cli{env: map[string]string{"SKILLFLAW_DATABASE_URL": url, "HOME": t.TempDir(), "SKILLFLAW_LOG_FORMAT": "text"}}
}

func (c *cli) run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errOut testkit.SyncBuffer
	modules := c.modules
	if modules == nil {
		modules = []app.Module{tallyapi.Module{}}
	}
	err = run(ctx, args, strings.NewReader(c.stdin), &out, &errOut, func(k string) string { return c.env[k] }, modules...)
	return out.String(), errOut.String(), err
}

func TestCLI_VersionAndUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	out, _, err := c.run(context.Background(), "version")
	require.NoError(t, err)
	assert.Equal(t, "skillflaw 0.1.0\n", out)
	for _, args := range [][]string{{}, {"bogus"}, {"projections"}, {"projections", "status", "x"}, {"projections", "rebuild"},
		{"projections", "rebuild", "a", "b"}, {"projections", "rebuild", "--all", "a"}, {"projections", "rebuild", "--all", "--parallel", "0"},
		{"projections", "rebuild", "--all", "--parallel"}, {"projections", "rebuild", "--fast", "a"}, {"serve", "x"},
		{"dev"}, {"dev", "seed-flows"}, {"dev", "seed-flows", "--flows", "0"}} {
		_, _, err := c.run(context.Background(), args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
	_, _, err = c.run(context.Background(), "migrate")
	require.ErrorContains(t, err, "SKILLFLAW_DATABASE_URL is not set")
	c.env["SKILLFLAW_PORT"] = "70000"
	_, _, err = c.run(context.Background(), "serve")
	require.ErrorContains(t, err, "SKILLFLAW_PORT")
}

// serve on a real port: migrates an empty database, answers
// /health_check with db ok, and shuts down cleanly on cancel.
func TestCLI_Serve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := emptyDatabase(t)
	c := newCLI(t, url)
	c.env["SKILLFLAW_PORT"] = strconv.Itoa(freePort(t))
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var logs string
	go func() {
		var err error
		_, logs, err = c.run(serveCtx, "serve")
		done <- err
	}()
	base := "http://127.0.0.1:" + c.env["SKILLFLAW_PORT"]
	var body map[string]string
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/health_check")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&body) == nil
	}, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]string{"status": "ok", "chat": "ok", "db": "ok"}, body)
	stop()
	require.NoError(t, <-done)
	assert.Contains(t, logs, "migration applied")
	assert.Contains(t, logs, "shutting down")
	assert.NotContains(t, logs, "password")
}

func TestCLI_ProjectionsStatusAndRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testkit.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	testkit.CreateTallyTables(t, pool)
	store := postgres.New(pool, postgres.Options{})
	t.Cleanup(store.Close)
	repo := commands.NewRepository(store, testkit.NewRegistry(t))
	for i := range 25 {
		tally, err := testkit.OpenTally([16]byte{byte(i + 1)}, fmt.Sprintf("t%d", i))
		require.NoError(t, err)
		require.NoError(t, tally.Increment(int64(i)+1))
		_, err = repo.Save(ctx, tally, eventstore.Metadata{})
		require.NoError(t, err)
	}
	c := newCLI(t, url)

	out, _, err := c.run(ctx, "projections", "status")
	require.NoError(t, err)
	assert.Regexp(t, `NAME\s+POSITION\s+HEAD\s+LAG EVENTS`, out)
	assert.Regexp(t, `(?m)^tallies\s+0\s+50\s+50\s`, out, "never run: at 0, 50 events behind")

	out, _, err = c.run(ctx, "projections", "rebuild", "tallies")
	require.NoError(t, err)
	assert.Contains(t, out, "rebuild tallies: 50/50 events (100.0%)")
	assert.Contains(t, out, "rebuilt tallies in ")
	var total int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT sum(total) FROM tallies`).Scan(&total))
	assert.Equal(t, int64(25*26/2), total)

	out, _, err = c.run(ctx, "projections", "status", "--json")
	require.NoError(t, err)
	var st []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st, 2, "access (every App's) and tallies")
	assert.Equal(t, "access", st[0]["name"])
	assert.Equal(t, "tallies", st[1]["name"])
	assert.Equal(t, "50", st[1]["position"])
	assert.Equal(t, float64(0), st[1]["lag_events"])
	for _, s := range st {
		assert.Equal(t, "50", s["head"], "the head of the log, for every row")
	}
	assert.Equal(t, float64(0), st[0]["lag_events"], "access handles no tally event: nothing to do")

	out, _, err = c.run(ctx, "projections", "rebuild", "--all", "--parallel=2")
	require.NoError(t, err)
	assert.Regexp(t, `rebuilt tallies in \S+: 50 events applied, \d+ events/s`, out)
	assert.Regexp(t, `rebuilt access in \S+: 0 events applied`, out, "access handles no tally event: it reads none")
	assert.Contains(t, out, "rebuilt 2 projections in ")
	_, _, err = c.run(ctx, "projections", "rebuild", "nope")
	require.ErrorContains(t, err, `no projection "nope"`)
}

// dev seed-flows appends flows as the domain's events, which the flows
// read model shows after a rebuild.
func TestCLI_DevSeedFlows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testkit.DatabaseURL(t)
	c := newCLI(t, url)
	c.modules = []app.Module{&app.Identity{}, app.Flows{}}
	out, _, err := c.run(ctx, "dev", "seed-flows", "--flows", "30", "--edits", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "seed-flows: appended 90 events (30 flows x 3)")
	out, _, err = c.run(ctx, "projections", "rebuild", "flows")
	require.NoError(t, err)
	assert.Regexp(t, `rebuilt flows in \S+: 90 events applied`, out)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var flows, renamed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name LIKE '%, edit 2' AND version = 2) FROM flows`).
		Scan(&flows, &renamed))
	assert.Equal(t, 30, flows)
	assert.Equal(t, 30, renamed)
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	line := progressLine(projectionsProgress(50, 200, 2*time.Second))
	assert.Equal(t, "rebuild p: 50/200 events (25.0%), 25 events/s, ETA 6s", line)
	assert.True(t, strings.HasSuffix(progressLine(projectionsProgress(200, 200, time.Second)), "ETA 0s"))
}

// emptyDatabase returns the URL of a database with no tables at all.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	url := testkit.DatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(context.Background(), `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
	require.NoError(t, err)
	return url
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func projectionsProgress(pos, target uint64, elapsed time.Duration) projections.RebuildProgress {
	return projections.RebuildProgress{Projection: "p", Position: eventstore.At(pos), Target: eventstore.At(target), Elapsed: elapsed}
}

// audit replay prints or writes what GET /api/v1/audit/state answers for
// the same tenant and instant, from the log an App (the binary's modules)
// wrote.
func TestCLI_AuditReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testkit.DatabaseURL(t)
	_, base := serveBinary(t, map[string]string{"SKILLFLAW_DATABASE_URL": url, "SKILLFLAW_SUPERUSER": "root",
		"SKILLFLAW_SUPERUSER_PASSWORD": "root-password-1"})
	call := func(method, path, token string, body any) (map[string]any, http.Header) {
		t.Helper()
		status, out, h := request(t, base, method, path, token, body)
		require.Less(t, status, 300, "%s %s: %v", method, path, out)
		return out, h
	}
	login, _ := call(http.MethodPost, "/api/v1/login", "", neturl.Values{"username": {"root"}, "password": {"root-password-1"}})
	token := login["access_token"].(string)
	tenant, _ := call(http.MethodPost, "/api/v1/tenants", token, map[string]any{"tenant_name": "CLI Co"})
	tid := tenant["tenant_id"].(string)
	_, h := call(http.MethodPost, "/api/v1/businesses", token, map[string]any{"tenant_id": tid, "business_name": "One", "business_level": 1})
	middle := h.Get("X-Event-Position")
	call(http.MethodPost, "/api/v1/orgs", token, map[string]any{"tenant_id": tid, "org_name": "HQ"})
	call(http.MethodPost, "/api/v1/flows/", token, map[string]any{"name": "F", "tenant_id": tid})
	call(http.MethodPatch, "/api/v1/tenants/"+tid, token, map[string]any{"tenant_name": "CLI Company"})
	now := time.Now().UTC().Format(time.RFC3339Nano)

	c := newCLI(t, url)
	c.modules = modules()
	file := filepath.Join(t.TempDir(), "state.json")
	for _, until := range []string{middle, now} {
		want, _ := call(http.MethodGet, "/api/v1/audit/state?"+neturl.Values{"tenant_id": {tid}, "as_of": {until}}.Encode(), token, nil)
		_, _, err := c.run(ctx, "audit", "replay", "--tenant", tid, "--until", until, "--out", file)
		require.NoError(t, err)
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal(raw, &got))
		assert.Equal(t, want, got, "as of %s", until)
		out, _, err := c.run(ctx, "audit", "replay", "--tenant", tid, "--until", until)
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), out)
	}
	// The instants differ: the org, the flow and the new name came after.
	var first map[string]any
	out, _, err := c.run(ctx, "audit", "replay", "--tenant", tid, "--until", middle)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &first))
	assert.Equal(t, "CLI Co", first["tenant"].(map[string]any)["tenant_name"])
	assert.Nil(t, first["orgs"])
	assert.Equal(t, []any{}, first["flows"])
	require.Len(t, first["businesses"].(map[string]any)["businesses"], 1)

	for _, args := range [][]string{{"audit"}, {"audit", "nope"}, {"audit", "replay"}, {"audit", "replay", "--tenant", tid},
		{"audit", "replay", "--tenant", "x", "--until", "1"}, {"audit", "replay", "--tenant", tid, "--until", "yesterday"},
		{"audit", "replay", "--tenant", tid, "--until", "1", "extra"}} {
		_, _, err := c.run(ctx, args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
}

// serveBinary serves an App of the binary's modules on vars (on top of a
// temporary HOME and bcrypt cost 4) until the test ends, once its read
// models show what the bootstrap wrote; it returns the App and its URL.
func serveBinary(t *testing.T, vars map[string]string) (*app.App, string) {
	t.Helper()
	ctx := context.Background()
	env := map[string]string{"HOME": t.TempDir(), "SKILLFLAW_PASSWORD_HASH_COST": "4"}
	maps.Copy(env, vars)
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	serveCtx, stop := context.WithCancel(ctx)
	a, err := app.Open(serveCtx, cfg, slog.New(slog.DiscardHandler), modules()...)
	require.NoError(t, err)
	require.NoError(t, a.Bootstrap(serveCtx))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-done)
		a.Close()
	})
	store := postgres.New(a.Pool(), postgres.Options{})
	t.Cleanup(store.Close)
	head, err := store.Head(ctx)
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, a.Runtime().WaitFor(waitCtx, head))
	return a, "http://" + ln.Addr().String()
}

// request sends body (nil; url.Values as a form; else JSON) to base+path
// as token ("": anonymous) and decodes the JSON answer.
func request(t *testing.T, base, method, path, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case neturl.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out, res.Header
}

// users unlock forgets a name's failed logins from every address and
// lifts its administrative lock, as an event of the CLI; it is the way
// back in for any account, superusers included.
func TestCLI_UsersUnlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testkit.DatabaseURL(t)
	a, base := serveBinary(t, map[string]string{"SKILLFLAW_DATABASE_URL": url, "SKILLFLAW_SUPERUSER": "root",
		"SKILLFLAW_SUPERUSER_PASSWORD": "root-password-1", "SKILLFLAW_MAX_LOGIN_ATTEMPTS": "2"})
	login := func(name, password string) (int, map[string]any) {
		t.Helper()
		status, out, _ := request(t, base, http.MethodPost, "/api/v1/login", "", neturl.Values{"username": {name}, "password": {password}})
		return status, out
	}
	status, out := login("root", "root-password-1")
	require.Equal(t, http.StatusOK, status, out)
	root := out["access_token"].(string)
	status, out, _ = request(t, base, http.MethodPost, "/api/v1/users/", root, map[string]any{"username": "ops", "password": "ops-password-1"})
	require.Equal(t, http.StatusCreated, status, out)
	opsID := int64(out["id"].(float64))
	status, out, _ = request(t, base, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", opsID), root,
		map[string]any{"is_active": true, "is_superuser": true})
	require.Equal(t, http.StatusOK, status, out)
	status, out = login("ops", "ops-password-1")
	require.Equal(t, http.StatusOK, status, out)
	ops := out["access_token"].(string)

	// ops locks root out (an administrative lock), and someone at root's
	// address has guessed twice: root is refused.
	status, out, _ = request(t, base, http.MethodGet, "/api/v1/users/whoami", root, nil)
	require.Equal(t, http.StatusOK, status, out)
	rootID := int64(out["id"].(float64))
	status, out, _ = request(t, base, http.MethodPatch, fmt.Sprintf("/api/v1/users/%d", rootID), ops, map[string]any{"is_locked": true})
	require.Equal(t, http.StatusOK, status, out)
	for range 2 {
		status, out = login("root", "a-guess")
		require.Equal(t, http.StatusUnauthorized, status, out)
	}
	status, out = login("Root", "root-password-1")
	require.Equal(t, http.StatusTooManyRequests, status, out)

	c := newCLI(t, url)
	c.modules = modules()
	stdout, _, err := c.run(ctx, "users", "unlock", "ROOT")
	require.NoError(t, err)
	assert.Equal(t, "user ROOT unlocked: failed logins forgotten from 1 addresses; its lock is lifted\n", stdout)
	var event string
	require.NoError(t, a.Pool().QueryRow(ctx, `SELECT event_type || ' ' || coalesce(metadata->>'actor_user_id', 'system') || ' ' || (metadata->>'causation_id')
FROM events WHERE stream_id = $1 ORDER BY global_position DESC LIMIT 1`, fmt.Sprintf("user-%d", rootID)).Scan(&event))
	assert.Equal(t, "user.unlocked system cli:users unlock", event)
	status, out = login("root", "root-password-1")
	require.Equal(t, http.StatusOK, status, out)
	status, out, _ = request(t, base, http.MethodGet, "/api/v1/users/whoami", out["access_token"].(string), nil)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, false, out["is_locked"])

	// Again: nothing left to do, and it says so.
	stdout, _, err = c.run(ctx, "users", "unlock", "root")
	require.NoError(t, err)
	assert.Equal(t, "user root unlocked: failed logins forgotten from 0 addresses; it was not locked\n", stdout)
	_, _, err = c.run(ctx, "users", "unlock", "ghost")
	require.ErrorContains(t, err, `no user is named "ghost"`)
	for _, args := range [][]string{{"users", "unlock"}, {"users", "unlock", "a", "b"}, {"users", "unlock", "--all"}, {"users", "nope"}} {
		_, _, err := c.run(ctx, args...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
}

// files sweep removes old contents no file names and old temp files, and
// keeps what is younger than --older-than (an upload may be in flight).
func TestCLI_FilesSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t, testkit.DatabaseURL(t))
	c.modules = modules()
	dir := t.TempDir()
	c.env["SKILLFLAW_STORAGE_DIR"] = dir
	_, _, err := c.run(ctx, "migrate")
	require.NoError(t, err)

	store, err := blob.NewLocal(dir)
	require.NoError(t, err)
	put := func(age time.Duration) string {
		key := blob.NewKey("files")
		_, err := store.Put(ctx, key, strings.NewReader("orphan"), 0)
		require.NoError(t, err)
		old := time.Now().Add(-age)
		require.NoError(t, os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), old, old))
		return key
	}
	oldOrphan, freshOrphan := put(2*time.Hour), put(time.Minute)
	temp := filepath.Join(dir, ".tmp", "upload-crashed")
	require.NoError(t, os.WriteFile(temp, []byte("half"), 0o600))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(temp, old, old))

	out, _, err := c.run(ctx, "files", "sweep", "--older-than", "1h")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("swept 1 orphan blobs and 1 temp files from %s\n", dir), out)
	_, _, err = store.Open(ctx, oldOrphan)
	require.ErrorIs(t, err, blob.ErrNotFound)
	r, _, err := store.Open(ctx, freshOrphan)
	require.NoError(t, err, "younger than the guard: perhaps an upload in flight")
	require.NoError(t, r.Close())
	assert.NoFileExists(t, temp)

	_, _, err = c.run(ctx, "files", "sweep", "--older-than", "1s")
	require.ErrorIs(t, err, errUsage, "a guard under a minute would race uploads")
	_, _, err = c.run(ctx, "files", "nope")
	require.ErrorIs(t, err, errUsage)
}
