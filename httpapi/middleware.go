package httpapi

import (
	"context"
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

// limitBody refuses a declared Content-Length above limit before anything
// reads the body, and caps bodies of unknown length (chunked) so that
// reading past the limit fails with *http.MaxBytesError, which Fail and
// the Bind helpers answer with 413.
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if limit <= 0 || c.Request.Body == nil || c.Request.Body == http.NoBody {
			return
		}
		if c.Request.ContentLength > limit {
			Fail(c, &http.MaxBytesError{Limit: limit})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
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
