package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Langflow's answers to a refresh it refuses.
const (
	msgBadRefresh      = "Invalid refresh token"
	msgRefreshInactive = "User account is inactive"
)

// Sessions issues token pairs at login and rotates them at refresh. Each
// login opens a refresh family (table refresh_families, shared by every
// process): only its newest refresh token may be used, once; presenting an
// older one again (a stolen copy, or the legitimate holder after the thief)
// revokes the family, and with it every access and refresh token descended
// from that login. No token outlives the family's absolute end
// (maxLifetime after the login), however often it is refreshed.
type Sessions struct {
	pool        *pgxpool.Pool
	tokens      *Tokens
	dir         *Directory
	maxLifetime time.Duration
}

// NewSessions returns the sessions of pool; maxLifetime bounds every
// session from its login.
func NewSessions(pool *pgxpool.Pool, tokens *Tokens, dir *Directory, maxLifetime time.Duration) *Sessions {
	return &Sessions{pool: pool, tokens: tokens, dir: dir, maxLifetime: maxLifetime}
}

// Start opens a session of user, whose token generation is generation,
// and returns its first pair. The user's families that ended are dropped
// on the way.
func (s *Sessions) Start(ctx context.Context, user, generation int64) (Pair, error) {
	now := s.now()
	family, id := uuid.New(), newTokenID()
	notAfter := now.Add(s.maxLifetime)
	_, err := s.pool.Exec(ctx, `WITH ended AS (
    DELETE FROM refresh_families WHERE user_id = $2 AND expires_at <= $4
)
INSERT INTO refresh_families (id, user_id, current_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		family, user, hashTokenID(id), now, notAfter)
	if err != nil {
		return Pair{}, fmt.Errorf("start session: %w", err)
	}
	return s.tokens.Issue(ctx, Grant{User: user, Generation: generation, Family: family, NotAfter: notAfter}, id)
}

// RefreshReuseError is the answer to a refresh token that was presented
// before: its family is revoked now. It is Langflow's 401 "Invalid refresh
// token" to the client; the server logs it.
type RefreshReuseError struct {
	User   int64
	Family uuid.UUID
}

func (e *RefreshReuseError) Error() string {
	return fmt.Sprintf("refresh token of user %d presented again: family %s revoked", e.User, e.Family)
}

// Unwrap is the client's answer.
func (e *RefreshReuseError) Unwrap() error { return unauthorized(msgBadRefresh) }

// Refresh checks a refresh token and returns the next pair of its family;
// the token presented is spent. Its errors are the 401 answers: "Invalid
// refresh token" for a bad, expired, revoked or spent token (a spent one,
// a *RefreshReuseError, also revokes its family), "User account is
// inactive" and "User is locked.". A refresh token without a family
// (issued before rotation existed) is refused: its holder logs in again.
func (s *Sessions) Refresh(ctx context.Context, token string) (Pair, error) {
	bad := unauthorized(msgBadRefresh)
	c, err := s.tokens.Verify(ctx, token, RefreshToken)
	switch {
	case err != nil && isTokenError(err):
		return Pair{}, bad
	case err != nil:
		return Pair{}, err
	case c.Family == uuid.Nil || c.ID == "":
		return Pair{}, bad
	}
	acc, ok, err := s.dir.ByID(ctx, c.User, uuid.Nil)
	switch {
	case err != nil:
		return Pair{}, err
	case !ok:
		return Pair{}, bad
	case !acc.IsActive:
		return Pair{}, unauthorized(msgRefreshInactive)
	case acc.IsLocked:
		return Pair{}, unauthorized(msgLocked)
	case c.Generation < acc.TokenGeneration:
		return Pair{}, bad
	}
	next, notAfter, err := s.rotate(ctx, c)
	if err != nil {
		return Pair{}, err
	}
	return s.tokens.Issue(ctx, Grant{User: c.User, Generation: c.Generation, Family: c.Family, NotAfter: notAfter}, next)
}

// rotate spends the refresh token of c and returns the id of its
// successor and the family's end. The family's row is locked meanwhile:
// of two refreshes with one token, the second sees it spent (a reuse).
func (s *Sessions) rotate(ctx context.Context, c Claims) (next string, notAfter time.Time, err error) {
	now := s.now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("refresh: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var (
		user    int64
		current string
		revoked *time.Time
	)
	err = tx.QueryRow(ctx, `SELECT user_id, current_hash, expires_at, revoked_at FROM refresh_families WHERE id = $1 FOR UPDATE`,
		c.Family).Scan(&user, &current, &notAfter, &revoked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", time.Time{}, unauthorized(msgBadRefresh)
	case err != nil:
		return "", time.Time{}, fmt.Errorf("refresh: %w", err)
	case user != c.User || revoked != nil || !now.Before(notAfter):
		return "", time.Time{}, unauthorized(msgBadRefresh)
	}
	if subtle.ConstantTimeCompare([]byte(current), []byte(hashTokenID(c.ID))) != 1 {
		if _, err := tx.Exec(ctx, `UPDATE refresh_families SET revoked_at = $2, revoked_reason = 'reuse' WHERE id = $1`, c.Family, now); err != nil {
			return "", time.Time{}, fmt.Errorf("revoke family: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return "", time.Time{}, fmt.Errorf("revoke family: %w", err)
		}
		return "", time.Time{}, &RefreshReuseError{User: c.User, Family: c.Family}
	}
	next = newTokenID()
	if _, err := tx.Exec(ctx, `UPDATE refresh_families SET current_hash = $2, rotated_at = $3, rotations = rotations + 1 WHERE id = $1`,
		c.Family, hashTokenID(next), now); err != nil {
		return "", time.Time{}, fmt.Errorf("refresh: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", time.Time{}, fmt.Errorf("refresh: %w", err)
	}
	return next, notAfter, nil
}

// Holder returns the account a refresh token still speaks for (valid,
// of the account's generation, its family not revoked), for a logout whose
// access token is gone; ok is false otherwise.
func (s *Sessions) Holder(ctx context.Context, token string) (user int64, ok bool, err error) {
	c, err := s.tokens.Verify(ctx, token, RefreshToken)
	switch {
	case err != nil && isTokenError(err):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case c.Family == uuid.Nil:
		return 0, false, nil
	}
	acc, found, err := s.dir.ByID(ctx, c.User, c.Family)
	if err != nil || !found || !current(c, acc) {
		return 0, false, err
	}
	return acc.ID, true, nil
}

func (s *Sessions) now() time.Time { return s.tokens.Now().UTC().Truncate(time.Microsecond) }

// newTokenID returns a refresh token's id: 128 random bits.
func newTokenID() string { return randomString(16) }

// hashTokenID is how a refresh token's id is stored: hex SHA-256 (a fast
// hash suffices for 128 random bits).
func hashTokenID(id string) string { return sha256Hex(id) }
