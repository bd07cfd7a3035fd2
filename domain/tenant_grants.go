package domain

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// RelationNotFound is the 404 detail of a tenant role relation of kind
// that is not there; known is false for an unknown kind.
func RelationNotFound(kind string) (msg string, known bool) {
	switch kind {
	case GrantUser:
		return "Tenant user role not found", true
	case GrantGroup:
		return "Tenant group role not found", true
	case GrantOrg:
		return "Tenant org role not found", true
	}
	return "Role relation not found", false
}

// TenantGrants is every role relation of one tenant: the roles granted in
// it to users, user groups and orgs (stream tenant_grants-<tenant uuid>).
// One aggregate per tenant, so its rule is checked exactly: a subject holds
// a role at most once. Relation ids come from the one sequence
// role_relation_id_seq, allocated by the caller before the append. Whether
// the role, user, group or org exists is the caller's check (they live in
// other streams: the permission catalogue, the users, the tenant's
// UserGroups and OrgTree).
type TenantGrants struct {
	root      Root
	tenant    uuid.UUID
	relations map[int64]*TenantGrantState
	held      map[grantKey]int64 // {kind, subject, role} → relation id
}

type grantKey struct {
	kind    string
	subject int64
	role    string
}

// TenantGrantState is one relation as the aggregate knows it.
type TenantGrantState struct {
	ID        int64
	Kind      string
	SubjectID int64
	RoleID    string
}

// TenantUserRoleState, TenantGroupRoleState and TenantOrgRoleState are the
// relations in the API's shapes minus the names (which belong to other
// streams).
type TenantUserRoleState struct {
	ID       int64     `json:"id"`
	TenantID uuid.UUID `json:"tenant_id"`
	UID      int64     `json:"uid"`
	RoleID   string    `json:"role_id"`
}

// TenantGroupRoleState is a role granted to a user group.
type TenantGroupRoleState struct {
	ID       int64     `json:"id"`
	TenantID uuid.UUID `json:"tenant_id"`
	GroupID  int64     `json:"group_id"`
	RoleID   string    `json:"role_id"`
}

// TenantOrgRoleState is a role granted to an org.
type TenantOrgRoleState struct {
	ID       int64     `json:"id"`
	TenantID uuid.UUID `json:"tenant_id"`
	OrgID    int64     `json:"org_id"`
	RoleID   string    `json:"role_id"`
}

// TenantGrantsState is what AuditState returns: the three relation lists,
// each ordered by id and never nil.
type TenantGrantsState struct {
	UserRoles  []TenantUserRoleState  `json:"user_roles"`
	GroupRoles []TenantGroupRoleState `json:"group_roles"`
	OrgRoles   []TenantOrgRoleState   `json:"org_roles"`
}

// LoadTenantGrants returns the empty grants of tenant, to fold its stream
// into (a tenant without grants has no stream yet).
func LoadTenantGrants(tenant uuid.UUID) *TenantGrants {
	return &TenantGrants{tenant: tenant, relations: map[int64]*TenantGrantState{}, held: map[grantKey]int64{}}
}

// TenantGrantsStream names the stream of tenant's role grants.
func TenantGrantsStream(tenant uuid.UUID) string { return "tenant_grants-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (g *TenantGrants) StreamID() string { return TenantGrantsStream(g.tenant) }

// Root implements commands.Aggregate.
func (g *TenantGrants) Root() *Root { return &g.root }

// TenantID returns the tenant the grants belong to.
func (g *TenantGrants) TenantID() uuid.UUID { return g.tenant }

// Relation returns relation id (ok false if the tenant has none).
func (g *TenantGrants) Relation(id int64) (TenantGrantState, bool) {
	r, ok := g.relations[id]
	if !ok {
		return TenantGrantState{}, false
	}
	return *r, true
}

// Holds returns the relation by which the subject of kind holds role.
func (g *TenantGrants) Holds(kind string, subject int64, role string) (int64, bool) {
	id, ok := g.held[grantKey{kind, subject, role}]
	return id, ok
}

// AuditState returns the tenant's user, group and org role relations as
// they are after the events folded so far, in the API's shapes minus the
// names: folding the stream up to an instant and calling AuditState gives
// the grants "as of" that instant.
func (g *TenantGrants) AuditState() any { return g.state() }

func (g *TenantGrants) state() TenantGrantsState {
	out := TenantGrantsState{UserRoles: []TenantUserRoleState{}, GroupRoles: []TenantGroupRoleState{}, OrgRoles: []TenantOrgRoleState{}}
	for _, r := range g.relations {
		switch r.Kind {
		case GrantUser:
			out.UserRoles = append(out.UserRoles, TenantUserRoleState{ID: r.ID, TenantID: g.tenant, UID: r.SubjectID, RoleID: r.RoleID})
		case GrantGroup:
			out.GroupRoles = append(out.GroupRoles, TenantGroupRoleState{ID: r.ID, TenantID: g.tenant, GroupID: r.SubjectID, RoleID: r.RoleID})
		case GrantOrg:
			out.OrgRoles = append(out.OrgRoles, TenantOrgRoleState{ID: r.ID, TenantID: g.tenant, OrgID: r.SubjectID, RoleID: r.RoleID})
		}
	}
	slices.SortFunc(out.UserRoles, func(a, b TenantUserRoleState) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.GroupRoles, func(a, b TenantGroupRoleState) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.OrgRoles, func(a, b TenantOrgRoleState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// subjectName names a subject in an answer ("User 7", "User group 3").
func subjectName(kind string, id int64) string {
	switch kind {
	case GrantGroup:
		return "User group " + itoa(id)
	case GrantOrg:
		return "Org " + itoa(id)
	}
	return "User " + itoa(id)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Grant records relation id: role granted to the subject of kind. The
// subject holding the role already is 409.
func (g *TenantGrants) Grant(id int64, kind string, subject int64, role string) error {
	if _, known := RelationNotFound(kind); !known {
		return Invalidf("unknown grant kind %q", kind)
	}
	if other, dup := g.held[grantKey{kind, subject, role}]; dup {
		return Conflictf("%s already has role %q in this tenant (relation %d)", subjectName(kind, subject), role, other)
	}
	if _, taken := g.relations[id]; taken {
		return Conflictf("Role relation %d already exists", id)
	}
	record(g, TenantRoleGranted{TenantID: g.tenant, RelationID: id, Kind: kind, SubjectID: subject, RoleID: role})
	return nil
}

// Revoke removes relation id of kind: 404 if the tenant has no such
// relation of that kind.
func (g *TenantGrants) Revoke(kind string, id int64) error {
	r, ok := g.relations[id]
	if !ok || r.Kind != kind {
		msg, _ := RelationNotFound(kind)
		return NotFoundf("%s", msg)
	}
	record(g, TenantRoleRevoked{TenantID: g.tenant, RelationID: id, Kind: kind, SubjectID: r.SubjectID, RoleID: r.RoleID})
	return nil
}

// RevokeAll removes the relations of kind among ids (ids of other kinds,
// of other tenants, unknown or repeated are ignored) and returns how many
// it removed.
func (g *TenantGrants) RevokeAll(kind string, ids []int64) int {
	n := 0
	for _, id := range ids {
		if r, ok := g.relations[id]; ok && r.Kind == kind {
			record(g, TenantRoleRevoked{TenantID: g.tenant, RelationID: id, Kind: kind, SubjectID: r.SubjectID, RoleID: r.RoleID})
			n++
		}
	}
	return n
}

// Apply implements commands.Aggregate.
func (g *TenantGrants) Apply(e Event) {
	switch e := e.(type) {
	case TenantRoleGranted:
		g.add(TenantGrantState{ID: e.RelationID, Kind: e.Kind, SubjectID: e.SubjectID, RoleID: e.RoleID})
	case TenantRoleRevoked:
		if r, ok := g.relations[e.RelationID]; ok {
			delete(g.held, grantKey{r.Kind, r.SubjectID, r.RoleID})
			delete(g.relations, e.RelationID)
		}
	}
}

func (g *TenantGrants) add(r TenantGrantState) {
	g.relations[r.ID] = &r
	g.held[grantKey{r.Kind, r.SubjectID, r.RoleID}] = r.ID
}

// SnapshotVersion implements Snapshotter.
func (g *TenantGrants) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the relations, as AuditState gives them.
func (g *TenantGrants) Snapshot() ([]byte, error) { return json.Marshal(g.state()) }

// Restore implements Snapshotter.
func (g *TenantGrants) Restore(state []byte) error {
	var s TenantGrantsState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadTenantGrants(g.tenant)
	for _, r := range s.UserRoles {
		fresh.add(TenantGrantState{ID: r.ID, Kind: GrantUser, SubjectID: r.UID, RoleID: r.RoleID})
	}
	for _, r := range s.GroupRoles {
		fresh.add(TenantGrantState{ID: r.ID, Kind: GrantGroup, SubjectID: r.GroupID, RoleID: r.RoleID})
	}
	for _, r := range s.OrgRoles {
		fresh.add(TenantGrantState{ID: r.ID, Kind: GrantOrg, SubjectID: r.OrgID, RoleID: r.RoleID})
	}
	g.relations, g.held = fresh.relations, fresh.held
	return nil
}

// RaceRule implements Raced: every grant of a tenant appends to one stream.
func (*TenantGrants) RaceRule() RaceRule { return Shared }
