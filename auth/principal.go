package auth

import "context"

// Principal is the authenticated caller.
type Principal struct {
	UserID      int64
	Username    string
	IsSuperuser bool
	// Via is how the caller authenticated: "jwt" or "api_key".
	Via string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of a request that passed the
// Authenticator; ok is false on public routes without credentials.
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
