package commands

import (
	"sync"

	"github.com/google/uuid"
)

// MonitoredFlows keeps the flows the monitor's writes were placed by, as
// folded at a revision of their streams, so that the next write of a
// flow reads only whether its stream went past that revision (one short
// read, usually of nothing) instead of folding it again from its
// snapshot (two reads). It is exactly as fresh as a fold: a flow that
// changed meanwhile (moved, deleted, made public) is folded again. It
// holds at most max flows (an arbitrary one is forgotten past that) and
// is safe for concurrent use.
type MonitoredFlows struct {
	mu  sync.Mutex
	m   map[uuid.UUID]foldedFlow
	max int
}

// foldedFlow is a monitored flow as folded up to revision rev.
type foldedFlow struct {
	flow MonitoredFlow
	rev  uint64
}

// NewMonitoredFlows returns an empty cache of at most max flows.
func NewMonitoredFlows(max int) *MonitoredFlows {
	return &MonitoredFlows{m: map[uuid.UUID]foldedFlow{}, max: max}
}

// get returns flow id as last folded (ok false: none; a nil cache keeps
// nothing).
func (c *MonitoredFlows) get(id uuid.UUID) (foldedFlow, bool) {
	if c == nil {
		return foldedFlow{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[id]
	return f, ok
}

// put keeps f as folded up to rev, unless a later fold is kept.
func (c *MonitoredFlows) put(f MonitoredFlow, rev uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[f.ID]; ok && old.rev > rev {
		return
	}
	if _, ok := c.m[f.ID]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[f.ID] = foldedFlow{flow: f, rev: rev}
}
