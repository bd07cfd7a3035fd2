package ports

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The writes of organisations and their members (#162, #164, #165, #167,
// #170, #171): each binds a request, resolves the tenant (tenant_id of
// the body, or the tenant-id query parameter, else X-Tenant-Id, else the
// system tenant; orgs.write/modify/delete there), calls the
// commands.OrgsHandler and answers what the read models show. They are
// written by hand: the tenant a request names is not Write's.

// The answers of the removals.
const (
	msgOrgDeleted       = "Org deleted"
	msgOrgMemberDeleted = "Org member deleted"
)

// OrgCreate is the body of Add Org. parent_org_id 0 or null makes a root
// org.
type OrgCreate struct {
	TenantID    *uuid.UUID `json:"tenant_id" binding:"required"`
	OrgName     *string    `json:"org_name" binding:"required,min=1,max=64"`
	OrgCode     *string    `json:"org_code" binding:"omitempty,max=64"`
	ParentOrgID *int64     `json:"parent_org_id" binding:"omitempty,min=0"`
	IsEnable    *bool      `json:"is_enable"`
	Note        *string    `json:"note" binding:"omitempty,max=2000"`
}

// OrgUpdate is the body of Patch Org: absent or null fields stay as they
// are; an org_code of "" clears the code. The spec's body has no
// parent_org_id: orgs do not move.
type OrgUpdate struct {
	OrgName  *string `json:"org_name" binding:"omitempty,min=1,max=64"`
	OrgCode  *string `json:"org_code" binding:"omitempty,max=64"`
	IsEnable *bool   `json:"is_enable"`
	Note     *string `json:"note" binding:"omitempty,max=2000"`
	// ParentOrgID moves the org (with everything under it) under another
	// org, 0 making it a root. Not in the spec's body: the org tree
	// has moves; a cycle or a tree deeper than six levels is 422.
	ParentOrgID *int64 `json:"parent_org_id" binding:"omitempty,gte=0"`
}

// OrgMembersCreate is the body of Add Org Members: the users of uids join
// the org with the same position, job and leader flag, all or none.
type OrgMembersCreate struct {
	TenantID *uuid.UUID `json:"tenant_id" binding:"required"`
	OrgID    *int64     `json:"org_id" binding:"required"`
	UIDs     []int64    `json:"uids" binding:"omitempty,max=1000"`
	Position *string    `json:"position" binding:"required,min=1,max=64"`
	Job      *string    `json:"job" binding:"required,min=1,max=64"`
	IsLeader *bool      `json:"is_leader"`
}

// OrgMemberUpdate is the body of Patch Org Member: absent or null fields
// stay as they are.
type OrgMemberUpdate struct {
	Position *string `json:"position" binding:"omitempty,min=1,max=64"`
	Job      *string `json:"job" binding:"omitempty,min=1,max=64"`
	IsLeader *bool   `json:"is_leader"`
}

// orgs is the port of the organisations' writes.
type orgs struct {
	p Port
	h *commands.OrgsHandler
}

// Orgs registers the write operations of organisations: orgs.write/
// modify/delete in the tenant (access.Tenant).
func Orgs(p Port, h *commands.OrgsHandler) {
	s, w := p.Server, &orgs{p: p, h: h}
	orgID := httpapi.Param{Name: "org_id", In: "path", Type: "integer", Place: tenancy.PlaceOrg}
	memberID := httpapi.Param{Name: "member_id", In: "path", Type: "integer", Place: tenancy.PlaceOrgMember}
	tenant := readapi.OrgTenantParam
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/orgs", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org",
		Description: "Add an org to the tenant, under parent_org_id (0 or null: a root org). Its org_level is one more " +
			"than its parent's (at most 6: 422 beyond); one_org_id .. six_org_id are its ancestors by level, its own id " +
			"at its own level. org_code is unique in the tenant, case-insensitively (409).",
		Body: OrgCreate{}, Response: readapi.OrgRead{}, Status: http.StatusCreated, ReadModels: readapi.OrgReadModels,
		Handler: w.create})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization", Summary: "Patch Org",
		Description: "Change an org's name, code, is_enable or note; absent or null fields stay as they are, an org_code " +
			"of \"\" clears the code. An org keeps its place in the tree (the body has no parent).",
		Params: []httpapi.Param{orgID, tenant}, Body: OrgUpdate{}, Response: readapi.OrgRead{},
		ReadModels: readapi.OrgReadModels, Handler: w.update})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization", Summary: "Remove Org",
		Description: "Remove an org that has neither sub-orgs nor members (409 naming what blocks it otherwise). " +
			"Answers {\"detail\": \"Org deleted\"}.",
		Params: []httpapi.Param{orgID, tenant}, Response: Detail{}, ReadModels: readapi.OrgReadModels, Handler: w.remove})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/org-members", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org Members",
		Description: "Make the users of uids members of the org, all with the given position, job and is_leader, all " +
			"or none: a user already in the org is 409, an unknown one 404, an inactive one 422. Answers the new members.",
		Body: OrgMembersCreate{}, Response: []readapi.OrgMemberRead{}, Status: http.StatusCreated,
		ReadModels: readapi.OrgMemberReadModels, Handler: w.addMembers})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization",
		Summary:     "Patch Org Member",
		Description: "Change a member's position, job or is_leader; absent or null fields stay as they are.",
		Params:      []httpapi.Param{memberID, tenant}, Body: OrgMemberUpdate{}, Response: readapi.OrgMemberRead{},
		ReadModels: readapi.OrgMemberReadModels, Handler: w.updateMember})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization",
		Summary:     "Remove Org Member",
		Description: "Remove a member from its org. Answers {\"detail\": \"Org member deleted\"}.",
		Params:      []httpapi.Param{memberID, tenant}, Response: Detail{}, ReadModels: readapi.OrgMemberReadModels,
		Handler: w.removeMember})
}

// tenantOf checks the tenant a body names for the caller.
func (w *orgs) tenantOf(c *gin.Context, id uuid.UUID) (uuid.UUID, bool) {
	ctx := c.Request.Context()
	caller, err := auth.Caller(ctx)
	if err == nil {
		_, err = tenancy.Check(ctx, w.p.Pool, caller, id)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return uuid.Nil, false
	}
	return id, true
}

// byID binds a write on /{param} of the tenant's org tree: the path id,
// the tenant (the tenant-id query parameter, else X-Tenant-Id, else the
// system tenant), then the body (when body is not nil). It answers every
// failure, and returns the id, the tenant and the events' metadata.
func (w *orgs) byID(c *gin.Context, param string, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	id, ok := httpapi.PathInt(c, param)
	if !ok {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	var q readapi.OrgsQuery
	if !httpapi.BindQuery(c, &q) {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	t, ok := tenancy.Resolve(c, w.p.Pool, q.TenantID)
	if !ok {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return 0, uuid.Nil, eventstore.Metadata{}, false
	}
	return id, t.ID, httpapi.Metadata(c, w.p.Clock()), true
}

// answerOrg answers the org r wrote in tenant as the read models show the
// write (err: fails the request).
func (w *orgs) answerOrg(c *gin.Context, tenant uuid.UUID, r commands.OrgWritten, err error, status int) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), status, func(ctx context.Context, db readapi.DB) (readapi.OrgRead, error) {
		return readapi.OrgByID(ctx, db, tenant, r.ID)
	})
}

// answerDetail answers a removal with its message (err: fails the
// request).
func (w *orgs) answerDetail(c *gin.Context, r commands.OrgWritten, err error, msg string) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, w.p, r.Result.Last(), http.StatusOK, Detail{Detail: msg})
}

func (w *orgs) create(c *gin.Context) {
	var body OrgCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := w.tenantOf(c, *body.TenantID)
	if !ok {
		return
	}
	n := domain.NewOrg{OrgName: *body.OrgName, OrgCode: body.OrgCode, IsEnable: body.IsEnable == nil || *body.IsEnable,
		Note: body.Note}
	if body.ParentOrgID != nil {
		n.ParentOrgID = *body.ParentOrgID
	}
	r, err := w.h.AddOrg(c.Request.Context(), commands.AddOrg{Tenant: tenant, Meta: httpapi.Metadata(c, w.p.Clock()), Org: n})
	w.answerOrg(c, tenant, r, err, http.StatusCreated)
}

func (w *orgs) update(c *gin.Context) {
	var body OrgUpdate
	id, tenant, md, ok := w.byID(c, "org_id", &body)
	if !ok {
		return
	}
	r, err := w.h.ChangeOrg(c.Request.Context(), commands.ChangeOrg{Tenant: tenant, Meta: md, OrgID: id,
		Change:      domain.OrgChange{OrgName: body.OrgName, OrgCode: body.OrgCode, IsEnable: body.IsEnable, Note: body.Note},
		ParentOrgID: body.ParentOrgID})
	w.answerOrg(c, tenant, r, err, http.StatusOK)
}

func (w *orgs) remove(c *gin.Context) {
	id, tenant, md, ok := w.byID(c, "org_id", nil)
	if !ok {
		return
	}
	r, err := w.h.RemoveOrg(c.Request.Context(), commands.RemoveOrg{Tenant: tenant, Meta: md, OrgID: id})
	w.answerDetail(c, r, err, msgOrgDeleted)
}

func (w *orgs) addMembers(c *gin.Context) {
	var body OrgMembersCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := w.tenantOf(c, *body.TenantID)
	if !ok {
		return
	}
	r, err := w.h.AddMembers(c.Request.Context(), commands.AddOrgMembers{Tenant: tenant, Meta: httpapi.Metadata(c, w.p.Clock()),
		OrgID: *body.OrgID, UIDs: body.UIDs, Position: *body.Position, Job: *body.Job, IsLeader: body.IsLeader != nil && *body.IsLeader})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), http.StatusCreated, func(ctx context.Context, db readapi.DB) ([]readapi.OrgMemberRead, error) {
		return readapi.OrgMembersByIDs(ctx, db, tenant, r.IDs)
	})
}

func (w *orgs) updateMember(c *gin.Context) {
	var body OrgMemberUpdate
	id, tenant, md, ok := w.byID(c, "member_id", &body)
	if !ok {
		return
	}
	r, err := w.h.ChangeMember(c.Request.Context(), commands.ChangeOrgMember{Tenant: tenant, Meta: md, MemberID: id,
		Change: domain.OrgMemberChange{Position: body.Position, Job: body.Job, IsLeader: body.IsLeader}})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), http.StatusOK, func(ctx context.Context, db readapi.DB) (readapi.OrgMemberRead, error) {
		return readapi.OrgMemberByID(ctx, db, tenant, r.ID)
	})
}

func (w *orgs) removeMember(c *gin.Context) {
	id, tenant, md, ok := w.byID(c, "member_id", nil)
	if !ok {
		return
	}
	r, err := w.h.RemoveMember(c.Request.Context(), commands.RemoveOrgMember{Tenant: tenant, Meta: md, MemberID: id})
	w.answerDetail(c, r, err, msgOrgMemberDeleted)
}
