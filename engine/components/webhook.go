package components

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Webhook is Langflow's Webhook: its payload (the body the webhook
// endpoint received, or the data field) parsed as a JSON object into a
// Data. An empty payload is an empty Data; text that is not JSON becomes
// {"payload": <text>}. A JSON value that is not an object fails the
// vertex (in Langflow, a validation error of Data).
type Webhook struct{}

// Spec implements engine.Component.
func (Webhook) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "Webhook", Category: "input_output", DisplayName: "Webhook", Icon: "webhook", BaseClasses: []string{"Data"}, IsInput: true,
		Fields: []engine.FieldSpec{
			multilineInput("data", "Payload", "", advanced, info("Receives a payload from external systems via HTTP POST.")),
			multilineInput("curl", "cURL", "CURL_WEBHOOK", advanced, inputTypes()),
			multilineInput("endpoint", "Endpoint", "BACKEND_URL", inputTypes()),
		},
		Outputs: []engine.OutputSpec{output("output_data", "Data", "build_data", "Data")},
	}
}

// Build implements engine.Component.
func (Webhook) Build(_ context.Context, b *engine.Build) error {
	raw := b.Str("data")
	if raw == "" {
		b.SetStatus("No data provided.")
		b.Set("output_data", engine.NewData(map[string]any{}))
		return nil
	}
	// Langflow repairs a value that is a bare line break.
	fixed := strings.ReplaceAll(raw, "\"\n\"", `"\n"`)
	var body any
	dec := json.NewDecoder(bytes.NewReader([]byte(fixed)))
	dec.UseNumber()
	err := dec.Decode(&body)
	if err == nil && dec.More() {
		err = fmt.Errorf("extra data after the JSON value")
	}
	if err != nil {
		b.SetStatus("Invalid JSON payload. Please check the format.\n\n" + raw)
		b.Set("output_data", engine.NewData(map[string]any{"payload": raw}))
		return nil
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return fmt.Errorf("the webhook payload must be a JSON object, not a %s", pyTypeName(body))
	}
	d := engine.NewData(obj)
	b.SetStatus(d)
	b.Set("output_data", d)
	return nil
}
