package auth

import (
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/skillflaw/skillflaw-go/domain"
)

// Password length limits. bcrypt reads at most 72 bytes, so longer
// passwords are refused rather than silently cut.
const (
	MinPasswordLength = 8
	MaxPasswordBytes  = 72
)

// Passwords hashes and verifies passwords with bcrypt.
type Passwords struct {
	cost int
	// dummy is a hash of nothing, compared against when there is no user,
	// so that a login for an unknown name takes as long as a wrong password.
	// It is made on first use: processes that never log anyone in (the CLI)
	// do not pay for it.
	dummyOnce sync.Once
	dummy     []byte
}

// NewPasswords returns a hasher of the given bcrypt cost, brought into
// bcrypt's range (4-31; configuration checks it first).
func NewPasswords(cost int) *Passwords {
	return &Passwords{cost: min(max(cost, bcrypt.MinCost), bcrypt.MaxCost)}
}

// ValidPassword checks a new password's length.
func ValidPassword(pw string) error {
	switch {
	case len([]rune(pw)) < MinPasswordLength:
		return domain.Invalidf("password must be at least %d characters", MinPasswordLength)
	case len(pw) > MaxPasswordBytes:
		return domain.Invalidf("password must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// Hash returns the bcrypt hash of a valid password.
func (p *Passwords) Hash(pw string) (string, error) {
	if err := ValidPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Verify reports whether pw matches hash. An empty hash (no such user)
// costs the same time and never matches.
func (p *Passwords) Verify(hash, pw string) bool {
	if hash == "" {
		p.dummyOnce.Do(func() {
			p.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), p.cost) // fails only for bad costs
		})
		_ = bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
