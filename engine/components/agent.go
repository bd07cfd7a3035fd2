package components

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Agent is Langflow 1.7's Agent: a model that answers the input with the
// help of tools, in a loop. The model is the 1.7 model field (or, in
// older nodes, agent_llm and model_name with the OpenAI fields), its key
// the api_key field or the provider's variable, as the Language Model's.
// The model is called with the system prompt, the session's chat history
// (this server's messages of the run's user, errors left out, the last
// n_messages, the input's own message left out) and the input, and with
// the tools: those connected to tools (components in tool mode, see
// engine.Tool) and, with add_current_date_tool on, get_current_date. The
// calls of one model turn run in parallel; their results go back to the
// model (a failed tool's error as "Error: …", an unknown tool or
// unreadable arguments as LangChain words them) until it answers without
// calling a tool, or max_iterations turns have called tools: then the
// answer is LangChain's "Agent stopped due to max iterations.". At most
// agentParallelTools calls of a turn run at once.
// handle_parsing_errors off makes unreadable arguments fail the agent.
//
// When its message reaches the playground (a chat output next to it),
// the agent records it at once (state "partial", sender Machine, the chat
// output's sender name, icon Bot) with one "Agent Steps" content block,
// reports each step as it happens (add_message updates, not recorded: the
// input, each tool_use with name, tool_input, output, error, duration and
// header, the output), streams the model's text as token events, and
// records the message complete at the end. Its output, response, is that
// message. verbose only logs in Langflow and does nothing here;
// format_instructions and output_schema belong to Langflow's structured
// response, which 1.7's Agent does not offer as an output. Unlike
// Langflow, which removes the agent's message when the agent fails, the
// recorded partial message stays (the engine has no removal port).
type Agent struct{}

// agentParallelTools bounds the tool runs of one model turn that run at
// once (the others wait their turn).
const agentParallelTools = 8

// agentStoppedText is LangChain's answer when the iterations run out.
const agentStoppedText = "Agent stopped due to max iterations."

const defaultToolsDescription = "A helpful assistant with access to the following tools:"

// Spec implements engine.Component.
func (Agent) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "Agent", Category: "models_and_agents", DisplayName: "Agent",
		Description: "Define the agent's instructions, then enter a task to complete using tools.", Icon: "bot",
		BaseClasses: []string{"Message"},
		Fields: []engine.FieldSpec{
			field("model", "ModelInput", "model", "Language Model", "", []string{}, []fieldOpt{required,
				info("Select your model provider")}),
			secretInput("api_key", "API Key", "", advanced, loadFromDB, info("Model Provider API key")),
			multilineInput("system_prompt", "Agent Instructions",
				"You are a helpful assistant that can use tools to answer questions and perform tasks.",
				info("System Prompt: Initial instructions and context provided to guide the agent's behavior.")),
			messageTextInput("context_id", "Context ID", "", advanced,
				info("The context ID of the chat. Adds an extra layer to the local memory.")),
			intInput("n_messages", "Number of Chat History Messages", 100, advanced,
				info("Number of chat history messages to retrieve.")),
			multilineInput("format_instructions", "Output Format Instructions", agentFormatInstructions, advanced,
				info("Generic Template for structured output formatting. Valid only with Structured response.")),
			field("table", "TableInput", "output_schema", "Output Schema", []any{}, nil, []fieldOpt{advanced,
				info("Schema Validation: Define the structure and data types for structured output. No validation if no output schema.")}),
			handleInput("tools", "Tools", []string{"Tool"}, isList,
				info("These are the tools that the agent can use to help with tasks.")),
			messageInput("input_value", "Input", "", func(f *engine.FieldSpec) { f.ToolMode = true },
				info("The input provided by the user for the agent to process.")),
			boolInput("handle_parsing_errors", "Handle Parse Errors", true, advanced,
				info("Should the Agent fix errors when reading user input for better processing?")),
			boolInput("verbose", "Verbose", true, advanced),
			intInput("max_iterations", "Max Iterations", 15, advanced,
				info("The maximum number of attempts the agent can make to complete its task before it stops.")),
			multilineInput("agent_description", "Agent Description [Deprecated]", defaultToolsDescription, advanced,
				info("The description of the agent. This is only used when in Tool Mode. Defaults to '"+defaultToolsDescription+
					"' and tools are added dynamically. This feature is deprecated and will be removed in future versions.")),
			boolInput("add_current_date_tool", "Current Date", true, advanced,
				info("If true, will add a tool to the agent that returns the current date.")),
		},
		Outputs: []engine.OutputSpec{output("response", "Response", "message_response")},
	}
}

const agentFormatInstructions = "You are an AI that extracts structured JSON objects from unstructured text. " +
	"Use a predefined schema with expected types (str, int, float, bool, dict). " +
	"Extract ALL relevant instances that match the schema - if multiple patterns exist, capture them all. " +
	"Fill missing or ambiguous values with defaults: null for missing values. " +
	"Remove exact duplicates but keep variations that have different field values. " +
	"Always return valid JSON in the expected format, never throw errors. " +
	"If multiple objects can be extracted, return them all in the structured format."

// Build implements engine.Component.
func (Agent) Build(ctx context.Context, b *engine.Build) error {
	if !b.Wants("response") {
		return nil
	}
	m, err := agentModel(ctx, b)
	if err != nil {
		return err
	}
	chat, err := m.Open(ctx, b)
	if err != nil {
		return err
	}
	model, ok := chat.(engine.ToolChatModel)
	if !ok {
		return fmt.Errorf("Agent does not support tool calling. Please try using a compatible model.")
	}
	tools, err := agentTools(b)
	if err != nil {
		return err
	}
	in := b.Message("input_value")
	history, err := agentHistory(ctx, b, in)
	if err != nil {
		return err
	}
	input := in.Text
	if strings.TrimSpace(input) == "" {
		input = "Continue the conversation."
	}
	var msgs []engine.ChatMessage
	if system := b.Str("system_prompt"); strings.TrimSpace(system) != "" {
		msgs = append(msgs, engine.ChatMessage{Role: "system", Content: system})
	}
	msgs = append(append(msgs, history...), engine.ChatMessage{Role: "user", Content: input})
	req := m.Request(msgs)
	for _, t := range tools {
		req.Tools = append(req.Tools, t.Spec())
	}
	maxIter := int64(15)
	if n, ok := b.Int("max_iterations"); ok {
		maxIter = n
	}
	a := &agentRun{b: b, tools: tools, handleErrors: b.Bool("handle_parsing_errors"), last: time.Now()}
	if err := a.begin(ctx, input); err != nil {
		return err
	}
	answer, err := a.loop(ctx, model, req, maxIter)
	if err == nil {
		var final *engine.Message
		if final, err = a.finish(ctx, answer); err == nil {
			b.Set("response", final)
			b.SetStatus(final)
			return nil
		}
	}
	// As Langflow: a failed agent's partial message is withdrawn
	// (remove_message), the error goes on.
	if rerr := a.live.Remove(context.WithoutCancel(ctx)); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// agentModel reads the agent's model: the 1.7 model field, else an older
// node's agent_llm provider with model_name and the OpenAI fields.
func agentModel(ctx context.Context, b *engine.Build) (*Model, error) {
	raw, _ := b.Param("model")
	if _, connected := raw.(*Model); connected || engine.Truthy(raw) {
		return selectedModel(ctx, b, raw)
	}
	provider := b.Str("agent_llm")
	switch provider {
	case "":
		return nil, errors.New("No language model selected. Please choose a model to proceed.")
	case "Custom", "connect_other_models":
		return nil, errors.New("an agent's own language model input is not supported by this server: choose a provider and model in the agent")
	}
	name := b.Str("model_name")
	sel := engine.ModelSelection{Provider: provider, Name: name, BaseURL: b.Str("openai_api_base")}
	if provider == "OpenAI" {
		sel.Class = "ChatOpenAI"
	}
	key, err := resolveKey(ctx, b, &sel)
	if err != nil {
		return nil, err
	}
	sel.APIKey = key
	if n, ok := b.Int("max_retries"); ok {
		retries := int(n)
		sel.MaxRetries = &retries
	}
	if n, ok := b.Int("timeout"); ok && n > 0 {
		sel.Timeout = time.Duration(n) * time.Second
	}
	m := &Model{Selection: sel}
	if n, ok := b.Int("max_tokens"); ok && n > 0 {
		m.Settings.MaxTokens = &n
	}
	if !isReasoning(name, openAIReasoningModels) {
		if t, ok := b.Float("temperature"); ok {
			m.Settings.Temperature = &t
		}
		if s, ok := b.Int("seed"); ok {
			m.Settings.Seed = &s
		}
	}
	return m, nil
}

// agentTools returns the tools connected to the agent, and the current
// date's when add_current_date_tool is on.
func agentTools(b *engine.Build) ([]*engine.Tool, error) {
	var tools []*engine.Tool
	var walk func(v engine.Value) error
	walk = func(v engine.Value) error {
		switch x := v.(type) {
		case nil, string:
		case *engine.Tool:
			tools = append(tools, x)
		case []engine.Value:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("the tools input takes tools (components in tool mode), not %s", pyTypeName(v))
		}
		return nil
	}
	if v, ok := b.Param("tools"); ok {
		if err := walk(v); err != nil {
			return nil, err
		}
	}
	if b.Bool("add_current_date_tool") {
		tools = append(tools, currentDateTool(b))
	}
	return tools, nil
}

// currentDateTool is the tool add_current_date_tool gives: Langflow's
// Current Date component as a tool (not a vertex: no build events).
func currentDateTool(b *engine.Build) *engine.Tool {
	schema := map[string]any{"type": "object", "properties": map[string]any{"timezone": map[string]any{
		"type": "string", "title": "Timezone", "description": "Select the timezone for the current date and time.", "default": "UTC"}}}
	return engine.NewTool("get_current_date", "Returns the current date and time in the selected timezone.", schema,
		func(_ context.Context, args map[string]any) (engine.Value, error) {
			tz, _ := args["timezone"].(string)
			if tz == "" {
				tz = "UTC"
			}
			now := time.Now()
			if c := b.Env().Clock; c != nil {
				now = c()
			}
			if tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
				return engine.NewMessage("Error: 'No time zone found with key " + tz + "'"), nil
			}
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return engine.NewMessage("Error: 'No time zone found with key " + tz + "'"), nil
			}
			return engine.NewMessage("Current date and time in " + tz + ": " + now.In(loc).Format("2006-01-02 15:04:05 MST")), nil
		})
}

// agentHistory is the session's chat history as model messages: the run's
// user's messages of the session (and context), errors left out, the
// last n_messages, the input's own message left out, blank ones skipped;
// a user's message is the user's, any other the assistant's.
func agentHistory(ctx context.Context, b *engine.Build, in *engine.Message) ([]engine.ChatMessage, error) {
	n, limited := b.Int("n_messages")
	history := b.Env().History
	if (limited && n == 0) || history == nil {
		return nil, nil
	}
	all, err := history.Messages(ctx, engine.HistoryQuery{User: b.Run().UserID, SessionID: b.Session(),
		ContextID: b.Str("context_id"), Limit: historyWindow})
	if err != nil {
		return nil, fmt.Errorf("read the message history: %w", err)
	}
	msgs := slices.DeleteFunc(slices.Clone(all), func(m *engine.Message) bool { return m.Error })
	if limited {
		switch {
		case n > 0 && int(n) < len(msgs):
			msgs = msgs[len(msgs)-int(n):]
		case n < 0:
			msgs = msgs[min(int(-n), len(msgs)):]
		}
	}
	var out []engine.ChatMessage
	for _, m := range msgs {
		if (in.ID != "" && m.ID == in.ID) || strings.TrimSpace(m.Text) == "" {
			continue
		}
		role := "assistant"
		if m.Sender == engine.SenderUser {
			role = "user"
		}
		out = append(out, engine.ChatMessage{Role: role, Content: m.Text})
	}
	return out, nil
}

// agentRun is one run of an agent: its message and steps as they grow.
type agentRun struct {
	b            *engine.Build
	tools        []*engine.Tool
	handleErrors bool
	live         *engine.LiveMessage

	mu    sync.Mutex // guards what follows
	msg   *engine.Message
	steps []map[string]any
	last  time.Time // when the last step ended
}

// begin records the agent's message and shows the input step.
func (a *agentRun) begin(ctx context.Context, input string) error {
	m := engine.NewMessage("")
	m.Sender = engine.SenderMachine
	m.SenderName = chatOutputSenderName(a.b)
	m.SessionID = a.b.Session()
	icon := "Bot"
	m.Properties.Icon, m.Properties.State = &icon, "partial"
	m.ContentBlocks = []engine.ContentBlock{{Title: "Agent Steps", Contents: []map[string]any{}, AllowMarkdown: true}}
	live, err := a.b.Begin(ctx, m.Clone())
	if err != nil {
		return err
	}
	a.live, a.msg = live, m
	a.mu.Lock()
	defer a.mu.Unlock()
	a.steps = append(a.steps, map[string]any{"type": "text", "duration": a.elapsed(),
		"header": map[string]any{"title": "Input", "icon": "MessageSquare"}, "text": input})
	a.live.Show(a.snapshot())
	return nil
}

// elapsed returns the milliseconds since the last step and starts the
// next. Called with a.mu held.
func (a *agentRun) elapsed() int64 {
	now := time.Now()
	d := now.Sub(a.last).Milliseconds()
	a.last = now
	return d
}

// snapshot is the message as it now is, its steps copied (a step is
// changed by replacing its entries, never the values inside them).
// Called with a.mu held.
func (a *agentRun) snapshot() *engine.Message {
	m := a.msg.Clone()
	contents := make([]map[string]any, len(a.steps))
	for i, s := range a.steps {
		contents[i] = maps.Clone(s)
	}
	m.ContentBlocks = []engine.ContentBlock{{Title: "Agent Steps", Contents: contents, AllowMarkdown: true}}
	return m
}

// loop calls the model until it answers without tools, or the
// iterations run out.
func (a *agentRun) loop(ctx context.Context, model engine.ToolChatModel, req engine.ChatRequest, maxIter int64) (string, error) {
	var onChunk func(string) error
	if a.live.Live() {
		onChunk = func(chunk string) error {
			a.live.Token(chunk)
			return ctx.Err()
		}
	}
	for iter := int64(0); iter < maxIter; iter++ {
		ans, err := model.Converse(ctx, req, onChunk)
		if err != nil {
			return "", err
		}
		if len(ans.ToolCalls) == 0 {
			return ans.Text, nil
		}
		calls := slices.Clone(ans.ToolCalls)
		for i := range calls {
			if calls[i].ID == "" {
				calls[i].ID = fmt.Sprintf("call_%d_%d", iter+1, i+1)
			}
		}
		req.Messages = append(req.Messages, engine.ChatMessage{Role: "assistant", Content: ans.Text, ToolCalls: calls})
		results, err := a.callTools(ctx, calls)
		if err != nil {
			return "", err
		}
		for i, c := range calls {
			req.Messages = append(req.Messages, engine.ChatMessage{Role: "tool", ToolCallID: c.ID, Content: results[i]})
		}
	}
	return agentStoppedText, nil
}

// callTools runs the calls of one model turn in parallel and returns
// their results for the model, in the calls' order. Each call is a step
// of the message: shown when it starts ("Accessing"), and again when it
// ends ("Executed", or "Error using" with its error).
func (a *agentRun) callTools(ctx context.Context, calls []engine.ToolCall) ([]string, error) {
	type job struct {
		tool *engine.Tool
		args map[string]any
		step int
		fail string // why the call cannot run
	}
	jobs := make([]job, len(calls))
	a.mu.Lock()
	for i, c := range calls {
		j := job{args: map[string]any{}}
		if idx := slices.IndexFunc(a.tools, func(t *engine.Tool) bool { return t.Name == c.Name }); idx >= 0 {
			j.tool = a.tools[idx]
		} else {
			names := make([]string, len(a.tools))
			for k, t := range a.tools {
				names[k] = t.Name
			}
			j.fail = fmt.Sprintf("%s is not a valid tool, try one of [%s].", c.Name, strings.Join(names, ", "))
		}
		if args, err := engine.DecodeToolArguments(c.Arguments); err == nil {
			j.args = args
		} else if j.fail == "" {
			j.fail = fmt.Sprintf("Could not parse tool input: %s because the `arguments` is not valid JSON.", c.Arguments)
			if !a.handleErrors {
				a.mu.Unlock()
				return nil, errors.New(j.fail)
			}
		}
		j.step = len(a.steps)
		header := map[string]any{"title": "Accessing **" + c.Name + "**", "icon": "Hammer"}
		a.steps = append(a.steps, map[string]any{"type": "tool_use", "duration": a.elapsed(), "header": header,
			"name": c.Name, "tool_input": j.args, "output": nil, "error": nil})
		a.live.Show(a.snapshot())
		jobs[i] = j
	}
	a.mu.Unlock()
	results := make([]string, len(calls))
	slots := make(chan struct{}, agentParallelTools)
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() {
			j := jobs[i]
			start := time.Now()
			var out *engine.ToolResult
			errText := j.fail
			if errText == "" {
				select {
				case slots <- struct{}{}:
					var err error
					out, err = j.tool.Run(ctx, j.args)
					<-slots
					if err != nil {
						errText = err.Error()
					}
				case <-ctx.Done():
					errText = context.Cause(ctx).Error()
				}
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			step := maps.Clone(a.steps[j.step])
			step["duration"] = time.Since(start).Milliseconds()
			name := calls[i].Name
			if errText != "" {
				step["error"] = errText
				step["header"] = map[string]any{"title": "Error using **" + name + "**", "icon": "Hammer"}
				results[i] = "Error: " + errText
			} else {
				step["output"] = out.Output
				step["header"] = map[string]any{"title": "Executed **" + name + "**", "icon": "Hammer"}
				results[i] = out.Text
			}
			a.steps[j.step] = step
			a.last = time.Now()
			a.live.Show(a.snapshot())
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	return results, nil
}

// finish adds the output step and records the message complete.
func (a *agentRun) finish(ctx context.Context, answer string) (*engine.Message, error) {
	a.mu.Lock()
	a.msg.Text = answer
	a.steps = append(a.steps, map[string]any{"type": "text", "duration": a.elapsed(),
		"header": map[string]any{"title": "Output", "icon": "MessageSquare"}, "text": answer})
	m := a.snapshot()
	a.mu.Unlock()
	return a.live.Finish(ctx, m)
}

// chatOutputSenderName is the sender name of the agent's message: the
// first chat output's, else the agent's display name (Langflow's
// get_chat_output_sender_name).
func chatOutputSenderName(b *engine.Build) string {
	for _, v := range b.Graph().Vertices {
		if v.Type != "ChatOutput" {
			continue
		}
		if f, ok := v.Template["sender_name"]; ok {
			if s, ok := f.Value.(string); ok && s != "" {
				return s
			}
		}
		break
	}
	if b.Vertex.DisplayName != "" {
		return b.Vertex.DisplayName
	}
	return "Agent"
}
