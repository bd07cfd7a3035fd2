package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// PermissionCatalogueStream is the one stream of the permission catalogue.
const PermissionCatalogueStream = "permissions-catalogue"

// The operation types of a privilege (priv_opr_type).
const (
	PrivRead   = "READ"
	PrivWrite  = "WRITE"
	PrivModify = "MODIFY"
	PrivDelete = "DELETE"
)

// PrivOprTypes lists the operation types in their natural order.
var PrivOprTypes = []string{PrivRead, PrivWrite, PrivModify, PrivDelete}

// Limits of the catalogue's ids and names.
const (
	MaxPermNameLength = 128 // priv_name, role_name, module_name
)

var (
	roleIDPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	privIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
)

// PermModuleState is a permission module.
type PermModuleState struct {
	ModuleID   string `json:"module_id"`
	ModuleName string `json:"module_name"`
}

// PermPrivState is a privilege of a module.
type PermPrivState struct {
	ModuleID    string `json:"module_id"`
	PrivID      string `json:"priv_id"`
	PrivName    string `json:"priv_name"`
	IsSysPriv   bool   `json:"is_sys_priv"`
	PrivOprType string `json:"priv_opr_type"`
}

// PermRoleState is a role.
type PermRoleState struct {
	RoleID    string `json:"role_id"`
	RoleName  string `json:"role_name"`
	IsSysRole bool   `json:"is_sys_role"`
}

// PermRolePrivState is a role privilege item: role RoleID holds privilege
// PrivID of module ModuleID.
type PermRolePrivState struct {
	RoleID   string `json:"role_id"`
	ModuleID string `json:"module_id"`
	PrivID   string `json:"priv_id"`
}

// PermissionCatalogueState is what AuditState returns (and what a
// snapshot holds): every module, privilege, role and item, ordered by
// their keys.
type PermissionCatalogueState struct {
	Modules   []PermModuleState   `json:"modules"`
	Privs     []PermPrivState     `json:"privs"`
	Roles     []PermRoleState     `json:"roles"`
	RolePrivs []PermRolePrivState `json:"role_privs"`
}

type privKey struct{ module, priv string }

// PermissionCatalogue is the whole permission catalogue in one aggregate
// (stream permissions-catalogue): modules, their privileges, roles and the
// privileges each role holds. It is small (tens of modules, hundreds of
// items), and one aggregate checks every rule exactly:
//   - unknown module, privilege or role: 404 naming it; duplicates: 409;
//   - "system" means built-in: only the seed writes is_sys_priv or
//     is_sys_role true, the flags never change (409), system privileges and
//     roles are never removed (409), a system privilege's operation type
//     never changes (409) and the items of a system role are the built-in
//     matrix (adding or removing one is 409); their names may change;
//   - a privilege some role holds is not removed (409 naming the roles);
//   - removing a role removes its items with it (one PermRoleRemoved).
type PermissionCatalogue struct {
	root    Root
	modules map[string]*PermModuleState
	privs   map[privKey]*PermPrivState
	roles   map[string]*PermRoleState
	items   map[string]map[privKey]bool // role → items
}

// NewPermissionCatalogue returns the empty catalogue, to fold the stream
// into.
func NewPermissionCatalogue() *PermissionCatalogue {
	return &PermissionCatalogue{modules: map[string]*PermModuleState{}, privs: map[privKey]*PermPrivState{},
		roles: map[string]*PermRoleState{}, items: map[string]map[privKey]bool{}}
}

// StreamID implements commands.Aggregate.
func (p *PermissionCatalogue) StreamID() string { return PermissionCatalogueStream }

// Root implements commands.Aggregate.
func (p *PermissionCatalogue) Root() *Root { return &p.root }

// Module returns module id.
func (p *PermissionCatalogue) Module(id string) (PermModuleState, bool) {
	m, ok := p.modules[id]
	if !ok {
		return PermModuleState{}, false
	}
	return *m, true
}

// Priv returns privilege priv of module.
func (p *PermissionCatalogue) Priv(module, priv string) (PermPrivState, bool) {
	s, ok := p.privs[privKey{module, priv}]
	if !ok {
		return PermPrivState{}, false
	}
	return *s, true
}

// Role returns role id.
func (p *PermissionCatalogue) Role(id string) (PermRoleState, bool) {
	r, ok := p.roles[id]
	if !ok {
		return PermRoleState{}, false
	}
	return *r, true
}

// RequireRoles refuses (404 "Role %q not found", the first missing) any of
// ids the catalogue does not have.
func (p *PermissionCatalogue) RequireRoles(ids ...string) error {
	for _, id := range ids {
		if _, ok := p.roles[id]; !ok {
			return roleNotFound(id)
		}
	}
	return nil
}

// HasItem reports whether role holds privilege priv of module.
func (p *PermissionCatalogue) HasItem(role, module, priv string) bool {
	return p.items[role][privKey{module, priv}]
}

// AuditState returns the catalogue after the events folded so far, each
// list ordered by its key and never nil.
func (p *PermissionCatalogue) AuditState() any { return p.state() }

func (p *PermissionCatalogue) state() PermissionCatalogueState {
	out := PermissionCatalogueState{Modules: []PermModuleState{}, Privs: []PermPrivState{}, Roles: []PermRoleState{},
		RolePrivs: []PermRolePrivState{}}
	for _, m := range p.modules {
		out.Modules = append(out.Modules, *m)
	}
	for _, s := range p.privs {
		out.Privs = append(out.Privs, *s)
	}
	for _, r := range p.roles {
		out.Roles = append(out.Roles, *r)
	}
	for role, items := range p.items {
		for k := range items {
			out.RolePrivs = append(out.RolePrivs, PermRolePrivState{RoleID: role, ModuleID: k.module, PrivID: k.priv})
		}
	}
	slices.SortFunc(out.Modules, func(a, b PermModuleState) int { return cmp.Compare(a.ModuleID, b.ModuleID) })
	slices.SortFunc(out.Privs, func(a, b PermPrivState) int {
		return cmp.Or(cmp.Compare(a.ModuleID, b.ModuleID), cmp.Compare(a.PrivID, b.PrivID))
	})
	slices.SortFunc(out.Roles, func(a, b PermRoleState) int { return cmp.Compare(a.RoleID, b.RoleID) })
	slices.SortFunc(out.RolePrivs, func(a, b PermRolePrivState) int {
		return cmp.Or(cmp.Compare(a.RoleID, b.RoleID), cmp.Compare(a.ModuleID, b.ModuleID), cmp.Compare(a.PrivID, b.PrivID))
	})
	return out
}

// validName checks a name field: not blank, valid UTF-8, at most
// MaxPermNameLength characters.
func validName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("%s must not be empty", field)
	case !utf8.ValidString(name):
		return Invalidf("%s must be valid UTF-8", field)
	case utf8.RuneCountInString(name) > MaxPermNameLength:
		return Invalidf("%s must be at most %d characters", field, MaxPermNameLength)
	}
	return nil
}

// ValidRoleID checks a role id: 1–32 characters of [a-z0-9_-] (lower case,
// so that ids are path-safe and never differ only by case).
func ValidRoleID(id string) error {
	if !roleIDPattern.MatchString(id) {
		return Invalidf("role_id must be 1 to 32 characters of a-z, 0-9, _ and -")
	}
	return nil
}

// ValidPrivID checks a privilege id: 1–128 characters of [A-Za-z0-9_.-]
// (path-safe).
func ValidPrivID(id string) error {
	if !privIDPattern.MatchString(id) {
		return Invalidf("priv_id must be 1 to 128 characters of A-Z, a-z, 0-9, _, . and -")
	}
	return nil
}

// ValidPrivOprType checks an operation type.
func ValidPrivOprType(t string) error {
	if !slices.Contains(PrivOprTypes, t) {
		return Invalidf("priv_opr_type must be one of READ, WRITE, MODIFY, DELETE")
	}
	return nil
}

func moduleNotFound(id string) error { return NotFoundf("Permission module %q not found", id) }
func privNotFound(module, priv string) error {
	return NotFoundf("Privilege %q of module %q not found", priv, module)
}
func roleNotFound(id string) error { return NotFoundf("Role %q not found", id) }

// AddModule adds module id (the seed's only: the API has no operation
// adding modules).
func (p *PermissionCatalogue) AddModule(id, name string) error {
	if _, dup := p.modules[id]; dup {
		return Conflictf("Permission module %q already exists", id)
	}
	if err := validName("module_name", name); err != nil {
		return err
	}
	record(p, PermModuleAdded{ModuleID: id, ModuleName: name})
	return nil
}

// AddPriv adds a privilege to module; system says whether the caller is
// the built-in seed (only it adds system privileges).
func (p *PermissionCatalogue) AddPriv(s PermPrivState, system bool) error {
	if _, ok := p.modules[s.ModuleID]; !ok {
		return moduleNotFound(s.ModuleID)
	}
	if err := ValidPrivID(s.PrivID); err != nil {
		return err
	}
	if err := validName("priv_name", s.PrivName); err != nil {
		return err
	}
	if err := ValidPrivOprType(s.PrivOprType); err != nil {
		return err
	}
	if s.IsSysPriv && !system {
		return Invalidf("is_sys_priv: only the built-in catalogue has system privileges")
	}
	if _, dup := p.privs[privKey{s.ModuleID, s.PrivID}]; dup {
		return Conflictf("Privilege %q of module %q already exists", s.PrivID, s.ModuleID)
	}
	record(p, PermPrivAdded{ModuleID: s.ModuleID, PrivID: s.PrivID, PrivName: s.PrivName, IsSysPriv: s.IsSysPriv,
		PrivOprType: s.PrivOprType})
	return nil
}

// PermPrivChange holds the fields of a privilege to set; nil leaves one
// as it is. IsSysPriv may only repeat the current value.
type PermPrivChange struct {
	PrivName    *string
	IsSysPriv   *bool
	PrivOprType *string
}

// ChangePriv changes privilege priv of module: its name; its operation
// type unless it is a system privilege. Nothing is recorded when nothing
// differs.
func (p *PermissionCatalogue) ChangePriv(module, priv string, ch PermPrivChange) error {
	if _, ok := p.modules[module]; !ok {
		return moduleNotFound(module)
	}
	cur, ok := p.privs[privKey{module, priv}]
	if !ok {
		return privNotFound(module, priv)
	}
	if ch.IsSysPriv != nil && *ch.IsSysPriv != cur.IsSysPriv {
		return Conflictf("is_sys_priv of privilege %q of module %q cannot be changed", priv, module)
	}
	e := PermPrivChanged{ModuleID: module, PrivID: priv}
	changed := false
	if ch.PrivName != nil && *ch.PrivName != cur.PrivName {
		if err := validName("priv_name", *ch.PrivName); err != nil {
			return err
		}
		e.PrivName, changed = ch.PrivName, true
	}
	if ch.PrivOprType != nil && *ch.PrivOprType != cur.PrivOprType {
		if err := ValidPrivOprType(*ch.PrivOprType); err != nil {
			return err
		}
		if cur.IsSysPriv {
			return Conflictf("The operation type of system privilege %q of module %q cannot be changed", priv, module)
		}
		e.PrivOprType, changed = ch.PrivOprType, true
	}
	if changed {
		record(p, e)
	}
	return nil
}

// holders lists, sorted, the roles holding privilege priv of module.
func (p *PermissionCatalogue) holders(module, priv string) []string {
	var out []string
	for role, items := range p.items {
		if items[privKey{module, priv}] {
			out = append(out, role)
		}
	}
	slices.Sort(out)
	return out
}

// RemovePriv removes privilege priv of module: not a system privilege,
// and held by no role (409 naming the roles otherwise).
func (p *PermissionCatalogue) RemovePriv(module, priv string) error {
	if _, ok := p.modules[module]; !ok {
		return moduleNotFound(module)
	}
	cur, ok := p.privs[privKey{module, priv}]
	if !ok {
		return privNotFound(module, priv)
	}
	if cur.IsSysPriv {
		return Conflictf("System privilege %q of module %q cannot be removed", priv, module)
	}
	if roles := p.holders(module, priv); len(roles) > 0 {
		return Conflictf("Privilege %q of module %q is still held by roles: %s", priv, module, strings.Join(roles, ", "))
	}
	record(p, PermPrivRemoved{ModuleID: module, PrivID: priv})
	return nil
}

// AddRole adds role r; system says whether the caller is the built-in
// seed (only it adds system roles).
func (p *PermissionCatalogue) AddRole(r PermRoleState, system bool) error {
	if err := ValidRoleID(r.RoleID); err != nil {
		return err
	}
	if err := validName("role_name", r.RoleName); err != nil {
		return err
	}
	if r.IsSysRole && !system {
		return Invalidf("is_sys_role: only the built-in catalogue has system roles")
	}
	if _, dup := p.roles[r.RoleID]; dup {
		return Conflictf("Role %q already exists", r.RoleID)
	}
	record(p, PermRoleAdded{RoleID: r.RoleID, RoleName: r.RoleName, IsSysRole: r.IsSysRole})
	return nil
}

// ChangeRole renames role id; isSys may only repeat the current flag.
func (p *PermissionCatalogue) ChangeRole(id string, name *string, isSys *bool) error {
	cur, ok := p.roles[id]
	if !ok {
		return roleNotFound(id)
	}
	if isSys != nil && *isSys != cur.IsSysRole {
		return Conflictf("is_sys_role of role %q cannot be changed", id)
	}
	if name != nil && *name != cur.RoleName {
		if err := validName("role_name", *name); err != nil {
			return err
		}
		record(p, PermRoleChanged{RoleID: id, RoleName: name})
	}
	return nil
}

// RemoveRole removes role id, not a system role, with its items.
func (p *PermissionCatalogue) RemoveRole(id string) error {
	cur, ok := p.roles[id]
	if !ok {
		return roleNotFound(id)
	}
	if cur.IsSysRole {
		return Conflictf("System role %q cannot be removed", id)
	}
	record(p, PermRoleRemoved{RoleID: id})
	return nil
}

// itemTarget checks role, module and privilege of an item exist and that
// the role's items may change (system says the caller is the seed).
func (p *PermissionCatalogue) itemTarget(role, module, priv string, system bool) error {
	r, ok := p.roles[role]
	if !ok {
		return roleNotFound(role)
	}
	if _, ok := p.modules[module]; !ok {
		return moduleNotFound(module)
	}
	if _, ok := p.privs[privKey{module, priv}]; !ok {
		return privNotFound(module, priv)
	}
	if r.IsSysRole && !system {
		return Conflictf("The privileges of system role %q cannot be changed", role)
	}
	return nil
}

// AddRolePriv lets role hold privilege priv of module.
func (p *PermissionCatalogue) AddRolePriv(role, module, priv string, system bool) error {
	if err := p.itemTarget(role, module, priv, system); err != nil {
		return err
	}
	if p.HasItem(role, module, priv) {
		return Conflictf("Role %q already holds privilege %q of module %q", role, priv, module)
	}
	record(p, PermRolePrivAdded{RoleID: role, ModuleID: module, PrivID: priv})
	return nil
}

// RemoveRolePriv takes privilege priv of module from role.
func (p *PermissionCatalogue) RemoveRolePriv(role, module, priv string) error {
	if err := p.itemTarget(role, module, priv, false); err != nil {
		return err
	}
	if !p.HasItem(role, module, priv) {
		return NotFoundf("Role %q does not hold privilege %q of module %q", role, priv, module)
	}
	record(p, PermRolePrivRemoved{RoleID: role, ModuleID: module, PrivID: priv})
	return nil
}

// Apply implements commands.Aggregate.
func (p *PermissionCatalogue) Apply(e Event) {
	switch e := e.(type) {
	case PermModuleAdded:
		p.modules[e.ModuleID] = &PermModuleState{ModuleID: e.ModuleID, ModuleName: e.ModuleName}
	case PermPrivAdded:
		p.privs[privKey{e.ModuleID, e.PrivID}] = &PermPrivState{ModuleID: e.ModuleID, PrivID: e.PrivID, PrivName: e.PrivName,
			IsSysPriv: e.IsSysPriv, PrivOprType: e.PrivOprType}
	case PermPrivChanged:
		if s, ok := p.privs[privKey{e.ModuleID, e.PrivID}]; ok {
			if e.PrivName != nil {
				s.PrivName = *e.PrivName
			}
			if e.PrivOprType != nil {
				s.PrivOprType = *e.PrivOprType
			}
		}
	case PermPrivRemoved:
		delete(p.privs, privKey{e.ModuleID, e.PrivID})
	case PermRoleAdded:
		p.roles[e.RoleID] = &PermRoleState{RoleID: e.RoleID, RoleName: e.RoleName, IsSysRole: e.IsSysRole}
	case PermRoleChanged:
		if r, ok := p.roles[e.RoleID]; ok && e.RoleName != nil {
			r.RoleName = *e.RoleName
		}
	case PermRoleRemoved:
		delete(p.roles, e.RoleID)
		delete(p.items, e.RoleID)
	case PermRolePrivAdded:
		p.addItem(e.RoleID, privKey{e.ModuleID, e.PrivID})
	case PermRolePrivRemoved:
		delete(p.items[e.RoleID], privKey{e.ModuleID, e.PrivID})
		if len(p.items[e.RoleID]) == 0 {
			delete(p.items, e.RoleID)
		}
	}
}

func (p *PermissionCatalogue) addItem(role string, k privKey) {
	if p.items[role] == nil {
		p.items[role] = map[privKey]bool{}
	}
	p.items[role][k] = true
}

// SnapshotVersion implements Snapshotter.
func (p *PermissionCatalogue) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the catalogue as AuditState gives it.
func (p *PermissionCatalogue) Snapshot() ([]byte, error) { return json.Marshal(p.state()) }

// Restore implements Snapshotter.
func (p *PermissionCatalogue) Restore(state []byte) error {
	var s PermissionCatalogueState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("restore the permission catalogue: %w", err)
	}
	fresh := NewPermissionCatalogue()
	for _, m := range s.Modules {
		fresh.modules[m.ModuleID] = &m
	}
	for _, pr := range s.Privs {
		fresh.privs[privKey{pr.ModuleID, pr.PrivID}] = &pr
	}
	for _, r := range s.Roles {
		fresh.roles[r.RoleID] = &r
	}
	for _, it := range s.RolePrivs {
		fresh.addItem(it.RoleID, privKey{it.ModuleID, it.PrivID})
	}
	p.modules, p.privs, p.roles, p.items = fresh.modules, fresh.privs, fresh.roles, fresh.items
	return nil
}

// RaceRule implements Raced: every write of the catalogue appends to one stream.
func (*PermissionCatalogue) RaceRule() RaceRule { return Shared }
