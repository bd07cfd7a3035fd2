package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The headers of request tracing and read-your-writes.
const (
	// HeaderRequestID carries the request id, both ways.
	HeaderRequestID = "X-Request-ID"
	// HeaderEventPosition is set by writes: the log position of their last
	// event, in eventstore.Position's form ("42").
	HeaderEventPosition = "X-Event-Position"
	// HeaderMinPosition asks a read to wait until its read models reached
	// the position (usually an X-Event-Position the client got).
	HeaderMinPosition = "X-Min-Position"
	// HeaderReadModelLag is set by a write whose read models had not caught
	// up within the timeout: the comma-separated names of those behind.
	HeaderReadModelLag = "X-Read-Model-Lag"
)

// Written reports a successful write at pos: it sets X-Event-Position and
// waits, at most ReadYourWritesTimeout, until the operation's ReadModels
// have reached pos, so that the client's next read sees the write. A
// timeout does not fail the write; it lists the lagging read models in
// X-Read-Model-Lag and returns them: an answer read from them must not
// take their word (commands read it from a preview of them at pos). Call
// it before writing the response body.
func (s *Server) Written(c *gin.Context, pos eventstore.Position) (lagging []string) {
	c.Header(HeaderEventPosition, pos.String())
	rt, ok := routeOf(c)
	if !ok || s.opts.Waiter == nil || len(rt.op.ReadModels) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.ReadYourWritesTimeout)
	defer cancel()
	behind := make([]bool, len(rt.op.ReadModels))
	var wg sync.WaitGroup
	for i, name := range rt.op.ReadModels {
		wg.Go(func() {
			if err := s.opts.Waiter.WaitFor(ctx, pos, name); err != nil {
				behind[i] = true
				if ctx.Err() == nil {
					s.log.LogAttrs(ctx, slog.LevelWarn, "wait for read model",
						requestAttrs(c, slog.String("read_model", name), slog.String("error", err.Error()))...)
				}
			}
		})
	}
	wg.Wait()
	for i, b := range behind {
		if b {
			lagging = append(lagging, rt.op.ReadModels[i])
		}
	}
	if len(lagging) > 0 {
		c.Header(HeaderReadModelLag, strings.Join(lagging, ","))
	}
	return lagging
}

// Waiter returns the Waiter the server waits with (nil if none).
func (s *Server) Waiter() Waiter { return s.opts.Waiter }

// awaitMinPosition holds a request that sent X-Min-Position until the
// operation's read models, and those its authorisation reads, reached it:
// 422 for a malformed position, 503 with Retry-After when they do not
// catch up in time.
func (s *Server) awaitMinPosition(c *gin.Context) {
	raw := c.GetHeader(HeaderMinPosition)
	if raw == "" {
		return
	}
	pos, err := ParsePosition(raw, "header", strings.ToLower(HeaderMinPosition))
	if err != nil {
		Fail(c, err)
		return
	}
	rt, ok := routeOf(c)
	if !ok || s.opts.Waiter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.ReadYourWritesTimeout)
	defer cancel()
	if err := s.opts.Waiter.WaitFor(ctx, pos, rt.awaited...); err != nil {
		if ctx.Err() != nil {
			Fail(c, &StatusError{
				Status: http.StatusServiceUnavailable,
				Detail: fmt.Sprintf("read models have not reached position %s yet", pos),
				Header: http.Header{"Retry-After": {"1"}},
			})
			return
		}
		Fail(c, fmt.Errorf("wait for read models %s at %s: %w", strings.Join(rt.awaited, ","), pos, err))
	}
}
