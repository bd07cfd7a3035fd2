package ports

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The catalogue's writes (#198–#200, #202, #204, #205): each binds a
// request, resolves the caller's tenant (X-Tenant-Id, else the system
// tenant; the write rule is CatalogWriter's, asked by the handler), makes
// sure a by-id entry is one the caller may see at the place the query
// names (else 404), calls the commands.ComponentsHandler and answers what
// the read model shows.

const (
	msgComponentGroupDeleted = "Component group deleted"
	msgComponentDeleted      = "Component deleted"
)

// ComponentGroupCreate is the body of Add Component Group.
type ComponentGroupCreate struct {
	GroupName     *string  `json:"group_name" binding:"required,min=1,max=255"`
	GroupEnName   *string  `json:"group_en_name" binding:"required,min=1,max=255"`
	ComponentType *string  `json:"component_type" binding:"required,oneof=component bundle"`
	Icon          *string  `json:"icon"`
	Tags          []string `json:"tags"`
	OrderNum      int64    `json:"order_num"`
	IsActive      *bool    `json:"is_active"`
	Note          *string  `json:"note"`
	Scope         *int     `json:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID    *int64   `json:"business_id" binding:"omitnil,min=0"`
}

// ComponentGroupPatch is the body of Patch Component Group: absent or
// null fields stay as they are.
type ComponentGroupPatch struct {
	GroupName   *string   `json:"group_name" binding:"omitnil,min=1,max=255"`
	GroupEnName *string   `json:"group_en_name" binding:"omitnil,min=1,max=255"`
	Icon        *string   `json:"icon"`
	Tags        *[]string `json:"tags"`
	OrderNum    *int64    `json:"order_num"`
	IsActive    *bool     `json:"is_active"`
	Note        *string   `json:"note"`
	Scope       *int      `json:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID  *int64    `json:"business_id" binding:"omitnil,min=0"`
}

// ComponentCreate is the body of Add Component.
type ComponentCreate struct {
	ComponentGroupID *int64  `json:"component_group_id" binding:"required,min=1"`
	ComponentName    *string `json:"component_name" binding:"omitnil,max=255"`
	DisplayName      *string `json:"display_name" binding:"omitnil,max=255"`
	Icon             *string `json:"icon"`
	Tag              *string `json:"tag"`
	Code             *string `json:"code"`
	ComponentSkill   *string `json:"component_skill"`
	Note             *string `json:"note"`
	VersionNote      *string `json:"version_note"`
	IsActive         *bool   `json:"is_active"`
	IsLegacy         bool    `json:"is_legacy"`
	IsDeprecated     bool    `json:"is_deprecated"`
	Scope            *int    `json:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID       *int64  `json:"business_id" binding:"omitnil,min=0"`
}

// ComponentPatch is the body of Patch Component: absent or null fields
// stay as they are; a change of code or component_skill is a new version
// (version_note describes it).
type ComponentPatch struct {
	ComponentGroupID *int64  `json:"component_group_id" binding:"omitnil,min=1"`
	ComponentName    *string `json:"component_name" binding:"omitnil,max=255"`
	DisplayName      *string `json:"display_name" binding:"omitnil,max=255"`
	Icon             *string `json:"icon"`
	Tag              *string `json:"tag"`
	Code             *string `json:"code"`
	ComponentSkill   *string `json:"component_skill"`
	Note             *string `json:"note"`
	VersionNote      *string `json:"version_note"`
	IsActive         *bool   `json:"is_active"`
	IsLegacy         *bool   `json:"is_legacy"`
	IsDeprecated     *bool   `json:"is_deprecated"`
	Scope            *int    `json:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID       *int64  `json:"business_id" binding:"omitnil,min=0"`
}

// componentID is a component's path id: a positive integer, anything
// else the component not found (404).
type componentID int64

func (id *componentID) UnmarshalText(raw []byte) error {
	n, err := readapi.ComponentPathID(string(raw))
	*id = componentID(n)
	return err
}

// catalogAt is the place the query of a by-id write names (its entry is
// there, else 404).
type catalogAt struct {
	Scope      *int   `form:"scope" binding:"required,min=0,max=3" doc:"The entry's scope (else 404)."`
	BusinessID *int64 `form:"business_id" binding:"omitnil,min=0" place:"business" doc:"The entry's business (scope 2; else 404)."`
}

func (q catalogAt) read() readapi.CatalogAt {
	return readapi.CatalogAt{Scope: q.Scope, BusinessID: q.BusinessID}
}

func (q catalogAt) at() commands.CatalogAt {
	return commands.CatalogAt{Scope: *q.Scope, BusinessID: orDefault(q.BusinessID, 0)}
}

// The requests of the catalogue's writes: where each part of the command
// comes from (see Write). The by-id ones bind their path and query after
// the body and the tenant (PlacesLast).
type (
	addComponentGroup struct {
		InScope
		Body ComponentGroupCreate `body:""`
	}
	patchComponentGroup struct {
		GroupID int64 `path:"group_id" place:"component_group"`
		catalogAt
		InScope
		Body ComponentGroupPatch `body:""`
	}
	removeComponentGroup struct {
		GroupID int64 `path:"group_id" place:"component_group"`
		catalogAt
		InScope
	}
	addComponent struct {
		InScope
		Body ComponentCreate `body:""`
	}
	patchComponent struct {
		ComponentID componentID `path:"component_id" doc:"The component's integer id (anything else: 404)."`
		catalogAt
		InScope
		Body ComponentPatch `body:""`
	}
	removeComponent struct {
		ComponentID componentID `path:"component_id" doc:"The component's integer id (anything else: 404)."`
		catalogAt
		InScope
	}
)

func orDefault[T any](v *T, def T) T {
	if v == nil {
		return def
	}
	return *v
}

// visible checks the caller sees the entry at the place q names
// (components.read), through see; 404 otherwise.
func visible(ctx context.Context, tenant uuid.UUID, q catalogAt, see func(can tenancy.Scope, q readapi.CatalogAt) error) error {
	can, err := tenancy.ScopeOf(ctx, "components", "read", tenant)
	if err != nil {
		return err
	}
	return see(can, q.read())
}

func groupVisible(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, tenant uuid.UUID, q catalogAt, id int64) error {
	return visible(ctx, tenant, q, func(can tenancy.Scope, at readapi.CatalogAt) error {
		_, err := readapi.VisibleComponentGroup(ctx, pool, caller, tenant, can, at, id)
		return err
	})
}

func componentVisible(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, tenant uuid.UUID, q catalogAt, id int64) error {
	return visible(ctx, tenant, q, func(can tenancy.Scope, at readapi.CatalogAt) error {
		_, err := readapi.VisibleComponent(ctx, pool, caller, tenant, can, at, id, nil)
		return err
	})
}

// Components registers the write operations of the catalogue; builtin
// names the built-in engine components (their answers say builtin).
func Components(p Port, h *commands.ComponentsHandler, builtin readapi.BuiltinNames) {
	models := readapi.ComponentsReadModels
	rule := " Scopes: 0 system (superusers only), 1 tenant (components.<priv> tenant-wide), 2 business (in that business " +
		"or above), 3 personal (its creator)."
	group := func(ctx context.Context, db readapi.DB, w commands.CatalogWritten) (any, error) {
		return readapi.ComponentGroupByID(ctx, db, w.ID)
	}
	component := func(ctx context.Context, db readapi.DB, w commands.CatalogWritten) (any, error) {
		return readapi.ComponentByID(ctx, db, w.ID, builtin)
	}
	Write[addComponentGroup, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/component-groups", Access: access.Scoped("components", "write"),
			Tag: "Component", Summary: "Add Component Group",
			Description: "Add a component group (component_type component or bundle). group_en_name is unique at its place (409)." + rule,
			Response:    readapi.ComponentGroupRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addComponentGroup) (commands.CatalogWritten, eventstore.Position, error) {
			b := r.Body
			spec := domain.ComponentGroupSpec{GroupName: *b.GroupName, GroupEnName: *b.GroupEnName, ComponentType: *b.ComponentType,
				Icon: orDefault(b.Icon, ""), Tags: b.Tags, OrderNum: b.OrderNum, IsActive: orDefault(b.IsActive, true),
				Note: orDefault(b.Note, ""), Scope: orDefault(b.Scope, domain.CatalogScopeTenant), BusinessID: orDefault(b.BusinessID, 0)}
			w, err := h.AddGroup(ctx, commands.AddComponentGroup{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta, Spec: spec})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ addComponentGroup, w commands.CatalogWritten) (any, error) {
			return group(ctx, db, w)
		},
	}.Register(p)
	Write[patchComponentGroup, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/component-groups/{group_id}", Access: access.Scoped("components", "modify"),
			Tag: "Component", Summary: "Patch Component Group",
			Description: "Change a component group at the scope (and business) the query names; absent or null fields stay as they " +
				"are. scope/business_id in the body move it (the write rule holds at both places; not between system and tenant scopes)." + rule,
			Response: readapi.ComponentGroupRead{}, ReadModels: models},
		PlacesLast: true,
		Handle: func(ctx context.Context, r patchComponentGroup) (commands.CatalogWritten, eventstore.Position, error) {
			if err := groupVisible(ctx, p.Pool, r.Caller, r.Tenant, r.catalogAt, r.GroupID); err != nil {
				return commands.CatalogWritten{}, eventstore.Position{}, err
			}
			b := r.Body
			ch := domain.ComponentGroupChange{GroupName: b.GroupName, GroupEnName: b.GroupEnName, Icon: b.Icon, Tags: b.Tags,
				OrderNum: b.OrderNum, IsActive: b.IsActive, Note: b.Note, Scope: b.Scope, BusinessID: b.BusinessID}
			w, err := h.ChangeGroup(ctx, commands.ChangeComponentGroup{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta,
				GroupID: r.GroupID, At: r.at(), Change: ch})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchComponentGroup, w commands.CatalogWritten) (any, error) {
			return group(ctx, db, w)
		},
	}.Register(p)
	Write[removeComponentGroup, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/component-groups/{group_id}", Access: access.Scoped("components", "delete"),
			Tag: "Component", Summary: "Remove Component Group",
			Description: "Remove a component group. A group that still has components is refused (409, naming how many)." + rule,
			Response:    Detail{}, ReadModels: models},
		PlacesLast: true,
		Handle: func(ctx context.Context, r removeComponentGroup) (Detail, eventstore.Position, error) {
			if err := groupVisible(ctx, p.Pool, r.Caller, r.Tenant, r.catalogAt, r.GroupID); err != nil {
				return Detail{}, eventstore.Position{}, err
			}
			w, err := h.RemoveGroup(ctx, commands.RemoveComponentGroup{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta,
				GroupID: r.GroupID, At: r.at()})
			return Detail{Detail: msgComponentGroupDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addComponent, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/components", Access: access.Scoped("components", "write"),
			Tag: "Component", Summary: "Add Component",
			Description: "Add a catalogue component (documentation: executable is always false, the engine never runs its code) " +
				"in an existing group; it is version 1 of its code and component_skill." + rule,
			Response: readapi.ComponentRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addComponent) (commands.CatalogWritten, eventstore.Position, error) {
			b := r.Body
			spec := domain.ComponentSpec{GroupID: *b.ComponentGroupID, ComponentName: orDefault(b.ComponentName, ""),
				DisplayName: orDefault(b.DisplayName, ""), Icon: orDefault(b.Icon, ""), Tag: orDefault(b.Tag, ""),
				Code: orDefault(b.Code, ""), ComponentSkill: orDefault(b.ComponentSkill, ""), Note: orDefault(b.Note, ""),
				VersionNote: orDefault(b.VersionNote, ""), IsActive: orDefault(b.IsActive, true), IsLegacy: b.IsLegacy,
				IsDeprecated: b.IsDeprecated, Scope: orDefault(b.Scope, domain.CatalogScopeTenant), BusinessID: orDefault(b.BusinessID, 0)}
			w, err := h.Add(ctx, commands.AddComponent{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta, Spec: spec})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ addComponent, w commands.CatalogWritten) (any, error) {
			return component(ctx, db, w)
		},
	}.Register(p)
	Write[patchComponent, commands.CatalogWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/components/{component_id}", Access: access.Scoped("components", "modify"),
			Tag: "Component", Summary: "Patch Component",
			Description: "Change a component at the scope (and business) the query names; a change of code or component_skill " +
				"records a new version (with version_note)." + rule,
			Response: readapi.ComponentRead{}, ReadModels: models},
		PlacesLast: true,
		Handle: func(ctx context.Context, r patchComponent) (commands.CatalogWritten, eventstore.Position, error) {
			id := int64(r.ComponentID)
			if err := componentVisible(ctx, p.Pool, r.Caller, r.Tenant, r.catalogAt, id); err != nil {
				return commands.CatalogWritten{}, eventstore.Position{}, err
			}
			b := r.Body
			ch := domain.ComponentChange{GroupID: b.ComponentGroupID, ComponentName: b.ComponentName, DisplayName: b.DisplayName,
				Icon: b.Icon, Tag: b.Tag, Code: b.Code, ComponentSkill: b.ComponentSkill, Note: b.Note,
				VersionNote: b.VersionNote, IsActive: b.IsActive, IsLegacy: b.IsLegacy, IsDeprecated: b.IsDeprecated,
				Scope: b.Scope, BusinessID: b.BusinessID}
			w, err := h.Change(ctx, commands.ChangeComponent{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta,
				ComponentID: id, At: r.at(), Change: ch})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchComponent, w commands.CatalogWritten) (any, error) {
			return component(ctx, db, w)
		},
	}.Register(p)
	Write[removeComponent, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/components/{component_id}", Access: access.Scoped("components", "delete"),
			Tag: "Component", Summary: "Remove Component", Description: "Remove a component." + rule,
			Response: Detail{}, ReadModels: models},
		PlacesLast: true,
		Handle: func(ctx context.Context, r removeComponent) (Detail, eventstore.Position, error) {
			id := int64(r.ComponentID)
			if err := componentVisible(ctx, p.Pool, r.Caller, r.Tenant, r.catalogAt, id); err != nil {
				return Detail{}, eventstore.Position{}, err
			}
			w, err := h.Remove(ctx, commands.RemoveComponent{Tenant: r.Tenant, Caller: r.Caller, Meta: r.Meta,
				ComponentID: id, At: r.at()})
			return Detail{Detail: msgComponentDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
