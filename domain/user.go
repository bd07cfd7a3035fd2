package domain

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the user fields.
const (
	MaxUsernameLength     = 100
	MaxNicknameLength     = 100
	MaxMobileLength       = 32
	MaxEmailLength        = 254
	MaxProfileImageLength = 512
)

// UsernameScope is the Claim scope that keeps usernames unique.
const UsernameScope = "username"

// User is an account. Its stream is user-<id>; ids are integers from a
// sequence, allocated before registration.
type User struct {
	root         Root
	id           int64
	username     string
	passwordHash string
	isActive     bool
	isSuperuser  bool
	isLocked     bool
	isSSO        bool
	resetPasswd  bool
	failedLogins int
	// tokenGeneration counts the events that ended the account's sessions
	// (EndsSessions); every token carries the generation it was issued in,
	// and one issued in an older generation is refused.
	tokenGeneration int64
	loggedIn        bool
	deleted         bool
	profile         UserProfile
}

// Registration is what a new account starts with.
type Registration struct {
	Username     string
	Nickname     string
	PasswordHash string
	IsActive     bool
	IsSuperuser  bool
	Optins       json.RawMessage
	Source       string
}

// RegisterUser opens the account id.
func RegisterUser(id int64, r Registration) (*User, error) {
	if err := ValidUsername(r.Username); err != nil {
		return nil, err
	}
	if err := validLength("nickname", r.Nickname, MaxNicknameLength); err != nil {
		return nil, err
	}
	if r.PasswordHash == "" {
		return nil, Invalidf("password must not be empty")
	}
	u := &User{}
	record(u, UserRegistered{
		UserID: id, Username: r.Username, Nickname: r.Nickname, PasswordHash: r.PasswordHash,
		IsActive: r.IsActive, IsSuperuser: r.IsSuperuser, Optins: r.Optins, Source: r.Source,
	})
	return u, nil
}

// LoadUser returns an empty account to fold the stream of id into.
func LoadUser(id int64) *User { return &User{id: id} }

// UserStream names the stream of user id.
func UserStream(id int64) string { return "user-" + strconv.FormatInt(id, 10) }

// StreamID implements commands.Aggregate.
func (u *User) StreamID() string { return UserStream(u.id) }

// Root implements commands.Aggregate.
func (u *User) Root() *Root { return &u.root }

// ID, Username, PasswordHash and the flags read the account's state.
func (u *User) ID() int64            { return u.id }
func (u *User) Username() string     { return u.username }
func (u *User) PasswordHash() string { return u.passwordHash }
func (u *User) IsActive() bool       { return u.isActive }
func (u *User) IsSuperuser() bool    { return u.isSuperuser }
func (u *User) IsLocked() bool       { return u.isLocked }
func (u *User) Deleted() bool        { return u.deleted }
func (u *User) ResetPasswd() bool    { return u.resetPasswd }
func (u *User) IsSSO() bool          { return u.isSSO }
func (u *User) EverLoggedIn() bool   { return u.loggedIn }

// TokenGeneration is the generation the account's tokens must carry: every
// event that ends its sessions (EndsSessions) moves it on.
func (u *User) TokenGeneration() int64 { return u.tokenGeneration }

// exists fails for a deleted account.
func (u *User) exists() error {
	if u.deleted {
		return NotFoundf("User not found")
	}
	return nil
}

// ProfileChange holds the profile fields to set; nil leaves one as it is.
type ProfileChange struct {
	Username, Nickname, Mobile, Email, ProfileImage, StoreAPIKey *string
	Optins                                                       json.RawMessage
}

// ChangeProfile sets the given fields, recording only those that differ.
// It returns the previous username when the username changed ("" if not),
// so the caller can move the username's claim.
func (u *User) ChangeProfile(p ProfileChange) (oldUsername string, err error) {
	if err := u.exists(); err != nil {
		return "", err
	}
	e := UserProfileChanged{UserID: u.id}
	changed := false
	set := func(dst **string, v *string, cur string) {
		if v != nil && *v != cur {
			*dst, changed = v, true
		}
	}
	if p.Username != nil {
		if err := ValidUsername(*p.Username); err != nil {
			return "", err
		}
	}
	for _, f := range []struct {
		name  string
		value *string
		max   int
	}{{"nickname", p.Nickname, MaxNicknameLength}, {"mobile", p.Mobile, MaxMobileLength},
		{"email", p.Email, MaxEmailLength}, {"profile_image", p.ProfileImage, MaxProfileImageLength}} {
		if f.value != nil {
			if err := validLength(f.name, *f.value, f.max); err != nil {
				return "", err
			}
		}
	}
	if p.Email != nil && *p.Email != "" && !looksLikeEmail(*p.Email) {
		return "", Invalidf("email is not a valid email address")
	}
	set(&e.Username, p.Username, u.username)
	cur := u.profile
	set(&e.Nickname, p.Nickname, cur.Nickname)
	set(&e.Mobile, p.Mobile, cur.Mobile)
	set(&e.Email, p.Email, cur.Email)
	set(&e.ProfileImage, p.ProfileImage, cur.ProfileImage)
	set(&e.StoreAPIKey, p.StoreAPIKey, cur.StoreAPIKey)
	if p.Optins != nil && !bytes.Equal(compactJSON(p.Optins), compactJSON(cur.Optins)) {
		e.Optins, changed = p.Optins, true
	}
	if !changed {
		return "", nil
	}
	if e.Username != nil {
		oldUsername = u.username
	}
	record(u, e)
	return oldUsername, nil
}

// UserProfile is the profile part of an account.
type UserProfile struct {
	Nickname, Mobile, Email, ProfileImage, StoreAPIKey string
	Optins                                             json.RawMessage
}

// ChangePassword sets a password the user chose.
func (u *User) ChangePassword(hash string) error {
	if err := u.exists(); err != nil {
		return err
	}
	record(u, UserPasswordChanged{UserID: u.id, PasswordHash: hash})
	return nil
}

// ResetPassword sets a password for the user on a superuser's behalf;
// mustChange asks the user to choose a new one (reset_passwd).
func (u *User) ResetPassword(hash string, mustChange bool) error {
	if err := u.exists(); err != nil {
		return err
	}
	record(u, UserPasswordReset{UserID: u.id, PasswordHash: hash, MustChange: mustChange})
	return nil
}

// SetActive switches is_active.
func (u *User) SetActive(active bool) error {
	if err := u.exists(); err != nil {
		return err
	}
	switch {
	case active && !u.isActive:
		record(u, UserActivated{UserID: u.id})
	case !active && u.isActive:
		record(u, UserDeactivated{UserID: u.id})
	}
	return nil
}

// SetLocked locks (by a superuser) or unlocks the account.
func (u *User) SetLocked(locked bool) error {
	if err := u.exists(); err != nil {
		return err
	}
	switch {
	case locked && !u.isLocked:
		record(u, UserLocked{UserID: u.id, Reason: "admin"})
	case !locked && u.isLocked:
		record(u, UserUnlocked{UserID: u.id})
	}
	return nil
}

// SetSuperuser switches is_superuser.
func (u *User) SetSuperuser(super bool) error {
	if err := u.exists(); err != nil {
		return err
	}
	switch {
	case super && !u.isSuperuser:
		record(u, UserSuperuserGranted{UserID: u.id})
	case !super && u.isSuperuser:
		record(u, UserSuperuserRevoked{UserID: u.id})
	}
	return nil
}

// SetFlags sets is_sso and reset_passwd; nil leaves one as it is.
func (u *User) SetFlags(isSSO, resetPasswd *bool) error {
	if err := u.exists(); err != nil {
		return err
	}
	e := UserFlagsChanged{UserID: u.id}
	if isSSO != nil && *isSSO != u.isSSO {
		e.IsSSO = isSSO
	}
	if resetPasswd != nil && *resetPasswd != u.resetPasswd {
		e.ResetPasswd = resetPasswd
	}
	if e.IsSSO != nil || e.ResetPasswd != nil {
		record(u, e)
	}
	return nil
}

// CanLogIn tells whether the account may sign in or use its credentials.
func (u *User) CanLogIn() bool { return !u.deleted && u.isActive && !u.isLocked }

// LoginSucceeded records a successful login.
func (u *User) LoginSucceeded() { record(u, UserLoggedIn{UserID: u.id}) }

// LoginFailed records a wrong password. It never locks the account: a
// stranger who knows the name could otherwise lock anyone out (failed
// logins are throttled per client address instead, outside the domain).
func (u *User) LoginFailed() {
	if u.deleted || u.isLocked {
		return
	}
	record(u, UserLoginFailed{UserID: u.id, FailedAttempts: u.failedLogins + 1})
}

// RevokeSessions ends every session of the account: the tokens issued
// before stop working (reason: "logout").
func (u *User) RevokeSessions(reason string) error {
	if err := u.exists(); err != nil {
		return err
	}
	record(u, UserSessionsRevoked{UserID: u.id, Reason: reason})
	return nil
}

// EndsSessions tells whether e revokes every token of the account issued
// before it: a new password (chosen or reset), a lost superuser role, a
// lock, a deactivation and an explicit revocation (logout). The token
// generation counts these events, in the aggregate and in the users read
// model alike.
func EndsSessions(e Event) bool {
	switch e.(type) {
	case UserPasswordChanged, UserPasswordReset, UserSuperuserRevoked, UserLocked, UserDeactivated, UserSessionsRevoked:
		return true
	}
	return false
}

// Delete removes the account.
func (u *User) Delete() error {
	if err := u.exists(); err != nil {
		return err
	}
	record(u, UserDeleted{UserID: u.id, Username: u.username})
	return nil
}

// Apply implements commands.Aggregate.
func (u *User) Apply(e Event) {
	if EndsSessions(e) {
		u.tokenGeneration++
	}
	switch e := e.(type) {
	case UserRegistered:
		u.id, u.username, u.passwordHash = e.UserID, e.Username, e.PasswordHash
		u.isActive, u.isSuperuser = e.IsActive, e.IsSuperuser
		u.profile = UserProfile{Nickname: e.Nickname, Optins: e.Optins}
	case UserProfileChanged:
		u.applyProfile(e)
	case UserPasswordChanged:
		u.passwordHash, u.resetPasswd = e.PasswordHash, false
	case UserPasswordReset:
		u.passwordHash, u.resetPasswd = e.PasswordHash, e.MustChange
	case UserFlagsChanged:
		if e.IsSSO != nil {
			u.isSSO = *e.IsSSO
		}
		if e.ResetPasswd != nil {
			u.resetPasswd = *e.ResetPasswd
		}
	case UserActivated:
		u.isActive = true
	case UserDeactivated:
		u.isActive = false
	case UserLocked:
		u.isLocked = true
	case UserUnlocked:
		u.isLocked, u.failedLogins = false, 0
	case UserSuperuserGranted:
		u.isSuperuser = true
	case UserSuperuserRevoked:
		u.isSuperuser = false
	case UserLoggedIn:
		u.failedLogins, u.loggedIn = 0, true
	case UserLoginFailed:
		u.failedLogins = e.FailedAttempts
	case UserDeleted:
		u.deleted = true
	}
}

func (u *User) applyProfile(e UserProfileChanged) {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&u.username, e.Username}, {&u.profile.Nickname, e.Nickname}, {&u.profile.Mobile, e.Mobile},
		{&u.profile.Email, e.Email}, {&u.profile.ProfileImage, e.ProfileImage}, {&u.profile.StoreAPIKey, e.StoreAPIKey}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if e.Optins != nil {
		u.profile.Optins = e.Optins
	}
}

// ValidUsername checks a username: 1 to MaxUsernameLength characters, no
// surrounding whitespace, no control characters.
func ValidUsername(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("username must not be empty")
	case strings.TrimSpace(name) != name:
		return Invalidf("username must not start or end with whitespace")
	case strings.ContainsFunc(name, unicode.IsControl):
		return Invalidf("username must not contain control characters")
	}
	return validLength("username", name, MaxUsernameLength)
}

func validLength(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return Invalidf("%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return Invalidf("%s must be at most %d characters", field, max)
	}
	return nil
}

func looksLikeEmail(s string) bool {
	local, domainPart, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domainPart, ".") && !strings.ContainsAny(s, " \t\r\n<>")
}

func compactJSON(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
