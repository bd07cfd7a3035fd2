package domain_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

// A run starts once, progresses while open, ends once; nothing follows.
func TestRun_Lifecycle(t *testing.T) {
	id := uuid.New()
	r := domain.LoadRun(id)
	assert.Equal(t, "run-"+id.String(), r.StreamID())
	require.ErrorIs(t, r.Emit(domain.RunVerticesSorted{Data: "{}"}), domain.ErrNotFound, "not started")
	require.ErrorIs(t, r.Start(domain.RunStarted{RunID: uuid.New()}), domain.ErrInvalid, "another run's start")
	require.NoError(t, r.Start(domain.RunStarted{RunID: id, Session: "s"}))
	require.ErrorIs(t, r.Start(domain.RunStarted{RunID: id}), domain.ErrConflict)
	assert.True(t, r.Open())
	require.NoError(t, r.Emit(domain.RunVerticesSorted{Data: "{}"}))
	require.NoError(t, r.Emit(domain.RunMessageSent{MessageID: 1, Data: "{}"}))
	require.ErrorIs(t, r.Emit(domain.RunFinished{}), domain.ErrInvalid, "an end is not progress")
	require.ErrorIs(t, r.Close(domain.RunVertexBuilt{}), domain.ErrInvalid, "progress is not an end")
	require.NoError(t, r.Close(domain.RunCancelled{Reason: domain.RunCancelRequested}))
	assert.False(t, r.Open())
	assert.Equal(t, domain.RunCancelled{Reason: domain.RunCancelRequested}, r.End())
	require.ErrorIs(t, r.Close(domain.RunFailed{Error: domain.RunInterrupted}), domain.ErrConflict, "ended once")
	require.ErrorIs(t, r.Emit(domain.RunErrorRaised{}), domain.ErrConflict)
	assert.Len(t, r.Root().Pending(), 4)

	// Replayed, it is the same run; saved in part, the rest stays pending.
	again := domain.LoadRun(id)
	for i, e := range r.Root().Pending() {
		again.Apply(e)
		again.Root().Replayed(uint64(i))
	}
	start, ok := again.Started()
	assert.True(t, ok)
	assert.Equal(t, "s", start.Session)
	assert.False(t, again.Open())
	r.Root().SavedUpTo(3, 2)
	rev, _ := r.Root().Revision()
	assert.EqualValues(t, 2, rev)
	assert.Equal(t, []domain.Event{domain.RunCancelled{Reason: domain.RunCancelRequested}}, r.Root().Pending())
}

// A queued run is claimed by a worker, claimed again (the next attempt)
// when that worker is gone, and no longer once it ended; a run that is not
// queued is never claimed.
func TestRun_Claims(t *testing.T) {
	id, w1, w2 := uuid.New(), uuid.New(), uuid.New()
	api := uuid.New()
	r := domain.LoadRun(id)
	require.ErrorIs(t, r.ClaimFor(w1, nil), domain.ErrNotFound, "not started")
	require.NoError(t, r.Start(domain.RunStarted{RunID: id, Instance: api, Queued: true}))
	assert.Equal(t, uuid.Nil, r.Instance(), "a queued run nobody claimed runs nowhere")
	_, claimed := r.Claim()
	assert.False(t, claimed)
	require.ErrorIs(t, r.ClaimFor(uuid.Nil, nil), domain.ErrInvalid)
	require.NoError(t, r.ClaimFor(w1, nil))
	c, claimed := r.Claim()
	assert.True(t, claimed)
	assert.Equal(t, domain.RunClaimed{Instance: w1, Attempt: 1}, c)
	assert.Equal(t, w1, r.Instance())
	require.NoError(t, r.Emit(domain.RunVerticesSorted{Data: "{}"}))
	require.NoError(t, r.ClaimFor(w2, &w1))
	c, _ = r.Claim()
	assert.Equal(t, domain.RunClaimed{Instance: w2, Attempt: 2, Interrupted: &w1}, c)
	assert.Equal(t, w2, r.Instance())
	require.NoError(t, r.Close(domain.RunFinished{}))
	require.ErrorIs(t, r.ClaimFor(w1, nil), domain.ErrConflict, "an ended run is not claimed")

	did := uuid.New()
	direct := domain.LoadRun(did)
	require.NoError(t, direct.Start(domain.RunStarted{RunID: did, Instance: api}))
	assert.Equal(t, api, direct.Instance())
	require.ErrorIs(t, direct.ClaimFor(w1, nil), domain.ErrInvalid, "not queued")
}

// A worker hands its claim back (graceful shutdown): the run is unclaimed
// again, the next claim is the next attempt, not an interrupted one, and
// only interrupted attempts count.
func TestRun_Release(t *testing.T) {
	id, w1, w2, w3 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	r := domain.LoadRun(id)
	require.NoError(t, r.Start(domain.RunStarted{RunID: id, Instance: uuid.New(), Queued: true}))
	require.ErrorIs(t, r.Release(w1), domain.ErrConflict, "not claimed")
	require.NoError(t, r.ClaimFor(w1, nil))
	require.ErrorIs(t, r.Release(w2), domain.ErrConflict, "claimed by another")
	require.NoError(t, r.Release(w1))
	_, claimed := r.Claim()
	assert.False(t, claimed)
	assert.Equal(t, uuid.Nil, r.Instance(), "released: runs nowhere")
	assert.Equal(t, 1, r.Attempts())
	assert.Zero(t, r.Interruptions())
	require.NoError(t, r.ClaimFor(w2, nil))
	c, claimed := r.Claim()
	assert.True(t, claimed)
	assert.Equal(t, domain.RunClaimed{Instance: w2, Attempt: 2}, c)
	require.NoError(t, r.ClaimFor(w3, &w2))
	assert.Equal(t, 3, r.Attempts())
	assert.Equal(t, 1, r.Interruptions())

	// Folded from its events, the same.
	f := domain.LoadRun(id)
	for _, e := range []domain.Event{domain.RunStarted{RunID: id, Queued: true}, domain.RunClaimed{Instance: w1, Attempt: 1},
		domain.RunReleased{Instance: w1, Attempt: 1}} {
		f.Apply(e)
	}
	_, claimed = f.Claim()
	assert.False(t, claimed)
	require.NoError(t, r.Close(domain.RunFinished{}))
	require.ErrorIs(t, r.Release(w3), domain.ErrConflict, "ended")
}
