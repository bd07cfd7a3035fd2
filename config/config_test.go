package config

import (
	"log/slog"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestLoad_defaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HOME": "/home/ada"}))
	require.NoError(t, err)

	assert.Equal(t, Config{
		EventStore:                  "postgres",
		Host:                        "127.0.0.1",
		Port:                        7860,
		ConfigDir:                   c.ConfigDir,
		LogLevel:                    slog.LevelInfo,
		LogFormat:                   "json",
		CORSOrigins:                 []string{"*"},
		CORSAllowCredentials:        true,
		MaxBodySizeMB:               2,
		MaxFlowBodySizeMB:           16,
		MaxBodyMemoryMB:             32,
		ReadHeaderTimeout:           10 * time.Second,
		ReadTimeout:                 time.Minute,
		IdleTimeout:                 2 * time.Minute,
		MaxHeaderSizeKB:             64,
		ReadYourWritesTimeout:       5 * time.Second,
		ShutdownTimeout:             15 * time.Second,
		DBMaxConns:                  20,
		AutoMigrate:                 true,
		ProjectionBatchSize:         500,
		AccessTokenExpireSeconds:    3600,
		RefreshTokenExpireSeconds:   604800,
		EnableSignup:                true,
		MaxLoginAttempts:            5,
		LoginLockout:                time.Minute,
		LoginLockoutMax:             15 * time.Minute,
		SessionMaxLifetime:          30 * 24 * time.Hour,
		PasswordHashCost:            12,
		RefreshCookieSecure:         true,
		AccessCookieSameSite:        "lax",
		RefreshCookieSameSite:       "strict",
		MaxFileSizeUploadMB:         1024,
		FrontendTimeout:             0,
		AutoSaving:                  true,
		AutoSavingInterval:          1000,
		HealthCheckMaxRetries:       5,
		WebhookPollingInterval:      5000,
		PublicFlowCleanupInterval:   3600,
		PublicFlowExpiration:        86400,
		EventDelivery:               "streaming",
		SerializationMaxItemsLength: 1000,
		SerializationMaxTextLength:  20000,
		DefaultProjectName:          "Starter Project",
		OpenAIBaseURL:               "https://api.openai.com/v1",
		MCPToolTimeout:              30 * time.Second,
		RunWallTime:                 10 * time.Minute,
		RunMaxVertices:              1000,
		RunParallelism:              8,
		RunMaxOutputMB:              8,
		RunVariablesFromEnv:         true,
		RunMaxConcurrentPerUser:     8,
		RunFeedRetention:            10 * time.Minute,
		RunFlushInterval:            250 * time.Millisecond,
		Role:                        RoleAll,
		QueueAckWait:                30 * time.Second,
		QueueWorkers:                8,
		QueueMaxAttempts:            3,
	}, c)
	assert.Equal(t, "127.0.0.1:7860", c.Addr())
	assert.Equal(t, int64(2<<20), c.MaxBodyBytes())
	assert.Equal(t, int64(16<<20), c.MaxFlowBodyBytes())
	if runtime.GOOS == "linux" {
		assert.Equal(t, filepath.FromSlash("/home/ada/.cache/skillflaw"), c.ConfigDir)
	}
}

func TestLoad_overrides(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"SKILLFLAW_DATABASE_URL":                   "postgres://sf:secret@db:5432/sf",
		"SKILLFLAW_EVENT_STORE":                    "kurrentdb",
		"SKILLFLAW_KURRENTDB_URL":                  "esdb+discover://admin:changeit@kdb:2113?tls=false",
		"SKILLFLAW_HOST":                           "0.0.0.0",
		"SKILLFLAW_PORT":                           " 8080 ",
		"SKILLFLAW_CONFIG_DIR":                     "/var/lib/skillflaw",
		"SKILLFLAW_LOG_LEVEL":                      "DEBUG",
		"SKILLFLAW_LOG_FORMAT":                     "text",
		"SKILLFLAW_CORS_ORIGINS":                   "https://a.example, http://localhost:3000,",
		"SKILLFLAW_CORS_ALLOW_CREDENTIALS":         "false",
		"SKILLFLAW_TRUSTED_PROXIES":                "10.0.0.0/8,127.0.0.1",
		"SKILLFLAW_MAX_BODY_SIZE":                  "2",
		"SKILLFLAW_MAX_FLOW_BODY_SIZE":             "8",
		"SKILLFLAW_MAX_BODY_MEMORY":                "16",
		"SKILLFLAW_READ_HEADER_TIMEOUT":            "2s",
		"SKILLFLAW_READ_TIMEOUT":                   "30s",
		"SKILLFLAW_IDLE_TIMEOUT":                   "5s",
		"SKILLFLAW_MAX_HEADER_SIZE":                "16",
		"SKILLFLAW_READ_YOUR_WRITES_TIMEOUT":       "750ms",
		"SKILLFLAW_SHUTDOWN_TIMEOUT":               "1m",
		"SKILLFLAW_DB_MAX_CONNS":                   "4",
		"SKILLFLAW_AUTO_MIGRATE":                   "no",
		"SKILLFLAW_PROJECTION_BATCH_SIZE":          "50",
		"SKILLFLAW_MAX_FILE_SIZE_UPLOAD":           "10",
		"SKILLFLAW_FRONTEND_TIMEOUT":               "30",
		"SKILLFLAW_AUTO_SAVING":                    "off",
		"SKILLFLAW_AUTO_SAVING_INTERVAL":           "2000",
		"SKILLFLAW_HEALTH_CHECK_MAX_RETRIES":       "1",
		"SKILLFLAW_WEBHOOK_POLLING_INTERVAL":       "100",
		"SKILLFLAW_PUBLIC_FLOW_CLEANUP_INTERVAL":   "700",
		"SKILLFLAW_PUBLIC_FLOW_EXPIRATION":         "800",
		"SKILLFLAW_EVENT_DELIVERY":                 "polling",
		"SKILLFLAW_WEBHOOK_AUTH_ENABLE":            "1",
		"SKILLFLAW_SERIALIZATION_MAX_ITEMS_LENGTH": "10",
		"SKILLFLAW_SERIALIZATION_MAX_TEXT_LENGTH":  "20",
		"SKILLFLAW_DEFAULT_PROJECT_NAME":           "Mine",
		"SKILLFLAW_HIDE_GETTING_STARTED_PROGRESS":  "true",
		"SKILLFLAW_VOICE_MODE_AVAILABLE":           "yes",
		"SKILLFLAW_MVP_COMPONENTS":                 "TRUE",
		"SKILLFLAW_SECRET_KEY":                     "0123456789abcdef0123456789abcdef",
		"SKILLFLAW_ACCESS_TOKEN_EXPIRE_SECONDS":    "60",
		"SKILLFLAW_REFRESH_TOKEN_EXPIRE_SECONDS":   "120",
		"SKILLFLAW_AUTO_LOGIN":                     "true",
		"SKILLFLAW_SUPERUSER":                      "root",
		"SKILLFLAW_SUPERUSER_PASSWORD":             "rootpassword",
		"SKILLFLAW_NEW_USER_IS_ACTIVE":             "true",
		"SKILLFLAW_ENABLE_SIGNUP":                  "false",
		"SKILLFLAW_MAX_LOGIN_ATTEMPTS":             "0",
		"SKILLFLAW_LOGIN_LOCKOUT":                  "30s",
		"SKILLFLAW_LOGIN_LOCKOUT_MAX":              "1h",
		"SKILLFLAW_SESSION_MAX_LIFETIME":           "24h",
		"SKILLFLAW_PASSWORD_HASH_COST":             "4",
		"SKILLFLAW_ACCESS_COOKIE_SECURE":           "true",
		"SKILLFLAW_ACCESS_COOKIE_SAMESITE":         "strict",
		"SKILLFLAW_REFRESH_COOKIE_SECURE":          "false",
		"SKILLFLAW_REFRESH_COOKIE_SAMESITE":        "lax",
		"SKILLFLAW_COOKIE_DOMAIN":                  "example.com",
		"SKILLFLAW_RUN_WALL_TIME":                  "30s",
		"SKILLFLAW_RUN_MAX_VERTICES":               "50",
		"SKILLFLAW_RUN_PARALLELISM":                "2",
		"SKILLFLAW_RUN_MAX_OUTPUT_SIZE":            "1",
		"SKILLFLAW_RUN_VARIABLES_FROM_ENV":         "false",
		"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER":    "3",
		"SKILLFLAW_RUN_FEED_RETENTION":             "1m",
		"SKILLFLAW_RUN_FLUSH_INTERVAL":             "50ms",
	}))
	require.NoError(t, err)

	assert.Equal(t, Config{
		DatabaseURL:                 "postgres://sf:secret@db:5432/sf",
		EventStore:                  "kurrentdb",
		KurrentDBURL:                "esdb+discover://admin:changeit@kdb:2113?tls=false",
		Host:                        "0.0.0.0",
		Port:                        8080,
		ConfigDir:                   "/var/lib/skillflaw",
		LogLevel:                    slog.LevelDebug,
		LogFormat:                   "text",
		CORSOrigins:                 []string{"https://a.example", "http://localhost:3000"},
		CORSAllowCredentials:        false,
		TrustedProxies:              []string{"10.0.0.0/8", "127.0.0.1"},
		MaxBodySizeMB:               2,
		MaxFlowBodySizeMB:           8,
		MaxBodyMemoryMB:             16,
		ReadHeaderTimeout:           2 * time.Second,
		ReadTimeout:                 30 * time.Second,
		IdleTimeout:                 5 * time.Second,
		MaxHeaderSizeKB:             16,
		ReadYourWritesTimeout:       750 * time.Millisecond,
		ShutdownTimeout:             time.Minute,
		DBMaxConns:                  4,
		AutoMigrate:                 false,
		ProjectionBatchSize:         50,
		SecretKey:                   "0123456789abcdef0123456789abcdef",
		AccessTokenExpireSeconds:    60,
		RefreshTokenExpireSeconds:   120,
		AutoLogin:                   true,
		Superuser:                   "root",
		SuperuserPassword:           "rootpassword",
		NewUserIsActive:             true,
		EnableSignup:                false,
		MaxLoginAttempts:            0,
		LoginLockout:                30 * time.Second,
		LoginLockoutMax:             time.Hour,
		SessionMaxLifetime:          24 * time.Hour,
		PasswordHashCost:            4,
		AccessCookieSecure:          true,
		AccessCookieSameSite:        "strict",
		RefreshCookieSecure:         false,
		RefreshCookieSameSite:       "lax",
		CookieDomain:                "example.com",
		MaxFileSizeUploadMB:         10,
		FrontendTimeout:             30,
		AutoSaving:                  false,
		AutoSavingInterval:          2000,
		HealthCheckMaxRetries:       1,
		WebhookPollingInterval:      100,
		PublicFlowCleanupInterval:   700,
		PublicFlowExpiration:        800,
		EventDelivery:               "polling",
		WebhookAuthEnable:           true,
		SerializationMaxItemsLength: 10,
		SerializationMaxTextLength:  20,
		DefaultProjectName:          "Mine",
		HideGettingStartedProgress:  true,
		VoiceModeAvailable:          true,
		MVPComponents:               true,
		OpenAIBaseURL:               "https://api.openai.com/v1",
		MCPToolTimeout:              30 * time.Second,
		RunWallTime:                 30 * time.Second,
		RunMaxVertices:              50,
		RunParallelism:              2,
		RunMaxOutputMB:              1,
		RunVariablesFromEnv:         false,
		RunMaxConcurrentPerUser:     3,
		RunFeedRetention:            time.Minute,
		RunFlushInterval:            50 * time.Millisecond,
		Role:                        RoleAll,
		QueueAckWait:                30 * time.Second,
		QueueWorkers:                8,
		QueueMaxAttempts:            3,
	}, c)
	assert.Equal(t, "0.0.0.0:8080", c.Addr())
}

func TestLoad_invalid_values(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, variable, value, want string
	}{
		{"short_secret_key", "SKILLFLAW_SECRET_KEY", "short", `SKILLFLAW_SECRET_KEY="***": must be at least 32 characters (e.g. openssl rand -base64 48)`},
		{"port_not_a_number", "SKILLFLAW_PORT", "http", `SKILLFLAW_PORT="http": must be an integer from 1 to 65535`},
		{"port_out_of_range", "SKILLFLAW_PORT", "70000", `SKILLFLAW_PORT="70000": must be an integer from 1 to 65535`},
		{"negative_interval", "SKILLFLAW_AUTO_SAVING_INTERVAL", "-1", `SKILLFLAW_AUTO_SAVING_INTERVAL="-1": must be an integer of at least 0`},
		{"bad_bool", "SKILLFLAW_AUTO_MIGRATE", "maybe", `SKILLFLAW_AUTO_MIGRATE="maybe": must be a boolean`},
		{"bad_duration", "SKILLFLAW_SHUTDOWN_TIMEOUT", "15", `SKILLFLAW_SHUTDOWN_TIMEOUT="15": must be a positive duration`},
		{"zero_duration", "SKILLFLAW_READ_YOUR_WRITES_TIMEOUT", "0s", `SKILLFLAW_READ_YOUR_WRITES_TIMEOUT="0s": must be a positive duration`},
		{"bad_level", "SKILLFLAW_LOG_LEVEL", "verbose", `SKILLFLAW_LOG_LEVEL="verbose": must be one of debug, info, warn, error`},
		{"bad_enum", "SKILLFLAW_EVENT_DELIVERY", "carrier-pigeon", `SKILLFLAW_EVENT_DELIVERY="carrier-pigeon": must be one of streaming, polling, direct`},
		{"bad_origin", "SKILLFLAW_CORS_ORIGINS", "example.com", `SKILLFLAW_CORS_ORIGINS="example.com": origin "example.com" must be * or start with http:// or https://`},
		{"origin_with_path", "SKILLFLAW_CORS_ORIGINS", "https://a.example/app", `SKILLFLAW_CORS_ORIGINS="https://a.example/app": origin "https://a.example/app" must be scheme://host[:port], without a path`},
		{"bad_proxy", "SKILLFLAW_TRUSTED_PROXIES", "proxy.local", `SKILLFLAW_TRUSTED_PROXIES="proxy.local": "proxy.local" is neither an IP address nor a CIDR`},
		{"bad_scheme", "SKILLFLAW_DATABASE_URL", "mysql://u@h/db", `SKILLFLAW_DATABASE_URL="mysql://u@h/db": scheme "mysql" is not postgres:// or postgresql://`},
		{"bad_event_store", "SKILLFLAW_EVENT_STORE", "mongodb", `SKILLFLAW_EVENT_STORE="mongodb": must be one of postgres, kurrentdb`},
		{"kurrentdb_scheme", "SKILLFLAW_KURRENTDB_URL", "http://admin:s3cret@kdb:2113", `SKILLFLAW_KURRENTDB_URL="http://admin:xxxxx@kdb:2113": scheme "http" is not one of kurrentdb://, kurrentdb+discover://, esdb://, esdb+discover://`},
		{"kurrentdb_no_host", "SKILLFLAW_KURRENTDB_URL", "kurrentdb://:2113", `SKILLFLAW_KURRENTDB_URL="kurrentdb://:2113": has no host`},
		{"kurrentdb_not_a_url", "SKILLFLAW_KURRENTDB_URL", "kdb:2113", `SKILLFLAW_KURRENTDB_URL="kdb:2113": is not a URL such as kurrentdb://`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{"HOME": "/h", tt.variable: tt.value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("every_error_is_reported", func(t *testing.T) {
		t.Parallel()
		_, err := Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_PORT": "x", "SKILLFLAW_DB_MAX_CONNS": "0"}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SKILLFLAW_PORT")
		assert.Contains(t, err.Error(), "SKILLFLAW_DB_MAX_CONNS")
	})

	t.Run("no_home_and_no_config_dir", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("the Windows default comes from LocalAppData")
		}
		_, err := Load(env(nil))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SKILLFLAW_CONFIG_DIR is not set and has no default")

		_, err = Load(env(map[string]string{"SKILLFLAW_CONFIG_DIR": "/srv/sf"}))
		assert.NoError(t, err)
	})
}

func TestConfig_Redacted(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url, want string }{
		{"url_password", "postgres://sf:s3cret@db:5432/sf?sslmode=disable", "postgres://sf:xxxxx@db:5432/sf?sslmode=disable"},
		{"url_query_password", "postgres://sf@db/sf?password=s3cret", "postgres://sf@db/sf?password=xxxxx"},
		{"keyword_form", "host=db user=sf password='s3 cret' dbname=sf", "host=db user=sf password=xxxxx dbname=sf"},
		{"no_password", "postgres://sf@db/sf", "postgres://sf@db/sf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_DATABASE_URL": tt.url}))
			require.NoError(t, err)
			r := c.Redacted()
			assert.Equal(t, tt.want, r["SKILLFLAW_DATABASE_URL"])
			assert.NotContains(t, r["SKILLFLAW_DATABASE_URL"], "s3")
			assert.Equal(t, "7860", r["SKILLFLAW_PORT"])
			assert.Equal(t, "5s", r["SKILLFLAW_READ_YOUR_WRITES_TIMEOUT"])
			assert.Equal(t, "info", r["SKILLFLAW_LOG_LEVEL"])
			assert.Len(t, r, len(Variables()))
		})
	}
}

// TestVariables_cover_every_field proves that each Config field is set by
// exactly one variable, so Variables() is the complete list for the README.
func TestVariables_cover_every_field(t *testing.T) {
	t.Parallel()
	var c Config
	byField := map[uintptr]string{}
	for _, s := range specs() {
		p := reflect.ValueOf(s.field(&c)).Pointer()
		if other, ok := byField[p]; ok {
			t.Errorf("%s and %s set the same field", s.Name, other)
		}
		byField[p] = s.Name
	}
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		_, ok := byField[v.Field(i).Addr().Pointer()]
		assert.True(t, ok, "field %s has no variable", v.Type().Field(i).Name)
	}

	names := map[string]bool{}
	for _, variable := range Variables() {
		assert.Regexp(t, `^SKILLFLAW_[A-Z_]+$`, variable.Name)
		assert.NotEmpty(t, variable.Description, variable.Name)
		assert.False(t, names[variable.Name], "duplicate %s", variable.Name)
		names[variable.Name] = true
	}
	assert.Len(t, names, v.NumField())
}

func TestKurrentDBURL_schemes_and_redaction(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"kurrentdb://admin:s3cret@kdb:2113?tls=false",
		"kurrentdb+discover://admin:s3cret@kdb1:2113,kdb2:2113",
		"esdb://admin:s3cret@kdb:2113",
		"esdb+discover://admin:s3cret@cluster.example:2113?tlsVerifyCert=false",
	} {
		c, err := Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_EVENT_STORE": "kurrentdb", "SKILLFLAW_KURRENTDB_URL": raw}))
		require.NoError(t, err, raw)
		assert.Equal(t, raw, c.KurrentDBURL)
		assert.NoError(t, c.CheckEventStore(), raw)
		shown := c.Redacted()["SKILLFLAW_KURRENTDB_URL"]
		assert.NotContains(t, shown, "s3cret", raw)
		assert.Contains(t, shown, "admin:xxxxx@", raw)
	}
}

func TestConfig_CheckEventStore(t *testing.T) {
	t.Parallel()
	load := func(vars map[string]string) Config {
		vars["HOME"] = "/h"
		c, err := Load(env(vars))
		require.NoError(t, err, "Load leaves the pairing to CheckEventStore")
		return c
	}
	assert.NoError(t, load(map[string]string{}).CheckEventStore(), "postgres by default")

	err := load(map[string]string{"SKILLFLAW_EVENT_STORE": "kurrentdb"}).CheckEventStore()
	require.Error(t, err)
	assert.Equal(t, "SKILLFLAW_EVENT_STORE=kurrentdb needs SKILLFLAW_KURRENTDB_URL (e.g. kurrentdb://admin:changeit@localhost:2113?tls=false)", err.Error())

	err = load(map[string]string{"SKILLFLAW_KURRENTDB_URL": "kurrentdb://admin:s3cret@kdb:2113"}).CheckEventStore()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SKILLFLAW_KURRENTDB_URL is set (kurrentdb://admin:xxxxx@kdb:2113) but SKILLFLAW_EVENT_STORE is postgres: set SKILLFLAW_EVENT_STORE=kurrentdb")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestOpenAIBaseURL(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/v1", c.OpenAIBaseURL)
	_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_OPENAI_BASE_URL": "ftp://x"}))
	assert.ErrorContains(t, err, `SKILLFLAW_OPENAI_BASE_URL="ftp://x": must be an http(s) URL`)
}

func TestRoleAndQueue(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"HOME": "/h"}))
	require.NoError(t, err)
	assert.Equal(t, RoleAll, c.Role)
	assert.Empty(t, c.QueueURL)
	assert.Equal(t, 30*time.Second, c.QueueAckWait)
	assert.Equal(t, 8, c.QueueWorkers)
	assert.Equal(t, 3, c.QueueMaxAttempts)
	c, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_QUEUE_MAX_ATTEMPTS": "100"}))
	require.NoError(t, err)
	assert.Equal(t, 100, c.QueueMaxAttempts)
	for _, bad := range []string{"0", "101", "x"} {
		_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_QUEUE_MAX_ATTEMPTS": bad}))
		assert.ErrorContains(t, err, "SKILLFLAW_QUEUE_MAX_ATTEMPTS", bad)
	}

	_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_ROLE": "api"}))
	assert.ErrorContains(t, err, "role api needs a work queue: set SKILLFLAW_QUEUE_URL")
	_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_ROLE": "worker"}))
	assert.ErrorContains(t, err, "role worker needs a work queue")
	_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_ROLE": "boss"}))
	assert.ErrorContains(t, err, `SKILLFLAW_ROLE="boss": must be one of all, api, worker`)
	_, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_QUEUE_URL": "http://nats:4222"}))
	assert.ErrorContains(t, err, "must be a nats://host:port")

	c, err = Load(env(map[string]string{"HOME": "/h", "SKILLFLAW_ROLE": "worker", "SKILLFLAW_QUEUE_URL": "nats://sf:s3cret@nats:4222"}))
	require.NoError(t, err)
	assert.Equal(t, RoleWorker, c.Role)
	assert.NotContains(t, c.Redacted()["SKILLFLAW_QUEUE_URL"], "s3cret")
	c.Role = "api"
	assert.NoError(t, c.CheckRole())
	c.QueueURL = ""
	assert.Error(t, c.CheckRole())
}
