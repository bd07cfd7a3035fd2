package components

import (
	"context"
	"errors"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// RunFlow is Langflow 1.7's Run Flow: it runs another flow the run's
// user may run (flow_id_selected, else flow_name_selected: an id or a
// name) through the run's engine.SubFlows, as that user, in the run's
// session (session_id), and gives what the flow's output vertices
// answered. input_value (SkillFlaw's: Langflow derives the inputs from
// the selected flow's input vertices) goes to the flow's chat input; the
// node's fields named "<vertex id>~<field>", as Langflow's Run Flow
// writes the selected flow's inputs, become tweaks of those fields. It is
// usable as an agent's tool: input_value is its argument.
//
// Langflow's outputs are one per output of the flow's output vertices
// ("<vertex id>~<output>"), declared when the flow is selected; SkillFlaw
// declares two fixed ones: message, the text of the flow's first output
// message (several joined by blank lines), and flow_outputs, a Data per
// output vertex (its id, display name and text). Flows run flows at most
// engine.MaxSubFlowDepth levels deep.
type RunFlow struct{}

// Spec implements engine.Component.
func (RunFlow) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "RunFlow", Aliases: []string{"RunFlowComponent"}, Category: "flow_controls", DisplayName: "Run Flow",
		Description: "Executes another flow from within the same project. Can also be used as a tool for agents." +
			" \n **Select a Flow to use the tool mode**",
		Icon: "Workflow", BaseClasses: []string{"Data", "Message"}, DynamicFields: true,
		Fields: []engine.FieldSpec{
			dropdownInput("flow_name_selected", "Flow Name", "", nil, info("The name of the flow to run.")),
			strInput("flow_id_selected", "Flow ID", "", hidden, info("The ID of the flow to run.")),
			messageTextInput("input_value", "Input", "", toolMode, info("The input given to the flow's chat input.")),
			messageTextInput("session_id", "Session ID", "", advanced, info("The session ID to run the flow in.")),
			boolInput("cache_flow", "Cache Flow", false, advanced, info("Whether to cache the selected flow.")),
		},
		Outputs: []engine.OutputSpec{
			output("message", "Message", "message_output"),
			output("flow_outputs", "Flow Outputs", "data_output", "Data"),
		},
	}
}

// ioputSep joins a vertex id and a field name in Run Flow's field names.
const ioputSep = "~"

// Build implements engine.Component.
func (RunFlow) Build(ctx context.Context, b *engine.Build) error {
	flows := b.Env().Flows
	if flows == nil {
		return errors.New("running other flows is not available on this server")
	}
	ref := strings.TrimSpace(b.Str("flow_id_selected"))
	if ref == "" {
		ref = strings.TrimSpace(b.Str("flow_name_selected"))
	}
	if ref == "" {
		return errors.New("Run Flow: select the flow to run")
	}
	depth := engine.SubFlowDepth(ctx) + 1
	if err := engine.CheckSubFlowDepth(depth); err != nil {
		return err
	}
	req := engine.SubFlowRequest{Flow: ref, Session: b.Str("session_id")}
	if v, ok := b.Param("input_value"); ok {
		s := engine.Text(v)
		req.InputValue = &s
	}
	for name, v := range b.Params() {
		vertex, fieldName, ok := strings.Cut(name, ioputSep)
		if !ok || vertex == "" || fieldName == "" || v == nil {
			continue
		}
		if req.Tweaks == nil {
			req.Tweaks = engine.Tweaks{}
		}
		fields, _ := req.Tweaks[vertex].(map[string]any)
		if fields == nil {
			fields = map[string]any{}
			req.Tweaks[vertex] = fields
		}
		fields[fieldName] = tweakValue(v)
	}
	res, err := flows.RunFlow(engine.WithSubFlowDepth(ctx, depth), b.Run(), req)
	if err != nil {
		return err
	}
	var texts []string
	var data []engine.Value
	for _, o := range res.Outputs {
		text := ""
		if o.Message != nil {
			text = o.Message.Text
		} else {
			for _, v := range o.Results {
				if m, ok := v.(*engine.Message); ok {
					text = m.Text
					break
				}
			}
		}
		if text != "" {
			texts = append(texts, text)
		}
		data = append(data, engine.NewData(map[string]any{"component_id": o.VertexID, "component_display_name": o.DisplayName,
			"text": text}))
	}
	if b.Wants("message") {
		setText(b, "message", strings.Join(texts, "\n\n"))
	}
	if b.Wants("flow_outputs") {
		b.Set("flow_outputs", data)
		if !b.Wants("message") {
			b.SetStatus(data)
		}
	}
	return nil
}

// tweakValue is a field's value as a tweak gives it: text for a message,
// a Data's dict, JSON-like values as they are.
func tweakValue(v engine.Value) any {
	switch x := v.(type) {
	case *engine.Message:
		return x.Text
	case *engine.Data:
		return jsonable(x.Map)
	}
	return jsonable(v)
}
