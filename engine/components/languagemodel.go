package components

import (
	"context"
	"errors"

	"github.com/skillflaw/skillflaw-go/engine"
)

// LanguageModelComponent is Langflow 1.7's Language Model: the model
// named by its model field ([{"provider", "name", "metadata": {…}}], only
// the first entry used; empty: "A model selection is required"), called
// with the system message, the input, and the temperature (left out for
// the reasoning models the metadata lists). The API key is the api_key
// field, else the provider's variable (OPENAI_API_KEY …). Like Langflow
// 1.7 it passes no base URL: the provider's configured endpoint is used,
// and ollama_base_url, base_url_ibm_watsonx and project_id are ignored.
// Providers the server cannot call are refused by name (engine/models).
type LanguageModelComponent struct{}

// Spec implements engine.Component.
func (LanguageModelComponent) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "LanguageModelComponent", Category: "models_and_agents", DisplayName: "Language Model",
		Description: "Runs a language model given a specified provider.", Icon: "brain-circuit",
		BaseClasses: []string{"LanguageModel", "Message"},
		Fields: []engine.FieldSpec{
			field("model", "ModelInput", "model", "Language Model", "", []string{}, []fieldOpt{required,
				info("Select your model provider")}),
			secretInput("api_key", "API Key", "", advanced, loadFromDB, info("Model Provider API key")),
			dropdownInput("base_url_ibm_watsonx", "watsonx API Endpoint", "https://us-south.ml.cloud.ibm.com",
				[]string{"https://us-south.ml.cloud.ibm.com", "https://eu-de.ml.cloud.ibm.com", "https://eu-gb.ml.cloud.ibm.com",
					"https://au-syd.ml.cloud.ibm.com", "https://jp-tok.ml.cloud.ibm.com", "https://ca-tor.ml.cloud.ibm.com"},
				hidden, info("The base URL of the API (IBM watsonx.ai only)")),
			strInput("project_id", "watsonx Project ID", "", hidden, info("The project ID associated with the foundation model (IBM watsonx.ai only)")),
			messageInput("ollama_base_url", "Ollama API URL", "http://localhost:11434", hidden, loadFromDB,
				info("Endpoint of the Ollama API (Ollama only). Defaults to http://localhost:11434")),
			messageInput("input_value", "Input", "", info("The input text to send to the model")),
			multilineInput("system_message", "System Message", "",
				info("A system message that helps set the behavior of the assistant")),
			boolInput("stream", "Stream", false, advanced, info("Whether to stream the response")),
			sliderInput("temperature", "Temperature", 0.1, advanced, info("Controls randomness in responses")),
		},
		Outputs: modelOutputs(),
	}
}

// Build implements engine.Component.
func (LanguageModelComponent) Build(ctx context.Context, b *engine.Build) error {
	raw, _ := b.Param("model")
	m, err := selectedModel(ctx, b, raw)
	if err != nil {
		return err
	}
	return runModel(ctx, b, m, engine.PyStr(raw))
}

// selectedModel reads the 1.7 model field: a connected model, or the
// first entry of the list.
func selectedModel(ctx context.Context, b *engine.Build, raw engine.Value) (*Model, error) {
	if connected, ok := raw.(*Model); ok {
		return connected, nil
	}
	list, _ := raw.([]any)
	var entry map[string]any
	if len(list) > 0 {
		entry, _ = list[0].(map[string]any)
	}
	if entry == nil {
		return nil, errors.New("A model selection is required")
	}
	provider, _ := entry["provider"].(string)
	name, _ := entry["name"].(string)
	meta, _ := entry["metadata"].(map[string]any)
	class, _ := meta["model_class"].(string)
	var reasoning []string
	if rs, ok := meta["reasoning_models"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				reasoning = append(reasoning, s)
			}
		}
	}
	sel := engine.ModelSelection{Provider: provider, Name: name, Class: class}
	key, err := resolveKey(ctx, b, &sel)
	if err != nil {
		return nil, err
	}
	sel.APIKey = key
	m := &Model{Selection: sel}
	if t, ok := b.Float("temperature"); ok && !isReasoning(name, reasoning) {
		m.Settings.Temperature = &t
	}
	return m, nil
}
