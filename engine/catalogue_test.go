package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
)

// catalogueOf returns the catalogue of the native components as a client
// reads it (a JSON round trip).
func catalogueOf(t *testing.T) (*engine.Registry, map[string]map[string]map[string]any) {
	t.Helper()
	reg, err := components.Registry()
	require.NoError(t, err)
	var cat map[string]map[string]map[string]any
	require.NoError(t, json.Unmarshal(engine.PyDumps(reg.Catalogue()), &cat))
	return reg, cat
}

// entry returns the catalogue entry of name, wherever it is filed.
func entry(t *testing.T, cat map[string]map[string]map[string]any, name string) map[string]any {
	t.Helper()
	for _, names := range cat {
		if e, ok := names[name]; ok {
			return e
		}
	}
	require.FailNow(t, "not in the catalogue", name)
	return nil
}

// catNode is a node made from a catalogue entry, as the frontend makes
// one when a component is dropped: data.type is the catalogue name.
func catNode(id, name string, node map[string]any) map[string]any {
	return map[string]any{"id": id, "type": "genericNode", "position": map[string]any{"x": 0, "y": 0},
		"data": map[string]any{"id": id, "type": name, "node": node}}
}

// catEdge joins output out of src to field of tgt with the handles the
// frontend writes from the two entries.
func catEdge(t *testing.T, srcID, srcName string, src map[string]any, out string, tgtID string, tgt map[string]any, field string) map[string]any {
	t.Helper()
	var types []any
	for _, o := range src["outputs"].([]any) {
		if o := o.(map[string]any); o["name"] == out {
			types = o["types"].([]any)
		}
	}
	require.NotNil(t, types, "%s has no output %s", srcName, out)
	f, ok := tgt["template"].(map[string]any)[field].(map[string]any)
	require.True(t, ok, "%s has no field %s", tgtID, field)
	return map[string]any{"id": "xy-edge__" + srcID + "-" + tgtID, "source": srcID, "target": tgtID,
		"data": map[string]any{
			"sourceHandle": map[string]any{"dataType": srcName, "id": srcID, "name": out, "output_types": types},
			"targetHandle": map[string]any{"fieldName": field, "id": tgtID, "inputTypes": f["input_types"], "type": f["type"]},
		}}
}

func flowJSON(t *testing.T, nodes, edges []any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges, "viewport": map[string]any{"x": 0, "y": 0, "zoom": 1}})
	require.NoError(t, err)
	return b
}

func TestCatalogue_ListsEveryComponentOnce(t *testing.T) {
	reg, cat := catalogueOf(t)
	var listed, want []string
	for category, names := range cat {
		for name := range names {
			listed = append(listed, category+"."+name)
		}
	}
	for _, s := range reg.Specs() {
		assert.NotEmpty(t, s.Category, "%s names no category", s.Type)
		want = append(want, s.Category+"."+s.Type)
	}
	assert.ElementsMatch(t, want, listed)
	assert.Contains(t, cat["input_output"], "ChatInput")
	assert.Contains(t, cat["models_and_agents"], "Prompt Template", "the catalogue name, not the alias")
	assert.NotContains(t, cat["models_and_agents"], "Prompt")
	assert.NotContains(t, cat["processing"], "parser")
	assert.Equal(t, engine.PyDumps(reg.Catalogue()), engine.PyDumps(reg.Catalogue()), "deterministic")
}

func TestCatalogue_EntryShape(t *testing.T) {
	reg, cat := catalogueOf(t)
	for _, s := range reg.Specs() {
		e := cat[s.Category][s.Type]
		require.NotNil(t, e, s.Type)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range e {
				if !yield(k) {
					return
				}
			}
		})
		assert.Equal(t, []string{"base_classes", "beta", "conditional_paths", "custom_fields", "description", "display_name",
			"documentation", "edited", "field_order", "frozen", "icon", "legacy", "metadata", "minimized", "output_types",
			"outputs", "pinned", "template", "tool_mode"}, keys, s.Type)
		assert.Equal(t, s.DisplayName, e["display_name"], s.Type)
		assert.Equal(t, false, e["edited"], s.Type)
		meta := e["metadata"].(map[string]any)
		assert.True(t, strings.HasPrefix(meta["module"].(string), "github.com/skillflaw/skillflaw-go/engine/components."), s.Type)
		assert.Regexp(t, `^[0-9a-f]{12}$`, meta["code_hash"], s.Type)

		template := e["template"].(map[string]any)
		assert.Equal(t, "Component", template["_type"], s.Type)
		code := template["code"].(map[string]any)
		assert.Equal(t, "code", code["type"], s.Type)
		assert.Equal(t, true, code["advanced"], s.Type)
		var order []any
		for _, f := range s.Fields {
			order = append(order, f.Name)
			tf, ok := template[f.Name].(map[string]any)
			require.True(t, ok, "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Type, tf["type"], "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Input, tf["_input_type"], "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Name, tf["name"], "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Advanced, tf["advanced"], "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Required, tf["required"], "%s.%s", s.Type, f.Name)
			assert.Equal(t, f.Show == nil || *f.Show, tf["show"], "%s.%s", s.Type, f.Name)
			if f.InputTypes == nil {
				assert.NotContains(t, tf, "input_types", "%s.%s", s.Type, f.Name)
			} else {
				assert.Equal(t, toAny(f.InputTypes), tf["input_types"], "%s.%s", s.Type, f.Name)
			}
		}
		assert.Equal(t, order, e["field_order"], s.Type)
		outs := e["outputs"].([]any)
		require.Len(t, outs, len(s.Outputs), s.Type)
		for i, o := range s.Outputs {
			out := outs[i].(map[string]any)
			assert.Equal(t, o.Name, out["name"], s.Type)
			assert.Equal(t, toAny(o.Types), out["types"], s.Type)
			assert.Equal(t, o.Types[0], out["selected"], s.Type)
			assert.Equal(t, "__UNDEFINED__", out["value"], s.Type)
		}
	}
	prompt := cat["models_and_agents"]["Prompt Template"]
	assert.Equal(t, map[string]any{"template": []any{}}, prompt["custom_fields"], "a prompt's variables are listed there")
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// The entries have the shape of Langflow 1.7.1's nodes in the starter
// fixtures, field by field, for everything the Spec declares.
func TestCatalogue_MatchesStarterNodes(t *testing.T) {
	_, cat := catalogueOf(t)
	files, err := filepath.Glob(filepath.Join("components", "testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// What a starter's node says that its Spec does not (or that a
	// component's build config changed in the saved node).
	known := map[string]bool{
		"LanguageModelComponent.model.input_types":    true, // the Spec's ModelInput takes no edge
		"LanguageModelComponent.api_key.load_from_db": true,
		"Memory.sender._input_type":                   true, // saved by an older Memory
		"Memory.sender.options":                       true,
		"Memory.sender.show":                          true,
		"Memory.session_id.show":                      true, // switched by the mode
		"Memory.template.show":                        true,
	}
	aliases := map[string]string{"Prompt": "Prompt Template", "parser": "ParserComponent"}
	compared := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var f struct {
			Data struct {
				Nodes []struct {
					Type string `json:"type"`
					Data struct {
						Type string         `json:"type"`
						Node map[string]any `json:"node"`
					} `json:"data"`
				} `json:"nodes"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(raw, &f))
		for _, n := range f.Data.Nodes {
			if n.Type != "genericNode" {
				continue
			}
			name := n.Data.Type
			if a, ok := aliases[name]; ok {
				name = a
			}
			e := entry(t, cat, name)
			var variables []any // a prompt's variables: fields of the node, not of the component
			for _, names := range n.Data.Node["custom_fields"].(map[string]any) {
				variables = append(variables, names.([]any)...)
			}
			asTool, _ := n.Data.Node["tool_mode"].(bool)
			for _, k := range []string{"description", "icon", "field_order", "outputs", "output_types",
				"conditional_paths", "beta", "legacy", "edited", "pinned", "frozen", "tool_mode", "documentation", "minimized"} {
				if asTool && (k == "outputs" || k == "tool_mode") {
					continue // a node in tool mode shows its tool output
				}
				assert.Equal(t, n.Data.Node[k], e[k], "%s: %s %s", file, name, k)
			}
			got := e["template"].(map[string]any)
			for field, v := range n.Data.Node["template"].(map[string]any) {
				saved, ok := v.(map[string]any)
				if !ok || saved["type"] == nil || slices.Contains(variables, any(field)) || asTool && field == "tools_metadata" {
					continue // _type, _frontend_node_flow_id, variables, a tool's actions table
				}
				mine, ok := got[field].(map[string]any)
				require.True(t, ok, "%s: %s has no field %s", file, name, field)
				for _, k := range []string{"_input_type", "type", "display_name", "info", "input_types", "show", "advanced",
					"required", "list", "load_from_db", "password", "multiline", "options", "dynamic", "placeholder",
					"title_case", "trace_as_input", "trace_as_metadata", "list_add_label", "combobox", "toggle",
					"options_metadata", "range_spec", "model_type", "refresh_button"} {
					want, has := saved[k]
					if !has || known[name+"."+field+"."+k] || (field == "code" && k == "multiline") {
						continue
					}
					assert.Equal(t, want, mine[k], "%s: %s.%s %s", file, name, field, k)
					compared++
				}
			}
		}
	}
	assert.Greater(t, compared, 500)
}

// Every entry, dropped alone into a flow, compiles.
func TestCatalogue_EveryEntryCompiles(t *testing.T) {
	reg, cat := catalogueOf(t)
	eng := engine.New(reg, engine.Limits{})
	for category, names := range cat {
		for name, e := range names {
			id := name + "-Cat01"
			g, err := eng.Compile(flowJSON(t, []any{catNode(id, name, e)}, nil))
			require.NoError(t, err, "%s.%s", category, name)
			v, ok := g.Vertex(id)
			require.True(t, ok)
			assert.Equal(t, name, v.Spec.Type)
			assert.Equal(t, len(v.Spec.Fields)+1, len(v.Template), "%s: every field and the code", name)
		}
	}
}

// A Basic Prompting flow made only of catalogue entries compiles and
// runs: ChatInput → Prompt Template (a variable) → Language Model →
// ChatOutput.
func TestCatalogue_BasicPromptingFromEntries(t *testing.T) {
	reg, cat := catalogueOf(t)
	in, prompt := entry(t, cat, "ChatInput"), entry(t, cat, "Prompt Template")
	model, out := entry(t, cat, "LanguageModelComponent"), entry(t, cat, "ChatOutput")

	// What the frontend does when the template is typed: the variable
	// becomes a field and is listed in custom_fields.
	pt := prompt["template"].(map[string]any)
	pt["template"].(map[string]any)["value"] = "Answer briefly: {question}"
	pt["question"] = map[string]any{"type": "str", "name": "question", "display_name": "question", "value": "",
		"input_types": []any{"Message"}, "show": true, "advanced": false, "multiline": true, "required": false,
		"list": false, "dynamic": false, "load_from_db": false, "placeholder": "", "title_case": false, "info": ""}
	prompt["custom_fields"] = map[string]any{"template": []any{"question"}}
	model["template"].(map[string]any)["model"].(map[string]any)["value"] = []any{map[string]any{
		"provider": "OpenAI", "name": "gpt-4o-mini", "metadata": map[string]any{"model_class": "ChatOpenAI"}}}

	nodes := []any{catNode("ChatInput-a1", "ChatInput", in), catNode("Prompt Template-b2", "Prompt Template", prompt),
		catNode("LanguageModelComponent-c3", "LanguageModelComponent", model), catNode("ChatOutput-d4", "ChatOutput", out)}
	edges := []any{
		catEdge(t, "ChatInput-a1", "ChatInput", in, "message", "Prompt Template-b2", prompt, "question"),
		catEdge(t, "Prompt Template-b2", "Prompt Template", prompt, "prompt", "LanguageModelComponent-c3", model, "input_value"),
		catEdge(t, "LanguageModelComponent-c3", "LanguageModelComponent", model, "text_output", "ChatOutput-d4", out, "input_value"),
	}
	eng := engine.New(reg, engine.Limits{})
	g, err := eng.Compile(flowJSON(t, nodes, edges))
	require.NoError(t, err)
	require.Len(t, g.Edges, 3)

	models := &echoModels{}
	question := "What is Go?"
	res := eng.Run(context.Background(), g, engine.RunInput{InputValue: &question, InputType: "chat",
		Variables: map[string]string{"OPENAI_API_KEY": "sk-test"}}, engine.Env{Models: models}, nil)
	require.NoError(t, res.Err)
	r := res.Result("ChatOutput-d4")
	require.NotNil(t, r)
	require.True(t, r.Valid, "%v", r.Err)
	assert.Equal(t, "echo: Answer briefly: What is Go?", engine.Text(r.Outputs["message"]))
	assert.Equal(t, engine.ModelSelection{Provider: "OpenAI", Name: "gpt-4o-mini", Class: "ChatOpenAI", APIKey: "sk-test"}, models.sel)
}

// echoModels answers every call with its last message.
type echoModels struct{ sel engine.ModelSelection }

func (m *echoModels) Open(_ context.Context, sel engine.ModelSelection) (engine.ChatModel, error) {
	m.sel = sel
	return echoModel{}, nil
}

type echoModel struct{}

func (echoModel) Chat(_ context.Context, req engine.ChatRequest, _ func(string) error) (string, error) {
	return "echo: " + req.Messages[len(req.Messages)-1].Content, nil
}

// A component whose Spec names no category is filed under the default
// one, with its Go type as its module.
func TestCatalogue_DefaultCategory(t *testing.T) {
	reg, err := engine.NewRegistry(textIn{})
	require.NoError(t, err)
	cat := reg.Catalogue()
	require.Len(t, cat, 1)
	node := cat[engine.DefaultCategory]["TIn"]
	require.NotNil(t, node)
	assert.Equal(t, "github.com/skillflaw/skillflaw-go/engine_test.textIn", node["metadata"].(map[string]any)["module"])
}
