package ports

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The users read model as the handlers of organisations, user groups,
// businesses and tenant role grants read it.

// MemberAccounts is commands.MemberAccounts on the users read model of
// Pool (the queries are readapi's).
type MemberAccounts struct {
	Pool *pgxpool.Pool
}

var _ commands.MemberAccounts = MemberAccounts{}

// Accounts implements commands.MemberAccounts.
func (m MemberAccounts) Accounts(ctx context.Context, ids []int64) (map[int64]commands.MemberAccount, error) {
	return readapi.UserAccounts(ctx, m.Pool, ids)
}

// AccountNamed implements commands.MemberAccounts.
func (m MemberAccounts) AccountNamed(ctx context.Context, name string) (commands.MemberAccount, bool, error) {
	return readapi.UserAccountNamed(ctx, m.Pool, name)
}

// AccountSpelled implements commands.MemberAccounts.
func (m MemberAccounts) AccountSpelled(ctx context.Context, name string) (commands.MemberAccount, bool, error) {
	return readapi.UserAccountSpelled(ctx, m.Pool, name)
}
