package eventstore

import (
	"time"

	"github.com/skillflaw/skillflaw-go/domain"
)

// Folded is what Fold folds events into: an aggregate, its state changed
// by Apply, its revision kept in its Root.
type Folded interface {
	Apply(domain.Event)
	Root() *domain.Root
}

// Fold is the one fold of a stream's events into an aggregate — for
// loading it (commands.Repository), its history, an as-of read or a diff,
// and the audit replay. It folds recs in order while keep accepts them
// (nil: every one) and returns how many it folded: each is decoded with
// reg, applied, its revision noted in the root and, for a domain.Timed
// aggregate, its time stamped; each (when not nil) sees every folded
// event. The one rule for an event of a type reg does not know: it is
// reported — Fold stops with its *UnknownEventTypeError, with what it
// folded before — and never skipped, as a state folded without it could
// be wrong. Likewise an aggregate that can tell its folded state is wrong
// (Fault, as a flow whose graph patches do not apply) makes Fold stop with
// that error.
func Fold(reg *Registry, agg Folded, recs []RecordedEvent, keep func(RecordedEvent) bool,
	each func(RecordedEvent, domain.Event)) (int, error) {
	n := 0
	for _, rec := range recs {
		if keep != nil && !keep(rec) {
			break
		}
		e, err := reg.Decode(rec)
		if err != nil {
			return n, err
		}
		agg.Apply(e)
		agg.Root().Replayed(rec.StreamVersion)
		if t, ok := agg.(domain.Timed); ok {
			t.Stamp(rec.Metadata.OccurredAt.UTC().Truncate(time.Microsecond))
		}
		if each != nil {
			each(rec, e)
		}
		n++
	}
	if f, ok := agg.(interface{ Fault() error }); ok {
		if err := f.Fault(); err != nil {
			return n, err
		}
	}
	return n, nil
}
