package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Status is what `skillflaw projections status` shows of one projection.
type Status struct {
	Name string `json:"name"`
	// Registered is false for a checkpoint that no projection of this
	// binary owns (a removed or renamed projection).
	Registered bool                `json:"registered"`
	Position   eventstore.Position `json:"-"`
	// Head is the position of the newest event in the log.
	Head eventstore.Position `json:"-"`
	// LagEvents counts the events after Position that the projection has
	// work for (those it handles, and those of types this binary does not
	// know, which it counts); LagSeconds is the age of the oldest of them
	// (0 when caught up). Events it passes over are not lag: a projector
	// that is idle and caught up shows 0, even while its saved Position is
	// behind Head over such events. Unregistered checkpoints count every
	// event after their position.
	LagEvents  int64     `json:"lag_events"`
	LagSeconds float64   `json:"lag_seconds"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Holder names the process running the projector (its lease, see
	// Config.Instance); empty when none does.
	Holder        string           `json:"holder,omitempty"`
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

// statusSQL reads every checkpoint row, plus a zero row for each
// registered projection ($1: name → handled types) that has none yet,
// with its lag: the events after its position it handles or whose type
// the registry ($2) does not know. $3 is LeaseNamespace as pg_locks
// shows it: the holder is the application name of the session holding
// the projection's lease.
const statusSQL = `WITH h AS (
    SELECT key AS name, ARRAY(SELECT jsonb_array_elements_text(value)) AS types FROM jsonb_each($1::jsonb)
), c AS (
    SELECT coalesce(p.name, h.name) AS name, h.types,
           coalesce(p.commit_position, 0) AS commit_position, coalesce(p.prepare_position, 0) AS prepare_position,
           p.updated_at, coalesce(p.last_error, '') AS last_error, coalesce(p.error_position, 0) AS error_position,
           coalesce(p.error_count, 0) AS error_count, p.error_at, coalesce(p.unknown_types, '{}') AS unknown_types
    FROM projection_checkpoints p FULL JOIN h ON h.name = p.name
)
SELECT c.name, c.types IS NOT NULL, c.commit_position, c.prepare_position, c.updated_at, c.last_error,
       c.error_position, c.error_count, c.error_at, c.unknown_types, l.n,
       coalesce(extract(epoch FROM now() - l.oldest), 0)::float8,
       coalesce((SELECT a.application_name FROM pg_locks k JOIN pg_stat_activity a ON a.pid = k.pid
                 WHERE k.locktype = 'advisory' AND k.granted AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND k.classid::bigint = $3 AND k.objid::bigint = (hashtext(c.name)::bigint & 4294967295) AND k.objsubid = 2
                 LIMIT 1), '')
FROM c, LATERAL (
    SELECT count(*) AS n, min(e.recorded_at) AS oldest FROM events e
    WHERE e.global_position > c.commit_position
      AND (c.types IS NULL OR e.event_type = ANY(c.types) OR NOT e.event_type = ANY($2::text[]))
) l
ORDER BY c.name`

// Status reads the state of the runtime's projections from the database;
// it works whether or not they run in this process.
func (r *Runtime) Status(ctx context.Context) ([]Status, error) {
	handles := make(map[string][]string, len(r.projections))
	for _, p := range r.projections {
		handles[p.name] = slices.Sorted(maps.Keys(p.handlers))
	}
	types, err := json.Marshal(handles)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	var head int64
	if err := r.pool.QueryRow(ctx, `SELECT coalesce(max(global_position), 0) FROM events`).Scan(&head); err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	rows, err := r.pool.Query(ctx, statusSQL, types, r.reg.Types(), int64(uint32(LeaseNamespace)))
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Status, error) {
		var (
			s               Status
			commit, prepare int64
			errPos          int64
			updated         *time.Time
			unknown         []byte
		)
		err := row.Scan(&s.Name, &s.Registered, &commit, &prepare, &updated, &s.LastError, &errPos, &s.ErrorCount,
			&s.ErrorAt, &unknown, &s.LagEvents, &s.LagSeconds, &s.Holder)
		if err != nil {
			return s, err
		}
		if updated != nil {
			s.UpdatedAt = *updated
		}
		s.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		s.Head, s.ErrorPosition = eventstore.At(uint64(head)), uint64(errPos)
		return s, json.Unmarshal(unknown, &s.UnknownTypes)
	})
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	return out, nil
}
