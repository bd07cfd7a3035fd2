package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

const key = "0123456789abcdef0123456789abcdef"

func TestTokens_TypesExpiryAndSignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := auth.NewTokens(auth.NewSecret(key, nil), time.Hour, 24*time.Hour, clock)

	pair, err := tokens.Issue(ctx, 42)
	require.NoError(t, err)
	assert.Equal(t, "bearer", pair.TokenType)
	id, err := tokens.Verify(ctx, pair.AccessToken, auth.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, int64(42), id)
	id, err = tokens.Verify(ctx, *pair.RefreshToken, auth.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, int64(42), id)

	_, err = tokens.Verify(ctx, *pair.RefreshToken, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenType, "a refresh token is no access token")
	_, err = tokens.Verify(ctx, pair.AccessToken, auth.RefreshToken)
	assert.ErrorIs(t, err, auth.ErrTokenType, "an access token is no refresh token")

	other := auth.NewTokens(auth.NewSecret(strings.Repeat("x", 32), nil), time.Hour, time.Hour, clock)
	_, err = other.Verify(ctx, pair.AccessToken, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenMalformed, "another key's signature")
	_, err = tokens.Verify(ctx, "not.a.token", auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenMalformed)

	later := auth.NewTokens(auth.NewSecret(key, nil), time.Hour, time.Hour, func() time.Time { return now.Add(61 * time.Minute) })
	_, err = later.Verify(ctx, pair.AccessToken, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenExpired)

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "42", "type": "access", "exp": now.Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	_, err = tokens.Verify(ctx, none, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenMalformed, `alg "none" is refused`)

	noType, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "42", "exp": now.Add(time.Hour).Unix()}).SignedString([]byte(key))
	require.NoError(t, err)
	_, err = tokens.Verify(ctx, noType, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenDetails)
}

func TestSecret_GeneratedOnceAndShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testkit.NewDatabase(t)
	a, err := auth.NewSecret("", pool).Key(ctx)
	require.NoError(t, err)
	b, err := auth.NewSecret("", pool).Key(ctx)
	require.NoError(t, err)
	assert.Equal(t, a, b, "a second process reads the first one's key")
	assert.GreaterOrEqual(t, len(a), 32)
	configured, err := auth.NewSecret(key, pool).Key(ctx)
	require.NoError(t, err)
	assert.Equal(t, []byte(key), configured)
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	pw := auth.NewPasswords(4)
	h, err := pw.Hash("correct horse")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$2a$04$"))
	assert.True(t, pw.Verify(h, "correct horse"))
	assert.False(t, pw.Verify(h, "wrong horse"))
	assert.False(t, pw.Verify("", "correct horse"), "no hash never matches")
	_, err = pw.Hash("short")
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = pw.Hash(strings.Repeat("x", 73))
	assert.ErrorIs(t, err, domain.ErrInvalid, "bcrypt would cut it at 72 bytes")
	// Langflow's passlib writes $2b$ hashes; they verify, so accounts can be
	// migrated from Langflow.
	langflow := "$2b$" + strings.TrimPrefix(h, "$2a$")
	assert.True(t, pw.Verify(langflow, "correct horse"))
	assert.False(t, pw.Verify(langflow, "wrong horse"))
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	k1, h1 := auth.NewAPIKey()
	k2, _ := auth.NewAPIKey()
	assert.NotEqual(t, k1, k2)
	assert.True(t, strings.HasPrefix(k1, "sk-"))
	assert.Len(t, k1, 46)
	assert.Equal(t, h1, auth.HashAPIKey(k1))
	assert.NotContains(t, h1, k1)
	assert.Equal(t, "sk-abcde***", auth.MaskAPIKey("sk-abcde", 11))
}
