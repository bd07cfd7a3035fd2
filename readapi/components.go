package readapi

// The reads of the component catalogue (#197, #201, #203, #206): groups
// and components from their read models, scoped by catalogWhere (THE
// visibility rule of catalogue entries); a component's versions are read
// from its own stream (component-<id>), as a flow's history is: the log
// keeps every version, no read model does.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ComponentsReadModels are the read models component operations read.
var ComponentsReadModels = []string{projections.ComponentsName, "access"}

// BuiltinNames tells whether a component_name is a built-in engine
// component (its type or an alias in the engine's registry): such a
// catalogue entry runs with the built-in behaviour.
type BuiltinNames func(name string) bool

// ComponentGroupRead is a component group as the API shows it.
type ComponentGroupRead struct {
	ID            int64    `json:"id"`
	GroupName     string   `json:"group_name"`
	GroupEnName   string   `json:"group_en_name"`
	ComponentType string   `json:"component_type"`
	Icon          string   `json:"icon"`
	Tags          []string `json:"tags"`
	OrderNum      int64    `json:"order_num"`
	IsActive      bool     `json:"is_active"`
	Note          string   `json:"note"`
	Scope         int      `json:"scope"`
	BusinessID    *int64   `json:"business_id"`
	projections.Audited
}

// ComponentRead is a component as the API shows it. executable is always
// false: the engine never runs a catalogue entry's code; builtin is true
// when component_name is a built-in engine component.
type ComponentRead struct {
	ID               string  `json:"id"`
	ComponentGroupID int64   `json:"component_group_id"`
	ComponentType    *string `json:"component_type"`
	ComponentName    string  `json:"component_name"`
	DisplayName      string  `json:"display_name"`
	Icon             string  `json:"icon"`
	Tag              string  `json:"tag"`
	Code             string  `json:"code"`
	ComponentSkill   string  `json:"component_skill"`
	Note             string  `json:"note"`
	Version          int     `json:"version"`
	IsActive         bool    `json:"is_active"`
	IsLegacy         bool    `json:"is_legacy"`
	IsDeprecated     bool    `json:"is_deprecated"`
	Scope            int     `json:"scope"`
	BusinessID       *int64  `json:"business_id"`
	Executable       bool    `json:"executable"`
	Builtin          bool    `json:"builtin"`
	projections.Audited
}

// ComponentVersionRead is one version of a component, from its stream.
type ComponentVersionRead struct {
	Version        int       `json:"version"`
	Code           string    `json:"code"`
	ComponentSkill string    `json:"component_skill"`
	VersionNote    string    `json:"version_note"`
	CUID           int64     `json:"c_uid"`
	CTime          time.Time `json:"ctime"`
}

// ComponentVersions is the answer of Get Component Versions, newest first.
type ComponentVersions struct {
	Items []ComponentVersionRead `json:"items"`
}

const groupColumns = `g.id, g.group_name, g.group_en_name, g.component_type, g.icon, g.tags, g.order_num, g.is_active, g.note,
    g.scope, nullif(g.business_id, 0), g.c_uid, g.m_uid, g.ctime, g.utime`

func scanGroup(row pgx.CollectableRow) (ComponentGroupRead, error) {
	var e ComponentGroupRead
	err := row.Scan(&e.ID, &e.GroupName, &e.GroupEnName, &e.ComponentType, &e.Icon, &e.Tags, &e.OrderNum, &e.IsActive, &e.Note,
		&e.Scope, &e.BusinessID, &e.CUID, &e.MUID, &e.CTime, &e.UTime)
	if e.Tags == nil {
		e.Tags = []string{}
	}
	e.InUTC()
	return e, err
}

const componentColumns = `c.id, c.component_group_id, g.component_type, c.component_name, c.display_name, c.icon, c.tag, c.code,
    c.component_skill, c.note, c.version, c.is_active, c.is_legacy, c.is_deprecated, c.scope, nullif(c.business_id, 0),
    c.c_uid, c.m_uid, c.ctime, c.utime`

const componentFrom = ` FROM components c LEFT JOIN component_groups g ON g.id = c.component_group_id`

func scanComponent(builtin BuiltinNames) pgx.RowToFunc[ComponentRead] {
	return func(row pgx.CollectableRow) (ComponentRead, error) {
		var e ComponentRead
		var id int64
		err := row.Scan(&id, &e.ComponentGroupID, &e.ComponentType, &e.ComponentName, &e.DisplayName, &e.Icon, &e.Tag, &e.Code,
			&e.ComponentSkill, &e.Note, &e.Version, &e.IsActive, &e.IsLegacy, &e.IsDeprecated, &e.Scope, &e.BusinessID,
			&e.CUID, &e.MUID, &e.CTime, &e.UTime)
		e.ID = strconv.FormatInt(id, 10)
		e.Builtin = builtin != nil && e.ComponentName != "" && builtin(e.ComponentName)
		e.InUTC()
		return e, err
	}
}

// ComponentGroupByID reads group id (404 if none), whatever its scope:
// the answer of a write its caller made.
func ComponentGroupByID(ctx context.Context, db DB, id int64) (ComponentGroupRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+groupColumns+` FROM component_groups g WHERE g.id = $1`, id)
	return exactlyOne(rows, scanGroup, domain.NotFoundf(domain.MsgGroupNotFound), fmt.Sprintf("component group %d", id))
}

// ComponentByID reads component id (404 if none), whatever its scope: the
// answer of a write its caller made.
func ComponentByID(ctx context.Context, db DB, id int64, builtin BuiltinNames) (ComponentRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+componentColumns+componentFrom+` WHERE c.id = $1`, id)
	return exactlyOne(rows, scanComponent(builtin), domain.NotFoundf(domain.MsgComponentNotFound), fmt.Sprintf("component %d", id))
}

// CatalogAt is where a by-id request says its entry is (the required
// scope and optional business_id query parameters): an entry elsewhere is
// answered 404.
type CatalogAt struct {
	Scope      *int   `form:"scope" binding:"required,min=0,max=3"`
	BusinessID *int64 `form:"business_id" binding:"omitnil,min=0"`
}

func (q CatalogAt) filter() CatalogScopeFilter {
	f := CatalogScopeFilter{Scope: q.Scope, BusinessID: q.BusinessID}
	if f.BusinessID != nil && *f.BusinessID == 0 {
		f.BusinessID = nil
	}
	return f
}

// VisibleComponentGroup reads group id as caller sees it in tenant (can:
// where caller holds components.read), at the place q names: 404 when it
// is elsewhere or hidden from the caller.
func VisibleComponentGroup(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, q CatalogAt, id int64) (ComponentGroupRead, error) {
	var a sqlArgs
	where := append(catalogWhere(&a, "g", caller, tenant, can, q.filter()), "g.id = "+a.add(id))
	rows, _ := db.Query(ctx, `SELECT `+groupColumns+` FROM component_groups g WHERE `+strings.Join(where, " AND "), a...)
	return exactlyOne(rows, scanGroup, domain.NotFoundf(domain.MsgGroupNotFound), fmt.Sprintf("component group %d", id))
}

// VisibleComponent reads component id as caller sees it in tenant, at the
// place q names: 404 when it is elsewhere or hidden from the caller.
func VisibleComponent(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, q CatalogAt, id int64, builtin BuiltinNames) (ComponentRead, error) {
	var a sqlArgs
	where := append(catalogWhere(&a, "c", caller, tenant, can, q.filter()), "c.id = "+a.add(id))
	rows, _ := db.Query(ctx, `SELECT `+componentColumns+componentFrom+` WHERE `+strings.Join(where, " AND "), a...)
	return exactlyOne(rows, scanComponent(builtin), domain.NotFoundf(domain.MsgComponentNotFound), fmt.Sprintf("component %d", id))
}

// ComponentGroupsQuery is the query string of Get Component Groups.
type ComponentGroupsQuery struct {
	ComponentType        *string `form:"component_type" binding:"omitnil,oneof=component bundle"`
	Scope                *int    `form:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID           *int64  `form:"business_id" binding:"omitnil,min=0"`
	AllScopes            bool    `form:"all_scopes"`
	IncludeSubBusinesses bool    `form:"include_sub_businesses"`
	IsActive             *bool   `form:"is_active"`
	Keyword              *string `form:"keyword" binding:"omitnil,max=255"`
}

// ListComponentGroups lists the groups caller sees in tenant matching q,
// by order_num then id.
func ListComponentGroups(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, q ComponentGroupsQuery) ([]ComponentGroupRead, error) {
	var a sqlArgs
	where := catalogWhere(&a, "g", caller, tenant, can, CatalogScopeFilter{Scope: q.Scope, BusinessID: q.BusinessID,
		AllScopes: q.AllScopes, IncludeSubBusinesses: q.IncludeSubBusinesses})
	if q.ComponentType != nil {
		where = append(where, "g.component_type = "+a.add(*q.ComponentType))
	}
	if q.IsActive != nil {
		where = append(where, "g.is_active = "+a.add(*q.IsActive))
	}
	if q.Keyword != nil && *q.Keyword != "" {
		where = append(where, searchAny(&a, *q.Keyword, "g.group_name", "g.group_en_name", "g.note"))
	}
	rows, _ := db.Query(ctx, `SELECT `+groupColumns+` FROM component_groups g WHERE `+strings.Join(where, " AND ")+
		` ORDER BY g.order_num, g.id`, a...)
	return collectAll(rows, scanGroup, "list component groups")
}

// ComponentSorts are the sort_by values of Get Components.
var ComponentSorts = []string{"ctime", "utime", "id", "component_name", "display_name", "version"}

var componentSortColumns = map[string]string{"ctime": "c.ctime", "utime": "c.utime", "id": "c.id",
	"component_name": "lower(c.component_name)", "display_name": "lower(c.display_name)", "version": "c.version"}

// ComponentsQuery is the query string of Get Components.
type ComponentsQuery struct {
	ComponentType        *string `form:"component_type" binding:"omitnil,oneof=component bundle"`
	ComponentGroupID     *int64  `form:"component_group_id" binding:"omitnil,min=1"`
	Scope                *int    `form:"scope" binding:"omitnil,min=0,max=3"`
	BusinessID           *int64  `form:"business_id" binding:"omitnil,min=0"`
	AllScopes            bool    `form:"all_scopes"`
	IncludeSubBusinesses bool    `form:"include_sub_businesses"`
	IsActive             *bool   `form:"is_active"`
	IsDeprecated         *bool   `form:"is_deprecated"`
	IsLegacy             *bool   `form:"is_legacy"`
	Keyword              *string `form:"keyword" binding:"omitnil,max=255"`
	Tag                  *string `form:"tag" binding:"omitnil,max=255"`
	DeprecatedOnly       bool    `form:"deprecated_only"`
	LegacyOnly           bool    `form:"legacy_only"`
	SortBy               string  `form:"sort_by,default=ctime" binding:"oneof=ctime utime id component_name display_name version"`
	SortOrder            string  `form:"sort_order,default=desc" binding:"oneof=asc desc"`
}

// ListComponents lists the components caller sees in tenant matching q:
// keyword is a case-insensitive substring of component_name,
// display_name, note or component_skill; tag one of the entry's
// comma-separated tags; ties of the sort column go by id in the same
// direction.
func ListComponents(ctx context.Context, db DB, caller auth.Principal, tenant uuid.UUID, can tenancy.Scope, q ComponentsQuery, builtin BuiltinNames) ([]ComponentRead, error) {
	var a sqlArgs
	where := catalogWhere(&a, "c", caller, tenant, can, CatalogScopeFilter{Scope: q.Scope, BusinessID: q.BusinessID,
		AllScopes: q.AllScopes, IncludeSubBusinesses: q.IncludeSubBusinesses})
	if q.ComponentType != nil {
		where = append(where, "g.component_type = "+a.add(*q.ComponentType))
	}
	if q.ComponentGroupID != nil {
		where = append(where, "c.component_group_id = "+a.add(*q.ComponentGroupID))
	}
	for col, v := range map[string]*bool{"c.is_active": q.IsActive, "c.is_deprecated": q.IsDeprecated, "c.is_legacy": q.IsLegacy} {
		if v != nil {
			where = append(where, col+" = "+a.add(*v))
		}
	}
	if q.DeprecatedOnly {
		where = append(where, "c.is_deprecated")
	}
	if q.LegacyOnly {
		where = append(where, "c.is_legacy")
	}
	if q.Keyword != nil && *q.Keyword != "" {
		where = append(where, searchAny(&a, *q.Keyword, "c.component_name", "c.display_name", "c.note", "c.component_skill"))
	}
	if q.Tag != nil && *q.Tag != "" {
		where = append(where, "lower("+a.add(strings.TrimSpace(*q.Tag))+`) = ANY(regexp_split_to_array(lower(c.tag), '\s*,\s*'))`)
	}
	dir := direction(q.SortOrder)
	rows, _ := db.Query(ctx, `SELECT `+componentColumns+componentFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+componentSortColumns[q.SortBy]+` `+dir+`, c.id `+dir, a...)
	return collectAll(rows, scanComponent(builtin), "list components")
}

// ComponentVersionsOf folds component id's stream into its versions,
// newest first: version 1 is the adding event, each later one a change of
// code or component_skill.
func ComponentVersionsOf(ctx context.Context, store eventstore.Store, reg *eventstore.Registry, id int64) (ComponentVersions, error) {
	recs, err := store.ReadStream(ctx, domain.ComponentStream(id), 0, eventstore.MaxRevision)
	if err != nil {
		return ComponentVersions{}, fmt.Errorf("read component %d: %w", id, err)
	}
	out := ComponentVersions{Items: []ComponentVersionRead{}}
	c := domain.LoadComponent(id)
	_, err = eventstore.Fold(reg, c, recs, nil, func(rec eventstore.RecordedEvent, e domain.Event) {
		note := ""
		switch e := e.(type) {
		case domain.ComponentAdded:
			note = e.VersionNote
		case domain.ComponentChanged:
			if e.Version == nil {
				return
			}
			setNote(&note, e.VersionNote)
		default:
			return
		}
		s, _ := c.State()
		out.Items = append(out.Items, ComponentVersionRead{Version: s.Version, Code: s.Code, ComponentSkill: s.ComponentSkill,
			VersionNote: note, CUID: rec.Metadata.ActorUserID, CTime: rec.Metadata.OccurredAt.UTC()})
	})
	if err != nil {
		return ComponentVersions{}, fmt.Errorf("read component %d: %w", id, err)
	}
	slices.Reverse(out.Items)
	return out, nil
}

func setNote(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// RegisterComponentReads registers Get Component Groups (#197), Get
// Components (#201), Get Component (#203) and Get Component Versions
// (#206): holders of components.read, each answer narrowed to what the
// caller may see (catalogWhere).
func RegisterComponentReads(s *httpapi.Server, pool *pgxpool.Pool, store eventstore.Store, reg *eventstore.Registry, builtin BuiltinNames) {
	h := &componentReads{pool: pool, store: store, reg: reg, builtin: builtin}
	read := access.Scoped("components", "read")
	business := httpapi.Param{Name: "business_id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness,
		Description: "The business of business-scoped (scope 2) entries."}
	scopeQ := httpapi.Param{Name: "scope", In: "query", Type: "integer",
		Description: "0 system, 1 tenant (default), 2 business, 3 personal."}
	lists := []httpapi.Param{scopeQ, business,
		{Name: "component_type", In: "query", Enum: []string{domain.ComponentTypeComponent, domain.ComponentTypeBundle}},
		{Name: "all_scopes", In: "query", Type: "boolean", Default: false, Description: "Every entry the caller may see (scope and business_id are ignored)."},
		{Name: "include_sub_businesses", In: "query", Type: "boolean", Default: false, Description: "With business_id: its descendants' entries too."},
		{Name: "is_active", In: "query", Type: "boolean"},
		{Name: "keyword", In: "query", Description: "Case-insensitive substring of the names and the note."}}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/component-groups", Access: read, Tag: "Component",
		Summary: "Get Component Groups",
		Description: "The component groups the caller may see in their tenant (X-Tenant-Id, else the system tenant): system " +
			"groups (scope 0), the tenant's (1), those of businesses where the caller holds components.read (2), their own " +
			"personal ones (3). By default scope 1 (2 when business_id is given); all_scopes lists every visible group.",
		Params: lists, Response: []ComponentGroupRead{}, ReadModels: ComponentsReadModels, Handler: h.groups})
	compLists := append(slices.Clone(lists),
		httpapi.Param{Name: "component_group_id", In: "query", Type: "integer", Place: tenancy.PlaceComponentGroup},
		httpapi.Param{Name: "is_deprecated", In: "query", Type: "boolean"},
		httpapi.Param{Name: "is_legacy", In: "query", Type: "boolean"},
		httpapi.Param{Name: "tag", In: "query", Description: "One of the component's comma-separated tags."},
		httpapi.Param{Name: "deprecated_only", In: "query", Type: "boolean", Default: false},
		httpapi.Param{Name: "legacy_only", In: "query", Type: "boolean", Default: false},
		httpapi.Param{Name: "sort_by", In: "query", Default: "ctime", Enum: ComponentSorts},
		httpapi.Param{Name: "sort_order", In: "query", Default: "desc", Enum: []string{"asc", "desc"}})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/components", Access: read, Tag: "Component",
		Summary: "Get Components",
		Description: "The catalogue components the caller may see (the scopes of Get Component Groups), filtered and sorted. " +
			"Catalogue components are documentation: executable is always false (the engine never runs their code); builtin " +
			"is true when component_name names a built-in engine component, which runs with its built-in behaviour.",
		Params: compLists, Response: []ComponentRead{}, ReadModels: ComponentsReadModels, Handler: h.components})
	at := []httpapi.Param{{Name: "component_id", In: "path", Description: "The component's integer id (anything else: 404)."},
		{Name: "scope", In: "query", Type: "integer", Required: true, Description: "The component's scope (else 404)."}, business}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/components/{component_id}", Access: read, Tag: "Component",
		Summary: "Get Component", Description: "One component the caller may see, at the scope (and business) given (else 404).",
		Params: at, Response: ComponentRead{}, ReadModels: ComponentsReadModels, Handler: h.component})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/components/{component_id}/versions", Access: read, Tag: "Component",
		Summary: "Get Component Versions",
		Description: "The versions of a component's code and component_skill, newest first, read from the component's event " +
			"history: version 1 is its creation, each later one a change of code or component_skill (with its version_note).",
		Params: at, Response: ComponentVersions{}, ReadModels: ComponentsReadModels, Handler: h.versions})
}

type componentReads struct {
	pool    *pgxpool.Pool
	store   eventstore.Store
	reg     *eventstore.Registry
	builtin BuiltinNames
}

// scoped binds q and resolves the caller, their tenant and where they
// hold components.read there.
func (h *componentReads) scoped(c *gin.Context, q any) (auth.Principal, uuid.UUID, tenancy.Scope, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok || !httpapi.BindQuery(c, q) {
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	t, ok := tenancy.ResolveScoped(c, h.pool, nil)
	if !ok {
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	can, err := tenancy.Readable(c.Request.Context(), t.ID)
	if err != nil {
		httpapi.Fail(c, err)
		return caller, uuid.Nil, tenancy.Scope{}, false
	}
	return caller, t.ID, can, true
}

// ComponentPathID parses a component_id path value: a positive integer,
// anything else is no component (404).
func ComponentPathID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.NotFoundf(domain.MsgComponentNotFound)
	}
	return id, nil
}

func (h *componentReads) groups(c *gin.Context) {
	var q ComponentGroupsQuery
	caller, t, can, ok := h.scoped(c, &q)
	if !ok {
		return
	}
	out, err := ListComponentGroups(c.Request.Context(), h.pool, caller, t, can, q)
	respond(c, out, err)
}

func (h *componentReads) components(c *gin.Context) {
	var q ComponentsQuery
	caller, t, can, ok := h.scoped(c, &q)
	if !ok {
		return
	}
	out, err := ListComponents(c.Request.Context(), h.pool, caller, t, can, q, h.builtin)
	respond(c, out, err)
}

func (h *componentReads) one(c *gin.Context) (ComponentRead, bool) {
	id, err := ComponentPathID(c.Param("component_id"))
	if err != nil {
		httpapi.Fail(c, err)
		return ComponentRead{}, false
	}
	var q CatalogAt
	caller, t, can, ok := h.scoped(c, &q)
	if !ok {
		return ComponentRead{}, false
	}
	out, err := VisibleComponent(c.Request.Context(), h.pool, caller, t, can, q, id, h.builtin)
	if err != nil {
		httpapi.Fail(c, err)
		return out, false
	}
	return out, true
}

func (h *componentReads) component(c *gin.Context) {
	if out, ok := h.one(c); ok {
		respond(c, out, nil)
	}
}

func (h *componentReads) versions(c *gin.Context) {
	cur, ok := h.one(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(cur.ID, 10, 64)
	out, err := ComponentVersionsOf(c.Request.Context(), h.store, h.reg, id)
	respond(c, out, err)
}
