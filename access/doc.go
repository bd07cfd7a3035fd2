// Package access enforces who may do what: every non-public operation
// declares its httpapi.Access where it is registered (the constructors
// here: Superuser, SignedIn, Own, Tenant), and the Enforcer, installed as
// the server's Authorizer, checks it against the effective privileges of
// the caller — the read model access_privileges that projections.Access
// builds from the grant events — before the handler runs.
//
// The rules, in order:
//   - superusers pass everything;
//   - Superuser operations: 403 "The user doesn't have enough privileges"
//     for everyone else (Langflow's message);
//   - SignedIn operations: any signed-in user (the handler touches only
//     the caller's own account);
//   - Own operations: the caller's own resources need nothing (Langflow's
//     personal workspace, which lives in the system tenant); a request
//     naming another tenant (tenant_id / tenant-id parameter, X-Tenant-Id
//     header) needs the privilege there, and handlers ask
//     tenancy.Authorize with a resource's tenant and business before they
//     show or change somebody else's resource;
//   - Tenant operations: the privilege in the tenant the request names,
//     held tenant-wide (business 0), or — for an operation on one business,
//     whose path names it — in that business (a business role holds in
//     every business below its own); a request naming no tenant needs the
//     privilege somewhere, and the handler checks the tenant it resolves
//     (the body's tenant_id, else the system tenant) through
//     tenancy.Check, which asks tenancy.Authorize for a tenant-wide hold.
//
// Before any of that, every place the request names in a declared
// parameter (httpapi.Param.Place: business, org, group, member, relation)
// must lie in the tenant the request acts in — its tenant parameter, else
// X-Tenant-Id, else the system tenant — or the request is answered 404 as
// if the place did not exist (tenancy.Locate). So a privilege held in a
// business of tenant B never counts for tenant A: it is checked only in
// its own business, inside its own tenant (request.Place compares the
// tenant too).
//
// A missing privilege is 403 with Langflow's detail followed by what is
// missing: "The user doesn't have enough privileges: missing
// <module>.<priv> in tenant <id>" (or "in business <id>"). Grants take
// effect on the next request: grant operations wait for the "access"
// projection before they answer.
package access
