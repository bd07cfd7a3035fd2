package agentic

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
)

// TestBuiltinFlows_Compile: every built-in flow, its model set, compiles
// with the engine's components and is ChatInput → Prompt →
// LanguageModelComponent → ChatOutput.
func TestBuiltinFlows_Compile(t *testing.T) {
	reg, err := engine.NewRegistry(components.All()...)
	require.NoError(t, err)
	eng := engine.New(reg, engine.Limits{})
	names := FlowNames()
	assert.Subset(t, names, []string{"explain_flow", "suggest_next_component"})
	for _, name := range names {
		data, err := builtinFlow(name)
		require.NoError(t, err, name)
		data, err = withModel(data, &selection{provider: Provider{Name: "Acme"}, model: "acme-1"})
		require.NoError(t, err, name)
		_, err = eng.Compile(data)
		require.NoError(t, err, name)
		var types []string
		for _, n := range flowNodes(data) {
			types = append(types, n.typ)
		}
		assert.ElementsMatch(t, []string{"ChatInput", "Prompt", "LanguageModelComponent", "ChatOutput"}, types, name)
		assert.Contains(t, string(data), `"value":[{"name":"acme-1","provider":"Acme"}]`, name)
	}
	for _, bad := range []string{"", "../agentic", "Explain_Flow", "nope"} {
		_, err := builtinFlow(bad)
		assert.Error(t, err, bad)
	}
}

// TestValidate: what an answer must be.
func TestValidate(t *testing.T) {
	s := &Service{Component: func(typ string) bool { return typ == "Memory" || typ == "ChatOutput" }}
	a, err := s.validate("```json\n" + `{"answer": "ok", "suggestions": [{"component": "Memory", "reason": "r"}]}` + "\n```")
	require.NoError(t, err)
	assert.Equal(t, "Memory", a.Suggestions[0].Component)
	a, err = s.validate(`{"answer": "ok"}`)
	require.NoError(t, err)
	b, _ := json.Marshal(a)
	assert.JSONEq(t, `{"answer": "ok", "suggestions": []}`, string(b))
	for in, want := range map[string]string{
		`not json`:                             "not the JSON object",
		`{"answer": "ok"} trailing`:            "text after",
		`{"answer": ""}`:                       "empty",
		`{"answer": "ok", "code": "print(1)"}`: "not the JSON object",
		`{"answer": "ok", "suggestions": [{"component": "X"}]}`: `"X", which is not a component type`,
	} {
		_, err := s.validate(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}
