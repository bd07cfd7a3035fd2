package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/domain"
)

// ErrorItem is one entry of a 422 body, in the shape pydantic v2 gives
// FastAPI: {"type", "loc", "msg", "input", "ctx"}.
type ErrorItem struct {
	// Type is pydantic's error type: "missing", "int_parsing" …
	Type string `json:"type"`
	// Loc is where: "body", "query", "path" or "header", then field names
	// and list indices.
	Loc []any `json:"loc"`
	// Msg is the human-readable message.
	Msg string `json:"msg"`
	// Input is the offending value (null where there was none).
	Input any `json:"input"`
	// Ctx holds the rule's parameters, e.g. {"max_length": 10}.
	Ctx map[string]any `json:"ctx,omitempty"`
}

// ValidationError is a request that breaks the operation's schema; Fail
// answers it with 422 {"detail": Items}.
type ValidationError struct {
	Items []ErrorItem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Items))
	for i, it := range e.Items {
		loc := make([]string, len(it.Loc))
		for j, l := range it.Loc {
			loc[j] = fmt.Sprint(l)
		}
		parts[i] = strings.Join(loc, ".") + ": " + it.Msg
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// StatusError is an answer a handler chooses itself: the status, the
// {"detail": Detail} body and extra headers.
type StatusError struct {
	Status int
	Detail any
	Header http.Header
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %v", e.Status, http.StatusText(e.Status), e.Detail)
}

// BodyError is a request body that could not be read whole: cut short,
// malformed (a multipart body without its closing boundary), too slow to
// arrive, or over the limit. Fail answers it 400, 408 when it timed out,
// 413 when it is an *http.MaxBytesError — the client's doing, never 500.
type BodyError struct {
	Err error
}

func (e *BodyError) Error() string { return "read request body: " + e.Err.Error() }

func (e *BodyError) Unwrap() error { return e.Err }

// Timeout reports a body that did not arrive before its read deadline.
func (e *BodyError) Timeout() bool {
	ne, ok := errors.AsType[net.Error](e.Err)
	return ok && ne.Timeout()
}

// ClientBody wraps a reader of the request body, or of a part of it (a
// multipart file), so that its failures are *BodyError: handlers that
// stream the body somewhere pass the client's mistakes to Fail as such.
// The route chain wraps every request's body already.
func ClientBody(r io.Reader) io.Reader { return clientBody{r} }

type clientBody struct{ r io.Reader }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		if _, ok := errors.AsType[*BodyError](err); !ok {
			err = &BodyError{Err: err}
		}
	}
	return n, err
}

// Fail answers the request with err's status and FastAPI-shaped body and
// aborts the handler chain. It is the one mapping of errors to responses:
//
//   - *ValidationError: 422 {"detail": [items]}
//   - *StatusError: its status, detail and headers
//   - *http.MaxBytesError: 413
//   - *BodyError: 408 when the body timed out (the connection closes),
//     else 400 {"detail": "There was an error parsing the body"}
//   - *domain.FieldError: 422 with one value_error item at its Loc
//   - domain.ErrInvalid: 422 with one value_error item at ["body"]
//   - domain.ErrForbidden 403, ErrNotFound 404, ErrConflict 409, ErrLocked
//     423, ErrRefused 400, with the
//     *domain.Error's message or a generic one
//   - a context error (a read-model wait or query ran out of time): 503
//   - anything else: 500 {"detail": "Internal Server Error"}, logged with
//     the request id; internals never reach the body.
func Fail(c *gin.Context, err error) {
	status, detail, header := errorResponse(err)
	s := serverOf(c)
	ctx := c.Request.Context()
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		s.log.LogAttrs(ctx, slog.LevelError, "request failed", requestAttrs(c, slog.String("error", err.Error()))...)
	case status == http.StatusServiceUnavailable:
		s.log.LogAttrs(ctx, slog.LevelWarn, "request unavailable", requestAttrs(c, slog.String("error", err.Error()))...)
	}
	if c.Writer.Written() {
		c.Abort()
		return
	}
	for k, vs := range header {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	c.AbortWithStatusJSON(status, gin.H{"detail": detail})
}

func errorResponse(err error) (status int, detail any, header http.Header) {
	message := func(generic string) string {
		if de, ok := errors.AsType[*domain.Error](err); ok && de.Message != "" {
			return de.Message
		}
		return generic
	}
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return http.StatusUnprocessableEntity, ve.Items, nil
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Status, se.Detail, se.Header
	}
	if fe, ok := errors.AsType[*domain.FieldError](err); ok {
		return http.StatusUnprocessableEntity, []ErrorItem{{
			Type: "value_error", Loc: fe.Loc, Msg: "Value error, " + fe.Message, Input: fe.Input,
		}}, nil
	}
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large (limit %d bytes)", mbe.Limit), nil
	}
	if be, ok := errors.AsType[*BodyError](err); ok {
		if be.Timeout() {
			return http.StatusRequestTimeout, "The request body did not arrive in time", http.Header{"Connection": {"close"}}
		}
		return http.StatusBadRequest, "There was an error parsing the body", nil // Starlette's words
	}
	switch {
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusUnprocessableEntity, []ErrorItem{{
			Type: "value_error", Loc: []any{"body"}, Msg: "Value error, " + message("invalid input"),
		}}, nil
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden, message("Forbidden"), nil
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound, message("Not Found"), nil
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict, message("Conflict"), nil
	case errors.Is(err, domain.ErrLocked):
		return http.StatusLocked, message("Locked"), nil
	case errors.Is(err, domain.ErrRefused):
		return http.StatusBadRequest, message("Bad Request"), nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "Service Unavailable", http.Header{"Retry-After": {"1"}}
	}
	return http.StatusInternalServerError, "Internal Server Error", nil
}

func requestAttrs(c *gin.Context, extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{
		slog.String("request_id", RequestID(c.Request.Context())),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
	}, extra...)
}
