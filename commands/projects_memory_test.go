package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// The projects' use cases need the read model (a *pgxpool.Pool) to pick a
// free name (Add, Upload) and to list a project's flows (Remove); the
// tests here stay on the paths that decide before reaching it, with a nil
// Pool (a path that did reach it would panic, failing the test).

// logTypes lists the event types of the whole log, in order.
func logTypes(t *testing.T, store *memory.Store) []string {
	t.Helper()
	all, err := store.ReadAll(context.Background(), eventstore.Position{}, 10000)
	require.NoError(t, err)
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = e.Type
	}
	return out
}

// logLen is the number of events in the log.
func logLen(t *testing.T, store *memory.Store) int { t.Helper(); return len(logTypes(t, store)) }

// seedFlow saves a new flow of user as the log has it (no name claim:
// seed names are never reused), placed as pl.
func seedFlow(t *testing.T, repo *commands.Repository, user int64, name string, pl domain.FlowPlacement, locked bool) uuid.UUID {
	t.Helper()
	id := uuid.New()
	f, err := domain.CreateFlow(id, domain.NewFlow{UserID: user, Content: domain.FlowContent{Name: name}, Placement: pl, Locked: locked})
	require.NoError(t, err)
	_, err = repo.Save(context.Background(), f, eventstore.Metadata{ActorUserID: user, OccurredAt: time.Now().UTC()})
	require.NoError(t, err)
	return id
}

// seedProject saves a project of user under a throwaway name (no claim)
// and, when name is given, renames it through the handler, which takes the
// name's claim as every write does.
func seedProject(t *testing.T, h *commands.ProjectsHandler, user int64, name string, isDefault bool) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if isDefault {
		id = domain.DefaultProjectID(user)
	}
	p, err := domain.CreateProject(id, domain.NewProject{UserID: user, IsDefault: isDefault,
		Fields: domain.ProjectFields{Name: "seed-" + id.String(), IsEnable: true}})
	require.NoError(t, err)
	_, err = h.Repo.Save(ctx, p, eventstore.Metadata{ActorUserID: user})
	require.NoError(t, err)
	if name != "" {
		_, err = h.Change(ctx, commands.ChangeProject{Caller: auth.Principal{UserID: user}, ProjectID: id,
			Change: domain.ProjectChange{Name: ptr(name)}})
		require.NoError(t, err)
	}
	return id
}

// projectsHandler is a projects handler over a fresh in-memory log.
func projectsHandler(t *testing.T) (*commands.ProjectsHandler, *memory.Store) {
	t.Helper()
	repo, store := newMemRepo(t, domain.ProjectEvents(), domain.FlowEvents(), domain.ClaimEvents())
	return &commands.ProjectsHandler{Repo: repo, Flows: &commands.Flows{Repo: repo}}, store
}

// projectRefusal asserts err is a *commands.ProjectRefusal of kind and
// message msg (ports answer it 400 with msg).
func projectRefusal(t *testing.T, err error, kind error, msg string) {
	t.Helper()
	var r *commands.ProjectRefusal
	require.ErrorAs(t, err, &r)
	assert.ErrorIs(t, err, kind)
	assert.Equal(t, msg, r.Msg)
}

// The projects' refusals that are decided before any read model is asked:
// a blank name (422), an upload with no flows or with a flow that fails
// its check (Upload checks every flow before writing), another user's or
// an unknown project is not found (404) for Change and Remove, and the
// default project is not deleted (a 400 ProjectRefusal). None of them
// appends anything.
func TestProjectsHandler_InMemoryRefusalsWriteNothing(t *testing.T) {
	t.Parallel()
	h, store := projectsHandler(t)
	ctx := context.Background()
	owner, other := auth.Principal{UserID: 1}, auth.Principal{UserID: 2}
	def := seedProject(t, h, owner.UserID, "My Projects", true)
	mine := seedProject(t, h, owner.UserID, "Work", false)
	before := logLen(t, store)

	_, err := h.Add(ctx, commands.AddProject{Caller: owner, Fields: domain.ProjectFields{Name: "  "}})
	assert.ErrorIs(t, err, domain.ErrInvalid, "a blank name")

	_, err = h.Upload(ctx, commands.UploadProject{Caller: owner, Fields: domain.ProjectFields{Name: "Imported"}})
	projectRefusal(t, err, domain.ErrInvalid, "No flows found in the file")
	_, err = h.Upload(ctx, commands.UploadProject{Caller: owner, Fields: domain.ProjectFields{Name: ""},
		Flows: []commands.FlowInput{{Name: "ok"}}})
	assert.ErrorIs(t, err, domain.ErrInvalid, "the file's project needs a name")
	_, err = h.Upload(ctx, commands.UploadProject{Caller: owner, Fields: domain.ProjectFields{Name: "Imported"},
		Flows: []commands.FlowInput{{Name: "ok"}, {Name: "bad", EndpointName: ptr("no spaces allowed")}}})
	assert.ErrorIs(t, err, domain.ErrInvalid, "the default check: each flow as an import (ValidImport)")
	checked := errors.New("flow 2 refused by the port's check")
	h.CheckFlows = func(in []commands.FlowInput) error {
		if len(in) == 2 {
			return checked
		}
		return nil
	}
	_, err = h.Upload(ctx, commands.UploadProject{Caller: owner, Fields: domain.ProjectFields{Name: "Imported"},
		Flows: []commands.FlowInput{{Name: "a"}, {Name: "b"}}})
	assert.ErrorIs(t, err, checked, "CheckFlows decides when given")

	for _, c := range []struct {
		who auth.Principal
		id  uuid.UUID
	}{{other, mine}, {owner, uuid.New()}} {
		_, err = h.Change(ctx, commands.ChangeProject{Caller: c.who, ProjectID: c.id, Change: domain.ProjectChange{Description: ptr("x")}})
		assert.ErrorIs(t, err, domain.ErrNotFound)
		_, err = h.Remove(ctx, commands.RemoveProject{Caller: c.who, ProjectID: c.id})
		assert.ErrorIs(t, err, domain.ErrNotFound)
	}
	_, err = h.Remove(ctx, commands.RemoveProject{Caller: owner, ProjectID: def})
	projectRefusal(t, err, domain.ErrInvalid, "The default project cannot be deleted")
	_, err = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: mine, Change: domain.ProjectChange{Name: ptr("\t")}})
	assert.ErrorIs(t, err, domain.ErrInvalid, "a rename to a blank name")

	assert.Equal(t, before, logLen(t, store), "refusals appended nothing")
}

// A project's name is unique per user, case-insensitively, through its
// claim: a rename to a name another project of the caller holds is a 400
// ProjectRefusal of kind conflict that writes nothing, another user may
// use the same name, a rename moves the claim (the old name is free at
// once), a change of case keeps the claim, and a change of nothing
// appends nothing.
func TestProjectsHandler_InMemoryRenameMovesTheNameClaim(t *testing.T) {
	t.Parallel()
	h, store := projectsHandler(t)
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	a := seedProject(t, h, owner.UserID, "alpha", false)
	b := seedProject(t, h, owner.UserID, "beta", false)
	seedProject(t, h, 2, "Alpha", false) // another user's: no clash
	before := logLen(t, store)

	_, err := h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: b, Change: domain.ProjectChange{Name: ptr("ALPHA")}})
	projectRefusal(t, err, domain.ErrConflict, "Project name must be unique")
	assert.Equal(t, before, logLen(t, store), "the refused rename wrote nothing")

	w, err := h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: a, Change: domain.ProjectChange{Name: ptr("gamma")}})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 3, "the project's change, the new claim, the old one released: one append")
	assert.Equal(t, []string{"project.updated", "claim.taken", "claim.released"}, logTypes(t, store)[before:])

	_, err = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: b, Change: domain.ProjectChange{Name: ptr("Alpha")}})
	require.NoError(t, err, "the released name is free")
	n := logLen(t, store)
	w, err = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: a, Change: domain.ProjectChange{Name: ptr("GAMMA")}})
	require.NoError(t, err)
	assert.Equal(t, []string{"project.updated"}, logTypes(t, store)[n:], "a change of case keeps the claim")
	assert.Equal(t, w.Result.Last(), w.Result.Positions[0])

	w, err = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: a,
		Change: domain.ProjectChange{Name: ptr("GAMMA"), Description: ptr(""), IsEnable: ptr(true)}})
	require.NoError(t, err)
	assert.True(t, w.Result.Last().IsZero(), "nothing differs: nothing appended")
	assert.Equal(t, n+1, logLen(t, store))

	p := domain.LoadProject(a)
	require.NoError(t, h.Repo.Load(ctx, p))
	assert.Equal(t, "GAMMA", p.Fields().Name)
	claim := domain.NewClaim(domain.ProjectNameScope, "1/gamma")
	require.NoError(t, h.Repo.Load(ctx, claim))
	assert.Equal(t, domain.ProjectStream(a), claim.Owner())
}

// Renames race on the name's claim (its race rule decides again): of
// several projects renamed to one name at once exactly one gets it and
// the others are refused as a taken name (no 500, no second holder); when
// the names differ, every concurrent rename lands.
func TestProjectsHandler_InMemoryConcurrentRenames(t *testing.T) {
	t.Parallel()
	h, store := projectsHandler(t)
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	ids := make([]uuid.UUID, 6)
	for i := range ids {
		ids[i] = seedProject(t, h, owner.UserID, "", false)
	}
	before := logLen(t, store)

	rename := func(name func(i int) string) []error {
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				_, errs[i] = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: id,
					Change: domain.ProjectChange{Name: ptr(name(i))}})
			})
		}
		wg.Wait()
		return errs
	}

	var winner uuid.UUID
	for i, err := range rename(func(int) string { return "shared" }) {
		if err == nil {
			assert.Equal(t, uuid.Nil, winner, "a second project got the name")
			winner = ids[i]
			continue
		}
		projectRefusal(t, err, domain.ErrConflict, "Project name must be unique")
	}
	require.NotEqual(t, uuid.Nil, winner, "one rename lands")
	claim := domain.NewClaim(domain.ProjectNameScope, "1/shared")
	require.NoError(t, h.Repo.Load(ctx, claim))
	assert.Equal(t, domain.ProjectStream(winner), claim.Owner())
	assert.Len(t, logTypes(t, store)[before:], 2, "the winner's change and claim; the losers wrote nothing")

	for _, err := range rename(func(i int) string { return fmt.Sprintf("own %d", i) }) {
		assert.NoError(t, err, "distinct names: every rename lands")
	}
	for i, id := range ids {
		p := domain.LoadProject(id)
		require.NoError(t, h.Repo.Load(ctx, p))
		assert.Equal(t, fmt.Sprintf("own %d", i), p.Fields().Name)
	}
}

// A project's change moves the caller's flows among Move into it, in the
// same append as the project's own change: another user's flow, a deleted
// one and unknown ids are skipped, a repeated id moves once, and a locked
// flow moves too (a lock guards what a flow is, not where it lives — the
// domain's rule; moveFlows' comment still says it refuses with 423).
func TestProjectsHandler_InMemoryChangeMovesOnlyTheCallersFlows(t *testing.T) {
	t.Parallel()
	h, store := projectsHandler(t)
	ctx := context.Background()
	owner := auth.Principal{UserID: 1}
	project := seedProject(t, h, owner.UserID, "Target", false)
	mine := seedFlow(t, h.Repo, owner.UserID, "mine", domain.FlowPlacement{}, false)
	locked := seedFlow(t, h.Repo, owner.UserID, "locked", domain.FlowPlacement{}, true)
	theirs := seedFlow(t, h.Repo, 2, "theirs", domain.FlowPlacement{}, false)
	gone := seedFlow(t, h.Repo, owner.UserID, "gone", domain.FlowPlacement{}, false)
	_, err := (&commands.Flows{Repo: h.Repo}).Delete(ctx, commands.FlowRef{Caller: owner, ID: gone})
	require.NoError(t, err)
	before := logLen(t, store)

	w, err := h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: project,
		Change: domain.ProjectChange{Description: ptr("moved in")},
		Move:   []uuid.UUID{mine, theirs, uuid.New(), locked, gone, mine}})
	require.NoError(t, err)
	assert.Len(t, w.Result.Positions, 3, "the project's change and two moves, one append")
	assert.Equal(t, []string{"project.updated", "flow.moved", "flow.moved"}, logTypes(t, store)[before:])

	for id, in := range map[uuid.UUID]bool{mine: true, locked: true, theirs: false, gone: false} {
		f := domain.LoadFlow(id)
		require.NoError(t, h.Repo.Load(ctx, f))
		if in {
			require.NotNil(t, f.Placement().ProjectID, f.Content().Name)
			assert.Equal(t, project, *f.Placement().ProjectID, f.Content().Name)
		} else {
			assert.Nil(t, f.Placement().ProjectID, f.Content().Name)
		}
	}

	n := logLen(t, store)
	w, err = h.Change(ctx, commands.ChangeProject{Caller: owner, ProjectID: project, Move: []uuid.UUID{mine, locked}})
	require.NoError(t, err)
	assert.True(t, w.Result.Last().IsZero(), "flows already there: nothing appended")
	assert.Equal(t, n, logLen(t, store))
}
