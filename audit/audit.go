package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Aggregate is a tenant-scoped aggregate whose current state the audit
// replay can show: AuditState is the state in the API's shape (minus the
// audit fields), so "as of" answers read like the list endpoints did.
type Aggregate interface {
	commands.Aggregate
	AuditState() any
}

// Source is one of the streams that make up a tenant.
type Source struct {
	// Key names the source's part of the state ("tenant", "businesses" …).
	Key string
	// Stream names the tenant's stream of this source.
	Stream func(tenant uuid.UUID) string
	// New returns an empty aggregate to fold that stream into.
	New func(tenant uuid.UUID) Aggregate
}

// Projection builds the audit_log read model: a row per event that
// carries a tenant, whatever its type (every type reg knows now).
func Projection(reg *eventstore.Registry) *projections.Projection {
	p := projections.New("audit_log", "audit_log")
	for _, t := range reg.Types() {
		projections.OnRecorded(p, t, func(_ context.Context, tx *projections.Tx, rec eventstore.RecordedEvent) error {
			md := rec.Metadata
			if md.TenantID == uuid.Nil {
				return nil
			}
			data, err := auditData(rec)
			if err != nil {
				return err
			}
			// Through Tx.Insert: a batch's rows are one multi-row statement.
			tx.Insert("audit_log", "event_id", rec.ID, map[string]any{
				"commit_position": int64(rec.Position.Commit), "prepare_position": int64(rec.Position.Prepare),
				"tenant_id": md.TenantID, "event_id": rec.ID, "stream_id": rec.StreamID,
				"stream_version": int64(rec.StreamVersion), "event_type": rec.Type, "actor_id": md.ActorUserID,
				"occurred_at": md.OccurredAt, "correlation_id": md.CorrelationID, "client_ip": md.ClientIP, "data": data,
			})
			return nil
		})
	}
	return p
}

// auditData is the data of rec an audit row shows: a run's start without
// its sealed task (domain.RunStarted.Task: ciphertext, but the queue's
// business, not the audit's).
func auditData(rec eventstore.RecordedEvent) (json.RawMessage, error) {
	if rec.Type != (domain.RunStarted{}).EventType() {
		return rec.Data, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rec.Data, &fields); err != nil {
		return nil, fmt.Errorf("audit event %s: %w", rec.ID, err)
	}
	if _, ok := fields["task"]; !ok {
		return rec.Data, nil
	}
	delete(fields, "task")
	return json.Marshal(fields)
}

// Instant is a point of the log: a position, or a time (events that
// occurred at or before it).
type Instant struct {
	Position *eventstore.Position
	Time     *time.Time
}

// ParseInstant reads "as of": a log position ("42", "42/41") or an RFC
// 3339 time.
func ParseInstant(s string) (Instant, error) {
	s = strings.TrimSpace(s)
	if p, err := eventstore.ParsePosition(s); err == nil {
		return Instant{Position: &p}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Instant{}, fmt.Errorf("%q is neither a log position nor an RFC 3339 time", s)
	}
	return Instant{Time: &t}, nil
}

// includes tells whether rec happened at or before the instant.
func (i Instant) includes(rec eventstore.RecordedEvent) bool {
	if i.Position != nil {
		return !i.Position.Less(rec.Position)
	}
	return !rec.Metadata.OccurredAt.After(*i.Time)
}

// String renders the instant as given.
func (i Instant) String() string {
	if i.Position != nil {
		return i.Position.String()
	}
	return i.Time.UTC().Format(time.RFC3339Nano)
}

// Replayer computes the state of a tenant as of an instant from the log.
type Replayer struct {
	Store   eventstore.Store
	Reg     *eventstore.Registry
	Pool    *pgxpool.Pool
	Sources []Source
	// Wait, if set, blocks until the audit_log read model has folded the
	// log up to pos (the flows of a tenant are found through it); nil
	// reads audit_log as it is (the CLI, whose projections do not run).
	Wait func(ctx context.Context, pos eventstore.Position) error
}

// State is a tenant as it was at an instant: "tenant_id", "as_of", one
// entry per source, and "flows" (the headers of the flows that were in the
// tenant then).
type State map[string]any

// State folds the tenant's streams up to the instant. The flows of the
// tenant are found through the audit log (every flow event carries its
// tenant) and each is folded from its own stream.
func (r *Replayer) State(ctx context.Context, tenant uuid.UUID, at Instant) (State, error) {
	out := State{"tenant_id": tenant, "as_of": at.String()}
	for _, src := range r.Sources {
		agg := src.New(tenant)
		n, err := r.fold(ctx, agg, src.Stream(tenant), at)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			out[src.Key] = nil
			continue
		}
		out[src.Key] = agg.AuditState()
	}
	if err := r.catchUp(ctx, at); err != nil {
		return nil, err
	}
	flows, err := r.flows(ctx, tenant, at)
	if err != nil {
		return nil, err
	}
	out["flows"] = flows
	return out, nil
}

// catchUp waits (r.Wait) until audit_log has folded the log up to the
// instant's position, or up to the head for a time or a position beyond it.
func (r *Replayer) catchUp(ctx context.Context, at Instant) error {
	if r.Wait == nil {
		return nil
	}
	head, err := r.Store.Head(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	target := head
	if at.Position != nil && at.Position.Less(head) {
		target = *at.Position
	}
	if target.IsZero() {
		return nil
	}
	return r.Wait(ctx, target)
}

// fold applies the stream's events up to the instant (the longest prefix
// of the stream at or before it) and returns how many it applied.
func (r *Replayer) fold(ctx context.Context, agg commands.Aggregate, stream string, at Instant) (int, error) {
	events, err := r.Store.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
	if err != nil {
		return 0, fmt.Errorf("replay %s: %w", stream, err)
	}
	n, err := eventstore.Fold(r.Reg, agg, events, at.includes, nil)
	if err != nil {
		return n, fmt.Errorf("replay %s: %w", stream, err)
	}
	return n, nil
}

// FlowHeader is a flow as the audit state lists it.
type FlowHeader struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	ProjectID   *uuid.UUID `json:"project_id"`
	BusinessID  int64      `json:"business_id"`
	OrgID       int64      `json:"org_id"`
	UserID      int64      `json:"user_id"`
	AccessType  string     `json:"access_type"`
	IsComponent bool       `json:"is_component"`
	IsDeleted   bool       `json:"is_deleted"`
	IsOnline    bool       `json:"is_online"`
	Tags        []string   `json:"tags"`
}

// flows folds every flow stream that had an event in the tenant up to the
// instant, and lists those that were in the tenant then, by id.
func (r *Replayer) flows(ctx context.Context, tenant uuid.UUID, at Instant) ([]FlowHeader, error) {
	rows, err := r.Pool.Query(ctx, `SELECT DISTINCT stream_id FROM audit_log WHERE tenant_id = $1 AND stream_id LIKE 'flow-%'
ORDER BY stream_id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("replay flows of %s: %w", tenant, err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("replay flows of %s: %w", tenant, err)
	}
	out := []FlowHeader{}
	for _, s := range streams {
		id, err := uuid.Parse(strings.TrimPrefix(s, "flow-"))
		if err != nil {
			continue
		}
		f := graphpatch.LoadFlow(id)
		n, err := r.fold(ctx, f, s, at)
		if err != nil {
			return nil, err
		}
		pl := f.Placement()
		if n == 0 || pl.TenantID == nil || *pl.TenantID != tenant {
			continue
		}
		c := f.Content()
		out = append(out, FlowHeader{ID: id, Name: c.Name, Description: c.Description, ProjectID: pl.ProjectID,
			BusinessID: pl.BusinessID, OrgID: pl.OrgID, UserID: f.UserID(), AccessType: c.AccessType,
			IsComponent: c.IsComponent, IsDeleted: f.Deleted(), IsOnline: f.OnlineVersion() != 0, Tags: c.Tags})
	}
	return out, nil
}

// JSON renders a state for the CLI, indented.
func (s State) JSON() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }
