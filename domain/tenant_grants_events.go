package domain

import "github.com/google/uuid"

// The events of a tenant's role grants (stream tenant_grants-<tenant
// uuid>, the TenantGrants aggregate). Each names its tenant in its data as
// well as in its metadata, so a read model needs nothing else to place it.

// The kinds of subject a tenant role is granted to.
const (
	GrantUser  = "user"
	GrantGroup = "group"
	GrantOrg   = "org"
)

// TenantRoleGranted records relation RelationID: role RoleID granted in
// the tenant to the subject SubjectID of Kind (a user's uid, a group_id or
// an org_id).
type TenantRoleGranted struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	RelationID int64     `json:"relation_id"`
	Kind       string    `json:"kind"`
	SubjectID  int64     `json:"subject_id"`
	RoleID     string    `json:"role_id"`
}

// TenantRoleRevoked records the removal of relation RelationID (its kind,
// subject and role repeated for readers of the event alone).
type TenantRoleRevoked struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	RelationID int64     `json:"relation_id"`
	Kind       string    `json:"kind"`
	SubjectID  int64     `json:"subject_id"`
	RoleID     string    `json:"role_id"`
}

func (TenantRoleGranted) EventType() string { return "tenant_grant.granted" }
func (TenantRoleRevoked) EventType() string { return "tenant_grant.revoked" }

// TenantGrantEvents lists the event types of tenant role grants, for the
// registry.
func TenantGrantEvents() []Schema { return V1(TenantRoleGranted{}, TenantRoleRevoked{}) }
