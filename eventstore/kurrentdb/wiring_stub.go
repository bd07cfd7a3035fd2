// STUB: drop at merge. It declares only the API of the KurrentDB adapter
// that the wiring and `skillflaw migrate-log` use, so that this branch
// compiles; the real adapter replaces this file.
package kurrentdb

import (
	"context"
	"errors"
	"log/slog"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

var errNotBuilt = errors.New("kurrentdb adapter not built")

// Options tune a Store.
type Options struct {
	StreamPrefix string
	BatchSize    int
	Logger       *slog.Logger
}

// Store is the KurrentDB event store (stub).
type Store struct{}

var _ eventstore.Store = (*Store)(nil)

// Open dials KurrentDB (stub: always fails).
func Open(ctx context.Context, url string, opts Options) (*Store, error) { return nil, errNotBuilt }

// Close releases the client (stub).
func (s *Store) Close() error { return errNotBuilt }

// Append implements eventstore.Store (stub).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, errNotBuilt
}

// AppendMulti implements eventstore.Store (stub).
func (s *Store) AppendMulti(ctx context.Context, appends ...eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	return nil, errNotBuilt
}

// ReadStream implements eventstore.Store (stub).
func (s *Store) ReadStream(ctx context.Context, stream string, from, to uint64) ([]eventstore.RecordedEvent, error) {
	return nil, errNotBuilt
}

// ReadAll implements eventstore.Store (stub).
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return nil, errNotBuilt
}

// Follow implements eventstore.Store (stub).
func (s *Store) Follow(ctx context.Context, after eventstore.Position, handle func(ctx context.Context, batch []eventstore.RecordedEvent) error) error {
	return errNotBuilt
}

// Head implements eventstore.Store (stub).
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	return eventstore.Position{}, errNotBuilt
}
