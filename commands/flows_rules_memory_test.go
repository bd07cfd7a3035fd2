package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The flows' rules that flows_memory_test.go leaves out (it covers
// versions, publish, rollback and templates): name and endpoint claims,
// locks, stale edits, batch deletion and concurrent writers. Creating a
// flow asks the read model for a free name (a *pgxpool.Pool), so flows are
// seeded into the log and named through Update, which takes the claims.

// namedFlow seeds a flow of user and names it through the handler (the
// name's claim taken as every rename takes it).
func namedFlow(t *testing.T, flows *commands.Flows, user int64, name string) uuid.UUID {
	t.Helper()
	id := seedFlow(t, flows.Repo, user, "seed-"+uuid.NewString(), domain.FlowPlacement{}, false)
	_, err := flows.Update(context.Background(), commands.UpdateFlow{Caller: auth.Principal{UserID: user}, ID: id,
		Change: commands.FlowUpdate{Name: ptr(name)}})
	require.NoError(t, err)
	return id
}

// A flow's name and endpoint name are unique per user, case-insensitively,
// through claims: a clash is Langflow's 400 (kind refused) and writes
// nothing, another user may use the name, a deleted flow frees its names
// and restoring it takes them back (refused when taken meanwhile), and the
// batch delete skips another user's, unknown and deleted flows.
func TestFlows_InMemoryNamesAreClaimed(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.FlowEvents(), domain.ClaimEvents())
	flows := &commands.Flows{Repo: repo}
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	a := namedFlow(t, flows, owner.UserID, "Report")
	b := namedFlow(t, flows, owner.UserID, "Draft")
	c := namedFlow(t, flows, 2, "report") // another user's: no clash
	_, err := flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: a, Change: commands.FlowUpdate{EndpointName: ptr("ep-1")}})
	require.NoError(t, err)
	before := logLen(t, store)

	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: b, Change: commands.FlowUpdate{Name: ptr("REPORT")}})
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.EqualError(t, err, "Name must be unique")
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: b, Change: commands.FlowUpdate{EndpointName: ptr("EP-1")}})
	assert.ErrorIs(t, err, domain.ErrRefused)
	assert.EqualError(t, err, "Endpoint name must be unique")
	assert.Equal(t, before, logLen(t, store), "refused renames wrote nothing")

	w, err := flows.Delete(ctx, commands.FlowRef{Caller: owner, ID: a})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 3, "the deletion releases the name and the endpoint name, atomically")
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: b, Change: commands.FlowUpdate{Name: ptr("report")}})
	require.NoError(t, err, "a deleted flow's name is free")
	n := logLen(t, store)
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: a, Change: commands.FlowUpdate{IsDeleted: ptr(false)}})
	assert.ErrorIs(t, err, domain.ErrRefused, "restoring takes the names back: taken meanwhile")
	assert.Equal(t, n, logLen(t, store))

	denied := tenancy.WithAuthorizer(ctx, deny{})
	gone, _, err := flows.DeleteFlows(denied, owner, []uuid.UUID{c, uuid.New(), a, b, b}, eventstore.Metadata{ActorUserID: owner.UserID})
	require.NoError(t, err)
	assert.Equal(t, 1, gone, "only b: c is another's, a already deleted, the rest unknown or repeated")
	f := domain.LoadFlow(c)
	require.NoError(t, repo.Load(ctx, f))
	assert.False(t, f.Deleted())
	f = domain.LoadFlow(b)
	require.NoError(t, repo.Load(ctx, f))
	assert.True(t, f.Deleted())
}

// A locked flow refuses a change of what it is (423) unless the same change
// unlocks it; an edit decided on a flow older than the flow's updated_at
// (last_known_updated_at) is a 409. Neither refusal writes.
func TestFlows_InMemoryLockAndStaleEdits(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.FlowEvents(), domain.ClaimEvents())
	flows := &commands.Flows{Repo: repo}
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	id := seedFlow(t, repo, owner.UserID, "locked", domain.FlowPlacement{}, true)
	before := logLen(t, store)

	_, err := flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: id, Change: commands.FlowUpdate{Description: ptr("no")}})
	assert.ErrorIs(t, err, domain.ErrLocked)
	assert.Equal(t, before, logLen(t, store))
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: id, Meta: eventstore.Metadata{OccurredAt: at},
		Change: commands.FlowUpdate{Description: ptr("yes"), Locked: ptr(false)}})
	require.NoError(t, err, "unlocking in the same change")

	n := logLen(t, store)
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: id, Meta: eventstore.Metadata{OccurredAt: at.Add(time.Minute)},
		Change: commands.FlowUpdate{Description: ptr("stale"), LastKnownUpdatedAt: ptr(at.Add(-time.Second))}})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, n, logLen(t, store))
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: id, Meta: eventstore.Metadata{OccurredAt: at.Add(time.Minute)},
		Change: commands.FlowUpdate{Description: ptr("fresh"), LastKnownUpdatedAt: ptr(at)}})
	require.NoError(t, err, "decided on the flow as it is")
	got, err := commands.LoadOwnFlow(ctx, repo, owner, id)
	require.NoError(t, err)
	assert.Equal(t, "fresh", got.Content().Description)
	assert.False(t, got.Locked())
}

// A flow is decided once (its race rule): of concurrent edits of one flow
// each either lands or is the documented 409, and the log holds exactly
// the edits that landed. Concurrent renames of different flows to one
// name race on its claim (decided again): exactly one lands, the others
// are "Name must be unique".
func TestFlows_InMemoryConcurrentEdits(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.FlowEvents(), domain.ClaimEvents())
	flows := &commands.Flows{Repo: repo}
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	id := seedFlow(t, repo, owner.UserID, "hot", domain.FlowPlacement{}, false)
	before := logLen(t, store)

	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: id,
				Change: commands.FlowUpdate{Description: ptr(fmt.Sprintf("edit %d", i))}})
		})
	}
	wg.Wait()
	landed := 0
	for _, err := range errs {
		if err == nil {
			landed++
			continue
		}
		assert.ErrorIs(t, err, domain.ErrConflict)
		assert.EqualError(t, err, "The flow was changed by another request at the same time: reload it and apply your change again")
	}
	assert.Positive(t, landed)
	assert.Len(t, logTypes(t, store)[before:], landed, "one event per edit that landed; the 409s wrote nothing")

	ids := make([]uuid.UUID, 6)
	for i := range ids {
		ids[i] = seedFlow(t, repo, owner.UserID, "seed-"+uuid.NewString(), domain.FlowPlacement{}, false)
	}
	errs = make([]error, len(ids))
	for i, fid := range ids {
		wg.Go(func() {
			_, errs[i] = flows.Update(ctx, commands.UpdateFlow{Caller: owner, ID: fid, Change: commands.FlowUpdate{Name: ptr("same")}})
		})
	}
	wg.Wait()
	landed = 0
	for _, err := range errs {
		if err == nil {
			landed++
			continue
		}
		assert.ErrorIs(t, err, domain.ErrRefused)
		assert.EqualError(t, err, "Name must be unique")
	}
	assert.Equal(t, 1, landed, "one flow holds the name")
}
