package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// TestRepository_SnapshotsGiveTheSameFold saves a flow edit by edit (a flow
// asks for a snapshot every 4 events), and checks that a load from the
// snapshot equals a full fold, that the snapshot sits where the stream
// crossed a multiple of 4, and that a snapshot of another shape version is
// ignored.
func TestRepository_SnapshotsGiveTheSameFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testkit.NewDatabase(t)
	store := postgres.New(pool, postgres.Options{})
	t.Cleanup(store.Close)
	reg := eventstore.NewRegistry()
	for _, s := range domain.FlowEvents() {
		require.NoError(t, reg.Register(s.Event, s.Version))
	}
	snaps := commands.NewPostgresSnapshots(pool)
	repo := commands.NewRepository(store, reg).WithSnapshots(snaps, 16)
	plain := commands.NewRepository(store, reg)

	id := uuid.New()
	f, err := domain.CreateFlow(id, domain.NewFlow{UserID: 1, Content: domain.FlowContent{Name: "f"}})
	require.NoError(t, err)
	_, err = repo.Save(ctx, f, eventstore.Metadata{OccurredAt: time.Now()})
	require.NoError(t, err)
	for i := range 40 {
		f = domain.LoadFlow(id)
		require.NoError(t, repo.Load(ctx, f))
		require.NoError(t, f.Edit(domain.FlowChange{Data: json.RawMessage(fmt.Sprintf(`{"nodes":[{"id":"n%d"}],"edges":[]}`, i))}))
		if i == 20 {
			_, err := f.CreateVersion("1.0", "")
			require.NoError(t, err)
		}
		_, err := repo.Save(ctx, f, eventstore.Metadata{OccurredAt: time.Now()})
		require.NoError(t, err)
	}
	rev, _, found, err := snaps.Get(ctx, domain.FlowStream(id), f.SnapshotVersion())
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, uint64(39), rev, "42 events: the last multiple of 4 crossed is 40 events (revision 39)")

	fromSnapshot, full := domain.LoadFlow(id), domain.LoadFlow(id)
	require.NoError(t, repo.Load(ctx, fromSnapshot))
	require.NoError(t, plain.Load(ctx, full))
	assert.Equal(t, full.Content(), fromSnapshot.Content())
	assert.Equal(t, full.Versions(), fromSnapshot.Versions())
	assert.Equal(t, full.UpdatedAt(), fromSnapshot.UpdatedAt())
	r1, _ := full.Root().Revision()
	r2, _ := fromSnapshot.Root().Revision()
	assert.Equal(t, r1, r2)
	assert.JSONEq(t, `{"nodes":[{"id":"n39"}],"edges":[]}`, string(fromSnapshot.Content().Data))

	// A snapshot of another shape is ignored: the load folds everything.
	_, err = pool.Exec(ctx, `UPDATE aggregate_snapshots SET snapshot_version = 99, state = 'garbage'`)
	require.NoError(t, err)
	again := domain.LoadFlow(id)
	require.NoError(t, repo.Load(ctx, again))
	assert.Equal(t, full.Content(), again.Content())
}
