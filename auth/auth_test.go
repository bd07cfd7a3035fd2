package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
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

	fam := uuid.New()
	pair, err := tokens.Issue(ctx, auth.Grant{User: 42, Generation: 3, Family: fam, NotAfter: now.Add(90 * time.Minute)}, "r1")
	require.NoError(t, err)
	assert.Equal(t, "bearer", pair.TokenType)
	c, err := tokens.Verify(ctx, pair.AccessToken, auth.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, auth.Claims{User: 42, Type: auth.AccessToken, Generation: 3, Family: fam, ExpiresAt: now.Add(time.Hour)}, c)
	c, err = tokens.Verify(ctx, *pair.RefreshToken, auth.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, auth.Claims{User: 42, Type: auth.RefreshToken, Generation: 3, Family: fam, ID: "r1",
		ExpiresAt: now.Add(90 * time.Minute)}, c, "no token outlives its grant")

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

	// Tokens from before generations and families: generation 0, no
	// family; bad values of the new claims are refused.
	legacy := signed(t, jwt.MapClaims{"sub": "42", "type": "access", "exp": now.Add(time.Hour).Unix()})
	c, err = tokens.Verify(ctx, legacy, auth.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, auth.Claims{User: 42, Type: auth.AccessToken, ExpiresAt: now.Add(time.Hour)}, c)
	for name, claims := range map[string]jwt.MapClaims{
		"negative gen": {"gen": -1}, "fractional gen": {"gen": 1.5}, "text gen": {"gen": "1"},
		"bad family": {"fam": "x"}, "nil family": {"fam": uuid.Nil.String()}, "empty jti": {"jti": ""},
	} {
		claims["sub"], claims["type"], claims["exp"] = "42", "access", now.Add(time.Hour).Unix()
		_, err = tokens.Verify(ctx, signed(t, claims), auth.AccessToken)
		assert.ErrorIs(t, err, auth.ErrTokenDetails, name)
	}

	noType, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "42", "exp": now.Add(time.Hour).Unix()}).SignedString([]byte(key))
	require.NoError(t, err)
	_, err = tokens.Verify(ctx, noType, auth.AccessToken)
	assert.ErrorIs(t, err, auth.ErrTokenDetails)
}

func signed(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	require.NoError(t, err)
	return s
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
