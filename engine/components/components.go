// Package components holds the Go implementations of the Langflow
// components SkillFlaw runs: ChatInput, ChatOutput, TextInput,
// TextOutput, Webhook, Prompt Template (alias Prompt),
// LanguageModelComponent, OpenAIModel, Memory, ParserComponent (alias
// parser), SplitText, CombineText, ConditionalRouter, Agent,
// CalculatorComponent, CurrentDate, URLComponent (and the older URL),
// APIRequest, StructuredOutput, LoopComponent, File and Run Flow. Any of
// them with tool-mode inputs can be an agent's tool (engine/tool.go).
//
// Each declares its node template as Langflow 1.7.1 does (engine.Spec)
// and behaves as Langflow's Python class does, from the component
// reference written from its source; where Langflow's behaviour is a
// security or data-loss bug, the component does the safe thing and its
// doc comment says so. The package holds no state: All returns new
// components, and everything a build needs comes through its
// *engine.Build (parameters, ports, the run's state).
package components

import "github.com/skillflaw/skillflaw-go/engine"

// All returns every component of this package, for engine.NewRegistry.
func All() []engine.Component {
	return []engine.Component{
		ChatInput{}, ChatOutput{}, TextInput{}, TextOutput{}, Webhook{},
		Prompt{}, LanguageModelComponent{}, OpenAIModel{}, Memory{},
		Parser{}, SplitText{}, CombineText{}, ConditionalRouter{},
		Agent{}, Calculator{}, CurrentDate{}, URLComponent{}, URLLegacy{}, APIRequest{},
		StructuredOutput{}, LoopComponent{}, File{}, RunFlow{}, MCPTools{},
	}
}

// Registry returns a registry of every component of this package.
func Registry() (*engine.Registry, error) { return engine.NewRegistry(All()...) }

// classDisplayName is the display name of the Python class a vertex's
// node runs in Langflow: starter flows' "Prompt" nodes carry the older
// class named "Prompt", not "Prompt Template".
func classDisplayName(v *engine.Vertex) string {
	if v.Type == "Prompt" {
		return "Prompt"
	}
	if v.Spec != nil {
		return v.Spec.DisplayName
	}
	return v.Type
}

// sourceOf names a vertex as the source of a message, as Langflow's
// ChatComponent.get_properties_from_source_component does: its model
// (model_name, model_id or model, the first that is set) or else its
// class's display name.
func sourceOf(v *engine.Vertex) engine.Source {
	name := classDisplayName(v)
	source := name
	for _, attr := range []string{"model_name", "model_id", "model"} {
		if f, ok := v.Template[attr]; ok && f.Show && engine.Truthy(f.Value) {
			source = engine.PyStr(f.Value)
			break
		}
	}
	return engine.SourceOf(v.ID, name, source)
}

// setText sets output name to a message of text and reports it.
func setText(b *engine.Build, name, text string) {
	b.Set(name, engine.NewMessage(text))
	b.SetStatus(text)
}
