package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Identity is the accounts module: users, logins, tokens and API keys. It
// installs the server's Authenticator, so every module registered with it
// gets authenticated callers.
type Identity struct {
	// Clock, if set, replaces the process clock for tokens, sessions and
	// the login throttle (tests of expiry and back-off move it on).
	Clock func() time.Time

	passwords *auth.Passwords
	dir       *auth.Directory
}

var (
	_ Module       = (*Identity)(nil)
	_ Bootstrapper = (*Identity)(nil)
	_ Runner       = (*Identity)(nil)
)

// Run implements Runner: at shutdown the API keys' usage counted since the
// last write is written.
func (m *Identity) Run(ctx context.Context, _ Deps) error {
	<-ctx.Done()
	if m.dir != nil {
		m.dir.FlushUsage()
	}
	return nil
}

// Register implements Module.
func (*Identity) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.IdentityEvents())
}

// Projections implements Module.
func (*Identity) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Users()}
}

// Routes implements Module.
func (m *Identity) Routes(s *httpapi.Server, d Deps) {
	cfg := d.Config
	m.passwords = auth.NewPasswords(cfg.PasswordHashCost)
	clock := d.Clock
	if m.Clock != nil {
		clock = m.Clock
	}
	tokens := auth.NewTokens(auth.NewSecret(cfg.SecretKey, d.Pool),
		time.Duration(cfg.AccessTokenExpireSeconds)*time.Second,
		time.Duration(cfg.RefreshTokenExpireSeconds)*time.Second, clock)
	dir := auth.NewDirectory(d.Pool, func(ctx context.Context, id int64) (auth.Account, bool, error) {
		u := domain.LoadUser(id)
		if err := d.Repository.Load(ctx, u); errors.Is(err, domain.ErrNotFound) {
			return auth.Account{}, false, nil
		} else if err != nil {
			return auth.Account{}, false, err
		}
		if u.Deleted() {
			return auth.Account{}, false, nil
		}
		return auth.Account{ID: u.ID(), Username: u.Username(), IsActive: u.IsActive(), IsSuperuser: u.IsSuperuser(),
			IsLocked: u.IsLocked(), TokenGeneration: u.TokenGeneration()}, true, nil
	})
	m.dir = dir
	authn := auth.NewAuthenticator(tokens, dir, cfg.AutoLogin)
	s.SetAuthenticator(authn)
	// Who may do what follows from who is calling: the effective
	// permissions (projection "access", part of every App) decide.
	s.SetAuthorizer(&access.Enforcer{Checker: access.Checker{Pool: d.Pool, Cache: access.NewCache(func() (eventstore.Position, bool) {
		if d.Runtime.Health(context.Background()) != nil {
			return eventstore.Position{}, false
		}
		return d.Runtime.Position(projections.AccessName)
	})}})
	ports.Identity(ports.Port{Server: s, Pool: d.Pool, Clock: clock}, &commands.IdentityHandler{
		Repo: d.Repository, IDs: commands.NewSequences(d.Pool), Passwords: m.passwords,
		Tokens: tokens, Sessions: auth.NewSessions(d.Pool, tokens, dir, cfg.SessionMaxLifetime),
		Throttle: LoginThrottle(d), Pool: d.Pool, Superusers: superusers{d.Pool}, Config: cfg, Log: d.Logger,
	}, authn)
	readapi.RegisterUsers(s, d.Pool)
}

// superusers reads the superusers of the accounts' read model for
// commands.IdentityHandler.
type superusers struct{ pool *pgxpool.Pool }

func (s superusers) CountOtherActive(ctx context.Context, id int64) (int64, error) {
	return readapi.CountOtherActiveSuperusers(ctx, s.pool, id)
}

func (s superusers) First(ctx context.Context) (int64, error) {
	return readapi.FirstSuperuser(ctx, s.pool)
}

// Bootstrap implements Bootstrapper: the superuser of SKILLFLAW_SUPERUSER
// is created if missing.
func (m *Identity) Bootstrap(ctx context.Context, d Deps) error {
	cfg := d.Config
	if cfg.Superuser == "" {
		return nil
	}
	created, err := commands.EnsureSuperuser(ctx, d.Repository, commands.NewSequences(d.Pool), m.passwordsOf(cfg.PasswordHashCost),
		cfg.Superuser, cfg.SuperuserPassword)
	if err != nil {
		return fmt.Errorf("create superuser %s (SKILLFLAW_SUPERUSER, SKILLFLAW_SUPERUSER_PASSWORD): %w", cfg.Superuser, err)
	}
	if created {
		d.Logger.Info("superuser created", "username", cfg.Superuser)
	}
	return nil
}

// LoginThrottle is the failed-login throttle of the configuration (the
// CLI clears it).
func LoginThrottle(d Deps) *auth.LoginThrottle {
	return auth.NewLoginThrottle(d.Pool, auth.ThrottlePolicy{
		MaxFailures: d.Config.MaxLoginAttempts, Lockout: d.Config.LoginLockout, MaxLockout: d.Config.LoginLockoutMax,
	})
}

func (m *Identity) passwordsOf(cost int) *auth.Passwords {
	if m.passwords == nil {
		m.passwords = auth.NewPasswords(cost)
	}
	return m.passwords
}

// registerEvents registers events with their schema versions.
func registerEvents(reg *eventstore.Registry, events []domain.Schema) error {
	for _, s := range events {
		if err := reg.Register(s.Event, s.Version); err != nil {
			return err
		}
	}
	return nil
}
