package eventstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// Event is a domain event: a Go value with a stable type name.
type Event interface {
	EventType() string
}

// Upcaster turns the JSON of one schema version into the next version's.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// Registry knows every event type of the running binary: its current schema
// version, how to make an empty value of it, and how to upcast older stored
// versions. main builds one; there is no global registry.
type Registry struct {
	types map[string]*registeredType
}

type registeredType struct {
	version   int
	goType    reflect.Type
	upcasters map[int]Upcaster // from version -> version+1
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: make(map[string]*registeredType)}
}

// Register adds an event type at its current schema version (>= 1). The
// prototype is a zero value of the event (a struct, not a pointer).
func (r *Registry) Register(prototype Event, schemaVersion int) error {
	name := prototype.EventType()
	t := reflect.TypeOf(prototype)
	switch {
	case name == "":
		return fmt.Errorf("register %s: empty event type name", t)
	case schemaVersion < 1:
		return fmt.Errorf("register %s: schema version %d < 1", name, schemaVersion)
	case t.Kind() == reflect.Pointer:
		return fmt.Errorf("register %s: prototype must be a value, not a pointer", name)
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("register %s: already registered", name)
	}
	r.types[name] = &registeredType{version: schemaVersion, goType: t, upcasters: map[int]Upcaster{}}
	return nil
}

// AddUpcaster registers the step from schema version from to from+1 of a
// registered type.
func (r *Registry) AddUpcaster(typeName string, from int, up Upcaster) error {
	rt, ok := r.types[typeName]
	if !ok {
		return fmt.Errorf("upcaster for %s: type not registered", typeName)
	}
	if from < 1 || from >= rt.version {
		return fmt.Errorf("upcaster for %s: from version %d is not below current version %d", typeName, from, rt.version)
	}
	rt.upcasters[from] = up
	return nil
}

// Types lists the registered type names, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.types))
	for t := range r.types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Known reports whether typeName is registered.
func (r *Registry) Known(typeName string) bool {
	_, ok := r.types[typeName]
	return ok
}

// Encode turns an event into EventData at its current schema version. The
// caller sets ID and Metadata.
func (r *Registry) Encode(e Event) (EventData, error) {
	name := e.EventType()
	rt, ok := r.types[name]
	if !ok {
		return EventData{}, fmt.Errorf("encode %s: type not registered", name)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return EventData{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return EventData{Type: name, SchemaVersion: rt.version, Data: data}, nil
}

// Decode turns a recorded event into its Go value (a struct value of the
// registered type), upcasting older schema versions first. An unregistered
// type yields *UnknownEventTypeError.
func (r *Registry) Decode(rec RecordedEvent) (Event, error) {
	rt, ok := r.types[rec.Type]
	if !ok {
		return nil, &UnknownEventTypeError{Type: rec.Type, Position: rec.Position}
	}
	data, err := r.upcast(rt, rec)
	if err != nil {
		return nil, err
	}
	ptr := reflect.New(rt.goType)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s at position %s: %w", rec.Type, rec.Position, err)
	}
	return ptr.Elem().Interface().(Event), nil
}

func (r *Registry) upcast(rt *registeredType, rec RecordedEvent) (json.RawMessage, error) {
	data := rec.Data
	switch {
	case rec.SchemaVersion == rt.version:
		return data, nil
	case rec.SchemaVersion > rt.version:
		return nil, fmt.Errorf("decode %s at position %s: schema version %d is newer than this binary's %d",
			rec.Type, rec.Position, rec.SchemaVersion, rt.version)
	case rec.SchemaVersion < 1:
		return nil, fmt.Errorf("decode %s at position %s: schema version %d", rec.Type, rec.Position, rec.SchemaVersion)
	}
	for v := rec.SchemaVersion; v < rt.version; v++ {
		up, ok := rt.upcasters[v]
		if !ok {
			return nil, fmt.Errorf("decode %s at position %s: no upcaster from schema version %d", rec.Type, rec.Position, v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("upcast %s v%d at position %s: %w", rec.Type, v, rec.Position, err)
		}
	}
	return data, nil
}
