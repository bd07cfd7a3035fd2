package components

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Model is the value of a model component's model_output (Langflow's
// LanguageModel handle): which model, with the component's call
// settings, for components that call it themselves (agents, structured
// output) through the run's engine.Models.
type Model struct {
	Selection engine.ModelSelection
	// Settings are the component's call settings (temperature, max
	// tokens …); their Messages are unused.
	Settings engine.ChatRequest
}

// String is the model as the text of a model_output names it (in the
// build events and the event log): its class (or provider) and name,
// never its API key.
func (m *Model) String() string {
	class := m.Selection.Class
	if class == "" {
		class = m.Selection.Provider
	}
	return class + "(model_name=" + engine.PyRepr(m.Selection.Name) + ")"
}

// Open opens the model's client through the run's Models port.
func (m *Model) Open(ctx context.Context, b *engine.Build) (engine.ChatModel, error) {
	models := b.Env().Models
	if models == nil {
		return nil, errors.New("no model client is configured on this server")
	}
	return models.Open(ctx, m.Selection)
}

// Request returns a call of msgs with the model's settings.
func (m *Model) Request(msgs []engine.ChatMessage) engine.ChatRequest {
	req := m.Settings
	req.Messages = msgs
	return req
}

// providerKeyVariables name the variable holding each provider's API key
// (Langflow's credential variables).
var providerKeyVariables = map[string]string{
	"OpenAI":               "OPENAI_API_KEY",
	"Anthropic":            "ANTHROPIC_API_KEY",
	"Google Generative AI": "GOOGLE_API_KEY",
	"IBM WatsonX":          "WATSONX_APIKEY",
}

// resolveKey resolves sel through the model catalogue (Env.Catalog: the
// flow tenant's providers, then the built-in ones), then returns the API
// key of its provider: the node's api_key field (its variable already
// resolved) or, when empty, the provider's variable (the catalogue's
// variable_name, else OPENAI_API_KEY …) resolved as a secret
// load_from_db field is. An inactive provider, or a model the catalogue
// marks inactive or not supported, is refused by name. A missing variable
// fails with Langflow's "<NAME> variable not found." — unless the
// provider is one this server cannot call at all, which is said first. A
// key the server's environment gave is the server's own: it goes only to
// an endpoint the operator configured, never to one the node names
// (openai_api_base) or a tenant's own provider names, where a flow's
// author or a tenant administrator could collect it.
func resolveKey(ctx context.Context, b *engine.Build, sel *engine.ModelSelection) (string, error) {
	varName, known := providerKeyVariables[sel.Provider]
	needsKey := sel.Provider != "Ollama"
	if cat := b.Env().Catalog; cat != nil {
		rec, err := cat.Resolve(ctx, b.Run().Tenant, sel.Provider, sel.Name)
		if err != nil {
			return "", err
		}
		if rec != nil {
			if err := usable(rec, sel.Name); err != nil {
				return "", err
			}
			sel.Catalog = rec
			if sel.Class == "" {
				sel.Class = rec.ModelClass
			}
			varName, known, needsKey = rec.VariableName, rec.RequiresAPIKey, rec.RequiresAPIKey
		}
	}
	key, fromServer := b.Str("api_key"), b.ParamFromServer("api_key")
	if known && key == "" {
		v, server, err := b.Variable(ctx, varName)
		var notFound *engine.ErrVariableNotFound
		if errors.As(err, &notFound) {
			if models := b.Env().Models; models != nil {
				if _, openErr := models.Open(ctx, *sel); openErr != nil {
					return "", openErr
				}
			}
		}
		if err != nil {
			return "", err
		}
		key, fromServer = v, server
	}
	tenantEndpoint := sel.Catalog != nil && !sel.Catalog.Builtin && sel.Catalog.BaseURL != ""
	switch {
	case key == "" && needsKey:
		upper := strings.ToUpper(strings.ReplaceAll(sel.Provider, " ", "_"))
		return "", fmt.Errorf("%s API key is required when using %s provider. Please provide it in the component or configure it globally as %s_API_KEY.",
			sel.Provider, sel.Provider, upper)
	case fromServer && sel.BaseURL != "":
		return "", fmt.Errorf("the server's own %s API key is sent only to the endpoint the operator configured, not to %s: give this component an API key of its own",
			sel.Provider, sel.BaseURL)
	case fromServer && tenantEndpoint:
		return "", fmt.Errorf("the server's own %s API key is sent only to the endpoint the operator configured, not to %s: set %s in the tenant's configs",
			sel.Provider, sel.Catalog.BaseURL, varName)
	}
	return key, nil
}

// usable refuses a provider the catalogue marks inactive, and a model it
// marks inactive or not supported.
func usable(rec *engine.CatalogModel, model string) error {
	switch m := rec.Model; {
	case !rec.Active:
		return fmt.Errorf("The model provider %s is not active on this server: an administrator can enable it in Model Management", rec.ProviderName)
	case m != nil && m.NotSupported:
		return fmt.Errorf("The model %s of %s is marked not supported on this server", model, rec.ProviderName)
	case m != nil && !m.Active:
		return fmt.Errorf("The model %s of %s is not active on this server: an administrator can enable it in Model Management", model, rec.ProviderName)
	}
	return nil
}

// chatMessages assembles a model call as Langflow's LCModelComponent
// does: the system message first (when not empty), then the input — a
// prompt's message or a user's as a user message, a message of any other
// sender (another model, a chat output) as an assistant message, text as
// a user message.
func chatMessages(b *engine.Build) ([]engine.ChatMessage, error) {
	system := b.Str("system_message")
	in, present := b.Param("input_value")
	if !present && system == "" {
		return nil, errors.New("The message you want to send to the model is empty.")
	}
	var msgs []engine.ChatMessage
	if system != "" {
		msgs = append(msgs, engine.ChatMessage{Role: "system", Content: system})
	}
	if present {
		role := "user"
		if m, ok := in.(*engine.Message); ok {
			if _, fromPrompt := m.Data["template"]; !fromPrompt && m.Sender != "" && m.Sender != engine.SenderUser {
				role = "assistant"
			}
		}
		msgs = append(msgs, engine.ChatMessage{Role: role, Content: engine.Text(in)})
	}
	return msgs, nil
}

// runModel builds a model component's outputs: model_output is the model
// itself; text_output its answer to the vertex's messages. With stream on
// and a chat output next to the vertex, the answer is streamed (token
// events) into a message this vertex records, which the chat output then
// completes; otherwise it is one call.
func runModel(ctx context.Context, b *engine.Build, m *Model, source string) error {
	if b.Wants("model_output") {
		b.Set("model_output", m)
	}
	if !b.Wants("text_output") {
		return nil
	}
	msgs, err := chatMessages(b)
	if err != nil {
		return err
	}
	chat, err := m.Open(ctx, b)
	if err != nil {
		return err
	}
	req := m.Request(msgs)
	if b.Bool("stream") && b.NextTo("ChatOutput") {
		msg := engine.NewMessage("")
		msg.Sender, msg.SenderName = engine.SenderMachine, engine.SenderNameMachine
		msg.SessionID = b.Session()
		icon := b.Vertex.Spec.Icon
		msg.Properties.Icon = &icon
		msg.Properties.Source = engine.SourceOf(b.Vertex.ID, b.Vertex.Spec.DisplayName, source)
		final, err := b.SendStream(ctx, msg, func(onChunk func(string) error) (string, error) {
			return chat.Chat(ctx, req, onChunk)
		})
		if err != nil {
			return err
		}
		b.Set("text_output", final)
		b.SetStatus(final.Text)
		return nil
	}
	text, err := chat.Chat(ctx, req, nil)
	if err != nil {
		return err
	}
	setText(b, "text_output", text)
	return nil
}

// modelOutputs are the two outputs of a model component.
func modelOutputs() []engine.OutputSpec {
	return []engine.OutputSpec{
		output("text_output", "Model Response", "text_response"),
		output("model_output", "Language Model", "build_model", "LanguageModel"),
	}
}

// isReasoning reports whether name is among the reasoning models.
func isReasoning(name string, reasoning []string) bool { return slices.Contains(reasoning, name) }
