package ports

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The writes of user groups and their members (#173–175, #177–179): each
// binds a request, resolves the tenant (tenant_id of the body or the
// tenant-id query parameter, else X-Tenant-Id, else the system tenant;
// holders of user_groups.write/modify/delete there), calls the
// commands.UserGroupsHandler and answers what the read model shows. They
// are written by hand: the tenant a request names is not Write's.

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

// ugTenantQuery is the tenant-id query parameter of the writes.
type ugTenantQuery struct {
	TenantID *uuid.UUID `form:"tenant-id"`
}

// userGroups is the port of the user groups' writes.
type userGroups struct {
	p Port
	h *commands.UserGroupsHandler
}

// UserGroups registers the write operations of user groups.
func UserGroups(p Port, h *commands.UserGroupsHandler) {
	s, w := p.Server, &userGroups{p: p, h: h}
	models := readapi.UserGroupReadModels
	tenant := httpapi.Param{Name: "tenant-id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant,
		Description: "The tenant (default: the X-Tenant-Id header, else the system tenant)."}
	group := []httpapi.Param{{Name: "group_id", In: "path", Type: "integer", Place: tenancy.PlaceGroup}, tenant}
	member := []httpapi.Param{{Name: "member_id", In: "path", Type: "integer", Place: tenancy.PlaceGroupMember}, tenant}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-groups", Access: access.Tenant("user_groups", "write"), Tag: "Organization", Summary: "Add User Group",
		Description: "Add a user group to the tenant tenant_id. Names are unique in a tenant, case-insensitively (409).",
		Body:        UserGroupCreate{}, Response: readapi.UserGroupRead{}, Status: http.StatusCreated, ReadModels: models, Handler: w.addGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
		Summary:     "Patch User Group",
		Description: "Change a group of the tenant; absent or null fields stay as they are. A name another group of the tenant has is 409.",
		Params:      group, Body: UserGroupPatch{}, Response: readapi.UserGroupRead{}, ReadModels: models, Handler: w.patchGroup})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
		Summary:     "Remove User Group",
		Description: "Remove a group of the tenant. A group that still has members is not removed (409).",
		Params:      group, Response: Detail{}, ReadModels: models, Handler: w.removeGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-group-members", Access: access.Tenant("user_groups", "write"), Tag: "Organization",
		Summary: "Add User Group Member",
		Description: "Add an active user to a group of the tenant. An unknown or inactive user is 422; a user already in " +
			"the group is 409.",
		Params: []httpapi.Param{tenant}, Body: UserGroupMemberCreate{}, Response: readapi.UserGroupMemberRead{},
		Status: http.StatusCreated, ReadModels: models, Handler: w.addMember})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
		Summary: "Patch User Group Member", Description: "Make a member of a group of the tenant a leader, or not.",
		Params: member, Body: UserGroupMemberPatch{}, Response: readapi.UserGroupMemberRead{}, ReadModels: models, Handler: w.patchMember})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
		Summary: "Remove User Group Member", Description: "Remove a member from its group of the tenant.",
		Params: member, Response: Detail{}, ReadModels: models, Handler: w.removeMember})
}

// begin resolves the tenant of a write (param, else X-Tenant-Id, else the
// system tenant: it must exist and the caller hold the operation's
// privilege there) and the events' metadata.
func (w *userGroups) begin(c *gin.Context, param *uuid.UUID) (uuid.UUID, eventstore.Metadata, bool) {
	t, ok := tenancy.Resolve(c, w.p.Pool, param)
	if !ok {
		return uuid.Nil, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, w.p.Clock())
	md.TenantID = t.ID
	return t.ID, md, true
}

// answerGroup answers the group r wrote in tenant as the read model shows
// the write (err: fails the request).
func (w *userGroups) answerGroup(c *gin.Context, tenant uuid.UUID, r commands.UserGroupWritten, err error, status int) {
	if err != nil {
		memberFail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), status, func(ctx context.Context, db readapi.DB) (readapi.UserGroupRead, error) {
		return readapi.UserGroupByID(ctx, db, tenant, r.ID)
	})
}

// answerMember answers the member r wrote in tenant as the read model
// shows the write (err: fails the request).
func (w *userGroups) answerMember(c *gin.Context, tenant uuid.UUID, r commands.UserGroupWritten, err error, status int) {
	if err != nil {
		memberFail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), status, func(ctx context.Context, db readapi.DB) (readapi.UserGroupMemberRead, error) {
		return readapi.UserGroupMemberByID(ctx, db, tenant, r.ID)
	})
}

// answerDetail answers a removal with its message (err: fails the
// request).
func (w *userGroups) answerDetail(c *gin.Context, r commands.UserGroupWritten, err error, msg string) {
	if err != nil {
		memberFail(c, err)
		return
	}
	answerValue(c, w.p, r.Result.Last(), http.StatusOK, Detail{Detail: msg})
}

func (w *userGroups) addGroup(c *gin.Context) {
	var body UserGroupCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, md, ok := w.begin(c, &body.TenantID)
	if !ok {
		return
	}
	r, err := w.h.AddGroup(c.Request.Context(), commands.AddUserGroup{Tenant: tenant, Meta: md, GroupName: *body.GroupName,
		IsEnable: body.IsEnable == nil || *body.IsEnable, Note: body.Note})
	w.answerGroup(c, tenant, r, err, http.StatusCreated)
}

// byID binds a write on /{param} of the tenant's user groups: the path
// id and tenant-id, the body (when body is not nil), then the tenant. It
// answers every failure.
func (w *userGroups) byID(c *gin.Context, param string, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	id, ok := httpapi.PathInt(c, param)
	if !ok {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	var q ugTenantQuery
	if !httpapi.BindQuery(c, &q) {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	tenant, md, ok := w.begin(c, q.TenantID)
	return id, tenant, md, ok
}

func (w *userGroups) patchGroup(c *gin.Context) {
	var body UserGroupPatch
	id, tenant, md, ok := w.byID(c, "group_id", &body)
	if !ok {
		return
	}
	r, err := w.h.ChangeGroup(c.Request.Context(), commands.ChangeUserGroup{Tenant: tenant, Meta: md, GroupID: id,
		Change: domain.UserGroupChange{GroupName: body.GroupName, IsEnable: body.IsEnable, Note: body.Note}})
	w.answerGroup(c, tenant, r, err, http.StatusOK)
}

func (w *userGroups) removeGroup(c *gin.Context) {
	id, tenant, md, ok := w.byID(c, "group_id", nil)
	if !ok {
		return
	}
	r, err := w.h.RemoveGroup(c.Request.Context(), commands.RemoveUserGroup{Tenant: tenant, Meta: md, GroupID: id})
	w.answerDetail(c, r, err, msgUserGroupDeleted)
}

func (w *userGroups) addMember(c *gin.Context) {
	var q ugTenantQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	var body UserGroupMemberCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, md, ok := w.begin(c, q.TenantID)
	if !ok {
		return
	}
	r, err := w.h.AddMember(c.Request.Context(), commands.AddUserGroupMember{Tenant: tenant, Meta: md, GroupID: *body.GroupID,
		UID: *body.UID, IsLeader: body.IsLeader != nil && *body.IsLeader})
	w.answerMember(c, tenant, r, err, http.StatusCreated)
}

func (w *userGroups) patchMember(c *gin.Context) {
	var body UserGroupMemberPatch
	id, tenant, md, ok := w.byID(c, "member_id", &body)
	if !ok {
		return
	}
	r, err := w.h.ChangeMember(c.Request.Context(), commands.ChangeUserGroupMember{Tenant: tenant, Meta: md, MemberID: id,
		IsLeader: *body.IsLeader})
	w.answerMember(c, tenant, r, err, http.StatusOK)
}

func (w *userGroups) removeMember(c *gin.Context) {
	id, tenant, md, ok := w.byID(c, "member_id", nil)
	if !ok {
		return
	}
	r, err := w.h.RemoveMember(c.Request.Context(), commands.RemoveUserGroupMember{Tenant: tenant, Meta: md, MemberID: id})
	w.answerDetail(c, r, err, msgUserGroupMemberDeleted)
}
