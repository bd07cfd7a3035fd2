package components

import (
	"context"

	"github.com/skillflaw/skillflaw-go/engine"
)

// CombineText is Langflow's CombineText (legacy): the first and the
// second text joined by the delimiter, both always included even when
// empty.
type CombineText struct{}

// Spec implements engine.Component.
func (CombineText) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "CombineText", Category: "processing", Legacy: true, DisplayName: "Combine Text",
		Description: "Concatenate two text sources into a single text chunk using a specified delimiter.",
		Icon:        "merge", BaseClasses: []string{"Message"},
		Fields: []engine.FieldSpec{
			messageTextInput("text1", "First Text", "", info("The first text input to concatenate.")),
			messageTextInput("text2", "Second Text", "", info("The second text input to concatenate.")),
			messageTextInput("delimiter", "Delimiter", " ", info("A string used to separate the two text inputs. Defaults to a whitespace.")),
		},
		Outputs: []engine.OutputSpec{output("combined_text", "Combined Text", "combine_texts")},
	}
}

// Build implements engine.Component.
func (CombineText) Build(_ context.Context, b *engine.Build) error {
	setText(b, "combined_text", b.Str("text1")+b.Str("delimiter")+b.Str("text2"))
	return nil
}
