package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// readCounter is an event store that notes which stream reads it served:
// the stream and the revision each started from.
type readCounter struct {
	eventstore.Store
	mu    sync.Mutex
	reads []streamRead
}

type streamRead struct {
	stream string
	from   uint64
}

func (c *readCounter) ReadStream(ctx context.Context, stream string, from, to uint64) ([]eventstore.RecordedEvent, error) {
	c.mu.Lock()
	c.reads = append(c.reads, streamRead{stream: stream, from: from})
	c.mu.Unlock()
	return c.Store.ReadStream(ctx, stream, from, to)
}

// take returns the reads noted since the last take.
func (c *readCounter) take() []streamRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reads
	c.reads = nil
	return out
}

// A process that keeps chat sessions and flows (Messages.Sessions and
// Messages.Flows) records a chat's messages without reading the session
// again and reads of the flow only whether it changed; what it kept never
// hides a change: a message another writer added meanwhile (the monitor,
// another process) is kept and ordered before the next one, a flow moved
// meanwhile places the next message where it now lives, and a user who
// may not write into the session is still refused.
func TestMessages_InMemoryKeptSessionsAndFlows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := &readCounter{Store: memory.New()}
	reg := newRegistry(t, domain.FlowEvents(), domain.MessageEvents())
	repo := commands.NewRepository(reads, reg)
	ids := &counter{}
	kept := &commands.Messages{Repo: repo, Store: reads, Registry: reg, IDs: ids,
		Sessions: commands.NewSessionCache(8), Flows: commands.NewMonitoredFlows(8)}
	other := &commands.Messages{Repo: repo, Store: reads, Registry: reg, IDs: ids}
	tenant := uuid.New()
	owner, visitor := int64(1), int64(3)
	flow := seedFlow(t, repo, owner, "chat", domain.FlowPlacement{TenantID: &tenant, BusinessID: 5}, false)
	flowStream, session := domain.FlowStream(flow), domain.ChatSessionStream(&flow, "chat")

	var want []int64
	for i := range 3 {
		want = append(want, say(t, kept, visitor, flow, "chat", "hello").ID)
		got := reads.take()
		if i == 0 {
			assert.Equal(t, []streamRead{{flowStream, 0}, {session, 0}}, got, "first: the flow and the session are folded")
			continue
		}
		assert.Equal(t, []streamRead{{flowStream, 1}}, got, "then: only whether the flow has an event past the one folded")
	}

	want = append(want, say(t, other, owner, flow, "chat", "the owner answers, elsewhere").ID)
	reads.take()
	want = append(want, say(t, kept, visitor, flow, "chat", "thanks").ID)
	assert.Equal(t, []streamRead{{flowStream, 1}, {session, 0}}, reads.take(),
		"a session written elsewhere loses the race, is read again and decided on once more")
	assert.Equal(t, want, loadSession(t, kept, flow, "chat").MessageIDs(), "every message, in order")

	moved := uuid.New()
	f := domain.LoadFlow(flow)
	require.NoError(t, repo.Load(ctx, f))
	require.NoError(t, f.Edit(domain.FlowChange{Placement: &domain.FlowPlacement{TenantID: &moved, BusinessID: 9}}))
	_, err := repo.Save(ctx, f, eventstore.Metadata{ActorUserID: owner, OccurredAt: time.Now().UTC()})
	require.NoError(t, err)
	r := say(t, kept, visitor, flow, "chat", "still there?")
	recs, err := reads.ReadStream(ctx, session, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	last := recs[len(recs)-1]
	assert.Equal(t, r.Position, last.Position)
	assert.Equal(t, moved, last.Metadata.TenantID, "placed where the flow lives now")
	assert.Equal(t, int64(9), last.Metadata.BusinessID)

	reads.take()
	say(t, kept, visitor, flow, "chat", "and now?")
	assert.Equal(t, []streamRead{{flowStream, 2}}, reads.take(), "the moved flow is kept as folded again")

	_, err = kept.RecordMessage(ctx, eventstore.Metadata{ActorUserID: 4},
		commands.NewMessage{SessionKey: commands.SessionKey{FlowID: &flow, SessionID: "chat"}, Fields: domain.MessageFields{Text: "intrude"}})
	require.ErrorIs(t, err, domain.ErrForbidden, "the kept session still says whose it is")
	n := len(loadSession(t, kept, flow, "chat").MessageIDs())
	say(t, kept, visitor, flow, "chat", "bye")
	assert.Len(t, loadSession(t, kept, flow, "chat").MessageIDs(), n+1, "a refusal leaves the session writable")
}

// heldSnapshots keeps snapshots in memory; each Put waits until the test
// lets it through.
type heldSnapshots struct {
	let  chan struct{}
	mu   sync.Mutex
	kept map[string]heldSnapshot
}

type heldSnapshot struct {
	rev   uint64
	state []byte
}

func (h *heldSnapshots) Get(_ context.Context, stream string, _ int) (uint64, []byte, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.kept[stream]
	return s.rev, s.state, ok, nil
}

func (h *heldSnapshots) Put(ctx context.Context, stream string, revision uint64, _ int, state []byte) error {
	select {
	case <-h.let:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept[stream] = heldSnapshot{rev: revision, state: state}
	return nil
}

// A message whose session crossed a snapshot's threshold (every 64
// events) returns without waiting for the snapshot to be written
// (SnapshotsAside); the snapshot, written once let through, is the
// session as it was at that revision, and a load from it folds the same
// session as the whole stream.
func TestMessages_InMemorySnapshotWrittenAside(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	reg := newRegistry(t, domain.FlowEvents(), domain.MessageEvents())
	snaps := &heldSnapshots{let: make(chan struct{}), kept: map[string]heldSnapshot{}}
	repo := commands.NewRepository(store, reg).WithSnapshots(snaps, 16)
	m := &commands.Messages{Repo: repo, Store: store, Registry: reg, IDs: &counter{},
		Sessions: commands.NewSessionCache(8), Flows: commands.NewMonitoredFlows(8)}
	flow := seedFlow(t, repo, 1, "chat", domain.FlowPlacement{}, false)
	stream := domain.ChatSessionStream(&flow, "long")

	for range 63 { // the session's 64th event: its first snapshot is due
		say(t, m, 1, flow, "long", "hi")
	}
	_, _, found, err := snaps.Get(ctx, stream, 0)
	require.NoError(t, err)
	assert.False(t, found, "the messages returned before their snapshot was written")
	say(t, m, 1, flow, "long", "one more, on the kept session")

	close(snaps.let)
	repo.Wait()
	rev, _, found, err := snaps.Get(ctx, stream, 0)
	require.NoError(t, err)
	require.True(t, found, "written aside")
	assert.Equal(t, uint64(63), rev)
	fromSnapshot := domain.LoadChatSession(&flow, "long")
	require.NoError(t, repo.Load(ctx, fromSnapshot))
	whole := domain.LoadChatSession(&flow, "long")
	require.NoError(t, repo.LoadUntil(ctx, whole, eventstore.MaxRevision))
	assert.Equal(t, whole.MessageIDs(), fromSnapshot.MessageIDs())
	assert.Len(t, whole.MessageIDs(), 64)
	wholeRev, _ := whole.Root().Revision()
	snapRev, _ := fromSnapshot.Root().Revision()
	assert.Equal(t, wholeRev, snapRev)
}
