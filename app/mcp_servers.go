package app

import (
	"fmt"
	"github.com/skillflaw/skillflaw-go/audit"
	"time"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// MCPServers is the MCP server registry (#207–#213): each tenant's MCP
// servers at the catalogue scopes (system, tenant, business, personal),
// one MCPServers aggregate per tenant, RBAC module "mcp". env and headers
// values are sealed with Deps.Secrets before they reach an event and are
// masked in every answer. The test connection (mcpclient, the official
// MCP Go SDK) reaches SSE and streamable HTTP servers through the egress
// policy (SKILLFLAW_EGRESS_ALLOW); stdio servers, a local process, are
// for superusers only and only with SKILLFLAW_MCP_STDIO_ENABLE.
type MCPServers struct {
	// TestTimeout bounds a test connection (0: 15 s).
	TestTimeout time.Duration
}

var _ Module = MCPServers{}

// Register implements Module.
func (MCPServers) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.MCPServerEvents())
}

// Projections implements Module.
func (MCPServers) Projections() []*projections.Projection {
	return []*projections.Projection{projections.MCPServers()}
}

// Routes implements Module.
func (m MCPServers) Routes(s *httpapi.Server, d Deps) {
	policy, err := egress.New(d.Config.EgressAllow)
	if err != nil {
		s.Misconfigured(fmt.Errorf("SKILLFLAW_EGRESS_ALLOW: %w", err))
		policy, _ = egress.New(nil)
	}
	ports.MCPServers(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.MCPServersHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool),
			Writer: commands.CatalogWriter{Pool: d.Pool}, Secrets: d.Secrets, StdioEnabled: d.Config.MCPStdioEnable,
			HTTPClient: policy.HTTPClient(), Timeout: m.TestTimeout})
	readapi.RegisterMCPServerReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (MCPServers) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "mcp_servers", One: "MCP server", Many: "MCP servers"},
	}
}

// AuditSources implements AuditSourcer.
func (MCPServers) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("mcp_servers", domain.MCPServersStream, domain.LoadMCPServers),
	}
}
