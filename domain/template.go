package domain

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Scopes of a flow template: who it is offered to (see
// readapi.TemplateVisibility for the rule that reads them).
const (
	TemplateScopeSystem   = "system"
	TemplateScopeTenant   = "tenant"
	TemplateScopeBusiness = "business"
	TemplateScopePersonal = "personal"
)

// TemplateScopes lists the scopes, in the contract's order.
var TemplateScopes = []string{TemplateScopeSystem, TemplateScopeTenant, TemplateScopeBusiness, TemplateScopePersonal}

// Limits of template fields.
const (
	MaxTemplateNameLength = 255
	MaxTemplateNoteLength = 2000
)

// FlowTemplate is a reusable starting point made from a flow (stream
// flow_template-<uuid>). It keeps its creator, scope and content; it does
// not follow the flow it was made from.
type FlowTemplate struct {
	root       Root
	id         uuid.UUID
	flowID     uuid.UUID
	userID     int64
	content    TemplateContent
	scope      string
	tenantID   *uuid.UUID
	businessID int64
	note       string
	deleted    bool
	updatedAt  time.Time
}

// NewFlowTemplate is what CreateFlowTemplate needs. Who may create which
// scope (system templates are for superusers) is the caller's decision.
type NewFlowTemplate struct {
	FlowID     uuid.UUID
	UserID     int64
	Content    TemplateContent
	Scope      string
	TenantID   *uuid.UUID
	BusinessID int64
	Note       string
}

// TemplateContentOf is the part of a flow's content a template named name
// captures. A template is shared with its scope, so it does not capture
// the values of the flow's password fields (MaskPasswordFields), as
// Langflow empties API keys in what it shares.
func TemplateContentOf(name string, c FlowContent) TemplateContent {
	return TemplateContent{
		Name: name, Description: c.Description, FlowSkill: c.FlowSkill, Icon: c.Icon, IconBgColor: c.IconBgColor,
		Gradient: c.Gradient, Data: MaskPasswordFields(c.Data), Tags: slices.Clone(c.Tags), FlowType: c.FlowType,
	}
}

// CreateFlowTemplate starts template id. A business template names its
// business; no other scope takes one.
func CreateFlowTemplate(id uuid.UUID, n NewFlowTemplate) (*FlowTemplate, error) {
	c := n.Content
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if err := ValidTemplateContent(c); err != nil {
		return nil, err
	}
	if err := ValidTemplateScope(n.Scope, n.BusinessID); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(n.Note) > MaxTemplateNoteLength {
		return nil, Invalidf("note must be at most %d characters", MaxTemplateNoteLength)
	}
	tenant := n.TenantID
	if n.Scope == TemplateScopeSystem {
		tenant = nil // a system template belongs to no tenant
	}
	t := &FlowTemplate{}
	record(t, FlowTemplateCreated{TemplateID: id, FlowID: n.FlowID, UserID: n.UserID, Content: c, Scope: n.Scope,
		TenantID: tenant, BusinessID: n.BusinessID, Note: n.Note})
	return t, nil
}

// ValidTemplateScope checks a scope and its business: business templates
// need business_id, the others must not have one.
func ValidTemplateScope(scope string, businessID int64) error {
	switch {
	case !slices.Contains(TemplateScopes, scope):
		return Invalidf("scope must be one of %s", strings.Join(TemplateScopes, ", "))
	case businessID < 0:
		return Invalidf("business_id must not be negative")
	case scope == TemplateScopeBusiness && businessID == 0:
		return Invalidf("business_id is required for a business template")
	case scope != TemplateScopeBusiness && businessID != 0:
		return Invalidf("business_id is only allowed for a business template")
	}
	return nil
}

// ValidTemplateContent checks a template's content.
func ValidTemplateContent(c TemplateContent) error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return Invalidf("name must not be empty")
	case utf8.RuneCountInString(c.Name) > MaxTemplateNameLength:
		return Invalidf("name must be at most %d characters", MaxTemplateNameLength)
	case c.Data != nil && !json.Valid(c.Data):
		return Invalidf("data must be JSON")
	}
	return nil
}

// LoadFlowTemplate returns an empty template to fold the stream of id into.
func LoadFlowTemplate(id uuid.UUID) *FlowTemplate { return &FlowTemplate{id: id} }

// FlowTemplateStream names the stream of template id.
func FlowTemplateStream(id uuid.UUID) string { return "flow_template-" + id.String() }

// StreamID implements commands.Aggregate.
func (t *FlowTemplate) StreamID() string { return FlowTemplateStream(t.id) }

// Root implements commands.Aggregate.
func (t *FlowTemplate) Root() *Root { return &t.root }

// Stamp implements Timed.
func (t *FlowTemplate) Stamp(at time.Time) { t.updatedAt = at }

// The template's state.
func (t *FlowTemplate) ID() uuid.UUID            { return t.id }
func (t *FlowTemplate) FlowID() uuid.UUID        { return t.flowID }
func (t *FlowTemplate) UserID() int64            { return t.userID }
func (t *FlowTemplate) Content() TemplateContent { return t.content }
func (t *FlowTemplate) Scope() string            { return t.scope }
func (t *FlowTemplate) TenantID() *uuid.UUID     { return t.tenantID }
func (t *FlowTemplate) BusinessID() int64        { return t.businessID }
func (t *FlowTemplate) Note() string             { return t.note }
func (t *FlowTemplate) Deleted() bool            { return t.deleted }
func (t *FlowTemplate) UpdatedAt() time.Time     { return t.updatedAt }

// Exists tells whether the stream held a template that is not deleted.
func (t *FlowTemplate) Exists() bool {
	_, stored := t.root.Revision()
	return (stored || len(t.root.Pending()) > 0) && !t.deleted
}

// TemplateChange holds the fields of a template to set; nil leaves one as
// it is. IsSelf and BusinessID are the contract's way of moving a template
// between scopes: is_self true makes it personal, false makes a personal
// one a tenant template; a business_id above 0 makes it a business
// template, 0 makes a business one a tenant template. System templates
// stay system unless one of them asks for personal or a business.
type TemplateChange struct {
	Name, Description, FlowSkill, Icon, IconBgColor, Gradient, FlowType *string
	Data                                                                json.RawMessage
	Tags                                                                *[]string
	BusinessID                                                          *int64
	IsSelf                                                              *bool
}

// Update applies change as one event holding what changed (none when
// nothing does).
func (t *FlowTemplate) Update(ch TemplateChange) error {
	if t.deleted {
		return NotFoundf("Template not found")
	}
	scope, business, err := t.movedScope(ch)
	if err != nil {
		return err
	}
	next := t.content
	for _, f := range []struct {
		dst *string
		v   *string
	}{
		{&next.Name, ch.Name}, {&next.Description, ch.Description}, {&next.FlowSkill, ch.FlowSkill}, {&next.Icon, ch.Icon},
		{&next.IconBgColor, ch.IconBgColor}, {&next.Gradient, ch.Gradient}, {&next.FlowType, ch.FlowType},
	} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if ch.Data != nil {
		next.Data = ch.Data
	}
	if ch.Tags != nil {
		next.Tags = *ch.Tags
	}
	if err := ValidTemplateContent(next); err != nil {
		return err
	}
	if err := ValidTemplateScope(scope, business); err != nil {
		return err
	}
	cur := t.content
	diff := func(v *string, was string) *string {
		if v != nil && *v != was {
			return v
		}
		return nil
	}
	e := FlowTemplateUpdated{TemplateID: t.id, Name: diff(ch.Name, cur.Name), Description: diff(ch.Description, cur.Description),
		FlowSkill: diff(ch.FlowSkill, cur.FlowSkill), Icon: diff(ch.Icon, cur.Icon), IconBgColor: diff(ch.IconBgColor, cur.IconBgColor),
		Gradient: diff(ch.Gradient, cur.Gradient), FlowType: diff(ch.FlowType, cur.FlowType)}
	if ch.Data != nil && !JSONEqual(ch.Data, cur.Data) {
		e.Data = ch.Data
	}
	if ch.Tags != nil && !slices.Equal(*ch.Tags, cur.Tags) {
		tags := slices.Clone(*ch.Tags)
		if tags == nil {
			tags = []string{}
		}
		e.Tags = &tags
	}
	if scope != t.scope || business != t.businessID {
		e.Scope, e.BusinessID = &scope, &business
	}
	if e.Name == nil && e.Description == nil && e.FlowSkill == nil && e.Icon == nil && e.IconBgColor == nil &&
		e.Gradient == nil && e.FlowType == nil && e.Data == nil && e.Tags == nil && e.Scope == nil {
		return nil
	}
	record(t, e)
	return nil
}

// movedScope is the scope and business change asks for (see TemplateChange).
func (t *FlowTemplate) movedScope(ch TemplateChange) (string, int64, error) {
	scope, business := t.scope, t.businessID
	if ch.IsSelf != nil && *ch.IsSelf && ch.BusinessID != nil && *ch.BusinessID != 0 {
		return "", 0, Invalidf("a template is either personal (is_self) or of a business (business_id), not both")
	}
	if ch.BusinessID != nil {
		switch b := *ch.BusinessID; {
		case b < 0:
			return "", 0, Invalidf("business_id must not be negative")
		case b > 0:
			scope, business = TemplateScopeBusiness, b
		case scope == TemplateScopeBusiness:
			scope, business = TemplateScopeTenant, 0
		}
	}
	if ch.IsSelf != nil {
		switch {
		case *ch.IsSelf:
			scope, business = TemplateScopePersonal, 0
		case scope == TemplateScopePersonal:
			scope = TemplateScopeTenant
		}
	}
	return scope, business, nil
}

// Delete removes the template; deleting a deleted one is not found.
func (t *FlowTemplate) Delete() error {
	if t.deleted {
		return NotFoundf("Template not found")
	}
	record(t, FlowTemplateDeleted{TemplateID: t.id})
	return nil
}

// Apply implements commands.Aggregate.
func (t *FlowTemplate) Apply(e Event) {
	c := &t.content
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	switch e := e.(type) {
	case FlowTemplateCreated:
		t.id, t.flowID, t.userID, t.content = e.TemplateID, e.FlowID, e.UserID, e.Content
		t.scope, t.tenantID, t.businessID, t.note = e.Scope, e.TenantID, e.BusinessID, e.Note
	case FlowTemplateUpdated:
		set(&c.Name, e.Name)
		set(&c.Description, e.Description)
		set(&c.FlowSkill, e.FlowSkill)
		set(&c.Icon, e.Icon)
		set(&c.IconBgColor, e.IconBgColor)
		set(&c.Gradient, e.Gradient)
		set(&c.FlowType, e.FlowType)
		if e.Data != nil {
			c.Data = e.Data
		}
		if e.Tags != nil {
			c.Tags = *e.Tags
		}
		set(&t.scope, e.Scope)
		if e.BusinessID != nil {
			t.businessID = *e.BusinessID
		}
	case FlowTemplateDeleted:
		t.deleted = true
	}
}
