package commands

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Permissions serves the writes of the permission catalogue (#149, #151,
// #152, #154–156, #158, #160). Every write is one decision of the
// PermissionCatalogue aggregate (stream permissions-catalogue); only
// those permManage lets through write.
type Permissions struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Clock  func() time.Time
}

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

// permManage is the one authorisation check of the catalogue's writes:
// superusers only (access.Superuser): the catalogue is shared by every tenant.
func permManage(c *gin.Context) bool {
	if _, err := auth.RequireSuperuser(c.Request.Context()); err != nil {
		httpapi.Fail(c, err)
		return false
	}
	return true
}

// Routes registers the write operations of the permission catalogue.
func (h *Permissions) Routes(s *httpapi.Server) {
	models := readapi.PermissionReadModels
	module := httpapi.Param{Name: "module_id", In: "path", Required: true}
	priv := httpapi.Param{Name: "priv_id", In: "path", Required: true}
	role := httpapi.Param{Name: "role_id", In: "path", Required: true}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/modules/{module_id}/privs", Access: access.Superuser(), Tag: "Permission",
		Summary: "Add Module Priv",
		Description: "Add a privilege to a module (404 if there is none such). priv_id is 1..128 characters of A-Z a-z 0-9 _ . - " +
			"and unique in its module (409). is_sys_priv true is refused (422): only the built-in catalogue has system privileges.",
		Params: []httpapi.Param{module}, Body: PermPrivCreate{}, Response: readapi.PermPrivRead{}, Status: http.StatusCreated,
		ReadModels: models, Handler: h.addPriv})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/permissions/modules/{module_id}/privs/{priv_id}", Access: access.Superuser(), Tag: "Permission",
		Summary: "Patch Module Priv",
		Description: "Change a privilege's name or operation type; absent or null fields stay. is_sys_priv never changes (409 if it differs); " +
			"a system privilege's operation type never changes (409).",
		Params: []httpapi.Param{module, priv}, Body: PermPrivPatch{}, Response: readapi.PermPrivRead{}, ReadModels: models, Handler: h.patchPriv})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/modules/{module_id}/privs/{priv_id}", Access: access.Superuser(), Tag: "Permission",
		Summary:     "Remove Module Priv",
		Description: "Remove a privilege. System privileges are not removed (409), nor privileges a role holds (409 naming the roles).",
		Params:      []httpapi.Param{module, priv}, Response: Detail{}, ReadModels: models, Handler: h.removePriv})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/roles", Access: access.Superuser(), Tag: "Permission",
		Summary: "Add Role",
		Description: "Add a role: role_id is 1..32 characters of a-z 0-9 _ - and unique (409). is_sys_role true is refused (422): " +
			"only the built-in catalogue has system roles.",
		Body: PermRoleCreate{}, Response: readapi.PermRoleRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.addRole})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/permissions/roles/{role_id}", Access: access.Superuser(), Tag: "Permission",
		Summary:     "Patch Role",
		Description: "Rename a role. role_id, if given, must be the path's (422); is_sys_role never changes (409 if it differs).",
		Params:      []httpapi.Param{role}, Body: PermRolePatch{}, Response: readapi.PermRoleRead{}, ReadModels: models, Handler: h.patchRole})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/roles/{role_id}", Access: access.Superuser(), Tag: "Permission",
		Summary:     "Remove Role",
		Description: "Remove a role together with the privileges it holds. System roles are not removed (409).",
		Params:      []httpapi.Param{role}, Response: Detail{}, ReadModels: models, Handler: h.removeRole})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/permissions/roles/{role_id}/privs", Access: access.Superuser(), Tag: "Permission",
		Summary: "Add Role Priv Item",
		Description: "Let a role hold a privilege (404 naming an unknown role, module or privilege; 409 if it holds it already). " +
			"The privileges of system roles are the built-in matrix (409).",
		Params: []httpapi.Param{role}, Body: PermRolePrivCreate{}, Response: readapi.PermRolePrivRead{}, Status: http.StatusCreated,
		ReadModels: models, Handler: h.addRolePriv})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/permissions/roles/{role_id}/privs/{module_id}/{priv_id}", Access: access.Superuser(),
		Tag: "Permission", Summary: "Remove Role Priv Item",
		Description: "Take a privilege from a role (404 if it does not hold it). The privileges of system roles are the built-in matrix (409).",
		Params:      []httpapi.Param{role, module, priv}, Response: Detail{}, ReadModels: models, Handler: h.removeRolePriv})
}

// DecidePermissions loads the catalogue, lets fn decide and saves what it
// recorded with md, again on a lost race.
func DecidePermissions(ctx context.Context, repo *Repository, md eventstore.Metadata, fn func(*domain.PermissionCatalogue) error) (eventstore.AppendResult, error) {
	return decideAgain(ctx, repo, domain.NewPermissionCatalogue, fn, md)
}

// SeedPermissions appends whatever of the built-in catalogue is missing
// (domain.SeedPermissionCatalogue); it reports how many events it wrote.
func SeedPermissions(ctx context.Context, repo *Repository, md eventstore.Metadata) (int, error) {
	res, err := DecidePermissions(ctx, repo, md, domain.SeedPermissionCatalogue)
	return len(res.Positions), err
}

// decide is the decision of a request, with the request's metadata.
func (h *Permissions) decide(c *gin.Context, fn func(*domain.PermissionCatalogue) error) (eventstore.AppendResult, error) {
	return DecidePermissions(c.Request.Context(), h.Repo, httpapi.Metadata(c, h.Clock()), fn)
}

// removed answers a removal with {"detail": msg} once the read model shows
// it.
func (h *Permissions) removed(c *gin.Context, res eventstore.AppendResult, err error, msg string) {
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: msg})
}

func (h *Permissions) addPriv(c *gin.Context) {
	if !permManage(c) {
		return
	}
	var body PermPrivCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	module := c.Param("module_id")
	s := domain.PermPrivState{ModuleID: module, PrivID: *body.PrivID, PrivName: *body.PrivName, IsSysPriv: *body.IsSysPriv,
		PrivOprType: domain.PrivRead}
	if body.PrivOprType != nil {
		s.PrivOprType = *body.PrivOprType
	}
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.AddPriv(s, false) })
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusCreated, func(ctx context.Context, db readapi.DB) (readapi.PermPrivRead, error) {
		return readapi.PermPrivByID(ctx, db, module, s.PrivID)
	})
}

func (h *Permissions) patchPriv(c *gin.Context) {
	if !permManage(c) {
		return
	}
	var body PermPrivPatch
	if !httpapi.BindJSON(c, &body) {
		return
	}
	module, priv := c.Param("module_id"), c.Param("priv_id")
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error {
		return p.ChangePriv(module, priv, domain.PermPrivChange{PrivName: body.PrivName, IsSysPriv: body.IsSysPriv, PrivOprType: body.PrivOprType})
	})
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusOK, func(ctx context.Context, db readapi.DB) (readapi.PermPrivRead, error) {
		return readapi.PermPrivByID(ctx, db, module, priv)
	})
}

func (h *Permissions) removePriv(c *gin.Context) {
	if !permManage(c) {
		return
	}
	module, priv := c.Param("module_id"), c.Param("priv_id")
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.RemovePriv(module, priv) })
	h.removed(c, res, err, msgPermPrivDeleted)
}

func (h *Permissions) addRole(c *gin.Context) {
	if !permManage(c) {
		return
	}
	var body PermRoleCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	r := domain.PermRoleState{RoleID: *body.RoleID, RoleName: *body.RoleName, IsSysRole: body.IsSysRole != nil && *body.IsSysRole}
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.AddRole(r, false) })
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusCreated, func(ctx context.Context, db readapi.DB) (readapi.PermRoleRead, error) {
		return readapi.PermRoleByID(ctx, db, r.RoleID)
	})
}

func (h *Permissions) patchRole(c *gin.Context) {
	if !permManage(c) {
		return
	}
	var body PermRolePatch
	if !httpapi.BindJSON(c, &body) {
		return
	}
	role := c.Param("role_id")
	if body.RoleID != nil && *body.RoleID != role {
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: []any{"body", "role_id"},
			Msg: "Value error, role_id cannot be changed", Input: *body.RoleID}}})
		return
	}
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.ChangeRole(role, body.RoleName, body.IsSysRole) })
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusOK, func(ctx context.Context, db readapi.DB) (readapi.PermRoleRead, error) {
		return readapi.PermRoleByID(ctx, db, role)
	})
}

func (h *Permissions) removeRole(c *gin.Context) {
	if !permManage(c) {
		return
	}
	role := c.Param("role_id")
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.RemoveRole(role) })
	h.removed(c, res, err, msgPermRoleDeleted)
}

func (h *Permissions) addRolePriv(c *gin.Context) {
	if !permManage(c) {
		return
	}
	var body PermRolePrivCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	role, module, priv := c.Param("role_id"), *body.ModuleID, *body.PrivID
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.AddRolePriv(role, module, priv, false) })
	answerWrite(c, h.Server, h.Pool, res.Last(), err, http.StatusCreated, func(ctx context.Context, db readapi.DB) (readapi.PermRolePrivRead, error) {
		return readapi.PermRolePrivByID(ctx, db, role, module, priv)
	})
}

func (h *Permissions) removeRolePriv(c *gin.Context) {
	if !permManage(c) {
		return
	}
	role, module, priv := c.Param("role_id"), c.Param("module_id"), c.Param("priv_id")
	res, err := h.decide(c, func(p *domain.PermissionCatalogue) error { return p.RemoveRolePriv(role, module, priv) })
	h.removed(c, res, err, msgPermRolePrivDeleted)
}
