package ports

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The writes of accounts, logins and API keys. Remove User and the API
// keys go through Write; the others are thin handlers: a sign-up sees an
// optional caller before its body, and the logins, Patch User and Reset
// Password set or clear the auth cookies (access_token_lf,
// refresh_token_lf, apikey_tkn_lflw). Each calls the
// commands.IdentityHandler and answers what the read model shows.

// UserCreate is the body of Add User.
type UserCreate struct {
	Username string          `json:"username" binding:"required"`
	Nickname *string         `json:"nickname"`
	Password string          `json:"password" binding:"required"`
	Optins   json.RawMessage `json:"optins"`
}

// UserUpdate is the body of Patch User and Reset Password: every field is
// optional; last_login_at is accepted and ignored (the server keeps it).
type UserUpdate struct {
	Username     *string         `json:"username"`
	Nickname     *string         `json:"nickname"`
	Mobile       *string         `json:"mobile"`
	Email        *string         `json:"email"`
	ProfileImage *string         `json:"profile_image"`
	Password     *string         `json:"password"`
	ResetPasswd  *bool           `json:"reset_passwd"`
	IsActive     *bool           `json:"is_active"`
	IsSuperuser  *bool           `json:"is_superuser"`
	IsLocked     *bool           `json:"is_locked"`
	IsSSO        *bool           `json:"is_sso"`
	StoreAPIKey  *string         `json:"store_api_key"`
	LastLoginAt  *string         `json:"last_login_at"`
	Optins       json.RawMessage `json:"optins"`
}

// change is the account change u asks for.
func (u UserUpdate) change() commands.UserChange {
	return commands.UserChange{Username: u.Username, Nickname: u.Nickname, Mobile: u.Mobile, Email: u.Email,
		ProfileImage: u.ProfileImage, Password: u.Password, ResetPasswd: u.ResetPasswd, IsActive: u.IsActive,
		IsSuperuser: u.IsSuperuser, IsLocked: u.IsLocked, IsSSO: u.IsSSO, StoreAPIKey: u.StoreAPIKey, Optins: u.Optins}
}

// APIKeyCreate is the body of Create Api Key.
type APIKeyCreate struct {
	Name string `json:"name" binding:"max=255"`
}

// UnmaskedAPIKeyRead is a new API key, shown in full this once.
type UnmaskedAPIKeyRead = readapi.APIKeyRead

// LoginForm is OAuth2PasswordRequestForm.
type LoginForm struct {
	Username     string `form:"username" binding:"required"`
	Password     string `form:"password" binding:"required"`
	GrantType    string `form:"grant_type"`
	Scope        string `form:"scope"`
	ClientID     string `form:"client_id"`
	ClientSecret string `form:"client_secret"`
}

// The requests of the writes served by Write: where each part of the
// command comes from.
type (
	removeUser struct {
		UserID int64               `path:"user_id"`
		Meta   eventstore.Metadata `meta:""`
	}
	createAPIKey struct {
		Caller auth.Principal      `caller:""`
		Body   APIKeyCreate        `body:""`
		Meta   eventstore.Metadata `meta:""`
	}
	revokeAPIKey struct {
		KeyID  uuid.UUID           `path:"api_key_id"`
		Caller auth.Principal      `caller:""`
		Meta   eventstore.Metadata `meta:""`
	}
)

// identity is the port of the accounts: the handler, the authenticator
// (the optional caller of a sign-up or a logout) and where the answers go.
type identity struct {
	Port
	h     *commands.IdentityHandler
	authn *auth.Authenticator
}

// Identity registers the write operations of accounts, logins and API
// keys; authn finds the optional caller of Add User and Logout.
func Identity(p Port, h *commands.IdentityHandler, authn *auth.Authenticator) {
	m := &identity{Port: p, h: h, authn: authn}
	s := p.Server
	models := readapi.UsersReadModels
	// With projects, a sign-up creates the default project and a login may
	// (accounts older than projects): their answers wait for it too.
	withProjects := models
	if h.CreatesProjects() {
		withProjects = append(slices.Clip(models), commands.ProjectsProjection)
	}
	userID := []httpapi.Param{{Name: "user_id", In: "path", Type: "integer"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/users/", Tag: "Users", Summary: "Add User",
		Description: "Add a new user to the database.\n\nThis endpoint allows public user registration (sign up). " +
			"User activation is controlled by the NEW_USER_IS_ACTIVE setting. A superuser may always add users.",
		Public: true, Body: UserCreate{}, Response: readapi.UserRead{}, Status: http.StatusCreated, ReadModels: withProjects, Handler: m.addUser})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/users/{user_id}", Access: access.SignedIn(), Tag: "Users", Summary: "Patch User",
		Description: "Update an existing user's data.", Params: userID, Body: UserUpdate{}, Response: readapi.UserRead{},
		ReadModels: models, Handler: m.patchUser})
	Write[removeUser, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/users/{user_id}", Access: access.Superuser(), Tag: "Users", Summary: "Delete User",
			Description: "Delete a user from the database.", Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeUser) (Detail, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveUser{Meta: r.Meta, UserID: r.UserID})
			return Detail{Detail: "User deleted"}, w.Result.Last(), err
		},
	}.Register(p)
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/users/{user_id}/reset-password", Access: access.SignedIn(), Tag: "Users",
		Summary: "Reset Password", Description: "Reset a user's password: your own, or (superusers) anyone's.",
		Params: userID, Body: UserUpdate{}, Response: readapi.UserRead{}, ReadModels: models, Handler: m.resetPassword})

	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/login", Tag: "Login", Summary: "Login To Get Access Token",
		Description: "OAuth2 password form (username, password). Sets the access_token_lf, refresh_token_lf and apikey_tkn_lflw cookies. " +
			"After SKILLFLAW_MAX_LOGIN_ATTEMPTS failed logins of a username from one address, that address gets 429 with Retry-After for a while.",
		Public: true, Params: []httpapi.Param{
			{Name: "username", In: "query", Description: "Form field (application/x-www-form-urlencoded body), not a query parameter."},
			{Name: "password", In: "query", Description: "Form field (application/x-www-form-urlencoded body), not a query parameter."},
		}, Response: auth.Pair{}, ReadModels: withProjects, Handler: m.login})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/auto_login", Tag: "Login", Summary: "Auto Login",
		Description: "With SKILLFLAW_AUTO_LOGIN: a one-year access token of the superuser, for local use.",
		Public:      true, Response: auth.Pair{}, ReadModels: models, Handler: m.autoLogin})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/refresh", Tag: "Login", Summary: "Refresh Token",
		Description: "New tokens from the refresh_token_lf cookie, which is spent: presenting it again revokes every token of its login.",
		Public:      true, Response: auth.Pair{}, Handler: m.refresh})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/logout", Tag: "Login", Summary: "Logout",
		Description: "Revokes every access and refresh token of the caller's account issued before, and clears the auth cookies.",
		Public:      true, Response: commands.Message{}, ReadModels: models, Handler: m.logout})

	Write[createAPIKey, UnmaskedAPIKeyRead]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/api_key/", Access: access.SignedIn(), Tag: "APIKey", Summary: "Create Api Key Route",
			Description: "A new API key of the caller; the key is shown in full only in this answer.",
			Response:    UnmaskedAPIKeyRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r createAPIKey) (UnmaskedAPIKeyRead, eventstore.Position, error) {
			k, err := h.CreateAPIKey(ctx, commands.CreateAPIKey{Caller: r.Caller, Meta: r.Meta, Name: r.Body.Name})
			return UnmaskedAPIKeyRead{ID: k.ID, Name: r.Body.Name, APIKey: k.Key, UserID: k.UserID, CreatedAt: k.CreatedAt,
				IsActive: true}, k.Result.Last(), err
		},
	}.Register(p)
	Write[revokeAPIKey, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/api_key/{api_key_id}", Access: access.SignedIn(), Tag: "APIKey",
			Summary: "Delete Api Key Route", Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r revokeAPIKey) (Detail, eventstore.Position, error) {
			res, err := h.RevokeAPIKey(ctx, commands.RevokeAPIKey{Caller: r.Caller, Meta: r.Meta, KeyID: r.KeyID})
			return Detail{Detail: "API Key deleted"}, res.Last(), err
		},
	}.Register(p)
}

// fail answers err: a login attempt from an address locked out is 429
// with Retry-After (whole seconds, rounded up), Auto Login while it is
// off 400 with its message and auto_login false; the others as
// httpapi.Fail answers them.
func (m *identity) fail(c *gin.Context, err error) {
	if t, ok := errors.AsType[*commands.LoginThrottled](err); ok {
		err = &httpapi.StatusError{Status: http.StatusTooManyRequests, Detail: commands.MsgThrottled,
			Header: http.Header{"Retry-After": {strconv.FormatInt(int64(math.Ceil(t.Wait.Seconds())), 10)}}}
	} else if errors.Is(err, commands.ErrAutoLoginDisabled) {
		err = &httpapi.StatusError{Status: http.StatusBadRequest, Detail: gin.H{
			"message": "Auto login is disabled. Please enable it in the settings", "auto_login": false}}
	}
	httpapi.Fail(c, err)
}

func (m *identity) addUser(c *gin.Context) {
	var caller *auth.Principal
	if p, ok := m.authn.Optional(c.Request); ok {
		caller = &p
	}
	if err := m.h.CheckSignUp(caller); err != nil {
		m.fail(c, err)
		return
	}
	var body UserCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	w, err := m.h.Add(c.Request.Context(), commands.AddUser{Caller: caller, Meta: httpapi.Metadata(c, m.Clock()),
		Username: body.Username, Nickname: body.Nickname, Password: body.Password, Optins: body.Optins})
	m.answerUser(c, w, err, http.StatusCreated)
}

// answerUser answers a write on an account with its row, once the read
// model shows the write; a new session of the caller goes in the cookies
// first.
func (m *identity) answerUser(c *gin.Context, w commands.UserWritten, err error, status int) {
	if err != nil {
		m.fail(c, err)
		return
	}
	if w.Session != nil {
		m.setTokenCookies(c, *w.Session)
	}
	answerRow(c, m.Port, w.Result.Last(), status, func(ctx context.Context, db readapi.DB) (readapi.UserRead, error) {
		return readapi.UserByID(ctx, db, w.ID)
	})
}

// bindUserUpdate binds a write on account {user_id}: the caller, the id
// and the body, in that order (false: the request is answered).
func bindUserUpdate(c *gin.Context) (caller auth.Principal, id int64, body UserUpdate, ok bool) {
	if caller, ok = auth.CallerOf(c); !ok {
		return
	}
	if id, ok = httpapi.PathInt(c, "user_id"); !ok {
		return
	}
	ok = httpapi.BindJSON(c, &body)
	return
}

func (m *identity) patchUser(c *gin.Context) {
	caller, id, body, ok := bindUserUpdate(c)
	if !ok {
		return
	}
	w, err := m.h.Change(c.Request.Context(), commands.ChangeUser{Caller: caller, Meta: httpapi.Metadata(c, m.Clock()),
		UserID: id, Change: body.change()})
	m.answerUser(c, w, err, http.StatusOK)
}

func (m *identity) resetPassword(c *gin.Context) {
	caller, id, body, ok := bindUserUpdate(c)
	if !ok {
		return
	}
	if body.Password == nil {
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{
			Type: "missing", Loc: []any{"body", "password"}, Msg: "Field required"}}})
		return
	}
	w, err := m.h.ResetPassword(c.Request.Context(), commands.ResetPassword{Caller: caller, Meta: httpapi.Metadata(c, m.Clock()),
		UserID: id, Password: *body.Password, ResetPasswd: body.ResetPasswd})
	m.answerUser(c, w, err, http.StatusOK)
}

func (m *identity) login(c *gin.Context) {
	var form LoginForm
	if !httpapi.BindForm(c, &form) {
		return
	}
	ctx := c.Request.Context()
	res, err := m.h.Login(ctx, commands.Login{Meta: httpapi.Metadata(c, m.Clock()), Username: form.Username, Password: form.Password})
	if !res.Position.IsZero() {
		// The outcome (login time, failure count) is what the next
		// request is judged on: make it visible first.
		m.Server.Written(c, res.Position)
	}
	if err != nil {
		m.fail(c, err)
		return
	}
	pair, err := m.h.StartSession(ctx, res)
	if err != nil {
		m.fail(c, err)
		return
	}
	m.setTokenCookies(c, pair)
	m.setStoreCookie(c, res.UserID)
	c.JSON(http.StatusOK, pair)
}

func (m *identity) autoLogin(c *gin.Context) {
	ctx := c.Request.Context()
	res, err := m.h.AutoLogin(ctx, commands.AutoLogin{Meta: httpapi.Metadata(c, m.Clock())})
	if err != nil {
		m.fail(c, err)
		return
	}
	m.Server.Written(c, res.Position)
	token, err := m.h.AutoLoginToken(ctx, res)
	if err != nil {
		m.fail(c, err)
		return
	}
	cfg := m.h.Config
	m.setCookie(c, auth.AccessCookie, token, 0, false, cfg.AccessCookieSecure, cfg.AccessCookieSameSite)
	m.setStoreCookie(c, res.UserID)
	c.JSON(http.StatusOK, auth.Pair{AccessToken: token, TokenType: "bearer"})
}

func (m *identity) refresh(c *gin.Context) {
	token := ""
	if cookie, err := c.Request.Cookie(auth.RefreshCookie); err == nil {
		token = cookie.Value
	}
	pair, err := m.h.Refresh(c.Request.Context(), commands.RefreshSession{Token: token, ClientIP: c.ClientIP()})
	if err != nil {
		m.fail(c, err)
		return
	}
	m.setTokenCookies(c, pair)
	c.JSON(http.StatusOK, pair)
}

// logout ends every session of the caller's account (the access token's,
// or an API key's, or the refresh cookie's when the access token is gone)
// and clears the cookies. Without valid credentials it only clears them.
func (m *identity) logout(c *gin.Context) {
	cmd := commands.Logout{Meta: httpapi.Metadata(c, m.Clock())}
	if p, ok := m.authn.Optional(c.Request); ok {
		cmd.UserID = p.UserID
	} else if ck, err := c.Request.Cookie(auth.RefreshCookie); err == nil {
		cmd.RefreshToken = ck.Value
	}
	pos, err := m.h.Logout(c.Request.Context(), cmd)
	if err != nil {
		m.fail(c, err)
		return
	}
	for _, ck := range []struct{ name, path string }{
		{auth.RefreshCookie, refreshCookiePath}, {auth.RefreshCookie, "/"}, // and where older releases set it
		{auth.AccessCookie, "/"}, {auth.StoreCookie, "/"},
	} {
		http.SetCookie(c.Writer, &http.Cookie{Name: ck.name, Value: "", Path: ck.path, MaxAge: -1, Domain: m.h.Config.CookieDomain})
	}
	// The cookies are headers, sent with the body: set before the wait,
	// the answer is the same.
	answerValue(c, m.Port, pos, http.StatusOK, commands.Message{Message: "Logout successful"})
}

// refreshCookiePath limits the refresh cookie to the one route that reads
// it: no other request carries it.
const refreshCookiePath = "/api/v1/refresh"

func (m *identity) setTokenCookies(c *gin.Context, p auth.Pair) {
	cfg := m.h.Config
	if p.RefreshToken != nil {
		m.setCookieAt(c, refreshCookiePath, auth.RefreshCookie, *p.RefreshToken, m.h.Tokens.RefreshTTL(), true,
			cfg.RefreshCookieSecure, cfg.RefreshCookieSameSite)
	}
	m.setCookie(c, auth.AccessCookie, p.AccessToken, m.h.Tokens.AccessTTL(), false, cfg.AccessCookieSecure, cfg.AccessCookieSameSite)
}

// setStoreCookie sets apikey_tkn_lflw to the user's store_api_key, as
// Langflow's login does (a session cookie; "" when there is none).
func (m *identity) setStoreCookie(c *gin.Context, id int64) {
	value := ""
	if u, err := readapi.UserByID(c.Request.Context(), m.Pool, id); err == nil {
		value = u.StoreAPIKey
	}
	m.setCookie(c, auth.StoreCookie, value, 0, false, m.h.Config.AccessCookieSecure, m.h.Config.AccessCookieSameSite)
}

// setCookie sets a cookie at path /; ttl 0 makes a session cookie.
func (m *identity) setCookie(c *gin.Context, name, value string, ttl time.Duration, httpOnly, secure bool, sameSite string) {
	m.setCookieAt(c, "/", name, value, ttl, httpOnly, secure, sameSite)
}

// setCookieAt sets a cookie at path; ttl 0 makes a session cookie.
func (m *identity) setCookieAt(c *gin.Context, path, name, value string, ttl time.Duration, httpOnly, secure bool, sameSite string) {
	ck := &http.Cookie{Name: name, Value: value, Path: path, Domain: m.h.Config.CookieDomain, HttpOnly: httpOnly, Secure: secure}
	switch sameSite {
	case "strict":
		ck.SameSite = http.SameSiteStrictMode
	case "none":
		ck.SameSite = http.SameSiteNoneMode
	default:
		ck.SameSite = http.SameSiteLaxMode
	}
	if ttl > 0 {
		ck.MaxAge = int(ttl.Seconds())
		ck.Expires = m.Clock().Add(ttl).UTC()
	}
	http.SetCookie(c.Writer, ck)
}
