package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// UserRead is an account as the API shows it (the spec's UserRead).
type UserRead struct {
	ID           int64           `json:"id"`
	Username     string          `json:"username"`
	Nickname     string          `json:"nickname"`
	Mobile       string          `json:"mobile"`
	Email        string          `json:"email"`
	ProfileImage string          `json:"profile_image"`
	StoreAPIKey  string          `json:"store_api_key"`
	ResetPasswd  bool            `json:"reset_passwd"`
	IsActive     bool            `json:"is_active"`
	IsSuperuser  bool            `json:"is_superuser"`
	IsLocked     bool            `json:"is_locked"`
	IsSSO        bool            `json:"is_sso"`
	CreateAt     time.Time       `json:"create_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	LastLoginAt  *time.Time      `json:"last_login_at"`
	Optins       json.RawMessage `json:"optins"`
}

// UsersResponse is a page of the users list.
type UsersResponse struct {
	TotalCount int64      `json:"total_count"`
	Users      []UserRead `json:"users"`
}

const userColumns = `id, username, nickname, mobile, email, profile_image, store_api_key, reset_passwd,
    is_active, is_superuser, is_locked, is_sso, create_at, updated_at, last_login_at, coalesce(optins, '{}'::jsonb)`

func scanUser(row pgx.CollectableRow) (UserRead, error) {
	var u UserRead
	err := row.Scan(&u.ID, &u.Username, &u.Nickname, &u.Mobile, &u.Email, &u.ProfileImage, &u.StoreAPIKey, &u.ResetPasswd,
		&u.IsActive, &u.IsSuperuser, &u.IsLocked, &u.IsSSO, &u.CreateAt, &u.UpdatedAt, &u.LastLoginAt, &u.Optins)
	u.CreateAt, u.UpdatedAt = u.CreateAt.UTC(), u.UpdatedAt.UTC()
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		u.LastLoginAt = &t
	}
	return u, err
}

// UserByID reads one account from the users read model; a missing one is
// domain.ErrNotFound with Langflow's "User not found".
func UserByID(ctx context.Context, db DB, id int64) (UserRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return UserRead{}, domain.NotFoundf("User not found")
	}
	if err != nil {
		return UserRead{}, fmt.Errorf("read user %d: %w", id, err)
	}
	return u, nil
}

// CountOtherActiveSuperusers counts the active, unlocked superusers other
// than id, so that the last one cannot be demoted, disabled or deleted.
func CountOtherActiveSuperusers(ctx context.Context, pool *pgxpool.Pool, id int64) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE is_superuser AND is_active AND NOT is_locked AND id <> $1`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count superusers: %w", err)
	}
	return n, nil
}

// FirstSuperuser returns the id of the oldest active superuser (0: none).
func FirstSuperuser(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var id int64
	err := pool.QueryRow(ctx, `SELECT id FROM users WHERE is_superuser AND is_active ORDER BY id LIMIT 1`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// UsersQuery is the query string of Read All Users.
type UsersQuery struct {
	Skip      int    `form:"skip,default=0" binding:"gte=0"`
	Limit     int    `form:"limit,default=10" binding:"gte=1,lte=1000"`
	Search    string `form:"search" binding:"max=255"`
	IsActive  *bool  `form:"is_active"`
	IsLocked  *bool  `form:"is_locked"`
	SortBy    string `form:"sort_by,default=id" binding:"oneof=id username nickname is_sso mobile email"`
	SortOrder string `form:"sort_order,default=desc" binding:"oneof=asc desc"`
}

// userSortColumns maps sort_by to its ORDER BY expression.
var userSortColumns = map[string]string{
	"id": "id", "username": "lower(username)", "nickname": "nickname", "is_sso": "is_sso", "mobile": "mobile", "email": "email",
}

// ListUsers returns a page of accounts: search matches username, nickname,
// email and mobile (case-insensitive substring); ties of the sort column
// are broken by id in the same direction, so pages never overlap.
func ListUsers(ctx context.Context, pool *pgxpool.Pool, q UsersQuery) (UsersResponse, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Search != "" {
		p := arg("%" + EscapeLike(q.Search) + "%")
		where = append(where, fmt.Sprintf("(username ILIKE %[1]s OR nickname ILIKE %[1]s OR email ILIKE %[1]s OR mobile ILIKE %[1]s)", p))
	}
	if q.IsActive != nil {
		where = append(where, "is_active = "+arg(*q.IsActive))
	}
	if q.IsLocked != nil {
		where = append(where, "is_locked = "+arg(*q.IsLocked))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	dir := "DESC"
	if q.SortOrder == "asc" {
		dir = "ASC"
	}
	order := fmt.Sprintf("%s %s, id %s", userSortColumns[q.SortBy], dir, dir)
	out := UsersResponse{Users: []UserRead{}}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users`+cond, args...).Scan(&out.TotalCount); err != nil {
		return out, fmt.Errorf("count users: %w", err)
	}
	rows, _ := pool.Query(ctx, `SELECT `+userColumns+` FROM users`+cond+` ORDER BY `+order+
		` OFFSET `+arg(q.Skip)+` LIMIT `+arg(q.Limit), args...)
	users, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return out, fmt.Errorf("list users: %w", err)
	}
	if users != nil {
		out.Users = users
	}
	return out, nil
}

// EscapeLike escapes LIKE's wildcards (and its escape character) in s.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// APIKeyRead is an API key as lists show it, masked (Langflow's ApiKeyRead).
type APIKeyRead struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	APIKey     string     `json:"api_key"`
	UserID     int64      `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	TotalUses  int64      `json:"total_uses"`
	IsActive   bool       `json:"is_active"`
}

// APIKeysResponse is Langflow's ApiKeysResponse.
type APIKeysResponse struct {
	TotalCount int          `json:"total_count"`
	UserID     int64        `json:"user_id"`
	APIKeys    []APIKeyRead `json:"api_keys"`
}

// APIKeysOf lists the keys of user, oldest first.
func APIKeysOf(ctx context.Context, pool *pgxpool.Pool, user int64) (APIKeysResponse, error) {
	rows, _ := pool.Query(ctx, `SELECT k.id, k.name, k.key_prefix, k.key_length, k.user_id, k.created_at, u.last_used_at,
    coalesce(u.total_uses, 0), k.is_active
FROM api_keys k LEFT JOIN api_key_usage u ON u.api_key_id = k.id
WHERE k.user_id = $1 ORDER BY k.created_at, k.id`, user)
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKeyRead, error) {
		var (
			k      APIKeyRead
			prefix string
			length int
		)
		err := row.Scan(&k.ID, &k.Name, &prefix, &length, &k.UserID, &k.CreatedAt, &k.LastUsedAt, &k.TotalUses, &k.IsActive)
		k.APIKey = auth.MaskAPIKey(prefix, length)
		k.CreatedAt = k.CreatedAt.UTC()
		return k, err
	})
	if err != nil {
		return APIKeysResponse{}, fmt.Errorf("list api keys: %w", err)
	}
	if keys == nil {
		keys = []APIKeyRead{}
	}
	return APIKeysResponse{TotalCount: len(keys), UserID: user, APIKeys: keys}, nil
}

// users serves the read operations of accounts and API keys.
type users struct {
	pool *pgxpool.Pool
}

// UsersReadModels are the projections the identity reads wait for.
var UsersReadModels = []string{"users"}

// RegisterUsers adds Read All Users (#59), Read Current User (#60) and the
// API key list.
func RegisterUsers(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &users{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/users/", Access: access.Superuser(), Tag: "Users", Summary: "Read All Users",
		Description: "Retrieve a list of users from the database with pagination (superusers only).",
		Params: []httpapi.Param{
			{Name: "skip", In: "query", Type: "integer", Default: 0},
			{Name: "limit", In: "query", Type: "integer", Default: 10},
			{Name: "search", In: "query", Description: "Substring of username, nickname, email or mobile (case-insensitive)."},
			{Name: "is_active", In: "query", Type: "boolean"},
			{Name: "is_locked", In: "query", Type: "boolean"},
			{Name: "sort_by", In: "query", Default: "id", Enum: []string{"id", "username", "nickname", "is_sso", "mobile", "email"}},
			{Name: "sort_order", In: "query", Default: "desc", Enum: []string{"asc", "desc"}},
		},
		Response: UsersResponse{}, ReadModels: UsersReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/users/whoami", Access: access.SignedIn(), Tag: "Users", Summary: "Read Current User",
		Description: "Retrieve the current user's data.", Response: UserRead{}, ReadModels: UsersReadModels, Handler: h.whoami})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/api_key/", Access: access.SignedIn(), Tag: "APIKey", Summary: "Get Api Keys Route",
		Description: "The caller's API keys, masked.", Response: APIKeysResponse{}, ReadModels: UsersReadModels, Handler: h.apiKeys})
}

func (h *users) list(c *gin.Context) {
	if _, err := auth.RequireSuperuser(c.Request.Context()); err != nil {
		httpapi.Fail(c, err)
		return
	}
	var q UsersQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	out, err := ListUsers(c.Request.Context(), h.pool, q)
	respond(c, out, err)
}

func (h *users) whoami(c *gin.Context) {
	p, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	u, err := UserByID(c.Request.Context(), h.pool, p.UserID)
	respond(c, u, err)
}

func (h *users) apiKeys(c *gin.Context) {
	p, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	out, err := APIKeysOf(c.Request.Context(), h.pool, p.UserID)
	respond(c, out, err)
}

// UserCandidate is a user who could be added somewhere (a business, an
// org, a group, a tenant): who they are, without their settings, flags or
// store_api_key. It is the item of every candidate list of users (#74,
// #100, #168, #169); uid repeats id for the clients that name it so.
type UserCandidate struct {
	ID           int64  `json:"id"`
	UID          int64  `json:"uid"`
	Username     string `json:"username"`
	Nickname     string `json:"nickname"`
	Email        string `json:"email"`
	Mobile       string `json:"mobile"`
	ProfileImage string `json:"profile_image"`
}

// Candidates is a page of candidate users and how many there are.
type Candidates struct {
	TotalCount int64           `json:"total_count"`
	Users      []UserCandidate `json:"users"`
}

// TenantMember is an SQL condition on users u: u is a member of the
// tenant the placeholder tenant names — holds a user role there, is a
// member of one of its orgs or user groups, or holds a role in one of its
// businesses.
func TenantMember(tenant string) string {
	return `(EXISTS (SELECT 1 FROM tenant_role_relations r WHERE r.tenant_id = ` + tenant + ` AND r.kind = 'user' AND r.subject_id = u.id)
    OR EXISTS (SELECT 1 FROM org_members m WHERE m.tenant_id = ` + tenant + ` AND m.uid = u.id)
    OR EXISTS (SELECT 1 FROM user_group_members m WHERE m.tenant_id = ` + tenant + ` AND m.uid = u.id)
    OR EXISTS (SELECT 1 FROM business_users m WHERE m.tenant_id = ` + tenant + ` AND m.uid = u.id))`
}

// UserCandidates returns a page of the active users (alias u) of tenant
// that are not excluded: exclude is an SQL condition on u that is true for
// the users to leave out (those already members), written with the
// placeholders $1..$n of args; "" excludes nobody. Users go by id;
// total_count counts every match, users is the page (skip, limit).
//
// Who is listed: a tenant sees its own members (TenantMember), found by a
// case-insensitive substring of the username, nickname, email or mobile,
// with their contact details. A user outside the tenant is listed only
// when search is exactly their username or e-mail (case-insensitively:
// an invitation by name), and then without e-mail or mobile (""). So a
// tenant cannot browse, or search by fragments of, the accounts of other
// tenants. Superusers (the caller in ctx) see every user with details.
func UserCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, exclude string, args []any, search string, skip, limit int) (Candidates, error) {
	args = append([]any(nil), args...)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	p, _ := auth.PrincipalFrom(ctx)
	member := "true"
	if !p.IsSuperuser {
		member = TenantMember(arg(tenant) + "::uuid")
	}
	from := ` FROM users u WHERE u.is_active`
	if exclude != "" {
		from += ` AND NOT (` + exclude + `)`
	}
	var like string
	if search != "" {
		like = arg("%" + EscapeLike(search) + "%")
	}
	switch {
	case p.IsSuperuser && search == "":
	case p.IsSuperuser:
		from += fmt.Sprintf(` AND (u.username ILIKE %[1]s OR u.nickname ILIKE %[1]s OR u.email ILIKE %[1]s OR u.mobile ILIKE %[1]s)`, like)
	case search == "":
		from += ` AND ` + member
	default:
		exact := arg(strings.ToLower(search))
		from += fmt.Sprintf(` AND ((%[1]s AND (u.username ILIKE %[2]s OR u.nickname ILIKE %[2]s OR u.email ILIKE %[2]s OR u.mobile ILIKE %[2]s))
    OR lower(u.username) = %[3]s OR lower(u.email) = %[3]s)`, member, like, exact)
	}
	out := Candidates{Users: []UserCandidate{}}
	if err := pool.QueryRow(ctx, `SELECT count(*)`+from, args...).Scan(&out.TotalCount); err != nil {
		return out, fmt.Errorf("count candidates: %w", err)
	}
	rows, _ := pool.Query(ctx, `SELECT u.id, u.username, u.nickname,
    CASE WHEN `+member+` THEN u.email ELSE '' END, CASE WHEN `+member+` THEN u.mobile ELSE '' END, u.profile_image`+from+
		` ORDER BY u.id OFFSET `+arg(skip)+` LIMIT `+arg(limit), args...)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (UserCandidate, error) {
		var u UserCandidate
		err := row.Scan(&u.ID, &u.Username, &u.Nickname, &u.Email, &u.Mobile, &u.ProfileImage)
		u.UID = u.ID
		return u, err
	})
	if err != nil {
		return out, fmt.Errorf("list candidates: %w", err)
	}
	if users != nil {
		out.Users = users
	}
	return out, nil
}

// UserAccounts reads the users of ids from the users read model, by id (the
// writes that make users members or grant them roles); an id no user has
// is absent.
func UserAccounts(ctx context.Context, pool *pgxpool.Pool, ids []int64) (map[int64]commands.MemberAccount, error) {
	rows, _ := pool.Query(ctx, `SELECT id, username, is_active FROM users WHERE id = ANY($1)`, ids)
	found := map[int64]commands.MemberAccount{}
	var a commands.MemberAccount
	if _, err := pgx.ForEachRow(rows, []any{&a.ID, &a.Username, &a.Active}, func() error { found[a.ID] = a; return nil }); err != nil {
		return nil, err
	}
	return found, nil
}

// UserAccountNamed reads the user named name, case-insensitively: of
// several, the lowest id; ok is false when there is none.
func UserAccountNamed(ctx context.Context, pool *pgxpool.Pool, name string) (commands.MemberAccount, bool, error) {
	return userAccountNamed(ctx, pool, name, `ORDER BY id LIMIT 1`)
}

// UserAccountSpelled is UserAccountNamed preferring, of several, the user
// spelled exactly name (then the lowest id).
func UserAccountSpelled(ctx context.Context, pool *pgxpool.Pool, name string) (commands.MemberAccount, bool, error) {
	return userAccountNamed(ctx, pool, name, `ORDER BY username = $1 DESC, id LIMIT 1`)
}

func userAccountNamed(ctx context.Context, pool *pgxpool.Pool, name, order string) (commands.MemberAccount, bool, error) {
	var a commands.MemberAccount
	err := pool.QueryRow(ctx, `SELECT id, username, is_active FROM users WHERE lower(username) = lower($1) `+order,
		name).Scan(&a.ID, &a.Username, &a.Active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return a, false, nil
	case err != nil:
		return a, false, fmt.Errorf("read user %q: %w", name, err)
	}
	return a, true, nil
}
