package domain

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Access types of a flow.
const (
	AccessPrivate    = "PRIVATE"
	AccessPublic     = "PUBLIC"
	AccessRestricted = "RESTRICTED"
)

// Limits of flow fields.
const (
	MaxFlowNameLength    = 255
	MaxEndpointLength    = 255
	MaxVersionLength     = 64
	MaxVersionNoteLength = 2000
)

// How Flow.Edit records a new graph (see Flow.graphEvent): as a patch
// (FlowGraphPatched) when the new graph is at least MinPatchedGraphSize
// bytes, the patch at most 1/MaxPatchFraction of it and of at most
// MaxPatchOps operations, and fewer than FullGraphEvery graph events in a
// row would be patches; else whole (FlowDataChanged). A small graph costs
// little to record whole; a big patch saves little, and each operation
// costs a pass over the graph where it is applied (the flows projection,
// a fold); and a whole graph now and then bounds what an as-of read, a
// diff or a rollback folds from the log (at most FullGraphEvery-1 patches,
// applied in one pass) at 1/FullGraphEvery of a whole graph per edit.
const (
	MinPatchedGraphSize = 16 << 10
	MaxPatchFraction    = 4
	MaxPatchOps         = 32
	FullGraphEvery      = 32
)

// Claim scopes of flows: names are unique per user, endpoint names too.
const (
	FlowNameScope     = "flow_name"
	FlowEndpointScope = "flow_endpoint"
)

// errFlowLocked is Langflow's answer to a change of a locked flow (423).
var errFlowLocked = &Error{Kind: ErrLocked, Message: "Flow is locked. Unlock it before making changes."}

var endpointPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Flow is a graph of components with its versions (stream flow-<uuid>).
type Flow struct {
	root      Root
	id        uuid.UUID
	userID    int64
	content   FlowContent
	placement FlowPlacement
	locked    bool
	deleted   bool
	fsPath    string
	versions  []FlowVersionRef
	online    int64
	applied   uint64
	updatedAt time.Time
	// graphRev is the revision of the last event that set the graph, and
	// patches the number of FlowGraphPatched events since the last whole
	// graph. pending are patches folded but not applied to content.Data
	// yet (graph applies them, all in one pass, when the graph is read).
	graphRev uint64
	patches  int
	pending  []json.RawMessage
	// fault is why the graph could not be folded (a patch of another base
	// or one that does not apply): see Fault.
	fault error
	// patcher computes and applies graph patches (WithGraphPatcher).
	patcher GraphPatcher
}

// GraphPatcher computes and applies the RFC 6902 JSON Patches that
// FlowGraphPatched carries; package graphpatch is the one the app uses.
// The domain only declares it, and so depends on nothing: a flow without
// one records whole graphs, and a fold of a patch without one is a Fault.
type GraphPatcher interface {
	// Diff returns the patch that turns from into to, checked (applying it
	// to from gives to), and its number of operations.
	Diff(from, to []byte) (patch json.RawMessage, ops int, err error)
	// Apply applies patches, in order, to doc.
	Apply(doc []byte, patches ...json.RawMessage) (json.RawMessage, error)
}

// WithGraphPatcher gives the flow the patcher it folds and records graph
// patches with, and returns it: domain.LoadFlow(id).WithGraphPatcher(p).
func (f *Flow) WithGraphPatcher(p GraphPatcher) *Flow {
	f.patcher = p
	return f
}

// FlowVersionRef is a version as the flow knows it: the revision of its
// FlowVersionCreated event in the flow's stream.
type FlowVersionRef struct {
	ID       int64
	Version  string
	Note     string
	Revision uint64
}

// NewFlow is what CreateFlow needs.
type NewFlow struct {
	UserID    int64
	Content   FlowContent
	Placement FlowPlacement
	Locked    bool
	FSPath    string
}

// CreateFlow starts flow id.
func CreateFlow(id uuid.UUID, n NewFlow) (*Flow, error) {
	c := n.Content
	if c.AccessType == "" {
		c.AccessType = AccessPrivate
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if err := ValidFlowContent(c); err != nil {
		return nil, err
	}
	f := &Flow{}
	record(f, FlowCreated{FlowID: id, UserID: n.UserID, Content: c, Placement: n.Placement, Locked: n.Locked, FSPath: n.FSPath})
	return f, nil
}

// LoadFlow returns an empty flow to fold the stream of id into.
func LoadFlow(id uuid.UUID) *Flow { return &Flow{id: id} }

// FlowStream names the stream of flow id.
func FlowStream(id uuid.UUID) string { return "flow-" + id.String() }

// StreamID implements commands.Aggregate.
func (f *Flow) StreamID() string { return FlowStream(f.id) }

// Root implements commands.Aggregate.
func (f *Flow) Root() *Root { return &f.root }

// Stamp implements Timed.
func (f *Flow) Stamp(at time.Time) { f.updatedAt = at }

// The flow's state.
func (f *Flow) ID() uuid.UUID              { return f.id }
func (f *Flow) UserID() int64              { return f.userID }
func (f *Flow) Content() FlowContent       { f.graph(); return f.content }
func (f *Flow) Placement() FlowPlacement   { return f.placement }
func (f *Flow) Locked() bool               { return f.locked }
func (f *Flow) Deleted() bool              { return f.deleted }
func (f *Flow) UpdatedAt() time.Time       { return f.updatedAt }
func (f *Flow) Versions() []FlowVersionRef { return slices.Clone(f.versions) }
func (f *Flow) OnlineVersion() int64       { return f.online }

// Fault is why the flow's graph could not be folded from its stream (a
// FlowGraphPatched whose base is not the graph before it, or whose patch
// does not apply), nil when it could. eventstore.Fold reports it, so that
// no load, read or rollback goes on with a wrong graph.
func (f *Flow) Fault() error { f.graph(); return f.fault }

// graph applies the pending patches to the graph.
func (f *Flow) graph() {
	if len(f.pending) == 0 {
		return
	}
	if f.patcher == nil {
		if f.fault == nil {
			f.fault = fmt.Errorf("flow %s: graph at revision %d: a patch, and no graph patcher to apply it", f.id, f.graphRev)
		}
		return
	}
	data, err := f.patcher.Apply(f.content.Data, f.pending...)
	f.pending = nil
	if err != nil {
		f.fault = fmt.Errorf("flow %s: graph at revision %d: %w", f.id, f.graphRev, err)
		return
	}
	f.content.Data = data
}

// graphEvent is the event that records data as the flow's new graph, nil
// when data is the graph the flow has: a patch of the current graph, or
// the whole graph (see MinPatchedGraphSize; a flow without a GraphPatcher
// records the whole graph). For a big graph the patch decides whether the
// graph changed (an empty one: the same JSON value, whatever the order of
// its members); else JSONEqual does, as it always did.
func (f *Flow) graphEvent(data json.RawMessage) Event {
	cur := f.content.Data
	if len(data) >= MinPatchedGraphSize && len(cur) > 0 && f.fault == nil && f.patcher != nil {
		if patch, n, err := f.patcher.Diff(cur, data); err == nil {
			switch {
			case n == 0:
				return nil
			case f.patches+1 < FullGraphEvery && len(patch)*MaxPatchFraction <= len(data) && n <= MaxPatchOps:
				return FlowGraphPatched{FlowID: f.id, BaseRevision: f.graphRev, Patch: patch, graph: data}
			}
			return FlowDataChanged{FlowID: f.id, Data: data}
		}
	}
	if JSONEqual(data, cur) {
		return nil
	}
	return FlowDataChanged{FlowID: f.id, Data: data}
}

// Exists tells whether the stream held a flow.
func (f *Flow) Exists() bool { _, ok := f.root.Revision(); return ok || len(f.root.Pending()) > 0 }

// FlowChange holds the fields of a flow to set; nil leaves one as it is.
type FlowChange struct {
	Name, Description, FlowSkill, Icon, IconBgColor, Gradient *string
	Data                                                      json.RawMessage
	EndpointName, FlowType, FSPath                            *string
	Webhook, IsComponent, IsHold, IsEndpoint                  *bool
	Tags                                                      *[]string
	AccessType                                                *string
	MCPEnabled                                                *bool
	ActionName, ActionDescription                             *string
	Placement                                                 *FlowPlacement
	Locked, Deleted                                           *bool
}

// Edit applies change, one event per kind of edit that changes something.
func (f *Flow) Edit(ch FlowChange) error {
	f.graph()
	next := f.content
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setS(&next.Name, ch.Name)
	setS(&next.Description, ch.Description)
	setS(&next.FlowSkill, ch.FlowSkill)
	setS(&next.Icon, ch.Icon)
	setS(&next.IconBgColor, ch.IconBgColor)
	setS(&next.Gradient, ch.Gradient)
	setS(&next.EndpointName, ch.EndpointName)
	setS(&next.FlowType, ch.FlowType)
	setS(&next.AccessType, ch.AccessType)
	setS(&next.ActionName, ch.ActionName)
	setS(&next.ActionDescription, ch.ActionDescription)
	setB(&next.Webhook, ch.Webhook)
	setB(&next.IsComponent, ch.IsComponent)
	setB(&next.IsHold, ch.IsHold)
	setB(&next.IsEndpoint, ch.IsEndpoint)
	setB(&next.MCPEnabled, ch.MCPEnabled)
	if ch.Tags != nil {
		next.Tags = *ch.Tags
	}
	if ch.Data != nil {
		next.Data = ch.Data
	}
	if err := ValidFlowContent(next); err != nil {
		return err
	}
	cur := f.content
	var evs []Event
	add := func(e Event) { evs = append(evs, e) }
	diffS := func(v *string, was string) *string {
		if v != nil && *v != was {
			return v
		}
		return nil
	}
	diffB := func(v *bool, was bool) *bool {
		if v != nil && *v != was {
			return v
		}
		return nil
	}
	details := FlowDetailsChanged{FlowID: f.id, Name: diffS(ch.Name, cur.Name), Description: diffS(ch.Description, cur.Description),
		FlowSkill: diffS(ch.FlowSkill, cur.FlowSkill), Icon: diffS(ch.Icon, cur.Icon), IconBgColor: diffS(ch.IconBgColor, cur.IconBgColor),
		Gradient: diffS(ch.Gradient, cur.Gradient)}
	if details != (FlowDetailsChanged{FlowID: f.id}) {
		add(details)
	}
	if ch.Data != nil {
		if e := f.graphEvent(ch.Data); e != nil {
			add(e)
		}
	}
	settings := FlowSettingsChanged{FlowID: f.id, EndpointName: diffS(ch.EndpointName, cur.EndpointName),
		Webhook: diffB(ch.Webhook, cur.Webhook), IsComponent: diffB(ch.IsComponent, cur.IsComponent),
		FlowType: diffS(ch.FlowType, cur.FlowType), IsHold: diffB(ch.IsHold, cur.IsHold),
		IsEndpoint: diffB(ch.IsEndpoint, cur.IsEndpoint), FSPath: diffS(ch.FSPath, f.fsPath)}
	if settings != (FlowSettingsChanged{FlowID: f.id}) {
		add(settings)
	}
	if ch.Tags != nil && !slices.Equal(*ch.Tags, cur.Tags) {
		add(FlowTagsChanged{FlowID: f.id, Tags: *ch.Tags})
	}
	if a := diffS(ch.AccessType, cur.AccessType); a != nil {
		add(FlowAccessChanged{FlowID: f.id, AccessType: *a})
	}
	mcp := FlowMCPChanged{FlowID: f.id, MCPEnabled: diffB(ch.MCPEnabled, cur.MCPEnabled),
		ActionName: diffS(ch.ActionName, cur.ActionName), ActionDescription: diffS(ch.ActionDescription, cur.ActionDescription)}
	if mcp != (FlowMCPChanged{FlowID: f.id}) {
		add(mcp)
	}
	if ch.Placement != nil && !samePlacement(*ch.Placement, f.placement) {
		add(FlowMoved{FlowID: f.id, Placement: *ch.Placement})
	}
	if ch.Locked != nil && *ch.Locked != f.locked {
		add(FlowLockChanged{FlowID: f.id, Locked: *ch.Locked})
	}
	if ch.Deleted != nil && *ch.Deleted != f.deleted {
		if *ch.Deleted {
			add(FlowDeleted{FlowID: f.id})
		} else {
			add(FlowRestored{FlowID: f.id})
		}
	}
	unlocking := ch.Locked != nil && !*ch.Locked
	// A lock guards what the flow is, not where it lives: moves pass.
	changesContent := func(e Event) bool {
		switch e.(type) {
		case FlowLockChanged, FlowMoved:
			return false
		}
		return true
	}
	if f.locked && !unlocking && slices.ContainsFunc(evs, changesContent) {
		return errFlowLocked
	}
	for _, e := range evs {
		record(f, e)
	}
	return nil
}

func samePlacement(a, b FlowPlacement) bool {
	eq := func(x, y *uuid.UUID) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return eq(a.ProjectID, b.ProjectID) && eq(a.TenantID, b.TenantID) && a.BusinessID == b.BusinessID &&
		a.OrgID == b.OrgID && a.IsSelf == b.IsSelf
}

// Delete marks the flow deleted; deleting a deleted flow is not found.
func (f *Flow) Delete() error {
	if f.deleted {
		return NotFoundf("Flow not found")
	}
	record(f, FlowDeleted{FlowID: f.id})
	return nil
}

// CreateVersion names the flow's current draft as a version. Version ids
// count from 1 per flow; version strings are unique per flow.
func (f *Flow) CreateVersion(version, note string) (FlowVersionRef, error) {
	switch {
	case version == "":
		return FlowVersionRef{}, Invalidf("version must not be empty")
	case utf8.RuneCountInString(version) > MaxVersionLength:
		return FlowVersionRef{}, Invalidf("version must be at most %d characters", MaxVersionLength)
	case utf8.RuneCountInString(note) > MaxVersionNoteLength:
		return FlowVersionRef{}, Invalidf("note must be at most %d characters", MaxVersionNoteLength)
	}
	if _, ok := f.VersionByName(version); ok {
		return FlowVersionRef{}, Conflictf("Version %s of this flow already exists", version)
	}
	id := int64(1)
	if n := len(f.versions); n > 0 {
		id = f.versions[n-1].ID + 1
	}
	record(f, FlowVersionCreated{FlowID: f.id, VersionID: id, Version: version, Note: note})
	return f.versions[len(f.versions)-1], nil
}

// Version returns version id.
func (f *Flow) Version(id int64) (FlowVersionRef, bool) {
	i := slices.IndexFunc(f.versions, func(v FlowVersionRef) bool { return v.ID == id })
	if i < 0 {
		return FlowVersionRef{}, false
	}
	return f.versions[i], true
}

// VersionByName returns the version with this version string.
func (f *Flow) VersionByName(version string) (FlowVersionRef, bool) {
	i := slices.IndexFunc(f.versions, func(v FlowVersionRef) bool { return v.Version == version })
	if i < 0 {
		return FlowVersionRef{}, false
	}
	return f.versions[i], true
}

// Publish makes version id the online one.
func (f *Flow) Publish(id int64) error {
	v, ok := f.Version(id)
	if !ok {
		return NotFoundf("Flow version not found")
	}
	if f.online != id {
		record(f, FlowVersionPublished{FlowID: f.id, VersionID: id, Version: v.Version})
	}
	return nil
}

// TakeOffline takes the online version offline.
func (f *Flow) TakeOffline() error {
	if f.online == 0 {
		return Conflictf("No version of this flow is online")
	}
	record(f, FlowTakenOffline{FlowID: f.id, VersionID: f.online})
	return nil
}

// Rollback restores the draft to version id, whose content the caller
// folded from the stream up to the version's revision.
func (f *Flow) Rollback(id int64, content FlowContent) error {
	if _, ok := f.Version(id); !ok {
		return NotFoundf("Flow version not found")
	}
	if f.locked {
		return errFlowLocked
	}
	record(f, FlowRolledBack{FlowID: f.id, VersionID: id, Content: content})
	return nil
}

// Apply implements commands.Aggregate.
func (f *Flow) Apply(e Event) {
	revision := f.applied
	f.applied++
	c := &f.content
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	wholeGraph := func() { f.graphRev, f.patches, f.pending = revision, 0, nil }
	switch e := e.(type) {
	case FlowCreated:
		f.id, f.userID, f.content, f.placement, f.locked, f.fsPath = e.FlowID, e.UserID, e.Content, e.Placement, e.Locked, e.FSPath
		wholeGraph()
	case FlowDetailsChanged:
		set(&c.Name, e.Name)
		set(&c.Description, e.Description)
		set(&c.FlowSkill, e.FlowSkill)
		set(&c.Icon, e.Icon)
		set(&c.IconBgColor, e.IconBgColor)
		set(&c.Gradient, e.Gradient)
	case FlowDataChanged:
		c.Data = e.Data
		wholeGraph()
	case FlowGraphPatched:
		if e.BaseRevision != f.graphRev && f.fault == nil {
			f.fault = fmt.Errorf("flow %s: the patch at revision %d is of the graph of revision %d, the graph is of revision %d",
				f.id, revision, e.BaseRevision, f.graphRev)
		}
		if e.graph != nil {
			c.Data, f.pending = e.graph, nil
		} else {
			f.pending = append(f.pending, e.Patch)
		}
		f.graphRev = revision
		f.patches++
	case FlowSettingsChanged:
		set(&c.EndpointName, e.EndpointName)
		setB(&c.Webhook, e.Webhook)
		setB(&c.IsComponent, e.IsComponent)
		set(&c.FlowType, e.FlowType)
		setB(&c.IsHold, e.IsHold)
		setB(&c.IsEndpoint, e.IsEndpoint)
		set(&f.fsPath, e.FSPath)
	case FlowTagsChanged:
		c.Tags = e.Tags
	case FlowAccessChanged:
		c.AccessType = e.AccessType
	case FlowMCPChanged:
		setB(&c.MCPEnabled, e.MCPEnabled)
		set(&c.ActionName, e.ActionName)
		set(&c.ActionDescription, e.ActionDescription)
	case FlowMoved:
		f.placement = e.Placement
	case FlowLockChanged:
		f.locked = e.Locked
	case FlowDeleted:
		f.deleted = true
	case FlowRestored:
		f.deleted = false
	case FlowVersionCreated:
		f.versions = append(f.versions, FlowVersionRef{ID: e.VersionID, Version: e.Version, Note: e.Note, Revision: revision})
	case FlowVersionPublished:
		f.online = e.VersionID
	case FlowTakenOffline:
		f.online = 0
	case FlowRolledBack:
		f.content = e.Content
		wholeGraph()
	}
}

// ValidFlowContent checks a flow's content.
func ValidFlowContent(c FlowContent) error {
	switch {
	case c.Name == "":
		return Invalidf("name must not be empty")
	case utf8.RuneCountInString(c.Name) > MaxFlowNameLength:
		return Invalidf("name must be at most %d characters", MaxFlowNameLength)
	case c.EndpointName != "" && !endpointPattern.MatchString(c.EndpointName):
		return Invalidf("Endpoint name must contain only letters, numbers, hyphens, and underscores")
	case len(c.EndpointName) > MaxEndpointLength:
		return Invalidf("endpoint_name must be at most %d characters", MaxEndpointLength)
	case !slices.Contains([]string{AccessPrivate, AccessPublic, AccessRestricted}, c.AccessType):
		return Invalidf("access_type must be one of PRIVATE, PUBLIC, RESTRICTED")
	case c.Data != nil && !json.Valid(c.Data):
		return Invalidf("data must be JSON")
	}
	return nil
}

// JSONEqual reports whether two JSON documents are the same value,
// whatever their whitespace.
func JSONEqual(a, b json.RawMessage) bool {
	return string(a) == string(b) || string(compactJSON(a)) == string(compactJSON(b))
}

// flowSnapshot is the state of a Flow as its snapshot keeps it.
type flowSnapshot struct {
	ID        uuid.UUID        `json:"id"`
	UserID    int64            `json:"user_id"`
	Content   FlowContent      `json:"content"`
	Placement FlowPlacement    `json:"placement"`
	Locked    bool             `json:"locked"`
	Deleted   bool             `json:"deleted"`
	FSPath    string           `json:"fs_path"`
	Versions  []FlowVersionRef `json:"versions"`
	Online    int64            `json:"online"`
	Applied   uint64           `json:"applied"`
	UpdatedAt time.Time        `json:"updated_at"`
	GraphRev  uint64           `json:"graph_rev"`
	Patches   int              `json:"patches"`
}

// SnapshotVersion implements Snapshotter.
func (f *Flow) SnapshotVersion() int { return 2 }

// SnapshotEvery asks for a snapshot every 4 events, or every 16 once the
// graph is big (MinPatchedGraphSize). A snapshot holds the whole graph: for
// a small one that is cheap, and spares folding whole graphs; a big one's
// edits are small patches (applied in one pass on load), and a snapshot
// of it per 4 edits cost a quarter of a whole graph per edit.
func (f *Flow) SnapshotEvery() uint64 {
	if len(f.content.Data) >= MinPatchedGraphSize {
		return 16
	}
	return 4
}

// Snapshot implements Snapshotter.
func (f *Flow) Snapshot() ([]byte, error) {
	if err := f.Fault(); err != nil {
		return nil, err
	}
	return json.Marshal(flowSnapshot{GraphRev: f.graphRev, Patches: f.patches, ID: f.id, UserID: f.userID, Content: f.content, Placement: f.placement,
		Locked: f.locked, Deleted: f.deleted, FSPath: f.fsPath, Versions: f.versions, Online: f.online,
		Applied: f.applied, UpdatedAt: f.updatedAt})
}

// Restore implements Snapshotter.
func (f *Flow) Restore(state []byte) error {
	var s flowSnapshot
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	f.id, f.userID, f.content, f.placement = s.ID, s.UserID, s.Content, s.Placement
	f.locked, f.deleted, f.fsPath, f.versions = s.Locked, s.Deleted, s.FSPath, s.Versions
	f.online, f.applied, f.updatedAt = s.Online, s.Applied, s.UpdatedAt
	f.graphRev, f.patches, f.pending, f.fault = s.GraphRev, s.Patches, nil, nil
	return nil
}

// RaceRule implements Raced: a flow is decided once; an editor who lost a
// race with another is told its flow changed meanwhile (409) and reloads.
func (*Flow) RaceRule() RaceRule { return RaceRule{Attempts: 1} }
