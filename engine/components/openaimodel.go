package components

import (
	"context"
	"maps"
	"time"

	"github.com/skillflaw/skillflaw-go/engine"
)

// openAIReasoningModels are the models OpenAIModel calls without
// temperature and seed (Langflow's OPENAI_REASONING_MODEL_NAMES).
var openAIReasoningModels = []string{"gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat-latest", "o1"}

// OpenAIModel is Langflow's OpenAI component: an OpenAI (or compatible)
// chat model by name, at openai_api_base or the server's configured
// OpenAI endpoint, with temperature and seed (both left out for reasoning
// models), max tokens (0: no limit), JSON mode, model_kwargs as further
// body parameters (never the key), retries and timeout. Its api_key
// names a variable (load_from_db, default OPENAI_API_KEY). Unlike
// Langflow, whose client then falls back to the server's own
// OPENAI_API_KEY environment variable, an empty key is looked up as the
// OPENAI_API_KEY variable through the engine, which reaches the process
// environment only when the server allows it.
type OpenAIModel struct{}

// Spec implements engine.Component.
func (OpenAIModel) Spec() *engine.Spec {
	models := append([]string{"gpt-4o-mini", "gpt-4o", "gpt-4-turbo", "gpt-4-turbo-preview", "gpt-4", "gpt-3.5-turbo"},
		openAIReasoningModels...)
	return &engine.Spec{
		Type: "OpenAIModel", Category: "openai", DisplayName: "OpenAI", Description: "Generates text using OpenAI LLMs.", Icon: "OpenAI",
		BaseClasses: []string{"LanguageModel", "Message"},
		Fields: []engine.FieldSpec{
			messageInput("input_value", "Input", ""),
			multilineInput("system_message", "System Message", "", info("System message to pass to the model.")),
			boolInput("stream", "Stream", false, advanced, info("Stream the response from the model. Streaming works only in Chat.")),
			intInput("max_tokens", "Max Tokens", "", advanced,
				info("The maximum number of tokens to generate. Set to 0 for unlimited tokens.")),
			dictInput("model_kwargs", "Model Kwargs", advanced,
				info("Additional keyword arguments to pass to the model.")),
			boolInput("json_mode", "JSON Mode", false, advanced,
				info("If True, it will output JSON regardless of passing a schema.")),
			dropdownInput("model_name", "Model Name", "gpt-4o-mini", models),
			strInput("openai_api_base", "OpenAI API Base", "", advanced,
				info("The base URL of the OpenAI API. Defaults to https://api.openai.com/v1. You can change this to use other APIs like JinaChat, LocalAI and Prem.")),
			secretInput("api_key", "OpenAI API Key", "OPENAI_API_KEY", required, loadFromDB,
				info("The OpenAI API Key to use for the OpenAI model.")),
			sliderInput("temperature", "Temperature", 0.1),
			intInput("seed", "Seed", 1, advanced,
				info("The seed controls the reproducibility of the job.")),
			intInput("max_retries", "Max Retries", 5, advanced,
				info("The maximum number of retries to make when generating.")),
			intInput("timeout", "Timeout", 700, advanced,
				info("The timeout for requests to OpenAI completion API.")),
		},
		Outputs: modelOutputs(),
	}
}

// Build implements engine.Component.
func (OpenAIModel) Build(ctx context.Context, b *engine.Build) error {
	name := b.Str("model_name")
	sel := engine.ModelSelection{Provider: "OpenAI", Name: name, Class: "ChatOpenAI", BaseURL: b.Str("openai_api_base")}
	key, err := resolveKey(ctx, b, &sel)
	if err != nil {
		return err
	}
	sel.APIKey = key
	if n, ok := b.Int("max_retries"); ok {
		retries := int(n)
		sel.MaxRetries = &retries
	}
	if n, ok := b.Int("timeout"); ok && n > 0 {
		sel.Timeout = time.Duration(n) * time.Second
	}
	m := &Model{Selection: sel, Settings: engine.ChatRequest{JSONMode: b.Bool("json_mode")}}
	if n, ok := b.Int("max_tokens"); ok && n > 0 {
		m.Settings.MaxTokens = &n
	}
	if kw, ok := b.Param("model_kwargs"); ok {
		if kwm, ok := kw.(map[string]any); ok && len(kwm) > 0 {
			m.Settings.Extra = maps.Clone(kwm)
			delete(m.Settings.Extra, "api_key")
		}
	}
	if !isReasoning(name, openAIReasoningModels) {
		t, ok := b.Float("temperature")
		if !ok {
			t = 0.1
		}
		m.Settings.Temperature = &t
		if s, ok := b.Int("seed"); ok {
			m.Settings.Seed = &s
		}
	}
	return runModel(ctx, b, m, name)
}
