package ports

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// The answers of the hand-written ports of organisations, user groups and
// businesses (their requests name the tenant in the body or the query, or
// check the business before the body, which Write does not express), and
// the users read model as their handlers read it.

// memberFail fails the request with err: a commands.MemberInputError as a
// 422 value_error at its place, anything else as httpapi.Fail does.
func memberFail(c *gin.Context, err error) {
	if mi, ok := errors.AsType[*commands.MemberInputError](err); ok {
		err = &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error", Loc: mi.Loc,
			Msg: "Value error, " + mi.Msg, Input: mi.Input}}}
	}
	httpapi.Fail(c, err)
}

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
