package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// signingKeyName is the server_secrets row of the generated JWT key.
const signingKeyName = "jwt_signing_key"

// Secret is the JWT signing key: the configured one, or one generated at
// first use and kept in the server_secrets table, so that every node of a
// deployment, and every restart, signs and verifies with the same key.
// Loading is lazy (the table exists once migrations ran) and retried until
// it succeeds.
type Secret struct {
	configured []byte
	pool       *pgxpool.Pool

	mu  sync.Mutex
	key []byte
}

// NewSecret returns the configured key, or a database-kept one when
// configured is empty.
func NewSecret(configured string, pool *pgxpool.Pool) *Secret {
	s := &Secret{pool: pool}
	if configured != "" {
		s.configured = []byte(configured)
	}
	return s
}

// Key returns the signing key.
func (s *Secret) Key(ctx context.Context) ([]byte, error) {
	if s.configured != nil {
		return s.configured, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	candidate := base64.RawURLEncoding.EncodeToString(b)
	// Whoever inserts first wins; everyone reads the winner's key.
	var key string
	err := s.pool.QueryRow(ctx, `WITH ins AS (
    INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value
)
SELECT value FROM ins UNION ALL SELECT value FROM server_secrets WHERE name = $1 LIMIT 1`, signingKeyName, candidate).Scan(&key)
	if err != nil {
		return nil, fmt.Errorf("load the token signing key: %w", err)
	}
	s.key = []byte(key)
	return s.key, nil
}
