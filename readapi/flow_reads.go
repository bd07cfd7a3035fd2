package readapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// FlowReadModels are the projections the flow reads wait for.
var FlowReadModels = []string{"flows"}

// flowReads serves the reads of single flows and their versions.
type flowReads struct {
	pool *pgxpool.Pool
	log  *flowLog // as_of reads fold the event log (flow_history.go)
}

// RegisterFlowReads adds Read Flow, Read Public Flow, Read Online Flow,
// Read Release Flow and Read Flow Versions. Read Flow with as_of folds the
// flow's stream from store (decoded by reg) instead of reading the flows
// read model; see flow_history.go.
func RegisterFlowReads(s *httpapi.Server, pool *pgxpool.Pool, store eventstore.Store, reg *eventstore.Registry) {
	h := &flowReads{pool: pool, log: &flowLog{pool: pool, store: store, reg: reg}}
	flowID := []httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"}}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}", Access: access.Own("flows", "read"), Tag: "Flows", Summary: "Read Flow",
		Description: "A flow of the caller (deleted ones too, with is_deleted true). With as_of, the flow as it was then, " +
			"folded from the event log: the events at or before a position (an X-Event-Position), or that occurred at or " +
			"before an RFC 3339 time; 404 if the flow did not exist yet. The values of template fields marked password " +
			"are emptied unless the caller owns the flow, is a superuser or holds flows.write or flows.modify where it " +
			"lives (so on every read of a flow's graph).",
		Params: append(flowID, httpapi.Param{Name: "as_of", In: "query",
			Description: "An event position (e.g. 42) or an RFC 3339 time (e.g. 2026-01-02T15:04:05.123456Z)."}),
		Response: FlowRead{}, ReadModels: FlowReadModels, Handler: h.read})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/public_flow/{flow_id}", Tag: "Flows",
		Summary: "Read Public Flow", Description: "A PUBLIC flow, for anyone (values of password fields emptied); any other flow is not found.",
		Public: true, Params: flowID, Response: FlowRead{}, ReadModels: FlowReadModels, Handler: h.public})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}/online", Access: access.Own("flows", "read"), Tag: "Flows",
		Summary: "Read Online Flow", Description: "The flow with the content of its online version; 404 when none is online.",
		Params: flowID, Response: FlowRead{}, ReadModels: FlowReadModels, Handler: h.online})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}/release", Access: access.Own("flows", "read"), Tag: "Flows",
		Summary: "Read Release Flow", Description: "The flow with the content of version v (its version string).",
		Params:   append(flowID, httpapi.Param{Name: "v", In: "query", Required: true}),
		Response: FlowRead{}, ReadModels: FlowReadModels, Handler: h.release})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}/versions", Access: access.Own("flows", "read"), Tag: "Flows",
		Summary: "Read Flow Versions", Description: "The flow's versions, newest first.",
		Params: flowID, Response: []FlowVersionRead{}, ReadModels: FlowReadModels, Handler: h.versions})
}

// OwnFlow reads flow id for the caller: the owner (or a superuser) sees it;
// for anyone else it does not exist.
func OwnFlow(c *gin.Context, pool *pgxpool.Pool) (FlowRead, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return FlowRead{}, false
	}
	id, ok := httpapi.PathUUID(c, "flow_id")
	if !ok {
		return FlowRead{}, false
	}
	f, err := FlowByID(c.Request.Context(), pool, id)
	if err == nil && f.UserID != caller.UserID && !caller.IsSuperuser &&
		tenancy.Authorize(c.Request.Context(), tenancy.OrSystem(f.TenantID), f.BusinessID) != nil {
		err = domain.NotFoundf("Flow not found") // not revealed to those who may not see it
	}
	if err != nil {
		httpapi.Fail(c, err)
		return FlowRead{}, false
	}
	return f, true
}

func (h *flowReads) read(c *gin.Context) {
	if asOf, ok := c.GetQuery("as_of"); ok {
		h.log.readAsOf(c, asOf)
		return
	}
	f, ok := OwnFlow(c, h.pool)
	if !ok {
		return
	}
	err := secretsFor(c.Request.Context()).flow(&f)
	respond(c, f, err)
}

func (h *flowReads) public(c *gin.Context) {
	id, ok := httpapi.PathUUID(c, "flow_id")
	if !ok {
		return
	}
	f, err := FlowByID(c.Request.Context(), h.pool, id)
	if err == nil && (f.AccessType != domain.AccessPublic || f.IsDeleted) {
		err = domain.NotFoundf("Flow not found")
	}
	// Anyone reads a public flow; nobody changes it without signing in.
	f.Data = domain.MaskPasswordFields(f.Data)
	respond(c, f, err)
}

func (h *flowReads) online(c *gin.Context) {
	f, ok := OwnFlow(c, h.pool)
	if !ok {
		return
	}
	if f.OnlineVersion == nil {
		httpapi.Fail(c, domain.NotFoundf("Flow has no online version"))
		return
	}
	h.withVersion(c, f, ` WHERE v.flow_id = $1 AND v.version = $2`, f.ID, *f.OnlineVersion)
}

func (h *flowReads) release(c *gin.Context) {
	var q struct {
		V string `form:"v" binding:"required"`
	}
	f, ok := OwnFlow(c, h.pool)
	if !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	h.withVersion(c, f, ` WHERE v.flow_id = $1 AND v.version = $2`, f.ID, q.V)
}

// withVersion answers f with the content of the version where selects.
func (h *flowReads) withVersion(c *gin.Context, f FlowRead, where string, args ...any) {
	v, err := oneVersion(c.Request.Context(), h.pool, where, args...)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	f = WithVersionContent(f, v)
	err = secretsFor(c.Request.Context()).flow(&f)
	respond(c, f, err)
}

// WithVersionContent is f showing version v's content.
func WithVersionContent(f FlowRead, v FlowVersionRead) FlowRead {
	f.Name, f.Description, f.FlowSkill, f.Icon, f.IconBgColor, f.Gradient = v.Name, v.Description, v.FlowSkill, v.Icon, v.IconBgColor, v.Gradient
	f.Data, f.IsComponent, f.Webhook, f.EndpointName, f.Tags = v.Data, v.IsComponent, v.Webhook, v.EndpointName, v.Tags
	f.MCPEnabled, f.ActionName, f.ActionDescription, f.AccessType = v.MCPEnabled, v.ActionName, v.ActionDescription, v.AccessType
	f.FlowType, f.IsHold, f.IsEndpoint = v.FlowType, v.IsHold, v.IsEndpoint
	return f
}

func (h *flowReads) versions(c *gin.Context) {
	f, ok := OwnFlow(c, h.pool)
	if !ok {
		return
	}
	out, err := FlowVersions(c.Request.Context(), h.pool, f.ID)
	secrets := secretsFor(c.Request.Context())
	for i := range out {
		if err == nil {
			out[i].Data, err = secrets.graph(out[i].Data, f.UserID, f.TenantID, f.BusinessID)
		}
	}
	respond(c, out, err)
}

// FlowVersions lists a flow's versions, newest first.
func FlowVersions(ctx context.Context, pool *pgxpool.Pool, flow uuid.UUID) ([]FlowVersionRead, error) {
	rows, _ := pool.Query(ctx, `SELECT `+VersionColumns+VersionFrom+` WHERE v.flow_id = $1 ORDER BY v.version_id DESC`, flow)
	out, err := pgx.CollectRows(rows, ScanVersion)
	if out == nil {
		out = []FlowVersionRead{}
	}
	return out, err
}
