package domain

import "github.com/google/uuid"

// The events of the component catalogue: component groups (stream
// component-groups-<tenant uuid>, the ComponentGroups aggregate; system
// groups live in the system tenant's) and components (stream
// component-<id>, one Component aggregate each: its history is its
// versions).

// ComponentGroupAdded records a new component group.
type ComponentGroupAdded struct {
	TenantID      uuid.UUID `json:"tenant_id"`
	GroupID       int64     `json:"group_id"`
	GroupName     string    `json:"group_name"`
	GroupEnName   string    `json:"group_en_name"`
	ComponentType string    `json:"component_type"`
	Icon          string    `json:"icon"`
	Tags          []string  `json:"tags"`
	OrderNum      int64     `json:"order_num"`
	IsActive      bool      `json:"is_active"`
	Note          string    `json:"note"`
	Scope         int       `json:"scope"`
	BusinessID    int64     `json:"business_id"`
	Creator       int64     `json:"creator"`
}

// ComponentGroupChanged records new values of a group's fields; absent
// fields did not change (Scope and BusinessID move together).
type ComponentGroupChanged struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	GroupID     int64     `json:"group_id"`
	GroupName   *string   `json:"group_name,omitempty"`
	GroupEnName *string   `json:"group_en_name,omitempty"`
	Icon        *string   `json:"icon,omitempty"`
	Tags        *[]string `json:"tags,omitempty"`
	OrderNum    *int64    `json:"order_num,omitempty"`
	IsActive    *bool     `json:"is_active,omitempty"`
	Note        *string   `json:"note,omitempty"`
	Scope       *int      `json:"scope,omitempty"`
	BusinessID  *int64    `json:"business_id,omitempty"`
}

// ComponentGroupRemoved records the removal of a group.
type ComponentGroupRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	GroupID  int64     `json:"group_id"`
}

// ComponentAdded records a new component, its version 1.
type ComponentAdded struct {
	TenantID       uuid.UUID `json:"tenant_id"`
	ComponentID    int64     `json:"component_id"`
	GroupID        int64     `json:"component_group_id"`
	ComponentName  string    `json:"component_name"`
	DisplayName    string    `json:"display_name"`
	Icon           string    `json:"icon"`
	Tag            string    `json:"tag"`
	Code           string    `json:"code"`
	ComponentSkill string    `json:"component_skill"`
	Note           string    `json:"note"`
	VersionNote    string    `json:"version_note"`
	IsActive       bool      `json:"is_active"`
	IsLegacy       bool      `json:"is_legacy"`
	IsDeprecated   bool      `json:"is_deprecated"`
	Scope          int       `json:"scope"`
	BusinessID     int64     `json:"business_id"`
	Creator        int64     `json:"creator"`
}

// ComponentChanged records new values of a component's fields; absent
// fields did not change. Version is set (with VersionNote) when code or
// component_skill changed: the event is that version. TenantID is the
// tenant the component lives in after the change (a move between the
// system scope and the others changes it).
type ComponentChanged struct {
	TenantID       uuid.UUID `json:"tenant_id"`
	ComponentID    int64     `json:"component_id"`
	GroupID        *int64    `json:"component_group_id,omitempty"`
	ComponentName  *string   `json:"component_name,omitempty"`
	DisplayName    *string   `json:"display_name,omitempty"`
	Icon           *string   `json:"icon,omitempty"`
	Tag            *string   `json:"tag,omitempty"`
	Code           *string   `json:"code,omitempty"`
	ComponentSkill *string   `json:"component_skill,omitempty"`
	Note           *string   `json:"note,omitempty"`
	IsActive       *bool     `json:"is_active,omitempty"`
	IsLegacy       *bool     `json:"is_legacy,omitempty"`
	IsDeprecated   *bool     `json:"is_deprecated,omitempty"`
	Scope          *int      `json:"scope,omitempty"`
	BusinessID     *int64    `json:"business_id,omitempty"`
	Version        *int      `json:"version,omitempty"`
	VersionNote    *string   `json:"version_note,omitempty"`
}

// ComponentRemoved records the removal of a component.
type ComponentRemoved struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	ComponentID int64     `json:"component_id"`
}

func (ComponentGroupAdded) EventType() string   { return "component_group.added" }
func (ComponentGroupChanged) EventType() string { return "component_group.changed" }
func (ComponentGroupRemoved) EventType() string { return "component_group.removed" }
func (ComponentAdded) EventType() string        { return "component.added" }
func (ComponentChanged) EventType() string      { return "component.changed" }
func (ComponentRemoved) EventType() string      { return "component.removed" }

// ComponentEvents lists the event types of the component catalogue, for
// the registry.
func ComponentEvents() []Schema {
	return V1(ComponentGroupAdded{}, ComponentGroupChanged{}, ComponentGroupRemoved{},
		ComponentAdded{}, ComponentChanged{}, ComponentRemoved{})
}
