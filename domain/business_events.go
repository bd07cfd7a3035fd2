package domain

import "github.com/google/uuid"

// The events of a tenant's businesses (stream businesses-<tenant uuid>, the
// BusinessTree aggregate). Each names its tenant in its data as well as in
// its metadata, so a read model needs nothing else to place it. One event
// per kind of change, so that the audit trail reads as what happened
// (renamed, moved, disabled …).

// BusinessAdded records a new business of the tenant. First, Second and
// Third are the ids of its ancestors and of itself at each level (0 below
// its own level): a level-1 business 5 is (5, 0, 0), a level-2 business 7
// under it (5, 7, 0), a level-3 business 9 under 7 (5, 7, 9).
type BusinessAdded struct {
	TenantID         uuid.UUID `json:"tenant_id"`
	BusinessID       int64     `json:"business_id"`
	BusinessName     string    `json:"business_name"`
	BusinessLevel    int       `json:"business_level"`
	FirstBusinessID  int64     `json:"first_business_id"`
	SecondBusinessID int64     `json:"second_business_id"`
	ThirdBusinessID  int64     `json:"third_business_id"`
	IsEnable         bool      `json:"is_enable"`
	Note             *string   `json:"note,omitempty"`
}

// BusinessRenamed records a business's new name.
type BusinessRenamed struct {
	TenantID     uuid.UUID `json:"tenant_id"`
	BusinessID   int64     `json:"business_id"`
	BusinessName string    `json:"business_name"`
}

// BusinessEnabled records that a business was enabled (is_enable true).
type BusinessEnabled struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	BusinessID int64     `json:"business_id"`
}

// BusinessDisabled records that a business was disabled (is_enable false).
type BusinessDisabled struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	BusinessID int64     `json:"business_id"`
}

// BusinessNoteChanged records a business's new note.
type BusinessNoteChanged struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	BusinessID int64     `json:"business_id"`
	Note       string    `json:"note"`
}

// BusinessMoved records a business's new place in the tree: its ancestors'
// ids and its own, as in BusinessAdded (its level never changes). A
// level-2 business moved under another level-1 parent takes its level-3
// children along: each of them gets its own BusinessMoved, in the same
// append.
type BusinessMoved struct {
	TenantID         uuid.UUID `json:"tenant_id"`
	BusinessID       int64     `json:"business_id"`
	FirstBusinessID  int64     `json:"first_business_id"`
	SecondBusinessID int64     `json:"second_business_id"`
	ThirdBusinessID  int64     `json:"third_business_id"`
}

// BusinessRemoved records the removal of a business (it had no
// sub-businesses and no users).
type BusinessRemoved struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	BusinessID int64     `json:"business_id"`
}

// BusinessUserRemoved records that user UID left business BusinessID:
// their membership and their roles there (the role relations RelationIDs)
// are gone (Remove Business User, or Upsert Business User Roles with an
// empty role set).
type BusinessUserRemoved struct {
	TenantID    uuid.UUID `json:"tenant_id"`
	BusinessID  int64     `json:"business_id"`
	UID         int64     `json:"uid"`
	RelationIDs []int64   `json:"relation_ids"`
}

// BusinessUserRolesSet records a change of user UID's role set in business
// BusinessID (Upsert Business User Roles): the relations Added (new ids,
// their roles) are granted, the relations RemovedIDs revoked. The user is
// a member from their first role on; the event never leaves them without
// a role (that is BusinessUserRemoved).
type BusinessUserRolesSet struct {
	TenantID   uuid.UUID              `json:"tenant_id"`
	BusinessID int64                  `json:"business_id"`
	UID        int64                  `json:"uid"`
	Added      []BusinessRoleRelation `json:"added"`
	RemovedIDs []int64                `json:"removed_ids"`
}

// BusinessUserRoleRef names a role relation and its user.
type BusinessUserRoleRef struct {
	ID  int64 `json:"id"`
	UID int64 `json:"uid"`
}

// BusinessUserRolesRemoved records the removal of role relations of
// business BusinessID (Batch Remove / Remove Business User Role). A user
// left without roles is no member of the business any more.
type BusinessUserRolesRemoved struct {
	TenantID   uuid.UUID             `json:"tenant_id"`
	BusinessID int64                 `json:"business_id"`
	Relations  []BusinessUserRoleRef `json:"relations"`
}

func (BusinessUserRolesSet) EventType() string     { return "business.user_roles_set" }
func (BusinessUserRolesRemoved) EventType() string { return "business.user_roles_removed" }
func (BusinessAdded) EventType() string            { return "business.added" }
func (BusinessRenamed) EventType() string          { return "business.renamed" }
func (BusinessEnabled) EventType() string          { return "business.enabled" }
func (BusinessDisabled) EventType() string         { return "business.disabled" }
func (BusinessNoteChanged) EventType() string      { return "business.note_changed" }
func (BusinessMoved) EventType() string            { return "business.moved" }
func (BusinessRemoved) EventType() string          { return "business.removed" }
func (BusinessUserRemoved) EventType() string      { return "business.user_removed" }

// BusinessEvents lists the event types of businesses, for the registry.
func BusinessEvents() []Schema {
	return V1(BusinessAdded{}, BusinessRenamed{}, BusinessEnabled{}, BusinessDisabled{}, BusinessNoteChanged{},
		BusinessMoved{}, BusinessRemoved{}, BusinessUserRemoved{}, BusinessUserRolesSet{}, BusinessUserRolesRemoved{})
}
