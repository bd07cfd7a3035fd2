package logbuf

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

func filled(ts ...int64) *Buffer {
	b := New(len(ts))
	for _, t := range ts {
		b.Append(t, "m"+strings.Repeat("x", int(t%3)))
	}
	return b
}

func stamps(es []Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.TS)
	}
	return out
}

// The query rules of Langflow's SizedLogBuffer, the ring's bound and
// disabled buffers.
func TestBuffer_QueryRules(t *testing.T) {
	var ts []int64
	for i := int64(1); i <= 15; i++ {
		ts = append(ts, i*10)
	}
	b := filled(ts...)
	q := func(before, after int, at int64) []int64 {
		es, err := b.Query(before, after, at)
		require.NoError(t, err)
		return stamps(es)
	}
	assert.Equal(t, []int64{60, 70, 80, 90, 100, 110, 120, 130, 140, 150}, q(0, 0, 0), "the last 10 by default")
	assert.Equal(t, []int64{140, 150}, q(2, 0, 0))
	assert.Equal(t, []int64{30, 40, 50}, q(3, 0, 60), "strictly before the first at or after the timestamp")
	assert.Equal(t, []int64{60, 70}, q(0, 2, 55), "from the first at or after the timestamp")
	assert.Equal(t, []int64{130, 140, 150}, q(3, 0, 999), "none at or after: the last ones")
	assert.Equal(t, []int64{}, q(0, 3, 999))
	assert.Equal(t, []int64{10, 20, 30, 40, 50}, q(0, 0, 60), "a timestamp alone: 10 before it")
	_, err := b.Query(1, 1, 5)
	assert.EqualError(t, err, MsgBeforeAndAfter)
	_, err = b.Query(0, 1, 0)
	assert.EqualError(t, err, MsgTimestampRequired)

	b.Append(160, "newest")
	assert.Equal(t, int64(20), b.Snapshot()[0].TS, "the oldest is dropped when full")
	assert.Len(t, b.Snapshot(), 15)

	var off *Buffer = New(0)
	assert.False(t, off.Enabled())
	off.Append(1, "x")
	assert.Empty(t, off.Snapshot())
}

// Tee keeps every record's text in the buffer, without its time and with
// secret attributes masked (for the next handler too), in groups and
// derived handlers as well.
func TestTee_MasksSecrets(t *testing.T) {
	b := New(10)
	var out bytes.Buffer
	log := slog.New(Tee(slog.NewTextHandler(&out, nil), b, slog.LevelInfo))
	log.Debug("below the level")
	log.With("api_key", "sk-with").Info("hello", "password", "hunter2", "user", "ada",
		slog.Group("req", "Authorization", "Bearer sk-group", "path", "/x"))
	es := b.Snapshot()
	require.Len(t, es, 1)
	assert.NotContains(t, es[0].Msg, "time=")
	assert.Contains(t, es[0].Msg, "msg=hello")
	assert.Contains(t, es[0].Msg, "user=ada")
	assert.Contains(t, es[0].Msg, "req.path=/x")
	for _, secret := range []string{"sk-with", "hunter2", "sk-group"} {
		assert.NotContains(t, es[0].Msg, secret)
		assert.NotContains(t, out.String(), secret)
	}
	assert.Contains(t, es[0].Msg, "password="+Mask)
	assert.InDelta(t, time.Now().UnixMilli(), es[0].TS, 5000)
}

// The stream sends only what is logged after it starts, each entry as
// json.dumps of {"<ms>": "<text>"} and a blank line, "keepalive" after a
// silence, and ends when the server stops.
func TestPort_StreamFraming(t *testing.T) {
	b := New(10)
	b.Append(1, "before the stream")
	stop := make(chan struct{})
	s := httpapi.New(httpapi.Options{})
	(&Port{Buf: b, KeepAlive: 50 * time.Millisecond, Stop: stop}).Routes(s)
	h, err := s.Handler()
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/logs-stream", nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	// The first read waits for the keepalive: the stream is open.
	assert.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	r := bufio.NewReader(res.Body)
	frame := func() string {
		var lines []string
		for {
			l, err := r.ReadString('\n')
			require.NoError(t, err)
			if l == "\n" {
				return strings.Join(lines, "")
			}
			lines = append(lines, l)
		}
	}
	assert.Equal(t, "keepalive\n", frame(), "silence: a keepalive, and no history")
	b.Append(1733000000123, "caf\u00e9 \"quoted\"")
	assert.Equal(t, `{"1733000000123": "caf\u00e9 \"quoted\""}`+"\n", frame())
	close(stop)
	_, err = r.ReadString('\n')
	for err == nil {
		_, err = r.ReadString('\n')
	}
}
