package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/projections"
)

// HoldLeases takes the leases of the named projections in the database at
// url, as a process that stopped working would hold them: no runtime runs
// those projectors until release (or the test's end) lets go. It waits
// while another session holds one.
func HoldLeases(t testing.TB, url string, names ...string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("hold leases: %v", err)
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, projections.LeaseNamespace, n); err != nil {
			conn.Close(context.Background()) //nolint:errcheck // failing anyway
			t.Fatalf("hold lease of %s: %v", n, err)
		}
	}
	var done bool
	release = func() {
		if !done {
			done = true
			conn.Close(context.Background()) //nolint:errcheck // the locks go with the session
		}
	}
	t.Cleanup(release)
	return release
}
