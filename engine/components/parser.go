package components

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// Parser is Langflow's Parser: data.type ParserComponent (1.7) and parser
// (the older code starter projects embed), which differ as Langflow's
// two classes do.
//
// Parser mode renders pattern (Python str.format) for each row of a
// DataFrame (a missing column fails the vertex) or once for a Data or a
// message (its fields): ParserComponent renders a missing key as "",
// parser fails on it. The lines are joined by sep. A list of Data is
// refused.
//
// Stringify mode turns the input into text: ParserComponent as
// ChatOutput does (safe_convert: fenced JSON for Data, a markdown table
// with escaped pipes for a DataFrame, cleaned strings); parser keeps
// strings as they are, writes Data as Python's json.dumps and
// DataFrames unescaped, cleaned when clean_data is on. A list is
// converted item by item and joined by newlines.
type Parser struct{}

// Spec implements engine.Component.
func (Parser) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "ParserComponent", Aliases: []string{"parser"}, Category: "processing", DisplayName: "Parser",
		Description: "Extracts text using a template.", Icon: "braces", BaseClasses: []string{"Message"},
		Fields: []engine.FieldSpec{
			handleInput("input_data", "Data or DataFrame", []string{"DataFrame", "Data"}, required,
				info("Accepts either a DataFrame or a Data object.")),
			tabInput("mode", "Mode", "Parser", []string{"Parser", "Stringify"},
				info("Convert into raw string instead of using a template.")),
			multilineInput("pattern", "Template", "Text: {text}", required,
				info("Use variables within curly brackets to extract column values for DataFrames or key values for Data.For example: `Name: {Name}, Age: {Age}, Country: {Country}`")),
			messageTextInput("sep", "Separator", "\n", advanced, info("String used to separate rows/items.")),
		},
		Outputs: []engine.OutputSpec{output("parsed_text", "Parsed Text", "parse_combined_text")},
	}
}

// Build implements engine.Component.
func (Parser) Build(_ context.Context, b *engine.Build) error {
	legacy := b.Vertex.Type == "parser"
	in, _ := b.Param("input_data")
	if in == "" && b.Source("input_data") == nil {
		in = nil
	}
	if b.Str("mode") == "Stringify" {
		text, err := stringify(in, legacy, b.Bool("clean_data"))
		if err != nil {
			return err
		}
		m := engine.NewMessage(text)
		b.Set("parsed_text", m)
		b.SetStatus(m)
		return nil
	}
	pattern := b.Str("pattern")
	var lines []string
	render := func(fields map[string]any, strict bool) error {
		line, err := pyFormat(pattern, func(name string) (string, bool) {
			v, ok := fields[name]
			return engine.PyStr(v), ok
		}, strict)
		var missing *missingFieldError
		if errors.As(err, &missing) {
			return fmt.Errorf("the template uses {%s}, which the input does not have", missing.Name)
		}
		lines = append(lines, line)
		return err
	}
	switch x := in.(type) {
	case []engine.Value:
		for _, e := range x {
			if _, isData := e.(*engine.Data); !isData {
				if _, isMsg := e.(*engine.Message); !isMsg {
					return errors.New("Unsupported input type: <class 'list'>. Expected DataFrame or Data.")
				}
			}
		}
		return errors.New("List of Data objects is not supported.")
	case *engine.DataFrame:
		for _, row := range x.Rows {
			if err := render(dataFrameRow(x, row), true); err != nil {
				return err
			}
		}
	case *engine.Data:
		if err := render(x.Map, legacy); err != nil {
			return err
		}
	case *engine.Message:
		if err := render(x.Fields(), legacy); err != nil {
			return err
		}
	default:
		return fmt.Errorf("Unsupported input type: <class '%s'>. Expected DataFrame or Data.", pyTypeName(in))
	}
	setText(b, "parsed_text", strings.Join(lines, b.Str("sep")))
	return nil
}

// dataFrameRow is a row with every column of the DataFrame: a column the
// row lacks is NaN, as in pandas.
func dataFrameRow(df *engine.DataFrame, row map[string]any) map[string]any {
	out := make(map[string]any, len(df.Columns))
	for _, c := range df.Columns {
		if v, ok := row[c]; ok {
			out[c] = v
		} else {
			out[c] = nanText{}
		}
	}
	return out
}

// nanText is pandas' NaN in a row, which Python's str() writes "nan".
type nanText struct{}

func (nanText) String() string { return "nan" }

func stringify(in engine.Value, legacy, cleanData bool) (string, error) {
	items, isList := asList(in)
	if !isList {
		if legacy {
			return legacyConvert(in, cleanData), nil
		}
		if in == nil {
			in = false // Langflow converts `input or False`
		}
		return safeConvert(in, false)
	}
	parts := make([]string, len(items))
	for i, e := range items {
		var err error
		if legacy {
			parts[i] = legacyConvert(e, cleanData)
		} else if parts[i], err = safeConvert(e, cleanData); err != nil {
			return "", err
		}
	}
	return strings.Join(parts, "\n"), nil
}

// legacyConvert is the older parser's _safe_convert.
func legacyConvert(v engine.Value, cleanData bool) string {
	switch x := v.(type) {
	case string:
		return x
	case *engine.Message:
		return x.Text
	case *engine.Data:
		return pyJSONDumps(x.Map)
	case *engine.DataFrame:
		return markdownTable(x, false, cleanData)
	}
	return engine.PyStr(jsonable(v))
}
