package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// PermissionsName names the read model of the permission catalogue.
const PermissionsName = "permissions"

// Permissions builds perm_modules, perm_privs, perm_roles and
// perm_role_privs from the events of the PermissionCatalogue aggregate.
// c_uid and ctime come from the adding event's metadata, m_uid and utime
// from the latest change. Removing a role removes its items.
func Permissions() *Projection {
	p := New(PermissionsName, "perm_modules", "perm_privs", "perm_roles", "perm_role_privs")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermModuleAdded) error {
		tx.Queue(`INSERT INTO perm_modules (module_id, module_name, c_uid, m_uid, ctime, utime) VALUES ($1, $2, $3, $3, $4, $4)`,
			e.ModuleID, e.ModuleName, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermPrivAdded) error {
		tx.Queue(`INSERT INTO perm_privs (module_id, priv_id, priv_name, is_sys_priv, priv_opr_type, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7)`, e.ModuleID, e.PrivID, e.PrivName, e.IsSysPriv, e.PrivOprType,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermPrivChanged) error {
		tx.Queue(`UPDATE perm_privs SET priv_name = coalesce($3, priv_name), priv_opr_type = coalesce($4, priv_opr_type),
    m_uid = $5, utime = $6 WHERE module_id = $1 AND priv_id = $2`, e.ModuleID, e.PrivID, e.PrivName, e.PrivOprType,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermPrivRemoved) error {
		tx.Queue(`DELETE FROM perm_privs WHERE module_id = $1 AND priv_id = $2`, e.ModuleID, e.PrivID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermRoleAdded) error {
		tx.Queue(`INSERT INTO perm_roles (role_id, role_name, is_sys_role, c_uid, m_uid, ctime, utime) VALUES ($1, $2, $3, $4, $4, $5, $5)`,
			e.RoleID, e.RoleName, e.IsSysRole, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermRoleChanged) error {
		tx.Queue(`UPDATE perm_roles SET role_name = coalesce($2, role_name), m_uid = $3, utime = $4 WHERE role_id = $1`,
			e.RoleID, e.RoleName, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermRoleRemoved) error {
		tx.Queue(`DELETE FROM perm_role_privs WHERE role_id = $1`, e.RoleID)
		tx.Queue(`DELETE FROM perm_roles WHERE role_id = $1`, e.RoleID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.PermRolePrivAdded) error {
		tx.Queue(`INSERT INTO perm_role_privs (role_id, module_id, priv_id, c_uid, ctime) VALUES ($1, $2, $3, $4, $5)`,
			e.RoleID, e.ModuleID, e.PrivID, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermRolePrivRemoved) error {
		tx.Queue(`DELETE FROM perm_role_privs WHERE role_id = $1 AND module_id = $2 AND priv_id = $3`, e.RoleID, e.ModuleID, e.PrivID)
		return nil
	})
	return p
}
