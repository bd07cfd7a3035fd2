package commands_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

func newRepo(t *testing.T) (*commands.Repository, *postgres.Store) {
	t.Helper()
	store := postgres.New(testkit.NewDatabase(t), postgres.Options{})
	t.Cleanup(store.Close)
	return commands.NewRepository(store, testkit.NewRegistry(t)), store
}

func TestRepository_SaveAndLoad(t *testing.T) {
	t.Parallel()
	repo, _ := newRepo(t)
	ctx := context.Background()
	id := uuid.New()
	tally, err := testkit.OpenTally(id, "visits")
	require.NoError(t, err)
	require.NoError(t, tally.Increment(2))
	res, err := repo.Save(ctx, tally, eventstore.Metadata{ActorUserID: 3})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.NextExpectedVersion)
	assert.Empty(t, tally.Root().Pending(), "saved events are no longer pending")

	again, err := repo.Save(ctx, tally, eventstore.Metadata{})
	require.NoError(t, err)
	assert.Empty(t, again.Positions, "nothing pending, nothing written")

	loaded := testkit.LoadTally(id)
	require.NoError(t, repo.Load(ctx, loaded))
	assert.Equal(t, int64(2), loaded.Total())
	rev, exists := loaded.Root().Revision()
	assert.True(t, exists)
	assert.Equal(t, uint64(1), rev)
}

// Two copies of one aggregate change it concurrently: the second save is
// a conflict, never a silent overwrite.
func TestRepository_ConcurrentChangeConflicts(t *testing.T) {
	t.Parallel()
	repo, store := newRepo(t)
	ctx := context.Background()
	id := uuid.New()
	tally, err := testkit.OpenTally(id, "race")
	require.NoError(t, err)
	_, err = repo.Save(ctx, tally, eventstore.Metadata{})
	require.NoError(t, err)

	a, b := testkit.LoadTally(id), testkit.LoadTally(id)
	require.NoError(t, repo.Load(ctx, a))
	require.NoError(t, repo.Load(ctx, b))
	require.NoError(t, a.Increment(1))
	require.NoError(t, b.Increment(5))
	_, err = repo.Save(ctx, a, eventstore.Metadata{})
	require.NoError(t, err)
	_, err = repo.Save(ctx, b, eventstore.Metadata{})
	require.ErrorIs(t, err, domain.ErrConflict)

	events, err := store.ReadStream(ctx, testkit.TallyStream(id), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, events, 2)
}

// SaveAll writes several aggregates in one atomic append; when one of
// them moved underneath (a concurrent save), none is written.
func TestRepository_SaveAllIsAtomic(t *testing.T) {
	t.Parallel()
	repo, store := newRepo(t)
	ctx := context.Background()
	idA, idB := uuid.New(), uuid.New()
	a, err := testkit.OpenTally(idA, "a")
	require.NoError(t, err)
	b, err := testkit.OpenTally(idB, "b")
	require.NoError(t, err)
	require.NoError(t, b.Increment(4))
	idle := testkit.LoadTally(uuid.New()) // nothing pending: skipped

	res, err := repo.SaveAll(ctx, eventstore.Metadata{ActorUserID: 3}, a, idle, b)
	require.NoError(t, err)
	assert.Len(t, res.Positions, 3, "all positions written, in order")
	head, err := store.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, head, res.Last())
	assert.Empty(t, a.Root().Pending())
	assert.Empty(t, b.Root().Pending())
	rev, _ := b.Root().Revision()
	assert.Equal(t, uint64(1), rev)

	// Another copy of a is saved first: a's stream moves underneath.
	other := testkit.LoadTally(idA)
	require.NoError(t, repo.Load(ctx, other))
	require.NoError(t, other.Increment(1))
	_, err = repo.Save(ctx, other, eventstore.Metadata{})
	require.NoError(t, err)

	require.NoError(t, a.Increment(2))
	require.NoError(t, b.Increment(5))
	_, err = repo.SaveAll(ctx, eventstore.Metadata{}, b, a)
	require.ErrorIs(t, err, domain.ErrConflict)
	var wrong *eventstore.WrongExpectedVersionError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, testkit.TallyStream(idA), wrong.Stream)
	assert.Len(t, b.Root().Pending(), 1, "nothing was saved")

	events, err := store.ReadStream(ctx, testkit.TallyStream(idB), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, events, 2, "b's stream is unchanged although b came first")
	events, err = store.ReadStream(ctx, testkit.TallyStream(idA), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, events, 2, "a's stream holds the concurrent save only")
	loaded := testkit.LoadTally(idB)
	require.NoError(t, repo.Load(ctx, loaded))
	assert.Equal(t, int64(4), loaded.Total())
}

func TestRepository_LoadErrors(t *testing.T) {
	t.Parallel()
	repo, store := newRepo(t)
	ctx := context.Background()
	err := repo.Load(ctx, testkit.LoadTally(uuid.New()))
	require.ErrorIs(t, err, domain.ErrNotFound)

	id := uuid.New()
	_, err = store.Append(ctx, testkit.TallyStream(id), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: "tally.exploded", SchemaVersion: 1, Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	err = repo.Load(ctx, testkit.LoadTally(id))
	var unknown *eventstore.UnknownEventTypeError
	require.ErrorAs(t, err, &unknown, "an unknown event is reported, not skipped")
}

func TestTally_Rules(t *testing.T) {
	t.Parallel()
	_, err := testkit.OpenTally(uuid.New(), " ")
	require.ErrorIs(t, err, domain.ErrInvalid)
	tally, err := testkit.OpenTally(uuid.New(), "x")
	require.NoError(t, err)
	require.ErrorIs(t, tally.Increment(0), domain.ErrInvalid)
	require.NoError(t, tally.Remove())
	require.ErrorIs(t, tally.Increment(1), domain.ErrNotFound)
	require.ErrorIs(t, tally.Remove(), domain.ErrNotFound)
	assert.Len(t, tally.Root().Pending(), 2)
}
