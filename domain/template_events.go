package domain

import (
	"encoding/json"

	"github.com/google/uuid"
)

// TemplateContent is what a flow template offers to start a flow from: the
// part of a flow's content that describes the graph, under the template's
// own name.
type TemplateContent struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	FlowSkill   string          `json:"flow_skill"`
	Icon        string          `json:"icon"`
	IconBgColor string          `json:"icon_bg_color"`
	Gradient    string          `json:"gradient"`
	Data        json.RawMessage `json:"data,omitempty"`
	Tags        []string        `json:"tags"`
	FlowType    string          `json:"flow_type"`
}

// FlowTemplateCreated records a template made by user UserID from the
// draft of flow FlowID as it stood then (Content carries it in full: the
// event alone says what the template is).
type FlowTemplateCreated struct {
	TemplateID uuid.UUID       `json:"template_id"`
	FlowID     uuid.UUID       `json:"flow_id"`
	UserID     int64           `json:"user_id"`
	Content    TemplateContent `json:"content"`
	Scope      string          `json:"scope"`
	TenantID   *uuid.UUID      `json:"tenant_id,omitempty"`
	BusinessID int64           `json:"business_id,omitempty"`
	Note       string          `json:"note,omitempty"`
}

// FlowTemplateUpdated records an edit of a template; absent fields did not
// change. Scope and BusinessID move together (a template is personal, of a
// business, of the tenant or of the system).
type FlowTemplateUpdated struct {
	TemplateID  uuid.UUID       `json:"template_id"`
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	FlowSkill   *string         `json:"flow_skill,omitempty"`
	Icon        *string         `json:"icon,omitempty"`
	IconBgColor *string         `json:"icon_bg_color,omitempty"`
	Gradient    *string         `json:"gradient,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Tags        *[]string       `json:"tags,omitempty"`
	FlowType    *string         `json:"flow_type,omitempty"`
	Scope       *string         `json:"scope,omitempty"`
	BusinessID  *int64          `json:"business_id,omitempty"`
}

// FlowTemplateDeleted records that a template is gone.
type FlowTemplateDeleted struct {
	TemplateID uuid.UUID `json:"template_id"`
}

func (FlowTemplateCreated) EventType() string { return "flow_template.created" }
func (FlowTemplateUpdated) EventType() string { return "flow_template.updated" }
func (FlowTemplateDeleted) EventType() string { return "flow_template.deleted" }

// FlowTemplateEvents lists the flow template events with their schema
// versions.
func FlowTemplateEvents() []Schema {
	return V1(FlowTemplateCreated{}, FlowTemplateUpdated{}, FlowTemplateDeleted{})
}
