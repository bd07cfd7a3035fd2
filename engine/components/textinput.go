package components

import (
	"context"

	"github.com/skillflaw/skillflaw-go/engine"
)

// TextInput is Langflow's TextInput: its text as a message, neither
// recorded nor reported. It is an input vertex: a run's input value of
// type "text" (or "any") replaces its text.
type TextInput struct{}

// Spec implements engine.Component.
func (TextInput) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "TextInput", Category: "input_output", DisplayName: "Text Input", Description: "Get user text inputs.",
		Icon: "type", BaseClasses: []string{"Message"}, IsInput: true,
		Fields:  []engine.FieldSpec{multilineInput("input_value", "Text", "", info("Text to be passed as input."))},
		Outputs: []engine.OutputSpec{output("text", "Output Text", "text_response")},
	}
}

// Build implements engine.Component.
func (TextInput) Build(_ context.Context, b *engine.Build) error {
	b.Set("text", engine.NewMessage(b.Str("input_value")))
	return nil
}
