package audit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ReadModels are the projections the audit events read.
var ReadModels = []string{"audit_log"}

// Entry is one row of the audit trail.
type Entry struct {
	Position      string          `json:"position"`
	EventID       uuid.UUID       `json:"event_id"`
	StreamID      string          `json:"stream_id"`
	StreamVersion int64           `json:"stream_version"`
	EventType     string          `json:"event_type"`
	ActorID       int64           `json:"actor_id"`
	ActorName     *string         `json:"actor_name"`
	OccurredAt    time.Time       `json:"occurred_at"`
	CorrelationID string          `json:"correlation_id"`
	ClientIP      string          `json:"client_ip"`
	Data          json.RawMessage `json:"data"`
}

// Entries is a page of the trail; NextCursor continues it (null at the end).
type Entries struct {
	Items      []Entry `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// EventsQuery is the query of GET /api/v1/audit/events.
type EventsQuery struct {
	TenantID uuid.UUID  `form:"tenant_id" binding:"required"`
	From     *time.Time `form:"from"`
	To       *time.Time `form:"to"`
	Actor    *int64     `form:"actor"`
	Stream   string     `form:"stream"`
	Type     string     `form:"type"`
	Cursor   string     `form:"cursor"`
	Limit    int        `form:"limit,default=100" binding:"gte=1,lte=1000"`
}

// StateQuery is the query of GET /api/v1/audit/state.
type StateQuery struct {
	TenantID uuid.UUID `form:"tenant_id" binding:"required"`
	AsOf     string    `form:"as_of" binding:"required"`
}

// Register adds the audit operations: audit.read in the tenant asked
// about (access.Tenant).
func Register(s *httpapi.Server, r *Replayer) {
	h := &handlers{r: r}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/audit/events", Access: access.Tenant("audit", "read"), Tag: "Audit", Summary: "Read Audit Events",
		Description: "Every change of a tenant (events that carry it), in log order: who, when, what; the values of " +
			"flows' password fields are emptied. " +
			"Filters: from/to (RFC 3339), actor (user id), stream, type; cursor-paginated (next_cursor).",
		Params: []httpapi.Param{
			{Name: "tenant_id", In: "query", Format: "uuid", Required: true, Place: tenancy.PlaceTenant},
			{Name: "from", In: "query", Format: "date-time"}, {Name: "to", In: "query", Format: "date-time"},
			{Name: "actor", In: "query", Type: "integer"}, {Name: "stream", In: "query"}, {Name: "type", In: "query"},
			{Name: "cursor", In: "query", Description: "next_cursor of the previous page"},
			{Name: "limit", In: "query", Type: "integer", Default: 100},
		},
		Response: Entries{}, ReadModels: ReadModels, Handler: h.events})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/audit/state", Access: access.Tenant("audit", "read"), Tag: "Audit", Summary: "Read Audit State",
		Description: "The tenant's entities as they were at as_of (an RFC 3339 time or a log position), " +
			"computed by replaying the log, not from the current read models.",
		Params: []httpapi.Param{
			{Name: "tenant_id", In: "query", Format: "uuid", Required: true, Place: tenancy.PlaceTenant},
			{Name: "as_of", In: "query", Required: true, Description: "RFC 3339 time or log position"},
		},
		ReadModels: ReadModels, Handler: h.state})
}

type handlers struct {
	r *Replayer
}

func (h *handlers) events(c *gin.Context) {
	var q EventsQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	args := pgx.NamedArgs{"tenant": q.TenantID, "limit": q.Limit + 1}
	where := `a.tenant_id = @tenant`
	if q.From != nil {
		where += ` AND a.occurred_at >= @from`
		args["from"] = *q.From
	}
	if q.To != nil {
		where += ` AND a.occurred_at <= @to`
		args["to"] = *q.To
	}
	if q.Actor != nil {
		where += ` AND a.actor_id = @actor`
		args["actor"] = *q.Actor
	}
	if q.Stream != "" {
		where += ` AND a.stream_id = @stream`
		args["stream"] = q.Stream
	}
	if q.Type != "" {
		where += ` AND a.event_type = @type`
		args["type"] = q.Type
	}
	if q.Cursor != "" {
		pos, err := httpapi.ParsePosition(q.Cursor, "query", "cursor")
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		where += ` AND (a.commit_position, a.prepare_position) > (@cc, @cp)`
		args["cc"], args["cp"] = int64(pos.Commit), int64(pos.Prepare)
	}
	rows, _ := h.r.Pool.Query(c.Request.Context(), `SELECT a.commit_position, a.prepare_position, a.event_id, a.stream_id,
    a.stream_version, a.event_type, a.actor_id, coalesce(nullif(u.nickname, ''), u.username), a.occurred_at,
    a.correlation_id, a.client_ip, a.data
FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
WHERE `+where+` ORDER BY a.commit_position, a.prepare_position LIMIT @limit`, args)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var (
			e      Entry
			cp, pp int64
		)
		err := row.Scan(&cp, &pp, &e.EventID, &e.StreamID, &e.StreamVersion, &e.EventType, &e.ActorID, &e.ActorName,
			&e.OccurredAt, &e.CorrelationID, &e.ClientIP, (*[]byte)(&e.Data))
		e.Position = eventstoreAt(cp, pp)
		e.OccurredAt = e.OccurredAt.UTC()
		// Auditors read what changed, not the secrets of flows' graphs.
		e.Data = domain.MaskPasswordFields(e.Data)
		return e, err
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	out := Entries{Items: items}
	if out.Items == nil {
		out.Items = []Entry{}
	}
	if len(items) > q.Limit {
		out.Items = items[:q.Limit]
		next := out.Items[q.Limit-1].Position
		out.NextCursor = &next
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) state(c *gin.Context) {
	var q StateQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	at, err := ParseInstant(q.AsOf)
	if err != nil {
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error",
			Loc: []any{"query", "as_of"}, Msg: "Value error, " + err.Error(), Input: q.AsOf}}})
		return
	}
	if _, err := tenancy.Lookup(c.Request.Context(), h.r.Pool, q.TenantID); err != nil {
		httpapi.Fail(c, err)
		return
	}
	st, err := h.r.State(c.Request.Context(), q.TenantID, at)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func eventstoreAt(commit, prepare int64) string {
	if commit == prepare {
		return strconv.FormatInt(commit, 10)
	}
	return strconv.FormatInt(commit, 10) + "/" + strconv.FormatInt(prepare, 10)
}
