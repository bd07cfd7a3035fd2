package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
)

// fakeAccounts is commands.MemberAccounts over a list of accounts, the
// lookups of the users read model (ports.MemberAccounts) in memory.
type fakeAccounts []commands.MemberAccount

func (f fakeAccounts) Accounts(_ context.Context, ids []int64) (map[int64]commands.MemberAccount, error) {
	found := map[int64]commands.MemberAccount{}
	for _, a := range f {
		for _, id := range ids {
			if a.ID == id {
				found[id] = a
			}
		}
	}
	return found, nil
}

// AccountNamed: the lowest id of the case-insensitive matches (f is in id
// order).
func (f fakeAccounts) AccountNamed(_ context.Context, name string) (commands.MemberAccount, bool, error) {
	for _, a := range f {
		if strings.EqualFold(a.Username, name) {
			return a, true, nil
		}
	}
	return commands.MemberAccount{}, false, nil
}

// AccountSpelled: the exact spelling first, else AccountNamed.
func (f fakeAccounts) AccountSpelled(ctx context.Context, name string) (commands.MemberAccount, bool, error) {
	for _, a := range f {
		if a.Username == name {
			return a, true, nil
		}
	}
	return f.AccountNamed(ctx, name)
}

var grantAccounts = fakeAccounts{{ID: 1, Username: "bob", Active: true}, {ID: 2, Username: "Bob", Active: true},
	{ID: 3, Username: "idle", Active: false}}

// A user's tenant role through the handler's MemberAccounts: by uid or by
// username (the exact spelling before the lowest id), 404 for an unknown
// user, a field error for an inactive one.
func TestTenantGrantsHandler_InMemoryUserRoles(t *testing.T) {
	t.Parallel()
	h, _, _, tenant := grantsHandler(t, 1)
	h.Users = grantAccounts
	ctx := context.Background()

	_, err := h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", Username: ptr("Bob")})
	require.NoError(t, err)
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", UID: ptr(int64(2))})
	assert.ErrorIs(t, err, domain.ErrConflict, "Bob is user 2")
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", Username: ptr("BOB")})
	require.NoError(t, err, "BOB is user 1, the lowest id")

	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", UID: ptr(int64(9))})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, "User 9 not found", domainMsg(err))
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", Username: ptr("nobody")})
	assert.Equal(t, `User "nobody" not found`, domainMsg(err))
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "viewer", UID: ptr(int64(3))})
	var fe *domain.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []any{"body", "uid"}, fe.Loc)
	assert.Equal(t, "User 3 is not active", fe.Message)
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Role: "nope", UID: ptr(int64(1))})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, `Role "nope" not found`, domainMsg(err))
}

// Orgs and their members with injected ids: an org's id and its new
// members' ids come from IDs (one by one when it has no NextN).
func TestOrgsHandler_InMemoryIDs(t *testing.T) {
	t.Parallel()
	repo, _ := newMemRepo(t, domain.OrgEvents())
	ids := &counter{}
	h := &commands.OrgsHandler{Repo: repo, IDs: ids, Users: grantAccounts}
	ctx := context.Background()
	tenant := uuid.New()

	w, err := h.AddOrg(ctx, commands.AddOrg{Tenant: tenant, Org: domain.NewOrg{OrgName: "Sales", IsEnable: true}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.ID)
	m, err := h.AddMembers(ctx, commands.AddOrgMembers{Tenant: tenant, OrgID: w.ID, UIDs: []int64{2, 1, 2}, Position: "Rep", Job: "Sales"})
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 3}, m.IDs)
	_, err = h.AddMembers(ctx, commands.AddOrgMembers{Tenant: tenant, OrgID: w.ID, UIDs: []int64{3}, Position: "Rep", Job: "Sales"})
	assert.ErrorIs(t, err, domain.ErrInvalid, "user 3 is not active")
	assert.Equal(t, int64(3), ids.n.Load(), "a refused member takes no id")
}
