package projections

import (
	"context"
	"encoding/json"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// DefaultOptins is a new account's optins when the sign-up sends none
// (Langflow's default).
var DefaultOptins = json.RawMessage(`{"github_starred":false,"dialog_dismissed":false,"discord_clicked":false}`)

// Users builds the users and api_keys read models: one row per account
// that is not deleted, and per API key that is not revoked. updated_at and
// version move with every event of the account but logins and failed
// logins, which only set last_login_at (a login is not an edit).
//
// token_generation counts the account's events that end its sessions
// (domain.EndsSessions), as the aggregate's fold does: the Authenticator
// refuses tokens of an older generation.
func Users() *Projection {
	p := New("users", "users", "api_keys")
	touch := func(tx *Tx, rec eventstore.RecordedEvent, e domain.Event, id int64, set string, args ...any) {
		if domain.EndsSessions(e) {
			set += `token_generation = token_generation + 1, `
		}
		tx.Queue(`UPDATE users SET `+set+`updated_at = $2, version = $3 WHERE id = $1`,
			append([]any{id, rec.Metadata.OccurredAt, int64(rec.StreamVersion)}, args...)...)
	}
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserRegistered) error {
		optins := e.Optins
		if len(optins) == 0 || string(optins) == "null" {
			optins = DefaultOptins
		}
		tx.Queue(`INSERT INTO users (id, username, nickname, is_active, is_superuser, optins, create_at, updated_at, created_by, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`, e.UserID, e.Username, e.Nickname, e.IsActive, e.IsSuperuser, optins,
			rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserProfileChanged) error {
		var optins any
		if len(e.Optins) > 0 {
			optins = e.Optins
		}
		touch(tx, rec, e, e.UserID, `username = coalesce($4, username), nickname = coalesce($5, nickname),
    mobile = coalesce($6, mobile), email = coalesce($7, email), profile_image = coalesce($8, profile_image),
    store_api_key = coalesce($9, store_api_key), optins = coalesce($10::jsonb, optins), `,
			e.Username, e.Nickname, e.Mobile, e.Email, e.ProfileImage, e.StoreAPIKey, optins)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserPasswordChanged) error {
		touch(tx, rec, e, e.UserID, `reset_passwd = false, `)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserPasswordReset) error {
		touch(tx, rec, e, e.UserID, `reset_passwd = $4, `, e.MustChange)
		return nil
	})
	flag := func(column string, value bool) func(*Tx, eventstore.RecordedEvent, domain.Event, int64) {
		return func(tx *Tx, rec eventstore.RecordedEvent, e domain.Event, id int64) {
			touch(tx, rec, e, id, column+` = $4, `, value)
		}
	}
	onUser[domain.UserActivated](p, func(e domain.UserActivated) int64 { return e.UserID }, flag("is_active", true))
	onUser[domain.UserDeactivated](p, func(e domain.UserDeactivated) int64 { return e.UserID }, flag("is_active", false))
	onUser[domain.UserLocked](p, func(e domain.UserLocked) int64 { return e.UserID }, flag("is_locked", true))
	onUser[domain.UserUnlocked](p, func(e domain.UserUnlocked) int64 { return e.UserID }, flag("is_locked", false))
	onUser[domain.UserSuperuserGranted](p, func(e domain.UserSuperuserGranted) int64 { return e.UserID }, flag("is_superuser", true))
	onUser[domain.UserSuperuserRevoked](p, func(e domain.UserSuperuserRevoked) int64 { return e.UserID }, flag("is_superuser", false))
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserFlagsChanged) error {
		touch(tx, rec, e, e.UserID, `is_sso = coalesce($4, is_sso), reset_passwd = coalesce($5, reset_passwd), `, e.IsSSO, e.ResetPasswd)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserLoggedIn) error {
		tx.Queue(`UPDATE users SET last_login_at = $2 WHERE id = $1`, e.UserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.UserSessionsRevoked) error {
		// A logout is no edit of the account: only the generation moves.
		tx.Queue(`UPDATE users SET token_generation = token_generation + 1 WHERE id = $1`, e.UserID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.UserDeleted) error {
		tx.Queue(`DELETE FROM users WHERE id = $1`, e.UserID)
		tx.Queue(`DELETE FROM api_keys WHERE user_id = $1`, e.UserID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.APIKeyCreated) error {
		// A key whose user was deleted meanwhile is never shown.
		tx.Queue(`INSERT INTO api_keys (id, user_id, name, key_hash, key_prefix, key_length, created_at)
SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)`, e.APIKeyID, e.UserID, e.Name, e.KeyHash, e.KeyPrefix, e.KeyLength, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.APIKeyRevoked) error {
		tx.Queue(`DELETE FROM api_keys WHERE id = $1`, e.APIKeyID)
		return nil
	})
	return p
}

// onUser registers a handler of an account event that only names the user.
func onUser[E eventstore.Event](p *Projection, id func(E) int64, apply func(*Tx, eventstore.RecordedEvent, domain.Event, int64)) {
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e E) error {
		apply(tx, rec, e, id(e))
		return nil
	})
}
