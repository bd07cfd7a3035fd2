package readapi

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DB is what the reads that answer writes need of the database: the pool,
// or the transaction of a preview of lagging read models
// (projections.Runtime.Preview), from which a write whose read models
// have not caught up reads its answer.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
