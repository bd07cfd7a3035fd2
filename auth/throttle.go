package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
)

// ThrottlePolicy is how failed logins slow down guessing. After
// MaxFailures consecutive failures for one login name from one client
// address, that address is refused for that name for Lockout; a failure
// after a lockout ends starts the next, twice as long, up to MaxLockout.
// Other addresses, and sessions already open, are not affected, and
// nothing is locked for good: a stranger can slow an account's owner down
// only from the stranger's own address.
type ThrottlePolicy struct {
	// MaxFailures is the number of failures before the first lockout; 0
	// turns throttling off.
	MaxFailures int
	// Lockout is the first lockout; MaxLockout caps the doubling.
	Lockout, MaxLockout time.Duration
}

// forgetFailures is how long after its last failure an address's count
// starts again.
const forgetFailures = 24 * time.Hour

// throttleState is one (name, address)'s row; zero times are NULL.
type throttleState struct {
	failures                   int
	lastFailureAt, lockedUntil time.Time
}

// wait is how long an attempt at now must wait (0: none).
func (st throttleState) wait(now time.Time) time.Duration {
	if now.Before(st.lockedUntil) {
		return st.lockedUntil.Sub(now)
	}
	return 0
}

// settle records the outcome of an attempt whose password was compared,
// unless the address was locked out meanwhile (by an attempt that was
// being compared at the same time): then wait > 0, the attempt is refused
// and its outcome neither counted nor told. Of a burst of parallel
// guesses, only those settled before the lockout get an answer, as many
// as a sequence of guesses would. lockout is the lockout a failure
// started (0: none).
func (p ThrottlePolicy) settle(st throttleState, o Outcome, now time.Time) (_ throttleState, wait, lockout time.Duration) {
	if wait := st.wait(now); wait > 0 {
		return st, wait, 0
	}
	if !st.lastFailureAt.IsZero() && now.Sub(st.lastFailureAt) >= forgetFailures {
		st = throttleState{}
	}
	switch o {
	case Passed:
		st = throttleState{}
	case Failed:
		st.failures++
		st.lastFailureAt = now
		if st.failures >= p.MaxFailures {
			lockout = p.lockout(st.failures)
			st.lockedUntil = now.Add(lockout)
		}
	}
	return st, 0, lockout
}

// lockout is the lockout after the given number of failures (at least
// MaxFailures): Lockout, doubled for each failure beyond, capped.
func (p ThrottlePolicy) lockout(failures int) time.Duration {
	d := float64(p.Lockout) * math.Exp2(float64(failures-p.MaxFailures))
	return time.Duration(min(d, float64(p.MaxLockout)))
}

// Outcome is how the password comparison of a login attempt ended.
type Outcome int

const (
	// Unchecked: the password was never compared (a server error); nothing
	// is recorded.
	Unchecked Outcome = iota
	// Failed: a wrong password, or a name without a usable account.
	Failed
	// Passed: the password was right.
	Passed
)

// LoginThrottle keeps the failed-login state per (login name, client
// address) in the login_throttle table, which every process shares; each
// outcome is settled in one transaction holding the row, so concurrent
// attempts (from any process) see each other. Names are stored as hashes.
type LoginThrottle struct {
	pool   *pgxpool.Pool
	policy ThrottlePolicy
}

// NewLoginThrottle returns the throttle of pool.
func NewLoginThrottle(pool *pgxpool.Pool, p ThrottlePolicy) *LoginThrottle {
	return &LoginThrottle{pool: pool, policy: p}
}

// Check tells how long a login attempt of name from address must wait at
// now before its password may be compared (0: it may be now).
func (t *LoginThrottle) Check(ctx context.Context, name, address string, now time.Time) (time.Duration, error) {
	if t.policy.MaxFailures <= 0 {
		return 0, nil
	}
	var lockedUntil *time.Time
	err := t.pool.QueryRow(ctx, `SELECT locked_until FROM login_throttle WHERE name_hash = $1 AND address = $2`,
		throttleName(name), throttleAddress(address)).Scan(&lockedUntil)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	return throttleState{lockedUntil: orZero(lockedUntil)}.wait(now), nil
}

// Settle records the outcome of an attempt Check let through, once its
// password was compared; a positive wait refuses the attempt after all (a
// lockout started meanwhile), and lockout is the lockout a failure started.
func (t *LoginThrottle) Settle(ctx context.Context, name, address string, o Outcome, now time.Time) (wait, lockout time.Duration, err error) {
	if t.policy.MaxFailures <= 0 || o == Unchecked {
		return 0, 0, nil
	}
	err = t.change(ctx, name, address, func(st throttleState) throttleState {
		st, wait, lockout = t.policy.settle(st, o, now)
		return st
	})
	if err == nil && o == Failed {
		// Rows of failures long forgotten (strangers' guesses at names
		// nobody uses, from addresses never seen again) go.
		_, err = t.pool.Exec(ctx, `DELETE FROM login_throttle WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)`,
			now.Add(-forgetFailures), now)
		if err != nil {
			err = fmt.Errorf("prune login throttle: %w", err)
		}
	}
	return wait, lockout, err
}

// Clear forgets every failure of name, from every address; it returns how
// many addresses had some state.
func (t *LoginThrottle) Clear(ctx context.Context, name string) (int64, error) {
	tag, err := t.pool.Exec(ctx, `DELETE FROM login_throttle WHERE name_hash = $1`, throttleName(name))
	if err != nil {
		return 0, fmt.Errorf("clear login throttle: %w", err)
	}
	return tag.RowsAffected(), nil
}

// change applies fn to the row of (name, address) in one transaction that
// holds the row; a row back to its zero state is removed.
func (t *LoginThrottle) change(ctx context.Context, name, address string, fn func(throttleState) throttleState) error {
	key, addr := throttleName(name), throttleAddress(address)
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var (
		st                         throttleState
		lastFailureAt, lockedUntil *time.Time
	)
	// ON CONFLICT DO UPDATE locks an existing row and returns it.
	err = tx.QueryRow(ctx, `INSERT INTO login_throttle AS t (name_hash, address) VALUES ($1, $2)
ON CONFLICT (name_hash, address) DO UPDATE SET failures = t.failures
RETURNING failures, last_failure_at, locked_until`, key, addr).Scan(&st.failures, &lastFailureAt, &lockedUntil)
	if err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	st.lastFailureAt, st.lockedUntil = orZero(lastFailureAt), orZero(lockedUntil)
	st = fn(st)
	if st == (throttleState{}) {
		_, err = tx.Exec(ctx, `DELETE FROM login_throttle WHERE name_hash = $1 AND address = $2`, key, addr)
	} else {
		_, err = tx.Exec(ctx, `UPDATE login_throttle SET failures = $3, last_failure_at = $4, locked_until = $5
WHERE name_hash = $1 AND address = $2`, key, addr, st.failures, orNull(st.lastFailureAt), orNull(st.lockedUntil))
	}
	if err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}

// throttleName is the stored form of a login name: the hex SHA-256 of its
// case-folded form (logins accept any case). Attempted names may be
// mistyped passwords, so they are never kept in clear.
func throttleName(name string) string { return sha256Hex(domain.ClaimKey(name)) }

// throttleAddress is the address failed logins are counted by: the IPv4
// address, or the /64 of an IPv6 one (a single host commonly holds a whole
// /64, so counting its addresses one by one would count nothing).
func throttleAddress(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
