package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of tenant role grants (#78–80, #82–84, #86–88): roles
// granted in a tenant to users, user groups and orgs. Each is a command
// value and one method of TenantGrantsHandler that decides on the
// tenant's TenantGrants aggregate and appends, with no HTTP in sight
// (ports.TenantGrants binds, resolves the tenant, calls and answers; only
// holders of permissions.write/delete in the tenant get here). The role
// must exist in the permission catalogue (its aggregate is loaded:
// exact); the user must exist and be active (users read model); the
// group or org must be one of THAT tenant (its UserGroups / OrgTree
// aggregate is loaded: exact).

const msgGrantsBusy = "The tenant's role grants are being changed by other requests; try again"

// AddTenantUserRole grants Role in Tenant to a user: by UID, else by
// Username (case-insensitive).
type AddTenantUserRole struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	Role     string
	UID      *int64
	Username *string
}

// AddTenantGroupRole grants Role in Tenant to a user group of the
// tenant: by GroupID, else by GroupName (case-insensitive).
type AddTenantGroupRole struct {
	Tenant    uuid.UUID
	Meta      eventstore.Metadata
	Role      string
	GroupID   *int64
	GroupName *string
}

// AddTenantOrgRole grants Role in Tenant to an org of the tenant: by
// OrgID, else by OrgName (case-insensitive; it must name one org).
type AddTenantOrgRole struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	Role    string
	OrgID   *int64
	OrgName *string
}

// RemoveTenantRole removes role relation RelationID of kind Kind
// (domain.GrantUser, GrantGroup or GrantOrg) from Tenant.
type RemoveTenantRole struct {
	Tenant     uuid.UUID
	Meta       eventstore.Metadata
	Kind       string
	RelationID int64
}

// RemoveTenantRoles removes the role relations of kind Kind among IDs
// from Tenant; the others are ignored.
type RemoveTenantRoles struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Kind   string
	IDs    []int64
}

// TenantGrantWritten is what a grant command did: the relation (its id)
// and what it appended.
type TenantGrantWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// TenantGrantsRemoved is what a batch removal did: how many relations it
// removed and what it appended.
type TenantGrantsRemoved struct {
	Count  int
	Result eventstore.AppendResult
}

// grantFieldError refuses a grant's subject at one field of its request
// body (422 there).
func grantFieldError(field string, input any, msg string) error {
	return &domain.FieldError{Loc: []any{"body", field}, Message: msg, Input: input}
}

// TenantGrantsHandler handles the commands of tenant role grants.
type TenantGrantsHandler struct {
	Repo *Repository
	// Users reads the users read model (a user to grant a role to).
	Users MemberAccounts
	IDs   IDs
}

// LoadTenantGrants folds the role grants of tenant (empty when it has none).
func LoadTenantGrants(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.TenantGrants, error) {
	return loadOrNew(ctx, repo, func() *domain.TenantGrants { return domain.LoadTenantGrants(tenant) })
}

// decide runs fn on tenant's grants and saves what it recorded with md (as
// the tenant's event), again on a lost race; too many lost races are 409.
func (h *TenantGrantsHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.TenantGrants) error) (eventstore.AppendResult, error) {
	res, err := decideIn(ctx, h.Repo, tenant, domain.LoadTenantGrants, md, fn)
	return res, busyIf(err, msgGrantsBusy)
}

// grant is the common part of the three grants: subject resolves the
// subject's id (and refuses a bad one); the same subject and role twice
// is 409.
func (h *TenantGrantsHandler) grant(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, role, kind string,
	subject func(ctx context.Context, tenant uuid.UUID) (int64, error)) (TenantGrantWritten, error) {
	sid, err := subject(ctx, tenant)
	if err == nil {
		err = requireRoles(ctx, h.Repo, role)
	}
	if err != nil {
		return TenantGrantWritten{}, err
	}
	var id int64
	res, err := h.decide(ctx, tenant, md, func(g *domain.TenantGrants) error {
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
	return TenantGrantWritten{ID: id, Result: res}, err
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

// AddUserRole handles AddTenantUserRole.
func (h *TenantGrantsHandler) AddUserRole(ctx context.Context, cmd AddTenantUserRole) (TenantGrantWritten, error) {
	return h.grant(ctx, cmd.Tenant, cmd.Meta, cmd.Role, domain.GrantUser, func(ctx context.Context, _ uuid.UUID) (int64, error) {
		return grantUser(ctx, h.Users, cmd.UID, cmd.Username)
	})
}

// grantUser finds the active user by uid, else by username
// (case-insensitive): 404 naming an unknown one, invalid at its field an
// inactive one.
func grantUser(ctx context.Context, users MemberAccounts, uid *int64, username *string) (int64, error) {
	var (
		a     MemberAccount
		found bool
		err   error
		field string
		input any
		label string
	)
	switch {
	case uid != nil:
		field, input, label = "uid", *uid, fmt.Sprintf("User %d", *uid)
		var byID map[int64]MemberAccount
		if byID, err = users.Accounts(ctx, []int64{*uid}); err == nil {
			a, found = byID[*uid]
		}
	case username != nil && *username != "":
		field, input, label = "username", *username, fmt.Sprintf("User %q", *username)
		a, found, err = users.AccountSpelled(ctx, *username)
	default:
		return 0, grantFieldError("uid", nil, "uid or username is required")
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("read user: %w", err)
	case !found:
		return 0, domain.NotFoundf("%s not found", label)
	case !a.Active:
		return 0, grantFieldError(field, input, label+" is not active")
	}
	return a.ID, nil
}

// AddGroupRole handles AddTenantGroupRole.
func (h *TenantGrantsHandler) AddGroupRole(ctx context.Context, cmd AddTenantGroupRole) (TenantGrantWritten, error) {
	return h.grant(ctx, cmd.Tenant, cmd.Meta, cmd.Role, domain.GrantGroup, func(ctx context.Context, tenant uuid.UUID) (int64, error) {
		if cmd.GroupID == nil && (cmd.GroupName == nil || *cmd.GroupName == "") {
			return 0, grantFieldError("group_id", nil, "group_id or group_name is required")
		}
		groups, err := LoadUserGroups(ctx, h.Repo, tenant)
		if err != nil {
			return 0, err
		}
		if cmd.GroupID != nil {
			if _, ok := groups.Group(*cmd.GroupID); !ok {
				return 0, domain.NotFoundf("User group %d not found in this tenant", *cmd.GroupID)
			}
			return *cmd.GroupID, nil
		}
		for _, g := range groups.AuditState().(domain.UserGroupsState).UserGroups {
			if domain.ClaimKey(g.GroupName) == domain.ClaimKey(*cmd.GroupName) {
				return g.GroupID, nil
			}
		}
		return 0, domain.NotFoundf("User group %q not found in this tenant", *cmd.GroupName)
	})
}

// AddOrgRole handles AddTenantOrgRole.
func (h *TenantGrantsHandler) AddOrgRole(ctx context.Context, cmd AddTenantOrgRole) (TenantGrantWritten, error) {
	return h.grant(ctx, cmd.Tenant, cmd.Meta, cmd.Role, domain.GrantOrg, func(ctx context.Context, tenant uuid.UUID) (int64, error) {
		if cmd.OrgID == nil && (cmd.OrgName == nil || *cmd.OrgName == "") {
			return 0, grantFieldError("org_id", nil, "org_id or org_name is required")
		}
		tree, err := loadOrNew(ctx, h.Repo, func() *domain.OrgTree { return domain.LoadOrgTree(tenant) })
		if err != nil {
			return 0, err
		}
		if cmd.OrgID != nil {
			if _, ok := tree.Org(*cmd.OrgID); !ok {
				return 0, domain.NotFoundf("Org %d not found in this tenant", *cmd.OrgID)
			}
			return *cmd.OrgID, nil
		}
		var found []int64
		for _, o := range tree.AuditState().(domain.OrgTreeState).Orgs {
			if domain.ClaimKey(o.OrgName) == domain.ClaimKey(*cmd.OrgName) {
				found = append(found, o.OrgID)
			}
		}
		switch len(found) {
		case 0:
			return 0, domain.NotFoundf("Org %q not found in this tenant", *cmd.OrgName)
		case 1:
			return found[0], nil
		}
		return 0, grantFieldError("org_name", *cmd.OrgName, fmt.Sprintf("%d orgs of the tenant are called %q; give org_id", len(found), *cmd.OrgName))
	})
}

// RemoveRole handles RemoveTenantRole: 404 if the tenant has no such
// relation.
func (h *TenantGrantsHandler) RemoveRole(ctx context.Context, cmd RemoveTenantRole) (TenantGrantWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.TenantGrants) error { return g.Revoke(cmd.Kind, cmd.RelationID) })
	return TenantGrantWritten{ID: cmd.RelationID, Result: res}, err
}

// RemoveRoles handles RemoveTenantRoles.
func (h *TenantGrantsHandler) RemoveRoles(ctx context.Context, cmd RemoveTenantRoles) (TenantGrantsRemoved, error) {
	n := 0
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(g *domain.TenantGrants) error {
		n = g.RevokeAll(cmd.Kind, cmd.IDs)
		return nil
	})
	return TenantGrantsRemoved{Count: n, Result: res}, err
}
