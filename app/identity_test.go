package app_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

const whoami = "/api/v1/users/whoami"

// signToken signs claims with key (HS256), as a client forging or replaying
// tokens would.
func signToken(t *testing.T, key string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	require.NoError(t, err)
	return s
}

// Every way a protected route refuses a caller, with Langflow's statuses
// and messages.
func TestIdentity_AuthFailures(t *testing.T) {
	t.Parallel()
	const secret = "identity-test-secret-0123456789-abcdefgh"
	s := startIdentity(t, map[string]string{"SKILLFLAW_SECRET_KEY": secret, "SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	adminTok := s.admin(t)
	me := s.do(t, http.MethodGet, whoami, nil, bearer(adminTok))
	require.Equal(t, http.StatusOK, me.status, me.raw)
	adminID := idOf(t, me.obj(t))
	sub := strconv.FormatInt(adminID, 10)

	t.Run("no_credentials", func(t *testing.T) {
		r := s.do(t, http.MethodGet, whoami, nil, nil)
		requireDetail(t, r, http.StatusForbidden, "An API key must be passed as query or header")
	})

	t.Run("malformed_bearer", func(t *testing.T) {
		r := s.do(t, http.MethodGet, whoami, nil, http.Header{"Authorization": {"Bearer abc"}})
		requireDetail(t, r, http.StatusUnauthorized, "Could not validate credentials")
		assert.Equal(t, "Bearer", r.res.Header.Get("WWW-Authenticate"))
	})

	t.Run("self_signed_with_server_key_works", func(t *testing.T) {
		// Proves the forged tokens below differ only in what they test.
		tok := signToken(t, secret, jwt.MapClaims{"sub": sub, "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		r := s.do(t, http.MethodGet, whoami, nil, bearer(tok))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, idAdmin, r.obj(t)["username"])
	})

	t.Run("wrong_signature", func(t *testing.T) {
		tok := signToken(t, "another-secret-key-that-is-not-the-servers-1",
			jwt.MapClaims{"sub": sub, "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		r := s.do(t, http.MethodGet, whoami, nil, bearer(tok))
		requireDetail(t, r, http.StatusUnauthorized, "Could not validate credentials")
		assert.Equal(t, "Bearer", r.res.Header.Get("WWW-Authenticate"))
	})

	t.Run("expired", func(t *testing.T) {
		tok := signToken(t, secret, jwt.MapClaims{"sub": sub, "type": "access", "exp": time.Now().Add(-time.Hour).Unix()})
		r := s.do(t, http.MethodGet, whoami, nil, bearer(tok))
		requireDetail(t, r, http.StatusUnauthorized, "Token has expired.")
		assert.Equal(t, "Bearer", r.res.Header.Get("WWW-Authenticate"))
	})

	t.Run("refresh_token_as_access_and_back", func(t *testing.T) {
		tk := s.login(t, idAdmin, idAdminPassword)
		require.NotEmpty(t, tk.refresh)
		r := s.do(t, http.MethodGet, whoami, nil, bearer(tk.refresh))
		requireDetail(t, r, http.StatusUnauthorized, "Token is invalid.")

		r = s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.access}})
		requireDetail(t, r, http.StatusUnauthorized, "Invalid refresh token")
	})

	t.Run("access_cookie", func(t *testing.T) {
		r := s.do(t, http.MethodGet, whoami, nil, http.Header{"Cookie": {"access_token_lf=" + adminTok}})
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, idAdmin, r.obj(t)["username"])

		h := bearer(adminTok)
		h.Set("Cookie", "access_token_lf=garbage")
		r = s.do(t, http.MethodGet, whoami, nil, h)
		require.Equal(t, http.StatusOK, r.status, "Bearer wins over a bad cookie: %s", r.raw)

		r = s.do(t, http.MethodGet, whoami, nil, http.Header{"Cookie": {"access_token_lf=garbage"}})
		requireDetail(t, r, http.StatusUnauthorized, "Could not validate credentials")
	})

	t.Run("revoked_api_key", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, bearer(adminTok))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		key, _ := r.obj(t)["api_key"].(string)
		keyID, _ := r.obj(t)["id"].(string)
		require.NotEmpty(t, key)
		require.NotEmpty(t, keyID)

		r = s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}})
		require.Equal(t, http.StatusOK, r.status, "header: %s", r.raw)
		assert.Equal(t, idAdmin, r.obj(t)["username"])
		r = s.do(t, http.MethodGet, whoami+"?x-api-key="+url.QueryEscape(key), nil, nil)
		require.Equal(t, http.StatusOK, r.status, "query: %s", r.raw)

		r = s.do(t, http.MethodDelete, "/api/v1/api_key/"+keyID, nil, bearer(adminTok))
		requireDetail(t, r, http.StatusOK, "API Key deleted")

		r = s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}})
		requireDetail(t, r, http.StatusForbidden, "Invalid or missing API key")
		r = s.do(t, http.MethodGet, whoami+"?x-api-key="+url.QueryEscape(key), nil, nil)
		requireDetail(t, r, http.StatusForbidden, "Invalid or missing API key")
	})

	// newUserWithKey adds an active user, logs it in and gives it an API key.
	newUserWithKey := func(t *testing.T, name string) (id int64, token, key string) {
		t.Helper()
		id = s.addUser(t, adminTok, name, name+"-password")
		token = s.login(t, name, name+"-password").access
		r := s.do(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, bearer(token))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		key, _ = r.obj(t)["api_key"].(string)
		require.NotEmpty(t, key)
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami, nil, bearer(token)).status)
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}}).status)
		return id, token, key
	}

	t.Run("locked_user", func(t *testing.T) {
		id, token, key := newUserWithKey(t, "lockme")
		r := s.do(t, http.MethodPatch, userPath(id), map[string]any{"is_locked": true}, bearer(adminTok))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.obj(t)["is_locked"])

		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(token)), http.StatusUnauthorized, "User is locked.")
		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}}), http.StatusUnauthorized, "User is locked.")
		requireDetail(t, s.loginReply(t, "lockme", "lockme-password"), http.StatusUnauthorized, "Incorrect username or password")
	})

	t.Run("inactive_user", func(t *testing.T) {
		id, token, key := newUserWithKey(t, "sleeper")
		r := s.do(t, http.MethodPatch, userPath(id), map[string]any{"is_active": false}, bearer(adminTok))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, false, r.obj(t)["is_active"])

		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(token)), http.StatusUnauthorized, "User not found or is inactive.")
		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}}), http.StatusUnauthorized, "Inactive user")
	})

	t.Run("superuser_only_route", func(t *testing.T) {
		s.addUser(t, adminTok, "plain", "plain-password")
		token := s.login(t, "plain", "plain-password").access
		r := s.do(t, http.MethodGet, "/api/v1/users/", nil, bearer(token))
		requireForbidden(t, r)
	})
}

func TestIdentity_SignUpActive(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	row := s.signUp(t, "alice", "alice-password")
	assert.Equal(t, true, row["is_active"])
	assert.Equal(t, false, row["is_superuser"])
	assert.Equal(t, "alice", row["username"])
	tk := s.login(t, "alice", "alice-password")
	r := s.do(t, http.MethodGet, whoami, nil, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, row["id"], r.obj(t)["id"])
}

func TestIdentity_SignUpInactiveAndValidation(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, nil) // SKILLFLAW_NEW_USER_IS_ACTIVE defaults to false
	row := s.signUp(t, "Alice", "alice-password")
	assert.Equal(t, false, row["is_active"])
	requireDetail(t, s.loginReply(t, "Alice", "alice-password"), http.StatusBadRequest, "Waiting for approval")
	requireDetail(t, s.loginReply(t, "Alice", "wrong-password"), http.StatusUnauthorized, "Incorrect username or password")

	for _, name := range []string{"Alice", "alice", "ALICE"} {
		r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": name, "password": "other-password"}, nil)
		requireDetail(t, r, http.StatusBadRequest, "This username is unavailable.", name)
	}

	r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "shorty", "password": "1234567"}, nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok := r.detail().([]any)
	require.True(t, ok, "detail is a list: %s", r.raw)
	require.NotEmpty(t, items)
	assert.Contains(t, r.raw, "password")

	r = s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"password": "long-enough-password"}, nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	items, ok = r.detail().([]any)
	require.True(t, ok, "detail is a list: %s", r.raw)
	require.Len(t, items, 1, r.raw)
	item := items[0].(map[string]any)
	assert.Equal(t, "missing", item["type"])
	assert.Equal(t, []any{"body", "username"}, item["loc"])

	// Nothing of the refused sign-ups was created.
	admin := s.admin(t)
	list := s.do(t, http.MethodGet, "/api/v1/users/", nil, bearer(admin))
	require.Equal(t, http.StatusOK, list.status, list.raw)
	assert.Equal(t, float64(2), list.obj(t)["total_count"], list.raw)
}

func TestIdentity_SignUpDisabled(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_ENABLE_SIGNUP": "false"})
	r := s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "bob", "password": "bob-password"}, nil)
	requireDetail(t, r, http.StatusForbidden, "Public user registration is disabled.")

	r = s.do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "bob", "password": "bob-password"}, bearer(s.admin(t)))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, "bob", r.obj(t)["username"])
}

func TestIdentity_UserPermissions(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	admin := s.admin(t)
	bobID := idOf(t, s.signUp(t, "bob", "bob-password"))
	carolID := idOf(t, s.signUp(t, "carol", "carol-password"))
	bob := s.login(t, "bob", "bob-password").access
	carol := s.login(t, "carol", "carol-password").access

	t.Run("others_are_off_limits", func(t *testing.T) {
		requireDetail(t, s.do(t, http.MethodPatch, userPath(carolID), map[string]any{"nickname": "x"}, bearer(bob)),
			http.StatusForbidden, "Permission denied")
		requireDetail(t, s.do(t, http.MethodDelete, userPath(carolID), nil, bearer(bob)),
			http.StatusForbidden, "The user doesn't have enough privileges")
		r := s.do(t, http.MethodPatch, userPath(carolID)+"/reset-password", map[string]any{"password": "hijacked-password"}, bearer(bob))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		requireDetail(t, s.do(t, http.MethodGet, "/api/v1/users/", nil, bearer(bob)),
			http.StatusForbidden, "The user doesn't have enough privileges")
		// carol is untouched.
		s.login(t, "carol", "carol-password")
		r = s.do(t, http.MethodGet, whoami, nil, bearer(carol))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "", r.obj(t)["nickname"])
	})

	t.Run("own_profile", func(t *testing.T) {
		r := s.do(t, http.MethodPatch, userPath(bobID), map[string]any{
			"nickname": "Bobby", "email": "bob@example.com", "password": "bob-new-password",
		}, bearer(bob))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "Bobby", r.obj(t)["nickname"])
		assert.Equal(t, "bob@example.com", r.obj(t)["email"])
		requireDetail(t, s.loginReply(t, "bob", "bob-password"), http.StatusUnauthorized, "Incorrect username or password")
		bob = s.login(t, "bob", "bob-new-password").access
	})

	t.Run("own_account_flags", func(t *testing.T) {
		for _, body := range []map[string]any{{"is_superuser": true}, {"is_locked": true}} {
			requireDetail(t, s.do(t, http.MethodPatch, userPath(bobID), body, bearer(bob)),
				http.StatusForbidden, "Permission denied", body)
		}
		// Deactivating oneself is refused too (with its own message).
		r := s.do(t, http.MethodPatch, userPath(bobID), map[string]any{"is_active": false}, bearer(bob))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		assert.Contains(t, []any{"Permission denied", "You can't deactivate your own user account"}, r.detail())

		// Sending the current values back changes nothing and is allowed.
		r = s.do(t, http.MethodPatch, userPath(bobID), map[string]any{
			"is_superuser": false, "is_active": true, "is_locked": false, "nickname": "Bobby",
		}, bearer(bob))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		row := r.obj(t)
		assert.Equal(t, false, row["is_superuser"])
		assert.Equal(t, true, row["is_active"])
		assert.Equal(t, false, row["is_locked"])
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami, nil, bearer(bob)).status)
	})

	t.Run("superuser_manages_others", func(t *testing.T) {
		r := s.do(t, http.MethodPatch, userPath(carolID), map[string]any{"nickname": "Caroline"}, bearer(admin))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		assert.Equal(t, "Caroline", r.obj(t)["nickname"])

		requireDetail(t, s.do(t, http.MethodDelete, userPath(carolID), nil, bearer(admin)), http.StatusOK, "User deleted")
		requireDetail(t, s.do(t, http.MethodGet, whoami, nil, bearer(carol)), http.StatusUnauthorized, "User not found or is inactive.")
		requireDetail(t, s.loginReply(t, "carol", "carol-password"), http.StatusUnauthorized, "Incorrect username or password")
		requireDetail(t, s.do(t, http.MethodDelete, userPath(carolID), nil, bearer(admin)), http.StatusNotFound, "User not found")
		requireDetail(t, s.do(t, http.MethodPatch, userPath(carolID), map[string]any{"nickname": "ghost"}, bearer(admin)),
			http.StatusNotFound, "User not found")

		again := s.signUp(t, "carol", "carol-password-2")
		assert.NotEqual(t, carolID, idOf(t, again))
		s.login(t, "carol", "carol-password-2")
	})

	t.Run("superuser_guards", func(t *testing.T) {
		me := s.do(t, http.MethodGet, whoami, nil, bearer(admin))
		require.Equal(t, http.StatusOK, me.status, me.raw)
		adminID := idOf(t, me.obj(t))
		requireDetail(t, s.do(t, http.MethodDelete, userPath(adminID), nil, bearer(admin)),
			http.StatusBadRequest, "You can't delete your own user account")
		r := s.do(t, http.MethodPatch, userPath(adminID), map[string]any{"is_superuser": false}, bearer(admin))
		require.Equal(t, http.StatusConflict, r.status, r.raw)
		r = s.do(t, http.MethodGet, whoami, nil, bearer(admin))
		assert.Equal(t, true, r.obj(t)["is_superuser"])

		requireDetail(t, s.do(t, http.MethodPatch, "/api/v1/users/999999", map[string]any{"nickname": "x"}, bearer(admin)),
			http.StatusNotFound, "User not found")
		requireDetail(t, s.do(t, http.MethodDelete, "/api/v1/users/999999", nil, bearer(admin)), http.StatusNotFound, "User not found")
		for _, method := range []string{http.MethodPatch, http.MethodDelete} {
			r := s.do(t, method, "/api/v1/users/abc", map[string]any{"nickname": "x"}, bearer(admin))
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", method, r.raw)
			_, isList := r.detail().([]any)
			assert.True(t, isList, r.raw)
		}
	})
}

func TestIdentity_ResetPassword(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	id := idOf(t, s.signUp(t, "erin", "erin-password"))
	erin := s.login(t, "erin", "erin-password").access
	path := userPath(id) + "/reset-password"

	requireDetail(t, s.do(t, http.MethodPatch, path, map[string]any{"password": "erin-password"}, bearer(erin)),
		http.StatusBadRequest, "You can't use your current password")
	s.login(t, "erin", "erin-password")

	r := s.do(t, http.MethodPatch, path, map[string]any{"password": "erin-password-2"}, bearer(erin))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, false, r.obj(t)["reset_passwd"])
	s.login(t, "erin", "erin-password-2")
	requireDetail(t, s.loginReply(t, "erin", "erin-password"), http.StatusUnauthorized, "Incorrect username or password")

	// A superuser resets it for her: she must change it again.
	r = s.do(t, http.MethodPatch, path, map[string]any{"password": "erin-password-3"}, bearer(s.admin(t)))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, true, r.obj(t)["reset_passwd"])
	s.login(t, "erin", "erin-password-3")
	requireDetail(t, s.loginReply(t, "erin", "erin-password-2"), http.StatusUnauthorized, "Incorrect username or password")
}

// listRow is the part of a users-list row the sorting and filtering tests
// compare.
type listRow struct {
	id                               int64
	username, nickname, email, mobil string
	isSSO, isActive, isLocked        bool
}

func TestIdentity_UsersList(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, nil)
	admin := s.admin(t)
	// Letters and digits only, so that PostgreSQL's collation (C or a
	// locale's) orders them as Go does; nickname, email and mobile are
	// sorted as they are, username case-insensitively.
	seed := []struct {
		username, nickname, email, mobile string
		sso, inactive, locked             bool
	}{
		{"Echo1", "kilo", "papa@example.org", "5550003", true, false, false},
		{"delta2", "lima", "quebec@example.org", "5550001", false, true, false},
		{"Alpha3", "juliet", "romeo@example.org", "5550005", false, false, false},
		{"charlie4", "mike", "sierra@example.org", "5550002", false, false, true},
		{"Bravo5", "hotel", "tango@example.org", "5550004", true, false, false},
		{"foxtrot6", "india", "uniform@example.org", "5550006", false, true, false},
	}
	idByName := map[string]int64{}
	for _, u := range seed {
		id := s.addUser(t, admin, u.username, u.username+"-password")
		idByName[u.username] = id
		r := s.do(t, http.MethodPatch, userPath(id), map[string]any{
			"nickname": u.nickname, "email": u.email, "mobile": u.mobile, "is_sso": u.sso,
			"is_active": !u.inactive, "is_locked": u.locked,
		}, bearer(admin))
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}

	list := func(t *testing.T, query string) (int64, []listRow) {
		t.Helper()
		r := s.do(t, http.MethodGet, "/api/v1/users/?"+query, nil, bearer(admin))
		require.Equal(t, http.StatusOK, r.status, "%s: %s", query, r.raw)
		body := r.obj(t)
		var rows []listRow
		for _, raw := range body["users"].([]any) {
			u := raw.(map[string]any)
			rows = append(rows, listRow{
				id: idOf(t, u), username: u["username"].(string), nickname: u["nickname"].(string),
				email: u["email"].(string), mobil: u["mobile"].(string),
				isSSO: u["is_sso"].(bool), isActive: u["is_active"].(bool), isLocked: u["is_locked"].(bool),
			})
		}
		return int64(body["total_count"].(float64)), rows
	}
	names := func(rows []listRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.username
		}
		slices.Sort(out)
		return out
	}
	ids := func(rows []listRow) []int64 {
		out := make([]int64, len(rows))
		for i, r := range rows {
			out[i] = r.id
		}
		return out
	}

	total, all := list(t, "limit=100&sort_by=id&sort_order=asc")
	require.EqualValues(t, 7, total)
	require.Len(t, all, 7)
	for _, u := range seed {
		i := slices.IndexFunc(all, func(r listRow) bool { return r.id == idByName[u.username] })
		require.GreaterOrEqual(t, i, 0, u.username)
		assert.Equal(t, listRow{id: idByName[u.username], username: u.username, nickname: u.nickname, email: u.email,
			mobil: u.mobile, isSSO: u.sso, isActive: !u.inactive, isLocked: u.locked}, all[i])
	}

	t.Run("search", func(t *testing.T) {
		for _, tc := range []struct {
			search string
			want   []string
		}{
			{"ALPHA", []string{"Alpha3"}},     // username
			{"JuLi", []string{"Alpha3"}},      // nickname
			{"SIERRA@", []string{"charlie4"}}, // email
			{"0004", []string{"Bravo5"}},      // mobile
			{"EXAMPLE.ORG", []string{"Alpha3", "Bravo5", "Echo1", "charlie4", "delta2", "foxtrot6"}},
			{"%", nil}, // LIKE wildcards are literal
			{"_", nil},
			{"nothing-matches", nil},
		} {
			total, rows := list(t, "limit=100&search="+url.QueryEscape(tc.search))
			assert.Equal(t, tc.want, nilIfEmpty(names(rows)), "search %q", tc.search)
			assert.EqualValues(t, len(tc.want), total, "search %q", tc.search)
		}
	})

	t.Run("filters", func(t *testing.T) {
		total, rows := list(t, "limit=100&is_active=false")
		assert.Equal(t, []string{"delta2", "foxtrot6"}, names(rows))
		assert.EqualValues(t, 2, total)
		total, rows = list(t, "limit=100&is_active=true")
		assert.Equal(t, []string{"Alpha3", "Bravo5", "Echo1", idAdmin, "charlie4"}, names(rows))
		assert.EqualValues(t, 5, total)
		total, rows = list(t, "limit=100&is_locked=true")
		assert.Equal(t, []string{"charlie4"}, names(rows))
		assert.EqualValues(t, 1, total)
		total, rows = list(t, "limit=100&is_locked=false&is_active=true")
		assert.Equal(t, []string{"Alpha3", "Bravo5", "Echo1", idAdmin}, names(rows))
		assert.EqualValues(t, 4, total)
		total, rows = list(t, "limit=100&is_active=true&search=example")
		assert.Equal(t, []string{"Alpha3", "Bravo5", "Echo1", "charlie4"}, names(rows))
		assert.EqualValues(t, 4, total)
	})

	t.Run("paging", func(t *testing.T) {
		total, rows := list(t, "skip=1&limit=2&sort_by=id&sort_order=asc")
		assert.EqualValues(t, 7, total, "total_count counts every match, not the page")
		assert.Equal(t, ids(all[1:3]), ids(rows))
		total, rows = list(t, "skip=6&limit=10&sort_by=id&sort_order=asc")
		assert.EqualValues(t, 7, total)
		assert.Equal(t, ids(all[6:]), ids(rows))
		total, rows = list(t, "skip=50")
		assert.EqualValues(t, 7, total)
		assert.Empty(t, rows)
	})

	t.Run("default_order_is_id_desc", func(t *testing.T) {
		_, rows := list(t, "")
		want := ids(all)
		slices.Reverse(want)
		assert.Equal(t, want, ids(rows))
	})

	t.Run("sort", func(t *testing.T) {
		keys := map[string]func(a, b listRow) int{
			"id": func(a, b listRow) int { return cmp.Compare(a.id, b.id) },
			"username": func(a, b listRow) int {
				return strings.Compare(strings.ToLower(a.username), strings.ToLower(b.username))
			},
			"nickname": func(a, b listRow) int { return strings.Compare(a.nickname, b.nickname) },
			"is_sso":   func(a, b listRow) int { return cmp.Compare(boolInt(a.isSSO), boolInt(b.isSSO)) },
			"mobile":   func(a, b listRow) int { return strings.Compare(a.mobil, b.mobil) },
			"email":    func(a, b listRow) int { return strings.Compare(a.email, b.email) },
		}
		for key, compare := range keys {
			for _, order := range []string{"asc", "desc"} {
				want := slices.Clone(all)
				slices.SortFunc(want, func(a, b listRow) int {
					c := cmp.Or(compare(a, b), cmp.Compare(a.id, b.id)) // ties: id, same direction
					if order == "desc" {
						c = -c
					}
					return c
				})
				_, rows := list(t, "limit=100&sort_by="+key+"&sort_order="+order)
				assert.Equal(t, ids(want), ids(rows), "sort_by=%s sort_order=%s", key, order)
			}
		}
	})

	t.Run("invalid_sort", func(t *testing.T) {
		for _, q := range []string{"sort_by=password", "sort_by=is_superuser", "sort_order=up", "limit=0", "skip=-1"} {
			r := s.do(t, http.MethodGet, "/api/v1/users/?"+q, nil, bearer(admin))
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q, r.raw)
			_, isList := r.detail().([]any)
			assert.True(t, isList, r.raw)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestIdentity_Tokens(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, nil)
	tk := s.login(t, idAdmin, idAdminPassword)
	require.NotEmpty(t, tk.refresh)
	assert.Equal(t, "bearer", tk.reply.obj(t)["token_type"])

	access := tk.reply.cookie("access_token_lf")
	require.NotNil(t, access, "access_token_lf cookie")
	assert.Equal(t, tk.access, access.Value)
	refresh := tk.reply.cookie("refresh_token_lf")
	require.NotNil(t, refresh, "refresh_token_lf cookie")
	assert.Equal(t, tk.refresh, refresh.Value)
	assert.True(t, refresh.HttpOnly, "refresh_token_lf is HttpOnly")
	assert.True(t, refresh.Secure, "refresh_token_lf is Secure")
	assert.Equal(t, http.SameSiteStrictMode, refresh.SameSite, "refresh_token_lf is SameSite=Strict")
	assert.Equal(t, "/api/v1/refresh", refresh.Path, "refresh_token_lf goes only to the refresh")
	assert.Equal(t, http.SameSiteLaxMode, access.SameSite, "access_token_lf is SameSite=Lax")
	assert.Equal(t, "/", access.Path)
	assert.Positive(t, refresh.MaxAge)
	require.NotNil(t, tk.reply.cookie("apikey_tkn_lflw"), "apikey_tkn_lflw cookie")

	r := s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	newAccess, _ := r.obj(t)["access_token"].(string)
	newRefresh, _ := r.obj(t)["refresh_token"].(string)
	require.NotEmpty(t, newAccess)
	require.NotEmpty(t, newRefresh)
	require.NotNil(t, r.cookie("refresh_token_lf"))
	assert.Equal(t, newRefresh, r.cookie("refresh_token_lf").Value)
	require.NotNil(t, r.cookie("access_token_lf"))
	assert.Equal(t, newAccess, r.cookie("access_token_lf").Value)
	me := s.do(t, http.MethodGet, whoami, nil, bearer(newAccess))
	require.Equal(t, http.StatusOK, me.status, me.raw)
	assert.Equal(t, idAdmin, me.obj(t)["username"])

	requireDetail(t, s.do(t, http.MethodPost, "/api/v1/refresh", nil, nil), http.StatusUnauthorized, "Invalid refresh token")
	requireDetail(t, s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=garbage"}}),
		http.StatusUnauthorized, "Invalid refresh token")

	r = s.do(t, http.MethodPost, "/api/v1/logout", nil, http.Header{"Cookie": {"access_token_lf=" + tk.access}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"message": "Logout successful"}, r.body)
	setCookies := r.res.Header.Values("Set-Cookie")
	for _, name := range []string{"access_token_lf", "refresh_token_lf", "apikey_tkn_lflw"} {
		i := slices.IndexFunc(setCookies, func(c string) bool { return strings.HasPrefix(c, name+"=") })
		require.GreaterOrEqual(t, i, 0, "logout clears %s: %v", name, setCookies)
		assert.Contains(t, setCookies[i], "Max-Age=0", name)
		assert.True(t, strings.HasPrefix(setCookies[i], name+"=;"), "%s is emptied: %s", name, setCookies[i])
	}

	r = s.do(t, http.MethodGet, "/api/v1/auto_login", nil, nil)
	requireDetail(t, r, http.StatusBadRequest, map[string]any{
		"message": "Auto login is disabled. Please enable it in the settings", "auto_login": false,
	})
}

func TestIdentity_AutoLogin(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_AUTO_LOGIN": "true"})
	r := s.do(t, http.MethodGet, "/api/v1/auto_login", nil, nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	body := r.obj(t)
	require.Contains(t, body, "refresh_token")
	assert.Nil(t, body["refresh_token"])
	assert.Equal(t, "bearer", body["token_type"])
	token, _ := body["access_token"].(string)
	require.NotEmpty(t, token)
	require.NotNil(t, r.cookie("access_token_lf"))
	assert.Equal(t, token, r.cookie("access_token_lf").Value)

	me := s.do(t, http.MethodGet, whoami, nil, bearer(token))
	require.Equal(t, http.StatusOK, me.status, me.raw)
	assert.Equal(t, idAdmin, me.obj(t)["username"])
	assert.Equal(t, true, me.obj(t)["is_superuser"])
}

// The generated signing key lives in the database: a restart (or another
// node) accepts the tokens issued before.
func TestIdentity_RestartKeepsTokens(t *testing.T) {
	t.Parallel()
	first := startIdentity(t, nil)
	tk := first.login(t, idAdmin, idAdminPassword)
	require.Equal(t, http.StatusOK, first.do(t, http.MethodGet, whoami, nil, bearer(tk.access)).status)
	first.stop()

	second := startIdentity(t, nil, options{dbURL: first.dbURL})
	me := second.do(t, http.MethodGet, whoami, nil, bearer(tk.access))
	require.Equal(t, http.StatusOK, me.status, me.raw)
	assert.Equal(t, idAdmin, me.obj(t)["username"])

	r := second.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	require.Equal(t, http.StatusOK, r.status, r.raw)
	access, _ := r.obj(t)["access_token"].(string)
	require.Equal(t, http.StatusOK, second.do(t, http.MethodGet, whoami, nil, bearer(access)).status)

	// The bootstrap found the superuser and did not create another.
	list := second.do(t, http.MethodGet, "/api/v1/users/", nil, bearer(access))
	require.Equal(t, http.StatusOK, list.status, list.raw)
	assert.Equal(t, float64(1), list.obj(t)["total_count"])
}

func TestIdentity_WhoamiFields(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	before := time.Now().Add(-time.Minute)
	s.signUp(t, "frank", "frank-password")
	tk := s.login(t, "frank", "frank-password")
	r := s.do(t, http.MethodGet, whoami, nil, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	body := r.obj(t)

	want := []string{"id", "username", "nickname", "mobile", "email", "profile_image", "store_api_key", "reset_passwd",
		"is_active", "is_superuser", "is_locked", "is_sso", "create_at", "updated_at", "last_login_at", "optins"}
	got := make([]string, 0, len(body))
	for k := range body {
		got = append(got, k)
	}
	assert.ElementsMatch(t, want, got)

	assert.Equal(t, "frank", body["username"])
	for _, k := range []string{"nickname", "mobile", "email", "profile_image", "store_api_key"} {
		assert.Equal(t, "", body[k], k)
	}
	assert.Equal(t, false, body["reset_passwd"])
	assert.Equal(t, true, body["is_active"])
	assert.Equal(t, false, body["is_superuser"])
	assert.Equal(t, false, body["is_locked"])
	assert.Equal(t, false, body["is_sso"])
	assert.Equal(t, map[string]any{"github_starred": false, "dialog_dismissed": false, "discord_clicked": false}, body["optins"])
	for _, k := range []string{"create_at", "updated_at"} {
		ts, err := time.Parse(time.RFC3339Nano, body[k].(string))
		require.NoError(t, err, k)
		assert.True(t, ts.After(before), "%s %s", k, ts)
	}
	// last_login_at is set by the login, which does not wait for the read
	// model: null or a recent time.
	if v := body["last_login_at"]; v != nil {
		ts, err := time.Parse(time.RFC3339Nano, v.(string))
		require.NoError(t, err)
		assert.True(t, ts.After(before), ts)
	}
	assert.NotContains(t, r.raw, "password")
}

func TestIdentity_OpenAPI(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, nil)
	r := s.do(t, http.MethodGet, "/openapi.json", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	paths := r.obj(t)["paths"].(map[string]any)
	for path, methods := range map[string][]string{
		"/api/v1/users/":                         {"post", "get"},
		"/api/v1/users/whoami":                   {"get"},
		"/api/v1/users/{user_id}":                {"patch", "delete"},
		"/api/v1/users/{user_id}/reset-password": {"patch"},
		"/api/v1/login":                          {"post"},
		"/api/v1/auto_login":                     {"get"},
		"/api/v1/refresh":                        {"post"},
		"/api/v1/logout":                         {"post"},
		"/api/v1/api_key/":                       {"get", "post"},
		"/api/v1/api_key/{api_key_id}":           {"delete"},
	} {
		item, ok := paths[path].(map[string]any)
		if !assert.True(t, ok, "path %s is documented", path) {
			continue
		}
		for _, m := range methods {
			assert.Contains(t, item, m, "%s %s", strings.ToUpper(m), path)
		}
	}
}

// Passwords, API keys and tokens never reach the log, even at debug level.
func TestIdentity_SecretsNeverLogged(t *testing.T) {
	t.Parallel()
	var buf testkit.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true", "SKILLFLAW_LOG_LEVEL": "debug"},
		options{logger: log})

	const password = "Zq8-very-secret-password-Kx3"
	s.signUp(t, "grace", password)
	tk := s.login(t, "grace", password)
	r := s.do(t, http.MethodPost, "/api/v1/api_key/", map[string]any{"name": "k"}, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	key, _ := r.obj(t)["api_key"].(string)
	require.NotEmpty(t, key)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key}}).status)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami+"?x-api-key="+url.QueryEscape(key), nil, nil).status)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, whoami, nil, http.Header{"Cookie": {"access_token_lf=" + tk.access}}).status)
	ref := s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	require.Equal(t, http.StatusOK, ref.status, ref.raw)
	// Failures are logged too: a wrong password and a bad key.
	s.loginReply(t, "grace", password+"-wrong")
	s.do(t, http.MethodGet, whoami, nil, http.Header{"X-Api-Key": {key + "x"}})
	s.stop() // flush everything the shutdown logs

	logged := buf.String()
	require.Contains(t, logged, "/api/v1/login", "the logger is wired")
	for name, secret := range map[string]string{
		"password": password, "superuser password": idAdminPassword, "api key": key,
		"access token": tk.access, "refresh token": tk.refresh,
	} {
		assert.NotContains(t, logged, secret, "the %s is logged", name)
	}
}

// A login's answer is a usable token: the read model the Authenticator
// checks tokens against already shows the account. Here the projections
// are slow to catch up at start (1000 earlier events folded one per
// transaction), and the superuser logs in at once.
func TestIdentity_LoginTokenUsableAtOnce(t *testing.T) {
	t.Parallel()
	fill := func(t testing.TB, a *app.App) {
		d := a.Deps()
		ctx := context.Background()
		id, _, err := commands.RegisterUser(ctx, d.Repository, commands.NewSequences(d.Pool), auth.NewPasswords(4),
			commands.NewUser{Username: "filler", Password: "filler-password", IsActive: true}, eventstore.Metadata{OccurredAt: time.Now()})
		require.NoError(t, err)
		u := domain.LoadUser(id)
		require.NoError(t, d.Repository.Load(ctx, u))
		for i := range 1000 {
			nick := fmt.Sprintf("nick%d", i)
			_, err := u.ChangeProfile(domain.ProfileChange{Nickname: &nick})
			require.NoError(t, err)
		}
		_, err = d.Repository.Save(ctx, u, eventstore.Metadata{OccurredAt: time.Now()})
		require.NoError(t, err)
	}
	s := startIdentity(t, map[string]string{"SKILLFLAW_PROJECTION_BATCH_SIZE": "1"},
		options{beforeBootstrap: fill, noCatchUp: true})
	tk := s.login(t, idAdmin, idAdminPassword)
	// A route that needs the token only (whoami also reads the users read
	// model, which may still be catching up on a loaded machine).
	r := s.do(t, http.MethodGet, "/api/v1/api_key/", nil, bearer(tk.access))
	assert.Equal(t, http.StatusOK, r.status, "the token of a successful login is refused: %s", r.raw)
	r = s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	assert.Equal(t, http.StatusOK, r.status, "the refresh token of a successful login is refused: %s", r.raw)
}

// A token is usable even where the users read model does not show its
// account yet (a node behind the log): the account is folded from its
// stream. The row is taken out of the read model here, which is what such
// a node sees.
func TestIdentity_TokenUsableWhileReadModelLags(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, nil)
	tk := s.login(t, idAdmin, idAdminPassword)
	_, err := s.app.Pool().Exec(context.Background(), `DELETE FROM users WHERE username = $1`, idAdmin)
	require.NoError(t, err)
	r := s.do(t, http.MethodGet, "/api/v1/api_key/", nil, bearer(tk.access))
	require.Equal(t, http.StatusOK, r.status, "the token of an account the read model lacks: %s", r.raw)
	r = s.do(t, http.MethodPost, "/api/v1/refresh", nil, http.Header{"Cookie": {"refresh_token_lf=" + tk.refresh}})
	assert.Equal(t, http.StatusOK, r.status, "its refresh token: %s", r.raw)
}

// concurrently sends the n requests at once and counts the answers by
// "status detail".
func concurrently(t *testing.T, reqs []*http.Request) map[string]int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		replies = make([]reply, len(reqs))
		errs    = make([]error, len(reqs))
	)
	for i, req := range reqs {
		wg.Go(func() {
			<-start
			replies[i], errs[i] = exchange(req)
		})
	}
	close(start)
	wg.Wait()
	counts := map[string]int{}
	for i, r := range replies {
		require.NoError(t, errs[i])
		counts[fmt.Sprint(r.status, " ", r.detail())]++
	}
	return counts
}

// repeat builds n requests.
func repeat(n int, build func(i int) *http.Request) []*http.Request {
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = build(i)
	}
	return reqs
}

// Logins of one account at the same moment race on its stream (each
// records the login or the failure); every one still gets the answer its
// password deserves, up to the failed-login throttle.
func TestIdentity_ConcurrentLogins(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true", "SKILLFLAW_MAX_LOGIN_ATTEMPTS": "5"})
	s.signUp(t, "henry", "henry-password")
	s.signUp(t, "iris", "iris-password")
	const n = 30

	got := concurrently(t, repeat(n, func(int) *http.Request { return s.loginRequest(t, "henry", "henry-password") }))
	assert.Equal(t, map[string]int{"200 <nil>": n}, got, "right password, at once")

	// Parallel guesses get as many answers as five in a row would: the
	// rest are refused (and not counted) once the address is locked out.
	got = concurrently(t, repeat(n, func(int) *http.Request { return s.loginRequest(t, "iris", "wrong-password") }))
	assert.Equal(t, map[string]int{"401 Incorrect username or password": 5, "429 Too many failed logins. Try again later.": n - 5},
		got, "wrong password, at once")
	requireDetail(t, s.loginReply(t, "iris", "iris-password"), http.StatusTooManyRequests, "Too many failed logins. Try again later.",
		"five failures lock this address out of the account")
}

// Sign-ups race on the username's claim: one wins, the others are told the
// name is taken; different names never get in each other's way.
func TestIdentity_ConcurrentSignUps(t *testing.T) {
	t.Parallel()
	s := startIdentity(t, map[string]string{"SKILLFLAW_NEW_USER_IS_ACTIVE": "true"})
	const n = 20
	got := concurrently(t, repeat(n, func(i int) *http.Request {
		name := []string{"june", "June", "JUNE", "jUnE"}[i%4]
		return s.jsonRequest(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": name, "password": "june-password"}, nil)
	}))
	assert.Equal(t, map[string]int{"201 <nil>": 1, "400 This username is unavailable.": n - 1}, got)

	got = concurrently(t, repeat(n, func(i int) *http.Request {
		return s.jsonRequest(t, http.MethodPost, "/api/v1/users/",
			map[string]any{"username": fmt.Sprintf("user%02d", i), "password": "user-password"}, nil)
	}))
	assert.Equal(t, map[string]int{"201 <nil>": n}, got)

	admin := s.admin(t)
	r := s.do(t, http.MethodGet, "/api/v1/users/?limit=100", nil, bearer(admin))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, float64(n+2), r.obj(t)["total_count"])
	seen := map[float64]bool{}
	for _, u := range r.obj(t)["users"].([]any) {
		id := u.(map[string]any)["id"].(float64)
		assert.False(t, seen[id], "id %v twice", id)
		seen[id] = true
	}
}
