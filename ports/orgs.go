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

// The writes of organisations and their members (#162, #164, #165, #167,
// #170, #171): each binds a request, resolves the tenant (tenant_id of
// the body, or the tenant-id query parameter, else X-Tenant-Id, else the
// system tenant; orgs.write/modify/delete there), calls the
// commands.OrgsHandler and answers what the read models show.

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
// are; an org_code of "" clears the code; a parent_org_id (not in the
// spec's body) moves the org.
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

// The requests of the organisations' writes: where each part of the
// command comes from (see Write). An addition names its tenant in the
// body, the other writes in the query; these bind their body after the
// tenant (BodyLast), as the older port did.
type (
	addOrg struct {
		InTenant
		Body OrgCreate `body:""`
	}
	patchOrg struct {
		OrgID int64 `path:"org_id" place:"org"`
		tenantQuery
		InTenant
		Body OrgUpdate `body:""`
	}
	removeOrg struct {
		OrgID int64 `path:"org_id" place:"org"`
		tenantQuery
		InTenant
	}
	addOrgMembers struct {
		InTenant
		Body OrgMembersCreate `body:""`
	}
	patchOrgMember struct {
		MemberID int64 `path:"member_id" place:"org_member"`
		tenantQuery
		InTenant
		Body OrgMemberUpdate `body:""`
	}
	removeOrgMember struct {
		MemberID int64 `path:"member_id" place:"org_member"`
		tenantQuery
		InTenant
	}
)

// Orgs registers the write operations of organisations: orgs.write/
// modify/delete in the tenant (access.Tenant).
func Orgs(p Port, h *commands.OrgsHandler) {
	Write[addOrg, commands.OrgWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/orgs", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org",
			Description: "Add an org to the tenant, under parent_org_id (0 or null: a root org). Its org_level is one more " +
				"than its parent's (at most 6: 422 beyond); one_org_id .. six_org_id are its ancestors by level, its own id " +
				"at its own level. org_code is unique in the tenant, case-insensitively (409).",
			Response: readapi.OrgRead{}, Status: http.StatusCreated, ReadModels: readapi.OrgReadModels},
		TenantParam: func(r addOrg) *uuid.UUID { return r.Body.TenantID },
		Handle: func(ctx context.Context, r addOrg) (commands.OrgWritten, eventstore.Position, error) {
			n := domain.NewOrg{OrgName: *r.Body.OrgName, OrgCode: r.Body.OrgCode, IsEnable: r.Body.IsEnable == nil || *r.Body.IsEnable,
				Note: r.Body.Note}
			if r.Body.ParentOrgID != nil {
				n.ParentOrgID = *r.Body.ParentOrgID
			}
			w, err := h.AddOrg(ctx, commands.AddOrg{Tenant: r.Tenant, Meta: r.Meta, Org: n})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addOrg, w commands.OrgWritten) (any, error) {
			return readapi.OrgByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[patchOrg, commands.OrgWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization", Summary: "Patch Org",
			Description: "Change an org's name, code, is_enable or note; absent or null fields stay as they are, an org_code " +
				"of \"\" clears the code. A parent_org_id moves the org, with everything under it, under that org (0: to the root; " +
				"404 for an unknown parent, 422 for a move under itself or its sub-orgs or a tree deeper than six levels).",
			Response: readapi.OrgRead{}, ReadModels: readapi.OrgReadModels},
		TenantParam: patchOrg.tenant,
		BodyLast:    true,
		Handle: func(ctx context.Context, r patchOrg) (commands.OrgWritten, eventstore.Position, error) {
			w, err := h.ChangeOrg(ctx, commands.ChangeOrg{Tenant: r.Tenant, Meta: r.Meta, OrgID: r.OrgID,
				Change:      domain.OrgChange{OrgName: r.Body.OrgName, OrgCode: r.Body.OrgCode, IsEnable: r.Body.IsEnable, Note: r.Body.Note},
				ParentOrgID: r.Body.ParentOrgID})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchOrg, w commands.OrgWritten) (any, error) {
			return readapi.OrgByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeOrg, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization", Summary: "Remove Org",
			Description: "Remove an org that has neither sub-orgs nor members (409 naming what blocks it otherwise). " +
				"Answers {\"detail\": \"Org deleted\"}.",
			Response: Detail{}, ReadModels: readapi.OrgReadModels},
		TenantParam: removeOrg.tenant,
		Handle: func(ctx context.Context, r removeOrg) (Detail, eventstore.Position, error) {
			w, err := h.RemoveOrg(ctx, commands.RemoveOrg{Tenant: r.Tenant, Meta: r.Meta, OrgID: r.OrgID})
			return Detail{Detail: msgOrgDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addOrgMembers, commands.OrgMembersAdded]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/org-members", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org Members",
			Description: "Make the users of uids members of the org, all with the given position, job and is_leader, all " +
				"or none: a user already in the org is 409, an unknown one 404, an inactive one 422. Answers the new members.",
			Response: []readapi.OrgMemberRead{}, Status: http.StatusCreated, ReadModels: readapi.OrgMemberReadModels},
		TenantParam: func(r addOrgMembers) *uuid.UUID { return r.Body.TenantID },
		Handle: func(ctx context.Context, r addOrgMembers) (commands.OrgMembersAdded, eventstore.Position, error) {
			w, err := h.AddMembers(ctx, commands.AddOrgMembers{Tenant: r.Tenant, Meta: r.Meta, OrgID: *r.Body.OrgID,
				UIDs: r.Body.UIDs, Position: *r.Body.Position, Job: *r.Body.Job, IsLeader: r.Body.IsLeader != nil && *r.Body.IsLeader})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addOrgMembers, w commands.OrgMembersAdded) (any, error) {
			return readapi.OrgMembersByIDs(ctx, db, r.Tenant, w.IDs)
		},
	}.Register(p)
	Write[patchOrgMember, commands.OrgWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization",
			Summary:     "Patch Org Member",
			Description: "Change a member's position, job or is_leader; absent or null fields stay as they are.",
			Response:    readapi.OrgMemberRead{}, ReadModels: readapi.OrgMemberReadModels},
		TenantParam: patchOrgMember.tenant,
		BodyLast:    true,
		Handle: func(ctx context.Context, r patchOrgMember) (commands.OrgWritten, eventstore.Position, error) {
			w, err := h.ChangeMember(ctx, commands.ChangeOrgMember{Tenant: r.Tenant, Meta: r.Meta, MemberID: r.MemberID,
				Change: domain.OrgMemberChange{Position: r.Body.Position, Job: r.Body.Job, IsLeader: r.Body.IsLeader}})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchOrgMember, w commands.OrgWritten) (any, error) {
			return readapi.OrgMemberByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeOrgMember, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization",
			Summary:     "Remove Org Member",
			Description: "Remove a member from its org. Answers {\"detail\": \"Org member deleted\"}.",
			Response:    Detail{}, ReadModels: readapi.OrgMemberReadModels},
		TenantParam: removeOrgMember.tenant,
		Handle: func(ctx context.Context, r removeOrgMember) (Detail, eventstore.Position, error) {
			w, err := h.RemoveMember(ctx, commands.RemoveOrgMember{Tenant: r.Tenant, Meta: r.Meta, MemberID: r.MemberID})
			return Detail{Detail: msgOrgMemberDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
