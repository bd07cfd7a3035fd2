package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Messages is the write side of the monitor: chat sessions and their
// messages (one stream per session, domain.ChatSession), vertex builds
// and transactions of flow runs (one stream per flow each). Its exported
// methods are the Go API the flow engine calls to record a run; the HTTP
// operations (Routes) call the same methods.
//
// Every event carries the flow's placement in its metadata (see placeMD).
// Methods take the metadata of the write (who, when, correlation) and
// fill the placement in.
type Messages struct {
	Server   *httpapi.Server
	Repo     *Repository
	Store    eventstore.Store
	Registry *eventstore.Registry
	Pool     *pgxpool.Pool
	IDs      IDs
	Clock    func() time.Time
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
// found".
func (m *Messages) Flow(ctx context.Context, id uuid.UUID) (MonitoredFlow, error) {
	f := domain.LoadFlow(id)
	if err := m.Repo.Load(ctx, f); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return MonitoredFlow{}, domain.NotFoundf("Flow not found")
		}
		return MonitoredFlow{}, err
	}
	pl := f.Placement()
	return MonitoredFlow{ID: id, OwnerID: f.UserID(), TenantID: pl.TenantID, BusinessID: pl.BusinessID,
		Public: f.Content().AccessType == domain.AccessPublic, Deleted: f.Deleted()}, nil
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
func (m *Messages) RecordMessage(ctx context.Context, md eventstore.Metadata, n NewMessage) (RecordedMessage, error) {
	if n.UserID == 0 {
		n.UserID = md.ActorUserID
	}
	if err := domain.ValidSessionID("session_id", n.SessionID); err != nil {
		return RecordedMessage{}, err
	}
	c, err := m.place(ctx, n.FlowID, n.UserID, &md)
	if err != nil {
		return RecordedMessage{}, err
	}
	c.UserID, c.SessionID, c.Name = n.UserID, n.SessionID, n.SessionName
	if n.Fields.Timestamp.IsZero() {
		n.Fields.Timestamp = md.OccurredAt
	}
	n.Fields.Timestamp = n.Fields.Timestamp.UTC()
	id, err := m.IDs.Next(ctx, "message")
	if err != nil {
		return RecordedMessage{}, err
	}
	var res eventstore.AppendResult
	s := domain.LoadChatSession(n.FlowID, n.SessionID)
	res, err = m.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		if s, err = m.loadSession(ctx, n.SessionKey); err != nil {
			return nil, err
		}
		if err := m.open(ctx, s, c); err != nil {
			return nil, err
		}
		if err := s.Add(id, n.Fields); err != nil {
			return nil, err
		}
		return []Aggregate{s}, nil
	})
	if err != nil {
		return RecordedMessage{}, err
	}
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

// ---- HTTP ----

// SessionCreate is Create Message Session's body (#67).
type SessionCreate struct {
	FlowID      uuid.UUID `json:"flow_id" binding:"required"`
	SessionID   *string   `json:"session_id"`
	SessionName *string   `json:"session_name"`
}

// MessageUpdate is Update Message's body (#70): absent and null fields
// stay as they are.
type MessageUpdate struct {
	Text        *string        `json:"text" binding:"omitnil,maxbody"`
	Sender      *string        `json:"sender"`
	SenderName  *string        `json:"sender_name"`
	SessionID   *string        `json:"session_id"`
	ContextID   *string        `json:"context_id"`
	IPAddress   *string        `json:"ip_address"`
	FlowVersion *string        `json:"flow_version"`
	Files       *[]string      `json:"files"`
	Edit        *bool          `json:"edit"`
	Error       *bool          `json:"error"`
	StartTime   *time.Time     `json:"start_time"`
	EndTime     *time.Time     `json:"end_time"`
	Properties  map[string]any `json:"properties"`
}

// Deleted is the answer of the monitor's deletions: the ids removed.
type Deleted[T any] struct {
	Detail []T `json:"detail"`
}

// Routes registers the monitor's writes (#65, #67, #69–72).
func (m *Messages) Routes(s *httpapi.Server) {
	models := readapi.MessageReadModels
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/builds", Tag: "Monitor", Summary: "Delete Vertex Builds",
		Description: "Delete the vertex builds of a flow the caller owns (or holds messages.delete where it lives); detail " +
			"lists the build ids deleted. Anyone else's flow is 404.",
		Access: access.Own("messages", "delete"), Params: []httpapi.Param{{Name: "flow_id", In: "query", Format: "uuid", Required: true}},
		Response: Deleted[uuid.UUID]{}, ReadModels: readapi.MonitorReadModels, Handler: m.deleteBuilds})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/monitor/messages/sessions", Tag: "Monitor", Summary: "Create Message Session",
		Description: "Open a chat session of a flow the caller may see, held by the caller. Without session_id a UUID is " +
			"made; session_name defaults to the session id. An open session with that id is 409.",
		Access: access.Own("messages", "write"), Body: SessionCreate{}, Response: readapi.SessionRead{}, Status: http.StatusCreated,
		ReadModels: models, Handler: m.createSession})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/messages", Tag: "Monitor", Summary: "Delete Messages",
		Description: "Delete messages by id (a JSON array of integers); ids of messages the caller may not see, or that do " +
			"not exist, are ignored. detail lists the ids deleted.",
		Access: access.Own("messages", "delete"), Body: []int64{}, Response: Deleted[int64]{}, ReadModels: models, Handler: m.deleteMessages})
	s.Handle(httpapi.Operation{Method: http.MethodPut, Path: "/api/v1/monitor/messages/{message_id}", Tag: "Monitor", Summary: "Update Message",
		Description: "Update a message; absent or null fields stay as they are, a new text sets edit (as Langflow). A new " +
			"session_id moves the message into that session of the flow. Messages the caller may not see are 404.",
		Access: access.Own("messages", "modify"), Params: []httpapi.Param{{Name: "message_id", In: "path", Type: "integer"}},
		Body: MessageUpdate{}, Response: readapi.MessageRead{}, ReadModels: models, Handler: m.updateMessage})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/monitor/messages/session/{old_session_id}", Tag: "Monitor",
		Summary: "Update Session Id",
		Description: "Rename the caller's sessions with this session id (new_session_name; the session id stays) and answer " +
			"their messages. No such session: 404.",
		Access: access.Own("messages", "modify"), Params: []httpapi.Param{{Name: "old_session_id", In: "path"},
			{Name: "new_session_name", In: "query", Required: true, Description: "The new session name to update to"}},
		Response: []readapi.MessageRead{}, ReadModels: models, Handler: m.renameSession})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/messages/session/{session_id}", Tag: "Monitor",
		Summary:     "Delete Messages Session",
		Description: "Delete the caller's sessions with this session id and their messages; detail lists the message ids deleted.",
		Access:      access.Own("messages", "delete"), Params: []httpapi.Param{{Name: "session_id", In: "path"}},
		Response: Deleted[int64]{}, ReadModels: models, Handler: m.deleteSession})
}

func (m *Messages) createSession(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	var body SessionCreate
	if !ok || !httpapi.BindJSON(c, &body) {
		return
	}
	if _, err := readapi.VisibleFlow(ctx, m.Pool, caller, body.FlowID); err != nil {
		httpapi.Fail(c, err)
		return
	}
	n := NewSession{SessionKey: SessionKey{FlowID: &body.FlowID}, UserID: caller.UserID}
	if body.SessionID != nil {
		n.SessionID = *body.SessionID
		if n.SessionID == "" {
			httpapi.Fail(c, domain.Invalidf("session_id must not be empty"))
			return
		}
	}
	if body.SessionName != nil {
		n.Name = *body.SessionName
	}
	stream, pos, err := m.CreateSession(ctx, httpapi.Metadata(c, m.Clock()), n)
	answerWrite(c, m.Server, m.Pool, pos, err, http.StatusCreated,
		func(ctx context.Context, db readapi.DB) (readapi.SessionRead, error) {
			return readapi.SessionByStream(ctx, db, stream)
		})
}

func keyOf(p readapi.Placed) MessageKey {
	return MessageKey{SessionKey: SessionKey{FlowID: p.FlowID, SessionID: p.SessionID}, ID: p.ID}
}

func (m *Messages) deleteMessages(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	var ids []int64
	if !ok || !httpapi.BindJSON(c, &ids) {
		return
	}
	found, err := readapi.VisibleMessages(ctx, m.Pool, caller, ids)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	keys := make([]MessageKey, len(found))
	for i, p := range found {
		keys[i] = keyOf(p)
	}
	deleted, pos, err := m.DeleteMessages(ctx, httpapi.Metadata(c, m.Clock()), keys)
	m.answerDeleted(c, deleted, pos, err)
}

func (m *Messages) answerDeleted(c *gin.Context, deleted []int64, pos eventstore.Position, err error) {
	if deleted == nil {
		deleted = []int64{}
	}
	answerValue(c, m.Server, pos, err, http.StatusOK, Deleted[int64]{Detail: deleted})
}

func (m *Messages) updateMessage(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathInt(c, "message_id")
	var body MessageUpdate
	if !ok || !httpapi.BindJSON(c, &body) {
		return
	}
	found, err := readapi.VisibleMessages(ctx, m.Pool, caller, []int64{id})
	if err == nil && len(found) == 0 {
		err = domain.NotFoundf("Message not found")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	ch := domain.MessageChange{Text: body.Text, Sender: body.Sender, SenderName: body.SenderName, Files: body.Files,
		Error: body.Error, Edit: body.Edit, ContextID: body.ContextID, IPAddress: body.IPAddress,
		FlowVersion: body.FlowVersion, StartTime: utc(body.StartTime), EndTime: utc(body.EndTime)}
	if body.Properties != nil {
		if ch.Properties, err = json.Marshal(body.Properties); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	pos, err := m.UpdateMessage(ctx, httpapi.Metadata(c, m.Clock()), keyOf(found[0]), ch, body.SessionID)
	answerWrite(c, m.Server, m.Pool, pos, err, http.StatusOK,
		func(ctx context.Context, db readapi.DB) (readapi.MessageRead, error) {
			return readapi.MessageByID(ctx, db, id)
		})
}

func (m *Messages) renameSession(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	var q struct {
		Name string `form:"new_session_name" binding:"required"`
	}
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	found, err := readapi.VisibleSessions(ctx, m.Pool, caller, c.Param("old_session_id"))
	if err == nil && len(found) == 0 {
		err = domain.NotFoundf("No messages found with the given session ID")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	keys, streams := make([]SessionKey, len(found)), make([]string, len(found))
	for i, p := range found {
		keys[i], streams[i] = keyOf(p).SessionKey, p.Stream
	}
	pos, err := m.RenameSessions(ctx, httpapi.Metadata(c, m.Clock()), keys, q.Name)
	answerWrite(c, m.Server, m.Pool, pos, err, http.StatusOK,
		func(ctx context.Context, db readapi.DB) ([]readapi.MessageRead, error) {
			return readapi.MessagesOfStreams(ctx, db, streams)
		})
}

func (m *Messages) deleteSession(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	found, err := readapi.VisibleSessions(ctx, m.Pool, caller, c.Param("session_id"))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	keys := make([]SessionKey, len(found))
	for i, p := range found {
		keys[i] = keyOf(p).SessionKey
	}
	deleted, pos, err := m.DeleteSessions(ctx, httpapi.Metadata(c, m.Clock()), keys)
	m.answerDeleted(c, deleted, pos, err)
}

func (m *Messages) deleteBuilds(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	var q struct {
		FlowID uuid.UUID `form:"flow_id" binding:"required"`
	}
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	if _, err := readapi.VisibleFlow(ctx, m.Pool, caller, q.FlowID); err != nil {
		httpapi.Fail(c, err)
		return
	}
	ids, pos, err := m.DeleteVertexBuilds(ctx, httpapi.Metadata(c, m.Clock()), q.FlowID)
	answerValue(c, m.Server, pos, err, http.StatusOK, Deleted[uuid.UUID]{Detail: ids})
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return new(t.UTC())
}
