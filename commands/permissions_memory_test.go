package commands_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// seededPermissions is a permission catalogue handler over a fresh
// in-memory store holding the built-in catalogue, and a superuser's context.
func seededPermissions(t *testing.T) (*commands.PermissionsHandler, *memory.Store, context.Context) {
	t.Helper()
	repo, store := newMemRepo(t, domain.PermissionEvents())
	n, err := commands.SeedPermissions(context.Background(), repo, eventstore.Metadata{})
	require.NoError(t, err)
	require.Positive(t, n)
	root := auth.WithPrincipal(context.Background(), auth.Principal{UserID: 1, IsSuperuser: true})
	return &commands.PermissionsHandler{Repo: repo}, store, root
}

// loadCatalogue folds the permission catalogue.
func loadCatalogue(t *testing.T, repo *commands.Repository) *domain.PermissionCatalogue {
	t.Helper()
	cat := domain.NewPermissionCatalogue()
	require.NoError(t, repo.Load(context.Background(), cat))
	return cat
}

// Only superusers change the catalogue: every command of a caller who is
// not one, or of no caller, is 403 with the superuser rule's words, and
// writes nothing. The seed appends only what is missing (a second seed
// writes nothing).
func TestPermissionsHandler_InMemorySuperusersOnly(t *testing.T) {
	t.Parallel()
	h, store, _ := seededPermissions(t)
	seeded := countEvents(t, store)
	n, err := commands.SeedPermissions(context.Background(), h.Repo, eventstore.Metadata{})
	require.NoError(t, err)
	assert.Zero(t, n, "the seed appends only what is missing")

	for _, ctx := range []context.Context{context.Background(), auth.WithPrincipal(context.Background(), auth.Principal{UserID: 2})} {
		calls := map[string]func() error{
			"AddPriv": func() error {
				_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "export", PrivName: "Export"})
				return err
			},
			"ChangePriv": func() error {
				_, err := h.ChangePriv(ctx, commands.ChangePermPriv{ModuleID: "flows", PrivID: "read",
					Change: domain.PermPrivChange{PrivName: ptr("See")}})
				return err
			},
			"RemovePriv": func() error {
				_, err := h.RemovePriv(ctx, commands.RemovePermPriv{ModuleID: "flows", PrivID: "run"})
				return err
			},
			"AddRole": func() error {
				_, err := h.AddRole(ctx, commands.AddPermRole{RoleID: "auditor", RoleName: "Auditor"})
				return err
			},
			"ChangeRole": func() error {
				_, err := h.ChangeRole(ctx, commands.ChangePermRole{RoleID: "viewer", RoleName: ptr("Reader")})
				return err
			},
			"RemoveRole": func() error {
				_, err := h.RemoveRole(ctx, commands.RemovePermRole{RoleID: "viewer"})
				return err
			},
			"AddRolePriv": func() error {
				_, err := h.AddRolePriv(ctx, commands.AddPermRolePriv{RoleID: "viewer", ModuleID: "flows", PrivID: "run"})
				return err
			},
			"RemoveRolePriv": func() error {
				_, err := h.RemoveRolePriv(ctx, commands.RemovePermRolePriv{RoleID: "viewer", ModuleID: "flows", PrivID: "read"})
				return err
			},
		}
		for name, call := range calls {
			err := call()
			assert.ErrorIs(t, err, domain.ErrForbidden, name)
			assert.Equal(t, commands.MsgPermSuperuser, domainMsg(err), name)
		}
	}
	assert.Equal(t, seeded, countEvents(t, store), "the refusals wrote nothing")
}

// The catalogue's rules through its use cases: privileges need a known
// module, a valid id and type, default to READ and are never system ones
// when added by hand; duplicates are 409; a system privilege keeps its
// type (its name may change); a privilege a role holds is not removed
// (409 naming the roles); system roles are neither removed nor given
// privileges; a custom role is removed with its items; is_sys flags never
// flip. Refusals append nothing.
func TestPermissionsHandler_InMemoryCatalogueRules(t *testing.T) {
	t.Parallel()
	h, store, ctx := seededPermissions(t)
	before := countEvents(t, store)

	refusals := []struct {
		name string
		kind error
		err  func() error
	}{
		{"unknown module", domain.ErrNotFound, func() error {
			_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "nope", PrivID: "x", PrivName: "X"})
			return err
		}},
		{"bad priv_id", domain.ErrInvalid, func() error {
			_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "bad id", PrivName: "X"})
			return err
		}},
		{"bad priv_opr_type", domain.ErrInvalid, func() error {
			_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "x", PrivName: "X", PrivOprType: ptr("EXECUTE")})
			return err
		}},
		{"system priv by hand", domain.ErrInvalid, func() error {
			_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "x", PrivName: "X", IsSysPriv: true})
			return err
		}},
		{"duplicate priv", domain.ErrConflict, func() error {
			_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "read", PrivName: "Read"})
			return err
		}},
		{"system priv's type", domain.ErrConflict, func() error {
			_, err := h.ChangePriv(ctx, commands.ChangePermPriv{ModuleID: "flows", PrivID: "read",
				Change: domain.PermPrivChange{PrivOprType: ptr(domain.PrivWrite)}})
			return err
		}},
		{"system priv removed", domain.ErrConflict, func() error {
			_, err := h.RemovePriv(ctx, commands.RemovePermPriv{ModuleID: "flows", PrivID: "read"})
			return err
		}},
		{"system role by hand", domain.ErrInvalid, func() error {
			_, err := h.AddRole(ctx, commands.AddPermRole{RoleID: "boss", RoleName: "Boss", IsSysRole: true})
			return err
		}},
		{"bad role_id", domain.ErrInvalid, func() error {
			_, err := h.AddRole(ctx, commands.AddPermRole{RoleID: "Bad Role", RoleName: "Bad"})
			return err
		}},
		{"duplicate role", domain.ErrConflict, func() error {
			_, err := h.AddRole(ctx, commands.AddPermRole{RoleID: "viewer", RoleName: "Viewer"})
			return err
		}},
		{"system role's flag", domain.ErrConflict, func() error {
			_, err := h.ChangeRole(ctx, commands.ChangePermRole{RoleID: "viewer", IsSysRole: ptr(false)})
			return err
		}},
		{"system role removed", domain.ErrConflict, func() error {
			_, err := h.RemoveRole(ctx, commands.RemovePermRole{RoleID: "viewer"})
			return err
		}},
		{"system role's items", domain.ErrConflict, func() error {
			_, err := h.AddRolePriv(ctx, commands.AddPermRolePriv{RoleID: "viewer", ModuleID: "flows", PrivID: "run"})
			return err
		}},
		{"unknown role", domain.ErrNotFound, func() error {
			_, err := h.ChangeRole(ctx, commands.ChangePermRole{RoleID: "nobody", RoleName: ptr("N")})
			return err
		}},
	}
	for _, r := range refusals {
		assert.ErrorIs(t, r.err(), r.kind, r.name)
	}
	require.Equal(t, before, countEvents(t, store), "the refusals wrote nothing")

	_, err := h.AddPriv(ctx, commands.AddPermPriv{ModuleID: "flows", PrivID: "export", PrivName: "Export"})
	require.NoError(t, err)
	_, err = h.ChangePriv(ctx, commands.ChangePermPriv{ModuleID: "flows", PrivID: "read",
		Change: domain.PermPrivChange{PrivName: ptr("See"), IsSysPriv: ptr(true)}})
	require.NoError(t, err, "a system privilege's name may change; is_sys_priv may repeat its value")
	_, err = h.AddRole(ctx, commands.AddPermRole{RoleID: "auditor", RoleName: "Auditor"})
	require.NoError(t, err)
	_, err = h.AddRolePriv(ctx, commands.AddPermRolePriv{RoleID: "auditor", ModuleID: "flows", PrivID: "export"})
	require.NoError(t, err)
	_, err = h.AddRolePriv(ctx, commands.AddPermRolePriv{RoleID: "auditor", ModuleID: "flows", PrivID: "export"})
	assert.ErrorIs(t, err, domain.ErrConflict, "a role holds a privilege once")
	_, err = h.RemovePriv(ctx, commands.RemovePermPriv{ModuleID: "flows", PrivID: "export"})
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Contains(t, domainMsg(err), "still held by roles: auditor")

	cat := loadCatalogue(t, h.Repo)
	p, ok := cat.Priv("flows", "export")
	require.True(t, ok)
	assert.Equal(t, domain.PermPrivState{ModuleID: "flows", PrivID: "export", PrivName: "Export", PrivOprType: domain.PrivRead}, p,
		"a privilege added without a type reads")
	p, _ = cat.Priv("flows", "read")
	assert.Equal(t, "See", p.PrivName)
	assert.True(t, p.IsSysPriv)
	assert.True(t, cat.HasItem("auditor", "flows", "export"))

	w, err := h.RemoveRole(ctx, commands.RemovePermRole{RoleID: "auditor"})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 1, "one event removes the role with its items")
	_, err = h.RemovePriv(ctx, commands.RemovePermPriv{ModuleID: "flows", PrivID: "export"})
	require.NoError(t, err, "held by no role any more")
	_, err = h.RemoveRolePriv(ctx, commands.RemovePermRolePriv{RoleID: "auditor", ModuleID: "flows", PrivID: "export"})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	cat = loadCatalogue(t, h.Repo)
	_, ok = cat.Role("auditor")
	assert.False(t, ok)
	assert.False(t, cat.HasItem("auditor", "flows", "export"))
	_, ok = cat.Priv("flows", "export")
	assert.False(t, ok)
	assert.Equal(t, before+6, countEvents(t, store), "add priv, rename, add role, add item, remove role, remove priv")
}

// The catalogue is one stream every write shares: concurrent writers of
// distinct roles all land (lost races decided again), and of one role
// exactly one lands while the others are decided again on the new state and
// told 409 "already exists" (never the raw lost race).
func TestPermissionsHandler_InMemoryConcurrentWriters(t *testing.T) {
	t.Parallel()
	h, store, ctx := seededPermissions(t)
	before := countEvents(t, store)

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			id := "role-" + string(rune('a'+i))
			_, errs[i] = h.AddRole(ctx, commands.AddPermRole{RoleID: id, RoleName: id})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "every concurrent writer lands")
	}
	cat := loadCatalogue(t, h.Repo)
	for i := range errs {
		_, ok := cat.Role("role-" + string(rune('a'+i)))
		assert.True(t, ok)
	}

	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.AddRole(ctx, commands.AddPermRole{RoleID: "dup", RoleName: "Dup"})
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
		assert.Equal(t, `Role "dup" already exists`, domainMsg(err))
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, before+len(errs)+1, countEvents(t, store))
}
