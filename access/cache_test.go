package access

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The cache answers from memory while the access projection stays at one
// position, asks again once it moved, and caches nothing without one.
func TestCache_FollowsTheProjectionsPosition(t *testing.T) {
	t.Parallel()
	pos, known := eventstore.At(5), true
	c := NewCache(func() (eventstore.Position, bool) { return pos, known })
	reads := 0
	read := func(v int) func() (int, error) {
		return func() (int, error) { reads++; return v, nil }
	}
	k := cacheKey{kind: 's', uid: 1, module: "flows", priv: "read"}

	v, err := cached(c, k, read(1))
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	v, _ = cached(c, k, read(2))
	assert.Equal(t, 1, v, "same position: from memory")
	assert.Equal(t, 1, reads)

	pos = eventstore.At(6) // a grant was projected
	v, _ = cached(c, k, read(3))
	assert.Equal(t, 3, v, "the position moved: asked again")
	other := cacheKey{kind: 's', uid: 2, module: "flows", priv: "read"}
	c.put(other, eventstore.At(5), 9) // computed before the move: dropped
	v, _ = cached(c, other, read(4))
	assert.Equal(t, 4, v)

	known = false // the runtime is not running: nothing is cached
	_, _ = cached(c, k, read(5))
	v, _ = cached(c, k, read(6))
	assert.Equal(t, 6, v)

	known = true
	_, err = cached(c, cacheKey{kind: 'x'}, func() (int, error) { return 0, errors.New("down") })
	require.Error(t, err)
	v, _ = cached(c, cacheKey{kind: 'x'}, read(7))
	assert.Equal(t, 7, v, "errors are not cached")

	var none *Cache
	v, _ = cached(none, k, read(8))
	assert.Equal(t, 8, v, "a Checker without a cache asks every time")
}
