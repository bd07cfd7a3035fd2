package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// notifyChannel is the LISTEN/NOTIFY channel that announces new events.
const notifyChannel = "skillflaw_events"

// Options tune a Store; the zero value is usable.
type Options struct {
	// BatchSize is how many events Follow hands over at most per call
	// (default 1000).
	BatchSize int
	// PollInterval is the safety-net poll of a caught-up follower when no
	// notification arrives (default 2s).
	PollInterval time.Duration
	// Logger receives connection problems of the notification machinery.
	Logger *slog.Logger
}

// Store is the PostgreSQL event store.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

	// background goroutines (NOTIFY sender, LISTEN loop) live until Close.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgWG     sync.WaitGroup

	senderOnce   sync.Once
	listenerOnce sync.Once
	kick         chan struct{}

	mu       sync.Mutex
	watchers map[chan struct{}]struct{}

	group committer // concurrent appends commit together (group.go)
}

var _ eventstore.Store = (*Store)(nil)

// New returns a Store on a pool whose database has the event-store schema
// (see package migrations). Call Close when done.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Store{
		pool:     pool,
		opts:     opts,
		log:      opts.Logger,
		bgCtx:    ctx,
		bgCancel: cancel,
		kick:     make(chan struct{}, 1),
		watchers: make(map[chan struct{}]struct{}),
	}
}

// Close stops the notification goroutines. It does not close the pool.
func (s *Store) Close() {
	s.bgCancel()
	s.bgWG.Wait()
}

// reserveCTE checks the expected version and moves the stream's revision by
// $2 events, returning the new last revision in r (no row: the check
// failed). Exactly one of its two parts acts: u for "stream exists" (-3) and
// an exact revision (>= 0), i for "any" (-1, an upsert) and "no stream"
// (-2). Moving the streams row takes the transaction id before the outer
// INSERT allocates any position (the rows of r only exist once it has
// moved), which the gap-safe reader relies on: see the package comment.
//
// $1 stream, $2 number of events, $3 expected (-1 any, -2 no stream,
// -3 stream exists, >= 0 exact revision).
const reserveCTE = `WITH u AS (
    UPDATE streams SET version = version + $2
    WHERE stream_id = $1 AND $3::bigint NOT IN (-1, -2) AND ($3 = -3 OR version = $3)
    RETURNING version
), i AS (
    INSERT INTO streams AS s (stream_id, version) SELECT $1, $2 - 1 WHERE $3 IN (-1, -2)
    ON CONFLICT (stream_id) DO UPDATE SET version = s.version + $2 WHERE $3 = -1
    RETURNING s.version
), r AS (SELECT version FROM u UNION ALL SELECT version FROM i)
`

// appendOneSQL appends one event: $4 id, $5 type, $6 schema, $7 data, $8 metadata.
const appendOneSQL = reserveCTE + `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
SELECT $4::uuid, $1, r.version, $5::text, $6::integer, $7::jsonb, $8::jsonb, ($8::jsonb ->> 'tenant_id')::uuid FROM r
RETURNING stream_version, global_position`

// appendManySQL appends several events, given as arrays in the same order.
const appendManySQL = reserveCTE + `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
SELECT e.id, $1, r.version - $2 + e.ord, e.typ, e.sv, e.dat, e.meta, (e.meta ->> 'tenant_id')::uuid
FROM r, unnest($4::uuid[], $5::text[], $6::integer[], $7::jsonb[], $8::jsonb[]) WITH ORDINALITY AS e(id, typ, sv, dat, meta, ord)
ORDER BY e.ord
RETURNING stream_version, global_position`

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	b, err := encodeBatch(stream, events, time.Now().UTC())
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	p := part{stream: stream, expected: expected, batch: b}
	res, err := s.commit(ctx, p)
	if err != nil {
		prior, err := s.appendFailed(ctx, []part{p}, 0, err)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		res = prior[0]
	}
	s.appended()
	return res, nil
}

// batch is an append laid out column by column, as the append statements
// take it.
type batch struct {
	ids     []uuid.UUID
	types   []string
	schemas []int32
	data    []json.RawMessage
	metas   []json.RawMessage
}

// part is one stream's share of an append call.
type part struct {
	stream   string
	expected eventstore.ExpectedVersion
	batch
}

// encodeBatch validates events and lays them out as a batch.
func encodeBatch(stream string, events []eventstore.EventData, now time.Time) (batch, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return batch{}, err
	}
	return encode(stream, events, now)
}

// encode lays validated events out as a batch. Metadata without an
// occurrence time gets now.
func encode(stream string, events []eventstore.EventData, now time.Time) (batch, error) {
	n := len(events)
	b := batch{
		ids: make([]uuid.UUID, n), types: make([]string, n), schemas: make([]int32, n),
		data: make([]json.RawMessage, n), metas: make([]json.RawMessage, n),
	}
	for i, e := range events {
		if !json.Valid(e.Data) {
			return batch{}, fmt.Errorf("%w: event %d data is not valid JSON", eventstore.ErrInvalidAppend, i)
		}
		md := e.Metadata
		if md.OccurredAt.IsZero() {
			md.OccurredAt = now
		}
		// Microseconds, as PostgreSQL keeps timestamps: a time read back from
		// a read model equals the one in the event.
		md.OccurredAt = md.OccurredAt.UTC().Truncate(time.Microsecond)
		m, err := json.Marshal(md)
		if err != nil {
			return batch{}, fmt.Errorf("append to %s: metadata: %w", stream, err)
		}
		b.ids[i], b.types[i], b.schemas[i], b.data[i], b.metas[i] = e.ID, e.Type, int32(e.SchemaVersion), e.Data, m
	}
	return b, nil
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// appendWith runs the append on q. It returns the bare cause of a failure
// (errWrongVersion when the version check let no row through), which
// appendFailed explains; a caller that owns a transaction ends it first.
// Followers are not woken: callers call s.appended after their commit.
func (s *Store) appendWith(ctx context.Context, q querier, stream string, expected eventstore.ExpectedVersion, b batch) (eventstore.AppendResult, error) {
	sql, args := appendStatement(stream, expected, b)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return appendResult(rows, len(b.ids))
}

// appendStatement returns the statement that appends b to stream, and its
// arguments.
func appendStatement(stream string, expected eventstore.ExpectedVersion, b batch) (string, []any) {
	n := len(b.ids)
	if n == 1 {
		return appendOneSQL, []any{stream, n, encodeExpected(expected), b.ids[0], b.types[0], b.schemas[0], b.data[0], b.metas[0]}
	}
	return appendManySQL, []any{stream, n, encodeExpected(expected), b.ids, b.types, b.schemas, b.data, b.metas}
}

// appendResult reads the rows of an append statement of n events.
func appendResult(rows pgx.Rows, n int) (eventstore.AppendResult, error) {
	res := eventstore.AppendResult{Positions: make([]eventstore.Position, 0, n)}
	var version, position int64
	_, err := pgx.ForEachRow(rows, []any{&version, &position}, func() error {
		res.NextExpectedVersion = max(res.NextExpectedVersion, uint64(version))
		res.Positions = append(res.Positions, eventstore.At(uint64(position)))
		return nil
	})
	if err == nil && len(res.Positions) == 0 {
		err = errWrongVersion
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	slices.SortFunc(res.Positions, func(a, b eventstore.Position) int { return cmp.Compare(a.Commit, b.Commit) })
	return res, nil
}

// errWrongVersion marks an append whose version check let no row through.
var errWrongVersion = errors.New("wrong expected version")

// appendFailed turns the failure of an append call into the stored results
// of an earlier identical call (an idempotent retry) or into a typed error.
// parts[failed] is the part whose statement failed with cause. It reads
// through s.pool: a caller that ran the call in a transaction must have
// ended it.
func (s *Store) appendFailed(ctx context.Context, parts []part, failed int, cause error) ([]eventstore.AppendResult, error) {
	stream := parts[failed].stream
	var pgErr *pgconn.PgError
	duplicateID := errors.As(cause, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_event_id_key"
	if !duplicateID && !errors.Is(cause, errWrongVersion) {
		return nil, fmt.Errorf("append to %s: %w", stream, cause)
	}
	prior, found, err := s.lookupAppend(ctx, parts)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", stream, err)
	}
	if found {
		return prior, nil
	}
	if duplicateID {
		return nil, &eventstore.DuplicateEventError{Stream: stream}
	}
	wrong := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: parts[failed].expected}
	var actual int64
	switch err := s.pool.QueryRow(ctx, `SELECT version FROM streams WHERE stream_id = $1`, stream).Scan(&actual); {
	case err == nil:
		v := uint64(actual)
		wrong.Actual = &v
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("append to %s: read current version: %w", stream, err)
	}
	return nil, wrong
}

// lookupAppend finds events already stored under the ids of parts; found
// is true when all of them are stored as the call would have stored them:
// each part's consecutively and in order in its stream, all positions in
// the order of the call.
func (s *Store) lookupAppend(ctx context.Context, parts []part) ([]eventstore.AppendResult, bool, error) {
	var ids []uuid.UUID
	for _, p := range parts {
		ids = append(ids, p.ids...)
	}
	rows, err := s.pool.Query(ctx,
		`SELECT event_id, stream_id, stream_version, global_position FROM events WHERE event_id = ANY($1)`, ids)
	if err != nil {
		return nil, false, fmt.Errorf("look up retried events: %w", err)
	}
	type stored struct {
		stream            string
		version, position int64
	}
	byID := make(map[uuid.UUID]stored, len(ids))
	var (
		id  uuid.UUID
		row stored
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &row.stream, &row.version, &row.position}, func() error {
		byID[id] = row
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("look up retried events: %w", err)
	}
	if len(byID) != len(ids) {
		return nil, false, nil
	}
	results := make([]eventstore.AppendResult, len(parts))
	var last int64 // positions start at 1
	for k, p := range parts {
		res := eventstore.AppendResult{Positions: make([]eventstore.Position, len(p.ids))}
		first := byID[p.ids[0]]
		for i, id := range p.ids {
			r := byID[id]
			if r.stream != p.stream || r.version != first.version+int64(i) || r.position <= last {
				return nil, false, nil
			}
			last = r.position
			res.Positions[i] = eventstore.At(uint64(r.position))
			res.NextExpectedVersion = uint64(r.version)
		}
		results[k] = res
	}
	return results, true, nil
}

func encodeExpected(e eventstore.ExpectedVersion) int64 {
	switch {
	case e.IsNoStream():
		return -2
	case e.IsStreamExists():
		return -3
	}
	if rev, ok := e.Revision(); ok {
		return clampRevision(rev)
	}
	return -1
}

const eventColumns = `global_position, event_id, stream_id, stream_version, event_type, schema_version, data, metadata, recorded_at`

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to uint64) ([]eventstore.RecordedEvent, error) {
	if from > to {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx,
		`SELECT `+eventColumns+` FROM events WHERE stream_id = $1 AND stream_version BETWEEN $2 AND $3 ORDER BY stream_version`,
		stream, clampRevision(from), clampRevision(to))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	out, err := collectEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return out, nil
}

func clampRevision(r uint64) int64 {
	if r > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(r)
}

// collectEvents reads rows of eventColumns, each preceded by the columns
// that lead scans into (the same for every row).
func collectEvents(rows pgx.Rows) ([]eventstore.RecordedEvent, error) {
	var (
		out      []eventstore.RecordedEvent
		rec      eventstore.RecordedEvent
		meta     []byte
		pos, ver int64
		schema   int32
	)
	// Data as bytes: pgx would parse a json.RawMessage destination as JSON.
	dest := []any{&pos, &rec.ID, &rec.StreamID, &ver, &rec.Type, &schema, (*[]byte)(&rec.Data), &meta, &rec.RecordedAt}
	_, err := pgx.ForEachRow(rows, dest, func() error {
		e, err := finishRecord(rec, pos, ver, schema, meta)
		out = append(out, e)
		return err
	})
	return out, err
}

// finishRecord completes a scanned row. Scanned byte slices are copied
// because pgx reuses its buffers between rows.
func finishRecord(rec eventstore.RecordedEvent, pos, ver int64, schema int32, meta []byte) (eventstore.RecordedEvent, error) {
	rec.Position = eventstore.At(uint64(pos))
	rec.StreamVersion = uint64(ver)
	rec.SchemaVersion = int(schema)
	rec.Data = append(json.RawMessage(nil), rec.Data...)
	rec.RecordedAt = rec.RecordedAt.UTC()
	if err := json.Unmarshal(meta, &rec.Metadata); err != nil {
		return rec, fmt.Errorf("metadata of event at %d: %w", pos, err)
	}
	return rec, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	var head int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(global_position), 0) FROM events`).Scan(&head); err != nil {
		return eventstore.Position{}, fmt.Errorf("head of the log: %w", err)
	}
	return eventstore.At(uint64(head)), nil
}
