package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The OpenAI Responses API (contract #146, runtime reference §5): a flow,
// named as the model, runs on the input as one chat turn of a session,
// answered as Langflow's OpenAIResponsesResponse or streamed as its
// response.chunk frames. It is a run of the run API (APIResponses) like
// any other: the same authorisation, recording and limits.

// The types of the Responses API's error objects.
const (
	ResponsesInvalidRequest = "invalid_request_error"
	ResponsesProcessing     = "processing_error"
)

// IncludeToolCallResults is the include value that answers tool calls
// with their results (the "tool_call" items).
const IncludeToolCallResults = "tool_call.results"

// CreateResponse is the command of the Responses API: run the flow Model
// names on Input as one chat turn.
type CreateResponse struct {
	// Model is the flow's id, or the endpoint name of one of the caller's
	// own flows (Langflow looks endpoint names up among the caller's flows
	// only).
	Model string
	// Input is the chat input's text.
	Input string
	// Stream answers with the run's chunks (Response.Stream) instead of
	// the response object.
	Stream bool
	// PreviousResponseID continues a conversation: a response's id is its
	// session, and a follow-up runs in the same one. Nil or empty: a new
	// session.
	PreviousResponseID *string
	// Include asks for more of the answer (IncludeToolCallResults).
	Include []string
	// Tools, when not nil (even empty), are refused: the flow's own tools
	// are the only ones (tools_not_supported).
	Tools []any
	// Variables are the request's variables (X-LANGFLOW-GLOBAL-VAR-*).
	Variables map[string]string
	// UserID is the caller (the API key's user), who must own the flow or
	// hold flows.run where it lives.
	UserID   int64
	Metadata eventstore.Metadata
}

// ResponsesError is a request the Responses API refused or a run that
// failed, answered (with HTTP 200) as Langflow's OpenAIErrorResponse.
type ResponsesError struct {
	Message string
	// Type is ResponsesInvalidRequest or ResponsesProcessing.
	Type string
	// Code names the error ("flow_not_found", "tools_not_supported"); ""
	// leaves it out.
	Code string
}

func (e *ResponsesError) Error() string { return e.Message }

// JSON is the error's body: {"error": {"message", "type", "code"?}}.
func (e *ResponsesError) JSON() []byte {
	body := obj{{"message", e.Message}, {"type", e.Type}}
	if e.Code != "" {
		body.set("code", e.Code)
	}
	return Compact(obj{{"error", body}})
}

// Response is the answer of CreateResponse: a run that ended (Output, the
// body JSON), or, for a streamed one, a run going on whose chunks Stream
// writes.
type Response struct {
	// ID is the response's id: its session (a follow-up naming it as its
	// previous response gets the same id back, as in Langflow).
	ID string
	// CreatedAt is when it was asked for, in Unix seconds.
	CreatedAt int64
	// Model is the request's model (the flow's id or endpoint name).
	Model              string
	PreviousResponseID *string
	// Output are the items of the answer of a run that ended: the tool
	// calls of its agent, then the assistant's message.
	Output []any

	job     *Job
	input   string
	results bool // include tool_call.results
}

// CreateResponse checks the request, runs the flow and returns its answer
// once the run ended — or at once, for a streamed response, whose run
// goes on. The errors it answers as error objects are *ResponsesError:
// tools given, a flow that does not exist or that the caller may not see
// (flow_not_found: another user's flow is never told apart from none), a
// flow the caller may see but not run, a flow without a chat input or
// output, a previous_response_id that is no session, and a run that
// failed (its detail, "Error running graph: …"). Any other error is the
// server's (the database, a shutdown, ctx ended).
//
// Deliberate differences from Langflow 1.7: it runs any flow named by id
// whoever asks, where here the caller must own the flow or hold flows.run
// where it lives (a caller who may only read it gets a processing_error
// "You do not have permission to run this flow"); a previous_response_id
// that is no valid session id (blank, too long) is an
// invalid_request_error; the tool calls' arguments and queries follow the
// tool input's keys in sorted order (a stored message's content blocks
// keep no key order); the server's own failures (shutting down, too many
// runs, the database) keep their HTTP status instead of becoming
// processing errors.
func (s *Service) CreateResponse(ctx context.Context, cmd CreateResponse) (*Response, error) {
	if cmd.Tools != nil {
		return nil, &ResponsesError{Message: "Tools are not supported yet", Type: ResponsesInvalidRequest, Code: "tools_not_supported"}
	}
	notFound := &ResponsesError{Message: "Flow with id '" + cmd.Model + "' not found", Type: ResponsesInvalidRequest, Code: "flow_not_found"}
	id, err := s.Resolve(ctx, cmd.Model, cmd.UserID, &cmd.UserID)
	if err != nil {
		return nil, responsesError(err, notFound)
	}
	fe, err := s.authorizedFlow(ctx, id, cmd.UserID, &FlowNotFoundError{Ref: cmd.Model}, ErrPermission)
	if err != nil {
		return nil, responsesError(err, notFound)
	}
	if err := chatCompatible(fe.flow.Content().Data); err != nil {
		return nil, err
	}
	session := ""
	if cmd.PreviousResponseID != nil {
		session = *cmd.PreviousResponseID
	}
	if session == "" {
		session = uuid.NewString()
	} else if err := domain.ValidSessionID("previous_response_id", session); err != nil {
		return nil, &ResponsesError{Message: err.Error(), Type: ResponsesInvalidRequest}
	}
	recorded, err := json.Marshal(struct {
		Model              string   `json:"model"`
		Input              string   `json:"input"`
		Stream             bool     `json:"stream"`
		PreviousResponseID *string  `json:"previous_response_id"`
		Include            []string `json:"include"`
	}{cmd.Model, cmd.Input, cmd.Stream, cmd.PreviousResponseID, cmd.Include})
	if err != nil {
		return nil, fmt.Errorf("record the request: %w", err)
	}
	input := cmd.Input
	resp := &Response{ID: session, CreatedAt: s.now().Unix(), Model: cmd.Model, PreviousResponseID: cmd.PreviousResponseID,
		input: cmd.Input, results: slices.Contains(cmd.Include, IncludeToolCallResults)}
	job, err := s.StartRun(ctx, StartRun{FlowID: id, Ref: cmd.Model, UserID: cmd.UserID, InputValue: &input, InputType: "chat",
		OutputType: "chat", SessionID: session, Stream: cmd.Stream, Variables: cmd.Variables, API: APIResponses,
		InputsRaw: recorded, Metadata: cmd.Metadata})
	if err != nil {
		return nil, responsesError(err, notFound)
	}
	resp.job = job
	if cmd.Stream {
		return resp, nil
	}
	out, err := job.Result(ctx)
	if err != nil {
		return nil, responsesError(err, notFound)
	}
	resp.Output = responseOutput(session, out, resp.results)
	return resp, nil
}

// responsesError is err as the Responses API answers it: a flow not
// found (or not visible) is notFound; a refusal and a failed run are
// error objects with their text; the server's own errors stay as they
// are.
func responsesError(err error, notFound *ResponsesError) error {
	var (
		nf *FlowNotFoundError
		nd *FlowNoDataError
		re *RunError
	)
	switch {
	case errors.As(err, &nf):
		return notFound
	case errors.As(err, &nd):
		return &ResponsesError{Message: nd.Error(), Type: ResponsesProcessing}
	case errors.As(err, &re):
		return &ResponsesError{Message: re.Detail, Type: ResponsesProcessing}
	case errors.Is(err, domain.ErrForbidden):
		return &ResponsesError{Message: err.Error(), Type: ResponsesProcessing}
	case errors.Is(err, domain.ErrInvalid):
		return &ResponsesError{Message: err.Error(), Type: ResponsesInvalidRequest}
	}
	return err
}

// chatCompatible refuses a flow without a chat input or a chat output
// node (Langflow reads the nodes' data.type).
func chatCompatible(data []byte) error {
	var flow struct {
		Nodes []flowNode `json:"nodes"`
	}
	_ = json.Unmarshal(data, &flow) // data that is no flow has neither
	has := func(types ...string) bool {
		return slices.ContainsFunc(flow.Nodes, func(n flowNode) bool {
			t, ok := n.Data.Type.(string)
			return ok && slices.Contains(types, t)
		})
	}
	if !has("ChatInput", "Chat Input") {
		return &ResponsesError{Message: "Flow must have a ChatInput component to be compatible with OpenAI Responses API",
			Type: ResponsesProcessing}
	}
	if !has("ChatOutput", "Chat Output") {
		return &ResponsesError{Message: "Flow must have a ChatOutput component to be compatible with OpenAI Responses API",
			Type: ResponsesProcessing}
	}
	return nil
}

// flowNode is what chatCompatible reads of a node.
type flowNode struct {
	Data struct {
		Type any `json:"type"`
	} `json:"data"`
}

// toolCall is a tool an agent called, as its message's content blocks
// tell it.
type toolCall struct {
	name          string
	input, output any
}

// responseOutput is the output of a run that finished (runtime reference
// §5): the text of the first answered vertex that has one — its first
// message's (the Machine newline doubling of RunResponse's messages
// applies), else its first result's — and before it the tool calls in the
// content blocks of the "message" results of the vertices up to it.
func responseOutput(session string, out *RunOutput, withResults bool) []any {
	text := ""
	var calls []toolCall
	for i, data := range out.Outputs {
		if msgs, _ := lookup(data, "messages"); msgs != nil {
			if list, _ := msgs.([]any); len(list) > 0 {
				if m, ok := list[0].(obj); ok {
					v, _ := lookup(m, "message")
					text, _ = v.(string)
				}
			}
		}
		var r *engine.VertexResult
		if i < len(out.Results) {
			r = out.Results[i]
		}
		if r == nil {
			continue
		}
		if text == "" {
			for _, name := range outputsOf(r.Vertex) {
				if v, ok := r.Outputs[name]; ok {
					if t, ok := textOf(v); ok {
						text = t
						break
					}
				}
			}
		}
		if m, ok := r.Outputs["message"].(*engine.Message); ok {
			for _, b := range m.ContentBlocks {
				for _, c := range b.Contents {
					if c["type"] == "tool_use" {
						name, _ := c["name"].(string)
						calls = append(calls, toolCall{name: name, input: c["tool_input"], output: c["output"]})
					}
				}
			}
		}
		if text != "" {
			break
		}
	}
	items := make([]any, 0, len(calls)+1)
	for i, c := range calls {
		n := strconv.Itoa(i + 1)
		if withResults {
			var queries []any
			if in, ok := c.input.(map[string]any); ok {
				for _, k := range slices.Sorted(maps.Keys(in)) {
					queries = append(queries, in[k])
				}
			} else {
				queries = []any{engine.PyStr(c.input)}
			}
			var results any = []any{}
			if c.output != nil {
				results = c.output
			}
			items = append(items, obj{{"id", c.name + "_" + n}, {"queries", orEmptyList(queries)}, {"status", "completed"},
				{"tool_name", c.name}, {"type", "tool_call"}, {"results", results}})
			continue
		}
		args := "{}"
		if c.input != nil {
			args = string(pyDumps(c.input))
		}
		items = append(items, obj{{"id", "fc_" + n}, {"type", "function_call"}, {"status", "completed"}, {"name", c.name},
			{"arguments", args}})
	}
	return append(items, obj{{"type", "message"}, {"id", "msg_" + session}, {"status", "completed"}, {"role", "assistant"},
		{"content", []any{obj{{"type", "output_text"}, {"text", text}, {"annotations", []any{}}}}}})
}

func orEmptyList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// textOf is a result's text as Langflow's get_text gives it (a Message's
// text, a Data's text key), or a string result; ok false for the others.
func textOf(v engine.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *engine.Message:
		return x.Text, true
	case *engine.Data:
		key := x.TextKey
		if key == "" {
			key = "text"
		}
		t, ok := x.Map[key]
		if !ok {
			return x.DefaultValue, true
		}
		if s, ok := t.(string); ok {
			return s, true
		}
		return engine.PyStr(t), true
	}
	return "", false
}

// JSON is the response's body: Langflow's OpenAIResponsesResponse, every
// field in its order, as FastAPI writes it.
func (r *Response) JSON() []byte {
	var prev any
	if r.PreviousResponseID != nil {
		prev = *r.PreviousResponseID
	}
	output := r.Output
	if output == nil {
		output = []any{}
	}
	return Compact(obj{
		{"id", r.ID}, {"object", "response"}, {"created_at", r.CreatedAt}, {"status", "completed"}, {"error", nil},
		{"incomplete_details", nil}, {"instructions", nil}, {"max_output_tokens", nil}, {"model", r.Model},
		{"output", output}, {"parallel_tool_calls", true}, {"previous_response_id", prev},
		{"reasoning", obj{{"effort", nil}, {"summary", nil}}}, {"store", true}, {"temperature", 1.0},
		{"text", obj{{"format", obj{{"type", "text"}}}}}, {"tool_choice", "auto"}, {"tools", []any{}}, {"top_p", 1.0},
		{"truncation", "disabled"}, {"usage", nil}, {"user", nil}, {"metadata", obj{}},
	})
}

// Cancel cancels a streamed response's run (its client went away).
func (r *Response) Cancel(reason string) {
	if r.job != nil {
		r.job.Cancel(reason)
	}
}

// Stream calls write with the chunks of a streamed response as its run
// goes (runtime reference §5): "data: <chunk>\n\n" frames — a first one
// with empty content, one per token and per new text of a partial AI
// message, a last one with status "completed" — then "data: [DONE]\n\n".
// Like Langflow's, a streaming model's first chunk comes twice (its
// partial message, then its token), and the tool calls of an agent's
// steps come as named events (response.output_item.added …).
//
// Unlike Langflow, whose stream manager drops a failed run's error (its
// stream just ends with the completed chunk), a run that fails or is
// cancelled sends the error object its error event path writes, data:
// {"error": {"message": <detail>, "type": "processing_error"}}, before
// the completed chunk and [DONE]. It returns ctx's error when ctx ends
// first, write's when it fails; the run goes on (Cancel stops it).
func (r *Response) Stream(ctx context.Context, write func([]byte) error) error {
	if r.job == nil {
		return errors.New("not a streamed response")
	}
	st := &chunker{r: r, write: write, tools: map[string]bool{}}
	if err := st.chunk(obj{{"content", ""}}, nil); err != nil {
		return err
	}
	err := r.job.Stream(ctx, func(fr []byte) error {
		var f struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if json.Unmarshal(bytes.TrimSpace(fr), &f) != nil {
			return nil // not a frame: skipped, as Langflow skips what it cannot decode
		}
		return st.frame(f.Event, f.Data)
	})
	if err != nil {
		return err
	}
	if err := st.chunk(obj{}, "completed"); err != nil {
		return err
	}
	return write([]byte("data: [DONE]\n\n"))
}

// chunker turns a run's frames into a streamed response's chunks.
type chunker struct {
	r     *Response
	write func([]byte) error
	// sent is the text of the AI's partial messages sent so far.
	sent string
	// tools are the tool calls sent (by name and input); calls counts
	// them.
	tools map[string]bool
	calls int
}

// chunk writes a response.chunk of delta and status.
func (c *chunker) chunk(delta obj, status any) error {
	b := []byte("data: ")
	b = append(b, Compact(obj{{"id", c.r.ID}, {"object", "response.chunk"}, {"created", c.r.CreatedAt},
		{"model", c.r.Model}, {"delta", delta}, {"status", status}})...)
	return c.write(append(b, "\n\n"...))
}

// event writes a named event (json.dumps, as Langflow writes these).
func (c *chunker) event(name string, data obj) error {
	b := []byte("event: " + name + "\ndata: ")
	b = append(b, pyDumps(data)...)
	return c.write(append(b, "\n\n"...))
}

// frame handles one frame of the run: a token is a chunk; an AI's
// partial message one of its new text (and its agent steps' tool calls
// events); an error the error object. The end frame says nothing more.
func (c *chunker) frame(event string, data json.RawMessage) error {
	switch event {
	case "token":
		var t struct {
			Chunk any `json:"chunk"`
		}
		if json.Unmarshal(data, &t) != nil {
			return nil
		}
		if s, ok := t.Chunk.(string); ok && s != "" {
			return c.chunk(obj{{"content", s}}, nil)
		}
	case "error":
		var e struct {
			Error *string `json:"error"`
		}
		_ = json.Unmarshal(data, &e) // a body that is no object: "Unknown error"
		msg := "Unknown error"
		if e.Error != nil {
			msg = *e.Error
		}
		return c.write(append(append([]byte("data: "), pyDumps(obj{{"error", obj{{"message", msg},
			{"type", ResponsesProcessing}}}})...), "\n\n"...))
	case "add_message":
		return c.message(data)
	}
	return nil
}

// message handles an add_message frame.
func (c *chunker) message(data json.RawMessage) error {
	var m struct {
		Sender     string `json:"sender"`
		SenderName string `json:"sender_name"`
		Text       string `json:"text"`
		Properties struct {
			State string `json:"state"`
		} `json:"properties"`
		ContentBlocks []struct {
			Title    string                       `json:"title"`
			Contents []map[string]json.RawMessage `json:"contents"`
		} `json:"content_blocks"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	text := m.Text
	if m.Properties.State == "complete" {
		text = "" // its text came with the tokens
	}
	for _, b := range m.ContentBlocks {
		if b.Title != "Agent Steps" {
			continue
		}
		for _, step := range b.Contents {
			if err := c.toolStep(step); err != nil {
				return err
			}
		}
	}
	if !slices.Contains([]string{"Machine", "AI", "Agent"}, m.Sender) || text == c.r.input ||
		!slices.Contains([]string{"Agent", "AI"}, m.SenderName) {
		return nil
	}
	delta := text
	if rest, ok := strings.CutPrefix(text, c.sent); ok {
		delta = rest
	}
	c.sent = text
	if delta == "" {
		return nil
	}
	return c.chunk(obj{{"content", delta}}, nil)
}

// toolStep sends the events of one agent step that called a tool with an
// output, once per tool and input.
func (c *chunker) toolStep(step map[string]json.RawMessage) error {
	var typ, name string
	if json.Unmarshal(step["type"], &typ) != nil || typ != "tool_use" || json.Unmarshal(step["name"], &name) != nil || name == "" {
		return nil
	}
	input, ok := step["tool_input"]
	if !ok {
		input = json.RawMessage("{}")
	}
	output, ok := step["output"]
	if isNull(input) || !ok || isNull(output) {
		return nil
	}
	var canon any
	if json.Unmarshal(input, &canon) != nil {
		return nil
	}
	key, _ := json.Marshal([]any{name, canon})
	if c.tools[string(key)] {
		return nil
	}
	c.tools[string(key)] = true
	c.calls++
	n := strconv.Itoa(c.calls)
	id, callID := "fc_"+n, "call_"+n
	args := string(pyDumps(input))
	if err := c.event("response.output_item.added", obj{{"type", "response.output_item.added"}, {"item", obj{{"id", id},
		{"type", "function_call"}, {"status", "in_progress"}, {"name", name}, {"arguments", ""}, {"call_id", callID}}}}); err != nil {
		return err
	}
	if err := c.event("response.function_call_arguments.delta", obj{{"type", "response.function_call_arguments.delta"},
		{"delta", args}, {"item_id", id}, {"output_index", 0}}); err != nil {
		return err
	}
	if err := c.event("response.function_call_arguments.done", obj{{"type", "response.function_call_arguments.done"},
		{"arguments", args}, {"item_id", id}, {"output_index", 0}}); err != nil {
		return err
	}
	done := obj{{"type", "response.output_item.done"}, {"item", obj{{"id", id}, {"type", "function_call"},
		{"status", "completed"}, {"arguments", args}, {"call_id", callID}, {"name", name}}}}
	if c.r.results {
		done = obj{{"type", "response.output_item.done"}, {"item", obj{{"id", name + "_" + id}, {"inputs", input},
			{"status", "completed"}, {"type", "tool_call"}, {"tool_name", name}, {"results", output}}},
			{"output_index", 0}, {"sequence_number", c.calls + 5}}
	}
	return c.event("response.output_item.done", done)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
