package app

import (
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Messages is the monitor module: chat sessions and messages (one stream
// per session), vertex builds and transactions of flow runs, their read
// models ("messages", "monitor"), the monitor's operations (#64–73) and the
// public chat's messages (#3). It needs Identity and Flows registered
// before it. The flow engine records runs through commands.Messages
// (MessagesCommands).
type Messages struct{}

var _ Module = Messages{}

// Requires implements Requirer: it loads the flows messages belong to.
func (Messages) Requires() []Module { return []Module{Flows{}} }

// Register implements Module.
func (Messages) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.MessageEvents())
}

// Projections implements Module.
func (Messages) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Messages(), projections.Monitor()}
}

// Routes implements Module.
func (Messages) Routes(s *httpapi.Server, d Deps) {
	ports.Messages(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.MonitorHandler{Messages: MessagesCommands(d), Reads: ports.MonitorReads{Pool: d.Pool}})
	readapi.RegisterMessageReads(s, d.Pool)
}

// MessagesCommands returns the command API of messages, vertex builds and
// transactions over d (what the flow engine calls to record a run).
func MessagesCommands(d Deps) *commands.Messages {
	return &commands.Messages{Repo: d.Repository, Store: d.Store, Registry: d.Registry, IDs: commands.NewSequences(d.Pool),
		Pool: d.Pool, Sessions: d.ChatSessions, Flows: d.MonitoredFlows}
}
