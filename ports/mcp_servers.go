package ports

import (
	"context"
	"net/http"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/mcpclient"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The MCP server registry's writes (#208, #210–#213) and its test
// connection: each binds a request, resolves the caller's tenant
// (X-Tenant-Id, else the system tenant; the place rule is
// CatalogWriter's, asked by the handler: a business writer holds no
// tenant-wide privilege), calls the commands.MCPServersHandler and
// answers what the read model shows (env and headers values masked).

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

func (b MCPServerBody) fields() commands.MCPServerFields {
	return commands.MCPServerFields{Scope: b.MCPScope, BusinessID: b.BusinessID, MCPType: b.MCPType, Command: b.Command, Args: b.Args,
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

// The requests of the registry's writes: where each part of the command
// comes from (see Write).
type (
	patchMCPServerByID struct {
		ServerID *int64 `form:"server_id" binding:"required"`
		InScope
		Body MCPServerBody `body:""`
	}
	addMCPServer struct {
		Name string `path:"server_name" doc:"The server's name."`
		InScope
		Body MCPServerBody `body:""`
	}
	patchMCPServer struct {
		Name       string `path:"server_name" doc:"The server's name."`
		BusinessID *int64 `form:"business_id" place:"business" doc:"The business of a business (2) server."`
		InScope
		Body MCPServerBody `body:""`
	}
	// mcpServerAt names a server by name, at mcp_scope / business_id
	// when given (Delete Server, Test Server Connection).
	mcpServerAt struct {
		Name       string `path:"server_name" doc:"The server's name."`
		MCPScope   *int   `form:"mcp_scope" binding:"omitnil,min=0,max=3" doc:"0 system, 1 tenant, 2 business, 3 personal."`
		BusinessID *int64 `form:"business_id" place:"business" doc:"The business of a business (2) server."`
		InScope
	}
)

// MCPServers registers the write operations of the MCP servers and their
// test connection.
func MCPServers(p Port, h *commands.MCPServersHandler) {
	models := readapi.MCPServersReadModels
	const where = " Writing a server needs the privilege where it lives (system servers: superusers; tenant: tenant-wide; " +
		"business: in that business; personal: its creator). stdio servers (a command this server starts) are for superusers " +
		"only, and only when SKILLFLAW_MCP_STDIO_ENABLE is on."
	const lookup = " The server is found by name: at mcp_scope / business_id when given, else the tenant's (scope 1), else the " +
		"caller's personal one, else the system one."
	server := func(ctx context.Context, db readapi.DB, w commands.MCPServerWritten) (any, error) {
		return readapi.MCPServerByID(ctx, db, w.ID)
	}
	Write[patchMCPServerByID, commands.MCPServerWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v2/mcp/servers", Access: access.Scoped("mcp", "modify"),
			Tag: "MCP", Summary: "Update Server Endpoint By Query",
			Description: "Change the MCP server server_id; absent or null fields stay as they are (new_name renames; env and headers " +
				"each replace the stored map, a masked value keeps the stored one; a url on another host needs the headers again, 422)." + where,
			Response: readapi.MCPServerRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchMCPServerByID) (commands.MCPServerWritten, eventstore.Position, error) {
			w, err := h.Change(ctx, commands.ChangeMCPServer{Tenant: r.Tenant, Meta: r.Meta, Caller: r.Caller,
				Ref: commands.MCPServerRef{ServerID: *r.ServerID}, NewName: r.Body.NewName, MCPServerFields: r.Body.fields()})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchMCPServerByID, w commands.MCPServerWritten) (any, error) {
			return server(ctx, db, w)
		},
	}.Register(p)
	Write[addMCPServer, commands.MCPServerWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "write"),
			Tag: "MCP", Summary: "Add Server",
			Description: "Register an MCP server named server_name (Langflow's {command, args, env} or {url, headers} bodies work): " +
				"mcp_scope (default 1) and business_id place it; the name is unique there (409). env and headers values are " +
				"encrypted (SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY needed) and masked in every answer." + where,
			Response: readapi.MCPServerRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r addMCPServer) (commands.MCPServerWritten, eventstore.Position, error) {
			w, err := h.Add(ctx, commands.AddMCPServer{Tenant: r.Tenant, Meta: r.Meta, Caller: r.Caller,
				Name: r.Name, MCPServerFields: r.Body.fields()})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ addMCPServer, w commands.MCPServerWritten) (any, error) {
			return server(ctx, db, w)
		},
	}.Register(p)
	Write[patchMCPServer, commands.MCPServerWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "modify"),
			Tag: "MCP", Summary: "Update Server Endpoint",
			Description: "Change an MCP server; absent or null fields stay as they are (new_name renames; mcp_scope and business_id " +
				"of the body move it; env and headers each replace the stored map, a masked value keeps the stored one; a url on another " +
				"host needs the headers again, 422)." + lookup +
				" (business_id in the query: that business's.)" + where,
			Response: readapi.MCPServerRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchMCPServer) (commands.MCPServerWritten, eventstore.Position, error) {
			w, err := h.Change(ctx, commands.ChangeMCPServer{Tenant: r.Tenant, Meta: r.Meta, Caller: r.Caller,
				Ref: commands.MCPServerRef{Name: r.Name, BusinessID: r.BusinessID}, NewName: r.Body.NewName, MCPServerFields: r.Body.fields()})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchMCPServer, w commands.MCPServerWritten) (any, error) {
			return server(ctx, db, w)
		},
	}.Register(p)
	Write[mcpServerAt, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/mcp/servers/{server_name}", Access: access.Scoped("mcp", "delete"),
			Tag: "MCP", Summary: "Delete Server", Description: "Remove an MCP server." + lookup,
			Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r mcpServerAt) (Detail, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveMCPServer{Tenant: r.Tenant, Meta: r.Meta, Caller: r.Caller,
				Ref: commands.MCPServerRef{Name: r.Name, Scope: r.MCPScope, BusinessID: r.BusinessID}})
			return Detail{Detail: msgMCPServerDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[mcpServerAt, MCPTestAnswer]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v2/mcp/servers/{server_name}/test", Access: access.Scoped("mcp", "read"),
			Tag: "MCP", Summary: "Test Server Connection",
			Description: "Connect to an MCP server the caller sees (as Get Server Endpoint finds it) and list its tools: " +
				"{success: true, tools: [{name, description}], action_count} — the count is recorded as the server's action_count — " +
				"or, when the connection fails (refused by the egress policy, unreachable, timed out after 15 s, not an MCP " +
				"server), 200 {success: false, error}. SSE and streamable HTTP servers are reached through the egress policy " +
				"(internal addresses need SKILLFLAW_EGRESS_ALLOW); stdio servers only by superusers with SKILLFLAW_MCP_STDIO_ENABLE on.",
			Response: MCPTestAnswer{}, ReadModels: models},
		Handle: func(ctx context.Context, r mcpServerAt) (MCPTestAnswer, eventstore.Position, error) {
			// Found as a read finds it (readapi.MCPReadScope): where the
			// caller may read in the tenant.
			can, err := tenancy.Readable(ctx, r.Tenant)
			if err != nil {
				return MCPTestAnswer{}, eventstore.Position{}, err
			}
			row, err := readapi.VisibleMCPServer(ctx, p.Pool, r.Caller, r.Tenant, can, r.Name,
				readapi.MCPServerLookup{MCPScope: r.MCPScope, BusinessID: r.BusinessID})
			if err != nil {
				return MCPTestAnswer{}, eventstore.Position{}, err
			}
			// Test loads the server in its own tenant and places its
			// event there (decideIn sets the metadata's tenant).
			res, err := h.Test(ctx, commands.TestMCPServer{ServerTenant: row.TenantID, Meta: r.Meta, Caller: r.Caller, ServerID: row.ID})
			out := MCPTestAnswer{Success: res.Success, ActionCount: res.ActionCount, Error: res.Error}
			if res.Success {
				tools := res.Tools
				if tools == nil {
					tools = []mcpclient.Tool{}
				}
				out.Tools = &tools
			}
			return out, res.Result.Last(), err
		},
	}.Register(p)
}
