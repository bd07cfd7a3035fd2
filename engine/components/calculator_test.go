package components

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

func TestCalculator_Evaluates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"4*4*(33/22)+12-20": "16",
		"2 ** 10":           "1024",
		"10/3":              "3.333333",
		"7 % 3":             "1",
		"-7 % 3":            "2",
		"-(2+3) * 2":        "-10",
		"1.5e3 + 0.25":      "1500.25",
		"0.1 + 0.2":         "0.3",
		"2 ** -1":           "0.5",
		"1/3000000":         "0",
		"(((1)))":           "1",
	} {
		x, err := Calculate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, formatResult(x), in)
	}
}

func TestCalculator_Refuses(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abs(-1)":                 "Unsupported operation or expression type: Call",
		"len('abc') + 1":          "Unsupported operation or expression type: Call",
		"x + 1":                   "Unsupported operation or expression type: Name",
		"true":                    "Unsupported operation or expression type: Name",
		"a.b":                     "Unsupported operation or expression type: Attribute",
		"'a' + 1":                 "Unsupported constant type: str",
		"[1, 2]":                  "Unsupported operation or expression type: List",
		"1 == 1":                  "Unsupported operation or expression type: Compare",
		"1 < 2 ? 1 : 2":           "Unsupported operation or expression type: IfExp",
		"3 ^ 2":                   "Unsupported binary operator: BitXor",
		"not 1":                   "Unsupported operation or expression type: UnaryOp",
		"1 +":                     "invalid syntax (<unknown>, line 1)",
		"":                        "invalid syntax (<unknown>, line 1)",
		"2 ** 10000":              "(34, 'Numerical result out of range')",
		"(-8) ** 0.5":             "float() argument must be a real number, not 'complex'",
		strings.Repeat("1+", 600): "the expression has 1200 characters; at most 1000 are allowed",
		"let x = 1; x":            "Unsupported operation or expression type: Expression",
		"1 / 0":                   "division by zero",
		"5 % (2 - 2)":             "division by zero",
		"0 ** -1":                 "division by zero",
	} {
		_, err := Calculate(in)
		assert.EqualError(t, err, want, in)
	}
}

func TestCalculator_Build(t *testing.T) {
	t.Parallel()
	reg := netRegistry(t)
	for in, want := range map[string]map[string]any{
		"4*4*(33/22)+12-20": {"result": "16"},
		"1/0":               {"error": "Error: Division by zero", "input": "1/0"},
		"__import__('os')":  {"error": "Invalid expression: Unsupported operation or expression type: Call", "input": "__import__('os')"},
	} {
		r := runNode(t, reg, engine.Env{}, "CalculatorComponent-1", "CalculatorComponent", map[string]any{"expression": in})
		d, ok := outValue(t, r, "CalculatorComponent-1", "result").(*engine.Data)
		require.True(t, ok)
		assert.Equal(t, want, d.Map, in)
	}
}
