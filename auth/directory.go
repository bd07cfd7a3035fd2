package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Account is what authentication needs to know of a user, read from the
// users read model (kept current by the identity projection; writes that
// change these fields wait for it before they answer, so a caller's next
// request sees them).
type Account struct {
	ID          int64
	Username    string
	IsActive    bool
	IsSuperuser bool
	IsLocked    bool
	// TokenGeneration is the generation the account's tokens must carry at
	// least: older ones were revoked.
	TokenGeneration int64
	// FamilyLive tells whether the refresh family asked for (ByID) exists
	// for this account and was not revoked; true when none was asked for.
	FamilyLive bool
}

// Directory looks accounts up for the Authenticator.
type Directory struct {
	pool    *pgxpool.Pool
	fromLog func(ctx context.Context, id int64) (Account, bool, error)
}

// NewDirectory reads the users and api_keys read models of pool. fromLog,
// if not nil, answers for an account the users read model does not show
// (yet): a token is only ever issued for an account that exists, so a
// missing row means the read model lags behind the registration that made
// it (a node catching up, a long backlog); the account is then folded
// from its own stream, and the token works at once.
func NewDirectory(pool *pgxpool.Pool, fromLog func(ctx context.Context, id int64) (Account, bool, error)) *Directory {
	return &Directory{pool: pool, fromLog: fromLog}
}

const accountColumns = `u.id, u.username, u.is_active, u.is_superuser, u.is_locked, u.token_generation`

// familyLive tells whether refresh family $2 (NULL: none asked for) is
// one of account $1's and was not revoked.
const familyLive = `$2::uuid IS NULL OR EXISTS (
    SELECT 1 FROM refresh_families f WHERE f.id = $2 AND f.user_id = $1 AND f.revoked_at IS NULL)`

// ByID returns the account of user id and whether its refresh family is
// live (family uuid.Nil: none asked for), in one statement; ok is false
// when there is no such account.
func (d *Directory) ByID(ctx context.Context, id int64, family uuid.UUID) (Account, bool, error) {
	fam := uuid.NullUUID{UUID: family, Valid: family != uuid.Nil}
	a, ok, err := d.one(ctx, `SELECT `+accountColumns+`, `+familyLive+` FROM users u WHERE u.id = $1`, id, fam)
	if ok || err != nil || d.fromLog == nil {
		return a, ok, err
	}
	if a, ok, err = d.fromLog(ctx, id); !ok || err != nil {
		return Account{}, false, err
	}
	err = d.pool.QueryRow(ctx, `SELECT `+familyLive, id, fam).Scan(&a.FamilyLive)
	if err != nil {
		return Account{}, false, fmt.Errorf("look up refresh family: %w", err)
	}
	return a, true, nil
}

// ByAPIKey returns the account owning the key with this hash and counts
// the use (total_uses, last_used_at), in one statement.
func (d *Directory) ByAPIKey(ctx context.Context, hash string) (Account, bool, error) {
	return d.one(ctx, `WITH k AS (
    SELECT id, user_id FROM api_keys WHERE key_hash = $1 AND is_active
), used AS (
    INSERT INTO api_key_usage AS x (api_key_id, total_uses, last_used_at)
    SELECT id, 1, now() FROM k
    ON CONFLICT (api_key_id) DO UPDATE SET total_uses = x.total_uses + 1, last_used_at = excluded.last_used_at
)
SELECT `+accountColumns+`, true FROM k JOIN users u ON u.id = k.user_id`, hash)
}

func (d *Directory) one(ctx context.Context, sql string, args ...any) (Account, bool, error) {
	var a Account
	err := d.pool.QueryRow(ctx, sql, args...).Scan(&a.ID, &a.Username, &a.IsActive, &a.IsSuperuser, &a.IsLocked,
		&a.TokenGeneration, &a.FamilyLive)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Account{}, false, nil
	case err != nil:
		return Account{}, false, fmt.Errorf("look up account: %w", err)
	}
	return a, true, nil
}
