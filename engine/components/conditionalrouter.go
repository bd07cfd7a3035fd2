package components

import (
	"context"
	"regexp"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// routerOperators are If-Else's operators, in Langflow's order.
var routerOperators = []string{"equals", "not equals", "contains", "starts with", "ends with", "regex",
	"less than", "less than or equal", "greater than", "greater than or equal"}

// ConditionalRouter is Langflow's If-Else: it compares input_text with
// match_text and routes. The true_result output gives true_case_message
// when the condition holds, false_result gives false_case_message when it
// does not (not the input text); the output not taken gives an empty
// message and its branch is switched off for the run. Comparisons are
// lower-cased unless case_sensitive (except regex); regex matches at the
// start of the text only (Python's re.match) and an invalid pattern is
// false; the numeric operators parse both sides as Python's float() does
// and are false when either is not a number. max_iterations and
// default_route break loops as in Langflow: once the router has built
// max_iterations times in a run, the default route is taken.
//
// Patterns are RE2 (Go's regexp), not Python's re: lookarounds and
// backreferences are invalid here (so false), and matching takes linear
// time, which a pattern from a flow cannot turn into a denial of service.
type ConditionalRouter struct{}

// Spec implements engine.Component.
func (ConditionalRouter) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "ConditionalRouter", Category: "flow_controls", DisplayName: "If-Else",
		Description: "Routes an input message to a corresponding output based on text comparison.",
		Icon:        "split", BaseClasses: []string{"Message"},
		Fields: []engine.FieldSpec{
			messageTextInput("input_text", "Text Input", "", required, info("The primary text input for the operation.")),
			dropdownInput("operator", "Operator", "equals", routerOperators, info("The operator to apply for comparing the texts.")),
			messageTextInput("match_text", "Match Text", "", required, info("The text input to compare against.")),
			boolInput("case_sensitive", "Case Sensitive", true, advanced, info("If true, the comparison will be case sensitive.")),
			messageInput("true_case_message", "Case True", "", advanced, info("The message to pass if the condition is True.")),
			messageInput("false_case_message", "Case False", "", advanced, info("The message to pass if the condition is False.")),
			intInput("max_iterations", "Max Iterations", 10, advanced, info("The maximum number of iterations for the conditional router.")),
			dropdownInput("default_route", "Default Route", "false_result", []string{"true_result", "false_result"}, advanced,
				info("The default route to take when max iterations are reached.")),
		},
		Outputs: []engine.OutputSpec{
			{Name: "true_result", DisplayName: "True", Method: "true_response", Types: messageTypes, GroupOutputs: true},
			{Name: "false_result", DisplayName: "False", Method: "false_response", Types: messageTypes, GroupOutputs: true},
		},
	}
}

// Build implements engine.Component.
func (ConditionalRouter) Build(_ context.Context, b *engine.Build) error {
	result := evaluateCondition(b.Str("input_text"), b.Str("match_text"), b.Str("operator"), b.Bool("case_sensitive"))
	maxIter, _ := b.Int("max_iterations")
	defaultRoute := b.Str("default_route")
	iteration := 0
	if v, ok := b.State("iteration"); ok {
		iteration, _ = v.(int)
	}
	updated := false
	// iterateAndStopOnce counts this build once and switches route off —
	// or, past max_iterations when route is the default, the other one.
	iterateAndStopOnce := func(route string) {
		if updated {
			return
		}
		updated = true
		b.StoreState("iteration", iteration+1)
		if int64(iteration+1) >= maxIter && route == defaultRoute {
			route = otherRoute(route)
		}
		b.Stop(route)
	}
	empty := func() *engine.Message {
		m := engine.NewMessage("")
		m.Data = map[string]any{"content": ""}
		return m
	}
	if b.Wants("true_result") {
		force := int64(iteration) >= maxIter && defaultRoute == "true_result"
		if result || force {
			m := b.Message("true_case_message")
			b.SetStatus(m)
			b.Set("true_result", m)
			if !force {
				iterateAndStopOnce("false_result")
			}
		} else {
			iterateAndStopOnce("true_result")
			b.Set("true_result", empty())
		}
	}
	if b.Wants("false_result") {
		if !result {
			m := b.Message("false_case_message")
			b.SetStatus(m)
			b.Set("false_result", m)
			iterateAndStopOnce("true_result")
		} else {
			iterateAndStopOnce("false_result")
			b.Set("false_result", empty())
		}
	}
	return nil
}

func otherRoute(route string) string {
	if route == "false_result" {
		return "true_result"
	}
	return "false_result"
}

// evaluateCondition is If-Else's evaluate_condition.
func evaluateCondition(input, match, operator string, caseSensitive bool) bool {
	if !caseSensitive && operator != "regex" {
		input, match = strings.ToLower(input), strings.ToLower(match)
	}
	switch operator {
	case "equals":
		return input == match
	case "not equals":
		return input != match
	case "contains":
		return strings.Contains(input, match)
	case "starts with":
		return strings.HasPrefix(input, match)
	case "ends with":
		return strings.HasSuffix(input, match)
	case "regex":
		re, err := regexp.Compile(match)
		if err != nil {
			return false
		}
		loc := re.FindStringIndex(input)
		return loc != nil && loc[0] == 0
	case "less than", "less than or equal", "greater than", "greater than or equal":
		a, okA := pyFloat(input)
		m, okM := pyFloat(match)
		if !okA || !okM {
			return false
		}
		switch operator {
		case "less than":
			return a < m
		case "less than or equal":
			return a <= m
		case "greater than":
			return a > m
		default:
			return a >= m
		}
	}
	return false
}
