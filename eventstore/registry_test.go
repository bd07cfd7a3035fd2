package eventstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// renamed is at schema version 3: v1 had {"name"}, v2 {"title"}, v3 adds
// {"title","lang"}.
type renamed struct {
	Title string `json:"title"`
	Lang  string `json:"lang"`
}

func (renamed) EventType() string { return "thing.renamed" }

type created struct {
	Name string `json:"name"`
}

func (created) EventType() string { return "thing.created" }

func newRegistry(t *testing.T) *eventstore.Registry {
	t.Helper()
	r := eventstore.NewRegistry()
	require.NoError(t, r.Register(created{}, 1))
	require.NoError(t, r.Register(renamed{}, 3))
	require.NoError(t, r.AddUpcaster("thing.renamed", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var v1 struct{ Name string }
		if err := json.Unmarshal(d, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"title": v1.Name})
	}))
	require.NoError(t, r.AddUpcaster("thing.renamed", 2, func(d json.RawMessage) (json.RawMessage, error) {
		var v2 map[string]any
		if err := json.Unmarshal(d, &v2); err != nil {
			return nil, err
		}
		v2["lang"] = "en"
		return json.Marshal(v2)
	}))
	return r
}

func TestRegistry_Decode(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	cases := []struct {
		name    string
		rec     eventstore.RecordedEvent
		want    eventstore.Event
		wantErr string
	}{
		{"current_version", eventstore.RecordedEvent{Type: "thing.renamed", SchemaVersion: 3, Data: json.RawMessage(`{"title":"a","lang":"fr"}`)}, renamed{"a", "fr"}, ""},
		{"upcast_from_v1", eventstore.RecordedEvent{Type: "thing.renamed", SchemaVersion: 1, Data: json.RawMessage(`{"name":"old"}`)}, renamed{"old", "en"}, ""},
		{"upcast_from_v2", eventstore.RecordedEvent{Type: "thing.renamed", SchemaVersion: 2, Data: json.RawMessage(`{"title":"mid"}`)}, renamed{"mid", "en"}, ""},
		{"newer_than_binary", eventstore.RecordedEvent{Type: "thing.renamed", SchemaVersion: 4, Data: json.RawMessage(`{}`)}, nil, "newer than this binary"},
		{"no_upcaster", eventstore.RecordedEvent{Type: "thing.created", SchemaVersion: 0, Data: json.RawMessage(`{}`)}, nil, "schema version 0"},
		{"bad_json", eventstore.RecordedEvent{Type: "thing.created", SchemaVersion: 1, Data: json.RawMessage(`{"name":1}`)}, nil, "decode thing.created"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Decode(tc.rec)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRegistry_UnknownTypeIsReported(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	_, err := r.Decode(eventstore.RecordedEvent{Type: "thing.vanished", SchemaVersion: 1, Position: eventstore.At(9), Data: json.RawMessage(`{}`)})
	var unknown *eventstore.UnknownEventTypeError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "thing.vanished", unknown.Type)
	assert.Equal(t, eventstore.At(9), unknown.Position)
	assert.False(t, r.Known("thing.vanished"))
	assert.True(t, r.Known("thing.created"))
}

func TestRegistry_Encode(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	d, err := r.Encode(renamed{Title: "x", Lang: "de"})
	require.NoError(t, err)
	assert.Equal(t, "thing.renamed", d.Type)
	assert.Equal(t, 3, d.SchemaVersion)
	assert.JSONEq(t, `{"title":"x","lang":"de"}`, string(d.Data))

	_, err = eventstore.NewRegistry().Encode(created{})
	require.Error(t, err)
}

func TestRegistry_RegistrationErrors(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	for name, err := range map[string]error{
		"duplicate":          r.Register(created{}, 1),
		"version_zero":       eventstore.NewRegistry().Register(created{}, 0),
		"pointer_prototype":  eventstore.NewRegistry().Register(&created{}, 1),
		"upcaster_unknown":   r.AddUpcaster("nope", 1, nil),
		"upcaster_too_new":   r.AddUpcaster("thing.renamed", 3, nil),
		"upcaster_version_0": r.AddUpcaster("thing.renamed", 0, nil),
	} {
		assert.Error(t, err, name)
	}
}

func TestPosition_ParseAndString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "42", "18446744073709551615", "10/7"} {
		p, err := eventstore.ParsePosition(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, p.String())
	}
	for _, s := range []string{"", "-1", "x", "1/", "1/x", strings.Repeat("9", 30)} {
		_, err := eventstore.ParsePosition(s)
		assert.Error(t, err, s)
	}
	assert.True(t, eventstore.At(1).Less(eventstore.At(2)))
	assert.True(t, eventstore.Position{Commit: 5, Prepare: 1}.Less(eventstore.Position{Commit: 5, Prepare: 2}))
	assert.False(t, eventstore.At(3).Less(eventstore.At(3)))
}
