package components

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/skillflaw/skillflaw-go/engine"
)

// maxExpressionLen bounds the text of a Calculator expression (in
// characters): longer ones are refused before they are parsed.
const maxExpressionLen = 1000

// Calculator is Langflow's Calculator (CalculatorComponent): an
// arithmetic expression evaluated in floating point, its result given as
// Data {"result": "<number>"} formatted as Python's
// f"{x:.6f}".rstrip("0").rstrip("."). Nothing is executed: the text is
// parsed by expr-lang's parser and only its number literals, the binary
// operators + - * / ** % and unary + - (parentheses group) are evaluated,
// by this file's own walk of the tree; a function call, a name, a member
// access, a string, a comparison or any other node is refused, as are
// expressions longer than maxExpressionLen characters. A refusal or an
// arithmetic error is not a failure of the vertex: the output is Data
// {"error": …, "input": <expression>} with Langflow's wording ("Invalid
// expression: …", "Error: Division by zero").
//
// Langflow refuses % and unary minus (Python's Mod and UnaryOp); they are
// allowed here, being plain arithmetic.
type Calculator struct{}

// Spec implements engine.Component.
func (Calculator) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "CalculatorComponent", Category: "utilities", DisplayName: "Calculator",
		Description: "Perform basic arithmetic operations on a given expression.", Icon: "calculator",
		BaseClasses: []string{"Data"},
		Fields: []engine.FieldSpec{
			messageTextInput("expression", "Expression", "", toolArg,
				info("The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').")),
		},
		Outputs: []engine.OutputSpec{output("result", "Data", "evaluate_expression", "Data")},
	}
}

// toolArg marks an input that is an argument of the component run as a
// tool (Langflow's tool_mode=True).
func toolArg(f *engine.FieldSpec) { f.ToolMode = true }

// Build implements engine.Component.
func (Calculator) Build(_ context.Context, b *engine.Build) error {
	in := b.Str("expression")
	x, err := Calculate(in)
	var d *engine.Data
	switch {
	case errors.Is(err, errDivisionByZero):
		msg := "Error: Division by zero"
		b.SetStatus(msg)
		d = engine.NewData(map[string]any{"error": msg, "input": in})
	case err != nil:
		msg := "Invalid expression: " + err.Error()
		b.SetStatus(msg)
		d = engine.NewData(map[string]any{"error": msg, "input": in})
	default:
		s := formatResult(x)
		b.SetStatus(s)
		d = engine.NewData(map[string]any{"result": s})
	}
	b.Set("result", d)
	return nil
}

var errDivisionByZero = errors.New("division by zero")

// Calculate evaluates an arithmetic expression as the Calculator does;
// its errors are worded as Python's (the Calculator prefixes them).
func Calculate(in string) (float64, error) {
	if n := utf8.RuneCountInString(in); n > maxExpressionLen {
		return 0, fmt.Errorf("the expression has %d characters; at most %d are allowed", n, maxExpressionLen)
	}
	if strings.TrimSpace(in) == "" {
		return 0, errors.New("invalid syntax (<unknown>, line 1)")
	}
	tree, err := parser.Parse(in)
	if err != nil {
		return 0, errors.New("invalid syntax (<unknown>, line 1)")
	}
	return evalNode(tree.Node, 0)
}

// evalNode evaluates the arithmetic nodes; any other is refused with the
// name Python's ast gives its kind.
func evalNode(n ast.Node, depth int) (float64, error) {
	if depth > maxExpressionLen {
		return 0, errors.New("the expression is nested too deeply")
	}
	switch x := n.(type) {
	case *ast.IntegerNode:
		return float64(x.Value), nil
	case *ast.FloatNode:
		return x.Value, nil
	case *ast.UnaryNode:
		v, err := evalNode(x.Node, depth+1)
		if err != nil {
			return 0, err
		}
		switch x.Operator {
		case "-":
			return -v, nil
		case "+":
			return v, nil
		}
		return 0, errors.New("Unsupported operation or expression type: UnaryOp")
	case *ast.BinaryNode:
		name, ok := pyBinOps[x.Operator]
		if !ok {
			return 0, fmt.Errorf("Unsupported operation or expression type: %s", pyNodeName(n))
		}
		if name != "" {
			return 0, fmt.Errorf("Unsupported binary operator: %s", name)
		}
		l, err := evalNode(x.Left, depth+1)
		if err != nil {
			return 0, err
		}
		r, err := evalNode(x.Right, depth+1)
		if err != nil {
			return 0, err
		}
		return arith(x.Operator, l, r)
	case *ast.StringNode:
		return 0, errors.New("Unsupported constant type: str")
	}
	return 0, fmt.Errorf("Unsupported operation or expression type: %s", pyNodeName(n))
}

// pyBinOps maps expr's binary operators to "" (allowed) or to the name of
// Python's operator that is refused; an operator absent from it is not a
// binary operation in Python (a comparison, a boolean operator …).
var pyBinOps = map[string]string{
	"+": "", "-": "", "*": "", "/": "", "**": "", "%": "",
	"^": "BitXor", "|": "BitOr", "&": "BitAnd", "<<": "LShift", ">>": "RShift", "//": "FloorDiv",
}

// pyNodeName is the name Python's ast gives a node like n.
func pyNodeName(n ast.Node) string {
	switch x := n.(type) {
	case *ast.IdentifierNode, *ast.BoolNode, *ast.NilNode:
		return "Name"
	case *ast.CallNode, *ast.BuiltinNode:
		return "Call"
	case *ast.MemberNode, *ast.ChainNode:
		return "Attribute"
	case *ast.SliceNode:
		return "Subscript"
	case *ast.ArrayNode:
		return "List"
	case *ast.MapNode:
		return "Dict"
	case *ast.ConditionalNode:
		return "IfExp"
	case *ast.BinaryNode:
		switch x.Operator {
		case "and", "or", "&&", "||", "??":
			return "BoolOp"
		}
		return "Compare"
	case *ast.UnaryNode:
		return "UnaryOp"
	}
	return "Expression"
}

// arith applies op to two floats as Python's float operators do.
func arith(op string, l, r float64) (float64, error) {
	switch op {
	case "+":
		return l + r, nil
	case "-":
		return l - r, nil
	case "*":
		return l * r, nil
	case "/":
		if r == 0 {
			return 0, errDivisionByZero
		}
		return l / r, nil
	case "%":
		if r == 0 {
			return 0, errDivisionByZero
		}
		m := math.Mod(l, r)
		if m != 0 && (m < 0) != (r < 0) {
			m += r // Python's modulo takes the divisor's sign
		}
		return m, nil
	case "**":
		if l == 0 && r < 0 {
			return 0, errDivisionByZero
		}
		if l < 0 && r != math.Trunc(r) && !math.IsInf(r, 0) {
			return 0, errors.New("float() argument must be a real number, not 'complex'")
		}
		p := math.Pow(l, r)
		if math.IsInf(p, 0) && !math.IsInf(l, 0) && !math.IsInf(r, 0) {
			return 0, errors.New("(34, 'Numerical result out of range')")
		}
		return p, nil
	}
	return 0, fmt.Errorf("Unsupported binary operator: %s", op)
}

// formatResult is Python's f"{x:.6f}".rstrip("0").rstrip(".").
func formatResult(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(x, 'f', 6, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}
