package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlows_batches_are_bounded: a batch create, an import and a bulk
// delete over their maximum count are 422 too_long, and nothing of them
// is written.
func TestFlows_batches_are_bounded(t *testing.T) {
	t.Parallel()
	s := projStart(t, nil)
	token, _ := s.projUser(t, "batcher")
	tooLong := func(t *testing.T, r reply, loc []any, limit, n int) {
		t.Helper()
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%.300s", r.raw)
		items, _ := r.detail().([]any)
		require.Len(t, items, 1, r.raw)
		it := items[0].(map[string]any)
		assert.Equal(t, "too_long", it["type"])
		assert.Equal(t, loc, it["loc"])
		assert.Equal(t, map[string]any{"field_type": "List", "max_length": float64(limit), "actual_length": float64(n)}, it["ctx"])
	}
	flows := make([]any, 501)
	for i := range flows {
		flows[i] = map[string]any{"name": "many"}
	}
	tooLong(t, s.call(t, http.MethodPost, "/api/v1/flows/batch/", map[string]any{"flows": flows}, token), []any{"body", "flows"}, 500, 501)
	doc, err := json.Marshal(map[string]any{"flows": flows})
	require.NoError(t, err)
	tooLong(t, s.projUpload(t, "/api/v1/flows/upload/", token, "file", "many.json", doc), []any{"body", "file", "flows"}, 500, 501)
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	tooLong(t, s.call(t, http.MethodDelete, "/api/v1/flows/", ids, token), []any{"body"}, 1000, 1001)

	r := s.call(t, http.MethodGet, "/api/v1/flows/", nil, token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotContains(t, r.raw, "many", "nothing of a refused batch is written")
	r = s.call(t, http.MethodPost, "/api/v1/flows/batch/", map[string]any{"flows": flows[:500]}, token)
	require.Equal(t, http.StatusCreated, r.status, "%.300s", r.raw)
	assert.Equal(t, 500, strings.Count(r.raw, `"name":"many`))
}
