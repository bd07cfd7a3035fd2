package domain

import "github.com/google/uuid"

// The events of a tenant's organisation tree (stream orgs-<tenant uuid>,
// the OrgTree aggregate). Each names its tenant in its data as well as in
// its metadata, so a read model needs nothing else to place it.

// OrgCreated records a new org of the tenant, with the place in the tree
// the aggregate computed for it: its level and the ids of its ancestors
// (OrgPath: slot k holds the level-k org on its path, its own id at its
// own level, 0 below it).
type OrgCreated struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name"`
	OrgCode     *string   `json:"org_code,omitempty"`
	ParentOrgID int64     `json:"parent_org_id"`
	OrgLevel    int       `json:"org_level"`
	Path        OrgPath   `json:"path"`
	IsEnable    bool      `json:"is_enable"`
	Note        *string   `json:"note,omitempty"`
}

// OrgChanged records new values of an org's own fields; absent fields did
// not change. An OrgCode of "" clears the code.
type OrgChanged struct {
	TenantID uuid.UUID `json:"tenant_id"`
	OrgID    int64     `json:"org_id"`
	OrgName  *string   `json:"org_name,omitempty"`
	OrgCode  *string   `json:"org_code,omitempty"`
	IsEnable *bool     `json:"is_enable,omitempty"`
	Note     *string   `json:"note,omitempty"`
}

// OrgPlaced is where an org sits after a move: its level and path.
type OrgPlaced struct {
	OrgID    int64   `json:"org_id"`
	OrgLevel int     `json:"org_level"`
	Path     OrgPath `json:"path"`
}

// OrgMoved records that org OrgID now hangs under ParentOrgID (0: a root),
// with the new level and path of it and of every org under it.
type OrgMoved struct {
	TenantID    uuid.UUID   `json:"tenant_id"`
	OrgID       int64       `json:"org_id"`
	ParentOrgID int64       `json:"parent_org_id"`
	Placed      []OrgPlaced `json:"placed"`
}

// OrgRemoved records the removal of an org (it had no sub-orgs and no
// members).
type OrgRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	OrgID    int64     `json:"org_id"`
}

// OrgMemberRef pairs a new member's id with its user.
type OrgMemberRef struct {
	MemberID int64 `json:"member_id"`
	UID      int64 `json:"uid"`
}

// OrgMembersAdded records users joining org OrgID in one command, all with
// the same position, job and leader flag.
type OrgMembersAdded struct {
	TenantID uuid.UUID      `json:"tenant_id"`
	OrgID    int64          `json:"org_id"`
	Members  []OrgMemberRef `json:"members"`
	Position string         `json:"position"`
	Job      string         `json:"job"`
	IsLeader bool           `json:"is_leader"`
}

// OrgMemberChanged records new values of a member's fields; absent fields
// did not change.
type OrgMemberChanged struct {
	TenantID uuid.UUID `json:"tenant_id"`
	MemberID int64     `json:"member_id"`
	OrgID    int64     `json:"org_id"`
	Position *string   `json:"position,omitempty"`
	Job      *string   `json:"job,omitempty"`
	IsLeader *bool     `json:"is_leader,omitempty"`
}

// OrgMemberRemoved records a member leaving its org.
type OrgMemberRemoved struct {
	TenantID uuid.UUID `json:"tenant_id"`
	MemberID int64     `json:"member_id"`
	OrgID    int64     `json:"org_id"`
	UID      int64     `json:"uid"`
}

func (OrgCreated) EventType() string       { return "org.created" }
func (OrgChanged) EventType() string       { return "org.changed" }
func (OrgRemoved) EventType() string       { return "org.removed" }
func (OrgMoved) EventType() string         { return "org.moved" }
func (OrgMembersAdded) EventType() string  { return "org.members_added" }
func (OrgMemberChanged) EventType() string { return "org.member_changed" }
func (OrgMemberRemoved) EventType() string { return "org.member_removed" }

// OrgEvents lists the event types of organisation trees, for the registry.
func OrgEvents() []Schema {
	return V1(OrgCreated{}, OrgChanged{}, OrgRemoved{}, OrgMembersAdded{}, OrgMemberChanged{}, OrgMemberRemoved{}, OrgMoved{})
}
