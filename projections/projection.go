package projections

import (
	"context"
	"fmt"
	"regexp"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Projection is one read model: a name, the tables it owns (and nothing
// else writes), and one handler per event type it consumes.
type Projection struct {
	name     string
	tables   []string
	handlers map[string]handler
	raw      map[string]bool // types whose handler takes the event as stored (OnRecorded): not decoded
	err      error
}

type handler func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e eventstore.Event) error

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// New starts the definition of a projection. name is also its checkpoint
// key and part of its rebuild schema's name: lower case, digits and _.
// tables are the tables it owns; Rebuild replaces exactly these. They must
// not have serial columns or foreign keys (rebuild copies them with LIKE).
func New(name string, tables ...string) *Projection {
	p := &Projection{name: name, tables: tables, handlers: map[string]handler{}}
	if !validName.MatchString(name) {
		p.err = fmt.Errorf("projection name %q: want %s", name, validName)
	}
	for _, t := range tables {
		if !validName.MatchString(t) {
			p.err = fmt.Errorf("projection %s: table name %q: want %s", name, t, validName)
		}
	}
	return p
}

// Name returns the projection's name.
func (p *Projection) Name() string { return p.name }

// Tables returns the tables the projection owns.
func (p *Projection) Tables() []string { return p.tables }

// On registers fn as the projection's handler of events of type E. fn runs
// inside the batch's transaction; it must change only the projection's own
// tables, through tx.
func On[E eventstore.Event](p *Projection, fn func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e E) error) {
	var zero E
	name := zero.EventType()
	if _, dup := p.handlers[name]; dup {
		p.err = fmt.Errorf("projection %s: two handlers for %s", p.name, name)
		return
	}
	p.handlers[name] = func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e eventstore.Event) error {
		typed, ok := e.(E)
		if !ok {
			return fmt.Errorf("projection %s: %s decoded as %T, want %T", p.name, name, e, zero)
		}
		return fn(ctx, tx, rec, typed)
	}
}

// check reports definition mistakes: bad names, duplicate handlers, and
// handlers of types the registry does not know.
func (p *Projection) check(reg *eventstore.Registry) error {
	if p.err != nil {
		return p.err
	}
	for t := range p.handlers {
		if !reg.Known(t) {
			return fmt.Errorf("projection %s handles %s, which is not registered", p.name, t)
		}
	}
	return nil
}

// OnRecorded registers fn as the projection's handler of events of the named
// type, for projections that record events as they were stored whatever
// their Go type (the audit log). fn runs inside the batch's transaction.
func OnRecorded(p *Projection, typeName string, fn func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent) error) {
	if _, dup := p.handlers[typeName]; dup {
		p.err = fmt.Errorf("projection %s: two handlers for %s", p.name, typeName)
		return
	}
	p.handlers[typeName] = func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, _ eventstore.Event) error {
		return fn(ctx, tx, rec)
	}
	if p.raw == nil {
		p.raw = map[string]bool{}
	}
	p.raw[typeName] = true
}
