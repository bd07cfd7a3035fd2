package domain

// SeedProvider is a built-in provider with its models.
type SeedProvider struct {
	Provider ModelProviderFields
	Models   []ProviderModelFields
}

// ModelCatalogSeedVersion is the version of BuiltinModelProviders: a
// newer binary with a larger version seeds the providers the catalogue
// lacks by key (never one an operator removed under the same version).
const ModelCatalogSeedVersion = 1

func strp(s string) *string { return &s }
func i64p(n int64) *int64   { return &n }

// BuiltinModelProviders is the catalogue seeded into the system tenant at
// first start: OpenAI, Anthropic, Ollama and a generic OpenAI-compatible
// provider (its base URL is the operator's to set). Operators edit it
// through the API like any other entry.
var BuiltinModelProviders = []SeedProvider{
	{Provider: ModelProviderFields{ProviderKey: "openai", ProviderName: "OpenAI", Icon: "OpenAI", VariableName: "OPENAI_API_KEY",
		RequiresAPIKey: true, APIDocsURL: strp("https://platform.openai.com/docs/models"), ModelClass: "ChatOpenAI",
		ModelNameParam: "model", APIKeyParam: "api_key", BaseURLParam: strp("base_url"), BaseURL: strp("https://api.openai.com/v1"),
		MaxTokensFieldName: "max_tokens", IsActive: true, KeyOrder: 1},
		Models: []ProviderModelFields{
			seedModel("gpt-4o-mini", "GPT-4o mini", 128000, 1, true, false, true),
			seedModel("gpt-4o", "GPT-4o", 128000, 2, false, false, true),
			seedModel("gpt-4.1", "GPT-4.1", 1047576, 3, false, false, true),
			seedModel("o3-mini", "o3-mini", 200000, 4, false, true, true),
			{ModelName: "text-embedding-3-small", ModelDisplayName: strp("text-embedding-3-small"), ModelType: "embedding",
				ContextLength: i64p(8191), IsDefault: true, IsActive: true, KeyOrder: 5},
		}},
	{Provider: ModelProviderFields{ProviderKey: "anthropic", ProviderName: "Anthropic", Icon: "Anthropic", VariableName: "ANTHROPIC_API_KEY",
		RequiresAPIKey: true, APIDocsURL: strp("https://docs.anthropic.com/en/docs/about-claude/models"), ModelClass: "ChatAnthropic",
		ModelNameParam: "model", APIKeyParam: "api_key", BaseURLParam: strp("base_url"), BaseURL: strp("https://api.anthropic.com/v1/"),
		MaxTokensFieldName: "max_tokens", IsActive: true, KeyOrder: 2},
		Models: []ProviderModelFields{
			seedModel("claude-sonnet-4-5", "Claude Sonnet 4.5", 200000, 1, true, true, true),
			seedModel("claude-haiku-4-5", "Claude Haiku 4.5", 200000, 2, false, false, true),
			seedModel("claude-opus-4-1", "Claude Opus 4.1", 200000, 3, false, true, true),
		}},
	{Provider: ModelProviderFields{ProviderKey: "ollama", ProviderName: "Ollama", Icon: "Ollama", VariableName: "OLLAMA_BASE_URL",
		RequiresAPIKey: false, APIDocsURL: strp("https://ollama.com/library"), ModelClass: "ChatOllama",
		ModelNameParam: "model", APIKeyParam: "api_key", BaseURLParam: strp("base_url"), BaseURL: strp("http://localhost:11434/v1"),
		MaxTokensFieldName: "num_predict", IsActive: true, KeyOrder: 3},
		Models: []ProviderModelFields{
			seedModel("llama3.2", "Llama 3.2", 131072, 1, true, false, true),
			seedModel("qwen2.5", "Qwen 2.5", 32768, 2, false, false, true),
			seedModel("mistral", "Mistral", 32768, 3, false, false, true),
		}},
	{Provider: ModelProviderFields{ProviderKey: "openai_compatible", ProviderName: "OpenAI-compatible", Icon: "Bot",
		VariableName: "OPENAI_COMPATIBLE_API_KEY", RequiresAPIKey: true, ModelClass: "ChatOpenAI",
		ModelNameParam: "model", APIKeyParam: "api_key", BaseURLParam: strp("base_url"),
		MaxTokensFieldName: "max_tokens", IsActive: true, KeyOrder: 4,
		Note: strp("Any server speaking OpenAI's Chat Completions API (vLLM, LiteLLM, LocalAI …): set base_url to its endpoint.")},
		Models: []ProviderModelFields{
			seedModel("gpt-4o-mini", "gpt-4o-mini", 128000, 1, true, false, true),
		}},
}

func seedModel(name, display string, ctxLen int64, order int64, isDefault, reasoning, tools bool) ProviderModelFields {
	return ProviderModelFields{ModelName: name, ModelDisplayName: strp(display), ModelType: "language", ContextLength: i64p(ctxLen),
		IsDefault: isDefault, IsReasoning: reasoning, IsToolCalling: tools, IsActive: true, KeyOrder: order}
}
