package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// countEvents is how many events the in-memory log holds.
func countEvents(t *testing.T, store *memory.Store) int {
	t.Helper()
	all, err := store.ReadAll(context.Background(), eventstore.Position{}, 100_000)
	require.NoError(t, err)
	return len(all)
}

// domainMsg is the client-facing message of a domain error ("" when err
// is not one).
func domainMsg(err error) string {
	if de, ok := errors.AsType[*domain.Error](err); ok {
		return de.Message
	}
	return ""
}

// assertNotSuperuser asserts err is auth.RequireSuperuser's refusal (a
// domain.ErrForbidden).
func assertNotSuperuser(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, domain.ErrForbidden, "want the superuser refusal")
}

// newRegistry knows the event types of schemas (for a repository over a
// store of the test's own).
func newRegistry(t *testing.T, schemas ...[]domain.Schema) *eventstore.Registry {
	t.Helper()
	reg := eventstore.NewRegistry()
	for _, list := range schemas {
		for _, sc := range list {
			require.NoError(t, reg.Register(sc.Event, sc.Version))
		}
	}
	return reg
}

// tenantsHandler is a tenants handler over a fresh in-memory store, with
// no pool: only the paths that never count a tenant's data.
func tenantsHandler(t *testing.T) (*commands.TenantsHandler, *memory.Store) {
	t.Helper()
	repo, store := newMemRepo(t, domain.TenantEvents(), domain.ClaimEvents())
	return &commands.TenantsHandler{Repo: repo}, store
}

// Tenant names are unique platform-wide case-insensitively (their claim is
// appended with the tenant's event), an id is never used twice, invalid
// names and the nil id are refused, a tenant may change the case of its own
// name (no claim moves), a change of nothing records nothing, a rename frees
// the old name, and every tenant event carries the tenant in its metadata.
// Refusals append nothing.
func TestTenantsHandler_InMemoryNamesAndIDs(t *testing.T) {
	t.Parallel()
	h, store := tenantsHandler(t)
	ctx := context.Background()
	md := eventstore.Metadata{ActorUserID: 7}
	acme, beta := uuid.New(), uuid.New()

	w, err := h.Add(ctx, commands.AddTenant{Meta: md, TenantID: acme, TenantName: "Acme", Note: ptr("first")})
	require.NoError(t, err)
	assert.Equal(t, acme, w.ID)
	assert.Len(t, w.Result.Positions, 2, "the tenant and its name's claim, in one append")
	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: beta, TenantName: "Beta"})
	require.NoError(t, err)

	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: uuid.New(), TenantName: "ACME"})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgTenantNameTaken, domainMsg(err), "names are compared case-insensitively")
	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: acme, TenantName: "Other"})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgTenantExists, domainMsg(err))
	for _, name := range []string{"", "   ", strings.Repeat("é", domain.MaxTenantNameLength+1)} {
		_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: uuid.New(), TenantName: name})
		assert.ErrorIs(t, err, domain.ErrInvalid, "name %q", name)
	}
	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: uuid.Nil, TenantName: "Nil"})
	assert.ErrorIs(t, err, domain.ErrInvalid, "the nil id")
	_, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: beta, TenantName: ptr("acme")})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgTenantNameTaken, domainMsg(err))
	_, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: uuid.New(), Note: ptr("x")})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, domain.MsgTenantNotFound, domainMsg(err))
	_, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: beta, TenantName: ptr(" ")})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	require.Equal(t, 4, countEvents(t, store), "two adds; the refusals wrote nothing")

	w, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: acme, TenantName: ptr("ACME")})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 1, "its own name in another case: no claim moves")
	w, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: acme, TenantName: ptr("ACME"), Note: ptr("first"),
		IsActive: ptr(true), IsSys: ptr(false)})
	require.NoError(t, err)
	assert.True(t, w.Result.Last().IsZero(), "nothing differs: nothing recorded")
	w, err = h.Change(ctx, commands.ChangeTenant{Meta: md, TenantID: acme, TenantName: ptr("Gamma")})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 3, "the tenant's change, the new name taken, the old one released")
	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: uuid.New(), TenantName: "acme"})
	require.NoError(t, err, "the old name is free again")
	_, err = h.Add(ctx, commands.AddTenant{Meta: md, TenantID: uuid.New(), TenantName: "gamma"})
	assert.ErrorIs(t, err, domain.ErrConflict, "the new name is held")

	agg := domain.LoadTenant(acme)
	require.NoError(t, h.Repo.Load(ctx, agg))
	note := "first"
	assert.Equal(t, domain.TenantState{TenantName: "Gamma", IsActive: true, Note: &note, TenantID: acme}, agg.State(),
		"is_active defaults to true, is_sys to false")
	events, err := store.ReadStream(ctx, domain.TenantStream(acme), 0, eventstore.MaxRevision)
	require.NoError(t, err)
	require.Len(t, events, 3, "created, the case change, the rename")
	for _, e := range events {
		assert.Equal(t, acme, e.Metadata.TenantID, e.Type)
		assert.Equal(t, int64(7), e.Metadata.ActorUserID, e.Type)
	}
	assert.Equal(t, 10, countEvents(t, store))
}

// is_sys is superusers' (the handler asks, auth.RequireSuperuser): adding a
// system tenant or flipping is_sys without one is refused with 403 and
// writes nothing; sending is_sys at its current value is no change of it
// and needs no superuser. is_active may be false at creation.
func TestTenantsHandler_InMemoryIsSysNeedsSuperuser(t *testing.T) {
	t.Parallel()
	h, store := tenantsHandler(t)
	ctx := context.Background()
	user := auth.WithPrincipal(ctx, auth.Principal{UserID: 2})
	root := auth.WithPrincipal(ctx, auth.Principal{UserID: 1, IsSuperuser: true})

	for _, c := range []context.Context{ctx, user} {
		_, err := h.Add(c, commands.AddTenant{TenantID: uuid.New(), TenantName: "Sys", IsSys: ptr(true)})
		assertNotSuperuser(t, err)
	}
	require.Zero(t, countEvents(t, store))
	sys := uuid.New()
	_, err := h.Add(root, commands.AddTenant{TenantID: sys, TenantName: "Sys", IsSys: ptr(true), IsActive: ptr(false)})
	require.NoError(t, err)
	agg := domain.LoadTenant(sys)
	require.NoError(t, h.Repo.Load(ctx, agg))
	assert.True(t, agg.State().IsSys)
	assert.False(t, agg.State().IsActive)
	assert.False(t, agg.System(), "an is_sys tenant is not the platform's system tenant")

	plain := uuid.New()
	_, err = h.Add(user, commands.AddTenant{TenantID: plain, TenantName: "Plain", IsSys: ptr(false)})
	require.NoError(t, err, "is_sys false needs no superuser")
	before := countEvents(t, store)
	_, err = h.Change(user, commands.ChangeTenant{TenantID: plain, IsSys: ptr(true)})
	assertNotSuperuser(t, err)
	_, err = h.Change(user, commands.ChangeTenant{TenantID: sys, IsSys: ptr(false)})
	assertNotSuperuser(t, err)
	assert.Equal(t, before, countEvents(t, store), "the refusals wrote nothing")
	_, err = h.Change(user, commands.ChangeTenant{TenantID: plain, IsSys: ptr(false), Note: ptr("n")})
	require.NoError(t, err, "is_sys at its current value is no change of it")
	_, err = h.Change(root, commands.ChangeTenant{TenantID: plain, IsSys: ptr(true)})
	require.NoError(t, err)
	agg = domain.LoadTenant(plain)
	require.NoError(t, h.Repo.Load(ctx, agg))
	assert.True(t, agg.State().IsSys)
	assert.Equal(t, before+2, countEvents(t, store))
}

// The system tenant: nodes starting at once create it once (the others
// find it, no error), and it can be neither disabled, nor stop being
// is_sys, nor removed (refused before Remove counts the tenant's data, so
// no pool is asked). Its name held by another tenant is a bootstrap error.
// Removing an unknown tenant is 404.
func TestTenantsHandler_InMemorySystemTenant(t *testing.T) {
	t.Parallel()
	h, store := tenantsHandler(t)
	ctx := context.Background()
	root := auth.WithPrincipal(ctx, auth.Principal{UserID: 1, IsSuperuser: true})
	sys := uuid.New()

	var wg sync.WaitGroup
	created := make([]bool, 8)
	errs := make([]error, len(created))
	for i := range created {
		wg.Go(func() {
			created[i], errs[i] = commands.EnsureSystemTenant(ctx, h.Repo, sys, commands.SystemTenantName, eventstore.Metadata{})
		})
	}
	wg.Wait()
	n := 0
	for i := range created {
		require.NoError(t, errs[i])
		if created[i] {
			n++
		}
	}
	assert.Equal(t, 1, n, "created exactly once")
	again, err := commands.EnsureSystemTenant(ctx, h.Repo, sys, commands.SystemTenantName, eventstore.Metadata{})
	require.NoError(t, err)
	assert.False(t, again)
	require.Equal(t, 2, countEvents(t, store), "the tenant and its name's claim")
	agg := domain.LoadTenant(sys)
	require.NoError(t, h.Repo.Load(ctx, agg))
	assert.True(t, agg.System())
	assert.True(t, agg.State().IsSys)
	assert.True(t, agg.State().IsActive)

	_, err = h.Change(root, commands.ChangeTenant{TenantID: sys, IsActive: ptr(false)})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgSystemTenantOff, domainMsg(err))
	_, err = h.Change(root, commands.ChangeTenant{TenantID: sys, IsSys: ptr(false)})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgSystemTenantNotSys, domainMsg(err))
	_, err = h.Remove(root, commands.RemoveTenant{TenantID: sys})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, domain.MsgSystemTenantRemoved, domainMsg(err))
	_, err = h.Remove(root, commands.RemoveTenant{TenantID: uuid.New()})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, domain.MsgTenantNotFound, domainMsg(err))

	_, err = commands.EnsureSystemTenant(ctx, h.Repo, uuid.New(), "SYSTEM", eventstore.Metadata{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "held by another tenant")
	assert.Equal(t, 2, countEvents(t, store), "the refusals wrote nothing")
}

// Adds racing for one new name: exactly one lands, every other is decided
// again on the claim's new state and refused 409 "Tenant name already
// exists" (never a raw lost race); adds of distinct names at once all land.
func TestTenantsHandler_InMemoryConcurrentAdds(t *testing.T) {
	t.Parallel()
	h, store := tenantsHandler(t)
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.Add(ctx, commands.AddTenant{TenantID: uuid.New(), TenantName: "Race"})
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
		assert.Equal(t, domain.MsgTenantNameTaken, domainMsg(err))
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, 2, countEvents(t, store), "one tenant and its claim")

	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.Add(ctx, commands.AddTenant{TenantID: uuid.New(), TenantName: "T" + string(rune('a'+i))})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "every add of a distinct name lands")
	}
	assert.Equal(t, 2+2*len(errs), countEvents(t, store))
}
