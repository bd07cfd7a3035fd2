package components

import (
	"context"

	"github.com/skillflaw/skillflaw-go/engine"
)

// TextOutput is Langflow's TextOutput: its (connected) text as a
// message, neither recorded nor reported; an output vertex of the run.
type TextOutput struct{}

// Spec implements engine.Component.
func (TextOutput) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "TextOutput", Category: "input_output", DisplayName: "Text Output", Description: "Sends text output via API.",
		Icon: "type", BaseClasses: []string{"Message"}, IsOutput: true,
		Fields:  []engine.FieldSpec{multilineInput("input_value", "Inputs", "", info("Text to be passed as output."))},
		Outputs: []engine.OutputSpec{output("text", "Output Text", "text_response")},
	}
}

// Build implements engine.Component.
func (TextOutput) Build(_ context.Context, b *engine.Build) error {
	setText(b, "text", b.Str("input_value"))
	return nil
}
