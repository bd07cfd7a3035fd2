package app

import (
	"context"
	"fmt"
	"time"

	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/mcpserver"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/runs"
)

// MCP is the MCP server module (mcp #126–#145): the caller's flows as
// MCP tools and their files as resources, over SSE and Streamable HTTP
// at /api/v1/mcp and /mcp (package mcpserver). Tool calls run through
// Runs' service, so Runs is registered before it. SSE sessions are
// shared by the processes through PostgreSQL (its Runner listens).
type MCP struct {
	Runs *Runs
	// Progress is the interval of progress notifications (default 1 s).
	Progress time.Duration
	// CallTimeout bounds a tool call's wait for its run (0: the client's
	// request bounds it; mcpserver.Service.CallTimeout).
	CallTimeout time.Duration

	port *mcpserver.Port
	stop chan struct{}
}

var (
	_ Module = (*MCP)(nil)
	_ Runner = (*MCP)(nil)
)

// Register implements Module.
func (*MCP) Register(*eventstore.Registry) error { return nil }

// Projections implements Module.
func (*MCP) Projections() []*projections.Projection { return nil }

// Routes implements Module.
func (m *MCP) Routes(s *httpapi.Server, d Deps) {
	if m.Runs == nil || m.Runs.Service() == nil {
		s.Misconfigured(fmt.Errorf("the MCP module needs the Runs module registered before it"))
		return
	}
	blobs, err := blob.NewLocal(d.Config.FileStorageDir())
	if err != nil {
		s.Misconfigured(fmt.Errorf("MCP resources: %w (set SKILLFLAW_STORAGE_DIR)", err))
		return
	}
	m.stop = make(chan struct{})
	m.port = &mcpserver.Port{Pool: d.Pool, Stop: m.stop, Svc: &mcpserver.Service{Pool: d.Pool, Runs: m.Runs.Service(),
		Files: runs.Files{Pool: d.Pool, Blobs: blobs}, Version: Version, Progress: m.Progress, CallTimeout: m.CallTimeout, Logger: d.Logger}}
	m.port.Routes(s)
}

// Run implements Runner: it relays SSE messages to this process's
// sessions until shutdown, then ends the sessions.
func (m *MCP) Run(ctx context.Context, d Deps) error {
	defer close(m.stop)
	if m.port == nil {
		<-ctx.Done()
		return nil
	}
	for ctx.Err() == nil {
		if err := m.port.Listen(ctx); err != nil {
			// The database went away for a moment: listen again.
			d.Logger.Warn("MCP relay stopped; listening again", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// Requires implements Requirer: its tools run flows.
func (*MCP) Requires() []Module { return []Module{&Runs{}} }
