package domain

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxTenantNameLength bounds a tenant's name (the spec's tenant_name).
const MaxTenantNameLength = 64

// TenantNameScope is the Claim scope that keeps tenant names unique across
// the platform, case-insensitively.
const TenantNameScope = "tenant_name"

// The answers about tenants.
const (
	MsgTenantNotFound      = "Tenant not found"
	MsgTenantExists        = "Tenant already exists"
	MsgTenantNameTaken     = "Tenant name already exists"
	MsgSystemTenantRemoved = "The system tenant cannot be removed"
	MsgSystemTenantOff     = "The system tenant cannot be disabled"
	MsgSystemTenantNotSys  = "The system tenant cannot stop being a system tenant"
)

// TenantState is what a tenant is, in the API's response shape without the
// audit fields (c_uid, m_uid, ctime, utime).
type TenantState struct {
	TenantName string    `json:"tenant_name"`
	IsSys      bool      `json:"is_sys"`
	IsActive   bool      `json:"is_active"`
	Note       *string   `json:"note"`
	TenantID   uuid.UUID `json:"tenant_id"`
}

// Tenant is a customer of the platform (stream tenant-<uuid>): the root
// that businesses, organisations, user groups, flows and projects belong
// to.
//
// Names are unique across the platform, case-insensitively (a claim in
// scope TenantNameScope, moved by the command layer in the same atomic
// append as the tenant's own event). The system tenant (created at first
// start, System in its creation event) can be neither removed nor
// disabled, nor stop being is_sys. A removed tenant is not found; its
// stream stays, so its id is never reused.
type Tenant struct {
	root    Root
	id      uuid.UUID
	state   TenantState
	system  bool
	deleted bool
}

// NewTenant is what CreateTenant needs.
type NewTenant struct {
	Name     string
	IsSys    bool
	IsActive bool
	Note     *string
	// System marks the platform's system tenant (bootstrap only).
	System bool
}

// CreateTenant starts tenant id.
func CreateTenant(id uuid.UUID, n NewTenant) (*Tenant, error) {
	if id == uuid.Nil {
		return nil, Invalidf("tenant_id must not be the nil UUID")
	}
	if err := ValidTenantName(n.Name); err != nil {
		return nil, err
	}
	t := &Tenant{id: id}
	record(t, TenantCreated{TenantID: id, TenantName: n.Name, IsSys: n.IsSys || n.System, IsActive: n.IsActive || n.System,
		Note: n.Note, System: n.System})
	return t, nil
}

// LoadTenant returns an empty tenant to fold the stream of id into.
func LoadTenant(id uuid.UUID) *Tenant { return &Tenant{id: id} }

// TenantStream names the stream of tenant id.
func TenantStream(id uuid.UUID) string { return "tenant-" + id.String() }

// StreamID implements commands.Aggregate.
func (t *Tenant) StreamID() string { return TenantStream(t.id) }

// Root implements commands.Aggregate.
func (t *Tenant) Root() *Root { return &t.root }

// ID returns the tenant's id.
func (t *Tenant) ID() uuid.UUID { return t.id }

// State returns the tenant's fields.
func (t *Tenant) State() TenantState { return t.state }

// System tells whether this is the platform's system tenant.
func (t *Tenant) System() bool { return t.system }

// Deleted tells whether the tenant was removed.
func (t *Tenant) Deleted() bool { return t.deleted }

// Exists tells whether the stream held a tenant (removed or not).
func (t *Tenant) Exists() bool { _, ok := t.root.Revision(); return ok || len(t.root.Pending()) > 0 }

// AuditState is the tenant as the audit replay shows it: the TenantState
// (the API's shape minus audit fields) after the events folded so far, or
// nil when there is no tenant (not created yet, or removed).
func (t *Tenant) AuditState() any {
	if !t.Exists() || t.deleted {
		return nil
	}
	return t.state
}

// TenantChange holds the fields to set; nil leaves one as it is.
type TenantChange struct {
	Name            *string
	IsSys, IsActive *bool
	Note            *string
}

// Update records the fields of ch that differ, in one event. It returns
// the previous name when the name changed ("" if not), so that the caller
// can move the name's claim.
func (t *Tenant) Update(ch TenantChange) (oldName string, err error) {
	if t.deleted || !t.Exists() {
		return "", NotFoundf(MsgTenantNotFound)
	}
	if ch.Name != nil {
		if err := ValidTenantName(*ch.Name); err != nil {
			return "", err
		}
	}
	if t.system && ch.IsActive != nil && !*ch.IsActive {
		return "", Conflictf(MsgSystemTenantOff)
	}
	if t.system && ch.IsSys != nil && !*ch.IsSys {
		return "", Conflictf(MsgSystemTenantNotSys)
	}
	cur := t.state
	e := TenantUpdated{TenantID: t.id}
	changed := false
	if ch.Name != nil && *ch.Name != cur.TenantName {
		e.TenantName, changed = ch.Name, true
	}
	if ch.IsSys != nil && *ch.IsSys != cur.IsSys {
		e.IsSys, changed = ch.IsSys, true
	}
	if ch.IsActive != nil && *ch.IsActive != cur.IsActive {
		e.IsActive, changed = ch.IsActive, true
	}
	if ch.Note != nil && (cur.Note == nil || *ch.Note != *cur.Note) {
		e.Note, changed = ch.Note, true
	}
	if !changed {
		return "", nil
	}
	record(t, e)
	if e.TenantName != nil {
		return cur.TenantName, nil
	}
	return "", nil
}

// Delete removes the tenant. The system tenant cannot be removed; whether
// the tenant still holds data is the command's check (it spans read
// models of other aggregates).
func (t *Tenant) Delete() error {
	switch {
	case t.deleted || !t.Exists():
		return NotFoundf(MsgTenantNotFound)
	case t.system:
		return Conflictf(MsgSystemTenantRemoved)
	}
	record(t, TenantDeleted{TenantID: t.id})
	return nil
}

// Apply implements commands.Aggregate.
func (t *Tenant) Apply(e Event) {
	s := &t.state
	switch e := e.(type) {
	case TenantCreated:
		t.id, t.system, t.deleted = e.TenantID, e.System, false
		*s = TenantState{TenantName: e.TenantName, IsSys: e.IsSys, IsActive: e.IsActive, Note: e.Note, TenantID: e.TenantID}
	case TenantUpdated:
		if e.TenantName != nil {
			s.TenantName = *e.TenantName
		}
		if e.IsSys != nil {
			s.IsSys = *e.IsSys
		}
		if e.IsActive != nil {
			s.IsActive = *e.IsActive
		}
		if e.Note != nil {
			s.Note = e.Note
		}
	case TenantDeleted:
		t.deleted = true
	}
}

// ValidTenantName checks a tenant's name: not empty or blank, valid UTF-8,
// at most MaxTenantNameLength characters.
func ValidTenantName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("tenant_name must not be empty")
	case !utf8.ValidString(name):
		return Invalidf("tenant_name must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxTenantNameLength:
		return Invalidf("tenant_name must be at most %d characters", MaxTenantNameLength)
	}
	return nil
}
