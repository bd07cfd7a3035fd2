package components

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// ChatOutput is Langflow's ChatOutput: it shows its input in the
// playground. The input becomes text as Langflow's safe_convert does (a
// message's text as is; a string cleaned of blank lines; a Data as a
// fenced JSON block; a DataFrame as a markdown table; a list item by
// item, joined by newlines, with clean_data applied to its DataFrames).
// A message input is reused — its id, files and data kept — unless the
// vertex is next to a chat input; so a model's streamed message is
// updated, not recorded twice, and the final add_message carries its id.
// properties.source names the vertex of the first incoming edge. The
// message is recorded and reported when it has a session and
// should_store_message is on. data_template is declared but unused, as in
// Langflow 1.7.
type ChatOutput struct{}

// Spec implements engine.Component.
func (ChatOutput) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "ChatOutput", Category: "input_output", Minimized: true, DisplayName: "Chat Output", Description: "Display a chat message in the Playground.",
		Icon: "MessagesSquare", BaseClasses: []string{"Message"}, IsOutput: true,
		Fields: []engine.FieldSpec{
			handleInput("input_value", "Inputs", []string{"Data", "DataFrame", "Message"}, required, info("Message to be passed as output.")),
			boolInput("should_store_message", "Store Messages", true, advanced, info("Store the message in the history.")),
			dropdownInput("sender", "Sender Type", engine.SenderMachine, []string{engine.SenderMachine, engine.SenderUser}, advanced, info("Type of sender.")),
			messageTextInput("sender_name", "Sender Name", engine.SenderNameMachine, advanced, info("Name of the sender.")),
			messageTextInput("session_id", "Session ID", "", advanced,
				info("The session ID of the chat. If empty, the current session ID parameter will be used.")),
			messageTextInput("context_id", "Context ID", "", advanced,
				info("The context ID of the chat. Adds an extra layer to the local memory.")),
			messageTextInput("data_template", "Data Template", "{text}", advanced,
				info("Template to convert Data to Text. If left empty, it will be dynamically set to the Data's text key.")),
			boolInput("clean_data", "Basic Clean Data", true, advanced, info("Whether to clean data before converting to string.")),
		},
		Outputs: []engine.OutputSpec{output("message", "Output Message", "message_response")},
	}
}

// Build implements engine.Component.
func (ChatOutput) Build(ctx context.Context, b *engine.Build) error {
	in, ok := b.Param("input_value")
	if !ok || (in == "" && b.Source("input_value") == nil) {
		return fmt.Errorf("Input data cannot be None")
	}
	text, err := toChatText(in, b.Bool("clean_data"))
	if err != nil {
		return err
	}
	var m *engine.Message
	existingSession := ""
	if im, isMsg := in.(*engine.Message); isMsg && !b.NextTo("ChatInput") {
		m = im.Clone()
		m.Text = text
		existingSession = im.SessionID
	} else {
		m = engine.NewMessage(text)
	}
	m.Sender, m.SenderName = b.Str("sender"), b.Str("sender_name")
	m.SessionID = cmp.Or(b.Str("session_id"), existingSession, b.Run().Session)
	m.ContextID = b.Str("context_id")
	m.FlowID = b.Run().FlowID
	if len(b.Vertex.In) > 0 {
		// The first edge into the first edge's field is the first edge.
		if src := b.Source(b.Vertex.In[0].TargetField); src != nil {
			m.Properties.Source = sourceOf(src)
		}
	}
	if m.SessionID != "" && b.Bool("should_store_message") {
		if m, err = b.Send(ctx, m); err != nil {
			return fmt.Errorf("send the chat message: %w", err)
		}
	}
	b.Set("message", m)
	b.SetStatus(m)
	return nil
}

// toChatText is ChatOutput's convert_to_string: the input checked and
// converted.
func toChatText(in engine.Value, cleanData bool) (string, error) {
	items, isList := asList(in)
	if !isList {
		switch in.(type) {
		case *engine.Message, *engine.Data, *engine.DataFrame, string:
			return safeConvert(in, false)
		}
		return "", fmt.Errorf("Expected Data or DataFrame or Message or str, Generator or None, got %s", pyTypeName(in))
	}
	var bad []string
	for _, e := range items {
		switch e.(type) {
		case *engine.Message, *engine.Data, *engine.DataFrame, string:
		default:
			bad = append(bad, "'"+pyTypeName(e)+"'")
		}
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("Expected Data or DataFrame or Message or str, got [%s]", strings.Join(bad, ", "))
	}
	parts := make([]string, len(items))
	for i, e := range items {
		s, err := safeConvert(e, cleanData)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return strings.Join(parts, "\n"), nil
}
