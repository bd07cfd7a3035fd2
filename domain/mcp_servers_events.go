package domain

import "github.com/google/uuid"

// The events of a tenant's MCP servers (stream mcp_servers-<tenant uuid>,
// the MCPServers aggregate). Every value of env and headers is sealed
// (secrets.Ring) before it is put into an event: the log never holds one
// in clear.

// MCPServerAdded records a new MCP server of the tenant (Env and Headers
// values sealed). Creator is its c_uid (a personal server's owner).
type MCPServerAdded struct {
	TenantID   uuid.UUID         `json:"tenant_id"`
	ServerID   int64             `json:"server_id"`
	Name       string            `json:"name"`
	Scope      int               `json:"mcp_scope"`
	BusinessID int64             `json:"business_id"`
	Creator    int64             `json:"creator"`
	MCPType    string            `json:"mcp_type"`
	Command    string            `json:"command"`
	Args       []string          `json:"args"`
	Env        map[string]string `json:"env"`
	Headers    map[string]string `json:"headers"`
	URL        string            `json:"url"`
	Logo       string            `json:"logo"`
	Note       string            `json:"note"`
	IsActive   bool              `json:"is_active"`
}

// MCPServerChanged records new values of a server's fields; absent fields
// did not change. Env and Headers replace the whole map (values sealed).
type MCPServerChanged struct {
	TenantID   uuid.UUID          `json:"tenant_id"`
	ServerID   int64              `json:"server_id"`
	Name       *string            `json:"name,omitempty"`
	Scope      *int               `json:"mcp_scope,omitempty"`
	BusinessID *int64             `json:"business_id,omitempty"`
	MCPType    *string            `json:"mcp_type,omitempty"`
	Command    *string            `json:"command,omitempty"`
	Args       *[]string          `json:"args,omitempty"`
	Env        *map[string]string `json:"env,omitempty"`
	Headers    *map[string]string `json:"headers,omitempty"`
	URL        *string            `json:"url,omitempty"`
	Logo       *string            `json:"logo,omitempty"`
	Note       *string            `json:"note,omitempty"`
	IsActive   *bool              `json:"is_active,omitempty"`
}

// MCPServerTested records a successful test connection: the number of
// tools the server offered (its action_count).
type MCPServerTested struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	ServerID    int64     `json:"server_id"`
	ActionCount int       `json:"action_count"`
}

// MCPServerRemoved records the removal of an MCP server.
type MCPServerRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	ServerID int64     `json:"server_id"`
}

func (MCPServerAdded) EventType() string   { return "mcp_server.added" }
func (MCPServerChanged) EventType() string { return "mcp_server.changed" }
func (MCPServerTested) EventType() string  { return "mcp_server.tested" }
func (MCPServerRemoved) EventType() string { return "mcp_server.removed" }

// MCPServerEvents lists the event types of the MCP servers, for the
// registry.
func MCPServerEvents() []Schema {
	return V1(MCPServerAdded{}, MCPServerChanged{}, MCPServerTested{}, MCPServerRemoved{})
}
