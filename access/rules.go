package access

import "github.com/skillflaw/skillflaw-go/httpapi"

// Superuser declares a platform operation: superusers only (tenants are
// created and removed, the global permission catalogue is changed, users
// are administered by them).
func Superuser() httpapi.Access { return httpapi.Access{Kind: httpapi.AccessSuperuser} }

// SignedIn declares an operation any signed-in user may call because its
// handler only ever touches the caller's own account (whoami, API keys).
func SignedIn() httpapi.Access { return httpapi.Access{Kind: httpapi.AccessSignedIn} }

// Own declares an operation on resources that have an owner (flows,
// projects, files, messages): the owner needs no grant — Langflow's
// personal workspace, in the system tenant — while other users' resources,
// and resources placed in any other tenant, need module.priv where they
// live (the handler asks tenancy.Authorize with the resource's tenant and
// business).
func Own(module, priv string) httpapi.Access {
	return httpapi.Access{Kind: httpapi.AccessOwn, Module: module, Priv: priv}
}

// Tenant declares an operation on a tenant's administration (businesses,
// orgs, user groups, grants, audit, the tenant itself): module.priv in the
// request's tenant, or in the request's business where it names one.
func Tenant(module, priv string) httpapi.Access {
	return httpapi.Access{Kind: httpapi.AccessTenant, Module: module, Priv: priv}
}

// Scoped declares an operation on entries that live in a tenant or in
// one of its businesses (the scoped catalogues: component groups,
// components, MCP servers): module.priv somewhere in the request's
// tenant lets the request in, and the handler decides by the entry's
// place (commands.CatalogWriter, readapi's catalogue visibility) — so a
// role held only in a business reaches that business's entries.
func Scoped(module, priv string) httpapi.Access {
	return httpapi.Access{Kind: httpapi.AccessTenant, Module: module, Priv: priv, Scoped: true}
}
