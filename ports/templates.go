package ports

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The flow templates' writes: each binds a request (the caller, the path's
// ids, the body), calls the commands.Templates handler and answers what
// the read model shows.

const msgTemplateDeleted = "Template deleted"

// TemplateCreate is the body of Create Flow Template. scope defaults to
// "tenant"; a business template needs business_id.
type TemplateCreate struct {
	Name       string  `json:"name" binding:"required,max=255"`
	Note       *string `json:"note" binding:"omitempty,max=2000"`
	Scope      *string `json:"scope" binding:"omitempty,oneof=system tenant business personal"`
	BusinessID *int64  `json:"business_id" binding:"omitempty,min=0"`
}

// TemplateUpdate is the body of Update Flow Template: absent or null fields
// stay as they are. is_self true makes the template personal (false makes
// a personal one a tenant template); business_id > 0 makes it a business
// template (0 makes a business one a tenant template).
type TemplateUpdate struct {
	Name        *string         `json:"name" binding:"omitempty,max=255"`
	Description *string         `json:"description"`
	FlowSkill   *string         `json:"flow_skill"`
	FlowType    *string         `json:"flow_type"`
	Icon        *string         `json:"icon"`
	IconBgColor *string         `json:"icon_bg_color"`
	Gradient    *string         `json:"gradient"`
	Data        json.RawMessage `json:"data" binding:"maxbody"`
	Tags        *[]string       `json:"tags" binding:"omitnil,max=100,dive,max=255"`
	BusinessID  *int64          `json:"business_id" binding:"omitempty,min=0"`
	IsSelf      *bool           `json:"is_self"`
}

// The requests of the templates' writes: where each part of the command
// comes from (see Write).
type (
	createTemplate struct {
		FlowID uuid.UUID `path:"flow_id"`
		byCaller
		Body TemplateCreate `body:""`
	}
	updateTemplate struct {
		TemplateID uuid.UUID `path:"template_id"`
		byCaller
		Body TemplateUpdate `body:""`
	}
	deleteTemplate struct {
		TemplateID uuid.UUID `path:"template_id"`
		byCaller
	}
)

// TemplateReads answers the template commands' read-model lookups from
// the read side (commands.TemplateReads).
type TemplateReads struct{ Pool *pgxpool.Pool }

// TemplateVisible implements commands.TemplateReads.
func (r TemplateReads) TemplateVisible(ctx context.Context, caller auth.Principal, id uuid.UUID) (bool, error) {
	return readapi.TemplateVisible(ctx, r.Pool, caller, id)
}

// Templates registers the write operations of flow templates.
func Templates(p Port, h *commands.Templates) {
	models := readapi.TemplateReadModels
	answer := func(ctx context.Context, db readapi.DB, w commands.TemplateWritten) (any, error) {
		return readapi.TemplateByID(ctx, db, w.ID)
	}
	Write[createTemplate, commands.TemplateWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/{flow_id}/templates", Access: access.Own("templates", "write"), Tag: "Flows",
			Summary: "Create Flow Template",
			Description: "Make a template of the caller's flow: its current draft (data, description, flow_skill, icon, " +
				"icon_bg_color, gradient, tags, flow_type) under the given name. scope defaults to tenant; only superusers " +
				"create system templates; a business template needs business_id (and only it takes one).",
			Response: readapi.FlowTemplateRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r createTemplate) (commands.TemplateWritten, eventstore.Position, error) {
			w, err := h.Create(ctx, commands.CreateTemplate{Caller: r.Caller, Meta: r.Meta, FlowID: r.FlowID,
				Name: r.Body.Name, Note: r.Body.Note, Scope: r.Body.Scope, BusinessID: r.Body.BusinessID})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ createTemplate, w commands.TemplateWritten) (any, error) {
			return answer(ctx, db, w)
		},
	}.Register(p)
	Write[updateTemplate, commands.TemplateWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/flow-templates/{template_id}", Access: access.Own("templates", "modify"), Tag: "Flows",
			Summary: "Update Flow Template",
			Description: "Change a template (its creator or a superuser). Someone else gets 403 if the template is visible " +
				"to them, 404 if not.",
			Response: readapi.FlowTemplateRead{}, ReadModels: models, LargeBody: true},
		Handle: func(ctx context.Context, r updateTemplate) (commands.TemplateWritten, eventstore.Position, error) {
			b := r.Body
			w, err := h.Update(ctx, commands.UpdateTemplate{Caller: r.Caller, Meta: r.Meta, ID: r.TemplateID,
				Name: b.Name, Description: b.Description, FlowSkill: b.FlowSkill, FlowType: b.FlowType, Icon: b.Icon,
				IconBgColor: b.IconBgColor, Gradient: b.Gradient, Data: b.Data, Tags: b.Tags, BusinessID: b.BusinessID, IsSelf: b.IsSelf})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ updateTemplate, w commands.TemplateWritten) (any, error) {
			return answer(ctx, db, w)
		},
	}.Register(p)
	Write[deleteTemplate, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/flow-templates/{template_id}", Access: access.Own("templates", "delete"), Tag: "Flows",
			Summary: "Delete Flow Template",
			Description: "Delete a template (its creator or a superuser; others as for update). " +
				"Answers {\"detail\": \"Template deleted\"}.",
			Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r deleteTemplate) (Detail, eventstore.Position, error) {
			w, err := h.Delete(ctx, commands.DeleteTemplate{Caller: r.Caller, Meta: r.Meta, ID: r.TemplateID})
			return Detail{Detail: msgTemplateDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
