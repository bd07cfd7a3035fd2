package app

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Audit is the audit trail of tenants (package audit). It must be the last
// module: its projection records every event type registered before it.
type Audit struct {
	reg *eventstore.Registry
}

var _ Module = (*Audit)(nil)

// Register implements Module: the audit has no events of its own.
func (m *Audit) Register(reg *eventstore.Registry) error {
	m.reg = reg
	return nil
}

// Projections implements Module.
func (m *Audit) Projections() []*projections.Projection {
	return []*projections.Projection{audit.Projection(m.reg)}
}

// Routes implements Module.
// The replay of the API waits for audit_log to catch up with the instant
// it replays (503 if it does not within the read-your-writes timeout).
func (m *Audit) Routes(s *httpapi.Server, d Deps) {
	r := AuditReplayer(d)
	r.Wait = func(ctx context.Context, pos eventstore.Position) error {
		ctx, cancel := context.WithTimeout(ctx, d.Config.ReadYourWritesTimeout)
		defer cancel()
		if err := d.Runtime.WaitFor(ctx, pos, audit.ReadModels...); err != nil {
			return &httpapi.StatusError{Status: http.StatusServiceUnavailable,
				Detail: "The audit log has not caught up with the log yet; retry"}
		}
		return nil
	}
	audit.Register(s, r)
}

// AuditReplayer replays tenants from the log of d.
func AuditReplayer(d Deps) *audit.Replayer {
	return &audit.Replayer{Store: d.Store, Reg: d.Registry, Pool: d.Pool, Sources: d.AuditSources}
}

// auditSource is the audit source of one kind of aggregate: its part's
// key, its stream of a tenant and its empty aggregate.
func auditSource[A audit.Aggregate](key string, stream func(uuid.UUID) string, load func(uuid.UUID) A) audit.Source {
	return audit.Source{Key: key, Stream: stream, New: func(t uuid.UUID) audit.Aggregate { return load(t) }}
}
