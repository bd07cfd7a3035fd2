package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/logcopy"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// migrate-log --to postgres copies the log to a second database (migrated
// by the command), prints both counts and checksums, equal; a second run
// and --verify-only find it complete; a tampered target fails the verify.
func TestCLI_MigrateLogToPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sourceURL, targetURL := testkit.DatabaseURL(t), emptyDatabase(t)
	sourcePool, err := pgxpool.New(ctx, sourceURL)
	require.NoError(t, err)
	t.Cleanup(sourcePool.Close)
	source := postgres.New(sourcePool, postgres.Options{})
	t.Cleanup(source.Close)
	const events = 120
	for i := range events {
		stream := fmt.Sprintf("user-%d", i%7)
		_, err := source.Append(ctx, stream, eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "user.touched",
			SchemaVersion: 1, Data: []byte(fmt.Sprintf(`{"i": %d}`, i)),
			Metadata: eventstore.Metadata{ActorUserID: int64(i), CorrelationID: "req", OccurredAt: time.Now().UTC()}})
		require.NoError(t, err)
	}

	c := newCLI(t, sourceURL)
	out, stderr, err := c.run(ctx, "migrate-log", "--to", "postgres", "--target-url", targetURL, "--batch", "16")
	require.NoError(t, err, stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr)
	assert.Contains(t, out, fmt.Sprintf("migrate-log: copied %d events in ", events))
	assert.Regexp(t, fmt.Sprintf(`migrate-log: %d/%d events \(100\.0%%\), \d+ events/s, ETA 0s`, events, events), stderr)
	sums := regexp.MustCompile(`(?m)^source: (\d+) events, sha256 ([0-9a-f]{64})\ntarget: (\d+) events, sha256 ([0-9a-f]{64})\n`).FindStringSubmatch(out)
	require.NotNil(t, sums, out)
	assert.Equal(t, fmt.Sprint(events), sums[1])
	assert.Equal(t, sums[1], sums[3])
	assert.Equal(t, sums[2], sums[4])
	assert.Contains(t, out, "the logs are equal")
	assert.NotContains(t, out, "read models:", "a copy to PostgreSQL leaves the source's read models alone")

	out, _, err = c.run(ctx, "migrate-log", "--to", "postgres", "--target-url", targetURL)
	require.NoError(t, err)
	assert.Contains(t, out, "migrate-log: resumed after source position")
	assert.Contains(t, out, "migrate-log: copied 0 events")
	assert.Contains(t, out, "sha256 "+sums[2])

	targetPool, err := pgxpool.New(ctx, targetURL)
	require.NoError(t, err)
	t.Cleanup(targetPool.Close)
	var victim uuid.UUID
	var pos int64
	require.NoError(t, targetPool.QueryRow(ctx, `UPDATE events SET data = '{"i": -1}' WHERE global_position = (SELECT min(global_position) + 10 FROM events)
RETURNING event_id, global_position`).Scan(&victim, &pos))
	out, _, err = c.run(ctx, "migrate-log", "--to", "postgres", "--target-url", targetURL, "--verify-only")
	require.ErrorIs(t, err, logcopy.ErrMismatch)
	assert.NotErrorIs(t, err, errUsage)
	assert.NotContains(t, out, "copied")
	assert.Contains(t, out, "source: 120 events, sha256 "+sums[2])
	assert.NotContains(t, out, "target: 120 events, sha256 "+sums[2])
	assert.Contains(t, err.Error(), fmt.Sprintf("first difference: event #11 (data): source position %d id %s, target position %d id %s",
		11, victim, pos, victim))

	// A copy onto that target is refused: it is no longer a prefix.
	_, _, err = c.run(ctx, "migrate-log", "--to", "postgres", "--target-url", targetURL)
	require.ErrorIs(t, err, logcopy.ErrNotPrefix)
	assert.Contains(t, err.Error(), "event #11 differs (data)")
}

func TestCLI_MigrateLogRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t, "postgres://u@127.0.0.1:1/none")
	for _, args := range [][]string{{}, {"--to", "mongodb"}, {"--to"}, {"--to", "postgres", "extra"},
		{"--to", "postgres", "--batch", "0"}, {"--to", "kurrentdb", "--verify"}} {
		_, _, err := c.run(ctx, append([]string{"migrate-log"}, args...)...)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}

	_, _, err := c.run(ctx, "migrate-log", "--to", "kurrentdb")
	require.EqualError(t, err, "migrate-log --to kurrentdb needs the KurrentDB connection string: set SKILLFLAW_KURRENTDB_URL or pass --target-url")
	_, _, err = c.run(ctx, "migrate-log", "--to", "postgres")
	require.EqualError(t, err, "migrate-log --to postgres needs --target-url: the PostgreSQL database to copy the log to")
	_, _, err = c.run(ctx, "migrate-log", "--to", "kurrentdb", "--target-url", "http://admin:s3cret@kdb:2113")
	require.ErrorContains(t, err, `scheme "http" is not one of kurrentdb://`)
	assert.NotContains(t, err.Error(), "s3cret")

	c.env["SKILLFLAW_DATABASE_URL"] = ""
	_, _, err = c.run(ctx, "migrate-log", "--to", "kurrentdb")
	require.ErrorContains(t, err, "SKILLFLAW_DATABASE_URL is not set")

	// The source itself as the target, by another spelling.
	url := testkit.DatabaseURL(t)
	c.env["SKILLFLAW_DATABASE_URL"] = url
	_, _, err = c.run(ctx, "migrate-log", "--to", "postgres", "--target-url", url+"&application_name=x")
	require.ErrorContains(t, err, "is the source database itself")
}

func TestCopyProgressLine(t *testing.T) {
	t.Parallel()
	p := logcopy.Progress{Copied: 300, Total: 1000}
	assert.Equal(t, "migrate-log: 300/1000 events (30.0%), 100 events/s, ETA 7s", copyProgressLine(p, 200, 2*time.Second))
	p.Total = -1
	assert.Equal(t, "migrate-log: 300 events, 100 events/s", copyProgressLine(p, 200, 2*time.Second))
}
