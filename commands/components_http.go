package commands

import (
	"context"
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

// ComponentsPort is the HTTP port of the catalogue's writes: it binds a
// request, resolves the caller's tenant (X-Tenant-Id, else the system
// tenant; the write rule is CatalogWriter's, asked by the handler), makes
// sure a by-id entry is one the caller may see at the place the query
// names (else 404), calls the ComponentsHandler and answers what the read
// model shows.
type ComponentsPort struct {
	Server  *httpapi.Server
	Handler *ComponentsHandler
	Pool    *pgxpool.Pool
	Clock   func() time.Time
	Builtin readapi.BuiltinNames
}

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

const (
	msgComponentGroupDeleted = "Component group deleted"
	msgComponentDeleted      = "Component deleted"
)

// Routes registers the write operations of the catalogue.
func (p *ComponentsPort) Routes(s *httpapi.Server) {
	models := readapi.ComponentsReadModels
	business := httpapi.Param{Name: "business_id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness,
		Description: "The entry's business (scope 2; else 404)."}
	scopeQ := httpapi.Param{Name: "scope", In: "query", Type: "integer", Required: true, Description: "The entry's scope (else 404)."}
	group := []httpapi.Param{{Name: "group_id", In: "path", Type: "integer", Place: tenancy.PlaceComponentGroup}, scopeQ, business}
	comp := []httpapi.Param{{Name: "component_id", In: "path", Description: "The component's integer id (anything else: 404)."}, scopeQ, business}
	rule := " Scopes: 0 system (superusers only), 1 tenant (components.<priv> tenant-wide), 2 business (in that business " +
		"or above), 3 personal (its creator)."
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/component-groups", Access: access.Scoped("components", "write"),
		Tag: "Component", Summary: "Add Component Group",
		Description: "Add a component group (component_type component or bundle). group_en_name is unique at its place (409)." + rule,
		Body:        ComponentGroupCreate{}, Response: readapi.ComponentGroupRead{}, Status: http.StatusCreated, ReadModels: models, Handler: p.addGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/component-groups/{group_id}", Access: access.Scoped("components", "modify"),
		Tag: "Component", Summary: "Patch Component Group",
		Description: "Change a component group at the scope (and business) the query names; absent or null fields stay as they " +
			"are. scope/business_id in the body move it (the write rule holds at both places; not between system and tenant scopes)." + rule,
		Params: group, Body: ComponentGroupPatch{}, Response: readapi.ComponentGroupRead{}, ReadModels: models, Handler: p.patchGroup})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/component-groups/{group_id}", Access: access.Scoped("components", "delete"),
		Tag: "Component", Summary: "Remove Component Group",
		Description: "Remove a component group. A group that still has components is refused (409, naming how many)." + rule,
		Params:      group, Response: Detail{}, ReadModels: models, Handler: p.removeGroup})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/components", Access: access.Scoped("components", "write"),
		Tag: "Component", Summary: "Add Component",
		Description: "Add a catalogue component (documentation: executable is always false, the engine never runs its code) " +
			"in an existing group; it is version 1 of its code and component_skill." + rule,
		Body: ComponentCreate{}, Response: readapi.ComponentRead{}, Status: http.StatusCreated, ReadModels: models, Handler: p.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/components/{component_id}", Access: access.Scoped("components", "modify"),
		Tag: "Component", Summary: "Patch Component",
		Description: "Change a component at the scope (and business) the query names; a change of code or component_skill " +
			"records a new version (with version_note)." + rule,
		Params: comp, Body: ComponentPatch{}, Response: readapi.ComponentRead{}, ReadModels: models, Handler: p.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/components/{component_id}", Access: access.Scoped("components", "delete"),
		Tag: "Component", Summary: "Remove Component", Description: "Remove a component." + rule,
		Params: comp, Response: Detail{}, ReadModels: models, Handler: p.remove})
}

// begin binds the body (nil: none) and resolves the caller and tenant.
func (p *ComponentsPort) begin(c *gin.Context, body any) (auth.Principal, uuid.UUID, eventstore.Metadata, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return caller, uuid.Nil, eventstore.Metadata{}, false
	}
	if body != nil && !httpapi.BindJSON(c, body) {
		return caller, uuid.Nil, eventstore.Metadata{}, false
	}
	t, ok := tenancy.ResolveScoped(c, p.Pool, nil)
	if !ok {
		return caller, uuid.Nil, eventstore.Metadata{}, false
	}
	md := httpapi.Metadata(c, p.Clock())
	md.TenantID = t.ID
	return caller, t.ID, md, true
}

// at binds the by-id query and checks the caller sees the entry there
// (components.read), through see; 404 otherwise.
func (p *ComponentsPort) at(c *gin.Context, caller auth.Principal, tenant uuid.UUID,
	see func(ctx context.Context, can tenancy.Scope, q readapi.CatalogAt) error) (CatalogAt, bool) {
	var q readapi.CatalogAt
	if !httpapi.BindQuery(c, &q) {
		return CatalogAt{}, false
	}
	ctx := c.Request.Context()
	can, err := tenancy.ScopeOf(ctx, "components", "read", tenant)
	if err == nil {
		err = see(ctx, can, q)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return CatalogAt{}, false
	}
	at := CatalogAt{Scope: *q.Scope}
	if q.BusinessID != nil {
		at.BusinessID = *q.BusinessID
	}
	return at, true
}

func orDefault[T any](v *T, def T) T {
	if v == nil {
		return def
	}
	return *v
}

func (p *ComponentsPort) answerGroup(c *gin.Context, w CatalogWritten, err error, status int) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ComponentGroupRead, error) {
		return readapi.ComponentGroupByID(ctx, db, w.ID)
	})
}

func (p *ComponentsPort) answerComponent(c *gin.Context, w CatalogWritten, err error, status int) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ComponentRead, error) {
		return readapi.ComponentByID(ctx, db, w.ID, p.Builtin)
	})
}

func (p *ComponentsPort) addGroup(c *gin.Context) {
	var body ComponentGroupCreate
	caller, tenant, md, ok := p.begin(c, &body)
	if !ok {
		return
	}
	spec := domain.ComponentGroupSpec{GroupName: *body.GroupName, GroupEnName: *body.GroupEnName, ComponentType: *body.ComponentType,
		Icon: orDefault(body.Icon, ""), Tags: body.Tags, OrderNum: body.OrderNum, IsActive: orDefault(body.IsActive, true),
		Note: orDefault(body.Note, ""), Scope: orDefault(body.Scope, domain.CatalogScopeTenant), BusinessID: orDefault(body.BusinessID, 0)}
	w, err := p.Handler.AddGroup(c.Request.Context(), AddComponentGroup{Tenant: tenant, Caller: caller, Meta: md, Spec: spec})
	p.answerGroup(c, w, err, http.StatusCreated)
}

func (p *ComponentsPort) groupAt(c *gin.Context, caller auth.Principal, tenant uuid.UUID) (int64, CatalogAt, bool) {
	id, ok := httpapi.PathInt(c, "group_id")
	if !ok {
		return 0, CatalogAt{}, false
	}
	at, ok := p.at(c, caller, tenant, func(ctx context.Context, can tenancy.Scope, q readapi.CatalogAt) error {
		_, err := readapi.VisibleComponentGroup(ctx, p.Pool, caller, tenant, can, q, id)
		return err
	})
	return id, at, ok
}

func (p *ComponentsPort) patchGroup(c *gin.Context) {
	var body ComponentGroupPatch
	caller, tenant, md, ok := p.begin(c, &body)
	if !ok {
		return
	}
	id, at, ok := p.groupAt(c, caller, tenant)
	if !ok {
		return
	}
	ch := domain.ComponentGroupChange{GroupName: body.GroupName, GroupEnName: body.GroupEnName, Icon: body.Icon, Tags: body.Tags,
		OrderNum: body.OrderNum, IsActive: body.IsActive, Note: body.Note, Scope: body.Scope, BusinessID: body.BusinessID}
	w, err := p.Handler.ChangeGroup(c.Request.Context(), ChangeComponentGroup{Tenant: tenant, Caller: caller, Meta: md, GroupID: id, At: at, Change: ch})
	p.answerGroup(c, w, err, http.StatusOK)
}

func (p *ComponentsPort) removeGroup(c *gin.Context) {
	caller, tenant, md, ok := p.begin(c, nil)
	if !ok {
		return
	}
	id, at, ok := p.groupAt(c, caller, tenant)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveGroup(c.Request.Context(), RemoveComponentGroup{Tenant: tenant, Caller: caller, Meta: md, GroupID: id, At: at})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgComponentGroupDeleted})
}

func (p *ComponentsPort) add(c *gin.Context) {
	var body ComponentCreate
	caller, tenant, md, ok := p.begin(c, &body)
	if !ok {
		return
	}
	spec := domain.ComponentSpec{GroupID: *body.ComponentGroupID, ComponentName: orDefault(body.ComponentName, ""),
		DisplayName: orDefault(body.DisplayName, ""), Icon: orDefault(body.Icon, ""), Tag: orDefault(body.Tag, ""),
		Code: orDefault(body.Code, ""), ComponentSkill: orDefault(body.ComponentSkill, ""), Note: orDefault(body.Note, ""),
		VersionNote: orDefault(body.VersionNote, ""), IsActive: orDefault(body.IsActive, true), IsLegacy: body.IsLegacy,
		IsDeprecated: body.IsDeprecated, Scope: orDefault(body.Scope, domain.CatalogScopeTenant), BusinessID: orDefault(body.BusinessID, 0)}
	w, err := p.Handler.Add(c.Request.Context(), AddComponent{Tenant: tenant, Caller: caller, Meta: md, Spec: spec})
	p.answerComponent(c, w, err, http.StatusCreated)
}

func (p *ComponentsPort) componentAt(c *gin.Context, caller auth.Principal, tenant uuid.UUID) (int64, CatalogAt, bool) {
	id, err := readapi.ComponentPathID(c.Param("component_id"))
	if err != nil {
		httpapi.Fail(c, err)
		return 0, CatalogAt{}, false
	}
	at, ok := p.at(c, caller, tenant, func(ctx context.Context, can tenancy.Scope, q readapi.CatalogAt) error {
		_, err := readapi.VisibleComponent(ctx, p.Pool, caller, tenant, can, q, id, nil)
		return err
	})
	return id, at, ok
}

func (p *ComponentsPort) patch(c *gin.Context) {
	var body ComponentPatch
	caller, tenant, md, ok := p.begin(c, &body)
	if !ok {
		return
	}
	id, at, ok := p.componentAt(c, caller, tenant)
	if !ok {
		return
	}
	ch := domain.ComponentChange{GroupID: body.ComponentGroupID, ComponentName: body.ComponentName, DisplayName: body.DisplayName,
		Icon: body.Icon, Tag: body.Tag, Code: body.Code, ComponentSkill: body.ComponentSkill, Note: body.Note,
		VersionNote: body.VersionNote, IsActive: body.IsActive, IsLegacy: body.IsLegacy, IsDeprecated: body.IsDeprecated,
		Scope: body.Scope, BusinessID: body.BusinessID}
	w, err := p.Handler.Change(c.Request.Context(), ChangeComponent{Tenant: tenant, Caller: caller, Meta: md, ComponentID: id, At: at, Change: ch})
	p.answerComponent(c, w, err, http.StatusOK)
}

func (p *ComponentsPort) remove(c *gin.Context) {
	caller, tenant, md, ok := p.begin(c, nil)
	if !ok {
		return
	}
	id, at, ok := p.componentAt(c, caller, tenant)
	if !ok {
		return
	}
	w, err := p.Handler.Remove(c.Request.Context(), RemoveComponent{Tenant: tenant, Caller: caller, Meta: md, ComponentID: id, At: at})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgComponentDeleted})
}
