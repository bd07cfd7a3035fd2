package ports

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/commands"
)

// The users read model as the handlers of organisations, user groups
// and businesses read it.

// MemberAccounts is commands.MemberAccounts on the users read model of
// Pool.
type MemberAccounts struct {
	Pool *pgxpool.Pool
}

var _ commands.MemberAccounts = MemberAccounts{}

// Accounts implements commands.MemberAccounts.
func (m MemberAccounts) Accounts(ctx context.Context, ids []int64) (map[int64]commands.MemberAccount, error) {
	rows, _ := m.Pool.Query(ctx, `SELECT id, username, is_active FROM users WHERE id = ANY($1)`, ids)
	found := map[int64]commands.MemberAccount{}
	var a commands.MemberAccount
	if _, err := pgx.ForEachRow(rows, []any{&a.ID, &a.Username, &a.Active}, func() error { found[a.ID] = a; return nil }); err != nil {
		return nil, err
	}
	return found, nil
}

// AccountNamed implements commands.MemberAccounts.
func (m MemberAccounts) AccountNamed(ctx context.Context, name string) (commands.MemberAccount, bool, error) {
	var a commands.MemberAccount
	err := m.Pool.QueryRow(ctx, `SELECT id, username, is_active FROM users WHERE lower(username) = lower($1) ORDER BY id LIMIT 1`,
		name).Scan(&a.ID, &a.Username, &a.Active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return a, false, nil
	case err != nil:
		return a, false, fmt.Errorf("read user %q: %w", name, err)
	}
	return a, true, nil
}
