package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThrottlePolicy_BackOff(t *testing.T) {
	t.Parallel()
	p := ThrottlePolicy{MaxFailures: 3, Lockout: time.Minute, MaxLockout: 15 * time.Minute}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var st throttleState
	// attempt is one login: checked, compared, settled.
	attempt := func(o Outcome) (wait, lockout time.Duration) {
		t.Helper()
		if wait = st.wait(now); wait > 0 {
			return wait, 0
		}
		st, wait, lockout = p.settle(st, o, now)
		require.Zero(t, wait, "nothing else ran meanwhile")
		return 0, lockout
	}

	for i := range 2 {
		wait, lockout := attempt(Failed)
		require.Zero(t, wait, "failure %d is answered", i+1)
		require.Zero(t, lockout)
	}
	wait, lockout := attempt(Failed)
	require.Zero(t, wait)
	assert.Equal(t, time.Minute, lockout, "the third failure locks the address out for a minute")
	wait, _ = attempt(Passed)
	assert.Equal(t, time.Minute, wait, "even the right password waits")
	now = now.Add(59 * time.Second)
	wait, _ = attempt(Passed)
	assert.Equal(t, time.Second, wait)

	// Each failure after a lockout starts one twice as long, up to the cap.
	for _, want := range []time.Duration{2, 4, 8, 15, 15} {
		now = st.lockedUntil
		wait, lockout := attempt(Failed)
		require.Zero(t, wait, "answered when the lockout ends")
		assert.Equal(t, want*time.Minute, lockout)
	}
	now = st.lockedUntil
	wait, _ = attempt(Passed)
	require.Zero(t, wait)
	assert.Equal(t, throttleState{}, st, "a success forgets everything")

	// A day without failures forgets them too.
	attempt(Failed)
	attempt(Failed)
	now = now.Add(forgetFailures)
	attempt(Failed)
	assert.Equal(t, 1, st.failures)
	assert.Zero(t, st.lockedUntil)

	// Unchecked attempts (server errors) count nothing.
	before := st
	st, _, _ = p.settle(st, Unchecked, now)
	assert.Equal(t, before, st)
}

// Parallel guesses get no more answers than sequential ones: all pass the
// check at once, but those settled after the lockout are refused.
func TestThrottlePolicy_ParallelGuesses(t *testing.T) {
	t.Parallel()
	p := ThrottlePolicy{MaxFailures: 3, Lockout: time.Minute, MaxLockout: time.Hour}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var st throttleState
	for range 10 {
		require.Zero(t, st.wait(now), "checked before any settled")
	}
	answered := 0
	for i := range 10 {
		o := Failed
		if i == 7 {
			o = Passed // the right guess, settled late
		}
		var wait time.Duration
		if st, wait, _ = p.settle(st, o, now); wait == 0 {
			answered++
		}
	}
	assert.Equal(t, 3, answered)
	assert.Equal(t, 3, st.failures, "refused outcomes are not counted")
	assert.Equal(t, now.Add(time.Minute), st.lockedUntil, "nor told, the right one included")
}

func TestThrottleAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"":                     "",
		"not-an-address":       "not-an-address",
	} {
		assert.Equal(t, want, throttleAddress(in), in)
	}
}
