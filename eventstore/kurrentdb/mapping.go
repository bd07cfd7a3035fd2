package kurrentdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// streamState maps the port's expected version to the client's.
func streamState(e eventstore.ExpectedVersion) kdb.StreamState {
	switch {
	case e.IsNoStream():
		return kdb.NoStream{}
	case e.IsStreamExists():
		return kdb.StreamExists{}
	}
	if r, ok := e.Revision(); ok {
		return kdb.Revision(r)
	}
	return kdb.Any{}
}

// allFrom is where a read or subscription of $all starts for "after p":
// the start of the log for the zero Position, else p itself. A $all read
// from p includes the event at p and a subscription from p does not; the
// readers drop every event at or before p (see after), so both give
// "strictly after p".
func allFrom(p eventstore.Position) kdb.AllPosition {
	if p.IsZero() {
		return kdb.Start{}
	}
	return kdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// allFromEnd is where a backwards read of $all starts: the end for the
// zero Position, else p (included: the readers drop it).
func allFromEnd(p eventstore.Position) kdb.AllPosition {
	if p.IsZero() {
		return kdb.End{}
	}
	return kdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// unknownPosition reports a position that a read did not carry: the
// server sends -1 for "no position", which the client reads as the largest
// uint64. Appends then take their events' positions from $all.
func unknownPosition(p eventstore.Position) bool {
	return p.Commit == math.MaxUint64 || p.Prepare == math.MaxUint64
}

// position maps a client position to the port's (the same pair).
func position(p kdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// after reports whether an event at p comes strictly after cursor.
func after(p, cursor eventstore.Position) bool { return cursor.Less(p) }

// names puts the store's prefix on stream names and takes it off again.
type names struct{ prefix string }

// full is the name a stream has in KurrentDB.
func (n names) full(stream string) string { return n.prefix + stream }

// local is the port's name of a KurrentDB stream, and whether the stream is
// one of this store's.
func (n names) local(stream string) (string, bool) {
	if !strings.HasPrefix(stream, n.prefix) {
		return "", false
	}
	return stream[len(n.prefix):], true
}

// visible reports whether an event of $all reaches callers: not a system
// event (KurrentDB's own records have $-prefixed types or live in
// $-prefixed streams: $epoch-information, $metadata, $streamDeleted,
// projection links …) and in a stream of this store's prefix.
func (n names) visible(stream, eventType string) bool {
	if strings.HasPrefix(eventType, "$") || strings.HasPrefix(stream, "$") {
		return false
	}
	local, ok := n.local(stream)
	return ok && local != "" && !strings.HasPrefix(local, "$")
}

// filter is the server-side filter of Follow's subscription: the prefix
// when there is one (a prefix never starts with $, so it also keeps system
// streams out), else every stream whose name does not start with $.
// visible still runs on what arrives (system event types in user streams,
// such as $streamDeleted, pass a stream filter).
func (n names) filter() *kdb.SubscriptionFilter {
	if n.prefix != "" {
		return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: []string{n.prefix}}
	}
	return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Regex: `^[^$]`}
}

// Metadata keys of a stored event. Values are strings because
// MultiStreamAppend and AppendRecords accept only a JSON object of string
// values; single appends use the same form so that every event reads back
// alike.
const (
	keyActor         = "actor_user_id"
	keyTenant        = "tenant_id"
	keyBusiness      = "business_id"
	keyCorrelation   = "correlation_id"
	keyCausation     = "causation_id"
	keyClientIP      = "client_ip"
	keyOccurredAt    = "occurred_at"
	keySchemaVersion = "schema_version"
)

// encodeMetadata is the user metadata of an event: the port's Metadata
// fields (empty ones left out, as the port's JSON form does) and the
// schema version, all as strings.
func encodeMetadata(m eventstore.Metadata, schemaVersion int) ([]byte, error) {
	out := map[string]string{keySchemaVersion: strconv.Itoa(schemaVersion)}
	if m.ActorUserID != 0 {
		out[keyActor] = strconv.FormatInt(m.ActorUserID, 10)
	}
	if m.TenantID != uuid.Nil {
		out[keyTenant] = m.TenantID.String()
	}
	if m.BusinessID != 0 {
		out[keyBusiness] = strconv.FormatInt(m.BusinessID, 10)
	}
	if m.CorrelationID != "" {
		out[keyCorrelation] = m.CorrelationID
	}
	if m.CausationID != "" {
		out[keyCausation] = m.CausationID
	}
	if m.ClientIP != "" {
		out[keyClientIP] = m.ClientIP
	}
	if !m.OccurredAt.IsZero() {
		out[keyOccurredAt] = m.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}

// decodeMetadata reads what encodeMetadata wrote. It also takes numbers
// where it wrote strings (metadata written by other tools) and ignores
// keys it does not know (multi-stream appends add $schema.name and
// $schema.format). No metadata, or no schema version, means version 1.
func decodeMetadata(raw []byte) (eventstore.Metadata, int, error) {
	var m eventstore.Metadata
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return m, 1, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return m, 0, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	text := func(key string) (string, error) {
		v, ok := fields[key]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s, nil
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err == nil {
			return n.String(), nil
		}
		return "", fmt.Errorf("metadata %s: neither a string nor a number: %s", key, v)
	}
	integer := func(key string) (int64, error) {
		s, err := text(key)
		if err != nil || s == "" {
			return 0, err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("metadata %s: %q is not an integer", key, s)
		}
		return n, nil
	}
	var err error
	if m.ActorUserID, err = integer(keyActor); err != nil {
		return m, 0, err
	}
	if m.BusinessID, err = integer(keyBusiness); err != nil {
		return m, 0, err
	}
	version, err := integer(keySchemaVersion)
	if err != nil {
		return m, 0, err
	}
	if version == 0 {
		version = 1
	}
	tenant, err := text(keyTenant)
	if err != nil {
		return m, 0, err
	}
	if tenant != "" {
		if m.TenantID, err = uuid.Parse(tenant); err != nil {
			return m, 0, fmt.Errorf("metadata %s: %w", keyTenant, err)
		}
	}
	if m.CorrelationID, err = text(keyCorrelation); err != nil {
		return m, 0, err
	}
	if m.CausationID, err = text(keyCausation); err != nil {
		return m, 0, err
	}
	if m.ClientIP, err = text(keyClientIP); err != nil {
		return m, 0, err
	}
	occurred, err := text(keyOccurredAt)
	if err != nil {
		return m, 0, err
	}
	if occurred != "" {
		t, err := time.Parse(time.RFC3339Nano, occurred)
		if err != nil {
			return m, 0, fmt.Errorf("metadata %s: %w", keyOccurredAt, err)
		}
		m.OccurredAt = t.UTC()
	}
	return m, int(version), nil
}

// eventData maps an event to append to the client's form. The event id
// is the port's id, so KurrentDB's own idempotency by event id applies. As
// the other adapters do, it fills a zero OccurredAt with now and keeps
// times to the microsecond, in UTC.
func eventData(e eventstore.EventData, now time.Time) (kdb.EventData, error) {
	md := e.Metadata
	if md.OccurredAt.IsZero() {
		md.OccurredAt = now
	}
	md.OccurredAt = md.OccurredAt.UTC().Truncate(time.Microsecond)
	meta, err := encodeMetadata(md, e.SchemaVersion)
	if err != nil {
		return kdb.EventData{}, fmt.Errorf("event %s: metadata: %w", e.ID, err)
	}
	return kdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: kdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    meta,
	}, nil
}

// recorded maps a stored event back to the port's form; ok is false for
// events callers never see (see visible).
func (n names) recorded(r *kdb.RecordedEvent) (e eventstore.RecordedEvent, ok bool, err error) {
	if r == nil || !n.visible(r.StreamID, r.EventType) {
		return e, false, nil
	}
	stream, _ := n.local(r.StreamID)
	meta, version, err := decodeMetadata(r.UserMetadata)
	if err != nil {
		return e, false, fmt.Errorf("event %s in %s at revision %d: %w", r.EventID, stream, r.EventNumber, err)
	}
	return eventstore.RecordedEvent{
		ID:            r.EventID,
		StreamID:      stream,
		StreamVersion: r.EventNumber,
		Position:      position(r.Position),
		Type:          r.EventType,
		SchemaVersion: version,
		Data:          json.RawMessage(r.Data),
		Metadata:      meta,
		RecordedAt:    r.CreatedDate.UTC().Truncate(time.Microsecond),
	}, true, nil
}

// checkEvents refuses, beyond eventstore.ValidateAppend, event data that
// is not JSON, as the other adapters do (KurrentDB would store any bytes),
// and event types starting with $, which KurrentDB reserves for system
// events and which callers would therefore never read back.
func checkEvents(events []eventstore.EventData) error {
	for i, e := range events {
		if !json.Valid(e.Data) {
			return fmt.Errorf("%w: event %d data is not valid JSON", eventstore.ErrInvalidAppend, i)
		}
		if strings.HasPrefix(e.Type, "$") {
			return fmt.Errorf("%w: event %d type %q starts with $, which KurrentDB reserves", eventstore.ErrInvalidAppend, i, e.Type)
		}
	}
	return nil
}

// revisionOf maps a stream state reported by the server to the port's
// "current revision": nil for no stream.
func revisionOf(s kdb.StreamState) *uint64 {
	if r, ok := s.(kdb.StreamRevision); ok {
		v := r.Value
		return &v
	}
	return nil
}

// actualFromMessage reads the stream's current revision out of the
// message of a single append's wrong-expected-version error. The client
// (v1.4.2) reports it only in text, "expecting 'X' but got 'Y'", where Y
// is a revision or no_stream; known is false when the text has another
// form, and the caller then asks the server.
func actualFromMessage(msg string) (actual *uint64, known bool) {
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return nil, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return nil, false
	}
	switch got := rest[:j]; got {
	case "no_stream":
		return nil, true
	default:
		n, err := strconv.ParseUint(got, 10, 64)
		if err != nil {
			return nil, false
		}
		return &n, true
	}
}

// appendError maps a client error of an append to stream (the port's name)
// with the given expectation to the port's errors. actualKnown is false
// for a wrong expected version whose current revision the error does not
// say; the caller fills it in.
func appendError(n names, stream string, expected eventstore.ExpectedVersion, err error) (mapped error, actualKnown bool) {
	var ke *kdb.Error
	if !errors.As(err, &ke) {
		return fmt.Errorf("kurrentdb: append to %s: %w", stream, err), true
	}
	return classify(n, stream, expected, ke.Code(), ke.Err(), err)
}

// classify is appendError over the parts of a *kurrentdb.Error, whose
// fields are unexported: code and inner (Err()) are what the client set,
// whole is the error to wrap when nothing more specific fits. For errors
// naming a stream (multi-stream appends), expected is looked up by the
// caller through expectedOf.
func classify(n names, stream string, expected eventstore.ExpectedVersion, code kdb.ErrorCode, inner, whole error) (error, bool) {
	switch code {
	case kdb.ErrorCodeWrongExpectedVersion:
		actual, known := actualFromMessage(fmt.Sprint(inner))
		return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: actual}, known
	case kdb.ErrorCodeStreamRevisionConflict:
		var c *kdb.StreamRevisionConflictError
		if errors.As(inner, &c) {
			if local, ok := n.local(c.Stream); ok {
				stream = local
			}
			return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: revisionOf(c.ActualRevision)}, true
		}
		return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}, false
	case kdb.ErrorCodeAppendConsistencyViolation:
		var v *kdb.AppendConsistencyViolationError
		if errors.As(inner, &v) && len(v.Violations) > 0 {
			first := v.Violations[0]
			if local, ok := n.local(first.Stream); ok {
				stream = local
			}
			return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: revisionOf(first.ActualState)}, true
		}
		return &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}, false
	case kdb.ErrorCodeStreamDeleted, kdb.ErrorCodeStreamTombstoned:
		return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream), true
	case kdb.ErrorCodeNotLeader:
		return fmt.Errorf("%w (append to %s)", eventstore.ErrNotLeader, stream), true
	}
	return fmt.Errorf("kurrentdb: append to %s: %w", stream, whole), true
}

// readError maps a client error of a read; notFound reports a stream that
// does not exist (or was soft-deleted), which the port reads as empty.
func readError(what string, err error) (mapped error, notFound bool) {
	var ke *kdb.Error
	if !errors.As(err, &ke) {
		return fmt.Errorf("kurrentdb: read %s: %w", what, err), false
	}
	return classifyRead(what, ke.Code(), err)
}

// classifyRead is readError over the code of a *kurrentdb.Error.
func classifyRead(what string, code kdb.ErrorCode, whole error) (error, bool) {
	switch code {
	case kdb.ErrorCodeResourceNotFound:
		return nil, true
	case kdb.ErrorCodeStreamDeleted, kdb.ErrorCodeStreamTombstoned:
		return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, what), false
	case kdb.ErrorCodeNotLeader:
		return fmt.Errorf("%w (read %s)", eventstore.ErrNotLeader, what), false
	}
	return fmt.Errorf("kurrentdb: read %s: %w", what, whole), false
}
