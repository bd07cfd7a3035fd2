package commands

import (
	"context"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of the permission catalogue (#149, #151, #152, #154–156,
// #158, #160): each is a command value and one method of
// PermissionsHandler that decides on the PermissionCatalogue aggregate
// (stream permissions-catalogue) and appends, with no HTTP in sight
// (ports.Permissions binds, calls and answers). The catalogue is shared by
// every tenant: only superusers change it.

// MsgPermSuperuser refuses a change of the catalogue by a caller who is
// not a superuser: the words of auth.RequireSuperuser's 403, which the
// handler answers.
const MsgPermSuperuser = "The user doesn't have enough privileges"

// AddPermPriv adds a privilege to a module; PrivOprType nil is READ.
type AddPermPriv struct {
	Meta                       eventstore.Metadata
	ModuleID, PrivID, PrivName string
	IsSysPriv                  bool
	PrivOprType                *string
}

// ChangePermPriv changes a privilege's name or operation type (nil
// fields stay as they are; is_sys_priv never changes).
type ChangePermPriv struct {
	Meta             eventstore.Metadata
	ModuleID, PrivID string
	Change           domain.PermPrivChange
}

// RemovePermPriv removes a privilege.
type RemovePermPriv struct {
	Meta             eventstore.Metadata
	ModuleID, PrivID string
}

// AddPermRole adds a role.
type AddPermRole struct {
	Meta             eventstore.Metadata
	RoleID, RoleName string
	IsSysRole        bool
}

// ChangePermRole renames a role (nil: as it is); IsSysRole, if given,
// must repeat the role's flag.
type ChangePermRole struct {
	Meta      eventstore.Metadata
	RoleID    string
	RoleName  *string
	IsSysRole *bool
}

// RemovePermRole removes a role together with the privileges it holds.
type RemovePermRole struct {
	Meta   eventstore.Metadata
	RoleID string
}

// AddPermRolePriv lets a role hold a privilege.
type AddPermRolePriv struct {
	Meta                     eventstore.Metadata
	RoleID, ModuleID, PrivID string
}

// RemovePermRolePriv takes a privilege from a role.
type RemovePermRolePriv struct {
	Meta                     eventstore.Metadata
	RoleID, ModuleID, PrivID string
}

// PermWritten is what a command on the catalogue appended.
type PermWritten struct {
	Result eventstore.AppendResult
}

// PermissionsHandler handles the permission catalogue's commands.
type PermissionsHandler struct {
	Repo *Repository
}

// decide checks that the caller of ctx is a superuser, then runs fn on
// the catalogue (DecidePermissions).
func (h *PermissionsHandler) decide(ctx context.Context, md eventstore.Metadata, fn func(*domain.PermissionCatalogue) error) (PermWritten, error) {
	if _, err := auth.RequireSuperuser(ctx); err != nil {
		return PermWritten{}, err
	}
	res, err := DecidePermissions(ctx, h.Repo, md, fn)
	return PermWritten{Result: res}, err
}

// AddPriv handles AddPermPriv.
func (h *PermissionsHandler) AddPriv(ctx context.Context, cmd AddPermPriv) (PermWritten, error) {
	s := domain.PermPrivState{ModuleID: cmd.ModuleID, PrivID: cmd.PrivID, PrivName: cmd.PrivName, IsSysPriv: cmd.IsSysPriv,
		PrivOprType: domain.PrivRead}
	if cmd.PrivOprType != nil {
		s.PrivOprType = *cmd.PrivOprType
	}
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error { return p.AddPriv(s, false) })
}

// ChangePriv handles ChangePermPriv.
func (h *PermissionsHandler) ChangePriv(ctx context.Context, cmd ChangePermPriv) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error { return p.ChangePriv(cmd.ModuleID, cmd.PrivID, cmd.Change) })
}

// RemovePriv handles RemovePermPriv.
func (h *PermissionsHandler) RemovePriv(ctx context.Context, cmd RemovePermPriv) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error { return p.RemovePriv(cmd.ModuleID, cmd.PrivID) })
}

// AddRole handles AddPermRole.
func (h *PermissionsHandler) AddRole(ctx context.Context, cmd AddPermRole) (PermWritten, error) {
	r := domain.PermRoleState{RoleID: cmd.RoleID, RoleName: cmd.RoleName, IsSysRole: cmd.IsSysRole}
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error { return p.AddRole(r, false) })
}

// ChangeRole handles ChangePermRole.
func (h *PermissionsHandler) ChangeRole(ctx context.Context, cmd ChangePermRole) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error {
		return p.ChangeRole(cmd.RoleID, cmd.RoleName, cmd.IsSysRole)
	})
}

// RemoveRole handles RemovePermRole.
func (h *PermissionsHandler) RemoveRole(ctx context.Context, cmd RemovePermRole) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error { return p.RemoveRole(cmd.RoleID) })
}

// AddRolePriv handles AddPermRolePriv.
func (h *PermissionsHandler) AddRolePriv(ctx context.Context, cmd AddPermRolePriv) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error {
		return p.AddRolePriv(cmd.RoleID, cmd.ModuleID, cmd.PrivID, false)
	})
}

// RemoveRolePriv handles RemovePermRolePriv.
func (h *PermissionsHandler) RemoveRolePriv(ctx context.Context, cmd RemovePermRolePriv) (PermWritten, error) {
	return h.decide(ctx, cmd.Meta, func(p *domain.PermissionCatalogue) error {
		return p.RemoveRolePriv(cmd.RoleID, cmd.ModuleID, cmd.PrivID)
	})
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
