package components

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// defaultFormatInstructions is StructuredOutput's system_prompt default.
const defaultFormatInstructions = "You are an AI that extracts structured JSON objects from unstructured text. " +
	"Use a predefined schema with expected types (str, int, float, bool, dict). " +
	"Extract ALL relevant instances that match the schema - if multiple patterns exist, capture them all. " +
	"Fill missing or ambiguous values with defaults: null for missing values. " +
	"Remove exact duplicates but keep variations that have different field values. " +
	"Always return valid JSON in the expected format, never throw errors. " +
	"If multiple objects can be extracted, return them all in the structured format."

// structuredAttempts is how often StructuredOutput asks the model: once,
// and once more after an answer that does not match the schema.
const structuredAttempts = 2

// StructuredOutput is Langflow 1.7's Structured Output: the model (its
// model field, as Language Model's) is asked, in JSON mode, for
// {"objects": [...]} whose objects have the fields of the output_schema
// table (name, description, type str/int/float/bool/dict, multiple: a
// list of that type); every field is required and may be null. The
// answer is checked against the schema (numbers given as text become
// numbers, as pydantic's lax mode does; text is never made of a number);
// an answer that is not JSON or does not match is shown to the model with
// what is wrong and asked once more, and a second bad answer fails with
// both reasons. structured_output is a Data of the one object (several:
// {"results": [...]}), dataframe_output a DataFrame of them.
//
// Langflow asks through trustcall's tool call and falls back on
// with_structured_output; SkillFlaw uses the OpenAI-compatible JSON mode
// and its own check instead, so any model of the provider works the same.
type StructuredOutput struct{}

// Spec implements engine.Component.
func (StructuredOutput) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "StructuredOutput", Aliases: []string{"StructuredOutputComponent"}, Category: "llm_operations",
		DisplayName: "Structured Output",
		Description: "Uses an LLM to generate structured data. Ideal for extraction and consistency.",
		Icon:        "braces", BaseClasses: []string{"Data", "DataFrame"},
		Fields: []engine.FieldSpec{
			field("model", "ModelInput", "model", "Language Model", "", []string{}, []fieldOpt{required,
				info("Select your model provider")}),
			secretInput("api_key", "API Key", "", advanced, loadFromDB, info("Model Provider API key")),
			multilineInput("input_value", "Input Message", "", required, toolMode,
				info("The input message to the language model.")),
			multilineInput("system_prompt", "Format Instructions", defaultFormatInstructions, required, advanced,
				info("The instructions to the language model for formatting the output.")),
			messageTextInput("schema_name", "Schema Name", "", advanced, info("Provide a name for the output data schema.")),
			field("table", "TableInput", "output_schema", "Output Schema",
				[]any{map[string]any{"name": "field", "description": "description of field", "type": "str", "multiple": "False"}},
				nil, []fieldOpt{required, info("Define the structure and data types for the model's output.")}),
		},
		Outputs: []engine.OutputSpec{
			output("structured_output", "Structured Output", "build_structured_output", "Data"),
			output("dataframe_output", "Structured Output", "build_structured_dataframe", "DataFrame"),
		},
	}
}

func toolMode(f *engine.FieldSpec) { f.ToolMode = true }

// Build implements engine.Component.
func (StructuredOutput) Build(ctx context.Context, b *engine.Build) error {
	schema, err := outputSchema(b)
	if err != nil {
		return err
	}
	raw, _ := b.Param("model")
	m, err := selectedModel(ctx, b, raw)
	if err != nil {
		return err
	}
	chat, err := m.Open(ctx, b)
	if err != nil {
		return err
	}
	name := b.Str("schema_name")
	if name == "" {
		name = "OutputModel"
	}
	system := strings.TrimSpace(b.Str("system_prompt") + "\n\nAnswer with one JSON object and nothing else, valid against this JSON Schema:\n" +
		schema.jsonSchema(name))
	msgs := []engine.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: b.Str("input_value")}}
	var objects []map[string]any
	var reasons []string
	for attempt := 1; attempt <= structuredAttempts; attempt++ {
		req := m.Request(msgs)
		req.JSONMode = true
		answer, err := chat.Chat(ctx, req, nil)
		if err != nil {
			return err
		}
		objects, err = schema.parse(answer)
		if err == nil {
			break
		}
		reasons = append(reasons, err.Error())
		msgs = append(msgs, engine.ChatMessage{Role: "assistant", Content: answer}, engine.ChatMessage{Role: "user",
			Content: "That answer does not match the schema: " + err.Error() + ". Answer again with only the JSON object."})
		objects = nil
	}
	if objects == nil {
		return fmt.Errorf("the model's answers did not match the output schema (%d attempts): %s",
			structuredAttempts, strings.Join(reasons, "; then: "))
	}
	if b.Wants("structured_output") {
		var d *engine.Data
		if len(objects) == 1 {
			d = engine.NewData(objects[0])
		} else {
			list := make([]any, len(objects))
			for i, o := range objects {
				list[i] = o
			}
			d = engine.NewData(map[string]any{"results": list})
		}
		b.Set("structured_output", d)
		b.SetStatus(d)
	}
	if b.Wants("dataframe_output") {
		df := engine.NewDataFrame(objects)
		b.Set("dataframe_output", df)
		b.SetStatus(df)
	}
	return nil
}

// schemaField is one row of the output_schema table.
type schemaField struct {
	Name, Description, Type string
	Multiple                bool
}

type structuredSchema []schemaField

// outputSchema reads the output_schema table: rows of name, description,
// type and multiple ("True"/"False" or a boolean).
func outputSchema(b *engine.Build) (structuredSchema, error) {
	raw, _ := b.Param("output_schema")
	rows, _ := asList(raw)
	if len(rows) == 0 {
		return nil, errors.New("Output schema cannot be empty")
	}
	var s structuredSchema
	seen := map[string]bool{}
	for i, r := range rows {
		var row map[string]any
		switch x := r.(type) {
		case map[string]any:
			row = x
		case *engine.Data:
			row = x.Map
		default:
			return nil, fmt.Errorf("output schema row %d is not a table row", i+1)
		}
		f := schemaField{Name: strings.TrimSpace(engine.Text(row["name"])), Description: engine.Text(row["description"]),
			Type: strings.TrimSpace(engine.Text(row["type"]))}
		if f.Type == "" {
			f.Type = "str"
		}
		switch m := row["multiple"].(type) {
		case bool:
			f.Multiple = m
		case string:
			f.Multiple = strings.EqualFold(strings.TrimSpace(m), "true")
		}
		switch {
		case f.Name == "":
			return nil, fmt.Errorf("output schema row %d has no name", i+1)
		case seen[f.Name]:
			return nil, fmt.Errorf("output schema names field %q twice", f.Name)
		}
		switch f.Type {
		case "str", "int", "float", "bool", "dict":
		default:
			return nil, fmt.Errorf("output schema field %q has type %q; the types are str, int, float, bool and dict", f.Name, f.Type)
		}
		seen[f.Name] = true
		s = append(s, f)
	}
	return s, nil
}

var jsonTypes = map[string]string{"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object"}

// jsonSchema is the JSON Schema of the answer: {"objects": [object, …]}
// with at least one object.
func (s structuredSchema) jsonSchema(name string) string {
	props := map[string]any{}
	required := make([]string, len(s))
	for i, f := range s {
		p := map[string]any{"type": []string{jsonTypes[f.Type], "null"}}
		if f.Multiple {
			p = map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": jsonTypes[f.Type]}}
		}
		if f.Description != "" {
			p["description"] = f.Description
		}
		props[f.Name] = p
		required[i] = f.Name
	}
	schema := map[string]any{"title": name, "description": "A list of " + name + ".", "type": "object",
		"properties": map[string]any{"objects": map[string]any{"type": "array", "minItems": 1,
			"description": "A list of " + name + ".",
			"items":       map[string]any{"type": "object", "properties": props, "required": required}}},
		"required": []string{"objects"}}
	out, _ := json.Marshal(schema) // maps of strings: cannot fail
	return string(out)
}

// parse checks a model's answer and returns its objects, their values
// converted to the schema's types.
func (s structuredSchema) parse(answer string) ([]map[string]any, error) {
	text := strings.TrimSpace(answer)
	if strings.HasPrefix(text, "```") { // a fenced block despite JSON mode
		text = strings.TrimPrefix(strings.TrimPrefix(text, "```json"), "```")
		text = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), "```"))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("the answer is not JSON (%v)", err)
	}
	if dec.More() {
		return nil, errors.New("the answer has more than one JSON value")
	}
	var list []any
	switch x := top.(type) {
	case map[string]any:
		objs, has := x["objects"]
		if !has {
			// One object of the schema, not wrapped: taken as the list of it.
			objs = []any{x}
		}
		var ok bool
		if list, ok = objs.([]any); !ok {
			return nil, errors.New(`"objects" is not a list`)
		}
	case []any:
		list = x
	default:
		return nil, errors.New(`the answer is not an object with "objects"`)
	}
	if len(list) == 0 {
		return nil, errors.New(`"objects" is empty; it needs at least one object`)
	}
	out := make([]map[string]any, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("objects[%d] is not an object", i)
		}
		row := map[string]any{}
		for _, f := range s {
			v, has := obj[f.Name]
			if !has {
				return nil, fmt.Errorf("objects[%d] has no field %q", i, f.Name)
			}
			cv, err := f.convert(v)
			if err != nil {
				return nil, fmt.Errorf("objects[%d].%s: %w", i, f.Name, err)
			}
			row[f.Name] = cv
		}
		out[i] = row
	}
	return out, nil
}

// convert checks v against the field's type (a list of it when
// Multiple); null is allowed.
func (f schemaField) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !f.Multiple {
		return convertScalar(f.Type, v)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("is not a list of %s", f.Type)
	}
	out := make([]any, len(list))
	for i, e := range list {
		c, err := convertScalar(f.Type, e)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

func convertScalar(typ string, v any) (any, error) {
	bad := fmt.Errorf("%s is not a valid %s", engine.PyRepr(v), typ)
	switch typ {
	case "str":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case "int":
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
			if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case "float":
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, ok := pyFloat(x); ok {
				return f, nil
			}
		}
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "on", "1", "t", "y":
				return true, nil
			case "false", "no", "off", "0", "f", "n":
				return false, nil
			}
		case json.Number:
			switch x.String() {
			case "1":
				return true, nil
			case "0":
				return false, nil
			}
		}
	case "dict":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
	return nil, bad
}
