package components

import (
	"fmt"
	"strings"
)

// missingFieldError is a template field with no value (Python's KeyError
// of str.format).
type missingFieldError struct{ Name string }

func (e *missingFieldError) Error() string {
	return fmt.Sprintf("the template has no value for {%s}", e.Name)
}

// pyFormat renders template as Python's str.format does with named
// fields only: {name} is replaced by lookup(name), {{ and }} are literal
// braces. With strict, a name lookup does not know is a
// *missingFieldError (str.format(**values)); otherwise it renders as ""
// (format_map over a defaultdict(str)). Format specifications ({x:>10}),
// conversions ({x!r}), attribute and index access ({x.y}, {x[0]}) and
// positional fields ({}, {0}) are refused with an error naming the field:
// SkillFlaw does not implement them.
func pyFormat(template string, lookup func(name string) (string, bool), strict bool) (string, error) {
	var out strings.Builder
	for i := 0; i < len(template); {
		c := template[i]
		switch {
		case c == '{' && i+1 < len(template) && template[i+1] == '{':
			out.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(template) && template[i+1] == '}':
			out.WriteByte('}')
			i += 2
		case c == '}':
			return "", fmt.Errorf("Single '}' encountered in format string")
		case c == '{':
			end, depth := i+1, 1
			for ; end < len(template); end++ {
				if template[end] == '{' {
					depth++
				} else if template[end] == '}' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if end >= len(template) {
				if i+1 == len(template) {
					return "", fmt.Errorf("Single '{' encountered in format string")
				}
				return "", fmt.Errorf("expected '}' before end of string")
			}
			text, err := formatField(template[i+1:end], lookup, strict)
			if err != nil {
				return "", err
			}
			out.WriteString(text)
			i = end + 1
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

func formatField(field string, lookup func(string) (string, bool), strict bool) (string, error) {
	name := field
	if k := strings.IndexAny(field, "!:"); k >= 0 {
		name = field[:k]
		return "", fmt.Errorf("the template field {%s} has a format specification or conversion; SkillFlaw supports plain fields only: write {%s}", field, name)
	}
	if name == "" || strings.Trim(name, "0123456789") == "" {
		return "", fmt.Errorf("the template field {%s} is positional; name it, as in {text}", field)
	}
	if strings.ContainsAny(name, ".[") {
		return "", fmt.Errorf("the template field {%s} reads an attribute or an index; SkillFlaw supports plain fields only", field)
	}
	v, ok := lookup(name)
	switch {
	case !ok && strict:
		return "", &missingFieldError{Name: name}
	case !ok:
		return "", nil
	}
	return v, nil
}
