package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skillflaw/skillflaw-go/egress"
)

// Config is every setting of a SkillFlaw process. The fields after
// ProjectionBatchSize are Langflow's ConfigResponse, served by
// GET /api/v1/config for the frontend.
type Config struct {
	// DatabaseURL is the PostgreSQL connection string, as a URL or in
	// keyword/value form; serve and migrate need it.
	DatabaseURL string
	// EventStore is where the event log lives: "postgres" (the events
	// table of DatabaseURL) or "kurrentdb" (KurrentDBURL). Read models,
	// checkpoints, leases and sessions stay in PostgreSQL either way.
	EventStore string
	// KurrentDBURL is the KurrentDB connection string
	// (kurrentdb://, kurrentdb+discover://, esdb://, esdb+discover://); the
	// kurrentdb store needs it, and `skillflaw migrate-log --to kurrentdb`
	// copies the log there.
	KurrentDBURL string
	// Host is the address the HTTP server listens on.
	Host string
	// Port is the TCP port the HTTP server listens on.
	Port int
	// ConfigDir is the directory for local state (caches, uploads).
	ConfigDir string
	// LogLevel is the lowest level that is logged.
	LogLevel slog.Level
	// LogFormat is "json" or "text".
	LogFormat string
	// LogRetrieverBufferSize is how many of the process's log records GET
	// /logs and /logs-stream keep in memory (0: disabled, 501).
	LogRetrieverBufferSize int
	// CORSOrigins are the allowed browser origins; "*" allows any other
	// origin, without credentials.
	CORSOrigins []string
	// CORSAllowCredentials lets the origins listed by name send cookies.
	CORSAllowCredentials bool
	// TrustedProxies are the proxy addresses or CIDRs whose
	// X-Forwarded-For header is believed; empty trusts none.
	TrustedProxies []string
	// MaxBodySizeMB bounds JSON request bodies, in MiB.
	MaxBodySizeMB int
	// MaxFlowBodySizeMB bounds the bodies of the routes that take flow
	// graphs (create, batch create, update, upload), in MiB.
	MaxFlowBodySizeMB int
	// MaxBodyMemoryMB bounds the flow bodies over MaxBodySizeMB held in
	// memory at once, in MiB; more wait their turn.
	MaxBodyMemoryMB int
	// ReadHeaderTimeout bounds the arrival of a request's headers,
	// ReadTimeout that of its body (plus a second per 64 KiB received),
	// IdleTimeout how long a keep-alive connection waits for the next
	// request.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// MaxHeaderSizeKB bounds a request's line and headers, in KiB.
	MaxHeaderSizeKB int
	// ReadYourWritesTimeout bounds how long a request waits for read models
	// to catch up with a position.
	ReadYourWritesTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// DBMaxConns is the size of the PostgreSQL connection pool.
	DBMaxConns int32
	// AutoMigrate applies pending migrations when serve starts.
	AutoMigrate bool
	// ProjectionBatchSize is how many events a projector folds per
	// transaction while catching up.
	ProjectionBatchSize int

	// SecretKey signs the JWTs; empty: a key generated at first start and
	// kept in the database.
	SecretKey string
	// SecretsKeyFile names the file of the keys that seal secret values
	// at rest (package secrets); empty: a key derived from SecretKey. Load
	// does not read it: secrets.LoadRing does, at startup.
	SecretsKeyFile string
	// AccessTokenExpireSeconds and RefreshTokenExpireSeconds are the
	// lifetimes of the two JWTs.
	AccessTokenExpireSeconds, RefreshTokenExpireSeconds int
	// AutoLogin serves GET /api/v1/auto_login (a long-lived token of the
	// superuser, for local use) and disables public sign-up.
	AutoLogin bool
	// Superuser and SuperuserPassword create the first superuser at start.
	Superuser, SuperuserPassword string
	// NewUserIsActive activates signed-up users at once.
	NewUserIsActive bool
	// EnableSignup allows anonymous POST /api/v1/users/.
	EnableSignup bool
	// MaxLoginAttempts consecutive failed logins of one name from one
	// client address lock that address out of that name for LoginLockout,
	// doubling with each further failure up to LoginLockoutMax (0: never).
	MaxLoginAttempts              int
	LoginLockout, LoginLockoutMax time.Duration
	// SessionMaxLifetime bounds a session from its login: refreshes
	// cannot extend it.
	SessionMaxLifetime time.Duration
	// PasswordHashCost is the bcrypt cost of password hashes.
	PasswordHashCost int
	// Cookie attributes of the access (and API key) and refresh cookies.
	AccessCookieSecure, RefreshCookieSecure     bool
	AccessCookieSameSite, RefreshCookieSameSite string
	CookieDomain                                string

	// MaxFileSizeUploadMB bounds uploaded files, in MiB.
	MaxFileSizeUploadMB int
	// FrontendTimeout is the frontend's request timeout in seconds (0: none).
	FrontendTimeout int
	// AutoSaving turns the frontend's flow auto-save on.
	AutoSaving bool
	// AutoSavingInterval is the auto-save debounce in milliseconds.
	AutoSavingInterval int
	// HealthCheckMaxRetries is how often the frontend retries /health_check.
	HealthCheckMaxRetries int
	// WebhookPollingInterval is the frontend's webhook poll period in ms.
	WebhookPollingInterval int
	// PublicFlowCleanupInterval is the public-flow cleanup period in seconds.
	PublicFlowCleanupInterval int
	// PublicFlowExpiration is the lifetime of a public flow in seconds.
	PublicFlowExpiration int
	// EventDelivery is how build events reach the frontend: "streaming",
	// "polling" or "direct".
	EventDelivery string
	// WebhookAuthEnable makes webhooks require an API key.
	WebhookAuthEnable bool
	// SerializationMaxItemsLength truncates long lists in build outputs.
	SerializationMaxItemsLength int
	// SerializationMaxTextLength truncates long texts in build outputs.
	SerializationMaxTextLength int
	// DefaultProjectName names the project every user starts with.
	DefaultProjectName string
	// HideGettingStartedProgress hides the frontend's onboarding checklist.
	HideGettingStartedProgress bool
	// VoiceModeAvailable tells the frontend that voice mode works.
	VoiceModeAvailable bool
	// MVPComponents is the frontend feature flag mvp_components.
	MVPComponents bool

	// StorageDir is the directory of the local blob store (uploaded files'
	// contents).
	StorageDir string
	// ProfilePicturesDir holds profile pictures (People/, Space/) that
	// replace the built-in ones.
	ProfilePicturesDir string

	// OpenAIBaseURL is the OpenAI provider's endpoint for model components
	// whose node names none (openai_api_base).
	OpenAIBaseURL string
	// EgressAllow are the internal hosts and networks flows may reach
	// (egress.Policy): a node's own model endpoint today, the URL, API
	// request and MCP components later.
	EgressAllow []string
	// MCPStdioEnable lets superusers register and test stdio MCP servers:
	// a stdio server is a command this server's process starts.
	MCPStdioEnable bool
	// MCPToolTimeout bounds one MCP call of a flow (the MCP Tools
	// component: connecting, listing the tools, calling one).
	MCPToolTimeout time.Duration
	// Limits of flow runs (engine.Limits): wall time, components,
	// vertices building at once, size of one output in MiB, and whether a
	// load_from_db variable may come from the process environment.
	RunWallTime         time.Duration
	RunMaxVertices      int
	RunParallelism      int
	RunMaxOutputMB      int
	RunVariablesFromEnv bool
	// RunMaxConcurrentPerUser bounds the jobs of a user running at once on
	// a process (429 beyond); RunFeedRetention is how long a finished
	// job's events stay in memory; RunFlushInterval how long a run's
	// records may wait before they are appended.
	RunMaxConcurrentPerUser int
	RunFeedRetention        time.Duration
	RunFlushInterval        time.Duration
	// Role is what a serve process does: RoleAll (the API, and the runs
	// it accepts), RoleAPI (the API; background runs go to the queue) or
	// RoleWorker (runs from the queue; no API but the health checks).
	Role string
	// QueueURL is the NATS JetStream server of the work queue (empty:
	// none); QueueAckWait how long a dead worker's runs wait before the
	// queue delivers them again; QueueWorkers how many queued runs a
	// process runs at once; QueueMaxAttempts how many attempts of a
	// queued run may die with their worker before it is failed.
	QueueURL         string
	QueueAckWait     time.Duration
	QueueWorkers     int
	QueueMaxAttempts int
}

// The roles of a serve process (Config.Role).
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
)

// CheckRole tells whether the role can work: api and worker need a work
// queue.
func (c Config) CheckRole() error {
	switch c.Role {
	case RoleAll, "":
		return nil
	case RoleAPI, RoleWorker:
		if c.QueueURL == "" {
			return fmt.Errorf("role %s needs a work queue: set SKILLFLAW_QUEUE_URL (nats://host:4222)", c.Role)
		}
		return nil
	}
	return fmt.Errorf("role %q: must be one of %s, %s, %s", c.Role, RoleAll, RoleAPI, RoleWorker)
}

// Variable documents one environment variable.
type Variable struct {
	// Name is the variable, e.g. SKILLFLAW_PORT.
	Name string
	// Default is the value used when the variable is unset or empty.
	Default string
	// Description says what the variable controls and which values it takes.
	Description string
}

// Addr is the host:port the HTTP server listens on.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// MaxBodyBytes is MaxBodySizeMB in bytes.
func (c Config) MaxBodyBytes() int64 { return int64(c.MaxBodySizeMB) << 20 }

// MaxFlowBodyBytes is MaxFlowBodySizeMB in bytes.
func (c Config) MaxFlowBodyBytes() int64 { return int64(c.MaxFlowBodySizeMB) << 20 }

// Variables lists every variable Load reads, in a stable order.
func Variables() []Variable {
	specs := specs()
	out := make([]Variable, len(specs))
	for i, s := range specs {
		out[i] = s.Variable
	}
	return out
}

// Load builds a Config from the variables getenv returns; an unset or empty
// variable takes its default. Every invalid value is reported, each naming
// its variable. Load reads no files.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, s := range specs() {
		raw := strings.TrimSpace(getenv(s.Name))
		if raw == "" && s.dynamicDefault != nil {
			d, err := s.dynamicDefault(getenv)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s is not set and has no default: %w", s.Name, err))
				continue
			}
			raw = d
		}
		if raw == "" {
			raw = s.Default
		}
		if err := s.set(&c, raw); err != nil {
			shown := raw
			if s.redact != nil {
				shown = s.redact(raw)
			}
			errs = append(errs, fmt.Errorf("%s=%q: %w", s.Name, shown, err))
		}
	}
	if len(errs) == 0 {
		if err := c.CheckRole(); err != nil {
			errs = append(errs, fmt.Errorf("SKILLFLAW_ROLE=%q: %w", c.Role, err))
		}
	}
	return c, errors.Join(errs...)
}

// Redacted returns every setting by variable name, formatted as Load reads
// it, with the database password replaced; it is meant for the startup log.
func (c Config) Redacted() map[string]string {
	out := make(map[string]string)
	for _, s := range specs() {
		v := s.format(&c)
		if s.redact != nil {
			v = s.redact(v)
		}
		out[s.Name] = v
	}
	return out
}

// spec binds a Variable to its Config field and its rules.
type spec struct {
	Variable
	// field returns a pointer to the field the variable sets.
	field func(*Config) any
	// min and max bound integers, inclusive.
	min, max int64
	// enum lists the allowed values of a string.
	enum []string
	// check validates a string or every item of a list.
	check func(string) error
	// dynamicDefault computes the default where it depends on the
	// environment; Default then only describes it.
	dynamicDefault func(getenv func(string) string) (string, error)
	// redact hides secrets in the formatted value.
	redact func(string) string
}

const unbounded = math.MaxInt32

func specs() []spec {
	v := func(name, def, desc string) Variable { return Variable{Name: name, Default: def, Description: desc} }
	return []spec{
		{Variable: v("SKILLFLAW_DATABASE_URL", "", "PostgreSQL connection string (postgres://user:pass@host:5432/db or keyword/value form); required by serve and migrate."),
			field: func(c *Config) any { return &c.DatabaseURL }, check: checkDatabaseURL, redact: RedactURL},
		{Variable: v("SKILLFLAW_EVENT_STORE", "postgres", "Where the event log lives: postgres (the events table of SKILLFLAW_DATABASE_URL) or kurrentdb (SKILLFLAW_KURRENTDB_URL); read models stay in PostgreSQL. Move a log with skillflaw migrate-log."),
			field: func(c *Config) any { return &c.EventStore }, enum: []string{"postgres", "kurrentdb"}},
		{Variable: v("SKILLFLAW_KURRENTDB_URL", "", "KurrentDB connection string (kurrentdb://user:pass@host:2113?tls=false; kurrentdb+discover://, esdb:// and esdb+discover:// too); required by SKILLFLAW_EVENT_STORE=kurrentdb, refused with postgres."),
			field: func(c *Config) any { return &c.KurrentDBURL }, check: CheckKurrentDBURL, redact: RedactURL},
		{Variable: v("SKILLFLAW_HOST", "127.0.0.1", "Address the HTTP server listens on."),
			field: func(c *Config) any { return &c.Host }},
		{Variable: v("SKILLFLAW_PORT", "7860", "TCP port the HTTP server listens on."),
			field: func(c *Config) any { return &c.Port }, min: 1, max: 65535},
		{Variable: v("SKILLFLAW_CONFIG_DIR", "<user cache dir>/skillflaw", "Directory for local state; defaults to the OS user cache directory ($XDG_CACHE_HOME or ~/.cache on Linux) plus /skillflaw."),
			field: func(c *Config) any { return &c.ConfigDir }, dynamicDefault: defaultConfigDir},
		{Variable: v("SKILLFLAW_LOG_LEVEL", "info", "Lowest level logged: debug, info, warn or error."),
			field: func(c *Config) any { return &c.LogLevel }, enum: []string{"debug", "info", "warn", "error"}},
		{Variable: v("SKILLFLAW_LOG_FORMAT", "json", "Log format: json or text."),
			field: func(c *Config) any { return &c.LogFormat }, enum: []string{"json", "text"}},
		{Variable: v("SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE", "0", "How many of the server's own log records GET /logs and /logs-stream keep in memory (superusers only); 0 disables them (501), as Langflow's LANGFLOW_LOG_RETRIEVER_BUFFER_SIZE."),
			field: func(c *Config) any { return &c.LogRetrieverBufferSize }, min: 0, max: 1000000},
		{Variable: v("SKILLFLAW_CORS_ORIGINS", "*", "Comma-separated browser origins allowed by CORS (http(s)://host[:port]); * allows any other origin, answered with Access-Control-Allow-Origin: * and never with credentials; the origin null is never allowed."),
			field: func(c *Config) any { return &c.CORSOrigins }, check: checkOrigin},
		{Variable: v("SKILLFLAW_CORS_ALLOW_CREDENTIALS", "true", "Allow cookies (Access-Control-Allow-Credentials: true) from the origins SKILLFLAW_CORS_ORIGINS lists by name; never from * or null."),
			field: func(c *Config) any { return &c.CORSAllowCredentials }},
		{Variable: v("SKILLFLAW_TRUSTED_PROXIES", "", "Comma-separated proxy IPs or CIDRs whose X-Forwarded-For is believed for the client IP; empty trusts none."),
			field: func(c *Config) any { return &c.TrustedProxies }, check: checkProxy},
		{Variable: v("SKILLFLAW_MAX_BODY_SIZE", "2", "Largest JSON request body in MiB; larger bodies get 413 (flows: SKILLFLAW_MAX_FLOW_BODY_SIZE)."),
			field: func(c *Config) any { return &c.MaxBodySizeMB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_MAX_FLOW_BODY_SIZE", "16", "Largest body in MiB of the routes that take flow graphs (create, batch create, update, upload, template update)."),
			field: func(c *Config) any { return &c.MaxFlowBodySizeMB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_MAX_BODY_MEMORY", "32", "Flow bodies over SKILLFLAW_MAX_BODY_SIZE held in memory at once, in MiB; more wait (up to SKILLFLAW_READ_TIMEOUT, then 503)."),
			field: func(c *Config) any { return &c.MaxBodyMemoryMB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_READ_HEADER_TIMEOUT", "10s", "How long a request's line and headers may take to arrive (Go duration)."),
			field: func(c *Config) any { return &c.ReadHeaderTimeout }},
		{Variable: v("SKILLFLAW_READ_TIMEOUT", "60s", "How long a request body may take to arrive, plus a second per 64 KiB received; slower bodies get 408 (Go duration)."),
			field: func(c *Config) any { return &c.ReadTimeout }},
		{Variable: v("SKILLFLAW_IDLE_TIMEOUT", "120s", "How long an idle keep-alive connection stays open (Go duration)."),
			field: func(c *Config) any { return &c.IdleTimeout }},
		{Variable: v("SKILLFLAW_MAX_HEADER_SIZE", "64", "Largest request line and headers in KiB; larger get 431."),
			field: func(c *Config) any { return &c.MaxHeaderSizeKB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_READ_YOUR_WRITES_TIMEOUT", "5s", "How long a request waits for read models to reach a written position (Go duration)."),
			field: func(c *Config) any { return &c.ReadYourWritesTimeout }},
		{Variable: v("SKILLFLAW_SHUTDOWN_TIMEOUT", "15s", "How long a graceful shutdown may take (Go duration)."),
			field: func(c *Config) any { return &c.ShutdownTimeout }},
		{Variable: v("SKILLFLAW_DB_MAX_CONNS", "20", "Maximum PostgreSQL connections in the pool."),
			field: func(c *Config) any { return &c.DBMaxConns }, min: 1, max: 10000},
		{Variable: v("SKILLFLAW_AUTO_MIGRATE", "true", "Apply pending database migrations when serve starts."),
			field: func(c *Config) any { return &c.AutoMigrate }},
		{Variable: v("SKILLFLAW_PROJECTION_BATCH_SIZE", "500", "Events a projector folds per transaction while catching up."),
			field: func(c *Config) any { return &c.ProjectionBatchSize }, min: 1, max: 100000},
		{Variable: v("SKILLFLAW_SECRET_KEY", "", "Secret that signs access and refresh tokens (HS256, at least 32 characters); empty: one is generated at first start and kept in the database, so tokens survive restarts."),
			field: func(c *Config) any { return &c.SecretKey }, check: checkSecretKey, redact: redactSecret},
		{Variable: v("SKILLFLAW_SECRETS_KEY_FILE", "", "File of the keys that seal secret values (config secrets, provider API keys, MCP env and headers) in the event log: lines \"<key id> <base64 32-byte key>\", the first seals, every one opens (rotation: add a new first line, re-seal, then drop the old line); empty: a key derived from SKILLFLAW_SECRET_KEY; neither set: the features that store secrets refuse to start. An unreadable file or a bad line stops the process."),
			field: func(c *Config) any { return &c.SecretsKeyFile }},
		{Variable: v("SKILLFLAW_ACCESS_TOKEN_EXPIRE_SECONDS", "3600", "Lifetime of an access token in seconds."),
			field: func(c *Config) any { return &c.AccessTokenExpireSeconds }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_REFRESH_TOKEN_EXPIRE_SECONDS", "604800", "Lifetime of a refresh token in seconds."),
			field: func(c *Config) any { return &c.RefreshTokenExpireSeconds }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_AUTO_LOGIN", "false", "Serve GET /api/v1/auto_login: a one-year token of SKILLFLAW_SUPERUSER without a password, for local use only; also turns public sign-up off."),
			field: func(c *Config) any { return &c.AutoLogin }},
		{Variable: v("SKILLFLAW_SUPERUSER", "", "Username of the superuser created at start if missing (with SKILLFLAW_SUPERUSER_PASSWORD)."),
			field: func(c *Config) any { return &c.Superuser }},
		{Variable: v("SKILLFLAW_SUPERUSER_PASSWORD", "", "Password of SKILLFLAW_SUPERUSER; used only to create it."),
			field: func(c *Config) any { return &c.SuperuserPassword }, redact: redactSecret},
		{Variable: v("SKILLFLAW_NEW_USER_IS_ACTIVE", "false", "Signed-up users are active at once; otherwise a superuser activates them."),
			field: func(c *Config) any { return &c.NewUserIsActive }},
		{Variable: v("SKILLFLAW_ENABLE_SIGNUP", "true", "Allow anonymous sign-up (POST /api/v1/users/); superusers can always add users."),
			field: func(c *Config) any { return &c.EnableSignup }},
		{Variable: v("SKILLFLAW_MAX_LOGIN_ATTEMPTS", "5", "Consecutive failed logins of one username from one client address after which that address is refused for that username (429, Retry-After) for SKILLFLAW_LOGIN_LOCKOUT, doubling with each further failure; other addresses and open sessions are unaffected; 0 turns this off."),
			field: func(c *Config) any { return &c.MaxLoginAttempts }, max: 1000},
		{Variable: v("SKILLFLAW_LOGIN_LOCKOUT", "1m", "First lockout of an address after SKILLFLAW_MAX_LOGIN_ATTEMPTS failed logins (Go duration); each further failure doubles it."),
			field: func(c *Config) any { return &c.LoginLockout }},
		{Variable: v("SKILLFLAW_LOGIN_LOCKOUT_MAX", "15m", "Longest lockout of an address after failed logins (Go duration): failed logins never lock anyone for good."),
			field: func(c *Config) any { return &c.LoginLockoutMax }},
		{Variable: v("SKILLFLAW_SESSION_MAX_LIFETIME", "720h", "Absolute lifetime of a session from its login (Go duration; 720h is 30 days): refreshing tokens cannot extend it."),
			field: func(c *Config) any { return &c.SessionMaxLifetime }},
		{Variable: v("SKILLFLAW_PASSWORD_HASH_COST", "12", "bcrypt cost of password hashes (4-31; each step doubles the work)."),
			field: func(c *Config) any { return &c.PasswordHashCost }, min: 4, max: 31},
		{Variable: v("SKILLFLAW_ACCESS_COOKIE_SECURE", "false", "Secure attribute of the access_token_lf and apikey_tkn_lflw cookies."),
			field: func(c *Config) any { return &c.AccessCookieSecure }},
		{Variable: v("SKILLFLAW_ACCESS_COOKIE_SAMESITE", "lax", "SameSite of the access_token_lf and apikey_tkn_lflw cookies: lax, strict or none."),
			field: func(c *Config) any { return &c.AccessCookieSameSite }, enum: []string{"lax", "strict", "none"}},
		{Variable: v("SKILLFLAW_REFRESH_COOKIE_SECURE", "true", "Secure attribute of the refresh_token_lf cookie."),
			field: func(c *Config) any { return &c.RefreshCookieSecure }},
		{Variable: v("SKILLFLAW_REFRESH_COOKIE_SAMESITE", "strict", "SameSite of the refresh_token_lf cookie (path /api/v1/refresh): lax, strict or none (only for a frontend on another site than the API)."),
			field: func(c *Config) any { return &c.RefreshCookieSameSite }, enum: []string{"lax", "strict", "none"}},
		{Variable: v("SKILLFLAW_COOKIE_DOMAIN", "", "Domain attribute of the auth cookies; empty: the request's host."),
			field: func(c *Config) any { return &c.CookieDomain }},
		{Variable: v("SKILLFLAW_MAX_FILE_SIZE_UPLOAD", "1024", "Largest uploaded file in MiB (ConfigResponse.max_file_size_upload)."),
			field: func(c *Config) any { return &c.MaxFileSizeUploadMB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_FRONTEND_TIMEOUT", "0", "Frontend request timeout in seconds, 0 for none (ConfigResponse.frontend_timeout)."),
			field: func(c *Config) any { return &c.FrontendTimeout }, max: unbounded},
		{Variable: v("SKILLFLAW_AUTO_SAVING", "true", "Frontend flow auto-save (ConfigResponse.auto_saving)."),
			field: func(c *Config) any { return &c.AutoSaving }},
		{Variable: v("SKILLFLAW_AUTO_SAVING_INTERVAL", "1000", "Auto-save debounce in milliseconds (ConfigResponse.auto_saving_interval)."),
			field: func(c *Config) any { return &c.AutoSavingInterval }, max: unbounded},
		{Variable: v("SKILLFLAW_HEALTH_CHECK_MAX_RETRIES", "5", "Frontend retries of /health_check (ConfigResponse.health_check_max_retries)."),
			field: func(c *Config) any { return &c.HealthCheckMaxRetries }, max: unbounded},
		{Variable: v("SKILLFLAW_WEBHOOK_POLLING_INTERVAL", "5000", "Frontend webhook poll period in milliseconds (ConfigResponse.webhook_polling_interval)."),
			field: func(c *Config) any { return &c.WebhookPollingInterval }, max: unbounded},
		{Variable: v("SKILLFLAW_PUBLIC_FLOW_CLEANUP_INTERVAL", "3600", "Public flow cleanup period in seconds (ConfigResponse.public_flow_cleanup_interval)."),
			field: func(c *Config) any { return &c.PublicFlowCleanupInterval }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_PUBLIC_FLOW_EXPIRATION", "86400", "Public flow lifetime in seconds (ConfigResponse.public_flow_expiration)."),
			field: func(c *Config) any { return &c.PublicFlowExpiration }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_EVENT_DELIVERY", "streaming", "How build events reach the frontend: streaming, polling or direct (ConfigResponse.event_delivery)."),
			field: func(c *Config) any { return &c.EventDelivery }, enum: []string{"streaming", "polling", "direct"}},
		{Variable: v("SKILLFLAW_WEBHOOK_AUTH_ENABLE", "false", "Webhooks require an API key (ConfigResponse.webhook_auth_enable)."),
			field: func(c *Config) any { return &c.WebhookAuthEnable }},
		{Variable: v("SKILLFLAW_SERIALIZATION_MAX_ITEMS_LENGTH", "1000", "Lists in build outputs are truncated to this many items (ConfigResponse.serialization_max_items_length)."),
			field: func(c *Config) any { return &c.SerializationMaxItemsLength }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_SERIALIZATION_MAX_TEXT_LENGTH", "20000", "Texts in build outputs are truncated to this many characters (ConfigResponse.serialization_max_text_length)."),
			field: func(c *Config) any { return &c.SerializationMaxTextLength }, min: 1, max: unbounded},
		{Variable: v("SKILLFLAW_DEFAULT_PROJECT_NAME", "Starter Project", "Name of the project every user starts with (ConfigResponse.default_project_name)."),
			field: func(c *Config) any { return &c.DefaultProjectName }},
		{Variable: v("SKILLFLAW_HIDE_GETTING_STARTED_PROGRESS", "false", "Hide the frontend's getting-started checklist (ConfigResponse.hide_getting_started_progress)."),
			field: func(c *Config) any { return &c.HideGettingStartedProgress }},
		{Variable: v("SKILLFLAW_VOICE_MODE_AVAILABLE", "false", "Tell the frontend voice mode is available (ConfigResponse.voice_mode_available)."),
			field: func(c *Config) any { return &c.VoiceModeAvailable }},
		{Variable: v("SKILLFLAW_MVP_COMPONENTS", "false", "Frontend feature flag (ConfigResponse.feature_flags.mvp_components)."),
			field: func(c *Config) any { return &c.MVPComponents }},
		{Variable: v("SKILLFLAW_STORAGE_DIR", "", "Directory of uploaded files' contents (the local blob store); empty: SKILLFLAW_CONFIG_DIR/storage."),
			field: func(c *Config) any { return &c.StorageDir }},
		{Variable: v("SKILLFLAW_RUN_WALL_TIME", "10m", "Longest a flow run may take (Go duration); a run past it fails."),
			field: func(c *Config) any { return &c.RunWallTime }},
		{Variable: v("SKILLFLAW_RUN_MAX_VERTICES", "1000", "Most components a flow may have to be run."),
			field: func(c *Config) any { return &c.RunMaxVertices }, min: 1, max: 1000000},
		{Variable: v("SKILLFLAW_RUN_PARALLELISM", "8", "Most components of one run building at once (independent branches run in parallel)."),
			field: func(c *Config) any { return &c.RunParallelism }, min: 1, max: 1024},
		{Variable: v("SKILLFLAW_RUN_MAX_OUTPUT_SIZE", "8", "Largest output of one component of a run, in MiB; a component producing more fails."),
			field: func(c *Config) any { return &c.RunMaxOutputMB }, min: 1, max: 1 << 20},
		{Variable: v("SKILLFLAW_RUN_VARIABLES_FROM_ENV", "true", "A component field naming a global variable (load_from_db) that the request does not give falls back to the server's environment variable of that name, as Langflow's fallback_to_env_var; false keeps the server's environment private."),
			field: func(c *Config) any { return &c.RunVariablesFromEnv }},
		{Variable: v("SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER", "8", "Most flow runs of one user (or, for a public flow, of its anonymous visitors) running at once on a server process; more are refused with 429 and Retry-After."),
			field: func(c *Config) any { return &c.RunMaxConcurrentPerUser }, min: 1, max: 100000},
		{Variable: v("SKILLFLAW_RUN_FEED_RETENTION", "10m", "How long a finished run's events (with its live tokens) stay in the memory of the process that ran it (Go duration); later reads replay them from the log, without the tokens."),
			field: func(c *Config) any { return &c.RunFeedRetention }},
		{Variable: v("SKILLFLAW_RUN_FLUSH_INTERVAL", "250ms", "Longest a run's events, messages and builds wait in memory before they are appended together (Go duration); a run's end appends what is left. Other processes see a running job this much later."),
			field: func(c *Config) any { return &c.RunFlushInterval }},
		{Variable: v("SKILLFLAW_PROFILE_PICTURES_DIR", "", "Directory of profile pictures (People/, Space/) served instead of the built-in ones; empty: SKILLFLAW_CONFIG_DIR/profile_pictures."),
			field: func(c *Config) any { return &c.ProfilePicturesDir }},
		{Variable: v("SKILLFLAW_OPENAI_BASE_URL", "https://api.openai.com/v1", "Endpoint (http(s) URL) of the OpenAI provider's Chat Completions API for model components whose node sets no OpenAI API Base; the server's own OPENAI_BASE_URL is never used."),
			field: func(c *Config) any { return &c.OpenAIBaseURL }, check: checkHTTPURL},
		{Variable: v("SKILLFLAW_EGRESS_ALLOW", "", "Comma-separated hosts, addresses or CIDRs that flows may reach although they are loopback, private, link-local or metadata addresses (a node's own model endpoint, later URL, API request and MCP components); empty: none. Endpoints the operator configures are not limited."),
			field: func(c *Config) any { return &c.EgressAllow }, check: checkEgress},
		{Variable: v("SKILLFLAW_MCP_STDIO_ENABLE", "false", "Whether superusers may register and test stdio MCP servers (a command and arguments this server starts as a local process, with its own rights); off by default: only SSE and streamable HTTP servers, reached through the egress policy."),
			field: func(c *Config) any { return &c.MCPStdioEnable }},
		{Variable: v("SKILLFLAW_MCP_TOOL_TIMEOUT", "30s", "Longest one MCP call of a flow's MCP Tools component may take (connecting to the registry's server, listing its tools or calling one; Go duration); a node's own Tool Execution Timeout may only shorten it."),
			field: func(c *Config) any { return &c.MCPToolTimeout }},
		{Variable: v("SKILLFLAW_ROLE", "all", "What `skillflaw serve` does (its --role flag wins): all (the API, and the runs it accepts; with a queue it also works the queue), api (the API only; webhook runs and background workflow jobs go to the queue) or worker (runs from the queue; only /health and /health_check are served). api and worker need SKILLFLAW_QUEUE_URL."),
			field: func(c *Config) any { return &c.Role }, enum: []string{RoleAll, RoleAPI, RoleWorker}},
		{Variable: v("SKILLFLAW_QUEUE_URL", "", "NATS server with JetStream of the work queue (nats://[user:password@]host:4222); empty: no queue, every run runs in the process that accepted it. The queued runs' tasks are sealed with the secrets key (SKILLFLAW_SECRET_KEY or the key file), which every api and worker process must share."),
			field: func(c *Config) any { return &c.QueueURL }, check: checkQueueURL, redact: RedactURL},
		{Variable: v("SKILLFLAW_QUEUE_ACK_WAIT", "30s", "How long the queue waits for a sign of life of the worker running a run before it delivers the run again (Go duration): how long the runs of a worker that died wait. A live worker signals every third of it, however long its run."),
			field: func(c *Config) any { return &c.QueueAckWait }},
		{Variable: v("SKILLFLAW_QUEUE_WORKERS", "8", "How many queued runs a worker (or all) process runs at once."),
			field: func(c *Config) any { return &c.QueueWorkers }, min: 1, max: 10000},
		{Variable: v("SKILLFLAW_QUEUE_MAX_ATTEMPTS", "3", "How many attempts of a queued run may be cut off by a worker that died (killed, out of memory …) before the run is failed (\"the run's worker stopped during each of its N attempts; it is not run again\") instead of run again. A run a worker hands back at a graceful shutdown does not count."),
			field: func(c *Config) any { return &c.QueueMaxAttempts }, min: 1, max: 100},
	}
}

// checkQueueURL accepts an empty value (no queue) or a nats:// (tls://)
// URL with a host.
func checkQueueURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
		return errors.New("must be a nats://host:port (or tls://host:port) URL")
	}
	return nil
}

// FileStorageDir is StorageDir, or <ConfigDir>/storage when it is empty.
func (c Config) FileStorageDir() string {
	if c.StorageDir != "" {
		return c.StorageDir
	}
	return filepath.Join(c.ConfigDir, "storage")
}

// ProfilePicturesDirectory is ProfilePicturesDir, or
// <ConfigDir>/profile_pictures when it is empty (Langflow's place).
func (c Config) ProfilePicturesDirectory() string {
	if c.ProfilePicturesDir != "" {
		return c.ProfilePicturesDir
	}
	return filepath.Join(c.ConfigDir, "profile_pictures")
}

func (s spec) set(c *Config, raw string) error {
	switch p := s.field(c).(type) {
	case *string:
		if err := s.validString(raw); err != nil {
			return err
		}
		*p = raw
	case *[]string:
		var items []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			if err := s.validString(item); err != nil {
				return err
			}
			items = append(items, item)
		}
		*p = items
	case *int:
		n, err := s.integer(raw)
		*p = int(n)
		return err
	case *int32:
		n, err := s.integer(raw)
		*p = int32(n)
		return err
	case *bool:
		b, err := parseBool(raw)
		*p = b
		return err
	case *time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 500ms, 5s or 1m30s")
		}
		*p = d
	case *slog.Level:
		if err := s.validString(strings.ToLower(raw)); err != nil {
			return err
		}
		return p.UnmarshalText([]byte(raw))
	default:
		return fmt.Errorf("unsupported field type %T", p)
	}
	return nil
}

func (s spec) format(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *[]string:
		return strings.Join(*p, ",")
	case *int:
		return strconv.Itoa(*p)
	case *int32:
		return strconv.Itoa(int(*p))
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	case *slog.Level:
		return strings.ToLower(p.String())
	default:
		return fmt.Sprint(p)
	}
}

func (s spec) validString(raw string) error {
	if len(s.enum) > 0 {
		for _, e := range s.enum {
			if raw == e {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(s.enum, ", "))
	}
	if s.check != nil {
		return s.check(raw)
	}
	return nil
}

func (s spec) integer(raw string) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < s.min || n > s.max {
		if s.max == unbounded {
			return 0, fmt.Errorf("must be an integer of at least %d", s.min)
		}
		return 0, fmt.Errorf("must be an integer from %d to %d", s.min, s.max)
	}
	return n, nil
}

// parseBool accepts what pydantic-settings accepts for Langflow's booleans.
func parseBool(raw string) (bool, error) {
	switch strings.ToLower(raw) {
	case "1", "true", "t", "yes", "y", "on":
		return true, nil
	case "0", "false", "f", "no", "n", "off":
		return false, nil
	}
	return false, errors.New("must be a boolean (true/false, 1/0, yes/no, on/off)")
}

func checkDatabaseURL(raw string) error {
	if !strings.Contains(raw, "://") {
		return nil // keyword/value form; pgx reports its errors at connect time
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q is not postgres:// or postgresql://", u.Scheme)
	}
	return nil
}

// kurrentDBSchemes are the schemes of a KurrentDB connection string: the
// client's own, and EventStoreDB's that it still accepts.
var kurrentDBSchemes = []string{"kurrentdb", "kurrentdb+discover", "esdb", "esdb+discover"}

// CheckKurrentDBURL validates the scheme and host of a KurrentDB
// connection string; the client checks its options when it dials.
func CheckKurrentDBURL(raw string) error {
	if raw == "" {
		return nil // unset; CheckEventStore says when it is needed
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		return errors.New("is not a URL such as kurrentdb://admin:changeit@localhost:2113?tls=false")
	}
	if !slices.Contains(kurrentDBSchemes, u.Scheme) {
		return fmt.Errorf("scheme %q is not one of %s://", u.Scheme, strings.Join(kurrentDBSchemes, "://, "))
	}
	if u.Host == "" || strings.HasPrefix(u.Host, ":") {
		return errors.New("has no host (kurrentdb://host:2113, or host1:2113,host2:2113 for a cluster)")
	}
	return nil
}

// CheckEventStore refuses an event-store setting that a process would
// misread: the kurrentdb store without its URL, and a KurrentDB URL beside
// the postgres store (the URL would be ignored, which is rarely what was
// meant). Load does not apply it, so that `skillflaw migrate-log` can copy
// the PostgreSQL log to the URL before the store is switched; the process
// applies it when it starts (app.Open).
func (c Config) CheckEventStore() error {
	switch c.EventStore {
	case "kurrentdb":
		if c.KurrentDBURL == "" {
			return errors.New("SKILLFLAW_EVENT_STORE=kurrentdb needs SKILLFLAW_KURRENTDB_URL (e.g. kurrentdb://admin:changeit@localhost:2113?tls=false)")
		}
	case "postgres", "":
		if c.KurrentDBURL != "" {
			return fmt.Errorf("SKILLFLAW_KURRENTDB_URL is set (%s) but SKILLFLAW_EVENT_STORE is postgres: set SKILLFLAW_EVENT_STORE=kurrentdb to use it, or unset SKILLFLAW_KURRENTDB_URL (pass the URL to skillflaw migrate-log with --target-url)", RedactURL(c.KurrentDBURL))
		}
	default:
		return fmt.Errorf("SKILLFLAW_EVENT_STORE=%q: must be one of postgres, kurrentdb", c.EventStore)
	}
	return nil
}

// passwordKeyword finds the password of a keyword/value connection string.
var passwordKeyword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactURL returns a database connection string with its password hidden,
// for logs and error messages.
func RedactURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return passwordKeyword.ReplaceAllString(raw, "${1}xxxxx")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http(s) URL such as https://api.openai.com/v1")
	}
	return nil
}

func checkOrigin(raw string) error {
	if raw == "*" {
		return nil
	}
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		return fmt.Errorf("origin %q must be * or start with http:// or https://", raw)
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("origin %q must be scheme://host[:port], without a path", raw)
	}
	return nil
}

func checkEgress(raw string) error {
	_, err := egress.New([]string{raw})
	return err
}

func checkProxy(raw string) error {
	if net.ParseIP(raw) != nil {
		return nil
	}
	if _, _, err := net.ParseCIDR(raw); err != nil {
		return fmt.Errorf("%q is neither an IP address nor a CIDR", raw)
	}
	return nil
}

// defaultConfigDir mirrors os.UserCacheDir, reading the environment through
// getenv so that Load stays a function of its argument.
func defaultConfigDir(getenv func(string) string) (string, error) {
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = getenv("LocalAppData")
	case "darwin", "ios":
		if home := getenv("HOME"); home != "" {
			dir = filepath.Join(home, "Library", "Caches")
		}
	default:
		dir = getenv("XDG_CACHE_HOME")
		if !filepath.IsAbs(dir) {
			dir = ""
			if home := getenv("HOME"); home != "" {
				dir = filepath.Join(home, ".cache")
			}
		}
	}
	if dir == "" {
		return "", errors.New("the user cache directory is unknown (HOME is not set)")
	}
	return filepath.Join(dir, "skillflaw"), nil
}

func checkSecretKey(raw string) error {
	if raw != "" && len(raw) < 32 {
		return errors.New("must be at least 32 characters (e.g. openssl rand -base64 48)")
	}
	return nil
}

// redactSecret hides a secret's value but not whether it is set.
func redactSecret(raw string) string {
	if raw == "" {
		return ""
	}
	return "***"
}
