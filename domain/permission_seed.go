package domain

import "slices"

// The built-in permission catalogue: one module per resource area of the
// API, each with the four system privileges read, write, modify and
// delete, and four system roles. Bootstrap appends whatever of it the
// catalogue lacks (SeedPermissionCatalogue), so a newer binary adds what
// its table gained.

// PermSeedModules are the built-in modules (module_id, module_name).
var PermSeedModules = []PermModuleState{
	{ModuleID: "flows", ModuleName: "Flows"},
	{ModuleID: "projects", ModuleName: "Projects"},
	{ModuleID: "files", ModuleName: "Files"},
	{ModuleID: "messages", ModuleName: "Messages"},
	{ModuleID: "tenants", ModuleName: "Tenants"},
	{ModuleID: "businesses", ModuleName: "Businesses"},
	{ModuleID: "orgs", ModuleName: "Organizations"},
	{ModuleID: "user_groups", ModuleName: "User Groups"},
	{ModuleID: "permissions", ModuleName: "Permissions"},
	{ModuleID: "configs", ModuleName: "Configs"},
	{ModuleID: "dictionary", ModuleName: "Dictionary"},
	{ModuleID: "models", ModuleName: "Models"},
	{ModuleID: "components", ModuleName: "Components"},
	{ModuleID: "mcp", ModuleName: "MCP"},
	{ModuleID: "templates", ModuleName: "Templates"},
	{ModuleID: "audit", ModuleName: "Audit"},
}

// PermSeedPrivs are the built-in privileges of every module: priv_id,
// priv_name and priv_opr_type.
var PermSeedPrivs = []struct{ ID, Name, Type string }{
	{"read", "Read", PrivRead},
	{"write", "Write", PrivWrite},
	{"modify", "Modify", PrivModify},
	{"delete", "Delete", PrivDelete},
}

// permSeedModulePrivs are the built-in privileges of one module beside
// the four every module has: flows.run (run a flow: the build API, later
// the run API), of type WRITE because a run writes — its messages,
// builds and transactions — though it never changes the flow.
var permSeedModulePrivs = map[string][]struct{ ID, Name, Type string }{
	"flows": {{"run", "Run", PrivWrite}},
}

// permSeedPrivsOf lists the built-in privileges of module.
func permSeedPrivsOf(module string) []struct{ ID, Name, Type string } {
	return append(slices.Clone(PermSeedPrivs), permSeedModulePrivs[module]...)
}

// PermSeedRole is a built-in role and the privileges it holds: Holds
// answers for each (module, privilege) whether the role has it.
type PermSeedRole struct {
	Role  PermRoleState
	Holds func(module, priv string) bool
}

// developerWrites are the modules where developers write, modify and
// delete (they read every module).
var developerWrites = []string{"flows", "projects", "files", "messages", "templates", "components", "mcp"}

// PermSeedRoles are the built-in roles: the role × privilege matrix.
//   - tenant_admin: every privilege of every module;
//   - business_admin: every privilege except write/modify/delete of
//     tenants and permissions (it reads them);
//   - developer: read on every module, write/modify/delete on flows,
//     projects, files, messages, templates, components and mcp, and
//     flows.run;
//   - viewer: read on every module (not flows.run).
var PermSeedRoles = []PermSeedRole{
	{Role: PermRoleState{RoleID: "tenant_admin", RoleName: "Tenant Admin", IsSysRole: true},
		Holds: func(string, string) bool { return true }},
	{Role: PermRoleState{RoleID: "business_admin", RoleName: "Business Admin", IsSysRole: true},
		Holds: func(m, p string) bool { return p == "read" || (m != "tenants" && m != "permissions") }},
	{Role: PermRoleState{RoleID: "developer", RoleName: "Developer", IsSysRole: true},
		Holds: func(m, p string) bool { return p == "read" || slices.Contains(developerWrites, m) }},
	{Role: PermRoleState{RoleID: "viewer", RoleName: "Viewer", IsSysRole: true},
		Holds: func(_, p string) bool { return p == "read" }},
}

// SeedPermissionCatalogue records, on p, every part of the built-in
// catalogue p lacks: modules, privileges, roles and the items of the
// built-in roles (an item is only added when its role is a system role,
// whose items the API cannot change, and its privilege exists). What p
// already has is left as it is (names an administrator changed stay).
func SeedPermissionCatalogue(p *PermissionCatalogue) error {
	for _, m := range PermSeedModules {
		if _, ok := p.Module(m.ModuleID); !ok {
			if err := p.AddModule(m.ModuleID, m.ModuleName); err != nil {
				return err
			}
		}
		for _, pr := range permSeedPrivsOf(m.ModuleID) {
			if _, ok := p.Priv(m.ModuleID, pr.ID); ok {
				continue
			}
			if err := p.AddPriv(PermPrivState{ModuleID: m.ModuleID, PrivID: pr.ID, PrivName: pr.Name, IsSysPriv: true,
				PrivOprType: pr.Type}, true); err != nil {
				return err
			}
		}
	}
	for _, r := range PermSeedRoles {
		cur, ok := p.Role(r.Role.RoleID)
		if !ok {
			if err := p.AddRole(r.Role, true); err != nil {
				return err
			}
			cur = r.Role
		}
		if !cur.IsSysRole {
			continue // a custom role took the id before the seed had it: leave it alone
		}
		for _, m := range PermSeedModules {
			for _, pr := range permSeedPrivsOf(m.ModuleID) {
				if r.Holds(m.ModuleID, pr.ID) && !p.HasItem(cur.RoleID, m.ModuleID, pr.ID) {
					if err := p.AddRolePriv(cur.RoleID, m.ModuleID, pr.ID, true); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
