package commands

import (
	"context"
	"fmt"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Unlocked is what UnlockUser did.
type Unlocked struct {
	// UserID is the account (0: no account holds the name).
	UserID int64
	// Addresses is how many client addresses' failed logins were forgotten.
	Addresses int64
	// AdminLockLifted tells whether an administrative lock was lifted.
	AdminLockLifted bool
}

// UnlockUser is the operator's way back into an account (skillflaw users
// unlock): it forgets the failed logins of name from every address, and
// lifts the account's administrative lock (user.unlocked, recorded with md,
// the operator's metadata). It works whatever the account's state, so even
// the last superuser can never be locked out for good. An unknown name is
// a domain not-found error, after its failed logins were forgotten.
func UnlockUser(ctx context.Context, repo *Repository, throttle *auth.LoginThrottle, name string, md eventstore.Metadata) (Unlocked, error) {
	var out Unlocked
	n, err := throttle.Clear(ctx, name)
	if err != nil {
		return out, err
	}
	out.Addresses = n
	if out.UserID, err = UserIDByName(ctx, repo, name); err != nil {
		return out, err
	}
	if out.UserID == 0 {
		return out, domain.NotFoundf("no user is named %q", name)
	}
	_, err = repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		user := domain.LoadUser(out.UserID)
		if err := repo.Load(ctx, user); err != nil {
			return nil, fmt.Errorf("load user %s: %w", name, err)
		}
		if out.AdminLockLifted = user.IsLocked(); !out.AdminLockLifted {
			return nil, nil
		}
		if err := user.SetLocked(false); err != nil {
			return nil, err
		}
		return []Aggregate{user}, nil
	})
	return out, err
}
