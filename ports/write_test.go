package ports_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
)

type thingBody struct {
	Name *string `json:"name" binding:"required,min=1"`
}

type renameThing struct {
	ID    int64               `path:"thing_id"`
	Limit int                 `form:"limit,default=10" binding:"min=1,max=50"`
	Force bool                `form:"force"`
	Label *string             `form:"label"`
	Meta  eventstore.Metadata `meta:""`
	Body  thingBody           `body:""`
}

type renamed struct {
	ID    int64     `json:"id"`
	Name  string    `json:"name"`
	Limit int       `json:"limit"`
	Force bool      `json:"force"`
	Label *string   `json:"label"`
	At    time.Time `json:"at"`
}

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func server(t *testing.T) (*httpapi.Server, *httptest.Server) {
	t.Helper()
	s := httpapi.New(httpapi.Options{})
	ports.Write[renameThing, renamed]{
		Op: httpapi.Operation{Method: http.MethodPut, Path: "/things/{thing_id}", Access: access.Tenant("things", "modify"),
			Summary: "Rename Thing", Status: http.StatusAccepted},
		Handle: func(_ context.Context, cmd renameThing) (renamed, eventstore.Position, error) {
			if cmd.ID == 404 {
				return renamed{}, eventstore.Position{}, domain.NotFoundf("Thing not found")
			}
			return renamed{ID: cmd.ID, Name: *cmd.Body.Name, Limit: cmd.Limit, Force: cmd.Force, Label: cmd.Label,
				At: cmd.Meta.OccurredAt}, eventstore.At(7), nil
		},
	}.Register(ports.Port{Server: s, Clock: func() time.Time { return now }})
	h, err := s.Handler()
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return s, ts
}

func put(t *testing.T, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, string(b)
}

func TestWriteBindsAndAnswers(t *testing.T) {
	_, ts := server(t)
	status, header, body := put(t, ts.URL+"/things/12?force=true&label=x", `{"name":"n"}`)
	require.Equal(t, http.StatusAccepted, status, body)
	assert.JSONEq(t, `{"id":12,"name":"n","limit":10,"force":true,"label":"x","at":"2026-01-02T03:04:05Z"}`, body)
	assert.Equal(t, eventstore.At(7).String(), header.Get(httpapi.HeaderEventPosition))

	status, _, body = put(t, ts.URL+"/things/12?limit=3", `{"name":"n"}`)
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Contains(t, body, `"limit":3`)
	assert.Contains(t, body, `"label":null`)
}

func TestWriteRefuses(t *testing.T) {
	_, ts := server(t)
	for _, tc := range []struct{ url, body, loc, typ string }{
		{"/things/x", `{"name":"n"}`, `["path","thing_id"]`, "int_parsing"},
		{"/things/1?limit=y", `{"name":"n"}`, `["query","limit"]`, "int_parsing"},
		{"/things/1?limit=99", `{"name":"n"}`, `["query","limit"]`, "less_than_equal"},
		{"/things/1", `{}`, `["body","name"]`, "missing"},
	} {
		status, _, body := put(t, ts.URL+tc.url, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.url+" "+body)
		var got struct {
			Detail []struct {
				Type string          `json:"type"`
				Loc  json.RawMessage `json:"loc"`
			} `json:"detail"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &got), body)
		require.Len(t, got.Detail, 1, body)
		assert.Equal(t, tc.typ, got.Detail[0].Type, tc.url)
		assert.JSONEq(t, tc.loc, string(got.Detail[0].Loc), tc.url)
	}
	status, _, body := put(t, ts.URL+"/things/404", `{"name":"n"}`)
	assert.Equal(t, http.StatusNotFound, status, body)
	assert.JSONEq(t, `{"detail":"Thing not found"}`, body)
}

func TestWriteDocumentsParams(t *testing.T) {
	s, _ := server(t)
	op := s.OpenAPI().Paths.Find("/things/{thing_id}").Put
	require.NotNil(t, op)
	type param struct {
		In, Type string
		Required bool
		Default  any
	}
	got := map[string]param{}
	for _, p := range op.Parameters {
		got[p.Value.Name] = param{In: p.Value.In, Type: p.Value.Schema.Value.Type.Slice()[0], Required: p.Value.Required,
			Default: p.Value.Schema.Value.Default}
	}
	assert.Equal(t, map[string]param{
		"thing_id": {In: "path", Type: "integer", Required: true},
		"limit":    {In: "query", Type: "integer", Default: int64(10)},
		"force":    {In: "query", Type: "boolean"},
		"label":    {In: "query", Type: "string"},
	}, got)
	require.NotNil(t, op.RequestBody, "the body field is the operation's body")
	assert.Contains(t, op.RequestBody.Value.Content["application/json"].Schema.Value.Properties, "name")
}

func TestWriteMisconfigured(t *testing.T) {
	type bad struct {
		ID bool `path:"thing_id"`
	}
	s := httpapi.New(httpapi.Options{})
	ports.Write[bad, struct{}]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/things/{thing_id}", Access: access.Tenant("things", "delete")},
		Handle: func(context.Context, bad) (struct{}, eventstore.Position, error) {
			return struct{}{}, eventstore.Position{}, nil
		},
	}.Register(ports.Port{Server: s, Clock: time.Now})
	_, err := s.Handler()
	assert.ErrorContains(t, err, "a path parameter is an int64")
}

// slug is a path parameter parsed by its UnmarshalText: anything but
// lower-case letters is the thing not found.
type slug string

func (s *slug) UnmarshalText(raw []byte) error {
	if len(raw) == 0 || strings.Trim(string(raw), "abcdefghijklmnopqrstuvwxyz") != "" {
		return domain.NotFoundf("Thing not found")
	}
	*s = slug(raw)
	return nil
}

type tagThing struct {
	Slug  slug      `path:"slug" doc:"The thing's slug."`
	Place *int      `form:"place" binding:"required,min=0,max=3"`
	Body  thingBody `body:""`
}

type callThing struct {
	Slug   slug           `path:"slug"`
	Caller auth.Principal `caller:""`
}

func tagServer(t *testing.T, placesLast bool) (*httpapi.Server, *httptest.Server) {
	t.Helper()
	s := httpapi.New(httpapi.Options{})
	ports.Write[tagThing, string]{
		Op: httpapi.Operation{Method: http.MethodPut, Path: "/tags/{slug}", Access: access.Tenant("things", "modify"), Summary: "Tag Thing"},
		Handle: func(_ context.Context, cmd tagThing) (string, eventstore.Position, error) {
			return string(cmd.Slug) + ":" + *cmd.Body.Name, eventstore.Position{}, nil
		},
		PlacesLast: placesLast,
	}.Register(ports.Port{Server: s, Clock: func() time.Time { return now }})
	ports.Write[callThing, string]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/calls/{slug}", Access: access.Tenant("things", "write"), Summary: "Call Thing"},
		Handle: func(_ context.Context, cmd callThing) (string, eventstore.Position, error) {
			return cmd.Caller.Username, eventstore.Position{}, nil
		},
		PlacesLast: placesLast,
	}.Register(ports.Port{Server: s, Clock: func() time.Time { return now }})
	h, err := s.Handler()
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return s, ts
}

func TestWriteTextPathRequiredQueryAndOrder(t *testing.T) {
	s, ts := tagServer(t, false)
	status, _, body := put(t, ts.URL+"/tags/abc?place=1", `{"name":"n"}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `"abc:n"`, body)

	// The UnmarshalText error fails the request through httpapi.Fail.
	status, _, body = put(t, ts.URL+"/tags/A1?place=1", `{"name":"n"}`)
	assert.Equal(t, http.StatusNotFound, status, body)
	assert.JSONEq(t, `{"detail":"Thing not found"}`, body)

	// By default the path and query come first ...
	status, _, body = put(t, ts.URL+"/tags/A1", `{}`)
	assert.Equal(t, http.StatusNotFound, status, body)
	// ... with PlacesLast the body is answered first.
	_, last := tagServer(t, true)
	status, _, body = put(t, last.URL+"/tags/A1", `{}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status, body)
	assert.Contains(t, body, `["body","name"]`)
	status, _, body = put(t, last.URL+"/tags/abc", `{"name":"n"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status, body)
	assert.Contains(t, body, `["query","place"]`)

	op := s.OpenAPI().Paths.Find("/tags/{slug}").Put
	require.NotNil(t, op)
	require.Len(t, op.Parameters, 2)
	assert.Equal(t, "slug", op.Parameters[0].Value.Name)
	assert.Equal(t, "string", op.Parameters[0].Value.Schema.Value.Type.Slice()[0], "a TextUnmarshaler is documented as a string")
	assert.Empty(t, op.Parameters[0].Value.Schema.Value.Format)
	assert.Equal(t, "The thing's slug.", op.Parameters[0].Value.Description)
	assert.Equal(t, "place", op.Parameters[1].Value.Name)
	assert.True(t, op.Parameters[1].Value.Required, "binding:required documents the query parameter as required")
}

func TestWriteCaller(t *testing.T) {
	// No principal in the request: the caller's binding answers 401 (as
	// auth.CallerOf), after the path (PlacesLast: before it).
	_, ts := tagServer(t, false)
	res, err := http.Post(ts.URL+"/calls/abc", "application/json", nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, string(b))
	assert.JSONEq(t, `{"detail":"Not authenticated"}`, string(b))
	res, err = http.Post(ts.URL+"/calls/A1", "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	_, last := tagServer(t, true)
	res, err = http.Post(last.URL+"/calls/A1", "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
}

func TestWriteMisconfiguredTenantAndCaller(t *testing.T) {
	type badTenant struct {
		Tenant uuid.UUID `tenant:"everywhere"`
	}
	type badCaller struct {
		Caller string `caller:""`
	}
	for _, tc := range []struct {
		register func(p ports.Port)
		want     string
	}{
		{func(p ports.Port) {
			ports.Write[badTenant, struct{}]{
				Op: httpapi.Operation{Method: http.MethodDelete, Path: "/a", Access: access.Tenant("things", "delete")},
				Handle: func(context.Context, badTenant) (struct{}, eventstore.Position, error) {
					return struct{}{}, eventstore.Position{}, nil
				},
			}.Register(p)
		}, `tenant:"everywhere"`},
		{func(p ports.Port) {
			ports.Write[badCaller, struct{}]{
				Op: httpapi.Operation{Method: http.MethodDelete, Path: "/b", Access: access.Tenant("things", "delete")},
				Handle: func(context.Context, badCaller) (struct{}, eventstore.Position, error) {
					return struct{}{}, eventstore.Position{}, nil
				},
			}.Register(p)
		}, "the caller is an auth.Principal"},
	} {
		s := httpapi.New(httpapi.Options{})
		tc.register(ports.Port{Server: s, Clock: time.Now})
		_, err := s.Handler()
		assert.ErrorContains(t, err, tc.want)
	}
}
