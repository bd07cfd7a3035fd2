package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Projects builds the projects read model: one row per project, deleted
// ones kept with is_deleted. Every event of a project moves utime, m_uid
// (the actor) and version (the stream revision). The secrets of
// auth_settings are stored masked: they stay in the log only.
func Projects() *Projection {
	p := New("projects", "projects")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ProjectCreated) error {
		f := e.Fields
		tx.Queue(`INSERT INTO projects (id, user_id, name, description, parent_id, tenant_id, business_id, org_id, is_self,
    is_enable, is_release, is_version, is_hold, is_default, release_version, priv_type, project_skill, auth_settings, icon,
    c_uid, m_uid, ctime, utime, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $21, $22)`,
			e.ProjectID, e.UserID, f.Name, f.Description, f.ParentID, f.TenantID, f.BusinessID, f.OrgID, f.IsSelf,
			f.IsEnable, f.IsRelease, f.IsVersion, f.IsHold, e.IsDefault, f.ReleaseVersion, f.PrivType, f.ProjectSkill,
			nullJSON(domain.MaskAuthSettings(f.AuthSettings)), f.Icon,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ProjectUpdated) error {
		tx.Queue(`UPDATE projects SET name = coalesce($5, name), description = coalesce($6, description),
    org_id = coalesce($7, org_id), is_enable = coalesce($8, is_enable), is_hold = coalesce($9, is_hold),
    release_version = coalesce($10, release_version), priv_type = coalesce($11, priv_type),
    project_skill = coalesce($12, project_skill), auth_settings = coalesce($13::jsonb, auth_settings),
    icon = coalesce($14, icon), utime = $2, m_uid = $3, version = $4 WHERE id = $1`,
			e.ProjectID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion),
			e.Name, e.Description, e.OrgID, e.IsEnable, e.IsHold, e.ReleaseVersion, e.PrivType, e.ProjectSkill,
			nullJSON(domain.MaskAuthSettings(e.AuthSettings)), e.Icon)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ProjectDeleted) error {
		tx.Queue(`UPDATE projects SET is_deleted = true, utime = $2, m_uid = $3, version = $4 WHERE id = $1`,
			e.ProjectID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion))
		return nil
	})
	return p
}
