package domain

import (
	"encoding/json"

	"github.com/google/uuid"
)

// FlowContent is what a version of a flow captures and a rollback
// restores: everything the flow is, but not where it lives (project,
// tenant, business, org) or its state (lock, deletion, versions).
type FlowContent struct {
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	FlowSkill         string          `json:"flow_skill"`
	Icon              string          `json:"icon"`
	IconBgColor       string          `json:"icon_bg_color"`
	Gradient          string          `json:"gradient"`
	Data              json.RawMessage `json:"data,omitempty"`
	IsComponent       bool            `json:"is_component"`
	Webhook           bool            `json:"webhook"`
	EndpointName      string          `json:"endpoint_name"`
	Tags              []string        `json:"tags"`
	MCPEnabled        bool            `json:"mcp_enabled"`
	ActionName        string          `json:"action_name"`
	ActionDescription string          `json:"action_description"`
	AccessType        string          `json:"access_type"`
	FlowType          string          `json:"flow_type"`
	IsHold            bool            `json:"is_hold"`
	IsEndpoint        bool            `json:"is_endpoint"`
}

// FlowPlacement is where a flow lives.
type FlowPlacement struct {
	ProjectID  *uuid.UUID `json:"project_id"`
	TenantID   *uuid.UUID `json:"tenant_id"`
	BusinessID int64      `json:"business_id"`
	OrgID      int64      `json:"org_id"`
	IsSelf     bool       `json:"is_self"`
}

// FlowCreated records a new flow of user UserID.
type FlowCreated struct {
	FlowID    uuid.UUID     `json:"flow_id"`
	UserID    int64         `json:"user_id"`
	Content   FlowContent   `json:"content"`
	Placement FlowPlacement `json:"placement"`
	Locked    bool          `json:"locked"`
	FSPath    string        `json:"fs_path,omitempty"`
}

// FlowDetailsChanged records new names and looks; absent fields did not
// change.
type FlowDetailsChanged struct {
	FlowID      uuid.UUID `json:"flow_id"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	FlowSkill   *string   `json:"flow_skill,omitempty"`
	Icon        *string   `json:"icon,omitempty"`
	IconBgColor *string   `json:"icon_bg_color,omitempty"`
	Gradient    *string   `json:"gradient,omitempty"`
}

// FlowDataChanged records a new graph.
type FlowDataChanged struct {
	FlowID uuid.UUID       `json:"flow_id"`
	Data   json.RawMessage `json:"data"`
}

// FlowGraphPatched records a new graph as a change of the graph before it:
// Patch is an RFC 6902 JSON Patch (see package graphpatch) of the graph
// the flow's event at revision BaseRevision left, which is the last event
// before this one that set the graph (FlowCreated, FlowDataChanged,
// FlowRolledBack or another FlowGraphPatched). A fold that reaches it with
// another graph revision reports the stream broken rather than guess.
// Flow.Edit records it for big graphs only, and records the whole graph
// (FlowDataChanged) every FullGraphEvery graph edits, so that no fold has
// to apply more than that many patches in a row (see Flow.graphEvent).
type FlowGraphPatched struct {
	FlowID       uuid.UUID       `json:"flow_id"`
	BaseRevision uint64          `json:"base_revision"`
	Patch        json.RawMessage `json:"patch"`
	// graph is the graph the patch gives, known to the editor that
	// computed it (graphpatch.Diff checked it): applying the event it
	// records spares applying the patch. Never stored.
	graph json.RawMessage
}

// FlowSettingsChanged records new settings; absent fields did not change.
type FlowSettingsChanged struct {
	FlowID       uuid.UUID `json:"flow_id"`
	EndpointName *string   `json:"endpoint_name,omitempty"`
	Webhook      *bool     `json:"webhook,omitempty"`
	IsComponent  *bool     `json:"is_component,omitempty"`
	FlowType     *string   `json:"flow_type,omitempty"`
	IsHold       *bool     `json:"is_hold,omitempty"`
	IsEndpoint   *bool     `json:"is_endpoint,omitempty"`
	FSPath       *string   `json:"fs_path,omitempty"`
}

// FlowTagsChanged records a new tag list.
type FlowTagsChanged struct {
	FlowID uuid.UUID `json:"flow_id"`
	Tags   []string  `json:"tags"`
}

// FlowAccessChanged records a new access type (PRIVATE, PUBLIC, RESTRICTED).
type FlowAccessChanged struct {
	FlowID     uuid.UUID `json:"flow_id"`
	AccessType string    `json:"access_type"`
}

// FlowMCPChanged records new MCP settings; absent fields did not change.
type FlowMCPChanged struct {
	FlowID            uuid.UUID `json:"flow_id"`
	MCPEnabled        *bool     `json:"mcp_enabled,omitempty"`
	ActionName        *string   `json:"action_name,omitempty"`
	ActionDescription *string   `json:"action_description,omitempty"`
}

// FlowMoved records a new placement (project, tenant, business, org).
type FlowMoved struct {
	FlowID    uuid.UUID     `json:"flow_id"`
	Placement FlowPlacement `json:"placement"`
}

// FlowLockChanged records a lock or unlock.
type FlowLockChanged struct {
	FlowID uuid.UUID `json:"flow_id"`
	Locked bool      `json:"locked"`
}

// FlowDeleted records a (soft) deletion: is_deleted becomes true.
type FlowDeleted struct {
	FlowID uuid.UUID `json:"flow_id"`
}

// FlowRestored records that a deleted flow is back.
type FlowRestored struct {
	FlowID uuid.UUID `json:"flow_id"`
}

// FlowVersionCreated names the point of the flow's stream it is appended
// at: the version's content is the fold of the stream up to here.
type FlowVersionCreated struct {
	FlowID    uuid.UUID `json:"flow_id"`
	VersionID int64     `json:"version_id"`
	Version   string    `json:"version"`
	Note      string    `json:"note"`
}

// FlowVersionPublished makes a version the online one.
type FlowVersionPublished struct {
	FlowID    uuid.UUID `json:"flow_id"`
	VersionID int64     `json:"version_id"`
	Version   string    `json:"version"`
}

// FlowTakenOffline records that no version is online any more.
type FlowTakenOffline struct {
	FlowID    uuid.UUID `json:"flow_id"`
	VersionID int64     `json:"version_id"`
}

// FlowRolledBack restores the draft to a version's content, carried in
// full so that the event alone says what the draft became.
type FlowRolledBack struct {
	FlowID    uuid.UUID   `json:"flow_id"`
	VersionID int64       `json:"version_id"`
	Content   FlowContent `json:"content"`
}

func (FlowCreated) EventType() string          { return "flow.created" }
func (FlowDetailsChanged) EventType() string   { return "flow.details_changed" }
func (FlowDataChanged) EventType() string      { return "flow.data_changed" }
func (FlowGraphPatched) EventType() string     { return "flow.graph_patched" }
func (FlowSettingsChanged) EventType() string  { return "flow.settings_changed" }
func (FlowTagsChanged) EventType() string      { return "flow.tags_changed" }
func (FlowAccessChanged) EventType() string    { return "flow.access_changed" }
func (FlowMCPChanged) EventType() string       { return "flow.mcp_changed" }
func (FlowMoved) EventType() string            { return "flow.moved" }
func (FlowLockChanged) EventType() string      { return "flow.lock_changed" }
func (FlowDeleted) EventType() string          { return "flow.deleted" }
func (FlowRestored) EventType() string         { return "flow.restored" }
func (FlowVersionCreated) EventType() string   { return "flow.version_created" }
func (FlowVersionPublished) EventType() string { return "flow.version_published" }
func (FlowTakenOffline) EventType() string     { return "flow.taken_offline" }
func (FlowRolledBack) EventType() string       { return "flow.rolled_back" }

// FlowEvents lists the flow events with their schema versions.
func FlowEvents() []Schema {
	return V1(FlowCreated{}, FlowDetailsChanged{}, FlowDataChanged{}, FlowSettingsChanged{}, FlowTagsChanged{},
		FlowAccessChanged{}, FlowMCPChanged{}, FlowMoved{}, FlowLockChanged{}, FlowDeleted{}, FlowRestored{},
		FlowVersionCreated{}, FlowVersionPublished{}, FlowTakenOffline{}, FlowRolledBack{}, FlowGraphPatched{})
}
