package domain

import (
	"encoding/json"

	"github.com/google/uuid"
)

// ProjectFields are what a project is (Langflow's folder): its name and
// looks, where it lives and its flags.
type ProjectFields struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	ParentID       *uuid.UUID      `json:"parent_id,omitempty"`
	TenantID       *uuid.UUID      `json:"tenant_id,omitempty"`
	BusinessID     int64           `json:"business_id"`
	OrgID          int64           `json:"org_id"`
	IsSelf         bool            `json:"is_self"`
	IsEnable       bool            `json:"is_enable"`
	IsRelease      bool            `json:"is_release"`
	IsVersion      bool            `json:"is_version"`
	IsHold         bool            `json:"is_hold"`
	ReleaseVersion *string         `json:"release_version,omitempty"`
	PrivType       *string         `json:"priv_type,omitempty"`
	ProjectSkill   *string         `json:"project_skill,omitempty"`
	AuthSettings   json.RawMessage `json:"auth_settings,omitempty"`
	Icon           *string         `json:"icon,omitempty"`
}

// ProjectCreated records a new project of user UserID. IsDefault marks the
// project every user starts with (it cannot be deleted).
type ProjectCreated struct {
	ProjectID uuid.UUID     `json:"project_id"`
	UserID    int64         `json:"user_id"`
	IsDefault bool          `json:"is_default,omitempty"`
	Fields    ProjectFields `json:"fields"`
}

// ProjectUpdated records new values of a project's fields; absent fields
// did not change.
type ProjectUpdated struct {
	ProjectID      uuid.UUID       `json:"project_id"`
	Name           *string         `json:"name,omitempty"`
	Description    *string         `json:"description,omitempty"`
	OrgID          *int64          `json:"org_id,omitempty"`
	IsEnable       *bool           `json:"is_enable,omitempty"`
	IsHold         *bool           `json:"is_hold,omitempty"`
	ReleaseVersion *string         `json:"release_version,omitempty"`
	PrivType       *string         `json:"priv_type,omitempty"`
	ProjectSkill   *string         `json:"project_skill,omitempty"`
	AuthSettings   json.RawMessage `json:"auth_settings,omitempty"`
	Icon           *string         `json:"icon,omitempty"`
}

// ProjectDeleted records a (soft) deletion: is_deleted becomes true.
type ProjectDeleted struct {
	ProjectID uuid.UUID `json:"project_id"`
}

func (ProjectCreated) EventType() string { return "project.created" }
func (ProjectUpdated) EventType() string { return "project.updated" }
func (ProjectDeleted) EventType() string { return "project.deleted" }

// ProjectEvents lists the project events with their schema versions.
func ProjectEvents() []Schema {
	return V1(ProjectCreated{}, ProjectUpdated{}, ProjectDeleted{})
}
