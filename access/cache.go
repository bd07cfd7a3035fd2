package access

import (
	"sync"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// maxCached bounds a Cache: past it, the answers of the current position
// are dropped and gathered again.
const maxCached = 100_000

// Cache keeps a Checker's answers for as long as the access read model, as
// this process's projections runtime knows it, stays at one position of
// the log: every answer is tagged with the position read before it was
// computed, and a new position empties the cache. The runtime follows the
// projection wherever it runs (the process holding its lease publishes its
// progress to the others), so a grant moves the position in every
// process: a grant waits for the projection before it answers, and a
// request with X-Min-Position waits for it before it is authorised.
// Without a running runtime (position unknown) nothing is cached.
type Cache struct {
	position func() (eventstore.Position, bool)

	mu    sync.Mutex
	at    eventstore.Position
	items map[cacheKey]any
}

type cacheKey struct {
	kind         byte
	uid          int64
	tenant       [16]byte
	business     int64
	module, priv string
}

// NewCache returns a cache following position: the access projection's
// position in this process, ok false when it is not known (the runtime is
// not running).
func NewCache(position func() (eventstore.Position, bool)) *Cache {
	return &Cache{position: position, items: map[cacheKey]any{}}
}

// get returns the cached answer of k and the position a new answer is to
// be tagged with; cacheable is false when nothing may be cached.
func (c *Cache) get(k cacheKey) (v any, hit bool, at eventstore.Position, cacheable bool) {
	if c == nil {
		return nil, false, at, false
	}
	at, cacheable = c.position()
	if !cacheable {
		return nil, false, at, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at != at {
		return nil, false, at, true
	}
	v, hit = c.items[k]
	return v, hit, at, true
}

// put caches v as k's answer computed at position at (ignored when the
// cache has moved past at meanwhile).
func (c *Cache) put(k cacheKey, at eventstore.Position, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case at.Less(c.at):
		return
	case c.at != at || len(c.items) >= maxCached:
		c.at, c.items = at, map[cacheKey]any{}
	}
	c.items[k] = v
}

// cached answers k from c, else computes it with read (and caches it).
func cached[T any](c *Cache, k cacheKey, read func() (T, error)) (T, error) {
	v, hit, at, cacheable := c.get(k)
	if hit {
		return v.(T), nil
	}
	out, err := read()
	if err == nil && cacheable {
		c.put(k, at, out)
	}
	return out, err
}
