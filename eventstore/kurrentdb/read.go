package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// defaultPage is how many events one read request asks for.
const defaultPage = 512

// ReadStream returns the events of stream with from <= revision <= to (see
// eventstore.Store). It reads forwards from revision from, in requests of
// at most 512 events, and stops after to. A stream that does not exist
// (or was soft-deleted) yields no events; a tombstoned one
// eventstore.ErrStreamDeleted.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to uint64) ([]eventstore.RecordedEvent, error) {
	if from > to {
		return nil, nil
	}
	full := s.names.full(stream)
	var out []eventstore.RecordedEvent
	for next := from; ; {
		count := uint64(s.page)
		if to-next < count {
			count = to - next + 1
		}
		got, err := s.readStreamPage(ctx, stream, full, next, count)
		if err != nil {
			return nil, err
		}
		out = append(out, got.events...)
		if got.read < count || got.last >= to {
			return out, nil
		}
		next = got.last + 1
	}
}

type streamPage struct {
	events []eventstore.RecordedEvent
	read   uint64 // events the server sent, visible or not
	last   uint64 // revision of the last one
}

func (s *Store) readStreamPage(ctx context.Context, stream, full string, from, count uint64) (streamPage, error) {
	var p streamPage
	rs, err := s.read.readStream(ctx, full, &from, count)
	if err != nil {
		return p, s.readFailed(ctx, "stream "+stream, err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return p, nil
		}
		if err != nil {
			if mapped, notFound := readError("stream "+stream, err); notFound {
				return p, nil
			} else if ctx.Err() == nil {
				return p, mapped
			}
			return p, fmt.Errorf("kurrentdb: read stream %s: %w", stream, ctx.Err())
		}
		r := ev.OriginalEvent()
		if r == nil {
			continue
		}
		p.read++
		p.last = r.EventNumber
		e, ok, err := s.names.recorded(r)
		if err != nil {
			return p, err
		}
		if ok {
			p.events = append(p.events, e)
		}
	}
}

// readFailed maps the error of starting a read.
func (s *Store) readFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("kurrentdb: read %s: %w", what, ctx.Err())
	}
	mapped, notFound := readError(what, err)
	if notFound {
		return fmt.Errorf("kurrentdb: read %s: not found", what)
	}
	return mapped
}

// ReadAll returns up to limit events of the log after the given position
// (see eventstore.Store), skipping system events and the streams of other
// prefixes. It reads $all forwards in requests of up to 512 events until
// it has limit events or reaches the end.
//
// The port's gap rule holds by construction: KurrentDB's $all is the
// transaction log in commit order and a read never shows an event whose
// transaction has not committed, so no event can later appear before one
// that was read. (On a shared server a store with a prefix scans other
// prefixes' events too, which it drops; the client has no filtered read
// of $all.)
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []eventstore.RecordedEvent
	cursor := after
	for len(out) < limit {
		events, read, last, err := s.readAllPage(ctx, kdb.Forwards, cursor, func(p eventstore.Position) bool { return after.Less(p) && cursor.Less(p) })
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if len(out) == limit {
				break
			}
			out = append(out, e)
		}
		if read < s.page {
			break
		}
		cursor = last
	}
	return out, nil
}

// readAllPage reads up to a page of events of $all from cursor in direction
// dir and returns those that are visible and pass keep, how many the
// server sent, and the position of the last one (the next cursor: a read
// from a position includes the event there, which keep drops).
func (s *Store) readAllPage(ctx context.Context, dir kdb.Direction, cursor eventstore.Position, keep func(eventstore.Position) bool) (events []eventstore.RecordedEvent, read int, last eventstore.Position, err error) {
	from := allFrom(cursor)
	if dir == kdb.Backwards {
		from = allFromEnd(cursor)
	}
	rs, err := s.read.readAll(ctx, dir, from, uint64(s.page))
	if err != nil {
		return nil, 0, last, s.readFailed(ctx, "$all", err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return events, read, last, nil
		}
		if err != nil {
			return nil, 0, last, s.readFailed(ctx, "$all", err)
		}
		r := ev.OriginalEvent()
		if r == nil {
			continue
		}
		read++
		last = position(r.Position)
		if !keep(last) {
			continue
		}
		e, ok, err := s.names.recorded(r)
		if err != nil {
			return nil, 0, last, err
		}
		if ok {
			events = append(events, e)
		}
	}
}

// Head returns the position of the newest event callers can see (the zero
// Position when there is none): it reads $all backwards from the end,
// skipping system events and other prefixes. On a shared server that
// costs a scan of the events written since this store's last one.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	var cursor eventstore.Position // zero: from the end
	for {
		started := cursor
		events, read, last, err := s.readAllPage(ctx, kdb.Backwards, cursor, func(p eventstore.Position) bool {
			return started.IsZero() || p.Less(started)
		})
		if err != nil {
			return eventstore.Position{}, err
		}
		if len(events) > 0 {
			return events[0].Position, nil
		}
		if read < s.page || last.IsZero() {
			return eventstore.Position{}, nil
		}
		cursor = last
	}
}
