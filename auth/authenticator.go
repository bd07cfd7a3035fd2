package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// Cookie and parameter names, as Langflow's.
const (
	AccessCookie  = "access_token_lf"
	RefreshCookie = "refresh_token_lf"
	StoreCookie   = "apikey_tkn_lflw"
	APIKeyName    = "x-api-key"
)

// Langflow's messages.
const (
	msgNoAPIKey          = "An API key must be passed as query or header"
	msgInvalidAPIKey     = "Invalid or missing API key"
	msgUserInactive      = "User not found or is inactive."
	msgInactive          = "Inactive user"
	msgLocked            = "User is locked."
	msgNotSuperuser      = "The user doesn't have enough privileges"
	msgTokenRevoked      = "Token has been revoked." // ours: Langflow never revokes
	msgAutoLoginNeedsKey = "Since v1.5, SKILLFLAW_AUTO_LOGIN requires a valid API key. Please update your authentication method."
	msgAutoLoginNoKey    = "With SKILLFLAW_AUTO_LOGIN, requests still need credentials: call GET /api/v1/auto_login for a token, or pass an API key."
)

// Authenticator resolves a request's credentials into a Principal: the
// first of Authorization: Bearer, the access_token_lf cookie, and an API key
// (x-api-key query parameter, then header) that is present decides, as in
// Langflow; a present but bad credential is refused, never skipped.
type Authenticator struct {
	tokens    *Tokens
	dir       *Directory
	autoLogin bool
}

var _ httpapi.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns an Authenticator. autoLogin only changes the
// message of a request without credentials.
func NewAuthenticator(tokens *Tokens, dir *Directory, autoLogin bool) *Authenticator {
	return &Authenticator{tokens: tokens, dir: dir, autoLogin: autoLogin}
}

// Authenticate implements httpapi.Authenticator.
func (a *Authenticator) Authenticate(r *http.Request) (context.Context, error) {
	p, err := a.principal(r)
	if err != nil {
		return nil, err
	}
	ctx := WithPrincipal(r.Context(), p)
	return httpapi.WithActor(ctx, p.UserID), nil
}

// Optional returns the caller of a public route that may also be called
// with credentials (sign-up, which a superuser may use to add users).
// Missing or bad credentials make an anonymous caller.
func (a *Authenticator) Optional(r *http.Request) (Principal, bool) {
	p, err := a.principal(r)
	return p, err == nil
}

// AuthenticateAPIKey implements httpapi.APIKeyAuthenticator: the API key
// only, as Langflow's api_key_security (the run API, the Responses API).
func (a *Authenticator) AuthenticateAPIKey(r *http.Request) (context.Context, error) {
	p, err := a.byAPIKey(r, msgAutoLoginNeedsKey)
	if err != nil {
		return nil, err
	}
	return httpapi.WithActor(WithPrincipal(r.Context(), p), p.UserID), nil
}

// AuthenticateLocal implements httpapi.LocalAuthenticator: with
// auto-login on, a request carrying no credentials at all (no bearer
// token or cookie, no API key) that comes straight from the server's own
// machine — a loopback peer and no proxy header — acts as the first
// active superuser. Anything else is not authenticated by it.
func (a *Authenticator) AuthenticateLocal(r *http.Request) (context.Context, bool, error) {
	if !a.autoLogin || bearerToken(r) != "" || r.URL.Query().Get(APIKeyName) != "" || r.Header.Get(APIKeyName) != "" ||
		!fromThisMachine(r) {
		return nil, false, nil
	}
	acc, ok, err := a.dir.one(r.Context(), `SELECT `+accountColumns+`, true FROM users u
WHERE u.is_superuser AND u.is_active AND NOT u.is_locked ORDER BY u.id LIMIT 1`)
	if err != nil || !ok {
		return nil, false, err
	}
	p := Principal{UserID: acc.ID, Username: acc.Username, IsSuperuser: true, Via: "auto_login"}
	return httpapi.WithActor(WithPrincipal(r.Context(), p), p.UserID), true, nil
}

// fromThisMachine reports whether r's peer is a loopback address, no
// proxy forwarded it (a proxy on the same machine forwards others'
// requests), and it names a loopback host (a page whose name was
// rebound to 127.0.0.1 names its own).
func fromThisMachine(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip", "Forwarded"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return loopback(r.RemoteAddr) && (loopback(r.Host) || loopback(r.Host+":0"))
}

// loopback reports whether addr ("host:port") is a loopback address or
// localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (a *Authenticator) principal(r *http.Request) (Principal, error) {
	if token := bearerToken(r); token != "" {
		return a.byToken(r.Context(), token)
	}
	return a.byAPIKey(r, msgAutoLoginNoKey)
}

// byAPIKey is the caller of r's API key (query parameter, then header);
// autoLoginMsg is the 403's text for no key under auto-login.
func (a *Authenticator) byAPIKey(r *http.Request, autoLoginMsg string) (Principal, error) {
	key := r.URL.Query().Get(APIKeyName)
	if key == "" {
		key = r.Header.Get(APIKeyName)
	}
	if key == "" {
		msg := msgNoAPIKey
		if a.autoLogin {
			msg = autoLoginMsg
		}
		return Principal{}, &httpapi.StatusError{Status: http.StatusForbidden, Detail: msg}
	}
	acc, ok, err := a.dir.ByAPIKey(r.Context(), HashAPIKey(key))
	switch {
	case err != nil:
		return Principal{}, err
	case !ok:
		return Principal{}, &httpapi.StatusError{Status: http.StatusForbidden, Detail: msgInvalidAPIKey}
	case acc.IsLocked:
		return Principal{}, unauthorized(msgLocked)
	case !acc.IsActive:
		return Principal{}, unauthorized(msgInactive)
	}
	return Principal{UserID: acc.ID, Username: acc.Username, IsSuperuser: acc.IsSuperuser, Via: "api_key"}, nil
}

func (a *Authenticator) byToken(ctx context.Context, token string) (Principal, error) {
	claims, err := a.tokens.Verify(ctx, token, AccessToken)
	if err != nil {
		if isTokenError(err) {
			return Principal{}, unauthorized(err.Error())
		}
		return Principal{}, err
	}
	acc, ok, err := a.dir.ByID(ctx, claims.User, claims.Family)
	switch {
	case err != nil:
		return Principal{}, err
	case !ok || !acc.IsActive:
		return Principal{}, unauthorized(msgUserInactive)
	case acc.IsLocked:
		return Principal{}, unauthorized(msgLocked)
	case !current(claims, acc):
		return Principal{}, unauthorized(msgTokenRevoked)
	}
	return Principal{UserID: acc.ID, Username: acc.Username, IsSuperuser: acc.IsSuperuser, Via: "jwt"}, nil
}

// current tells whether a token of these claims is still valid for acc:
// issued in the account's token generation (a newer one only while the
// read model lags behind the login that issued it) and, within a refresh
// family, one that was not revoked.
func current(c Claims, acc Account) bool {
	return c.Generation >= acc.TokenGeneration && acc.FamilyLive
}

func isTokenError(err error) bool {
	for _, e := range []error{ErrTokenMalformed, ErrTokenType, ErrTokenExpired, ErrTokenDetails} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// bearerToken returns the token of "Authorization: Bearer <token>", else
// the access_token_lf cookie, else "".
func bearerToken(r *http.Request) string {
	scheme, param, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "bearer") && strings.TrimSpace(param) != "" {
		return strings.TrimSpace(param)
	}
	if c, err := r.Cookie(AccessCookie); err == nil && c.Value != "" {
		return c.Value
	}
	return ""
}

// unauthorized is a 401 with Langflow's WWW-Authenticate header.
func unauthorized(msg string) error {
	return &httpapi.StatusError{Status: http.StatusUnauthorized, Detail: msg,
		Header: http.Header{"WWW-Authenticate": {"Bearer"}}}
}

// Unauthorized is the 401 a handler answers for a credential it checked
// itself (a refresh token, a login).
func Unauthorized(msg string) error { return unauthorized(msg) }

// RequireSuperuser returns the caller if it is a superuser, else Langflow's
// 403 (a domain.ErrForbidden: use cases call it too). It is the one place superuser-only operations ask, so that the
// permissions model can take it over.
func RequireSuperuser(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok || !p.IsSuperuser {
		return p, domain.Forbiddenf("%s", msgNotSuperuser)
	}
	return p, nil
}

// Caller returns the authenticated caller; on an operation that passed the
// Authenticator it is always there.
func Caller(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return p, unauthorized("Not authenticated")
	}
	return p, nil
}

// CallerOf returns the caller of a handler's request; when there is none it
// fails the request (httpapi.Fail) and returns false.
func CallerOf(c *gin.Context) (Principal, bool) {
	p, err := Caller(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return p, false
	}
	return p, true
}
