package commands_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// grantSchemas are the events a tenant grants handler reads and writes.
func grantSchemas() [][]domain.Schema {
	return [][]domain.Schema{domain.PermissionEvents(), domain.TenantGrantEvents(), domain.UserGroupEvents(), domain.OrgEvents()}
}

// grantsWorld fills repo with the built-in roles, groups 10 "Ops" … in
// tenant (and group 99 "Elsewhere" in another tenant), and orgs 20 and 21
// both called "Sales" and 22 "Support" in tenant.
func grantsWorld(t *testing.T, repo *commands.Repository, tenant uuid.UUID, groups int) {
	t.Helper()
	ctx := context.Background()
	_, err := commands.SeedPermissions(ctx, repo, eventstore.Metadata{})
	require.NoError(t, err)
	g := domain.LoadUserGroups(tenant)
	require.NoError(t, g.AddGroup(10, "Ops", true, nil))
	for i := 1; i < groups; i++ {
		require.NoError(t, g.AddGroup(int64(10+i), "Group "+string(rune('a'+i)), true, nil))
	}
	_, err = repo.Save(ctx, g, eventstore.Metadata{TenantID: tenant})
	require.NoError(t, err)
	other := domain.LoadUserGroups(uuid.New())
	require.NoError(t, other.AddGroup(99, "Elsewhere", true, nil))
	_, err = repo.Save(ctx, other, eventstore.Metadata{})
	require.NoError(t, err)
	tree := domain.LoadOrgTree(tenant)
	require.NoError(t, tree.AddOrg(20, domain.NewOrg{OrgName: "Sales", IsEnable: true}))
	require.NoError(t, tree.AddOrg(21, domain.NewOrg{OrgName: "sales", ParentOrgID: 20, IsEnable: true}))
	require.NoError(t, tree.AddOrg(22, domain.NewOrg{OrgName: "Support", IsEnable: true}))
	_, err = repo.Save(ctx, tree, eventstore.Metadata{TenantID: tenant})
	require.NoError(t, err)
}

// grantsHandler is a tenant grants handler over a fresh in-memory store
// filled by grantsWorld, with no pool: only the grants to groups and orgs,
// the removals, and the refusals of a user grant before its lookup.
func grantsHandler(t *testing.T, groups int) (*commands.TenantGrantsHandler, *memory.Store, *counter, uuid.UUID) {
	t.Helper()
	repo, store := newMemRepo(t, grantSchemas()...)
	tenant := uuid.New()
	grantsWorld(t, repo, tenant, groups)
	ids := &counter{}
	return &commands.TenantGrantsHandler{Repo: repo, IDs: ids}, store, ids, tenant
}

// Roles granted to groups and orgs of the tenant: by id or by name
// (case-insensitively), the role must be in the catalogue (404), the group
// or org must be the tenant's (404 for another tenant's), a subject holds a
// role once (409), an org name naming two orgs is a field error asking for
// org_id, a request naming no subject is a field error, a relation is
// removed by its own kind only (404 otherwise) and a batch removal ignores
// what is not of its kind. Grants carry the tenant in their metadata;
// refusals append nothing.
func TestTenantGrantsHandler_InMemoryGroupAndOrgGrants(t *testing.T) {
	t.Parallel()
	h, store, _, tenant := grantsHandler(t, 1)
	ctx := context.Background()
	md := eventstore.Metadata{ActorUserID: 3}
	before := countEvents(t, store)

	byID, err := h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "developer", GroupID: ptr(int64(10))})
	require.NoError(t, err)
	_, err = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "developer", GroupName: ptr("OPS")})
	assert.ErrorIs(t, err, domain.ErrConflict, "the same group by name, the same role")
	assert.Contains(t, domainMsg(err), "already has role \"developer\"")
	viewer, err := h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "viewer", GroupName: ptr("ops")})
	require.NoError(t, err)
	org, err := h.AddOrgRole(ctx, commands.AddTenantOrgRole{Tenant: tenant, Meta: md, Role: "viewer", OrgName: ptr("SUPPORT")})
	require.NoError(t, err)

	var fe *domain.FieldError
	_, err = h.AddOrgRole(ctx, commands.AddTenantOrgRole{Tenant: tenant, Meta: md, Role: "viewer", OrgName: ptr("Sales")})
	require.ErrorAs(t, err, &fe, "two orgs are called Sales")
	assert.Equal(t, []any{"body", "org_name"}, fe.Loc)
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "viewer"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []any{"body", "group_id"}, fe.Loc)
	_, err = h.AddOrgRole(ctx, commands.AddTenantOrgRole{Tenant: tenant, Meta: md, Role: "viewer", OrgName: ptr("")})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []any{"body", "org_id"}, fe.Loc)
	_, err = h.AddUserRole(ctx, commands.AddTenantUserRole{Tenant: tenant, Meta: md, Role: "viewer"})
	require.ErrorAs(t, err, &fe, "refused before the users read model is asked")
	assert.Equal(t, []any{"body", "uid"}, fe.Loc)
	_, err = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "viewer", GroupID: ptr(int64(99))})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's group")
	_, err = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "viewer", GroupName: ptr("Elsewhere")})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's group, by name")
	_, err = h.AddOrgRole(ctx, commands.AddTenantOrgRole{Tenant: tenant, Meta: md, Role: "viewer", OrgID: ptr(int64(777))})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Meta: md, Role: "nope", GroupID: ptr(int64(10))})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, `Role "nope" not found`, domainMsg(err))
	_, err = h.RemoveRole(ctx, commands.RemoveTenantRole{Tenant: tenant, Meta: md, Kind: domain.GrantOrg, RelationID: byID.ID})
	assert.ErrorIs(t, err, domain.ErrNotFound, "a group's relation is not an org's")
	assert.Equal(t, "Tenant org role not found", domainMsg(err))
	_, err = h.RemoveRole(ctx, commands.RemoveTenantRole{Tenant: uuid.New(), Meta: md, Kind: domain.GrantGroup, RelationID: byID.ID})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's relation")
	require.Equal(t, before+3, countEvents(t, store), "three grants; the refusals wrote nothing")

	g, err := commands.LoadTenantGrants(ctx, h.Repo, tenant)
	require.NoError(t, err)
	assert.Equal(t, domain.TenantGrantState{ID: byID.ID, Kind: domain.GrantGroup, SubjectID: 10, RoleID: "developer"}, okValue(g.Relation(byID.ID)))
	assert.Equal(t, domain.TenantGrantState{ID: org.ID, Kind: domain.GrantOrg, SubjectID: 22, RoleID: "viewer"}, okValue(g.Relation(org.ID)))
	events, err := store.ReadStream(ctx, domain.TenantGrantsStream(tenant), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	for _, e := range events {
		assert.Equal(t, tenant, e.Metadata.TenantID, "a grant is the tenant's event")
		assert.Equal(t, int64(3), e.Metadata.ActorUserID)
	}

	_, err = h.RemoveRole(ctx, commands.RemoveTenantRole{Tenant: tenant, Meta: md, Kind: domain.GrantGroup, RelationID: byID.ID})
	require.NoError(t, err)
	_, err = h.RemoveRole(ctx, commands.RemoveTenantRole{Tenant: tenant, Meta: md, Kind: domain.GrantGroup, RelationID: byID.ID})
	assert.ErrorIs(t, err, domain.ErrNotFound, "removed once")
	n, err := h.RemoveRoles(ctx, commands.RemoveTenantRoles{Tenant: tenant, Meta: md, Kind: domain.GrantGroup,
		IDs: []int64{viewer.ID, org.ID, byID.ID, 4242}})
	require.NoError(t, err)
	assert.Equal(t, 1, n.Count, "only the group relation still there")
	n, err = h.RemoveRoles(ctx, commands.RemoveTenantRoles{Tenant: tenant, Meta: md, Kind: domain.GrantGroup, IDs: []int64{viewer.ID}})
	require.NoError(t, err)
	assert.Zero(t, n.Count)
	assert.True(t, n.Result.Last().IsZero(), "nothing removed: nothing recorded")
	g, err = commands.LoadTenantGrants(ctx, h.Repo, tenant)
	require.NoError(t, err)
	_, held := g.Holds(domain.GrantOrg, 22, "viewer")
	assert.True(t, held, "the org's relation stays")
	_, held = g.Holds(domain.GrantGroup, 10, "viewer")
	assert.False(t, held)
	assert.Equal(t, before+5, countEvents(t, store))
}

// okValue is v when ok; the zero value otherwise (then the assertion on it
// fails).
func okValue[T any](v T, ok bool) T {
	if !ok {
		var zero T
		return zero
	}
	return v
}

// A tenant's grants share one stream: grants to distinct groups at once all
// land, each with its own relation id allocated once however often its
// write is decided again; grants of one role to one group at once: exactly
// one lands, the others are 409 on the new state.
func TestTenantGrantsHandler_InMemoryConcurrentGrants(t *testing.T) {
	t.Parallel()
	const n = 8
	h, store, ids, tenant := grantsHandler(t, n)
	ctx := context.Background()
	before := countEvents(t, store)

	var wg sync.WaitGroup
	written := make([]commands.TenantGrantWritten, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			written[i], errs[i] = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Role: "developer", GroupID: ptr(int64(10 + i))})
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := range n {
		require.NoError(t, errs[i], "every concurrent grant lands")
		seen[written[i].ID] = true
	}
	assert.Len(t, seen, n, "distinct relation ids")
	assert.Equal(t, int64(n), ids.n.Load(), "one id per grant, not per attempt")
	g, err := commands.LoadTenantGrants(ctx, h.Repo, tenant)
	require.NoError(t, err)
	for i := range n {
		id, held := g.Holds(domain.GrantGroup, int64(10+i), "developer")
		assert.True(t, held)
		assert.Equal(t, written[i].ID, id)
	}

	for i := range n {
		wg.Go(func() {
			_, errs[i] = h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Role: "viewer", GroupID: ptr(int64(10))})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, domain.ErrConflict)
		assert.Contains(t, domainMsg(err), "already has role \"viewer\"")
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, before+n+1, countEvents(t, store))
}

// contendedStore is an in-memory store where every append to one stream
// loses its race (another writer always got there first).
type contendedStore struct {
	*memory.Store
	stream  string
	appends atomic.Int64
}

func (s *contendedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion,
	events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == s.stream {
		s.appends.Add(1)
		return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// A grant that keeps losing its race is decided again as the grants'
// race rule says (domain.Shared: 20 attempts in all), then answered with
// the documented 409 "being changed by other requests" (a domain conflict,
// not the raw lost race); its relation id is allocated once and nothing is
// written.
func TestTenantGrantsHandler_InMemoryBusyIs409(t *testing.T) {
	t.Parallel()
	tenant := uuid.New()
	store := &contendedStore{Store: memory.New(), stream: domain.TenantGrantsStream(tenant)}
	repo := commands.NewRepository(store, newRegistry(t, grantSchemas()...))
	grantsWorld(t, repo, tenant, 1)
	ids := &counter{}
	h := &commands.TenantGrantsHandler{Repo: repo, IDs: ids}
	ctx := context.Background()
	before := countEvents(t, store.Store)

	_, err := h.AddGroupRole(ctx, commands.AddTenantGroupRole{Tenant: tenant, Role: "viewer", GroupID: ptr(int64(10))})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, "The tenant's role grants are being changed by other requests; try again", domainMsg(err))
	_, raw := errors.AsType[*eventstore.WrongExpectedVersionError](err)
	assert.False(t, raw, "the lost race is answered in the domain's words")
	assert.Equal(t, int64(domain.Shared.Attempts), store.appends.Load(), "decided again as the race rule says")
	assert.Equal(t, int64(1), ids.n.Load(), "the relation id is allocated once")
	assert.Equal(t, before, countEvents(t, store.Store), "nothing written")
}
