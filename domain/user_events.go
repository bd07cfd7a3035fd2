package domain

import "encoding/json"

// The events of a user account (stream user-<id>). Password hashes are
// stored, never passwords; who changed what and when is in the metadata.

// UserRegistered records a new account.
type UserRegistered struct {
	UserID       int64           `json:"user_id"`
	Username     string          `json:"username"`
	Nickname     string          `json:"nickname"`
	PasswordHash string          `json:"password_hash"`
	IsActive     bool            `json:"is_active"`
	IsSuperuser  bool            `json:"is_superuser"`
	Optins       json.RawMessage `json:"optins,omitempty"`
	// Source is how the account came to be: signup, admin or bootstrap.
	Source string `json:"source"`
}

// UserProfileChanged records new values of profile fields; absent fields
// did not change.
type UserProfileChanged struct {
	UserID       int64           `json:"user_id"`
	Username     *string         `json:"username,omitempty"`
	Nickname     *string         `json:"nickname,omitempty"`
	Mobile       *string         `json:"mobile,omitempty"`
	Email        *string         `json:"email,omitempty"`
	ProfileImage *string         `json:"profile_image,omitempty"`
	StoreAPIKey  *string         `json:"store_api_key,omitempty"`
	Optins       json.RawMessage `json:"optins,omitempty"`
}

// UserPasswordChanged records a password the user chose; it clears the
// reset_passwd flag.
type UserPasswordChanged struct {
	UserID       int64  `json:"user_id"`
	PasswordHash string `json:"password_hash"`
}

// UserPasswordReset records a password a superuser set for the user;
// MustChange becomes reset_passwd.
type UserPasswordReset struct {
	UserID       int64  `json:"user_id"`
	PasswordHash string `json:"password_hash"`
	MustChange   bool   `json:"must_change"`
}

// UserActivated and UserDeactivated switch is_active.
type UserActivated struct {
	UserID int64 `json:"user_id"`
}
type UserDeactivated struct {
	UserID int64 `json:"user_id"`
}

// UserLocked records a lock: by a superuser (reason "admin"). Streams
// written before failed logins were throttled may also hold locks after too
// many failed logins (reason "failed_logins"); none are recorded any more.
type UserLocked struct {
	UserID int64  `json:"user_id"`
	Reason string `json:"reason"`
}

// UserUnlocked lifts a lock and resets the failed-login count.
type UserUnlocked struct {
	UserID int64 `json:"user_id"`
}

// UserSuperuserGranted and UserSuperuserRevoked switch is_superuser.
type UserSuperuserGranted struct {
	UserID int64 `json:"user_id"`
}
type UserSuperuserRevoked struct {
	UserID int64 `json:"user_id"`
}

// UserFlagsChanged records new values of the account flags is_sso and
// reset_passwd that a superuser sets; absent flags did not change.
type UserFlagsChanged struct {
	UserID      int64 `json:"user_id"`
	IsSSO       *bool `json:"is_sso,omitempty"`
	ResetPasswd *bool `json:"reset_passwd,omitempty"`
}

// UserLoggedIn records a successful login (last_login_at is its time).
type UserLoggedIn struct {
	UserID int64 `json:"user_id"`
}

// UserLoginFailed records a wrong password; FailedAttempts counts the
// consecutive failures including this one.
type UserLoginFailed struct {
	UserID         int64 `json:"user_id"`
	FailedAttempts int   `json:"failed_attempts"`
}

// UserSessionsRevoked records the end of every session of the account
// (Reason "logout"): the tokens issued before it are refused.
type UserSessionsRevoked struct {
	UserID int64  `json:"user_id"`
	Reason string `json:"reason"`
}

// UserDeleted records the removal of an account.
type UserDeleted struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
}

func (UserRegistered) EventType() string       { return "user.registered" }
func (UserProfileChanged) EventType() string   { return "user.profile_changed" }
func (UserPasswordChanged) EventType() string  { return "user.password_changed" }
func (UserPasswordReset) EventType() string    { return "user.password_reset" }
func (UserActivated) EventType() string        { return "user.activated" }
func (UserDeactivated) EventType() string      { return "user.deactivated" }
func (UserLocked) EventType() string           { return "user.locked" }
func (UserUnlocked) EventType() string         { return "user.unlocked" }
func (UserSuperuserGranted) EventType() string { return "user.superuser_granted" }
func (UserSuperuserRevoked) EventType() string { return "user.superuser_revoked" }
func (UserFlagsChanged) EventType() string     { return "user.flags_changed" }
func (UserLoggedIn) EventType() string         { return "user.logged_in" }
func (UserLoginFailed) EventType() string      { return "user.login_failed" }
func (UserSessionsRevoked) EventType() string  { return "user.sessions_revoked" }
func (UserDeleted) EventType() string          { return "user.deleted" }

// APIKeyCreated records a new API key. Only a hash of the key is kept; the
// key itself is shown once, in the response to its creation.
type APIKeyCreated struct {
	APIKeyID string `json:"api_key_id"`
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	// KeyHash is the hex SHA-256 of the key; KeyPrefix its first characters,
	// for the masked form lists show.
	KeyHash   string `json:"key_hash"`
	KeyPrefix string `json:"key_prefix"`
	KeyLength int    `json:"key_length"`
}

// APIKeyRevoked records the deletion of an API key.
type APIKeyRevoked struct {
	APIKeyID string `json:"api_key_id"`
	UserID   int64  `json:"user_id"`
}

func (APIKeyCreated) EventType() string { return "api_key.created" }
func (APIKeyRevoked) EventType() string { return "api_key.revoked" }

// IdentityEvents lists the user and API key events with their schema
// versions, for the registry.
func IdentityEvents() []Schema {
	return V1(
		UserRegistered{}, UserProfileChanged{}, UserPasswordChanged{}, UserPasswordReset{},
		UserActivated{}, UserDeactivated{}, UserLocked{}, UserUnlocked{},
		UserSuperuserGranted{}, UserSuperuserRevoked{}, UserFlagsChanged{},
		UserLoggedIn{}, UserLoginFailed{}, UserDeleted{}, UserSessionsRevoked{},
		APIKeyCreated{}, APIKeyRevoked{},
	)
}
