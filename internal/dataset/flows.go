// Package dataset writes reproducible logs of real domain events, for
// benchmarks and for trying rebuilds at scale (`skillflaw dev seed-flows`).
package dataset

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Flows describes a log of flows: each is created, then renamed Edits
// times, through the domain's Flow aggregate, so the events are those the
// API writes (flow.created, then flow.details_changed).
type Flows struct {
	Flows int // how many flows
	Edits int // renames per flow
	// Seed makes the flow ids and names reproducible.
	Seed uint64
	// Tenant places every flow (and every event's metadata); zero: a
	// tenant derived from Seed.
	Tenant uuid.UUID
	// UserID owns the flows and is every event's actor [1].
	UserID int64
	// PerAppend is how many flows one atomic append writes [500].
	PerAppend int
}

// Events is how many events Write appends.
func (f Flows) Events() int { return f.Flows * (1 + f.Edits) }

// Write appends the flows' events through repo, PerAppend flows per
// append (each flow's events consecutive in its stream), calling progress
// (if not nil) with the number of events written after every append.
func (f Flows) Write(ctx context.Context, repo *commands.Repository, progress func(events int)) error {
	if f.Flows < 0 || f.Edits < 0 {
		return fmt.Errorf("dataset: flows and edits must not be negative")
	}
	if f.UserID == 0 {
		f.UserID = 1
	}
	if f.PerAppend <= 0 {
		f.PerAppend = 500
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], f.Seed)
	rng := rand.NewChaCha8(seed) // an io.Reader: reproducible ids
	newID := func() uuid.UUID { return uuid.Must(uuid.NewRandomFromReader(rng)) }
	tenant := f.Tenant
	if tenant == uuid.Nil {
		tenant = newID()
	}
	md := eventstore.Metadata{ActorUserID: f.UserID, TenantID: tenant, CorrelationID: "dataset"}
	graph := json.RawMessage(`{"nodes":[],"edges":[],"viewport":{"x":0,"y":0,"zoom":1}}`)
	written := 0
	for done := 0; done < f.Flows; {
		n := min(f.PerAppend, f.Flows-done)
		aggs := make([]commands.Aggregate, 0, n)
		for i := range n {
			fl, err := domain.CreateFlow(newID(), domain.NewFlow{
				UserID:    f.UserID,
				Content:   domain.FlowContent{Name: fmt.Sprintf("flow %d", done+i), Description: "generated", Data: graph},
				Placement: domain.FlowPlacement{TenantID: &tenant},
			})
			if err != nil {
				return fmt.Errorf("dataset: %w", err)
			}
			for k := range f.Edits {
				name := fmt.Sprintf("flow %d, edit %d", done+i, k+1)
				if err := fl.Edit(domain.FlowChange{Name: &name}); err != nil {
					return fmt.Errorf("dataset: %w", err)
				}
			}
			aggs = append(aggs, fl)
		}
		md.OccurredAt = time.Now().UTC()
		if _, err := repo.SaveAll(ctx, md, aggs...); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		done += n
		written += n * (1 + f.Edits)
		if progress != nil {
			progress(written)
		}
	}
	return nil
}
