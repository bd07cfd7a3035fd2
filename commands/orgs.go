package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of organisations and their members (#162, #164, #165,
// #167, #170, #171): each is a command value and one method of OrgsHandler
// that loads the tenant's OrgTree (stream orgs-<tenant uuid>), decides,
// and appends with the revision it loaded, with no HTTP in sight
// (ports.Orgs binds, resolves the tenant, calls and answers). A write that
// loses a race with another write of the same tenant is decided again on
// the new state, so the tenant's rules are checked exactly.

const msgOrgsBusy = "The organisations of the tenant were changed by other requests at the same time: try again"

// MemberAccount is a user as the users read model shows it to the writes
// that make users members (of orgs, user groups and businesses).
type MemberAccount struct {
	ID       int64
	Username string
	Active   bool
}

// MemberAccounts reads users from the users read model for the writes that
// make them members (ports implements it on the database).
type MemberAccounts interface {
	// Accounts reads the users of ids, by id; an id no user has is absent.
	Accounts(ctx context.Context, ids []int64) (map[int64]MemberAccount, error)
	// AccountNamed reads the user named name, case-insensitively (the
	// lowest id of several); ok is false when there is none.
	AccountNamed(ctx context.Context, name string) (a MemberAccount, ok bool, err error)
	// AccountSpelled is AccountNamed preferring, of several, the user
	// spelled exactly name (then the lowest id).
	AccountSpelled(ctx context.Context, name string) (a MemberAccount, ok bool, err error)
}

// AddOrg adds an org to a tenant.
type AddOrg struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Org    domain.NewOrg
}

// ChangeOrg changes an org of the tenant (nil fields of Change stay as
// they are) and, when ParentOrgID is not nil, moves it under that org (0:
// to the roots).
type ChangeOrg struct {
	Tenant      uuid.UUID
	Meta        eventstore.Metadata
	OrgID       int64
	Change      domain.OrgChange
	ParentOrgID *int64
}

// RemoveOrg removes an org of the tenant.
type RemoveOrg struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	OrgID  int64
}

// AddOrgMembers makes the users of UIDs members of an org of the tenant,
// all with the same position, job and leader flag, all or none.
type AddOrgMembers struct {
	Tenant        uuid.UUID
	Meta          eventstore.Metadata
	OrgID         int64
	UIDs          []int64
	Position, Job string
	IsLeader      bool
}

// ChangeOrgMember changes a member of an org of the tenant (nil fields of
// Change stay as they are).
type ChangeOrgMember struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	MemberID int64
	Change   domain.OrgMemberChange
}

// RemoveOrgMember removes a member from its org of the tenant.
type RemoveOrgMember struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	MemberID int64
}

// OrgWritten is what an org command did: the org or member it wrote and
// where its events landed.
type OrgWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// OrgMembersAdded is what AddOrgMembers did: the new members' ids, in the
// order of their users in UIDs.
type OrgMembersAdded struct {
	IDs    []int64
	Result eventstore.AppendResult
}

// OrgsHandler handles the commands of organisations.
type OrgsHandler struct {
	Repo *Repository
	// IDs allocates org and org member ids (kinds "org", "org_member").
	IDs IDs
	// Users reads the accounts new members name (the users read model).
	Users MemberAccounts
}

// ChangeOrgs runs decide on tenant's OrgTree and saves what it recorded
// with md (as the tenant's event). A save that lost a race is decided
// again on the new state; when it keeps losing it is a conflict.
func (h *OrgsHandler) ChangeOrgs(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, decide func(*domain.OrgTree) error) (eventstore.AppendResult, error) {
	res, err := decideIn(ctx, h.Repo, tenant, domain.LoadOrgTree, md, decide)
	return res, busyIf(err, msgOrgsBusy)
}

// AddOrg handles AddOrg: its parent must exist (0: a root org), the tree
// must stay at most six levels deep (422), and its org_code must be free
// in the tenant (409).
func (h *OrgsHandler) AddOrg(ctx context.Context, cmd AddOrg) (OrgWritten, error) {
	id, err := h.IDs.Next(ctx, "org")
	if err != nil {
		return OrgWritten{}, err
	}
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error { return t.AddOrg(id, cmd.Org) })
	return OrgWritten{ID: id, Result: res}, err
}

// ChangeOrg handles ChangeOrg.
func (h *OrgsHandler) ChangeOrg(ctx context.Context, cmd ChangeOrg) (OrgWritten, error) {
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error {
		if err := t.ChangeOrg(cmd.OrgID, cmd.Change); err != nil || cmd.ParentOrgID == nil {
			return err
		}
		return t.MoveOrg(cmd.OrgID, *cmd.ParentOrgID)
	})
	return OrgWritten{ID: cmd.OrgID, Result: res}, err
}

// RemoveOrg handles RemoveOrg: an org with sub-orgs or members stays
// (409).
func (h *OrgsHandler) RemoveOrg(ctx context.Context, cmd RemoveOrg) (OrgWritten, error) {
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error { return t.RemoveOrg(cmd.OrgID) })
	return OrgWritten{ID: cmd.OrgID, Result: res}, err
}

// orgUIDError refuses uids (or one of them, at index i >= 0): a
// domain.FieldError at ["body", "uids"(, i)].
func orgUIDError(i int, input any, msg string) error {
	loc := []any{"body", "uids"}
	if i >= 0 {
		loc = append(loc, i)
	}
	return &domain.FieldError{Loc: loc, Message: msg, Input: input}
}

// newMembers checks the users of uids (listed once each, in their
// order): each must be an account of the users read model (404 naming
// it) and active (a domain.FieldError naming it).
func (h *OrgsHandler) newMembers(ctx context.Context, uids []int64) ([]int64, error) {
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
	found, err := h.Users.Accounts(ctx, unique)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for _, uid := range unique {
		a, ok := found[uid]
		if !ok {
			return nil, domain.NotFoundf("User %d not found", uid)
		}
		if !a.Active {
			return nil, orgUIDError(first[uid], uid, fmt.Sprintf("User %d (%s) is not active", uid, a.Username))
		}
	}
	return unique, nil
}

// AddMembers handles AddOrgMembers: every user must exist (404) and be
// active (422); one already in the org is 409.
func (h *OrgsHandler) AddMembers(ctx context.Context, cmd AddOrgMembers) (OrgMembersAdded, error) {
	uids, err := h.newMembers(ctx, cmd.UIDs)
	if err != nil {
		return OrgMembersAdded{}, err
	}
	ids, err := nextIDs(ctx, h.IDs, "org_member", len(uids))
	if err != nil {
		return OrgMembersAdded{}, err
	}
	refs := make([]domain.OrgMemberRef, len(uids))
	for i, uid := range uids {
		refs[i] = domain.OrgMemberRef{MemberID: ids[i], UID: uid}
	}
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error {
		return t.AddMembers(cmd.OrgID, refs, cmd.Position, cmd.Job, cmd.IsLeader)
	})
	return OrgMembersAdded{IDs: ids, Result: res}, err
}

// ChangeMember handles ChangeOrgMember.
func (h *OrgsHandler) ChangeMember(ctx context.Context, cmd ChangeOrgMember) (OrgWritten, error) {
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error { return t.ChangeMember(cmd.MemberID, cmd.Change) })
	return OrgWritten{ID: cmd.MemberID, Result: res}, err
}

// RemoveMember handles RemoveOrgMember.
func (h *OrgsHandler) RemoveMember(ctx context.Context, cmd RemoveOrgMember) (OrgWritten, error) {
	res, err := h.ChangeOrgs(ctx, cmd.Tenant, cmd.Meta, func(t *domain.OrgTree) error { return t.RemoveMember(cmd.MemberID) })
	return OrgWritten{ID: cmd.MemberID, Result: res}, err
}
