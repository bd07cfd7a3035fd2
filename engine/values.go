package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Value is what travels along an edge and what a component's output
// holds: a *Message, a *Data, a *DataFrame, a string, a []Value, or a
// component-specific object (a LanguageModel, a tool) that only some
// inputs accept.
type Value any

// The senders of Langflow messages.
const (
	SenderUser        = "User"
	SenderMachine     = "Machine"
	SenderNameUser    = "User"
	SenderNameMachine = "AI"
)

// Message is Langflow's Message: a chat message, and the value most
// components exchange. ID is set once the message is recorded (the
// monitor's integer id, as a string on the wire); Data holds the extra
// keys a component attached (a prompt's template and variables …).
type Message struct {
	ID            string
	Text          string
	Sender        string
	SenderName    string
	SessionID     string
	ContextID     string
	FlowID        string
	Files         []string
	Timestamp     time.Time
	Error         bool
	Edit          bool
	Properties    Properties
	Category      string
	ContentBlocks []ContentBlock
	Duration      *int64
	Data          map[string]any
}

// Properties are a message's display properties, as Langflow's
// Properties model.
type Properties struct {
	TextColor        *string `json:"text_color"`
	BackgroundColor  *string `json:"background_color"`
	Edited           bool    `json:"edited"`
	Source           Source  `json:"source"`
	Icon             *string `json:"icon"`
	AllowMarkdown    bool    `json:"allow_markdown"`
	PositiveFeedback *bool   `json:"positive_feedback"`
	State            string  `json:"state"`
	Targets          []any   `json:"targets"`
}

// Source names the component a message came from.
type Source struct {
	ID          *string `json:"id"`
	DisplayName *string `json:"display_name"`
	Source      *string `json:"source"`
}

// ContentBlock is a block of a message's content (tool calls, errors …),
// as Langflow's ContentBlock: its contents are free-form objects.
type ContentBlock struct {
	Title         string           `json:"title"`
	Contents      []map[string]any `json:"contents"`
	AllowMarkdown bool             `json:"allow_markdown"`
	MediaURL      []string         `json:"media_url"`
}

// NewMessage returns a message of text with Langflow's defaults
// (category "message", state "complete").
func NewMessage(text string) *Message {
	return &Message{Text: text, Category: "message", Properties: DefaultProperties()}
}

// DefaultProperties are Langflow's default message properties.
func DefaultProperties() Properties {
	return Properties{State: "complete", Targets: []any{}}
}

// SourceOf names a component as a message source.
func SourceOf(id, displayName, source string) Source {
	return Source{ID: &id, DisplayName: &displayName, Source: &source}
}

// Clone returns a copy of m that can be changed without changing m
// (its Data and Files are copied too).
func (m *Message) Clone() *Message {
	c := *m
	c.Files = slices.Clone(m.Files)
	c.Data = maps.Clone(m.Data)
	c.ContentBlocks = slices.Clone(m.ContentBlocks)
	c.Properties.Targets = slices.Clone(m.Properties.Targets)
	return &c
}

// Fields returns the message as a dict of its data, the way Langflow's
// templates (Memory, Parser) see a message: every stored column plus the
// extra Data keys.
func (m *Message) Fields() map[string]any {
	out := map[string]any{}
	maps.Copy(out, m.Data)
	out["text"] = m.Text
	out["sender"] = m.Sender
	out["sender_name"] = m.SenderName
	out["session_id"] = m.SessionID
	out["context_id"] = m.ContextID
	out["files"] = slices.Clone(m.Files)
	out["error"] = m.Error
	out["edit"] = m.Edit
	out["category"] = m.Category
	if m.ID != "" {
		out["id"] = m.ID
	}
	if m.FlowID != "" {
		out["flow_id"] = m.FlowID
	}
	if !m.Timestamp.IsZero() {
		out["timestamp"] = m.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return out
}

// Data is Langflow's Data: a dict with a text key (default "text").
type Data struct {
	Map          map[string]any
	TextKey      string
	DefaultValue string
}

// NewData returns a Data of m with the default text key.
func NewData(m map[string]any) *Data {
	if m == nil {
		m = map[string]any{}
	}
	return &Data{Map: m, TextKey: "text"}
}

// Text returns the value under the data's text key as text ("" when
// absent).
func (d *Data) Text() string {
	key := d.TextKey
	if key == "" {
		key = "text"
	}
	v, ok := d.Map[key]
	if !ok {
		return d.DefaultValue
	}
	return PyStr(v)
}

// DataFrame is Langflow's DataFrame: rows of dicts (and the column order
// of their first appearance).
type DataFrame struct {
	Rows    []map[string]any
	Columns []string
}

// NewDataFrame returns a DataFrame of rows, its columns in the order they
// first appear.
func NewDataFrame(rows []map[string]any) *DataFrame {
	df := &DataFrame{Rows: rows}
	seen := map[string]bool{}
	for _, r := range rows {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				df.Columns = append(df.Columns, k)
			}
		}
	}
	return df
}

// Text returns v as the text a component expecting text sees (Langflow's
// MessageTextInput coercion): a message's text, a Data's text key, a
// string as is; nil is "". Other values are formatted as Python's str()
// would.
func Text(v Value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *Message:
		return x.Text
	case *Data:
		return x.Text()
	}
	return PyStr(v)
}

// AsMessage returns v as a message (Langflow's MessageInput coercion): a
// message as is, text as a new message with that text.
func AsMessage(v Value) *Message {
	switch x := v.(type) {
	case *Message:
		return x
	case nil:
		return NewMessage("")
	}
	return NewMessage(Text(v))
}

// PyStr formats v as Python's str() would for the JSON-like values flows
// carry: None, True/False, ints and floats, lists and dicts in their
// repr (single-quoted strings).
func PyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case *Message:
		return x.Text
	case *Data:
		return PyRepr(x.Map)
	}
	return PyRepr(v)
}

// PyRepr formats v as Python's repr() would (strings quoted; see PyStr).
func PyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyQuote(x)
	case json.Number:
		return x.String()
	case float64:
		return PyFloat(x)
	case float32:
		return PyFloat(float64(x))
	case int, int64, int32, uint64, uint32:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = PyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyQuote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyQuote(k) + ": " + PyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Message:
		return pyQuote(x.Text)
	}
	return pyObjectStr(v)
}

// pyObjectStr is Python's str() of a value of none of the JSON-like
// types: its Error (or String) method's text; else, for a struct or a
// pointer, Python's default "<Type object>", never its fields (a
// component's object can hold a secret: a model's API key); else Go's
// text of it (a number of a named type …).
func pyObjectStr(v any) string {
	switch x := v.(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "None"
		}
		return "<" + rv.Type().Elem().String() + " object>"
	case reflect.Struct, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return "<" + rv.Type().String() + " object>"
	}
	return fmt.Sprint(v)
}

// pyQuote is Python's repr of a string: single quotes unless the string
// holds a single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
