package projections

import (
	"context"
	"encoding/json"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// FlowTemplates builds the flow_templates read model: one row per template
// that is not deleted. Every event moves updated_at, m_uid (the actor) and
// version (the stream revision); c_uid and create_at come from the
// creation's metadata.
func FlowTemplates() *Projection {
	p := New("flow_templates", "flow_templates")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTemplateCreated) error {
		c := e.Content
		tags := c.Tags
		if tags == nil {
			tags = []string{}
		}
		tagsJSON, err := json.Marshal(tags)
		if err != nil {
			return err
		}
		tx.Queue(`INSERT INTO flow_templates (id, flow_id, user_id, name, description, flow_skill, icon, icon_bg_color, gradient,
    data, tags, flow_type, scope, tenant_id, business_id, note, create_at, updated_at, c_uid, m_uid, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $18, $19)`,
			e.TemplateID, e.FlowID, e.UserID, c.Name, c.Description, c.FlowSkill, c.Icon, c.IconBgColor, c.Gradient,
			nullJSON(c.Data), tagsJSON, c.FlowType, e.Scope, e.TenantID, e.BusinessID, e.Note,
			rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FlowTemplateUpdated) error {
		var data, tags any
		if e.Data != nil {
			data = nullJSON(e.Data)
		}
		if e.Tags != nil {
			b, err := json.Marshal(*e.Tags)
			if err != nil {
				return err
			}
			tags = b
		}
		tx.Queue(`UPDATE flow_templates SET name = coalesce($5, name), description = coalesce($6, description),
    flow_skill = coalesce($7, flow_skill), icon = coalesce($8, icon), icon_bg_color = coalesce($9, icon_bg_color),
    gradient = coalesce($10, gradient), flow_type = coalesce($11, flow_type),
    data = CASE WHEN $12 THEN $13::jsonb ELSE data END, tags = coalesce($14::jsonb, tags),
    scope = coalesce($15, scope), business_id = coalesce($16, business_id),
    updated_at = $2, m_uid = $3, version = $4
WHERE id = $1`,
			e.TemplateID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion),
			e.Name, e.Description, e.FlowSkill, e.Icon, e.IconBgColor, e.Gradient, e.FlowType,
			e.Data != nil, data, tags, e.Scope, e.BusinessID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.FlowTemplateDeleted) error {
		tx.Queue(`DELETE FROM flow_templates WHERE id = $1`, e.TemplateID)
		return nil
	})
	return p
}
