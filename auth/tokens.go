package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, the "type" claim, as Langflow names them.
const (
	AccessToken  = "access"
	RefreshToken = "refresh"
)

// Tokens issues and checks the JWTs.
type Tokens struct {
	secret                *Secret
	accessTTL, refreshTTL time.Duration
	now                   func() time.Time
}

// NewTokens returns a token service; now is the clock (time.Now).
func NewTokens(secret *Secret, accessTTL, refreshTTL time.Duration, now func() time.Time) *Tokens {
	return &Tokens{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL, now: now}
}

// Pair is the body of a login or refresh: Langflow's Token.
type Pair struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken *string `json:"refresh_token"`
	TokenType    string  `json:"token_type"`
}

// Issue returns a new access and refresh token of user.
func (t *Tokens) Issue(ctx context.Context, user int64) (Pair, error) {
	access, err := t.Sign(ctx, user, AccessToken, t.accessTTL)
	if err != nil {
		return Pair{}, err
	}
	refresh, err := t.Sign(ctx, user, RefreshToken, t.refreshTTL)
	if err != nil {
		return Pair{}, err
	}
	return Pair{AccessToken: access, RefreshToken: &refresh, TokenType: "bearer"}, nil
}

// AccessTTL and RefreshTTL are the tokens' lifetimes (cookie expiry).
func (t *Tokens) AccessTTL() time.Duration  { return t.accessTTL }
func (t *Tokens) RefreshTTL() time.Duration { return t.refreshTTL }

// Sign returns a token of the given type for user, valid for ttl.
func (t *Tokens) Sign(ctx context.Context, user int64, typ string, ttl time.Duration) (string, error) {
	key, err := t.secret.Key(ctx)
	if err != nil {
		return "", err
	}
	now := t.now()
	claims := jwt.MapClaims{
		"sub":  strconv.FormatInt(user, 10),
		"type": typ,
		"iat":  now.Unix(),
		"exp":  now.Add(ttl).Unix(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Token problems, each with Langflow's message.
var (
	ErrTokenMalformed = errors.New("Could not validate credentials")
	ErrTokenType      = errors.New("Token is invalid.")
	ErrTokenExpired   = errors.New("Token has expired.")
	ErrTokenDetails   = errors.New("Invalid token details.")
)

// Verify checks a token's signature, expiry and type and returns its user.
// The errors are the Err* values above; a key-loading failure is returned
// as is.
func (t *Tokens) Verify(ctx context.Context, token, wantType string) (int64, error) {
	key, err := t.secret.Key(ctx)
	if err != nil {
		return 0, err
	}
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return 0, ErrTokenExpired
	case err != nil:
		return 0, ErrTokenMalformed
	}
	claims, _ := parsed.Claims.(jwt.MapClaims)
	typ, _ := claims["type"].(string)
	sub, _ := claims["sub"].(string)
	if typ == "" || sub == "" {
		return 0, ErrTokenDetails
	}
	if typ != wantType {
		return 0, ErrTokenType
	}
	user, err := strconv.ParseInt(sub, 10, 64)
	if err != nil || user <= 0 {
		return 0, ErrTokenDetails
	}
	return user, nil
}
