package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Aggregate is what the Repository loads and saves.
type Aggregate interface {
	// StreamID names the aggregate's stream ("flow-<uuid>").
	StreamID() string
	// Root gives access to the revision and the pending events.
	Root() *domain.Root
	// Apply changes state by one stored event (replay).
	Apply(domain.Event)
}

// Repository loads aggregates by folding their streams and saves what they
// recorded.
type Repository struct {
	store eventstore.Store
	reg   *eventstore.Registry
}

// NewRepository returns a Repository over a store; reg decodes and encodes
// the events.
func NewRepository(store eventstore.Store, reg *eventstore.Registry) *Repository {
	return &Repository{store: store, reg: reg}
}

// Load folds the aggregate's stream into agg. It returns a domain not-found
// error when the stream has no events.
func (r *Repository) Load(ctx context.Context, agg Aggregate) error {
	events, err := r.store.ReadStream(ctx, agg.StreamID(), 0, eventstore.MaxRevision)
	if err != nil {
		return fmt.Errorf("load %s: %w", agg.StreamID(), err)
	}
	if len(events) == 0 {
		return domain.NotFoundf("%s not found", agg.StreamID())
	}
	for _, rec := range events {
		e, err := r.reg.Decode(rec)
		if err != nil {
			return fmt.Errorf("load %s: %w", agg.StreamID(), err)
		}
		agg.Apply(e)
		agg.Root().Replayed(rec.StreamVersion)
	}
	return nil
}

// Save appends the aggregate's pending events, expecting the stream to be
// where it was loaded (or not to exist, for a new aggregate). md is copied
// onto every event.
func (r *Repository) Save(ctx context.Context, agg Aggregate, md eventstore.Metadata) (eventstore.AppendResult, error) {
	root := agg.Root()
	pending := root.Pending()
	if len(pending) == 0 {
		return eventstore.AppendResult{}, nil
	}
	data := make([]eventstore.EventData, len(pending))
	for i, e := range pending {
		d, err := r.reg.Encode(e)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("event id: %w", err)
		}
		d.ID, d.Metadata = id, md
		data[i] = d
	}
	expected := eventstore.NoStream()
	if rev, exists := root.Revision(); exists {
		expected = eventstore.Exact(rev)
	}
	res, err := r.store.Append(ctx, agg.StreamID(), expected, data...)
	if err != nil {
		return res, fmt.Errorf("save %s: %w", agg.StreamID(), err)
	}
	root.Saved(res.NextExpectedVersion)
	return res, nil
}
