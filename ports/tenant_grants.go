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

// The writes of tenant role grants (#78–80, #82–84, #86–88): each binds a
// request, resolves the tenant it names (the body's tenant_id for a
// grant; for a removal the tenant_id query parameter, else X-Tenant-Id,
// else the system tenant; holders of permissions.write/delete there),
// calls the commands.TenantGrantsHandler and answers what the read model
// shows.

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

// grantTenant is the optional tenant of the removals (not in the
// contract, whose removals name no tenant: else X-Tenant-Id, else the
// system tenant).
type grantTenant struct {
	TenantID *uuid.UUID `form:"tenant_id" place:"tenant" doc:"The tenant (not in the contract; else the X-Tenant-Id header, else the system tenant)."`
}

// The requests of the grants' writes: where each part of the command
// comes from (see Write). A grant's tenant is its body's tenant_id, a
// removal's the query's (TenantParam); the path's relation_id names a
// relation of the kind the route serves.
type (
	addTenantRole[B any] struct {
		InTenant
		Body B `body:""`
	}
	removeTenantUserRole struct {
		RelationID int64 `path:"relation_id" place:"tenant_user_relation"`
		grantTenant
		InTenant
	}
	removeTenantGroupRole struct {
		RelationID int64 `path:"relation_id" place:"tenant_group_relation"`
		grantTenant
		InTenant
	}
	removeTenantOrgRole struct {
		RelationID int64 `path:"relation_id" place:"tenant_org_relation"`
		grantTenant
		InTenant
	}
	removeTenantRoles struct {
		grantTenant
		InTenant
		Body TenantRolesDelete `body:""`
	}
)

// removeTenantRole is the request of a removal of one relation.
type removeTenantRole interface {
	removeTenantUserRole | removeTenantGroupRole | removeTenantOrgRole
}

// TenantGrants registers the write operations of tenant role grants.
func TenantGrants(p Port, h *commands.TenantGrantsHandler) {
	tenantGrantKind(p, h, tenantGrantRoutes[TenantUserRoleCreate, readapi.TenantUserRoleRead, removeTenantUserRole]{
		path: "user-roles", what: "User", kind: domain.GrantUser, subject: "a user (uid, else username; active)",
		models:   readapi.TenantUserRoleReadModels,
		tenantOf: func(b TenantUserRoleCreate) uuid.UUID { return b.TenantID },
		add: func(ctx context.Context, r addTenantRole[TenantUserRoleCreate]) (commands.TenantGrantWritten, error) {
			return h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: r.Tenant, Meta: r.Meta, Role: *r.Body.RoleID,
				UID: r.Body.UID, Username: r.Body.Username})
		},
		read: readapi.TenantUserRoleByID,
		one: func(r removeTenantUserRole) (int64, grantTenant, InTenant) {
			return r.RelationID, r.grantTenant, r.InTenant
		},
	})
	tenantGrantKind(p, h, tenantGrantRoutes[TenantGroupRoleCreate, readapi.TenantGroupRoleRead, removeTenantGroupRole]{
		path: "group-roles", what: "Group", kind: domain.GrantGroup, subject: "a user group of the tenant (group_id, else group_name)",
		models:   readapi.TenantGroupRoleReadModels,
		tenantOf: func(b TenantGroupRoleCreate) uuid.UUID { return b.TenantID },
		add: func(ctx context.Context, r addTenantRole[TenantGroupRoleCreate]) (commands.TenantGrantWritten, error) {
			return h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: r.Tenant, Meta: r.Meta, Role: *r.Body.RoleID,
				GroupID: r.Body.GroupID, GroupName: r.Body.GroupName})
		},
		read: readapi.TenantGroupRoleByID,
		one: func(r removeTenantGroupRole) (int64, grantTenant, InTenant) {
			return r.RelationID, r.grantTenant, r.InTenant
		},
	})
	tenantGrantKind(p, h, tenantGrantRoutes[TenantOrgRoleCreate, readapi.TenantOrgRoleRead, removeTenantOrgRole]{
		path: "org-roles", what: "Org", kind: domain.GrantOrg, subject: "an org of the tenant (org_id, else org_name)",
		models:   readapi.TenantOrgRoleReadModels,
		tenantOf: func(b TenantOrgRoleCreate) uuid.UUID { return b.TenantID },
		add: func(ctx context.Context, r addTenantRole[TenantOrgRoleCreate]) (commands.TenantGrantWritten, error) {
			return h.AddOrgRole(ctx, commands.AddTenantOrgRole{Tenant: r.Tenant, Meta: r.Meta, Role: *r.Body.RoleID,
				OrgID: r.Body.OrgID, OrgName: r.Body.OrgName})
		},
		read: readapi.TenantOrgRoleByID,
		one: func(r removeTenantOrgRole) (int64, grantTenant, InTenant) {
			return r.RelationID, r.grantTenant, r.InTenant
		},
	})
}

// tenantGrantRoutes are the routes of the grants of one kind of subject
// (kind, domain.GrantUser …) at /api/v1/tenants/<path>: the grant, whose
// body is a B and answer an R, and the removals, one relation at a time
// (its request an O) or in a batch.
type tenantGrantRoutes[B, R any, O removeTenantRole] struct {
	path, what, kind, subject string
	models                    []string
	tenantOf                  func(B) uuid.UUID
	add                       func(context.Context, addTenantRole[B]) (commands.TenantGrantWritten, error)
	read                      func(ctx context.Context, db readapi.DB, tenant uuid.UUID, id int64) (R, error)
	one                       func(O) (int64, grantTenant, InTenant)
}

// tenantGrantKind registers the routes k describes.
func tenantGrantKind[B, R any, O removeTenantRole](p Port, h *commands.TenantGrantsHandler, k tenantGrantRoutes[B, R, O]) {
	var resp R
	Write[addTenantRole[B], commands.TenantGrantWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/tenants/" + k.path, Tag: "Tenants",
			Summary: "Add Tenant " + k.what + " Role",
			Description: "Grant a role of the permission catalogue (404 if unknown) in tenant tenant_id to " + k.subject +
				" (404 if unknown). The same subject and role twice is 409.",
			Response: resp, Status: http.StatusCreated, ReadModels: k.models, Access: access.Tenant("permissions", "write")},
		TenantParam: func(r addTenantRole[B]) *uuid.UUID { t := k.tenantOf(r.Body); return &t },
		Handle: func(ctx context.Context, r addTenantRole[B]) (commands.TenantGrantWritten, eventstore.Position, error) {
			w, err := k.add(ctx, r)
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addTenantRole[B], w commands.TenantGrantWritten) (any, error) {
			return k.read(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeTenantRoles, TenantRolesDeleted]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/" + k.path, Tag: "Tenants",
			Summary: "Batch Remove Tenant " + k.what + " Role",
			Description: "Remove the tenant's " + k.kind + " role relations among ids; ids that are not such relations of " +
				"the tenant are ignored. deleted_count is how many were removed.",
			Response: TenantRolesDeleted{}, ReadModels: k.models, Access: access.Tenant("permissions", "delete")},
		TenantParam: func(r removeTenantRoles) *uuid.UUID { return r.TenantID },
		Handle: func(ctx context.Context, r removeTenantRoles) (TenantRolesDeleted, eventstore.Position, error) {
			w, err := h.RemoveRoles(ctx, commands.RemoveTenantRoles{Tenant: r.Tenant, Meta: r.Meta, Kind: k.kind, IDs: r.Body.IDs})
			return TenantRolesDeleted{DeletedCount: w.Count}, w.Result.Last(), err
		},
	}.Register(p)
	Write[O, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/" + k.path + "/{relation_id}", Tag: "Tenants",
			Summary:     "Remove Tenant " + k.what + " Role",
			Description: "Remove one " + k.kind + " role relation of the tenant (404 if it has none with that id).",
			Response:    Detail{}, ReadModels: k.models, Access: access.Tenant("permissions", "delete")},
		TenantParam: func(r O) *uuid.UUID { _, q, _ := k.one(r); return q.TenantID },
		Handle: func(ctx context.Context, r O) (Detail, eventstore.Position, error) {
			id, _, in := k.one(r)
			w, err := h.RemoveRole(ctx, commands.RemoveTenantRole{Tenant: in.Tenant, Meta: in.Meta, Kind: k.kind, RelationID: id})
			return Detail{Detail: "Tenant " + k.kind + " role deleted"}, w.Result.Last(), err
		},
	}.Register(p)
}
