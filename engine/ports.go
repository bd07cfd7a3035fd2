package engine

import (
	"context"
	"net/http"
	"time"
)

// The ports of the engine: what a run needs from the rest of the server,
// declared here where they are used. The app wires them to the command
// API (recording), the messages read model (history), the model clients
// and the variables; tests give in-memory ones.

// RunInfo names the run a port is called for.
type RunInfo struct {
	RunID    string
	FlowID   string
	FlowName string
	UserID   int64
	Session  string
	// Tenant is the tenant of the stored flow the run runs (RunInput.Tenant).
	Tenant string
}

// Recorder records what a run does. Every call must be safe to make from
// several goroutines (branches build in parallel).
type Recorder interface {
	// StoreMessage records m, a message a component sent, and returns it
	// as recorded (with its id and timestamp). A message that already has
	// an id was recorded before (a model stored its streamed answer): it
	// is updated.
	StoreMessage(ctx context.Context, run RunInfo, m *Message) (*Message, error)
	// VertexBuilt records the build of one vertex (success or failure).
	VertexBuilt(ctx context.Context, run RunInfo, r *VertexResult) error
}

// MessageRemover is a Recorder that can withdraw a message it recorded
// (a failed agent's partial message); a Recorder without it keeps them.
type MessageRemover interface {
	RemoveMessage(ctx context.Context, run RunInfo, m *Message) error
}

// History reads the messages of a session (the Memory component).
type History interface {
	Messages(ctx context.Context, q HistoryQuery) ([]*Message, error)
}

// HistoryQuery selects messages of a session: newest last.
type HistoryQuery struct {
	User      int64
	SessionID string
	ContextID string
	// Sender filters on the sender ("" for any); SenderName likewise.
	Sender, SenderName string
	// Limit keeps the last Limit messages (0: none, <0: all).
	Limit int
}

// runKey carries the run that asks Variables.
type runKey struct{}

func withRun(ctx context.Context, in *RunInput) context.Context {
	return context.WithValue(ctx, runKey{}, RunInfo{FlowID: in.FlowID, Tenant: in.Tenant})
}

// RunFlowID returns the id of the flow (RunInput.FlowID) whose run asks
// Variables.Lookup with ctx ("" outside a lookup).
func RunFlowID(ctx context.Context) string {
	r, _ := ctx.Value(runKey{}).(RunInfo)
	return r.FlowID
}

// RunTenant returns the tenant (RunInput.Tenant) of the run that asks
// Variables.Lookup with ctx ("" outside a lookup, or when the run's
// caller did not say): the variables a flow reads are its tenant's.
func RunTenant(ctx context.Context) string {
	r, _ := ctx.Value(runKey{}).(RunInfo)
	return r.Tenant
}

// Variables resolves the variable a load_from_db field names.
type Variables interface {
	// Lookup returns the value of variable name for user; ok is false when
	// there is none.
	Lookup(ctx context.Context, user int64, name string) (value string, ok bool, err error)
}

// Models opens chat model clients for model components.
type Models interface {
	Open(ctx context.Context, sel ModelSelection) (ChatModel, error)
}

// ModelCatalog resolves a model component's provider through the
// server's model catalogue (Model Management).
type ModelCatalog interface {
	// Resolve returns the catalogue's provider named provider (its
	// provider_name or provider_key, case-insensitive) for a run in tenant
	// (RunInfo.Tenant) — the tenant's own providers first, then the
	// built-in ones — with model's record in it when it lists one; nil
	// when the catalogue has no such provider.
	Resolve(ctx context.Context, tenant, provider, model string) (*CatalogModel, error)
}

// CatalogModel is a provider of the model catalogue, and the model a
// node asked for when the provider lists it.
type CatalogModel struct {
	ProviderKey, ProviderName string
	// ModelClass is the client class (ChatOpenAI, ChatOllama …).
	ModelClass string
	// VariableName names the variable holding the API key (a config, a
	// request header or, when allowed, the environment).
	VariableName   string
	RequiresAPIKey bool
	// BaseURL is the provider's endpoint ("" : the class's default).
	BaseURL string
	// Builtin: a provider of the built-in catalogue, which only the
	// operator (the system tenant's administrators) changes: its endpoint
	// is reached directly. A tenant's own provider's endpoint goes through
	// the egress policy, as a node's own base URL does.
	Builtin bool
	Active  bool
	// Model is the model's record (nil: the provider does not list it).
	Model *CatalogModelEntry
}

// CatalogModelEntry is a model's record in the catalogue.
type CatalogModelEntry struct {
	Name                                               string
	Active, NotSupported, Deprecated, Reasoning, Tools bool
}

// ModelSelection is what a model component asks for.
type ModelSelection struct {
	// Provider is the provider's name ("OpenAI", "Anthropic" …); Name the
	// model's.
	Provider string
	Name     string
	// Class is the model class of the 1.7 model field's metadata
	// (ChatOpenAI …), "" when unknown.
	Class string
	// APIKey and BaseURL come from the node (or its variables); empty
	// means the provider's configured ones.
	APIKey  string
	BaseURL string
	// MaxRetries, when not nil, is how often a failed call is retried
	// (OpenAIModel's max_retries); nil: the client's default.
	MaxRetries *int
	// Timeout bounds one call (OpenAIModel's timeout); 0: the client's
	// default.
	Timeout time.Duration
	// Catalog is the provider the model catalogue resolved the selection
	// to (nil: none; the client's own provider table applies).
	Catalog *CatalogModel
}

// ChatModel is an open client of one chat model.
type ChatModel interface {
	// Chat sends messages and returns the answer. With onChunk not nil
	// the answer is streamed: onChunk gets each piece of text as it comes
	// (an error from it stops the stream), and the whole text is returned
	// at the end.
	Chat(ctx context.Context, req ChatRequest, onChunk func(string) error) (string, error)
}

// ToolChatModel is a chat model that can call tools (every model of
// engine/models is one): the Agent's.
type ToolChatModel interface {
	ChatModel
	// Converse sends req, whose Tools the model may call, and returns its
	// answer: text, or the tool calls it asks for (or both). With onChunk
	// not nil the answer is streamed: onChunk gets each piece of text as it
	// comes, as with Chat; the tool calls are returned whole at the end.
	Converse(ctx context.Context, req ChatRequest, onChunk func(string) error) (*ChatAnswer, error)
}

// ChatAnswer is a model's answer to one call: its text and the tools it
// asks to call, in its order.
type ChatAnswer struct {
	Text      string
	ToolCalls []ToolCall
}

// ToolSpec declares a tool to a model: its name (letters, digits, _ and
// -), what it does, and the JSON schema of its arguments (an object).
type ToolSpec struct {
	Name        string
	Description string
	Parameters  map[string]any
}

// ToolCall is a model's request to call a tool: the call's id (which its
// result names), the tool, and the arguments as the JSON text the model
// wrote (not necessarily valid).
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// ChatRequest is one call of a chat model.
type ChatRequest struct {
	Messages []ChatMessage
	// Tools are the tools the model may call; Converse returns the calls
	// (Chat only the text).
	Tools       []ToolSpec
	Temperature *float64
	MaxTokens   *int64
	Seed        *int64
	JSONMode    bool
	// Extra are further body parameters of the call (OpenAIModel's
	// model_kwargs); they never replace the model, the messages or the
	// streaming switch.
	Extra map[string]any
}

// ChatMessage is one message of a chat model's conversation.
type ChatMessage struct {
	// Role is system, user, assistant or tool.
	Role    string
	Content string
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall
	// ToolCallID names the call a tool message answers.
	ToolCallID string
}

// FrozenCache keeps the results of frozen vertices between runs. A result
// is the run's user's: it is kept by flow, user and vertex, so that a
// frozen vertex never shows one user what it computed for another (a
// Memory's history, a model's answer).
type FrozenCache interface {
	Get(run RunInfo, vertexID string) (*VertexResult, bool)
	Put(run RunInfo, vertexID string, r *VertexResult)
}

// Env is what a run is given besides its graph and input: the ports
// (nil ones are refused only when a component needs them) and the clock.
type Env struct {
	Recorder  Recorder
	History   History
	Variables Variables
	Models    Models
	// Catalog resolves model selections through the model catalogue (nil:
	// the Models client's own provider table only).
	Catalog ModelCatalog
	Frozen  FrozenCache
	// HTTP is the client components reach the network a flow aims at
	// with (URL, API request): the egress policy's, which refuses the
	// server's own machine and networks. Nil: such components fail.
	HTTP *http.Client
	// Files reads the files a run's user may read (the File component).
	Files Files
	// Flows runs other flows as sub-flows (Run Flow).
	Flows SubFlows
	// MCP reaches the MCP servers of the registry (MCP Tools). Nil: the
	// component fails.
	MCP MCPServers
	// Clock is the time source (time.Now when nil).
	Clock func() time.Time
}

func (e *Env) now() time.Time {
	if e.Clock != nil {
		return e.Clock().UTC()
	}
	return time.Now().UTC()
}

// MCPServers reaches the MCP servers of the server's registry for a run
// (the MCP Tools component): a server is named as the registry names it
// and must be one the run's user sees in the run's tenant. The
// implementation opens the server's secrets in memory and applies the
// registry's rules (egress policy, stdio rule, timeouts).
type MCPServers interface {
	// Tools lists the tools of server.
	Tools(ctx context.Context, run RunInfo, server string) ([]MCPTool, error)
	// Call calls tool of server with args. A call the server reports as
	// failed is a result with IsError, not an error.
	Call(ctx context.Context, run RunInfo, server, tool string, args map[string]any) (*MCPResult, error)
}

// MCPTool is a tool of an MCP server: its name, description and the JSON
// schema of its arguments (an object).
type MCPTool struct {
	Name        string
	Description string
	InputSchema map[string]any
}

// MCPResult is the outcome of an MCP tool call: its content items as JSON
// objects ({"type": "text", "text": …}), its structured content, and
// whether the server reported the call as failed.
type MCPResult struct {
	Content    []map[string]any
	Structured any
	IsError    bool
}
