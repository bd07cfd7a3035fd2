package tenancy

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
)

// A place is something of one tenant that a request may name by id: a
// business, an org, a user group, a member of an org or a group, a role
// relation. The rule every operation keeps (the access package for path
// and query parameters, handlers for body fields): a place named in a
// request must lie in the tenant the request acts in. A privilege held in
// a business counts only inside that business's own tenant, so naming a
// business of tenant B never widens what a request about tenant A may do;
// a place of another tenant is answered as one that does not exist (404,
// or 422 for a body field), so nothing is learnt about other tenants.
//
// Places resolve through the access projection's copies of the tenant
// structures (access_businesses, access_orgs, access_groups, their member
// and relation tables): the same read model, at the same position, as the
// privilege checks.

// The kinds of place, as httpapi.Param.Place declares them.
const (
	PlaceTenant           = "tenant"
	PlaceBusiness         = "business"
	PlaceOrg              = "org"
	PlaceGroup            = "group"
	PlaceOrgMember        = "org_member"
	PlaceGroupMember      = "group_member"
	PlaceBusinessRelation = "business_relation"
	// Tenant role relations, by the kind of subject they grant to.
	PlaceTenantUserRelation  = "tenant_user_relation"
	PlaceTenantGroupRelation = "tenant_group_relation"
	PlaceTenantOrgRelation   = "tenant_org_relation"
	// PlaceComponentGroup is a component group of the catalogue; system
	// groups (scope 0), offered in every tenant, are not located (the
	// handler answers for them).
	PlaceComponentGroup = "component_group"
)

// placeTables maps a kind to the access table that locates it (the rows
// whose column is the id and that meet filter), and the detail of its 404
// (the handler's own, so that a place of another tenant is answered as
// one that does not exist).
var placeTables = map[string]struct{ table, column, filter, notFound string }{
	PlaceBusiness:            {"access_businesses", "business_id", "", domain.MsgBusinessNotFound},
	PlaceOrg:                 {"access_orgs", "org_id", "", domain.MsgOrgNotFound},
	PlaceGroup:               {"access_groups", "group_id", "", domain.MsgUserGroupNotFound},
	PlaceOrgMember:           {"access_org_members", "member_id", "", domain.MsgOrgMemberNotFound},
	PlaceGroupMember:         {"access_group_members", "member_id", "", domain.MsgUserGroupMemberNotFound},
	PlaceBusinessRelation:    {"access_business_roles", "id", "", domain.MsgBusinessUserRoleNotFound},
	PlaceTenantUserRelation:  {"access_grants", "id", " AND kind = 'user'", relationNotFound(domain.GrantUser)},
	PlaceTenantGroupRelation: {"access_grants", "id", " AND kind = 'group'", relationNotFound(domain.GrantGroup)},
	PlaceTenantOrgRelation:   {"access_grants", "id", " AND kind = 'org'", relationNotFound(domain.GrantOrg)},
	PlaceComponentGroup:      {"component_groups", "id", " AND scope <> 0", domain.MsgGroupNotFound},
}

func relationNotFound(kind string) string {
	msg, _ := domain.RelationNotFound(kind)
	return msg
}

// KnownPlace reports whether kind is a kind of place (PlaceTenant
// included).
func KnownPlace(kind string) bool {
	_, ok := placeTables[kind]
	return ok || kind == PlaceTenant
}

// Place is one place a request names: its kind and id. Where says where
// the request named it, for error locations (["body", "business_id"]).
type Place struct {
	Kind  string
	ID    int64
	Where []any
}

// NotFound is the 404 of a place that is not in the request's tenant.
func (p Place) NotFound() error {
	if t, ok := placeTables[p.Kind]; ok {
		return domain.NotFoundf("%s", t.notFound)
	}
	return domain.NotFoundf("Not found")
}

// Locate returns the tenant of each place (uuid.Nil for one that does not
// exist), in one query. Places of kind PlaceTenant or with id 0 are not
// looked up (Nil).
func Locate(ctx context.Context, pool *pgxpool.Pool, places []Place) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(places))
	var parts []string
	var args []any
	for i, p := range places {
		t, ok := placeTables[p.Kind]
		if !ok || p.ID == 0 {
			continue
		}
		args = append(args, p.ID)
		parts = append(parts, fmt.Sprintf(`SELECT %d, tenant_id FROM %s WHERE %s = $%d%s`, i, t.table, t.column, len(args), t.filter))
	}
	if len(parts) == 0 {
		return out, nil
	}
	rows, err := pool.Query(ctx, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return nil, fmt.Errorf("locate places: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var t uuid.UUID
		if err := rows.Scan(&i, &t); err != nil {
			return nil, fmt.Errorf("locate places: %w", err)
		}
		out[i] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("locate places: %w", err)
	}
	return out, nil
}

// InTenant checks that every place (id 0: none named) lies in tenant: a
// place elsewhere, or nowhere, is a 422 at its Where ("no business 7 in
// tenant …"), the same answer in both cases.
func InTenant(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, places ...Place) error {
	at, err := Locate(ctx, pool, places)
	if err != nil {
		return err
	}
	for i, p := range places {
		if p.ID == 0 || p.Kind == PlaceTenant || at[i] == tenant {
			continue
		}
		loc := p.Where
		if len(loc) == 0 {
			loc = []any{"body"}
		}
		return &domain.FieldError{Loc: loc, Input: p.ID,
			Message: fmt.Sprintf("no %s %d in tenant %s", strings.ReplaceAll(p.Kind, "_", " "), p.ID, tenant)}
	}
	return nil
}
