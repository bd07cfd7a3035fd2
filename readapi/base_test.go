package readapi_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// configKeys are the sample keys of #57 Get Config in the contract, sorted.
func configKeys() []string {
	return slices.Sorted(slices.Values([]string{
		"feature_flags", "serialization_max_items_length", "serialization_max_text_length", "frontend_timeout",
		"auto_saving", "auto_saving_interval", "health_check_max_retries", "max_file_size_upload",
		"webhook_polling_interval", "public_flow_cleanup_interval", "public_flow_expiration", "event_delivery",
		"webhook_auth_enable", "voice_mode_available", "default_project_name", "hide_getting_started_progress",
	}))
}

// get fetches url and decodes its JSON body.
func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body), string(b))
	return res.StatusCode, body
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func serve(t *testing.T, s *httpapi.Server) *httptest.Server {
	t.Helper()
	h, err := s.Handler()
	require.NoError(t, err, "router and OpenAPI document must agree")
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

func TestBase(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"HOME": "/h", "SKILLFLAW_MVP_COMPONENTS": "true", "SKILLFLAW_EVENT_DELIVERY": "polling"}[name]
	})
	require.NoError(t, err)
	s := httpapi.New(httpapi.Options{})
	readapi.RegisterBase(s, cfg, "v0.1.2-rc.1")
	ts := serve(t, s)

	t.Run("get_version", func(t *testing.T) {
		t.Parallel()
		status, body := get(t, ts.URL+"/api/v1/version")
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, map[string]any{"version": "0.1.2-rc.1", "main_version": "0.1", "package": "SkillFlaw"}, body)
	})
	t.Run("get_config", func(t *testing.T) {
		t.Parallel()
		status, body := get(t, ts.URL+"/api/v1/config")
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, configKeys(), sortedKeys(body))
		assert.Equal(t, map[string]any{
			"feature_flags":                  map[string]any{"mvp_components": true},
			"serialization_max_items_length": 1000.0,
			"serialization_max_text_length":  20000.0,
			"frontend_timeout":               0.0,
			"auto_saving":                    true,
			"auto_saving_interval":           1000.0,
			"health_check_max_retries":       5.0,
			"max_file_size_upload":           1024.0,
			"webhook_polling_interval":       5000.0,
			"public_flow_cleanup_interval":   3600.0,
			"public_flow_expiration":         86400.0,
			"event_delivery":                 "polling",
			"webhook_auth_enable":            false,
			"voice_mode_available":           false,
			"default_project_name":           "Starter Project",
			"hide_getting_started_progress":  false,
		}, body)
	})
	t.Run("documented_as_in_the_contract", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/api/v1/version", "/api/v1/config"} {
			op := s.OpenAPI().Paths.Value(path).Get
			require.NotNil(t, op, path)
			assert.Equal(t, []string{"Base"}, op.Tags)
			assert.NotNil(t, op.Security, "%s needs authentication in SkillFlaw", path)
		}
		schema := s.OpenAPI().Paths.Value("/api/v1/config").Get.Responses.Value("200").Value.Content.Get("application/json").Schema.Value
		assert.Equal(t, configKeys(), slices.Sorted(maps.Keys(schema.Properties)))
		assert.Equal(t, []any{"streaming", "polling", "direct"}, schema.Properties["event_delivery"].Value.Enum)
		assert.NoError(t, s.OpenAPI().Validate(context.Background()))
	})
}

func TestRegisterBase_main_version(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]string{
		"1.2.3":        "1.2",
		"v1.2.3":       "1.2",
		"0.1.0-dev":    "0.1",
		"2.0-beta+abc": "2.0",
		"7":            "7",
		"dev":          "dev",
	} {
		s := httpapi.New(httpapi.Options{})
		readapi.RegisterBase(s, config.Config{}, version)
		ts := serve(t, s)
		_, body := get(t, ts.URL+"/api/v1/version")
		assert.Equal(t, want, body["main_version"], version)
	}
}
