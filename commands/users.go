package commands

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of the accounts, logins and API keys: each is a command
// value and one method of IdentityHandler, with no HTTP in sight
// (ports.Identity binds, reads the cookies and the optional caller, sets
// the cookies and answers). Langflow answers some refusals with 400: they
// are domain errors of kind domain.ErrRefused.

// IdentityHandler handles the commands of accounts, logins, sessions and
// API keys.
type IdentityHandler struct {
	Repo      *Repository
	IDs       IDs
	Passwords *auth.Passwords
	Tokens    *auth.Tokens
	Sessions  *auth.Sessions
	Throttle  *auth.LoginThrottle
	// Pool is where a login names the default project it creates
	// (EnsureDefaultProject).
	Pool *pgxpool.Pool
	// Superusers reads the accounts' read model where a decision needs it.
	Superusers Superusers
	Config     config.Config
	Log        *slog.Logger
}

// Superusers is what IdentityHandler reads of the accounts' read model:
// how many other active, unlocked superusers there are (the last one
// stays one), and the first active superuser (0: none), whom Auto Login
// signs in when no account holds SKILLFLAW_SUPERUSER's name.
type Superusers interface {
	CountOtherActive(ctx context.Context, id int64) (int64, error)
	First(ctx context.Context) (int64, error)
}

// Langflow's messages of the user operations.
const (
	msgUsernameTaken    = "This username is unavailable."
	msgSignupDisabled   = "Public user registration is disabled."
	msgPermissionDenied = "Permission denied"
	msgBadLogin         = "Incorrect username or password"
	// MsgThrottled answers a login attempt from an address locked out.
	MsgThrottled = "Too many failed logins. Try again later."
)

// badRequest is a refusal (domain.ErrRefused: Langflow answers it 400)
// with a Langflow message.
func badRequest(msg string) error { return domain.Refusedf("%s", msg) }

// forbidden is a domain ErrForbidden error with a Langflow message.
func forbidden(msg string) error { return domain.Forbiddenf("%s", msg) }

// ErrAutoLoginDisabled is Auto Login while SKILLFLAW_AUTO_LOGIN is off.
var ErrAutoLoginDisabled = errors.New("auto login is disabled")

// LoginThrottled is a login attempt from an address locked out: it may
// try again after Wait.
type LoginThrottled struct {
	Wait time.Duration
}

func (e *LoginThrottled) Error() string { return MsgThrottled }

// throttled is the answer to a login attempt from an address locked out.
func throttled(wait time.Duration) error { return &LoginThrottled{Wait: wait} }

// Message is a {"message": …} answer.
type Message struct {
	Message string `json:"message"`
}

// CreatesProjects reports whether a sign-up creates the account's default
// project, and a login may (accounts older than projects): whether the
// projects module is served. Their answers wait for its read model too.
func (h *IdentityHandler) CreatesProjects() bool { return projectsEnabled(h.Repo) }

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

// AddUser adds an account: a sign-up, or a superuser's addition.
type AddUser struct {
	// Caller is who adds it (nil: nobody signed in, a sign-up).
	Caller   *auth.Principal
	Meta     eventstore.Metadata
	Username string
	Nickname *string // nil: ""
	Password string
	Optins   json.RawMessage
}

// ChangeUser changes an account: the caller's own, or (superusers)
// anyone's.
type ChangeUser struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	UserID int64
	Change UserChange
}

// UserChange is a change of an account: nil fields stay as they are. The
// flags (is_active, is_superuser, is_locked, reset_passwd, is_sso) are
// superusers' to change.
type UserChange struct {
	Username, Nickname, Mobile, Email, ProfileImage *string
	Password                                        *string
	ResetPasswd, IsActive, IsSuperuser, IsLocked    *bool
	IsSSO                                           *bool
	StoreAPIKey                                     *string
	Optins                                          json.RawMessage
}

// RemoveUser removes an account (superusers; not their own).
type RemoveUser struct {
	Meta   eventstore.Metadata
	UserID int64
}

// ResetPassword sets an account's password: the caller's own (not its
// current one), or (superusers) anyone's, who then must change it unless
// ResetPasswd is false.
type ResetPassword struct {
	Caller      auth.Principal
	Meta        eventstore.Metadata
	UserID      int64
	Password    string
	ResetPasswd *bool
}

// UserWritten is what a command on an account did.
type UserWritten struct {
	ID     int64
	Result eventstore.AppendResult
	// Session is the caller's new session when its own change ended its
	// sessions (nil: none); the port hands it over in the cookies.
	Session *auth.Pair
}

// CheckSignUp refuses a sign-up while public registration is off
// (SKILLFLAW_AUTO_LOGIN, or not SKILLFLAW_ENABLE_SIGNUP); a superuser may
// always add users. The port asks before it reads the body.
func (h *IdentityHandler) CheckSignUp(caller *auth.Principal) error {
	if !(caller != nil && caller.IsSuperuser) && (h.Config.AutoLogin || !h.Config.EnableSignup) {
		return forbidden(msgSignupDisabled)
	}
	return nil
}

// Add handles AddUser: the account is active as SKILLFLAW_NEW_USER_IS_ACTIVE
// says, with its default project; a taken username is refused.
func (h *IdentityHandler) Add(ctx context.Context, cmd AddUser) (UserWritten, error) {
	if err := h.CheckSignUp(cmd.Caller); err != nil {
		return UserWritten{}, err
	}
	md := cmd.Meta
	source := "signup"
	if cmd.Caller != nil && cmd.Caller.IsSuperuser {
		md.ActorUserID, source = cmd.Caller.UserID, "admin"
	}
	nickname := ""
	if cmd.Nickname != nil {
		nickname = *cmd.Nickname
	}
	id, res, err := RegisterUser(ctx, h.Repo, h.IDs, h.Passwords, NewUser{
		Username: cmd.Username, Nickname: nickname, Password: cmd.Password,
		IsActive: h.Config.NewUserIsActive, Optins: cmd.Optins, Source: source, DefaultProject: h.Config.DefaultProjectName,
	}, md)
	return UserWritten{ID: id, Result: res}, usernameTaken(err)
}

// usernameTaken turns a taken username into Langflow's 400 (its unique
// constraint's answer) instead of the domain's 409.
func usernameTaken(err error) error {
	if de, ok := errors.AsType[*domain.Error](err); ok && errors.Is(err, domain.ErrConflict) && de.Message == msgUsernameTaken {
		return badRequest(msgUsernameTaken)
	}
	return err
}

// Change handles ChangeUser. Nobody deactivates their own account, and
// the platform keeps an active, unlocked superuser.
func (h *IdentityHandler) Change(ctx context.Context, cmd ChangeUser) (UserWritten, error) {
	caller, id, ch := cmd.Caller, cmd.UserID, cmd.Change
	switch {
	case caller.UserID == id && ch.IsActive != nil && !*ch.IsActive:
		return UserWritten{}, forbidden("You can't deactivate your own user account")
	case !caller.IsSuperuser && caller.UserID != id:
		return UserWritten{}, forbidden(msgPermissionDenied)
	}
	var hash string
	if ch.Password != nil {
		var err error
		if hash, err = h.Passwords.Hash(*ch.Password); err != nil {
			return UserWritten{}, err
		}
	}
	var (
		res    eventstore.AppendResult
		user   *domain.User
		before int64 // the account's token generation before the change
	)
	res, err := h.Repo.Update(ctx, cmd.Meta, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user = domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		before = user.TokenGeneration()
		if user.Deleted() {
			return nil, domain.NotFoundf("User not found")
		}
		if !caller.IsSuperuser && changesAccountFlags(user, ch) {
			return nil, forbidden(msgPermissionDenied)
		}
		if err := h.guardLastSuperuser(ctx, user, ch.IsSuperuser, ch.IsActive, ch.IsLocked, false); err != nil {
			return nil, err
		}
		aggs, err := h.applyUpdate(ctx, user, ch, hash, caller)
		if err != nil {
			return nil, err
		}
		return aggs, nil
	})
	w := UserWritten{ID: id, Result: res}
	if err == nil {
		w.Session, err = h.renewOwnSession(ctx, caller, user, before)
	}
	return w, usernameTaken(err)
}

// renewOwnSession gives callers whose own change ended their sessions (a
// new password, a superuser role given up) a new session, for the port to
// set in the cookies, so that the browser they made the change from stays
// signed in while every other session of the account ends. Callers by API
// key, and Bearer clients that ignore cookies, log in again.
func (h *IdentityHandler) renewOwnSession(ctx context.Context, caller auth.Principal, user *domain.User, before int64) (*auth.Pair, error) {
	if caller.UserID != user.ID() || caller.Via != "jwt" || !user.CanLogIn() || user.TokenGeneration() == before {
		return nil, nil
	}
	pair, err := h.Sessions.Start(ctx, user.ID(), user.TokenGeneration())
	if err != nil {
		return nil, err
	}
	return &pair, nil
}

// changesAccountFlags reports whether b changes a field only
// superusers may change. Sending a field's current value changes nothing
// and is allowed, as clients send whole objects back.
func changesAccountFlags(u *domain.User, b UserChange) bool {
	differs := func(v *bool, cur bool) bool { return v != nil && *v != cur }
	return differs(b.IsActive, u.IsActive()) || differs(b.IsSuperuser, u.IsSuperuser()) ||
		differs(b.IsLocked, u.IsLocked()) || differs(b.ResetPasswd, u.ResetPasswd()) || differs(b.IsSSO, u.IsSSO())
}

// guardLastSuperuser refuses to leave the platform without an active,
// unlocked superuser (409), when u would stop being one.
func (h *IdentityHandler) guardLastSuperuser(ctx context.Context, u *domain.User, super, active, locked *bool, deleting bool) error {
	if !u.IsSuperuser() || !u.IsActive() || u.IsLocked() {
		return nil
	}
	stops := deleting || super != nil && !*super || active != nil && !*active || locked != nil && *locked
	if !stops {
		return nil
	}
	n, err := h.Superusers.CountOtherActive(ctx, u.ID())
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.Conflictf("The last active superuser cannot be deleted, disabled, locked or demoted")
	}
	return nil
}

// applyUpdate lets the account decide on b and returns the aggregates
// to save: the account and, for a new username, both claims.
func (h *IdentityHandler) applyUpdate(ctx context.Context, u *domain.User, b UserChange, hash string, caller auth.Principal) ([]Aggregate, error) {
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

// Remove handles RemoveUser (superusers): the account's username is free
// again; the platform keeps an active, unlocked superuser.
func (h *IdentityHandler) Remove(ctx context.Context, cmd RemoveUser) (UserWritten, error) {
	caller, err := auth.RequireSuperuser(ctx)
	if err != nil {
		return UserWritten{}, err
	}
	id := cmd.UserID
	if caller.UserID == id {
		return UserWritten{}, badRequest("You can't delete your own user account")
	}
	var res eventstore.AppendResult
	res, err = h.Repo.Update(ctx, cmd.Meta, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user := domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		if user.Deleted() { // a removed account is not found, superuser or not
			return nil, domain.NotFoundf("User not found")
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
	return UserWritten{ID: id, Result: res}, err
}

// ResetPassword handles ResetPassword.
func (h *IdentityHandler) ResetPassword(ctx context.Context, cmd ResetPassword) (UserWritten, error) {
	caller, id := cmd.Caller, cmd.UserID
	if caller.UserID != id && !caller.IsSuperuser {
		return UserWritten{}, forbidden("You can't change another user's password")
	}
	hash, err := h.Passwords.Hash(cmd.Password)
	if err != nil {
		return UserWritten{}, err
	}
	var (
		res    eventstore.AppendResult
		user   *domain.User
		before int64 // the account's token generation before the change
	)
	res, err = h.Repo.Update(ctx, cmd.Meta, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user = domain.LoadUser(id)
		if err := h.Repo.Load(ctx, user); err != nil {
			return nil, notFoundUser(err)
		}
		before = user.TokenGeneration()
		if caller.UserID == id {
			if h.Passwords.Verify(user.PasswordHash(), cmd.Password) {
				return nil, badRequest("You can't use your current password")
			}
			if err := user.ChangePassword(hash); err != nil {
				return nil, err
			}
		} else if err := user.ResetPassword(hash, cmd.ResetPasswd == nil || *cmd.ResetPasswd); err != nil {
			return nil, err
		}
		return []Aggregate{user}, nil
	})
	w := UserWritten{ID: id, Result: res}
	if err == nil {
		w.Session, err = h.renewOwnSession(ctx, caller, user, before)
	}
	return w, err
}

// AutoLogin signs in the superuser (SKILLFLAW_AUTO_LOGIN, for local use).
type AutoLogin struct {
	Meta eventstore.Metadata
}

// AutoLoginResult is an automatic login: the superuser's account, its
// token generation and the position of the login's event.
type AutoLoginResult struct {
	UserID     int64
	Generation int64
	Position   eventstore.Position
}

// AutoLogin handles AutoLogin: the account holding SKILLFLAW_SUPERUSER's
// name, else the first active superuser, logs in (ErrAutoLoginDisabled
// while SKILLFLAW_AUTO_LOGIN is off).
func (h *IdentityHandler) AutoLogin(ctx context.Context, cmd AutoLogin) (AutoLoginResult, error) {
	if !h.Config.AutoLogin {
		return AutoLoginResult{}, ErrAutoLoginDisabled
	}
	id, err := UserIDByName(ctx, h.Repo, h.Config.Superuser)
	if err == nil && id == 0 {
		id, err = h.Superusers.First(ctx)
	}
	if err != nil {
		return AutoLoginResult{}, err
	}
	if id == 0 {
		return AutoLoginResult{}, badRequest("Super user hasn't been created")
	}
	var user *domain.User
	res, err := h.Repo.Update(ctx, cmd.Meta, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
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
		return AutoLoginResult{}, err
	}
	return AutoLoginResult{UserID: id, Generation: user.TokenGeneration(), Position: res.Last()}, nil
}

// AutoLoginToken is the access token of an automatic login: valid for a
// year, with no refresh family (the token is the whole session; a logout
// or a password change still revokes it, by its generation).
func (h *IdentityHandler) AutoLoginToken(ctx context.Context, res AutoLoginResult) (string, error) {
	return h.Tokens.Sign(ctx, auth.Claims{User: res.UserID, Type: auth.AccessToken, Generation: res.Generation,
		ExpiresAt: h.Tokens.Now().Add(365 * 24 * time.Hour)})
}

// RefreshSession spends a refresh token for new tokens.
type RefreshSession struct {
	Token string
	// ClientIP is the client's address, logged when the token is reused.
	ClientIP string
}

// Refresh handles RefreshSession: a refresh token presented again revokes
// every token of its login (logged as a warning).
func (h *IdentityHandler) Refresh(ctx context.Context, cmd RefreshSession) (auth.Pair, error) {
	pair, err := h.Sessions.Refresh(ctx, cmd.Token)
	if reuse, ok := errors.AsType[*auth.RefreshReuseError](err); ok {
		h.Log.WarnContext(ctx, "refresh token reused: its login's tokens are revoked", "user_id", reuse.User,
			"family", reuse.Family.String(), "client_ip", cmd.ClientIP)
	}
	return pair, err
}

// Logout ends every session of an account: UserID's (the caller's), else
// the holder's of RefreshToken; with neither it does nothing.
type Logout struct {
	Meta         eventstore.Metadata
	UserID       int64
	RefreshToken string
}

// Logout handles Logout; the position is the zero position when nothing
// was recorded.
func (h *IdentityHandler) Logout(ctx context.Context, cmd Logout) (eventstore.Position, error) {
	id := cmd.UserID
	if id == 0 && cmd.RefreshToken != "" {
		var err error
		if id, _, err = h.Sessions.Holder(ctx, cmd.RefreshToken); err != nil {
			return eventstore.Position{}, err
		}
	}
	if id == 0 {
		return eventstore.Position{}, nil
	}
	res, err := LogOut(ctx, h.Repo, id, cmd.Meta)
	if err != nil {
		return eventstore.Position{}, err
	}
	return res.Last(), nil
}

// Login is a login with a username and a password (OAuth2's password
// form), from the client address in Meta.
type Login struct {
	Meta               eventstore.Metadata
	Username, Password string
}

// LoginResult is a login: the account, the token generation its tokens
// carry, and the position of the login's events (and of the default
// project it created, if any).
type LoginResult struct {
	UserID     int64
	Generation int64
	Position   eventstore.Position
}

// Login handles Login: it checks the username and password and records
// the outcome (a login or a failed login on the account); an account
// older than projects gets its default project. Unknown names, wrong
// passwords and locked accounts all get the same 401. Failed logins are
// throttled per (name, client address): an address locked out gets
// LoginThrottled, whatever its password, before it is compared, or after
// when the lockout began meanwhile (then nothing is recorded). The result
// carries the position of what was recorded even when the login failed:
// the outcome (failure count) is what the next attempt is judged on.
func (h *IdentityHandler) Login(ctx context.Context, cmd Login) (LoginResult, error) {
	res, err := h.checkPassword(ctx, cmd.Username, cmd.Password, cmd.Meta)
	if err == nil {
		// An account older than projects gets its default project now.
		own := cmd.Meta
		own.ActorUserID = res.UserID
		var created eventstore.AppendResult
		if created, err = EnsureDefaultProject(ctx, h.Repo, h.Pool, res.UserID, h.Config.DefaultProjectName, own); len(created.Positions) > 0 {
			res.Position = created.Last()
		}
	}
	return res, err
}

// StartSession starts the session of a login: its access and refresh
// tokens.
func (h *IdentityHandler) StartSession(ctx context.Context, res LoginResult) (auth.Pair, error) {
	return h.Sessions.Start(ctx, res.UserID, res.Generation)
}

// checkPassword checks a username and password against the throttle and
// the account, and records the outcome.
func (h *IdentityHandler) checkPassword(ctx context.Context, username, password string, md eventstore.Metadata) (LoginResult, error) {
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

// errBadLogin is a wrong password, an unknown name or an account that may
// not log in.
var errBadLogin = errors.New("bad login")

// checkLogin compares the password, settles the comparison with the
// throttle (before anything is recorded or answered), and records the
// outcome on the account.
func (h *IdentityHandler) checkLogin(ctx context.Context, username, password string, md eventstore.Metadata,
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

// CreateAPIKey creates an API key of the caller.
type CreateAPIKey struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Name   string
}

// APIKeyCreated is a new API key: Key is the key in full, known this once
// (only its hash is recorded).
type APIKeyCreated struct {
	ID        uuid.UUID
	Key       string
	UserID    int64
	CreatedAt time.Time
	Result    eventstore.AppendResult
}

// RevokeAPIKey revokes an API key of the caller.
type RevokeAPIKey struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	KeyID  uuid.UUID
}

// CreateAPIKey handles CreateAPIKey.
func (h *IdentityHandler) CreateAPIKey(ctx context.Context, cmd CreateAPIKey) (APIKeyCreated, error) {
	key, hash := auth.NewAPIKey()
	id := uuid.New()
	agg, err := domain.CreateAPIKey(id, cmd.Caller.UserID, domain.NewAPIKey{
		Name: cmd.Name, KeyHash: hash, KeyPrefix: key[:auth.APIKeyPrefixLength], KeyLength: len(key),
	})
	if err != nil {
		return APIKeyCreated{}, err
	}
	res, err := h.Repo.Save(ctx, agg, cmd.Meta)
	return APIKeyCreated{ID: id, Key: key, UserID: cmd.Caller.UserID, CreatedAt: cmd.Meta.OccurredAt, Result: res}, err
}

// RevokeAPIKey handles RevokeAPIKey: a key that is not the caller's, or
// is missing, is refused as Langflow does ("API Key not found", 400).
func (h *IdentityHandler) RevokeAPIKey(ctx context.Context, cmd RevokeAPIKey) (eventstore.AppendResult, error) {
	agg := domain.LoadAPIKey(cmd.KeyID)
	err := h.Repo.Load(ctx, agg)
	if err == nil {
		err = agg.Revoke(cmd.Caller.UserID)
	}
	if errors.Is(err, domain.ErrNotFound) {
		// Langflow answers a missing key with 400.
		err = badRequest("API Key not found")
	}
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return h.Repo.Save(ctx, agg, cmd.Meta)
}
