package components

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
)

// netComponents are the components of calculator.go, url.go,
// apirequest.go and currentdate.go.
func netComponents() []engine.Component {
	return []engine.Component{Calculator{}, URLComponent{}, URLLegacy{}, APIRequest{}, CurrentDate{}}
}

// netRegistry is every component of the package, extra replacing those
// of their types.
func netRegistry(t *testing.T, extra ...engine.Component) *engine.Registry {
	t.Helper()
	// extra replace the package's components of their types.
	replaced := map[string]bool{}
	for _, c := range extra {
		replaced[c.Spec().Type] = true
	}
	comps := slices.Clone(extra)
	for _, c := range All() {
		if !replaced[c.Spec().Type] {
			comps = append(comps, c)
		}
	}
	reg, err := engine.NewRegistry(comps...)
	require.NoError(t, err)
	return reg
}

// runNode runs a flow of one node id (of data.type typ) with field
// values, plus what more adds, in env.
func runNode(t *testing.T, reg *engine.Registry, env engine.Env, id, typ string, values map[string]any,
	more ...func(*flowBuilder)) *engine.RunResult {
	t.Helper()
	f := &flowBuilder{t: t, reg: reg, types: map[string]string{}}
	f.node(id, typ, values)
	for _, m := range more {
		m(f)
	}
	eng := engine.New(reg, engine.Limits{})
	g, err := eng.Compile(f.bytes())
	require.NoError(t, err)
	return eng.Run(context.Background(), g, engine.RunInput{FlowID: "flow-1", UserID: 7}, env, nil)
}

// policyClient is the HTTP client of a policy allowing allow.
func policyClient(t *testing.T, allow ...string) *http.Client {
	t.Helper()
	p, err := egress.New(allow)
	require.NoError(t, err)
	return p.HTTPClient()
}

// vertexErr returns the error of vertex id, which must have failed.
func vertexErr(t *testing.T, r *engine.RunResult, id string) error {
	t.Helper()
	res := r.Result(id)
	require.NotNil(t, res, "%s did not build", id)
	require.False(t, res.Valid, "%s did not fail", id)
	return res.Err
}

// listenOn serves h on addr ("127.0.0.2:0", "[::1]:0" …).
func listenOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

const sitePage = `<html lang="en"><head><title>Home &amp; Garden</title><meta name="description" content="The home page">
<style>p { color: red }</style></head>
<body><h1>Hello</h1><p>World &amp; more</p><script>steal()</script>
<a href="/a">A</a> <a href="/b#top">B</a> <a href="/style.css">css</a> <a href="http://10.255.255.1/outside">out</a>
</body></html>`

// site serves a small site: / links to /a, /b, a stylesheet and an
// internal address; /a links to /c.
func site() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(sitePage))
	})
	for path, body := range map[string]string{
		"/a": `<html><head><title>A</title></head><body>Page A <a href="/c">C</a></body></html>`,
		"/b": `<html><head><title>B</title></head><body>Page B</body></html>`,
		"/c": `<html><head><title>C</title></head><body>Page C</body></html>`,
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(body))
		})
	}
	return mux
}

func TestURLComponent_Fetches(t *testing.T) {
	t.Parallel()
	srv := listenOn(t, "127.0.0.1:0", site())
	reg := netRegistry(t)
	env := engine.Env{HTTP: policyClient(t, "127.0.0.1")}

	t.Run("text_of_the_start_page", func(t *testing.T) {
		r := runNode(t, reg, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL + "/", " "}})
		df, ok := outValue(t, r, "URLComponent-1", "page_results").(*engine.DataFrame)
		require.True(t, ok)
		require.Len(t, df.Rows, 1)
		row := df.Rows[0]
		assert.Equal(t, pageColumns, df.Columns)
		text := row["text"].(string)
		assert.Contains(t, text, "Hello")
		assert.Contains(t, text, "World & more")
		assert.NotContains(t, text, "steal()")
		assert.NotContains(t, text, "color: red")
		assert.Equal(t, srv.URL+"/", row["url"])
		assert.Equal(t, "Home & Garden", row["title"])
		assert.Equal(t, "The home page", row["description"])
		assert.Equal(t, "en", row["language"])
		assert.Equal(t, "text/html; charset=utf-8", row["content_type"])
		msg, ok := outValue(t, r, "URLComponent-1", "raw_results").(*engine.Message)
		require.True(t, ok)
		assert.Equal(t, text, msg.Text)
		assert.Len(t, msg.Data["data"], 1)
	})
	t.Run("depth_follows_links_under_the_url", func(t *testing.T) {
		for depth, want := range map[int][]string{1: {"/"}, 2: {"/", "/a", "/b"}, 3: {"/", "/a", "/b", "/c"}} {
			r := runNode(t, reg, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL + "/"}, "max_depth": depth})
			df := outValue(t, r, "URLComponent-1", "page_results").(*engine.DataFrame)
			var got []string
			for _, row := range df.Rows {
				got = append(got, strings.TrimPrefix(row["url"].(string), srv.URL))
			}
			assert.Equal(t, want, got, "depth %d", depth)
		}
	})
	t.Run("a_refused_link_is_skipped", func(t *testing.T) {
		r := runNode(t, reg, env, "URLComponent-1", "URLComponent",
			map[string]any{"urls": []any{srv.URL + "/"}, "max_depth": 2, "prevent_outside": false})
		df := outValue(t, r, "URLComponent-1", "page_results").(*engine.DataFrame)
		assert.Len(t, df.Rows, 3)
	})
	t.Run("html_and_markdown", func(t *testing.T) {
		r := runNode(t, reg, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL + "/"}, "format": "HTML"})
		assert.Equal(t, cleanString(sitePage), outValue(t, r, "URLComponent-1", "page_results").(*engine.DataFrame).Rows[0]["text"])
		r = runNode(t, reg, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL + "/"}, "format": "Markdown"})
		md := outValue(t, r, "URLComponent-1", "page_results").(*engine.DataFrame).Rows[0]["text"].(string)
		assert.Contains(t, md, "# Hello")
		assert.Contains(t, md, "[A](/a)")
		assert.NotContains(t, md, "steal()")
	})
	t.Run("response_size_limit", func(t *testing.T) {
		small := netRegistry(t, URLComponent{MaxResponseBytes: 64})
		r := runNode(t, small, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL + "/"}})
		err := vertexErr(t, r, "URLComponent-1")
		require.ErrorIs(t, err, ErrResponseTooLarge)
	})
	t.Run("no_urls", func(t *testing.T) {
		r := runNode(t, reg, env, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{}})
		assert.EqualError(t, vertexErr(t, r, "URLComponent-1"), "Error loading documents: No valid URLs provided.")
	})
	t.Run("no_http_client", func(t *testing.T) {
		r := runNode(t, reg, engine.Env{}, "URLComponent-1", "URLComponent", map[string]any{"urls": []any{srv.URL}})
		assert.ErrorContains(t, vertexErr(t, r, "URLComponent-1"), "no egress HTTP client")
	})
}

func TestURLLegacy_Fetches(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("/", site())
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"name": "pikachu", "id": 25}`))
	})
	srv := listenOn(t, "127.0.0.1:0", mux)
	reg := netRegistry(t)
	env := engine.Env{HTTP: policyClient(t, "127.0.0.1")}
	r := runNode(t, reg, env, "URL-1", "URL", map[string]any{"urls": []any{srv.URL + "/a", srv.URL + "/b"}})
	assert.Equal(t, "APage A C\n\nBPage B", outText(t, r, "URL-1", "text"))
	data := outValue(t, r, "URL-1", "data").([]engine.Value)
	require.Len(t, data, 2)
	assert.Equal(t, srv.URL+"/a", data[0].(*engine.Data).Map["source"])
	assert.Equal(t, "No description found.", data[0].(*engine.Data).Map["description"])

	r = runNode(t, reg, env, "URL-1", "URL", map[string]any{"urls": []any{srv.URL + "/json"}, "format": "JSON"})
	d := outValue(t, r, "URL-1", "data").([]engine.Value)[0].(*engine.Data)
	assert.Equal(t, "pikachu", d.Map["name"])
	assert.Contains(t, d.Text(), `"id": 25`)
}

// ssrfTargets are the addresses a flow may not make the server reach, each
// with the policy of the client that must refuse it; hits counts the
// requests that reached the internal listeners (there must be none).
func ssrfTargets(t *testing.T) (targets []struct{ name, url, allow, want string }, hits *atomic.Int64) {
	t.Helper()
	hits = &atomic.Int64{}
	secret := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"secret": "s3cr3t"}`))
	})
	v4 := listenOn(t, "127.0.0.1:0", secret)
	port := v4.URL[strings.LastIndex(v4.URL, ":"):]
	v6url := "http://[::1]:9/"
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		v6url = listenOn(t, "[::1]:0", secret).URL + "/"
	}
	// A listener the policy allows (127.0.0.2) that redirects to the
	// internal one: the redirect's target is what must be refused.
	redirector := listenOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, v4.URL+"/latest/meta-data/", http.StatusFound)
	}))
	return []struct{ name, url, allow, want string }{
		{"loopback", v4.URL + "/", "", "127.0.0.1 (127.0.0.1) is an internal address"},
		{"ipv6_loopback", v6url, "", "(::1) is an internal address"},
		{"private_10", "http://10.0.0.1:8080/", "", "10.0.0.1 (10.0.0.1) is an internal address"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", "", "169.254.169.254 (169.254.169.254) is an internal address"},
		{"name_resolving_to_loopback", "http://localhost" + port + "/", "", "localhost (127.0.0.1) is an internal address"},
		// The error names the redirect's target, reached only by following it.
		{"redirect_to_loopback", redirector.URL + "/go", "127.0.0.2", port + "/latest/meta-data/"},
	}, hits
}

func TestURLComponent_SSRF(t *testing.T) {
	t.Parallel()
	targets, hits := ssrfTargets(t)
	reg := netRegistry(t)
	for _, typ := range []string{"URLComponent", "URL"} {
		for _, tc := range targets {
			t.Run(typ+"_"+tc.name, func(t *testing.T) {
				var allow []string
				if tc.allow != "" {
					allow = []string{tc.allow}
				}
				r := runNode(t, reg, engine.Env{HTTP: policyClient(t, allow...)}, typ+"-1", typ, map[string]any{"urls": []any{tc.url}})
				err := vertexErr(t, r, typ+"-1")
				require.ErrorIs(t, err, egress.ErrRefused)
				assert.ErrorContains(t, err, tc.want)
			})
		}
	}
	assert.Zero(t, hits.Load(), "an internal listener was reached")

	t.Run("allow_listed", func(t *testing.T) {
		r := runNode(t, reg, engine.Env{HTTP: policyClient(t, "127.0.0.1")}, "URLComponent-1", "URLComponent",
			map[string]any{"urls": []any{targets[0].url}, "format": "HTML"})
		assert.Contains(t, outText(t, r, "URLComponent-1", "raw_results"), "s3cr3t")
	})
}

func TestNetSpecs(t *testing.T) {
	reg := netRegistry(t)
	for typ, want := range map[string]struct {
		category, display string
		toolArgs          []string
	}{
		"CalculatorComponent": {"utilities", "Calculator", []string{"expression"}},
		"CurrentDate":         {"utilities", "Current Date", []string{"timezone"}},
		"URLComponent":        {"data_source", "URL", []string{"urls"}},
		"URL":                 {"data_source", "URL", []string{"urls"}},
		"APIRequest":          {"data_source", "API Request", []string{"url_input", "curl_input"}},
	} {
		c, ok := reg.Lookup(typ)
		require.True(t, ok, typ)
		s := c.Spec()
		assert.Equal(t, want.category, s.Category, typ)
		assert.Equal(t, want.display, s.DisplayName, typ)
		var args []string
		for _, f := range s.Fields {
			if f.ToolMode {
				args = append(args, f.Name)
			}
		}
		assert.Equal(t, want.toolArgs, args, typ)
	}
	for _, c := range netComponents() {
		s := c.Spec()
		assert.NotEmpty(t, s.Icon, s.Type)
		assert.NotEmpty(t, s.BaseClasses, s.Type)
		assert.NotEmpty(t, s.Outputs, s.Type)
		for _, f := range s.Fields {
			assert.NotEmpty(t, f.Type, "%s.%s", s.Type, f.Name)
			assert.NotEmpty(t, f.Input, "%s.%s", s.Type, f.Name)
			assert.NotEmpty(t, f.DisplayName, "%s.%s", s.Type, f.Name)
		}
	}
	f, _ := APIRequest{}.Spec().Field("follow_redirects")
	assert.Equal(t, false, f.Default)
	f, _ = URLComponent{}.Spec().Field("urls")
	assert.True(t, f.List)
	assert.Equal(t, []string{"page_results"}, URLComponent{}.ToolOutputs())
}
