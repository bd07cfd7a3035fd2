package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Status is what `skillflaw projections status` shows of one projection.
type Status struct {
	Name string `json:"name"`
	// Registered is false for a checkpoint that no projection of this
	// binary owns (a removed or renamed projection).
	Registered bool                `json:"registered"`
	Position   eventstore.Position `json:"-"`
	Head       eventstore.Position `json:"-"`
	// LagEvents counts events after Position; LagSeconds is the age of
	// the oldest of them (0 when caught up).
	LagEvents     int64            `json:"lag_events"`
	LagSeconds    float64          `json:"lag_seconds"`
	UpdatedAt     time.Time        `json:"updated_at"`
	LastError     string           `json:"last_error,omitempty"`
	ErrorPosition uint64           `json:"error_position,omitempty"`
	ErrorCount    int              `json:"error_count"`
	ErrorAt       *time.Time       `json:"error_at,omitempty"`
	UnknownTypes  map[string]int64 `json:"unknown_types,omitempty"`
}

// MarshalJSON renders positions in their header form.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status
	return json.Marshal(struct {
		plain
		Position string `json:"position"`
		Head     string `json:"head"`
	}{plain(s), s.Position.String(), s.Head.String()})
}

// Status reads the state of the runtime's projections from the database;
// it works whether or not they run in this process.
func (r *Runtime) Status(ctx context.Context) ([]Status, error) {
	return Statuses(ctx, r.pool, r.Names())
}

// Statuses reads every checkpoint row, plus a zero row for each registered
// projection that has none yet, sorted by name.
func Statuses(ctx context.Context, pool *pgxpool.Pool, registered []string) ([]Status, error) {
	var head, total int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(global_position), 0), count(*) FROM events`).Scan(&head, &total); err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	rows, err := pool.Query(ctx, `
SELECT c.name, c.commit_position, c.prepare_position, c.updated_at, coalesce(c.last_error, ''),
       coalesce(c.error_position, 0), c.error_count, c.error_at, c.unknown_types,
       (SELECT count(*) FROM events e WHERE e.global_position > c.commit_position),
       coalesce(extract(epoch FROM now() - (SELECT e.recorded_at FROM events e
            WHERE e.global_position > c.commit_position ORDER BY e.global_position LIMIT 1)), 0)
FROM projection_checkpoints c
ORDER BY c.name`)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Status, error) {
		var (
			s                     Status
			commit, prepare, head int64
			errPos                int64
			types                 []byte
		)
		err := row.Scan(&s.Name, &commit, &prepare, &s.UpdatedAt, &s.LastError, &errPos, &s.ErrorCount, &s.ErrorAt,
			&types, &s.LagEvents, &s.LagSeconds)
		if err != nil {
			return s, err
		}
		s.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		s.Head, s.ErrorPosition = eventstore.At(uint64(head)), uint64(errPos)
		return s, json.Unmarshal(types, &s.UnknownTypes)
	})
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	seen := map[string]bool{}
	for i := range out {
		out[i].Registered = slices.Contains(registered, out[i].Name)
		seen[out[i].Name] = true
	}
	for _, name := range registered {
		if !seen[name] {
			out = append(out, Status{Name: name, Registered: true, Head: eventstore.At(uint64(head)), LagEvents: total})
		}
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
