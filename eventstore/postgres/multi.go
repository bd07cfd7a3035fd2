package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// lockStreamsSQL takes a transaction-scoped advisory lock on each stream
// of a call (on the hash of its name, in the two-key space so that no
// single-key lock such as the migrations' can collide), all in one order:
// calls that write the same streams in different orders queue one behind
// the other instead of deadlocking on the streams rows. Taking it assigns
// no transaction id.
//
// $1 the names of the streams.
const lockStreamsSQL = `SELECT pg_advisory_xact_lock(` + lockClass + `, k)
FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest($1::text[]) AS s ORDER BY k) AS x`

// lockClass is the first key of the stream locks of lockStreamsSQL.
const lockClass = "1397113157"

// deadlockAttempts bounds how often AppendMulti runs a call again that
// PostgreSQL aborted as a deadlock victim, which the stream locks leave
// only for the rare cycles through another transaction that is inserting
// the same event id. Nothing of an aborted call was written, so running it
// again is safe.
const deadlockAttempts = 3

// AppendMulti implements eventstore.Store. The parts run as Append's
// statements, in call order, pipelined in one transaction (one round trip
// between BEGIN and COMMIT); a single part runs as Append does.
func (s *Store) AppendMulti(ctx context.Context, appends ...eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppendMulti(appends); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	parts := make([]part, len(appends))
	streams := make([]string, len(appends))
	for i, a := range appends {
		b, err := encode(a.Stream, a.Events, now)
		if err != nil {
			return nil, err
		}
		parts[i] = part{stream: a.Stream, expected: a.Expected, batch: b}
		streams[i] = a.Stream
	}
	for attempt := 1; ; attempt++ {
		results, failed, err := s.appendParts(ctx, parts, streams)
		switch {
		case err == nil:
			s.appended()
			return results, nil
		case isDeadlock(err) && attempt < deadlockAttempts && ctx.Err() == nil:
			continue
		case failed < 0:
			return nil, fmt.Errorf("append to %s: %w", strings.Join(streams, ", "), err)
		}
		return s.appendFailed(ctx, parts, failed, err)
	}
}

// appendParts writes all parts or none. When it fails, its transaction has
// ended, so the failure can be analysed on other connections; failed is
// the index of the part whose statement failed with err, or -1 when
// beginning or committing the transaction did.
func (s *Store) appendParts(ctx context.Context, parts []part, streams []string) (results []eventstore.AppendResult, failed int, err error) {
	if len(parts) == 1 {
		res, err := s.commit(ctx, parts[0])
		if err != nil {
			return nil, 0, err
		}
		return []eventstore.AppendResult{res}, 0, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, -1, err
	}
	results, failed, err = appendInTx(ctx, tx, parts, streams)
	if err != nil {
		// A failed rollback closes the connection, which ends the
		// transaction on the server all the same.
		_ = tx.Rollback(ctx)
		return nil, failed, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, -1, err
	}
	return results, 0, nil
}

// appendInTx sends the stream locks and the append statements of all
// parts in one batch and reads their results. Each statement moves its
// stream's row before it takes positions, and the transaction keeps the
// events-table lock of its first insert to its end, as the gap-safe reader
// requires.
func appendInTx(ctx context.Context, tx pgx.Tx, parts []part, streams []string) ([]eventstore.AppendResult, int, error) {
	b := &pgx.Batch{}
	b.Queue(lockStreamsSQL, streams)
	for _, p := range parts {
		sql, args := appendStatement(p.stream, p.expected, p.batch)
		b.Queue(sql, args...)
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close() //nolint:errcheck // after a failure its error is that of the aborted transaction
	if _, err := br.Exec(); err != nil {
		return nil, -1, err
	}
	results := make([]eventstore.AppendResult, len(parts))
	for i, p := range parts {
		rows, err := br.Query()
		if err == nil {
			results[i], err = appendResult(rows, len(p.ids))
		}
		if err != nil {
			return nil, i, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, -1, err
	}
	return results, 0, nil
}

// isDeadlock reports whether PostgreSQL aborted the transaction to break
// a deadlock.
func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}
