package projections

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// AccessName names the read model of effective permissions.
const AccessName = "access"

// Access builds access_privileges, the effective privileges of every user
// per tenant and business, from the events of the permission catalogue,
// tenant grants, business trees (and their user roles), org trees (and
// their members) and user groups. See migrations/00019_access.sql for the
// input copies it keeps. The rules:
//   - a tenant role granted to a user, to a group the user is a member of,
//     or to an org the user is a member of — or to any ancestor of that
//     org: an org's grant covers its whole subtree, the way an org chart
//     is read — gives the role's privileges tenant-wide (business_id 0);
//     a disabled org gives its members nothing and its grants hold for
//     nobody;
//   - a business role gives the role's privileges in that business and in
//     every business below it (materialised on each), as long as the
//     businesses on the way are enabled: a disabled business passes no
//     role on, neither its own nor its ancestors';
//   - a role's privileges are its items in the catalogue; changing them
//     derives every tenant's privileges again from the paths.
//
// Every change rewrites its tenant's grant paths (access_paths, pathsSQL:
// the rules, written once) and derives the privileges from them
// (recomputeTenant), so the read model is a pure function of the inputs,
// whatever order of events led there; Explain Permission reads the paths.
func Access() *Projection {
	p := New(AccessName, "access_role_privs", "access_grants", "access_business_roles", "access_businesses",
		"access_orgs", "access_org_members", "access_groups", "access_group_members", "access_paths", "access_privileges")
	accessCatalogue(p)
	accessGrants(p)
	accessBusinesses(p)
	accessOrgs(p)
	accessGroups(p)
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.TenantDeleted) error {
		for _, t := range []string{"access_grants", "access_business_roles", "access_businesses", "access_orgs",
			"access_org_members", "access_groups", "access_group_members", "access_paths", "access_privileges"} {
			tx.Queue(`DELETE FROM `+t+` WHERE tenant_id = $1`, e.TenantID)
		}
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserDeleted) error {
		tx.Queue(`DELETE FROM access_paths WHERE uid = $1`, e.UserID)
		tx.Queue(`DELETE FROM access_privileges WHERE uid = $1`, e.UserID)
		return nil
	})
	return p
}

// pathsSQL writes the grant paths of tenant $1 from the inputs: every way
// a user holds a role, and where. Org ancestry is walked upwards from each
// membership, so a member of a sub-org holds what its ancestors were
// granted; business roles are carried downwards, so a role in a business
// holds in every business below it. These are the rules, written once:
// the privileges below and Explain Permission both read the paths.
const pathsSQL = `
WITH RECURSIVE org_up(uid, member_org, org_id) AS (
    SELECT m.uid, m.org_id, m.org_id FROM access_org_members m JOIN access_orgs o ON o.org_id = m.org_id AND o.enabled
    WHERE m.tenant_id = $1
  UNION
    SELECT u.uid, u.member_org, o.parent_id FROM org_up u JOIN access_orgs o ON o.org_id = u.org_id
    WHERE o.parent_id <> 0
), biz_down(holder, business_id) AS (
    SELECT business_id, business_id FROM access_businesses WHERE tenant_id = $1 AND enabled
  UNION
    SELECT d.holder, b.business_id FROM biz_down d JOIN access_businesses b ON b.parent_id = d.business_id
    WHERE b.tenant_id = $1 AND b.enabled
)
INSERT INTO access_paths (tenant_id, uid, business_id, role_id, via, relation_id, group_id, org_id, member_org_id, source_business_id)
    SELECT $1, subject_id, 0, role_id, 'user', id, 0, 0, 0, 0 FROM access_grants WHERE tenant_id = $1 AND kind = 'user'
  UNION ALL
    SELECT $1, m.uid, 0, g.role_id, 'group', g.id, g.subject_id, 0, 0, 0 FROM access_grants g
    JOIN access_group_members m ON m.group_id = g.subject_id AND m.tenant_id = $1
    WHERE g.tenant_id = $1 AND g.kind = 'group'
  UNION ALL
    SELECT $1, u.uid, 0, g.role_id, 'org', g.id, 0, g.subject_id, u.member_org, 0 FROM access_grants g
    JOIN org_up u ON u.org_id = g.subject_id
    JOIN access_orgs o ON o.org_id = g.subject_id AND o.enabled
    WHERE g.tenant_id = $1 AND g.kind = 'org'
  UNION ALL
    SELECT $1, r.uid, d.business_id, r.role_id, 'business', r.id, 0, 0, 0, r.business_id FROM access_business_roles r
    JOIN biz_down d ON d.holder = r.business_id
    WHERE r.tenant_id = $1`

// privilegesSQL derives effective privileges from the paths of the
// tenants $1 selects: a role's items where the role is held; direct when
// some path holds it in that very business (or tenant-wide).
const privilegesSQL = `
INSERT INTO access_privileges (uid, tenant_id, module_id, priv_id, business_id, direct)
SELECT a.uid, a.tenant_id, p.module_id, p.priv_id, a.business_id, bool_or(a.via <> 'business' OR a.source_business_id = a.business_id)
FROM access_paths a JOIN access_role_privs p ON p.role_id = a.role_id
WHERE $1::uuid IS NULL OR a.tenant_id = $1
GROUP BY a.uid, a.tenant_id, p.module_id, p.priv_id, a.business_id`

// recomputeTenant queues the rewrite of tenant's grant paths and
// effective privileges.
func recomputeTenant(tx *Tx, tenant uuid.UUID) {
	tx.Queue(`DELETE FROM access_paths WHERE tenant_id = $1`, tenant)
	tx.Queue(pathsSQL, tenant)
	tx.Queue(`DELETE FROM access_privileges WHERE tenant_id = $1`, tenant)
	tx.Queue(privilegesSQL, tenant)
}

// changeTenant queues sql, a change of tenant's inputs, and the rewrite
// of tenant's effective privileges after it.
func changeTenant(tx *Tx, tenant uuid.UUID, sql string, args ...any) error {
	tx.Queue(sql, args...)
	recomputeTenant(tx, tenant)
	return nil
}

// recomputeAll queues the rewrite of every tenant's effective privileges
// (a role's items changed; who holds which role did not).
func recomputeAll(tx *Tx) {
	tx.Queue(`DELETE FROM access_privileges`)
	tx.Queue(privilegesSQL, nil)
}

func accessCatalogue(p *Projection) {
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermRolePrivAdded) error {
		tx.Queue(`INSERT INTO access_role_privs (role_id, module_id, priv_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			e.RoleID, e.ModuleID, e.PrivID)
		recomputeAll(tx)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermRolePrivRemoved) error {
		tx.Queue(`DELETE FROM access_role_privs WHERE role_id = $1 AND module_id = $2 AND priv_id = $3`, e.RoleID, e.ModuleID, e.PrivID)
		recomputeAll(tx)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermRoleRemoved) error {
		tx.Queue(`DELETE FROM access_role_privs WHERE role_id = $1`, e.RoleID)
		recomputeAll(tx)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.PermPrivRemoved) error {
		tx.Queue(`DELETE FROM access_role_privs WHERE module_id = $1 AND priv_id = $2`, e.ModuleID, e.PrivID)
		recomputeAll(tx)
		return nil
	})
}

func accessGrants(p *Projection) {
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.TenantRoleGranted) error {
		return changeTenant(tx, e.TenantID, `INSERT INTO access_grants (id, tenant_id, kind, subject_id, role_id) VALUES ($1, $2, $3, $4, $5)`,
			e.RelationID, e.TenantID, e.Kind, e.SubjectID, e.RoleID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.TenantRoleRevoked) error {
		return changeTenant(tx, e.TenantID, `DELETE FROM access_grants WHERE id = $1`, e.RelationID)
	})
}

// businessParent is the parent of the business whose level ids are
// first, second, third (0 for a level-1 business).
func businessParent(id, first, second int64) int64 {
	switch id {
	case first:
		return 0
	case second:
		return first
	}
	return second
}

func accessBusinesses(p *Projection) {
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessAdded) error {
		return changeTenant(tx, e.TenantID, `INSERT INTO access_businesses (tenant_id, business_id, parent_id, enabled) VALUES ($1, $2, $3, $4)`,
			e.TenantID, e.BusinessID, businessParent(e.BusinessID, e.FirstBusinessID, e.SecondBusinessID), e.IsEnable)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessEnabled) error {
		return changeTenant(tx, e.TenantID, `UPDATE access_businesses SET enabled = true WHERE business_id = $1`, e.BusinessID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessDisabled) error {
		return changeTenant(tx, e.TenantID, `UPDATE access_businesses SET enabled = false WHERE business_id = $1`, e.BusinessID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessMoved) error {
		return changeTenant(tx, e.TenantID, `UPDATE access_businesses SET parent_id = $2 WHERE business_id = $1`,
			e.BusinessID, businessParent(e.BusinessID, e.FirstBusinessID, e.SecondBusinessID))
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessRemoved) error {
		tx.Queue(`DELETE FROM access_businesses WHERE business_id = $1`, e.BusinessID)
		return changeTenant(tx, e.TenantID, `DELETE FROM access_business_roles WHERE business_id = $1`, e.BusinessID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessUserRolesSet) error {
		for _, r := range e.Added {
			tx.Queue(`INSERT INTO access_business_roles (id, tenant_id, business_id, uid, role_id) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, e.TenantID, e.BusinessID, e.UID, r.RoleID)
		}
		return changeTenant(tx, e.TenantID, `DELETE FROM access_business_roles WHERE id = ANY($1)`, e.RemovedIDs)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessUserRemoved) error {
		return changeTenant(tx, e.TenantID, `DELETE FROM access_business_roles WHERE business_id = $1 AND uid = $2`, e.BusinessID, e.UID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessUserRolesRemoved) error {
		ids := make([]int64, len(e.Relations))
		for i, r := range e.Relations {
			ids[i] = r.ID
		}
		return changeTenant(tx, e.TenantID, `DELETE FROM access_business_roles WHERE id = ANY($1)`, ids)
	})
}

func accessOrgs(p *Projection) {
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgCreated) error {
		tx.Queue(`INSERT INTO access_orgs (tenant_id, org_id, parent_id, enabled) VALUES ($1, $2, $3, $4)`,
			e.TenantID, e.OrgID, e.ParentOrgID, e.IsEnable)
		return nil // a new org has neither members nor grants yet
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgChanged) error {
		if e.IsEnable == nil {
			return nil
		}
		return changeTenant(tx, e.TenantID, `UPDATE access_orgs SET enabled = $2 WHERE org_id = $1`, e.OrgID, *e.IsEnable)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgMoved) error {
		return changeTenant(tx, e.TenantID, `UPDATE access_orgs SET parent_id = $2 WHERE org_id = $1`, e.OrgID, e.ParentOrgID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgRemoved) error {
		tx.Queue(`DELETE FROM access_orgs WHERE org_id = $1`, e.OrgID)
		return changeTenant(tx, e.TenantID, `DELETE FROM access_org_members WHERE org_id = $1`, e.OrgID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgMembersAdded) error {
		for _, m := range e.Members {
			tx.Queue(`INSERT INTO access_org_members (member_id, tenant_id, org_id, uid) VALUES ($1, $2, $3, $4)`,
				m.MemberID, e.TenantID, e.OrgID, m.UID)
		}
		recomputeTenant(tx, e.TenantID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgMemberRemoved) error {
		return changeTenant(tx, e.TenantID, `DELETE FROM access_org_members WHERE member_id = $1`, e.MemberID)
	})
}

func accessGroups(p *Projection) {
	// Groups themselves grant nothing (their grants and members do): they
	// are kept only to resolve a group a request names to its tenant.
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupCreated) error {
		tx.Queue(`INSERT INTO access_groups (group_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, e.GroupID, e.TenantID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupRemoved) error {
		tx.Queue(`DELETE FROM access_groups WHERE group_id = $1`, e.GroupID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupMemberAdded) error {
		return changeTenant(tx, e.TenantID, `INSERT INTO access_group_members (member_id, tenant_id, group_id, uid) VALUES ($1, $2, $3, $4)`,
			e.MemberID, e.TenantID, e.GroupID, e.UID)
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupMemberRemoved) error {
		return changeTenant(tx, e.TenantID, `DELETE FROM access_group_members WHERE member_id = $1`, e.MemberID)
	})
}

// AccessEvents are the event types the access projection reads: the
// identity, tenants, permissions, grants, businesses, organisations and
// user groups. The core registers them whichever modules an App has.
func AccessEvents() []domain.Schema {
	var out []domain.Schema
	for _, schemas := range [][]domain.Schema{domain.IdentityEvents(), domain.TenantEvents(), domain.PermissionEvents(),
		domain.TenantGrantEvents(), domain.BusinessEvents(), domain.OrgEvents(), domain.UserGroupEvents()} {
		out = append(out, schemas...)
	}
	return out
}
