package mcpserver

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxToolNameLength is the longest tool name (Langflow's
// MAX_MCP_TOOL_NAME_LENGTH).
const MaxToolNameLength = 30

// maxSanitized is how long a sanitised name may be before the tool-name
// cut (Langflow's sanitize_mcp_name cap).
const maxSanitized = 46

// Sanitize makes a flow's name an MCP tool name as Langflow's
// sanitize_mcp_name does: diacritics stripped (NFD, combining marks
// dropped), characters other than letters, digits, "_", space and "-"
// dropped, runs of spaces and "-" made "_", "_" runs collapsed and
// trimmed, "_" before a leading digit, lower case, at most 46 characters,
// "unnamed" when nothing is left.
func Sanitize(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '-' || unicode.IsSpace(r):
			b.WriteRune('_')
		}
	}
	s := b.String()
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	s = strings.Trim(s, "_")
	if s != "" && unicode.IsDigit([]rune(s)[0]) {
		s = "_" + s
	}
	s = strings.ToLower(s)
	if r := []rune(s); len(r) > maxSanitized {
		s = string(r[:maxSanitized])
	}
	if s == "" {
		return "unnamed"
	}
	return s
}

// uniqueName cuts name to MaxToolNameLength and, if seen has it, adds
// _1, _2 … (the base cut to fit); it records the result in seen.
func uniqueName(name string, seen map[string]bool) string {
	cut := func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n])
		}
		return s
	}
	out := cut(name, MaxToolNameLength)
	for i := 1; seen[out]; i++ {
		suffix := "_" + strconv.Itoa(i)
		out = cut(name, MaxToolNameLength-len(suffix)) + suffix
	}
	seen[out] = true
	return out
}
