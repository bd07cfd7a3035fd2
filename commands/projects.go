package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of projects (Langflow's folders), project uploads
// included: each is a command value and one method of ProjectsHandler,
// with no HTTP in sight (ports.Projects binds, calls and answers). Every
// user's default project is made here too (EnsureDefaultProject, and with
// a new account).

// ProjectsHandler handles the projects' commands.
type ProjectsHandler struct {
	Repo *Repository
	// Pool reads the read models a decision needs (free names, a
	// project's flows, the place of its org).
	Pool  *pgxpool.Pool
	Flows *Flows
	// CheckFlows checks an upload's flows before anything is written
	// (FlowCreate's rules and bounds, with the port's error locations;
	// ports.FlowImportsCheck); nil: each flow's content with ValidImport.
	CheckFlows func([]FlowInput) error
}

func (h *ProjectsHandler) checkFlows(flows []FlowInput) error {
	if h.CheckFlows != nil {
		return h.CheckFlows(flows)
	}
	for _, in := range flows {
		if err := ValidImport(in); err != nil {
			return err
		}
	}
	return nil
}

// ImportedProjectName names the project of an uploaded zip whose file
// name tells none.
const ImportedProjectName = "Imported Project"

// ProjectsProjection names the read model of projects.
const ProjectsProjection = "projects"

// Langflow's messages about projects.
const (
	msgProjectNotFound   = domain.MsgProjectNotFound
	msgProjectNameUnique = "Project name must be unique"
	msgNoFlowsInFile     = "No flows found in the file"
	// defaultProjectDescription is Langflow's description of the default
	// folder.
	defaultProjectDescription = "Manage your own projects. Download and upload projects."
)

var errProjectNameTaken = domain.Conflictf(msgProjectNameUnique)

// ProjectRefusal is a project write Langflow refuses with a 400: a name
// the caller's other project has, the default project deleted, an upload
// that is not a project. Kind is its domain kind; ports answers it 400
// with Msg.
type ProjectRefusal struct {
	Kind error
	Msg  string
}

func (e *ProjectRefusal) Error() string { return e.Msg }

// Unwrap reports the kind.
func (e *ProjectRefusal) Unwrap() error { return e.Kind }

func projectRefusal(kind error, msg string) error { return &ProjectRefusal{Kind: kind, Msg: msg} }

// AddProject creates a project of Caller with Fields (its name made
// unique) and moves the caller's flows among Move into it.
type AddProject struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Fields domain.ProjectFields
	Move   []uuid.UUID
}

// ChangeProject changes project ProjectID of Caller (nil fields of Change
// stay as they are) and moves the caller's flows among Move into it.
type ChangeProject struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	ProjectID uuid.UUID
	Change    domain.ProjectChange
	Move      []uuid.UUID
}

// RemoveProject deletes project ProjectID of Caller and its flows.
type RemoveProject struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	ProjectID uuid.UUID
}

// UploadProject creates a project of Caller with Fields (its name made
// unique) holding Flows, as read from an uploaded file by the port (a zip
// of flow JSON files, or a document {folder_name, folder_description,
// flows}).
type UploadProject struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Fields domain.ProjectFields // from the file: its name and description
	Flows  []FlowInput
}

// ProjectWritten is what a project command did: the project and what it
// appended.
type ProjectWritten struct {
	ID     uuid.UUID
	Result eventstore.AppendResult
}

// ProjectRemoved is what RemoveProject did: the ids of the flows deleted
// with the project, and where its last event landed.
type ProjectRemoved struct {
	Deleted []string
	Last    eventstore.Position
}

// ProjectUploaded is what UploadProject did: the new project, its flows
// and where the last event landed.
type ProjectUploaded struct {
	ID    uuid.UUID
	Flows []uuid.UUID
	Last  eventstore.Position
}

// UploadLimit is the largest upload, from SKILLFLAW_MAX_FILE_SIZE_UPLOAD.
func UploadLimit(cfg config.Config) int64 { return int64(max(cfg.MaxFileSizeUploadMB, 1)) << 20 }

// projectsEnabled reports whether the projects module registered its
// events (the identity module creates default projects only then).
func projectsEnabled(repo *Repository) bool {
	return repo.reg.Known(domain.ProjectCreated{}.EventType())
}

// freeProjectName picks Langflow's name for a new project of user: name
// itself if free, else "name (n)" with n one more than the largest in use.
func freeProjectName(ctx context.Context, pool *pgxpool.Pool, repo *Repository, user int64, name string) (string, error) {
	return freeValue(ctx, pool, repo, domain.ProjectNameScope, `SELECT name FROM projects WHERE user_id = $1 AND NOT is_deleted AND
    (lower(name) = lower($2) OR lower(name) LIKE lower($3) ESCAPE '\')`, user, name, " (", ")")
}

// projectNameClaims moves the name claim of the project whose stream is
// owner from was to now ("" for none): errProjectNameTaken if another
// project of user holds now.
func projectNameClaims(ctx context.Context, repo *Repository, user int64, owner, now, was string) ([]Aggregate, error) {
	if domain.ClaimKey(now) == domain.ClaimKey(was) {
		return nil, nil
	}
	var out []Aggregate
	if now != "" {
		claim, err := loadClaim(ctx, repo, domain.ProjectNameScope, userScoped(user, now))
		if err != nil {
			return nil, err
		}
		if claim.Take(owner, msgProjectNameUnique) != nil {
			return nil, errProjectNameTaken
		}
		out = append(out, claim)
	}
	if was != "" {
		claim, err := loadClaim(ctx, repo, domain.ProjectNameScope, userScoped(user, was))
		if err != nil {
			return nil, err
		}
		claim.Release(owner)
		out = append(out, claim)
	}
	return out, nil
}

// projectNameError refuses a taken name as Langflow does (a
// ProjectRefusal: 400).
func projectNameError(err error) error {
	if errors.Is(err, errProjectNameTaken) {
		return projectRefusal(domain.ErrConflict, msgProjectNameUnique)
	}
	return err
}

// defaultProjectFields are the fields of a default project called name.
func defaultProjectFields(name string) domain.ProjectFields {
	return domain.ProjectFields{Name: name, Description: defaultProjectDescription, IsEnable: true}
}

// newDefaultProject returns what creates the default project, called name,
// of the account user being registered: the project and its name claim, to
// save atomically with the account. Nothing when projects are not served
// or name is empty.
func newDefaultProject(ctx context.Context, repo *Repository, user int64, name string) ([]Aggregate, error) {
	if name == "" || !projectsEnabled(repo) {
		return nil, nil
	}
	id := domain.DefaultProjectID(user)
	p, err := domain.CreateProject(id, domain.NewProject{UserID: user, IsDefault: true, Fields: defaultProjectFields(name)})
	if err != nil {
		return nil, err
	}
	claims, err := projectNameClaims(ctx, repo, user, p.StreamID(), name, "")
	if err != nil {
		return nil, err
	}
	return append([]Aggregate{p}, claims...), nil
}

// EnsureDefaultProject creates user's default project, called name (with a
// suffix if the user already has a project of that name), unless it
// exists. Accounts registered before projects existed get theirs this way
// (at login, and the bootstrap superuser at start). Its id is derived from
// the user's, so concurrent calls create it once. The result is empty when
// nothing was written.
func EnsureDefaultProject(ctx context.Context, repo *Repository, pool *pgxpool.Pool, user int64, name string, md eventstore.Metadata) (eventstore.AppendResult, error) {
	var res eventstore.AppendResult
	if name == "" || user == 0 || !projectsEnabled(repo) {
		return res, nil
	}
	id := domain.DefaultProjectID(user)
	// Created meanwhile, or the name taken: Update decides again
	// (domain.Shared's attempts, the claim's rule, whichever stream lost),
	// and finds it made or picks another name.
	res, err := repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		for tries := 0; tries < 20; tries++ {
			if err := repo.Load(ctx, domain.LoadProject(id)); err == nil {
				return nil, nil
			} else if !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
			free, err := freeProjectName(ctx, pool, repo, user, name)
			if err != nil {
				return nil, err
			}
			p, err := domain.CreateProject(id, domain.NewProject{UserID: user, IsDefault: true, Fields: defaultProjectFields(free)})
			if err != nil {
				return nil, err
			}
			claims, err := projectNameClaims(ctx, repo, user, p.StreamID(), free, "")
			if errors.Is(err, errProjectNameTaken) {
				continue // the read model lagged behind the claims: pick again
			}
			if err != nil {
				return nil, err
			}
			return append([]Aggregate{p}, claims...), nil
		}
		return nil, domain.Conflictf("the default project could not be created: try again")
	}, Attempts(domain.Shared.Attempts))
	if errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
		err = domain.Conflictf("the default project could not be created: try again")
	}
	return res, err
}

// loadOwnProject loads project id of caller; another's, a deleted or an
// unknown one is Langflow's 404.
func loadOwnProject(ctx context.Context, repo *Repository, caller auth.Principal, id uuid.UUID) (*domain.Project, error) {
	p := domain.LoadProject(id)
	if err := repo.Load(ctx, p); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.NotFoundf(msgProjectNotFound)
		}
		return nil, err
	}
	if p.UserID() != caller.UserID || p.Deleted() {
		return nil, domain.NotFoundf(msgProjectNotFound)
	}
	return p, nil
}

// moveFlows moves the caller's flows among ids into project (others,
// unknown and deleted ones are skipped) and returns them to save with the
// project. A locked flow moves too: a lock guards what a flow is, not
// where it lives.
func (h *ProjectsHandler) moveFlows(ctx context.Context, caller auth.Principal, project uuid.UUID, ids []uuid.UUID) ([]Aggregate, error) {
	var out []Aggregate
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		f := graphpatch.LoadFlow(id)
		if err := h.Repo.Load(ctx, f); errors.Is(err, domain.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if f.UserID() != caller.UserID || f.Deleted() {
			continue
		}
		pl := f.Placement()
		pl.ProjectID = &project
		if err := f.Edit(domain.FlowChange{Placement: &pl}); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// projectPlacedIn checks that a project's org (0: none) is of the
// project's tenant (the system tenant: projects are personal).
func projectPlacedIn(ctx context.Context, pool *pgxpool.Pool, tenant *uuid.UUID, org int64) error {
	return tenancy.InTenant(ctx, pool, tenancy.OrSystem(tenant),
		tenancy.Place{Kind: tenancy.PlaceOrg, ID: org, Where: []any{"body", "org_id"}})
}

// Add handles AddProject: the project and the flows moved into it are
// saved atomically.
func (h *ProjectsHandler) Add(ctx context.Context, cmd AddProject) (ProjectWritten, error) {
	id, res, err := h.createProject(ctx, cmd.Caller, cmd.Fields, cmd.Move, cmd.Meta)
	return ProjectWritten{ID: id, Result: res}, err
}

// createProject creates a project of caller with fields (its name made
// unique) and moves the caller's flows among move into it, atomically.
func (h *ProjectsHandler) createProject(ctx context.Context, caller auth.Principal, fields domain.ProjectFields, move []uuid.UUID, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	id := uuid.New()
	if err := domain.ValidProjectName(fields.Name); err != nil {
		return id, eventstore.AppendResult{}, err
	}
	if err := projectPlacedIn(ctx, h.Pool, fields.TenantID, fields.OrgID); err != nil {
		return id, eventstore.AppendResult{}, err
	}
	// A name taken meanwhile loses its claim's race and a flow changed
	// meanwhile its own: Update decides again, domain.Shared's attempts
	// (the claims' rule) whichever stream lost, a flow's too.
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		for tries := 0; ; tries++ {
			f := fields
			name, err := freeProjectName(ctx, h.Pool, h.Repo, caller.UserID, fields.Name)
			if err != nil {
				return nil, err
			}
			f.Name = name
			p, err := domain.CreateProject(id, domain.NewProject{UserID: caller.UserID, Fields: f})
			if err != nil {
				return nil, err
			}
			claims, err := projectNameClaims(ctx, h.Repo, caller.UserID, p.StreamID(), name, "")
			if errors.Is(err, errProjectNameTaken) && tries < 20 {
				continue // the read model lagged behind the claims: pick again
			}
			if err != nil {
				return nil, err
			}
			flows, err := h.moveFlows(ctx, caller, id, move)
			if err != nil {
				return nil, err
			}
			return append(append([]Aggregate{p}, claims...), flows...), nil
		}
	}, Attempts(domain.Shared.Attempts))
	return id, res, projectNameError(err)
}

// Change handles ChangeProject: a name another project of the caller has
// is refused (ProjectRefusal).
func (h *ProjectsHandler) Change(ctx context.Context, cmd ChangeProject) (ProjectWritten, error) {
	id, change := cmd.ProjectID, cmd.Change
	res, err := h.Repo.Update(ctx, cmd.Meta, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		p, err := loadOwnProject(ctx, h.Repo, cmd.Caller, id)
		if err != nil {
			return nil, err
		}
		if change.OrgID != nil {
			if err := projectPlacedIn(ctx, h.Pool, p.Fields().TenantID, *change.OrgID); err != nil {
				return nil, err
			}
		}
		old, err := p.Update(change)
		if err != nil {
			return nil, err
		}
		var claims []Aggregate
		if old != "" {
			if claims, err = projectNameClaims(ctx, h.Repo, cmd.Caller.UserID, p.StreamID(), p.Fields().Name, old); err != nil {
				return nil, err
			}
		}
		flows, err := h.moveFlows(ctx, cmd.Caller, id, cmd.Move)
		if err != nil {
			return nil, err
		}
		return append(append([]Aggregate{p}, claims...), flows...), nil
	})
	return ProjectWritten{ID: id, Result: res}, projectNameError(err)
}

// Remove handles RemoveProject: it deletes the project and its flows
// (soft deletes; the names they held are free again). The flows go first,
// each atomically with its claims, then the project with its name claim:
// a failure part way leaves the project in place with fewer flows, and
// deleting it again finishes the work. The default project is refused
// (ProjectRefusal).
func (h *ProjectsHandler) Remove(ctx context.Context, cmd RemoveProject) (ProjectRemoved, error) {
	caller, id, md := cmd.Caller, cmd.ProjectID, cmd.Meta
	var out ProjectRemoved
	p, err := loadOwnProject(ctx, h.Repo, caller, id)
	if err != nil {
		return out, err
	}
	if p.IsDefault() {
		return out, projectRefusal(domain.ErrInvalid, domain.ErrDefaultProject.Message)
	}
	rows, _ := h.Pool.Query(ctx, `SELECT id FROM flows WHERE project_id = $1 AND user_id = $2 AND NOT is_deleted
ORDER BY updated_at DESC, id DESC`, id, p.UserID())
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return out, fmt.Errorf("flows of project %s: %w", id, err)
	}
	out.Deleted = []string{}
	for _, f := range ids {
		n, pos, err := h.Flows.DeleteFlows(ctx, caller, []uuid.UUID{f}, md)
		if err != nil {
			return out, err
		}
		if n == 1 {
			out.Deleted, out.Last = append(out.Deleted, f.String()), pos
		}
	}
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		p, err := loadOwnProject(ctx, h.Repo, caller, id)
		if err != nil {
			return nil, err
		}
		if err := p.Delete(); err != nil {
			return nil, err
		}
		claims, err := projectNameClaims(ctx, h.Repo, caller.UserID, p.StreamID(), "", p.Fields().Name)
		if err != nil {
			return nil, err
		}
		return append([]Aggregate{p}, claims...), nil
	})
	if err == nil {
		out.Last = res.Last()
	}
	return out, err
}

// Upload handles UploadProject: the project (its name made unique), then
// its flows, as Create Flow makes them (names and endpoint names made
// unique, new ids). Every flow is checked before anything is written.
func (h *ProjectsHandler) Upload(ctx context.Context, cmd UploadProject) (ProjectUploaded, error) {
	fields, flows := cmd.Fields, cmd.Flows
	fields.IsEnable = true
	if len(flows) == 0 {
		return ProjectUploaded{}, projectRefusal(domain.ErrInvalid, msgNoFlowsInFile)
	}
	if err := domain.ValidProjectName(fields.Name); err != nil {
		return ProjectUploaded{}, err
	}
	if err := h.checkFlows(flows); err != nil {
		return ProjectUploaded{}, err
	}
	id, res, err := h.createProject(ctx, cmd.Caller, fields, nil, cmd.Meta)
	if err != nil {
		return ProjectUploaded{}, err
	}
	for i := range flows {
		flows[i].ProjectID = &id
	}
	ids, last, err := h.Flows.CreateFlows(ctx, cmd.Caller, flows, cmd.Meta)
	if err != nil {
		return ProjectUploaded{}, err
	}
	if last.IsZero() {
		last = res.Last()
	}
	return ProjectUploaded{ID: id, Flows: ids, Last: last}, nil
}
