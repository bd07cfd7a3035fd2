package httpapi

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// RequestID returns the id of the request ctx belongs to ("" outside one).
// It is the X-Request-ID the client sent, when sane, or a new UUID.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID runs first: it makes the Server and the request id available
// to everything after it and echoes the id on the response.
func (s *Server) requestID(c *gin.Context) {
	c.Set(serverKey{}, s)
	id := c.GetHeader(HeaderRequestID)
	if !saneRequestID(id) {
		id = uuid.NewString()
	}
	c.Header(HeaderRequestID, id)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
}

// saneRequestID accepts 1–128 characters of [A-Za-z0-9._-], which cannot
// forge log lines or headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// accessLog logs one line per request. It runs outside recoverPanic so
// that a request that panicked is logged with its 500. The query string is
// logged with its values redacted: API keys travel there as x-api-key.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := requestAttrs(c,
		slog.String("route", c.FullPath()),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("client_ip", c.ClientIP()),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
	)
	if q := redactQuery(c.Request.URL.RawQuery); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
}

// redactQuery keeps the parameter names of a query string and hides the
// values: "x-api-key=***&page=***".
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		parts[i] = name + "=***"
	}
	return strings.Join(parts, "&")
}

// recoverPanic turns a panic into a logged error with its stack and a
// generic 500; nothing of the panic reaches the client.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic serving request",
			requestAttrs(c, slog.Any("panic", r), slog.String("stack", string(debug.Stack())))...)
		if c.Writer.Written() {
			c.Abort()
			return
		}
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"detail": "Internal Server Error"})
	}()
	c.Next()
}

// MinBodyRate is the slowest a body may arrive once BodyReadTimeout has
// passed: each 64 KiB received grants a second more. Large uploads on
// slow links go through; a body that trickles in is cut.
const MinBodyRate = 64 << 10 // bytes per second

// limitBody refuses a declared Content-Length above limit before anything
// reads the body, and caps bodies of unknown length (chunked) so that
// reading past the limit fails with *http.MaxBytesError, which Fail and
// the Bind helpers answer with 413. It sets the body's read deadline
// (Options.BodyReadTimeout, see MinBodyRate) and makes every read failure
// a *BodyError, so that a client's broken body is never a 500.
func (s *Server) limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body == nil || c.Request.Body == http.NoBody {
			return
		}
		if limit > 0 && c.Request.ContentLength > limit {
			Fail(c, &http.MaxBytesError{Limit: limit})
			return
		}
		body := c.Request.Body
		if limit > 0 {
			body = http.MaxBytesReader(c.Writer, body, limit)
		}
		if d := s.opts.BodyReadTimeout; d > 0 {
			db := &deadlineBody{rc: http.NewResponseController(c.Writer), start: time.Now(), timeout: d}
			if db.extend(0) {
				db.r, body = body, db
				c.Set(deadlineKey{}, db)
			}
		}
		c.Request.Body = readCloser{Reader: clientBody{body}, Closer: body}
	}
}

type deadlineKey struct{}

type readCloser struct {
	io.Reader
	io.Closer
}

// deadlineBody moves the connection's read deadline as its body arrives:
// start + timeout + a second per MinBodyRate bytes received. At the end
// of the body it lifts the deadline: the handler may then take its time
// (and stream its answer) without the server's background read failing.
type deadlineBody struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	timeout  time.Duration
	read     int64
	deadline time.Time
}

// extend sets the deadline earned so far when it moved by a second or
// more; false when the connection has no deadlines (HTTP/2 through some
// proxies, test recorders).
func (d *deadlineBody) extend(n int) bool {
	d.read += int64(n)
	next := d.start.Add(d.timeout + time.Duration(d.read/MinBodyRate)*time.Second)
	if next.Sub(d.deadline) < time.Second {
		return true
	}
	d.deadline = next
	return d.rc.SetReadDeadline(next) == nil
}

// restart starts the body's time again (after a wait for room, which
// must not eat into it).
func (d *deadlineBody) restart() {
	d.start, d.deadline = time.Now(), time.Time{}
	d.extend(0)
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF {
		_ = d.rc.SetReadDeadline(time.Time{}) // nothing left to read on time
	} else if n > 0 {
		d.extend(n)
	}
	return n, err
}

func (d *deadlineBody) Close() error { return d.r.Close() }

// checkParams answers 422 for path and query parameters that are not
// text (invalid UTF-8, NUL) or longer than DefaultMaxStringLength, before
// authentication or a handler reads them: handlers read some raw
// (c.Param), and PostgreSQL refuses such text.
func (s *Server) checkParams(c *gin.Context) {
	var items []ErrorItem
	for _, p := range c.Params {
		if it := paramError(p.Value); it != nil {
			items = append(items, at(*it, "path", p.Key))
		}
	}
	q := c.Request.URL.Query()
	for _, k := range sortedKeys(q) {
		if it := paramError(k); it != nil {
			items = append(items, at(*it, "query", strings.ToValidUTF8(k, "\uFFFD")))
			continue
		}
		for _, v := range q[k] {
			if it := paramError(v); it != nil {
				items = append(items, at(*it, "query", k))
				break
			}
		}
	}
	if len(items) > 0 {
		Fail(c, &ValidationError{Items: items})
	}
}

// admitBody holds a large body (over Options.MaxBodyBytes: flows) until
// the bodies of that size being handled leave room for it within
// Options.LargeBodyMemory, so that their memory stays bounded however many
// arrive at once; past the body read timeout it answers 503. The room is
// given back when the request ends. Small bodies pass at once.
func (s *Server) admitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := c.Request.ContentLength
		if n < 0 { // chunked: it may be as long as the limit
			n = limit
		}
		if n <= s.opts.MaxBodyBytes || s.bodies == nil {
			return
		}
		n = min(n, s.opts.LargeBodyMemory)
		ctx, cancel := context.WithTimeout(c.Request.Context(), cmp.Or(s.opts.BodyReadTimeout, DefaultBodyReadTimeout))
		defer cancel()
		if err := s.bodies.Acquire(ctx, n); err != nil {
			Fail(c, &StatusError{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"1"}},
				Detail: "Too many large requests at once; retry later"})
			return
		}
		if v, ok := c.Get(deadlineKey{}); ok {
			v.(*deadlineBody).restart()
		}
		s.largeBodies.Add(1)
		defer func() {
			s.bodies.Release(n)
			if s.largeBodies.Add(-1) == 0 {
				// The last large request is done: give the memory it took
				// back to the system now rather than over minutes (the
				// runtime's scavenger is slow to once the heap is idle).
				go debug.FreeOSMemory()
			}
		}()
		c.Next()
	}
}

// requireJSON answers 415 to a body that is not labelled JSON
// (application/json or any */*+json, parameters such as charset allowed),
// before authentication and before anything reads it. It runs on the
// operations whose Body is JSON, so that a page of another site cannot
// write through them with a form: browsers post forms cross-site without a
// preflight only as text/plain, application/x-www-form-urlencoded or
// multipart/form-data. A body without a Content-Type is read as JSON, as
// FastAPI reads it: browsers always label what a page sends, so only other
// clients send none. Operations that take forms or files declare no Body
// and are not concerned.
func requireJSON(c *gin.Context) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody || c.Request.ContentLength == 0 {
		return
	}
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return
	}
	Fail(c, &StatusError{Status: http.StatusUnsupportedMediaType,
		Detail: "Unsupported Media Type: the request body must be JSON (Content-Type: application/json)"})
}
