package runs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/mcpclient"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/secrets"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// DefaultMCPTimeout bounds one MCP call of a run when MCPTools.Timeout is
// 0.
const DefaultMCPTimeout = 30 * time.Second

// MCPTools is the engine's MCPServers port over the MCP server registry
// (the mcp_servers read model), for the MCP Tools component:
//
//   - Which server: the one of that name the run's user sees in the
//     run's tenant (the system tenant for a run of no stored flow), by the
//     registry's reads' rule (readapi.VisibleMCPServer with the user's
//     mcp.read scope there: the tenant's servers when they hold mcp.read
//     in the tenant, a business's where they hold it, their own personal
//     ones, the system ones; a superuser sees all of the tenant's). The
//     tenant's server first, then the user's personal one, a business
//     one, the system one. Anything else is "not found", as in the API.
//   - An inactive server is refused.
//   - Secrets: the sealed env and header values are opened with Secrets
//     (commands.MCPSecretAAD, the registry's additional data) in memory,
//     for the connection only; they are never logged, recorded or
//     answered.
//   - SSE and streamable HTTP servers are reached through HTTP, the
//     egress policy's client (SKILLFLAW_EGRESS_ALLOW decides on internal
//     addresses).
//   - stdio servers start a local process: only when StdioEnabled
//     (SKILLFLAW_MCP_STDIO_ENABLE), and only servers that a superuser
//     vouched for — those of the system scope (0), which only the
//     system's administrators write, or created by a user who is a
//     superuser now. A flow of any user may then use such a server; it
//     never starts a command an ordinary user wrote.
//   - Every call (connect, list or call, close) is bounded by Timeout.
//
// Each call opens its own session (the SDK's client) and closes it.
type MCPTools struct {
	Pool    *pgxpool.Pool
	Secrets *secrets.Ring
	// HTTP reaches SSE and streamable HTTP servers: the egress policy's
	// client, which refuses internal addresses. Always set it: nil is a
	// plain http.Client (mcpclient's default), which applies no egress
	// policy and reaches internal addresses too.
	HTTP         *http.Client
	StdioEnabled bool
	// Timeout bounds one call (0: DefaultMCPTimeout).
	Timeout time.Duration
}

var _ engine.MCPServers = MCPTools{}

// Tools implements engine.MCPServers.
func (m MCPTools) Tools(ctx context.Context, run engine.RunInfo, server string) ([]engine.MCPTool, error) {
	s, err := m.server(ctx, run, server)
	if err != nil {
		return nil, err
	}
	defs, err := mcpclient.ListToolDefs(ctx, s, m.options())
	if err != nil {
		return nil, fmt.Errorf("MCP server %s: list the tools: %w", server, err)
	}
	out := make([]engine.MCPTool, len(defs))
	for i, d := range defs {
		out[i] = engine.MCPTool{Name: d.Name, Description: d.Description, InputSchema: d.InputSchema}
	}
	return out, nil
}

// Call implements engine.MCPServers.
func (m MCPTools) Call(ctx context.Context, run engine.RunInfo, server, tool string, args map[string]any) (*engine.MCPResult, error) {
	s, err := m.server(ctx, run, server)
	if err != nil {
		return nil, err
	}
	res, err := mcpclient.CallTool(ctx, s, m.options(), tool, args)
	if err != nil {
		return nil, fmt.Errorf("MCP server %s: call %s: %w", server, tool, err)
	}
	return &engine.MCPResult{Content: res.Content, Structured: res.Structured, IsError: res.IsError}, nil
}

func (m MCPTools) options() mcpclient.Options {
	t := m.Timeout
	if t <= 0 {
		t = DefaultMCPTimeout
	}
	return mcpclient.Options{HTTPClient: m.HTTP, Timeout: t}
}

// mcpRecord is what a connection needs of a registry record, its
// secrets still sealed.
type mcpRecord struct {
	tenant           uuid.UUID
	scope            int
	creatorSuperuser bool
	env, headers     map[string]string
}

// server finds the server name for run and returns how to reach it, its
// secrets opened.
func (m MCPTools) server(ctx context.Context, run engine.RunInfo, name string) (mcpclient.Server, error) {
	notFound := fmt.Errorf("MCP server %s not found: add it to the MCP server registry (/api/v2/mcp/servers) where the flow's user sees it", name)
	tenant, err := uuid.Parse(run.Tenant)
	if err != nil {
		tenant = tenancy.SystemTenantID
	}
	a, err := userAuthorizer(ctx, m.Pool, run.UserID, "mcp", "read")
	if err != nil {
		return mcpclient.Server{}, err
	}
	can, err := a.Readable(ctx, tenant)
	if err != nil {
		return mcpclient.Server{}, err
	}
	caller := auth.Principal{UserID: run.UserID, IsSuperuser: a.superuser}
	e, err := readapi.VisibleMCPServer(ctx, m.Pool, caller, tenant, can, name, readapi.MCPServerLookup{})
	if errors.Is(err, domain.ErrNotFound) {
		return mcpclient.Server{}, notFound
	}
	if err != nil {
		return mcpclient.Server{}, err
	}
	if !e.IsActive {
		return mcpclient.Server{}, fmt.Errorf("MCP server %s is not active", name)
	}
	var rec mcpRecord
	err = m.Pool.QueryRow(ctx, `SELECT m.tenant_id, m.scope, m.env, m.headers,
  EXISTS (SELECT 1 FROM users u WHERE u.id = m.c_uid AND u.is_superuser)
FROM mcp_servers m WHERE m.id = $1`, e.ID).Scan(&rec.tenant, &rec.scope, &rec.env, &rec.headers, &rec.creatorSuperuser)
	if err != nil {
		return mcpclient.Server{}, fmt.Errorf("read MCP server %s: %w", name, err)
	}
	if e.MCPType == domain.MCPTypeStdio {
		if !m.StdioEnabled {
			return mcpclient.Server{}, fmt.Errorf("MCP server %s: %s", name, commands.MsgMCPStdioDisabled)
		}
		if rec.scope != domain.CatalogScopeSystem && !rec.creatorSuperuser {
			return mcpclient.Server{}, fmt.Errorf("MCP server %s: a stdio server is used in flows only when it is a system server or a superuser created it", name)
		}
	}
	env, err := m.open(name, rec.tenant, e.ID, "env", rec.env)
	if err != nil {
		return mcpclient.Server{}, err
	}
	headers, err := m.open(name, rec.tenant, e.ID, "headers", rec.headers)
	if err != nil {
		return mcpclient.Server{}, err
	}
	return mcpclient.Server{Type: e.MCPType, Command: e.Command, Args: e.Args, Env: env, URL: e.URL, Headers: headers}, nil
}

// open opens the sealed values (kind) of server id in memory.
func (m MCPTools) open(name string, tenant uuid.UUID, id int64, kind string, sealed map[string]string) (map[string]string, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if m.Secrets == nil {
		return nil, fmt.Errorf("MCP server %s: %s", name, commands.MsgMCPSecretsUnset)
	}
	out := make(map[string]string, len(sealed))
	for k, v := range sealed {
		clear, err := m.Secrets.Open(v, commands.MCPSecretAAD(tenant, id, kind, k))
		if err != nil {
			return nil, fmt.Errorf("MCP server %s: %s.%s cannot be opened with the configured keys: set it again", name, kind, k)
		}
		out[k] = string(clear)
	}
	return out, nil
}
