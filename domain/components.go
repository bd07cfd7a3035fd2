package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The bounds and messages of the component catalogue.
const (
	MaxComponentNameLength = 255
	MsgComponentNotFound   = "Component not found"
	MsgGroupNotFound       = "Component group not found"
)

// The component types of a group.
const (
	ComponentTypeComponent = "component"
	ComponentTypeBundle    = "bundle"
)

// ValidComponentType checks a group's component_type.
func ValidComponentType(t string) error {
	if t != ComponentTypeComponent && t != ComponentTypeBundle {
		return Invalidf("component_type must be %q or %q, not %q", ComponentTypeComponent, ComponentTypeBundle, t)
	}
	return nil
}

// ComponentGroups is every component group of one tenant (stream
// component-groups-<tenant uuid>; system groups, scope 0, live in the
// system tenant's). group_en_name is unique per place (scope, business,
// and creator for personal groups), checked here, never on a read model.
// Ids come from sequence component_group_id_seq.
type ComponentGroups struct {
	root   Root
	tenant uuid.UUID
	groups map[int64]*ComponentGroupEntry
}

// ComponentGroupEntry is a group as the aggregate knows it.
type ComponentGroupEntry struct {
	GroupID       int64    `json:"group_id"`
	GroupName     string   `json:"group_name"`
	GroupEnName   string   `json:"group_en_name"`
	ComponentType string   `json:"component_type"`
	Icon          string   `json:"icon"`
	Tags          []string `json:"tags"`
	OrderNum      int64    `json:"order_num"`
	IsActive      bool     `json:"is_active"`
	Note          string   `json:"note"`
	Scope         int      `json:"scope"`
	BusinessID    int64    `json:"business_id"`
	Creator       int64    `json:"creator"`
}

// Place is where the group lives.
func (g ComponentGroupEntry) Place() CatalogPlace {
	return CatalogPlace{Scope: g.Scope, BusinessID: g.BusinessID, Creator: g.Creator}
}

// ComponentGroupsState is what AuditState returns: the groups by id.
type ComponentGroupsState struct {
	Groups []ComponentGroupEntry `json:"groups"`
}

// LoadComponentGroups returns the empty groups of tenant.
func LoadComponentGroups(tenant uuid.UUID) *ComponentGroups {
	return &ComponentGroups{tenant: tenant, groups: map[int64]*ComponentGroupEntry{}}
}

// ComponentGroupsStream names the stream of tenant's component groups.
func ComponentGroupsStream(tenant uuid.UUID) string { return "component-groups-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (g *ComponentGroups) StreamID() string { return ComponentGroupsStream(g.tenant) }

// Root implements commands.Aggregate.
func (g *ComponentGroups) Root() *Root { return &g.root }

// Group returns group id (ok false if the tenant has none such).
func (g *ComponentGroups) Group(id int64) (ComponentGroupEntry, bool) {
	e, ok := g.groups[id]
	if !ok {
		return ComponentGroupEntry{}, false
	}
	return *e, true
}

// AuditState returns the tenant's groups ordered by id, never nil.
func (g *ComponentGroups) AuditState() any {
	out := ComponentGroupsState{Groups: []ComponentGroupEntry{}}
	for _, e := range g.groups {
		out.Groups = append(out.Groups, *e)
	}
	slices.SortFunc(out.Groups, func(a, b ComponentGroupEntry) int { return cmp.Compare(a.GroupID, b.GroupID) })
	return out
}

// ComponentGroupSpec is a new group.
type ComponentGroupSpec struct {
	GroupName, GroupEnName, ComponentType, Icon, Note string
	Tags                                              []string
	OrderNum                                          int64
	IsActive                                          bool
	Scope                                             int
	BusinessID                                        int64
	Creator                                           int64
}

// Valid checks what needs no state.
func (s ComponentGroupSpec) Valid() error {
	if err := validText("group_name", s.GroupName, MaxComponentNameLength); err != nil {
		return err
	}
	if err := validText("group_en_name", s.GroupEnName, MaxComponentNameLength); err != nil {
		return err
	}
	if err := ValidComponentType(s.ComponentType); err != nil {
		return err
	}
	return ValidCatalogScope("scope", s.Scope, s.BusinessID)
}

func groupKey(scope int, business, creator int64, enName string) string {
	if scope != CatalogScopePersonal {
		creator = 0
	}
	return fmt.Sprintf("%d/%d/%d/%s", scope, business, creator, strings.ToLower(enName))
}

func (g *ComponentGroups) taken(key string, except int64) (int64, bool) {
	for id, e := range g.groups {
		if id != except && groupKey(e.Scope, e.BusinessID, e.Creator, e.GroupEnName) == key {
			return id, true
		}
	}
	return 0, false
}

// Add creates group id; its group_en_name must be free at its place (409).
func (g *ComponentGroups) Add(id int64, s ComponentGroupSpec) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if _, dup := g.groups[id]; dup {
		return Conflictf("Component group %d already exists", id)
	}
	if other, ok := g.taken(groupKey(s.Scope, s.BusinessID, s.Creator, s.GroupEnName), 0); ok {
		return Conflictf("group_en_name %q is already used by component group %d", s.GroupEnName, other)
	}
	tags := s.Tags
	if tags == nil {
		tags = []string{}
	}
	record(g, ComponentGroupAdded{TenantID: g.tenant, GroupID: id, GroupName: s.GroupName, GroupEnName: s.GroupEnName,
		ComponentType: s.ComponentType, Icon: s.Icon, Tags: tags, OrderNum: s.OrderNum, IsActive: s.IsActive, Note: s.Note,
		Scope: s.Scope, BusinessID: s.BusinessID, Creator: s.Creator})
	return nil
}

// ComponentGroupChange is a change of a group (nil: as it is). Scope and
// BusinessID, when either is set, give the new place (both resolved by
// the caller).
type ComponentGroupChange struct {
	GroupName, GroupEnName, Icon, Note *string
	Tags                               *[]string
	OrderNum                           *int64
	IsActive                           *bool
	Scope                              *int
	BusinessID                         *int64
}

// Change records the fields of ch that differ from group id's.
func (g *ComponentGroups) Change(id int64, ch ComponentGroupChange) error {
	cur, ok := g.groups[id]
	if !ok {
		return NotFoundf(MsgGroupNotFound)
	}
	for f, v := range map[string]*string{"group_name": ch.GroupName, "group_en_name": ch.GroupEnName} {
		if v != nil {
			if err := validText(f, *v, MaxComponentNameLength); err != nil {
				return err
			}
		}
	}
	scope, business := cur.Scope, cur.BusinessID
	setIf(&scope, ch.Scope)
	setIf(&business, ch.BusinessID)
	if err := ValidCatalogScope("scope", scope, business); err != nil {
		return err
	}
	enName := cur.GroupEnName
	setIf(&enName, ch.GroupEnName)
	if other, ok := g.taken(groupKey(scope, business, cur.Creator, enName), id); ok {
		return Conflictf("group_en_name %q is already used by component group %d", enName, other)
	}
	e := ComponentGroupChanged{TenantID: g.tenant, GroupID: id, GroupName: differs(ch.GroupName, cur.GroupName),
		GroupEnName: differs(ch.GroupEnName, cur.GroupEnName), Icon: differs(ch.Icon, cur.Icon), Note: differs(ch.Note, cur.Note),
		OrderNum: differs(ch.OrderNum, cur.OrderNum), IsActive: differs(ch.IsActive, cur.IsActive),
		Scope: differs(&scope, cur.Scope), BusinessID: differs(&business, cur.BusinessID)}
	if e.Scope != nil || e.BusinessID != nil {
		e.Scope, e.BusinessID = &scope, &business
	}
	if ch.Tags != nil && !slices.Equal(*ch.Tags, cur.Tags) {
		tags := *ch.Tags
		if tags == nil {
			tags = []string{}
		}
		e.Tags = &tags
	}
	if e.GroupName != nil || e.GroupEnName != nil || e.Icon != nil || e.Note != nil || e.OrderNum != nil ||
		e.IsActive != nil || e.Scope != nil || e.Tags != nil {
		record(g, e)
	}
	return nil
}

// Remove removes group id (the caller checks it has no components).
func (g *ComponentGroups) Remove(id int64) error {
	if _, ok := g.groups[id]; !ok {
		return NotFoundf(MsgGroupNotFound)
	}
	record(g, ComponentGroupRemoved{TenantID: g.tenant, GroupID: id})
	return nil
}

// Apply implements commands.Aggregate.
func (g *ComponentGroups) Apply(e Event) {
	switch e := e.(type) {
	case ComponentGroupAdded:
		g.groups[e.GroupID] = &ComponentGroupEntry{GroupID: e.GroupID, GroupName: e.GroupName, GroupEnName: e.GroupEnName,
			ComponentType: e.ComponentType, Icon: e.Icon, Tags: e.Tags, OrderNum: e.OrderNum, IsActive: e.IsActive, Note: e.Note,
			Scope: e.Scope, BusinessID: e.BusinessID, Creator: e.Creator}
	case ComponentGroupChanged:
		if s, ok := g.groups[e.GroupID]; ok {
			setIf(&s.GroupName, e.GroupName)
			setIf(&s.GroupEnName, e.GroupEnName)
			setIf(&s.Icon, e.Icon)
			setIf(&s.Tags, e.Tags)
			setIf(&s.OrderNum, e.OrderNum)
			setIf(&s.IsActive, e.IsActive)
			setIf(&s.Note, e.Note)
			setIf(&s.Scope, e.Scope)
			setIf(&s.BusinessID, e.BusinessID)
		}
	case ComponentGroupRemoved:
		delete(g.groups, e.GroupID)
	}
}

// Component is one catalogue component (stream component-<id>): its
// history is its versions. Its code and component_skill are
// documentation: the engine never executes them.
type Component struct {
	root  Root
	id    int64
	state ComponentState
	gone  bool
}

// ComponentState is a component as the aggregate knows it.
type ComponentState struct {
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
	IsActive       bool      `json:"is_active"`
	IsLegacy       bool      `json:"is_legacy"`
	IsDeprecated   bool      `json:"is_deprecated"`
	Scope          int       `json:"scope"`
	BusinessID     int64     `json:"business_id"`
	Creator        int64     `json:"creator"`
	Version        int       `json:"version"`
}

// Place is where the component lives.
func (s ComponentState) Place() CatalogPlace {
	return CatalogPlace{Scope: s.Scope, BusinessID: s.BusinessID, Creator: s.Creator}
}

// LoadComponent returns the empty component id, to fold its stream into.
func LoadComponent(id int64) *Component { return &Component{id: id} }

// ComponentStream names the stream of component id.
func ComponentStream(id int64) string { return fmt.Sprintf("component-%d", id) }

// StreamID implements commands.Aggregate.
func (c *Component) StreamID() string { return ComponentStream(c.id) }

// Root implements commands.Aggregate.
func (c *Component) Root() *Root { return &c.root }

// State returns the component (ok false when it does not exist or was
// removed).
func (c *Component) State() (ComponentState, bool) {
	if c.gone || c.state.ComponentID == 0 {
		return ComponentState{}, false
	}
	return c.state, true
}

// ComponentSpec is a new component.
type ComponentSpec struct {
	TenantID                                                                       uuid.UUID
	GroupID                                                                        int64
	ComponentName, DisplayName, Icon, Tag, Code, ComponentSkill, Note, VersionNote string
	IsActive, IsLegacy, IsDeprecated                                               bool
	Scope                                                                          int
	BusinessID                                                                     int64
	Creator                                                                        int64
}

// Valid checks what needs no state.
func (s ComponentSpec) Valid() error {
	if s.ComponentName != "" {
		if err := validText("component_name", s.ComponentName, MaxComponentNameLength); err != nil {
			return err
		}
	}
	if s.GroupID <= 0 {
		return Invalidf("component_group_id must be a positive integer")
	}
	return ValidCatalogScope("scope", s.Scope, s.BusinessID)
}

// Add creates the component, its version 1.
func (c *Component) Add(s ComponentSpec) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if _, exists := c.root.Revision(); exists {
		return Conflictf("Component %d already exists", c.id)
	}
	record(c, ComponentAdded{TenantID: s.TenantID, ComponentID: c.id, GroupID: s.GroupID, ComponentName: s.ComponentName,
		DisplayName: s.DisplayName, Icon: s.Icon, Tag: s.Tag, Code: s.Code, ComponentSkill: s.ComponentSkill, Note: s.Note,
		VersionNote: s.VersionNote, IsActive: s.IsActive, IsLegacy: s.IsLegacy, IsDeprecated: s.IsDeprecated,
		Scope: s.Scope, BusinessID: s.BusinessID, Creator: s.Creator})
	return nil
}

// ComponentChange is a change of a component (nil: as it is). Scope and
// BusinessID give the new place (both resolved by the caller), TenantID
// the tenant it then lives in.
type ComponentChange struct {
	TenantID                                                                       uuid.UUID
	GroupID                                                                        *int64
	ComponentName, DisplayName, Icon, Tag, Code, ComponentSkill, Note, VersionNote *string
	IsActive, IsLegacy, IsDeprecated                                               *bool
	Scope                                                                          *int
	BusinessID                                                                     *int64
}

// Change records the fields of ch that differ, in one event; a change of
// code or component_skill is a new version (with VersionNote). Nothing is
// recorded when nothing differs.
func (c *Component) Change(ch ComponentChange) error {
	cur, ok := c.State()
	if !ok {
		return NotFoundf(MsgComponentNotFound)
	}
	if ch.ComponentName != nil && *ch.ComponentName != "" {
		if err := validText("component_name", *ch.ComponentName, MaxComponentNameLength); err != nil {
			return err
		}
	}
	if ch.GroupID != nil && *ch.GroupID <= 0 {
		return Invalidf("component_group_id must be a positive integer")
	}
	scope, business := cur.Scope, cur.BusinessID
	setIf(&scope, ch.Scope)
	setIf(&business, ch.BusinessID)
	if err := ValidCatalogScope("scope", scope, business); err != nil {
		return err
	}
	tenant := cur.TenantID
	if ch.TenantID != uuid.Nil {
		tenant = ch.TenantID
	}
	e := ComponentChanged{TenantID: tenant, ComponentID: c.id, GroupID: differs(ch.GroupID, cur.GroupID),
		ComponentName: differs(ch.ComponentName, cur.ComponentName), DisplayName: differs(ch.DisplayName, cur.DisplayName),
		Icon: differs(ch.Icon, cur.Icon), Tag: differs(ch.Tag, cur.Tag), Code: differs(ch.Code, cur.Code),
		ComponentSkill: differs(ch.ComponentSkill, cur.ComponentSkill), Note: differs(ch.Note, cur.Note),
		IsActive: differs(ch.IsActive, cur.IsActive), IsLegacy: differs(ch.IsLegacy, cur.IsLegacy),
		IsDeprecated: differs(ch.IsDeprecated, cur.IsDeprecated)}
	if scope != cur.Scope || business != cur.BusinessID || tenant != cur.TenantID {
		e.Scope, e.BusinessID = &scope, &business
	}
	if e.Code != nil || e.ComponentSkill != nil {
		v := cur.Version + 1
		note := ""
		setIf(&note, ch.VersionNote)
		e.Version, e.VersionNote = &v, &note
	}
	if e.GroupID != nil || e.ComponentName != nil || e.DisplayName != nil || e.Icon != nil || e.Tag != nil ||
		e.Code != nil || e.ComponentSkill != nil || e.Note != nil || e.IsActive != nil || e.IsLegacy != nil ||
		e.IsDeprecated != nil || e.Scope != nil {
		record(c, e)
	}
	return nil
}

// Remove removes the component.
func (c *Component) Remove() error {
	cur, ok := c.State()
	if !ok {
		return NotFoundf(MsgComponentNotFound)
	}
	record(c, ComponentRemoved{TenantID: cur.TenantID, ComponentID: c.id})
	return nil
}

// Apply implements commands.Aggregate.
func (c *Component) Apply(e Event) {
	switch e := e.(type) {
	case ComponentAdded:
		c.state = ComponentState{TenantID: e.TenantID, ComponentID: e.ComponentID, GroupID: e.GroupID,
			ComponentName: e.ComponentName, DisplayName: e.DisplayName, Icon: e.Icon, Tag: e.Tag, Code: e.Code,
			ComponentSkill: e.ComponentSkill, Note: e.Note, IsActive: e.IsActive, IsLegacy: e.IsLegacy,
			IsDeprecated: e.IsDeprecated, Scope: e.Scope, BusinessID: e.BusinessID, Creator: e.Creator, Version: 1}
		c.gone = false
	case ComponentChanged:
		s := &c.state
		s.TenantID = e.TenantID
		setIf(&s.GroupID, e.GroupID)
		setIf(&s.ComponentName, e.ComponentName)
		setIf(&s.DisplayName, e.DisplayName)
		setIf(&s.Icon, e.Icon)
		setIf(&s.Tag, e.Tag)
		setIf(&s.Code, e.Code)
		setIf(&s.ComponentSkill, e.ComponentSkill)
		setIf(&s.Note, e.Note)
		setIf(&s.IsActive, e.IsActive)
		setIf(&s.IsLegacy, e.IsLegacy)
		setIf(&s.IsDeprecated, e.IsDeprecated)
		setIf(&s.Scope, e.Scope)
		setIf(&s.BusinessID, e.BusinessID)
		setIf(&s.Version, e.Version)
	case ComponentRemoved:
		c.gone = true
	}
}

// AuditState implements the audit's state of one component.
func (c *Component) AuditState() any {
	s, _ := c.State()
	return s
}

// RaceRule implements Raced: every write of a tenant's groups appends to one stream.
func (*ComponentGroups) RaceRule() RaceRule { return Shared }

// RaceRule implements Raced: a component's code is patched by its team.
func (*Component) RaceRule() RaceRule { return Shared }
