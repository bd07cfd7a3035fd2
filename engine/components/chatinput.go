package components

import (
	"context"
	"fmt"

	"github.com/skillflaw/skillflaw-go/engine"
)

// ChatInput is Langflow's ChatInput: the playground's message. It is the
// run's chat input vertex (built first, alone); its message is recorded
// and reported (add_message) when it has a session and
// should_store_message is on, and is its output either way.
type ChatInput struct{}

// Spec implements engine.Component.
func (ChatInput) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "ChatInput", Category: "input_output", DisplayName: "Chat Input", Description: "Get chat inputs from the Playground.",
		Icon: "MessagesSquare", BaseClasses: []string{"Message"}, IsInput: true, ChatInput: true, Minimized: true,
		Fields: []engine.FieldSpec{
			multilineInput("input_value", "Input Text", "", inputTypes(), info("Message to be passed as input.")),
			boolInput("should_store_message", "Store Messages", true, advanced, info("Store the message in the history.")),
			dropdownInput("sender", "Sender Type", engine.SenderUser, []string{engine.SenderMachine, engine.SenderUser}, advanced, info("Type of sender.")),
			messageTextInput("sender_name", "Sender Name", engine.SenderNameUser, advanced, info("Name of the sender.")),
			messageTextInput("session_id", "Session ID", "", advanced,
				info("The session ID of the chat. If empty, the current session ID parameter will be used.")),
			messageTextInput("context_id", "Context ID", "", advanced,
				info("The context ID of the chat. Adds an extra layer to the local memory.")),
			field("file", "FileInput", "files", "Files", "", nil, []fieldOpt{advanced, isList, info("Files to be sent with the message.")}),
		},
		Outputs: []engine.OutputSpec{output("message", "Chat Message", "message_response")},
	}
}

// Build implements engine.Component.
func (ChatInput) Build(ctx context.Context, b *engine.Build) error {
	m := engine.NewMessage(b.Str("input_value"))
	m.Sender, m.SenderName = b.Str("sender"), b.Str("sender_name")
	m.SessionID, m.ContextID = b.Session(), b.Str("context_id")
	m.Files = fileList(b)
	if m.SessionID != "" && b.Bool("should_store_message") {
		sent, err := b.Send(ctx, m)
		if err != nil {
			return fmt.Errorf("send the chat message: %w", err)
		}
		m = sent
	}
	b.Set("message", m)
	b.SetStatus(m)
	return nil
}

// fileList is the files parameter as a list without empty entries.
func fileList(b *engine.Build) []string {
	v, _ := b.Param("files")
	var out []string
	add := func(x any) {
		if s, ok := x.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			add(s)
		}
	case []any:
		for _, s := range x {
			add(s)
		}
	case []engine.Value:
		for _, s := range x {
			add(engine.Text(s))
		}
	default:
		add(x)
	}
	return out
}
