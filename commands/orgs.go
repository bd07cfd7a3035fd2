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
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Orgs serves the write side of organisations and their members: every
// write loads the tenant's OrgTree (stream orgs-<tenant uuid>), decides,
// and appends with the revision it loaded. A write that loses a race with
// another write of the same tenant is decided again on the new state (up
// to orgSaveAttempts times), so the tenant's rules are checked exactly.
type Orgs struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Clock  func() time.Time
}

// The answers of org writes.
const (
	msgOrgDeleted       = "Org deleted"
	msgOrgMemberDeleted = "Org member deleted"
	msgOrgsBusy         = "The organisations of the tenant were changed by other requests at the same time: try again"
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

// Routes registers the write operations of organisations (#162, #164,
// #165, #167, #170, #171): orgs.write/modify/delete in the tenant (access.Tenant).
func (h *Orgs) Routes(s *httpapi.Server) {
	orgID := httpapi.Param{Name: "org_id", In: "path", Type: "integer", Place: tenancy.PlaceOrg}
	memberID := httpapi.Param{Name: "member_id", In: "path", Type: "integer", Place: tenancy.PlaceOrgMember}
	tenant := readapi.OrgTenantParam
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/orgs", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org",
		Description: "Add an org to the tenant, under parent_org_id (0 or null: a root org). Its org_level is one more " +
			"than its parent's (at most 6: 422 beyond); one_org_id .. six_org_id are its ancestors by level, its own id " +
			"at its own level. org_code is unique in the tenant, case-insensitively (409).",
		Body: OrgCreate{}, Response: readapi.OrgRead{}, Status: http.StatusCreated, ReadModels: readapi.OrgReadModels,
		Handler: h.create})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization", Summary: "Patch Org",
		Description: "Change an org's name, code, is_enable or note; absent or null fields stay as they are, an org_code " +
			"of \"\" clears the code. An org keeps its place in the tree (the body has no parent).",
		Params: []httpapi.Param{orgID, tenant}, Body: OrgUpdate{}, Response: readapi.OrgRead{},
		ReadModels: readapi.OrgReadModels, Handler: h.update})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/orgs/{org_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization", Summary: "Remove Org",
		Description: "Remove an org that has neither sub-orgs nor members (409 naming what blocks it otherwise). " +
			"Answers {\"detail\": \"Org deleted\"}.",
		Params: []httpapi.Param{orgID, tenant}, Response: Detail{}, ReadModels: readapi.OrgReadModels, Handler: h.remove})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/org-members", Access: access.Tenant("orgs", "write"), Tag: "Organization", Summary: "Add Org Members",
		Description: "Make the users of uids members of the org, all with the given position, job and is_leader, all " +
			"or none: a user already in the org is 409, an unknown one 404, an inactive one 422. Answers the new members.",
		Body: OrgMembersCreate{}, Response: []readapi.OrgMemberRead{}, Status: http.StatusCreated,
		ReadModels: readapi.OrgMemberReadModels, Handler: h.addMembers})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "modify"), Tag: "Organization",
		Summary:     "Patch Org Member",
		Description: "Change a member's position, job or is_leader; absent or null fields stay as they are.",
		Params:      []httpapi.Param{memberID, tenant}, Body: OrgMemberUpdate{}, Response: readapi.OrgMemberRead{},
		ReadModels: readapi.OrgMemberReadModels, Handler: h.updateMember})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/org-members/{member_id}", Access: access.Tenant("orgs", "delete"), Tag: "Organization",
		Summary:     "Remove Org Member",
		Description: "Remove a member from its org. Answers {\"detail\": \"Org member deleted\"}.",
		Params:      []httpapi.Param{memberID, tenant}, Response: Detail{}, ReadModels: readapi.OrgMemberReadModels,
		Handler: h.removeMember})
}

// ChangeOrgs runs decide on tenant's OrgTree and saves what it recorded
// with md (as the tenant's event). A save that lost a race is decided
// again on the new state; after orgSaveAttempts losses it is a 409.
func (h *Orgs) ChangeOrgs(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, decide func(*domain.OrgTree) error) (eventstore.AppendResult, error) {
	md.TenantID = tenant
	res, err := decideAgain(ctx, h.Repo, func() *domain.OrgTree { return domain.LoadOrgTree(tenant) }, decide, md)
	if _, raced := errors.AsType[*eventstore.WrongExpectedVersionError](err); raced {
		return res, domain.Conflictf(msgOrgsBusy)
	}
	return res, err
}

// orgTenantOf checks the tenant a body names for the caller.
func (h *Orgs) orgTenantOf(c *gin.Context, id uuid.UUID) (uuid.UUID, bool) {
	ctx := c.Request.Context()
	caller, err := auth.Caller(ctx)
	if err == nil {
		_, err = tenancy.Check(ctx, h.Pool, caller, id)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return uuid.Nil, false
	}
	return id, true
}

// orgTenantParam resolves the tenant of a write addressed by path (the
// tenant-id query parameter, else X-Tenant-Id, else the system tenant).
func (h *Orgs) orgTenantParam(c *gin.Context) (uuid.UUID, bool) {
	var q readapi.OrgsQuery
	if !httpapi.BindQuery(c, &q) {
		return uuid.Nil, false
	}
	t, ok := tenancy.Resolve(c, h.Pool, q.TenantID)
	return t.ID, ok
}

func (h *Orgs) create(c *gin.Context) {
	var body OrgCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := h.orgTenantOf(c, *body.TenantID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	id, err := NewSequences(h.Pool).Next(ctx, "org")
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	n := domain.NewOrg{OrgName: *body.OrgName, OrgCode: body.OrgCode, IsEnable: body.IsEnable == nil || *body.IsEnable,
		Note: body.Note}
	if body.ParentOrgID != nil {
		n.ParentOrgID = *body.ParentOrgID
	}
	res, err := h.ChangeOrgs(ctx, tenant, httpapi.Metadata(c, h.Clock()), func(t *domain.OrgTree) error { return t.AddOrg(id, n) })
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answerOrg(c, tenant, id, res, http.StatusCreated)
}

// answerOrg answers a write on org id with its row, as the read models
// show the write (readBack).
func (h *Orgs) answerOrg(c *gin.Context, tenant uuid.UUID, id int64, res eventstore.AppendResult, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, status, func(ctx context.Context, db readapi.DB) (readapi.OrgRead, error) {
		return readapi.OrgByID(ctx, db, tenant, id)
	})
}

// byID runs a write on /{param} of the tenant's org tree: the manager
// check, the path id, the tenant, the body (when body is not nil), then
// decide. It answers every failure, and returns the tenant, the id and
// what was appended of a success.
func (h *Orgs) byID(c *gin.Context, param string, body any, decide func(t *domain.OrgTree, id int64) error) (uuid.UUID, int64, eventstore.AppendResult, bool) {
	var none eventstore.AppendResult
	id, ok := httpapi.PathInt(c, param)
	if !ok {
		return uuid.Nil, 0, none, false
	}
	tenant, ok := h.orgTenantParam(c)
	if !ok {
		return uuid.Nil, 0, none, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return uuid.Nil, 0, none, false
	}
	res, err := h.ChangeOrgs(c.Request.Context(), tenant, httpapi.Metadata(c, h.Clock()),
		func(t *domain.OrgTree) error { return decide(t, id) })
	if err != nil {
		httpapi.Fail(c, err)
		return uuid.Nil, 0, none, false
	}
	return tenant, id, res, true
}

func (h *Orgs) update(c *gin.Context) {
	var body OrgUpdate
	tenant, id, res, ok := h.byID(c, "org_id", &body, func(t *domain.OrgTree, id int64) error {
		ch := domain.OrgChange{OrgName: body.OrgName, OrgCode: body.OrgCode, IsEnable: body.IsEnable, Note: body.Note}
		if err := t.ChangeOrg(id, ch); err != nil || body.ParentOrgID == nil {
			return err
		}
		return t.MoveOrg(id, *body.ParentOrgID)
	})
	if ok {
		h.answerOrg(c, tenant, id, res, http.StatusOK)
	}
}

func (h *Orgs) remove(c *gin.Context) {
	if _, _, res, ok := h.byID(c, "org_id", nil, func(t *domain.OrgTree, id int64) error { return t.RemoveOrg(id) }); ok {
		answerValue(c, h.Server, res.Last(), nil, http.StatusOK, Detail{Detail: msgOrgDeleted})
	}
}

// orgUIDError is a 422 about uids (or one of them, at index i >= 0).
func orgUIDError(i int, input any, msg string) error {
	loc := []any{"body", "uids"}
	if i >= 0 {
		loc = append(loc, i)
	}
	return &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: loc, Msg: "Value error, " + msg,
		Input: input}}}
}

// orgNewMembers checks the users of uids (listed once each, in their
// order): each must be an account of the users read model (404 naming
// it) and active (422 naming it).
func (h *Orgs) orgNewMembers(ctx context.Context, uids []int64) ([]int64, error) {
	var unique []int64
	first := map[int64]int{}
	for i, uid := range uids {
		if _, seen := first[uid]; !seen {
			first[uid] = i
			unique = append(unique, uid)
		}
	}
	if len(unique) == 0 {
		return nil, orgUIDError(-1, uids, "uids must list at least one user")
	}
	type account struct {
		name   string
		active bool
	}
	rows, _ := h.Pool.Query(ctx, `SELECT id, username, is_active FROM users WHERE id = ANY($1)`, unique)
	found := map[int64]account{}
	var (
		id int64
		a  account
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &a.name, &a.active}, func() error { found[id] = a; return nil }); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for _, uid := range unique {
		a, ok := found[uid]
		if !ok {
			return nil, domain.NotFoundf("User %d not found", uid)
		}
		if !a.active {
			return nil, orgUIDError(first[uid], uid, fmt.Sprintf("User %d (%s) is not active", uid, a.name))
		}
	}
	return unique, nil
}

// orgMemberIDs allocates n member ids from org_member_id_seq.
func (h *Orgs) orgMemberIDs(ctx context.Context, n int) ([]int64, error) {
	rows, _ := h.Pool.Query(ctx, `SELECT nextval('org_member_id_seq') FROM generate_series(1, $1)`, n)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("allocate org member ids: %w", err)
	}
	return ids, nil
}

func (h *Orgs) addMembers(c *gin.Context) {
	var body OrgMembersCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := h.orgTenantOf(c, *body.TenantID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	uids, err := h.orgNewMembers(ctx, body.UIDs)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	ids, err := h.orgMemberIDs(ctx, len(uids))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	refs := make([]domain.OrgMemberRef, len(uids))
	for i, uid := range uids {
		refs[i] = domain.OrgMemberRef{MemberID: ids[i], UID: uid}
	}
	res, err := h.ChangeOrgs(ctx, tenant, httpapi.Metadata(c, h.Clock()), func(t *domain.OrgTree) error {
		return t.AddMembers(*body.OrgID, refs, *body.Position, *body.Job, body.IsLeader != nil && *body.IsLeader)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, http.StatusCreated, func(ctx context.Context, db readapi.DB) ([]readapi.OrgMemberRead, error) {
		return readapi.OrgMembersByIDs(ctx, db, tenant, ids)
	})
}

func (h *Orgs) updateMember(c *gin.Context) {
	var body OrgMemberUpdate
	tenant, id, res, ok := h.byID(c, "member_id", &body, func(t *domain.OrgTree, id int64) error {
		return t.ChangeMember(id, domain.OrgMemberChange{Position: body.Position, Job: body.Job, IsLeader: body.IsLeader})
	})
	if ok {
		answerWrite(c, h.Server, h.Pool, res.Last(), nil, http.StatusOK, func(ctx context.Context, db readapi.DB) (readapi.OrgMemberRead, error) {
			return readapi.OrgMemberByID(ctx, db, tenant, id)
		})
	}
}

func (h *Orgs) removeMember(c *gin.Context) {
	if _, _, res, ok := h.byID(c, "member_id", nil, func(t *domain.OrgTree, id int64) error { return t.RemoveMember(id) }); ok {
		answerValue(c, h.Server, res.Last(), nil, http.StatusOK, Detail{Detail: msgOrgMemberDeleted})
	}
}
