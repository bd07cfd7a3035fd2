package logbuf

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// MsgDisabled answers both routes when the buffer is disabled (501).
const MsgDisabled = "Log retrieval is disabled"

// Port serves GET /logs and GET /logs-stream (Langflow's log router, at
// the application root). Unlike Langflow, which lets any active user
// read them, only superusers may: log lines name other users' actions.
type Port struct {
	Buf *Buffer
	// KeepAlive is how long a stream stays silent before it sends
	// "keepalive\n\n" (Langflow: 5 empty polls of 1 s).
	KeepAlive time.Duration
	// Stop ends every stream (the server is shutting down).
	Stop <-chan struct{}
}

// LogsQuery is the query string of GET /logs.
type LogsQuery struct {
	LinesBefore int   `form:"lines_before,default=0"`
	LinesAfter  int   `form:"lines_after,default=0"`
	Timestamp   int64 `form:"timestamp,default=0"`
}

// Routes registers the two routes.
func (p *Port) Routes(s *httpapi.Server) {
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/logs", Access: access.Superuser(), Tag: "Log", Summary: "Logs",
		Description: "The server's own recent log records (superusers only; secrets masked), as an object keyed by the " +
			"record's time in Unix milliseconds: the last lines_before (default 10), the lines_before before timestamp, or " +
			"the lines_after from timestamp on. 501 when SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE is 0.",
		Params: []httpapi.Param{
			{Name: "lines_before", In: "query", Type: "integer", Default: "0", Description: "The number of logs before the timestamp or the last log"},
			{Name: "lines_after", In: "query", Type: "integer", Default: "0", Description: "The number of logs after the timestamp"},
			{Name: "timestamp", In: "query", Type: "integer", Default: "0", Description: "The timestamp to start getting logs from"}},
		Response: map[string]string{}, Handler: p.logs})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/logs-stream", Access: access.Superuser(), Tag: "Log", Summary: "Stream Logs",
		Description: "Streams the server's log records from now on (superusers only), as Langflow does: text/event-stream " +
			"whose frames are {\"<ms>\": \"<record>\"} followed by a blank line, and \"keepalive\" after 5 s of silence.",
		Handler: p.stream})
}

func (p *Port) enabled(c *gin.Context) bool {
	if !p.Buf.Enabled() {
		c.JSON(http.StatusNotImplemented, gin.H{"detail": MsgDisabled})
		return false
	}
	return true
}

// ordered is entries as a JSON object in their order (a later entry of
// the same millisecond replaces the earlier one, as in Langflow's dict).
type ordered []Entry

func (o ordered) PyEach(f func(k string, v any)) {
	seen := map[int64]int{}
	var keep []Entry
	for _, e := range o {
		if i, ok := seen[e.TS]; ok {
			keep[i] = e
			continue
		}
		seen[e.TS] = len(keep)
		keep = append(keep, e)
	}
	for _, e := range keep {
		f(strconv.FormatInt(e.TS, 10), e.Msg)
	}
}

func (p *Port) logs(c *gin.Context) {
	var q LogsQuery
	if !httpapi.BindQuery(c, &q) || !p.enabled(c) {
		return
	}
	out, err := p.Buf.Query(q.LinesBefore, q.LinesAfter, q.Timestamp)
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"detail": err.Error()})
		return
	}
	c.Data(http.StatusOK, "application/json", engine.CompactDumps(ordered(out)))
}

func (p *Port) stream(c *gin.Context) {
	if !p.enabled(c) {
		return
	}
	keepAlive := p.KeepAlive
	if keepAlive <= 0 {
		keepAlive = 5 * time.Second
	}
	// The position is taken before the client sees the headers: a record
	// logged after the client learnt the stream is open is in it.
	pos := p.Buf.Position() // history is not replayed
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/event-stream; charset=utf-8")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Writer.WriteHeaderNow()
	c.Writer.Flush()
	idle := time.NewTimer(keepAlive)
	defer idle.Stop()
	for {
		entries, last, changed := p.Buf.After(pos)
		pos = last
		if len(entries) > 0 {
			var b bytes.Buffer
			for _, e := range entries {
				b.Write(engine.PyDumps(ordered{e}))
				b.WriteString("\n\n")
			}
			if _, err := c.Writer.Write(b.Bytes()); err != nil {
				return
			}
			c.Writer.Flush()
			idle.Reset(keepAlive)
		}
		select {
		case <-changed:
		case <-idle.C:
			if _, err := c.Writer.Write([]byte("keepalive\n\n")); err != nil {
				return
			}
			c.Writer.Flush()
			idle.Reset(keepAlive)
		case <-c.Request.Context().Done():
			return
		case <-p.Stop:
			return
		}
	}
}
