package projections

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// contentColumns are the columns of domain.FlowContent, in flows and
// flow_versions alike.
const contentColumns = `name, description, flow_skill, icon, icon_bg_color, gradient, data, is_component, webhook,
    endpoint_name, tags, is_hold, is_endpoint, flow_type, mcp_enabled, action_name, action_description, access_type`

// contentArgs are the values of contentColumns.
func contentArgs(c domain.FlowContent) []any {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	tagsJSON, _ := json.Marshal(tags)
	var data any
	if len(c.Data) > 0 {
		data = c.Data
	}
	return []any{c.Name, c.Description, c.FlowSkill, c.Icon, c.IconBgColor, c.Gradient, data, c.IsComponent, c.Webhook,
		c.EndpointName, tagsJSON, c.IsHold, c.IsEndpoint, c.FlowType, c.MCPEnabled, c.ActionName, c.ActionDescription, c.AccessType}
}

// Flows builds the flows and flow_versions read models. Every event of a
// flow moves updated_at, m_uid (the actor) and version (the stream
// revision); a version's row is the draft as it stood when the version was
// created, which is the fold of the stream up to that event.
func Flows() *Projection {
	p := New("flows", "flows", "flow_versions")
	touch := func(tx *Tx, rec eventstore.RecordedEvent, id uuid.UUID, set string, args ...any) {
		tx.Queue(`UPDATE flows SET `+set+`updated_at = $2, m_uid = $3, version = $4 WHERE id = $1`,
			append([]any{id, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion)}, args...)...)
	}
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowCreated) error {
		pl := e.Placement
		args := append([]any{e.FlowID, e.UserID, e.Locked, pl.TenantID, pl.BusinessID, pl.OrgID, pl.IsSelf, pl.ProjectID, e.FSPath,
			rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion)}, contentArgs(e.Content)...)
		tx.Queue(`INSERT INTO flows (id, user_id, locked, tenant_id, business_id, org_id, is_self, project_id, fs_path,
    create_at, updated_at, c_uid, m_uid, version, `+contentColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11, $12,
    $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)`, args...)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDetailsChanged) error {
		touch(tx, rec, e.FlowID, `name = coalesce($5, name), description = coalesce($6, description),
    flow_skill = coalesce($7, flow_skill), icon = coalesce($8, icon), icon_bg_color = coalesce($9, icon_bg_color),
    gradient = coalesce($10, gradient), `, e.Name, e.Description, e.FlowSkill, e.Icon, e.IconBgColor, e.Gradient)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDataChanged) error {
		touch(tx, rec, e.FlowID, `data = $5, `, nullJSON(e.Data))
		return nil
	})
	// A patched graph is the row's graph with the patch applied by
	// flow_graph_patch (migration 00032) in the UPDATE itself, on jsonb's
	// binary form: the graph is neither read out nor parsed from text again,
	// and the statement is queued like every other. The row is written
	// whole once, as any change of a jsonb column is. The log's folds apply
	// the same patches in Go (graphpatch); app's TestFlowGraphPatches
	// compares the row with them at every edit of a long chain, and its
	// rebuild with the rows built live.
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowGraphPatched) error {
		touch(tx, rec, e.FlowID, `data = flow_graph_patch(data, $5), `, e.Patch)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowSettingsChanged) error {
		touch(tx, rec, e.FlowID, `endpoint_name = coalesce($5, endpoint_name), webhook = coalesce($6, webhook),
    is_component = coalesce($7, is_component), flow_type = coalesce($8, flow_type), is_hold = coalesce($9, is_hold),
    is_endpoint = coalesce($10, is_endpoint), fs_path = coalesce($11, fs_path), `,
			e.EndpointName, e.Webhook, e.IsComponent, e.FlowType, e.IsHold, e.IsEndpoint, e.FSPath)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTagsChanged) error {
		tags, _ := json.Marshal(e.Tags)
		touch(tx, rec, e.FlowID, `tags = $5, `, tags)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowAccessChanged) error {
		touch(tx, rec, e.FlowID, `access_type = $5, `, e.AccessType)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowMCPChanged) error {
		touch(tx, rec, e.FlowID, `mcp_enabled = coalesce($5, mcp_enabled), action_name = coalesce($6, action_name),
    action_description = coalesce($7, action_description), `, e.MCPEnabled, e.ActionName, e.ActionDescription)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowMoved) error {
		pl := e.Placement
		touch(tx, rec, e.FlowID, `project_id = $5, tenant_id = $6, business_id = $7, org_id = $8, is_self = $9, `,
			pl.ProjectID, pl.TenantID, pl.BusinessID, pl.OrgID, pl.IsSelf)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowLockChanged) error {
		touch(tx, rec, e.FlowID, `locked = $5, `, e.Locked)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDeleted) error {
		touch(tx, rec, e.FlowID, `is_deleted = true, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowRestored) error {
		touch(tx, rec, e.FlowID, `is_deleted = false, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowVersionCreated) error {
		tx.Queue(`INSERT INTO flow_versions (flow_id, version_id, version, note, user_id, tenant_id, business_id, is_self,
    c_uid, create_at, revision, `+contentColumns+`)
SELECT id, $2, $3, $4, user_id, tenant_id, business_id, is_self, $5, $6, $7, `+contentColumns+` FROM flows WHERE id = $1`,
			e.FlowID, e.VersionID, e.Version, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		touch(tx, rec, e.FlowID, `version_count = version_count + 1, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowVersionPublished) error {
		touch(tx, rec, e.FlowID, `online_version_id = $5, online_version = $6, `, e.VersionID, e.Version)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTakenOffline) error {
		touch(tx, rec, e.FlowID, `online_version_id = 0, online_version = NULL, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowRolledBack) error {
		touch(tx, rec, e.FlowID, `(`+contentColumns+`) = ($5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22), `,
			contentArgs(e.Content)...)
		return nil
	})
	return p
}

// nullJSON turns an absent document into SQL NULL.
func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}
