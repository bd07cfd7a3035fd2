package commands

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of flow templates: each is a command value and one method
// of Templates that loads, decides and saves, with no HTTP in sight
// (ports.Templates binds, calls and answers).

// The answers of template writes.
const (
	msgTemplateNotFound        = "Template not found"
	msgSystemTemplateForbidden = "Only superusers can create system templates"
	msgTemplateNotYours        = "Only the template's creator, a superuser or a holder of the privilege where it lives can change it"
	msgTemplateChangedMeantime = "The template was changed by another request at the same time: reload it and apply your change again"
)

// TemplateReads is the read-model lookup the template commands decide
// with (the port wraps the read side's query).
type TemplateReads interface {
	// TemplateVisible tells whether template id exists and caller may see
	// it.
	TemplateVisible(ctx context.Context, caller auth.Principal, id uuid.UUID) (bool, error)
}

// Templates handles the commands of flow templates.
type Templates struct {
	Repo  *Repository
	Pool  *pgxpool.Pool
	Reads TemplateReads
}

// CreateTemplate makes a template of the caller's flow FlowID from the
// flow's current draft. Scope nil is "tenant"; a business template needs
// BusinessID.
type CreateTemplate struct {
	Caller     auth.Principal
	Meta       eventstore.Metadata
	FlowID     uuid.UUID
	Name       string
	Note       *string
	Scope      *string
	BusinessID *int64
}

// UpdateTemplate changes template ID: nil fields stay as they are. IsSelf
// true makes the template personal (false makes a personal one a tenant
// template); BusinessID > 0 makes it a business template (0 makes a
// business one a tenant template).
type UpdateTemplate struct {
	Caller      auth.Principal
	Meta        eventstore.Metadata
	ID          uuid.UUID
	Name        *string
	Description *string
	FlowSkill   *string
	FlowType    *string
	Icon        *string
	IconBgColor *string
	Gradient    *string
	Data        json.RawMessage
	Tags        *[]string
	BusinessID  *int64
	IsSelf      *bool
}

// DeleteTemplate deletes template ID.
type DeleteTemplate struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	ID     uuid.UUID
}

// TemplateWritten is what a template command did.
type TemplateWritten struct {
	ID     uuid.UUID
	Result eventstore.AppendResult
}

// Create handles CreateTemplate.
func (h *Templates) Create(ctx context.Context, cmd CreateTemplate) (TemplateWritten, error) {
	scope := domain.TemplateScopeTenant
	if cmd.Scope != nil {
		scope = *cmd.Scope
	}
	var business int64
	if cmd.BusinessID != nil {
		business = *cmd.BusinessID
	}
	if err := domain.ValidTemplateScope(scope, business); err != nil {
		// scope itself passed the binding: the business_id is what is wrong.
		return TemplateWritten{}, &domain.FieldError{Loc: []any{"body", "business_id"}, Message: err.Error(), Input: cmd.BusinessID}
	}
	if scope == domain.TemplateScopeSystem && !cmd.Caller.IsSuperuser {
		return TemplateWritten{}, domain.Forbiddenf(msgSystemTemplateForbidden)
	}
	f, err := LoadOwnFlow(ctx, h.Repo, cmd.Caller, cmd.FlowID)
	if err != nil {
		return TemplateWritten{}, err
	}
	if err := templateBusinessIn(ctx, h.Pool, f.Placement().TenantID, business); err != nil {
		return TemplateWritten{}, err
	}
	if f.Deleted() {
		return TemplateWritten{}, domain.NotFoundf(msgFlowNotFound)
	}
	id := uuid.New()
	t, err := domain.CreateFlowTemplate(id, domain.NewFlowTemplate{
		FlowID: f.ID(), UserID: cmd.Caller.UserID, Content: domain.TemplateContentOf(cmd.Name, f.Content()),
		Scope: scope, TenantID: f.Placement().TenantID, BusinessID: business, Note: deref(cmd.Note),
	})
	if err != nil {
		return TemplateWritten{ID: id}, err
	}
	res, err := h.Repo.Save(ctx, t, cmd.Meta)
	return TemplateWritten{ID: id, Result: res}, err
}

// LoadTemplateToChange loads template id for caller to change or delete:
// its creator and superusers may, and for a tenant or business template
// whoever holds the operation's privilege there; anyone else gets 403 if
// the template is visible to them (Reads.TemplateVisible), else 404, as
// for a missing or deleted one.
func (h *Templates) LoadTemplateToChange(ctx context.Context, caller auth.Principal, id uuid.UUID) (*domain.FlowTemplate, error) {
	t := domain.LoadFlowTemplate(id)
	if err := h.Repo.Load(ctx, t); err != nil {
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
	visible, err := h.Reads.TemplateVisible(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if !visible {
		return nil, domain.NotFoundf(msgTemplateNotFound)
	}
	// A tenant or business template: those who hold the operation's
	// privilege (templates.modify / templates.delete) where it lives may
	// change it.
	if s := t.Scope(); (s == domain.TemplateScopeTenant || s == domain.TemplateScopeBusiness) &&
		tenancy.Authorize(ctx, tenancy.OrSystem(t.TenantID()), t.BusinessID()) == nil {
		return t, nil
	}
	return nil, domain.Forbiddenf(msgTemplateNotYours)
}

// templateOp runs a command on template id: load for caller, decide,
// save. A lost race is a 409, never a silent retry.
func (h *Templates) templateOp(ctx context.Context, caller auth.Principal, id uuid.UUID, md eventstore.Metadata,
	decide func(t *domain.FlowTemplate) error) (TemplateWritten, error) {
	t, err := h.LoadTemplateToChange(ctx, caller, id)
	if err != nil {
		return TemplateWritten{ID: id}, err
	}
	if err := decide(t); err != nil {
		return TemplateWritten{ID: id}, err
	}
	res, err := h.Repo.Save(ctx, t, md)
	return TemplateWritten{ID: id, Result: res}, busyIf(err, msgTemplateChangedMeantime)
}

// Update handles UpdateTemplate (a change that changes nothing writes
// nothing).
func (h *Templates) Update(ctx context.Context, cmd UpdateTemplate) (TemplateWritten, error) {
	return h.templateOp(ctx, cmd.Caller, cmd.ID, cmd.Meta, func(t *domain.FlowTemplate) error {
		if cmd.BusinessID != nil {
			if err := templateBusinessIn(ctx, h.Pool, t.TenantID(), *cmd.BusinessID); err != nil {
				return err
			}
		}
		return t.Update(domain.TemplateChange{
			Name: cmd.Name, Description: cmd.Description, FlowSkill: cmd.FlowSkill, Icon: cmd.Icon,
			IconBgColor: cmd.IconBgColor, Gradient: cmd.Gradient, FlowType: cmd.FlowType, Data: nullToNil(cmd.Data),
			Tags: cmd.Tags, BusinessID: cmd.BusinessID, IsSelf: cmd.IsSelf,
		})
	})
}

// Delete handles DeleteTemplate.
func (h *Templates) Delete(ctx context.Context, cmd DeleteTemplate) (TemplateWritten, error) {
	return h.templateOp(ctx, cmd.Caller, cmd.ID, cmd.Meta, func(t *domain.FlowTemplate) error { return t.Delete() })
}

// templateBusinessIn checks that a business template's business (0: none)
// is of the template's tenant (the system tenant when it has none).
func templateBusinessIn(ctx context.Context, pool *pgxpool.Pool, tenant *uuid.UUID, business int64) error {
	return tenancy.InTenant(ctx, pool, tenancy.OrSystem(tenant),
		tenancy.Place{Kind: tenancy.PlaceBusiness, ID: business, Where: []any{"body", "business_id"}})
}
