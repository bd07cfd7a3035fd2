package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

// hostileBody has the field kinds whose bounds the binder sets: a string
// with the spec's limit, free strings and lists (the defaults), free-form
// JSON (optins), and a graph only the body limit bounds.
type hostileBody struct {
	Name   string          `json:"name" binding:"required,max=64"`
	Note   *string         `json:"note"`
	Ratio  float64         `json:"ratio"`
	Count  int64           `json:"count"`
	Tags   []string        `json:"tags"`
	Optins json.RawMessage `json:"optins"`
	Data   json.RawMessage `json:"data" binding:"maxbody"`
	Props  map[string]any  `json:"props"`
}

func hostileServer(t *testing.T, opts httpapi.Options) *httptest.Server {
	t.Helper()
	s := httpapi.New(opts)
	s.Handle(httpapi.Operation{Method: "POST", Path: "/things", Summary: "Create Thing", Public: true, Body: hostileBody{},
		Handler: func(c *gin.Context) {
			var in hostileBody
			if httpapi.BindJSON(c, &in) {
				c.JSON(http.StatusOK, gin.H{"name": in.Name, "data": len(in.Data)})
			}
		}})
	s.Handle(httpapi.Operation{Method: "DELETE", Path: "/things", Summary: "Delete Things", Public: true, Body: []int64{},
		Handler: func(c *gin.Context) {
			var ids []int64
			if httpapi.BindJSON(c, &ids) {
				c.JSON(http.StatusOK, ids)
			}
		}})
	s.Handle(httpapi.Operation{Method: "GET", Path: "/things/{name}", Summary: "Read Thing", Public: true,
		Handler: func(c *gin.Context) { c.String(http.StatusOK, c.Param("name")) }}) // a raw c.Param
	return serve(t, s)
}

func TestBindJSON_refuses_text_that_is_not(t *testing.T) {
	t.Parallel()
	ts := hostileServer(t, httpapi.Options{MaxBodyBytes: 1 << 20})
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tests := []struct {
		name, body, want string
	}{
		{"nul_in_a_field", `{"name":"a\u0000b"}`,
			`[{"type":"value_error","loc":["body","name"],"msg":"Value error, NUL characters are not allowed","input":"a\u0000b"}]`},
		{"nul_deep_in_a_graph", `{"name":"g","data":{"nodes":[{"id":"a"},{"id":"b\u0000"}]}}`,
			`[{"type":"value_error","loc":["body","data","nodes",1,"id"],"msg":"Value error, NUL characters are not allowed","input":"b\u0000"}]`},
		{"nul_in_a_key", `{"name":"k","props":{"a\u0000":1}}`,
			`[{"type":"value_error","loc":["body","props","a\u0000"],"msg":"Value error, NUL characters are not allowed","input":"a\u0000"}]`},
		{"invalid_utf8", "{\"name\":\"\xff\xfeok\"}",
			`[{"type":"string_unicode","loc":["body","name"],"msg":"Input should be a valid string, unable to parse raw data as a unicode string","input":"\ufffd\ufffdok"}]`},
		{"lone_surrogate_in_a_graph", `{"name":"s","data":["\ud800x"]}`,
			`[{"type":"string_unicode","loc":["body","data",0],"msg":"Input should be a valid string, unable to parse raw data as a unicode string","input":"\ufffdx"}]`},
		{"nesting_past_200", `{"name":"d","data":` + strings.Repeat("[", 201) + strings.Repeat("]", 201) + `}`,
			`[{"type":"json_invalid","loc":["body",218],"msg":"JSON decode error","input":{},"ctx":{"error":"recursion limit exceeded"}}]`},
		{"nesting_10000", deep,
			`[{"type":"json_invalid","loc":["body",200],"msg":"JSON decode error","input":{},"ctx":{"error":"recursion limit exceeded"}}]`},
		{"float_overflow", `{"name":"f","ratio":1e309}`,
			`[{"type":"finite_number","loc":["body","ratio"],"msg":"Input should be a finite number","input":"1e309"}]`},
		{"inf_in_a_graph", `{"name":"g","data":{"w":[1,-1e400]}}`,
			`[{"type":"finite_number","loc":["body","data","w",1],"msg":"Input should be a finite number","input":"-1e400"}]`},
		{"int_overflow", `{"name":"i","count":99999999999999999999}`,
			`[{"type":"less_than_equal","loc":["body","count"],"msg":"Input should be less than or equal to 9223372036854775807","input":99999999999999999999,"ctx":{"le":9223372036854775807}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := do(t, "POST", ts.URL+"/things", strings.NewReader(tt.body), "Content-Type", "application/json")
			require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
			assert.JSONEq(t, `{"detail":`+tt.want+`}`, r.body)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
	t.Run("surrogate_pairs_and_escaped_backslashes_pass", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(`{"name":"\ud83d\ude00 \\u0000","data":["\\ud800"]}`))
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.JSONEq(t, `{"name":"😀 \\u0000","data":11}`, r.body)
	})
}

func TestBindJSON_bounds_every_string_list_and_json_value(t *testing.T) {
	t.Parallel()
	ts := hostileServer(t, httpapi.Options{MaxBodyBytes: 4 << 20})
	long := strings.Repeat("é", httpapi.DefaultMaxStringLength+1)
	ids := "[" + strings.Repeat("1,", httpapi.DefaultMaxItems) + "1]"
	tests := []struct {
		name, method, body, want string
	}{
		{"spec_limit", "POST", `{"name":"` + strings.Repeat("n", 65) + `"}`,
			`[{"type":"string_too_long","loc":["body","name"],"msg":"String should have at most 64 characters","input":"` +
				strings.Repeat("n", 65) + `","ctx":{"max_length":64}}]`},
		{"default_string_limit", "POST", `{"name":"n","note":"` + long + `"}`,
			`[{"type":"string_too_long","loc":["body","note"],"msg":"String should have at most 10000 characters","input":"` +
				long + `","ctx":{"max_length":10000}}]`},
		{"default_list_limit", "POST", `{"name":"n","tags":` + strings.ReplaceAll(ids, "1", `"t"`) + `}`,
			`[{"type":"too_long","loc":["body","tags"],"msg":"List should have at most 1000 items after validation, not 1001","input":null,
			  "ctx":{"field_type":"List","max_length":1000,"actual_length":1001}}]`},
		{"default_json_limit", "POST", `{"name":"n","optins":{"k":"` + strings.Repeat("o", httpapi.DefaultMaxJSONBytes) + `"}}`,
			`[{"type":"too_long","loc":["body","optins"],"msg":"JSON value should have at most 65536 bytes, not 65544","input":null,
			  "ctx":{"field_type":"JSON","max_length":65536,"actual_length":65544}}]`},
		{"strings_inside_free_objects", "POST", `{"name":"n","props":{"deep":[{"x":"` + long + `"}]}}`,
			`[{"type":"string_too_long","loc":["body","props","deep",0,"x"],"msg":"String should have at most 10000 characters","input":"` +
				long + `","ctx":{"max_length":10000}}]`},
		{"batch_of_ids", "DELETE", ids,
			`[{"type":"too_long","loc":["body"],"msg":"List should have at most 1000 items after validation, not 1001","input":null,
			  "ctx":{"field_type":"List","max_length":1000,"actual_length":1001}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, tt.method, ts.URL+"/things", strings.NewReader(tt.body), "Content-Type", "application/json")
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "%.300s", r.body)
			assert.JSONEq(t, `{"detail":`+tt.want+`}`, r.body)
		})
	}
	t.Run("a_graph_is_bounded_by_the_body_only", func(t *testing.T) {
		t.Parallel()
		graph := `{"text":"` + strings.Repeat("g", 3<<20) + `"}`
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(`{"name":"g","data":`+graph+`}`))
		require.Equal(t, http.StatusOK, r.status, "%.300s", r.body)
		assert.JSONEq(t, fmt.Sprintf(`{"name":"g","data":%d}`, len(graph)), r.body)
	})
	t.Run("the_document_states_the_defaults", func(t *testing.T) {
		t.Parallel()
		r := do(t, "GET", ts.URL+"/openapi.json", nil)
		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody struct {
					Content map[string]struct {
						Schema struct {
							Properties map[string]struct {
								MaxLength *int `json:"maxLength"`
								MaxItems  *int `json:"maxItems"`
							} `json:"properties"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &doc))
		props := doc.Paths["/things"]["post"].RequestBody.Content["application/json"].Schema.Properties
		require.NotNil(t, props["note"].MaxLength)
		assert.Equal(t, 10000, *props["note"].MaxLength)
		assert.Equal(t, 64, *props["name"].MaxLength)
		require.NotNil(t, props["tags"].MaxItems)
		assert.Equal(t, 1000, *props["tags"].MaxItems)
	})
}

func TestParams_path_and_query_are_text(t *testing.T) {
	t.Parallel()
	ts := hostileServer(t, httpapi.Options{})
	tests := []struct {
		name, target, want string
	}{
		{"nul_in_path", "/things/a%00b",
			`[{"type":"value_error","loc":["path","name"],"msg":"Value error, NUL characters are not allowed","input":"a\u0000b"}]`},
		{"invalid_utf8_in_path", "/things/%FF%FE",
			`[{"type":"string_unicode","loc":["path","name"],"msg":"Input should be a valid string, unable to parse raw data as a unicode string","input":"\ufffd"}]`},
		{"nul_in_query", "/things/x?q=%00",
			`[{"type":"value_error","loc":["query","q"],"msg":"Value error, NUL characters are not allowed","input":"\u0000"}]`},
		{"overlong_query", "/things/x?q=" + strings.Repeat("q", httpapi.DefaultMaxStringLength+1),
			`[{"type":"string_too_long","loc":["query","q"],"msg":"String should have at most 10000 characters","input":"` +
				strings.Repeat("q", httpapi.DefaultMaxStringLength+1) + `","ctx":{"max_length":10000}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, "GET", ts.URL+tt.target, nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
			assert.JSONEq(t, `{"detail":`+tt.want+`}`, r.body)
		})
	}
	r := do(t, "GET", ts.URL+"/things/"+"caf%C3%A9%20%E2%80%AE", nil)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "café \u202e", r.body)
}

func TestParsePosition_refuses_what_a_bigint_cannot_hold(t *testing.T) {
	t.Parallel()
	_, err := httpapi.ParsePosition("9223372036854775808", "query", "cursor")
	ve, ok := err.(*httpapi.ValidationError)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "less_than_equal", ve.Items[0].Type)
	assert.Equal(t, []any{"query", "cursor"}, ve.Items[0].Loc)
	_, err = httpapi.ParsePosition("1/18446744073709551615")
	assert.Error(t, err)
	pos, err := httpapi.ParsePosition("9223372036854775807")
	require.NoError(t, err)
	assert.Equal(t, "9223372036854775807", pos.String())
}

// slowClient opens a connection to ts and sends head (a request line and
// headers) and then body, and returns the connection.
func slowClient(t *testing.T, ts *httptest.Server, head, body string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, head+body)
	require.NoError(t, err)
	return conn
}

// answer reads what the server says before it closes the connection (a
// reset too: the client may still be writing); it fails the test if the
// server keeps the connection open past limit.
func answer(t *testing.T, conn net.Conn, limit time.Duration) string {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(limit)))
	got, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		require.Fail(t, "the server kept the connection open", "it sent %q", got)
	}
	return string(got)
}

func TestBody_that_trickles_in_is_cut(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	ts := hostileServer(t, httpapi.Options{MaxBodyBytes: 1 << 20, BodyReadTimeout: timeout})
	head := "POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"

	t.Run("a_body_that_stalls", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		conn := slowClient(t, ts, head, `{"name":`)
		got := answer(t, conn, 10*time.Second)
		assert.GreaterOrEqual(t, time.Since(start), timeout)
		assert.True(t, strings.HasPrefix(got, "HTTP/1.1 408 "), got)
		assert.Contains(t, got, `{"detail":"The request body did not arrive in time"}`)
	})
	t.Run("a_body_that_drips", func(t *testing.T) {
		t.Parallel()
		conn := slowClient(t, ts, head, `{`)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // a byte every 50ms: never idle, never done
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		})
		start := time.Now()
		got := answer(t, conn, 10*time.Second)
		close(stop)
		wg.Wait()
		assert.Less(t, time.Since(start), 10*time.Second)
		if got != "" { // a reset (the client was writing) may discard it
			assert.True(t, strings.HasPrefix(got, "HTTP/1.1 408 "), got)
		}
	})
	t.Run("a_body_on_time_passes_and_the_connection_stays_usable", func(t *testing.T) {
		t.Parallel()
		body := `{"name":"ok"}`
		conn := slowClient(t, ts, strings.Replace(head, "1000", fmt.Sprint(len(body)), 1), body)
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
		// Past the body's deadline the kept-alive connection serves the
		// next request.
		assert.Eventually(t, func() bool {
			_, err := io.WriteString(conn, "GET /things/x HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		}, 5*time.Second, 2*timeout)
	})
}

func TestLargeBodies_wait_for_room(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	s := httpapi.New(httpapi.Options{MaxBodyBytes: 1 << 10, LargeBodyBytes: 1 << 20, LargeBodyMemory: 1 << 20,
		BodyReadTimeout: 500 * time.Millisecond})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/flows", Summary: "Create Flow", Public: true, Body: hostileBody{}, LargeBody: true,
		Handler: func(c *gin.Context) {
			var in hostileBody
			if !httpapi.BindJSON(c, &in) {
				return
			}
			entered <- struct{}{}
			if in.Name == "hold" {
				<-release
			}
			c.JSON(http.StatusOK, gin.H{"name": in.Name})
		}})
	ts := serve(t, s)
	big := func(name string) io.Reader {
		return strings.NewReader(`{"name":"` + name + `","data":"` + strings.Repeat("x", 700<<10) + `"}`)
	}
	first := make(chan response, 1)
	go func() { first <- do(t, "POST", ts.URL+"/flows", big("hold")) }()
	<-entered // the first large body holds 700 KiB of the 1 MiB

	r := do(t, "POST", ts.URL+"/flows", big("second"))
	assert.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	r = do(t, "POST", ts.URL+"/flows", strings.NewReader(`{"name":"small"}`))
	assert.Equal(t, http.StatusOK, r.status, "a small body needs no room: %s", r.body)
	<-entered

	close(release)
	assert.Equal(t, http.StatusOK, (<-first).status)
	r = do(t, "POST", ts.URL+"/flows", big("third"))
	assert.Equal(t, http.StatusOK, r.status, "the room is back: %s", r.body)
	r = do(t, "POST", ts.URL+"/flows", strings.NewReader(`{"name":"`+strings.Repeat("x", 1<<20)+`"}`))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
}
