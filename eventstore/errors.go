package eventstore

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/skillflaw/skillflaw-go/domain"
)

// WrongExpectedVersionError reports a failed optimistic-concurrency check.
// It matches domain.ErrConflict, so the HTTP layer answers 409.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedVersion
	// Actual is the stream's current last revision; nil when the stream
	// has no events.
	Actual *uint64
}

func (e *WrongExpectedVersionError) Error() string {
	actual := "no stream"
	if e.Actual != nil {
		actual = "revision " + strconv.FormatUint(*e.Actual, 10)
	}
	return fmt.Sprintf("stream %s: expected %s, found %s", e.Stream, e.Expected, actual)
}

// Unwrap lets errors.Is(err, domain.ErrConflict) hold.
func (e *WrongExpectedVersionError) Unwrap() error { return domain.ErrConflict }

// DuplicateEventError reports an append whose event ids were stored before,
// but not as the same events of the same stream (so it is no retry).
type DuplicateEventError struct {
	Stream string
}

func (e *DuplicateEventError) Error() string {
	return "stream " + e.Stream + ": event ids already stored elsewhere in the log"
}

// Unwrap lets errors.Is(err, domain.ErrConflict) hold.
func (e *DuplicateEventError) Unwrap() error { return domain.ErrConflict }

// UnknownEventTypeError reports a stored event whose type the Registry does
// not know. Readers report it; they never skip the event silently.
type UnknownEventTypeError struct {
	Type     string
	Position Position
}

func (e *UnknownEventTypeError) Error() string {
	return fmt.Sprintf("unknown event type %q at position %s", e.Type, e.Position)
}

// ErrStreamDeleted reports an append to, or a read of, a stream that was
// deleted for good in the store (KurrentDB: tombstoned; SkillFlaw never
// deletes streams itself, so only an operator can cause it). It matches
// domain.ErrConflict: the request conflicts with the state of its target
// and no retry can succeed, which is what a 409 tells the client. It is
// not ErrNotFound, because the aggregate's read models may still show it,
// nor a WrongExpectedVersionError, because callers retry those on a fresh
// load.
var ErrStreamDeleted = fmt.Errorf("stream deleted: %w", domain.ErrConflict)

// ErrNotLeader reports a write (or a read that needs the leader) sent to a
// node of a cluster that is not its leader. It is transient: the KurrentDB
// client reconnects to the leader it was told about, so the same call
// retried a moment later normally succeeds. It matches no domain error
// kind (the HTTP layer answers 500); callers that can retry should.
var ErrNotLeader = errors.New("event store node is not the leader")

// ErrInvalidAppend is returned for appends the store refuses before trying:
// no events, an empty or reserved stream name, a zero event id.
var ErrInvalidAppend = errors.New("invalid append")

// ValidateAppend checks what every adapter refuses before writing.
func ValidateAppend(stream string, events []EventData) error {
	switch {
	case stream == "":
		return fmt.Errorf("%w: empty stream name", ErrInvalidAppend)
	case stream[0] == '$':
		return fmt.Errorf("%w: stream names starting with $ are reserved", ErrInvalidAppend)
	case len(events) == 0:
		return fmt.Errorf("%w: no events", ErrInvalidAppend)
	}
	seen := make(map[[16]byte]struct{}, len(events))
	for i, e := range events {
		switch {
		case e.ID == [16]byte{}:
			return fmt.Errorf("%w: event %d has no id", ErrInvalidAppend, i)
		case e.Type == "":
			return fmt.Errorf("%w: event %d has no type", ErrInvalidAppend, i)
		case e.SchemaVersion < 1:
			return fmt.Errorf("%w: event %d has schema version %d", ErrInvalidAppend, i, e.SchemaVersion)
		case len(e.Data) == 0:
			return fmt.Errorf("%w: event %d has no data", ErrInvalidAppend, i)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: event id %s appears twice", ErrInvalidAppend, e.ID)
		}
		seen[e.ID] = struct{}{}
	}
	return nil
}
