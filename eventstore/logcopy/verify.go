package logcopy

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// ErrMismatch is Verify's verdict on two logs that differ.
var ErrMismatch = errors.New("the target's log differs from the source's")

// Report is what Verify read.
type Report struct {
	SourceEvents, TargetEvents int64
	// SourceSum and TargetSum are the hex SHA-256 of each log (Digest).
	SourceSum, TargetSum string
	// First is the first event that differs (nil when none does).
	First *Difference
}

// Difference names the first event in which two logs differ. Index
// counts from 1; a side that has no such event has a zero ID and
// Position.
type Difference struct {
	Index                          int64
	Field                          string
	SourcePosition, TargetPosition eventstore.Position
	SourceID, TargetID             uuid.UUID
}

func (d Difference) String() string {
	side := func(pos eventstore.Position, id uuid.UUID) string {
		if id == uuid.Nil && pos.IsZero() {
			return "none"
		}
		return fmt.Sprintf("position %s id %s", pos, id)
	}
	return fmt.Sprintf("event #%d (%s): source %s, target %s", d.Index, d.Field,
		side(d.SourcePosition, d.SourceID), side(d.TargetPosition, d.TargetID))
}

// Verify reads both logs whole, each up to its head when Verify starts,
// in position order, and compares them event by event: counts, digests
// and the first difference. Logs that differ return the report and an
// error wrapping ErrMismatch that names the first differing event.
func Verify(ctx context.Context, source, target eventstore.Store, batch int) (Report, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	var r Report
	sHead, err := source.Head(ctx)
	if err != nil {
		return r, fmt.Errorf("head of the source log: %w", err)
	}
	tHead, err := target.Head(ctx)
	if err != nil {
		return r, fmt.Errorf("head of the target log: %w", err)
	}
	sc := newCursor(source, "source", eventstore.Position{}, sHead, batch)
	tc := newCursor(target, "target", eventstore.Position{}, tHead, batch)
	sd, td := NewDigest(), NewDigest()
	for {
		se, sok, err := sc.next(ctx)
		if err != nil {
			return r, err
		}
		te, tok, err := tc.next(ctx)
		if err != nil {
			return r, err
		}
		if !sok && !tok {
			break
		}
		if sok {
			sd.Add(se)
		}
		if tok {
			td.Add(te)
		}
		if r.First != nil {
			continue
		}
		d := Difference{Index: max(sd.Count(), td.Count())}
		switch {
		case !sok:
			d.Field = "only in the target"
		case !tok:
			d.Field = "missing from the target"
		default:
			d.Field = differs(se, te)
		}
		if d.Field != "" {
			if sok {
				d.SourcePosition, d.SourceID = se.Position, se.ID
			}
			if tok {
				d.TargetPosition, d.TargetID = te.Position, te.ID
			}
			r.First = &d
		}
	}
	r.SourceEvents, r.TargetEvents = sd.Count(), td.Count()
	r.SourceSum, r.TargetSum = sd.Sum(), td.Sum()
	if r.First != nil {
		return r, fmt.Errorf("%w: %d events (sha256 %s) in the source, %d (sha256 %s) in the target; first difference: %s",
			ErrMismatch, r.SourceEvents, r.SourceSum, r.TargetEvents, r.TargetSum, r.First)
	}
	if r.SourceSum != r.TargetSum || r.SourceEvents != r.TargetEvents {
		return r, fmt.Errorf("%w: the digests differ though every event compared equal", ErrMismatch)
	}
	return r, nil
}
