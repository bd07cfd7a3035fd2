package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
)

// Messages is the write side of the monitor: chat sessions and their
// messages (one stream per session, domain.ChatSession), vertex builds
// and transactions of flow runs (one stream per flow each). Its exported
// methods are the Go API the flow engine calls to record a run; the
// monitor's writes (MonitorHandler, served by ports.Messages) call the
// same methods.
//
// Every event carries the flow's placement in its metadata (see placeMD).
// Methods take the metadata of the write (who, when, correlation) and
// fill the placement in.
type Messages struct {
	Repo     *Repository
	Store    eventstore.Store
	Registry *eventstore.Registry
	IDs      IDs
	// Pool is the database the flow engine reads the read models from
	// (runs); the writes here do not use it.
	Pool *pgxpool.Pool
	// Sessions, when set, keeps chat sessions as this process last
	// stored them (shared with the runs' records): RecordMessage decides
	// on the kept session without reading its stream, and the append's
	// expected revision catches a session someone else wrote meanwhile,
	// which is then read and decided on again. nil: every write reads.
	Sessions *SessionCache
	// Flows, when set, keeps the flows Flow folded (see MonitoredFlows).
	Flows *MonitoredFlows
}

// MonitoredFlow is what the monitor needs of a flow: its owner (who reads
// its messages, builds and transactions), its placement and whether it is
// public.
type MonitoredFlow struct {
	ID      uuid.UUID
	OwnerID int64
	// TenantID is the flow's tenant as placed (nil: none, i.e. the
	// system tenant, everyone's personal workspace).
	TenantID   *uuid.UUID
	BusinessID int64
	Public     bool
	Deleted    bool
}

// Flow folds flow id from the log (never a lagging read model, so a flow
// created a moment ago can run at once); a missing flow is 404 "Flow not
// found". A flow kept in m.Flows whose stream has no event past it is
// answered as kept: the same fold, for one read of nothing.
func (m *Messages) Flow(ctx context.Context, id uuid.UUID) (MonitoredFlow, error) {
	if kept, ok := m.Flows.get(id); ok {
		same, err := m.Repo.Unchanged(ctx, domain.FlowStream(id), kept.rev)
		if err != nil {
			return MonitoredFlow{}, err
		}
		if same {
			return kept.flow, nil
		}
	}
	f := graphpatch.LoadFlow(id)
	if err := m.Repo.Load(ctx, f); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return MonitoredFlow{}, domain.NotFoundf("Flow not found")
		}
		return MonitoredFlow{}, err
	}
	pl := f.Placement()
	mf := MonitoredFlow{ID: id, OwnerID: f.UserID(), TenantID: pl.TenantID, BusinessID: pl.BusinessID,
		Public: f.Content().AccessType == domain.AccessPublic, Deleted: f.Deleted()}
	rev, _ := f.Root().Revision()
	m.Flows.put(mf, rev)
	return mf, nil
}

// SessionKey names a chat session: its flow (nil: none) and session id.
type SessionKey struct {
	FlowID    *uuid.UUID
	SessionID string
}

// MessageKey names a message: its session and id.
type MessageKey struct {
	SessionKey
	ID int64
}

// NewMessage is what RecordMessage needs.
type NewMessage struct {
	SessionKey
	// UserID is the user chatting (the flow's owner in the playground, a
	// visitor in a public flow); 0: the metadata's actor.
	UserID int64
	// SessionName names the session when this message opens it (default:
	// the session id).
	SessionName string
	Fields      domain.MessageFields
}

// RecordedMessage is what RecordMessage wrote.
type RecordedMessage struct {
	ID       int64
	Stream   string
	Position eventstore.Position
}

// place returns who owns a session of flow (nil: the user themselves) and
// where it lives, and puts that placement in md.
func (m *Messages) place(ctx context.Context, flow *uuid.UUID, user int64, md *eventstore.Metadata) (domain.ChatSessionCreated, error) {
	c := domain.ChatSessionCreated{FlowID: flow, OwnerID: user, UserID: user}
	if flow != nil {
		f, err := m.Flow(ctx, *flow)
		if err != nil {
			return c, err
		}
		c.OwnerID, c.TenantID, c.BusinessID = f.OwnerID, f.TenantID, f.BusinessID
	}
	placeMD(md, c.TenantID, c.BusinessID)
	return c, nil
}

// placeMD puts a monitored thing's placement on the metadata of its
// events, as the flows do: the flow's tenant when it is placed in one
// (personal flows leave it empty), and its business.
func placeMD(md *eventstore.Metadata, tenant *uuid.UUID, business int64) {
	if tenant != nil {
		md.TenantID = *tenant
	}
	md.BusinessID = business
}

// open opens session s (created as c says, with a fresh session id)
// unless it is open; an open session held by another user than c's is
// 403 (nobody writes into another user's chat).
func (m *Messages) open(ctx context.Context, s *domain.ChatSession, c domain.ChatSessionCreated) error {
	if s.Open() {
		if info := s.Info(); info.UserID != c.UserID && c.UserID != info.OwnerID {
			return domain.Forbiddenf("Message session %q belongs to another user", c.SessionID)
		}
		return nil
	}
	id, err := m.IDs.Next(ctx, "chat_session")
	if err != nil {
		return err
	}
	c.ID = id
	return s.Create(c)
}

// loadSession folds the session of k (an empty one when there is none).
func (m *Messages) loadSession(ctx context.Context, k SessionKey) (*domain.ChatSession, error) {
	s := domain.LoadChatSession(k.FlowID, k.SessionID)
	if err := m.Repo.Load(ctx, s); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	return s, nil
}

// RecordMessage adds a message to its session, opening the session if it
// is not open (held by n.UserID). It returns the message's id (from the
// message_id_seq sequence).
//
// The flow's placement and the message's id are independent reads, made
// at once; the session is the one m.Sessions kept when it has it (see
// Messages.Sessions), else read. A message that fails keeps no session.
// The session's snapshot, every SnapshotEvery messages, is written aside
// (see SnapshotsAside): the message does not wait for it.
func (m *Messages) RecordMessage(ctx context.Context, md eventstore.Metadata, n NewMessage) (RecordedMessage, error) {
	if n.UserID == 0 {
		n.UserID = md.ActorUserID
	}
	if err := domain.ValidSessionID("session_id", n.SessionID); err != nil {
		return RecordedMessage{}, err
	}
	var (
		id    int64
		idErr error
		got   = make(chan struct{})
	)
	go func() {
		defer close(got)
		id, idErr = m.IDs.Next(ctx, "message")
	}()
	c, err := m.place(ctx, n.FlowID, n.UserID, &md)
	<-got
	if err != nil {
		return RecordedMessage{}, err
	}
	if idErr != nil {
		return RecordedMessage{}, idErr
	}
	c.UserID, c.SessionID, c.Name = n.UserID, n.SessionID, n.SessionName
	if n.Fields.Timestamp.IsZero() {
		n.Fields.Timestamp = md.OccurredAt
	}
	n.Fields.Timestamp = n.Fields.Timestamp.UTC()
	stream := domain.ChatSessionStream(n.FlowID, n.SessionID)
	kept, err := m.Sessions.take(ctx, stream)
	if err != nil {
		return RecordedMessage{}, err
	}
	var s *domain.ChatSession
	res, err := m.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		if kept != nil && len(kept.Root().Pending()) == 0 {
			s, kept = kept, nil // once: a lost race reads the stored session
		} else {
			var err error
			if s, err = m.loadSession(ctx, n.SessionKey); err != nil {
				return nil, err
			}
		}
		if err := m.open(ctx, s, c); err != nil {
			return nil, err
		}
		if err := s.Add(id, n.Fields); err != nil {
			return nil, err
		}
		return []Aggregate{s}, nil
	}, SnapshotsAside())
	if err != nil {
		m.Sessions.release(stream)
		return RecordedMessage{}, err
	}
	m.Sessions.put(s)
	return RecordedMessage{ID: id, Stream: s.StreamID(), Position: res.Last()}, nil
}

// NewSession is what CreateSession needs.
type NewSession struct {
	SessionKey
	Name   string
	UserID int64
}

// CreateSession opens a chat session held by n.UserID (409 if it is open).
// An empty session id gets a new UUID.
func (m *Messages) CreateSession(ctx context.Context, md eventstore.Metadata, n NewSession) (string, eventstore.Position, error) {
	if n.SessionID == "" {
		n.SessionID = uuid.NewString()
	}
	if err := domain.ValidSessionID("session_id", n.SessionID); err != nil {
		return "", eventstore.Position{}, err
	}
	c, err := m.place(ctx, n.FlowID, n.UserID, &md)
	if err != nil {
		return "", eventstore.Position{}, err
	}
	c.UserID, c.SessionID, c.Name = n.UserID, n.SessionID, n.Name
	var (
		res eventstore.AppendResult
		s   *domain.ChatSession
	)
	res, err = m.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		if s, err = m.loadSession(ctx, n.SessionKey); err != nil {
			return nil, err
		}
		if s.Open() {
			return nil, domain.Conflictf("Message session %q already exists", n.SessionID)
		}
		if err := m.open(ctx, s, c); err != nil {
			return nil, err
		}
		return []Aggregate{s}, nil
	})
	if err != nil {
		return "", eventstore.Position{}, err
	}
	return s.StreamID(), res.Last(), nil
}

// UpdateMessage changes message k as ch says (Langflow's update: a new
// text marks it edited). newSession, when given and not k's, moves the
// message into that session of the same flow (opened if needed, held by
// the same user), atomically.
func (m *Messages) UpdateMessage(ctx context.Context, md eventstore.Metadata, k MessageKey, ch domain.MessageChange, newSession *string) (eventstore.Position, error) {
	if newSession != nil && *newSession == k.SessionID {
		newSession = nil
	}
	if newSession != nil {
		if err := domain.ValidSessionID("session_id", *newSession); err != nil {
			return eventstore.Position{}, err
		}
	}
	res, err := m.Repo.Update(ctx, md, func(ctx context.Context, md *eventstore.Metadata) ([]Aggregate, error) {
		s, err := m.loadSession(ctx, k.SessionKey)
		if err != nil {
			return nil, err
		}
		if _, err := s.Update(k.ID, ch); err != nil {
			return nil, err
		}
		info := s.Info()
		placeMD(md, info.TenantID, info.BusinessID)
		if newSession == nil {
			return []Aggregate{s}, nil
		}
		// The session keeps no message's fields: fold the message from
		// the stream the decision was taken on, with the change above.
		msg := domain.LoadChatMessage(k.FlowID, k.SessionID, k.ID)
		rev, _ := s.Root().Revision()
		if err := m.Repo.LoadUntil(ctx, msg, rev); err != nil {
			return nil, err
		}
		for _, e := range s.Root().Pending() {
			msg.Apply(e)
		}
		fields, ok := msg.Fields()
		if !ok {
			return nil, fmt.Errorf("move message %d: not in %s at revision %d", k.ID, s.StreamID(), rev)
		}
		s.Remove([]int64{k.ID})
		to, err := m.loadSession(ctx, SessionKey{FlowID: k.FlowID, SessionID: *newSession})
		if err != nil {
			return nil, err
		}
		c := info
		c.SessionID, c.Name = *newSession, ""
		if err := m.open(ctx, to, c); err != nil {
			return nil, err
		}
		if err := to.Add(k.ID, fields); err != nil {
			return nil, err
		}
		return []Aggregate{s, to}, nil
	})
	return res.Last(), err
}

// DeleteMessages removes the messages of keys and returns the ids it
// removed (messages already gone are skipped). Each session's deletion is
// one event; sessions are saved per tenant, atomically within one.
func (m *Messages) DeleteMessages(ctx context.Context, md eventstore.Metadata, keys []MessageKey) ([]int64, eventstore.Position, error) {
	bySession := map[SessionKey][]int64{}
	var order []SessionKey
	for _, k := range keys {
		if _, seen := bySession[k.SessionKey]; !seen {
			order = append(order, k.SessionKey)
		}
		bySession[k.SessionKey] = append(bySession[k.SessionKey], k.ID)
	}
	var deleted []int64
	pos, err := m.eachSession(ctx, md, order, func(s *domain.ChatSession, k SessionKey) error {
		deleted = append(deleted, s.Remove(bySession[k])...)
		return nil
	})
	slices.Sort(deleted)
	return deleted, pos, err
}

// RenameSessions gives the sessions of keys a new name.
func (m *Messages) RenameSessions(ctx context.Context, md eventstore.Metadata, keys []SessionKey, name string) (eventstore.Position, error) {
	if err := domain.ValidSessionID("new_session_name", name); err != nil {
		return eventstore.Position{}, err
	}
	return m.eachSession(ctx, md, keys, func(s *domain.ChatSession, _ SessionKey) error {
		if !s.Open() {
			return nil // deleted meanwhile
		}
		return s.Rename(name)
	})
}

// DeleteSessions removes the sessions of keys with their messages and
// returns the ids of the messages removed.
func (m *Messages) DeleteSessions(ctx context.Context, md eventstore.Metadata, keys []SessionKey) ([]int64, eventstore.Position, error) {
	var deleted []int64
	pos, err := m.eachSession(ctx, md, keys, func(s *domain.ChatSession, _ SessionKey) error {
		if !s.Open() {
			return nil
		}
		ids, err := s.Delete()
		deleted = append(deleted, ids...)
		return err
	})
	slices.Sort(deleted)
	return deleted, pos, err
}

// eachSession loads the sessions of keys, lets fn decide on each, and
// saves them: those of one tenant together, atomically (a lost race
// decides again on fresh state). It returns the last position written.
func (m *Messages) eachSession(ctx context.Context, md eventstore.Metadata, keys []SessionKey,
	fn func(*domain.ChatSession, SessionKey) error) (eventstore.Position, error) {
	type place struct {
		tenant   uuid.UUID // uuid.Nil: none
		business int64
	}
	groups := map[place][]SessionKey{}
	var order []place
	for _, k := range keys {
		s, err := m.loadSession(ctx, k)
		if err != nil {
			return eventstore.Position{}, err
		}
		p := place{business: s.Info().BusinessID}
		if t := s.Info().TenantID; t != nil {
			p.tenant = *t
		}
		if _, seen := groups[p]; !seen {
			order = append(order, p)
		}
		groups[p] = append(groups[p], k)
	}
	var last eventstore.Position
	for _, p := range order {
		gmd := md
		gmd.TenantID, gmd.BusinessID = p.tenant, p.business
		res, err := m.Repo.Update(ctx, gmd, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
			aggs := make([]Aggregate, 0, len(groups[p]))
			for _, k := range groups[p] {
				s, err := m.loadSession(ctx, k)
				if err != nil {
					return nil, err
				}
				if err := fn(s, k); err != nil {
					return nil, err
				}
				aggs = append(aggs, s)
			}
			return aggs, nil
		})
		if err == nil && len(res.Positions) > 0 {
			last = res.Last()
		}
		if err != nil {
			return last, err
		}
	}
	return last, nil
}

// RecordVertexBuild records a build of a vertex of flow b.FlowID (a new
// build id and the metadata's time when not given). Builds are appended
// without reading the flow's builds stream.
func (m *Messages) RecordVertexBuild(ctx context.Context, md eventstore.Metadata, b domain.VertexBuildRecorded) (uuid.UUID, eventstore.Position, error) {
	if err := runRecord(b.VertexID, &b.BuildID, &b.Timestamp, md); err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	pos, err := m.appendFlowEvent(ctx, md, b.FlowID, domain.FlowBuildsStream(b.FlowID), b)
	return b.BuildID, pos, err
}

// RecordTransaction records a transaction of a run of flow t.FlowID (a new
// id and the metadata's time when not given).
func (m *Messages) RecordTransaction(ctx context.Context, md eventstore.Metadata, t domain.TransactionRecorded) (uuid.UUID, eventstore.Position, error) {
	if err := runRecord(t.VertexID, &t.TransactionID, &t.Timestamp, md); err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	pos, err := m.appendFlowEvent(ctx, md, t.FlowID, domain.FlowTransactionsStream(t.FlowID), t)
	return t.TransactionID, pos, err
}

// runRecord checks and completes a record of a run (a vertex build, a
// transaction): it names its vertex; a missing id is a new one, a missing
// time the metadata's; times are UTC.
func runRecord(vertexID string, id *uuid.UUID, at *time.Time, md eventstore.Metadata) error {
	if vertexID == "" {
		return domain.Invalidf("vertex_id must not be empty")
	}
	if *id == uuid.Nil {
		*id = uuid.New()
	}
	if at.IsZero() {
		*at = md.OccurredAt
	}
	*at = at.UTC()
	return nil
}

// appendFlowEvent appends e to stream (any revision: records of a run
// need no decision) with flow's placement in md.
func (m *Messages) appendFlowEvent(ctx context.Context, md eventstore.Metadata, flow uuid.UUID, stream string, e domain.Event) (eventstore.Position, error) {
	f, err := m.Flow(ctx, flow)
	if err != nil {
		return eventstore.Position{}, err
	}
	placeMD(&md, f.TenantID, f.BusinessID)
	data, err := m.Registry.Encode(e)
	if err != nil {
		return eventstore.Position{}, err
	}
	if data.ID, err = uuid.NewV7(); err != nil {
		return eventstore.Position{}, fmt.Errorf("event id: %w", err)
	}
	data.Metadata = md
	res, err := m.Store.Append(ctx, stream, eventstore.Any(), data)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return res.Last(), nil
}

// DeleteVertexBuilds removes every build of flow recorded so far and
// returns their ids.
func (m *Messages) DeleteVertexBuilds(ctx context.Context, md eventstore.Metadata, flow uuid.UUID) ([]uuid.UUID, eventstore.Position, error) {
	f, err := m.Flow(ctx, flow)
	if err != nil {
		return nil, eventstore.Position{}, err
	}
	placeMD(&md, f.TenantID, f.BusinessID)
	var (
		ids []uuid.UUID
		res eventstore.AppendResult
	)
	res, err = m.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		b := domain.LoadFlowBuilds(flow)
		if err := m.Repo.Load(ctx, b); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		ids = b.DeleteAll()
		return []Aggregate{b}, nil
	})
	if ids == nil {
		ids = []uuid.UUID{}
	}
	return ids, res.Last(), err
}

// ---- the monitor's writes ----

// MonitorReads is what the monitor's writes ask the read models: what the
// caller may see (the monitor's one visibility rule: the flow's owner, or
// whoever holds the operation's privilege where the flow lives).
type MonitorReads interface {
	// VisibleFlow fails (404 "Flow not found") unless caller may see
	// flow's monitor data.
	VisibleFlow(ctx context.Context, caller auth.Principal, flow uuid.UUID) error
	// VisibleMessages returns the messages of ids caller may see, by id.
	VisibleMessages(ctx context.Context, caller auth.Principal, ids []int64) ([]MonitorRow, error)
	// VisibleSessions returns the sessions with session id session that
	// caller may see (one per flow), by id.
	VisibleSessions(ctx context.Context, caller auth.Principal, session string) ([]MonitorRow, error)
}

// MonitorRow is a message or a session the caller may see: its key (a
// session's ID is the session's) and its session's stream.
type MonitorRow struct {
	MessageKey
	Stream string
}

// MonitorHandler handles the monitor's writes (#65, #67, #69–72): each
// checks what the caller may see (Reads), then calls Messages.
type MonitorHandler struct {
	Messages *Messages
	Reads    MonitorReads
}

// OpenMessageSession opens a chat session of a flow the caller may see,
// held by the caller. A nil SessionID is a new UUID (an empty one is
// refused); a nil SessionName is the session id.
type OpenMessageSession struct {
	Caller                 auth.Principal
	Meta                   eventstore.Metadata
	FlowID                 uuid.UUID
	SessionID, SessionName *string
}

// MessageSessionOpened is the session OpenMessageSession opened.
type MessageSessionOpened struct {
	Stream   string
	Position eventstore.Position
}

// OpenSession handles OpenMessageSession (409 if the session is open).
func (h *MonitorHandler) OpenSession(ctx context.Context, cmd OpenMessageSession) (MessageSessionOpened, error) {
	if err := h.Reads.VisibleFlow(ctx, cmd.Caller, cmd.FlowID); err != nil {
		return MessageSessionOpened{}, err
	}
	n := NewSession{SessionKey: SessionKey{FlowID: &cmd.FlowID}, UserID: cmd.Caller.UserID}
	if cmd.SessionID != nil {
		n.SessionID = *cmd.SessionID
		if n.SessionID == "" {
			return MessageSessionOpened{}, domain.Invalidf("session_id must not be empty")
		}
	}
	if cmd.SessionName != nil {
		n.Name = *cmd.SessionName
	}
	stream, pos, err := h.Messages.CreateSession(ctx, cmd.Meta, n)
	return MessageSessionOpened{Stream: stream, Position: pos}, err
}

// DeleteMessagesByID deletes the messages of IDs the caller may see (the
// others, and ids of no message, are ignored).
type DeleteMessagesByID struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	IDs    []int64
}

// MessagesDeleted is what a deletion of messages removed: the ids of the
// messages, in order.
type MessagesDeleted struct {
	IDs      []int64
	Position eventstore.Position
}

// DeleteMessages handles DeleteMessagesByID.
func (h *MonitorHandler) DeleteMessages(ctx context.Context, cmd DeleteMessagesByID) (MessagesDeleted, error) {
	found, err := h.Reads.VisibleMessages(ctx, cmd.Caller, cmd.IDs)
	if err != nil {
		return MessagesDeleted{}, err
	}
	keys := make([]MessageKey, len(found))
	for i, p := range found {
		keys[i] = p.MessageKey
	}
	deleted, pos, err := h.Messages.DeleteMessages(ctx, cmd.Meta, keys)
	return MessagesDeleted{IDs: deleted, Position: pos}, err
}

// ChangeMessage changes a message the caller may see (404 "Message not
// found" otherwise) as Change says, with Properties (nil: as they are)
// marshalled into it; a NewSession moves it into that session of its
// flow (see Messages.UpdateMessage).
type ChangeMessage struct {
	Caller     auth.Principal
	Meta       eventstore.Metadata
	ID         int64
	Change     domain.MessageChange
	Properties map[string]any
	NewSession *string
}

// MessageChanged is the message ChangeMessage changed.
type MessageChanged struct {
	ID       int64
	Position eventstore.Position
}

// ChangeMessage handles ChangeMessage.
func (h *MonitorHandler) ChangeMessage(ctx context.Context, cmd ChangeMessage) (MessageChanged, error) {
	found, err := h.Reads.VisibleMessages(ctx, cmd.Caller, []int64{cmd.ID})
	if err == nil && len(found) == 0 {
		err = domain.NotFoundf("Message not found")
	}
	if err != nil {
		return MessageChanged{}, err
	}
	ch := cmd.Change
	if cmd.Properties != nil {
		if ch.Properties, err = json.Marshal(cmd.Properties); err != nil {
			return MessageChanged{}, err
		}
	}
	pos, err := h.Messages.UpdateMessage(ctx, cmd.Meta, found[0].MessageKey, ch, cmd.NewSession)
	return MessageChanged{ID: cmd.ID, Position: pos}, err
}

// RenameMessageSession gives the caller's sessions with SessionID (those
// the caller may see; none: 404) the name Name.
type RenameMessageSession struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	SessionID string
	Name      string
}

// MessageSessionsRenamed names the sessions RenameMessageSession renamed:
// their streams.
type MessageSessionsRenamed struct {
	Streams  []string
	Position eventstore.Position
}

// RenameSession handles RenameMessageSession.
func (h *MonitorHandler) RenameSession(ctx context.Context, cmd RenameMessageSession) (MessageSessionsRenamed, error) {
	found, err := h.Reads.VisibleSessions(ctx, cmd.Caller, cmd.SessionID)
	if err == nil && len(found) == 0 {
		err = domain.NotFoundf("No messages found with the given session ID")
	}
	if err != nil {
		return MessageSessionsRenamed{}, err
	}
	keys, streams := make([]SessionKey, len(found)), make([]string, len(found))
	for i, p := range found {
		keys[i], streams[i] = p.SessionKey, p.Stream
	}
	pos, err := h.Messages.RenameSessions(ctx, cmd.Meta, keys, cmd.Name)
	return MessageSessionsRenamed{Streams: streams, Position: pos}, err
}

// DeleteMessageSession deletes the caller's sessions with SessionID (those
// the caller may see) and their messages.
type DeleteMessageSession struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	SessionID string
}

// DeleteSession handles DeleteMessageSession.
func (h *MonitorHandler) DeleteSession(ctx context.Context, cmd DeleteMessageSession) (MessagesDeleted, error) {
	found, err := h.Reads.VisibleSessions(ctx, cmd.Caller, cmd.SessionID)
	if err != nil {
		return MessagesDeleted{}, err
	}
	keys := make([]SessionKey, len(found))
	for i, p := range found {
		keys[i] = p.SessionKey
	}
	deleted, pos, err := h.Messages.DeleteSessions(ctx, cmd.Meta, keys)
	return MessagesDeleted{IDs: deleted, Position: pos}, err
}

// DeleteFlowBuilds deletes the vertex builds of a flow the caller may see
// (404 "Flow not found" otherwise).
type DeleteFlowBuilds struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	FlowID uuid.UUID
}

// BuildsDeleted is what DeleteFlowBuilds removed: the builds' ids.
type BuildsDeleted struct {
	IDs      []uuid.UUID
	Position eventstore.Position
}

// DeleteBuilds handles DeleteFlowBuilds.
func (h *MonitorHandler) DeleteBuilds(ctx context.Context, cmd DeleteFlowBuilds) (BuildsDeleted, error) {
	if err := h.Reads.VisibleFlow(ctx, cmd.Caller, cmd.FlowID); err != nil {
		return BuildsDeleted{}, err
	}
	ids, pos, err := h.Messages.DeleteVertexBuilds(ctx, cmd.Meta, cmd.FlowID)
	return BuildsDeleted{IDs: ids, Position: pos}, err
}
