// Package agentic is SkillFlaw's flow-building assistant (contract
// operations #193–#196): it reports which model providers the caller may
// use (CheckConfig), runs the assistant's built-in flows (Execute) and
// answers requests about a flow with validated JSON (Assist). Unlike
// Langflow 1.8's assistant it never generates or executes code: its
// answers are text and the names of existing engine components, checked
// against the engine's registry.
//
// The models come from the model catalogue (the flow tenant's providers,
// then the built-in ones) and are called through the engine's ports
// (engine.Env Catalog and Models), as the flow components call them; the
// built-in flows run through the run service as the caller, in the place
// of the flow the request names. The package has no HTTP: http.go is its
// port.
package agentic

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/runs"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

//go:embed flows/*.json
var flowFiles embed.FS

// APIAgentic is the door of the assistant's runs (RunStarted.API).
const APIAgentic = "agentic"

// DefaultMaxRetries is how often an answer that does not validate is
// asked again when the request does not say.
const DefaultMaxRetries = 3

// maxRetriesLimit bounds a request's max_retries.
const maxRetriesLimit = 10

// Runs is what the assistant needs of the run service (*runs.Service).
type Runs interface {
	RunnableFlow(ctx context.Context, id uuid.UUID, user int64) (*domain.Flow, error)
	StartRun(ctx context.Context, cmd runs.StartRun) (*runs.Job, error)
}

// Variables reads a config of a tenant for a user
// (runs.ConfigVariables.LookupIn).
type Variables interface {
	LookupIn(ctx context.Context, tenant uuid.UUID, user int64, name string) (string, bool, error)
}

// Service is the assistant's use cases.
type Service struct {
	Pool *pgxpool.Pool
	Runs Runs
	// Catalog and Models are the engine's ports the components use.
	Catalog engine.ModelCatalog
	Models  engine.Models
	// Variables resolves the providers' key variables; EnvFallback lets
	// them fall back to the server's environment (SKILLFLAW's
	// RunVariablesFromEnv), whose keys go only to built-in endpoints.
	Variables   Variables
	EnvFallback bool
	// Component reports whether an engine component type exists (the
	// engine's registry).
	Component func(typ string) bool
	// Components lists the engine's component types (told to the model).
	Components []string
	// Clock is the time source (time.Now when nil).
	Clock func() time.Time
}

func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock().UTC()
	}
	return time.Now().UTC()
}

// Request is the assistant's request (Langflow's AssistantRequest).
type Request struct {
	FlowID      string  `json:"flow_id" binding:"required,maxbody"`
	ComponentID *string `json:"component_id" binding:"omitempty,maxbody"`
	FieldName   *string `json:"field_name" binding:"omitempty,maxbody"`
	InputValue  *string `json:"input_value" binding:"omitempty,maxbody"`
	MaxRetries  *int    `json:"max_retries"`
	ModelName   *string `json:"model_name" binding:"omitempty,maxbody"`
	Provider    *string `json:"provider" binding:"omitempty,maxbody"`
	SessionID   *string `json:"session_id" binding:"omitempty,maxbody"`
}

// ConfigError is a request the configuration cannot serve: no provider
// configured, an unknown provider or model, a missing API key (HTTP 400).
type ConfigError struct{ Detail string }

func (e *ConfigError) Error() string { return e.Detail }

// Is makes a ConfigError a domain.ErrInvalid.
func (e *ConfigError) Is(target error) bool { return target == domain.ErrInvalid }

// ValidationError is an answer that did not validate after every attempt
// (HTTP 422).
type ValidationError struct {
	Attempts int
	Last     string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("The assistant's answer did not validate after %d attempts: %s", e.Attempts, e.Last)
}

// ModelError is a model call that failed (HTTP 400: the model's server or
// the provider's configuration, not this server).
type ModelError struct{ Err error }

func (e *ModelError) Error() string { return "The model call failed: " + e.Err.Error() }
func (e *ModelError) Unwrap() error { return e.Err }

// RunFailedError is a built-in flow's run that failed (HTTP 400 with the
// run's error; Langflow answers 500).
type RunFailedError struct{ Flow, Detail string }

func (e *RunFailedError) Error() string {
	return "The assistant's flow " + e.Flow + " failed: " + e.Detail
}

// Model is a model of the configuration.
type Model struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// Provider is a provider of the configuration.
type Provider struct {
	Name         string  `json:"name"`
	Configured   bool    `json:"configured"`
	DefaultModel *string `json:"default_model"`
	Models       []Model `json:"models"`

	key, variable string
	requiresKey   bool
	builtin       bool
}

// Config is check-config's answer.
type Config struct {
	Configured          bool       `json:"configured"`
	ConfiguredProviders []string   `json:"configured_providers"`
	Providers           []Provider `json:"providers"`
	DefaultProvider     *string    `json:"default_provider"`
	DefaultModel        *string    `json:"default_model"`
}

// providerNames are the names and keys, lowercase, of the providers
// met so far in the engine's order of resolution.
type providerNames map[string]bool

// takes reports whether a provider met before has name or key as its own
// name or key (then the engine, given either, resolves that one: runs
// ModelCatalog matches lower(name) or lower(key), the tenant's first),
// and records name and key as met.
func (s providerNames) takes(name, key string) bool {
	n, k := strings.ToLower(name), strings.ToLower(key)
	taken := (n != "" && s[n]) || (k != "" && s[k])
	s[n], s[k] = true, true
	delete(s, "")
	return taken
}

// CheckConfig reports the providers user may use in tenant (the tenant's
// own active providers, then the built-in active ones whose name or
// key no provider of the tenant has as its name or key), each with its active
// language models that are not marked not supported, whether it is
// configured (it needs no API key, or its variable resolves for user: a
// config of the tenant user may read, else — when allowed — the server's
// environment) and its default model (the one marked default, else the
// first). The default provider is the first configured one.
func (s *Service) CheckConfig(ctx context.Context, user int64, tenant uuid.UUID) (*Config, error) {
	rows, err := s.Pool.Query(ctx, `SELECT p.provider_id, p.provider_key, p.provider_name, p.variable_name, p.requires_api_key,
  p.tenant_id = $1, p.is_active
FROM model_providers p WHERE p.tenant_id IN ($1, $2)
ORDER BY p.tenant_id = $1, p.key_order, p.provider_id`, tenancy.SystemTenantID, tenant)
	if err != nil {
		return nil, fmt.Errorf("read the model providers: %w", err)
	}
	type row struct {
		id int64
		p  Provider
	}
	var list []row
	seen := providerNames{}
	for rows.Next() {
		var (
			r      row
			active bool
		)
		if err := rows.Scan(&r.id, &r.p.key, &r.p.Name, &r.p.variable, &r.p.requiresKey, &r.p.builtin, &active); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the model providers: %w", err)
		}
		// A tenant's own provider hides a built-in one it shares its
		// name or key with, as the engine resolves a provider (runs
		// ModelCatalog: lower(name) or lower(key), the tenant's first):
		// an inactive one too (the engine refuses it rather than fall
		// back to the built-in one), so it hides the name and key
		// without being offered.
		if !seen.takes(r.p.Name, r.p.key) && active {
			list = append(list, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the model providers: %w", err)
	}
	ids := make([]int64, len(list))
	for i, r := range list {
		ids[i] = r.id
	}
	mrows, err := s.Pool.Query(ctx, `SELECT m.provider_id, m.model_name, coalesce(nullif(m.model_display_name, ''), m.model_name), m.is_default
FROM provider_models m WHERE m.provider_id = ANY($1) AND m.is_active AND NOT m.is_not_supported AND m.model_type = 'language'
ORDER BY m.provider_id, m.key_order, m.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("read the provider models: %w", err)
	}
	models := map[int64][]Model{}
	defaults := map[int64]string{}
	for mrows.Next() {
		var (
			pid  int64
			m    Model
			isDf bool
		)
		if err := mrows.Scan(&pid, &m.Name, &m.DisplayName, &isDf); err != nil {
			mrows.Close()
			return nil, fmt.Errorf("read the provider models: %w", err)
		}
		models[pid] = append(models[pid], m)
		if _, ok := defaults[pid]; isDf && !ok {
			defaults[pid] = m.Name
		}
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return nil, fmt.Errorf("read the provider models: %w", err)
	}
	cfg := &Config{ConfiguredProviders: []string{}, Providers: []Provider{}}
	for _, r := range list {
		p := r.p
		p.Models = models[r.id]
		if p.Models == nil {
			p.Models = []Model{}
		}
		if d, ok := defaults[r.id]; ok {
			p.DefaultModel = &d
		} else if len(p.Models) > 0 {
			d := p.Models[0].Name
			p.DefaultModel = &d
		}
		if !p.requiresKey {
			p.Configured = true
		} else if _, _, ok, err := s.key(ctx, user, tenant, p.variable); err != nil {
			return nil, err
		} else {
			p.Configured = ok
		}
		if p.Configured {
			cfg.ConfiguredProviders = append(cfg.ConfiguredProviders, p.Name)
			if cfg.DefaultProvider == nil && p.DefaultModel != nil {
				name := p.Name
				cfg.DefaultProvider, cfg.DefaultModel = &name, p.DefaultModel
			}
		}
		cfg.Providers = append(cfg.Providers, p)
	}
	cfg.Configured = cfg.DefaultProvider != nil
	return cfg, nil
}

// key resolves a provider's key variable for user in tenant: a config,
// else the environment when allowed (fromServer).
func (s *Service) key(ctx context.Context, user int64, tenant uuid.UUID, name string) (value string, fromServer, ok bool, err error) {
	if name == "" {
		return "", false, false, nil
	}
	if s.Variables != nil {
		v, ok, err := s.Variables.LookupIn(ctx, tenant, user, name)
		if err != nil || ok {
			return v, false, ok, err
		}
	}
	if s.EnvFallback && !serverEnv(name) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true, true, nil
		}
	}
	return "", false, false, nil
}

// serverEnv reports whether name is one of the server's own variables,
// which no provider reads (as the engine refuses them).
func serverEnv(name string) bool {
	n := strings.ToUpper(name)
	return strings.HasPrefix(n, "SKILLFLAW_") || strings.HasPrefix(n, "PG")
}

// selection is a provider and model chosen for a request.
type selection struct {
	provider Provider
	model    string
}

// choose picks the request's provider and model (by default the
// configuration's defaults) in tenant for user.
func (s *Service) choose(ctx context.Context, user int64, tenant uuid.UUID, provider, model *string) (*selection, error) {
	cfg, err := s.CheckConfig(ctx, user, tenant)
	if err != nil {
		return nil, err
	}
	var p *Provider
	if provider != nil && strings.TrimSpace(*provider) != "" {
		want := strings.TrimSpace(*provider)
		for i := range cfg.Providers {
			if strings.EqualFold(cfg.Providers[i].Name, want) || strings.EqualFold(cfg.Providers[i].key, want) {
				p = &cfg.Providers[i]
				break
			}
		}
		if p == nil {
			return nil, &ConfigError{Detail: fmt.Sprintf("Unknown provider %q: it is not an active provider of the model catalogue", want)}
		}
		if !p.Configured {
			return nil, &ConfigError{Detail: fmt.Sprintf("%s API key is not configured for provider %s: set the %s config of the tenant",
				p.variable, p.Name, p.variable)}
		}
	} else {
		if !cfg.Configured {
			return nil, &ConfigError{Detail: "The assistant is not configured: no model provider with a language model and its API key is available " +
				"(add a provider in Model Management and its key as a config)"}
		}
		for i := range cfg.Providers {
			if cfg.Providers[i].Name == *cfg.DefaultProvider {
				p = &cfg.Providers[i]
			}
		}
	}
	sel := &selection{provider: *p}
	if model != nil && strings.TrimSpace(*model) != "" {
		sel.model = strings.TrimSpace(*model)
		if !slices.ContainsFunc(p.Models, func(m Model) bool { return m.Name == sel.model }) {
			return nil, &ConfigError{Detail: fmt.Sprintf("Unknown model %q of provider %s", sel.model, p.Name)}
		}
	} else if p.DefaultModel != nil {
		sel.model = *p.DefaultModel
	} else {
		return nil, &ConfigError{Detail: fmt.Sprintf("Provider %s has no active language model", p.Name)}
	}
	return sel, nil
}

// open opens sel's client through the catalogue and the Models port, as a
// model component does.
func (s *Service) open(ctx context.Context, user int64, tenant uuid.UUID, sel *selection) (engine.ChatModel, error) {
	if s.Models == nil {
		return nil, &ConfigError{Detail: "no model client is configured on this server"}
	}
	es := engine.ModelSelection{Provider: sel.provider.Name, Name: sel.model}
	if s.Catalog != nil {
		rec, err := s.Catalog.Resolve(ctx, tenant.String(), sel.provider.Name, sel.model)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, &ConfigError{Detail: fmt.Sprintf("Unknown provider %q", sel.provider.Name)}
		}
		es.Catalog, es.Class = rec, rec.ModelClass
	}
	if sel.provider.requiresKey {
		key, fromServer, ok, err := s.key(ctx, user, tenant, sel.provider.variable)
		if err != nil {
			return nil, err
		}
		if !ok || key == "" {
			return nil, &ConfigError{Detail: fmt.Sprintf("%s API key is not configured for provider %s", sel.provider.variable, sel.provider.Name)}
		}
		if fromServer && es.Catalog != nil && !es.Catalog.Builtin && es.Catalog.BaseURL != "" {
			return nil, &ConfigError{Detail: fmt.Sprintf("the server's own %s API key is sent only to the endpoint the operator configured, not to %s: set %s in the tenant's configs",
				sel.provider.Name, es.Catalog.BaseURL, sel.provider.variable)}
		}
		es.APIKey = key
	}
	chat, err := s.Models.Open(ctx, es)
	if err != nil {
		return nil, &ConfigError{Detail: err.Error()}
	}
	return chat, nil
}

// flow returns the flow id names, which user must be allowed to run (a
// flow the user may not read is not found).
func (s *Service) flow(ctx context.Context, user int64, id string) (*domain.Flow, uuid.UUID, error) {
	fid, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return nil, uuid.Nil, domain.NotFoundf("Flow %s not found", id)
	}
	f, err := s.Runs.RunnableFlow(ctx, fid, user)
	if _, ok := errors.AsType[*runs.FlowNotFoundError](err); ok {
		return nil, uuid.Nil, domain.NotFoundf("Flow %s not found", fid)
	}
	if err != nil {
		return nil, uuid.Nil, err
	}
	return f, tenancy.OrSystem(f.Placement().TenantID), nil
}

// describe is the flow as the assistant tells the model about it: its
// name and its components (type and display name), and the component the
// request is about.
func describe(f *domain.Flow, req Request) string {
	var b strings.Builder
	c := f.Content()
	fmt.Fprintf(&b, "Flow: %s\n", c.Name)
	if c.Description != "" {
		fmt.Fprintf(&b, "Description: %s\n", c.Description)
	}
	b.WriteString("Components:\n")
	nodes := flowNodes(c.Data)
	if len(nodes) == 0 {
		b.WriteString("(none)\n")
	}
	for _, n := range nodes {
		fmt.Fprintf(&b, "- %s (type %s)\n", n.display, n.typ)
	}
	if req.ComponentID != nil && *req.ComponentID != "" {
		fmt.Fprintf(&b, "The request is about component %s", *req.ComponentID)
		if req.FieldName != nil && *req.FieldName != "" {
			fmt.Fprintf(&b, ", field %s", *req.FieldName)
		}
		b.WriteString(".\n")
	}
	return b.String()
}

type node struct{ id, typ, display string }

// flowNodes are the component nodes of a flow's data, in its order (note
// nodes left out).
func flowNodes(data []byte) []node {
	var d struct {
		Nodes []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Type string `json:"type"`
				Node struct {
					DisplayName string `json:"display_name"`
				} `json:"node"`
			} `json:"data"`
		} `json:"nodes"`
	}
	if json.Unmarshal(data, &d) != nil {
		return nil
	}
	var out []node
	for _, n := range d.Nodes {
		if n.Type == "noteNode" || n.Data.Type == "" {
			continue
		}
		disp := n.Data.Node.DisplayName
		if disp == "" {
			disp = n.Data.Type
		}
		out = append(out, node{id: n.ID, typ: n.Data.Type, display: disp})
	}
	return out
}

// FlowNames are the built-in flows Execute runs.
func FlowNames() []string {
	entries, _ := flowFiles.ReadDir("flows")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

var flowName = regexp.MustCompile(`^[a-z0-9_]+$`)

// builtinFlow returns the data of built-in flow name.
func builtinFlow(name string) ([]byte, error) {
	if !flowName.MatchString(name) {
		return nil, domain.NotFoundf("Flow %s not found", name)
	}
	b, err := flowFiles.ReadFile("flows/" + name + ".json")
	if err != nil {
		return nil, domain.NotFoundf("Flow %s not found", name)
	}
	return b, nil
}

// withModel sets the model field of the language model nodes of data to
// sel.
func withModel(data []byte, sel *selection) ([]byte, error) {
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("built-in flow: %w", err)
	}
	nodes, _ := d["nodes"].([]any)
	for _, n := range nodes {
		nd, _ := n.(map[string]any)
		data, _ := nd["data"].(map[string]any)
		if data == nil {
			continue
		}
		nodeObj, _ := data["node"].(map[string]any)
		tmpl, _ := nodeObj["template"].(map[string]any)
		field, _ := tmpl["model"].(map[string]any)
		if field == nil {
			continue
		}
		field["value"] = []any{map[string]any{"provider": sel.provider.Name, "name": sel.model}}
	}
	return json.Marshal(d)
}

// ExecuteResult is a built-in flow's answer.
type ExecuteResult struct {
	FlowName  string `json:"flow_name"`
	Result    string `json:"result"`
	SessionID string `json:"session_id"`
}

// Execute runs built-in flow name for user: in the place of the request's
// flow (which user must be allowed to run), with its chat input the flow's
// description and the request's input, its model the request's provider
// and model or the configuration's defaults. The answer is the text of
// its chat output.
func (s *Service) Execute(ctx context.Context, user int64, name string, req Request, meta eventstore.Metadata) (*ExecuteResult, error) {
	data, err := builtinFlow(name)
	if err != nil {
		return nil, err
	}
	f, tenant, err := s.flow(ctx, user, req.FlowID)
	if err != nil {
		return nil, err
	}
	sel, err := s.choose(ctx, user, tenant, req.Provider, req.ModelName)
	if err != nil {
		return nil, err
	}
	if data, err = withModel(data, sel); err != nil {
		return nil, err
	}
	input := describe(f, req) + "\nRequest: " + deref(req.InputValue, defaultRequest(name))
	inputs, _ := json.Marshal(map[string]string{"input_value": deref(req.InputValue, "")}) // strings: cannot fail
	// A session of its own: the assistant's exchange is not the flow's
	// chat (its chat input and output do not store messages either).
	session := "agentic-" + uuid.NewString()
	if req.SessionID != nil && *req.SessionID != "" {
		session = *req.SessionID
	}
	job, err := s.Runs.StartRun(ctx, runs.StartRun{FlowID: f.ID(), Ref: f.ID().String(), UserID: user, InputValue: &input,
		InputType: "chat", OutputType: "chat", SessionID: session, API: APIAgentic, InputsRaw: inputs, Data: data, Metadata: meta})
	if _, ok := errors.AsType[*runs.FlowNotFoundError](err); ok {
		return nil, domain.NotFoundf("Flow %s not found", f.ID())
	}
	if err != nil {
		return nil, err
	}
	out, err := job.Result(ctx)
	if re, ok := errors.AsType[*runs.RunError](err); ok {
		return nil, &RunFailedError{Flow: name, Detail: re.Detail}
	}
	if err != nil {
		return nil, err
	}
	res := &ExecuteResult{FlowName: name, SessionID: out.Session}
	for _, r := range out.Results {
		for _, m := range r.Messages {
			res.Result = m.Text
		}
		if res.Result == "" {
			for _, v := range r.Outputs {
				if m, ok := v.(*engine.Message); ok {
					res.Result = m.Text
				}
			}
		}
	}
	return res, nil
}

func defaultRequest(flow string) string {
	if flow == "suggest_next_component" {
		return "Suggest the next component."
	}
	return "Explain this flow."
}

func deref(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}
