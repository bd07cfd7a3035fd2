package commands

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Templates serves the write side of flow templates.
type Templates struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Clock  func() time.Time
}

// The answers of template writes.
const (
	msgTemplateNotFound        = "Template not found"
	msgSystemTemplateForbidden = "Only superusers can create system templates"
	msgTemplateNotYours        = "Only the template's creator, a superuser or a holder of the privilege where it lives can change it"
	msgTemplateDeleted         = "Template deleted"
	msgTemplateChangedMeantime = "The template was changed by another request at the same time: reload it and apply your change again"
)

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

// Routes registers the write operations of templates.
func (h *Templates) Routes(s *httpapi.Server) {
	models := readapi.TemplateReadModels
	templateID := []httpapi.Param{{Name: "template_id", In: "path", Format: "uuid"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/{flow_id}/templates", Access: access.Own("templates", "write"), Tag: "Flows",
		Summary: "Create Flow Template",
		Description: "Make a template of the caller's flow: its current draft (data, description, flow_skill, icon, " +
			"icon_bg_color, gradient, tags, flow_type) under the given name. scope defaults to tenant; only superusers " +
			"create system templates; a business template needs business_id (and only it takes one).",
		Params: []httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"}}, Body: TemplateCreate{},
		Response: readapi.FlowTemplateRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.create})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/flow-templates/{template_id}", Access: access.Own("templates", "modify"), Tag: "Flows",
		Summary: "Update Flow Template",
		Description: "Change a template (its creator or a superuser). Someone else gets 403 if the template is visible " +
			"to them, 404 if not.",
		Params: templateID, Body: TemplateUpdate{}, Response: readapi.FlowTemplateRead{}, ReadModels: models, LargeBody: true, Handler: h.update})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/flow-templates/{template_id}", Access: access.Own("templates", "delete"), Tag: "Flows",
		Summary: "Delete Flow Template",
		Description: "Delete a template (its creator or a superuser; others as for update). " +
			"Answers {\"detail\": \"Template deleted\"}.",
		Params: templateID, Response: Detail{}, ReadModels: models, Handler: h.delete})
}

// CreateTemplate makes template of flow flowID for caller from the flow's
// current draft, as in.
func (h *Templates) CreateTemplate(ctx context.Context, caller auth.Principal, flowID uuid.UUID, in TemplateCreate, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	scope := domain.TemplateScopeTenant
	if in.Scope != nil {
		scope = *in.Scope
	}
	var business int64
	if in.BusinessID != nil {
		business = *in.BusinessID
	}
	if err := domain.ValidTemplateScope(scope, business); err != nil {
		// scope itself passed the binding: the business_id is what is wrong.
		return uuid.Nil, eventstore.AppendResult{}, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{
			Type: "value_error", Loc: []any{"body", "business_id"}, Msg: "Value error, " + err.Error(), Input: in.BusinessID}}}
	}
	if scope == domain.TemplateScopeSystem && !caller.IsSuperuser {
		return uuid.Nil, eventstore.AppendResult{}, domain.Forbiddenf(msgSystemTemplateForbidden)
	}
	f, err := LoadOwnFlow(ctx, h.Repo, caller, flowID)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	if err := templateBusinessIn(ctx, h.Pool, f.Placement().TenantID, business); err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	if f.Deleted() {
		return uuid.Nil, eventstore.AppendResult{}, domain.NotFoundf(msgFlowNotFound)
	}
	id := uuid.New()
	t, err := domain.CreateFlowTemplate(id, domain.NewFlowTemplate{
		FlowID: f.ID(), UserID: caller.UserID, Content: domain.TemplateContentOf(in.Name, f.Content()),
		Scope: scope, TenantID: f.Placement().TenantID, BusinessID: business, Note: deref(in.Note),
	})
	if err != nil {
		return id, eventstore.AppendResult{}, err
	}
	res, err := h.Repo.Save(ctx, t, md)
	return id, res, err
}

func (h *Templates) create(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	flowID, ok := httpapi.PathUUID(c, "flow_id")
	if !ok {
		return
	}
	var body TemplateCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	id, res, err := h.CreateTemplate(ctx, caller, flowID, body, httpapi.Metadata(c, h.Clock()))
	h.answer(c, id, res, err, http.StatusCreated)
}

// LoadTemplateToChange loads template id for caller to change or delete:
// its creator and superusers may, and for a tenant or business template
// whoever holds the route's privilege there; anyone else gets 403 if the
// template is visible to them (readapi.TemplateVisibility), else 404, as
// for a missing or deleted one.
func LoadTemplateToChange(ctx context.Context, repo *Repository, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (*domain.FlowTemplate, error) {
	t := domain.LoadFlowTemplate(id)
	if err := repo.Load(ctx, t); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.NotFoundf(msgTemplateNotFound)
		}
		return nil, err
	}
	if !t.Exists() {
		return nil, domain.NotFoundf(msgTemplateNotFound)
	}
	if t.UserID() == caller.UserID || caller.IsSuperuser {
		return t, nil
	}
	visible, err := readapi.TemplateVisible(ctx, pool, caller, id)
	if err != nil {
		return nil, err
	}
	if !visible {
		return nil, domain.NotFoundf(msgTemplateNotFound)
	}
	// A tenant or business template: those who hold the route's privilege
	// (templates.modify / templates.delete) where it lives may change it.
	if s := t.Scope(); (s == domain.TemplateScopeTenant || s == domain.TemplateScopeBusiness) &&
		tenancy.Authorize(ctx, tenancy.OrSystem(t.TenantID()), t.BusinessID()) == nil {
		return t, nil
	}
	return nil, domain.Forbiddenf(msgTemplateNotYours)
}

// templateOp runs a command on one template: load for the caller, decide,
// save. A lost race is a 409, never a silent retry.
func (h *Templates) templateOp(c *gin.Context, decide func(t *domain.FlowTemplate) error) (uuid.UUID, eventstore.AppendResult, error) {
	ctx := c.Request.Context()
	caller, err := auth.Caller(ctx)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	id, _ := httpapi.PathUUID(c, "template_id") // checked by the handler
	t, err := LoadTemplateToChange(ctx, h.Repo, h.Pool, caller, id)
	if err != nil {
		return id, eventstore.AppendResult{}, err
	}
	if err := decide(t); err != nil {
		return id, eventstore.AppendResult{}, err
	}
	res, err := h.Repo.Save(ctx, t, httpapi.Metadata(c, h.Clock()))
	if _, raced := errors.AsType[*eventstore.WrongExpectedVersionError](err); raced {
		return id, res, domain.Conflictf(msgTemplateChangedMeantime)
	}
	return id, res, err
}

func (h *Templates) update(c *gin.Context) {
	if _, ok := httpapi.PathUUID(c, "template_id"); !ok {
		return
	}
	var body TemplateUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	id, res, err := h.templateOp(c, func(t *domain.FlowTemplate) error {
		if body.BusinessID != nil {
			if err := templateBusinessIn(c.Request.Context(), h.Pool, t.TenantID(), *body.BusinessID); err != nil {
				return err
			}
		}
		return t.Update(domain.TemplateChange{
			Name: body.Name, Description: body.Description, FlowSkill: body.FlowSkill, Icon: body.Icon,
			IconBgColor: body.IconBgColor, Gradient: body.Gradient, FlowType: body.FlowType, Data: nullToNil(body.Data),
			Tags: body.Tags, BusinessID: body.BusinessID, IsSelf: body.IsSelf,
		})
	})
	h.answer(c, id, res, err, http.StatusOK)
}

func (h *Templates) delete(c *gin.Context) {
	if _, ok := httpapi.PathUUID(c, "template_id"); !ok {
		return
	}
	_, res, err := h.templateOp(c, func(t *domain.FlowTemplate) error { return t.Delete() })
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: msgTemplateDeleted})
}

// templateBusinessIn checks that a business template's business (0: none)
// is of the template's tenant (the system tenant when it has none).
func templateBusinessIn(ctx context.Context, pool *pgxpool.Pool, tenant *uuid.UUID, business int64) error {
	return tenancy.InTenant(ctx, pool, tenancy.OrSystem(tenant),
		tenancy.Place{Kind: tenancy.PlaceBusiness, ID: business, Where: []any{"body", "business_id"}})
}

// answer answers a write on a template with its row, once the read model
// shows the write (a change that changed nothing wrote nothing).
func (h *Templates) answer(c *gin.Context, id uuid.UUID, res eventstore.AppendResult, err error, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.FlowTemplateRead, error) {
		return readapi.TemplateByID(ctx, db, id)
	})
}
