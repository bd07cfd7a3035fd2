package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
//
// The session keeps of each message only what its decisions need (which
// messages exist, in order, and what Update compares a change with: the
// short fields as they are, the text, files and properties as digests),
// so that its snapshot stays small however long the chat grows. The whole
// message is in the stream (ChatMessage folds it).
type ChatSession struct {
	root     Root
	stream   string
	open     bool
	created  ChatSessionCreated
	name     string
	order    []int64
	messages map[int64]*messageState
}

// messageState is what a session keeps of a message: the fields Update
// compares a change with, the text, files and properties as digests (a
// zero digest: empty).
type messageState struct {
	ID                   int64
	Sender, SenderName   string
	Text, Files, Props   digest
	Blocks               digest // content_blocks
	Error, Edit          bool
	ContextID, IPAddress *string
	FlowVersion          *string
	StartTime, EndTime   *time.Time
}

func stateOf(id int64, f MessageFields) *messageState {
	return &messageState{ID: id, Sender: f.Sender, SenderName: f.SenderName, Text: textDigest(f.Text),
		Files: filesDigest(f.Files), Props: jsonDigest(f.Properties), Blocks: jsonDigest(f.ContentBlocks), Error: f.Error, Edit: f.Edit,
		ContextID: f.ContextID, IPAddress: f.IPAddress, FlowVersion: f.FlowVersion, StartTime: f.StartTime,
		EndTime: f.EndTime}
}

// digest is a short fingerprint of a value (128 bits of the SHA-256 of its
// bytes), zero for no bytes: two values have the same digest exactly when
// they are equal (but for a collision nobody can find).
type digest [16]byte

func digestOf(b []byte) digest {
	if len(b) == 0 {
		return digest{}
	}
	sum := sha256.Sum256(b)
	return digest(sum[:16])
}

func textDigest(s string) digest { return digestOf([]byte(s)) }

// filesDigest fingerprints a list of files, each length-prefixed (no two
// lists share an encoding); no files (nil or empty) is zero.
func filesDigest(files []string) digest {
	var b []byte
	for _, f := range files {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return digestOf(b)
}

// jsonDigest fingerprints a JSON document as JSONEqual compares them
// (whitespace aside); an absent one is zero.
func jsonDigest(raw json.RawMessage) digest { return digestOf(compactJSON(raw)) }

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

// HasMessage tells whether message id is in the session. Its fields are in
// the stream, not in the session: ChatMessage folds them.
func (s *ChatSession) HasMessage(id int64) bool {
	_, ok := s.messages[id]
	return ok
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
	record(s, c)
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
	record(s, MessageAdded{MessageID: id, Fields: f})
	return nil
}

// MessageChange holds the fields of a message to set; nil leaves one as
// it is (Langflow's update: unset and null fields are ignored).
type MessageChange struct {
	Text, Sender, SenderName *string
	Files                    *[]string
	Error, Edit              *bool
	Properties               json.RawMessage
	// ContentBlocks replace the message's (an agent's steps as they
	// complete).
	ContentBlocks                     json.RawMessage
	ContextID, IPAddress, FlowVersion *string
	StartTime, EndTime                *time.Time
	// Completes is a change by the flow that sent the message (a streamed
	// answer's whole text): a new text does not mark it edited.
	Completes bool
}

// Update records the fields of ch that differ from message id's, in one
// event; as Langflow does, a new text marks the message edited (unless
// ch Completes it). It returns false when nothing changed (no event).
func (s *ChatSession) Update(id int64, ch MessageChange) (bool, error) {
	cur, ok := s.messages[id]
	if !s.open || !ok {
		return false, NotFoundf("Message not found")
	}
	if err := validJSONDoc("properties", ch.Properties, '{'); err != nil {
		return false, err
	}
	if err := validJSONDoc("content_blocks", ch.ContentBlocks, '['); err != nil {
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
	if ch.Text != nil && textDigest(*ch.Text) != cur.Text {
		e.Text, changed = ch.Text, true
	}
	edit := ch.Edit
	if e.Text != nil && !ch.Completes {
		edit = new(true)
	}
	str(&e.Sender, ch.Sender, cur.Sender)
	str(&e.SenderName, ch.SenderName, cur.SenderName)
	if ch.Files != nil && filesDigest(*ch.Files) != cur.Files {
		e.Files, changed = ch.Files, true
	}
	flag(&e.Error, ch.Error, cur.Error)
	flag(&e.Edit, edit, cur.Edit)
	if ch.Properties != nil && jsonDigest(ch.Properties) != cur.Props {
		e.Properties, changed = ch.Properties, true
	}
	if ch.ContentBlocks != nil && jsonDigest(ch.ContentBlocks) != cur.Blocks {
		e.ContentBlocks, changed = ch.ContentBlocks, true
	}
	opt(&e.ContextID, ch.ContextID, cur.ContextID)
	opt(&e.IPAddress, ch.IPAddress, cur.IPAddress)
	opt(&e.FlowVersion, ch.FlowVersion, cur.FlowVersion)
	at(&e.StartTime, ch.StartTime, cur.StartTime)
	at(&e.EndTime, ch.EndTime, cur.EndTime)
	if !changed {
		return false, nil
	}
	record(s, e)
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
		record(s, MessagesDeleted{MessageIDs: gone})
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
		record(s, ChatSessionRenamed{Name: name})
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
	record(s, ChatSessionDeleted{MessageIDs: ids})
	return ids, nil
}

// Apply implements commands.Aggregate.
func (s *ChatSession) Apply(e Event) {
	switch e := e.(type) {
	case ChatSessionCreated:
		s.open, s.created, s.name = true, e, e.Name
		s.order, s.messages = nil, map[int64]*messageState{}
	case ChatSessionRenamed:
		s.name = e.Name
	case ChatSessionDeleted:
		s.open, s.order, s.messages = false, nil, nil
	case MessageAdded:
		if s.messages == nil {
			return
		}
		if _, dup := s.messages[e.MessageID]; !dup {
			s.order = append(s.order, e.MessageID)
		}
		s.messages[e.MessageID] = stateOf(e.MessageID, e.Fields)
	case MessageUpdated:
		m, ok := s.messages[e.MessageID]
		if !ok {
			return
		}
		setS(&m.Sender, e.Sender)
		setS(&m.SenderName, e.SenderName)
		if e.Text != nil {
			m.Text = textDigest(*e.Text)
		}
		if e.Files != nil {
			m.Files = filesDigest(*e.Files)
		}
		setB(&m.Error, e.Error)
		setB(&m.Edit, e.Edit)
		if e.Properties != nil {
			m.Props = jsonDigest(e.Properties)
		}
		if e.ContentBlocks != nil {
			m.Blocks = jsonDigest(e.ContentBlocks)
		}
		setP(&m.ContextID, e.ContextID)
		setP(&m.IPAddress, e.IPAddress)
		setP(&m.FlowVersion, e.FlowVersion)
		setP(&m.StartTime, e.StartTime)
		setP(&m.EndTime, e.EndTime)
	case MessagesDeleted:
		for _, id := range e.MessageIDs {
			delete(s.messages, id)
		}
		s.order = slices.DeleteFunc(s.order, func(id int64) bool { return slices.Contains(e.MessageIDs, id) })
	}
}

func setS(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setB(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setP[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// chatSessionHeader is the part of a ChatSession's snapshot that is not
// its messages.
type chatSessionHeader struct {
	Open    bool               `json:"open"`
	Created ChatSessionCreated `json:"created"`
	Name    string             `json:"name"`
	Count   int                `json:"count"`
}

// SnapshotVersion implements Snapshotter.
func (s *ChatSession) SnapshotVersion() int { return 2 } // 2: content blocks

// SnapshotEvery asks for a snapshot every 64 events: a message event is
// small to fold, while a snapshot holds what the session keeps of every
// message (some 60 bytes each), so a long chat rewrites it rarely and a
// write folds at most 63 events after it.
func (s *ChatSession) SnapshotEvery() uint64 { return 64 }

// Flags of a message in a snapshot: its booleans, and which of its
// optional fields follow.
const (
	snapError byte = 1 << iota
	snapEdit
	snapText
	snapFiles
	snapProps
	snapContextID
	snapIPAddress
	snapFlowVersion
)

const (
	snapStart byte = 1 << iota
	snapEnd
	snapBlocks // in the second flags byte, with the times
)

// Snapshot implements Snapshotter: the header as JSON (length-prefixed),
// then each message in order, in a compact binary form that Restore reads
// fast (a long chat restores thousands of them on every write).
func (s *ChatSession) Snapshot() ([]byte, error) {
	head, err := json.Marshal(chatSessionHeader{Open: s.open, Created: s.created, Name: s.name, Count: len(s.order)})
	if err != nil {
		return nil, err
	}
	b := binary.AppendUvarint(make([]byte, 0, len(head)+16+len(s.order)*40), uint64(len(head)))
	b = append(b, head...)
	str := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	for _, id := range s.order {
		m := s.messages[id]
		var flags, times byte
		for _, f := range []struct {
			on  bool
			bit byte
		}{{m.Error, snapError}, {m.Edit, snapEdit}, {m.Text != digest{}, snapText}, {m.Files != digest{}, snapFiles},
			{m.Props != digest{}, snapProps}, {m.ContextID != nil, snapContextID}, {m.IPAddress != nil, snapIPAddress},
			{m.FlowVersion != nil, snapFlowVersion}} {
			if f.on {
				flags |= f.bit
			}
		}
		if m.StartTime != nil {
			times |= snapStart
		}
		if m.EndTime != nil {
			times |= snapEnd
		}
		if m.Blocks != (digest{}) {
			times |= snapBlocks
		}
		b = binary.AppendVarint(b, m.ID)
		b = append(b, flags, times)
		str(m.Sender)
		str(m.SenderName)
		for _, d := range []struct {
			bit byte
			v   digest
		}{{snapText, m.Text}, {snapFiles, m.Files}, {snapProps, m.Props}} {
			if flags&d.bit != 0 {
				b = append(b, d.v[:]...)
			}
		}
		if times&snapBlocks != 0 {
			b = append(b, m.Blocks[:]...)
		}
		for _, p := range []*string{m.ContextID, m.IPAddress, m.FlowVersion} {
			if p != nil {
				str(*p)
			}
		}
		for _, t := range []*time.Time{m.StartTime, m.EndTime} {
			if t != nil {
				tb, err := t.MarshalBinary()
				if err != nil {
					return nil, err
				}
				str(string(tb))
			}
		}
	}
	return b, nil
}

// snapReader reads a snapshot; its first error stops it.
type snapReader struct {
	b   []byte
	err error
	// strs shares equal short strings (senders repeat in every message).
	strs map[string]string
}

func (r *snapReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("chat session snapshot: bad %s", what)
	}
	r.b = nil
}

func (r *snapReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) bytes(n uint64, what string) []byte {
	if n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *snapReader) str(what string) string {
	v := r.bytes(r.uvarint(what), what)
	if len(v) > 32 {
		return string(v)
	}
	if s, ok := r.strs[string(v)]; ok {
		return s
	}
	s := string(v)
	r.strs[s] = s
	return s
}

// Restore implements Snapshotter.
func (s *ChatSession) Restore(state []byte) error {
	r := &snapReader{b: state, strs: map[string]string{}}
	var h chatSessionHeader
	if head := r.bytes(r.uvarint("header"), "header"); r.err != nil {
		return r.err
	} else if err := json.Unmarshal(head, &h); err != nil {
		return fmt.Errorf("chat session snapshot: %w", err)
	}
	if h.Count < 0 || h.Count > len(r.b) {
		return fmt.Errorf("chat session snapshot: bad count %d", h.Count)
	}
	s.open, s.created, s.name, s.order, s.messages = h.Open, h.Created, h.Name, nil, nil
	if !h.Open {
		return nil
	}
	all := make([]messageState, h.Count)
	s.order, s.messages = make([]int64, h.Count), make(map[int64]*messageState, h.Count)
	for i := range all {
		m := &all[i]
		id, n := binary.Varint(r.b)
		if n <= 0 {
			r.fail("message id")
			break
		}
		r.b = r.b[n:]
		fl := r.bytes(2, "flags")
		if r.err != nil {
			break
		}
		flags, times := fl[0], fl[1]
		m.ID, m.Error, m.Edit = id, flags&snapError != 0, flags&snapEdit != 0
		m.Sender, m.SenderName = r.str("sender"), r.str("sender name")
		for _, d := range []struct {
			bit byte
			dst *digest
		}{{snapText, &m.Text}, {snapFiles, &m.Files}, {snapProps, &m.Props}} {
			if flags&d.bit != 0 {
				copy(d.dst[:], r.bytes(16, "digest"))
			}
		}
		if times&snapBlocks != 0 {
			copy(m.Blocks[:], r.bytes(16, "digest"))
		}
		for _, p := range []struct {
			bit byte
			dst **string
		}{{snapContextID, &m.ContextID}, {snapIPAddress, &m.IPAddress}, {snapFlowVersion, &m.FlowVersion}} {
			if flags&p.bit != 0 {
				v := r.str("field")
				*p.dst = &v
			}
		}
		for _, t := range []struct {
			bit byte
			dst **time.Time
		}{{snapStart, &m.StartTime}, {snapEnd, &m.EndTime}} {
			if times&t.bit != 0 {
				v := new(time.Time)
				if err := v.UnmarshalBinary(r.bytes(r.uvarint("time"), "time")); err != nil {
					r.fail("time")
				}
				*t.dst = v
			}
		}
		if r.err != nil {
			break
		}
		if _, dup := s.messages[id]; dup {
			return fmt.Errorf("chat session snapshot: message %d twice", id)
		}
		s.order[i], s.messages[id] = id, m
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("end")
	}
	if r.err != nil {
		s.open, s.order, s.messages = false, nil, nil
		return r.err
	}
	return nil
}

// ChatMessage folds one message of a session from the session's stream:
// all its fields as they are now, which the session itself does not keep
// (moving a message to another session needs them). It reads the whole
// stream: it is for rare writes, never for recording a message.
type ChatMessage struct {
	root   Root
	stream string
	id     int64
	fields MessageFields
	found  bool
}

// LoadChatMessage returns an empty message id to fold the stream of
// (flow, sessionID) into.
func LoadChatMessage(flow *uuid.UUID, sessionID string, id int64) *ChatMessage {
	return &ChatMessage{stream: ChatSessionStream(flow, sessionID), id: id}
}

// StreamID implements commands.Aggregate.
func (m *ChatMessage) StreamID() string { return m.stream }

// Root implements commands.Aggregate.
func (m *ChatMessage) Root() *Root { return &m.root }

// Fields returns the message's fields; false when the session has no such
// message.
func (m *ChatMessage) Fields() (MessageFields, bool) { return m.fields, m.found }

// Apply implements commands.Aggregate (also for events a ChatSession
// recorded and has not saved yet).
func (m *ChatMessage) Apply(e Event) {
	switch e := e.(type) {
	case ChatSessionCreated, ChatSessionDeleted:
		m.fields, m.found = MessageFields{}, false
	case MessageAdded:
		if e.MessageID == m.id {
			m.fields, m.found = e.Fields, true
		}
	case MessageUpdated:
		if e.MessageID != m.id || !m.found {
			return
		}
		f := &m.fields
		setS(&f.Text, e.Text)
		setS(&f.Sender, e.Sender)
		setS(&f.SenderName, e.SenderName)
		if e.Files != nil {
			f.Files = *e.Files
		}
		setB(&f.Error, e.Error)
		setB(&f.Edit, e.Edit)
		if e.Properties != nil {
			f.Properties = e.Properties
		}
		if e.ContentBlocks != nil {
			f.ContentBlocks = e.ContentBlocks
		}
		setP(&f.ContextID, e.ContextID)
		setP(&f.IPAddress, e.IPAddress)
		setP(&f.FlowVersion, e.FlowVersion)
		setP(&f.StartTime, e.StartTime)
		setP(&f.EndTime, e.EndTime)
	case MessagesDeleted:
		if slices.Contains(e.MessageIDs, m.id) {
			m.fields, m.found = MessageFields{}, false
		}
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
		record(b, VertexBuildsDeleted{FlowID: b.flow, BuildIDs: ids})
	}
	return ids
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
