package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

func flPtr[T any](v T) *T { return &v }

// flNew creates a flow of user 7 with some content.
func flNew(t *testing.T, locked bool) *domain.Flow {
	t.Helper()
	project := uuid.New()
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Locked: locked, FSPath: "/p",
		Content: domain.FlowContent{Name: "F", Description: "d", Data: json.RawMessage(`{"nodes": [1]}`),
			Tags: []string{"a"}, EndpointName: "ep", ActionName: "act"},
		Placement: domain.FlowPlacement{ProjectID: &project, BusinessID: 3}})
	require.NoError(t, err)
	return f
}

// flReplay folds the events f recorded into a fresh flow, as a load from
// the stream would.
func flReplay(t *testing.T, f *domain.Flow) *domain.Flow {
	t.Helper()
	fresh := domain.LoadFlow(f.ID())
	for i, e := range f.Root().Pending() {
		fresh.Apply(e)
		fresh.Root().Replayed(uint64(i))
	}
	return fresh
}

// flState is everything a flow shows.
type flState struct {
	ID        uuid.UUID
	UserID    int64
	Content   domain.FlowContent
	Placement domain.FlowPlacement
	Locked    bool
	Deleted   bool
	Versions  []domain.FlowVersionRef
	Online    int64
}

func flStateOf(f *domain.Flow) flState {
	return flState{f.ID(), f.UserID(), f.Content(), f.Placement(), f.Locked(), f.Deleted(), f.Versions(), f.OnlineVersion()}
}

// flPendingSince returns the types of the events f recorded after the first n.
func flPendingSince(f *domain.Flow, n int) []string { return types(f.Root().Pending()[n:]) }

func TestFlow_CreateValidatesAndDefaults(t *testing.T) {
	t.Parallel()
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 1, Content: domain.FlowContent{Name: "x"}})
	require.NoError(t, err)
	assert.Equal(t, domain.AccessPrivate, f.Content().AccessType)
	assert.Equal(t, []string{}, f.Content().Tags)
	assert.True(t, f.Exists())
	assert.Equal(t, []string{"flow.created"}, types(f.Root().Pending()))
	assert.False(t, domain.LoadFlow(uuid.New()).Exists())

	for name, c := range map[string]domain.FlowContent{
		"empty_name":    {},
		"long_name":     {Name: strings.Repeat("n", domain.MaxFlowNameLength+1)},
		"bad_endpoint":  {Name: "x", EndpointName: "a b"},
		"long_endpoint": {Name: "x", EndpointName: strings.Repeat("e", domain.MaxEndpointLength+1)},
		"bad_access":    {Name: "x", AccessType: "X"},
		"bad_data":      {Name: "x", Data: json.RawMessage(`{`)},
	} {
		_, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 1, Content: c})
		assert.ErrorIs(t, err, domain.ErrInvalid, name)
	}
	_, err = domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 1,
		Content: domain.FlowContent{Name: strings.Repeat("é", domain.MaxFlowNameLength)}})
	assert.NoError(t, err, "the limit counts characters")
}

func TestFlow_EditRecordsOneEventPerKind(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	other := uuid.New()
	placement := f.Placement()
	placement.ProjectID = &other
	require.NoError(t, f.Edit(domain.FlowChange{
		Name: flPtr("G"), Description: flPtr("e"), Icon: flPtr("i"),
		Data:         json.RawMessage(`{"nodes":[2]}`),
		EndpointName: flPtr("ep2"), Webhook: flPtr(true), FSPath: flPtr("/q"),
		Tags:       &[]string{"b", "c"},
		AccessType: flPtr(domain.AccessPublic),
		MCPEnabled: flPtr(true), ActionDescription: flPtr("does"),
		Placement: &placement,
		Locked:    flPtr(true),
	}))
	assert.Equal(t, []string{"flow.details_changed", "flow.data_changed", "flow.settings_changed", "flow.tags_changed",
		"flow.access_changed", "flow.mcp_changed", "flow.moved", "flow.lock_changed"}, flPendingSince(f, 1))
	ev := f.Root().Pending()
	assert.Equal(t, domain.FlowDetailsChanged{FlowID: f.ID(), Name: flPtr("G"), Description: flPtr("e"), Icon: flPtr("i")}, ev[1],
		"only the changed details")
	assert.Equal(t, domain.FlowSettingsChanged{FlowID: f.ID(), EndpointName: flPtr("ep2"), Webhook: flPtr(true), FSPath: flPtr("/q")}, ev[3])
	assert.Equal(t, domain.FlowMCPChanged{FlowID: f.ID(), MCPEnabled: flPtr(true), ActionDescription: flPtr("does")}, ev[6])
	c := f.Content()
	assert.Equal(t, "G", c.Name)
	assert.Equal(t, []string{"b", "c"}, c.Tags)
	assert.Equal(t, "act", c.ActionName, "untouched fields stay")
	assert.True(t, f.Locked())

	// Each kind alone records just its event.
	g := flNew(t, false)
	for _, step := range []struct {
		change domain.FlowChange
		want   string
	}{
		{domain.FlowChange{FlowSkill: flPtr("s")}, "flow.details_changed"},
		{domain.FlowChange{Data: json.RawMessage(`[]`)}, "flow.data_changed"},
		{domain.FlowChange{IsHold: flPtr(true)}, "flow.settings_changed"},
		{domain.FlowChange{Tags: &[]string{}}, "flow.tags_changed"},
		{domain.FlowChange{AccessType: flPtr(domain.AccessRestricted)}, "flow.access_changed"},
		{domain.FlowChange{ActionName: flPtr("other")}, "flow.mcp_changed"},
		{domain.FlowChange{Placement: &domain.FlowPlacement{OrgID: 9}}, "flow.moved"},
		{domain.FlowChange{Deleted: flPtr(true)}, "flow.deleted"},
		{domain.FlowChange{Deleted: flPtr(false)}, "flow.restored"},
	} {
		n := len(g.Root().Pending())
		require.NoError(t, g.Edit(step.change))
		assert.Equal(t, []string{step.want}, flPendingSince(g, n), step.want)
	}
}

func TestFlow_EditRecordsNothingForUnchangedValues(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	c := f.Content()
	p := f.Placement()
	require.NoError(t, f.Edit(domain.FlowChange{}))
	require.NoError(t, f.Edit(domain.FlowChange{
		Name: flPtr(c.Name), Description: flPtr(c.Description), FlowSkill: flPtr(""), Icon: flPtr(""), IconBgColor: flPtr(""),
		Gradient: flPtr(""), Data: json.RawMessage("{ \"nodes\" : [ 1 ] }"), EndpointName: flPtr("ep"), FlowType: flPtr(""),
		FSPath: flPtr("/p"), Webhook: flPtr(false), IsComponent: flPtr(false), IsHold: flPtr(false), IsEndpoint: flPtr(false),
		Tags: &[]string{"a"}, AccessType: flPtr(domain.AccessPrivate), MCPEnabled: flPtr(false), ActionName: flPtr("act"),
		ActionDescription: flPtr(""), Placement: &p, Locked: flPtr(false), Deleted: flPtr(false),
	}))
	assert.Equal(t, []string{"flow.created"}, types(f.Root().Pending()), "same values (JSON whitespace aside) record nothing")

	// A refused edit records nothing and changes nothing.
	for _, ch := range []domain.FlowChange{
		{Name: flPtr(""), Description: flPtr("new")},
		{EndpointName: flPtr("a b"), Tags: &[]string{"z"}},
		{AccessType: flPtr("X")},
		{Data: json.RawMessage(`{"a":`)},
	} {
		assert.ErrorIs(t, f.Edit(ch), domain.ErrInvalid)
	}
	assert.Equal(t, []string{"flow.created"}, types(f.Root().Pending()))
	assert.Equal(t, c, f.Content())
}

func TestFlow_Versions(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	v1, err := f.CreateVersion("1.0", "first")
	require.NoError(t, err)
	assert.Equal(t, domain.FlowVersionRef{ID: 1, Version: "1.0", Note: "first", Revision: 1}, v1)
	require.NoError(t, f.Edit(domain.FlowChange{Name: flPtr("G"), Data: json.RawMessage(`{}`)}))
	v2, err := f.CreateVersion("1.1", "")
	require.NoError(t, err)
	assert.Equal(t, domain.FlowVersionRef{ID: 2, Version: "1.1", Revision: 4}, v2, "revision: the event's place in the stream")
	assert.Equal(t, []domain.FlowVersionRef{v1, v2}, f.Versions())

	_, err = f.CreateVersion("1.0", "")
	assert.ErrorIs(t, err, domain.ErrConflict, "version strings are unique per flow")
	_, err = f.CreateVersion("", "")
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = f.CreateVersion(strings.Repeat("v", domain.MaxVersionLength+1), "")
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = f.CreateVersion("2", strings.Repeat("n", domain.MaxVersionNoteLength+1))
	assert.ErrorIs(t, err, domain.ErrInvalid)
	assert.Len(t, f.Versions(), 2, "refused versions record nothing")

	got, ok := f.Version(2)
	assert.True(t, ok)
	assert.Equal(t, v2, got)
	_, ok = f.Version(3)
	assert.False(t, ok)
	got, ok = f.VersionByName("1.0")
	assert.True(t, ok)
	assert.Equal(t, v1, got)

	// Ids keep counting on a replayed flow.
	r := flReplay(t, f)
	v3, err := r.CreateVersion("2.0", "")
	require.NoError(t, err)
	assert.Equal(t, int64(3), v3.ID)
	assert.Equal(t, uint64(5), v3.Revision)
}

func TestFlow_PublishTakeOfflineRollback(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	assert.ErrorIs(t, f.Publish(1), domain.ErrNotFound, "no such version")
	assert.ErrorIs(t, f.TakeOffline(), domain.ErrConflict, "nothing online")
	v1content := f.Content()
	_, err := f.CreateVersion("1.0", "")
	require.NoError(t, err)
	require.NoError(t, f.Edit(domain.FlowChange{Name: flPtr("G"), Tags: &[]string{"z"}}))
	_, err = f.CreateVersion("2.0", "")
	require.NoError(t, err)

	n := len(f.Root().Pending())
	require.NoError(t, f.Publish(1))
	assert.Equal(t, int64(1), f.OnlineVersion())
	require.NoError(t, f.Publish(1))
	assert.Equal(t, []string{"flow.version_published"}, flPendingSince(f, n), "publishing the online version again records nothing")
	require.NoError(t, f.Publish(2))
	assert.Equal(t, domain.FlowVersionPublished{FlowID: f.ID(), VersionID: 2, Version: "2.0"}, f.Root().Pending()[n+1])
	assert.ErrorIs(t, f.Publish(3), domain.ErrNotFound)
	assert.Equal(t, int64(2), f.OnlineVersion())

	require.NoError(t, f.TakeOffline())
	assert.Equal(t, domain.FlowTakenOffline{FlowID: f.ID(), VersionID: 2}, f.Root().Pending()[n+2])
	assert.Equal(t, int64(0), f.OnlineVersion())
	assert.ErrorIs(t, f.TakeOffline(), domain.ErrConflict)

	assert.ErrorIs(t, f.Rollback(9, v1content), domain.ErrNotFound)
	n = len(f.Root().Pending())
	require.NoError(t, f.Rollback(1, v1content))
	assert.Equal(t, []string{"flow.rolled_back"}, flPendingSince(f, n))
	assert.Equal(t, v1content, f.Content())
	assert.Len(t, f.Versions(), 2, "a rollback keeps the versions")
	assert.Equal(t, v1content, flReplay(t, f).Content())
}

func TestFlow_LockedRules(t *testing.T) {
	t.Parallel()
	f := flNew(t, true)
	c := f.Content()
	for name, ch := range map[string]domain.FlowChange{
		"data":           {Data: json.RawMessage(`{"x":1}`)},
		"name":           {Name: flPtr("other")},
		"tags":           {Tags: &[]string{}},
		"lock_and_edit":  {Locked: flPtr(true), Description: flPtr("x")},
		"delete":         {Deleted: flPtr(true)},
		"access":         {AccessType: flPtr(domain.AccessPublic)},
		"mcp":            {MCPEnabled: flPtr(true)},
		"settings":       {Webhook: flPtr(true)},
		"unchanged+data": {Name: flPtr(c.Name), Data: json.RawMessage(`{"y":2}`)},
	} {
		err := f.Edit(ch)
		require.ErrorIs(t, err, domain.ErrLocked, name)
		assert.EqualError(t, err, "Flow is locked. Unlock it before making changes.", name)
	}
	assert.Equal(t, []string{"flow.created"}, types(f.Root().Pending()), "refused edits record nothing")
	assert.Equal(t, c, f.Content())

	// Identical values (a client sending the flow back) are no change.
	require.NoError(t, f.Edit(domain.FlowChange{Name: flPtr(c.Name), Data: json.RawMessage(`{"nodes":[1]}`), Locked: flPtr(true)}))
	assert.Equal(t, []string{"flow.created"}, types(f.Root().Pending()))

	// A lock guards what the flow is, not where it lives: a move passes.
	require.NoError(t, f.Edit(domain.FlowChange{Placement: &domain.FlowPlacement{OrgID: 1}}))
	assert.Equal(t, []string{"flow.moved"}, flPendingSince(f, 1))

	// Unlocking with changes in one edit.
	require.NoError(t, f.Edit(domain.FlowChange{Locked: flPtr(false), Name: flPtr("x")}))
	assert.Equal(t, []string{"flow.details_changed", "flow.lock_changed"}, flPendingSince(f, 2))
	assert.False(t, f.Locked())
	assert.Equal(t, "x", f.Content().Name)
	// Locking with changes in one edit: the flow was unlocked when asked.
	require.NoError(t, f.Edit(domain.FlowChange{Locked: flPtr(true), Name: flPtr("y")}))
	assert.True(t, f.Locked())
	assert.Equal(t, "y", f.Content().Name)
}

func TestFlow_Delete(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	require.NoError(t, f.Delete())
	assert.True(t, f.Deleted())
	err := f.Delete()
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.EqualError(t, err, "Flow not found")
	require.NoError(t, f.Edit(domain.FlowChange{Deleted: flPtr(false)}))
	assert.False(t, f.Deleted())
	assert.Equal(t, []string{"flow.created", "flow.deleted", "flow.restored"}, types(f.Root().Pending()))
}

// Folding the recorded events into a fresh flow gives the same flow, at
// every step of a mixed history.
func TestFlow_ReplayGivesTheSameState(t *testing.T) {
	t.Parallel()
	f := flNew(t, false)
	check := func(step string) {
		t.Helper()
		assert.Equal(t, flStateOf(f), flStateOf(flReplay(t, f)), step)
	}
	check("created")
	v1 := f.Content()
	_, err := f.CreateVersion("1", "n")
	require.NoError(t, err)
	check("version 1")
	other := uuid.New()
	require.NoError(t, f.Edit(domain.FlowChange{Name: flPtr("G"), Gradient: flPtr("g"), IconBgColor: flPtr("#000"),
		Data: json.RawMessage(`{"v":2}`), FlowType: flPtr("chat"), IsComponent: flPtr(true), IsEndpoint: flPtr(true),
		Tags: &[]string{"t"}, AccessType: flPtr(domain.AccessRestricted), MCPEnabled: flPtr(true), ActionName: flPtr("a2"),
		Placement: &domain.FlowPlacement{ProjectID: &other, TenantID: &other, BusinessID: 1, OrgID: 2, IsSelf: true}}))
	check("edited")
	_, err = f.CreateVersion("2", "")
	require.NoError(t, err)
	require.NoError(t, f.Publish(1))
	check("published")
	require.NoError(t, f.Edit(domain.FlowChange{Locked: flPtr(true)}))
	require.NoError(t, f.Edit(domain.FlowChange{Locked: flPtr(false), Deleted: flPtr(true)}))
	check("locked, unlocked, deleted")
	require.NoError(t, f.Edit(domain.FlowChange{Deleted: flPtr(false)}))
	require.NoError(t, f.Rollback(1, v1))
	require.NoError(t, f.Publish(2))
	require.NoError(t, f.TakeOffline())
	check("restored, rolled back, republished, offline")
	r := flReplay(t, f)
	assert.Equal(t, v1, r.Content())
	rev, ok := r.Root().Revision()
	assert.True(t, ok)
	assert.Equal(t, uint64(len(f.Root().Pending())-1), rev)
}
