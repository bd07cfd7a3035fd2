package domain

import "github.com/google/uuid"

// TenantCreated records a new tenant. System marks the platform's system
// tenant, created once at first start: it can be neither removed nor
// disabled, and it stays a system tenant.
type TenantCreated struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	IsSys      bool      `json:"is_sys"`
	IsActive   bool      `json:"is_active"`
	Note       *string   `json:"note,omitempty"`
	System     bool      `json:"system,omitempty"`
}

// TenantUpdated records new values of a tenant's fields; absent fields did
// not change.
type TenantUpdated struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName *string   `json:"tenant_name,omitempty"`
	IsSys      *bool     `json:"is_sys,omitempty"`
	IsActive   *bool     `json:"is_active,omitempty"`
	Note       *string   `json:"note,omitempty"`
}

// TenantDeleted records that a tenant was removed (it held no data then).
type TenantDeleted struct {
	TenantID uuid.UUID `json:"tenant_id"`
}

func (TenantCreated) EventType() string { return "tenant.created" }
func (TenantUpdated) EventType() string { return "tenant.updated" }
func (TenantDeleted) EventType() string { return "tenant.deleted" }

// TenantEvents lists the tenant events with their schema versions.
func TenantEvents() []Schema {
	return V1(TenantCreated{}, TenantUpdated{}, TenantDeleted{})
}
