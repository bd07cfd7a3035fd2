package testkit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Tally is the test aggregate of the spine: a named counter. It exists so
// the event store, the repository, the projections runtime and the HTTP
// layer can be exercised before any real aggregate does.
type Tally struct {
	root    domain.Root
	id      uuid.UUID
	name    string
	total   int64
	removed bool
}

// TallyOpened records a new tally.
type TallyOpened struct {
	TallyID uuid.UUID `json:"tally_id"`
	Name    string    `json:"name"`
}

// TallyIncremented records an increment. Schema v2; v1 was {"tally_id", "n"}.
type TallyIncremented struct {
	TallyID uuid.UUID `json:"tally_id"`
	By      int64     `json:"by"`
}

// TallyRenamed records a new name.
type TallyRenamed struct {
	TallyID uuid.UUID `json:"tally_id"`
	Name    string    `json:"name"`
}

// TallyRemoved records a removal.
type TallyRemoved struct {
	TallyID uuid.UUID `json:"tally_id"`
}

func (TallyOpened) EventType() string      { return "tally.opened" }
func (TallyIncremented) EventType() string { return "tally.incremented" }
func (TallyRenamed) EventType() string     { return "tally.renamed" }
func (TallyRemoved) EventType() string     { return "tally.removed" }

// RegisterTally adds the tally events, and the v1→v2 upcaster of
// tally.incremented, to reg.
func RegisterTally(reg *eventstore.Registry) error {
	for e, v := range map[eventstore.Event]int{TallyOpened{}: 1, TallyIncremented{}: 2, TallyRenamed{}: 1, TallyRemoved{}: 1} {
		if err := reg.Register(e, v); err != nil {
			return err
		}
	}
	return reg.AddUpcaster("tally.incremented", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			TallyID uuid.UUID `json:"tally_id"`
			N       int64     `json:"n"`
		}
		if err := json.Unmarshal(d, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(TallyIncremented{TallyID: v1.TallyID, By: v1.N})
	})
}

// NewRegistry returns a registry with the tally events.
func NewRegistry(t testing.TB) *eventstore.Registry {
	t.Helper()
	reg := eventstore.NewRegistry()
	if err := RegisterTally(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// OpenTally starts a new tally.
func OpenTally(id uuid.UUID, name string) (*Tally, error) {
	if err := validTallyName(name); err != nil {
		return nil, err
	}
	t := &Tally{}
	t.record(TallyOpened{TallyID: id, Name: name})
	return t, nil
}

// LoadTally returns an empty tally to fold a stream into.
func LoadTally(id uuid.UUID) *Tally { return &Tally{id: id} }

// TallyStream names the stream of a tally.
func TallyStream(id uuid.UUID) string { return "tally-" + id.String() }

// StreamID implements commands.Aggregate.
func (t *Tally) StreamID() string { return TallyStream(t.id) }

// Root implements commands.Aggregate.
func (t *Tally) Root() *domain.Root { return &t.root }

// ID returns the tally's id.
func (t *Tally) ID() uuid.UUID { return t.id }

// Total returns the current total.
func (t *Tally) Total() int64 { return t.total }

// Increment adds by (> 0).
func (t *Tally) Increment(by int64) error {
	if t.removed {
		return domain.NotFoundf("tally %s not found", t.id)
	}
	if by <= 0 {
		return domain.Invalidf("by must be positive")
	}
	t.record(TallyIncremented{TallyID: t.id, By: by})
	return nil
}

// Rename changes the name.
func (t *Tally) Rename(name string) error {
	if t.removed {
		return domain.NotFoundf("tally %s not found", t.id)
	}
	if err := validTallyName(name); err != nil {
		return err
	}
	if name != t.name {
		t.record(TallyRenamed{TallyID: t.id, Name: name})
	}
	return nil
}

// Remove deletes the tally.
func (t *Tally) Remove() error {
	if t.removed {
		return domain.NotFoundf("tally %s not found", t.id)
	}
	t.record(TallyRemoved{TallyID: t.id})
	return nil
}

func (t *Tally) record(e domain.Event) {
	t.Apply(e)
	t.root.Record(e)
}

// Apply implements commands.Aggregate.
func (t *Tally) Apply(e domain.Event) {
	switch e := e.(type) {
	case TallyOpened:
		t.id, t.name = e.TallyID, e.Name
	case TallyIncremented:
		t.total += e.By
	case TallyRenamed:
		t.name = e.Name
	case TallyRemoved:
		t.removed = true
	}
}

func validTallyName(name string) error {
	switch n := len([]rune(strings.TrimSpace(name))); {
	case n == 0:
		return domain.Invalidf("name must not be empty")
	case n > 64:
		return domain.Invalidf("name must be at most 64 characters")
	}
	return nil
}

// TallySchema is the read model of the tally projection.
const TallySchema = `CREATE TABLE IF NOT EXISTS tallies (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL,
    total       bigint      NOT NULL DEFAULT 0,
    increments  integer     NOT NULL DEFAULT 0,
    version     bigint      NOT NULL,
    tenant_id   uuid,
    created_by  bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS tallies_name_idx ON tallies (name);`

// CreateTallyTables adds the tally read model to a test database.
func CreateTallyTables(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), TallySchema); err != nil {
		t.Fatalf("create tally tables: %v", err)
	}
}

// TallyProjection builds the tallies read model.
func TallyProjection() *projections.Projection {
	p := projections.New("tallies", "tallies")
	// Rows go through Tx.Insert, Add and Update: a tally's events in one
	// batch are one write of its row.
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e TallyOpened) error {
		at := rec.Metadata.OccurredAt
		tx.Insert("tallies", "id", e.TallyID, map[string]any{"id": e.TallyID, "name": e.Name,
			"version": int64(rec.StreamVersion), "tenant_id": nullUUID(rec.Metadata.TenantID),
			"created_by": rec.Metadata.ActorUserID, "created_at": at, "updated_at": at,
			"total": int64(0), "increments": int64(0)})
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e TallyIncremented) error {
		tx.Add("tallies", "id", e.TallyID, map[string]int64{"total": e.By, "increments": 1})
		tx.Update("tallies", "id", e.TallyID, map[string]any{"version": int64(rec.StreamVersion), "updated_at": rec.Metadata.OccurredAt})
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent, e TallyRenamed) error {
		tx.Update("tallies", "id", e.TallyID, map[string]any{"name": e.Name, "version": int64(rec.StreamVersion),
			"updated_at": rec.Metadata.OccurredAt})
		return nil
	})
	projections.On(p, func(_ context.Context, tx *projections.Tx, _ eventstore.RecordedEvent, e TallyRemoved) error {
		tx.Queue(`DELETE FROM tallies WHERE id = $1`, e.TallyID)
		return nil
	})
	return p
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
