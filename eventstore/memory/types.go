package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

var _ eventstore.TypeReader = (*Store)(nil)

// SettledHead implements eventstore.TypeReader: appends are serialised,
// so the head is settled.
func (s *Store) SettledHead(ctx context.Context) (eventstore.Position, error) { return s.Head(ctx) }

// ReadTypes implements eventstore.TypeReader.
func (s *Store) ReadTypes(ctx context.Context, after, through eventstore.Position, types []string, limit int) ([]eventstore.RecordedEvent, eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return nil, after, fmt.Errorf("read log by type after %s: %w", after, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []eventstore.RecordedEvent
	reached := after
	for _, e := range s.in(after, through) {
		if len(out) >= max(limit, 1) {
			return out, reached, nil
		}
		if slices.Contains(types, e.Type) {
			out = append(out, copyEvent(e))
		}
		reached = e.Position
	}
	return out, through, nil
}

// CountTypes implements eventstore.TypeReader.
func (s *Store) CountTypes(ctx context.Context, after, through eventstore.Position) (map[string]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("count event types: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]int64{}
	for _, e := range s.in(after, through) {
		counts[e.Type]++
	}
	return counts, nil
}

// in returns the stored events with after < position <= through. Callers
// hold s.mu and copy what they hand out.
func (s *Store) in(after, through eventstore.Position) []eventstore.RecordedEvent {
	var out []eventstore.RecordedEvent
	for _, e := range s.log {
		if after.Less(e.Position) && !through.Less(e.Position) {
			out = append(out, e)
		}
	}
	return out
}
