package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/internal/testkit/fakeopenai"
)

// The Simple Agent starter (engine/components/testdata/simple-agent.json,
// Langflow 1.7's node shapes) imported and run unchanged through the
// server against scripted model turns: the tool run shows in the build
// API's events (build_start / build_end of the Calculator), the agent's
// message carries its tool_use content block in the events, in the
// monitor and in the run API's answer, and the Responses API shows the
// call as a function_call item.
func TestBuild_NativeSimpleAgent(t *testing.T) {
	fake := fakeopenai.New(t)
	s := natStart(t, fake, false)
	script := func() {
		fake.Script("gpt-4o-mini",
			fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_calc", "evaluate_expression", `{"expression": "15*4"}`)}},
			fakeopenai.Reply{Chunks: []string{"Four widgets ", "cost 60 euros."}})
	}
	script()
	flow := s.flow(t, s.root.token, starterData(t, "simple-agent"), nil)
	r := s.buildWithKey(t, flow, inputs("How much are four widgets at 15 euros each?", ""))
	fs := frames(t, r.raw)
	evs := names(t, fs)
	assert.Equal(t, "end", evs[len(evs)-1], r.raw)
	assert.Contains(t, r.raw, `{"event": "build_start", "data": {"id": "CalculatorComponent-Vb8Tr"}}`)
	assert.Contains(t, r.raw, `{"event": "build_end", "data": {"id": "CalculatorComponent-Vb8Tr"}}`)
	assert.Contains(t, r.raw, `"type": "tool_use"`)
	assert.Contains(t, r.raw, `"name": "evaluate_expression"`)
	assert.Contains(t, r.raw, "cost 60 euros.")

	// The monitor shows the agent's steps.
	var last string
	ok := assert.Eventually(t, func() bool {
		m := s.call(t, http.MethodGet, "/api/v1/monitor/messages?flow_id="+flow, nil, s.root.token)
		last = m.raw
		return m.status == http.StatusOK && strings.Contains(m.raw, `"tool_use"`) && strings.Contains(m.raw, "evaluate_expression")
	}, 15*time.Second, 20*time.Millisecond)
	require.True(t, ok, last)

	// The run API answers the agent's message with its content blocks.
	script()
	key := s.apiKey(t, s.root.token)
	h := keyHeader(key)
	h.Set("X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY", "sk-from-header")
	run := s.do(t, http.MethodPost, "/api/v1/run/"+flow, map[string]any{"input_value": "Four widgets at 15?"}, h)
	msg := resultOf(t, run)["results"].(map[string]any)["message"].(map[string]any)
	assert.Equal(t, "Four widgets cost 60 euros.", msg["text"])
	blocks := msg["content_blocks"].([]any)
	require.NotEmpty(t, blocks, run.raw)
	assert.Contains(t, run.raw, `"type":"tool_use"`)

	// The Responses API shows the call.
	script()
	resp := s.do(t, http.MethodPost, "/api/v1/responses", map[string]any{"model": flow, "input": "Four widgets at 15?"}, h)
	require.Equal(t, http.StatusOK, resp.status, resp.raw)
	out := resp.obj(t)["output"].([]any)
	require.Len(t, out, 2, resp.raw)
	assert.Equal(t, "function_call", out[0].(map[string]any)["type"])
	assert.Equal(t, "evaluate_expression", out[0].(map[string]any)["name"])
	assert.Equal(t, "message", out[1].(map[string]any)["type"])
}

// A failing agent withdraws its partial message, as Langflow does: the
// events say remove_message with its id, and the monitor keeps only the
// user's message.
func TestBuild_NativeAgentFailureRemovesItsMessage(t *testing.T) {
	fake := fakeopenai.New(t)
	s := natStart(t, fake, false)
	// One turn asking for a tool; the next call finds the script spent
	// (a 500 from the model).
	fake.Script("gpt-4o-mini",
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{fakeopenai.Call("call_calc", "evaluate_expression", `{"expression": "1+1"}`)}})
	flow := s.flow(t, s.root.token, starterData(t, "simple-agent"), nil)
	r := s.buildWithKey(t, flow, inputs("What is 1+1?", ""))
	fs := frames(t, r.raw)
	evs := names(t, fs)
	require.Contains(t, evs, "remove_message", r.raw)
	var added, removed string
	for _, f := range fs {
		var fr struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(f), &fr))
		switch {
		case fr.Event == "add_message" && fr.Data["sender_name"] != "User" && added == "":
			added, _ = fr.Data["id"].(string)
		case fr.Event == "remove_message":
			removed, _ = fr.Data["id"].(string)
		}
	}
	require.NotEmpty(t, added, "the agent showed its message while it worked")
	assert.Equal(t, added, removed, "remove_message names the agent's message")
	require.Eventually(t, func() bool {
		m := s.call(t, http.MethodGet, "/api/v1/monitor/messages?flow_id="+flow, nil, s.root.token)
		rows := m.list(t)
		return m.status == http.StatusOK && len(rows) == 1 && rows[0].(map[string]any)["sender"] == "User"
	}, 15*time.Second, 20*time.Millisecond, "only the user's message is kept")
}
