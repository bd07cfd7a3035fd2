package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The read models of the monitor: chat sessions and messages ("messages"),
// vertex builds and transactions ("monitor").
var (
	MessageReadModels = []string{"messages"}
	MonitorReadModels = []string{"monitor"}
)

// MessageRead is a message as the API shows it (the spec's message
// response, Langflow's MessageResponse plus context_id, ip_address,
// flow_version, start_time, end_time and tenant_id).
type MessageRead struct {
	Sender        string          `json:"sender"`
	SenderName    string          `json:"sender_name"`
	SessionID     string          `json:"session_id"`
	ContextID     *string         `json:"context_id"`
	IPAddress     *string         `json:"ip_address"`
	FlowVersion   *string         `json:"flow_version"`
	Text          string          `json:"text"`
	Files         []string        `json:"files"`
	Error         bool            `json:"error"`
	Edit          bool            `json:"edit"`
	StartTime     *time.Time      `json:"start_time"`
	EndTime       *time.Time      `json:"end_time"`
	Properties    json.RawMessage `json:"properties"`
	Category      string          `json:"category"`
	ContentBlocks json.RawMessage `json:"content_blocks"`
	ID            int64           `json:"id"`
	TenantID      *uuid.UUID      `json:"tenant_id"`
	FlowID        *uuid.UUID      `json:"flow_id"`
	Timestamp     time.Time       `json:"timestamp"`
}

const messageColumns = `m.sender, m.sender_name, m.session_id, m.context_id, m.ip_address, m.flow_version, m.text, m.files,
    m.error, m.edit, m.start_time, m.end_time, m.properties, m.category, m.content_blocks, m.id, m.tenant_id, m.flow_id,
    m.timestamp`

func scanMessage(row pgx.CollectableRow) (MessageRead, error) {
	var m MessageRead
	var files []byte
	err := row.Scan(&m.Sender, &m.SenderName, &m.SessionID, &m.ContextID, &m.IPAddress, &m.FlowVersion, &m.Text, &files,
		&m.Error, &m.Edit, &m.StartTime, &m.EndTime, (*[]byte)(&m.Properties), &m.Category, (*[]byte)(&m.ContentBlocks),
		&m.ID, &m.TenantID, &m.FlowID, &m.Timestamp)
	if err != nil {
		return m, err
	}
	m.Files = []string{}
	if err := json.Unmarshal(files, &m.Files); err != nil {
		return m, err
	}
	m.Timestamp = m.Timestamp.UTC()
	for _, t := range []**time.Time{&m.StartTime, &m.EndTime} {
		if *t != nil {
			*t = new((*t).UTC())
		}
	}
	return m, nil
}

// SessionRead is a chat session (the spec's Create Message Session
// answer): user_id is the id of the user chatting, as a string (the
// spec's type), user_name that user's name.
type SessionRead struct {
	ID          int64      `json:"id"`
	FlowID      *uuid.UUID `json:"flow_id"`
	UserID      string     `json:"user_id"`
	UserName    string     `json:"user_name"`
	SessionID   string     `json:"session_id"`
	SessionName string     `json:"session_name"`
	IsActive    bool       `json:"is_active"`
	CreateAt    time.Time  `json:"create_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

const sessionColumns = `s.id, s.flow_id, s.user_id::text, coalesce(u.username, ''), s.session_id, s.session_name, s.is_active,
    s.create_at, s.updated_at FROM chat_sessions s LEFT JOIN users u ON u.id = s.user_id`

func scanSession(row pgx.CollectableRow) (SessionRead, error) {
	var s SessionRead
	err := row.Scan(&s.ID, &s.FlowID, &s.UserID, &s.UserName, &s.SessionID, &s.SessionName, &s.IsActive, &s.CreateAt, &s.UpdatedAt)
	s.CreateAt, s.UpdatedAt = s.CreateAt.UTC(), s.UpdatedAt.UTC()
	return s, err
}

// SessionByStream reads the session of stream (404 when there is none).
func SessionByStream(ctx context.Context, db DB, stream string) (SessionRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+sessionColumns+` WHERE s.stream = $1`, stream)
	s, err := pgx.CollectExactlyOneRow(rows, scanSession)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, domain.NotFoundf("Message session not found")
	}
	return s, err
}

// MessageByID reads message id (404 "Message not found" when there is
// none).
func MessageByID(ctx context.Context, db DB, id int64) (MessageRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.id = $1`, id)
	m, err := pgx.CollectExactlyOneRow(rows, scanMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, domain.NotFoundf("Message not found")
	}
	return m, err
}

// MessagesOfStreams reads the messages of the sessions of streams, by id.
func MessagesOfStreams(ctx context.Context, db DB, streams []string) ([]MessageRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.session_stream = ANY($1) ORDER BY m.id`, streams)
	out, err := pgx.CollectRows(rows, scanMessage)
	if out == nil {
		out = []MessageRead{}
	}
	return out, err
}

// Placed is where a monitored thing is (a message, a session): the flow's
// owner, who always sees it, and the tenant and business whose privilege
// lets others see it.
type Placed struct {
	Stream     string
	FlowID     *uuid.UUID
	SessionID  string
	ID         int64
	OwnerID    int64
	TenantID   *uuid.UUID // nil: none (the system tenant)
	BusinessID int64
}

// MonitorVisible is the one rule of who sees monitor data: the owner of
// the flow, or whoever holds the route's privilege where the flow lives
// (superusers hold every privilege). Langflow once showed every user's
// messages to anyone (GHSA-9c59-2mvc-vfr8); a plain user never sees
// another user's.
func MonitorVisible(ctx context.Context, caller auth.Principal, p Placed) bool {
	return p.OwnerID == caller.UserID || tenancy.Authorize(ctx, tenancy.OrSystem(p.TenantID), p.BusinessID) == nil
}

// VisibleMessages returns where those of ids that caller may see are.
func VisibleMessages(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, ids []int64) ([]Placed, error) {
	rows, _ := pool.Query(ctx, `SELECT session_stream, flow_id, session_id, id, owner_id, tenant_id, business_id
FROM messages WHERE id = ANY($1) ORDER BY id`, ids)
	return visible(ctx, caller, rows)
}

// VisibleSessions returns the sessions with sessionID that caller may see.
func VisibleSessions(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, sessionID string) ([]Placed, error) {
	rows, _ := pool.Query(ctx, `SELECT stream, flow_id, session_id, id, owner_id, tenant_id, business_id
FROM chat_sessions WHERE session_id = $1 ORDER BY id`, sessionID)
	return visible(ctx, caller, rows)
}

func visible(ctx context.Context, caller auth.Principal, rows pgx.Rows) ([]Placed, error) {
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Placed, error) {
		var p Placed
		return p, row.Scan(&p.Stream, &p.FlowID, &p.SessionID, &p.ID, &p.OwnerID, &p.TenantID, &p.BusinessID)
	})
	if err != nil {
		return nil, fmt.Errorf("read monitor rows: %w", err)
	}
	var out []Placed
	for _, p := range all {
		if MonitorVisible(ctx, caller, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// VisibleFlow reads flow id for the monitor: its owner, or whoever holds
// the route's privilege where it lives; for anyone else it does not exist
// (404 "Flow not found").
func VisibleFlow(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (FlowRead, error) {
	f, err := FlowByID(ctx, pool, id)
	if err != nil {
		return f, err
	}
	if !MonitorVisible(ctx, caller, Placed{OwnerID: f.UserID, TenantID: f.TenantID, BusinessID: f.BusinessID}) {
		return FlowRead{}, domain.NotFoundf("Flow not found")
	}
	return f, nil
}

// MessageQuery is Get Messages' filter (#68, and #3 without flow_id).
type MessageQuery struct {
	FlowID     *uuid.UUID `form:"flow_id"`
	SessionID  *string    `form:"session_id"`
	Sender     *string    `form:"sender"`
	SenderName *string    `form:"sender_name"`
	OrderBy    string     `form:"order_by,default=id" binding:"oneof=id timestamp sender sender_name session_id text category flow_id context_id flow_version start_time end_time"`
}

// messageOrder maps order_by to its column (ties by id).
var messageOrder = map[string]string{
	"id": "m.id", "timestamp": "m.timestamp", "sender": "m.sender", "sender_name": "m.sender_name",
	"session_id": "m.session_id", "text": "m.text", "category": "m.category", "flow_id": "m.flow_id",
	"context_id": "m.context_id", "flow_version": "m.flow_version", "start_time": "m.start_time", "end_time": "m.end_time",
}

// TransactionRead is a transaction of a flow run (Langflow's
// TransactionTable row).
type TransactionRead struct {
	ID        uuid.UUID       `json:"id"`
	Timestamp time.Time       `json:"timestamp"`
	VertexID  string          `json:"vertex_id"`
	TargetID  *string         `json:"target_id"`
	Inputs    json.RawMessage `json:"inputs"`
	Outputs   json.RawMessage `json:"outputs"`
	Status    string          `json:"status"`
	Error     *string         `json:"error"`
	FlowID    uuid.UUID       `json:"flow_id"`
}

// TransactionPage is Langflow's page of transactions.
type TransactionPage struct {
	Items []TransactionRead `json:"items"`
	Total int64             `json:"total"`
	Page  int64             `json:"page"`
	Size  int64             `json:"size"`
	Pages int64             `json:"pages"`
}

// VertexBuildRead is one build of a vertex (Langflow's vertex_build row):
// id is the vertex id.
type VertexBuildRead struct {
	Timestamp time.Time       `json:"timestamp"`
	ID        string          `json:"id"`
	Data      json.RawMessage `json:"data"`
	Artifacts json.RawMessage `json:"artifacts"`
	Params    *string         `json:"params"`
	Valid     bool            `json:"valid"`
	FlowID    uuid.UUID       `json:"flow_id"`
	BuildID   uuid.UUID       `json:"build_id"`
}

// VertexBuildMap is Langflow's VertexBuildMapModel: the builds of a flow
// grouped by vertex id, each list oldest first.
type VertexBuildMap struct {
	VertexBuilds map[string][]VertexBuildRead `json:"vertex_builds"`
}

type monitorReads struct {
	pool *pgxpool.Pool
}

// RegisterMessageReads serves the monitor's reads (#64, #66, #68, #73) and
// the public chat's messages (#3).
func RegisterMessageReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &monitorReads{pool: pool}
	flowQuery := httpapi.Param{Name: "flow_id", In: "query", Format: "uuid", Required: true}
	filters := []httpapi.Param{
		{Name: "session_id", In: "query"}, {Name: "sender", In: "query"}, {Name: "sender_name", In: "query"},
		{Name: "order_by", In: "query", Default: "id", Enum: []string{"id", "timestamp", "sender", "sender_name", "session_id",
			"text", "category", "flow_id", "context_id", "flow_version", "start_time", "end_time"}},
	}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/monitor/builds", Tag: "Monitor", Summary: "Get Vertex Builds",
		Description: "The vertex builds of a flow the caller owns (or holds messages.read where it lives), grouped by vertex id, " +
			"oldest first. Anyone else's flow is 404.",
		Access: access.Own("messages", "read"), Params: []httpapi.Param{flowQuery}, Response: VertexBuildMap{},
		ReadModels: MonitorReadModels, Handler: h.builds})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/monitor/messages/sessions", Tag: "Monitor", Summary: "Get Message Sessions",
		Description: "The chat sessions of the caller's flows, oldest first; with flow_id, those of that flow (another user's flow " +
			"needs messages.read where it lives, else the list is empty, as Langflow filters).",
		Access: access.Own("messages", "read"), Params: []httpapi.Param{{Name: "flow_id", In: "query", Format: "uuid"}},
		Response: []SessionRead{}, ReadModels: MessageReadModels, Handler: h.sessions})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/monitor/messages", Tag: "Monitor", Summary: "Get Messages",
		Description: "The messages of the caller's flows, filtered by flow_id, session_id (URL-decoded once more, as Langflow " +
			"does), sender and sender_name, ordered by order_by ascending (ties by id). Another user's flow needs " +
			"messages.read where it lives, else nothing is listed (GHSA-9c59-2mvc-vfr8).",
		Access: access.Own("messages", "read"), Params: append([]httpapi.Param{{Name: "flow_id", In: "query", Format: "uuid"}}, filters...),
		Response: []MessageRead{}, ReadModels: MessageReadModels, Handler: h.messages})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/monitor/transactions", Tag: "Monitor", Summary: "Get Transactions",
		Description: "The transactions of a flow the caller owns (or holds messages.read where it lives), oldest first, " +
			"as a page. Anyone else's flow is 404.",
		Access: access.Own("messages", "read"), Params: []httpapi.Param{flowQuery,
			{Name: "page", In: "query", Type: "integer", Default: 1, Description: "Page number"},
			{Name: "size", In: "query", Type: "integer", Default: 50, Description: "Page size"}},
		Response: TransactionPage{}, ReadModels: MonitorReadModels, Handler: h.transactions})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/build_public_tmp/{flow_id}/messages", Tag: "Chat",
		Summary: "Get Public Chat Messages",
		Description: "The caller's own messages in a PUBLIC flow: those of the chat sessions the caller holds, with " +
			"Get Messages' filters. Any other flow is 404.",
		Access: access.SignedIn(), Params: append([]httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"}}, filters...),
		Response: []MessageRead{}, ReadModels: MessageReadModels, Handler: h.public})
}

// where builds the filter of q (bound to args) after the scope clause.
func (q MessageQuery) where(scope string, args []any) (string, []any) {
	sql := scope
	add := func(col string, v any) {
		args = append(args, v)
		sql += fmt.Sprintf(" AND %s = $%d", col, len(args))
	}
	if q.FlowID != nil {
		add("m.flow_id", *q.FlowID)
	}
	if q.SessionID != nil {
		sid := *q.SessionID
		if dec, err := url.PathUnescape(sid); err == nil {
			sid = dec // Langflow unquotes the (already decoded) value once more
		}
		add("m.session_id", sid)
	}
	if q.Sender != nil {
		add("m.sender", *q.Sender)
	}
	if q.SenderName != nil {
		add("m.sender_name", *q.SenderName)
	}
	return sql + " ORDER BY " + messageOrder[q.OrderBy] + ", m.id", args
}

func (h *monitorReads) list(c *gin.Context, sql string, args []any) {
	rows, _ := h.pool.Query(c.Request.Context(), `SELECT `+messageColumns+` FROM messages m WHERE `+sql, args...)
	out, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		httpapi.Fail(c, fmt.Errorf("read messages: %w", err))
		return
	}
	if out == nil {
		out = []MessageRead{}
	}
	c.JSON(http.StatusOK, out)
}

func (h *monitorReads) messages(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	var q MessageQuery
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	scope, args := "m.owner_id = $1", []any{caller.UserID}
	if q.FlowID != nil {
		f, err := VisibleFlow(c.Request.Context(), h.pool, caller, *q.FlowID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			httpapi.Fail(c, err)
			return
		}
		if err != nil { // not the caller's to see: nothing, as Langflow's filter by owner answers
			c.JSON(http.StatusOK, []MessageRead{})
			return
		}
		scope, args = "m.owner_id = $1", []any{f.UserID}
	}
	sql, args := q.where(scope, args)
	h.list(c, sql, args)
}

func (h *monitorReads) public(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "flow_id")
	var q MessageQuery
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	f, err := FlowByID(c.Request.Context(), h.pool, id)
	if err == nil && (f.AccessType != domain.AccessPublic || f.IsDeleted) {
		err = domain.NotFoundf("Flow not found")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	q.FlowID = &id
	sql, args := q.where("m.user_id = $1", []any{caller.UserID})
	h.list(c, sql, args)
}

func (h *monitorReads) sessions(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	var q struct {
		FlowID *uuid.UUID `form:"flow_id"`
	}
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	sql, args := ` WHERE s.owner_id = $1`, []any{caller.UserID}
	if q.FlowID != nil {
		f, err := VisibleFlow(c.Request.Context(), h.pool, caller, *q.FlowID)
		if errors.Is(err, domain.ErrNotFound) {
			c.JSON(http.StatusOK, []SessionRead{})
			return
		}
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		sql, args = ` WHERE s.owner_id = $1 AND s.flow_id = $2`, []any{f.UserID, f.ID}
	}
	rows, _ := h.pool.Query(c.Request.Context(), `SELECT `+sessionColumns+sql+` ORDER BY s.create_at, s.id`, args...)
	out, err := pgx.CollectRows(rows, scanSession)
	if err != nil {
		httpapi.Fail(c, fmt.Errorf("read sessions: %w", err))
		return
	}
	if out == nil {
		out = []SessionRead{}
	}
	c.JSON(http.StatusOK, out)
}

// monitoredFlow binds the required flow_id query parameter and reads the
// flow for the caller (404 for flows the caller may not see).
func (h *monitorReads) monitoredFlow(c *gin.Context, dst any, flowID func() uuid.UUID) (FlowRead, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok || !httpapi.BindQuery(c, dst) {
		return FlowRead{}, false
	}
	f, err := VisibleFlow(c.Request.Context(), h.pool, caller, flowID())
	if err != nil {
		httpapi.Fail(c, err)
		return FlowRead{}, false
	}
	return f, true
}

func (h *monitorReads) builds(c *gin.Context) {
	var q struct {
		FlowID uuid.UUID `form:"flow_id" binding:"required"`
	}
	f, ok := h.monitoredFlow(c, &q, func() uuid.UUID { return q.FlowID })
	if !ok {
		return
	}
	out, err := VertexBuildsOf(c.Request.Context(), h.pool, f.ID)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// VertexBuildsOf reads the vertex builds of flow, grouped by vertex id.
func VertexBuildsOf(ctx context.Context, pool *pgxpool.Pool, flow uuid.UUID) (VertexBuildMap, error) {
	rows, _ := pool.Query(ctx, `SELECT timestamp, id, data, artifacts, params, valid, flow_id, build_id
FROM vertex_builds WHERE flow_id = $1 ORDER BY timestamp, seq`, flow)
	builds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (VertexBuildRead, error) {
		var b VertexBuildRead
		err := row.Scan(&b.Timestamp, &b.ID, (*[]byte)(&b.Data), (*[]byte)(&b.Artifacts), &b.Params, &b.Valid, &b.FlowID, &b.BuildID)
		b.Timestamp = b.Timestamp.UTC()
		if len(b.Data) == 0 {
			b.Data = json.RawMessage("null")
		}
		if len(b.Artifacts) == 0 {
			b.Artifacts = json.RawMessage("null")
		}
		return b, err
	})
	if err != nil {
		return VertexBuildMap{}, fmt.Errorf("read vertex builds: %w", err)
	}
	out := VertexBuildMap{VertexBuilds: map[string][]VertexBuildRead{}}
	for _, b := range builds {
		out.VertexBuilds[b.ID] = append(out.VertexBuilds[b.ID], b)
	}
	return out, nil
}

func (h *monitorReads) transactions(c *gin.Context) {
	var q struct {
		FlowID uuid.UUID `form:"flow_id" binding:"required"`
		Page   int64     `form:"page,default=1" binding:"gte=1,lte=1000000000"`
		Size   int64     `form:"size,default=50" binding:"gte=1,lte=100"`
	}
	f, ok := h.monitoredFlow(c, &q, func() uuid.UUID { return q.FlowID })
	if !ok {
		return
	}
	ctx := c.Request.Context()
	page := TransactionPage{Items: []TransactionRead{}, Page: q.Page, Size: q.Size}
	if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE flow_id = $1`, f.ID).Scan(&page.Total); err != nil {
		httpapi.Fail(c, fmt.Errorf("count transactions: %w", err))
		return
	}
	page.Pages = (page.Total + q.Size - 1) / q.Size
	rows, _ := h.pool.Query(ctx, `SELECT id, timestamp, vertex_id, target_id, inputs, outputs, status, error, flow_id
FROM transactions WHERE flow_id = $1 ORDER BY timestamp, seq LIMIT $2 OFFSET $3`, f.ID, q.Size, (q.Page-1)*q.Size)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TransactionRead, error) {
		var t TransactionRead
		err := row.Scan(&t.ID, &t.Timestamp, &t.VertexID, &t.TargetID, (*[]byte)(&t.Inputs), (*[]byte)(&t.Outputs), &t.Status, &t.Error, &t.FlowID)
		t.Timestamp = t.Timestamp.UTC()
		if len(t.Inputs) == 0 {
			t.Inputs = json.RawMessage("null")
		}
		if len(t.Outputs) == 0 {
			t.Outputs = json.RawMessage("null")
		}
		return t, err
	})
	if err != nil {
		httpapi.Fail(c, fmt.Errorf("read transactions: %w", err))
		return
	}
	if items != nil {
		page.Items = items
	}
	c.JSON(http.StatusOK, page)
}
