// Package fakeopenai is an in-process OpenAI-compatible server for tests:
// Chat Completions, plain and streamed as server-sent events, with
// scripted answers (by model, as a script of turns, or from a handler),
// tool calls (several in one turn, streamed as deltas too), errors
// before and in the middle of a stream, and streams held open until the
// test (or the client) lets go. It records every request it receives
// (headers, body, the decoded call). It listens on the loopback interface
// only; nothing in it reaches the network. Only tests import it.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a fake OpenAI-compatible API. URL is its base URL (ending in
// /v1), what a client is given as its base URL.
type Server struct {
	URL string

	srv          *httptest.Server
	disconnected atomic.Int64

	mu       sync.Mutex
	replies  map[string]Reply
	scripts  map[string][]Reply
	handler  func(Request) Reply
	requests []Request
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Chat is the body decoded as a Chat Completions call.
	Chat ChatRequest
}

// ChatRequest is a Chat Completions call as the server read it. Absent
// parameters are nil; Params holds every key of the body.
type ChatRequest struct {
	Model               string         `json:"model"`
	Messages            []Message      `json:"messages"`
	Stream              bool           `json:"stream"`
	Temperature         *float64       `json:"temperature"`
	MaxTokens           *int64         `json:"max_tokens"`
	MaxCompletionTokens *int64         `json:"max_completion_tokens"`
	Seed                *int64         `json:"seed"`
	ResponseFormat      map[string]any `json:"response_format"`
	Tools               []any          `json:"tools"`
	Params              map[string]any `json:"-"`
}

// Message is one message of a call.
type Message struct {
	Role string `json:"role"`
	// Content is a string or a list of content parts.
	Content    json.RawMessage `json:"content"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

// Text returns the message's text: its content string, or its text parts
// joined.
func (m Message) Text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCall is a function call of the assistant.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Call returns a tool call of function name with arguments (JSON text).
func Call(id, name, arguments string) ToolCall {
	c := ToolCall{ID: id, Type: "function"}
	c.Function.Name, c.Function.Arguments = name, arguments
	return c
}

// Reply is what the server answers to one call.
type Reply struct {
	// Text is the answer (Chunks joined when empty). Streamed, it is sent
	// as Chunks, or (when Chunks is empty) cut after every space.
	Text   string
	Chunks []string
	// ToolCalls makes the answer a request to call tools (finish reason
	// tool_calls).
	ToolCalls []ToolCall
	// Status, when not 0, answers with this HTTP status and an OpenAI
	// error body whose message is Error, before anything is streamed.
	Status int
	Error  string
	// MidStreamError, when not "", ends a stream after FailAfter chunks
	// with an error event of this message (the way OpenAI reports an error
	// once a stream has begun).
	MidStreamError string
	FailAfter      int
	// Hold, when not nil, holds a stream after HoldAfter chunks until it
	// is closed or the client goes away.
	Hold      <-chan struct{}
	HoldAfter int
}

// New starts a server; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{replies: map[string]Reply{}, scripts: map[string][]Reply{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Reply scripts the answer to every call of model; model "" is the
// answer to models without one of their own. Without any, the server
// answers "echo: " and the last user message.
func (s *Server) Reply(model string, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[model] = r
}

// Script answers the next calls of model with turns, one per call, in
// order — an agent's turns: tool calls, then the answer. A call once the
// script is spent is answered with a 500 error saying so. Model "" is the
// script of models without one of their own. A script goes before the
// model's Reply; Handle goes before both.
func (s *Server) Script(model string, turns ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[model] = append([]Reply(nil), turns...)
}

// Handle answers every call with h's reply (before any scripted one).
func (s *Server) Handle(h func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Last returns the last request received; it fails the test if there is
// none.
func (s *Server) Last(t testing.TB) Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("fakeopenai: no request received")
	}
	return reqs[len(reqs)-1]
}

// Disconnected counts the held streams whose client went away.
func (s *Server) Disconnected() int { return int(s.disconnected.Load()) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "unreadable body")
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		s.record(req)
		writeError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	if err := json.Unmarshal(body, &req.Chat); err != nil {
		s.record(req)
		writeError(w, http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error())
		return
	}
	_ = json.Unmarshal(body, &req.Chat.Params)
	s.record(req)
	reply := s.reply(req)
	switch {
	case reply.Status != 0:
		writeError(w, reply.Status, reply.Error)
	case req.Chat.Stream:
		s.stream(w, r, req.Chat.Model, reply)
	default:
		writeCompletion(w, req.Chat.Model, reply)
	}
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

func (s *Server) reply(req Request) Reply {
	s.mu.Lock()
	h := s.handler
	r, ok := s.replies[req.Chat.Model]
	if !ok {
		r, ok = s.replies[""]
	}
	key := req.Chat.Model
	script, scripted := s.scripts[key]
	if !scripted {
		key = ""
		script, scripted = s.scripts[key]
	}
	if scripted && h == nil {
		if len(script) == 0 {
			r, ok = Reply{Status: http.StatusInternalServerError, Error: "fakeopenai: the script of model " + req.Chat.Model + " is spent"}, true
		} else {
			r, ok = script[0], true
			s.scripts[key] = script[1:]
		}
	}
	s.mu.Unlock()
	switch {
	case h != nil:
		return h(req)
	case ok:
		return r
	}
	last := ""
	for _, m := range req.Chat.Messages {
		if m.Role == "user" {
			last = m.Text()
		}
	}
	return Reply{Text: "echo: " + last}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
}

func toolCallsJSON(calls []ToolCall) []map[string]any {
	out := make([]map[string]any, len(calls))
	for i, c := range calls {
		out[i] = map[string]any{"id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Function.Name, "arguments": c.Function.Arguments}}
	}
	return out
}

func writeCompletion(w http.ResponseWriter, model string, r Reply) {
	text := r.Text
	if text == "" {
		text = strings.Join(r.Chunks, "")
	}
	msg := map[string]any{"role": "assistant", "content": text, "refusal": nil}
	finish := "stop"
	if len(r.ToolCalls) > 0 {
		msg["tool_calls"] = toolCallsJSON(r.ToolCalls)
		finish = "tool_calls"
		if text == "" {
			msg["content"] = nil
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
	})
}

// chunks returns the pieces a streamed reply is sent in.
func (r Reply) chunks() []string {
	if len(r.Chunks) > 0 || r.Text == "" {
		return r.Chunks
	}
	var out []string
	rest := r.Text
	for rest != "" {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:i+1])
		rest = rest[i+1:]
	}
	return out
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, model string, reply Reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for i, c := range reply.chunks() {
		if reply.MidStreamError != "" && i == reply.FailAfter {
			send(map[string]any{"error": map[string]any{"message": reply.MidStreamError, "type": "server_error", "param": nil, "code": nil}})
			return
		}
		if reply.Hold != nil && i == reply.HoldAfter {
			select {
			case <-reply.Hold:
			case <-r.Context().Done():
				s.disconnected.Add(1)
				return
			}
		}
		send(chunk(map[string]any{"content": c}, nil))
	}
	if reply.MidStreamError != "" {
		send(map[string]any{"error": map[string]any{"message": reply.MidStreamError, "type": "server_error", "param": nil, "code": nil}})
		return
	}
	finish := "stop"
	for i, c := range reply.ToolCalls {
		finish = "tool_calls"
		send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Function.Name, "arguments": ""}}}}, nil))
		send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i,
			"function": map[string]any{"arguments": c.Function.Arguments}}}}, nil))
	}
	send(chunk(map[string]any{}, finish))
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}
