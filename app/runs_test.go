package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden runs: the bytes of every event type in every delivery mode,
// on a pinned clock (timestamps fixed, durations 0) and a fresh database
// (message ids from 1). Each flow is a chain, so the order is fixed.
func TestBuild_GoldenFrames(t *testing.T) {
	s := rtStart(t, true, nil, "")
	ids := func(flow, job string) map[string]string {
		return map[string]string{"<flow>": flow, "<job>": job}
	}

	t.Run("streaming", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtBasic(false), nil)
		job := s.job(t, s.root.token, flow, inputs("hi", "s1"))
		r := s.events(t, s.root.token, job, "")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
		assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "end_vertex", "end_vertex", "add_message",
			"end_vertex", "end"}, names(t, frames(t, r.raw)))
		golden(t, "basic_streaming", r.raw, ids(flow, job))
		// Read again: every streaming reader gets the whole feed.
		again := s.events(t, s.root.token, job, "streaming")
		assert.Equal(t, r.raw, again.raw)
	})

	t.Run("polling", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtBasic(false), nil)
		job := s.job(t, s.root.token, flow, inputs("hi", "s2"))
		var polls []string
		for len(polls) < 20 {
			r := s.events(t, s.root.token, job, "polling")
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
			require.NotEmpty(t, r.raw, "a poll waits for an event")
			polls = append(polls, r.raw)
			if strings.Contains(r.raw, `{"event": "end"`) {
				break
			}
		}
		// Joined polls hold every event once, in order.
		all := strings.Join(polls, "")
		assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "end_vertex", "end_vertex", "add_message",
			"end_vertex", "end"}, names(t, frames(t, strings.ReplaceAll(all, "\n\n\n", "\n\n"))))
		// Past the end, a poll answers another end at once (Langflow's
		// duplicate end).
		dup := s.events(t, s.root.token, job, "polling")
		assert.Equal(t, "{\"event\": \"end\", \"data\": {}}\n\n", dup.raw)
		stream := s.events(t, s.root.token, job, "streaming")
		golden(t, "basic_polling_replay", stream.raw, ids(flow, job))
	})

	t.Run("direct", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtBasic(false), nil)
		r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("hi", "s3"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "application/x-ndjson", r.header.Get("Content-Type"))
		golden(t, "basic_direct", r.raw, ids(flow, ""))
	})

	t.Run("tokens", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtBasic(true), nil)
		r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("héllo 😀", "s4"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "end_vertex", "add_message", "token", "token",
			"token", "token", "end_vertex", "add_message", "end_vertex", "end"}, names(t, frames(t, r.raw)))
		golden(t, "stream_tokens", r.raw, ids(flow, ""))
	})

	t.Run("errors", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TError-EEEEE:TError", nil),
			node("ChatOutput-DDDDD:ChatOutput", nil)}, "ChatInput-AAAAA.message>TError-EEEEE.input_value",
			"TError-EEEEE.out>ChatOutput-DDDDD.input_value"), nil)
		r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("hi", "s5"))
		assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "error", "end_vertex", "end"}, names(t, frames(t, r.raw)))
		golden(t, "component_error", r.raw, ids(flow, ""))
	})

	t.Run("tool_and_router", func(t *testing.T) {
		flow := s.flow(t, s.root.token, rtFlowData([]rtNode{node("ChatInput-AAAAA:ChatInput", nil), node("TTool-TTTTT:TTool", nil),
			node("TRoute-RRRRR:TRoute", nil), node("ChatOutput-YYYYY:ChatOutput", nil), node("ChatOutput-NNNNN:ChatOutput", nil)},
			"ChatInput-AAAAA.message>TTool-TTTTT.input_value", "TTool-TTTTT.out>TRoute-RRRRR.input_value",
			"TRoute-RRRRR.yes>ChatOutput-YYYYY.input_value", "TRoute-RRRRR.no>ChatOutput-NNNNN.input_value"), nil)
		r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("no", "s6"))
		assert.Equal(t, []string{"vertices_sorted", "add_message", "end_vertex", "build_start", "build_end", "end_vertex", "end_vertex",
			"add_message", "end_vertex", "end"}, names(t, frames(t, r.raw)))
		assert.Contains(t, r.raw, `"inactivated_vertices": ["ChatOutput-YYYYY"]`)
		golden(t, "tool_and_router", r.raw, ids(flow, ""))
	})

	t.Run("invalid_flow", func(t *testing.T) {
		data := rtBasic(false)
		data["nodes"] = append(data["nodes"].([]any), map[string]any{"id": "Agent-ZZZZZ", "type": "genericNode",
			"data": map[string]any{"id": "Agent-ZZZZZ", "type": "Agent", "node": map[string]any{"template": map[string]any{}}}})
		flow := s.flow(t, s.root.token, data, nil)
		r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs("hi", "s7"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, []string{"error"}, names(t, frames(t, r.raw)), "one error event, no end")
		assert.Contains(t, r.raw, `component type \"Agent\" has no Go implementation`)
		golden(t, "invalid_flow", r.raw, ids(flow, ""))
		// A poll past the end of a run without an end answers nothing.
		job := s.job(t, s.root.token, flow, inputs("hi", "s7"))
		first := s.events(t, s.root.token, job, "polling")
		assert.Equal(t, []string{"error"}, names(t, frames(t, first.raw)))
		empty := s.events(t, s.root.token, job, "polling")
		assert.Equal(t, http.StatusOK, empty.status)
		assert.Empty(t, empty.raw)
	})
}

// The build data's texts and lists are cut at the serialization limits.
func TestBuild_TruncatesBuildData(t *testing.T) {
	s := rtStart(t, true, map[string]string{"SKILLFLAW_SERIALIZATION_MAX_TEXT_LENGTH": "12"}, "")
	flow := s.flow(t, s.root.token, rtBasic(false), nil)
	long := strings.Repeat("abcdefgh", 10)
	r := s.build(t, s.root.token, flow, "event_delivery=direct", inputs(long, ""))
	require.Equal(t, http.StatusOK, r.status)
	fs := frames(t, r.raw)
	chatIn := fs[2]
	assert.Contains(t, chatIn, `"outputs": {"message": {"message": "abcdefghabcd...", "type": "text"}}`)
	assert.Contains(t, fs[1], `"text": "`+long+`"`, "add_message keeps the whole text")
}
