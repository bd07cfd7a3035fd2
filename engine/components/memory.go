package components

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// historyWindow is how many of a session's newest messages Memory reads,
// as Langflow's LIMIT 10000.
const historyWindow = 10000

// Memory is Langflow's Message History. In Retrieve mode (the default)
// it reads the messages of the session (the run's, or session_id) from
// this server's history, error messages left out, filtered by sender
// type, sender name and context, and keeps the last n_messages: in
// Ascending order the newest, oldest first; in Descending order — a
// Langflow quirk kept — the oldest of the newest 10000, newest first.
// messages_text renders each with template (Python format_map, a missing
// key rendering as "") joined by newlines; dataframe gives their fields.
// In Store mode it records message (with sender Machine and sender name
// AI unless set) without reporting it, and returns the newest matching
// message. An external memory (the memory handle) is not supported.
//
// Unlike Langflow, which reads a session's messages whoever wrote them,
// only the running user's messages are read: a session id is easy to
// guess (the flow's id by default), so another user's could otherwise be
// read by naming their session.
type Memory struct{}

// Spec implements engine.Component.
func (Memory) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "Memory", Category: "models_and_agents", DisplayName: "Message History",
		Description: "Stores or retrieves stored chat messages from Langflow tables or an external memory.",
		Icon:        "message-square-more", BaseClasses: []string{"DataFrame", "Message"},
		Fields: []engine.FieldSpec{
			tabInput("mode", "Mode", "Retrieve", []string{"Retrieve", "Store"},
				info("Operation mode: Store messages or Retrieve messages.")),
			messageTextInput("message", "Message", "", hidden, info("The chat message to be stored.")),
			handleInput("memory", "External Memory", []string{"Memory"}, advanced,
				info("Retrieve messages from an external memory. If empty, it will use the Langflow tables.")),
			dropdownInput("sender_type", "Sender Type", "Machine and User", []string{engine.SenderMachine, engine.SenderUser, "Machine and User"},
				advanced, info("Filter by sender type.")),
			messageTextInput("sender", "Sender", "", advanced,
				info("The sender of the message. Might be Machine or User. If empty, the current sender parameter will be used.")),
			messageTextInput("sender_name", "Sender Name", "", advanced, hidden, info("Filter by sender name.")),
			intInput("n_messages", "Number of Messages", 100, advanced, info("Number of messages to retrieve.")),
			messageTextInput("session_id", "Session ID", "", advanced,
				info("The session ID of the chat. If empty, the current session ID parameter will be used.")),
			messageTextInput("context_id", "Context ID", "", advanced,
				info("The context ID of the chat. Adds an extra layer to the local memory.")),
			dropdownInput("order", "Order", "Ascending", []string{"Ascending", "Descending"}, advanced, required,
				info("Order of the messages.")),
			multilineInput("template", "Template", "{sender_name}: {text}", advanced, hidden,
				info("The template to use for formatting the data. It can contain the keys {text}, {sender} or any other key in the message data.")),
		},
		Outputs: []engine.OutputSpec{
			output("messages_text", "Message", "retrieve_messages_as_text"),
			output("dataframe", "Dataframe", "retrieve_messages_dataframe", "DataFrame"),
			// Store mode's output (Langflow swaps it in when the mode
			// changes).
			output("stored_messages", "Stored Messages", "store_message"),
		},
	}
}

// Build implements engine.Component.
func (Memory) Build(ctx context.Context, b *engine.Build) error {
	if b.Source("memory") != nil {
		return errors.New("an external memory is not supported by this server; leave the memory input unconnected to use the server's message history")
	}
	if b.Str("mode") == "Store" {
		return storeMessage(ctx, b)
	}
	if !b.Wants("messages_text") && !b.Wants("dataframe") {
		return nil
	}
	msgs, err := retrieveMessages(ctx, b)
	if err != nil {
		return err
	}
	if b.Wants("messages_text") {
		template := b.Str("template")
		lines := make([]string, len(msgs))
		for i, m := range msgs {
			fields := messageData(m)
			line, err := pyFormat(template, func(name string) (string, bool) {
				v, ok := fields[name]
				return engine.PyStr(v), ok
			}, false)
			if err != nil {
				return fmt.Errorf("Error formatting template: %w", err)
			}
			lines[i] = line
		}
		b.Set("messages_text", engine.NewMessage(strings.Join(lines, "\n")))
	}
	if b.Wants("dataframe") {
		rows := make([]map[string]any, len(msgs))
		for i, m := range msgs {
			rows[i] = m.Fields()
		}
		b.Set("dataframe", engine.NewDataFrame(rows))
	}
	return nil
}

// messageData is what Langflow's data_to_text formats a message with:
// its fields, the keys of a "data" dict among them, text replaced by a
// truthy error, and the whole under "data".
func messageData(m *engine.Message) map[string]any {
	fields := m.Fields()
	out := map[string]any{}
	for k, v := range fields {
		out[k] = v
	}
	if inner, ok := fields["data"].(map[string]any); ok {
		for k, v := range inner {
			out[k] = v
		}
	} else if engine.Truthy(fields["error"]) {
		out["text"] = fields["error"]
	}
	out["data"] = fields
	return out
}

func retrieveMessages(ctx context.Context, b *engine.Build) ([]*engine.Message, error) {
	n, limited := b.Int("n_messages")
	if limited && n == 0 {
		return nil, nil
	}
	history := b.Env().History
	if history == nil {
		return nil, errors.New("no message history is configured on this server")
	}
	q := engine.HistoryQuery{User: b.Run().UserID, SessionID: b.Str("session_id"), ContextID: b.Str("context_id"),
		SenderName: b.Str("sender_name"), Limit: historyWindow}
	if st := b.Str("sender_type"); st != "Machine and User" {
		q.Sender = st
	}
	all, err := history.Messages(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read the message history: %w", err)
	}
	msgs := slices.DeleteFunc(slices.Clone(all), func(m *engine.Message) bool { return m.Error })
	if b.Str("order") == "Descending" {
		slices.Reverse(msgs)
	}
	if limited {
		// Python's messages[-n:].
		switch {
		case n > 0 && int(n) < len(msgs):
			msgs = msgs[len(msgs)-int(n):]
		case n < 0:
			msgs = msgs[min(int(-n), len(msgs)):]
		}
	}
	return msgs, nil
}

func storeMessage(ctx context.Context, b *engine.Build) error {
	rec, history := b.Env().Recorder, b.Env().History
	if rec == nil || history == nil {
		return errors.New("no message history is configured on this server")
	}
	var m *engine.Message
	if v, ok := b.Param("message"); ok {
		if in, isMsg := v.(*engine.Message); isMsg {
			m = in.Clone()
			m.ID = ""
		} else {
			m = engine.NewMessage(engine.Text(v))
		}
	} else {
		m = engine.NewMessage("")
	}
	if s := b.Str("context_id"); s != "" {
		m.ContextID = s
	}
	if s := b.Str("session_id"); s != "" {
		m.SessionID = s
	}
	m.Sender = cmp.Or(b.Str("sender"), m.Sender, engine.SenderMachine)
	m.SenderName = cmp.Or(b.Str("sender_name"), m.SenderName, engine.SenderNameMachine)
	m.FlowID = b.Run().FlowID
	if m.SessionID == "" {
		return errors.New("All of session_id, sender, and sender_name must be provided.")
	}
	if _, err := rec.StoreMessage(ctx, b.Run(), m); err != nil {
		return fmt.Errorf("store the message: %w", err)
	}
	stored, err := history.Messages(ctx, engine.HistoryQuery{User: b.Run().UserID, SessionID: m.SessionID,
		ContextID: m.ContextID, Sender: m.Sender, SenderName: m.SenderName, Limit: 1})
	if err != nil {
		return fmt.Errorf("read the message history: %w", err)
	}
	if len(stored) == 0 {
		return errors.New("No messages were stored. Please ensure that the session ID and sender are properly set.")
	}
	b.Set("stored_messages", stored[len(stored)-1])
	b.SetStatus(stored[len(stored)-1])
	return nil
}
