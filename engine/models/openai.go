// Package models opens the chat models the engine's model components
// call (engine.Models). Every model goes through one client: OpenAI's
// Chat Completions API (github.com/openai/openai-go/v3), for OpenAI itself
// and for any OpenAI-compatible endpoint (a node's openai_api_base, or a
// provider the server names in Providers).
//
// The client never reads the server's environment: the API key and the
// base URL are always passed explicitly, so the library's own fallbacks
// (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID,
// OPENAI_CUSTOM_HEADERS) never apply. A node without a key gets its
// provider's variable through the engine's variable resolution instead,
// which reaches the process environment only when the server allows it.
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/skillflaw/skillflaw-go/egress"
	"github.com/skillflaw/skillflaw-go/engine"
)

// DefaultBaseURL is OpenAI's public API.
const DefaultBaseURL = "https://api.openai.com/v1"

// ProviderOpenAI is the provider name of OpenAI models (the 1.7 model
// field's "provider").
const ProviderOpenAI = "OpenAI"

// OpenAI implements engine.Models over OpenAI-compatible Chat Completions
// endpoints. The zero value serves the OpenAI provider at DefaultBaseURL
// with no retries.
type OpenAI struct {
	// BaseURL is the OpenAI provider's endpoint when a node names none
	// (SKILLFLAW_OPENAI_BASE_URL); empty: DefaultBaseURL.
	BaseURL string
	// Providers are further OpenAI-compatible providers by name (as the
	// model field's "provider" says), with their endpoints. Other
	// providers are refused.
	Providers map[string]string
	// HTTPClient makes the calls to the endpoints the operator configured
	// (BaseURL, Providers; nil: a client of its own).
	HTTPClient *http.Client
	// Egress decides what a node's own endpoint (openai_api_base: the
	// flow's author's choice, not the operator's) may reach: calls to it go
	// through Egress's client, so loopback, private, link-local and
	// metadata addresses are refused unless allow-listed (nil: refused).
	Egress *egress.Policy
	// MaxRetries is how often a call that failed before its answer began
	// (connection errors, 408, 409, 429, 5xx) is retried when the node
	// does not say.
	MaxRetries int
	// Timeout bounds one call when the node does not say (0: only the
	// run's own limits).
	Timeout time.Duration
}

// Open returns a client of the model sel names. A provider this server
// cannot call (Anthropic, Google, Ollama …) is refused with an error
// naming it; a base URL that is not an http(s) URL is refused too.
func (o *OpenAI) Open(_ context.Context, sel engine.ModelSelection) (engine.ChatModel, error) {
	if sel.Name == "" {
		return nil, errors.New("no model name was given")
	}
	if c := sel.Catalog; c != nil && sel.BaseURL == "" {
		return o.openCatalogued(sel, c)
	}
	base := sel.BaseURL
	if base == "" {
		switch configured, ok := o.Providers[sel.Provider]; {
		case sel.Provider == ProviderOpenAI:
			base = o.BaseURL
			if base == "" {
				base = DefaultBaseURL
			}
		case ok:
			base = configured
		default:
			return nil, fmt.Errorf("the %s provider is not supported by this server: SkillFlaw calls OpenAI and OpenAI-compatible endpoints only "+
				"(for a compatible server, use the OpenAI component with its OpenAI API Base set)", providerName(sel.Provider))
		}
	} else if sel.Provider != ProviderOpenAI {
		if _, ok := o.Providers[sel.Provider]; !ok {
			return nil, fmt.Errorf("the %s provider is not supported by this server: SkillFlaw calls OpenAI and OpenAI-compatible endpoints only", providerName(sel.Provider))
		}
	}
	return o.open(sel, base, sel.BaseURL == "")
}

// OpenAICompatibleClasses are the model classes (the catalogue's
// model_class, the 1.7 model field's metadata) this server opens through
// OpenAI's Chat Completions API: their providers serve it (Ollama at its
// /v1 endpoint). Others (ChatAnthropic, ChatGoogleGenerativeAI,
// AzureChatOpenAI …) are refused by name.
var OpenAICompatibleClasses = []string{"ChatOpenAI", "ChatOllama", "ChatDeepSeek", "ChatXAI", "ChatGroq", "ChatOpenRouter",
	"ChatMistralAI", "ChatLiteLLM", "ChatVLLM", "ChatOpenAICompatible"}

// openCatalogued opens a model of a provider of the model catalogue: its
// class must be OpenAI-compatible; its endpoint is its base_url (the
// built-in openai provider's, while it is OpenAI's public API or empty, is
// SKILLFLAW_OPENAI_BASE_URL). A built-in provider's endpoint is the operator's and
// is reached directly; a tenant's own provider's goes through the egress
// policy.
func (o *OpenAI) openCatalogued(sel engine.ModelSelection, c *engine.CatalogModel) (engine.ChatModel, error) {
	if !slices.Contains(OpenAICompatibleClasses, c.ModelClass) {
		return nil, fmt.Errorf("the model class %s of the %s provider is not supported by this server: SkillFlaw calls "+
			"OpenAI-compatible endpoints only (model_class one of %s)", c.ModelClass, c.ProviderName, strings.Join(OpenAICompatibleClasses, ", "))
	}
	base := c.BaseURL
	if c.Builtin && c.ProviderKey == "openai" && (base == "" || base == DefaultBaseURL) && o.BaseURL != "" {
		base = o.BaseURL // the operator's SKILLFLAW_OPENAI_BASE_URL, unless the catalogue names another endpoint
	}
	if base == "" {
		if c.ProviderKey != "openai" {
			return nil, fmt.Errorf("the %s provider has no base_url: set it in Model Management", c.ProviderName)
		}
		base = DefaultBaseURL
	}
	return o.open(sel, base, c.Builtin)
}

// open returns a client of sel's model at base; trusted (an endpoint the
// operator configured) is dialled directly, anything else through the
// egress policy.
func (o *OpenAI) open(sel engine.ModelSelection, base string, trusted bool) (engine.ChatModel, error) {
	if err := checkBaseURL(base); err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	switch {
	case !trusted:
		hc = o.Egress.HTTPClient()
	case hc == nil:
		hc = &http.Client{}
	}
	retries := o.MaxRetries
	if sel.MaxRetries != nil {
		retries = max(*sel.MaxRetries, 0)
	}
	opts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithBaseURL(base),
		option.WithAPIKey(sel.APIKey),
		option.WithMaxRetries(retries),
	}
	timeout := o.Timeout
	if sel.Timeout > 0 {
		timeout = sel.Timeout
	}
	if timeout > 0 {
		opts = append(opts, option.WithRequestTimeout(timeout))
	}
	// NewChatCompletionService, not openai.NewClient: the client would
	// start from the environment's OPENAI_* settings.
	return &chatModel{svc: openai.NewChatCompletionService(opts...), model: sel.Name, provider: providerName(sel.Provider)}, nil
}

func providerName(p string) string {
	if p == "" {
		return "(unnamed)"
	}
	return p
}

func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("the base URL %q is not an http(s) URL", base)
	}
	return nil
}

// chatModel is one model of one endpoint.
type chatModel struct {
	svc      openai.ChatCompletionService
	model    string
	provider string
}

// reservedExtra are the body keys extra parameters never replace.
var reservedExtra = regexp.MustCompile(`^(model|messages|stream|stream_options)$`)

// Chat implements engine.ChatModel.
func (m *chatModel) Chat(ctx context.Context, req engine.ChatRequest, onChunk func(string) error) (string, error) {
	a, err := m.Converse(ctx, req, onChunk)
	if err != nil {
		return "", err
	}
	return a.Text, nil
}

// Converse implements engine.ToolChatModel: Chat Completions with the
// request's tools as functions (parallel calls allowed, the model's
// default); a streamed answer's tool calls are put together from their
// deltas, by index.
func (m *chatModel) Converse(ctx context.Context, req engine.ChatRequest, onChunk func(string) error) (*engine.ChatAnswer, error) {
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(m.model)}
	for _, msg := range req.Messages {
		p, err := messageParam(msg)
		if err != nil {
			return nil, err
		}
		params.Messages = append(params.Messages, p)
	}
	for _, t := range req.Tools {
		fn := shared.FunctionDefinitionParam{Name: t.Name, Parameters: shared.FunctionParameters(t.Parameters)}
		if t.Description != "" {
			fn.Description = openai.String(t.Description)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fn))
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if req.MaxTokens != nil {
		// Like langchain-openai's ChatOpenAI: max_completion_tokens,
		// OpenAI's current name (reasoning models refuse max_tokens).
		params.MaxCompletionTokens = openai.Int(*req.MaxTokens)
	}
	if req.Seed != nil {
		params.Seed = openai.Int(*req.Seed)
	}
	if req.JSONMode {
		params.ResponseFormat.OfJSONObject = &shared.ResponseFormatJSONObjectParam{}
	}
	var opts []option.RequestOption
	for k, v := range req.Extra {
		if !reservedExtra.MatchString(k) {
			opts = append(opts, option.WithJSONSet(k, v))
		}
	}
	if onChunk == nil {
		resp, err := m.svc.New(ctx, params, opts...)
		if err != nil {
			return nil, m.fail(ctx, err)
		}
		if len(resp.Choices) == 0 {
			return nil, fmt.Errorf("%s model %s answered without a choice", m.provider, m.model)
		}
		msg := resp.Choices[0].Message
		a := &engine.ChatAnswer{Text: msg.Content}
		for _, c := range msg.ToolCalls {
			if c.Type == "function" || c.Type == "" {
				a.ToolCalls = append(a.ToolCalls, engine.ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
			}
		}
		return a, nil
	}
	stream := m.svc.NewStreaming(ctx, params, opts...)
	defer stream.Close()
	var text strings.Builder
	var calls []engine.ToolCall
	byIndex := map[int64]int{}
	for stream.Next() {
		chunk := stream.Current()
		if len(chunk.Choices) == 0 {
			continue
		}
		delta := chunk.Choices[0].Delta
		for _, d := range delta.ToolCalls {
			i, ok := byIndex[d.Index]
			if !ok {
				i = len(calls)
				byIndex[d.Index] = i
				calls = append(calls, engine.ToolCall{})
			}
			if d.ID != "" {
				calls[i].ID = d.ID
			}
			calls[i].Name += d.Function.Name
			calls[i].Arguments += d.Function.Arguments
		}
		piece := delta.Content
		if piece == "" {
			continue
		}
		text.WriteString(piece)
		if err := onChunk(piece); err != nil {
			return nil, err
		}
	}
	if err := stream.Err(); err != nil {
		return nil, m.fail(ctx, err)
	}
	return &engine.ChatAnswer{Text: text.String(), ToolCalls: calls}, nil
}

// messageParam is msg as the Chat Completions API takes it.
func messageParam(msg engine.ChatMessage) (openai.ChatCompletionMessageParamUnion, error) {
	switch msg.Role {
	case "system":
		return openai.SystemMessage(msg.Content), nil
	case "user":
		return openai.UserMessage(msg.Content), nil
	case "tool":
		return openai.ToolMessage(msg.Content, msg.ToolCallID), nil
	case "assistant":
		if len(msg.ToolCalls) == 0 {
			return openai.AssistantMessage(msg.Content), nil
		}
		var a openai.ChatCompletionAssistantMessageParam
		if msg.Content != "" {
			a.Content.OfString = openai.String(msg.Content)
		}
		for _, c := range msg.ToolCalls {
			a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: c.ID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: c.Arguments}}})
		}
		return openai.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
	}
	return openai.ChatCompletionMessageParamUnion{}, fmt.Errorf("a chat message has the unknown role %q", msg.Role)
}

// fail words an error of a call: the run's end when the context ended,
// the provider's status and message for an API error, the message of an
// error reported in the middle of a stream.
func (m *chatModel) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s model %s: call stopped: %w", m.provider, m.model, context.Cause(ctx))
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		msg := apiErr.Message
		if msg == "" {
			msg = strings.TrimSpace(apiErr.RawJSON())
		}
		return fmt.Errorf("%s model %s: error code %d (%s): %s", m.provider, m.model, apiErr.StatusCode,
			http.StatusText(apiErr.StatusCode), msg)
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		var body struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := streamErr.Message
		if json.Unmarshal(streamErr.Event.Data, &body) == nil && body.Error.Message != "" {
			msg = body.Error.Message
		}
		return fmt.Errorf("%s model %s: the answer broke off: %s", m.provider, m.model, msg)
	}
	return fmt.Errorf("%s model %s: %w", m.provider, m.model, err)
}
