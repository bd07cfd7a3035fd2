package kurrentdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

func ptr(v uint64) *uint64 { return &v }

func TestStreamState(t *testing.T) {
	cases := map[string]struct {
		in   eventstore.ExpectedVersion
		want kdb.StreamState
	}{
		"any":           {eventstore.Any(), kdb.Any{}},
		"no_stream":     {eventstore.NoStream(), kdb.NoStream{}},
		"stream_exists": {eventstore.StreamExists(), kdb.StreamExists{}},
		"revision_0":    {eventstore.Exact(0), kdb.StreamRevision{Value: 0}},
		"revision_41":   {eventstore.Exact(41), kdb.StreamRevision{Value: 41}},
		"revision_max":  {eventstore.Exact(eventstore.MaxRevision), kdb.StreamRevision{Value: eventstore.MaxRevision}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, streamState(tc.in))
		})
	}
}

func TestPositions(t *testing.T) {
	t.Run("zero_is_the_start_of_all", func(t *testing.T) {
		assert.Equal(t, kdb.Start{}, allFrom(eventstore.Position{}))
	})
	t.Run("round_trip", func(t *testing.T) {
		for _, p := range []eventstore.Position{{Commit: 1, Prepare: 1}, {Commit: 1234, Prepare: 1200}, {Commit: ^uint64(0), Prepare: 7}} {
			from := allFrom(p)
			kp, ok := from.(kdb.Position)
			require.True(t, ok, "%T", from)
			assert.Equal(t, kdb.Position{Commit: p.Commit, Prepare: p.Prepare}, kp)
			assert.Equal(t, p, position(kp))
		}
	})
	t.Run("after_is_strict", func(t *testing.T) {
		cursor := eventstore.Position{Commit: 100, Prepare: 90}
		assert.False(t, after(cursor, cursor), "the event at the cursor is not after it")
		assert.False(t, after(eventstore.Position{Commit: 99, Prepare: 99}, cursor))
		assert.False(t, after(eventstore.Position{Commit: 100, Prepare: 80}, cursor))
		assert.True(t, after(eventstore.Position{Commit: 100, Prepare: 95}, cursor))
		assert.True(t, after(eventstore.Position{Commit: 101, Prepare: 0}, cursor))
		assert.True(t, after(eventstore.Position{Commit: 1, Prepare: 1}, eventstore.Position{}), "everything is after the zero Position")
	})
}

func TestNames(t *testing.T) {
	p := names{prefix: "app1-"}
	assert.Equal(t, "app1-flow-9", p.full("flow-9"))
	local, ok := p.local("app1-flow-9")
	assert.True(t, ok)
	assert.Equal(t, "flow-9", local)
	_, ok = p.local("app2-flow-9")
	assert.False(t, ok)

	none := names{}
	assert.Equal(t, "flow-9", none.full("flow-9"))
	local, ok = none.local("flow-9")
	assert.True(t, ok)
	assert.Equal(t, "flow-9", local)
}

func TestVisible(t *testing.T) {
	cases := []struct {
		name, prefix, stream, eventType string
		want                            bool
	}{
		{"user_event", "", "flow-1", "flow.created", true},
		{"system_type", "", "flow-1", "$streamDeleted", false},
		{"system_stream", "", "$stats-127.0.0.1:2113", "$statsCollected", false},
		{"metadata_stream", "", "$$flow-1", "$metadata", false},
		{"user_type_in_system_stream", "", "$ce-flow", "flow.created", false},
		{"projection_link", "", "$et-flow.created", "$>", false},
		{"epoch", "", "$epoch-information", "$epoch-information", false},
		{"own_prefix", "app1-", "app1-flow-1", "flow.created", true},
		{"other_prefix", "app1-", "app2-flow-1", "flow.created", false},
		{"no_prefix_on_prefixed_store", "app1-", "flow-1", "flow.created", false},
		{"system_type_own_prefix", "app1-", "app1-flow-1", "$metadata", false},
		{"prefix_alone", "app1-", "app1-", "flow.created", false},
		{"dollar_after_prefix", "app1-", "app1-$x", "flow.created", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, names{prefix: tc.prefix}.visible(tc.stream, tc.eventType))
		})
	}
}

func TestFilter(t *testing.T) {
	assert.Equal(t, &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: []string{"app1-"}}, names{prefix: "app1-"}.filter())
	f := names{}.filter()
	assert.Equal(t, kdb.StreamFilterType, f.Type)
	assert.Empty(t, f.Prefixes)
	assert.Equal(t, `^[^$]`, f.Regex)
}

func sampleEvent() eventstore.EventData {
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          "test.enveloped",
		SchemaVersion: 3,
		Data:          json.RawMessage(`{"name":"ünïcode ✓","n":null}`),
		Metadata: eventstore.Metadata{
			ActorUserID:   42,
			TenantID:      uuid.New(),
			BusinessID:    7,
			CorrelationID: "req-1",
			CausationID:   "cmd-1",
			ClientIP:      "203.0.113.9",
			OccurredAt:    time.Date(2026, 11, 27, 10, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		},
	}
}

func TestMetadata_RoundTrip(t *testing.T) {
	in := sampleEvent()
	raw, err := encodeMetadata(in.Metadata, in.SchemaVersion)
	require.NoError(t, err)

	// Multi-stream appends take only a JSON object of string values.
	var asStrings map[string]string
	require.NoError(t, json.Unmarshal(raw, &asStrings), "metadata %s", raw)
	assert.Equal(t, "3", asStrings["schema_version"])
	assert.Equal(t, "42", asStrings["actor_user_id"])

	got, version, err := decodeMetadata(raw)
	require.NoError(t, err)
	assert.Equal(t, 3, version)
	assert.True(t, in.Metadata.OccurredAt.Equal(got.OccurredAt))
	assert.Equal(t, time.UTC, got.OccurredAt.Location())
	want := in.Metadata
	want.OccurredAt = got.OccurredAt
	assert.Equal(t, want, got)
}

func TestMetadata_Decode(t *testing.T) {
	tenant := uuid.New()
	cases := map[string]struct {
		raw     string
		want    eventstore.Metadata
		version int
	}{
		"none":               {"", eventstore.Metadata{}, 1},
		"empty_object":       {"{}", eventstore.Metadata{}, 1},
		"no_schema_version":  {`{"actor_user_id":"5"}`, eventstore.Metadata{ActorUserID: 5}, 1},
		"numbers_accepted":   {`{"actor_user_id":5,"business_id":9,"schema_version":2}`, eventstore.Metadata{ActorUserID: 5, BusinessID: 9}, 2},
		"unknown_keys_kept":  {`{"$schema.name":"x","$schema.format":"Json","client_ip":"::1"}`, eventstore.Metadata{ClientIP: "::1"}, 1},
		"nulls":              {`{"tenant_id":null,"actor_user_id":null}`, eventstore.Metadata{}, 1},
		"tenant_and_time":    {`{"tenant_id":"` + tenant.String() + `","occurred_at":"2026-01-02T03:04:05.000006Z"}`, eventstore.Metadata{TenantID: tenant, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}, 1},
		"whitespace_only":    {"  \n", eventstore.Metadata{}, 1},
		"correlation_fields": {`{"correlation_id":"c","causation_id":"k"}`, eventstore.Metadata{CorrelationID: "c", CausationID: "k"}, 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, version, err := decodeMetadata([]byte(tc.raw))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.version, version)
		})
	}
	bad := map[string]string{
		"not_json":         `{`,
		"array":            `[1]`,
		"actor_not_int":    `{"actor_user_id":"x"}`,
		"actor_fraction":   `{"actor_user_id":1.5}`,
		"tenant_not_uuid":  `{"tenant_id":"nope"}`,
		"time_not_rfc3339": `{"occurred_at":"yesterday"}`,
		"object_value":     `{"client_ip":{"a":1}}`,
		"version_not_int":  `{"schema_version":"two"}`,
	}
	for name, raw := range bad {
		t.Run("bad_"+name, func(t *testing.T) {
			_, _, err := decodeMetadata([]byte(raw))
			require.Error(t, err)
		})
	}
}

func TestEvent_RoundTrip(t *testing.T) {
	n := names{prefix: "app1-"}
	in := sampleEvent()
	now := time.Now()
	data, err := eventData(in, now)
	require.NoError(t, err)
	assert.Equal(t, in.ID, data.EventID)
	assert.Equal(t, in.Type, data.EventType)
	assert.Equal(t, kdb.ContentTypeJson, data.ContentType)
	assert.Equal(t, []byte(in.Data), data.Data)

	// What the server gives back for it.
	created := time.Date(2026, 11, 27, 10, 31, 0, 987654300, time.UTC)
	stored := &kdb.RecordedEvent{
		EventID:     data.EventID,
		EventType:   data.EventType,
		ContentType: "application/json",
		StreamID:    n.full("flow-1"),
		EventNumber: 4,
		Position:    kdb.Position{Commit: 5000, Prepare: 4900},
		CreatedDate: created,
		Data:        data.Data,
		UserMetadata: func() []byte {
			// Multi-stream appends add schema keys; they are ignored.
			var m map[string]string
			require.NoError(t, json.Unmarshal(data.Metadata, &m))
			m["$schema.name"], m["$schema.format"] = data.EventType, "Json"
			b, err := json.Marshal(m)
			require.NoError(t, err)
			return b
		}(),
	}
	got, ok, err := n.recorded(stored)
	require.NoError(t, err)
	require.True(t, ok)
	wantMeta := in.Metadata
	wantMeta.OccurredAt = in.Metadata.OccurredAt.UTC().Truncate(time.Microsecond)
	assert.Equal(t, eventstore.RecordedEvent{
		ID:            in.ID,
		StreamID:      "flow-1",
		StreamVersion: 4,
		Position:      eventstore.Position{Commit: 5000, Prepare: 4900},
		Type:          in.Type,
		SchemaVersion: 3,
		Data:          in.Data,
		Metadata:      wantMeta,
		RecordedAt:    created.Truncate(time.Microsecond),
	}, got)

	t.Run("zero_occurred_at_is_the_append_time", func(t *testing.T) {
		e := sampleEvent()
		e.Metadata.OccurredAt = time.Time{}
		data, err := eventData(e, now)
		require.NoError(t, err)
		meta, _, err := decodeMetadata(data.Metadata)
		require.NoError(t, err)
		assert.Equal(t, now.UTC().Truncate(time.Microsecond), meta.OccurredAt)
	})
	t.Run("system_and_foreign_events_are_dropped", func(t *testing.T) {
		for _, r := range []*kdb.RecordedEvent{
			nil,
			{EventType: "$metadata", StreamID: "$$app1-flow-1"},
			{EventType: "$streamDeleted", StreamID: "app1-flow-1"},
			{EventType: "flow.created", StreamID: "app2-flow-1", UserMetadata: []byte("not even json")},
		} {
			_, ok, err := n.recorded(r)
			assert.NoError(t, err)
			assert.False(t, ok)
		}
	})
	t.Run("undecodable_metadata_is_an_error", func(t *testing.T) {
		bad := *stored
		bad.UserMetadata = []byte(`{"actor_user_id":"x"}`)
		_, _, err := n.recorded(&bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "flow-1")
	})
}

func TestCheckEvents(t *testing.T) {
	good := sampleEvent()
	bad := sampleEvent()
	bad.Data = json.RawMessage(`{`)
	require.NoError(t, checkEvents([]eventstore.EventData{good}))
	require.ErrorIs(t, checkEvents([]eventstore.EventData{good, bad}), eventstore.ErrInvalidAppend)
	system := sampleEvent()
	system.Type = "$metadata"
	require.ErrorIs(t, checkEvents([]eventstore.EventData{good, system}), eventstore.ErrInvalidAppend)
}

// wrongVersionText is the client's (v1.4.2) text of a single append's
// wrong expected version, from client.go.
func wrongVersionText(expected, current string) error {
	return fmt.Errorf("wrong expected version: expecting '%s' but got '%s'", expected, current)
}

func TestActualFromMessage(t *testing.T) {
	cases := []struct {
		msg    string
		actual *uint64
		known  bool
	}{
		{wrongVersionText("no_stream", "1").Error(), ptr(1), true},
		{wrongVersionText("0", "17").Error(), ptr(17), true},
		{wrongVersionText("7", "no_stream").Error(), nil, true},
		{wrongVersionText("stream_exists", "no_stream").Error(), nil, true},
		{"[ErrorCodeWrongExpectedVersion] an append request failed: " + wrongVersionText("any", "3").Error(), ptr(3), true},
		{"something else", nil, false},
		{"but got 'x'", nil, false},
		{"but got '12", nil, false},
		{wrongVersionText("0", "-1").Error(), nil, false},
	}
	for _, tc := range cases {
		actual, known := actualFromMessage(tc.msg)
		assert.Equal(t, tc.actual, actual, tc.msg)
		assert.Equal(t, tc.known, known, tc.msg)
	}
}

func TestClassify(t *testing.T) {
	n := names{prefix: "app1-"}
	boom := errors.New("boom")
	cases := []struct {
		name     string
		code     kdb.ErrorCode
		inner    error
		stream   string  // of the WrongExpectedVersionError, "" for other errors
		actual   *uint64 // of the WrongExpectedVersionError
		known    bool
		is       []error
		contains string
	}{
		{name: "wrong_version_revision", code: kdb.ErrorCodeWrongExpectedVersion, inner: wrongVersionText("0", "2"), stream: "s", actual: ptr(2), known: true, is: []error{domain.ErrConflict}},
		{name: "wrong_version_no_stream", code: kdb.ErrorCodeWrongExpectedVersion, inner: wrongVersionText("0", "no_stream"), stream: "s", known: true, is: []error{domain.ErrConflict}},
		{name: "wrong_version_unreadable", code: kdb.ErrorCodeWrongExpectedVersion, inner: errors.New("?"), stream: "s", known: false, is: []error{domain.ErrConflict}},
		{name: "revision_conflict_names_its_stream", code: kdb.ErrorCodeStreamRevisionConflict,
			inner:  &kdb.StreamRevisionConflictError{Stream: "app1-b", ExpectedRevision: kdb.StreamRevision{Value: 0}, ActualRevision: kdb.StreamRevision{Value: 1}},
			stream: "b", actual: ptr(1), known: true, is: []error{domain.ErrConflict}},
		{name: "revision_conflict_no_stream", code: kdb.ErrorCodeStreamRevisionConflict,
			inner:  &kdb.StreamRevisionConflictError{Stream: "app1-b", ExpectedRevision: kdb.StreamExists{}, ActualRevision: kdb.NoStream{}},
			stream: "b", known: true, is: []error{domain.ErrConflict}},
		{name: "consistency_violation", code: kdb.ErrorCodeAppendConsistencyViolation,
			inner: &kdb.AppendConsistencyViolationError{Violations: []kdb.ConsistencyViolation{
				{CheckIndex: 1, Stream: "app1-c", ExpectedState: kdb.NoStream{}, ActualState: kdb.StreamRevision{Value: 4}},
			}},
			stream: "c", actual: ptr(4), known: true, is: []error{domain.ErrConflict}},
		{name: "stream_deleted", code: kdb.ErrorCodeStreamDeleted, inner: errors.New("stream 'app1-s' is deleted"), known: true,
			is: []error{eventstore.ErrStreamDeleted, domain.ErrConflict}, contains: "s"},
		{name: "stream_tombstoned", code: kdb.ErrorCodeStreamTombstoned, inner: &kdb.StreamTombstoneError{Stream: "app1-s"}, known: true,
			is: []error{eventstore.ErrStreamDeleted, domain.ErrConflict}},
		{name: "not_leader", code: kdb.ErrorCodeNotLeader, known: true, is: []error{eventstore.ErrNotLeader}},
		{name: "other", code: kdb.ErrorUnavailable, inner: boom, known: true, is: []error{boom}, contains: "append to s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			whole := fmt.Errorf("client: %w", tc.inner)
			if tc.inner == nil {
				whole = errors.New("client")
			}
			got, known := classify(n, "s", eventstore.Exact(0), tc.code, tc.inner, whole)
			require.Error(t, got)
			assert.Equal(t, tc.known, known)
			var wrong *eventstore.WrongExpectedVersionError
			if tc.stream != "" {
				require.ErrorAs(t, got, &wrong)
				assert.Equal(t, tc.stream, wrong.Stream)
				assert.Equal(t, tc.actual, wrong.Actual)
				assert.Equal(t, eventstore.Exact(0), wrong.Expected)
			} else {
				assert.False(t, errors.As(got, &wrong), "%v", got)
			}
			for _, target := range tc.is {
				assert.ErrorIs(t, got, target)
			}
			if tc.code == kdb.ErrorCodeNotLeader || tc.code == kdb.ErrorUnavailable {
				assert.NotErrorIs(t, got, domain.ErrConflict)
			}
			if tc.contains != "" {
				assert.Contains(t, got.Error(), tc.contains)
			}
		})
	}
}

func TestAppendError_NotAClientError(t *testing.T) {
	boom := errors.New("boom")
	got, known := appendError(names{}, "s", eventstore.Any(), boom)
	assert.True(t, known)
	require.ErrorIs(t, got, boom)
	assert.NotErrorIs(t, got, domain.ErrConflict)
	assert.Contains(t, got.Error(), "append to s")

	// The client's FromError wraps foreign errors as ErrorCodeUnknown.
	wrapped, _ := kdb.FromError(boom)
	got, _ = appendError(names{}, "s", eventstore.Any(), wrapped)
	require.ErrorIs(t, got, boom)
	assert.NotErrorIs(t, got, domain.ErrConflict)
}

func TestClassifyRead(t *testing.T) {
	boom := errors.New("boom")
	got, notFound := classifyRead("stream s", kdb.ErrorCodeResourceNotFound, boom)
	assert.NoError(t, got)
	assert.True(t, notFound)
	for _, code := range []kdb.ErrorCode{kdb.ErrorCodeStreamDeleted, kdb.ErrorCodeStreamTombstoned} {
		got, notFound = classifyRead("stream s", code, boom)
		assert.False(t, notFound)
		assert.ErrorIs(t, got, eventstore.ErrStreamDeleted)
	}
	got, _ = classifyRead("stream s", kdb.ErrorCodeNotLeader, boom)
	assert.ErrorIs(t, got, eventstore.ErrNotLeader)
	got, _ = classifyRead("$all", kdb.ErrorCodeAccessDenied, boom)
	assert.ErrorIs(t, got, boom)
	assert.Contains(t, got.Error(), "read $all")

	got, notFound = readError("stream s", boom)
	assert.False(t, notFound)
	assert.ErrorIs(t, got, boom)
}

func TestPermanent(t *testing.T) {
	for _, code := range []kdb.ErrorCode{kdb.ErrorCodeAccessDenied, kdb.ErrorCodeUnauthenticated, kdb.ErrorCodeUnsupportedFeature, kdb.ErrorCodeParsing} {
		assert.True(t, permanentCode(code), "code %d", code)
	}
	for _, code := range []kdb.ErrorCode{kdb.ErrorUnavailable, kdb.ErrorCodeDeadlineExceeded, kdb.ErrorCodeNotLeader, kdb.ErrorCodeConnectionClosed, kdb.ErrorCodeUnknown, kdb.ErrorAborted} {
		assert.False(t, permanentCode(code), "code %d", code)
	}
	assert.True(t, permanent(decodeError{errors.New("bad metadata")}))
	assert.False(t, permanent(errors.New("connection reset")))
}

func TestServerVersions(t *testing.T) {
	cases := []struct {
		v              kdb.ServerVersion
		multi, records bool
	}{
		{kdb.ServerVersion{}, false, false},
		{kdb.ServerVersion{Major: 24, Minor: 10, Patch: 5}, false, false},
		{kdb.ServerVersion{Major: 25, Minor: 0, Patch: 1}, false, false},
		{kdb.ServerVersion{Major: 25, Minor: 1, Patch: 0}, true, false},
		{kdb.ServerVersion{Major: 26, Minor: 0, Patch: 0}, true, false},
		{kdb.ServerVersion{Major: 26, Minor: 1, Patch: 0}, true, true},
		{kdb.ServerVersion{Major: 27, Minor: 0, Patch: 0}, true, true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.multi, supportsMultiAppend(tc.v), "%+v", tc.v)
		assert.Equal(t, tc.records, supportsAppendRecords(tc.v), "%+v", tc.v)
	}
}

func TestOptions(t *testing.T) {
	var o Options
	require.NoError(t, o.validate())
	assert.Equal(t, 1000, o.BatchSize)
	assert.NotNil(t, o.Logger)

	o = Options{StreamPrefix: "$sys-"}
	assert.ErrorContains(t, o.validate(), "starts with $")
	o = Options{BatchSize: -1}
	assert.ErrorContains(t, o.validate(), "negative")
}

func TestOpen_RefusesBadURLsWithoutDialing(t *testing.T) {
	cases := map[string]struct {
		url, want string
	}{
		"empty":          {"", "no connection string"},
		"wrong_scheme":   {"http://admin:s3cret@localhost:2113", "invalid scheme"},
		"not_a_url":      {"kurrentdb://admin:s3cret@[::1", "connection string"},
		"bad_port":       {"kurrentdb://admin:s3cret@localhost:notaport?tls=false", "connection string"},
		"bad_setting":    {"kurrentdb://admin:s3cret@localhost:2113?tls=maybe", "connection string"},
		"bad_seed_list":  {"esdb://admin:s3cret@host1:1,host2:x", "connection string"},
		"bad_prefix_opt": {"kurrentdb://localhost:2113?tls=false", "starts with $"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := Options{}
			if name == "bad_prefix_opt" {
				opts.StreamPrefix = "$x"
			}
			start := time.Now()
			s, err := Open(context.Background(), tc.url, opts)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Less(t, time.Since(start), time.Second, "refused before any connection attempt")
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret", "the password never shows")
		})
	}
}

// TestOpen_ConnectionFailure dials a local port where nothing listens (no
// KurrentDB server is needed): the error says what failed, without the
// password.
func TestOpen_ConnectionFailure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "kurrentdb://admin:s3cret@127.0.0.1:1?tls=false&maxDiscoverAttempts=1&discoveryInterval=10&gossipTimeout=1"
	s, err := Open(ctx, url, Options{})
	require.Error(t, err)
	assert.Nil(t, s)
	assert.Contains(t, err.Error(), "connect to kurrentdb://admin:xxxxx@127.0.0.1:1")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestUserinfo(t *testing.T) {
	assert.Equal(t, "admin:s3cret", userinfo("kurrentdb://admin:s3cret@[::1"))
	assert.Equal(t, "admin:s3cret", userinfo("esdb://admin:s3cret@h1:1,h2:2?tls=false"))
	assert.Equal(t, "", userinfo("kurrentdb://localhost:2113?x=a@b"))
	assert.Equal(t, "", userinfo("no scheme"))
}

func TestClientLogger(t *testing.T) {
	var buf strings.Builder
	log := clientLogger(newTextLogger(&buf))
	log(kdb.LogError, "not leader, reconnecting to %v port %d", []any{"node2", 2113})
	log(kdb.LogInfo, "hello %s", "world")
	out := buf.String()
	assert.Contains(t, out, "not leader, reconnecting to node2 port 2113")
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "hello world")
	assert.Contains(t, out, "level=DEBUG")
}

func newTextLogger(w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "kurrentdb://admin:xxxxx@localhost:2113?tls=false", redact("kurrentdb://admin:s3cret@localhost:2113?tls=false"))
	assert.Equal(t, "kurrentdb://admin:xxxxx@[::1", redact("kurrentdb://admin:s3cret@[::1"))
	assert.Equal(t, "esdb://admin:xxxxx@host1:1,host2:x", redact("esdb://admin:s3cret@host1:1,host2:x"))
	assert.Equal(t, "kurrentdb://localhost:2113", redact("kurrentdb://localhost:2113"))
}

func TestBackwardsFromAndUnknownPositions(t *testing.T) {
	assert.Equal(t, kdb.End{}, allFromEnd(eventstore.Position{}))
	assert.Equal(t, kdb.Position{Commit: 9, Prepare: 8}, allFromEnd(eventstore.Position{Commit: 9, Prepare: 8}))
	assert.True(t, unknownPosition(eventstore.Position{Commit: ^uint64(0), Prepare: ^uint64(0)}))
	assert.True(t, unknownPosition(position(kdb.Position{Commit: ^uint64(0), Prepare: 5})))
	assert.False(t, unknownPosition(eventstore.Position{Commit: 5, Prepare: 5}))
}
