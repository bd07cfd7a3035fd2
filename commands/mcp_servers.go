package commands

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/mcpclient"
	"github.com/skillflaw/skillflaw-go/secrets"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of the MCP server registry (#207–#213): each is a command
// value and one method of MCPServersHandler that decides on a tenant's
// MCPServers aggregate and appends, with no HTTP in sight (ports.MCPServers
// binds, resolves, calls and answers).
//
//   - Where: a server lives at a catalogue place (mcp_scope 0..3,
//     business_id) in the request's tenant, system servers (0) in the
//     system tenant; CatalogWriter is the write rule.
//   - Secrets: every value of env and headers is sealed here, with
//     Secrets, before it reaches the aggregate or an event (additional
//     data: tenant, server id, map and name, MCPSecretAAD); without Secrets
//     a server with env or headers is refused. A value sent back as the
//     mask keeps the stored one. Values are opened only in memory, for a
//     test connection.
//   - stdio: a stdio server is a command this process starts: only
//     superusers write or test one, and only when StdioEnabled
//     (SKILLFLAW_MCP_STDIO_ENABLE).

// Messages of the MCP server rules.
const (
	MsgMCPSecretsUnset   = "MCP servers with env or headers need an encryption key: set SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY"
	MsgMCPStdioDisabled  = "stdio MCP servers are disabled: they start a local process on the server; the operator may enable them with SKILLFLAW_MCP_STDIO_ENABLE=true"
	MsgMCPStdioSuperuser = "Only superusers may register, change or test stdio MCP servers (they start a local process on the server)"
	MsgMCPHeadersNewHost = "url moves the server to another host: send its headers again in clear, or {} to drop them (stored header values never follow the url to another host)"
	MsgMCPScopeMove      = "mcp_scope cannot move a server into or out of the system scope (0) from another tenant: add it there and delete this one"
)

// MCPServerRef finds a server: by ServerID when it is not 0, else by Name
// at Scope and BusinessID. Without a scope: scope 2 (business) when
// BusinessID is given, else the tenant's server (scope 1), else the
// caller's personal one (3), else the system one (0).
type MCPServerRef struct {
	ServerID   int64
	Name       string
	Scope      *int
	BusinessID *int64
}

// MCPServerFields are the fields of a server a write sets (nil: not
// given). Env and Headers are in clear; a value equal to the mask keeps
// the stored value (on a change).
type MCPServerFields struct {
	Scope      *int
	BusinessID *int64
	MCPType    *string
	Command    *string
	Args       *[]string
	Env        *map[string]string
	Headers    *map[string]string
	URL        *string
	Logo, Note *string
	IsActive   *bool
}

// AddMCPServer adds a server named Name.
type AddMCPServer struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Caller auth.Principal
	Name   string
	MCPServerFields
}

// ChangeMCPServer changes the server Ref finds; NewName renames it.
type ChangeMCPServer struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	Caller  auth.Principal
	Ref     MCPServerRef
	NewName *string
	MCPServerFields
}

// RemoveMCPServer removes the server Ref finds.
type RemoveMCPServer struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	Caller auth.Principal
	Ref    MCPServerRef
}

// TestMCPServer connects to server ServerID of tenant ServerTenant (the
// tenant it lives in) and lists its tools.
type TestMCPServer struct {
	ServerTenant uuid.UUID
	Meta         eventstore.Metadata
	Caller       auth.Principal
	ServerID     int64
}

// MCPServerWritten is what an MCP server command did.
type MCPServerWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// MCPTestResult is the outcome of a test connection: the tools, or why
// the connection failed (Success false, Error).
type MCPTestResult struct {
	Success     bool
	Tools       []mcpclient.Tool
	ActionCount *int
	Error       string
	Result      eventstore.AppendResult
}

// MCPSecretAAD is the additional data a value of a server's env or
// headers (kind "env", "headers") is sealed with: a sealed value moved to
// another tenant, server or name does not open.
func MCPSecretAAD(tenant uuid.UUID, server int64, kind, name string) []byte {
	return []byte("mcp_server:" + tenant.String() + ":" + strconv.FormatInt(server, 10) + ":" + kind + ":" + name)
}

// MCPServersHandler handles the MCP servers' commands.
type MCPServersHandler struct {
	Repo   *Repository
	IDs    IDs
	Writer CatalogWriter
	// Secrets seals env and headers values (nil: servers with any are
	// refused).
	Secrets *secrets.Ring
	// StdioEnabled allows stdio servers (to superusers).
	StdioEnabled bool
	// HTTPClient reaches SSE and streamable HTTP servers: the egress
	// policy's (nil: every internal address refused).
	HTTPClient *http.Client
	// Timeout bounds a test connection (0: mcpclient.DefaultTimeout).
	Timeout time.Duration
}

func (h *MCPServersHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.MCPServers) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadMCPServers, md, fn)
}

// stdio checks the stdio rule for caller.
func (h *MCPServersHandler) stdio(caller auth.Principal) error {
	if !h.StdioEnabled {
		return domain.Invalidf(MsgMCPStdioDisabled)
	}
	if !caller.IsSuperuser {
		return domain.Forbiddenf(MsgMCPStdioSuperuser)
	}
	return nil
}

// validSecretValues checks the clear values of env or headers (kind).
func validSecretValues(kind string, values map[string]string) error {
	for k, v := range values {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return domain.Invalidf("%s.%s must be valid UTF-8", kind, k)
		}
		if kind == "headers" && strings.ContainsAny(v, "\r\n") {
			return domain.Invalidf("headers.%s must not contain line breaks", k)
		}
	}
	return nil
}

// sealAll seals values (clear) of server id in tenant; a value equal to
// the mask keeps stored[k], which must exist.
func (h *MCPServersHandler) sealAll(tenant uuid.UUID, id int64, kind string, values, stored map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for k, v := range values {
		if secrets.IsMask(v) {
			old, ok := stored[k]
			if !ok {
				return nil, domain.Invalidf("%s.%s is the mask %q but the server has no such value", kind, k, domain.SecretMask)
			}
			out[k] = old
			continue
		}
		if h.Secrets == nil {
			return nil, domain.Invalidf(MsgMCPSecretsUnset)
		}
		sealed, err := h.Secrets.Seal([]byte(v), MCPSecretAAD(tenant, id, kind, k))
		if err != nil {
			return nil, err
		}
		out[k] = sealed
	}
	return out, nil
}

func orZero[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}

// inferType is the mcp_type of a write: the given one, else inferred from
// the command or url given (nil when neither tells).
func inferType(f MCPServerFields) *string {
	if f.MCPType != nil && *f.MCPType != "" {
		return f.MCPType
	}
	cmd, u := orZero(f.Command), orZero(f.URL)
	if (cmd == "") == (u == "") {
		return nil
	}
	t := mcpclient.InferType(cmd, u)
	return &t
}

// Add handles AddMCPServer: the name must be free at its place (409).
func (h *MCPServersHandler) Add(ctx context.Context, cmd AddMCPServer) (MCPServerWritten, error) {
	scope := domain.CatalogScopeTenant
	switch {
	case cmd.Scope != nil:
		scope = *cmd.Scope
	case orZero(cmd.BusinessID) != 0:
		scope = domain.CatalogScopeBusiness
	}
	spec := domain.MCPServerSpec{Name: cmd.Name, Scope: scope, BusinessID: orZero(cmd.BusinessID), Creator: cmd.Caller.UserID,
		MCPType: orZero(inferType(cmd.MCPServerFields)), Command: orZero(cmd.Command), Args: orZero(cmd.Args), Env: orZero(cmd.Env),
		Headers: orZero(cmd.Headers), URL: orZero(cmd.URL), Logo: orZero(cmd.Logo), Note: orZero(cmd.Note), IsActive: true}
	if cmd.IsActive != nil {
		spec.IsActive = *cmd.IsActive
	}
	// Validate (and authorise) before an id is allocated: bad input costs
	// nothing.
	if spec.MCPType == "" {
		return MCPServerWritten{}, domain.Invalidf("mcp_type is required when neither command nor url tells it (stdio, sse or streamable_http)")
	}
	if err := spec.Valid(); err != nil {
		return MCPServerWritten{}, err
	}
	for kind, values := range map[string]map[string]string{"env": spec.Env, "headers": spec.Headers} {
		if err := validSecretValues(kind, values); err != nil {
			return MCPServerWritten{}, err
		}
		for k, v := range values {
			if secrets.IsMask(v) {
				return MCPServerWritten{}, domain.Invalidf("%s.%s must not be the mask %q", kind, k, domain.SecretMask)
			}
		}
	}
	if spec.MCPType == domain.MCPTypeStdio {
		if err := h.stdio(cmd.Caller); err != nil {
			return MCPServerWritten{}, err
		}
	}
	if err := h.Writer.Check(ctx, cmd.Caller, cmd.Tenant, domain.CatalogPlace{Scope: spec.Scope, BusinessID: spec.BusinessID}); err != nil {
		return MCPServerWritten{}, err
	}
	if (len(spec.Env) > 0 || len(spec.Headers) > 0) && h.Secrets == nil {
		return MCPServerWritten{}, domain.Invalidf(MsgMCPSecretsUnset)
	}
	tenant := CatalogTenant(spec.Scope, cmd.Tenant)
	id, err := h.IDs.Next(ctx, "mcp_server")
	if err != nil {
		return MCPServerWritten{}, err
	}
	if spec.Env, err = h.sealAll(tenant, id, "env", spec.Env, nil); err != nil {
		return MCPServerWritten{}, err
	}
	if spec.Headers, err = h.sealAll(tenant, id, "headers", spec.Headers, nil); err != nil {
		return MCPServerWritten{}, err
	}
	res, err := h.decide(ctx, tenant, cmd.Meta, func(m *domain.MCPServers) error { return m.Add(id, spec) })
	return MCPServerWritten{ID: id, Result: res}, err
}

// Resolve finds the server ref names for caller in the request's tenant
// (see MCPServerRef): the tenant it lives in and its entry; 404 when there
// is none.
func (h *MCPServersHandler) Resolve(ctx context.Context, tenant uuid.UUID, caller auth.Principal, ref MCPServerRef) (uuid.UUID, domain.MCPServerEntry, error) {
	load := func(t uuid.UUID) (*domain.MCPServers, error) {
		return loadOrNew(ctx, h.Repo, func() *domain.MCPServers { return domain.LoadMCPServers(t) })
	}
	notFound := domain.NotFoundf(domain.MsgMCPServerNotFound)
	if ref.ServerID != 0 {
		for _, t := range []uuid.UUID{tenant, tenancy.SystemTenantID} {
			m, err := load(t)
			if err != nil {
				return uuid.Nil, domain.MCPServerEntry{}, err
			}
			e, ok := m.Server(ref.ServerID)
			switch {
			case !ok, t != tenant && e.Scope != domain.CatalogScopeSystem:
			case e.Scope == domain.CatalogScopePersonal && e.Creator != caller.UserID && !caller.IsSuperuser:
				// Another user's personal server: invisible, as in the reads.
			default:
				return t, e, nil
			}
		}
		return uuid.Nil, domain.MCPServerEntry{}, notFound
	}
	business := orZero(ref.BusinessID)
	var places []domain.CatalogPlace
	switch {
	case ref.Scope != nil:
		places = []domain.CatalogPlace{{Scope: *ref.Scope, BusinessID: business}}
	case business != 0:
		places = []domain.CatalogPlace{{Scope: domain.CatalogScopeBusiness, BusinessID: business}}
	default:
		places = []domain.CatalogPlace{{Scope: domain.CatalogScopeTenant}, {Scope: domain.CatalogScopePersonal},
			{Scope: domain.CatalogScopeSystem}}
	}
	for _, p := range places {
		p.Creator = caller.UserID
		t := CatalogTenant(p.Scope, tenant)
		m, err := load(t)
		if err != nil {
			return uuid.Nil, domain.MCPServerEntry{}, err
		}
		if e, ok := m.Find(ref.Name, p); ok {
			return t, e, nil
		}
	}
	return uuid.Nil, domain.MCPServerEntry{}, notFound
}

// Change handles ChangeMCPServer: the caller must be allowed to write the
// server where it is and where it goes; the new name must be free there
// (409).
func (h *MCPServersHandler) Change(ctx context.Context, cmd ChangeMCPServer) (MCPServerWritten, error) {
	if cmd.NewName != nil {
		if err := domain.ValidMCPServerName("new_name", *cmd.NewName); err != nil {
			return MCPServerWritten{}, err
		}
	}
	for kind, values := range map[string]*map[string]string{"env": cmd.Env, "headers": cmd.Headers} {
		if values != nil {
			if err := validSecretValues(kind, *values); err != nil {
				return MCPServerWritten{}, err
			}
		}
	}
	tenant, cur, err := h.Resolve(ctx, cmd.Tenant, cmd.Caller, cmd.Ref)
	if err != nil {
		return MCPServerWritten{}, err
	}
	ch := domain.MCPServerChange{Name: cmd.NewName, Scope: cmd.Scope, BusinessID: cmd.BusinessID, MCPType: inferType(cmd.MCPServerFields),
		Command: cmd.Command, Args: cmd.Args, URL: cmd.URL, Logo: cmd.Logo, Note: cmd.Note, IsActive: cmd.IsActive}
	if cmd.Scope == nil && orZero(cmd.BusinessID) != 0 && cur.Scope != domain.CatalogScopeBusiness {
		s := domain.CatalogScopeBusiness
		ch.Scope = &s
	}
	next := cur.Merged(ch)
	if cur.MCPType == domain.MCPTypeStdio || next.MCPType == domain.MCPTypeStdio {
		if err := h.stdio(cmd.Caller); err != nil {
			return MCPServerWritten{}, err
		}
	}
	if err := h.Writer.Check(ctx, cmd.Caller, cmd.Tenant, cur.Place()); err != nil {
		return MCPServerWritten{}, err
	}
	if next.Place() != cur.Place() {
		if err := domain.ValidCatalogScope("mcp_scope", next.Scope, next.BusinessID); err != nil {
			return MCPServerWritten{}, err
		}
		if CatalogTenant(next.Scope, cmd.Tenant) != tenant {
			return MCPServerWritten{}, domain.Invalidf(MsgMCPScopeMove)
		}
		if err := h.Writer.Check(ctx, cmd.Caller, cmd.Tenant, next.Place()); err != nil {
			return MCPServerWritten{}, err
		}
	}
	res, err := h.decide(ctx, tenant, cmd.Meta, func(m *domain.MCPServers) error {
		now, ok := m.Server(cur.ServerID)
		if !ok {
			return domain.NotFoundf(domain.MsgMCPServerNotFound)
		}
		if err := headersStay(now, cmd); err != nil {
			return err
		}
		c := ch
		if cmd.Env != nil {
			sealed, err := h.sealAll(tenant, now.ServerID, "env", *cmd.Env, now.Env)
			if err != nil {
				return err
			}
			c.Env = &sealed
		}
		if cmd.Headers != nil {
			sealed, err := h.sealAll(tenant, now.ServerID, "headers", *cmd.Headers, now.Headers)
			if err != nil {
				return err
			}
			c.Headers = &sealed
		}
		return m.Change(now.ServerID, c)
	})
	return MCPServerWritten{ID: cur.ServerID, Result: res}, err
}

// headersStay refuses a change that moves server cur to another origin
// (scheme and host of its url) while it keeps stored header values: they
// were given for the old host, and whoever may change the entry cannot
// read them, so they never follow the url. The change must send the
// headers again in clear (or {} to drop them).
func headersStay(cur domain.MCPServerEntry, cmd ChangeMCPServer) error {
	if cmd.URL == nil || len(cur.Headers) == 0 || mcpclient.SameOrigin(cur.URL, *cmd.URL) {
		return nil
	}
	if cmd.Headers == nil {
		return domain.Invalidf(MsgMCPHeadersNewHost)
	}
	for k, v := range *cmd.Headers {
		if secrets.IsMask(v) {
			return domain.Invalidf("headers.%s: %s", k, MsgMCPHeadersNewHost)
		}
	}
	return nil
}

// Remove handles RemoveMCPServer. A stdio server is removed under the
// usual rules: removing a command runs nothing.
func (h *MCPServersHandler) Remove(ctx context.Context, cmd RemoveMCPServer) (MCPServerWritten, error) {
	tenant, cur, err := h.Resolve(ctx, cmd.Tenant, cmd.Caller, cmd.Ref)
	if err != nil {
		return MCPServerWritten{}, err
	}
	if err := h.Writer.Check(ctx, cmd.Caller, cmd.Tenant, cur.Place()); err != nil {
		return MCPServerWritten{}, err
	}
	res, err := h.decide(ctx, tenant, cmd.Meta, func(m *domain.MCPServers) error { return m.Remove(cur.ServerID) })
	return MCPServerWritten{ID: cur.ServerID, Result: res}, err
}

// open opens the sealed values of server id (kind) in memory.
func (h *MCPServersHandler) open(tenant uuid.UUID, id int64, kind string, sealed map[string]string) (map[string]string, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	if h.Secrets == nil {
		return nil, domain.Invalidf(MsgMCPSecretsUnset)
	}
	out := make(map[string]string, len(sealed))
	for k, v := range sealed {
		clear, err := h.Secrets.Open(v, MCPSecretAAD(tenant, id, kind, k))
		if err != nil {
			return nil, domain.Invalidf("%s.%s cannot be opened with the configured keys: set it again", kind, k)
		}
		out[k] = string(clear)
	}
	return out, nil
}

// Test handles TestMCPServer: it connects (through HTTPClient, the
// egress policy, for SSE and streamable HTTP; as a child process for
// stdio, see the stdio rule), lists the tools and records their number
// (MCPServerTested). A connection that fails is a result (Success false),
// not an error.
func (h *MCPServersHandler) Test(ctx context.Context, cmd TestMCPServer) (MCPTestResult, error) {
	m, err := loadOrNew(ctx, h.Repo, func() *domain.MCPServers { return domain.LoadMCPServers(cmd.ServerTenant) })
	if err != nil {
		return MCPTestResult{}, err
	}
	e, ok := m.Server(cmd.ServerID)
	if !ok {
		return MCPTestResult{}, domain.NotFoundf(domain.MsgMCPServerNotFound)
	}
	if e.MCPType == domain.MCPTypeStdio {
		if err := h.stdio(cmd.Caller); err != nil {
			return MCPTestResult{}, err
		}
	}
	env, err := h.open(cmd.ServerTenant, e.ServerID, "env", e.Env)
	if err != nil {
		return MCPTestResult{}, err
	}
	headers, err := h.open(cmd.ServerTenant, e.ServerID, "headers", e.Headers)
	if err != nil {
		return MCPTestResult{}, err
	}
	tools, err := mcpclient.ListTools(ctx, mcpclient.Server{Type: e.MCPType, Command: e.Command, Args: e.Args, Env: env,
		URL: e.URL, Headers: headers}, mcpclient.Options{HTTPClient: h.HTTPClient, Timeout: h.Timeout})
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return MCPTestResult{}, ctx.Err()
		}
		return MCPTestResult{Success: false, Error: err.Error()}, nil
	}
	n := len(tools)
	res, err := h.decide(ctx, cmd.ServerTenant, cmd.Meta, func(m *domain.MCPServers) error { return m.Tested(e.ServerID, n) })
	if err != nil {
		return MCPTestResult{}, err
	}
	return MCPTestResult{Success: true, Tools: tools, ActionCount: &n, Result: res}, nil
}
