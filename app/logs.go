package app

import (
	"context"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/logbuf"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Logs is the log retriever module (Log #219–#220): GET /logs and GET
// /logs-stream read Deps.Logs, the ring of the process's own log records
// (SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE; 0: both answer 501). Superusers
// only. Its streams end when the server shuts down (Runner).
type Logs struct {
	stop chan struct{}
}

var (
	_ Module = (*Logs)(nil)
	_ Runner = (*Logs)(nil)
)

// Register implements Module.
func (*Logs) Register(*eventstore.Registry) error { return nil }

// Projections implements Module.
func (*Logs) Projections() []*projections.Projection { return nil }

// Routes implements Module.
func (m *Logs) Routes(s *httpapi.Server, d Deps) {
	m.stop = make(chan struct{})
	(&logbuf.Port{Buf: d.Logs, Stop: m.stop}).Routes(s)
}

// Run implements Runner: at shutdown, the streams end.
func (m *Logs) Run(ctx context.Context, _ Deps) error {
	<-ctx.Done()
	close(m.stop)
	return nil
}
