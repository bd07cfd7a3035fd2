package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of the component catalogue (#198–#200, #202, #204,
// #205): command values and the methods of ComponentsHandler, with no
// HTTP in sight (ports.Components binds, resolves, calls and answers).
//
// Every write is checked with CatalogWriter (THE write rule of catalogue
// entries) where the entry is, and — when it moves — where it goes. A
// by-id write names the entry's scope (and business): an entry elsewhere
// is 404. Groups live in one ComponentGroups aggregate per tenant (system
// groups in the system tenant's), so a group cannot move between the
// system scope and the others unless the request acts in the system
// tenant (422). Components live in their own streams (component-<id>):
// each change of code or component_skill is a version.

// CatalogAt is where a by-id write says its entry is: its scope and, for
// business entries, optionally its business (0: not said).
type CatalogAt struct {
	Scope      int
	BusinessID int64
}

func (at CatalogAt) matches(p domain.CatalogPlace) bool {
	return at.Scope == p.Scope && (at.BusinessID == 0 || at.BusinessID == p.BusinessID)
}

// AddComponentGroup adds a component group.
type AddComponentGroup struct {
	Tenant uuid.UUID // the tenant the request acts in
	Caller auth.Principal
	Meta   eventstore.Metadata
	Spec   domain.ComponentGroupSpec // Creator is set from Caller
}

// ChangeComponentGroup changes a group (nil fields: as they are).
type ChangeComponentGroup struct {
	Tenant  uuid.UUID
	Caller  auth.Principal
	Meta    eventstore.Metadata
	GroupID int64
	At      CatalogAt
	Change  domain.ComponentGroupChange
}

// RemoveComponentGroup removes a group that has no components.
type RemoveComponentGroup struct {
	Tenant  uuid.UUID
	Caller  auth.Principal
	Meta    eventstore.Metadata
	GroupID int64
	At      CatalogAt
}

// AddComponent adds a component (its version 1).
type AddComponent struct {
	Tenant uuid.UUID
	Caller auth.Principal
	Meta   eventstore.Metadata
	Spec   domain.ComponentSpec // TenantID and Creator are set here
}

// ChangeComponent changes a component (nil fields: as they are).
type ChangeComponent struct {
	Tenant      uuid.UUID
	Caller      auth.Principal
	Meta        eventstore.Metadata
	ComponentID int64
	At          CatalogAt
	Change      domain.ComponentChange // TenantID is set here
}

// RemoveComponent removes a component.
type RemoveComponent struct {
	Tenant      uuid.UUID
	Caller      auth.Principal
	Meta        eventstore.Metadata
	ComponentID int64
	At          CatalogAt
}

// ComponentsHandler handles the catalogue's commands.
type ComponentsHandler struct {
	Repo *Repository
	IDs  IDs
	Pool *pgxpool.Pool
}

func (h *ComponentsHandler) writer() CatalogWriter { return CatalogWriter{Pool: h.Pool} }

func (h *ComponentsHandler) decideGroups(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.ComponentGroups) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadComponentGroups, md, fn)
}

// AddGroup handles AddComponentGroup: group_en_name is unique at its
// place (409).
func (h *ComponentsHandler) AddGroup(ctx context.Context, cmd AddComponentGroup) (CatalogWritten, error) {
	spec := cmd.Spec
	spec.Creator = cmd.Caller.UserID
	if err := spec.Valid(); err != nil {
		return CatalogWritten{}, err
	}
	tenant := CatalogTenant(spec.Scope, cmd.Tenant)
	if err := h.writer().Check(ctx, cmd.Caller, tenant, domain.CatalogPlace{Scope: spec.Scope, BusinessID: spec.BusinessID, Creator: spec.Creator}); err != nil {
		return CatalogWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "component_group")
	if err != nil {
		return CatalogWritten{}, err
	}
	res, err := h.decideGroups(ctx, tenant, cmd.Meta, func(g *domain.ComponentGroups) error { return g.Add(id, spec) })
	return CatalogWritten{ID: id, Result: res}, err
}

// newPlace is where an entry at cur goes when a change names scope and
// business (nil: as they are; a new scope without a business leaves the
// business only when the scope stays business).
func newPlace(cur domain.CatalogPlace, scope *int, business *int64) (int, int64) {
	s, b := cur.Scope, cur.BusinessID
	if scope != nil && *scope != cur.Scope {
		s, b = *scope, 0
	}
	if business != nil {
		b = *business
	}
	return s, b
}

// ChangeGroup handles ChangeComponentGroup.
func (h *ComponentsHandler) ChangeGroup(ctx context.Context, cmd ChangeComponentGroup) (CatalogWritten, error) {
	tenant := CatalogTenant(cmd.At.Scope, cmd.Tenant)
	res, err := h.decideGroups(ctx, tenant, cmd.Meta, func(g *domain.ComponentGroups) error {
		cur, ok := g.Group(cmd.GroupID)
		if !ok || !cmd.At.matches(cur.Place()) {
			return domain.NotFoundf(domain.MsgGroupNotFound)
		}
		if err := h.writer().Check(ctx, cmd.Caller, tenant, cur.Place(), "query", "business_id"); err != nil {
			return err
		}
		ch := cmd.Change
		scope, business := newPlace(cur.Place(), ch.Scope, ch.BusinessID)
		if err := domain.ValidCatalogScope("scope", scope, business); err != nil {
			return err
		}
		if scope != cur.Scope || business != cur.BusinessID {
			if CatalogTenant(scope, cmd.Tenant) != tenant {
				return domain.Invalidf("A component group cannot move between the system scope (0) and the tenant's scopes")
			}
			next := domain.CatalogPlace{Scope: scope, BusinessID: business, Creator: cur.Creator}
			if err := h.writer().Check(ctx, cmd.Caller, tenant, next); err != nil {
				return err
			}
		}
		ch.Scope, ch.BusinessID = &scope, &business
		return g.Change(cmd.GroupID, ch)
	})
	return CatalogWritten{ID: cmd.GroupID, Result: res}, err
}

// RemoveGroup handles RemoveComponentGroup: a group that still has
// components is not removed (409 naming how many). The count is read from
// the components read model, which shows every write that has answered.
func (h *ComponentsHandler) RemoveGroup(ctx context.Context, cmd RemoveComponentGroup) (CatalogWritten, error) {
	tenant := CatalogTenant(cmd.At.Scope, cmd.Tenant)
	res, err := h.decideGroups(ctx, tenant, cmd.Meta, func(g *domain.ComponentGroups) error {
		cur, ok := g.Group(cmd.GroupID)
		if !ok || !cmd.At.matches(cur.Place()) {
			return domain.NotFoundf(domain.MsgGroupNotFound)
		}
		if err := h.writer().Check(ctx, cmd.Caller, tenant, cur.Place(), "query", "business_id"); err != nil {
			return err
		}
		var n int
		if err := h.Pool.QueryRow(ctx, `SELECT count(*) FROM components WHERE component_group_id = $1`, cmd.GroupID).Scan(&n); err != nil {
			return fmt.Errorf("count the components of group %d: %w", cmd.GroupID, err)
		}
		if n > 0 {
			return domain.Conflictf("Component group %d still has %d component(s): remove or move them first", cmd.GroupID, n)
		}
		return g.Remove(cmd.GroupID)
	})
	return CatalogWritten{ID: cmd.GroupID, Result: res}, err
}

// groupExists checks that group id exists in tenant or among the system
// groups (422 at the body's component_group_id otherwise).
func (h *ComponentsHandler) groupExists(ctx context.Context, tenant uuid.UUID, id int64) error {
	for _, t := range []uuid.UUID{tenant, tenancy.SystemTenantID} {
		g, err := loadOrNew(ctx, h.Repo, func() *domain.ComponentGroups { return domain.LoadComponentGroups(t) })
		if err != nil {
			return err
		}
		if _, ok := g.Group(id); ok {
			return nil
		}
	}
	return domain.Invalidf("component_group_id %d: %s", id, domain.MsgGroupNotFound)
}

// Add handles AddComponent.
func (h *ComponentsHandler) Add(ctx context.Context, cmd AddComponent) (CatalogWritten, error) {
	spec := cmd.Spec
	spec.Creator = cmd.Caller.UserID
	spec.TenantID = CatalogTenant(spec.Scope, cmd.Tenant)
	if err := spec.Valid(); err != nil {
		return CatalogWritten{}, err
	}
	if err := h.writer().Check(ctx, cmd.Caller, spec.TenantID, domain.CatalogPlace{Scope: spec.Scope, BusinessID: spec.BusinessID, Creator: spec.Creator}); err != nil {
		return CatalogWritten{}, err
	}
	if err := h.groupExists(ctx, cmd.Tenant, spec.GroupID); err != nil {
		return CatalogWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "component")
	if err != nil {
		return CatalogWritten{}, err
	}
	md := cmd.Meta
	md.TenantID = spec.TenantID
	c := domain.LoadComponent(id)
	if err := c.Add(spec); err != nil {
		return CatalogWritten{}, err
	}
	res, err := h.Repo.Save(ctx, c, md)
	return CatalogWritten{ID: id, Result: res}, err
}

func (h *ComponentsHandler) decideComponent(ctx context.Context, id int64, md eventstore.Metadata, fn func(*domain.Component) error) (eventstore.AppendResult, error) {
	return decideAgain(ctx, h.Repo, func() *domain.Component { return domain.LoadComponent(id) }, func(c *domain.Component) error {
		if _, ok := c.State(); !ok {
			return domain.NotFoundf(domain.MsgComponentNotFound)
		}
		return fn(c)
	}, md)
}

// Change handles ChangeComponent: a change of code or component_skill is
// a new version.
func (h *ComponentsHandler) Change(ctx context.Context, cmd ChangeComponent) (CatalogWritten, error) {
	md := cmd.Meta
	md.TenantID = cmd.Tenant
	res, err := h.decideComponent(ctx, cmd.ComponentID, md, func(c *domain.Component) error {
		cur, _ := c.State()
		if !cmd.At.matches(cur.Place()) || !catalogReaches(cmd.Tenant, cur.TenantID, cur.Place()) {
			return domain.NotFoundf(domain.MsgComponentNotFound)
		}
		if err := h.writer().Check(ctx, cmd.Caller, cur.TenantID, cur.Place(), "query", "business_id"); err != nil {
			return err
		}
		ch := cmd.Change
		scope, business := newPlace(cur.Place(), ch.Scope, ch.BusinessID)
		if err := domain.ValidCatalogScope("scope", scope, business); err != nil {
			return err
		}
		ch.TenantID = cur.TenantID
		if scope != cur.Scope || business != cur.BusinessID {
			switch {
			case scope == domain.CatalogScopeSystem:
				ch.TenantID = tenancy.SystemTenantID
			case cur.Scope == domain.CatalogScopeSystem:
				ch.TenantID = cmd.Tenant
			}
			next := domain.CatalogPlace{Scope: scope, BusinessID: business, Creator: cur.Creator}
			if err := h.writer().Check(ctx, cmd.Caller, ch.TenantID, next); err != nil {
				return err
			}
		}
		if ch.GroupID != nil && *ch.GroupID != cur.GroupID {
			if err := h.groupExists(ctx, ch.TenantID, *ch.GroupID); err != nil {
				return err
			}
		}
		ch.Scope, ch.BusinessID = &scope, &business
		return c.Change(ch)
	})
	return CatalogWritten{ID: cmd.ComponentID, Result: res}, err
}

// Remove handles RemoveComponent.
func (h *ComponentsHandler) Remove(ctx context.Context, cmd RemoveComponent) (CatalogWritten, error) {
	md := cmd.Meta
	md.TenantID = cmd.Tenant
	res, err := h.decideComponent(ctx, cmd.ComponentID, md, func(c *domain.Component) error {
		cur, _ := c.State()
		if !cmd.At.matches(cur.Place()) || !catalogReaches(cmd.Tenant, cur.TenantID, cur.Place()) {
			return domain.NotFoundf(domain.MsgComponentNotFound)
		}
		if err := h.writer().Check(ctx, cmd.Caller, cur.TenantID, cur.Place(), "query", "business_id"); err != nil {
			return err
		}
		return c.Remove()
	})
	return CatalogWritten{ID: cmd.ComponentID, Result: res}, err
}
