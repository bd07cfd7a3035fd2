package ports

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// How the writes answer: the row the read model shows once it shows the
// write (read-your-writes), or what the command decided.

// Detail is the one {"detail": "…"} answer of the writes (a removal's
// message); errors have their own (httpapi.Fail).
type Detail struct {
	Detail string `json:"detail"`
}

// previewer is the projections runtime as write answers use it
// (projections.Runtime.Preview).
type previewer interface {
	Preview(ctx context.Context, pos eventstore.Position, names []string, read func(context.Context, pgx.Tx) error) error
}

// readBack reads the answer of a write that reached pos (the zero
// position: it appended nothing) with read: from db (the pool) once the
// operation's read models show the write (httpapi.Server.Written), and
// from a preview of them at pos when they have not caught up in time. So a
// write answers what the command decided, never "not found" for what it
// just created because a projector is behind (or runs in another process
// that died).
func readBack[T any](c *gin.Context, s *httpapi.Server, db readapi.DB, pos eventstore.Position,
	read func(ctx context.Context, db readapi.DB) (T, error)) (T, error) {
	ctx := c.Request.Context()
	var lagging []string
	if !pos.IsZero() {
		lagging = s.Written(c, pos)
	}
	if p, ok := s.Waiter().(previewer); ok && len(lagging) > 0 {
		var out T
		err := p.Preview(ctx, pos, lagging, func(ctx context.Context, tx pgx.Tx) (err error) {
			out, err = read(ctx, tx)
			return err
		})
		return out, err
	}
	return read(ctx, db)
}

// answerRow answers a write that reached pos (the zero position: it
// appended nothing) with status and the row read returns (readBack); a
// failed read fails the request.
func answerRow[T any](c *gin.Context, p Port, pos eventstore.Position, status int,
	read func(ctx context.Context, db readapi.DB) (T, error)) {
	row, err := readBack(c, p.Server, p.Pool, pos, read)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, row)
}

// answerValue answers a write that reached pos (the zero position: it
// appended nothing) with status and v, what the command decided (no read
// model is read for it), once the operation's read models show the write
// or the wait for them timed out.
func answerValue[T any](c *gin.Context, p Port, pos eventstore.Position, status int, v T) {
	if !pos.IsZero() {
		p.Server.Written(c, pos)
	}
	c.JSON(status, v)
}
