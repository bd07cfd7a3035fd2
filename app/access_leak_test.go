package app_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAccessLeak: with tenant A full of data (flows placed in A, a
// business tree, orgs and members, user groups and members, role grants,
// templates, the audit events of all of it), the tenant admin of B calls
// every GET route (public ones too) naming tenant B, naming tenant A, and
// naming none, with A's ids in the path; no 2xx answer may contain a name
// or uuid of A's objects (every name carries A's unique marker). As a
// control, the superuser's answers to the same requests naming A must
// show A's data on many routes (the markers are findable).
func TestAccessLeak(t *testing.T) {
	t.Parallel()
	w := accStart(t, options{})
	accSetup(t, w)
	ops := accOps(t, w)
	require.NotEmpty(t, w.markers)
	leaks := func(raw string) []string {
		var found []string
		for _, m := range append([]string{w.mark}, w.markers...) {
			if strings.Contains(raw, m) {
				found = append(found, m)
			}
		}
		return found
	}
	member := w.users[accMemberB]
	var gets []accOp
	for _, op := range ops {
		if op.method == http.MethodGet && op.path != "/openapi.json" {
			gets = append(gets, op)
		}
	}
	var visible atomic.Int64
	accEach(t, gets, func(t *testing.T, op accOp) {
		c := accCase{op: op, variant: "A", who: accMemberB}
		ids := w.accPathIDs(c)
		for _, mode := range []struct{ name, tenant string }{{"B", w.B}, {"A", w.A}, {"none", ""}} {
			r := w.accSend(t, accBuild(op, member.token, ids, mode.tenant, w.accCaseQuery(c), nil))
			assert.Less(t, r.status, 500, "%s naming %s: %s", op.key(), mode.name, r.raw)
			if r.status/100 == 2 {
				assert.Empty(t, leaks(r.raw), "%s as the member of B naming %s: %d %s", op.key(), mode.name, r.status, r.raw)
			}
		}
		r := w.accSend(t, accBuild(op, w.users[accSuper].token, ids, w.A, w.accCaseQuery(c), nil))
		if r.status/100 == 2 && len(leaks(r.raw)) > 0 {
			visible.Add(1)
		}
	})
	t.Logf("access leak: %d GET routes x 3 tenant namings as the member of B; %d of them show A's data to the superuser", len(gets), visible.Load())
	assert.GreaterOrEqual(t, visible.Load(), int64(15), "the control: A's markers are visible to the superuser")
}
