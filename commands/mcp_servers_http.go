package commands

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/mcpclient"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// MCPServersPort is the HTTP port of the MCP server registry's writes and
// of its test connection: it binds a request, resolves the caller's
// tenant (X-Tenant-Id, else the system tenant; the place rule is
// CatalogWriter's, asked by the handler), calls the MCPServersHandler and
// answers what the read model shows (env and headers values masked).
type MCPServersPort struct {
	Server  *httpapi.Server
	Handler *MCPServersHandler
	Pool    *pgxpool.Pool
	Clock   func() time.Time
}

const msgMCPServerDeleted = "MCP server deleted"

// MCPServerBody is the body of Add Server and of the updates: absent or
// null fields stay as they are (on an add: mcp_scope 1, is_active true,
// mcp_type inferred — command: stdio; url: sse when its path ends in /sse,
// else streamable_http). env and headers values are secrets: sealed
// before they are stored, masked in every answer; on an update each map
// replaces the stored one, and a value sent back as the mask keeps the
// stored value. new_name renames (updates only). Other properties are
// accepted and ignored.
type MCPServerBody struct {
	MCPScope   *int               `json:"mcp_scope"`
	BusinessID *int64             `json:"business_id"`
	NewName    *string            `json:"new_name"`
	MCPType    *string            `json:"mcp_type"`
	Command    *string            `json:"command"`
	Args       *[]string          `json:"args"`
	Env        *map[string]string `json:"env"`
	Headers    *map[string]string `json:"headers"`
	URL        *string            `json:"url"`
	Logo       *string            `json:"logo"`
	Note       *string            `json:"note"`
	IsActive   *bool              `json:"is_active"`
}

func (b MCPServerBody) fields() MCPServerFields {
	return MCPServerFields{Scope: b.MCPScope, BusinessID: b.BusinessID, MCPType: b.MCPType, Command: b.Command, Args: b.Args,
		Env: b.Env, Headers: b.Headers, URL: b.URL, Logo: b.Logo, Note: b.Note, IsActive: b.IsActive}
}

// MCPTestAnswer is the answer of Test Server Connection: success and the
// tools (name, description) with their number, or success false and the
// connection's error.
type MCPTestAnswer struct {
	Success     bool              `json:"success"`
	Tools       *[]mcpclient.Tool `json:"tools,omitempty"`
	ActionCount *int              `json:"action_count,omitempty"`
	Error       string            `json:"error,omitempty"`
}

type mcpPlaceQuery struct {
	MCPScope   *int   `form:"mcp_scope" binding:"omitnil,min=0,max=3"`
	BusinessID *int64 `form:"business_id"`
}

type mcpBusinessQuery struct {
	BusinessID *int64 `form:"business_id"`
}

type mcpIDQuery struct {
	ServerID *int64 `form:"server_id" binding:"required"`
}

// Routes registers the write operations of the MCP servers and their test
// connection.
func (p *MCPServersPort) Routes(s *httpapi.Server) {
	models := readapi.MCPServersReadModels
	name := []httpapi.Param{{Name: "server_name", In: "path", Description: "The server's name."}}
	business := httpapi.Param{Name: "business_id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness,
		Description: "The business of a business (2) server."}
	scope := httpapi.Param{Name: "mcp_scope", In: "query", Type: "integer", Description: "0 system, 1 tenant, 2 business, 3 personal."}
	const where = " Writing a server needs the privilege where it lives (system servers: superusers; tenant: tenant-wide; " +
		"business: in that business; personal: its creator). stdio servers (a command this server starts) are for superusers " +
		"only, and only when SKILLFLAW_MCP_STDIO_ENABLE is on."
	const lookup = " The server is found by name: at mcp_scope / business_id when given, else the tenant's (scope 1), else the " +
		"caller's personal one, else the system one."
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v2/mcp/servers", Access: access.Scoped("mcp", "modify"),
		Tag: "MCP", Summary: "Update Server Endpoint By Query",
		Description: "Change the MCP server server_id; absent or null fields stay as they are (new_name renames; env and headers " +
			"each replace the stored map, a masked value keeps the stored one)." + where,
		Params: []httpapi.Param{{Name: "server_id", In: "query", Type: "integer", Required: true}},
		Body:   MCPServerBody{}, Response: readapi.MCPServerRead{}, ReadModels: models, Handler: p.patchByID})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "write"),
		Tag: "MCP", Summary: "Add Server",
		Description: "Register an MCP server named server_name (Langflow's {command, args, env} or {url, headers} bodies work): " +
			"mcp_scope (default 1) and business_id place it; the name is unique there (409). env and headers values are " +
			"encrypted (SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY needed) and masked in every answer." + where,
		Params: name, Body: MCPServerBody{}, Response: readapi.MCPServerRead{}, ReadModels: models, Handler: p.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "modify"),
		Tag: "MCP", Summary: "Update Server Endpoint",
		Description: "Change an MCP server; absent or null fields stay as they are (new_name renames; mcp_scope and business_id " +
			"of the body move it; env and headers each replace the stored map, a masked value keeps the stored one)." + lookup +
			" (business_id in the query: that business's.)" + where,
		Params: append(name, business), Body: MCPServerBody{}, Response: readapi.MCPServerRead{}, ReadModels: models, Handler: p.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "delete"),
		Tag: "MCP", Summary: "Delete Server", Description: "Remove an MCP server." + lookup,
		Params: append(name, scope, business), Response: Detail{}, ReadModels: models, Handler: p.remove})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v2/mcp/servers/{server_name}/test", Access: access.Scoped("mcp", "read"),
		Tag: "MCP", Summary: "Test Server Connection",
		Description: "Connect to an MCP server the caller sees (as Get Server Endpoint finds it) and list its tools: " +
			"{success: true, tools: [{name, description}], action_count} — the count is recorded as the server's action_count — " +
			"or, when the connection fails (refused by the egress policy, unreachable, timed out after 15 s, not an MCP " +
			"server), 200 {success: false, error}. SSE and streamable HTTP servers are reached through the egress policy " +
			"(internal addresses need SKILLFLAW_EGRESS_ALLOW); stdio servers only by superusers with SKILLFLAW_MCP_STDIO_ENABLE on.",
		Params: append(name, scope, business), Response: MCPTestAnswer{}, ReadModels: models, Handler: p.test})
}

func (p *MCPServersPort) begin(c *gin.Context, body any, query any) (uuid.UUID, auth.Principal, eventstore.Metadata, bool) {
	if query != nil && !httpapi.BindQuery(c, query) {
		return uuid.Nil, auth.Principal{}, eventstore.Metadata{}, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return uuid.Nil, auth.Principal{}, eventstore.Metadata{}, false
	}
	caller, ok := auth.CallerOf(c)
	if !ok {
		return uuid.Nil, caller, eventstore.Metadata{}, false
	}
	// The place rule is CatalogWriter's: a business writer holds no
	// tenant-wide privilege.
	t, ok := tenancy.ResolveScoped(c, p.Pool, nil)
	if !ok {
		return uuid.Nil, caller, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, p.Clock())
	md.TenantID = t.ID
	return t.ID, caller, md, true
}

func (p *MCPServersPort) answer(c *gin.Context, w MCPServerWritten, err error) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, http.StatusOK, func(ctx context.Context, db readapi.DB) (readapi.MCPServerRead, error) {
		return readapi.MCPServerByID(ctx, db, w.ID)
	})
}

func (p *MCPServersPort) add(c *gin.Context) {
	var body MCPServerBody
	tenant, caller, md, ok := p.begin(c, &body, nil)
	if !ok {
		return
	}
	w, err := p.Handler.Add(c.Request.Context(), AddMCPServer{Tenant: tenant, Meta: md, Caller: caller,
		Name: c.Param("server_name"), MCPServerFields: body.fields()})
	p.answer(c, w, err)
}

func (p *MCPServersPort) change(c *gin.Context, ref MCPServerRef, body MCPServerBody, tenant uuid.UUID, caller auth.Principal, md eventstore.Metadata) {
	w, err := p.Handler.Change(c.Request.Context(), ChangeMCPServer{Tenant: tenant, Meta: md, Caller: caller, Ref: ref,
		NewName: body.NewName, MCPServerFields: body.fields()})
	p.answer(c, w, err)
}

func (p *MCPServersPort) patchByID(c *gin.Context) {
	var body MCPServerBody
	var q mcpIDQuery
	tenant, caller, md, ok := p.begin(c, &body, &q)
	if !ok {
		return
	}
	p.change(c, MCPServerRef{ServerID: *q.ServerID}, body, tenant, caller, md)
}

func (p *MCPServersPort) patch(c *gin.Context) {
	var body MCPServerBody
	var q mcpBusinessQuery
	tenant, caller, md, ok := p.begin(c, &body, &q)
	if !ok {
		return
	}
	p.change(c, MCPServerRef{Name: c.Param("server_name"), BusinessID: q.BusinessID}, body, tenant, caller, md)
}

func (p *MCPServersPort) remove(c *gin.Context) {
	var q mcpPlaceQuery
	tenant, caller, md, ok := p.begin(c, nil, &q)
	if !ok {
		return
	}
	w, err := p.Handler.Remove(c.Request.Context(), RemoveMCPServer{Tenant: tenant, Meta: md, Caller: caller,
		Ref: MCPServerRef{Name: c.Param("server_name"), Scope: q.MCPScope, BusinessID: q.BusinessID}})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgMCPServerDeleted})
}

func (p *MCPServersPort) test(c *gin.Context) {
	var q mcpPlaceQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	caller, tenant, can, ok := readapi.MCPReadScope(c, p.Pool)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	row, err := readapi.VisibleMCPServer(ctx, p.Pool, caller, tenant, can, c.Param("server_name"),
		readapi.MCPServerLookup{MCPScope: q.MCPScope, BusinessID: q.BusinessID})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	md := httpapi.Metadata(c, p.Clock())
	md.TenantID = row.TenantID
	res, err := p.Handler.Test(ctx, TestMCPServer{ServerTenant: row.TenantID, Meta: md, Caller: caller, ServerID: row.ID})
	out := MCPTestAnswer{Success: res.Success, ActionCount: res.ActionCount, Error: res.Error}
	if res.Success {
		tools := res.Tools
		if tools == nil {
			tools = []mcpclient.Tool{}
		}
		out.Tools = &tools
	}
	answerValue(c, p.Server, res.Result.Last(), err, http.StatusOK, out)
}
