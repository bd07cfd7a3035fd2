package kurrentdb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// These tests drive the adapter's paging and filtering over a scripted log
// (scriptedLog). It answers reads as the adapter expects KurrentDB to, an
// assumption these tests cannot check: a read of $all from a position
// includes the event there, forwards and backwards (the client's own test
// TestReadAllEventsForwardsFromNonZeroPosition shows it forwards), and a
// stream read from a revision starts at that revision.

type scriptedEvents struct {
	list []*kdb.ResolvedEvent
	next int
}

func (e *scriptedEvents) Recv() (*kdb.ResolvedEvent, error) {
	if e.next == len(e.list) {
		return nil, io.EOF
	}
	e.next++
	return e.list[e.next-1], nil
}

func (e *scriptedEvents) Close() {}

// scriptedLog is $all: events in position order.
type scriptedLog struct {
	all []kdb.RecordedEvent
	// noStreamPositions makes stream reads carry no positions (-1).
	noStreamPositions bool
	reads             int
}

func (l *scriptedLog) add(stream, eventType string) kdb.RecordedEvent {
	rev := uint64(0)
	for _, e := range l.all {
		if e.StreamID == stream {
			rev++
		}
	}
	n := uint64(len(l.all)+1) * 100
	meta, err := encodeMetadata(eventstore.Metadata{ActorUserID: 1}, 1)
	if err != nil {
		panic(err)
	}
	e := kdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    eventType,
		StreamID:     stream,
		EventNumber:  rev,
		Position:     kdb.Position{Commit: n, Prepare: n},
		CreatedDate:  time.Unix(1700000000, 0).UTC(),
		Data:         []byte(fmt.Sprintf(`{"n":%d}`, n)),
		UserMetadata: meta,
	}
	l.all = append(l.all, e)
	return e
}

func resolved(e kdb.RecordedEvent) *kdb.ResolvedEvent { return &kdb.ResolvedEvent{Event: &e} }

func (l *scriptedLog) readStream(_ context.Context, full string, from *uint64, count uint64) (events, error) {
	l.reads++
	var mine []kdb.RecordedEvent
	for _, e := range l.all {
		if e.StreamID == full {
			if l.noStreamPositions {
				e.Position = kdb.Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}
			}
			mine = append(mine, e)
		}
	}
	out := &scriptedEvents{}
	if from == nil {
		for i := len(mine) - 1; i >= 0 && uint64(len(out.list)) < count; i-- {
			out.list = append(out.list, resolved(mine[i]))
		}
		return out, nil
	}
	for _, e := range mine {
		if e.EventNumber >= *from && uint64(len(out.list)) < count {
			out.list = append(out.list, resolved(e))
		}
	}
	return out, nil
}

func (l *scriptedLog) readAll(_ context.Context, dir kdb.Direction, from kdb.AllPosition, count uint64) (events, error) {
	l.reads++
	out := &scriptedEvents{}
	at := func(e kdb.RecordedEvent) eventstore.Position { return position(e.Position) }
	if dir == kdb.Forwards {
		for _, e := range l.all {
			if p, ok := from.(kdb.Position); ok && at(e).Less(position(p)) {
				continue
			}
			if uint64(len(out.list)) < count {
				out.list = append(out.list, resolved(e))
			}
		}
		return out, nil
	}
	for i := len(l.all) - 1; i >= 0; i-- {
		e := l.all[i]
		if p, ok := from.(kdb.Position); ok && position(p).Less(at(e)) {
			continue
		}
		if uint64(len(out.list)) < count {
			out.list = append(out.list, resolved(e))
		}
	}
	return out, nil
}

func scriptedStore(log *scriptedLog, prefix string, page int) *Store {
	return &Store{read: log, page: page, names: names{prefix: prefix}, batch: 10, log: slog.New(slog.DiscardHandler)}
}

func commits(events []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Position.Commit
	}
	return out
}

func TestReadStream_Pages(t *testing.T) {
	log := &scriptedLog{}
	for i := range 10 {
		log.add("app1-s", "t")
		if i%3 == 0 {
			log.add("app1-neighbour", "t")
			log.add("app2-s", "t")
		}
	}
	s := scriptedStore(log, "app1-", 3)
	ctx := context.Background()
	for _, r := range []struct{ from, to uint64 }{{0, 9}, {3, 5}, {9, 20}, {0, 0}, {5, eventstore.MaxRevision}, {2, 8}} {
		got, err := s.ReadStream(ctx, "s", r.from, r.to)
		require.NoError(t, err)
		require.Len(t, got, int(min(r.to, 9)-r.from+1), "range %d..%d", r.from, r.to)
		for i, e := range got {
			assert.Equal(t, r.from+uint64(i), e.StreamVersion)
			assert.Equal(t, "s", e.StreamID)
		}
	}
	for _, r := range []struct{ from, to uint64 }{{11, 20}, {10, eventstore.MaxRevision}, {5, 4}} {
		got, err := s.ReadStream(ctx, "s", r.from, r.to)
		require.NoError(t, err)
		assert.Empty(t, got)
	}
	got, err := s.ReadStream(ctx, "missing", 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Empty(t, got)

	log.reads = 0
	_, err = s.ReadStream(ctx, "s", 0, eventstore.MaxRevision)
	require.NoError(t, err)
	assert.Equal(t, 4, log.reads, "10 events in pages of 3: 3+3+3+1")
}

func TestReadAll_PagesAndFilters(t *testing.T) {
	log := &scriptedLog{}
	var mine []uint64
	for i := range 12 {
		switch i % 4 {
		case 0:
			log.add("$stats-node", "$statsCollected")
		case 1:
			log.add("app2-x", "t")
		case 2:
			log.add("app1-x", "$metadata")
		}
		mine = append(mine, log.add(fmt.Sprintf("app1-s%d", i%3), "t").Position.Commit)
	}
	s := scriptedStore(log, "app1-", 4)
	ctx := context.Background()

	all, err := s.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Equal(t, mine, commits(all))
	for _, e := range all {
		assert.Equal(t, int64(1), e.Metadata.ActorUserID)
	}

	at := func(i int) eventstore.Position { return eventstore.At(mine[i]) }
	page, err := s.ReadAll(ctx, at(5), 3)
	require.NoError(t, err)
	assert.Equal(t, mine[6:9], commits(page), "strictly after, up to the limit")

	page, err = s.ReadAll(ctx, at(9), 10)
	require.NoError(t, err)
	assert.Equal(t, mine[10:], commits(page))

	rest, err := s.ReadAll(ctx, at(11), 10)
	require.NoError(t, err)
	assert.Empty(t, rest)

	none, err := s.ReadAll(ctx, eventstore.Position{}, 0)
	require.NoError(t, err)
	assert.Empty(t, none)

	other, err := scriptedStore(log, "app3-", 4).ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Empty(t, other, "a prefix with no streams sees nothing")

	unprefixed, err := scriptedStore(log, "", 4).ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Len(t, unprefixed, 12+3, "every user event, no system event")
}

func TestHead(t *testing.T) {
	ctx := context.Background()
	empty := &scriptedLog{}
	head, err := scriptedStore(empty, "app1-", 3).Head(ctx)
	require.NoError(t, err)
	assert.True(t, head.IsZero())

	log := &scriptedLog{}
	log.add("app1-s", "t")
	last := log.add("app1-s", "t")
	for range 10 { // newer events that are not the store's, over several pages
		log.add("app2-s", "t")
		log.add("$stats", "$statsCollected")
		log.add("app1-s", "$metadata")
	}
	head, err = scriptedStore(log, "app1-", 3).Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, position(last.Position), head)

	head, err = scriptedStore(log, "app9-", 3).Head(ctx)
	require.NoError(t, err)
	assert.True(t, head.IsZero(), "no event of the store's")

	head, err = scriptedStore(log, "", 3).Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, position(log.all[len(log.all)-3].Position), head, "the newest user event")
}

func appended(log *scriptedLog, stream string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		e := log.add(stream, "t")
		out[i] = eventstore.EventData{ID: e.EventID, Type: "t", SchemaVersion: 1, Data: json.RawMessage(e.Data)}
	}
	return out
}

func TestLocate(t *testing.T) {
	ctx := context.Background()
	log := &scriptedLog{}
	appended(log, "app1-s", 2)
	log.add("app2-s", "t")
	evs := appended(log, "app1-s", 3) // revisions 2..4
	want := []eventstore.Position{position(log.all[3].Position), position(log.all[4].Position), position(log.all[5].Position)}
	s := scriptedStore(log, "app1-", 2)

	res, err := s.locate(ctx, "s", 4, evs)
	require.NoError(t, err)
	assert.Equal(t, eventstore.AppendResult{NextExpectedVersion: 4, Positions: want}, res)

	// The server answered a retry with the stream's revision of now.
	appended(log, "app1-s", 4)
	res, err = s.locate(ctx, "s", 8, evs)
	require.NoError(t, err)
	assert.Equal(t, eventstore.AppendResult{NextExpectedVersion: 4, Positions: want}, res)

	// Stream reads without positions: they come from $all.
	log.noStreamPositions = true
	res, err = s.locate(ctx, "s", 4, evs)
	require.NoError(t, err)
	assert.Equal(t, eventstore.AppendResult{NextExpectedVersion: 4, Positions: want}, res)

	// Events that are not there.
	log.noStreamPositions = false
	_, err = s.locate(ctx, "s", 4, appendedElsewhere(2))
	require.Error(t, err)
}

func appendedElsewhere(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{ID: uuid.New(), Type: "t", SchemaVersion: 1, Data: json.RawMessage(`{}`)}
	}
	return out
}

func TestRetried(t *testing.T) {
	ctx := context.Background()
	log := &scriptedLog{}
	a := appended(log, "app1-a", 2)
	b1 := appended(log, "app1-b", 1)
	b2 := appended(log, "app1-b", 2)
	s := scriptedStore(log, "app1-", 10)

	results, ok, err := s.retried(ctx, []eventstore.StreamAppend{
		{Stream: "a", Expected: eventstore.NoStream(), Events: a},
		{Stream: "b", Expected: eventstore.Exact(0), Events: b2},
	})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, uint64(1), results[0].NextExpectedVersion)
	assert.Equal(t, uint64(2), results[1].NextExpectedVersion)
	assert.Equal(t, position(log.all[4].Position), results[1].Last())

	for name, appends := range map[string][]eventstore.StreamAppend{
		"other_events":     {{Stream: "a", Expected: eventstore.NoStream(), Events: appendedElsewhere(2)}},
		"other_place":      {{Stream: "b", Expected: eventstore.NoStream(), Events: b2}},
		"one_part_missing": {{Stream: "a", Expected: eventstore.NoStream(), Events: a}, {Stream: "c", Expected: eventstore.NoStream(), Events: b1}},
		"any_unknowable":   {{Stream: "a", Expected: eventstore.Any(), Events: a}},
		"exists":           {{Stream: "a", Expected: eventstore.StreamExists(), Events: a}},
		"revision_max":     {{Stream: "a", Expected: eventstore.Exact(eventstore.MaxRevision), Events: a}},
	} {
		_, ok, err := s.retried(ctx, appends)
		require.NoError(t, err, name)
		assert.False(t, ok, name)
	}
}

func TestLastRevision(t *testing.T) {
	ctx := context.Background()
	log := &scriptedLog{}
	appended(log, "app1-a", 3)
	s := scriptedStore(log, "app1-", 10)
	rev, err := s.lastRevision(ctx, "app1-a")
	require.NoError(t, err)
	assert.Equal(t, ptr(2), rev)
	rev, err = s.lastRevision(ctx, "app1-none")
	require.NoError(t, err)
	assert.Nil(t, rev)
}
