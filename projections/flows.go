package projections

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// contentColumns are the columns of domain.FlowContent, in flows and
// flow_versions alike.
const contentColumns = `name, description, flow_skill, icon, icon_bg_color, gradient, data, is_component, webhook,
    endpoint_name, tags, is_hold, is_endpoint, flow_type, mcp_enabled, action_name, action_description, access_type`

// contentRow is domain.FlowContent as columns of a flows row (Tx.Insert,
// Tx.Update).
func contentRow(c domain.FlowContent, row map[string]any) map[string]any {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	tagsJSON, _ := json.Marshal(tags)
	row["name"], row["description"], row["flow_skill"] = c.Name, c.Description, c.FlowSkill
	row["icon"], row["icon_bg_color"], row["gradient"] = c.Icon, c.IconBgColor, c.Gradient
	row["data"], row["is_component"], row["webhook"] = nullJSON(c.Data), c.IsComponent, c.Webhook
	row["endpoint_name"], row["tags"], row["is_hold"] = c.EndpointName, json.RawMessage(tagsJSON), c.IsHold
	row["is_endpoint"], row["flow_type"], row["mcp_enabled"] = c.IsEndpoint, c.FlowType, c.MCPEnabled
	row["action_name"], row["action_description"], row["access_type"] = c.ActionName, c.ActionDescription, c.AccessType
	return row
}

// Flows builds the flows and flow_versions read models. Every event of a
// flow moves updated_at, m_uid (the actor) and version (the stream
// revision); a version's row is the draft as it stood when the version was
// created, which is the fold of the stream up to that event. The flows
// row is written through Tx.Insert and Tx.Update, so the edits of one flow
// in one batch are one write.
func Flows() *Projection {
	p := New("flows", "flows", "flow_versions")
	// set adds to cols the values that are not nil.
	set := func(cols map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			if v := kv[i+1]; !isNil(v) {
				cols[kv[i].(string)] = v
			}
		}
		return cols
	}
	touch := func(tx *Tx, rec eventstore.RecordedEvent, id uuid.UUID, cols map[string]any) {
		cols["updated_at"], cols["m_uid"], cols["version"] = rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion)
		tx.Update("flows", "id", id, cols)
	}
	// sqlTouch is touch for changes that need SQL (patches, counters,
	// copies); the rows merged before it are written first.
	sqlTouch := func(tx *Tx, rec eventstore.RecordedEvent, id uuid.UUID, set string, args ...any) {
		tx.Queue(`UPDATE flows SET `+set+`updated_at = $2, m_uid = $3, version = $4 WHERE id = $1`,
			append([]any{id, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion)}, args...)...)
	}
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowCreated) error {
		pl := e.Placement
		tx.Insert("flows", "id", e.FlowID, contentRow(e.Content, map[string]any{
			"id": e.FlowID, "user_id": e.UserID, "locked": e.Locked, "tenant_id": pl.TenantID, "business_id": pl.BusinessID,
			"org_id": pl.OrgID, "is_self": pl.IsSelf, "project_id": pl.ProjectID, "fs_path": e.FSPath,
			"create_at": rec.Metadata.OccurredAt, "updated_at": rec.Metadata.OccurredAt,
			"c_uid": rec.Metadata.ActorUserID, "m_uid": rec.Metadata.ActorUserID, "version": int64(rec.StreamVersion),
		}))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDetailsChanged) error {
		touch(tx, rec, e.FlowID, set(map[string]any{}, "name", e.Name, "description", e.Description,
			"flow_skill", e.FlowSkill, "icon", e.Icon, "icon_bg_color", e.IconBgColor, "gradient", e.Gradient))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDataChanged) error {
		touch(tx, rec, e.FlowID, map[string]any{"data": nullJSON(e.Data)})
		return nil
	})
	// A patched graph is the row's graph with the patch applied by
	// flow_graph_patch (migration 00033) in the UPDATE itself, on jsonb's
	// binary form: the graph is neither read out nor parsed from text again,
	// and the statement is queued like every other. The row is written
	// whole once, as any change of a jsonb column is. The log's folds apply
	// the same patches in Go (graphpatch); app's TestFlowGraphPatches
	// compares the row with them at every edit of a long chain, and its
	// rebuild with the rows built live.
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowGraphPatched) error {
		sqlTouch(tx, rec, e.FlowID, `data = flow_graph_patch(data, $5), `, e.Patch)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowSettingsChanged) error {
		touch(tx, rec, e.FlowID, set(map[string]any{}, "endpoint_name", e.EndpointName, "webhook", e.Webhook,
			"is_component", e.IsComponent, "flow_type", e.FlowType, "is_hold", e.IsHold,
			"is_endpoint", e.IsEndpoint, "fs_path", e.FSPath))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTagsChanged) error {
		tags, _ := json.Marshal(e.Tags)
		touch(tx, rec, e.FlowID, map[string]any{"tags": json.RawMessage(tags)})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowAccessChanged) error {
		touch(tx, rec, e.FlowID, map[string]any{"access_type": e.AccessType})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowMCPChanged) error {
		touch(tx, rec, e.FlowID, set(map[string]any{}, "mcp_enabled", e.MCPEnabled, "action_name", e.ActionName,
			"action_description", e.ActionDescription))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowMoved) error {
		pl := e.Placement
		touch(tx, rec, e.FlowID, map[string]any{"project_id": pl.ProjectID, "tenant_id": pl.TenantID,
			"business_id": pl.BusinessID, "org_id": pl.OrgID, "is_self": pl.IsSelf})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowLockChanged) error {
		touch(tx, rec, e.FlowID, map[string]any{"locked": e.Locked})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowDeleted) error {
		touch(tx, rec, e.FlowID, map[string]any{"is_deleted": true})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowRestored) error {
		touch(tx, rec, e.FlowID, map[string]any{"is_deleted": false})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowVersionCreated) error {
		tx.Queue(`INSERT INTO flow_versions (flow_id, version_id, version, note, user_id, tenant_id, business_id, is_self,
    c_uid, create_at, revision, `+contentColumns+`)
SELECT id, $2, $3, $4, user_id, tenant_id, business_id, is_self, $5, $6, $7, `+contentColumns+` FROM flows WHERE id = $1`,
			e.FlowID, e.VersionID, e.Version, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		sqlTouch(tx, rec, e.FlowID, `version_count = version_count + 1, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowVersionPublished) error {
		touch(tx, rec, e.FlowID, map[string]any{"online_version_id": e.VersionID, "online_version": e.Version})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTakenOffline) error {
		touch(tx, rec, e.FlowID, map[string]any{"online_version_id": 0, "online_version": nil})
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowRolledBack) error {
		touch(tx, rec, e.FlowID, contentRow(e.Content, map[string]any{}))
		return nil
	})
	return p
}

// isNil reports whether v is nil or a nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// nullJSON turns an absent document into SQL NULL.
func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}
