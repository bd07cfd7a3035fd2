package runs

import (
	"sync"

	"github.com/skillflaw/skillflaw-go/engine"
)

// FrozenCache keeps the results of frozen vertices in the memory of the
// process (Langflow's chat-service cache): a frozen vertex reuses its last
// result on this process, for the same user (Langflow's cache is shared
// by everyone who runs the flow; here one user never gets another's). It
// holds at most maxFrozen results; past that, an arbitrary one is
// forgotten (it is built again next time).
type FrozenCache struct {
	mu sync.Mutex
	m  map[frozenKey]*engine.VertexResult
}

type frozenKey struct {
	flow   string
	user   int64
	vertex string
}

const maxFrozen = 10000

// NewFrozenCache returns an empty cache.
func NewFrozenCache() *FrozenCache { return &FrozenCache{m: map[frozenKey]*engine.VertexResult{}} }

var _ engine.FrozenCache = (*FrozenCache)(nil)

// Get implements engine.FrozenCache.
func (c *FrozenCache) Get(run engine.RunInfo, vertexID string) (*engine.VertexResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[frozenKey{run.FlowID, run.UserID, vertexID}]
	return r, ok
}

// Put implements engine.FrozenCache.
func (c *FrozenCache) Put(run engine.RunInfo, vertexID string, r *engine.VertexResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxFrozen {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[frozenKey{run.FlowID, run.UserID, vertexID}] = r
}
