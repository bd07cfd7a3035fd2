package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The transports of an MCP server (mcp_type; mcpclient's names).
const (
	MCPTypeStdio          = "stdio"
	MCPTypeSSE            = "sse"
	MCPTypeStreamableHTTP = "streamable_http"
)

// The bounds of an MCP server's fields.
const (
	MaxMCPServerNameLength = 64
	maxMCPURLLength        = 2048
	maxMCPCommandLength    = 4096
	maxMCPArgs             = 256
	maxMCPMapEntries       = 128
	maxMCPLogoLength       = 4096
	maxMCPNoteLength       = 4096
)

// MsgMCPServerNotFound answers about a missing (or invisible) MCP server.
const MsgMCPServerNotFound = "MCP server not found"

// mcpServerName is a server's name: letters, digits, '_', '-', '.' and
// inner spaces, starting with a letter or digit.
var mcpServerName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9 _.\-]*[A-Za-z0-9_.\-])?$`)

// ValidMCPServerName checks a server's name (1..64 characters of
// letters, digits, '_', '-', '.' and inner spaces, starting with a letter
// or digit). field names it in the message ("server_name", "new_name").
func ValidMCPServerName(field, name string) error {
	switch {
	case name == "":
		return Invalidf("%s must not be empty", field)
	case utf8.RuneCountInString(name) > MaxMCPServerNameLength:
		return Invalidf("%s must be at most %d characters", field, MaxMCPServerNameLength)
	case !mcpServerName.MatchString(name):
		return Invalidf("%s may hold letters, digits, '_', '-', '.' and inner spaces, and must start with a letter or digit", field)
	}
	return nil
}

// MCPServers is every MCP server of one tenant (stream
// mcp_servers-<tenant uuid>; system-scoped servers live in the system
// tenant's): a name is unique per scope and business (and creator, for
// personal servers), checked on the aggregate, never on a read model that
// may lag. Ids come from sequence mcp_server_id_seq, allocated by the
// caller before the append. env and headers values arrive here already
// sealed: the aggregate never sees them in clear.
type MCPServers struct {
	root    Root
	tenant  uuid.UUID
	entries map[int64]*MCPServerEntry
	names   map[string]int64 // mcpNameKey → server id
}

// MCPServerEntry is an MCP server as the aggregate knows it (Env and
// Headers values sealed).
type MCPServerEntry struct {
	ServerID    int64             `json:"server_id"`
	Name        string            `json:"name"`
	Scope       int               `json:"mcp_scope"`
	BusinessID  int64             `json:"business_id"`
	Creator     int64             `json:"creator"`
	MCPType     string            `json:"mcp_type"`
	Command     string            `json:"command"`
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env"`
	Headers     map[string]string `json:"headers"`
	URL         string            `json:"url"`
	Logo        string            `json:"logo"`
	Note        string            `json:"note"`
	IsActive    bool              `json:"is_active"`
	ActionCount int               `json:"action_count"`
}

// Place is where the server lives (its scope, business and creator).
func (e MCPServerEntry) Place() CatalogPlace {
	return CatalogPlace{Scope: e.Scope, BusinessID: e.BusinessID, Creator: e.Creator}
}

// MCPServersState is what AuditState returns: the tenant's servers
// ordered by server_id, secret values masked.
type MCPServersState struct {
	Servers []MCPServerEntry `json:"servers"`
}

// LoadMCPServers returns the empty MCP servers of tenant, to fold its
// stream into.
func LoadMCPServers(tenant uuid.UUID) *MCPServers {
	return &MCPServers{tenant: tenant, entries: map[int64]*MCPServerEntry{}, names: map[string]int64{}}
}

// MCPServersStream names the stream of tenant's MCP servers.
func MCPServersStream(tenant uuid.UUID) string { return "mcp_servers-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (m *MCPServers) StreamID() string { return MCPServersStream(m.tenant) }

// Root implements commands.Aggregate.
func (m *MCPServers) Root() *Root { return &m.root }

// mcpNameKey is the key a name is unique under: scope, business and, for
// personal servers, creator.
func mcpNameKey(scope int, business, creator int64, name string) string {
	if scope != CatalogScopePersonal {
		creator = 0
	}
	return fmt.Sprintf("%d/%d/%d/%s", scope, business, creator, name)
}

// Server returns server id (ok false if the tenant has none such).
func (m *MCPServers) Server(id int64) (MCPServerEntry, bool) {
	e, ok := m.entries[id]
	if !ok {
		return MCPServerEntry{}, false
	}
	return e.clone(), true
}

// Find returns the server named name at place (the creator counts for
// personal servers only).
func (m *MCPServers) Find(name string, place CatalogPlace) (MCPServerEntry, bool) {
	id, ok := m.names[mcpNameKey(place.Scope, place.BusinessID, place.Creator, name)]
	if !ok {
		return MCPServerEntry{}, false
	}
	return m.Server(id)
}

func (e MCPServerEntry) clone() MCPServerEntry {
	e.Args = slices.Clone(e.Args)
	e.Env = maps.Clone(e.Env)
	e.Headers = maps.Clone(e.Headers)
	return e
}

// MaskMCPValues returns values with every value masked (nil stays an
// empty map).
func MaskMCPValues(values map[string]string) map[string]string {
	out := make(map[string]string, len(values))
	for k := range values {
		out[k] = SecretMask
	}
	return out
}

// AuditState returns the tenant's servers ordered by server_id, never
// nil; env and headers values show as SecretMask (not even sealed).
func (m *MCPServers) AuditState() any {
	out := MCPServersState{Servers: m.list()}
	for i := range out.Servers {
		out.Servers[i].Env = MaskMCPValues(out.Servers[i].Env)
		out.Servers[i].Headers = MaskMCPValues(out.Servers[i].Headers)
	}
	return out
}

func (m *MCPServers) list() []MCPServerEntry {
	out := []MCPServerEntry{}
	for _, e := range m.entries {
		out = append(out, e.clone())
	}
	slices.SortFunc(out, func(a, b MCPServerEntry) int { return cmp.Compare(a.ServerID, b.ServerID) })
	return out
}

// MCPServerSpec is a new MCP server (Env and Headers values already
// sealed).
type MCPServerSpec struct {
	Name       string
	Scope      int
	BusinessID int64
	Creator    int64
	MCPType    string
	Command    string
	Args       []string
	Env        map[string]string
	Headers    map[string]string
	URL        string
	Logo, Note string
	IsActive   bool
}

// ValidMCPConnection checks how a server is reached: a known mcp_type;
// stdio has a command and no url or headers; sse and streamable_http have
// an http(s) url and no command, args or env. Env names and header names
// are checked here, their values (secrets) by the caller in clear.
func ValidMCPConnection(typ, command string, args []string, env, headers map[string]string, rawURL string) error {
	switch typ {
	case MCPTypeStdio:
		switch {
		case strings.TrimSpace(command) == "":
			return Invalidf("command is required for an stdio MCP server")
		case len(command) > maxMCPCommandLength || !utf8.ValidString(command) || strings.ContainsRune(command, 0):
			return Invalidf("command must be valid UTF-8 of at most %d bytes", maxMCPCommandLength)
		case rawURL != "":
			return Invalidf("url is only for sse and streamable_http MCP servers")
		case len(headers) > 0:
			return Invalidf("headers are only for sse and streamable_http MCP servers")
		case len(args) > maxMCPArgs:
			return Invalidf("args must have at most %d items", maxMCPArgs)
		}
		for _, a := range args {
			if !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
				return Invalidf("args must be valid UTF-8 strings")
			}
		}
		if len(env) > maxMCPMapEntries {
			return Invalidf("env must have at most %d entries", maxMCPMapEntries)
		}
		for k := range env {
			if k == "" || strings.ContainsAny(k, "=\x00") || !utf8.ValidString(k) {
				return Invalidf("env names must be non-empty, without '=' (%q)", k)
			}
		}
	case MCPTypeSSE, MCPTypeStreamableHTTP:
		switch {
		case rawURL == "":
			return Invalidf("url is required for an %s MCP server", typ)
		case len(rawURL) > maxMCPURLLength:
			return Invalidf("url must be at most %d characters", maxMCPURLLength)
		case command != "" || len(args) > 0:
			return Invalidf("command and args are only for stdio MCP servers")
		case len(env) > 0:
			return Invalidf("env is only for stdio MCP servers")
		case len(headers) > maxMCPMapEntries:
			return Invalidf("headers must have at most %d entries", maxMCPMapEntries)
		}
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return Invalidf("url must be an http or https URL with a host (and no user info)")
		}
		for k := range headers {
			if !validHeaderName(k) {
				return Invalidf("headers has an invalid header name %q", k)
			}
		}
	default:
		return Invalidf("mcp_type must be stdio, sse or streamable_http, not %q", typ)
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

func validMCPInfo(logo, note string) error {
	switch {
	case len(logo) > maxMCPLogoLength || !utf8.ValidString(logo):
		return Invalidf("logo must be valid UTF-8 of at most %d bytes", maxMCPLogoLength)
	case len(note) > maxMCPNoteLength || !utf8.ValidString(note):
		return Invalidf("note must be valid UTF-8 of at most %d bytes", maxMCPNoteLength)
	}
	return nil
}

// Valid checks the fields of a new server that need no state.
func (s MCPServerSpec) Valid() error {
	if err := ValidMCPServerName("server_name", s.Name); err != nil {
		return err
	}
	if err := ValidCatalogScope("mcp_scope", s.Scope, s.BusinessID); err != nil {
		return err
	}
	if err := ValidMCPConnection(s.MCPType, s.Command, s.Args, s.Env, s.Headers, s.URL); err != nil {
		return err
	}
	return validMCPInfo(s.Logo, s.Note)
}

// Add creates server id; its name must be free at its place (409).
func (m *MCPServers) Add(id int64, s MCPServerSpec) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if _, taken := m.entries[id]; taken {
		return Conflictf("MCP server %d already exists", id)
	}
	if other, ok := m.names[mcpNameKey(s.Scope, s.BusinessID, s.Creator, s.Name)]; ok {
		return Conflictf("An MCP server named %q already exists in this scope (server %d)", s.Name, other)
	}
	record(m, MCPServerAdded{TenantID: m.tenant, ServerID: id, Name: s.Name, Scope: s.Scope, BusinessID: s.BusinessID,
		Creator: s.Creator, MCPType: s.MCPType, Command: s.Command, Args: nonNilSlice(s.Args), Env: nonNilMap(s.Env),
		Headers: nonNilMap(s.Headers), URL: s.URL, Logo: s.Logo, Note: s.Note, IsActive: s.IsActive})
	return nil
}

func nonNilSlice(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func nonNilMap(v map[string]string) map[string]string {
	if v == nil {
		return map[string]string{}
	}
	return v
}

// MCPServerChange is a change of a server (nil: as it is; Env and
// Headers values already sealed, each the whole new map).
type MCPServerChange struct {
	Name       *string
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

// Merged is cur with ch applied; a change of mcp_type clears what the new
// transport does not use (command, args and env for sse and
// streamable_http; url and headers for stdio) unless ch sets it.
func (cur MCPServerEntry) Merged(ch MCPServerChange) MCPServerEntry {
	n := cur.clone()
	setIf(&n.Name, ch.Name)
	setIf(&n.Scope, ch.Scope)
	setIf(&n.BusinessID, ch.BusinessID)
	if ch.Scope != nil && *ch.Scope != CatalogScopeBusiness && ch.BusinessID == nil {
		n.BusinessID = 0
	}
	if ch.MCPType != nil && *ch.MCPType != cur.MCPType {
		n.MCPType = *ch.MCPType
		if n.MCPType == MCPTypeStdio {
			n.URL, n.Headers = "", map[string]string{}
		} else {
			n.Command, n.Args, n.Env = "", []string{}, map[string]string{}
		}
	}
	setIf(&n.Command, ch.Command)
	if ch.Args != nil {
		n.Args = nonNilSlice(*ch.Args)
	}
	if ch.Env != nil {
		n.Env = nonNilMap(*ch.Env)
	}
	if ch.Headers != nil {
		n.Headers = nonNilMap(*ch.Headers)
	}
	setIf(&n.URL, ch.URL)
	setIf(&n.Logo, ch.Logo)
	setIf(&n.Note, ch.Note)
	setIf(&n.IsActive, ch.IsActive)
	return n
}

// Change records the fields of ch that change server id (Merged), in one
// event; it records nothing when none does. The result must be valid and
// its name free at its place (409).
func (m *MCPServers) Change(id int64, ch MCPServerChange) error {
	cur, ok := m.Server(id)
	if !ok {
		return NotFoundf(MsgMCPServerNotFound)
	}
	n := cur.Merged(ch)
	if ch.Name != nil {
		if err := ValidMCPServerName("new_name", n.Name); err != nil {
			return err
		}
	}
	if err := ValidCatalogScope("mcp_scope", n.Scope, n.BusinessID); err != nil {
		return err
	}
	if err := ValidMCPConnection(n.MCPType, n.Command, n.Args, n.Env, n.Headers, n.URL); err != nil {
		return err
	}
	if err := validMCPInfo(n.Logo, n.Note); err != nil {
		return err
	}
	if other, ok := m.names[mcpNameKey(n.Scope, n.BusinessID, n.Creator, n.Name)]; ok && other != id {
		return Conflictf("An MCP server named %q already exists in this scope (server %d)", n.Name, other)
	}
	e := MCPServerChanged{TenantID: m.tenant, ServerID: id, Name: differs(&n.Name, cur.Name),
		Scope: differs(&n.Scope, cur.Scope), BusinessID: differs(&n.BusinessID, cur.BusinessID),
		MCPType: differs(&n.MCPType, cur.MCPType), Command: differs(&n.Command, cur.Command),
		URL: differs(&n.URL, cur.URL), Logo: differs(&n.Logo, cur.Logo), Note: differs(&n.Note, cur.Note),
		IsActive: differs(&n.IsActive, cur.IsActive)}
	if !slices.Equal(n.Args, cur.Args) {
		e.Args = &n.Args
	}
	if !maps.Equal(n.Env, cur.Env) {
		e.Env = &n.Env
	}
	if !maps.Equal(n.Headers, cur.Headers) {
		e.Headers = &n.Headers
	}
	if e != (MCPServerChanged{TenantID: m.tenant, ServerID: id}) {
		record(m, e)
	}
	return nil
}

// Tested records the number of tools a successful test connection of
// server id found (nothing when it is the recorded count already).
func (m *MCPServers) Tested(id int64, count int) error {
	cur, ok := m.entries[id]
	if !ok {
		return NotFoundf(MsgMCPServerNotFound)
	}
	if cur.ActionCount != count {
		record(m, MCPServerTested{TenantID: m.tenant, ServerID: id, ActionCount: count})
	}
	return nil
}

// Remove removes server id.
func (m *MCPServers) Remove(id int64) error {
	if _, ok := m.entries[id]; !ok {
		return NotFoundf(MsgMCPServerNotFound)
	}
	record(m, MCPServerRemoved{TenantID: m.tenant, ServerID: id})
	return nil
}

// Apply implements commands.Aggregate.
func (m *MCPServers) Apply(e Event) {
	switch e := e.(type) {
	case MCPServerAdded:
		m.put(MCPServerEntry{ServerID: e.ServerID, Name: e.Name, Scope: e.Scope, BusinessID: e.BusinessID, Creator: e.Creator,
			MCPType: e.MCPType, Command: e.Command, Args: nonNilSlice(e.Args), Env: nonNilMap(e.Env),
			Headers: nonNilMap(e.Headers), URL: e.URL, Logo: e.Logo, Note: e.Note, IsActive: e.IsActive})
	case MCPServerChanged:
		s, ok := m.entries[e.ServerID]
		if !ok {
			return
		}
		delete(m.names, mcpNameKey(s.Scope, s.BusinessID, s.Creator, s.Name))
		setIf(&s.Name, e.Name)
		setIf(&s.Scope, e.Scope)
		setIf(&s.BusinessID, e.BusinessID)
		setIf(&s.MCPType, e.MCPType)
		setIf(&s.Command, e.Command)
		setIf(&s.Args, e.Args)
		setIf(&s.Env, e.Env)
		setIf(&s.Headers, e.Headers)
		setIf(&s.URL, e.URL)
		setIf(&s.Logo, e.Logo)
		setIf(&s.Note, e.Note)
		setIf(&s.IsActive, e.IsActive)
		m.names[mcpNameKey(s.Scope, s.BusinessID, s.Creator, s.Name)] = s.ServerID
	case MCPServerTested:
		if s, ok := m.entries[e.ServerID]; ok {
			s.ActionCount = e.ActionCount
		}
	case MCPServerRemoved:
		if s, ok := m.entries[e.ServerID]; ok {
			delete(m.names, mcpNameKey(s.Scope, s.BusinessID, s.Creator, s.Name))
			delete(m.entries, e.ServerID)
		}
	}
}

func (m *MCPServers) put(e MCPServerEntry) {
	m.entries[e.ServerID] = &e
	m.names[mcpNameKey(e.Scope, e.BusinessID, e.Creator, e.Name)] = e.ServerID
}

// SnapshotVersion implements Snapshotter.
func (m *MCPServers) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the servers, secret values sealed as
// the events carry them.
func (m *MCPServers) Snapshot() ([]byte, error) {
	return json.Marshal(MCPServersState{Servers: m.list()})
}

// Restore implements Snapshotter.
func (m *MCPServers) Restore(state []byte) error {
	var s MCPServersState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadMCPServers(m.tenant)
	for _, e := range s.Servers {
		e.Args, e.Env, e.Headers = nonNilSlice(e.Args), nonNilMap(e.Env), nonNilMap(e.Headers)
		fresh.put(e)
	}
	m.entries, m.names = fresh.entries, fresh.names
	return nil
}

// RaceRule implements Raced: every write of a tenant's servers appends to one stream.
func (*MCPServers) RaceRule() RaceRule { return Shared }
