package readapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// MCPServersReadModels are the read models MCP server operations read.
var MCPServersReadModels = []string{projections.MCPServersName, "access"}

// MCPServerRead is an MCP server as the API shows it: Langflow's config
// keys (command, args, env, url, headers) with the registry's. Every value
// of env and headers is masked (domain.SecretMask): it is never answered
// in clear once written. action_count is the number of tools found at the
// last successful test connection.
type MCPServerRead struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	MCPType     string            `json:"mcp_type"`
	Command     string            `json:"command"`
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env"`
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers"`
	MCPScope    int               `json:"mcp_scope"`
	BusinessID  int64             `json:"business_id"`
	TenantID    uuid.UUID         `json:"tenant_id"`
	Logo        string            `json:"logo"`
	Note        string            `json:"note"`
	IsActive    bool              `json:"is_active"`
	ActionCount int               `json:"action_count"`
	projections.Audited
	// Mode and ToolsCount are Langflow's list fields (its GET
	// /api/v2/mcp/servers answers {name, mode, toolsCount}): null, or with
	// ?action_count=true the type and the stored tool count.
	Mode       *string `json:"mode"`
	ToolsCount *int    `json:"toolsCount"`
}

const mcpServerColumns = `m.id, m.name, m.mcp_type, m.command, m.args, m.env, m.url, m.headers, m.scope, m.business_id,
    m.tenant_id, m.logo, m.note, m.is_active, m.action_count, m.c_uid, m.m_uid, m.ctime, m.utime`

func scanMCPServer(row pgx.CollectableRow) (MCPServerRead, error) {
	var e MCPServerRead
	err := row.Scan(&e.ID, &e.Name, &e.MCPType, &e.Command, &e.Args, &e.Env, &e.URL, &e.Headers, &e.MCPScope, &e.BusinessID,
		&e.TenantID, &e.Logo, &e.Note, &e.IsActive, &e.ActionCount, &e.CUID, &e.MUID, &e.CTime, &e.UTime)
	e.InUTC()
	if e.Args == nil {
		e.Args = []string{}
	}
	e.Env, e.Headers = domain.MaskMCPValues(e.Env), domain.MaskMCPValues(e.Headers)
	return e, err
}

// MCPServerByID reads server id (404 if there is none): the answer of a
// write, which its caller was allowed to make.
func MCPServerByID(ctx context.Context, db DB, id int64) (MCPServerRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+mcpServerColumns+` FROM mcp_servers m WHERE m.id = $1`, id)
	return exactlyOne(rows, scanMCPServer, domain.NotFoundf(domain.MsgMCPServerNotFound), "MCP server")
}

// MCPServerLookup is how Get Server Endpoint (and Test Server Connection)
// pick one of the servers of a name: by server_id, else at mcp_scope and
// business_id.
type MCPServerLookup struct {
	ServerID   *int64 `form:"server_id"`
	MCPScope   *int   `form:"mcp_scope" binding:"omitnil,min=0,max=3"`
	BusinessID *int64 `form:"business_id"`
}

// VisibleMCPServer reads the server named name that caller sees in tenant
// (can: where the caller holds the route's privilege, tenancy.Readable),
// 404 if none:
//
//   - server_id: that server (its name must be name);
//   - mcp_scope: the one at that scope (business_id for scope 2; the
//     caller's own for scope 3);
//   - business_id alone: the one of that business (scope 2);
//   - neither: the tenant's (scope 1); else the most specific visible one:
//     the caller's personal (3), then a business one (2, lowest id), then
//     the system one (0).
func VisibleMCPServer(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, name string, q MCPServerLookup) (MCPServerRead, error) {
	var args sqlArgs
	var where []string
	switch {
	case q.ServerID != nil:
		where = []string{catalogVisible(&args, "m", caller, tenant, can), "m.id = " + args.add(*q.ServerID)}
	case q.MCPScope != nil || q.BusinessID != nil && *q.BusinessID != 0:
		where = catalogWhere(&args, "m", caller, tenant, can, CatalogScopeFilter{Scope: q.MCPScope, BusinessID: q.BusinessID})
	default:
		where = []string{catalogVisible(&args, "m", caller, tenant, can)}
	}
	where = append(where, "m.name = "+args.add(name))
	if q.MCPScope != nil && *q.MCPScope == domain.CatalogScopePersonal {
		where = append(where, "m.c_uid = "+args.add(caller.UserID))
	}
	rows, _ := db.Query(ctx, `SELECT `+mcpServerColumns+` FROM mcp_servers m WHERE `+strings.Join(where, " AND ")+`
ORDER BY CASE m.scope WHEN 1 THEN 0 WHEN 3 THEN 1 WHEN 2 THEN 2 ELSE 3 END, m.id LIMIT 1`, args...)
	return exactlyOne(rows, scanMCPServer, domain.NotFoundf(domain.MsgMCPServerNotFound), "MCP server")
}

// MCPServersQuery is the query string of Get Servers.
type MCPServersQuery struct {
	ActionCount          *bool  `form:"action_count"`
	MCPScope             *int   `form:"mcp_scope" binding:"omitnil,min=0,max=3"`
	BusinessID           *int64 `form:"business_id"`
	AllScopes            bool   `form:"all_scopes"`
	IncludeSubBusinesses bool   `form:"include_sub_businesses"`
	MCPType              string `form:"mcp_type" binding:"omitempty,oneof=stdio sse streamable_http"`
	IsActive             *bool  `form:"is_active"`
	Keyword              string `form:"keyword" binding:"max=255"`
	SortBy               string `form:"sort_by,default=ctime" binding:"oneof=id name mcp_type action_count ctime utime"`
	SortOrder            string `form:"sort_order,default=desc" binding:"oneof=asc desc"`
}

var mcpServerSorts = map[string]string{
	"id": "m.id", "name": "lower(m.name)", "mcp_type": "m.mcp_type", "action_count": "m.action_count",
	"ctime": "m.ctime", "utime": "m.utime",
}

// ListMCPServers lists the servers caller sees in tenant (catalogWhere:
// the visibility rule and the scope filter), filtered by mcp_type,
// is_active and keyword (a case-insensitive substring of name, note, url
// or command); ties of the sort column go by id in the same direction.
func ListMCPServers(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, q MCPServersQuery) ([]MCPServerRead, error) {
	var args sqlArgs
	where := catalogWhere(&args, "m", caller, tenant, can, CatalogScopeFilter{Scope: q.MCPScope, BusinessID: q.BusinessID,
		AllScopes: q.AllScopes, IncludeSubBusinesses: q.IncludeSubBusinesses})
	if q.MCPScope != nil && *q.MCPScope == domain.CatalogScopePersonal && !q.AllScopes {
		where = append(where, "m.c_uid = "+args.add(caller.UserID))
	}
	if q.MCPType != "" {
		where = append(where, "m.mcp_type = "+args.add(q.MCPType))
	}
	if q.IsActive != nil {
		where = append(where, "m.is_active = "+args.add(*q.IsActive))
	}
	if q.Keyword != "" {
		where = append(where, searchAny(&args, q.Keyword, "m.name", "m.note", "m.url", "m.command"))
	}
	dir := direction(q.SortOrder)
	rows, _ := db.Query(ctx, `SELECT `+mcpServerColumns+` FROM mcp_servers m WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+mcpServerSorts[q.SortBy]+` `+dir+`, m.id `+dir, args...)
	return collectAll(rows, scanMCPServer, "list MCP servers")
}

// MCPServerQueryParams are the lookup parameters of the routes of one
// server (business_id is a place of the request's tenant).
func MCPServerQueryParams(serverID bool) []httpapi.Param {
	ps := []httpapi.Param{{Name: "server_name", In: "path", Description: "The server's name."}}
	if serverID {
		ps = append(ps, httpapi.Param{Name: "server_id", In: "query", Type: "integer", Description: "Pick the server by id (its name must match)."})
	}
	return append(ps,
		httpapi.Param{Name: "mcp_scope", In: "query", Type: "integer", Description: "0 system, 1 tenant, 2 business, 3 personal (default: see the description)."},
		httpapi.Param{Name: "business_id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness, Description: "The business of a business (2) server."})
}

// RegisterMCPServerReads registers Get Servers (#207) and Get Server
// Endpoint (#209): holders of mcp.read somewhere in the caller's tenant
// (X-Tenant-Id, else the system tenant), narrowed to what they may see.
func RegisterMCPServerReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &mcpServerReads{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v2/mcp/servers", Access: access.Scoped("mcp", "read"),
		Tag: "MCP", Summary: "Get Servers",
		Description: "The MCP servers the caller sees in the request's tenant: system servers, the tenant's, those of the businesses " +
			"where the caller holds mcp.read, and their own personal ones. all_scopes lists all of them; else mcp_scope (default: 2 " +
			"when business_id is given, else 1) picks one scope and business_id one business (with its sub-businesses when " +
			"include_sub_businesses). action_count is always the stored count of the last successful test connection (no server " +
			"is contacted). env and headers values are masked.",
		Params: []httpapi.Param{{Name: "action_count", In: "query", Type: "boolean", Description: "Accepted for Langflow; the stored count is always answered."},
			{Name: "mcp_scope", In: "query", Type: "integer", Description: "0 system, 1 tenant, 2 business, 3 personal."},
			{Name: "business_id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness},
			{Name: "all_scopes", In: "query", Type: "boolean", Default: false},
			{Name: "include_sub_businesses", In: "query", Type: "boolean", Default: false},
			{Name: "mcp_type", In: "query", Enum: []string{"stdio", "sse", "streamable_http"}},
			{Name: "is_active", In: "query", Type: "boolean"},
			{Name: "keyword", In: "query", Description: "Case-insensitive substring of name, note, url or command."},
			{Name: "sort_by", In: "query", Default: "ctime", Enum: []string{"id", "name", "mcp_type", "action_count", "ctime", "utime"}},
			{Name: "sort_order", In: "query", Default: "desc", Enum: []string{"asc", "desc"}}},
		Response: []MCPServerRead{}, ReadModels: MCPServersReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "read"),
		Tag: "MCP", Summary: "Get Server Endpoint",
		Description: "One MCP server the caller sees, by name: server_id picks it by id; mcp_scope (and business_id) at that " +
			"scope; business_id alone the business's; else the tenant's (scope 1), or failing that the caller's personal one, a " +
			"business one, the system one. 404 when the caller sees none. env and headers values are masked.",
		Params: MCPServerQueryParams(true), Response: MCPServerRead{}, ReadModels: MCPServersReadModels, Handler: h.get})
}

type mcpServerReads struct {
	pool *pgxpool.Pool
}

// MCPReadScope resolves the request's tenant for a scoped read
// (tenancy.ResolveScoped) and where in it the caller holds the route's
// privilege.
func MCPReadScope(c *gin.Context, pool *pgxpool.Pool) (auth.Principal, uuid.UUID, tenancy.Scope, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	t, ok := tenancy.ResolveScoped(c, pool, nil)
	if !ok {
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	can, err := tenancy.Readable(c.Request.Context(), t.ID)
	if err != nil {
		httpapi.Fail(c, err)
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	return caller, t.ID, can, true
}

func (h *mcpServerReads) list(c *gin.Context) {
	var q MCPServersQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	caller, tenant, can, ok := MCPReadScope(c, h.pool)
	if !ok {
		return
	}
	out, err := ListMCPServers(c.Request.Context(), h.pool, caller, tenant, can, q)
	if q.ActionCount != nil && *q.ActionCount {
		for i := range out {
			out[i].Mode, out[i].ToolsCount = &out[i].MCPType, &out[i].ActionCount
		}
	}
	respond(c, out, err)
}

func (h *mcpServerReads) get(c *gin.Context) {
	var q MCPServerLookup
	if !httpapi.BindQuery(c, &q) {
		return
	}
	caller, tenant, can, ok := MCPReadScope(c, h.pool)
	if !ok {
		return
	}
	out, err := VisibleMCPServer(c.Request.Context(), h.pool, caller, tenant, can, c.Param("server_name"), q)
	respond(c, out, err)
}
