package domain

import "time"

// Event is a fact an aggregate recorded. Its type name is stable for ever
// ("flow.version_published"); a new shape gets a new schema version and an
// upcaster in eventstore, never a new meaning under the old name.
type Event interface {
	EventType() string
}

// Root is embedded by every aggregate: the revision of its stream it was
// rebuilt from, and the events it recorded since. Aggregates change state
// only in their apply method, which both Record (new events) and replay
// (stored events) go through.
type Root struct {
	revision uint64
	exists   bool
	pending  []Event
}

// Revision returns the revision of the last stored event the aggregate has
// seen; exists is false for an aggregate with no stored events.
func (r *Root) Revision() (revision uint64, exists bool) { return r.revision, r.exists }

// Pending returns the events recorded since the aggregate was loaded.
func (r *Root) Pending() []Event { return r.pending }

// Record adds a new event after apply has applied it.
func (r *Root) Record(e Event) { r.pending = append(r.pending, e) }

// Replayed notes that a stored event at revision has been applied.
func (r *Root) Replayed(revision uint64) { r.revision, r.exists = revision, true }

// Saved notes that the pending events were stored, the last at revision.
func (r *Root) Saved(revision uint64) {
	r.revision, r.exists, r.pending = revision, true, nil
}

// SavedUpTo notes that the first n pending events were stored, the last
// at revision; the events recorded after them stay pending (an aggregate
// that keeps recording while its earlier events are being appended: a
// run).
func (r *Root) SavedUpTo(n int, revision uint64) {
	r.revision, r.exists = revision, true
	r.pending = append([]Event(nil), r.pending[n:]...)
}

// Schema pairs an event type with the schema version this binary writes,
// for the event registry.
type Schema struct {
	Event   Event
	Version int
}

// V1 lists events whose schema is at version 1.
func V1(events ...Event) []Schema {
	out := make([]Schema, len(events))
	for i, e := range events {
		out[i] = Schema{Event: e, Version: 1}
	}
	return out
}

// Timed is an aggregate that keeps the time of its last change (from the
// events' metadata, which the repository passes in after each event it
// folds and after each save); the domain itself reads no clock.
type Timed interface {
	Stamp(occurredAt time.Time)
}

// Snapshotter is an aggregate whose state the repository may cache as a
// snapshot (for long streams with big events, such as flows and their
// graphs): loading then folds only the events after it. A snapshot is a
// cache of the fold, never a truth: SnapshotVersion changes whenever the
// state's shape does, which discards older snapshots.
type Snapshotter interface {
	SnapshotVersion() int
	Snapshot() ([]byte, error)
	Restore(state []byte) error
}

// RaceRule is what a write of an aggregate does when its save lost a race
// with another writer of its stream: it is decided again on the new state,
// Attempts times in all (at least 1), then the lost race is the answer (a
// 409 conflict). An aggregate declares its rule (Raced); those that do
// not get DefaultRaceRule.
type RaceRule struct {
	Attempts int
}

// Raced is an aggregate that declares its race rule.
type Raced interface {
	RaceRule() RaceRule
}

// DefaultRaceRule is the rule of an aggregate that declares none: a few
// attempts (a user, a claim, a message session).
var DefaultRaceRule = RaceRule{Attempts: 5}

// Shared is the rule of an aggregate many writers share (a tenant's
// configs, dictionary, catalogues, user groups …): a lost race is common
// and cheap to decide again.
var Shared = RaceRule{Attempts: 20}

// RaceRuleOf returns the rule a declares, or DefaultRaceRule.
func RaceRuleOf(a any) RaceRule {
	if r, ok := a.(Raced); ok {
		if rule := r.RaceRule(); rule.Attempts > 0 {
			return rule
		}
	}
	return DefaultRaceRule
}

// recorder is an aggregate as its behaviour changes it: its state by
// Apply, its pending events in its Root.
type recorder interface {
	Apply(Event)
	Root() *Root
}

// record is the one way an aggregate's behaviour changes it: e is applied
// to its state and kept pending in its root, to be saved.
func record(a recorder, e Event) {
	a.Apply(e)
	a.Root().Record(e)
}

// The field-change helpers of the aggregates' Change methods.

// differs returns v when it is set and differs from cur, else nil.
func differs[T comparable](v *T, cur T) *T {
	if v != nil && *v != cur {
		return v
	}
	return nil
}

// setIf copies *v into dst when v is not nil.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
