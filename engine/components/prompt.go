package components

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Prompt is Langflow's Prompt Template (data.type "Prompt Template", and
// "Prompt" in flows saved by earlier versions and in the starter
// projects). Its template is rendered with Python's str.format semantics:
// {name} takes the variable name — a field of the node (custom_fields
// lists them) whose value is its text or what an edge brings — and {{ and
// }} are literal braces. Messages give their text, Data their text key,
// lists their items' texts in Python's list repr (['a', 'b']), other
// values Python's str(). A variable the template uses without a value
// fails the vertex; format specifications, conversions, attribute and
// index access are refused (SkillFlaw does not implement them). The
// output message carries the template and the variables' texts in its
// data (Langflow also keeps the serialized LangChain prompt there; files
// of variable messages are not carried into it).
type Prompt struct{}

// Spec implements engine.Component.
func (Prompt) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "Prompt Template", Aliases: []string{"Prompt"}, Category: "models_and_agents", DisplayName: "Prompt Template",
		Description: "Create a prompt template with dynamic variables.", Icon: "braces",
		BaseClasses: []string{"Message"}, DynamicFields: true,
		Fields: []engine.FieldSpec{
			field("prompt", "PromptInput", "template", "Template", "", nil, nil),
			messageTextInput("tool_placeholder", "Tool Placeholder", "", advanced, info("A placeholder input for tool mode.")),
		},
		Outputs: []engine.OutputSpec{output("prompt", "Prompt", "build_prompt")},
	}
}

// Build implements engine.Component.
func (Prompt) Build(_ context.Context, b *engine.Build) error {
	template := b.Str("template")
	params := b.Params()
	vars := map[string]any{}
	lookup := func(name string) (string, bool) {
		v, ok := params[name]
		if !ok || name == "template" {
			return "", false
		}
		s := promptText(v)
		vars[name] = s
		return s, true
	}
	text, err := pyFormat(template, lookup, true)
	var missing *missingFieldError
	if errors.As(err, &missing) {
		return fmt.Errorf("the prompt uses the variable {%s}, which has no value: give the node a field %q (or connect one)%s",
			missing.Name, missing.Name, knownVariables(b))
	}
	if err != nil {
		return fmt.Errorf("the prompt template cannot be rendered: %w", err)
	}
	m := engine.NewMessage(text)
	m.Data = map[string]any{"template": template, "variables": vars}
	b.Set("prompt", m)
	b.SetStatus(text)
	return nil
}

// knownVariables lists the node's variables for an error message.
func knownVariables(b *engine.Build) string {
	names := slices.Clone(b.Vertex.CustomFields["template"])
	if len(names) == 0 {
		return ""
	}
	return " (its variables: " + strings.Join(names, ", ") + ")"
}

// promptText is a variable's text as Langflow's dict_values_to_string
// makes it.
func promptText(v engine.Value) string {
	if list, ok := asList(v); ok {
		items := make([]any, len(list))
		for i, e := range list {
			items[i] = promptItem(e)
		}
		return engine.PyStr(items)
	}
	switch x := v.(type) {
	case *engine.Message, *engine.Data, string:
		return engine.Text(x)
	}
	return engine.PyStr(jsonable(v))
}

func promptItem(v engine.Value) any {
	switch x := v.(type) {
	case *engine.Message, *engine.Data:
		return engine.Text(x)
	}
	return jsonable(v)
}
