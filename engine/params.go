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
//
// Only a field the component declares secret (a SecretStrInput: an API
// key) may take its variable from the server's environment; fromServer
// names those that did, so that their values go only where the operator
// configured (see Build.ParamFromServer).
func (r *run) staticParams(ctx context.Context, v *Vertex) (params map[string]Value, fromServer map[string]bool, err error) {
	params, fromServer = map[string]Value{}, map[string]bool{}
	for name, f := range v.Template {
		if name == "code" || !f.Show || f.Type == "other" {
			continue
		}
		spec, _ := v.Spec.Field(name)
		val, keep, server, err := r.fieldValue(ctx, f, spec.Password)
		if err != nil {
			return nil, nil, err
		}
		if keep {
			params[name] = val
		}
		if server {
			fromServer[name] = true
		}
	}
	return params, fromServer, nil
}

// fieldValue converts a stored field value by the field's type; keep is
// false when the field gives no parameter (an empty value of a type that
// passes only truthy ones, a null). A load_from_db field's variable may
// come from the server's environment only when secret is true; fromServer
// says whether it did.
func (r *run) fieldValue(ctx context.Context, f Field, secret bool) (val Value, keep, fromServer bool, err error) {
	v := f.Value
	if f.Type == "file" {
		v = f.FilePath
	}
	if v == nil {
		return nil, false, false, nil
	}
	if s, ok := v.(string); ok && f.Type == "str" && f.LoadFromDB && s != "" {
		val, fromServer, err := r.variable(ctx, s, secret)
		return val, err == nil, fromServer, err
	}
	val, keep = convertField(f, v)
	return val, keep, false, nil
}

// convertField converts a stored value by the field's type.
func convertField(f Field, v any) (Value, bool) {
	switch f.Type {
	case "str":
		s, ok := v.(string)
		if !ok {
			return v, true
		}
		return unescape(s), true
	case "int":
		if n, ok := toInt(v); ok {
			return n, true
		}
		return v, true
	case "float", "slider":
		if x, ok := toFloat(v); ok {
			return x, true
		}
		return v, true
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, true
		case string:
			return x != "", true // Python's bool(str)
		}
		return Truthy(v), true
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
			return merged, true
		}
		return v, true
	case "prompt", "tab", "model", "sortableList", "mcp", "tools", "query", "table", "auth", "connect":
		return v, Truthy(v)
	}
	return v, true
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
// Variables port, then — when the engine allows it and server is true —
// the process environment, but for the server's own configuration: a
// flow's author would otherwise read the database's password into an
// output. fromServer tells a value the environment gave: a secret of the
// server's, which its caller sends only where the operator configured.
func (r *run) variable(ctx context.Context, name string, server bool) (value string, fromServer bool, err error) {
	if v, ok := r.in.Variables[strings.ToUpper(name)]; ok {
		return v, false, nil
	}
	if r.env.Variables != nil {
		v, ok, err := r.env.Variables.Lookup(withRun(ctx, &r.in), r.in.UserID, name)
		if err != nil || ok {
			return v, false, err
		}
	}
	if server && r.e.limits.VariablesFromEnv && !serverEnv(name) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true, nil
		}
	}
	return "", false, &ErrVariableNotFound{Name: name}
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
