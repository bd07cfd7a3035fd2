package runs

import (
	"bytes"
	"encoding/json"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skillflaw/skillflaw-go/engine"
)

// A frame is one event of the build API as the client gets it:
// {"event": <name>, "data": <data>}\n\n, written as Python's json.dumps
// writes it (see pyjson.go). frame writes one from its name and its data
// already in that form.
func frame(event string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(event) + 32)
	b.WriteString(`{"event": `)
	writePyString(&b, event)
	b.WriteString(`, "data": `)
	b.Write(data)
	b.WriteString("}\n\n")
	return b.Bytes()
}

// Limits of the build data (Langflow's serialization settings): texts
// longer than MaxText characters are cut and end in "...", lists longer
// than MaxItems keep MaxItems items and one more saying how many were
// left out.
type Serialization struct {
	MaxText  int
	MaxItems int
}

func (s Serialization) withDefaults() Serialization {
	if s.MaxText <= 0 {
		s.MaxText = 20000
	}
	if s.MaxItems <= 0 {
		s.MaxItems = 1000
	}
	return s
}

// truncate applies s to v, recursively.
func (s Serialization) truncate(v any) any {
	switch x := v.(type) {
	case string:
		if utf8.RuneCountInString(x) > s.MaxText {
			return string([]rune(x)[:s.MaxText]) + "..."
		}
		return x
	case obj:
		out := make(obj, len(x))
		for i, p := range x {
			out[i] = kv{p.k, s.truncate(p.v)}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = s.truncate(e)
		}
		return out
	case []any:
		n := len(x)
		keep := x
		if n > s.MaxItems {
			keep = x[:s.MaxItems]
		}
		out := make([]any, 0, len(keep)+1)
		for _, e := range keep {
			out = append(out, s.truncate(e))
		}
		if n > s.MaxItems {
			out = append(out, "... [truncated "+strconv.Itoa(n-s.MaxItems)+" items]")
		}
		return out
	case []string:
		return s.truncate(strs(x))
	}
	return v
}

// pyISO is Python's datetime.isoformat() of an aware UTC time:
// 2025-12-01T10:00:00.123456+00:00 (no fraction when it is zero).
func pyISO(t time.Time) string { return isoMicros(t) + "+00:00" }

// pydanticTime is a UTC time as pydantic's JSON writes it:
// 2025-12-01T10:00:00.123456Z (no fraction when it is zero).
func pydanticTime(t time.Time) string { return isoMicros(t) + "Z" }

// isoMicros is t in UTC to the microsecond, without a zone and without a
// fraction when it is zero.
func isoMicros(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// formatElapsed is Langflow's format_elapsed_time: "<n> ms" under a
// second, "<x.xx> seconds" (or "1 second") under a minute, else "<m>
// minute(s), <s> second(s)".
func formatElapsed(d time.Duration) string {
	micros := d.Microseconds()
	seconds := float64(micros) / 1e6
	switch {
	case micros < 1_000_000:
		return strconv.FormatInt(roundHalfEven(float64(micros)/1000), 10) + " ms"
	case micros < 60_000_000:
		s := round2(seconds)
		return engine.PyFloat(s) + " " + plural(s == 1, "second", "seconds")
	}
	minutes := micros / 60_000_000
	s := round2(float64(micros-minutes*60_000_000) / 1e6)
	return strconv.FormatInt(minutes, 10) + " " + plural(minutes == 1, "minute", "minutes") + ", " +
		engine.PyFloat(s) + " " + plural(s == 1, "second", "seconds")
}

func plural(one bool, a, b string) string {
	if one {
		return a
	}
	return b
}

// round2 is Python's round(x, 2): correctly rounded from x's exact value.
func round2(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return r
}

// roundHalfEven is Python's round(x) to an integer.
func roundHalfEven(x float64) int64 { return int64(math.RoundToEven(x)) }

// properties is a message's properties in Langflow's key order.
func properties(p engine.Properties) obj {
	targets := p.Targets
	if targets == nil {
		targets = []any{}
	}
	return obj{
		{"text_color", p.TextColor}, {"background_color", p.BackgroundColor}, {"edited", p.Edited},
		{"source", obj{{"id", p.Source.ID}, {"display_name", p.Source.DisplayName}, {"source", p.Source.Source}}},
		{"icon", p.Icon}, {"allow_markdown", p.AllowMarkdown}, {"positive_feedback", p.PositiveFeedback},
		{"state", p.State}, {"targets", targets},
	}
}

func contentBlocks(cbs []engine.ContentBlock) []any {
	out := make([]any, len(cbs))
	for i, c := range cbs {
		contents := make([]any, len(c.Contents))
		for j, x := range c.Contents {
			contents[j] = x
		}
		var media any
		if c.MediaURL != nil {
			media = c.MediaURL
		}
		out[i] = obj{{"title", c.Title}, {"contents", contents}, {"allow_markdown", c.AllowMarkdown}, {"media_url", media}}
	}
	return out
}

// messageData is the data of a stored message as add_message (and error)
// events carry it: the stored row's fields, id and flow id. The id is the
// monitor's integer message id, as a string (the token events' id names
// the same message, as a string, as Langflow's do).
func messageData(m *engine.Message) obj {
	o := obj{}
	if !m.Timestamp.IsZero() {
		o.set("timestamp", pyISO(m.Timestamp))
	}
	o = append(o, obj{
		{"sender", m.Sender}, {"sender_name", m.SenderName}, {"session_id", m.SessionID}, {"context_id", m.ContextID},
		{"text", m.Text}, {"files", strs(m.Files)}, {"error", m.Error}, {"edit", m.Edit},
		{"properties", properties(m.Properties)}, {"category", m.Category}, {"content_blocks", contentBlocks(m.ContentBlocks)},
	}...)
	if m.ID != "" {
		o.set("id", m.ID)
	}
	if m.FlowID != "" {
		o.set("flow_id", m.FlowID)
	}
	return o
}

// messageDump is a Message as the build data's results show it (Python's
// model_dump of the Message: its Data wrapper, then its fields).
func messageDump(m *engine.Message) obj {
	data := messageData(m)
	for k, v := range m.Data {
		if _, taken := lookup(data, k); !taken {
			data.set(k, v)
		}
	}
	var ts, flow any
	if !m.Timestamp.IsZero() {
		ts = m.Timestamp.UTC().Format("2006-01-02T15:04:05") + "+00:00"
	}
	if m.FlowID != "" {
		flow = m.FlowID
	}
	var duration any
	if m.Duration != nil {
		duration = *m.Duration
	}
	return obj{
		{"text_key", "text"}, {"data", data}, {"default_value", ""}, {"text", m.Text}, {"sender", m.Sender},
		{"sender_name", m.SenderName}, {"files", strs(m.Files)}, {"session_id", m.SessionID}, {"context_id", m.ContextID},
		{"timestamp", ts}, {"flow_id", flow}, {"error", m.Error}, {"edit", m.Edit}, {"properties", properties(m.Properties)},
		{"category", m.Category}, {"content_blocks", contentBlocks(m.ContentBlocks)}, {"duration", duration},
	}
}

func lookup(o obj, k string) (any, bool) {
	for _, p := range o {
		if p.k == k {
			return p.v, true
		}
	}
	return nil, false
}

// serialize is a value of a vertex's output as the build data shows it.
func serialize(v engine.Value) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case *engine.Message:
		return messageDump(x)
	case *engine.Data:
		key := x.TextKey
		if key == "" {
			key = "text"
		}
		return obj{{"text_key", key}, {"data", jsonable(x.Map)}, {"default_value", x.DefaultValue}}
	case *engine.DataFrame:
		rows := make([]any, len(x.Rows))
		for i, r := range x.Rows {
			rows[i] = jsonable(r)
		}
		return rows
	case []engine.Value:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = serialize(e)
		}
		return out
	case bool, int, int64, float64, json.Number, map[string]any, []any:
		return jsonable(x)
	}
	return engine.PyStr(v)
}

// jsonable turns the values components put in Data into JSON values.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case engine.Value:
		switch x.(type) {
		case *engine.Message, *engine.Data, *engine.DataFrame, []engine.Value:
			return serialize(x)
		}
	}
	return v
}

// outputRaw is an output's value as the build data's outputs and
// artifacts show it (raw), with its log type: a message's text ("text"),
// a Data's dict ("object"), a DataFrame's rows or a list ("array").
func outputRaw(v engine.Value) (any, string) {
	switch x := v.(type) {
	case nil:
		return "", "unknown"
	case string:
		return x, "text"
	case *engine.Message:
		return x.Text, "text"
	case *engine.Data:
		return jsonable(x.Map), "object"
	case *engine.DataFrame, []engine.Value:
		return serialize(x), "array"
	}
	return engine.PyStr(v), "unknown"
}

// chatFiles are a chat message's files as its artifacts list them.
func chatFiles(fs []string) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		ext := strings.TrimPrefix(path.Ext(f), ".")
		out[i] = obj{{"path", f}, {"name", path.Base(f)}, {"type", ext}}
	}
	return out
}

// machineText is a chat artifact's text: Langflow's ChatOutputResponse
// doubles the newlines of a Machine's text.
func machineText(sender, text string) string {
	if sender != engine.SenderMachine {
		return text
	}
	return strings.ReplaceAll(strings.ReplaceAll(text, "\n\n", "\n"), "\n", "\n\n")
}

// titled is an artifact as the params YAML shows it: keys title-cased
// with "_" as " ", None values left out.
func titled(o obj) map[string]any {
	out := map[string]any{}
	for _, p := range o {
		if p.v == nil {
			continue
		}
		out[pyTitle(p.k)] = yamlable(p.v)
	}
	return out
}

// yamlable turns obj into maps for yamlDump.
func yamlable(v any) any {
	switch x := v.(type) {
	case obj:
		m := map[string]any{}
		for _, p := range x {
			m[p.k] = yamlable(p.v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlable(e)
		}
		return out
	}
	return v
}

// pyTitle is Python's str.title() with "_" read as " ".
func pyTitle(s string) string {
	var b strings.Builder
	prevLetter := false
	for _, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f
		switch {
		case letter && !prevLetter:
			b.WriteString(strings.ToUpper(string(r)))
		case letter:
			b.WriteString(strings.ToLower(string(r)))
		case r == '_':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		prevLetter = letter
	}
	return b.String()
}
