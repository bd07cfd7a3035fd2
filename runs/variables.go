package runs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/secrets"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// ConfigVariables is the engine's Variables port over the configs read
// model: a load_from_db field names a config_key of the flow's tenant
// (the system tenant for a flow without one), visible when the run's user
// holds configs.read there or is a superuser. A secret config is opened
// with Secrets in memory only; its clear value goes nowhere but the
// engine's field (never to a log, an event or the read model).
type ConfigVariables struct {
	Pool    *pgxpool.Pool
	Secrets *secrets.Ring
}

var _ engine.Variables = ConfigVariables{}

// Lookup implements engine.Variables.
func (v ConfigVariables) Lookup(ctx context.Context, user int64, name string) (string, bool, error) {
	t, ok, err := runTenant(ctx, v.Pool)
	if err != nil || !ok {
		return "", false, err
	}
	return v.LookupIn(ctx, t, user, name)
}

// LookupIn is Lookup of the configs of tenant t (a use case outside a run
// asks so: the agentic assistant's check of its providers' keys).
func (v ConfigVariables) LookupIn(ctx context.Context, t uuid.UUID, user int64, name string) (string, bool, error) {
	var (
		value  string
		secret bool
	)
	err := v.Pool.QueryRow(ctx, `SELECT c.config_value, c.secret FROM configs c
WHERE c.tenant_id = $1 AND c.config_key = $2
  AND (EXISTS (SELECT 1 FROM users u WHERE u.id = $3 AND u.is_superuser)
    OR EXISTS (SELECT 1 FROM access_privileges p WHERE p.uid = $3 AND p.tenant_id = $1 AND p.business_id = 0
      AND p.module_id = 'configs' AND p.priv_id = 'read'))`, t, name, user).Scan(&value, &secret)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read config %q: %w", name, err)
	}
	if !secret {
		return value, true, nil
	}
	if v.Secrets == nil {
		return "", false, fmt.Errorf("config %q is secret and no key is configured (SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY)", name)
	}
	clear, err := v.Secrets.Open(value, commands.ConfigAAD(t, name))
	if err != nil {
		return "", false, fmt.Errorf("open secret config %q: %w", name, err)
	}
	return string(clear), true, nil
}

// runTenant is the tenant of the run asking (engine.RunTenant), else of
// its stored flow (engine.RunFlowID); ok is false for a run of no stored
// flow.
func runTenant(ctx context.Context, pool *pgxpool.Pool) (uuid.UUID, bool, error) {
	if t, err := uuid.Parse(engine.RunTenant(ctx)); err == nil {
		return t, true, nil
	}
	flow, err := uuid.Parse(engine.RunFlowID(ctx))
	if err != nil {
		return uuid.Nil, false, nil // not a stored flow: no tenant
	}
	var tenant *uuid.UUID
	err = pool.QueryRow(ctx, `SELECT f.tenant_id FROM flows f WHERE f.id = $1`, flow).Scan(&tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("read the flow's tenant: %w", err)
	}
	return tenancy.OrSystem(tenant), true, nil
}
