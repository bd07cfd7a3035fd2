package readapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// respond answers 200 with v, or fails the request with err.
func respond(c *gin.Context, v any, err error) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// VersionResponse is Langflow's get_version_info.
type VersionResponse struct {
	Version     string `json:"version"`
	MainVersion string `json:"main_version"`
	Package     string `json:"package"`
}

// ConfigResponse is Langflow's ConfigResponse: the settings the frontend
// needs.
type ConfigResponse struct {
	FeatureFlags                FeatureFlags `json:"feature_flags"`
	SerializationMaxItemsLength int          `json:"serialization_max_items_length"`
	SerializationMaxTextLength  int          `json:"serialization_max_text_length"`
	FrontendTimeout             int          `json:"frontend_timeout"`
	AutoSaving                  bool         `json:"auto_saving"`
	AutoSavingInterval          int          `json:"auto_saving_interval"`
	HealthCheckMaxRetries       int          `json:"health_check_max_retries"`
	MaxFileSizeUpload           int          `json:"max_file_size_upload"`
	WebhookPollingInterval      int          `json:"webhook_polling_interval"`
	PublicFlowCleanupInterval   int          `json:"public_flow_cleanup_interval"`
	PublicFlowExpiration        int          `json:"public_flow_expiration"`
	// EventDelivery is streaming, polling or direct; the binding rule puts
	// the enum into the OpenAPI document.
	EventDelivery              string `json:"event_delivery" binding:"oneof=streaming polling direct"`
	WebhookAuthEnable          bool   `json:"webhook_auth_enable"`
	VoiceModeAvailable         bool   `json:"voice_mode_available"`
	DefaultProjectName         string `json:"default_project_name"`
	HideGettingStartedProgress bool   `json:"hide_getting_started_progress"`
}

// FeatureFlags are the frontend's feature switches.
type FeatureFlags struct {
	MVPComponents bool `json:"mvp_components"`
}

// base serves the "Base" operations; its answers never change while the
// process runs, so they are built once.
type base struct {
	version VersionResponse
	config  ConfigResponse
}

// RegisterBase adds GET /api/v1/version and GET /api/v1/config. version is
// the build's semantic version ("1.2.3", "v1.2.3-rc.1").
func RegisterBase(s *httpapi.Server, cfg config.Config, version string) {
	b := &base{
		version: VersionResponse{Version: strings.TrimPrefix(version, "v"), MainVersion: mainVersion(version), Package: "SkillFlaw"},
		config: ConfigResponse{
			FeatureFlags:                FeatureFlags{MVPComponents: cfg.MVPComponents},
			SerializationMaxItemsLength: cfg.SerializationMaxItemsLength,
			SerializationMaxTextLength:  cfg.SerializationMaxTextLength,
			FrontendTimeout:             cfg.FrontendTimeout,
			AutoSaving:                  cfg.AutoSaving,
			AutoSavingInterval:          cfg.AutoSavingInterval,
			HealthCheckMaxRetries:       cfg.HealthCheckMaxRetries,
			MaxFileSizeUpload:           cfg.MaxFileSizeUploadMB,
			WebhookPollingInterval:      cfg.WebhookPollingInterval,
			PublicFlowCleanupInterval:   cfg.PublicFlowCleanupInterval,
			PublicFlowExpiration:        cfg.PublicFlowExpiration,
			EventDelivery:               cfg.EventDelivery,
			WebhookAuthEnable:           cfg.WebhookAuthEnable,
			VoiceModeAvailable:          cfg.VoiceModeAvailable,
			DefaultProjectName:          cfg.DefaultProjectName,
			HideGettingStartedProgress:  cfg.HideGettingStartedProgress,
		},
	}
	s.Handle(httpapi.Operation{
		Method: http.MethodGet, Path: "/api/v1/version", Tag: "Base", Summary: "Get Version",
		Response: VersionResponse{}, Access: access.SignedIn(), Handler: b.getVersion,
	})
	s.Handle(httpapi.Operation{
		Method: http.MethodGet, Path: "/api/v1/config", Tag: "Base", Summary: "Get Config",
		Description: "Retrieve the current application configuration settings.\n\n" +
			"Requires authentication to prevent exposure of sensitive configuration details.",
		Response: ConfigResponse{}, Access: access.SignedIn(), Handler: b.getConfig,
	})
}

func (b *base) getVersion(c *gin.Context) { c.JSON(http.StatusOK, b.version) }

func (b *base) getConfig(c *gin.Context) { c.JSON(http.StatusOK, b.config) }

// mainVersion is the major.minor of a semantic version, as Langflow's
// get_version_info reports it; a version without a minor part is returned
// as it is.
func mainVersion(version string) string {
	v := strings.TrimPrefix(version, "v")
	major, rest, ok := strings.Cut(v, ".")
	if !ok {
		return v
	}
	minor := strings.FieldsFunc(rest, func(r rune) bool { return r == '.' || r == '-' || r == '+' })
	if len(minor) == 0 {
		return major
	}
	return major + "." + minor[0]
}
