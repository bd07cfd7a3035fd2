package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of user groups and their members (#173–175, #177–179):
// each is a command value and one method of UserGroupsHandler that decides
// on the tenant's UserGroups aggregate and appends, with no HTTP in sight
// (ports.UserGroups binds, resolves the tenant, calls and answers).

// AddUserGroup adds a group to a tenant.
type AddUserGroup struct {
	Tenant    uuid.UUID
	Meta      eventstore.Metadata
	GroupName string
	IsEnable  bool
	Note      *string
}

// ChangeUserGroup changes a group of the tenant (nil fields of Change
// stay as they are).
type ChangeUserGroup struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	GroupID int64
	Change  domain.UserGroupChange
}

// RemoveUserGroup removes a group of the tenant.
type RemoveUserGroup struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	GroupID int64
}

// AddUserGroupMember makes a user a member of a group of the tenant.
type AddUserGroupMember struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	GroupID  int64
	UID      int64
	IsLeader bool
}

// ChangeUserGroupMember makes a member of a group of the tenant a leader,
// or not.
type ChangeUserGroupMember struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	MemberID int64
	IsLeader bool
}

// RemoveUserGroupMember removes a member from its group of the tenant.
type RemoveUserGroupMember struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	MemberID int64
}

// UserGroupWritten is what a user group command did: the group or member
// it wrote and where its events landed.
type UserGroupWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// UserGroupsHandler handles the commands of user groups.
type UserGroupsHandler struct {
	Repo *Repository
	IDs  IDs
	// Users reads the accounts a new member must name (the users read
	// model).
	Users MemberAccounts
}

// LoadUserGroups folds the user groups of tenant (an empty aggregate when
// the tenant has none yet).
func LoadUserGroups(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.UserGroups, error) {
	return loadOrNew(ctx, repo, func() *domain.UserGroups { return domain.LoadUserGroups(tenant) })
}

// decide loads tenant's user groups, lets fn decide and saves what it
// recorded (as the tenant's events), again on a lost race (each time on
// the fresh state).
func (h *UserGroupsHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.UserGroups) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadUserGroups, md, fn)
}

// AddGroup handles AddUserGroup: the name must be valid (422) and free in
// the tenant, case-insensitively (409).
func (h *UserGroupsHandler) AddGroup(ctx context.Context, cmd AddUserGroup) (UserGroupWritten, error) {
	if err := domain.ValidUserGroupName(cmd.GroupName); err != nil {
		return UserGroupWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "group")
	if err != nil {
		return UserGroupWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error {
		return g.AddGroup(id, cmd.GroupName, cmd.IsEnable, cmd.Note)
	})
	return UserGroupWritten{ID: id, Result: res}, err
}

// ChangeGroup handles ChangeUserGroup.
func (h *UserGroupsHandler) ChangeGroup(ctx context.Context, cmd ChangeUserGroup) (UserGroupWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error {
		return g.ChangeGroup(cmd.GroupID, cmd.Change)
	})
	return UserGroupWritten{ID: cmd.GroupID, Result: res}, err
}

// RemoveGroup handles RemoveUserGroup: a group with members stays (409).
func (h *UserGroupsHandler) RemoveGroup(ctx context.Context, cmd RemoveUserGroup) (UserGroupWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error { return g.RemoveGroup(cmd.GroupID) })
	return UserGroupWritten{ID: cmd.GroupID, Result: res}, err
}

// activeUser refuses (a domain.FieldError at ["body", "uid"]) a user the
// users read model does not know or shows inactive.
func (h *UserGroupsHandler) activeUser(ctx context.Context, uid int64) error {
	found, err := h.Users.Accounts(ctx, []int64{uid})
	if err != nil {
		return fmt.Errorf("read user %d: %w", uid, err)
	}
	invalid := func(msg string) error {
		return &domain.FieldError{Loc: []any{"body", "uid"}, Message: msg, Input: uid}
	}
	a, ok := found[uid]
	switch {
	case !ok:
		return invalid(fmt.Sprintf("User %d does not exist", uid))
	case !a.Active:
		return invalid(fmt.Sprintf("User %d is not active", uid))
	}
	return nil
}

// AddMember handles AddUserGroupMember: the group must exist (404), the
// user must exist and be active (422), and not be a member yet (409).
func (h *UserGroupsHandler) AddMember(ctx context.Context, cmd AddUserGroupMember) (UserGroupWritten, error) {
	var id int64
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error {
		if _, ok := g.Group(cmd.GroupID); !ok {
			return domain.NotFoundf(domain.MsgUserGroupNotFound)
		}
		if err := h.activeUser(ctx, cmd.UID); err != nil {
			return err
		}
		if id == 0 {
			next, err := h.IDs.Next(ctx, "group_member")
			if err != nil {
				return err
			}
			id = next
		}
		return g.AddMember(id, cmd.GroupID, cmd.UID, cmd.IsLeader)
	})
	return UserGroupWritten{ID: id, Result: res}, err
}

// ChangeMember handles ChangeUserGroupMember.
func (h *UserGroupsHandler) ChangeMember(ctx context.Context, cmd ChangeUserGroupMember) (UserGroupWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error {
		return g.ChangeMember(cmd.MemberID, cmd.IsLeader)
	})
	return UserGroupWritten{ID: cmd.MemberID, Result: res}, err
}

// RemoveMember handles RemoveUserGroupMember.
func (h *UserGroupsHandler) RemoveMember(ctx context.Context, cmd RemoveUserGroupMember) (UserGroupWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.UserGroups) error { return g.RemoveMember(cmd.MemberID) })
	return UserGroupWritten{ID: cmd.MemberID, Result: res}, err
}
