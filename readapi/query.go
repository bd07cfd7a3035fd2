package readapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// sqlArgs collects the positional arguments of a statement being built.
type sqlArgs []any

// add appends v and answers its placeholder ("$3").
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// direction turns a sort order into SQL: "desc" is descending, anything
// else ascending (a list whose default is descending passes
// cmp.Or(order, "desc"), an empty order meaning "not given").
func direction(order string) string {
	if order == "desc" {
		return "DESC"
	}
	return "ASC"
}

// searchAny is the condition "term is a case-insensitive substring of one
// of columns" (LIKE's wildcards in term match themselves); term travels
// as one argument in a.
func searchAny(a *sqlArgs, term string, columns ...string) string {
	p := a.add("%" + EscapeLike(term) + "%")
	conds := make([]string, len(columns))
	for i, c := range columns {
		conds[i] = c + " ILIKE " + p
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// collectAll scans every row of rows with scan: [] (not null) when there
// are none; an error names what was read.
func collectAll[T any](rows pgx.Rows, scan pgx.RowToFunc[T], what string) ([]T, error) {
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// tenantAnswer serves a read of a tenant's data: it binds the query into
// q, resolves the tenant q names (tenancy.Resolve), runs read and answers
// its result.
func tenantAnswer[Q any, R any](c *gin.Context, pool *pgxpool.Pool, q *Q, tenantOf func(*Q) *uuid.UUID,
	read func(context.Context, uuid.UUID) (R, error)) {
	if !httpapi.BindQuery(c, q) {
		return
	}
	t, ok := tenancy.Resolve(c, pool, tenantOf(q))
	if !ok {
		return
	}
	out, err := read(c.Request.Context(), t.ID)
	respond(c, out, err)
}

// tenantAnswerByID is tenantAnswer for a read about one thing of the
// caller's tenant, named by the integer path parameter param.
func tenantAnswerByID[Q any, R any](c *gin.Context, pool *pgxpool.Pool, param string, q *Q,
	read func(ctx context.Context, tenant uuid.UUID, id int64) (R, error)) {
	id, ok := httpapi.PathInt(c, param)
	if !ok {
		return
	}
	tenantAnswer(c, pool, q, func(*Q) *uuid.UUID { return nil },
		func(ctx context.Context, t uuid.UUID) (R, error) { return read(ctx, t, id) })
}
