package mcpserver

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// Mounts are where the MCP server is served: Langflow's /api/v1/mcp and
// the application root's /mcp.
var Mounts = []string{"/api/v1/mcp", "/mcp"}

// Port is the HTTP side of the MCP server: the SDK's SSE transport (one
// session per GET …/sse, messages POSTed to …/?session_id=) and its
// stateless Streamable HTTP transport (…/streamable).
//
// SSE sessions work across processes: a session lives in the process that
// holds its GET, and is recorded in mcp_sse_sessions; a message POSTed to
// another process is put in mcp_sse_messages and announced with NOTIFY on
// channel mcp_sse, and the session's process (Listen) hands it to the
// session. Any process may take any request: no sticky routing is needed.
type Port struct {
	Svc  *Service
	Pool *pgxpool.Pool
	// Stop ends every SSE session (the server shuts down).
	Stop <-chan struct{}

	mu       sync.Mutex
	sessions map[string]*sseSession
}

type sseSession struct {
	t     *mcp.SSEServerTransport
	owner int64
}

// Texts of the message route's refusals (Langflow's, the SDK's of
// Python).
const (
	MsgSessionRequired = "session_id is required"
	MsgInvalidSession  = "Invalid session ID"
	MsgNoSession       = "Could not find session"
)

// Routes registers the MCP routes at every mount. The SSE GET and the
// streamable routes need flows.run (their own flows need no grant), from
// a Bearer JWT or an API key — or, with SKILLFLAW_AUTO_LOGIN on and no
// credentials at all, from a request of the server's own machine, which
// acts as the first superuser (httpapi.Operation.LocalSuperuser). The root
// mount's message POST and HEAD probes are public, as its session id is
// the capability its GET handed out.
func (p *Port) Routes(s *httpapi.Server) {
	p.sessions = map[string]*sseSession{}
	run := access.Own("flows", "run")
	for _, m := range Mounts {
		root := m == "/mcp"
		s.Handle(httpapi.Operation{Method: http.MethodGet, Path: m + "/sse", Access: run, LocalSuperuser: true, Tag: "mcp", Summary: "Handle Sse",
			Description: "Opens an MCP session over SSE (the SDK's transport): the first event, endpoint, names where to POST " +
				"messages. Tools are the caller's flows that are mcp_enabled and that they may run (not every flow, as in " +
				"Langflow); resources are their flows' and their own files.",
			Handler: p.sse(m)})
		s.Handle(httpapi.Operation{Method: http.MethodHead, Path: m + "/sse", Access: run, LocalSuperuser: true, Public: root, Tag: "mcp", Summary: "Im Alive",
			Description: "200 with no body: the MCP server is up.", Handler: alive})
		s.Handle(httpapi.Operation{Method: http.MethodPost, Path: m + "/", Access: run, LocalSuperuser: true, Public: root, Tag: "mcp", Summary: "Handle Messages",
			Description: "A JSON-RPC message for the SSE session session_id (202 Accepted); the answer comes on the session's " +
				"stream. 400 without or with a malformed session_id, 404 for a session that is not open (or not the caller's).",
			Params:  []httpapi.Param{{Name: "session_id", In: "query", Description: "The session the SSE endpoint event named."}},
			Handler: p.message})
		for _, path := range []string{m + "/streamable", m + "/streamable/"} {
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				s.Handle(httpapi.Operation{Method: method, Path: path, Access: run, LocalSuperuser: true, Tag: "mcp", Summary: "Handle Streamable Http",
					Description: "MCP over stateless Streamable HTTP (the SDK's transport): POST a JSON-RPC message with Accept " +
						"application/json and text/event-stream; GET and DELETE answer 405 (no sessions to resume or end).",
					Handler: p.streamable})
			}
		}
		s.Handle(httpapi.Operation{Method: http.MethodHead, Path: m + "/streamable", Access: run, LocalSuperuser: true, Public: root, Tag: "mcp",
			Summary: "Streamable Health", Description: "200 with no body: the Streamable HTTP transport is up.", Handler: alive})
	}
}

func alive(c *gin.Context) { c.Status(http.StatusOK) }

// baseURL is the server's address as the request reached it, for
// resource URIs.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (p *Port) serverFor(c *gin.Context) (*mcp.Server, bool) {
	caller, err := auth.Caller(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return nil, false
	}
	srv, err := p.Svc.Server(c.Request.Context(), caller, baseURL(c.Request))
	if err != nil {
		httpapi.Fail(c, err)
		return nil, false
	}
	return srv, true
}

// streamable serves one request of the stateless transport with a server
// of the caller's own.
func (p *Port) streamable(c *gin.Context) {
	var srv *mcp.Server
	if c.Request.Method == http.MethodPost {
		var ok bool
		if srv, ok = p.serverFor(c); !ok {
			return
		}
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		// Requests are authenticated: DNS rebinding cannot borrow a
		// credential, and proxies on the same host are common.
		&mcp.StreamableHTTPOptions{Stateless: true, DisableLocalhostProtection: true, Logger: p.Svc.Logger})
	h.ServeHTTP(c.Writer, c.Request)
}

// sse opens a session: the SDK's SSE transport on this response, its
// endpoint under mount, the caller's server connected to it until the
// client goes or the server stops.
func (p *Port) sse(mount string) gin.HandlerFunc {
	return func(c *gin.Context) {
		srv, ok := p.serverFor(c)
		if !ok {
			return
		}
		caller, _ := auth.Caller(c.Request.Context())
		ctx := c.Request.Context()
		id := strings.ReplaceAll(uuid.NewString(), "-", "")
		t := &mcp.SSEServerTransport{Endpoint: mount + "/?session_id=" + id, Response: c.Writer}
		if _, err := p.Pool.Exec(ctx, `INSERT INTO mcp_sse_sessions (session_id, user_id, created_at) VALUES ($1, $2, now())`,
			id, caller.UserID); err != nil {
			httpapi.Fail(c, fmt.Errorf("record the MCP session: %w", err))
			return
		}
		p.mu.Lock()
		p.sessions[id] = &sseSession{t: t, owner: caller.UserID}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.sessions, id)
			p.mu.Unlock()
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = p.Pool.Exec(bg, `DELETE FROM mcp_sse_sessions WHERE session_id = $1`, id)
			_, _ = p.Pool.Exec(bg, `DELETE FROM mcp_sse_messages WHERE session_id = $1`, id)
		}()
		c.Header("Content-Type", "text/event-stream")
		c.Header("Cache-Control", "no-cache")
		c.Header("Connection", "keep-alive")
		c.Header("X-Accel-Buffering", "no")
		c.Status(http.StatusOK)
		ss, err := srv.Connect(ctx, t, nil)
		if err != nil {
			return // the client went before the endpoint event
		}
		defer ss.Close()
		ended := make(chan struct{})
		go func() { _ = ss.Wait(); close(ended) }()
		select {
		case <-ctx.Done():
		case <-ended:
		case <-p.Stop:
		}
	}
}

// message hands a POSTed JSON-RPC message to its SSE session: here, or
// through PostgreSQL to the process that holds it.
func (p *Port) message(c *gin.Context) {
	id := c.Query("session_id")
	if id == "" {
		c.String(http.StatusBadRequest, MsgSessionRequired)
		return
	}
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		c.String(http.StatusBadRequest, MsgInvalidSession)
		return
	}
	caller, signedIn := auth.PrincipalFrom(c.Request.Context())
	p.mu.Lock()
	local := p.sessions[id]
	p.mu.Unlock()
	if local != nil {
		if signedIn && caller.UserID != local.owner {
			c.String(http.StatusNotFound, MsgNoSession)
			return
		}
		local.t.ServeHTTP(c.Writer, c.Request)
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var owner int64
	err = p.Pool.QueryRow(c.Request.Context(), `SELECT user_id FROM mcp_sse_sessions WHERE session_id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && signedIn && caller.UserID != owner {
		c.String(http.StatusNotFound, MsgNoSession)
		return
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	// The message and its announcement commit together.
	if _, err := p.Pool.Exec(c.Request.Context(), `WITH m AS (INSERT INTO mcp_sse_messages (session_id, body, created_at)
  VALUES ($1, $2, now()) RETURNING id) SELECT pg_notify('mcp_sse', (SELECT id FROM m)::text)`, id, body); err != nil {
		httpapi.Fail(c, fmt.Errorf("relay the MCP message: %w", err))
		return
	}
	c.String(http.StatusAccepted, "Accepted")
}

// Listen delivers the messages other processes relay to this process's
// SSE sessions until ctx ends (the module's Runner).
func (p *Port) Listen(ctx context.Context) error {
	conn, err := p.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("MCP relay: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN mcp_sse`); err != nil {
		return fmt.Errorf("MCP relay: %w", err)
	}
	// What no session took (a process gone) is dropped after a day.
	_, _ = p.Pool.Exec(ctx, `DELETE FROM mcp_sse_messages WHERE created_at < now() - interval '1 day'`)
	_, _ = p.Pool.Exec(ctx, `DELETE FROM mcp_sse_sessions WHERE created_at < now() - interval '1 day'`)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("MCP relay: %w", err)
		}
		p.deliver(ctx, n.Payload)
	}
}

// deliver hands relayed message id to its session, if this process holds
// it (the others leave it).
func (p *Port) deliver(ctx context.Context, id string) {
	var (
		session string
		body    []byte
	)
	if err := p.Pool.QueryRow(ctx, `SELECT session_id FROM mcp_sse_messages WHERE id = $1`, id).Scan(&session); err != nil {
		return
	}
	p.mu.Lock()
	local := p.sessions[session]
	p.mu.Unlock()
	if local == nil {
		return
	}
	if err := p.Pool.QueryRow(ctx, `DELETE FROM mcp_sse_messages WHERE id = $1 RETURNING body`, id).Scan(&body); err != nil {
		return
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, local.t.Endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	local.t.ServeHTTP(httptest.NewRecorder(), req)
}
