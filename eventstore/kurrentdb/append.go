package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Append writes events to stream (see eventstore.Store).
//
// KurrentDB checks the expected version and is idempotent by event id
// itself: an append re-sent with the same ids succeeds without writing
// again, guaranteed when the expectation is NoStream, StreamExists or a
// revision, best effort (a cache of recent ids) with Any. The server
// answers only the stream's revision and one position, so the adapter
// reads the appended events back, from that revision, to report each
// event's position (read-your-writes hands the last one out as
// X-Event-Position, and projections wait for exactly that position); a
// retry therefore reports the original positions.
//
// Unlike the postgres adapter it does not refuse event ids stored in
// another stream (DuplicateEventError): KurrentDB has no index of event
// ids across streams, so such an append is written.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := checkEvents(events); err != nil {
		return eventstore.AppendResult{}, err
	}
	data, err := eventsData(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	full := s.names.full(stream)
	wr, err := s.client.AppendToStream(ctx, full, kdb.AppendToStreamOptions{StreamState: streamState(expected)}, data...)
	if err != nil {
		if ctx.Err() != nil {
			return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: append to %s: %w", stream, ctx.Err())
		}
		mapped, known := appendError(s.names, stream, expected, err)
		var wrong *eventstore.WrongExpectedVersionError
		if !errors.As(mapped, &wrong) {
			return eventstore.AppendResult{}, mapped
		}
		// The server is idempotent for such retries itself; this check
		// (one read, on conflicts only) keeps the port's promise should it
		// answer a retry with a conflict instead.
		if results, ok, rerr := s.retried(ctx, []eventstore.StreamAppend{{Stream: stream, Expected: expected, Events: events}}); rerr != nil {
			return eventstore.AppendResult{}, errors.Join(mapped, rerr)
		} else if ok {
			return results[0], nil
		}
		if !known {
			// The error did not say the current revision; ask. It may
			// have moved on since, which is still a true answer of
			// "what the stream is at".
			if wrong.Actual, err = s.lastRevision(ctx, full); err != nil {
				return eventstore.AppendResult{}, errors.Join(mapped, err)
			}
		}
		return eventstore.AppendResult{}, mapped
	}
	return s.locate(ctx, stream, wr.NextExpectedVersion, events)
}

// AppendMulti appends to several streams atomically (see eventstore.Store).
//
// It uses AppendRecords on servers that have it (26.1 and later), with one
// stream-state check per stream and the records in call order, which the
// server keeps in the log; on 25.x it uses MultiStreamAppend, whose
// documentation does not promise any order across streams (the positions
// reported are then the true ones, in whatever order the server chose).
// Positions come from reading every stream's new events back, as in Append.
//
// A retry of a call that succeeded is recognised by the adapter when the
// server refuses it on a version check: when every stream holds exactly
// the call's events right after the revision the call expected, the
// original results are returned. A retry with Any or StreamExists
// expectations depends on the server's idempotency by event id, which the
// adapter could not check without a server. Event ids stored in other
// streams are not detected (see Append).
func (s *Store) AppendMulti(ctx context.Context, appends ...eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppendMulti(appends); err != nil {
		return nil, err
	}
	expected := make(map[string]eventstore.ExpectedVersion, len(appends))
	parts := make([][]kdb.EventData, len(appends))
	for i, a := range appends {
		if err := checkEvents(a.Events); err != nil {
			return nil, fmt.Errorf("stream %s: %w", a.Stream, err)
		}
		data, err := eventsData(a.Events)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", a.Stream, err)
		}
		parts[i] = data
		expected[a.Stream] = a.Expected
	}

	var revisions map[string]int64
	var err error
	if s.records {
		revisions, err = s.appendRecords(ctx, appends, parts)
		if ke := (*kdb.Error)(nil); errors.As(err, &ke) && ke.Code() == kdb.ErrorCodeUnsupportedFeature {
			// The node the client is connected to now lacks it (a
			// cluster being upgraded or downgraded): fall back.
			revisions, err = s.multiStreamAppend(ctx, appends, parts)
		}
	} else {
		revisions, err = s.multiStreamAppend(ctx, appends, parts)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("kurrentdb: append multi: %w", ctx.Err())
		}
		var ke *kdb.Error
		if !errors.As(err, &ke) {
			return nil, fmt.Errorf("kurrentdb: append multi: %w", err)
		}
		mapped, _ := classify(s.names, appends[0].Stream, appends[0].Expected, ke.Code(), ke.Err(), err)
		var wrong *eventstore.WrongExpectedVersionError
		if errors.As(mapped, &wrong) {
			wrong.Expected = expected[wrong.Stream]
			if results, ok, rerr := s.retried(ctx, appends); rerr != nil {
				return nil, errors.Join(mapped, rerr)
			} else if ok {
				return results, nil
			}
		}
		return nil, mapped
	}

	results := make([]eventstore.AppendResult, len(appends))
	for i, a := range appends {
		rev, ok := revisions[s.names.full(a.Stream)]
		if !ok || rev < 0 {
			return nil, fmt.Errorf("kurrentdb: append multi: the server reported no revision for stream %s", a.Stream)
		}
		if results[i], err = s.locate(ctx, a.Stream, uint64(rev), a.Events); err != nil {
			return nil, err
		}
	}
	return results, nil
}

func (s *Store) multiStreamAppend(ctx context.Context, appends []eventstore.StreamAppend, parts [][]kdb.EventData) (map[string]int64, error) {
	requests := make([]kdb.AppendStreamRequest, len(appends))
	for i, a := range appends {
		requests[i] = kdb.AppendStreamRequest{
			StreamName:          s.names.full(a.Stream),
			Events:              slices.Values(parts[i]),
			ExpectedStreamState: streamState(a.Expected),
		}
	}
	resp, err := s.client.MultiStreamAppend(ctx, slices.Values(requests))
	if err != nil {
		return nil, err
	}
	return revisionsByStream(resp.Responses), nil
}

func (s *Store) appendRecords(ctx context.Context, appends []eventstore.StreamAppend, parts [][]kdb.EventData) (map[string]int64, error) {
	var records []kdb.AppendRecord
	var checks []kdb.ConsistencyCheck
	for i, a := range appends {
		full := s.names.full(a.Stream)
		for _, e := range parts[i] {
			records = append(records, kdb.AppendRecord{Stream: full, Record: e})
		}
		if !a.Expected.IsAny() { // Any checks nothing
			checks = append(checks, kdb.StreamStateCheck{Stream: full, ExpectedState: streamState(a.Expected)})
		}
	}
	resp, err := s.client.AppendRecords(ctx, records, checks...)
	if err != nil {
		return nil, err
	}
	return revisionsByStream(resp.Responses), nil
}

func revisionsByStream(responses []kdb.AppendResponse) map[string]int64 {
	out := make(map[string]int64, len(responses))
	for _, r := range responses {
		out[r.Stream] = r.StreamRevision
	}
	return out
}

// retried reports whether every part of a refused AppendMulti is stored
// already, exactly as the call would have stored it, and if so the
// results of that earlier call. Only parts with a NoStream or revision
// expectation can be checked (they say where the events must be).
func (s *Store) retried(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, bool, error) {
	results := make([]eventstore.AppendResult, len(appends))
	for i, a := range appends {
		var first uint64
		switch r, exact := a.Expected.Revision(); {
		case a.Expected.IsNoStream():
			first = 0
		case exact && r < eventstore.MaxRevision-uint64(len(a.Events)):
			first = r + 1
		default:
			return nil, false, nil
		}
		got, err := s.ReadStream(ctx, a.Stream, first, first+uint64(len(a.Events))-1)
		if err != nil {
			return nil, false, err
		}
		if !sameIDs(got, a.Events) {
			return nil, false, nil
		}
		if results[i], err = s.withPositions(ctx, a.Stream, got); err != nil {
			return nil, false, err
		}
	}
	return results, true, nil
}

// locate returns the result of an append of events to stream that the
// server reports done with the stream's last revision at last: it reads
// the events back from last+1-len(events) and checks their ids. When they
// are not there (the server answered an idempotent retry with the
// stream's current revision, and the stream has grown since), it searches
// the stream backwards for them.
func (s *Store) locate(ctx context.Context, stream string, last uint64, events []eventstore.EventData) (eventstore.AppendResult, error) {
	n := uint64(len(events))
	if last+1 >= n {
		got, err := s.ReadStream(ctx, stream, last+1-n, last)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: read back append to %s: %w", stream, err)
		}
		if sameIDs(got, events) {
			return s.withPositions(ctx, stream, got)
		}
	}
	from, err := s.findEvent(ctx, stream, events[0].ID)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: read back append to %s: %w", stream, err)
	}
	got, err := s.ReadStream(ctx, stream, from, from+n-1)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: read back append to %s: %w", stream, err)
	}
	if !sameIDs(got, events) {
		return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: append to %s succeeded, but its events are not stored together from revision %d", stream, from)
	}
	return s.withPositions(ctx, stream, got)
}

// withPositions is resultOf(got), after filling in positions a stream read
// did not carry (see unknownPosition) from $all.
func (s *Store) withPositions(ctx context.Context, stream string, got []eventstore.RecordedEvent) (eventstore.AppendResult, error) {
	missing := map[uuid.UUID]int{}
	for i, e := range got {
		if unknownPosition(e.Position) {
			missing[e.ID] = i
		}
	}
	if len(missing) > 0 {
		found, err := s.positionsFromAll(ctx, s.names.full(stream), missing)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: positions of the append to %s: %w", stream, err)
		}
		for id, i := range missing {
			got[i].Position = found[id]
		}
	}
	return resultOf(got), nil
}

// maxPositionScan bounds positionsFromAll's search.
const maxPositionScan = 100_000

// positionsFromAll finds the positions of the events of stream full with
// the given ids, just appended, by reading $all backwards from its end.
func (s *Store) positionsFromAll(ctx context.Context, full string, ids map[uuid.UUID]int) (map[uuid.UUID]eventstore.Position, error) {
	found := make(map[uuid.UUID]eventstore.Position, len(ids))
	var cursor eventstore.Position
	for scanned := 0; scanned < maxPositionScan; {
		started := cursor
		rs, err := s.read.readAll(ctx, kdb.Backwards, allFromEnd(cursor), uint64(s.page))
		if err != nil {
			return nil, s.readFailed(ctx, "$all", err)
		}
		read := 0
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return nil, s.readFailed(ctx, "$all", err)
			}
			r := ev.OriginalEvent()
			if r == nil {
				continue
			}
			read++
			p := position(r.Position)
			cursor = p
			if !started.IsZero() && !p.Less(started) {
				continue
			}
			if _, ok := ids[r.EventID]; ok && r.StreamID == full {
				found[r.EventID] = p
			}
		}
		rs.Close()
		scanned += read
		if len(found) == len(ids) {
			return found, nil
		}
		if read < s.page {
			break
		}
	}
	return nil, fmt.Errorf("%d of %d events not found in the last %d events of $all", len(ids)-len(found), len(ids), maxPositionScan)
}

// findEvent returns the revision of the event with id in stream, searching
// from the end (a retried append is recent).
func (s *Store) findEvent(ctx context.Context, stream string, id uuid.UUID) (uint64, error) {
	rs, err := s.read.readStream(ctx, s.names.full(stream), nil, ^uint64(0)>>1)
	if err != nil {
		mapped, _ := readError("stream "+stream, err)
		return 0, mapped
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("event %s is not in the stream", id)
		}
		if err != nil {
			mapped, _ := readError("stream "+stream, err)
			if mapped == nil {
				return 0, fmt.Errorf("event %s is not in the stream", id)
			}
			return 0, mapped
		}
		if r := ev.OriginalEvent(); r != nil && r.EventID == id {
			return r.EventNumber, nil
		}
	}
}

// lastRevision is a stream's last revision, nil when it has no events.
func (s *Store) lastRevision(ctx context.Context, full string) (*uint64, error) {
	failed := func(err error) (*uint64, error) {
		mapped, notFound := readError("stream "+full, err)
		if notFound {
			return nil, nil
		}
		return nil, mapped
	}
	rs, err := s.read.readStream(ctx, full, nil, 1)
	if err != nil {
		return failed(err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return failed(err)
	}
	r := ev.OriginalEvent().EventNumber
	return &r, nil
}

func sameIDs(got []eventstore.RecordedEvent, want []eventstore.EventData) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			return false
		}
	}
	return true
}

// resultOf is the result of an append whose events are got (at least one).
func resultOf(got []eventstore.RecordedEvent) eventstore.AppendResult {
	res := eventstore.AppendResult{
		NextExpectedVersion: got[len(got)-1].StreamVersion,
		Positions:           make([]eventstore.Position, len(got)),
	}
	for i, e := range got {
		res.Positions[i] = e.Position
	}
	return res
}

func eventsData(events []eventstore.EventData) ([]kdb.EventData, error) {
	now := time.Now()
	out := make([]kdb.EventData, len(events))
	for i, e := range events {
		d, err := eventData(e, now)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
