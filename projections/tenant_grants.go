package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// TenantGrantsName names the read model of tenant role grants.
const TenantGrantsName = "tenant_grants"

// TenantGrants builds tenant_role_relations from the events of the
// tenants' TenantGrants aggregates: one row per relation (kind user, group
// or org), c_uid and ctime from the granting event's metadata.
func TenantGrants() *Projection {
	p := New(TenantGrantsName, "tenant_role_relations")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.TenantRoleGranted) error {
		tx.Queue(`INSERT INTO tenant_role_relations (id, tenant_id, kind, subject_id, role_id, c_uid, ctime)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.RelationID, e.TenantID, e.Kind, e.SubjectID, e.RoleID,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.TenantRoleRevoked) error {
		tx.Queue(`DELETE FROM tenant_role_relations WHERE id = $1`, e.RelationID)
		return nil
	})
	return p
}
