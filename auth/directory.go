package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	usage   *usageCounter
}

// NewDirectory reads the users and api_keys read models of pool. fromLog,
// if not nil, answers for an account the users read model does not show
// (yet): a token is only ever issued for an account that exists, so a
// missing row means the read model lags behind the registration that made
// it (a node catching up, a long backlog); the account is then folded
// from its own stream, and the token works at once.
func NewDirectory(pool *pgxpool.Pool, fromLog func(ctx context.Context, id int64) (Account, bool, error)) *Directory {
	return &Directory{pool: pool, fromLog: fromLog, usage: &usageCounter{pool: pool}}
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
// the use (total_uses, last_used_at: written within a second, see
// usageCounter).
func (d *Directory) ByAPIKey(ctx context.Context, hash string) (Account, bool, error) {
	var key uuid.UUID
	a, ok, err := d.scan(ctx, []any{&key}, `SELECT k.id, `+accountColumns+`, true FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.key_hash = $1 AND k.is_active`, hash)
	if ok {
		d.usage.add(key, time.Now())
	}
	return a, ok, err
}

// FlushUsage writes the API keys' usage counted so far (at shutdown).
func (d *Directory) FlushUsage() { d.usage.flush() }

func (d *Directory) one(ctx context.Context, sql string, args ...any) (Account, bool, error) {
	return d.scan(ctx, nil, sql, args...)
}

// scan reads one account row of sql, its columns after first's.
func (d *Directory) scan(ctx context.Context, first []any, sql string, args ...any) (Account, bool, error) {
	var a Account
	err := d.pool.QueryRow(ctx, sql, args...).Scan(append(first, &a.ID, &a.Username, &a.IsActive, &a.IsSuperuser, &a.IsLocked,
		&a.TokenGeneration, &a.FamilyLive)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Account{}, false, nil
	case err != nil:
		return Account{}, false, fmt.Errorf("look up account: %w", err)
	}
	return a, true, nil
}
