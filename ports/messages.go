package ports

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The monitor's writes (#65, #67, #69–72): each binds a request, calls the
// commands.MonitorHandler (which asks the read models what the caller may
// see, through MonitorReads) and answers what the read model shows, or
// the ids removed.

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

// MonitorDeleted is the answer of the monitor's deletions: the ids removed.
type MonitorDeleted[T any] struct {
	Detail []T `json:"detail"`
}

// The requests of the monitor's writes: where each part of the command
// comes from (see Write).
type (
	monitorCaller struct {
		Caller auth.Principal      `caller:""`
		Meta   eventstore.Metadata `meta:""`
	}
	monitorDeleteBuilds struct {
		FlowID uuid.UUID `form:"flow_id" binding:"required"`
		monitorCaller
	}
	monitorCreateSession struct {
		monitorCaller
		Body SessionCreate `body:""`
	}
	monitorDeleteMessages struct {
		monitorCaller
		Body []int64 `body:""`
	}
	monitorUpdateMessage struct {
		ID int64 `path:"message_id"`
		monitorCaller
		Body MessageUpdate `body:""`
	}
	monitorRenameSession struct {
		SessionID string `path:"old_session_id"`
		Name      string `form:"new_session_name" binding:"required" doc:"The new session name to update to"`
		monitorCaller
	}
	monitorDeleteSession struct {
		SessionID string `path:"session_id"`
		monitorCaller
	}
)

// Messages registers the monitor's writes.
func Messages(p Port, h *commands.MonitorHandler) {
	models := readapi.MessageReadModels
	Write[monitorDeleteBuilds, MonitorDeleted[uuid.UUID]]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/builds", Tag: "Monitor", Summary: "Delete Vertex Builds",
			Description: "Delete the vertex builds of a flow the caller owns (or holds messages.delete where it lives); detail " +
				"lists the build ids deleted. Anyone else's flow is 404.",
			Access: access.Own("messages", "delete"), Response: MonitorDeleted[uuid.UUID]{}, ReadModels: readapi.MonitorReadModels},
		Handle: func(ctx context.Context, r monitorDeleteBuilds) (MonitorDeleted[uuid.UUID], eventstore.Position, error) {
			d, err := h.DeleteBuilds(ctx, commands.DeleteFlowBuilds{Caller: r.Caller, Meta: r.Meta, FlowID: r.FlowID})
			return MonitorDeleted[uuid.UUID]{Detail: d.IDs}, d.Position, err
		},
	}.Register(p)
	Write[monitorCreateSession, commands.MessageSessionOpened]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/monitor/messages/sessions", Tag: "Monitor", Summary: "Create Message Session",
			Description: "Open a chat session of a flow the caller may see, held by the caller. Without session_id a UUID is " +
				"made; session_name defaults to the session id. An open session with that id is 409.",
			Access: access.Own("messages", "write"), Response: readapi.SessionRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r monitorCreateSession) (commands.MessageSessionOpened, eventstore.Position, error) {
			o, err := h.OpenSession(ctx, commands.OpenMessageSession{Caller: r.Caller, Meta: r.Meta, FlowID: r.Body.FlowID,
				SessionID: r.Body.SessionID, SessionName: r.Body.SessionName})
			return o, o.Position, err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ monitorCreateSession, o commands.MessageSessionOpened) (any, error) {
			return readapi.SessionByStream(ctx, db, o.Stream)
		},
	}.Register(p)
	Write[monitorDeleteMessages, MonitorDeleted[int64]]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/messages", Tag: "Monitor", Summary: "Delete Messages",
			Description: "Delete messages by id (a JSON array of integers); ids of messages the caller may not see, or that do " +
				"not exist, are ignored. detail lists the ids deleted.",
			Access: access.Own("messages", "delete"), Response: MonitorDeleted[int64]{}, ReadModels: models},
		Handle: func(ctx context.Context, r monitorDeleteMessages) (MonitorDeleted[int64], eventstore.Position, error) {
			d, err := h.DeleteMessages(ctx, commands.DeleteMessagesByID{Caller: r.Caller, Meta: r.Meta, IDs: r.Body})
			return monitorDeletedIDs(d.IDs), d.Position, err
		},
	}.Register(p)
	Write[monitorUpdateMessage, commands.MessageChanged]{
		Op: httpapi.Operation{Method: http.MethodPut, Path: "/api/v1/monitor/messages/{message_id}", Tag: "Monitor", Summary: "Update Message",
			Description: "Update a message; absent or null fields stay as they are, a new text sets edit (as Langflow). A new " +
				"session_id moves the message into that session of the flow. Messages the caller may not see are 404.",
			Access: access.Own("messages", "modify"), Response: readapi.MessageRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r monitorUpdateMessage) (commands.MessageChanged, eventstore.Position, error) {
			b := r.Body
			ch := domain.MessageChange{Text: b.Text, Sender: b.Sender, SenderName: b.SenderName, Files: b.Files,
				Error: b.Error, Edit: b.Edit, ContextID: b.ContextID, IPAddress: b.IPAddress,
				FlowVersion: b.FlowVersion, StartTime: monitorUTC(b.StartTime), EndTime: monitorUTC(b.EndTime)}
			m, err := h.ChangeMessage(ctx, commands.ChangeMessage{Caller: r.Caller, Meta: r.Meta, ID: r.ID, Change: ch,
				Properties: b.Properties, NewSession: b.SessionID})
			return m, m.Position, err
		},
		Answer: func(ctx context.Context, db readapi.DB, r monitorUpdateMessage, _ commands.MessageChanged) (any, error) {
			return readapi.MessageByID(ctx, db, r.ID)
		},
	}.Register(p)
	Write[monitorRenameSession, commands.MessageSessionsRenamed]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/monitor/messages/session/{old_session_id}", Tag: "Monitor",
			Summary: "Update Session Id",
			Description: "Rename the caller's sessions with this session id (new_session_name; the session id stays) and answer " +
				"their messages. No such session: 404.",
			Access: access.Own("messages", "modify"), Response: []readapi.MessageRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r monitorRenameSession) (commands.MessageSessionsRenamed, eventstore.Position, error) {
			s, err := h.RenameSession(ctx, commands.RenameMessageSession{Caller: r.Caller, Meta: r.Meta, SessionID: r.SessionID, Name: r.Name})
			return s, s.Position, err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ monitorRenameSession, s commands.MessageSessionsRenamed) (any, error) {
			return readapi.MessagesOfStreams(ctx, db, s.Streams)
		},
	}.Register(p)
	Write[monitorDeleteSession, MonitorDeleted[int64]]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/monitor/messages/session/{session_id}", Tag: "Monitor",
			Summary:     "Delete Messages Session",
			Description: "Delete the caller's sessions with this session id and their messages; detail lists the message ids deleted.",
			Access:      access.Own("messages", "delete"), Response: MonitorDeleted[int64]{}, ReadModels: models},
		Handle: func(ctx context.Context, r monitorDeleteSession) (MonitorDeleted[int64], eventstore.Position, error) {
			d, err := h.DeleteSession(ctx, commands.DeleteMessageSession{Caller: r.Caller, Meta: r.Meta, SessionID: r.SessionID})
			return monitorDeletedIDs(d.IDs), d.Position, err
		},
	}.Register(p)
}

// monitorDeletedIDs is the answer of a deletion of messages (none: an empty list).
func monitorDeletedIDs(ids []int64) MonitorDeleted[int64] {
	if ids == nil {
		ids = []int64{}
	}
	return MonitorDeleted[int64]{Detail: ids}
}

// monitorUTC is t in UTC (nil: nil).
func monitorUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return new(t.UTC())
}

// MonitorReads answers commands.MonitorReads from the read models in Pool
// (readapi.VisibleFlow, VisibleMessages, VisibleSessions).
type MonitorReads struct {
	Pool *pgxpool.Pool
}

var _ commands.MonitorReads = MonitorReads{}

// VisibleFlow implements commands.MonitorReads.
func (m MonitorReads) VisibleFlow(ctx context.Context, caller auth.Principal, flow uuid.UUID) error {
	_, err := readapi.VisibleFlow(ctx, m.Pool, caller, flow)
	return err
}

// VisibleMessages implements commands.MonitorReads.
func (m MonitorReads) VisibleMessages(ctx context.Context, caller auth.Principal, ids []int64) ([]commands.MonitorRow, error) {
	found, err := readapi.VisibleMessages(ctx, m.Pool, caller, ids)
	return monitorRows(found), err
}

// VisibleSessions implements commands.MonitorReads.
func (m MonitorReads) VisibleSessions(ctx context.Context, caller auth.Principal, session string) ([]commands.MonitorRow, error) {
	found, err := readapi.VisibleSessions(ctx, m.Pool, caller, session)
	return monitorRows(found), err
}

func monitorRows(found []readapi.Placed) []commands.MonitorRow {
	if found == nil {
		return nil
	}
	out := make([]commands.MonitorRow, len(found))
	for i, p := range found {
		out[i] = commands.MonitorRow{MessageKey: commands.MessageKey{SessionKey: commands.SessionKey{FlowID: p.FlowID,
			SessionID: p.SessionID}, ID: p.ID}, Stream: p.Stream}
	}
	return out
}
