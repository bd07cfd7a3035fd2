package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store is the port every event-store adapter implements.
//
// Stream revisions are 0-based and unsigned, as KurrentDB numbers them: the
// first event of a stream has revision 0. Positions order the global log.
type Store interface {
	// Append writes events to the end of a stream atomically, after checking
	// the stream's current revision against expected. A mismatch returns a
	// *WrongExpectedVersionError (errors.Is(err, domain.ErrConflict)).
	// Appending events whose ids are already stored, in the same stream and
	// order, returns the original result and writes nothing (idempotent retry).
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)

	// AppendMulti appends to several streams atomically: every stream's
	// expected version is checked and either all events are written or none.
	// The results are in the order of appends, and so are the positions:
	// those of appends[0]'s events, in order, come before those of
	// appends[1]'s, and so on. A mismatch on any stream returns a
	// *WrongExpectedVersionError naming that stream (errors.Is(err,
	// domain.ErrConflict)) and writes nothing. No appends, the same stream
	// twice, an invalid part (see ValidateAppend) or an event id repeated
	// across streams is refused with ErrInvalidAppend (see
	// ValidateAppendMulti). A call whose event ids are all stored already,
	// exactly as this call would have stored them (same streams, consecutive
	// and in the same order), returns the original results and writes
	// nothing (idempotent retry); ids stored otherwise return a
	// *DuplicateEventError.
	AppendMulti(ctx context.Context, appends ...StreamAppend) ([]AppendResult, error)

	// ReadStream returns the events of one stream with from <= revision <= to,
	// in revision order. A stream that does not exist yields no events and no
	// error; use MaxRevision as to for "up to the end".
	ReadStream(ctx context.Context, stream string, from, to uint64) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of the global log after the given
	// position, in position order. It never returns an event while an
	// earlier one may still commit: a reader that continues from the last
	// event it got misses nothing. It may return fewer than limit events (or
	// none) while such an earlier event is in flight.
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// Follow calls handle with every event after the given position, in
	// batches and in position order, waiting for new events when it has
	// caught up. It returns when ctx ends (with ctx.Err()) or when handle
	// returns an error (that error).
	Follow(ctx context.Context, after Position, handle func(ctx context.Context, batch []RecordedEvent) error) error

	// Head returns the position of the newest committed event (the zero
	// Position when the log is empty).
	Head(ctx context.Context) (Position, error)
}

// MaxRevision is the largest stream revision, for open-ended ReadStream calls.
const MaxRevision = ^uint64(0)

// Position is a point in the global log. PostgreSQL positions are a single
// sequence, so Commit and Prepare are equal; KurrentDB positions are its
// transaction-log commit/prepare pair. The zero Position is "before the first
// event".
type Position struct {
	Commit  uint64
	Prepare uint64
}

// At returns the Position of a single-number log (PostgreSQL).
func At(n uint64) Position { return Position{Commit: n, Prepare: n} }

// Less reports whether p comes before q in the log.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p.Commit == 0 && p.Prepare == 0 }

// String renders "N" when both parts are equal and "C/P" otherwise; it is
// the form of the X-Event-Position and X-Min-Position headers.
func (p Position) String() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the form String writes.
func ParsePosition(s string) (Position, error) {
	c, p, pair := strings.Cut(strings.TrimSpace(s), "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: not a non-negative integer", s)
	}
	if !pair {
		return At(commit), nil
	}
	prepare, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: prepare part is not a non-negative integer", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// ExpectedVersion is the optimistic-concurrency check of an append.
type ExpectedVersion struct {
	kind     expectedKind
	revision uint64
}

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// Any appends whatever the stream's state.
func Any() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream appends only if the stream has no events yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// StreamExists appends only if the stream has at least one event.
func StreamExists() ExpectedVersion { return ExpectedVersion{kind: expectStreamExists} }

// Exact appends only if the stream's last event has this revision.
func Exact(revision uint64) ExpectedVersion {
	return ExpectedVersion{kind: expectExact, revision: revision}
}

// Revision returns the revision of an Exact expectation.
func (e ExpectedVersion) Revision() (uint64, bool) { return e.revision, e.kind == expectExact }

// IsAny, IsNoStream and IsStreamExists tell the other kinds apart.
func (e ExpectedVersion) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedVersion) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == expectStreamExists }

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return "revision " + strconv.FormatUint(e.revision, 10)
	default:
		return "any"
	}
}

// EventData is an event to append.
type EventData struct {
	// ID identifies the event; a retried append with the same ids is a no-op.
	ID uuid.UUID
	// Type is the stable type name ("tally.incremented").
	Type string
	// SchemaVersion is the version of Data's shape, from 1.
	SchemaVersion int
	// Data is the JSON payload.
	Data json.RawMessage
	// Metadata says who, where, when and why.
	Metadata Metadata
}

// Metadata travels with every event. Audit fields of the API (c_uid, ctime,
// creator_name …) come from here and from nowhere else.
type Metadata struct {
	// ActorUserID is the integer id of the user who caused the event; 0 for
	// the system.
	ActorUserID int64 `json:"actor_user_id,omitempty"`
	// TenantID is the tenant the event belongs to (zero UUID: none).
	TenantID uuid.UUID `json:"tenant_id,omitzero"`
	// BusinessID is the business the event belongs to (0: none).
	BusinessID int64 `json:"business_id,omitempty"`
	// CorrelationID ties together every event caused by one request.
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID names the event or command that caused this one.
	CausationID string `json:"causation_id,omitempty"`
	// ClientIP is the address of the client of the request.
	ClientIP string `json:"client_ip,omitempty"`
	// OccurredAt is when the change happened, in UTC.
	OccurredAt time.Time `json:"occurred_at"`
}

// RecordedEvent is an event as the log stores it.
type RecordedEvent struct {
	ID            uuid.UUID
	StreamID      string
	StreamVersion uint64
	Position      Position
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
}

// StreamAppend is one stream's part of an AppendMulti call.
type StreamAppend struct {
	Stream   string
	Expected ExpectedVersion
	Events   []EventData
}

// ValidateAppendMulti checks what every adapter refuses in an AppendMulti
// call before writing: no appends, a stream named twice, a part that
// ValidateAppend refuses, an event id used in more than one part.
func ValidateAppendMulti(appends []StreamAppend) error {
	if len(appends) == 0 {
		return fmt.Errorf("%w: no appends", ErrInvalidAppend)
	}
	streams := make(map[string]struct{}, len(appends))
	ids := make(map[[16]byte]string)
	for _, a := range appends {
		if _, dup := streams[a.Stream]; dup {
			return fmt.Errorf("%w: stream %s appears twice", ErrInvalidAppend, a.Stream)
		}
		streams[a.Stream] = struct{}{}
		if err := ValidateAppend(a.Stream, a.Events); err != nil {
			return fmt.Errorf("stream %s: %w", a.Stream, err)
		}
		for _, e := range a.Events {
			if other, dup := ids[e.ID]; dup {
				return fmt.Errorf("%w: event id %s appears in streams %s and %s", ErrInvalidAppend, e.ID, other, a.Stream)
			}
			ids[e.ID] = a.Stream
		}
	}
	return nil
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// NextExpectedVersion is the revision of the stream's last event now.
	NextExpectedVersion uint64
	// Positions holds the global position of each appended event, in order.
	Positions []Position
}

// Last returns the position of the last appended event.
func (r AppendResult) Last() Position {
	if len(r.Positions) == 0 {
		return Position{}
	}
	return r.Positions[len(r.Positions)-1]
}

// TypeReader is the optional part of a Store that reads the log by event
// type. A rebuild uses it so that a projection reads only the events it
// handles instead of the whole log. PostgreSQL answers from an index on
// (event_type, global_position); KurrentDB filters $all by event type on
// the server.
type TypeReader interface {
	// SettledHead returns the head of the log once every append that was
	// in flight when it was called has ended: no event can appear at or
	// below it later, so reads up to it need no gap checks.
	SettledHead(ctx context.Context) (Position, error)

	// ReadTypes returns the events whose type is one of types with
	// after < position <= through, in position order, and the position up
	// to which it looked: every such event up to reached is returned, and
	// reached == through when there is nothing more. It returns at most
	// about limit events per call; through must not pass a SettledHead.
	ReadTypes(ctx context.Context, after, through Position, types []string, limit int) (events []RecordedEvent, reached Position, err error)

	// CountTypes counts the events with after < position <= through, per
	// type.
	CountTypes(ctx context.Context, after, through Position) (map[string]int64, error)
}
