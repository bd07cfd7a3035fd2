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

// deny is a request's access that grants nothing.
type deny struct{}

func (deny) Authorize(context.Context, uuid.UUID, int64) error { return domain.Forbiddenf("no") }
func (deny) Readable(context.Context, uuid.UUID) (tenancy.Scope, error) {
	return tenancy.Scope{}, nil
}
func (deny) Place(context.Context, uuid.UUID, int64) error      { return domain.Forbiddenf("no") }
func (deny) Tenants(context.Context) ([]uuid.UUID, bool, error) { return nil, false, nil }

// seeNone is a read side that shows no template to anyone but its creator.
type seeNone struct{}

func (seeNone) TemplateVisible(context.Context, auth.Principal, uuid.UUID) (bool, error) {
	return false, nil
}

// The flows' and templates' use cases on the in-memory store, with no HTTP:
// a flow is renamed, versioned, published and rolled back, another user's
// flow does not exist for a caller without the privilege where it lives,
// and a template's refusals carry their kind (a misplaced business_id is a
// field error at body.business_id).
func TestFlowsAndTemplates_InMemory(t *testing.T) {
	t.Parallel()
	repo, _ := newMemRepo(t, domain.FlowEvents(), domain.FlowTemplateEvents(), domain.ClaimEvents())
	ctx := context.Background()
	owner, other := auth.Principal{UserID: 1}, auth.Principal{UserID: 2}
	md := eventstore.Metadata{ActorUserID: owner.UserID}
	id := uuid.New()
	f, err := domain.CreateFlow(id, domain.NewFlow{UserID: owner.UserID, Content: domain.FlowContent{Name: "first"}})
	require.NoError(t, err)
	_, err = repo.Save(ctx, f, md)
	require.NoError(t, err)

	flows := &commands.Flows{Repo: repo}
	w, err := flows.Update(ctx, commands.UpdateFlow{Caller: owner, Meta: md, ID: id, Change: commands.FlowUpdate{Name: ptr("second")}})
	require.NoError(t, err)
	assert.False(t, w.Result.Last().IsZero())
	v, err := flows.CreateVersion(ctx, commands.CreateFlowVersion{Caller: owner, Meta: md, FlowID: id, Version: "v1"})
	require.NoError(t, err)
	assert.Equal(t, int64(1), v.Version)
	_, err = flows.Publish(ctx, commands.FlowVersionRef{Caller: owner, Meta: md, FlowID: id, VersionID: v.Version})
	require.NoError(t, err)
	_, err = flows.Update(ctx, commands.UpdateFlow{Caller: owner, Meta: md, ID: id, Change: commands.FlowUpdate{Name: ptr("third")}})
	require.NoError(t, err)
	_, err = flows.Rollback(ctx, commands.FlowVersionRef{Caller: owner, Meta: md, FlowID: id, VersionID: v.Version})
	require.NoError(t, err)
	_, err = flows.Rollback(ctx, commands.FlowVersionRef{Caller: owner, Meta: md, FlowID: id, VersionID: 9})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	got, err := commands.LoadOwnFlow(ctx, repo, owner, id)
	require.NoError(t, err)
	assert.Equal(t, "second", got.Content().Name, "rolled back to the version's name")
	assert.Equal(t, int64(1), got.OnlineVersion())

	denied := tenancy.WithAuthorizer(ctx, deny{})
	_, err = flows.Delete(denied, commands.FlowRef{Caller: other, Meta: md, ID: id})
	assert.ErrorIs(t, err, domain.ErrNotFound, "another user's flow does not exist for the caller")

	templates := &commands.Templates{Repo: repo, Reads: seeNone{}}
	_, err = templates.Create(ctx, commands.CreateTemplate{Caller: owner, Meta: md, FlowID: id, Name: "t", Scope: ptr(domain.TemplateScopeBusiness)})
	var fe *domain.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []any{"body", "business_id"}, fe.Loc)
	_, err = templates.Create(ctx, commands.CreateTemplate{Caller: owner, Meta: md, FlowID: id, Name: "t", Scope: ptr(domain.TemplateScopeSystem)})
	assert.ErrorIs(t, err, domain.ErrForbidden)
	tw, err := templates.Create(ctx, commands.CreateTemplate{Caller: owner, Meta: md, FlowID: id, Name: "t"})
	require.NoError(t, err)
	_, err = templates.Update(denied, commands.UpdateTemplate{Caller: other, Meta: md, ID: tw.ID, Name: ptr("u")})
	assert.ErrorIs(t, err, domain.ErrNotFound, "an invisible template is not found")
	_, err = templates.Delete(ctx, commands.DeleteTemplate{Caller: owner, Meta: md, ID: tw.ID})
	require.NoError(t, err)

	w, err = flows.Delete(ctx, commands.FlowRef{Caller: owner, Meta: md, ID: id})
	require.NoError(t, err)
	assert.False(t, w.Result.Last().IsZero())
}
