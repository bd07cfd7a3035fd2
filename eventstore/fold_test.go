package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// The one fold: every event applied in order with its revision, keep
// stops at a prefix, each sees what was folded, and an event of a type
// the registry does not know stops the fold with an error naming it —
// it is never skipped.
func TestFold(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	reg := testkit.NewRegistry(t)
	id := uuid.New()
	tally, err := testkit.OpenTally(id, "visits")
	require.NoError(t, err)
	require.NoError(t, tally.Increment(2))
	require.NoError(t, tally.Increment(3))
	pending := tally.Root().Pending()
	data := make([]eventstore.EventData, len(pending))
	for i, e := range pending {
		data[i], err = reg.Encode(e)
		require.NoError(t, err)
		data[i].ID = uuid.New()
	}
	_, err = store.Append(ctx, testkit.TallyStream(id), eventstore.NoStream(), data...)
	require.NoError(t, err)
	recs, err := store.ReadStream(ctx, testkit.TallyStream(id), 0, eventstore.MaxRevision)
	require.NoError(t, err)

	all := testkit.LoadTally(id)
	var seen []string
	n, err := eventstore.Fold(reg, all, recs, nil, func(rec eventstore.RecordedEvent, _ domain.Event) { seen = append(seen, rec.Type) })
	require.NoError(t, err)
	assert.Equal(t, len(recs), n)
	assert.Equal(t, int64(5), all.Total())
	assert.Len(t, seen, n)
	rev, _ := all.Root().Revision()
	assert.Equal(t, uint64(len(recs)-1), rev)

	prefix := testkit.LoadTally(id)
	n, err = eventstore.Fold(reg, prefix, recs, func(rec eventstore.RecordedEvent) bool { return rec.StreamVersion < 2 }, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, int64(2), prefix.Total())

	future := append(append([]eventstore.RecordedEvent(nil), recs[:2]...), recs[2])
	future[2].Type = "tally.from_the_future"
	partial := testkit.LoadTally(id)
	n, err = eventstore.Fold(reg, partial, future, nil, nil)
	var unknown *eventstore.UnknownEventTypeError
	require.True(t, errors.As(err, &unknown), "%v", err)
	assert.Equal(t, "tally.from_the_future", unknown.Type)
	assert.Equal(t, 2, n, "what came before is folded; the unknown event is reported, not skipped")
}
