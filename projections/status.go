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
// registered projection ($1: name → handled types) that has none yet, with
// the types it handles (NULL for a checkpoint no projection owns). $2 is
// LeaseNamespace as pg_locks shows it: the holder is the application name
// of the session holding the projection's lease. The lag is not read here:
// the log may not be in this database (see lag).
const statusSQL = `WITH h AS (
    SELECT key AS name, ARRAY(SELECT jsonb_array_elements_text(value)) AS types FROM jsonb_each($1::jsonb)
), c AS (
    SELECT coalesce(p.name, h.name) AS name, h.types,
           coalesce(p.commit_position, 0) AS commit_position, coalesce(p.prepare_position, 0) AS prepare_position,
           p.updated_at, coalesce(p.last_error, '') AS last_error, coalesce(p.error_position, 0) AS error_position,
           coalesce(p.error_count, 0) AS error_count, p.error_at, coalesce(p.unknown_types, '{}') AS unknown_types
    FROM projection_checkpoints p FULL JOIN h ON h.name = p.name
)
SELECT c.name, c.types IS NOT NULL, c.types, c.commit_position, c.prepare_position, c.updated_at, c.last_error,
       c.error_position, c.error_count, c.error_at, c.unknown_types,
       coalesce((SELECT a.application_name FROM pg_locks k JOIN pg_stat_activity a ON a.pid = k.pid
                 WHERE k.locktype = 'advisory' AND k.granted AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND k.classid::bigint = $2 AND k.objid::bigint = (hashtext(c.name)::bigint & 4294967295) AND k.objsubid = 2
                 LIMIT 1), '')
FROM c
ORDER BY c.name`

// LagCounter is the optional part of an event store that counts a
// projection's lag in one call: the events with after < position <=
// through whose type is one of types (nil: every type) or is not one of
// known, and the recording time of the oldest of them (zero: none). The
// PostgreSQL store answers with one query; Status scans any other store's
// log through ReadAll instead.
type LagCounter interface {
	CountLag(ctx context.Context, after, through eventstore.Position, types, known []string) (int64, time.Time, error)
}

// Status reads the state of the runtime's projections: their checkpoints
// and leases from the database, the head and their lag from the event
// store (which need not be that database). It works whether or not they
// run in this process.
func (r *Runtime) Status(ctx context.Context) ([]Status, error) {
	handles := make(map[string][]string, len(r.projections))
	for _, p := range r.projections {
		handles[p.name] = slices.Sorted(maps.Keys(p.handlers))
	}
	types, err := json.Marshal(handles)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	head, err := r.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	rows, err := r.pool.Query(ctx, statusSQL, types, int64(uint32(LeaseNamespace)))
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	var handled [][]string
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Status, error) {
		var (
			s               Status
			h               []string
			commit, prepare int64
			errPos          int64
			updated         *time.Time
			unknown         []byte
		)
		err := row.Scan(&s.Name, &s.Registered, &h, &commit, &prepare, &updated, &s.LastError, &errPos, &s.ErrorCount,
			&s.ErrorAt, &unknown, &s.Holder)
		if err != nil {
			return s, err
		}
		if updated != nil {
			s.UpdatedAt = *updated
		}
		s.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		s.Head, s.ErrorPosition = head, uint64(errPos)
		if s.Registered && h == nil {
			h = []string{} // a projection that handles no type still has a list
		}
		handled = append(handled, h)
		return s, json.Unmarshal(unknown, &s.UnknownTypes)
	})
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	if err := r.lag(ctx, out, handled, head); err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	return out, nil
}

// lag fills the lag of each status up to head: the events after its
// position that it handles (handled[i]; nil for an unregistered
// checkpoint: every event) or whose type the registry does not know.
func (r *Runtime) lag(ctx context.Context, st []Status, handled [][]string, head eventstore.Position) error {
	known := r.reg.Types()
	now := time.Now()
	setLag := func(s *Status, n int64, oldest time.Time) {
		s.LagEvents, s.LagSeconds = n, 0
		if n > 0 && !oldest.IsZero() {
			s.LagSeconds = max(now.Sub(oldest).Seconds(), 0)
		}
	}
	if lc, ok := r.store.(LagCounter); ok {
		for i := range st {
			if !st[i].Position.Less(head) {
				setLag(&st[i], 0, time.Time{})
				continue
			}
			n, oldest, err := lc.CountLag(ctx, st[i].Position, head, handled[i], known)
			if err != nil {
				return err
			}
			setLag(&st[i], n, oldest)
		}
		return nil
	}
	return r.scanLag(ctx, st, handled, known, head, setLag)
}

// lagScanBatch is how many events scanLag reads per call.
const lagScanBatch = 1000

// scanLag is lag for a store without LagCounter (KurrentDB): one pass over
// the log from the lowest position behind head, each event counted for
// every status it is lag of.
func (r *Runtime) scanLag(ctx context.Context, st []Status, handled [][]string, known []string, head eventstore.Position,
	setLag func(*Status, int64, time.Time)) error {
	type acc struct {
		n      int64
		oldest time.Time
		match  func(string) bool
	}
	isKnown := make(map[string]bool, len(known))
	for _, t := range known {
		isKnown[t] = true
	}
	accs := make([]acc, len(st))
	from, behind := head, false
	for i := range st {
		types := handled[i]
		set := make(map[string]bool, len(types))
		for _, t := range types {
			set[t] = true
		}
		all := types == nil
		accs[i].match = func(t string) bool { return all || set[t] || !isKnown[t] }
		if st[i].Position.Less(from) {
			from, behind = st[i].Position, true
		}
	}
	for after := from; behind && after.Less(head); {
		batch, err := r.store.ReadAll(ctx, after, lagScanBatch)
		if err != nil {
			return fmt.Errorf("count lag after %s: %w", after, err)
		}
		if len(batch) == 0 {
			break // head is still in flight; what was read is the lag
		}
		for _, e := range batch {
			if head.Less(e.Position) {
				break
			}
			for i := range st {
				if st[i].Position.Less(e.Position) && accs[i].match(e.Type) {
					if accs[i].n == 0 {
						accs[i].oldest = e.RecordedAt
					}
					accs[i].n++
				}
			}
		}
		after = batch[len(batch)-1].Position
	}
	for i := range st {
		setLag(&st[i], accs[i].n, accs[i].oldest)
	}
	return nil
}
