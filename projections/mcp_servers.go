package projections

import (
	"context"
	"encoding/json"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// MCPServersName names the read model of the MCP servers.
const MCPServersName = "mcp_servers"

// jsonOrNil is v as JSON text, or nil (SQL NULL) when v is nil.
func jsonOrNil[T any](v *T) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(*v)
	if err != nil {
		return nil
	}
	return string(b)
}

// MCPServers builds the MCP servers read model from the events of the
// tenants' MCPServers aggregates (env and headers values stay sealed, as
// the events carry them). c_uid and ctime come from the adding event,
// m_uid and utime from the latest change; a test connection changes
// action_count only.
func MCPServers() *Projection {
	p := New(MCPServersName, "mcp_servers")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.MCPServerAdded) error {
		tx.Queue(`INSERT INTO mcp_servers (id, tenant_id, scope, business_id, name, mcp_type, command, args, env, headers, url,
    logo, note, is_active, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15, $15, $16, $16)`,
			e.ServerID, e.TenantID, e.Scope, e.BusinessID, e.Name, e.MCPType, e.Command, jsonOrNil(&e.Args), jsonOrNil(&e.Env),
			jsonOrNil(&e.Headers), e.URL, e.Logo, e.Note, e.IsActive, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.MCPServerChanged) error {
		tx.Queue(`UPDATE mcp_servers SET name = coalesce($2, name), scope = coalesce($3, scope),
    business_id = coalesce($4, business_id), mcp_type = coalesce($5, mcp_type), command = coalesce($6, command),
    args = coalesce($7::jsonb, args), env = coalesce($8::jsonb, env), headers = coalesce($9::jsonb, headers),
    url = coalesce($10, url), logo = coalesce($11, logo), note = coalesce($12, note), is_active = coalesce($13, is_active),
    m_uid = $14, utime = $15 WHERE id = $1`,
			e.ServerID, e.Name, e.Scope, e.BusinessID, e.MCPType, e.Command, jsonOrNil(e.Args), jsonOrNil(e.Env),
			jsonOrNil(e.Headers), e.URL, e.Logo, e.Note, e.IsActive, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.MCPServerTested) error {
		tx.Queue(`UPDATE mcp_servers SET action_count = $2 WHERE id = $1`, e.ServerID, e.ActionCount)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.MCPServerRemoved) error {
		tx.Queue(`DELETE FROM mcp_servers WHERE id = $1`, e.ServerID)
		return nil
	})
	return p
}
