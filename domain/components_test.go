package domain_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

func ptr[T any](v T) *T { return &v }

// A component's versions: Add is version 1; a change of code or
// component_skill is the next version; other changes are none; a change
// that changes nothing records nothing.
func TestComponent_Versions(t *testing.T) {
	tenant := uuid.New()
	c := domain.LoadComponent(7)
	require.NoError(t, c.Add(domain.ComponentSpec{TenantID: tenant, GroupID: 1, ComponentName: "X", Code: "a", Scope: 1}))
	require.NoError(t, c.Change(domain.ComponentChange{Code: ptr("b"), VersionNote: ptr("second")}))
	require.NoError(t, c.Change(domain.ComponentChange{Note: ptr("n"), Code: ptr("b")}))
	require.NoError(t, c.Change(domain.ComponentChange{ComponentSkill: ptr("s")}))
	require.NoError(t, c.Change(domain.ComponentChange{Note: ptr("n")}))
	evs := c.Root().Pending()
	require.Len(t, evs, 4)
	assert.Equal(t, 2, *evs[1].(domain.ComponentChanged).Version)
	assert.Equal(t, "second", *evs[1].(domain.ComponentChanged).VersionNote)
	assert.Nil(t, evs[2].(domain.ComponentChanged).Version)
	assert.Equal(t, 3, *evs[3].(domain.ComponentChanged).Version)
	s, ok := c.State()
	require.True(t, ok)
	assert.Equal(t, 3, s.Version)
	assert.Error(t, c.Change(domain.ComponentChange{Scope: ptr(2)}), "business scope needs a business")
	require.NoError(t, c.Remove())
	_, ok = c.State()
	assert.False(t, ok)
	assert.ErrorIs(t, c.Change(domain.ComponentChange{Note: ptr("x")}), domain.ErrNotFound)
}

// Groups: component_type and scope are validated; group_en_name is unique
// per place (case-insensitive), free again in another scope.
func TestComponentGroups_Rules(t *testing.T) {
	g := domain.LoadComponentGroups(uuid.New())
	spec := domain.ComponentGroupSpec{GroupName: "G", GroupEnName: "g", ComponentType: "component", Scope: 1}
	require.NoError(t, g.Add(1, spec))
	assert.ErrorIs(t, g.Add(2, domain.ComponentGroupSpec{GroupName: "G", GroupEnName: "G", ComponentType: "bundle", Scope: 1}), domain.ErrConflict)
	assert.ErrorIs(t, g.Add(2, domain.ComponentGroupSpec{GroupName: "G", GroupEnName: "h", ComponentType: "widget", Scope: 1}), domain.ErrInvalid)
	assert.ErrorIs(t, g.Add(2, domain.ComponentGroupSpec{GroupName: "G", GroupEnName: "h", ComponentType: "bundle", Scope: 2}), domain.ErrInvalid)
	require.NoError(t, g.Add(2, domain.ComponentGroupSpec{GroupName: "G", GroupEnName: "g", ComponentType: "bundle", Scope: 2, BusinessID: 5}))
	assert.ErrorIs(t, g.Change(2, domain.ComponentGroupChange{Scope: ptr(1), BusinessID: ptr(int64(0))}), domain.ErrConflict)
	require.NoError(t, g.Remove(1))
	assert.ErrorIs(t, g.Remove(1), domain.ErrNotFound)
}
