package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/mcpserver"
)

// headerRT adds a header to every request, and may send POSTs to
// another server (postTo: the SSE relay of two processes).
type headerRT struct {
	key, value string
	postTo     string
}

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.key, h.value)
	if h.postTo != "" && r.Method == http.MethodPost {
		u, _ := url.Parse(h.postTo)
		r.URL.Host, r.Host = u.Host, u.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects an SDK client to the server at base over transport
// ("sse" or "streamable") under mount, as token; progress notifications
// go to progress.
func mcpSession(t *testing.T, base, mount, transport, token, postTo string, progress func(float64)) *mcp.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: headerRT{key: "Authorization", value: "Bearer " + token, postTo: postTo}}
	var tr mcp.Transport
	switch transport {
	case "sse":
		tr = &mcp.SSEClientTransport{Endpoint: base + mount + "/sse", HTTPClient: hc}
	default:
		tr = &mcp.StreamableClientTransport{Endpoint: base + mount + "/streamable", HTTPClient: hc}
	}
	opts := &mcp.ClientOptions{}
	if progress != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { progress(r.Params.Progress) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "skillflaw-test", Version: "1"}, opts).Connect(ctx, tr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// mcpSrvStart serves the runs modules with the MCP server (and Files, for
// resources) on a fresh database; dbURL reuses one (a second process).
func mcpSrvStart(t *testing.T, dbURL string) *rtServer {
	t.Helper()
	runs := &app.Runs{Components: components.All()}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], app.Files{}, &app.MCP{Runs: runs, Progress: 20 * time.Millisecond}, mods[len(mods)-1])
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_STORAGE_DIR"] = t.TempDir()
	h := startApp(t, options{env: env, modules: mods, dbURL: dbURL})
	return &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
}

func mcpEcho() map[string]any {
	return rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", map[string]any{"input_value": ""}),
		node("ChatOutput-DDDDD:ChatOutput", nil)}, "ChatInput-AAAAA.message>ChatOutput-DDDDD.input_value")
}

func mcpWebhook() map[string]any {
	return rtFlowData([]rtNode{node("Webhook-WWWWW:Webhook", map[string]any{"data": ""}),
		node("ParserComponent-PPPPP:ParserComponent", map[string]any{"pattern": "Got {city}", "mode": "Parser"}),
		node("ChatOutput-DDDDD:ChatOutput", nil)},
		"Webhook-WWWWW.output_data>ParserComponent-PPPPP.input_data", "ParserComponent-PPPPP.parsed_text>ChatOutput-DDDDD.input_value")
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var out []string
	for _, tool := range res.Tools {
		out = append(out, tool.Name)
	}
	sort.Strings(out)
	return out
}

func callText(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, token any) (string, bool) {
	t.Helper()
	p := &mcp.CallToolParams{Name: name, Arguments: args}
	if token != nil {
		p.SetProgressToken(token)
	}
	res, err := cs.CallTool(context.Background(), p)
	require.NoError(t, err)
	var texts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			texts = append(texts, tc.Text)
		}
	}
	return strings.Join(texts, "|"), res.IsError
}

// An MCP client made with the SDK, over both transports at both mounts:
// initialize, tools/list (the caller's mcp_enabled flows, sanitised
// names, input schemas), tools/call with every argument honoured and
// progress notifications, resources/list and resources/read. A user of
// another tenant lists none of the flows and cannot call them.
func TestMCPServer_ToolsResourcesAndPermissions(t *testing.T) {
	t.Parallel()
	s := mcpSrvStart(t, "")
	// Alice works in tenant A, Bob administers tenant B.
	tenant := func(name string) string {
		r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, s.root.token)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)["tenant_id"].(string)
	}
	ta, tb := tenant("MCP A"), tenant("MCP B")
	alice := s.newUser(t, "mcpalice", "mcp-alice-pw-1")
	bob := s.newUser(t, "mcpbob", "mcp-bob-pw-1")
	s.grantRole(t, s.root.token, ta, alice.id, "developer")
	s.grantRole(t, s.root.token, tb, bob.id, "tenant_admin")
	inA := map[string]any{"tenant_id": ta, "mcp_enabled": true}
	echo := s.flow(t, alice.token, mcpEcho(), merge(inA, map[string]any{"name": "Echo Flow 🚀 Café", "description": "echoes"}))
	s.flow(t, alice.token, mcpWebhook(), merge(inA, map[string]any{"name": "weather", "action_name": "City Weather",
		"action_description": "Tells the city"}))
	s.flow(t, alice.token, mcpEcho(), map[string]any{"name": "not a tool", "tenant_id": ta})

	// A file of the echo flow, as a resource.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "notes.txt")
	_, _ = part.Write([]byte("file content 42"))
	require.NoError(t, mw.Close())
	r := s.send(t, http.MethodPost, "/api/v1/files/upload/"+echo, &body, mw.FormDataContentType(), bearer(alice.token))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	stored := strings.TrimPrefix(r.obj(t)["file_path"].(string), echo+"/")

	for _, mount := range mcpserver.Mounts {
		for _, transport := range []string{"sse", "streamable"} {
			t.Run(strings.TrimPrefix(mount, "/")+"-"+transport, func(t *testing.T) {
				var (
					mu       sync.Mutex
					progress []float64
					finished = make(chan struct{})
				)
				cs := mcpSession(t, s.base, mount, transport, alice.token, "", func(p float64) {
					mu.Lock()
					defer mu.Unlock()
					progress = append(progress, p)
					if p == 1 {
						close(finished)
					}
				})
				assert.Equal(t, mcpserver.ServerName, cs.InitializeResult().ServerInfo.Name)
				assert.Equal(t, []string{"city_weather", "echo_flow_cafe"}, toolNames(t, cs))
				list, err := cs.ListTools(context.Background(), nil)
				require.NoError(t, err)
				for _, tool := range list.Tools {
					switch tool.Name {
					case "echo_flow_cafe":
						assert.Equal(t, echo+": echoes", tool.Description)
						assert.Contains(t, mustJSON(t, tool.InputSchema), `"input_value":{"description":"Input for input_value","type":"string"}`)
					case "city_weather":
						assert.Equal(t, "Tells the city", tool.Description)
						assert.Contains(t, mustJSON(t, tool.InputSchema), `"data"`)
					}
				}
				text, isErr := callText(t, cs, "echo_flow_cafe", map[string]any{"input_value": "hello " + transport}, "tok-1")
				assert.False(t, isErr)
				assert.Equal(t, "hello "+transport, text)
				select { // the client hands notifications over on its own goroutine
				case <-finished:
				case <-time.After(10 * time.Second):
					t.Fatal("no final progress notification")
				}
				mu.Lock()
				got := append([]float64(nil), progress...)
				mu.Unlock()
				assert.Equal(t, 0.0, got[0], "progress notifications from 0")
				assert.Equal(t, 1.0, got[len(got)-1], "to 1")
				text, _ = callText(t, cs, "city_weather", map[string]any{"data": `{"city": "Paris"}`}, nil)
				assert.Equal(t, "Got Paris", text, "an argument other than input_value reaches its input")

				res, err := cs.ListResources(context.Background(), nil)
				require.NoError(t, err)
				require.Len(t, res.Resources, 1)
				assert.Equal(t, stored, res.Resources[0].Name)
				assert.Equal(t, "File in flow: Echo Flow 🚀 Café", res.Resources[0].Description)
				assert.True(t, strings.HasSuffix(res.Resources[0].URI, "/api/v1/files/download/"+echo+"/"+url.PathEscape(stored)), res.Resources[0].URI)
				read, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: res.Resources[0].URI})
				require.NoError(t, err)
				require.Len(t, read.Contents, 1)
				assert.Equal(t, "file content 42", string(read.Contents[0].Blob))

				other := mcpSession(t, s.base, mount, transport, bob.token, "", nil)
				assert.Empty(t, toolNames(t, other), "tenant A's flows are no tools of tenant B's administrator")
				_, err = other.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo_flow_cafe", Arguments: map[string]any{"input_value": "x"}})
				assert.Error(t, err, "and cannot be called")
				res, err = other.ListResources(context.Background(), nil)
				require.NoError(t, err)
				assert.Empty(t, res.Resources)
				_, err = other.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: s.base + "/api/v1/files/download/" + echo + "/" + url.PathEscape(stored)})
				assert.Error(t, err)
			})
		}
	}

	// The transports' refusals.
	assert.Equal(t, http.StatusForbidden, s.do(t, http.MethodGet, "/api/v1/mcp/sse", nil, nil).status, "credentials needed")
	for q, want := range map[string]int{"": 400, "?session_id=xyz": 400, "?session_id=" + strings.Repeat("ab", 16): 404} {
		r := s.send(t, http.MethodPost, "/mcp/"+q, strings.NewReader(`{}`), "application/json", nil)
		assert.Equal(t, want, r.status, q+": "+r.raw)
	}
	for _, p := range []string{"/api/v1/mcp/streamable", "/mcp/streamable"} {
		assert.Equal(t, http.StatusMethodNotAllowed, s.call(t, http.MethodDelete, p, nil, alice.token).status)
	}
	assert.Equal(t, http.StatusOK, s.send(t, http.MethodHead, "/mcp/sse", nil, "", nil).status)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// SSE sessions work across processes: a session opened on one process
// takes the messages a client POSTs to the other (relayed through
// PostgreSQL).
func TestMCPServer_SSEAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	one := mcpSrvStart(t, "")
	two := mcpSrvStart(t, one.dbURL)
	alice := one.newUser(t, "mcprelay", "mcp-relay-pw-1")
	one.flow(t, alice.token, mcpEcho(), map[string]any{"name": "relay echo", "mcp_enabled": true})
	cs := mcpSession(t, one.base, "/api/v1/mcp", "sse", alice.token, two.base, nil)
	assert.Equal(t, []string{"relay_echo"}, toolNames(t, cs))
	text, _ := callText(t, cs, "relay_echo", map[string]any{"input_value": "across"}, nil)
	assert.Equal(t, "across", text)
}

// With SKILLFLAW_AUTO_LOGIN on, a client of the server's own machine with
// no credentials acts as the first superuser (Langflow's MCP fallback);
// one forwarded by a proxy, or carrying a bad key, does not.
func TestMCPServer_AutoLoginLocalFallback(t *testing.T) {
	t.Parallel()
	runs := &app.Runs{Components: components.All()}
	mods := rtModules(runs)
	mods = append(mods[:len(mods)-1], &app.MCP{Runs: runs}, mods[len(mods)-1])
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_AUTO_LOGIN"] = "true"
	h := startApp(t, options{env: env, modules: mods})
	s := &rtServer{harness: h, runs: runs, root: h.signIn(t, rtRoot, rtPassword)}
	s.flow(t, s.root.token, mcpEcho(), map[string]any{"name": "root echo", "mcp_enabled": true})

	cs := mcpSession(t, s.base, "/mcp", "streamable", "", "", nil)
	assert.Equal(t, []string{"root_echo"}, toolNames(t, cs))
	for _, hd := range []http.Header{{"X-Forwarded-For": {"203.0.113.9"}}, {"X-Api-Key": {"sk-not-a-key"}}} {
		r := s.do(t, http.MethodHead, "/api/v1/mcp/streamable", nil, hd)
		assert.Equal(t, http.StatusForbidden, r.status, "%v", hd)
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
