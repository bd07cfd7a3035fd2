package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
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

// Claims are what a token says beyond its signature.
type Claims struct {
	// User is the account ("sub").
	User int64
	// Type is AccessToken or RefreshToken ("type").
	Type string
	// Generation is the account's token generation when the token was
	// issued ("gen"); a token without one (issued before generations
	// existed) is of generation 0.
	Generation int64
	// Family is the refresh family (login) the token descends from
	// ("fam"); uuid.Nil for tokens outside any (auto-login).
	Family uuid.UUID
	// ID is a refresh token's own id ("jti"); only its hash is stored.
	ID string
	// ExpiresAt is "exp".
	ExpiresAt time.Time
}

// Grant is what a pair of tokens is issued for: the account in its current
// token generation, within a refresh family that ends at NotAfter.
type Grant struct {
	User       int64
	Generation int64
	Family     uuid.UUID
	NotAfter   time.Time
}

// Issue returns an access token and a refresh token (of id refreshID) of
// the grant; neither outlives g.NotAfter.
func (t *Tokens) Issue(ctx context.Context, g Grant, refreshID string) (Pair, error) {
	access, err := t.Sign(ctx, Claims{User: g.User, Type: AccessToken, Generation: g.Generation, Family: g.Family,
		ExpiresAt: earliest(t.now().Add(t.accessTTL), g.NotAfter)})
	if err != nil {
		return Pair{}, err
	}
	refresh, err := t.Sign(ctx, Claims{User: g.User, Type: RefreshToken, Generation: g.Generation, Family: g.Family,
		ID: refreshID, ExpiresAt: earliest(t.now().Add(t.refreshTTL), g.NotAfter)})
	if err != nil {
		return Pair{}, err
	}
	return Pair{AccessToken: access, RefreshToken: &refresh, TokenType: "bearer"}, nil
}

func earliest(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// AccessTTL and RefreshTTL are the tokens' lifetimes (cookie expiry).
func (t *Tokens) AccessTTL() time.Duration  { return t.accessTTL }
func (t *Tokens) RefreshTTL() time.Duration { return t.refreshTTL }

// Now is the clock the tokens are issued and checked by.
func (t *Tokens) Now() time.Time { return t.now() }

// Sign returns the token of c (issued now; ExpiresAt is required).
func (t *Tokens) Sign(ctx context.Context, c Claims) (string, error) {
	key, err := t.secret.Key(ctx)
	if err != nil {
		return "", err
	}
	claims := jwt.MapClaims{
		"sub":  strconv.FormatInt(c.User, 10),
		"type": c.Type,
		"gen":  c.Generation,
		"iat":  t.now().Unix(),
		"exp":  c.ExpiresAt.Unix(),
	}
	if c.Family != uuid.Nil {
		claims["fam"] = c.Family.String()
	}
	if c.ID != "" {
		claims["jti"] = c.ID
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

// Verify checks a token's signature, expiry and type and returns its
// claims. The errors are the Err* values above; a key-loading failure is
// returned as is.
func (t *Tokens) Verify(ctx context.Context, token, wantType string) (Claims, error) {
	key, err := t.secret.Key(ctx)
	if err != nil {
		return Claims{}, err
	}
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrTokenExpired
	case err != nil:
		return Claims{}, ErrTokenMalformed
	}
	mc, _ := parsed.Claims.(jwt.MapClaims)
	typ, _ := mc["type"].(string)
	sub, _ := mc["sub"].(string)
	if typ == "" || sub == "" {
		return Claims{}, ErrTokenDetails
	}
	if typ != wantType {
		return Claims{}, ErrTokenType
	}
	c := Claims{Type: typ}
	if c.User, err = strconv.ParseInt(sub, 10, 64); err != nil || c.User <= 0 {
		return Claims{}, ErrTokenDetails
	}
	if raw, ok := mc["gen"]; ok {
		gen, isNum := raw.(float64)
		if !isNum || gen < 0 || gen != math.Trunc(gen) || gen > 1<<53 {
			return Claims{}, ErrTokenDetails
		}
		c.Generation = int64(gen)
	}
	if raw, ok := mc["fam"]; ok {
		s, _ := raw.(string)
		if c.Family, err = uuid.Parse(s); err != nil || c.Family == uuid.Nil {
			return Claims{}, ErrTokenDetails
		}
	}
	if raw, ok := mc["jti"]; ok {
		if c.ID, _ = raw.(string); c.ID == "" {
			return Claims{}, ErrTokenDetails
		}
	}
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.UTC()
	}
	return c, nil
}
