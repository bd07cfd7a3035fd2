package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Tenants builds the tenants read model (migrations/00010_tenants.sql):
// one row per tenant that exists; a removed tenant's row is deleted. The
// creation sets c_uid and ctime, every event moves m_uid (the actor), utime
// and version (the stream revision).
func Tenants() *Projection {
	p := New("tenants", "tenants")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.TenantCreated) error {
		tx.Queue(`INSERT INTO tenants (tenant_id, tenant_name, is_sys, is_active, note, c_uid, m_uid, ctime, utime, version)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7, $8)`,
			e.TenantID, e.TenantName, e.IsSys, e.IsActive, e.Note,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.TenantUpdated) error {
		tx.Queue(`UPDATE tenants SET tenant_name = coalesce($5, tenant_name), is_sys = coalesce($6, is_sys),
    is_active = coalesce($7, is_active), note = coalesce($8, note), utime = $2, m_uid = $3, version = $4
WHERE tenant_id = $1`,
			e.TenantID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion),
			e.TenantName, e.IsSys, e.IsActive, e.Note)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.TenantDeleted) error {
		tx.Queue(`DELETE FROM tenants WHERE tenant_id = $1`, e.TenantID)
		return nil
	})
	return p
}
