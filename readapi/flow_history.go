package readapi

// The reads in this file are folds over the event log, not queries of read
// models: a flow's history, the flow as it was at an earlier instant
// (GET /api/v1/flows/{flow_id}?as_of=) and the difference between two of
// its versions all come from the flow's own stream (eventstore.Store's
// ReadStream, decoded by the Registry and folded into a domain.Flow, as
// commands.Repository.LoadUntil does). readapi otherwise reads read models
// only; reading the store here is intended, because no read model keeps
// every past state of a flow, and the log does. The only read model these
// reads touch is users, for the names of creators and actors.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Paging of the history.
const (
	DefaultHistorySize = 50
	MaxHistorySize     = 100
)

// FlowHistoryItem is one change of a flow: one event of its stream.
type FlowHistoryItem struct {
	// Revision is the event's revision in the flow's stream (from 0).
	Revision uint64 `json:"revision"`
	// Position is the event's global log position, in X-Event-Position's form.
	Position string `json:"position"`
	// EventType is the stored type, e.g. "flow.data_changed".
	EventType string `json:"event_type"`
	// Change is a short human label: "created", "graph edited",
	// "version 1.0 published" …
	Change string `json:"change"`
	// Fields names the flow's fields (as FlowRead names them) the event set.
	Fields []string `json:"fields"`
	// ActorID is the user who caused the event (0: the system).
	ActorID int64 `json:"actor_id"`
	// ActorName is that user's nickname, else username; null if unknown.
	ActorName *string `json:"actor_name"`
	// OccurredAt is when the change happened.
	OccurredAt time.Time `json:"occurred_at"`
}

// FlowHistoryPage is a page of a flow's history, newest first.
type FlowHistoryPage struct {
	Items []FlowHistoryItem `json:"items"`
	Total int               `json:"total"`
	Page  int               `json:"page"`
	Size  int               `json:"size"`
	Pages int               `json:"pages"`
}

// FlowHistoryQuery is the query string of Read Flow History.
type FlowHistoryQuery struct {
	Page int `form:"page,default=1" binding:"gte=1,lte=1000000000"`
	Size int `form:"size,default=50" binding:"gte=1,lte=100"`
}

// GraphDiff lists the keys of the nodes (or edges) one graph added,
// removed and changed against another, each list sorted.
type GraphDiff struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// FlowVersionDiff compares version From with version To of a flow.
type FlowVersionDiff struct {
	From  int64     `json:"from"`
	To    int64     `json:"to"`
	Nodes GraphDiff `json:"nodes"`
	Edges GraphDiff `json:"edges"`
	// Fields names the content fields other than data that differ.
	Fields []string `json:"fields"`
}

// flowLog serves the reads of a flow that fold its stream.
type flowLog struct {
	pool  *pgxpool.Pool
	store eventstore.Store
	reg   *eventstore.Registry
}

// RegisterFlowHistory adds Read Flow History and Diff Flow Versions, folds
// of the flow's stream in the event log (see the comment at the top of
// this file).
func RegisterFlowHistory(s *httpapi.Server, pool *pgxpool.Pool, store eventstore.Store, reg *eventstore.Registry) {
	h := &flowLog{pool: pool, store: store, reg: reg}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}/history", Access: access.Own("flows", "read"), Tag: "Flows",
		Summary: "Read Flow History",
		Description: "The flow's changes, newest first: one item per event of its stream, with the fields it set, " +
			"who made it and when. Read from the event log. Only the flow's owner (or a superuser) sees it.",
		Params: []httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"},
			{Name: "page", In: "query", Type: "integer", Default: 1, Description: "Page number, from 1."},
			{Name: "size", In: "query", Type: "integer", Default: DefaultHistorySize,
				Description: fmt.Sprintf("Items per page, 1 to %d.", MaxHistorySize)}},
		Response: FlowHistoryPage{}, ReadModels: []string{"users"}, Handler: h.history})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/{flow_id}/versions/{version_id}/diff/{other_version_id}", Access: access.Own("flows", "read"),
		Tag: "Flows", Summary: "Diff Flow Versions",
		Description: "What changed from version version_id to version other_version_id: nodes and edges of the graph " +
			"(by id; edges without one by source->target:sourceHandle->targetHandle) added, removed or changed, and the " +
			"other content fields that differ. The versions' contents are folded from the event log.",
		Params: []httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"},
			{Name: "version_id", In: "path", Type: "integer", Description: "The version compared from."},
			{Name: "other_version_id", In: "path", Type: "integer", Description: "The version compared to."}},
		Response: FlowVersionDiff{}, ReadModels: []string{"users"}, Handler: h.diff})
}

// loggedEvent is an event of a flow's stream; event is nil for a type this
// binary does not know (written by a newer one).
type loggedEvent struct {
	rec   eventstore.RecordedEvent
	event domain.Event
}

// ownStream reads the stream of the flow in the path for the caller: the
// owner, a superuser, or a holder of the route's privilege where the flow
// lives gets it; for anyone else, and when the stream is empty, the flow
// does not exist. now is the flow as it is now (every event folded). ok
// false: the request was answered.
func (h *flowLog) ownStream(c *gin.Context) (id uuid.UUID, events []loggedEvent, now *domain.Flow, ok bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return uuid.Nil, nil, nil, false
	}
	if id, ok = httpapi.PathUUID(c, "flow_id"); !ok {
		return uuid.Nil, nil, nil, false
	}
	events, now, err := h.readStream(c.Request.Context(), id, caller)
	if err != nil {
		httpapi.Fail(c, err)
		return uuid.Nil, nil, nil, false
	}
	return id, events, now, true
}

// readStream reads and decodes flow id's stream for caller (see
// ownStream), and folds all of it into now.
func (h *flowLog) readStream(ctx context.Context, id uuid.UUID, caller auth.Principal) (events []loggedEvent, now *domain.Flow, err error) {
	recs, err := h.store.ReadStream(ctx, domain.FlowStream(id), 0, eventstore.MaxRevision)
	if err != nil {
		return nil, nil, fmt.Errorf("read flow %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, nil, domain.NotFoundf("Flow not found")
	}
	events = make([]loggedEvent, 0, len(recs))
	now = graphpatch.LoadFlow(id)
	if _, err := eventstore.Fold(h.reg, now, recs, nil, func(rec eventstore.RecordedEvent, e domain.Event) {
		events = append(events, loggedEvent{rec: rec, event: e})
	}); err != nil {
		return nil, nil, fmt.Errorf("read flow %s: %w", id, err)
	}
	created, _ := events[0].event.(domain.FlowCreated)
	if created.UserID != caller.UserID && !caller.IsSuperuser {
		// Somebody else's flow: readable where the caller holds the
		// route's privilege (where the flow is now), else not revealed.
		p := now.Placement()
		if tenancy.Authorize(ctx, tenancy.OrSystem(p.TenantID), p.BusinessID) != nil {
			return nil, nil, domain.NotFoundf("Flow not found")
		}
	}
	return events, now, nil
}

// foldedFlow is a flow folded from a prefix of its stream.
type foldedFlow struct {
	flow        *domain.Flow
	n           int       // events folded
	createdAt   time.Time // when the first one occurred
	updatedAt   time.Time // when the last one occurred
	lastActorID int64     // who caused the last one
}

// fold folds the longest prefix of events that keep accepts into flow id
// (eventstore.Fold: an event of an unknown type stops it with an error).
func fold(reg *eventstore.Registry, id uuid.UUID, events []loggedEvent, keep func(eventstore.RecordedEvent) bool) (foldedFlow, error) {
	out := foldedFlow{flow: graphpatch.LoadFlow(id)}
	recs := make([]eventstore.RecordedEvent, len(events))
	for i, e := range events {
		recs[i] = e.rec
	}
	var err error
	out.n, err = eventstore.Fold(reg, out.flow, recs, keep, func(rec eventstore.RecordedEvent, _ domain.Event) {
		at := rec.Metadata.OccurredAt.UTC().Truncate(time.Microsecond)
		if out.createdAt.IsZero() {
			out.createdAt = at
		}
		out.updatedAt, out.lastActorID = at, rec.Metadata.ActorUserID
	})
	return out, err
}

// flowAsOf parses an as_of value: an event position ("42", or "C/P") keeps
// the events at or before it, an RFC 3339 time those that occurred at or
// before it. ok false: neither.
func flowAsOf(raw string) (keep func(eventstore.RecordedEvent) bool, ok bool) {
	if pos, err := eventstore.ParsePosition(raw); err == nil {
		return func(rec eventstore.RecordedEvent) bool { return !pos.Less(rec.Position) }, true
	}
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return func(rec eventstore.RecordedEvent) bool { return !rec.Metadata.OccurredAt.After(t) }, true
	}
	return nil, false
}

// readAsOf answers Read Flow with ?as_of=raw: the flow folded from the
// longest prefix of its stream written at or before as_of (a position or a
// time), in FlowRead's shape. Before the flow existed it is not found.
func (h *flowLog) readAsOf(c *gin.Context, raw string) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "flow_id")
	if !ok {
		return
	}
	keep, ok := flowAsOf(raw)
	if !ok {
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error",
			Loc: []any{"query", "as_of"}, Msg: "Value error, as_of must be an RFC 3339 time or an event position", Input: raw}}})
		return
	}
	ctx := c.Request.Context()
	events, now, err := h.readStream(ctx, id, caller)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	f, err := fold(h.reg, id, events, keep)
	if err == nil && f.n == 0 {
		err = domain.NotFoundf("Flow not found")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	names, err := userNames(ctx, h.pool, []int64{f.flow.UserID()})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	out := f.read(names[f.flow.UserID()])
	out.Data, err = secretsFor(c.Request.Context()).ofFlow(now, out.Data)
	respond(c, out, err)
}

// read is the folded flow as FlowRead shows it, built as the flows
// projection builds its row (creator is the owner's display name).
func (f foldedFlow) read(creator string) FlowRead {
	fl := f.flow
	c, p := fl.Content(), fl.Placement()
	data := c.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	var online *string
	if v, ok := fl.Version(fl.OnlineVersion()); ok && fl.OnlineVersion() != 0 {
		online = &v.Version
	}
	return FlowRead{
		Name: c.Name, Description: c.Description, FlowSkill: c.FlowSkill, Icon: c.Icon, IconBgColor: c.IconBgColor,
		Gradient: c.Gradient, Data: data, IsComponent: c.IsComponent, UpdatedAt: f.updatedAt, Webhook: c.Webhook,
		EndpointName: nonEmpty(c.EndpointName), Tags: tags, Locked: fl.Locked(), IsOnline: fl.OnlineVersion() != 0,
		IsVersion: len(fl.Versions()) > 0, IsHold: c.IsHold, IsEndpoint: c.IsEndpoint, IsDeleted: fl.Deleted(),
		FlowType: c.FlowType, OnlineVersion: online, MCPEnabled: c.MCPEnabled, ActionName: nonEmpty(c.ActionName),
		ActionDescription: nonEmpty(c.ActionDescription), AccessType: c.AccessType, ID: fl.ID(), UserID: fl.UserID(),
		TenantID: p.TenantID, BusinessID: p.BusinessID, IsSelf: p.IsSelf, OrgID: p.OrgID, ProjectID: p.ProjectID,
		CreateAt: f.createdAt, MUID: f.lastActorID, CreatorName: creator,
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// userNames maps user ids to their display names (nickname, else
// username); unknown ids are missing.
func userNames(ctx context.Context, pool *pgxpool.Pool, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	rows, err := pool.Query(ctx, `SELECT id, coalesce(nullif(nickname, ''), username) FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("user names: %w", err)
		}
		out[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	return out, nil
}

func (h *flowLog) history(c *gin.Context) {
	var q FlowHistoryQuery
	if _, ok := httpapi.PathUUID(c, "flow_id"); !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	id, events, _, ok := h.ownStream(c)
	if !ok {
		return
	}
	// Describe every event against the state before it (a move names the
	// placement fields it changed, a rollback the version's string).
	items := make([]FlowHistoryItem, len(events))
	f := graphpatch.LoadFlow(id)
	for i, e := range events {
		change, fields := describe(f, e)
		f.Apply(e.event) // every event is known: readStream folded them all
		items[i] = FlowHistoryItem{Revision: e.rec.StreamVersion, Position: e.rec.Position.String(), EventType: e.rec.Type,
			Change: change, Fields: fields, ActorID: e.rec.Metadata.ActorUserID, OccurredAt: e.rec.Metadata.OccurredAt.UTC()}
	}
	slices.Reverse(items)
	total := len(items)
	page := FlowHistoryPage{Items: []FlowHistoryItem{}, Total: total, Page: q.Page, Size: q.Size, Pages: (total + q.Size - 1) / q.Size}
	if from := (q.Page - 1) * q.Size; q.Page <= page.Pages {
		page.Items = items[from:min(from+q.Size, total)]
	}
	var actors []int64
	for _, it := range page.Items {
		actors = append(actors, it.ActorID)
	}
	names, err := userNames(c.Request.Context(), h.pool, actors)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	for i := range page.Items {
		if n, ok := names[page.Items[i].ActorID]; ok {
			page.Items[i].ActorName = &n
		}
	}
	c.JSON(http.StatusOK, page)
}

// contentFields are the JSON names of domain.FlowContent's fields, in
// order: what a creation or a rollback sets.
var contentFields = func() []string {
	var out []string
	t := reflect.TypeFor[domain.FlowContent]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}()

// describe labels event e of a flow whose state before it is f, and names
// the fields it set (FlowRead's names): the fields an edit carries, all
// content fields for a creation or a rollback, the placement fields a
// move changed.
func describe(f *domain.Flow, e loggedEvent) (change string, fields []string) {
	named := func(pairs ...any) []string {
		out := []string{}
		for i := 0; i < len(pairs); i += 2 {
			if !reflect.ValueOf(pairs[i+1]).IsNil() {
				out = append(out, pairs[i].(string))
			}
		}
		return out
	}
	switch ev := e.event.(type) {
	case domain.FlowCreated:
		return "created", slices.Clone(contentFields)
	case domain.FlowDetailsChanged:
		return "renamed/described", named("name", ev.Name, "description", ev.Description, "flow_skill", ev.FlowSkill,
			"icon", ev.Icon, "icon_bg_color", ev.IconBgColor, "gradient", ev.Gradient)
	case domain.FlowDataChanged, domain.FlowGraphPatched:
		return "graph edited", []string{"data"}
	case domain.FlowSettingsChanged:
		return "settings changed", named("endpoint_name", ev.EndpointName, "webhook", ev.Webhook, "is_component", ev.IsComponent,
			"flow_type", ev.FlowType, "is_hold", ev.IsHold, "is_endpoint", ev.IsEndpoint, "fs_path", ev.FSPath)
	case domain.FlowTagsChanged:
		return "tags changed", []string{"tags"}
	case domain.FlowAccessChanged:
		return "access changed", []string{"access_type"}
	case domain.FlowMCPChanged:
		return "MCP settings changed", named("mcp_enabled", ev.MCPEnabled, "action_name", ev.ActionName,
			"action_description", ev.ActionDescription)
	case domain.FlowMoved:
		was, now := f.Placement(), ev.Placement
		fields = []string{}
		if !sameUUID(was.ProjectID, now.ProjectID) {
			fields = append(fields, "project_id")
		}
		if !sameUUID(was.TenantID, now.TenantID) {
			fields = append(fields, "tenant_id")
		}
		if was.BusinessID != now.BusinessID {
			fields = append(fields, "business_id")
		}
		if was.OrgID != now.OrgID {
			fields = append(fields, "org_id")
		}
		if was.IsSelf != now.IsSelf {
			fields = append(fields, "is_self")
		}
		return "moved", fields
	case domain.FlowLockChanged:
		if ev.Locked {
			return "locked", []string{"locked"}
		}
		return "unlocked", []string{"locked"}
	case domain.FlowDeleted:
		return "deleted", []string{"is_deleted"}
	case domain.FlowRestored:
		return "restored", []string{"is_deleted"}
	case domain.FlowVersionCreated:
		return "version " + ev.Version + " created", []string{"is_version"}
	case domain.FlowVersionPublished:
		return "version " + ev.Version + " published", []string{"is_online", "online_version"}
	case domain.FlowTakenOffline:
		return "taken offline", []string{"is_online", "online_version"}
	case domain.FlowRolledBack:
		label := fmt.Sprintf("rolled back to version #%d", ev.VersionID)
		if v, ok := f.Version(ev.VersionID); ok {
			label = "rolled back to version " + v.Version
		}
		return label, slices.Clone(contentFields)
	}
	return e.rec.Type, []string{} // a type this binary does not know
}

func sameUUID(a, b *uuid.UUID) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// diff answers Diff Flow Versions. A version's content is the fold of the
// flow's stream up to its FlowVersionCreated event (as Create Flow Version
// and Rollback see it), so one pass over the stream yields both.
func (h *flowLog) diff(c *gin.Context) {
	if _, ok := httpapi.PathUUID(c, "flow_id"); !ok {
		return
	}
	from, ok := httpapi.PathInt(c, "version_id")
	if !ok {
		return
	}
	to, ok := httpapi.PathInt(c, "other_version_id")
	if !ok {
		return
	}
	id, events, now, ok := h.ownStream(c)
	if !ok {
		return
	}
	// A reader who may not see the password values compares the versions
	// as shown to them: a changed secret is no change.
	secrets := secretsFor(c.Request.Context())
	contents := map[int64]domain.FlowContent{}
	f := graphpatch.LoadFlow(id)
	recs := make([]eventstore.RecordedEvent, len(events))
	for i, e := range events {
		recs[i] = e.rec
	}
	var shown error
	found := func(eventstore.RecordedEvent) bool {
		return shown == nil && !(len(contents) == 2 || len(contents) == 1 && from == to)
	}
	_, err := eventstore.Fold(h.reg, f, recs, found, func(_ eventstore.RecordedEvent, e domain.Event) {
		if v, ok := e.(domain.FlowVersionCreated); ok && (v.VersionID == from || v.VersionID == to) {
			content := f.Content()
			if content.Data, shown = secrets.ofFlow(now, content.Data); shown == nil {
				contents[v.VersionID] = content
			}
		}
	})
	if err == nil {
		err = shown
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	a, okA := contents[from]
	b, okB := contents[to]
	if !okA || !okB {
		httpapi.Fail(c, domain.NotFoundf("Flow version not found"))
		return
	}
	out, err := diffContents(a, b)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	out.From, out.To = from, to
	c.JSON(http.StatusOK, out)
}

// diffContents compares two contents of a flow: the nodes and edges of
// their graphs (data) and the other content fields.
func diffContents(a, b domain.FlowContent) (FlowVersionDiff, error) {
	ga, err := parseGraph(a.Data)
	if err != nil {
		return FlowVersionDiff{}, err
	}
	gb, err := parseGraph(b.Data)
	if err != nil {
		return FlowVersionDiff{}, err
	}
	out := FlowVersionDiff{Nodes: diffKeyed(ga.nodes, gb.nodes), Edges: diffKeyed(ga.edges, gb.edges), Fields: []string{}}
	fa, err := contentMap(a)
	if err != nil {
		return out, err
	}
	fb, err := contentMap(b)
	if err != nil {
		return out, err
	}
	for _, name := range contentFields {
		if name != "data" && !bytes.Equal(fa[name], fb[name]) {
			out.Fields = append(out.Fields, name)
		}
	}
	return out, nil
}

// contentMap is c's fields by JSON name, each as encoding/json writes it.
func contentMap(c domain.FlowContent) (map[string]json.RawMessage, error) {
	if c.Tags == nil {
		c.Tags = []string{}
	}
	c.Data = nil
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("diff content: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("diff content: %w", err)
	}
	return m, nil
}

// graph is a flow's data: its nodes and edges by key, each as canonical
// JSON (object keys sorted, no spaces, numbers as written).
type graph struct{ nodes, edges map[string]string }

// parseGraph reads {"nodes": [...], "edges": [...]}; absent, null or
// non-list parts are empty. A node's key is its "id" (a string, else the
// id's JSON), an edge's its "id" if it has one, else
// "source->target:sourceHandle->targetHandle"; an element without any of
// these is keyed by its whole canonical JSON.
func parseGraph(data json.RawMessage) (graph, error) {
	g := graph{nodes: map[string]string{}, edges: map[string]string{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return g, nil
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return g, fmt.Errorf("diff: flow data: %w", err)
	}
	obj, _ := doc.(map[string]any)
	nodes, _ := obj["nodes"].([]any)
	edges, _ := obj["edges"].([]any)
	for _, n := range nodes {
		canon := canonical(n)
		key := canon
		if m, ok := n.(map[string]any); ok {
			if k, ok := idKey(m["id"]); ok {
				key = k
			}
		}
		g.nodes[key] = canon
	}
	for _, e := range edges {
		canon := canonical(e)
		key := canon
		if m, ok := e.(map[string]any); ok {
			if k, ok := idKey(m["id"]); ok {
				key = k
			} else if m["source"] != nil || m["target"] != nil {
				key = text(m["source"]) + "->" + text(m["target"]) + ":" + text(m["sourceHandle"]) + "->" + text(m["targetHandle"])
			}
		}
		g.edges[key] = canon
	}
	return g, nil
}

// idKey is an "id" as a key: a non-empty string itself, another non-null
// value its JSON.
func idKey(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, v != ""
	default:
		return canonical(v), true
	}
}

// text is a string value itself, null or absent "", anything else its JSON.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return canonical(v)
	}
}

// canonical is v's JSON with object keys sorted (encoding/json sorts map
// keys) and numbers as written (json.Number).
func canonical(v any) string {
	raw, _ := json.Marshal(v) // values decoded from JSON always marshal
	return string(raw)
}

// diffKeyed compares two keyed sets of elements.
func diffKeyed(a, b map[string]string) GraphDiff {
	d := GraphDiff{Added: []string{}, Removed: []string{}, Changed: []string{}}
	for k, vb := range b {
		va, ok := a[k]
		switch {
		case !ok:
			d.Added = append(d.Added, k)
		case va != vb:
			d.Changed = append(d.Changed, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			d.Removed = append(d.Removed, k)
		}
	}
	slices.Sort(d.Added)
	slices.Sort(d.Removed)
	slices.Sort(d.Changed)
	return d
}
