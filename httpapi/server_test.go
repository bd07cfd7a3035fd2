package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

// serve starts a real HTTP server over s.
func serve(t *testing.T, s *httpapi.Server) *httptest.Server {
	t.Helper()
	h, err := s.Handler()
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func ok(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) }

func TestServer_fastapi_style_errors(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/things", Summary: "List Things", Public: true, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/boom", Summary: "Boom", Public: true, Handler: func(*gin.Context) {
		panic("database password is hunter2")
	}})
	ts := serve(t, s)

	t.Run("unknown_route_is_404", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/nope", nil)
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.JSONEq(t, `{"detail":"Not Found"}`, r.body)
	})
	t.Run("wrong_method_is_405_with_allow", func(t *testing.T) {
		t.Parallel()
		r := do(t, "DELETE", ts.URL+"/things", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, r.status)
		assert.JSONEq(t, `{"detail":"Method Not Allowed"}`, r.body)
		assert.Equal(t, "GET", r.header.Get("Allow"))
	})
	t.Run("panic_is_a_generic_500_and_logged_with_stack", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/boom", nil, httpapi.HeaderRequestID, "boom-1")
		assert.Equal(t, http.StatusInternalServerError, r.status)
		assert.JSONEq(t, `{"detail":"Internal Server Error"}`, r.body)
		assert.NotContains(t, r.body, "hunter2")
		assert.NotContains(t, r.body, "goroutine")
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"status":500`) }, 5*time.Second, 5*time.Millisecond)
		assert.Contains(t, logs.String(), `"msg":"panic serving request"`)
		assert.Contains(t, logs.String(), `"request_id":"boom-1"`)
		assert.Contains(t, logs.String(), "server_test.go") // the stack
	})
}

func TestServer_request_id(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/id", Summary: "Id", Public: true, Handler: func(c *gin.Context) {
		c.String(http.StatusOK, httpapi.RequestID(c.Request.Context()))
	}})
	ts := serve(t, s)

	t.Run("sane_id_is_reused", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/id", nil, httpapi.HeaderRequestID, "trace.A-1_b")
		assert.Equal(t, "trace.A-1_b", r.header.Get(httpapi.HeaderRequestID))
		assert.Equal(t, "trace.A-1_b", r.body)
	})
	for name, sent := range map[string]string{
		"missing":   "",
		"too_long":  strings.Repeat("a", 129),
		"bad_chars": "x\" injected=1",
	} {
		t.Run(name+"_id_is_generated", func(t *testing.T) {
			t.Parallel()
			r := do(t, "GET", ts.URL+"/id", nil, httpapi.HeaderRequestID, sent)
			id := r.header.Get(httpapi.HeaderRequestID)
			_, err := uuid.Parse(id)
			require.NoError(t, err, "generated id %q", id)
			assert.Equal(t, id, r.body)
		})
	}
}

// thing exercises BindJSON's rules and locations.
type thing struct {
	Name    string    `json:"name" binding:"required,max=5"`
	Kind    string    `json:"kind" binding:"omitempty,oneof=a b c"`
	Count   int       `json:"count" binding:"gte=0,lte=10"`
	Enabled *bool     `json:"enabled" binding:"required"`
	Tags    []string  `json:"tags" binding:"max=2"`
	Items   []part    `json:"items" binding:"dive"`
	OwnerID uuid.UUID `json:"owner_id"`
}

type part struct {
	Label string `json:"label" binding:"required"`
	Qty   int    `json:"qty"`
}

func TestBindJSON(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{MaxBodyBytes: 256})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/things", Summary: "Create Thing", Public: true, Body: thing{}, Status: 201,
		Handler: func(c *gin.Context) {
			var in thing
			if !httpapi.BindJSON(c, &in) {
				return
			}
			c.JSON(http.StatusCreated, in)
		}})
	ts := serve(t, s)

	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"valid", `{"name":"ab","enabled":false,"items":[{"label":"x","qty":2}],"owner_id":"6f1c0d7e-8a53-4c1b-9a8e-0b6f1f2a3c4d"}`, 201, ""},
		{"malformed_json", `{"name": x}`, 422,
			`[{"type":"json_invalid","loc":["body",9],"msg":"JSON decode error","input":{},"ctx":{"error":"invalid character 'x' looking for beginning of value"}}]`},
		{"truncated_json", `{"name": "a"`, 422,
			`[{"type":"json_invalid","loc":["body",12],"msg":"JSON decode error","input":{},"ctx":{"error":"unexpected EOF"}}]`},
		{"trailing_data", `{} {}`, 422,
			`[{"type":"json_invalid","loc":["body",3],"msg":"JSON decode error","input":{},"ctx":{"error":"extra data after the JSON value"}}]`},
		{"empty_body", ``, 422, `[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]`},
		{"not_an_object", `[1]`, 422,
			`[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]`},
		{"wrong_types", `{"name":7,"enabled":"yes","count":"many","items":[{"label":"x","qty":1.5}],"owner_id":"nope"}`, 422, `[
			{"type":"int_parsing","loc":["body","count"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"many"},
			{"type":"bool_parsing","loc":["body","enabled"],"msg":"Input should be a valid boolean, unable to interpret input","input":"yes"},
			{"type":"int_from_float","loc":["body","items",0,"qty"],"msg":"Input should be a valid integer, got a number with a fractional part","input":1.5},
			{"type":"string_type","loc":["body","name"],"msg":"Input should be a valid string","input":7},
			{"type":"uuid_parsing","loc":["body","owner_id"],"msg":"Input should be a valid UUID, invalid UUID length: 4","input":"nope"}]`},
		{"missing_fields", `{"count":1,"items":[{"qty":1}]}`, 422, `[
			{"type":"missing","loc":["body","name"],"msg":"Field required","input":null},
			{"type":"missing","loc":["body","enabled"],"msg":"Field required","input":null},
			{"type":"missing","loc":["body","items",0,"label"],"msg":"Field required","input":null}]`},
		{"rules", `{"name":"toolong","kind":"z","count":11,"enabled":true,"tags":["1","2","3"]}`, 422, `[
			{"type":"string_too_long","loc":["body","name"],"msg":"String should have at most 5 characters","input":"toolong","ctx":{"max_length":5}},
			{"type":"enum","loc":["body","kind"],"msg":"Input should be 'a', 'b' or 'c'","input":"z","ctx":{"expected":"'a', 'b' or 'c'"}},
			{"type":"less_than_equal","loc":["body","count"],"msg":"Input should be less than or equal to 10","input":11,"ctx":{"le":10}},
			{"type":"too_long","loc":["body","tags"],"msg":"List should have at most 2 items after validation, not 3","input":["1","2","3"],
			 "ctx":{"field_type":"List","max_length":2,"actual_length":3}}]`},
		{"negative_count", `{"name":"a","enabled":true,"count":-1}`, 422,
			`[{"type":"greater_than_equal","loc":["body","count"],"msg":"Input should be greater than or equal to 0","input":-1,"ctx":{"ge":0}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, "POST", ts.URL+"/things", strings.NewReader(tt.body), "Content-Type", "application/json")
			require.Equal(t, tt.status, r.status, r.body)
			if tt.want != "" {
				assert.JSONEq(t, `{"detail":`+tt.want+`}`, r.body)
			}
		})
	}

	t.Run("oversized_content_length_is_413", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(`{"name":"`+strings.Repeat("a", 300)+`"}`))
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
		assert.JSONEq(t, `{"detail":"Request body too large (limit 256 bytes)"}`, r.body)
	})
	t.Run("oversized_chunked_body_is_413", func(t *testing.T) {
		t.Parallel()
		// A reader of unknown length makes the client send it chunked.
		body := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("a", 300)+`"}`))
		req, err := http.NewRequest("POST", ts.URL+"/things", body)
		require.NoError(t, err)
		req.ContentLength = -1
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
		assert.JSONEq(t, `{"detail":"Request body too large (limit 256 bytes)"}`, string(b))
	})
}

type listThings struct {
	Page  int      `form:"page,default=1" binding:"gte=1"`
	Size  *int     `form:"size" binding:"omitempty,lte=100"`
	Flag  bool     `form:"flag"`
	Tags  []string `form:"tag"`
	Owner string   `form:"owner" binding:"required"`
}

func TestBindQuery_and_PathUUID(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/things", Summary: "List Things", Public: true,
		Params: []httpapi.Param{{Name: "page", In: "query", Type: "integer", Default: 1}},
		Handler: func(c *gin.Context) {
			var q listThings
			if !httpapi.BindQuery(c, &q) {
				return
			}
			c.JSON(http.StatusOK, q)
		}})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/things/{thing_id}", Summary: "Get Thing", Public: true,
		Handler: func(c *gin.Context) {
			id, ok := httpapi.PathUUID(c, "thing_id")
			if !ok {
				return
			}
			c.String(http.StatusOK, id.String())
		}})
	ts := serve(t, s)

	tests := []struct {
		name, query string
		status      int
		want        string
	}{
		{"defaults", "?owner=ada", 200, `{"Page":1,"Size":null,"Flag":false,"Tags":null,"Owner":"ada"}`},
		{"all_set", "?owner=ada&page=3&size=10&flag=yes&tag=a&tag=b", 200, `{"Page":3,"Size":10,"Flag":true,"Tags":["a","b"],"Owner":"ada"}`},
		{"not_an_integer", "?owner=ada&page=abc&flag=maybe", 422, `{"detail":[
			{"type":"int_parsing","loc":["query","page"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"},
			{"type":"bool_parsing","loc":["query","flag"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]}`},
		{"rules", "?page=0&size=101", 422, `{"detail":[
			{"type":"greater_than_equal","loc":["query","page"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}},
			{"type":"less_than_equal","loc":["query","size"],"msg":"Input should be less than or equal to 100","input":101,"ctx":{"le":100}},
			{"type":"missing","loc":["query","owner"],"msg":"Field required","input":null}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, "GET", ts.URL+"/things"+tt.query, nil)
			assert.Equal(t, tt.status, r.status)
			assert.JSONEq(t, tt.want, r.body)
		})
	}

	t.Run("path_uuid", func(t *testing.T) {
		t.Parallel()
		id := uuid.New()
		r := do(t, "GET", ts.URL+"/things/"+id.String(), nil)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, id.String(), r.body)

		r = do(t, "GET", ts.URL+"/things/42", nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.JSONEq(t, `{"detail":[{"type":"uuid_parsing","loc":["path","thing_id"],
			"msg":"Input should be a valid UUID, invalid UUID length: 2","input":"42"}]}`, r.body)
	})
}

// A handler that binds a query parameter named like a place its operation
// does not declare is refused (500): the Authorizer checks declared places
// only.
func TestBindQuery_refuses_undeclared_places(t *testing.T) {
	t.Parallel()
	type query struct {
		OrgID int64 `form:"org_id"`
	}
	bind := func(c *gin.Context) {
		var q query
		if httpapi.BindQuery(c, &q) {
			c.JSON(http.StatusOK, q)
		}
	}
	s := httpapi.New(httpapi.Options{})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/declared", Summary: "Declared", Public: true, Handler: bind,
		Params: []httpapi.Param{{Name: "org_id", In: "query", Type: "integer", Place: "org"}}})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/undeclared", Summary: "Undeclared", Public: true, Handler: bind})
	ts := serve(t, s)

	r := do(t, "GET", ts.URL+"/declared?org_id=7", nil)
	assert.Equal(t, http.StatusOK, r.status, r.body)
	for _, q := range []string{"", "?org_id=7"} {
		r = do(t, "GET", ts.URL+"/undeclared"+q, nil)
		assert.Equal(t, http.StatusInternalServerError, r.status, r.body)
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	errs := map[string]error{
		"invalid":          domain.Invalidf("name must not be blank"),
		"forbidden":        fmt.Errorf("delete flow: %w", domain.Forbiddenf("not your flow")),
		"not_found":        domain.NotFoundf("Flow not found"),
		"bare_not_found":   fmt.Errorf("load: %w", domain.ErrNotFound),
		"conflict":         domain.Conflictf("Flow name already exists"),
		"deadline":         fmt.Errorf("query: %w", context.DeadlineExceeded),
		"internal":         errors.New("pq: relation flows does not exist"),
		"status_error":     &httpapi.StatusError{Status: 401, Detail: "Not authenticated", Header: http.Header{"Www-Authenticate": {"Bearer"}}},
		"validation_error": &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "missing", Loc: []any{"query", "q"}, Msg: "Field required"}}},
	}
	for name, err := range errs {
		s.Handle(httpapi.Operation{Method: "GET", Path: "/" + name, Summary: name, Public: true,
			Handler: func(c *gin.Context) { httpapi.Fail(c, err) }})
	}
	ts := serve(t, s)

	tests := []struct {
		name   string
		status int
		want   string
	}{
		{"invalid", 422, `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, name must not be blank","input":null}]}`},
		{"forbidden", 403, `{"detail":"not your flow"}`},
		{"not_found", 404, `{"detail":"Flow not found"}`},
		{"bare_not_found", 404, `{"detail":"Not Found"}`},
		{"conflict", 409, `{"detail":"Flow name already exists"}`},
		{"deadline", 503, `{"detail":"Service Unavailable"}`},
		{"internal", 500, `{"detail":"Internal Server Error"}`},
		{"status_error", 401, `{"detail":"Not authenticated"}`},
		{"validation_error", 422, `{"detail":[{"type":"missing","loc":["query","q"],"msg":"Field required","input":null}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, "GET", ts.URL+"/"+tt.name, nil)
			assert.Equal(t, tt.status, r.status)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
	t.Run("internal_error_is_logged_with_request_id", func(t *testing.T) {
		t.Parallel()
		do(t, "GET", ts.URL+"/internal", nil, httpapi.HeaderRequestID, "req-500")
		require.Eventually(t, func() bool {
			return strings.Contains(logs.String(), `"msg":"request failed","request_id":"req-500"`)
		}, 5*time.Second, 5*time.Millisecond)
		assert.Contains(t, logs.String(), "relation flows does not exist")
	})
	t.Run("status_error_headers", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/status_error", nil)
		assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"))
	})
}

// positions is a Waiter whose projections stand still at fixed positions:
// waiting beyond them blocks until the context ends.
type positions map[string]eventstore.Position

func (p positions) WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error {
	for _, n := range names {
		if p[n].Less(pos) {
			<-ctx.Done()
			return ctx.Err()
		}
	}
	return nil
}

func TestServer_read_your_writes(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{
		ReadYourWritesTimeout: 50 * time.Millisecond,
		Waiter:                positions{"flows": eventstore.At(10), "users": eventstore.At(5)},
	})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/flows", Summary: "List Flows", Public: true, ReadModels: []string{"flows"}, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/plain", Summary: "Plain", Public: true, Handler: ok})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/flows/{position}", Summary: "Write Flow", Public: true,
		ReadModels: []string{"flows", "users"}, Status: 201,
		Handler: func(c *gin.Context) {
			pos, err := eventstore.ParsePosition(c.Param("position"))
			if err != nil {
				httpapi.Fail(c, err)
				return
			}
			s.Written(c, pos)
			c.JSON(http.StatusCreated, gin.H{"ok": true})
		}})
	ts := serve(t, s)

	t.Run("min_position_reached", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/flows", nil, httpapi.HeaderMinPosition, "10")
		assert.Equal(t, http.StatusOK, r.status)
	})
	t.Run("min_position_invalid_is_422", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/flows", nil, httpapi.HeaderMinPosition, "ten")
		assert.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.JSONEq(t, `{"detail":[{"type":"value_error","loc":["header","x-min-position"],
			"msg":"Value error, position \"ten\": not a non-negative integer","input":"ten"}]}`, r.body)
	})
	t.Run("min_position_timeout_is_503", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/flows", nil, httpapi.HeaderMinPosition, "11")
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.JSONEq(t, `{"detail":"read models have not reached position 11 yet"}`, r.body)
		assert.Equal(t, "1", r.header.Get("Retry-After"))
	})
	t.Run("routes_without_read_models_ignore_it", func(t *testing.T) {
		t.Parallel()
		for _, v := range []string{"99", "ten"} {
			r := do(t, "GET", ts.URL+"/plain", nil, httpapi.HeaderMinPosition, v)
			assert.Equal(t, http.StatusOK, r.status, v)
		}
	})
	t.Run("written_and_caught_up", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/flows/4", nil)
		assert.Equal(t, http.StatusCreated, r.status)
		assert.Equal(t, "4", r.header.Get(httpapi.HeaderEventPosition))
		assert.Empty(t, r.header.Values(httpapi.HeaderReadModelLag))
	})
	t.Run("written_but_lagging", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/flows/7", nil)
		assert.Equal(t, http.StatusCreated, r.status, "a lagging read model does not fail the write")
		assert.Equal(t, "7", r.header.Get(httpapi.HeaderEventPosition))
		assert.Equal(t, "users", r.header.Get(httpapi.HeaderReadModelLag))
	})
}

func TestServer_access_log_redacts_the_query(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	s := httpapi.New(httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/things", Summary: "List", Public: true, Handler: ok})
	ts := serve(t, s)

	r := do(t, "GET", ts.URL+"/things?x-api-key=sk-supersecret&page=2", nil, httpapi.HeaderRequestID, "log-1")
	require.Equal(t, http.StatusOK, r.status)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "log-1") }, 5*time.Second, 5*time.Millisecond)

	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line))
	assert.NotContains(t, logs.String(), "supersecret")
	assert.Equal(t, "http request", line["msg"])
	assert.Equal(t, "GET", line["method"])
	assert.Equal(t, "/things", line["path"])
	assert.Equal(t, "x-api-key=***&page=***", line["query"])
	assert.EqualValues(t, 200, line["status"])
	assert.Equal(t, "log-1", line["request_id"])
	assert.Equal(t, "127.0.0.1", line["client_ip"])
	assert.EqualValues(t, len(r.body), line["bytes"])
	assert.Contains(t, line, "duration_ms")
}

// denyAll is an Authenticator that refuses everyone.
type denyAll struct{}

func (denyAll) Authenticate(*http.Request) (context.Context, error) {
	return nil, &httpapi.StatusError{Status: http.StatusUnauthorized, Detail: "Not authenticated"}
}

var signedIn = httpapi.Access{Kind: httpapi.AccessSignedIn}

func TestServer_authenticator_guards_non_public_operations(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{Authenticator: denyAll{}})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/public", Summary: "Public", Public: true, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/private", Summary: "Private", Access: signedIn, Handler: ok})
	ts := serve(t, s)

	assert.Equal(t, http.StatusOK, do(t, "GET", ts.URL+"/public", nil).status)
	r := do(t, "GET", ts.URL+"/private", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.JSONEq(t, `{"detail":"Not authenticated"}`, r.body)
}

func TestServer_routing(t *testing.T) {
	t.Parallel()
	param := func(name string) gin.HandlerFunc {
		return func(c *gin.Context) { c.String(http.StatusOK, name+"="+c.Param(name)) }
	}
	s := httpapi.New(httpapi.Options{})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/build/{flow_id}/flow", Summary: "Build", Public: true, Handler: param("flow_id")})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/build/{job_id}/events", Summary: "Events", Public: true, Handler: param("job_id")})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/build/static/events", Summary: "Static", Public: true, Handler: param("none")})
	s.Handle(httpapi.Operation{Method: "HEAD", Path: "/mcp/streamable", Summary: "Streamable Health", Public: true,
		Handler: func(c *gin.Context) { c.Status(http.StatusOK) }})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/files/", Summary: "Files", Public: true, Handler: ok})
	ts := serve(t, s)

	t.Run("parameter_names_per_operation", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "flow_id=a", do(t, "GET", ts.URL+"/build/a/flow", nil).body)
		assert.Equal(t, "job_id=b", do(t, "GET", ts.URL+"/build/b/events", nil).body)
		assert.Equal(t, "none=", do(t, "GET", ts.URL+"/build/static/events", nil).body, "static segments win")
	})
	t.Run("explicit_head", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, http.StatusOK, do(t, "HEAD", ts.URL+"/mcp/streamable", nil).status)
	})
	t.Run("trailing_slash_redirects_like_fastapi", func(t *testing.T) {
		t.Parallel()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(ts.URL + "/files")
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		assert.Equal(t, http.StatusMovedPermanently, res.StatusCode)
		assert.Equal(t, "/files/", res.Header.Get("Location"))
	})
}

func TestServer_registration_errors_fail_the_build(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ops  []httpapi.Operation
		want string
	}{
		{"same_method_and_path", []httpapi.Operation{
			{Method: "GET", Path: "/x/{a}", Summary: "One", Handler: ok},
			{Method: "GET", Path: "/x/{b}", Summary: "Two", Handler: ok},
		}, "GET /x/{b}: registered twice"},
		{"operation_id_taken", []httpapi.Operation{
			{Method: "GET", Path: "/x", OperationID: "same", Handler: ok},
			{Method: "GET", Path: "/y", OperationID: "same", Handler: ok},
		}, `operationId "same" is taken`},
		{"partial_segment_parameter", []httpapi.Operation{
			{Method: "GET", Path: "/files/{name}.txt", Handler: ok},
		}, "a parameter must be a whole segment"},
		{"undeclared_path_parameter", []httpapi.Operation{
			{Method: "GET", Path: "/x", Params: []httpapi.Param{{Name: "id", In: "path"}}, Handler: ok},
		}, `path parameter "id" is not in the path`},
		{"no_handler", []httpapi.Operation{{Method: "GET", Path: "/x", Public: true}}, "no handler"},
		{"undeclared_access", []httpapi.Operation{{Method: "GET", Path: "/x", Handler: ok, Access: signedIn}, {Method: "GET", Path: "/y", Handler: ok}},
			"GET /y: access undeclared: a non-public operation declares what it needs"},
		{"malformed_access", []httpapi.Operation{{Method: "GET", Path: "/x", Handler: ok,
			Access: httpapi.Access{Kind: httpapi.AccessTenant, Module: "flows"}}}, "GET /x: access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := httpapi.New(httpapi.Options{})
			for _, op := range tt.ops {
				if op.Access == (httpapi.Access{}) && tt.name != "undeclared_access" {
					op.Public = true
				}
				s.Handle(op)
			}
			_, err := s.Handler()
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestServer_openapi_document(t *testing.T) {
	t.Parallel()
	s := httpapi.New(httpapi.Options{Title: "SkillFlaw", Version: "0.1.0"})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/api/v1/things/", Tag: "Things", Summary: "Create Thing",
		Body: thing{}, Response: thing{}, Status: 201, ReadModels: []string{"things"}, Access: signedIn, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/api/v1/things/{thing_id}", Tag: "Things", Summary: "Read Thing",
		Params: []httpapi.Param{
			{Name: "thing_id", In: "path", Format: "uuid"},
			{Name: "fields", In: "query", Type: "array", Enum: []string{"name", "kind"}},
		}, Access: signedIn, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/health", Tag: "Health Check", Summary: "Health", Public: true, Handler: ok})
	ts := serve(t, s)

	r := do(t, "GET", ts.URL+"/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	doc, err := openapi3.NewLoader().LoadFromData([]byte(r.body))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))

	assert.Equal(t, "SkillFlaw", doc.Info.Title)
	assert.Equal(t, "0.1.0", doc.Info.Version)
	assert.Nil(t, doc.Paths.Find("/openapi.json"), "hidden")
	assert.Nil(t, doc.Paths.Find("/docs"), "hidden")

	create := doc.Paths.Value("/api/v1/things/").Post
	require.NotNil(t, create)
	assert.Equal(t, "create_thing_api_v1_things__post", create.OperationID)
	assert.Equal(t, []string{"Things"}, create.Tags)
	require.NotNil(t, create.Security)
	assert.Len(t, *create.Security, 3)
	assert.Equal(t, []any{"things"}, create.Extensions["x-read-models"])
	assert.NotNil(t, create.Parameters.GetByInAndName("header", httpapi.HeaderMinPosition))
	assert.NotNil(t, create.Responses.Value("201"))
	assert.NotNil(t, create.Responses.Value("422"))
	body := create.RequestBody.Value.Content.Get("application/json").Schema.Value
	assert.ElementsMatch(t, []string{"name", "enabled"}, body.Required)
	assert.EqualValues(t, 5, *body.Properties["name"].Value.MaxLength)
	assert.Equal(t, []any{"a", "b", "c"}, body.Properties["kind"].Value.Enum)
	assert.Equal(t, "uuid", body.Properties["owner_id"].Value.Format)
	assert.Equal(t, []string{"label"}, body.Properties["items"].Value.Items.Value.Required)

	read := doc.Paths.Value("/api/v1/things/{thing_id}").Get
	require.NotNil(t, read)
	id := read.Parameters.GetByInAndName("path", "thing_id")
	require.NotNil(t, id)
	assert.True(t, id.Required)
	assert.Equal(t, "uuid", id.Schema.Value.Format)
	assert.Equal(t, []any{"name", "kind"}, read.Parameters.GetByInAndName("query", "fields").Schema.Value.Items.Value.Enum)

	health := doc.Paths.Value("/health").Get
	require.NotNil(t, health)
	assert.Nil(t, health.Security, "public")
	assert.Nil(t, health.Responses.Value("422"), "nothing to validate")

	t.Run("docs_page", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/docs", nil)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		assert.Contains(t, r.body, "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js")
		for _, s := range []string{"POST", "/api/v1/things/", "Create Thing", "/api/v1/things/{thing_id}", "Read Thing", "Health"} {
			assert.Contains(t, r.body, s)
		}
	})
}

// moving is a Waiter whose "access" projection reaches its target a little
// later (as another process's projector publishes it).
type moving struct {
	mu      sync.Mutex
	access  eventstore.Position
	reached chan struct{}
}

func (m *moving) at() eventstore.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.access
}

func (m *moving) WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error {
	if !slices.Contains(names, "access") || !m.at().Less(pos) {
		return nil
	}
	select {
	case <-m.reached:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// grantAt is an Authorizer that reads the access read model: the grant
// it looks for is there from position 7.
type grantAt struct{ m *moving }

func (g grantAt) Authorize(_ *gin.Context, a httpapi.Access) error {
	if a.Kind == httpapi.AccessSignedIn || !g.m.at().Less(eventstore.At(7)) {
		return nil
	}
	return &httpapi.StatusError{Status: http.StatusForbidden, Detail: "not granted"}
}

// X-Min-Position waits for the read model authorisation reads, and before
// authorising: a grant written at 7 holds for a request that names 7,
// even where the access projection is still behind when it arrives.
func TestServer_min_position_covers_authorization(t *testing.T) {
	t.Parallel()
	m := &moving{access: eventstore.At(3), reached: make(chan struct{})}
	s := httpapi.New(httpapi.Options{ReadYourWritesTimeout: 5 * time.Second, Waiter: m, Authorizer: grantAt{m},
		AccessReadModels: []string{"access"}})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/orgs", Summary: "Orgs", Access: httpapi.Access{Kind: httpapi.AccessTenant, Module: "orgs", Priv: "read"},
		Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/flows", Summary: "Flows", ReadModels: []string{"flows"},
		Access: httpapi.Access{Kind: httpapi.AccessOwn, Module: "flows", Priv: "read"}, Handler: ok})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/me", Summary: "Me", Access: signedIn, Handler: ok})
	ts := serve(t, s)

	r := do(t, "GET", ts.URL+"/me", nil, httpapi.HeaderMinPosition, "99")
	assert.Equal(t, http.StatusOK, r.status, "signed-in routes read no permissions: nothing to wait for")
	r = do(t, "GET", ts.URL+"/orgs", nil)
	assert.Equal(t, http.StatusForbidden, r.status, "without X-Min-Position: the grant is not there yet")

	time.AfterFunc(30*time.Millisecond, func() {
		m.mu.Lock()
		m.access = eventstore.At(7)
		m.mu.Unlock()
		close(m.reached)
	})
	for _, path := range []string{"/orgs", "/flows"} {
		r = do(t, "GET", ts.URL+path, nil, httpapi.HeaderMinPosition, "7")
		assert.Equal(t, http.StatusOK, r.status, path)
	}
}
