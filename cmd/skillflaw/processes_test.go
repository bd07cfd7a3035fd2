package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// envChild makes the test binary run `skillflaw ARGS` (the binary's real
// modules) instead of the tests: the child processes of
// TestServe_TwoProcessesTakeOverADeadOnesProjectors and of
// BenchmarkRequestMemory (a process that holds nothing but the server).
const envChild = "SKILLFLAW_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(envChild); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Stdin, os.Stdout, os.Stderr, os.Getenv, modules()...)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "skillflaw:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is a `skillflaw serve` process.
type child struct {
	cmd  *exec.Cmd
	base string
	out  *testkit.SyncBuffer
}

// serveChild starts `skillflaw serve` on dbURL in a process of its own
// (extra: more NAME=value variables; SKILLFLAW_TEST_CHILD_ARGS among them
// replaces the command) and waits until it answers /health_check.
func serveChild(t *testing.T, dbURL string, extra ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	port := freePort(t)
	c := &child{cmd: exec.Command(exe), base: "http://127.0.0.1:" + strconv.Itoa(port), out: &testkit.SyncBuffer{}}
	c.cmd.Env = append(os.Environ(), envChild+"=serve", "SKILLFLAW_DATABASE_URL="+dbURL, "SKILLFLAW_PORT="+strconv.Itoa(port),
		"HOME="+t.TempDir(), "SKILLFLAW_AUTO_MIGRATE=false", "SKILLFLAW_LOG_FORMAT=text", "SKILLFLAW_PASSWORD_HASH_COST=4",
		"SKILLFLAW_SUPERUSER=root", "SKILLFLAW_SUPERUSER_PASSWORD=root-password-1")
	c.cmd.Env = append(c.cmd.Env, extra...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		_ = c.cmd.Wait()
		if t.Failed() {
			t.Logf("process %d:\n%s", c.cmd.Process.Pid, c.out)
		}
	})
	require.Eventually(t, func() bool {
		res, err := http.Get(c.base + "/health_check")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 10*time.Millisecond, "serve on :%d", port)
	return c
}

// holders maps each projection to the pid of the process running it (0:
// none), from `skillflaw projections status --json`.
func holders(t *testing.T, dbURL string) map[string]int {
	t.Helper()
	c := newCLI(t, dbURL)
	c.modules = modules()
	out, _, err := c.run(context.Background(), "projections", "status", "--json")
	require.NoError(t, err)
	var st []projections.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	m := map[string]int{}
	for _, s := range st {
		_, pid, _ := strings.Cut(s.Holder, ":")
		m[s.Name], _ = strconv.Atoi(pid)
	}
	return m
}

func allHeldBy(m map[string]int, pid int) bool {
	for _, p := range m {
		if p != pid {
			return false
		}
	}
	return len(m) > 0
}

// Two `skillflaw serve` processes on one database: the projectors run in
// one of them; killed (SIGKILL: no goodbye), the other takes every one of
// them over within seconds and answers writes with its read models caught
// up.
func TestServe_TwoProcessesTakeOverADeadOnesProjectors(t *testing.T) {
	t.Parallel()
	dbURL := testkit.DatabaseURL(t)
	first := serveChild(t, dbURL)
	second := serveChild(t, dbURL)
	var h map[string]int
	require.Eventually(t, func() bool {
		h = holders(t, dbURL)
		return allHeldBy(h, first.cmd.Process.Pid) || allHeldBy(h, second.cmd.Process.Pid)
	}, 10*time.Second, 20*time.Millisecond, "one process runs every projector")
	dead, survivor := first, second
	if allHeldBy(h, second.cmd.Process.Pid) {
		dead, survivor = second, first
	}

	require.NoError(t, dead.cmd.Process.Kill())
	killed := time.Now()
	require.Eventually(t, func() bool { return allHeldBy(holders(t, dbURL), survivor.cmd.Process.Pid) },
		10*time.Second, 20*time.Millisecond, "the survivor takes every projector over")
	took := time.Since(killed)
	t.Logf("took over in %s", took.Round(time.Millisecond))
	assert.Less(t, took, 5*time.Second)

	res, err := http.PostForm(survivor.base+"/api/v1/login", url.Values{"username": {"root"}, "password": {"root-password-1"}})
	require.NoError(t, err)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&pair))
	res.Body.Close()
	req, err := http.NewRequest(http.MethodPost, survivor.base+"/api/v1/flows/", strings.NewReader(`{"name":"After the takeover"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Empty(t, res.Header.Get("X-Read-Model-Lag"), "the survivor's projectors caught up with the write")
	assert.NotEmpty(t, res.Header.Get("X-Event-Position"))
}
