package domain

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// MessageFields are what a chat message says (Langflow's message shape):
// who sent it, its text and attachments, and the spec's context fields.
// The session (and with it the flow, owner and tenant) is the stream's.
type MessageFields struct {
	Sender        string          `json:"sender"`
	SenderName    string          `json:"sender_name"`
	Text          string          `json:"text"`
	Files         []string        `json:"files,omitempty"`
	Error         bool            `json:"error,omitempty"`
	Edit          bool            `json:"edit,omitempty"`
	Properties    json.RawMessage `json:"properties,omitempty"`
	Category      string          `json:"category,omitempty"`
	ContentBlocks json.RawMessage `json:"content_blocks,omitempty"`
	ContextID     *string         `json:"context_id,omitempty"`
	IPAddress     *string         `json:"ip_address,omitempty"`
	FlowVersion   *string         `json:"flow_version,omitempty"`
	StartTime     *time.Time      `json:"start_time,omitempty"`
	EndTime       *time.Time      `json:"end_time,omitempty"`
	// Timestamp is when the message was sent (the engine's clock, else the
	// event's time).
	Timestamp time.Time `json:"timestamp"`
}

// ChatSessionCreated opens a chat session (stream ChatSessionStream): the
// flow it belongs to (nil: none), the flow's owner (who may read it on the
// monitor), the user chatting (who may read it on a public flow), the
// flow's placement, and a name (the session id unless given).
type ChatSessionCreated struct {
	ID         int64      `json:"id"`
	FlowID     *uuid.UUID `json:"flow_id,omitempty"`
	SessionID  string     `json:"session_id"`
	Name       string     `json:"session_name"`
	OwnerID    int64      `json:"owner_id"`
	UserID     int64      `json:"user_id"`
	TenantID   *uuid.UUID `json:"tenant_id,omitempty"`
	BusinessID int64      `json:"business_id,omitempty"`
}

// ChatSessionRenamed gives a session a new name (#71).
type ChatSessionRenamed struct {
	Name string `json:"session_name"`
}

// ChatSessionDeleted removes a session and every message in it (#72); a
// later message with the same session id opens it again.
type ChatSessionDeleted struct {
	MessageIDs []int64 `json:"message_ids"`
}

// MessageAdded records a message of the session.
type MessageAdded struct {
	MessageID int64         `json:"message_id"`
	Fields    MessageFields `json:"fields"`
}

// MessageUpdated records new values of a message's fields; absent ones did
// not change.
type MessageUpdated struct {
	MessageID  int64           `json:"message_id"`
	Text       *string         `json:"text,omitempty"`
	Sender     *string         `json:"sender,omitempty"`
	SenderName *string         `json:"sender_name,omitempty"`
	Files      *[]string       `json:"files,omitempty"`
	Error      *bool           `json:"error,omitempty"`
	Edit       *bool           `json:"edit,omitempty"`
	Properties json.RawMessage `json:"properties,omitempty"`
	// ContentBlocks replace the message's (omitted: unchanged).
	ContentBlocks json.RawMessage `json:"content_blocks,omitempty"`
	ContextID     *string         `json:"context_id,omitempty"`
	IPAddress     *string         `json:"ip_address,omitempty"`
	FlowVersion   *string         `json:"flow_version,omitempty"`
	StartTime     *time.Time      `json:"start_time,omitempty"`
	EndTime       *time.Time      `json:"end_time,omitempty"`
}

// MessagesDeleted removes messages of the session (#69, or a message
// moved to another session by an update of its session_id).
type MessagesDeleted struct {
	MessageIDs []int64 `json:"message_ids"`
}

// VertexBuildRecorded is one build of a vertex of a flow (Langflow's
// vertex_build row), recorded by the flow engine.
type VertexBuildRecorded struct {
	BuildID   uuid.UUID       `json:"build_id"`
	FlowID    uuid.UUID       `json:"flow_id"`
	VertexID  string          `json:"vertex_id"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data,omitempty"`
	Artifacts json.RawMessage `json:"artifacts,omitempty"`
	Params    *string         `json:"params,omitempty"`
	Valid     bool            `json:"valid"`
}

// VertexBuildsDeleted removes the listed builds of a flow (#65): those
// recorded before it, so that a build recorded meanwhile stays.
type VertexBuildsDeleted struct {
	FlowID   uuid.UUID   `json:"flow_id"`
	BuildIDs []uuid.UUID `json:"build_ids"`
}

// TransactionRecorded is one transaction between vertices of a flow run
// (Langflow's transaction row), recorded by the flow engine.
type TransactionRecorded struct {
	TransactionID uuid.UUID       `json:"transaction_id"`
	FlowID        uuid.UUID       `json:"flow_id"`
	Timestamp     time.Time       `json:"timestamp"`
	VertexID      string          `json:"vertex_id"`
	TargetID      *string         `json:"target_id,omitempty"`
	Inputs        json.RawMessage `json:"inputs,omitempty"`
	Outputs       json.RawMessage `json:"outputs,omitempty"`
	Status        string          `json:"status"`
	Error         *string         `json:"error,omitempty"`
}

func (ChatSessionCreated) EventType() string  { return "chat_session.created" }
func (ChatSessionRenamed) EventType() string  { return "chat_session.renamed" }
func (ChatSessionDeleted) EventType() string  { return "chat_session.deleted" }
func (MessageAdded) EventType() string        { return "message.added" }
func (MessageUpdated) EventType() string      { return "message.updated" }
func (MessagesDeleted) EventType() string     { return "message.deleted" }
func (VertexBuildRecorded) EventType() string { return "vertex_build.recorded" }
func (VertexBuildsDeleted) EventType() string { return "vertex_build.deleted" }
func (TransactionRecorded) EventType() string { return "transaction.recorded" }

// MessageEvents lists the events of chat sessions, messages, vertex builds
// and transactions with their schema versions.
func MessageEvents() []Schema {
	return V1(ChatSessionCreated{}, ChatSessionRenamed{}, ChatSessionDeleted{}, MessageAdded{}, MessageUpdated{},
		MessagesDeleted{}, VertexBuildRecorded{}, VertexBuildsDeleted{}, TransactionRecorded{})
}
