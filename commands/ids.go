package commands

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IDs allocates the integer ids of new aggregates (users, businesses,
// orgs, …) before their first event is appended. A failed append leaves a
// gap, which is harmless; an id is never handed out twice.
type IDs interface {
	// Next returns a fresh id of kind ("user" …).
	Next(ctx context.Context, kind string) (int64, error)
}

// Sequences allocates ids from PostgreSQL sequences named <kind>_id_seq,
// which migrations create.
type Sequences struct {
	pool *pgxpool.Pool
}

// NewSequences returns an IDs backed by the sequences of pool's database.
func NewSequences(pool *pgxpool.Pool) *Sequences { return &Sequences{pool: pool} }

var kindName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// Next implements IDs.
func (s *Sequences) Next(ctx context.Context, kind string) (int64, error) {
	if !kindName.MatchString(kind) {
		return 0, fmt.Errorf("id kind %q: want %s", kind, kindName)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT nextval($1::regclass)`, kind+"_id_seq").Scan(&id); err != nil {
		return 0, fmt.Errorf("allocate a %s id: %w", kind, err)
	}
	return id, nil
}

// NextN returns n fresh ids of kind, allocated in one query.
func (s *Sequences) NextN(ctx context.Context, kind string, n int) ([]int64, error) {
	if !kindName.MatchString(kind) {
		return nil, fmt.Errorf("id kind %q: want %s", kind, kindName)
	}
	rows, _ := s.pool.Query(ctx, `SELECT nextval($1::regclass) FROM generate_series(1, $2)`, kind+"_id_seq", n)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("allocate %s ids: %w", kind, err)
	}
	return ids, nil
}

// nextIDs allocates n fresh ids of kind: in one go when ids can
// (NextN, as Sequences does), else one by one.
func nextIDs(ctx context.Context, ids IDs, kind string, n int) ([]int64, error) {
	if b, ok := ids.(interface {
		NextN(ctx context.Context, kind string, n int) ([]int64, error)
	}); ok {
		return b.NextN(ctx, kind, n)
	}
	out := make([]int64, n)
	for i := range out {
		id, err := ids.Next(ctx, kind)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}
