package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"reflect"
	"slices"
)

// The component catalogue (GET /api/v1/all): every component of a
// registry as the frontend node template Langflow's create_component_template
// makes of a component class — the object a new node carries at
// data.node — built from the component's Spec alone. Objects are Go maps
// (written with sorted keys, as stored flows have them); lists keep the
// Spec's order.

// DefaultCategory is the catalogue section of a component whose Spec
// names none (Langflow's section of custom components).
const DefaultCategory = "custom_component"

// Catalogue is the component catalogue: category → catalogue name (the
// Spec's Type, the data.type of a node made from it) → node template.
type Catalogue map[string]map[string]map[string]any

// Catalogue returns the catalogue of every component of r, each once,
// under its Type (never under an alias).
func (r *Registry) Catalogue() Catalogue {
	cat := Catalogue{}
	for _, s := range r.specs {
		category := s.Category
		if category == "" {
			category = DefaultCategory
		}
		if cat[category] == nil {
			cat[category] = map[string]map[string]any{}
		}
		cat[category][s.Type] = NodeTemplate(s, moduleOf(r.byType[s.Type]))
	}
	return cat
}

// moduleOf names c's Go type as Langflow's metadata.module names a class:
// its package path, a dot, its name.
func moduleOf(c Component) string {
	t := reflect.TypeOf(c)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Name() == "" {
		return ""
	}
	return t.PkgPath() + "." + t.Name()
}

// NodeTemplate returns the frontend node of s (the value at data.node of
// a node made from it); module names its Go implementation. The template
// holds a code field whose text says that SkillFlaw runs its own Go
// implementation: SkillFlaw never executes a node's code (and refuses a
// node whose code was edited).
func NodeTemplate(s *Spec, module string) map[string]any {
	code := codeText(s, module)
	sum := sha256.Sum256([]byte(code))
	template := map[string]any{"_type": "Component", "code": codeField(code)}
	fieldOrder := make([]string, 0, len(s.Fields))
	customFields := map[string]any{}
	for _, f := range s.Fields {
		template[f.Name] = TemplateField(f)
		fieldOrder = append(fieldOrder, f.Name)
		if f.Type == "prompt" && s.DynamicFields {
			// A prompt's variables become fields listed here (§11.5).
			customFields[f.Name] = []string{}
		}
	}
	outputs := make([]any, 0, len(s.Outputs))
	for _, o := range s.Outputs {
		outputs = append(outputs, outputTemplate(o))
	}
	return map[string]any{
		"template":          template,
		"description":       s.Description,
		"icon":              s.Icon,
		"base_classes":      nonNil(s.BaseClasses),
		"display_name":      s.DisplayName,
		"documentation":     "",
		"minimized":         s.Minimized,
		"custom_fields":     customFields,
		"output_types":      []string{},
		"pinned":            false,
		"conditional_paths": []string{},
		"frozen":            false,
		"outputs":           outputs,
		"field_order":       fieldOrder,
		"beta":              false,
		"legacy":            s.Legacy,
		"edited":            false,
		"tool_mode":         false,
		"metadata":          map[string]any{"module": module, "code_hash": hex.EncodeToString(sum[:])[:12]},
	}
}

// codeText is the text of a catalogue node's code field.
func codeText(s *Spec, module string) string {
	if module == "" {
		module = "its Go component"
	}
	return "# " + s.DisplayName + " (" + s.Type + ") runs natively on SkillFlaw: " + module + ".\n" +
		"# SkillFlaw dispatches on the node's type and never executes this text;\n" +
		"# a node whose code was edited is refused.\n"
}

// codeField is the template's code field, as Langflow writes it.
func codeField(code string) map[string]any {
	return map[string]any{
		"type": "code", "value": code, "required": true, "show": true, "advanced": true, "dynamic": true,
		"multiline": true, "name": "code", "password": false, "placeholder": "", "info": "", "fileTypes": []string{},
		"file_path": "", "list": false, "load_from_db": false, "title_case": false,
	}
}

// inputClassKeys returns the keys Langflow 1.7's input class adds to
// every field of the class (as the starter projects show them), beyond
// what a FieldSpec declares.
func inputClassKeys(class string) map[string]any {
	switch class {
	case "MessageTextInput", "MultilineInput", "MessageInput", "DictInput":
		return map[string]any{"trace_as_input": true}
	case "DropdownInput", "TabInput":
		return map[string]any{"options": []string{}, "options_metadata": []any{}, "combobox": false, "toggle": false}
	case "SliderInput":
		return map[string]any{"range_spec": map[string]any{"max": 1.0, "min": 0.0, "step": 0.01, "step_type": "float"}}
	case "FileInput":
		return map[string]any{"fileTypes": []string{}, "file_path": "", "temp_file": false}
	case "ModelInput":
		return map[string]any{"model_type": "language", "options": []any{}, "external_options": map[string]any{},
			"placeholder": "Setup Provider", "refresh_button": true, "real_time_refresh": true}
	}
	return nil
}

// TemplateField returns f as a field of a node template: the keys every
// Langflow input has, those of its input class, and what f declares.
// input_types is left out when f declares none (nil), as Langflow leaves
// out its None values; an empty list is kept (an input without a handle).
func TemplateField(f FieldSpec) map[string]any {
	show := f.Show == nil || *f.Show
	value := f.Default
	if value == nil {
		value = ""
	}
	m := map[string]any{
		"type": f.Type, "name": f.Name, "display_name": f.DisplayName, "value": value, "info": f.Info,
		"show": show, "advanced": f.Advanced, "required": f.Required, "list": f.List, "list_add_label": "Add More",
		"dynamic": false, "load_from_db": f.LoadFromDB, "placeholder": "", "title_case": false,
		"trace_as_metadata": true,
	}
	maps.Copy(m, inputClassKeys(f.Input))
	if f.Input != "" {
		m["_input_type"] = f.Input
	}
	if f.InputTypes != nil {
		m["input_types"] = slices.Clone(f.InputTypes)
	}
	if f.Options != nil {
		m["options"] = slices.Clone(f.Options)
	}
	if f.Multiline {
		m["multiline"] = true
	}
	if f.Password {
		m["password"] = true
	}
	return m
}

// outputTemplate is o as an output of a node template.
func outputTemplate(o OutputSpec) map[string]any {
	types := nonNil(o.Types)
	selected := ""
	if len(types) > 0 {
		selected = types[0]
	}
	return map[string]any{
		"types": types, "selected": selected, "name": o.Name, "display_name": o.DisplayName, "method": o.Method,
		"value": "__UNDEFINED__", "cache": true, "allows_loop": o.AllowsLoop, "group_outputs": o.GroupOutputs,
		"tool_mode": true,
	}
}

// nonNil is l, or an empty list for nil (written [] rather than null).
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}
