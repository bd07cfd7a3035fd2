package ports

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// projectsPreviewer is the projections runtime as write answers use it
// (projections.Runtime.Preview).
type projectsPreviewer interface {
	Preview(ctx context.Context, pos eventstore.Position, names []string, read func(context.Context, pgx.Tx) error) error
}

// projectsReadBack reads the answer of a write that reached pos (the zero
// position: it appended nothing) with read, as commands.ReadBack does:
// from db once the operation's read models show the write
// (httpapi.Server.Written), from a preview of them at pos when they have
// not caught up in time.
func projectsReadBack[T any](c *gin.Context, s *httpapi.Server, db readapi.DB, pos eventstore.Position,
	read func(ctx context.Context, db readapi.DB) (T, error)) (T, error) {
	ctx := c.Request.Context()
	var lagging []string
	if !pos.IsZero() {
		lagging = s.Written(c, pos)
	}
	if p, ok := s.Waiter().(projectsPreviewer); ok && len(lagging) > 0 {
		var out T
		err := p.Preview(ctx, pos, lagging, func(ctx context.Context, tx pgx.Tx) (err error) {
			out, err = read(ctx, tx)
			return err
		})
		return out, err
	}
	return read(ctx, db)
}
