package ports

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The projects' writes (Langflow's folders): create, update and delete
// go through Write (the caller's own projects: access.Own); a project
// upload, a multipart file, has a port of its own. Each calls the
// commands.ProjectsHandler and answers what the read models show.

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

// The requests of the projects' writes: where each part of the command
// comes from (see Write).
type (
	addProject struct {
		Caller auth.Principal      `caller:""`
		Meta   eventstore.Metadata `meta:""`
		Body   ProjectCreate       `body:""`
	}
	changeProject struct {
		ProjectID uuid.UUID           `path:"project_id"`
		Caller    auth.Principal      `caller:""`
		Meta      eventstore.Metadata `meta:""`
		Body      ProjectUpdate       `body:""`
	}
	removeProject struct {
		ProjectID uuid.UUID           `path:"project_id"`
		Caller    auth.Principal      `caller:""`
		Meta      eventstore.Metadata `meta:""`
	}
)

// projectError answers a refusal of Langflow's (commands.ProjectRefusal)
// with its 400.
func projectError(err error) error {
	if pr, ok := errors.AsType[*commands.ProjectRefusal](err); ok {
		return &httpapi.StatusError{Status: http.StatusBadRequest, Detail: pr.Msg}
	}
	return err
}

// authSettings turns a body's auth_settings into JSON (nil when absent).
func authSettings(m map[string]json.RawMessage) (json.RawMessage, error) {
	if m == nil {
		return nil, nil
	}
	return json.Marshal(m)
}

// Projects registers the write operations of projects; cfg bounds uploads
// (SKILLFLAW_MAX_FILE_SIZE_UPLOAD).
func Projects(p Port, h *commands.ProjectsHandler, cfg config.Config) {
	models := readapi.ProjectReadModels
	ownProject := func(ctx context.Context, db readapi.DB, caller auth.Principal, w commands.ProjectWritten) (any, error) {
		return readapi.OwnProject(ctx, db, caller.UserID, w.ID)
	}
	Write[addProject, commands.ProjectWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/projects/", Access: access.Own("projects", "write"), Tag: "Projects", Summary: "Create Project",
			Description: "Create a project of the caller. A name the caller already uses gets Langflow's \" (n)\" suffix. " +
				"The caller's flows listed in components_list and flows_list move into the new project. " +
				"The secrets of auth_settings (api_key, client_secret, password, token … and keys ending in _secret, _token, " +
				"_password, _api_key, at any depth) are shown masked.",
			Response: readapi.ProjectRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addProject) (commands.ProjectWritten, eventstore.Position, error) {
			body := r.Body
			settings, err := authSettings(body.AuthSettings)
			if err != nil {
				return commands.ProjectWritten{}, eventstore.Position{}, err
			}
			fields := domain.ProjectFields{
				Name: body.Name, Description: orDefault(body.Description, ""), IsEnable: body.IsEnable == nil || *body.IsEnable,
				IsHold: orDefault(body.IsHold, false), ReleaseVersion: body.ReleaseVersion, PrivType: body.PrivType,
				ProjectSkill: body.ProjectSkill, AuthSettings: settings, Icon: body.Icon,
			}
			if body.OrgID != nil {
				fields.OrgID = *body.OrgID
			}
			w, err := h.Add(ctx, commands.AddProject{Caller: r.Caller, Meta: r.Meta, Fields: fields,
				Move: slices.Concat(body.ComponentsList, body.FlowsList)})
			return w, w.Result.Last(), projectError(err)
		},
		Answer: func(ctx context.Context, db readapi.DB, r addProject, w commands.ProjectWritten) (any, error) {
			return ownProject(ctx, db, r.Caller, w)
		},
	}.Register(p)
	Write[changeProject, commands.ProjectWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/projects/{project_id}", Access: access.Own("projects", "modify"), Tag: "Projects", Summary: "Update Project",
			Description: "Update a project of the caller; absent or null fields stay as they are. A name another project of the " +
				"caller has is 400. The caller's flows listed in components and flows move into the project. A masked " +
				"secret sent back in auth_settings keeps the one stored at the same place (arrays by index).",
			Response: readapi.ProjectRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r changeProject) (commands.ProjectWritten, eventstore.Position, error) {
			body := r.Body
			settings, err := authSettings(body.AuthSettings)
			if err != nil {
				return commands.ProjectWritten{}, eventstore.Position{}, err
			}
			change := domain.ProjectChange{
				Name: body.Name, Description: body.Description, OrgID: body.OrgID, IsEnable: body.IsEnable, IsHold: body.IsHold,
				ReleaseVersion: body.ReleaseVersion, PrivType: body.PrivType, ProjectSkill: body.ProjectSkill,
				AuthSettings: settings, Icon: body.Icon,
			}
			w, err := h.Change(ctx, commands.ChangeProject{Caller: r.Caller, Meta: r.Meta, ProjectID: r.ProjectID, Change: change,
				Move: slices.Concat(body.Components, body.Flows)})
			return w, w.Result.Last(), projectError(err)
		},
		Answer: func(ctx context.Context, db readapi.DB, r changeProject, w commands.ProjectWritten) (any, error) {
			return ownProject(ctx, db, r.Caller, w)
		},
	}.Register(p)
	Write[removeProject, DeletedFlows]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/projects/{project_id}", Access: access.Own("projects", "delete"), Tag: "Projects", Summary: "Delete Project",
			Description: "Delete a project of the caller and its flows (both soft: is_deleted becomes true, names are free again); " +
				"detail lists the ids of the flows deleted. The default project cannot be deleted (400).",
			Response: DeletedFlows{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeProject) (DeletedFlows, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveProject{Caller: r.Caller, Meta: r.Meta, ProjectID: r.ProjectID})
			return DeletedFlows{Detail: w.Deleted}, w.Last, projectError(err)
		},
	}.Register(p)
	up := projectUpload{p: p, h: h, cfg: cfg}
	p.Server.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/projects/upload/", Access: access.Own("projects", "write"), Tag: "Projects", Summary: "Upload File",
		Description: "Upload flows from a file (multipart field file) into a new project: a JSON document " +
			"{folder_name, folder_description, flows: [FlowCreate]} or a zip of flow JSON files (the project is named " +
			"after the zip file). Project and flow names are made unique; imported flows get new ids.",
		Params:   []httpapi.Param{{Name: "file", In: "query", Description: "Multipart form field (multipart/form-data body), not a query parameter."}},
		Response: []readapi.FlowRead{}, Status: http.StatusCreated, ReadModels: models,
		LargeBody: true, Handler: up.serve})
}

// projectUpload is the port of Upload File (a project upload): it reads
// the multipart file, calls commands.ProjectsHandler.Upload and answers
// the flows created.
type projectUpload struct {
	p   Port
	h   *commands.ProjectsHandler
	cfg config.Config
}

func (u projectUpload) serve(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	// The file, and the JSON a zip unpacks to, are held in memory:
	// SKILLFLAW_MAX_FILE_SIZE_UPLOAD and the route's body limit bound them,
	// whichever is smaller.
	limit := commands.UploadLimit(u.cfg)
	if route := httpapi.BodyLimit(c); route > 0 {
		limit = min(limit, route)
	}
	fields, flows, err := readProjectFile(c, limit)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	res, err := u.h.Upload(c.Request.Context(), commands.UploadProject{Caller: caller, Meta: httpapi.Metadata(c, u.p.Clock()),
		Fields: fields, Flows: flows})
	if err != nil {
		httpapi.Fail(c, projectError(err))
		return
	}
	answerRow(c, u.p, res.Last, http.StatusCreated, func(ctx context.Context, db readapi.DB) ([]readapi.FlowRead, error) {
		return flowRows(ctx, db, res.Flows)
	})
}

func uploadRefused(msg string) error {
	return domain.Refusedf("%s", msg) // 400 {"detail": msg}
}
