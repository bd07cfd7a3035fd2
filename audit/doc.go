// Package audit is the audit trail of tenants, one of the reasons this
// system is event-sourced:
//
//   - the audit_log read model holds every event that carries a tenant, as
//     stored (GET /api/v1/audit/events: what changed, who, when, in log
//     order, cursor-paginated);
//   - the state of a tenant as of an instant (a time or a log position) is
//     computed by replaying the log — folding the tenant's own streams up to
//     that instant — never from the current read models
//     (GET /api/v1/audit/state, `skillflaw audit replay`).
//
// Which streams make up a tenant is given by Sources, one per area
// (tenant, businesses, orgs, user groups …); flows are found through the
// audit log (every flow event carries its tenant).
package audit
