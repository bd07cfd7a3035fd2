package logcopy

import (
	"context"
	"errors"
	"fmt"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// DefaultBatch is Options.Batch's default.
const DefaultBatch = 500

// ErrNotPrefix is the refusal of a target that holds events which are not
// the first events of the source: copying would interleave two histories.
var ErrNotPrefix = errors.New("the target already holds events that are not the source's first events")

// Options tune a Copy.
type Options struct {
	// Target identifies the target in State (see TargetKey); required.
	Target string
	// TargetName is how people know the target (its redacted URL).
	TargetName string
	// Batch is how many events a read returns at most, and how many one
	// append carries at most [DefaultBatch].
	Batch int
	// Progress, when set, is called after every append's checkpoint.
	Progress func(Progress)
	// AfterAppend, when set, is called after every append and before its
	// checkpoint; an error stops the copy there, as a crash would (tests).
	AfterAppend func(Progress) error
}

// Progress is where a running copy is.
type Progress struct {
	// Copied counts the source events in the target, over every run.
	Copied int64
	// Total is the number of source events to copy (up to the source's
	// head when the copy started); -1 when the source cannot count them.
	Total int64
	// Position is the source position of the last event copied.
	Position eventstore.Position
}

// Result is what a Copy did.
type Result struct {
	// Copied counts the source events in the target at the end (over
	// every run); Appended those appended by this run, Resent those of them
	// that the target already held (the tail after a stop between an
	// append and its checkpoint).
	Copied, Appended, Resent int64
	// Appends counts this run's appends.
	Appends int64
	// Resumed is true when the run started from a checkpoint; From is its
	// source position.
	Resumed bool
	From    eventstore.Position
	// Head is the source's head when the copy started: events appended
	// to the source later are not copied.
	Head eventstore.Position
}

// Copy copies the source's log, up to its head when Copy starts, to the
// target, resuming from state's checkpoint (see the package comment). It
// refuses a target whose events are not a prefix of the source's. The
// source must not be written to meanwhile (stop the servers).
func Copy(ctx context.Context, source, target eventstore.Store, state State, opts Options) (Result, error) {
	if opts.Target == "" {
		return Result{}, errors.New("copy the log: no target key")
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	var res Result
	head, err := source.Head(ctx)
	if err != nil {
		return res, fmt.Errorf("head of the source log: %w", err)
	}
	res.Head = head
	total, err := Count(ctx, source, head)
	if err != nil {
		return res, err
	}
	cp, tail, err := start(ctx, source, target, state, opts)
	if err != nil {
		return res, err
	}
	res.Resumed, res.From, res.Copied = cp != (Checkpoint{}), cp.Source, cp.Events

	src := newCursor(source, "source", cp.Source, head, opts.Batch)
	var group []eventstore.RecordedEvent
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		first, last := group[0], group[len(group)-1]
		expected := eventstore.NoStream()
		if first.StreamVersion > 0 {
			expected = eventstore.Exact(first.StreamVersion - 1)
		}
		events := make([]eventstore.EventData, len(group))
		for i, e := range group {
			events[i] = eventstore.EventData{ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata}
		}
		ar, err := target.Append(ctx, first.StreamID, expected, events...)
		if err != nil {
			return fmt.Errorf("copy events %s..%s of %s (revisions %d..%d) to the target: %w",
				first.Position, last.Position, first.StreamID, first.StreamVersion, last.StreamVersion, err)
		}
		if ar.NextExpectedVersion != last.StreamVersion || len(ar.Positions) != len(group) {
			return fmt.Errorf("copy events %s..%s of %s: the target put them at revision %d, the source has %d",
				first.Position, last.Position, first.StreamID, ar.NextExpectedVersion, last.StreamVersion)
		}
		n := int64(len(group))
		res.Appended += n
		res.Appends++
		if tail > 0 {
			res.Resent += min(n, tail)
			tail -= min(n, tail)
		}
		cp = Checkpoint{Source: last.Position, Target: ar.Last(), Events: cp.Events + n, Appends: cp.Appends + 1}
		res.Copied = cp.Events
		p := Progress{Copied: cp.Events, Total: total, Position: last.Position}
		if opts.AfterAppend != nil {
			if err := opts.AfterAppend(p); err != nil {
				return err
			}
		}
		// A stop (ctx cancelled) right after the append still records it.
		if err := state.Save(context.WithoutCancel(ctx), opts.Target, opts.TargetName, cp); err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(p)
		}
		group = group[:0]
		return nil
	}
	for {
		e, ok, err := src.next(ctx)
		if err != nil {
			return res, err
		}
		if !ok {
			break
		}
		// A run of one stream, at most a batch long, and never across the
		// end of the tail the target already holds: a re-sent append is
		// then exactly (a part of) one earlier append.
		limit := int64(opts.Batch)
		if tail > 0 {
			limit = min(limit, tail)
		}
		if len(group) > 0 && (e.StreamID != group[0].StreamID || int64(len(group)) >= limit) {
			if err := flush(); err != nil {
				return res, err
			}
		}
		group = append(group, e)
	}
	if err := flush(); err != nil {
		return res, err
	}
	return res, nil
}

// start loads the checkpoint and checks the target against it: a target
// that is empty again starts over; the target's first events must be the
// source's, and its events after the checkpoint (an append whose
// checkpoint was not saved) must be the source's next ones. tail counts
// those: the copy re-sends them.
func start(ctx context.Context, source, target eventstore.Store, state State, opts Options) (cp Checkpoint, tail int64, err error) {
	cp, found, err := state.Load(ctx, opts.Target)
	if err != nil {
		return cp, 0, err
	}
	tHead, err := target.Head(ctx)
	if err != nil {
		return cp, 0, fmt.Errorf("head of the target log: %w", err)
	}
	if found && tHead.IsZero() {
		// The target was emptied (or replaced) since: copy it all again.
		if err := state.Reset(ctx, opts.Target); err != nil {
			return cp, 0, err
		}
		return Checkpoint{}, 0, nil
	}
	if found && tHead.Less(cp.Target) {
		return cp, 0, fmt.Errorf("%w: the checkpoint says %d events were copied up to target position %s, but the target's head is %s",
			ErrNotPrefix, cp.Events, cp.Target, tHead)
	}
	if !found {
		cp = Checkpoint{}
	}
	if found {
		// The first events, so that a target that was replaced by another
		// log is not continued.
		if _, err := matchPrefix(ctx, source, target, eventstore.Position{}, eventstore.Position{}, int64(opts.Batch), 0); err != nil {
			return cp, 0, err
		}
	}
	tail, err = matchPrefix(ctx, source, target, cp.Source, cp.Target, -1, cp.Events)
	return cp, tail, err
}

// matchPrefix compares the target's events after tAfter (at most limit
// of them; -1: all) with the source's after sAfter, one by one; it returns
// how many it compared. skipped counts the events before sAfter, for the
// error's numbering.
func matchPrefix(ctx context.Context, source, target eventstore.Store, sAfter, tAfter eventstore.Position, limit, skipped int64) (int64, error) {
	tHead, err := target.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("head of the target log: %w", err)
	}
	sHead, err := source.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("head of the source log: %w", err)
	}
	batch := 500
	if limit > 0 {
		batch = int(min(limit, 500))
	}
	tc := newCursor(target, "target", tAfter, tHead, batch)
	sc := newCursor(source, "source", sAfter, sHead, batch)
	var n int64
	for limit < 0 || n < limit {
		te, ok, err := tc.next(ctx)
		if err != nil || !ok {
			return n, err
		}
		se, ok, err := sc.next(ctx)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, fmt.Errorf("%w: the target's event #%d (position %s, id %s) is beyond the source's last", ErrNotPrefix,
				skipped+n+1, te.Position, te.ID)
		}
		if field := differs(se, te); field != "" {
			return n, fmt.Errorf("%w: event #%d differs (%s): source position %s id %s, target position %s id %s", ErrNotPrefix,
				skipped+n+1, field, se.Position, se.ID, te.Position, te.ID)
		}
		n++
	}
	return n, nil
}

// Count counts the events of store up to through: in one call where the
// store reads by type (PostgreSQL), -1 (unknown) otherwise.
func Count(ctx context.Context, store eventstore.Store, through eventstore.Position) (int64, error) {
	tr, ok := store.(eventstore.TypeReader)
	if !ok {
		return -1, nil
	}
	counts, err := tr.CountTypes(ctx, eventstore.Position{}, through)
	if err != nil {
		return 0, fmt.Errorf("count the source's events: %w", err)
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	return n, nil
}
