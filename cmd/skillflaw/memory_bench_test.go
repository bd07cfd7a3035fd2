package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// BenchmarkRequestMemory starts the server as a child process and sends it
// N concurrent flows of S MiB at once (N = SKILLFLAW_BENCH_BODIES, default
// 6; S = SKILLFLAW_BENCH_BODY_MIB, default the flow body limit less 1 MiB
// of envelope), through Create Flow (JSON) and Upload File (multipart). It
// reports the server's resident set before (baseline_rss_MiB), at its peak
// (peak_rss_MiB, VmHWM) and once every request was answered and the
// server is idle again (after_rss_MiB). It measures; it does not time.
func BenchmarkRequestMemory(b *testing.B) {
	bodies := envInt(b, "SKILLFLAW_BENCH_BODIES", 6)
	mib := envInt(b, "SKILLFLAW_BENCH_BODY_MIB", 0)
	for _, route := range []string{"create", "upload"} {
		b.Run(route, func(b *testing.B) {
			for range b.N {
				measureRequestMemory(b, route, bodies, mib)
			}
		})
	}
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	require.NoError(b, err, name)
	return n
}

// memServer is the server child process of the memory benchmark.
type memServer struct {
	cmd  *exec.Cmd
	base string
}

func startMemServer(b *testing.B, extraEnv ...string) *memServer {
	b.Helper()
	port := strconv.Itoa(freePort(b))
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), envChild+"=serve",
		"SKILLFLAW_DATABASE_URL="+testkit.DatabaseURL(b),
		"SKILLFLAW_PORT="+port, "HOME="+b.TempDir(), "SKILLFLAW_STORAGE_DIR="+b.TempDir(),
		"SKILLFLAW_SUPERUSER=memroot", "SKILLFLAW_SUPERUSER_PASSWORD=mem-password-1",
		"SKILLFLAW_PASSWORD_HASH_COST=4", "SKILLFLAW_LOG_LEVEL=warn",
		// Big flows take the projector a while: the answer waits for it.
		"SKILLFLAW_READ_YOUR_WRITES_TIMEOUT=5m")
	cmd.Env = append(cmd.Env, extraEnv...)
	var logs testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(b, cmd.Start())
	s := &memServer{cmd: cmd, base: "http://127.0.0.1:" + port}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if b.Failed() {
			b.Log(logs.String())
		}
	})
	require.Eventually(b, func() bool {
		res, err := http.Get(s.base + "/health_check")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, time.Minute, 20*time.Millisecond, "server start: %s", &logs)
	return s
}

// status reads a field of /proc/<pid>/status in MiB (VmRSS, VmHWM).
func (s *memServer) status(b *testing.B, field string) float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	require.NoError(b, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc status", field)
	return 0
}

func (s *memServer) token(b *testing.B) string {
	b.Helper()
	form := url.Values{"username": {"memroot"}, "password": {"mem-password-1"}}
	res, err := http.PostForm(s.base+"/api/v1/login", form)
	require.NoError(b, err)
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(b, json.NewDecoder(res.Body).Decode(&out))
	require.NotEmpty(b, out.AccessToken)
	return out.AccessToken
}

// awaitIdle waits until the server used no CPU for a second: the
// projectors folded (or passed over) what the requests wrote.
func (s *memServer) awaitIdle(b *testing.B) {
	b.Helper()
	ticks := func() string {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
		require.NoError(b, err)
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		return f[11] + "+" + f[12] // utime, stime (fields 14 and 15)
	}
	last, since := ticks(), time.Now()
	require.Eventually(b, func() bool {
		if now := ticks(); now != last {
			last, since = now, time.Now()
		}
		return time.Since(since) >= time.Second
	}, 10*time.Minute, 100*time.Millisecond, "the server goes idle")
}

// bigFlowData is a flow graph of about size bytes of JSON: nodes whose
// templates carry a long text.
func bigFlowData(size int) json.RawMessage {
	type node struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	text := strings.Repeat("lorem ipsum dolor sit amet ", 2400) // ~64 KiB a node
	var nodes []node
	for i := 0; (i+1)*(len(text)+120) < size; i++ {
		nodes = append(nodes, node{ID: fmt.Sprintf("Prompt-%d", i), Type: "genericNode",
			Data: map[string]any{"type": "Prompt", "node": map[string]any{"template": map[string]any{"text": text}}}})
	}
	raw, _ := json.Marshal(map[string]any{"nodes": nodes, "edges": []any{}})
	return raw
}

func measureRequestMemory(b *testing.B, route string, n, mib int) {
	b.StopTimer()
	s := startMemServer(b)
	token := s.token(b)
	if mib <= 0 {
		mib = s.flowLimitMiB(b) - 1
	}
	data := bigFlowData(mib << 20)
	send := func(i int, data json.RawMessage) (int, string) {
		var req *http.Request
		var err error
		name := fmt.Sprintf("mem flow %s %d", route, i)
		switch route {
		case "create":
			body, _ := json.Marshal(map[string]any{"name": name, "data": data})
			req, err = http.NewRequest(http.MethodPost, s.base+"/api/v1/flows/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		default:
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			part, _ := mw.CreateFormFile("file", "flow.json")
			doc, _ := json.Marshal(map[string]any{"name": name, "data": data})
			_, _ = part.Write(doc)
			_ = mw.Close()
			req, err = http.NewRequest(http.MethodPost, s.base+"/api/v1/flows/upload/", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw[:min(len(raw), 300)])
	}
	// Warm up with a small flow: the user's first flow, its default project.
	if st, raw := send(-1, json.RawMessage(`{"nodes":[],"edges":[]}`)); st != http.StatusCreated {
		b.Fatalf("warm-up: %d %s", st, raw)
	}
	baseline := s.status(b, "VmRSS")
	b.StartTimer()
	var wg sync.WaitGroup
	statuses := make([]int, n)
	answers := make([]string, n)
	for i := range n {
		wg.Go(func() { statuses[i], answers[i] = send(i, data) })
	}
	wg.Wait()
	b.StopTimer()
	for i, st := range statuses {
		require.Equal(b, http.StatusCreated, st, "request %d: %s", i, answers[i])
	}
	s.awaitIdle(b)
	peak, after := s.status(b, "VmHWM"), s.status(b, "VmRSS")
	b.ReportMetric(float64(n), "bodies")
	b.ReportMetric(float64(len(data))/(1<<20), "MiB/body")
	b.ReportMetric(baseline, "baseline_rss_MiB")
	b.ReportMetric(peak, "peak_rss_MiB")
	b.ReportMetric(after, "after_rss_MiB")
	b.ReportMetric(0, "ns/op")
}

// flowLimitMiB is the largest body Create Flow takes
// (SKILLFLAW_MAX_FLOW_BODY_SIZE, as the server reads it).
func (s *memServer) flowLimitMiB(b *testing.B) int {
	b.Helper()
	cfg, err := config.Load(func(k string) string {
		if k == "HOME" {
			return b.TempDir()
		}
		return os.Getenv(k)
	})
	require.NoError(b, err)
	return cfg.MaxFlowBodySizeMB
}
