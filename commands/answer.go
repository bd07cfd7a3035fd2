package commands

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// previewer is the projections runtime as write answers use it
// (projections.Runtime.Preview).
type previewer interface {
	Preview(ctx context.Context, pos eventstore.Position, names []string, read func(context.Context, pgx.Tx) error) error
}

// ReadBack reads the answer of a write that reached pos (the zero
// position: it appended nothing) with read: from db (the pool) once the
// operation's read models show the write (httpapi.Server.Written), and
// from a preview of them at pos when they have not caught up in time. So a
// write answers what the command decided, never "not found" for what it
// just created because a projector is behind (or runs in another process
// that died).
func ReadBack[T any](c *gin.Context, s *httpapi.Server, db readapi.DB, pos eventstore.Position,
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

// answerWrite answers a write that reached pos (the zero position: it
// appended nothing) with status and the row read returns (see ReadBack);
// a failed write (err) or read fails the request.
func answerWrite[T any](c *gin.Context, s *httpapi.Server, db readapi.DB, pos eventstore.Position, err error, status int,
	read func(ctx context.Context, db readapi.DB) (T, error)) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	row, err := ReadBack(c, s, db, pos, read)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, row)
}

// answerValue answers a write that reached pos (the zero position: it
// appended nothing) with status and v, what the command decided (no read
// model is read for it), once the operation's read models show the write
// or the wait for them timed out; a failed write (err) fails the request.
func answerValue[T any](c *gin.Context, s *httpapi.Server, pos eventstore.Position, err error, status int, v T) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if !pos.IsZero() {
		s.Written(c, pos)
	}
	c.JSON(status, v)
}

// tenantWrite begins a write on the caller's tenant: it binds the integer
// path parameter param (when not "") and the body (when not nil), then
// resolves the tenant (tenancy.Resolve: X-Tenant-Id, else the system
// tenant, with the operation's privilege there); it returns the id, the
// tenant and the events' metadata, having answered any failure.
func tenantWrite(c *gin.Context, pool *pgxpool.Pool, now time.Time, param string, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	var id int64
	if param != "" {
		var ok bool
		if id, ok = httpapi.PathInt(c, param); !ok {
			return 0, uuid.Nil, eventstore.Metadata{}, false
		}
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	t, ok := tenancy.Resolve(c, pool, nil)
	if !ok {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, now)
	md.TenantID = t.ID
	return id, t.ID, md, true
}

// Detail is the one {"detail": "…"} answer of the writes (a removal's
// message); errors have their own (httpapi.Fail).
type Detail struct {
	Detail string `json:"detail"`
}
