package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// ComponentsName names the read model of the component catalogue.
const ComponentsName = "components"

// Components builds the component_groups and components read models from
// the events of the ComponentGroups and Component aggregates. c_uid and
// ctime come from the adding event, m_uid and utime from the latest
// change; version is the component's latest version number.
func Components() *Projection {
	p := New(ComponentsName, "component_groups", "components")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ComponentGroupAdded) error {
		tx.Queue(`INSERT INTO component_groups (id, tenant_id, group_name, group_en_name, component_type, icon, tags, order_num,
    is_active, note, scope, business_id, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $14)`, e.GroupID, e.TenantID, e.GroupName,
			e.GroupEnName, e.ComponentType, e.Icon, nonNilTags(e.Tags), e.OrderNum, e.IsActive, e.Note, e.Scope, e.BusinessID,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ComponentGroupChanged) error {
		var tags []string
		if e.Tags != nil {
			tags = nonNilTags(*e.Tags)
		}
		tx.Queue(`UPDATE component_groups SET group_name = coalesce($2, group_name), group_en_name = coalesce($3, group_en_name),
    icon = coalesce($4, icon), tags = coalesce($5, tags), order_num = coalesce($6, order_num), is_active = coalesce($7, is_active),
    note = coalesce($8, note), scope = coalesce($9, scope), business_id = coalesce($10, business_id), m_uid = $11, utime = $12
WHERE id = $1`, e.GroupID, e.GroupName, e.GroupEnName, e.Icon, tags, e.OrderNum, e.IsActive, e.Note, e.Scope, e.BusinessID,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.ComponentGroupRemoved) error {
		tx.Queue(`DELETE FROM component_groups WHERE id = $1`, e.GroupID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ComponentAdded) error {
		tx.Queue(`INSERT INTO components (id, tenant_id, component_group_id, component_name, display_name, icon, tag, code,
    component_skill, note, version, is_active, is_legacy, is_deprecated, scope, business_id, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $14, $15, $16, $16, $17, $17)`, e.ComponentID, e.TenantID,
			e.GroupID, e.ComponentName, e.DisplayName, e.Icon, e.Tag, e.Code, e.ComponentSkill, e.Note, e.IsActive, e.IsLegacy,
			e.IsDeprecated, e.Scope, e.BusinessID, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ComponentChanged) error {
		tx.Queue(`UPDATE components SET tenant_id = $2, component_group_id = coalesce($3, component_group_id),
    component_name = coalesce($4, component_name), display_name = coalesce($5, display_name), icon = coalesce($6, icon),
    tag = coalesce($7, tag), code = coalesce($8, code), component_skill = coalesce($9, component_skill), note = coalesce($10, note),
    is_active = coalesce($11, is_active), is_legacy = coalesce($12, is_legacy), is_deprecated = coalesce($13, is_deprecated),
    scope = coalesce($14, scope), business_id = coalesce($15, business_id), version = coalesce($16, version),
    m_uid = $17, utime = $18
WHERE id = $1`, e.ComponentID, e.TenantID, e.GroupID, e.ComponentName, e.DisplayName, e.Icon, e.Tag, e.Code, e.ComponentSkill,
			e.Note, e.IsActive, e.IsLegacy, e.IsDeprecated, e.Scope, e.BusinessID, e.Version, rec.Metadata.ActorUserID,
			rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.ComponentRemoved) error {
		tx.Queue(`DELETE FROM components WHERE id = $1`, e.ComponentID)
		return nil
	})
	return p
}

func nonNilTags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}
