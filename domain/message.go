package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxSessionIDLength bounds session ids and session names.
const MaxSessionIDLength = 255

// ChatSessionStream names the stream of a chat session: the flow's id
// ("none" without a flow) and a hash of the session id, so that any
// session id a client chooses makes a short and safe stream id.
func ChatSessionStream(flow *uuid.UUID, sessionID string) string {
	f := "none"
	if flow != nil {
		f = flow.String()
	}
	sum := sha256.Sum256([]byte(sessionID))
	return "session-" + f + "-" + hex.EncodeToString(sum[:12])
}

// ValidSessionID checks a session id or name: not blank, at most
// MaxSessionIDLength bytes, valid UTF-8 without NUL bytes.
func ValidSessionID(what, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return Invalidf("%s must not be empty", what)
	case len(v) > MaxSessionIDLength:
		return Invalidf("%s is longer than %d bytes", what, MaxSessionIDLength)
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return Invalidf("%s is not valid text", what)
	}
	return nil
}

// ChatSession is one chat session of a flow (stream ChatSessionStream):
// its messages are events of the session, so a session's writes are
// checked against the session's own state, one revision at a time.
//
// A session belongs to the flow's owner (who reads it on the monitor) and
// is held by one user (who chats in it: the owner in the playground, or a
// visitor of a public flow); nobody else records messages into it.
type ChatSession struct {
	root     Root
	stream   string
	open     bool
	created  ChatSessionCreated
	name     string
	order    []int64
	messages map[int64]MessageFields
}

// LoadChatSession returns an empty session to fold the stream of (flow,
// sessionID) into.
func LoadChatSession(flow *uuid.UUID, sessionID string) *ChatSession {
	return &ChatSession{stream: ChatSessionStream(flow, sessionID)}
}

// StreamID implements commands.Aggregate.
func (s *ChatSession) StreamID() string { return s.stream }

// Root implements commands.Aggregate.
func (s *ChatSession) Root() *Root { return &s.root }

// Open tells whether the session exists (created and not deleted).
func (s *ChatSession) Open() bool { return s.open }

// Info is the session's creation record (id, flow, owner, user, placement).
func (s *ChatSession) Info() ChatSessionCreated { return s.created }

// Name is the session's name.
func (s *ChatSession) Name() string { return s.name }

// MessageIDs lists the session's messages in the order they were added.
func (s *ChatSession) MessageIDs() []int64 { return slices.Clone(s.order) }

// Message returns message id of the session.
func (s *ChatSession) Message(id int64) (MessageFields, bool) {
	m, ok := s.messages[id]
	return m, ok
}

// Create opens the session as c says (a deleted session may be opened
// again). An open session is a conflict.
func (s *ChatSession) Create(c ChatSessionCreated) error {
	if s.open {
		return Conflictf("Message session %q already exists", c.SessionID)
	}
	if err := ValidSessionID("session_id", c.SessionID); err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = c.SessionID
	}
	if err := ValidSessionID("session_name", c.Name); err != nil {
		return err
	}
	s.record(c)
	return nil
}

// Add records message id; the session must be open.
func (s *ChatSession) Add(id int64, f MessageFields) error {
	if !s.open {
		return NotFoundf("Message session not found")
	}
	if _, dup := s.messages[id]; dup {
		return Conflictf("Message %d already exists", id)
	}
	if f.Category == "" {
		f.Category = "message"
	}
	if err := validJSONDoc("properties", f.Properties, '{'); err != nil {
		return err
	}
	if err := validJSONDoc("content_blocks", f.ContentBlocks, '['); err != nil {
		return err
	}
	s.record(MessageAdded{MessageID: id, Fields: f})
	return nil
}

// MessageChange holds the fields of a message to set; nil leaves one as
// it is (Langflow's update: unset and null fields are ignored).
type MessageChange struct {
	Text, Sender, SenderName          *string
	Files                             *[]string
	Error, Edit                       *bool
	Properties                        json.RawMessage
	ContextID, IPAddress, FlowVersion *string
	StartTime, EndTime                *time.Time
}

// Update records the fields of ch that differ from message id's, in one
// event; as Langflow does, a new text marks the message edited. It
// returns false when nothing changed (no event).
func (s *ChatSession) Update(id int64, ch MessageChange) (bool, error) {
	cur, ok := s.messages[id]
	if !s.open || !ok {
		return false, NotFoundf("Message not found")
	}
	if err := validJSONDoc("properties", ch.Properties, '{'); err != nil {
		return false, err
	}
	e := MessageUpdated{MessageID: id}
	changed := false
	str := func(dst **string, v *string, was string) {
		if v != nil && *v != was {
			*dst, changed = v, true
		}
	}
	opt := func(dst **string, v *string, was *string) {
		if v != nil && (was == nil || *v != *was) {
			*dst, changed = v, true
		}
	}
	flag := func(dst **bool, v *bool, was bool) {
		if v != nil && *v != was {
			*dst, changed = v, true
		}
	}
	at := func(dst **time.Time, v *time.Time, was *time.Time) {
		if v != nil && (was == nil || !v.Equal(*was)) {
			*dst, changed = v, true
		}
	}
	str(&e.Text, ch.Text, cur.Text)
	edit := ch.Edit
	if e.Text != nil {
		edit = new(true)
	}
	str(&e.Sender, ch.Sender, cur.Sender)
	str(&e.SenderName, ch.SenderName, cur.SenderName)
	if ch.Files != nil && !slices.Equal(*ch.Files, cur.Files) {
		e.Files, changed = ch.Files, true
	}
	flag(&e.Error, ch.Error, cur.Error)
	flag(&e.Edit, edit, cur.Edit)
	if ch.Properties != nil && !JSONEqual(ch.Properties, cur.Properties) {
		e.Properties, changed = ch.Properties, true
	}
	opt(&e.ContextID, ch.ContextID, cur.ContextID)
	opt(&e.IPAddress, ch.IPAddress, cur.IPAddress)
	opt(&e.FlowVersion, ch.FlowVersion, cur.FlowVersion)
	at(&e.StartTime, ch.StartTime, cur.StartTime)
	at(&e.EndTime, ch.EndTime, cur.EndTime)
	if !changed {
		return false, nil
	}
	s.record(e)
	return true, nil
}

// Remove records the deletion of those of ids that are messages of the
// session and returns them (nothing recorded when none is).
func (s *ChatSession) Remove(ids []int64) []int64 {
	var gone []int64
	for _, id := range ids {
		if _, ok := s.messages[id]; ok && !slices.Contains(gone, id) {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 && s.open {
		s.record(MessagesDeleted{MessageIDs: gone})
	}
	return gone
}

// Rename records a new name; the same name records nothing.
func (s *ChatSession) Rename(name string) error {
	if !s.open {
		return NotFoundf("Message session not found")
	}
	if err := ValidSessionID("new_session_name", name); err != nil {
		return err
	}
	if name != s.name {
		s.record(ChatSessionRenamed{Name: name})
	}
	return nil
}

// Delete records the removal of the session with its messages and
// returns their ids.
func (s *ChatSession) Delete() ([]int64, error) {
	if !s.open {
		return nil, NotFoundf("Message session not found")
	}
	ids := s.MessageIDs()
	if ids == nil {
		ids = []int64{}
	}
	s.record(ChatSessionDeleted{MessageIDs: ids})
	return ids, nil
}

func (s *ChatSession) record(e Event) {
	s.Apply(e)
	s.root.Record(e)
}

// Apply implements commands.Aggregate.
func (s *ChatSession) Apply(e Event) {
	switch e := e.(type) {
	case ChatSessionCreated:
		s.open, s.created, s.name = true, e, e.Name
		s.order, s.messages = nil, map[int64]MessageFields{}
	case ChatSessionRenamed:
		s.name = e.Name
	case ChatSessionDeleted:
		s.open, s.order, s.messages = false, nil, nil
	case MessageAdded:
		s.order = append(s.order, e.MessageID)
		s.messages[e.MessageID] = e.Fields
	case MessageUpdated:
		m, ok := s.messages[e.MessageID]
		if !ok {
			return
		}
		setS := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		setB := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		setS(&m.Text, e.Text)
		setS(&m.Sender, e.Sender)
		setS(&m.SenderName, e.SenderName)
		if e.Files != nil {
			m.Files = *e.Files
		}
		setB(&m.Error, e.Error)
		setB(&m.Edit, e.Edit)
		if e.Properties != nil {
			m.Properties = e.Properties
		}
		if e.ContextID != nil {
			m.ContextID = e.ContextID
		}
		if e.IPAddress != nil {
			m.IPAddress = e.IPAddress
		}
		if e.FlowVersion != nil {
			m.FlowVersion = e.FlowVersion
		}
		if e.StartTime != nil {
			m.StartTime = e.StartTime
		}
		if e.EndTime != nil {
			m.EndTime = e.EndTime
		}
		s.messages[e.MessageID] = m
	case MessagesDeleted:
		for _, id := range e.MessageIDs {
			delete(s.messages, id)
		}
		s.order = slices.DeleteFunc(s.order, func(id int64) bool { return slices.Contains(e.MessageIDs, id) })
	}
}

// validJSONDoc checks that raw, when given, is a JSON object (open '{') or
// array (open '[').
func validJSONDoc(field string, raw json.RawMessage, open byte) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if !json.Valid(raw) || strings.TrimSpace(string(raw))[0] != open {
		kind := "an object"
		if open == '[' {
			kind = "a list"
		}
		return Invalidf("%s must be %s", field, kind)
	}
	return nil
}

// FlowBuilds is the vertex builds of a flow (stream FlowBuildsStream):
// builds are recorded without reading the stream; deleting folds it to
// know which builds exist.
type FlowBuilds struct {
	root   Root
	flow   uuid.UUID
	builds []uuid.UUID
}

// FlowBuildsStream names the stream of flow's vertex builds.
func FlowBuildsStream(flow uuid.UUID) string { return "vertex_builds-" + flow.String() }

// FlowTransactionsStream names the stream of flow's transactions.
func FlowTransactionsStream(flow uuid.UUID) string { return "transactions-" + flow.String() }

// LoadFlowBuilds returns an empty FlowBuilds to fold flow's stream into.
func LoadFlowBuilds(flow uuid.UUID) *FlowBuilds { return &FlowBuilds{flow: flow} }

// StreamID implements commands.Aggregate.
func (b *FlowBuilds) StreamID() string { return FlowBuildsStream(b.flow) }

// Root implements commands.Aggregate.
func (b *FlowBuilds) Root() *Root { return &b.root }

// DeleteAll records the removal of every build and returns their ids
// (nothing recorded when there is none).
func (b *FlowBuilds) DeleteAll() []uuid.UUID {
	ids := slices.Clone(b.builds)
	if len(ids) > 0 {
		b.record(VertexBuildsDeleted{FlowID: b.flow, BuildIDs: ids})
	}
	return ids
}

func (b *FlowBuilds) record(e Event) {
	b.Apply(e)
	b.root.Record(e)
}

// Apply implements commands.Aggregate.
func (b *FlowBuilds) Apply(e Event) {
	switch e := e.(type) {
	case VertexBuildRecorded:
		b.builds = append(b.builds, e.BuildID)
	case VertexBuildsDeleted:
		b.builds = slices.DeleteFunc(b.builds, func(id uuid.UUID) bool { return slices.Contains(e.BuildIDs, id) })
	}
}
