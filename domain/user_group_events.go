package domain

import "github.com/google/uuid"

// The events of a tenant's user groups (stream user_groups-<tenant uuid>,
// the UserGroups aggregate). Each names its tenant in its data as well as
// in its metadata, so a read model needs nothing else to place it.

// UserGroupCreated records a new group of the tenant.
type UserGroupCreated struct {
	TenantID  uuid.UUID `json:"tenant_id"`
	GroupID   int64     `json:"group_id"`
	GroupName string    `json:"group_name"`
	IsEnable  bool      `json:"is_enable"`
	Note      *string   `json:"note,omitempty"`
}

// UserGroupChanged records new values of a group's fields; absent fields
// did not change.
type UserGroupChanged struct {
	TenantID  uuid.UUID `json:"tenant_id"`
	GroupID   int64     `json:"group_id"`
	GroupName *string   `json:"group_name,omitempty"`
	IsEnable  *bool     `json:"is_enable,omitempty"`
	Note      *string   `json:"note,omitempty"`
}

// UserGroupRemoved records the removal of a group (it had no members).
type UserGroupRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	GroupID  int64     `json:"group_id"`
}

// UserGroupMemberAdded records user UID joining group GroupID as member
// MemberID.
type UserGroupMemberAdded struct {
	TenantID uuid.UUID `json:"tenant_id"`
	MemberID int64     `json:"member_id"`
	GroupID  int64     `json:"group_id"`
	UID      int64     `json:"uid"`
	IsLeader bool      `json:"is_leader"`
}

// UserGroupMemberChanged records a member's new leader flag.
type UserGroupMemberChanged struct {
	TenantID uuid.UUID `json:"tenant_id"`
	MemberID int64     `json:"member_id"`
	GroupID  int64     `json:"group_id"`
	IsLeader bool      `json:"is_leader"`
}

// UserGroupMemberRemoved records a member leaving its group.
type UserGroupMemberRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	MemberID int64     `json:"member_id"`
	GroupID  int64     `json:"group_id"`
	UID      int64     `json:"uid"`
}

func (UserGroupCreated) EventType() string       { return "user_group.created" }
func (UserGroupChanged) EventType() string       { return "user_group.changed" }
func (UserGroupRemoved) EventType() string       { return "user_group.removed" }
func (UserGroupMemberAdded) EventType() string   { return "user_group.member_added" }
func (UserGroupMemberChanged) EventType() string { return "user_group.member_changed" }
func (UserGroupMemberRemoved) EventType() string { return "user_group.member_removed" }

// UserGroupEvents lists the event types of user groups, for the registry.
func UserGroupEvents() []Schema {
	return V1(UserGroupCreated{}, UserGroupChanged{}, UserGroupRemoved{},
		UserGroupMemberAdded{}, UserGroupMemberChanged{}, UserGroupMemberRemoved{})
}
