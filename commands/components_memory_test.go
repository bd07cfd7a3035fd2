package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The component catalogue's system scope, on its own (no database: the
// system scope needs no tenancy lookup): superusers only, a component's
// group must exist, a change of code is a new version and a change of
// nothing records nothing, a by-id write names the entry's scope (404
// elsewhere), and removal.
func TestComponentsHandler_InMemorySystemScope(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.ComponentEvents())
	h := &commands.ComponentsHandler{Repo: repo, IDs: &counter{}}
	ctx := context.Background()
	tenant := tenancy.SystemTenantID
	root := auth.Principal{UserID: 1, IsSuperuser: true}
	user := auth.Principal{UserID: 2}
	system := commands.CatalogAt{Scope: domain.CatalogScopeSystem}

	gs := domain.ComponentGroupSpec{GroupName: "Tools", GroupEnName: "Tools", ComponentType: "component", IsActive: true}
	_, err := h.AddGroup(ctx, commands.AddComponentGroup{Tenant: tenant, Caller: user, Spec: gs})
	assert.ErrorIs(t, err, domain.ErrForbidden, "the system scope is superusers'")
	g, err := h.AddGroup(ctx, commands.AddComponentGroup{Tenant: tenant, Caller: root, Spec: gs})
	require.NoError(t, err)

	spec := domain.ComponentSpec{GroupID: g.ID + 100, ComponentName: "Echo", DisplayName: "Echo", Code: "v1", IsActive: true}
	_, err = h.Add(ctx, commands.AddComponent{Tenant: tenant, Caller: root, Spec: spec})
	assert.ErrorIs(t, err, domain.ErrInvalid, "its group must exist")
	spec.GroupID = g.ID
	c, err := h.Add(ctx, commands.AddComponent{Tenant: tenant, Caller: root, Spec: spec})
	require.NoError(t, err)

	code := "v2"
	_, err = h.Change(ctx, commands.ChangeComponent{Tenant: tenant, Caller: root, ComponentID: c.ID, At: system,
		Change: domain.ComponentChange{Code: &code}})
	require.NoError(t, err)
	same, err := h.Change(ctx, commands.ChangeComponent{Tenant: tenant, Caller: root, ComponentID: c.ID, At: system,
		Change: domain.ComponentChange{Code: &code}})
	require.NoError(t, err)
	assert.True(t, same.Result.Last().IsZero(), "nothing differs: nothing recorded")
	agg := domain.LoadComponent(c.ID)
	require.NoError(t, repo.Load(ctx, agg))
	st, ok := agg.State()
	require.True(t, ok)
	assert.Equal(t, 2, st.Version, "a change of code is a version")
	assert.Equal(t, "v2", st.Code)

	_, err = h.Change(ctx, commands.ChangeComponent{Tenant: tenant, Caller: user, ComponentID: c.ID, At: system,
		Change: domain.ComponentChange{Code: &code}})
	assert.ErrorIs(t, err, domain.ErrForbidden)
	_, err = h.Remove(ctx, commands.RemoveComponent{Tenant: tenant, Caller: root, ComponentID: c.ID,
		At: commands.CatalogAt{Scope: domain.CatalogScopeTenant}})
	assert.ErrorIs(t, err, domain.ErrNotFound, "not where the request says it is")
	_, err = h.Remove(ctx, commands.RemoveComponent{Tenant: tenant, Caller: root, ComponentID: c.ID, At: system})
	require.NoError(t, err)
	_, err = h.Remove(ctx, commands.RemoveComponent{Tenant: tenant, Caller: root, ComponentID: c.ID, At: system})
	assert.ErrorIs(t, err, domain.ErrNotFound)

	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Len(t, all, 4, "group, component, version 2, removal; refusals wrote nothing")
}

// A by-id write reaches a component only as the reads find it: another
// tenant's entry is not found from a tenant (404, nothing written, before
// any permission is asked), while a system entry is reached from any.
func TestComponentsHandler_InMemoryOtherTenantsEntry(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.ComponentEvents())
	h := &commands.ComponentsHandler{Repo: repo, IDs: &counter{}}
	ctx := context.Background()
	root := auth.Principal{UserID: 1, IsSuperuser: true}
	owner, other := uuid.New(), uuid.New()
	at := commands.CatalogAt{Scope: domain.CatalogScopeTenant}
	c := domain.LoadComponent(7)
	require.NoError(t, c.Add(domain.ComponentSpec{TenantID: owner, GroupID: 1, ComponentName: "Echo", DisplayName: "Echo",
		Code: "v1", IsActive: true, Scope: domain.CatalogScopeTenant, Creator: 1}))
	_, err := repo.Save(ctx, c, eventstore.Metadata{TenantID: owner})
	require.NoError(t, err)
	head, err := store.Head(ctx)
	require.NoError(t, err)

	code := "v2"
	_, err = h.Change(ctx, commands.ChangeComponent{Tenant: other, Caller: root, ComponentID: 7, At: at,
		Change: domain.ComponentChange{Code: &code}})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's component")
	_, err = h.Remove(ctx, commands.RemoveComponent{Tenant: other, Caller: root, ComponentID: 7, At: at})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another tenant's component")
	now, err := store.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, head, now, "the refusals wrote nothing")

	sys := domain.LoadComponent(8)
	require.NoError(t, sys.Add(domain.ComponentSpec{TenantID: tenancy.SystemTenantID, GroupID: 1, ComponentName: "Sys",
		DisplayName: "Sys", Code: "v1", IsActive: true, Scope: domain.CatalogScopeSystem, Creator: 1}))
	_, err = repo.Save(ctx, sys, eventstore.Metadata{TenantID: tenancy.SystemTenantID})
	require.NoError(t, err)
	_, err = h.Change(ctx, commands.ChangeComponent{Tenant: other, Caller: root, ComponentID: 8,
		At: commands.CatalogAt{Scope: domain.CatalogScopeSystem}, Change: domain.ComponentChange{Code: &code}})
	assert.NoError(t, err, "a system component is reached from any tenant")
}

// The MCP server registry's rules, on their own (system scope, no
// database): headers sealed before any event, a masked header sent back
// keeps its stored value, names unique at their place, stored headers
// never follow the url to another host, and stdio servers refused while
// the operator has not enabled them.
func TestMCPServersHandler_InMemorySealsAndRefuses(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.MCPServerEvents())
	ring := testRing(t, 9)
	h := &commands.MCPServersHandler{Repo: repo, IDs: &counter{}, Secrets: ring}
	ctx := context.Background()
	tenant := tenancy.SystemTenantID
	root := auth.Principal{UserID: 1, IsSuperuser: true}
	const clear = "Bearer mcp-secret-0042"
	system := domain.CatalogScopeSystem
	fields := commands.MCPServerFields{Scope: &system, URL: ptr("https://mcp.example.com/sse"),
		Headers: &map[string]string{"Authorization": clear}}

	w, err := h.Add(ctx, commands.AddMCPServer{Tenant: tenant, Caller: root, Name: "tools", MCPServerFields: fields})
	require.NoError(t, err)
	_, err = h.Add(ctx, commands.AddMCPServer{Tenant: tenant, Caller: root, Name: "tools", MCPServerFields: fields})
	assert.ErrorIs(t, err, domain.ErrConflict, "a name is unique at its place")
	_, err = h.Change(ctx, commands.ChangeMCPServer{Tenant: tenant, Caller: root, Ref: commands.MCPServerRef{ServerID: w.ID},
		MCPServerFields: commands.MCPServerFields{Headers: &map[string]string{"Authorization": domain.SecretMask}, Note: ptr("kept")}})
	require.NoError(t, err)
	_, e, err := h.Resolve(ctx, tenant, root, commands.MCPServerRef{ServerID: w.ID})
	require.NoError(t, err)
	opened, err := ring.Open(e.Headers["Authorization"], commands.MCPSecretAAD(tenant, w.ID, "headers", "Authorization"))
	require.NoError(t, err)
	assert.Equal(t, clear, string(opened), "the masked value keeps the stored one")

	// The url moves: on the same host the stored headers stay; to another
	// host they must be sent again (a masked or absent value is refused),
	// so whoever may change the entry cannot send them elsewhere.
	ref := commands.MCPServerRef{ServerID: w.ID}
	_, err = h.Change(ctx, commands.ChangeMCPServer{Tenant: tenant, Caller: root, Ref: ref,
		MCPServerFields: commands.MCPServerFields{URL: ptr("https://MCP.example.com/v2/sse")}})
	require.NoError(t, err, "same scheme and host")
	for _, hdrs := range []*map[string]string{nil, {"Authorization": domain.SecretMask}} {
		_, err = h.Change(ctx, commands.ChangeMCPServer{Tenant: tenant, Caller: root, Ref: ref,
			MCPServerFields: commands.MCPServerFields{URL: ptr("https://attacker.example.net/sse"), Headers: hdrs}})
		assert.ErrorIs(t, err, domain.ErrInvalid)
		assert.Contains(t, err.Error(), commands.MsgMCPHeadersNewHost)
	}
	_, err = h.Change(ctx, commands.ChangeMCPServer{Tenant: tenant, Caller: root, Ref: ref,
		MCPServerFields: commands.MCPServerFields{URL: ptr("https://other.example.net/sse"), Headers: &map[string]string{}}})
	require.NoError(t, err, "{} drops the headers: the move is allowed")
	_, e, err = h.Resolve(ctx, tenant, root, ref)
	require.NoError(t, err)
	assert.Empty(t, e.Headers)

	_, err = h.Add(ctx, commands.AddMCPServer{Tenant: tenant, Caller: root, Name: "local",
		MCPServerFields: commands.MCPServerFields{Scope: &system, Command: ptr("uvx"), Args: &[]string{"mcp-server-time"}}})
	assert.ErrorIs(t, err, domain.ErrInvalid, "stdio is off unless the operator enables it")

	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Len(t, all, 4, "the add, the note's change, the same-host move and the move without headers; refusals wrote nothing")
	for _, ev := range all {
		assert.NotContains(t, string(ev.Data), "mcp-secret-0042")
	}
}
