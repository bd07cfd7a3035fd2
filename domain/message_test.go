package domain_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

var csT0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// csRoundTrip passes e through JSON, as the event store does.
func csRoundTrip(t *testing.T, e domain.Event) domain.Event {
	t.Helper()
	raw, err := json.Marshal(e)
	require.NoError(t, err)
	p := reflect.New(reflect.TypeOf(e))
	require.NoError(t, json.Unmarshal(raw, p.Interface()))
	return p.Elem().Interface().(domain.Event)
}

// csFold folds events (through JSON) into a fresh session of flow/session.
func csFold(t *testing.T, flow *uuid.UUID, events []domain.Event) *domain.ChatSession {
	t.Helper()
	s := domain.LoadChatSession(flow, "chat")
	for i, e := range events {
		s.Apply(csRoundTrip(t, e))
		s.Root().Replayed(uint64(i))
	}
	return s
}

// csRestore restores a session from the snapshot of s, as the repository
// does, and applies later (through JSON) on top of it.
func csRestore(t *testing.T, flow *uuid.UUID, s *domain.ChatSession, later ...domain.Event) *domain.ChatSession {
	t.Helper()
	state, err := s.Snapshot()
	require.NoError(t, err)
	r := domain.LoadChatSession(flow, "chat")
	require.NoError(t, r.Restore(state))
	for _, e := range later {
		r.Apply(csRoundTrip(t, e))
	}
	return r
}

// csHistory records a session with messages of every shape, some updated,
// some deleted, and returns the events recorded.
func csHistory(t *testing.T, flow *uuid.UUID) []domain.Event {
	t.Helper()
	s := domain.LoadChatSession(flow, "chat")
	require.NoError(t, s.Create(domain.ChatSessionCreated{ID: 9, FlowID: flow, SessionID: "chat", OwnerID: 1, UserID: 2, BusinessID: 3}))
	ctx, ip := "ctx-1", "10.0.0.1"
	start := csT0.Add(time.Second)
	require.NoError(t, s.Add(101, domain.MessageFields{Sender: "User", SenderName: "User", Text: "hello", Timestamp: csT0}))
	require.NoError(t, s.Add(102, domain.MessageFields{Sender: "Machine", SenderName: "AI", Text: strings.Repeat("long answer ", 500),
		Files: []string{"a.png", "b.txt"}, Properties: json.RawMessage(`{"state": "complete", "targets": []}`),
		ContentBlocks: json.RawMessage(`[{"title":"t"}]`), ContextID: &ctx, IPAddress: &ip, StartTime: &start, Timestamp: csT0}))
	require.NoError(t, s.Add(103, domain.MessageFields{Sender: "User", SenderName: "User", Text: "", Files: []string{}, Error: true,
		Timestamp: csT0}))
	require.NoError(t, s.Add(104, domain.MessageFields{Sender: "User", SenderName: "User", Text: "to delete", Timestamp: csT0}))
	changed, err := s.Update(101, domain.MessageChange{Text: new("hello again"), FlowVersion: new("v2")})
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, []int64{104}, s.Remove([]int64{104, 999}))
	require.NoError(t, s.Rename("Renamed"))
	return s.Root().Pending()
}

// csDecisions are the session's decisions, each on its own copy: what it
// answers and which events it records must not depend on whether the
// session was folded from its stream or restored from a snapshot.
var csDecisions = map[string]func(s *domain.ChatSession) (any, error){
	"create again": func(s *domain.ChatSession) (any, error) {
		return nil, s.Create(domain.ChatSessionCreated{SessionID: "chat", UserID: 2})
	},
	"add new":  func(s *domain.ChatSession) (any, error) { return nil, s.Add(105, domain.MessageFields{Text: "x"}) },
	"add dup":  func(s *domain.ChatSession) (any, error) { return nil, s.Add(102, domain.MessageFields{Text: "x"}) },
	"add gone": func(s *domain.ChatSession) (any, error) { return nil, s.Add(104, domain.MessageFields{Text: "x"}) },
	"same text": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Text: new(strings.Repeat("long answer ", 500))})
	},
	"new text": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Text: new(strings.Repeat("long answer ", 499))})
	},
	"updated text again": func(s *domain.ChatSession) (any, error) {
		return s.Update(101, domain.MessageChange{Text: new("hello again"), FlowVersion: new("v2")})
	},
	"same content blocks": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{ContentBlocks: json.RawMessage(`[ {"title": "t"} ]`)})
	},
	"new content blocks": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{ContentBlocks: json.RawMessage(`[{"title":"Agent Steps","contents":[]}]`)})
	},
	"content blocks not a list": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{ContentBlocks: json.RawMessage(`{"title":"t"}`)})
	},
	"old text back": func(s *domain.ChatSession) (any, error) {
		return s.Update(101, domain.MessageChange{Text: new("hello")})
	},
	"empty text": func(s *domain.ChatSession) (any, error) {
		return s.Update(103, domain.MessageChange{Text: new("")})
	},
	"same everything": func(s *domain.ChatSession) (any, error) {
		start := csT0.Add(time.Second).In(time.FixedZone("x", 3600))
		return s.Update(102, domain.MessageChange{Sender: new("Machine"), SenderName: new("AI"), Files: &[]string{"a.png", "b.txt"},
			Error: new(false), Edit: new(false), Properties: json.RawMessage(`{"targets":[],"state":"complete"}`),
			ContextID: new("ctx-1"), IPAddress: new("10.0.0.1"), StartTime: &start})
	},
	"properties reordered": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Properties: json.RawMessage(`{"targets": [], "state": "complete"}`)})
	},
	"properties same, other spacing": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Properties: json.RawMessage(`{ "state":"complete","targets":[ ] }`)})
	},
	"properties on none": func(s *domain.ChatSession) (any, error) {
		return s.Update(101, domain.MessageChange{Properties: json.RawMessage(`{}`)})
	},
	"files order": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Files: &[]string{"b.txt", "a.png"}})
	},
	"files split differently": func(s *domain.ChatSession) (any, error) {
		return s.Update(102, domain.MessageChange{Files: &[]string{"a.pngb.txt"}})
	},
	"no files, nil and empty": func(s *domain.ChatSession) (any, error) {
		a, err := s.Update(103, domain.MessageChange{Files: &[]string{}})
		b, err2 := s.Update(101, domain.MessageChange{Files: new([]string(nil))})
		return []bool{a, b}, errJoin(err, err2)
	},
	"one empty file": func(s *domain.ChatSession) (any, error) {
		return s.Update(103, domain.MessageChange{Files: &[]string{""}})
	},
	"flags and optionals": func(s *domain.ChatSession) (any, error) {
		end := csT0.Add(time.Minute)
		return s.Update(103, domain.MessageChange{Error: new(false), Edit: new(true), ContextID: new("c"), EndTime: &end,
			StartTime: new(csT0)})
	},
	"optional same as set": func(s *domain.ChatSession) (any, error) {
		return s.Update(101, domain.MessageChange{FlowVersion: new("v2"), IPAddress: new("")})
	},
	"update gone": func(s *domain.ChatSession) (any, error) {
		return s.Update(104, domain.MessageChange{Text: new("x")})
	},
	"bad properties": func(s *domain.ChatSession) (any, error) {
		return s.Update(101, domain.MessageChange{Properties: json.RawMessage(`[1]`)})
	},
	"remove":           func(s *domain.ChatSession) (any, error) { return s.Remove([]int64{103, 104, 101, 103}), nil },
	"rename same":      func(s *domain.ChatSession) (any, error) { return nil, s.Rename("Renamed") },
	"rename":           func(s *domain.ChatSession) (any, error) { return nil, s.Rename("Other") },
	"delete":           func(s *domain.ChatSession) (any, error) { return s.Delete() },
	"ids and has":      func(s *domain.ChatSession) (any, error) { return []any{s.MessageIDs(), s.HasMessage(104)}, nil },
	"info, name, open": func(s *domain.ChatSession) (any, error) { return []any{s.Info(), s.Name(), s.Open()}, nil },
}

func errJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// csSame runs every decision on a copy made by folded() and by restored()
// and requires the same answers and the same events.
func csSame(t *testing.T, folded, restored func() *domain.ChatSession) {
	t.Helper()
	for name, decide := range csDecisions {
		f, r := folded(), restored()
		fv, ferr := decide(f)
		rv, rerr := decide(r)
		assert.Equal(t, fv, rv, name)
		assert.Equal(t, ferr, rerr, name)
		assert.Equal(t, f.Root().Pending(), r.Root().Pending(), name)
		fs, err := f.Snapshot()
		require.NoError(t, err)
		rs, err := r.Snapshot()
		require.NoError(t, err)
		assert.Equal(t, fs, rs, name)
	}
}

func TestChatSession_SnapshotRestoreGivesSameDecisions(t *testing.T) {
	flow := uuid.New()
	events := csHistory(t, &flow)
	folded := func() *domain.ChatSession { return csFold(t, &flow, events) }
	csSame(t, folded, func() *domain.ChatSession { return csRestore(t, &flow, folded()) })

	// The repository restores a snapshot and folds the events after it.
	for cut := 1; cut < len(events); cut++ {
		csSame(t, folded, func() *domain.ChatSession {
			return csRestore(t, &flow, csFold(t, &flow, events[:cut]), events[cut:]...)
		})
	}

	// The decisions themselves (so that "the same" means something).
	s := folded()
	changed, err := s.Update(102, domain.MessageChange{Text: new(strings.Repeat("long answer ", 500)),
		Properties: json.RawMessage(`{"state":"complete","targets":[ ]}`), Files: &[]string{"a.png", "b.txt"}})
	require.NoError(t, err)
	assert.False(t, changed, "same text, properties and files: nothing to record")
	s = csRestore(t, &flow, folded())
	changed, err = s.Update(102, domain.MessageChange{Text: new("short")})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, []domain.Event{domain.MessageUpdated{MessageID: 102, Text: new("short"), Edit: new(true)}}, s.Root().Pending(),
		"a new text marks the message edited")
	assert.Equal(t, []int64{101, 102, 103}, s.MessageIDs())
	var conflict *domain.Error
	require.ErrorAs(t, csRestore(t, &flow, folded()).Add(102, domain.MessageFields{}), &conflict)
	assert.Equal(t, domain.ErrConflict, conflict.Kind)
}

func TestChatSession_SnapshotOfDeletedAndEmptySessions(t *testing.T) {
	flow := uuid.New()
	events := csHistory(t, &flow)
	deleted := csFold(t, &flow, events)
	_, err := deleted.Delete()
	require.NoError(t, err)
	events = append(events, deleted.Root().Pending()...)
	folded := func() *domain.ChatSession { return csFold(t, &flow, events) }
	csSame(t, folded, func() *domain.ChatSession { return csRestore(t, &flow, folded()) })
	r := csRestore(t, &flow, folded())
	assert.False(t, r.Open())
	assert.Empty(t, r.MessageIDs())
	require.NoError(t, r.Create(domain.ChatSessionCreated{SessionID: "chat", UserID: 2}), "a deleted session opens again")

	// A session without messages, and one without a flow.
	s := domain.LoadChatSession(nil, "chat")
	require.NoError(t, s.Create(domain.ChatSessionCreated{SessionID: "chat", UserID: 2}))
	r = csRestore(t, nil, s)
	assert.True(t, r.Open())
	assert.Equal(t, "chat", r.Name())
	require.NoError(t, r.Add(1, domain.MessageFields{Text: "first"}))
	assert.Equal(t, []int64{1}, r.MessageIDs())

	// A damaged snapshot is an error, never a panic nor a partial session.
	state, err := csFold(t, &flow, events[:len(events)-1]).Snapshot()
	require.NoError(t, err)
	for cut := range len(state) {
		bad := domain.LoadChatSession(&flow, "chat")
		assert.Error(t, bad.Restore(state[:cut]), "cut at %d", cut)
		assert.False(t, bad.Open())
	}
	assert.Error(t, domain.LoadChatSession(&flow, "chat").Restore(append(state, 0)), "trailing bytes")
	assert.Error(t, domain.LoadChatSession(&flow, "chat").Restore([]byte(`{"open":true}`)))
}

// A session keeps no message text, files or properties, so its snapshot
// grows by a few dozen bytes a message, whatever the messages say.
func TestChatSession_SnapshotIsCompact(t *testing.T) {
	s := domain.LoadChatSession(nil, "chat")
	require.NoError(t, s.Create(domain.ChatSessionCreated{SessionID: "chat", UserID: 2}))
	text := strings.Repeat("a long answer of the model ", 400) // ~11 KB
	props := json.RawMessage(`{"source":{"id":"ChatOutput-x","display_name":"Chat Output"},"state":"complete","targets":[]}`)
	const n = 1000
	for i := range n {
		require.NoError(t, s.Add(int64(i+1), domain.MessageFields{Sender: "Machine", SenderName: "AI", Text: text, Properties: props,
			Files: []string{"report.pdf"}, Timestamp: csT0}))
	}
	state, err := s.Snapshot()
	require.NoError(t, err)
	assert.Less(t, len(state), n*150, "bytes a message")
	assert.NotContains(t, string(state), "a long answer")
	assert.NotContains(t, string(state), "report.pdf")
	assert.NotContains(t, string(state), "ChatOutput-x")
	r := domain.LoadChatSession(nil, "chat")
	require.NoError(t, r.Restore(state))
	changed, err := r.Update(n, domain.MessageChange{Text: &text, Properties: props, Files: &[]string{"report.pdf"}})
	require.NoError(t, err)
	assert.False(t, changed)
	changed, err = r.Update(n, domain.MessageChange{Text: new(text + ".")})
	require.NoError(t, err)
	assert.True(t, changed)
}

// ChatMessage folds a whole message back from the stream (with changes
// not saved yet), which a move to another session needs.
func TestChatMessage_FoldsTheWholeMessage(t *testing.T) {
	flow := uuid.New()
	events := csHistory(t, &flow)
	fold := func(id int64, evs []domain.Event) (domain.MessageFields, bool) {
		m := domain.LoadChatMessage(&flow, "chat", id)
		assert.Equal(t, domain.ChatSessionStream(&flow, "chat"), m.StreamID())
		for _, e := range evs {
			m.Apply(csRoundTrip(t, e))
		}
		return m.Fields()
	}
	f, ok := fold(102, events)
	require.True(t, ok)
	assert.Equal(t, strings.Repeat("long answer ", 500), f.Text)
	assert.Equal(t, []string{"a.png", "b.txt"}, f.Files)
	assert.JSONEq(t, `{"state":"complete","targets":[]}`, string(f.Properties))
	assert.JSONEq(t, `[{"title":"t"}]`, string(f.ContentBlocks))
	assert.Equal(t, "message", f.Category, "Add's default category")
	assert.Equal(t, "ctx-1", *f.ContextID)

	f, ok = fold(101, events)
	require.True(t, ok)
	assert.Equal(t, "hello again", f.Text)
	assert.True(t, f.Edit)
	assert.Equal(t, "v2", *f.FlowVersion)

	s := csFold(t, &flow, events)
	_, err := s.Update(101, domain.MessageChange{Text: new("moved"), Files: &[]string{"c"}})
	require.NoError(t, err)
	f, ok = fold(101, append(events, s.Root().Pending()...))
	require.True(t, ok)
	assert.Equal(t, "moved", f.Text)
	assert.Equal(t, []string{"c"}, f.Files)

	_, ok = fold(104, events)
	assert.False(t, ok, "deleted")
	_, ok = fold(7, events)
	assert.False(t, ok, "never there")
	del := csFold(t, &flow, events)
	_, err = del.Delete()
	require.NoError(t, err)
	_, ok = fold(101, append(events, del.Root().Pending()...))
	assert.False(t, ok, "session deleted")
}
