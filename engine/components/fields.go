package components

import "github.com/skillflaw/skillflaw-go/engine"

// Field declarations in the manner of Langflow's input classes: each
// constructor gives the serialized type, the _input_type class and the
// class's default input_types; options adjust the rest.

type fieldOpt func(*engine.FieldSpec)

func field(typ, class, name, display string, def any, inputTypes []string, opts []fieldOpt) engine.FieldSpec {
	f := engine.FieldSpec{Name: name, DisplayName: display, Type: typ, Input: class, Default: def, InputTypes: inputTypes}
	for _, o := range opts {
		o(&f)
	}
	return f
}

var messageTypes = []string{"Message"}

// messageTextInput is a MessageTextInput: text, or a connected message
// reduced to its text.
func messageTextInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "MessageTextInput", name, display, def, messageTypes, opts)
}

// multilineInput is a MultilineInput (a MessageTextInput shown on several
// lines).
func multilineInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "MultilineInput", name, display, def, messageTypes, append([]fieldOpt{multiline}, opts...))
}

// messageInput is a MessageInput: a message (text becomes one).
func messageInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "MessageInput", name, display, def, messageTypes, opts)
}

// secretInput is a SecretStrInput: a password field whose value may name
// a variable (load_from_db).
func secretInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "SecretStrInput", name, display, def, []string{}, append([]fieldOpt{password}, opts...))
}

// strInput is a StrInput: plain text, no handle.
func strInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "StrInput", name, display, def, nil, opts)
}

func intInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("int", "IntInput", name, display, def, nil, opts)
}

func sliderInput(name, display string, def any, opts ...fieldOpt) engine.FieldSpec {
	return field("slider", "SliderInput", name, display, def, nil, opts)
}

func boolInput(name, display string, def bool, opts ...fieldOpt) engine.FieldSpec {
	return field("bool", "BoolInput", name, display, def, nil, opts)
}

func dictInput(name, display string, opts ...fieldOpt) engine.FieldSpec {
	return field("dict", "DictInput", name, display, map[string]any{}, nil, opts)
}

func dropdownInput(name, display string, def string, options []string, opts ...fieldOpt) engine.FieldSpec {
	return field("str", "DropdownInput", name, display, def, nil, append([]fieldOpt{withOptions(options...)}, opts...))
}

func tabInput(name, display string, def string, options []string, opts ...fieldOpt) engine.FieldSpec {
	return field("tab", "TabInput", name, display, def, nil, append([]fieldOpt{withOptions(options...)}, opts...))
}

// handleInput is a HandleInput: a value only an edge gives, any object of
// the input types.
func handleInput(name, display string, inputTypes []string, opts ...fieldOpt) engine.FieldSpec {
	return field("other", "HandleInput", name, display, "", inputTypes, opts)
}

func advanced(f *engine.FieldSpec)   { f.Advanced = true }
func required(f *engine.FieldSpec)   { f.Required = true }
func multiline(f *engine.FieldSpec)  { f.Multiline = true }
func password(f *engine.FieldSpec)   { f.Password = true }
func loadFromDB(f *engine.FieldSpec) { f.LoadFromDB = true }
func isList(f *engine.FieldSpec)     { f.List = true }

func hidden(f *engine.FieldSpec) {
	show := false
	f.Show = &show
}

func info(s string) fieldOpt { return func(f *engine.FieldSpec) { f.Info = s } }

func inputTypes(t ...string) fieldOpt {
	if t == nil {
		t = []string{} // no handle
	}
	return func(f *engine.FieldSpec) { f.InputTypes = t }
}

func withOptions(o ...string) fieldOpt { return func(f *engine.FieldSpec) { f.Options = o } }

func output(name, display, method string, types ...string) engine.OutputSpec {
	if len(types) == 0 {
		types = messageTypes
	}
	return engine.OutputSpec{Name: name, DisplayName: display, Method: method, Types: types}
}
