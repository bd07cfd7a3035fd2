package domain

// The events of the permission catalogue (stream permissions-catalogue,
// the PermissionCatalogue aggregate). Modules are only ever added by the
// built-in seed; privileges, roles and role privilege items by the seed or
// by the API.

// PermModuleAdded records a permission module (seed only).
type PermModuleAdded struct {
	ModuleID   string `json:"module_id"`
	ModuleName string `json:"module_name"`
}

// PermPrivAdded records a privilege of a module.
type PermPrivAdded struct {
	ModuleID    string `json:"module_id"`
	PrivID      string `json:"priv_id"`
	PrivName    string `json:"priv_name"`
	IsSysPriv   bool   `json:"is_sys_priv"`
	PrivOprType string `json:"priv_opr_type"`
}

// PermPrivChanged records new values of a privilege's name and operation
// type; absent fields did not change (is_sys_priv never changes).
type PermPrivChanged struct {
	ModuleID    string  `json:"module_id"`
	PrivID      string  `json:"priv_id"`
	PrivName    *string `json:"priv_name,omitempty"`
	PrivOprType *string `json:"priv_opr_type,omitempty"`
}

// PermPrivRemoved records the removal of a privilege no role held.
type PermPrivRemoved struct {
	ModuleID string `json:"module_id"`
	PrivID   string `json:"priv_id"`
}

// PermRoleAdded records a role.
type PermRoleAdded struct {
	RoleID    string `json:"role_id"`
	RoleName  string `json:"role_name"`
	IsSysRole bool   `json:"is_sys_role"`
}

// PermRoleChanged records a role's new name (is_sys_role never changes).
type PermRoleChanged struct {
	RoleID   string  `json:"role_id"`
	RoleName *string `json:"role_name,omitempty"`
}

// PermRoleRemoved records the removal of a role together with every
// privilege item it still had (the items cascade: no separate
// PermRolePrivRemoved events precede it).
type PermRoleRemoved struct {
	RoleID string `json:"role_id"`
}

// PermRolePrivAdded records that a role holds a privilege.
type PermRolePrivAdded struct {
	RoleID   string `json:"role_id"`
	ModuleID string `json:"module_id"`
	PrivID   string `json:"priv_id"`
}

// PermRolePrivRemoved records that a role no longer holds a privilege.
type PermRolePrivRemoved struct {
	RoleID   string `json:"role_id"`
	ModuleID string `json:"module_id"`
	PrivID   string `json:"priv_id"`
}

func (PermModuleAdded) EventType() string     { return "permission.module_added" }
func (PermPrivAdded) EventType() string       { return "permission.priv_added" }
func (PermPrivChanged) EventType() string     { return "permission.priv_changed" }
func (PermPrivRemoved) EventType() string     { return "permission.priv_removed" }
func (PermRoleAdded) EventType() string       { return "permission.role_added" }
func (PermRoleChanged) EventType() string     { return "permission.role_changed" }
func (PermRoleRemoved) EventType() string     { return "permission.role_removed" }
func (PermRolePrivAdded) EventType() string   { return "permission.role_priv_added" }
func (PermRolePrivRemoved) EventType() string { return "permission.role_priv_removed" }

// PermissionEvents lists the events of the permission catalogue with
// their schema versions.
func PermissionEvents() []Schema {
	return V1(PermModuleAdded{}, PermPrivAdded{}, PermPrivChanged{}, PermPrivRemoved{},
		PermRoleAdded{}, PermRoleChanged{}, PermRoleRemoved{}, PermRolePrivAdded{}, PermRolePrivRemoved{})
}
