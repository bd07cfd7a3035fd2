package commands

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Identity serves the write side of accounts, logins and API keys.
type Identity struct {
	Server    *httpapi.Server
	Repo      *Repository
	IDs       IDs
	Passwords *auth.Passwords
	Tokens    *auth.Tokens
	Sessions  *auth.Sessions
	Throttle  *auth.LoginThrottle
	Auth      *auth.Authenticator
	Pool      *pgxpool.Pool
	Config    config.Config
	Clock     func() time.Time
	Log       *slog.Logger
}

// Langflow's messages of the user operations.
const (
	msgUsernameTaken    = "This username is unavailable."
	msgSignupDisabled   = "Public user registration is disabled."
	msgPermissionDenied = "Permission denied"
	msgBadLogin         = "Incorrect username or password"
	msgThrottled        = "Too many failed logins. Try again later."
)

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

// APIKeyCreate is the body of Create Api Key.
type APIKeyCreate struct {
	Name string `json:"name" binding:"max=255"`
}

// UnmaskedAPIKeyRead is a new API key, shown in full this once.
type UnmaskedAPIKeyRead = readapi.APIKeyRead

// Message is a {"message": …} answer.
type Message struct {
	Message string `json:"message"`
}

// Routes registers the operations.
func (h *Identity) Routes(s *httpapi.Server) {
	models := readapi.UsersReadModels
	// With projects, a sign-up creates the default project and a login may
	// (accounts older than projects): their answers wait for it too.
	withProjects := models
	if projectsEnabled(h.Repo) {
		withProjects = append(slices.Clip(models), ProjectsProjection)
	}
	userID := []httpapi.Param{{Name: "user_id", In: "path", Type: "integer"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/users/", Tag: "Users", Summary: "Add User",
		Description: "Add a new user to the database.\n\nThis endpoint allows public user registration (sign up). " +
			"User activation is controlled by the NEW_USER_IS_ACTIVE setting. A superuser may always add users.",
		Public: true, Body: UserCreate{}, Response: readapi.UserRead{}, Status: http.StatusCreated, ReadModels: withProjects, Handler: h.addUser})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/users/{user_id}", Access: access.SignedIn(), Tag: "Users", Summary: "Patch User",
		Description: "Update an existing user's data.", Params: userID, Body: UserUpdate{}, Response: readapi.UserRead{},
		ReadModels: models, Handler: h.patchUser})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/users/{user_id}", Access: access.Superuser(), Tag: "Users", Summary: "Delete User",
		Description: "Delete a user from the database.", Params: userID, Response: Detail{}, ReadModels: models, Handler: h.deleteUser})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/users/{user_id}/reset-password", Access: access.SignedIn(), Tag: "Users",
		Summary: "Reset Password", Description: "Reset a user's password: your own, or (superusers) anyone's.",
		Params: userID, Body: UserUpdate{}, Response: readapi.UserRead{}, ReadModels: models, Handler: h.resetPassword})

	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/login", Tag: "Login", Summary: "Login To Get Access Token",
		Description: "OAuth2 password form (username, password). Sets the access_token_lf, refresh_token_lf and apikey_tkn_lflw cookies. " +
			"After SKILLFLAW_MAX_LOGIN_ATTEMPTS failed logins of a username from one address, that address gets 429 with Retry-After for a while.",
		Public: true, Params: []httpapi.Param{
			{Name: "username", In: "query", Description: "Form field (application/x-www-form-urlencoded body), not a query parameter."},
			{Name: "password", In: "query", Description: "Form field (application/x-www-form-urlencoded body), not a query parameter."},
		}, Response: auth.Pair{}, ReadModels: withProjects, Handler: h.login})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/auto_login", Tag: "Login", Summary: "Auto Login",
		Description: "With SKILLFLAW_AUTO_LOGIN: a one-year access token of the superuser, for local use.",
		Public:      true, Response: auth.Pair{}, ReadModels: models, Handler: h.autoLogin})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/refresh", Tag: "Login", Summary: "Refresh Token",
		Description: "New tokens from the refresh_token_lf cookie, which is spent: presenting it again revokes every token of its login.",
		Public:      true, Response: auth.Pair{}, Handler: h.refresh})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/logout", Tag: "Login", Summary: "Logout",
		Description: "Revokes every access and refresh token of the caller's account issued before, and clears the auth cookies.",
		Public:      true, Response: Message{}, ReadModels: models, Handler: h.logout})

	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/api_key/", Access: access.SignedIn(), Tag: "APIKey", Summary: "Create Api Key Route",
		Description: "A new API key of the caller; the key is shown in full only in this answer.",
		Body:        APIKeyCreate{}, Response: UnmaskedAPIKeyRead{}, ReadModels: models, Handler: h.createAPIKey})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/api_key/{api_key_id}", Access: access.SignedIn(), Tag: "APIKey",
		Summary: "Delete Api Key Route", Params: []httpapi.Param{{Name: "api_key_id", In: "path", Format: "uuid"}},
		Response: Detail{}, ReadModels: models, Handler: h.deleteAPIKey})
}

// userOwner is how a user holds a claim: its stream name.
func userOwner(id int64) string { return domain.UserStream(id) }

// ownerUser reads a userOwner back (0 when it is not one).
func ownerUser(owner string) int64 {
	id, err := strconv.ParseInt(strings.TrimPrefix(owner, "user-"), 10, 64)
	if err != nil || !strings.HasPrefix(owner, "user-") {
		return 0
	}
	return id
}

// loadClaim loads the claim of value in scope (a fresh one if nobody ever
// claimed it).
func loadClaim(ctx context.Context, repo *Repository, scope, value string) (*domain.Claim, error) {
	c := domain.NewClaim(scope, value)
	if err := repo.Load(ctx, c); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	return c, nil
}

// UserIDByName resolves a username through its claim (strongly consistent:
// no read model involved). 0 when nobody holds it.
func UserIDByName(ctx context.Context, repo *Repository, username string) (int64, error) {
	c, err := loadClaim(ctx, repo, domain.UsernameScope, username)
	if err != nil {
		return 0, err
	}
	return ownerUser(c.Owner()), nil
}

// NewUser is what RegisterUser needs.
type NewUser struct {
	Username, Nickname, Password string
	IsActive, IsSuperuser        bool
	Optins                       json.RawMessage
	Source                       string
	// DefaultProject names the project created with the account when the
	// projects module is served; empty: none (EnsureDefaultProject makes it
	// later).
	DefaultProject string
}

// RegisterUser creates an account atomically with the claim of its
// username; a taken username is a domain conflict with Langflow's message.
func RegisterUser(ctx context.Context, repo *Repository, ids IDs, pw *auth.Passwords, u NewUser, md eventstore.Metadata) (int64, eventstore.AppendResult, error) {
	if err := domain.ValidUsername(u.Username); err != nil {
		return 0, eventstore.AppendResult{}, err
	}
	hash, err := pw.Hash(u.Password)
	if err != nil {
		return 0, eventstore.AppendResult{}, err
	}
	var (
		id  int64
		res eventstore.AppendResult
	)
	res, err = repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		claim, err := loadClaim(ctx, repo, domain.UsernameScope, u.Username)
		if err != nil {
			return nil, err
		}
		if claim.Owner() != "" {
			return nil, domain.Conflictf(msgUsernameTaken)
		}
		if id == 0 {
			if id, err = ids.Next(ctx, "user"); err != nil {
				return nil, err
			}
		}
		user, err := domain.RegisterUser(id, domain.Registration{
			Username: u.Username, Nickname: u.Nickname, PasswordHash: hash, IsActive: u.IsActive,
			IsSuperuser: u.IsSuperuser, Optins: u.Optins, Source: u.Source,
		})
		if err != nil {
			return nil, err
		}
		if err := claim.Take(userOwner(id), msgUsernameTaken); err != nil {
			return nil, err
		}
		project, err := newDefaultProject(ctx, repo, id, u.DefaultProject)
		if err != nil {
			return nil, err
		}
		return append([]Aggregate{user, claim}, project...), nil
	})
	return id, res, err
}

// EnsureSuperuser creates the superuser username at start if no account
// holds that name (idempotent; an existing account is left as it is).
func EnsureSuperuser(ctx context.Context, repo *Repository, ids IDs, pw *auth.Passwords, username, password string) (created bool, err error) {
	existing, err := UserIDByName(ctx, repo, username)
	if err != nil || existing != 0 {
		return false, err
	}
	_, _, err = RegisterUser(ctx, repo, ids, pw, NewUser{Username: username, Password: password, IsActive: true,
		IsSuperuser: true, Source: "bootstrap"}, eventstore.Metadata{OccurredAt: time.Now().UTC()})
	if errors.Is(err, domain.ErrConflict) {
		return false, nil // another node created it first
	}
	return err == nil, err
}

func (h *Identity) addUser(c *gin.Context) {
	ctx := c.Request.Context()
	caller, authed := h.Auth.Optional(c.Request)
	bySuperuser := authed && caller.IsSuperuser
	if !bySuperuser && (h.Config.AutoLogin || !h.Config.EnableSignup) {
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusForbidden, Detail: msgSignupDisabled})
		return
	}
	var body UserCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	source := "signup"
	if bySuperuser {
		md.ActorUserID, source = caller.UserID, "admin"
	}
	nickname := ""
	if body.Nickname != nil {
		nickname = *body.Nickname
	}
	id, res, err := RegisterUser(ctx, h.Repo, h.IDs, h.Passwords, NewUser{
		Username: body.Username, Nickname: nickname, Password: body.Password,
		IsActive: h.Config.NewUserIsActive, Optins: body.Optins, Source: source, DefaultProject: h.Config.DefaultProjectName,
	}, md)
	h.answerUser(c, id, res, usernameTaken(err), http.StatusCreated)
}

// answerUser answers a write on an account with its row, once the read
// model shows the write.
func (h *Identity) answerUser(c *gin.Context, id int64, res eventstore.AppendResult, err error, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.UserRead, error) {
		return readapi.UserByID(ctx, db, id)
	})
}

// usernameTaken answers a taken username with Langflow's 400 (its unique
// constraint's answer) instead of the domain's 409.
func usernameTaken(err error) error {
	if de, ok := errors.AsType[*domain.Error](err); ok && errors.Is(err, domain.ErrConflict) && de.Message == msgUsernameTaken {
		return badRequest(msgUsernameTaken)
	}
	return err
}

// forbidden is a 403 with a Langflow message.
func forbidden(msg string) error {
	return &httpapi.StatusError{Status: http.StatusForbidden, Detail: msg}
}

func badRequest(msg string) error {
	return &httpapi.StatusError{Status: http.StatusBadRequest, Detail: msg}
}

func (h *Identity) patchUser(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathInt(c, "user_id")
	if !ok {
		return
	}
	var body UserUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	switch {
	case caller.UserID == id && body.IsActive != nil && !*body.IsActive:
		httpapi.Fail(c, forbidden("You can't deactivate your own user account"))
		return
	case !caller.IsSuperuser && caller.UserID != id:
		httpapi.Fail(c, forbidden(msgPermissionDenied))
		return
	}
	var hash string
	if body.Password != nil {
		var err error
		if hash, err = h.Passwords.Hash(*body.Password); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	var (
		res    eventstore.AppendResult
		user   *domain.User
		before int64 // the account's token generation before the change
	)
	res, err := h.Repo.Update(ctx, httpapi.Metadata(c, h.Clock()), func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user = domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		before = user.TokenGeneration()
		if user.Deleted() {
			return nil, domain.NotFoundf("User not found")
		}
		if !caller.IsSuperuser && changesAccountFlags(user, body) {
			return nil, forbidden(msgPermissionDenied)
		}
		if err := h.guardLastSuperuser(ctx, user, body.IsSuperuser, body.IsActive, body.IsLocked, false); err != nil {
			return nil, err
		}
		aggs, err := h.applyUpdate(ctx, user, body, hash, caller)
		if err != nil {
			return nil, err
		}
		return aggs, nil
	})
	if err == nil {
		err = h.renewOwnSession(c, caller, user, before)
	}
	h.answerUser(c, id, res, usernameTaken(err), http.StatusOK)
}

// renewOwnSession gives callers whose own change ended their sessions (a
// new password, a superuser role given up) a new session in the cookies,
// so that the browser they made the change from stays signed in while
// every other session of the account ends. Callers by API key, and Bearer
// clients that ignore cookies, log in again.
func (h *Identity) renewOwnSession(c *gin.Context, caller auth.Principal, user *domain.User, before int64) error {
	if caller.UserID != user.ID() || caller.Via != "jwt" || !user.CanLogIn() || user.TokenGeneration() == before {
		return nil
	}
	pair, err := h.Sessions.Start(c.Request.Context(), user.ID(), user.TokenGeneration())
	if err != nil {
		return err
	}
	h.setTokenCookies(c, pair)
	return nil
}

// changesAccountFlags reports whether body changes a field only
// superusers may change. Sending a field's current value changes nothing
// and is allowed, as clients send whole objects back.
func changesAccountFlags(u *domain.User, b UserUpdate) bool {
	differs := func(v *bool, cur bool) bool { return v != nil && *v != cur }
	return differs(b.IsActive, u.IsActive()) || differs(b.IsSuperuser, u.IsSuperuser()) ||
		differs(b.IsLocked, u.IsLocked()) || differs(b.ResetPasswd, u.ResetPasswd()) || differs(b.IsSSO, u.IsSSO())
}

// guardLastSuperuser refuses to leave the platform without an active,
// unlocked superuser (409), when u would stop being one.
func (h *Identity) guardLastSuperuser(ctx context.Context, u *domain.User, super, active, locked *bool, deleting bool) error {
	if !u.IsSuperuser() || !u.IsActive() || u.IsLocked() {
		return nil
	}
	stops := deleting || super != nil && !*super || active != nil && !*active || locked != nil && *locked
	if !stops {
		return nil
	}
	n, err := readapi.CountOtherActiveSuperusers(ctx, h.Pool, u.ID())
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.Conflictf("The last active superuser cannot be deleted, disabled, locked or demoted")
	}
	return nil
}

// applyUpdate lets the account decide on body and returns the aggregates
// to save: the account and, for a new username, both claims.
func (h *Identity) applyUpdate(ctx context.Context, u *domain.User, b UserUpdate, hash string, caller auth.Principal) ([]Aggregate, error) {
	aggs := []Aggregate{u}
	old, err := u.ChangeProfile(domain.ProfileChange{
		Username: b.Username, Nickname: b.Nickname, Mobile: b.Mobile, Email: b.Email,
		ProfileImage: b.ProfileImage, StoreAPIKey: b.StoreAPIKey, Optins: nullToNil(b.Optins),
	})
	if err != nil {
		return nil, err
	}
	if old != "" && domain.ClaimKey(old) != domain.ClaimKey(*b.Username) {
		taken, err := loadClaim(ctx, h.Repo, domain.UsernameScope, *b.Username)
		if err != nil {
			return nil, err
		}
		if err := taken.Take(userOwner(u.ID()), msgUsernameTaken); err != nil {
			return nil, err
		}
		released, err := loadClaim(ctx, h.Repo, domain.UsernameScope, old)
		if err != nil {
			return nil, err
		}
		released.Release(userOwner(u.ID()))
		aggs = append(aggs, taken, released)
	}
	if hash != "" {
		if caller.UserID == u.ID() {
			err = u.ChangePassword(hash)
		} else {
			err = u.ResetPassword(hash, b.ResetPasswd != nil && *b.ResetPasswd)
		}
		if err != nil {
			return nil, err
		}
	}
	if caller.IsSuperuser {
		for _, step := range []func() error{
			func() error { return setIf(b.IsActive, u.SetActive) },
			func() error { return setIf(b.IsLocked, u.SetLocked) },
			func() error { return setIf(b.IsSuperuser, u.SetSuperuser) },
			func() error { return u.SetFlags(b.IsSSO, b.ResetPasswd) },
		} {
			if err := step(); err != nil {
				return nil, err
			}
		}
	}
	return aggs, nil
}

func setIf(v *bool, set func(bool) error) error {
	if v == nil {
		return nil
	}
	return set(*v)
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// notFoundUser turns a missing stream into Langflow's "User not found".
func notFoundUser(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return domain.NotFoundf("User not found")
	}
	return err
}

func (h *Identity) deleteUser(c *gin.Context) {
	ctx := c.Request.Context()
	caller, err := auth.RequireSuperuser(ctx)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	id, ok := httpapi.PathInt(c, "user_id")
	if !ok {
		return
	}
	if caller.UserID == id {
		httpapi.Fail(c, badRequest("You can't delete your own user account"))
		return
	}
	var res eventstore.AppendResult
	res, err = h.Repo.Update(ctx, httpapi.Metadata(c, h.Clock()), func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user := domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		if err := h.guardLastSuperuser(ctx, user, nil, nil, nil, true); err != nil {
			return nil, err
		}
		if err := user.Delete(); err != nil {
			return nil, err
		}
		claim, err := loadClaim(ctx, h.Repo, domain.UsernameScope, user.Username())
		if err != nil {
			return nil, err
		}
		claim.Release(userOwner(id))
		return []Aggregate{user, claim}, nil
	})
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: "User deleted"})
}

func (h *Identity) resetPassword(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathInt(c, "user_id")
	if !ok {
		return
	}
	var body UserUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	if body.Password == nil {
		httpapi.Fail(c, &httpapi.ValidationError{Items: []httpapi.ErrorItem{{
			Type: "missing", Loc: []any{"body", "password"}, Msg: "Field required"}}})
		return
	}
	if caller.UserID != id && !caller.IsSuperuser {
		httpapi.Fail(c, forbidden("You can't change another user's password"))
		return
	}
	hash, err := h.Passwords.Hash(*body.Password)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var (
		res    eventstore.AppendResult
		user   *domain.User
		before int64 // the account's token generation before the change
	)
	res, err = h.Repo.Update(ctx, httpapi.Metadata(c, h.Clock()), func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user = domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		before = user.TokenGeneration()
		if caller.UserID == id {
			if h.Passwords.Verify(user.PasswordHash(), *body.Password) {
				return nil, badRequest("You can't use your current password")
			}
			if err := user.ChangePassword(hash); err != nil {
				return nil, err
			}
		} else if err := user.ResetPassword(hash, body.ResetPasswd == nil || *body.ResetPasswd); err != nil {
			return nil, err
		}
		return []Aggregate{user}, nil
	})
	if err == nil {
		err = h.renewOwnSession(c, caller, user, before)
	}
	h.answerUser(c, id, res, err, http.StatusOK)
}

// LoginForm is OAuth2PasswordRequestForm.
type LoginForm struct {
	Username     string `form:"username" binding:"required"`
	Password     string `form:"password" binding:"required"`
	GrantType    string `form:"grant_type"`
	Scope        string `form:"scope"`
	ClientID     string `form:"client_id"`
	ClientSecret string `form:"client_secret"`
}

// LoginResult is a successful login: the account, the token generation
// its tokens carry, and the position of the login's events.
type LoginResult struct {
	UserID     int64
	Generation int64
	Position   eventstore.Position
}

// Login checks a username and password and records the outcome (a login
// or a failed login on the account). Unknown names, wrong passwords and
// locked accounts all get the same 401. Failed logins are throttled per
// (name, client address): an address locked out gets 429 with
// Retry-After, whatever its password, before it is compared, or after
// when the lockout began meanwhile (then nothing is recorded).
func (h *Identity) Login(ctx context.Context, username, password string, md eventstore.Metadata) (LoginResult, error) {
	now := md.OccurredAt
	wait, err := h.Throttle.Check(ctx, username, md.ClientIP, now)
	if err != nil {
		return LoginResult{}, err
	}
	if wait > 0 {
		return LoginResult{}, throttled(wait)
	}
	settle := func(id int64, matched bool) error {
		o := auth.Failed
		if matched {
			o = auth.Passed
		}
		wait, lockout, err := h.Throttle.Settle(ctx, username, md.ClientIP, o, now)
		switch {
		case err != nil:
			return err
		case lockout > 0:
			h.Log.WarnContext(ctx, "failed logins: address locked out", "user_id", id, "client_ip", md.ClientIP,
				"lockout", lockout.String())
		case wait > 0:
			return throttled(wait)
		}
		return nil
	}
	res, err := h.checkLogin(ctx, username, password, md, settle)
	if errors.Is(err, errBadLogin) {
		err = auth.Unauthorized(msgBadLogin)
	}
	return res, err
}

// throttled is the answer to a login attempt from an address locked out.
func throttled(wait time.Duration) error {
	return &httpapi.StatusError{Status: http.StatusTooManyRequests, Detail: msgThrottled,
		Header: http.Header{"Retry-After": {strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10)}}}
}

// errBadLogin is a wrong password, an unknown name or an account that may
// not log in.
var errBadLogin = errors.New("bad login")

// checkLogin compares the password, settles the comparison with the
// throttle (before anything is recorded or answered), and records the
// outcome on the account.
func (h *Identity) checkLogin(ctx context.Context, username, password string, md eventstore.Metadata,
	settle func(id int64, matched bool) error) (res LoginResult, err error) {
	id, err := UserIDByName(ctx, h.Repo, username)
	if err != nil {
		return res, err
	}
	res.UserID = id
	md.ActorUserID = id // a login attempt is the account's own act
	// The password is checked once; a lost race on the account's stream
	// (concurrent logins) only redoes the bookkeeping, unless the hash
	// changed meanwhile.
	var (
		checkedHash string
		matched     bool
	)
	var (
		answer  error
		user    *domain.User
		attempt = -1
	)
	saved, err := h.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		attempt++
		user = domain.LoadUser(id)
		if id != 0 {
			if err := h.Repo.Load(ctx, user); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
		}
		if id == 0 || user.Deleted() || user.IsLocked() {
			h.Passwords.Verify("", password) // same cost as a real check
			if attempt == 0 {
				if err := settle(id, false); err != nil {
					return nil, err
				}
			}
			return nil, errBadLogin
		}
		if attempt == 0 || user.PasswordHash() != checkedHash {
			checkedHash, matched = user.PasswordHash(), h.Passwords.Verify(user.PasswordHash(), password)
			if attempt == 0 {
				if err := settle(id, matched); err != nil {
					return nil, err
				}
			}
		}
		answer = nil
		switch {
		case !matched:
			user.LoginFailed()
			answer = errBadLogin
		case !user.IsActive() && !user.EverLoggedIn():
			return nil, badRequest("Waiting for approval")
		case !user.IsActive():
			return nil, auth.Unauthorized("Inactive user")
		default:
			user.LoginSucceeded()
		}
		return []Aggregate{user}, nil
	}, Attempts(maxRaceAttempts), Backoff(backoff))
	if err != nil {
		return res, err
	}
	res.Generation, res.Position = user.TokenGeneration(), saved.Last()
	return res, answer
}

// maxRaceAttempts bounds the writes of a hot account (logins): backoff
// gives up after it.
const maxRaceAttempts = 101

// backoff waits a little before retrying a lost race: a random time that
// grows with the attempt (up to ~64 ms), so that concurrent writers of one
// stream spread out; it gives up when ctx ends or after 100 attempts.
func backoff(ctx context.Context, attempt int) error {
	if attempt >= 100 {
		return domain.Conflictf("too many concurrent changes of this account; try again")
	}
	d := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(attempt, 6))) + 100*time.Microsecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (h *Identity) login(c *gin.Context) {
	var form LoginForm
	if !httpapi.BindForm(c, &form) {
		return
	}
	ctx := c.Request.Context()
	md := httpapi.Metadata(c, h.Clock())
	res, err := h.Login(ctx, form.Username, form.Password, md)
	pos := res.Position
	if err == nil {
		// An account older than projects gets its default project now.
		own := md
		own.ActorUserID = res.UserID
		var created eventstore.AppendResult
		if created, err = EnsureDefaultProject(ctx, h.Repo, h.Pool, res.UserID, h.Config.DefaultProjectName, own); len(created.Positions) > 0 {
			pos = created.Last()
		}
	}
	if !pos.IsZero() {
		// The outcome (login time, failure count) is what the next
		// request is judged on: make it visible first.
		h.Server.Written(c, pos)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	pair, err := h.Sessions.Start(ctx, res.UserID, res.Generation)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.setTokenCookies(c, pair)
	h.setStoreCookie(c, res.UserID)
	c.JSON(http.StatusOK, pair)
}

func (h *Identity) autoLogin(c *gin.Context) {
	ctx := c.Request.Context()
	if !h.Config.AutoLogin {
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusBadRequest, Detail: gin.H{
			"message": "Auto login is disabled. Please enable it in the settings", "auto_login": false}})
		return
	}
	id, err := UserIDByName(ctx, h.Repo, h.Config.Superuser)
	if err == nil && id == 0 {
		id, err = readapi.FirstSuperuser(ctx, h.Pool)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if id == 0 {
		httpapi.Fail(c, badRequest("Super user hasn't been created"))
		return
	}
	var user *domain.User
	res, err := h.Repo.Update(ctx, httpapi.Metadata(c, h.Clock()), func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user = domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, err
		}
		if !user.CanLogIn() {
			return nil, badRequest("Super user hasn't been created")
		}
		user.LoginSucceeded()
		return []Aggregate{user}, nil
	}, Attempts(maxRaceAttempts), Backoff(backoff))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.Server.Written(c, res.Last())
	// No refresh family: the token is the whole session (a logout or a
	// password change still revokes it, by its generation).
	token, err := h.Tokens.Sign(ctx, auth.Claims{User: id, Type: auth.AccessToken, Generation: user.TokenGeneration(),
		ExpiresAt: h.Tokens.Now().Add(365 * 24 * time.Hour)})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.setCookie(c, auth.AccessCookie, token, 0, false, h.Config.AccessCookieSecure, h.Config.AccessCookieSameSite)
	h.setStoreCookie(c, id)
	c.JSON(http.StatusOK, auth.Pair{AccessToken: token, TokenType: "bearer"})
}

func (h *Identity) refresh(c *gin.Context) {
	ctx := c.Request.Context()
	token := ""
	if cookie, err := c.Request.Cookie(auth.RefreshCookie); err == nil {
		token = cookie.Value
	}
	pair, err := h.Sessions.Refresh(ctx, token)
	if reuse, ok := errors.AsType[*auth.RefreshReuseError](err); ok {
		h.Log.WarnContext(ctx, "refresh token reused: its login's tokens are revoked", "user_id", reuse.User,
			"family", reuse.Family.String(), "client_ip", c.ClientIP())
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.setTokenCookies(c, pair)
	c.JSON(http.StatusOK, pair)
}

// logout ends every session of the caller's account (the access token's,
// or an API key's, or the refresh cookie's when the access token is gone)
// and clears the cookies. Without valid credentials it only clears them.
func (h *Identity) logout(c *gin.Context) {
	ctx := c.Request.Context()
	var id int64
	if p, ok := h.Auth.Optional(c.Request); ok {
		id = p.UserID
	} else if ck, err := c.Request.Cookie(auth.RefreshCookie); err == nil && ck.Value != "" {
		if id, _, err = h.Sessions.Holder(ctx, ck.Value); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	if id != 0 {
		res, err := LogOut(ctx, h.Repo, id, httpapi.Metadata(c, h.Clock()))
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		h.Server.Written(c, res.Last())
	}
	for _, ck := range []struct{ name, path string }{
		{auth.RefreshCookie, refreshCookiePath}, {auth.RefreshCookie, "/"}, // and where older releases set it
		{auth.AccessCookie, "/"}, {auth.StoreCookie, "/"},
	} {
		http.SetCookie(c.Writer, &http.Cookie{Name: ck.name, Value: "", Path: ck.path, MaxAge: -1, Domain: h.Config.CookieDomain})
	}
	c.JSON(http.StatusOK, Message{Message: "Logout successful"})
}

// LogOut ends every session of account id: every access and refresh token
// issued before is refused (user.sessions_revoked, recorded with md as the
// account's own act).
func LogOut(ctx context.Context, repo *Repository, id int64, md eventstore.Metadata) (eventstore.AppendResult, error) {
	md.ActorUserID = id
	var res eventstore.AppendResult
	res, err := repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user := domain.LoadUser(id)
		if err := repo.Load(ctx, user); err != nil {
			return nil, err
		}
		if err := user.RevokeSessions("logout"); err != nil {
			return nil, err
		}
		return []Aggregate{user}, nil
	})
	return res, err
}

// refreshCookiePath limits the refresh cookie to the one route that reads
// it: no other request carries it.
const refreshCookiePath = "/api/v1/refresh"

func (h *Identity) setTokenCookies(c *gin.Context, p auth.Pair) {
	cfg := h.Config
	if p.RefreshToken != nil {
		h.setCookieAt(c, refreshCookiePath, auth.RefreshCookie, *p.RefreshToken, h.Tokens.RefreshTTL(), true,
			cfg.RefreshCookieSecure, cfg.RefreshCookieSameSite)
	}
	h.setCookie(c, auth.AccessCookie, p.AccessToken, h.Tokens.AccessTTL(), false, cfg.AccessCookieSecure, cfg.AccessCookieSameSite)
}

// setStoreCookie sets apikey_tkn_lflw to the user's store_api_key, as
// Langflow's login does (a session cookie; "" when there is none).
func (h *Identity) setStoreCookie(c *gin.Context, id int64) {
	value := ""
	if u, err := readapi.UserByID(c.Request.Context(), h.Pool, id); err == nil {
		value = u.StoreAPIKey
	}
	h.setCookie(c, auth.StoreCookie, value, 0, false, h.Config.AccessCookieSecure, h.Config.AccessCookieSameSite)
}

// setCookie sets a cookie at path /; ttl 0 makes a session cookie.
func (h *Identity) setCookie(c *gin.Context, name, value string, ttl time.Duration, httpOnly, secure bool, sameSite string) {
	h.setCookieAt(c, "/", name, value, ttl, httpOnly, secure, sameSite)
}

// setCookieAt sets a cookie at path; ttl 0 makes a session cookie.
func (h *Identity) setCookieAt(c *gin.Context, path, name, value string, ttl time.Duration, httpOnly, secure bool, sameSite string) {
	ck := &http.Cookie{Name: name, Value: value, Path: path, Domain: h.Config.CookieDomain, HttpOnly: httpOnly, Secure: secure}
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
		ck.Expires = h.Clock().Add(ttl).UTC()
	}
	http.SetCookie(c.Writer, ck)
}

func (h *Identity) createAPIKey(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var body APIKeyCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	key, hash := auth.NewAPIKey()
	id := uuid.New()
	agg, err := domain.CreateAPIKey(id, caller.UserID, domain.NewAPIKey{
		Name: body.Name, KeyHash: hash, KeyPrefix: key[:auth.APIKeyPrefixLength], KeyLength: len(key),
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	res, err := h.Repo.Save(ctx, agg, md)
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, UnmaskedAPIKeyRead{ID: id, Name: body.Name, APIKey: key,
		UserID: caller.UserID, CreatedAt: md.OccurredAt, IsActive: true})
}

func (h *Identity) deleteAPIKey(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "api_key_id")
	if !ok {
		return
	}
	agg := domain.LoadAPIKey(id)
	err := h.Repo.Load(ctx, agg)
	if err == nil {
		err = agg.Revoke(caller.UserID)
	}
	if errors.Is(err, domain.ErrNotFound) {
		// Langflow answers a missing key with 400.
		err = badRequest("API Key not found")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	res, err := h.Repo.Save(ctx, agg, httpapi.Metadata(c, h.Clock()))
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: "API Key deleted"})
}
