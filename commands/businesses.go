package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of businesses: Add (#95), Patch (#98) and Remove Business
// (#99), Remove Business User (#105) and the business user roles (Upsert
// #102, Batch Remove #103, Remove #104). Each is a command value and one
// method of BusinessesHandler that loads the tenant's BusinessTree,
// decides, and appends to its stream with the revision it loaded (a lost
// race is decided again, up to its race rule, then 409:
// Repository.Update), with no HTTP in sight: ports.Businesses binds,
// resolves the tenant, finds the business the caller may see and answers.

// AddBusiness adds a business to a tenant.
type AddBusiness struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	Business domain.NewBusiness
}

// ChangeBusiness renames, enables or disables, changes the note of, or
// moves a business of Tenant (the business's own). TenantID is the tenant
// the request names (nil: none); another tenant than the business's is
// refused (a business does not move between tenants).
type ChangeBusiness struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	BusinessID int64
	TenantID   *uuid.UUID
	Change     domain.BusinessChange
}

// RemoveBusiness removes a business of Tenant.
type RemoveBusiness struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	BusinessID int64
}

// RemoveBusinessUser removes a user's membership and roles in a business
// of Tenant.
type RemoveBusinessUser struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	BusinessID int64
	UID        int64
}

// SetBusinessUserRoles sets the role set a user (UID or Username; both
// must then name the same user) holds in a business of Tenant.
type SetBusinessUserRoles struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	BusinessID int64
	UID        *int64
	Username   *string
	RoleIDs    []string
}

// RemoveBusinessUserRoles removes role relations of a business of Tenant
// (ids of other businesses or of none are ignored).
type RemoveBusinessUserRoles struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	BusinessID int64
	IDs        []int64
}

// BusinessWritten is what a business command did: the business it wrote
// and where its events landed.
type BusinessWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// BusinessUserRolesSet is what SetBusinessUserRoles did: the user whose
// roles were set and where the events landed.
type BusinessUserRolesSet struct {
	UID    int64
	Result eventstore.AppendResult
}

// BusinessUsersRemoved is what a removal of business users or role
// relations did: how many role relations went and where the events
// landed.
type BusinessUsersRemoved struct {
	Count  int
	Result eventstore.AppendResult
}

// BusinessesHandler handles the commands of businesses.
type BusinessesHandler struct {
	Repo *Repository
	IDs  IDs
	// Users reads the user a role write names (the users read model).
	Users MemberAccounts
}

// decide loads tenant's tree, runs fn on it and saves what it recorded,
// with md's tenant and business; a lost race decides again. The result is
// empty when nothing was recorded.
func (h *BusinessesHandler) decide(ctx context.Context, tenant uuid.UUID, business int64, md eventstore.Metadata,
	fn func(t *domain.BusinessTree) error) (eventstore.AppendResult, error) {
	md.BusinessID = business
	return decideIn(ctx, h.Repo, tenant, domain.LoadBusinessTree, md, fn)
}

// Add handles AddBusiness: the level and parents must fit (422) and the
// name must be free among its siblings (409).
func (h *BusinessesHandler) Add(ctx context.Context, cmd AddBusiness) (BusinessWritten, error) {
	n := cmd.Business
	if err := n.Check(); err != nil { // before an id is spent on it
		return BusinessWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "business")
	if err != nil {
		return BusinessWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, id, cmd.Meta, func(t *domain.BusinessTree) error { return t.Add(id, n) })
	return BusinessWritten{ID: id, Result: res}, err
}

// Change handles ChangeBusiness.
func (h *BusinessesHandler) Change(ctx context.Context, cmd ChangeBusiness) (BusinessWritten, error) {
	if cmd.TenantID != nil && *cmd.TenantID != cmd.Tenant {
		return BusinessWritten{}, domain.Invalidf("tenant_id: business %d belongs to tenant %s and cannot move to another tenant",
			cmd.BusinessID, cmd.Tenant)
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.BusinessID, cmd.Meta, func(t *domain.BusinessTree) error {
		return t.Change(cmd.BusinessID, cmd.Change)
	})
	return BusinessWritten{ID: cmd.BusinessID, Result: res}, err
}

// Remove handles RemoveBusiness: a business with sub-businesses or users
// stays (409).
func (h *BusinessesHandler) Remove(ctx context.Context, cmd RemoveBusiness) (BusinessWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.BusinessID, cmd.Meta,
		func(t *domain.BusinessTree) error { return t.Remove(cmd.BusinessID) })
	return BusinessWritten{ID: cmd.BusinessID, Result: res}, err
}

// RemoveUser handles RemoveBusinessUser; Count is how many of the user's
// role relations went (0 when the user had none).
func (h *BusinessesHandler) RemoveUser(ctx context.Context, cmd RemoveBusinessUser) (BusinessUsersRemoved, error) {
	var n int
	res, err := h.decide(ctx, cmd.Tenant, cmd.BusinessID, cmd.Meta, func(t *domain.BusinessTree) (err error) {
		n, err = t.RemoveUser(cmd.BusinessID, cmd.UID)
		return err
	})
	return BusinessUsersRemoved{Count: n, Result: res}, err
}

// roleUser finds the user of cmd in the users read model: its id and
// whether it is active; 404 "User not found".
func (h *BusinessesHandler) roleUser(ctx context.Context, cmd SetBusinessUserRoles) (int64, bool, error) {
	switch {
	case cmd.UID != nil:
		found, err := h.Users.Accounts(ctx, []int64{*cmd.UID})
		if err != nil {
			return 0, false, err
		}
		a, ok := found[*cmd.UID]
		if !ok {
			return 0, false, domain.NotFoundf("User not found")
		}
		if cmd.Username != nil && domain.ClaimKey(a.Username) != domain.ClaimKey(*cmd.Username) {
			return 0, false, domain.Invalidf("uid %d and username %q name different users", a.ID, *cmd.Username)
		}
		return a.ID, a.Active, nil
	case cmd.Username != nil:
		a, ok, err := h.Users.AccountNamed(ctx, *cmd.Username)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return 0, false, domain.NotFoundf("User not found")
		}
		return a.ID, a.Active, nil
	default:
		return 0, false, domain.Invalidf("uid or username is required")
	}
}

// SetUserRoles handles SetBusinessUserRoles: roles missing are granted,
// the others revoked; no roles removes the user's roles and membership.
// Every role must exist in the permission catalogue (404 naming it) and
// the user must exist (404); granting needs an active user and an enabled
// business (409).
func (h *BusinessesHandler) SetUserRoles(ctx context.Context, cmd SetBusinessUserRoles) (BusinessUserRolesSet, error) {
	uid, active, err := h.roleUser(ctx, cmd)
	if err != nil {
		return BusinessUserRolesSet{}, err
	}
	var roles []string
	seen := map[string]bool{}
	for _, r := range cmd.RoleIDs {
		if !seen[r] {
			seen[r] = true
			roles = append(roles, r)
		}
	}
	if len(roles) > 0 {
		if err := requireRoles(ctx, h.Repo, roles...); err != nil {
			return BusinessUserRolesSet{}, err
		}
	}
	ids := make([]int64, len(roles))
	for i := range ids {
		if ids[i], err = h.IDs.Next(ctx, "role_relation"); err != nil {
			return BusinessUserRolesSet{}, err
		}
	}
	ch := domain.BusinessUserRolesChange{UID: uid, Active: active, Roles: roles, NewIDs: ids}
	res, err := h.decide(ctx, cmd.Tenant, cmd.BusinessID, cmd.Meta, func(t *domain.BusinessTree) error {
		return t.SetUserRoles(cmd.BusinessID, ch)
	})
	return BusinessUserRolesSet{UID: uid, Result: res}, err
}

// RemoveUserRoles handles RemoveBusinessUserRoles; Count is how many
// relations went.
func (h *BusinessesHandler) RemoveUserRoles(ctx context.Context, cmd RemoveBusinessUserRoles) (BusinessUsersRemoved, error) {
	var n int
	res, err := h.decide(ctx, cmd.Tenant, cmd.BusinessID, cmd.Meta, func(t *domain.BusinessTree) (err error) {
		n, err = t.RemoveUserRoles(cmd.BusinessID, cmd.IDs)
		return err
	})
	return BusinessUsersRemoved{Count: n, Result: res}, err
}

// RemoveUserRole is RemoveUserRoles of one relation id, which the
// business must have: else it fails with 404
// domain.MsgBusinessUserRoleNotFound.
func (h *BusinessesHandler) RemoveUserRole(ctx context.Context, cmd RemoveBusinessUserRoles) (BusinessUsersRemoved, error) {
	w, err := h.RemoveUserRoles(ctx, cmd)
	if err == nil && w.Count == 0 {
		err = domain.NotFoundf(domain.MsgBusinessUserRoleNotFound)
	}
	return w, err
}
