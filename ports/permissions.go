package ports

import (
	"context"
	"net/http"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The permission catalogue's writes (#149, #151, #152, #154–156, #158,
// #160): superusers only (access.Superuser, and the handler's own rule);
// each binds a request, calls the commands.PermissionsHandler and answers
// what the read model shows.

// The answers of the removals.
const (
	msgPermPrivDeleted     = "Privilege deleted"
	msgPermRoleDeleted     = "Role deleted"
	msgPermRolePrivDeleted = "Role privilege deleted"
)

// PermPrivCreate is the body of Add Module Priv.
type PermPrivCreate struct {
	PrivID      *string `json:"priv_id" binding:"required,min=1,max=128"`
	PrivName    *string `json:"priv_name" binding:"required,min=1,max=128"`
	IsSysPriv   *bool   `json:"is_sys_priv" binding:"required"`
	PrivOprType *string `json:"priv_opr_type" binding:"omitnil,oneof=READ WRITE MODIFY DELETE"`
}

// PermPrivPatch is the body of Patch Module Priv: absent or null fields
// stay as they are.
type PermPrivPatch struct {
	PrivName    *string `json:"priv_name" binding:"omitnil,min=1,max=128"`
	IsSysPriv   *bool   `json:"is_sys_priv"`
	PrivOprType *string `json:"priv_opr_type" binding:"omitnil,oneof=READ WRITE MODIFY DELETE"`
}

// PermRoleCreate is the body of Add Role (the spec shows none; these are
// the fields of its answer).
type PermRoleCreate struct {
	RoleID    *string `json:"role_id" binding:"required,min=1,max=32"`
	RoleName  *string `json:"role_name" binding:"required,min=1,max=128"`
	IsSysRole *bool   `json:"is_sys_role"`
}

// PermRolePatch is the body of Patch Role: role_id, if given, must be the
// path's (ids never change); is_sys_role may only repeat the role's flag.
type PermRolePatch struct {
	RoleID    *string `json:"role_id"`
	RoleName  *string `json:"role_name" binding:"omitnil,min=1,max=128"`
	IsSysRole *bool   `json:"is_sys_role"`
}

// PermRolePrivCreate is the body of Add Role Priv Item.
type PermRolePrivCreate struct {
	ModuleID *string `json:"module_id" binding:"required,min=1,max=64"`
	PrivID   *string `json:"priv_id" binding:"required,min=1,max=64"`
}

// The requests of the catalogue's writes: where each part of the command
// comes from (see Write).
type (
	addPermPriv struct {
		ModuleID string              `path:"module_id"`
		Meta     eventstore.Metadata `meta:""`
		Body     PermPrivCreate      `body:""`
	}
	patchPermPriv struct {
		ModuleID string              `path:"module_id"`
		PrivID   string              `path:"priv_id"`
		Meta     eventstore.Metadata `meta:""`
		Body     PermPrivPatch       `body:""`
	}
	removePermPriv struct {
		ModuleID string              `path:"module_id"`
		PrivID   string              `path:"priv_id"`
		Meta     eventstore.Metadata `meta:""`
	}
	addPermRole struct {
		Meta eventstore.Metadata `meta:""`
		Body PermRoleCreate      `body:""`
	}
	patchPermRole struct {
		RoleID string              `path:"role_id"`
		Meta   eventstore.Metadata `meta:""`
		Body   PermRolePatch       `body:""`
	}
	removePermRole struct {
		RoleID string              `path:"role_id"`
		Meta   eventstore.Metadata `meta:""`
	}
	addPermRolePriv struct {
		RoleID string              `path:"role_id"`
		Meta   eventstore.Metadata `meta:""`
		Body   PermRolePrivCreate  `body:""`
	}
	removePermRolePriv struct {
		RoleID   string              `path:"role_id"`
		ModuleID string              `path:"module_id"`
		PrivID   string              `path:"priv_id"`
		Meta     eventstore.Metadata `meta:""`
	}
)

// Permissions registers the write operations of the permission catalogue.
func Permissions(p Port, h *commands.PermissionsHandler) {
	models := readapi.PermissionReadModels
	Write[addPermPriv, commands.PermWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/modules/{module_id}/privs", Access: access.Superuser(), Tag: "Permission",
			Summary: "Add Module Priv",
			Description: "Add a privilege to a module (404 if there is none such). priv_id is 1..128 characters of A-Z a-z 0-9 _ . - " +
				"and unique in its module (409). is_sys_priv true is refused (422): only the built-in catalogue has system privileges.",
			Response: readapi.PermPrivRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addPermPriv) (commands.PermWritten, eventstore.Position, error) {
			w, err := h.AddPriv(ctx, commands.AddPermPriv{Meta: r.Meta, ModuleID: r.ModuleID, PrivID: *r.Body.PrivID,
				PrivName: *r.Body.PrivName, IsSysPriv: *r.Body.IsSysPriv, PrivOprType: r.Body.PrivOprType})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addPermPriv, _ commands.PermWritten) (any, error) {
			return readapi.PermPrivByID(ctx, db, r.ModuleID, *r.Body.PrivID)
		},
	}.Register(p)
	Write[patchPermPriv, commands.PermWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/permissions/modules/{module_id}/privs/{priv_id}", Access: access.Superuser(), Tag: "Permission",
			Summary: "Patch Module Priv",
			Description: "Change a privilege's name or operation type; absent or null fields stay. is_sys_priv never changes (409 if it differs); " +
				"a system privilege's operation type never changes (409).",
			Response: readapi.PermPrivRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchPermPriv) (commands.PermWritten, eventstore.Position, error) {
			w, err := h.ChangePriv(ctx, commands.ChangePermPriv{Meta: r.Meta, ModuleID: r.ModuleID, PrivID: r.PrivID,
				Change: domain.PermPrivChange{PrivName: r.Body.PrivName, IsSysPriv: r.Body.IsSysPriv, PrivOprType: r.Body.PrivOprType}})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchPermPriv, _ commands.PermWritten) (any, error) {
			return readapi.PermPrivByID(ctx, db, r.ModuleID, r.PrivID)
		},
	}.Register(p)
	Write[removePermPriv, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/modules/{module_id}/privs/{priv_id}", Access: access.Superuser(), Tag: "Permission",
			Summary:     "Remove Module Priv",
			Description: "Remove a privilege. System privileges are not removed (409), nor privileges a role holds (409 naming the roles).",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removePermPriv) (Detail, eventstore.Position, error) {
			w, err := h.RemovePriv(ctx, commands.RemovePermPriv{Meta: r.Meta, ModuleID: r.ModuleID, PrivID: r.PrivID})
			return Detail{Detail: msgPermPrivDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addPermRole, commands.PermWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/roles", Access: access.Superuser(), Tag: "Permission",
			Summary: "Add Role",
			Description: "Add a role: role_id is 1..32 characters of a-z 0-9 _ - and unique (409). is_sys_role true is refused (422): " +
				"only the built-in catalogue has system roles.",
			Response: readapi.PermRoleRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addPermRole) (commands.PermWritten, eventstore.Position, error) {
			w, err := h.AddRole(ctx, commands.AddPermRole{Meta: r.Meta, RoleID: *r.Body.RoleID, RoleName: *r.Body.RoleName,
				IsSysRole: r.Body.IsSysRole != nil && *r.Body.IsSysRole})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addPermRole, _ commands.PermWritten) (any, error) {
			return readapi.PermRoleByID(ctx, db, *r.Body.RoleID)
		},
	}.Register(p)
	Write[patchPermRole, commands.PermWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/permissions/roles/{role_id}", Access: access.Superuser(), Tag: "Permission",
			Summary:     "Patch Role",
			Description: "Rename a role. role_id, if given, must be the path's (422); is_sys_role never changes (409 if it differs).",
			Response:    readapi.PermRoleRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchPermRole) (commands.PermWritten, eventstore.Position, error) {
			if r.Body.RoleID != nil && *r.Body.RoleID != r.RoleID {
				return commands.PermWritten{}, eventstore.Position{}, &domain.FieldError{
					Loc: []any{"body", "role_id"}, Message: "role_id cannot be changed", Input: *r.Body.RoleID}
			}
			w, err := h.ChangeRole(ctx, commands.ChangePermRole{Meta: r.Meta, RoleID: r.RoleID, RoleName: r.Body.RoleName, IsSysRole: r.Body.IsSysRole})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchPermRole, _ commands.PermWritten) (any, error) {
			return readapi.PermRoleByID(ctx, db, r.RoleID)
		},
	}.Register(p)
	Write[removePermRole, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/roles/{role_id}", Access: access.Superuser(), Tag: "Permission",
			Summary:     "Remove Role",
			Description: "Remove a role together with the privileges it holds. System roles are not removed (409).",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removePermRole) (Detail, eventstore.Position, error) {
			w, err := h.RemoveRole(ctx, commands.RemovePermRole{Meta: r.Meta, RoleID: r.RoleID})
			return Detail{Detail: msgPermRoleDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addPermRolePriv, commands.PermWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/roles/{role_id}/privs", Access: access.Superuser(), Tag: "Permission",
			Summary: "Add Role Priv Item",
			Description: "Let a role hold a privilege (404 naming an unknown role, module or privilege; 409 if it holds it already). " +
				"The privileges of system roles are the built-in matrix (409).",
			Response: readapi.PermRolePrivRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addPermRolePriv) (commands.PermWritten, eventstore.Position, error) {
			w, err := h.AddRolePriv(ctx, commands.AddPermRolePriv{Meta: r.Meta, RoleID: r.RoleID, ModuleID: *r.Body.ModuleID, PrivID: *r.Body.PrivID})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addPermRolePriv, _ commands.PermWritten) (any, error) {
			return readapi.PermRolePrivByID(ctx, db, r.RoleID, *r.Body.ModuleID, *r.Body.PrivID)
		},
	}.Register(p)
	Write[removePermRolePriv, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/roles/{role_id}/privs/{module_id}/{priv_id}", Access: access.Superuser(),
			Tag: "Permission", Summary: "Remove Role Priv Item",
			Description: "Take a privilege from a role (404 if it does not hold it). The privileges of system roles are the built-in matrix (409).",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removePermRolePriv) (Detail, eventstore.Position, error) {
			w, err := h.RemoveRolePriv(ctx, commands.RemovePermRolePriv{Meta: r.Meta, RoleID: r.RoleID, ModuleID: r.ModuleID, PrivID: r.PrivID})
			return Detail{Detail: msgPermRolePrivDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
