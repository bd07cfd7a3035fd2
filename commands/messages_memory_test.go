package commands_test

import (
	"context"
	"encoding/json"
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
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// memMessages is the monitor's write side over a fresh in-memory log.
func memMessages(t *testing.T) (*commands.Messages, *memory.Store) {
	t.Helper()
	repo, store := newMemRepo(t, domain.FlowEvents(), domain.MessageEvents())
	// Messages encodes the run records itself
	return &commands.Messages{Repo: repo, Store: store, Registry: newRegistry(t, domain.MessageEvents()), IDs: &counter{}}, store
}

// loadSession folds the chat session (flow, id).
func loadSession(t *testing.T, m *commands.Messages, flow uuid.UUID, id string) *domain.ChatSession {
	t.Helper()
	s := domain.LoadChatSession(&flow, id)
	require.NoError(t, m.Repo.Load(context.Background(), s))
	return s
}

// say records a message with text into session id of flow, sent by user.
func say(t *testing.T, m *commands.Messages, user int64, flow uuid.UUID, id, text string) commands.RecordedMessage {
	t.Helper()
	r, err := m.RecordMessage(context.Background(), eventstore.Metadata{ActorUserID: user},
		commands.NewMessage{SessionKey: commands.SessionKey{FlowID: &flow, SessionID: id}, Fields: domain.MessageFields{Sender: "User", Text: text}})
	require.NoError(t, err)
	return r
}

// Who writes into a chat session: the first message opens it, held by its
// sender; another user is refused (403) while the flow's owner may write
// into a visitor's session; a blank session id is 422, an unknown flow
// 404, opening an open session 409, and none of these writes. Every
// session event carries the flow's placement (tenant and business) in its
// metadata.
func TestMessages_InMemorySessionsAndWhoWrites(t *testing.T) {
	t.Parallel()
	m, store := memMessages(t)
	ctx := context.Background()
	tenant := uuid.New()
	flow := seedFlow(t, m.Repo, 1, "chat", domain.FlowPlacement{TenantID: &tenant, BusinessID: 5}, false)
	owner, visitor, other := int64(1), int64(3), int64(4)

	say(t, m, owner, flow, "s1", "hi")
	say(t, m, visitor, flow, "v1", "hello from a visitor")
	say(t, m, owner, flow, "v1", "the owner answers in the visitor's session")
	v1 := loadSession(t, m, flow, "v1")
	assert.Equal(t, visitor, v1.Info().UserID, "held by who opened it")
	assert.Equal(t, owner, v1.Info().OwnerID, "owned by the flow's owner")
	assert.Len(t, v1.MessageIDs(), 2)
	before := logLen(t, store)

	_, err := m.RecordMessage(ctx, eventstore.Metadata{ActorUserID: other},
		commands.NewMessage{SessionKey: commands.SessionKey{FlowID: &flow, SessionID: "v1"}, Fields: domain.MessageFields{Text: "intrude"}})
	assert.ErrorIs(t, err, domain.ErrForbidden, "nobody writes into another user's session")
	_, err = m.RecordMessage(ctx, eventstore.Metadata{ActorUserID: owner},
		commands.NewMessage{SessionKey: commands.SessionKey{FlowID: &flow, SessionID: " "}, Fields: domain.MessageFields{Text: "x"}})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	unknown := uuid.New()
	_, err = m.RecordMessage(ctx, eventstore.Metadata{ActorUserID: owner},
		commands.NewMessage{SessionKey: commands.SessionKey{FlowID: &unknown, SessionID: "s"}, Fields: domain.MessageFields{Text: "x"}})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.EqualError(t, err, "Flow not found")
	_, _, err = m.CreateSession(ctx, eventstore.Metadata{ActorUserID: owner},
		commands.NewSession{SessionKey: commands.SessionKey{FlowID: &flow, SessionID: "s1"}, UserID: owner})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.EqualError(t, err, `Message session "s1" already exists`)
	assert.Equal(t, before, logLen(t, store), "refusals wrote nothing")

	stream, pos, err := m.CreateSession(ctx, eventstore.Metadata{ActorUserID: owner},
		commands.NewSession{SessionKey: commands.SessionKey{FlowID: &flow}, UserID: owner})
	require.NoError(t, err, "no session id: a new one")
	assert.False(t, pos.IsZero())
	all, err := store.ReadAll(ctx, eventstore.Position{}, 1000)
	require.NoError(t, err)
	last := all[len(all)-1]
	assert.Equal(t, stream, last.StreamID)
	var created domain.ChatSessionCreated
	require.NoError(t, json.Unmarshal(last.Data, &created))
	_, err = uuid.Parse(created.SessionID)
	assert.NoError(t, err, "the new session id is a UUID")
	assert.Equal(t, created.SessionID, created.Name, "named after its id")
	for _, e := range all {
		if e.StreamID == domain.FlowStream(flow) {
			continue
		}
		assert.Equal(t, tenant, e.Metadata.TenantID, e.Type)
		assert.Equal(t, int64(5), e.Metadata.BusinessID, e.Type)
	}
}

// A message moved into another session of its flow leaves the first and
// lands in the second (opened for the same user) with its change, in one
// append; an unknown message is 404 and a change of nothing writes
// nothing. Deleting messages skips ids already gone; renaming to a blank
// name is 422 and to the same name writes nothing; deleting sessions
// returns their messages, and deleting them again writes nothing.
func TestMessages_InMemoryMoveRenameDelete(t *testing.T) {
	t.Parallel()
	m, store := memMessages(t)
	ctx := context.Background()
	user := int64(1)
	md := eventstore.Metadata{ActorUserID: user}
	flow := seedFlow(t, m.Repo, user, "chat", domain.FlowPlacement{}, false)
	a := commands.SessionKey{FlowID: &flow, SessionID: "a"}
	b := commands.SessionKey{FlowID: &flow, SessionID: "b"}
	m1 := say(t, m, user, flow, "a", "first")
	m2 := say(t, m, user, flow, "a", "second")
	before := logLen(t, store)

	pos, err := m.UpdateMessage(ctx, md, commands.MessageKey{SessionKey: a, ID: m1.ID}, domain.MessageChange{Text: ptr("first!")}, ptr("b"))
	require.NoError(t, err)
	assert.False(t, pos.IsZero())
	assert.Equal(t, []string{"message.updated", "message.deleted", "chat_session.created", "message.added"}, logTypes(t, store)[before:])
	assert.Equal(t, []int64{m2.ID}, loadSession(t, m, flow, "a").MessageIDs())
	sb := loadSession(t, m, flow, "b")
	assert.Equal(t, []int64{m1.ID}, sb.MessageIDs())
	assert.Equal(t, user, sb.Info().UserID)
	msg := domain.LoadChatMessage(&flow, "b", m1.ID)
	require.NoError(t, m.Repo.Load(ctx, msg))
	fields, ok := msg.Fields()
	require.True(t, ok)
	assert.Equal(t, "first!", fields.Text)
	assert.True(t, fields.Edit, "a new text marks the message edited")

	n := logLen(t, store)
	_, err = m.UpdateMessage(ctx, md, commands.MessageKey{SessionKey: a, ID: m1.ID}, domain.MessageChange{Text: ptr("x")}, nil)
	assert.ErrorIs(t, err, domain.ErrNotFound, "m1 left session a")
	_, err = m.UpdateMessage(ctx, md, commands.MessageKey{SessionKey: b, ID: m1.ID}, domain.MessageChange{}, ptr(" "))
	assert.ErrorIs(t, err, domain.ErrInvalid)
	pos, err = m.UpdateMessage(ctx, md, commands.MessageKey{SessionKey: b, ID: m1.ID}, domain.MessageChange{Text: ptr("first!")}, ptr("b"))
	require.NoError(t, err)
	assert.True(t, pos.IsZero(), "nothing differs, same session: nothing written")
	_, err = m.RenameSessions(ctx, md, []commands.SessionKey{a}, "\t")
	assert.ErrorIs(t, err, domain.ErrInvalid)
	assert.Equal(t, n, logLen(t, store))

	gone, _, err := m.DeleteMessages(ctx, md, []commands.MessageKey{{SessionKey: a, ID: m2.ID}, {SessionKey: a, ID: m2.ID},
		{SessionKey: a, ID: m1.ID}, {SessionKey: b, ID: 999}})
	require.NoError(t, err)
	assert.Equal(t, []int64{m2.ID}, gone, "m1 is in b, 999 nowhere")

	_, err = m.RenameSessions(ctx, md, []commands.SessionKey{a, b}, "renamed")
	require.NoError(t, err)
	assert.Equal(t, "renamed", loadSession(t, m, flow, "b").Name())
	n = logLen(t, store)
	pos, err = m.RenameSessions(ctx, md, []commands.SessionKey{a, b}, "renamed")
	require.NoError(t, err)
	assert.True(t, pos.IsZero())
	assert.Equal(t, n, logLen(t, store), "the same name: nothing written")

	gone, _, err = m.DeleteSessions(ctx, md, []commands.SessionKey{a, b})
	require.NoError(t, err)
	assert.Equal(t, []int64{m1.ID}, gone)
	assert.False(t, loadSession(t, m, flow, "a").Open())
	n = logLen(t, store)
	gone, pos, err = m.DeleteSessions(ctx, md, []commands.SessionKey{a, b})
	require.NoError(t, err)
	assert.Empty(t, gone)
	assert.True(t, pos.IsZero())
	assert.Equal(t, n, logLen(t, store), "deleted sessions: nothing written")
}

// Writers of one session decide again after a lost race (the session's
// race rule: 5 attempts, and each lost race is another writer's success),
// so five messages sent at once into a session nobody opened yet all land:
// one opening, five messages, ids all kept. Run records (vertex builds)
// are appended without a decision: all concurrent ones land too.
func TestMessages_InMemoryConcurrentWritersAllLand(t *testing.T) {
	t.Parallel()
	m, store := memMessages(t)
	ctx := context.Background()
	flow := seedFlow(t, m.Repo, 1, "chat", domain.FlowPlacement{}, false)
	before := logLen(t, store)

	ids := make([]int64, 5)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			var r commands.RecordedMessage
			r, errs[i] = m.RecordMessage(ctx, eventstore.Metadata{ActorUserID: 1}, commands.NewMessage{
				SessionKey: commands.SessionKey{FlowID: &flow, SessionID: "busy"}, Fields: domain.MessageFields{Text: fmt.Sprint(i)}})
			ids[i] = r.ID
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "every writer lands")
	}
	assert.ElementsMatch(t, ids, loadSession(t, m, flow, "busy").MessageIDs())
	types := logTypes(t, store)[before:]
	assert.Len(t, types, 6)
	assert.Equal(t, "chat_session.created", types[0], "opened once")

	builds := make([]uuid.UUID, 8)
	for i := range builds {
		wg.Go(func() {
			var err error
			builds[i], _, err = m.RecordVertexBuild(ctx, eventstore.Metadata{OccurredAt: time.Now()},
				domain.VertexBuildRecorded{FlowID: flow, VertexID: fmt.Sprintf("v-%d", i), Valid: true})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	head, err := m.Store.ReadStream(ctx, domain.FlowBuildsStream(flow), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Len(t, head, len(builds))
}

// fakeMonitor is the read side of the monitor's writes: one owner sees
// the flows he owns (others get 404) and the messages and sessions the
// test lists.
type fakeMonitor struct {
	m        *commands.Messages
	mu       sync.Mutex
	messages map[int64]commands.MonitorRow
	sessions map[string][]commands.MonitorRow
}

func (f *fakeMonitor) VisibleFlow(ctx context.Context, caller auth.Principal, flow uuid.UUID) error {
	mf, err := f.m.Flow(ctx, flow)
	if err != nil || mf.OwnerID != caller.UserID {
		return domain.NotFoundf("Flow not found")
	}
	return nil
}

func (f *fakeMonitor) VisibleMessages(_ context.Context, _ auth.Principal, ids []int64) ([]commands.MonitorRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []commands.MonitorRow
	for _, id := range ids {
		if r, ok := f.messages[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeMonitor) VisibleSessions(_ context.Context, _ auth.Principal, session string) ([]commands.MonitorRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[session], nil
}

// The monitor's writes check what the caller may see before writing: a
// flow the caller may not see is 404 (open a session, delete builds), a
// message or session not visible is 404 (change, rename) or nothing to
// delete; an empty given session id is 422; a change's properties are
// marshalled into the message. Refusals append nothing.
func TestMonitorHandler_InMemoryVisibility(t *testing.T) {
	t.Parallel()
	m, store := memMessages(t)
	reads := &fakeMonitor{m: m, messages: map[int64]commands.MonitorRow{}, sessions: map[string][]commands.MonitorRow{}}
	h := &commands.MonitorHandler{Messages: m, Reads: reads}
	ctx := context.Background()
	owner, stranger := auth.Principal{UserID: 1}, auth.Principal{UserID: 2}
	flow := seedFlow(t, m.Repo, owner.UserID, "chat", domain.FlowPlacement{}, false)
	_, _, err := m.RecordVertexBuild(ctx, eventstore.Metadata{}, domain.VertexBuildRecorded{FlowID: flow, VertexID: ""})
	assert.ErrorIs(t, err, domain.ErrInvalid, "a build names its vertex")
	build, _, err := m.RecordVertexBuild(ctx, eventstore.Metadata{}, domain.VertexBuildRecorded{FlowID: flow, VertexID: "v"})
	require.NoError(t, err)
	before := logLen(t, store)

	_, err = h.OpenSession(ctx, commands.OpenMessageSession{Caller: stranger, FlowID: flow, SessionID: ptr("s")})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = h.OpenSession(ctx, commands.OpenMessageSession{Caller: owner, FlowID: flow, SessionID: ptr("")})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = h.DeleteBuilds(ctx, commands.DeleteFlowBuilds{Caller: stranger, FlowID: flow})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = h.ChangeMessage(ctx, commands.ChangeMessage{Caller: owner, ID: 42, Change: domain.MessageChange{Text: ptr("x")}})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.EqualError(t, err, "Message not found")
	_, err = h.RenameSession(ctx, commands.RenameMessageSession{Caller: owner, SessionID: "s", Name: "n"})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	gone, err := h.DeleteSession(ctx, commands.DeleteMessageSession{Caller: owner, SessionID: "s"})
	require.NoError(t, err)
	assert.Empty(t, gone.IDs)
	assert.Equal(t, before, logLen(t, store), "refusals and invisible targets wrote nothing")

	opened, err := h.OpenSession(ctx, commands.OpenMessageSession{Caller: owner, FlowID: flow, SessionID: ptr("s"), SessionName: ptr("Room")})
	require.NoError(t, err)
	s := loadSession(t, m, flow, "s")
	assert.Equal(t, opened.Stream, s.StreamID())
	assert.Equal(t, "Room", s.Name())
	assert.Equal(t, owner.UserID, s.Info().UserID)

	r := say(t, m, owner.UserID, flow, "s", "hi")
	key := commands.SessionKey{FlowID: &flow, SessionID: "s"}
	reads.mu.Lock()
	reads.messages[r.ID] = commands.MonitorRow{MessageKey: commands.MessageKey{SessionKey: key, ID: r.ID}, Stream: r.Stream}
	reads.sessions["s"] = []commands.MonitorRow{{MessageKey: commands.MessageKey{SessionKey: key}, Stream: r.Stream}}
	reads.mu.Unlock()
	_, err = h.ChangeMessage(ctx, commands.ChangeMessage{Caller: owner, ID: r.ID, Properties: map[string]any{"state": "complete"}})
	require.NoError(t, err)
	msg := domain.LoadChatMessage(&flow, "s", r.ID)
	require.NoError(t, m.Repo.Load(ctx, msg))
	fields, _ := msg.Fields()
	assert.JSONEq(t, `{"state":"complete"}`, string(fields.Properties))
	renamed, err := h.RenameSession(ctx, commands.RenameMessageSession{Caller: owner, SessionID: "s", Name: "Renamed"})
	require.NoError(t, err)
	assert.Equal(t, []string{r.Stream}, renamed.Streams)
	assert.Equal(t, "Renamed", loadSession(t, m, flow, "s").Name())
	gone, err = h.DeleteSession(ctx, commands.DeleteMessageSession{Caller: owner, SessionID: "s"})
	require.NoError(t, err)
	assert.Equal(t, []int64{r.ID}, gone.IDs)

	builds, err := h.DeleteBuilds(ctx, commands.DeleteFlowBuilds{Caller: owner, FlowID: flow})
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{build}, builds.IDs)
}
