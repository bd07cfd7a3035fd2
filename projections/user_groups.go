package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// UserGroupsName names the read model of user groups and their members.
const UserGroupsName = "user_groups"

// UserGroups builds the user_groups and user_group_members read models
// from the events of the tenants' UserGroups aggregates. The audit fields
// come from the events' metadata: c_uid and ctime from the creating event,
// m_uid and utime from the latest change.
func UserGroups() *Projection {
	p := New(UserGroupsName, "user_groups", "user_group_members")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserGroupCreated) error {
		tx.Queue(`INSERT INTO user_groups (group_id, tenant_id, group_name, is_enable, note, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7)`, e.GroupID, e.TenantID, e.GroupName, e.IsEnable, e.Note,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserGroupChanged) error {
		tx.Queue(`UPDATE user_groups SET group_name = coalesce($2, group_name), is_enable = coalesce($3, is_enable),
    note = coalesce($4, note), m_uid = $5, utime = $6 WHERE group_id = $1`,
			e.GroupID, e.GroupName, e.IsEnable, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupRemoved) error {
		tx.Queue(`DELETE FROM user_groups WHERE group_id = $1`, e.GroupID)
		tx.Queue(`DELETE FROM user_group_members WHERE group_id = $1`, e.GroupID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserGroupMemberAdded) error {
		tx.Queue(`INSERT INTO user_group_members (id, tenant_id, group_id, uid, is_leader, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7)`, e.MemberID, e.TenantID, e.GroupID, e.UID, e.IsLeader,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserGroupMemberChanged) error {
		tx.Queue(`UPDATE user_group_members SET is_leader = $2, m_uid = $3, utime = $4 WHERE id = $1`,
			e.MemberID, e.IsLeader, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserGroupMemberRemoved) error {
		tx.Queue(`DELETE FROM user_group_members WHERE id = $1`, e.MemberID)
		return nil
	})
	return p
}
