package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// UserGroups serves the writes of user groups and their members (#173–175,
// #177–179). Every write is one decision of the tenant's UserGroups
// aggregate; only holders of user_groups.write/modify/delete in the tenant write (access.Tenant).
type UserGroups struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	IDs    IDs
	Clock  func() time.Time
}

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

// Routes registers the write operations of user groups.
func (h *UserGroups) Routes(s *httpapi.Server) {
	models := readapi.UserGroupReadModels
	tenant := httpapi.Param{Name: "tenant-id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant,
		Description: "The tenant (default: the X-Tenant-Id header, else the system tenant)."}
	group := []httpapi.Param{{Name: "group_id", In: "path", Type: "integer", Place: tenancy.PlaceGroup}, tenant}
	member := []httpapi.Param{{Name: "member_id", In: "path", Type: "integer", Place: tenancy.PlaceGroupMember}, tenant}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-groups", Access: access.Tenant("user_groups", "write"), Tag: "Organization", Summary: "Add User Group",
		Description: "Add a user group to the tenant tenant_id. Names are unique in a tenant, case-insensitively (409).",
		Body:        UserGroupCreate{}, Response: readapi.UserGroupRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.addGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
		Summary:     "Patch User Group",
		Description: "Change a group of the tenant; absent or null fields stay as they are. A name another group of the tenant has is 409.",
		Params:      group, Body: UserGroupPatch{}, Response: readapi.UserGroupRead{}, ReadModels: models, Handler: h.patchGroup})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-groups/{group_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
		Summary:     "Remove User Group",
		Description: "Remove a group of the tenant. A group that still has members is not removed (409).",
		Params:      group, Response: Detail{}, ReadModels: models, Handler: h.removeGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/user-group-members", Access: access.Tenant("user_groups", "write"), Tag: "Organization",
		Summary: "Add User Group Member",
		Description: "Add an active user to a group of the tenant. An unknown or inactive user is 422; a user already in " +
			"the group is 409.",
		Params: []httpapi.Param{tenant}, Body: UserGroupMemberCreate{}, Response: readapi.UserGroupMemberRead{},
		Status: http.StatusCreated, ReadModels: models, Handler: h.addMember})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "modify"), Tag: "Organization",
		Summary: "Patch User Group Member", Description: "Make a member of a group of the tenant a leader, or not.",
		Params: member, Body: UserGroupMemberPatch{}, Response: readapi.UserGroupMemberRead{}, ReadModels: models, Handler: h.patchMember})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/user-group-members/{member_id}", Access: access.Tenant("user_groups", "delete"), Tag: "Organization",
		Summary: "Remove User Group Member", Description: "Remove a member from its group of the tenant.",
		Params: member, Response: Detail{}, ReadModels: models, Handler: h.removeMember})
}

// LoadUserGroups folds the user groups of tenant (an empty aggregate when
// the tenant has none yet).
func LoadUserGroups(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.UserGroups, error) {
	return loadOrNew(ctx, repo, func() *domain.UserGroups { return domain.LoadUserGroups(tenant) })
}

// decide loads tenant's user groups, lets fn decide and saves what it
// recorded, again on a lost race (each time on the fresh state).
func (h *UserGroups) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.UserGroups) error) (eventstore.AppendResult, error) {
	return decideAgain(ctx, h.Repo, func() *domain.UserGroups { return domain.LoadUserGroups(tenant) }, fn, md)
}

// begin is the common start of every write: the caller must manage
// tenants, and the tenant (param, else X-Tenant-Id, else the system
// tenant) must exist. It returns the tenant and the events' metadata.
func (h *UserGroups) begin(c *gin.Context, param *uuid.UUID) (uuid.UUID, eventstore.Metadata, bool) {
	t, ok := tenancy.Resolve(c, h.Pool, param)
	if !ok {
		return uuid.Nil, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, h.Clock())
	md.TenantID = t.ID
	return t.ID, md, true
}

// answerGroup answers group id of tenant as the read model shows res
// (readBack).
func (h *UserGroups) answerGroup(c *gin.Context, tenant uuid.UUID, id int64, res eventstore.AppendResult, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, status, func(ctx context.Context, db readapi.DB) (readapi.UserGroupRead, error) {
		return readapi.UserGroupByID(ctx, db, tenant, id)
	})
}

// answerMember answers member id of tenant as the read model shows res
// (readBack).
func (h *UserGroups) answerMember(c *gin.Context, tenant uuid.UUID, id int64, res eventstore.AppendResult, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, status, func(ctx context.Context, db readapi.DB) (readapi.UserGroupMemberRead, error) {
		return readapi.UserGroupMemberByID(ctx, db, tenant, id)
	})
}

func (h *UserGroups) addGroup(c *gin.Context) {
	var body UserGroupCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, md, ok := h.begin(c, &body.TenantID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if err := domain.ValidUserGroupName(*body.GroupName); err != nil {
		httpapi.Fail(c, err)
		return
	}
	id, err := h.IDs.Next(ctx, "group")
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	res, err := h.decide(ctx, tenant, md, func(g *domain.UserGroups) error {
		return g.AddGroup(id, *body.GroupName, body.IsEnable == nil || *body.IsEnable, body.Note)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answerGroup(c, tenant, id, res, http.StatusCreated)
}

// ugPathAndTenant binds the integer path parameter name and the tenant-id
// query parameter.
func ugPathAndTenant(c *gin.Context, name string) (int64, *uuid.UUID, bool) {
	id, ok := httpapi.PathInt(c, name)
	if !ok {
		return 0, nil, false
	}
	var q ugTenantQuery
	if !httpapi.BindQuery(c, &q) {
		return 0, nil, false
	}
	return id, q.TenantID, true
}

// byID runs a write on /{param} of the tenant's user groups: the manager
// check, the path id and tenant-id, the body (when body is not nil), the
// tenant, then decide. It answers every failure, and returns the tenant,
// the id and what was written.
func (h *UserGroups) byID(c *gin.Context, param string, body any, decide func(g *domain.UserGroups, id int64) error) (uuid.UUID, int64, eventstore.AppendResult, bool) {
	var none eventstore.AppendResult
	id, tenantParam, ok := ugPathAndTenant(c, param)
	if !ok {
		return uuid.Nil, 0, none, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return uuid.Nil, 0, none, false
	}
	tenant, md, ok := h.begin(c, tenantParam)
	if !ok {
		return uuid.Nil, 0, none, false
	}
	res, err := h.decide(c.Request.Context(), tenant, md, func(g *domain.UserGroups) error { return decide(g, id) })
	if err != nil {
		httpapi.Fail(c, err)
		return uuid.Nil, 0, none, false
	}
	return tenant, id, res, true
}

func (h *UserGroups) patchGroup(c *gin.Context) {
	var body UserGroupPatch
	tenant, id, res, ok := h.byID(c, "group_id", &body, func(g *domain.UserGroups, id int64) error {
		return g.ChangeGroup(id, domain.UserGroupChange{GroupName: body.GroupName, IsEnable: body.IsEnable, Note: body.Note})
	})
	if ok {
		h.answerGroup(c, tenant, id, res, http.StatusOK)
	}
}

func (h *UserGroups) removeGroup(c *gin.Context) {
	if _, _, res, ok := h.byID(c, "group_id", nil, func(g *domain.UserGroups, id int64) error { return g.RemoveGroup(id) }); ok {
		answerValue(c, h.Server, res.Last(), nil, http.StatusOK, Detail{Detail: msgUserGroupDeleted})
	}
}

// ugActiveUser refuses (422 at ["body", "uid"]) a user the users read
// model does not know or shows inactive.
func ugActiveUser(ctx context.Context, pool *pgxpool.Pool, uid int64) error {
	var active bool
	err := pool.QueryRow(ctx, `SELECT is_active FROM users WHERE id = $1`, uid).Scan(&active)
	invalid := func(msg string) error {
		return &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: []any{"body", "uid"},
			Msg: "Value error, " + msg, Input: uid}}}
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return invalid(fmt.Sprintf("User %d does not exist", uid))
	case err != nil:
		return fmt.Errorf("read user %d: %w", uid, err)
	case !active:
		return invalid(fmt.Sprintf("User %d is not active", uid))
	}
	return nil
}

func (h *UserGroups) addMember(c *gin.Context) {
	var q ugTenantQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	var body UserGroupMemberCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, md, ok := h.begin(c, q.TenantID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	group, uid := *body.GroupID, *body.UID
	var id int64
	res, err := h.decide(ctx, tenant, md, func(g *domain.UserGroups) error {
		if _, ok := g.Group(group); !ok {
			return domain.NotFoundf(domain.MsgUserGroupNotFound)
		}
		if err := ugActiveUser(ctx, h.Pool, uid); err != nil {
			return err
		}
		if id == 0 {
			next, err := h.IDs.Next(ctx, "group_member")
			if err != nil {
				return err
			}
			id = next
		}
		return g.AddMember(id, group, uid, body.IsLeader != nil && *body.IsLeader)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answerMember(c, tenant, id, res, http.StatusCreated)
}

func (h *UserGroups) patchMember(c *gin.Context) {
	var body UserGroupMemberPatch
	tenant, id, res, ok := h.byID(c, "member_id", &body, func(g *domain.UserGroups, id int64) error {
		return g.ChangeMember(id, *body.IsLeader)
	})
	if ok {
		h.answerMember(c, tenant, id, res, http.StatusOK)
	}
}

func (h *UserGroups) removeMember(c *gin.Context) {
	if _, _, res, ok := h.byID(c, "member_id", nil, func(g *domain.UserGroups, id int64) error { return g.RemoveMember(id) }); ok {
		answerValue(c, h.Server, res.Last(), nil, http.StatusOK, Detail{Detail: msgUserGroupMemberDeleted})
	}
}
