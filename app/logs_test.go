package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/logbuf"
)

// GET /logs and /logs-stream: the server's own records (the access log
// among them), secrets never in them, Langflow's query rules and errors,
// superusers only; disabled: 501.
func TestLogs_RetrieverAndStream(t *testing.T) {
	t.Parallel()
	env := adminEnv(ugAdmin, ugAdminPassword)
	env["SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE"] = "200"
	env["SKILLFLAW_LOG_LEVEL"] = "debug"
	s := &ugServer{harness: startApp(t, options{env: env, modules: []app.Module{&app.Identity{}, &app.Logs{}}})}
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	const leak = "sk-leak-7c1d"
	r := s.do(t, http.MethodGet, "/health?token="+leak, nil, nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	r = s.call(t, http.MethodGet, "/logs?lines_before=200", nil, admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var logs map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.raw), &logs))
	assert.Contains(t, r.raw, "http request")
	assert.Contains(t, r.raw, "token=***", "the access log's redaction")
	assert.NotContains(t, r.raw, leak)
	assert.NotContains(t, r.raw, ugAdminPassword)
	var last int64
	for k := range logs {
		var ms int64
		require.NoError(t, json.Unmarshal([]byte(k), &ms), "keys are milliseconds: %s", k)
		last = max(last, ms)
	}
	r = s.call(t, http.MethodGet, "/logs?lines_after=1&timestamp="+strconvI(last), nil, admin.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Contains(t, r.raw, strconvI(last), "the first record at or after the timestamp")

	for q, detail := range map[string]string{"lines_before=1&lines_after=1&timestamp=5": logbuf.MsgBeforeAndAfter,
		"lines_after=3": logbuf.MsgTimestampRequired} {
		requireDetail(t, s.call(t, http.MethodGet, "/logs?"+q, nil, admin.token), http.StatusBadRequest, detail)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, s.call(t, http.MethodGet, "/logs?lines_before=ten", nil, admin.token).status)

	s.signUp(t, "logreader", ugPassword)
	reader := s.login(t, "logreader", ugPassword).access
	requireForbidden(t, s.call(t, http.MethodGet, "/logs", nil, reader))
	requireForbidden(t, s.call(t, http.MethodGet, "/logs-stream", nil, reader))

	// The stream: what is logged from now on, one frame per record.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := s.request(t, http.MethodGet, "/logs-stream", nil, "", bearer(admin.token)).WithContext(ctx)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	s.do(t, http.MethodGet, "/health?marker=streamed", nil, nil)
	rd := bufio.NewReader(res.Body)
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err)
		if line == "\n" || line == "keepalive\n" {
			continue
		}
		var frame map[string]string
		require.NoError(t, json.Unmarshal([]byte(line), &frame), line)
		require.Len(t, frame, 1)
		if strings.Contains(line, "marker=") {
			assert.Contains(t, line, "marker=***")
			break
		}
	}
}

func strconvI(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Disabled (the default): both routes answer 501.
func TestLogs_Disabled(t *testing.T) {
	t.Parallel()
	s := &ugServer{harness: startApp(t, options{env: adminEnv(ugAdmin, ugAdminPassword), modules: []app.Module{&app.Identity{}, &app.Logs{}}})}
	admin := s.signIn(t, ugAdmin, ugAdminPassword)
	for _, p := range []string{"/logs", "/logs-stream"} {
		requireDetail(t, s.call(t, http.MethodGet, p, nil, admin.token), http.StatusNotImplemented, logbuf.MsgDisabled)
	}
}
