package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Projects serves the write side of projects (Langflow's folders),
// project uploads included.
type Projects struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Flows  *Flows
	Config config.Config
	Clock  func() time.Time
}

// ProjectsProjection names the read model of projects.
const ProjectsProjection = "projects"

// Langflow's messages about projects.
const (
	msgProjectNotFound   = readapi.MsgProjectNotFound
	msgProjectNameUnique = "Project name must be unique"
	// defaultProjectDescription is Langflow's description of the default
	// folder.
	defaultProjectDescription = "Manage your own projects. Download and upload projects."
	importedProjectName       = "Imported Project"
)

var errProjectNameTaken = domain.Conflictf(msgProjectNameUnique)

// ProjectCreate is the body of Create Project. Flows of the caller listed
// in components_list or flows_list move into the new project.
type ProjectCreate struct {
	Name           string                     `json:"name"`
	Description    *string                    `json:"description"`
	OrgID          *int64                     `json:"org_id"`
	IsEnable       *bool                      `json:"is_enable"`
	IsHold         *bool                      `json:"is_hold"`
	ReleaseVersion *string                    `json:"release_version"`
	PrivType       *string                    `json:"priv_type"`
	ProjectSkill   *string                    `json:"project_skill"`
	AuthSettings   map[string]json.RawMessage `json:"auth_settings"`
	Icon           *string                    `json:"icon"`
	ComponentsList []uuid.UUID                `json:"components_list"`
	FlowsList      []uuid.UUID                `json:"flows_list"`
}

// ProjectUpdate is the body of Update Project: absent or null fields stay
// as they are; flows of the caller listed in components or flows move into
// the project.
type ProjectUpdate struct {
	Name           *string                    `json:"name"`
	Description    *string                    `json:"description"`
	OrgID          *int64                     `json:"org_id"`
	IsEnable       *bool                      `json:"is_enable"`
	IsHold         *bool                      `json:"is_hold"`
	ReleaseVersion *string                    `json:"release_version"`
	PrivType       *string                    `json:"priv_type"`
	ProjectSkill   *string                    `json:"project_skill"`
	AuthSettings   map[string]json.RawMessage `json:"auth_settings"`
	Icon           *string                    `json:"icon"`
	Components     []uuid.UUID                `json:"components"`
	Flows          []uuid.UUID                `json:"flows"`
}

// DeletedFlows is Delete Project's answer: the ids of the flows deleted
// with the project.
type DeletedFlows struct {
	Detail []string `json:"detail"`
}

// Routes registers the write operations of projects.
func (h *Projects) Routes(s *httpapi.Server) {
	models := readapi.ProjectReadModels
	projectID := []httpapi.Param{{Name: "project_id", In: "path", Format: "uuid"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/projects/", Access: access.Own("projects", "write"), Tag: "Projects", Summary: "Create Project",
		Description: "Create a project of the caller. A name the caller already uses gets Langflow's \" (n)\" suffix. " +
			"The caller's flows listed in components_list and flows_list move into the new project. " +
			"The secrets of auth_settings (api_key, client_secret, password, token … and keys ending in _secret, _token, " +
			"_password, _api_key, at any depth) are shown masked.",
		Body: ProjectCreate{}, Response: readapi.ProjectRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.create})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/projects/{project_id}", Access: access.Own("projects", "modify"), Tag: "Projects", Summary: "Update Project",
		Description: "Update a project of the caller; absent or null fields stay as they are. A name another project of the " +
			"caller has is 400. The caller's flows listed in components and flows move into the project. A masked " +
			"secret sent back in auth_settings keeps the one stored at the same place (arrays by index).",
		Params: projectID, Body: ProjectUpdate{}, Response: readapi.ProjectRead{}, ReadModels: models, Handler: h.update})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/projects/{project_id}", Access: access.Own("projects", "delete"), Tag: "Projects", Summary: "Delete Project",
		Description: "Delete a project of the caller and its flows (both soft: is_deleted becomes true, names are free again); " +
			"detail lists the ids of the flows deleted. The default project cannot be deleted (400).",
		Params: projectID, Response: DeletedFlows{}, ReadModels: models, Handler: h.delete})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/projects/upload/", Access: access.Own("projects", "write"), Tag: "Projects", Summary: "Upload File",
		Description: "Upload flows from a file (multipart field file) into a new project: a JSON document " +
			"{folder_name, folder_description, flows: [FlowCreate]} or a zip of flow JSON files (the project is named " +
			"after the zip file). Project and flow names are made unique; imported flows get new ids.",
		Params:   []httpapi.Param{{Name: "file", In: "query", Description: "Multipart form field (multipart/form-data body), not a query parameter."}},
		Response: []readapi.FlowRead{}, Status: http.StatusCreated, ReadModels: models,
		LargeBody: true, Handler: h.upload})
}

// uploadLimit is the largest upload, from SKILLFLAW_MAX_FILE_SIZE_UPLOAD.
func uploadLimit(cfg config.Config) int64 { return int64(max(cfg.MaxFileSizeUploadMB, 1)) << 20 }

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

// projectNameError answers a taken name with Langflow's 400.
func projectNameError(err error) error {
	if errors.Is(err, errProjectNameTaken) {
		return badRequest(msgProjectNameUnique)
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
	// Created meanwhile, or the name taken: Update decides again (the
	// project's and the claim's race rules), and finds it made or picks
	// another name.
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
	}, Attempts(20))
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
// project. A locked flow refuses (423), as any edit of it does.
func (h *Projects) moveFlows(ctx context.Context, caller auth.Principal, project uuid.UUID, ids []uuid.UUID) ([]Aggregate, error) {
	var out []Aggregate
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		f := domain.LoadFlow(id)
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

// CreateProject creates a project of caller with fields (its name made
// unique) and moves the caller's flows among move into it, atomically.
func (h *Projects) CreateProject(ctx context.Context, caller auth.Principal, fields domain.ProjectFields, move []uuid.UUID, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	id := uuid.New()
	if err := domain.ValidProjectName(fields.Name); err != nil {
		return id, eventstore.AppendResult{}, err
	}
	if err := projectPlacedIn(ctx, h.Pool, fields.TenantID, fields.OrgID); err != nil {
		return id, eventstore.AppendResult{}, err
	}
	// A name taken meanwhile loses its claim's race and a flow changed
	// meanwhile its own: Update decides again (their race rules).
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
	}, Attempts(20))
	return id, res, projectNameError(err)
}

func (h *Projects) create(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var body ProjectCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	settings, err := authSettings(body.AuthSettings)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	fields := domain.ProjectFields{
		Name: body.Name, Description: deref(body.Description), IsEnable: body.IsEnable == nil || *body.IsEnable,
		IsHold: derefB(body.IsHold), ReleaseVersion: body.ReleaseVersion, PrivType: body.PrivType,
		ProjectSkill: body.ProjectSkill, AuthSettings: settings, Icon: body.Icon,
	}
	if body.OrgID != nil {
		fields.OrgID = *body.OrgID
	}
	id, res, err := h.CreateProject(ctx, caller, fields, slices.Concat(body.ComponentsList, body.FlowsList), httpapi.Metadata(c, h.Clock()))
	h.answerProject(c, caller, id, res, err, http.StatusCreated)
}

// authSettings turns a body's auth_settings into JSON (nil when absent).
func authSettings(m map[string]json.RawMessage) (json.RawMessage, error) {
	if m == nil {
		return nil, nil
	}
	return json.Marshal(m)
}

// answerProject answers a write on a project with its row, once the read
// models show the write.
func (h *Projects) answerProject(c *gin.Context, caller auth.Principal, id uuid.UUID, res eventstore.AppendResult, err error, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ProjectRead, error) {
		return readapi.OwnProject(ctx, db, caller.UserID, id)
	})
}

func (h *Projects) update(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "project_id")
	if !ok {
		return
	}
	var body ProjectUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	settings, err := authSettings(body.AuthSettings)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	change := domain.ProjectChange{
		Name: body.Name, Description: body.Description, OrgID: body.OrgID, IsEnable: body.IsEnable, IsHold: body.IsHold,
		ReleaseVersion: body.ReleaseVersion, PrivType: body.PrivType, ProjectSkill: body.ProjectSkill,
		AuthSettings: settings, Icon: body.Icon,
	}
	var res eventstore.AppendResult
	res, err = h.Repo.Update(ctx, httpapi.Metadata(c, h.Clock()), func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		p, err := loadOwnProject(ctx, h.Repo, caller, id)
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
			if claims, err = projectNameClaims(ctx, h.Repo, caller.UserID, p.StreamID(), p.Fields().Name, old); err != nil {
				return nil, err
			}
		}
		flows, err := h.moveFlows(ctx, caller, id, slices.Concat(body.Components, body.Flows))
		if err != nil {
			return nil, err
		}
		return append(append([]Aggregate{p}, claims...), flows...), nil
	})
	h.answerProject(c, caller, id, res, projectNameError(err), http.StatusOK)
}

func (h *Projects) delete(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "project_id")
	if !ok {
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	deleted, last, err := h.DeleteProject(ctx, caller, id, md)
	answerValue(c, h.Server, last, err, http.StatusOK, DeletedFlows{Detail: deleted})
}

// DeleteProject deletes project id of caller and its flows (soft deletes;
// the names they held are free again) and returns the ids of the flows it
// deleted. The flows go first, each atomically with its claims, then the
// project with its name claim: a failure part way leaves the project in
// place with fewer flows, and deleting it again finishes the work.
func (h *Projects) DeleteProject(ctx context.Context, caller auth.Principal, id uuid.UUID, md eventstore.Metadata) ([]string, eventstore.Position, error) {
	var last eventstore.Position
	p, err := loadOwnProject(ctx, h.Repo, caller, id)
	if err != nil {
		return nil, last, err
	}
	if p.IsDefault() {
		return nil, last, badRequest(domain.ErrDefaultProject.Message)
	}
	rows, _ := h.Pool.Query(ctx, `SELECT id FROM flows WHERE project_id = $1 AND user_id = $2 AND NOT is_deleted
ORDER BY updated_at DESC, id DESC`, id, p.UserID())
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, last, fmt.Errorf("flows of project %s: %w", id, err)
	}
	deleted := []string{}
	for _, f := range ids {
		n, pos, err := h.Flows.DeleteFlows(ctx, caller, []uuid.UUID{f}, md)
		if err != nil {
			return deleted, last, err
		}
		if n == 1 {
			deleted, last = append(deleted, f.String()), pos
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
		last = res.Last()
	}
	return deleted, last, err
}

func (h *Projects) upload(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	limit := importLimit(c, h.Config)
	file, err := readUpload(c, limit)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var (
		fields domain.ProjectFields
		flows  []FlowInput
	)
	if file.zip {
		if flows, err = file.zipFlows(limit); err != nil {
			httpapi.Fail(c, err)
			return
		}
		fields.Name = projectNameOfFile(file.name)
	} else if fields, flows, err = projectDocument(file.data); err != nil {
		httpapi.Fail(c, err)
		return
	}
	fields.IsEnable = true
	if len(flows) == 0 {
		httpapi.Fail(c, badRequest("No flows found in the file"))
		return
	}
	if err := domain.ValidProjectName(fields.Name); err != nil {
		httpapi.Fail(c, err)
		return
	}
	if err := checkImports(h.Server, flows); err != nil {
		httpapi.Fail(c, err)
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	id, res, err := h.CreateProject(ctx, caller, fields, nil, md)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	for i := range flows {
		flows[i].ProjectID = &id
	}
	ids, last, err := h.Flows.CreateFlows(ctx, caller, flows, md)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if last.IsZero() {
		last = res.Last()
	}
	answerFlows(c, h.Server, h.Pool, ids, last, http.StatusCreated)
}

// projectNameOfFile names the project of an uploaded zip: the file's name
// without its extension, or "Imported Project".
func projectNameOfFile(filename string) string {
	base := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	if strings.TrimSpace(base) == "" || base == "." || base == "/" {
		return importedProjectName
	}
	return base
}

// projectDocument reads a project upload's JSON: {"folder_name",
// "folder_description", "flows": [...]}.
func projectDocument(data []byte) (domain.ProjectFields, []FlowInput, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			return domain.ProjectFields{}, nil, badRequest("Invalid JSON file: " + err.Error())
		}
	}
	rawName, hasName := doc["folder_name"]
	rawFlows, hasFlows := doc["flows"]
	if !hasName || !hasFlows {
		return domain.ProjectFields{}, nil, badRequest("Missing required field(s): folder_name, flows")
	}
	var fields domain.ProjectFields
	if err := json.Unmarshal(rawName, &fields.Name); err != nil {
		return fields, nil, uploadInvalid([]any{"folder_name"}, "folder_name must be a string")
	}
	if d, ok := doc["folder_description"]; ok && string(d) != "null" {
		if err := json.Unmarshal(d, &fields.Description); err != nil {
			return fields, nil, uploadInvalid([]any{"folder_description"}, "folder_description must be a string")
		}
	}
	flows, err := flowList(rawFlows, []any{"flows"})
	return fields, flows, err
}
