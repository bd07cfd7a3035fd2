package app_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
)

// TestServe_cuts_slow_idle_and_bloated_connections: the served App
// closes a connection whose headers or body stall (within the configured
// timeouts: 300ms here), closes idle keep-alive connections, and refuses
// headers over SKILLFLAW_MAX_HEADER_SIZE. The waits are the server's: the
// test only reads until the server closes the connection.
func TestServe_cuts_slow_idle_and_bloated_connections(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := startApp(t, options{modules: []app.Module{&app.Identity{}}, env: map[string]string{
		"SKILLFLAW_READ_HEADER_TIMEOUT": timeout.String(), "SKILLFLAW_READ_TIMEOUT": timeout.String(),
		"SKILLFLAW_IDLE_TIMEOUT": timeout.String(), "SKILLFLAW_MAX_HEADER_SIZE": "4",
	}})
	dial := func(t *testing.T, send string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		_, err = io.WriteString(conn, send)
		require.NoError(t, err)
		return conn
	}
	// closed reads until the server closes conn and returns what it sent
	// and how long that took; over 10s the test fails.
	closed := func(t *testing.T, r io.Reader, conn net.Conn) (string, time.Duration) {
		t.Helper()
		start := time.Now()
		require.NoError(t, conn.SetReadDeadline(start.Add(10*time.Second)))
		got, err := io.ReadAll(r)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			require.Fail(t, "the server kept the connection open", "it sent %q", got)
		}
		return string(got), time.Since(start)
	}

	t.Run("headers_that_stall", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, "GET /health HTTP/1.1\r\nHost: x\r\n")
		_, took := closed(t, conn, conn)
		assert.Less(t, took, 10*time.Second)
	})
	t.Run("a_body_that_stalls", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 100\r\n\r\nusername=a")
		got, _ := closed(t, conn, conn)
		assert.True(t, strings.HasPrefix(got, "HTTP/1.1 408 "), got)
	})
	t.Run("an_idle_keep_alive_connection", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		rest, _ := closed(t, br, conn)
		assert.Empty(t, rest)
	})
	t.Run("headers_over_the_limit", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 16<<10)+"\r\n\r\n")
		got, _ := closed(t, conn, conn)
		assert.True(t, strings.HasPrefix(got, "HTTP/1.1 431 "), "%.100s", got)
	})
}
