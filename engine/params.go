package engine

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Parameter resolution, as Langflow's param handler does it (§11.2 of the
// runtime reference): a node's stored field values by type, variables for
// load_from_db fields, the run's session and input, then the values of
// the incoming edges. Fields hidden in the node (show: false) are left to
// the component's defaults, and fields of type "other" take values only
// from edges.

// ErrVariableNotFound is the failure of a load_from_db field whose
// variable is unknown; its text is Langflow's.
type ErrVariableNotFound struct{ Name string }

func (e *ErrVariableNotFound) Error() string { return e.Name + " variable not found." }

// staticParams returns v's parameters from its stored template (no edges,
// no run input): the part that is the same for every run of a graph but
// the variables, resolved per run.
func (r *run) staticParams(ctx context.Context, v *Vertex) (map[string]Value, error) {
	params := map[string]Value{}
	for name, f := range v.Template {
		if name == "code" || !f.Show || f.Type == "other" {
			continue
		}
		val, keep, err := r.fieldValue(ctx, f)
		if err != nil {
			return nil, err
		}
		if keep {
			params[name] = val
		}
	}
	return params, nil
}

// fieldValue converts a stored field value by the field's type; keep is
// false when the field gives no parameter (an empty value of a type that
// passes only truthy ones, a null).
func (r *run) fieldValue(ctx context.Context, f Field) (Value, bool, error) {
	v := f.Value
	if f.Type == "file" {
		v = f.FilePath
	}
	if v == nil {
		return nil, false, nil
	}
	switch f.Type {
	case "str":
		s, ok := v.(string)
		if !ok {
			return v, true, nil
		}
		if f.LoadFromDB && s != "" {
			val, err := r.variable(ctx, s)
			return val, err == nil, err
		}
		return unescape(s), true, nil
	case "int":
		if n, ok := toInt(v); ok {
			return n, true, nil
		}
		return v, true, nil
	case "float", "slider":
		if x, ok := toFloat(v); ok {
			return x, true, nil
		}
		return v, true, nil
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, true, nil
		case string:
			return x != "", true, nil // Python's bool(str)
		}
		return Truthy(v), true, nil
	case "dict", "NestedDict":
		if list, ok := v.([]any); ok {
			merged := map[string]any{}
			for _, item := range list {
				if m, ok := item.(map[string]any); ok {
					for k, x := range m {
						merged[k] = x
					}
				}
			}
			return merged, true, nil
		}
		return v, true, nil
	case "prompt", "tab", "model", "sortableList", "mcp", "tools", "query", "table", "auth", "connect":
		return v, Truthy(v), nil
	}
	return v, true, nil
}

// serverEnvPrefixes start the names of the server's own configuration
// (SKILLFLAW_DATABASE_URL …) and of the PostgreSQL client's, which pgx
// reads (PGPASSWORD …): no flow reads them from the environment.
var serverEnvPrefixes = []string{"SKILLFLAW_", "PG"}

// serverEnv reports whether name is one of the server's own variables.
func serverEnv(name string) bool {
	name = strings.ToUpper(name)
	return slices.ContainsFunc(serverEnvPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// variable resolves a load_from_db variable: the request's variables
// (X-LANGFLOW-GLOBAL-VAR-* headers, by upper-cased name), then the
// Variables port, then — when the engine allows it — the process
// environment, but for the server's own configuration: a flow's author
// would otherwise read the database's password into an output.
func (r *run) variable(ctx context.Context, name string) (string, error) {
	if v, ok := r.in.Variables[strings.ToUpper(name)]; ok {
		return v, nil
	}
	if r.env.Variables != nil {
		v, ok, err := r.env.Variables.Lookup(ctx, r.in.UserID, name)
		if err != nil || ok {
			return v, err
		}
	}
	if r.e.limits.VariablesFromEnv && !serverEnv(name) {
		if v, ok := os.LookupEnv(name); ok {
			return v, nil
		}
	}
	return "", &ErrVariableNotFound{Name: name}
}

// unescape turns the two characters \n into a newline, as Langflow's
// unescape_string does for every str field.
func unescape(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }

// Truthy is Python's bool() of a parameter value: None, False, "", empty
// lists and dicts and zero are false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0
	case int64:
		return x != 0
	}
	return true
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		if f, err := x.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, true
		}
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
