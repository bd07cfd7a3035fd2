package ports

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The writes of user groups and their members (#173–175, #177–179): each
// binds a request, resolves the tenant (tenant_id of the body or the
// tenant-id query parameter, else X-Tenant-Id, else the system tenant;
// holders of user_groups.write/modify/delete there), calls the
// commands.UserGroupsHandler and answers what the read model shows.

// The answers of the removals.
const (
	msgUserGroupDeleted       = "User group deleted"
	msgUserGroupMemberDeleted = "User group member deleted"
)

// UserGroupCreate is the body of Add User Group.
type UserGroupCreate struct {
	TenantID  uuid.UUID `json:"tenant_id" binding:"required"`
	GroupName *string   `json:"group_name" binding:"required,min=1,max=64"`
	IsEnable  *bool     `json:"is_enable"`
	Note      *string   `json:"note"`
}

// UserGroupPatch is the body of Patch User Group: absent or null fields
// stay as they are.
type UserGroupPatch struct {
	GroupName *string `json:"group_name" binding:"omitnil,min=1,max=64"`
	IsEnable  *bool   `json:"is_enable"`
	Note      *string `json:"note"`
}

// UserGroupMemberCreate is the body of Add User Group Member.
type UserGroupMemberCreate struct {
	GroupID  *int64 `json:"group_id" binding:"required"`
	UID      *int64 `json:"uid" binding:"required"`
	IsLeader *bool  `json:"is_leader"`
}

// UserGroupMemberPatch is the body of Patch User Group Member.
type UserGroupMemberPatch struct {
	IsLeader *bool `json:"is_leader" binding:"required"`
}

// tenantQuery is the tenant-id query parameter of the writes of user
// groups and orgs: the tenant they act in (their TenantParam), else
// X-Tenant-Id, else the system tenant.
type tenantQuery struct {
	TenantID *uuid.UUID `form:"tenant-id" place:"tenant" doc:"The tenant (default: the X-Tenant-Id header, else the system tenant)."`
}

// tenant is the tenant the query names (nil: none).
func (q tenantQuery) tenant() *uuid.UUID { return q.TenantID }

// The requests of the user groups' writes: where each part of the command
// comes from (see Write). Add User Group names its tenant in the body,
// the others in the query.
type (
	addUserGroup struct {
		InTenant
		Body UserGroupCreate `body:""`
	}
	patchUserGroup struct {
		GroupID int64 `path:"group_id" place:"group"`
		tenantQuery
		InTenant
		Body UserGroupPatch `body:""`
	}
	removeUserGroup struct {
		GroupID int64 `path:"group_id" place:"group"`
		tenantQuery
		InTenant
	}
	addUserGroupMember struct {
		tenantQuery
		InTenant
		Body UserGroupMemberCreate `body:""`
	}
	patchUserGroupMember struct {
		MemberID int64 `path:"member_id" place:"group_member"`
		tenantQuery
		InTenant
		Body UserGroupMemberPatch `body:""`
	}
	removeUserGroupMember struct {
		MemberID int64 `path:"member_id" place:"group_member"`
		tenantQuery
		InTenant
	}
)

// UserGroups registers the write operations of user groups.
func UserGroups(p Port, h *commands.UserGroupsHandler) {
	models := readapi.UserGroupReadModels
	Write[addUserGroup, commands.UserGroupWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-groups", Access: access.Tenant("user_groups", "write"), Tag: "Organization", Summary: "Add User Group",
			Description: "Add a user group to the tenant tenant_id. Names are unique in a tenant, case-insensitively (409).",
			Response:    readapi.UserGroupRead{}, Status: http.StatusCreated, ReadModels: models},
		TenantParam: func(r addUserGroup) *uuid.UUID { return &r.Body.TenantID },
		Handle: func(ctx context.Context, r addUserGroup) (commands.UserGroupWritten, eventstore.Position, error) {
			w, err := h.AddGroup(ctx, commands.AddUserGroup{Tenant: r.Tenant, Meta: r.Meta, GroupName: *r.Body.GroupName,
				IsEnable: r.Body.IsEnable == nil || *r.Body.IsEnable, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addUserGroup, w commands.UserGroupWritten) (any, error) {
			return readapi.UserGroupByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[patchUserGroup, commands.UserGroupWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
			Summary:     "Patch User Group",
			Description: "Change a group of the tenant; absent or null fields stay as they are. A name another group of the tenant has is 409.",
			Response:    readapi.UserGroupRead{}, ReadModels: models},
		TenantParam: patchUserGroup.tenant,
		Handle: func(ctx context.Context, r patchUserGroup) (commands.UserGroupWritten, eventstore.Position, error) {
			w, err := h.ChangeGroup(ctx, commands.ChangeUserGroup{Tenant: r.Tenant, Meta: r.Meta, GroupID: r.GroupID,
				Change: domain.UserGroupChange{GroupName: r.Body.GroupName, IsEnable: r.Body.IsEnable, Note: r.Body.Note}})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchUserGroup, w commands.UserGroupWritten) (any, error) {
			return readapi.UserGroupByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeUserGroup, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
			Summary:     "Remove User Group",
			Description: "Remove a group of the tenant. A group that still has members is not removed (409).",
			Response:    Detail{}, ReadModels: models},
		TenantParam: removeUserGroup.tenant,
		Handle: func(ctx context.Context, r removeUserGroup) (Detail, eventstore.Position, error) {
			w, err := h.RemoveGroup(ctx, commands.RemoveUserGroup{Tenant: r.Tenant, Meta: r.Meta, GroupID: r.GroupID})
			return Detail{Detail: msgUserGroupDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addUserGroupMember, commands.UserGroupWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-group-members", Access: access.Tenant("user_groups", "write"), Tag: "Organization",
			Summary: "Add User Group Member",
			Description: "Add an active user to a group of the tenant. An unknown or inactive user is 422; a user already in " +
				"the group is 409.",
			Response: readapi.UserGroupMemberRead{}, Status: http.StatusCreated, ReadModels: models},
		TenantParam: addUserGroupMember.tenant,
		Handle: func(ctx context.Context, r addUserGroupMember) (commands.UserGroupWritten, eventstore.Position, error) {
			w, err := h.AddMember(ctx, commands.AddUserGroupMember{Tenant: r.Tenant, Meta: r.Meta, GroupID: *r.Body.GroupID,
				UID: *r.Body.UID, IsLeader: r.Body.IsLeader != nil && *r.Body.IsLeader})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addUserGroupMember, w commands.UserGroupWritten) (any, error) {
			return readapi.UserGroupMemberByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[patchUserGroupMember, commands.UserGroupWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
			Summary: "Patch User Group Member", Description: "Make a member of a group of the tenant a leader, or not.",
			Response: readapi.UserGroupMemberRead{}, ReadModels: models},
		TenantParam: patchUserGroupMember.tenant,
		Handle: func(ctx context.Context, r patchUserGroupMember) (commands.UserGroupWritten, eventstore.Position, error) {
			w, err := h.ChangeMember(ctx, commands.ChangeUserGroupMember{Tenant: r.Tenant, Meta: r.Meta, MemberID: r.MemberID,
				IsLeader: *r.Body.IsLeader})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchUserGroupMember, w commands.UserGroupWritten) (any, error) {
			return readapi.UserGroupMemberByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeUserGroupMember, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
			Summary: "Remove User Group Member", Description: "Remove a member from its group of the tenant.",
			Response: Detail{}, ReadModels: models},
		TenantParam: removeUserGroupMember.tenant,
		Handle: func(ctx context.Context, r removeUserGroupMember) (Detail, eventstore.Position, error) {
			w, err := h.RemoveMember(ctx, commands.RemoveUserGroupMember{Tenant: r.Tenant, Meta: r.Meta, MemberID: r.MemberID})
			return Detail{Detail: msgUserGroupMemberDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
