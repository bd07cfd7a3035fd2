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

// TenantGrants serves the writes of tenant role grants (#78–80, #82–84,
// #86–88): roles granted in a tenant to users, user groups and orgs. Every
// write is one decision of the tenant's TenantGrants aggregate; only
// holders of permissions.write/delete in the tenant write (access.Tenant).
// The role must exist in the permission catalogue (its aggregate is loaded: exact); the user must
// exist and be active (users read model); the group or org must be one of
// THAT tenant (its UserGroups / OrgTree aggregate is loaded: exact).
type TenantGrants struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	IDs    IDs
	Clock  func() time.Time
}

// TenantUserRoleCreate is the body of Add Tenant User Role: the user by
// uid, else by username (uid wins when both are given).
type TenantUserRoleCreate struct {
	TenantID uuid.UUID `json:"tenant_id" binding:"required"`
	RoleID   *string   `json:"role_id" binding:"required,min=1,max=32"`
	UID      *int64    `json:"uid"`
	Username *string   `json:"username"`
}

// TenantGroupRoleCreate is the body of Add Tenant Group Role: the group by
// group_id, else by group_name (case-insensitive; group_id wins).
type TenantGroupRoleCreate struct {
	TenantID  uuid.UUID `json:"tenant_id" binding:"required"`
	RoleID    *string   `json:"role_id" binding:"required,min=1,max=32"`
	GroupID   *int64    `json:"group_id"`
	GroupName *string   `json:"group_name"`
}

// TenantOrgRoleCreate is the body of Add Tenant Org Role: the org by
// org_id, else by org_name (case-insensitive, must name one org of the
// tenant; org_id wins).
type TenantOrgRoleCreate struct {
	TenantID uuid.UUID `json:"tenant_id" binding:"required"`
	RoleID   *string   `json:"role_id" binding:"required,min=1,max=32"`
	OrgID    *int64    `json:"org_id"`
	OrgName  *string   `json:"org_name"`
}

// TenantRolesDelete is the body of the batch removals.
type TenantRolesDelete struct {
	IDs []int64 `json:"ids" binding:"required"`
}

// TenantRolesDeleted answers a batch removal.
type TenantRolesDeleted struct {
	DeletedCount int `json:"deleted_count"`
}

// grantTenantQuery is the optional tenant of the removals (not in the
// contract, whose removals name no tenant: else X-Tenant-Id, else the
// system tenant).
type grantTenantQuery struct {
	TenantID *uuid.UUID `form:"tenant_id"`
}

const msgGrantsBusy = "The tenant's role grants are being changed by other requests; try again"

// Routes registers the write operations of tenant role grants.
func (h *TenantGrants) Routes(s *httpapi.Server) {
	tenant := httpapi.Param{Name: "tenant_id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant,
		Description: "The tenant (not in the contract; else the X-Tenant-Id header, else the system tenant)."}
	type kind struct {
		path, what, subject string
		body, resp          any
		models              []string
		add                 gin.HandlerFunc
	}
	for _, k := range []kind{
		{"user-roles", "User", "a user (uid, else username; active)", TenantUserRoleCreate{}, readapi.TenantUserRoleRead{},
			readapi.TenantUserRoleReadModels, h.addUser},
		{"group-roles", "Group", "a user group of the tenant (group_id, else group_name)", TenantGroupRoleCreate{},
			readapi.TenantGroupRoleRead{}, readapi.TenantGroupRoleReadModels, h.addGroup},
		{"org-roles", "Org", "an org of the tenant (org_id, else org_name)", TenantOrgRoleCreate{}, readapi.TenantOrgRoleRead{},
			readapi.TenantOrgRoleReadModels, h.addOrg},
	} {
		kindName := map[string]string{"User": domain.GrantUser, "Group": domain.GrantGroup, "Org": domain.GrantOrg}[k.what]
		rel := []httpapi.Param{{Name: "relation_id", In: "path", Type: "integer", Place: tenancy.PlaceTenantUserRelation}, tenant}
		rel[0].Place = map[string]string{domain.GrantUser: tenancy.PlaceTenantUserRelation,
			domain.GrantGroup: tenancy.PlaceTenantGroupRelation, domain.GrantOrg: tenancy.PlaceTenantOrgRelation}[kindName]
		s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/tenants/" + k.path, Tag: "Tenants",
			Summary: "Add Tenant " + k.what + " Role",
			Description: "Grant a role of the permission catalogue (404 if unknown) in tenant tenant_id to " + k.subject +
				" (404 if unknown). The same subject and role twice is 409.",
			Body: k.body, Response: k.resp, Status: http.StatusCreated, ReadModels: k.models, Access: access.Tenant("permissions", "write"), Handler: k.add})
		s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/" + k.path, Tag: "Tenants",
			Summary: "Batch Remove Tenant " + k.what + " Role",
			Description: "Remove the tenant's " + kindName + " role relations among ids; ids that are not such relations of " +
				"the tenant are ignored. deleted_count is how many were removed.",
			Params: []httpapi.Param{tenant}, Body: TenantRolesDelete{}, Response: TenantRolesDeleted{}, ReadModels: k.models,
			Access: access.Tenant("permissions", "delete"), Handler: h.removeMany(kindName)})
		s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/" + k.path + "/{relation_id}", Tag: "Tenants",
			Summary:     "Remove Tenant " + k.what + " Role",
			Description: "Remove one " + kindName + " role relation of the tenant (404 if it has none with that id).",
			Params:      rel, Response: Detail{}, ReadModels: k.models, Access: access.Tenant("permissions", "delete"), Handler: h.removeOne(kindName)})
	}
}

// LoadTenantGrants folds the role grants of tenant (empty when it has none).
func LoadTenantGrants(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.TenantGrants, error) {
	return loadOrNew(ctx, repo, func() *domain.TenantGrants { return domain.LoadTenantGrants(tenant) })
}

// decide runs fn on tenant's grants and saves what it recorded with md (as
// the tenant's event), again on a lost race; too many lost races are 409.
func (h *TenantGrants) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.TenantGrants) error) (eventstore.AppendResult, error) {
	md.TenantID = tenant
	res, err := decideAgain(ctx, h.Repo, func() *domain.TenantGrants { return domain.LoadTenantGrants(tenant) }, fn, md)
	if _, raced := errors.AsType[*eventstore.WrongExpectedVersionError](err); raced {
		return res, domain.Conflictf(msgGrantsBusy)
	}
	return res, err
}

// begin checks the caller may manage, binds the tenant's query (if query)
// and resolves the tenant.
func (h *TenantGrants) begin(c *gin.Context, param *uuid.UUID) (tenancy.Tenant, eventstore.Metadata, bool) {
	t, ok := tenancy.Resolve(c, h.Pool, param)
	if !ok {
		return t, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, h.Clock())
	md.TenantID = t.ID
	return t, md, true
}

// bodyError is a 422 at ["body", field].
func bodyError(field string, input any, msg string) error {
	return &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: []any{"body", field},
		Msg: "Value error, " + msg, Input: input}}}
}

// roleExists refuses (404) a role the permission catalogue does not have.
func (h *TenantGrants) roleExists(ctx context.Context, role string) error {
	cat, err := loadOrNew(ctx, h.Repo, domain.NewPermissionCatalogue)
	if err != nil {
		return err
	}
	if _, ok := cat.Role(role); !ok {
		return domain.NotFoundf("Role %q not found", role)
	}
	return nil
}

// add is the common part of the three grants: subject resolves the
// subject's id (and refuses a bad one), read answers the new relation.
func add[T any](h *TenantGrants, c *gin.Context, tenantID uuid.UUID, role, kind string,
	subject func(ctx context.Context, tenant uuid.UUID) (int64, error),
	read func(ctx context.Context, db readapi.DB, tenant uuid.UUID, id int64) (T, error)) {
	t, md, ok := h.begin(c, &tenantID)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	sid, err := subject(ctx, t.ID)
	if err == nil {
		err = h.roleExists(ctx, role)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var id int64
	res, err := h.decide(ctx, t.ID, md, func(g *domain.TenantGrants) error {
		if other, dup := g.Holds(kind, sid, role); dup {
			return domain.Conflictf("%s already has role %q in this tenant (relation %d)", subjectLabel(kind, sid), role, other)
		}
		if id == 0 {
			next, err := h.IDs.Next(ctx, "role_relation")
			if err != nil {
				return err
			}
			id = next
		}
		return g.Grant(id, kind, sid, role)
	})
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusCreated, func(ctx context.Context, db readapi.DB) (T, error) { return read(ctx, db, t.ID, id) })
}

func subjectLabel(kind string, id int64) string {
	switch kind {
	case domain.GrantGroup:
		return fmt.Sprintf("User group %d", id)
	case domain.GrantOrg:
		return fmt.Sprintf("Org %d", id)
	}
	return fmt.Sprintf("User %d", id)
}

func (h *TenantGrants) addUser(c *gin.Context) {
	var body TenantUserRoleCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	add(h, c, body.TenantID, *body.RoleID, domain.GrantUser, func(ctx context.Context, _ uuid.UUID) (int64, error) {
		return grantUser(ctx, h.Pool, body.UID, body.Username)
	}, readapi.TenantUserRoleByID)
}

// grantUser finds the active user by uid, else by username
// (case-insensitive): 404 naming an unknown one, 422 an inactive one.
func grantUser(ctx context.Context, pool *pgxpool.Pool, uid *int64, username *string) (int64, error) {
	var (
		id     int64
		active bool
		err    error
		field  string
		input  any
		label  string
	)
	switch {
	case uid != nil:
		field, input, label = "uid", *uid, fmt.Sprintf("User %d", *uid)
		err = pool.QueryRow(ctx, `SELECT id, is_active FROM users WHERE id = $1`, *uid).Scan(&id, &active)
	case username != nil && *username != "":
		field, input, label = "username", *username, fmt.Sprintf("User %q", *username)
		err = pool.QueryRow(ctx, `SELECT id, is_active FROM users WHERE lower(username) = lower($1)
ORDER BY username = $1 DESC, id LIMIT 1`, *username).Scan(&id, &active)
	default:
		return 0, bodyError("uid", nil, "uid or username is required")
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, domain.NotFoundf("%s not found", label)
	case err != nil:
		return 0, fmt.Errorf("read user: %w", err)
	case !active:
		return 0, bodyError(field, input, label+" is not active")
	}
	return id, nil
}

func (h *TenantGrants) addGroup(c *gin.Context) {
	var body TenantGroupRoleCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	add(h, c, body.TenantID, *body.RoleID, domain.GrantGroup, func(ctx context.Context, tenant uuid.UUID) (int64, error) {
		if body.GroupID == nil && (body.GroupName == nil || *body.GroupName == "") {
			return 0, bodyError("group_id", nil, "group_id or group_name is required")
		}
		groups, err := LoadUserGroups(ctx, h.Repo, tenant)
		if err != nil {
			return 0, err
		}
		if body.GroupID != nil {
			if _, ok := groups.Group(*body.GroupID); !ok {
				return 0, domain.NotFoundf("User group %d not found in this tenant", *body.GroupID)
			}
			return *body.GroupID, nil
		}
		for _, g := range groups.AuditState().(domain.UserGroupsState).UserGroups {
			if domain.ClaimKey(g.GroupName) == domain.ClaimKey(*body.GroupName) {
				return g.GroupID, nil
			}
		}
		return 0, domain.NotFoundf("User group %q not found in this tenant", *body.GroupName)
	}, readapi.TenantGroupRoleByID)
}

func (h *TenantGrants) addOrg(c *gin.Context) {
	var body TenantOrgRoleCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	add(h, c, body.TenantID, *body.RoleID, domain.GrantOrg, func(ctx context.Context, tenant uuid.UUID) (int64, error) {
		if body.OrgID == nil && (body.OrgName == nil || *body.OrgName == "") {
			return 0, bodyError("org_id", nil, "org_id or org_name is required")
		}
		tree, err := loadOrNew(ctx, h.Repo, func() *domain.OrgTree { return domain.LoadOrgTree(tenant) })
		if err != nil {
			return 0, err
		}
		if body.OrgID != nil {
			if _, ok := tree.Org(*body.OrgID); !ok {
				return 0, domain.NotFoundf("Org %d not found in this tenant", *body.OrgID)
			}
			return *body.OrgID, nil
		}
		var found []int64
		for _, o := range tree.AuditState().(domain.OrgTreeState).Orgs {
			if domain.ClaimKey(o.OrgName) == domain.ClaimKey(*body.OrgName) {
				found = append(found, o.OrgID)
			}
		}
		switch len(found) {
		case 0:
			return 0, domain.NotFoundf("Org %q not found in this tenant", *body.OrgName)
		case 1:
			return found[0], nil
		}
		return 0, bodyError("org_name", *body.OrgName, fmt.Sprintf("%d orgs of the tenant are called %q; give org_id", len(found), *body.OrgName))
	}, readapi.TenantOrgRoleByID)
}

func (h *TenantGrants) removeOne(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := httpapi.PathInt(c, "relation_id")
		if !ok {
			return
		}
		var q grantTenantQuery
		if !httpapi.BindQuery(c, &q) {
			return
		}
		t, md, ok := h.begin(c, q.TenantID)
		if !ok {
			return
		}
		res, err := h.decide(c.Request.Context(), t.ID, md, func(g *domain.TenantGrants) error { return g.Revoke(kind, id) })
		answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: "Tenant " + kind + " role deleted"})
	}
}

func (h *TenantGrants) removeMany(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var q grantTenantQuery
		if !httpapi.BindQuery(c, &q) {
			return
		}
		var body TenantRolesDelete
		if !httpapi.BindJSON(c, &body) {
			return
		}
		t, md, ok := h.begin(c, q.TenantID)
		if !ok {
			return
		}
		n := 0
		res, err := h.decide(c.Request.Context(), t.ID, md, func(g *domain.TenantGrants) error {
			n = g.RevokeAll(kind, body.IDs)
			return nil
		})
		answerValue(c, h.Server, res.Last(), err, http.StatusOK, TenantRolesDeleted{DeletedCount: n})
	}
}
