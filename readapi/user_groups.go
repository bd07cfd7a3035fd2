package readapi

import (
	"context"
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
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// UserGroupReadModels are the read models user group operations read:
// groups and members, and the users whose names members show.
var UserGroupReadModels = []string{"user_groups", "users", "access"}

// UserGroupRead is a user group as the API shows it.
type UserGroupRead struct {
	domain.UserGroupState
	projections.Audited
}

// UserGroupMemberRead is a member of a user group as the API shows it,
// with the user's names (empty if the user was deleted since).
type UserGroupMemberRead struct {
	ID       int64     `json:"id"`
	GroupID  int64     `json:"group_id"`
	UID      int64     `json:"uid"`
	Username string    `json:"username"`
	Nickname string    `json:"nickname"`
	IsLeader bool      `json:"is_leader"`
	CUID     int64     `json:"c_uid"`
	CTime    time.Time `json:"ctime"`
}

// UserGroupUserRead is a row of Read User Group User Search: a member (id)
// of a group with the group's and the user's names.
type UserGroupUserRead struct {
	ID        int64  `json:"id"`
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	UID       int64  `json:"uid"`
	Username  string `json:"username"`
	Nickname  string `json:"nickname"`
	IsLeader  bool   `json:"is_leader"`
}

const userGroupColumns = `g.group_id, g.group_name, g.tenant_id, g.is_enable, g.note, g.c_uid, g.m_uid, g.ctime, g.utime`

func scanUserGroup(row pgx.CollectableRow) (UserGroupRead, error) {
	var g UserGroupRead
	err := row.Scan(&g.GroupID, &g.GroupName, &g.TenantID, &g.IsEnable, &g.Note, &g.CUID, &g.MUID, &g.CTime, &g.UTime)
	g.InUTC()
	return g, err
}

const userGroupMemberColumns = `m.id, m.group_id, m.uid, coalesce(u.username, ''), coalesce(u.nickname, ''), m.is_leader, m.c_uid, m.ctime`

// userGroupMemberFrom joins members with their users.
const userGroupMemberFrom = ` FROM user_group_members m LEFT JOIN users u ON u.id = m.uid`

func scanUserGroupMember(row pgx.CollectableRow) (UserGroupMemberRead, error) {
	var m UserGroupMemberRead
	err := row.Scan(&m.ID, &m.GroupID, &m.UID, &m.Username, &m.Nickname, &m.IsLeader, &m.CUID, &m.CTime)
	m.CTime = m.CTime.UTC()
	return m, err
}

// UserGroupByID reads group id of tenant: 404 "User group not found" if
// the tenant has no such group.
func UserGroupByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (UserGroupRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+userGroupColumns+` FROM user_groups g WHERE g.tenant_id = $1 AND g.group_id = $2`, tenant, id)
	g, err := pgx.CollectExactlyOneRow(rows, scanUserGroup)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, domain.NotFoundf(domain.MsgUserGroupNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("read user group %d: %w", id, err)
	}
	return g, nil
}

// UserGroupMemberByID reads member id of a group of tenant: 404 "User
// group member not found" if there is none.
func UserGroupMemberByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (UserGroupMemberRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+userGroupMemberColumns+userGroupMemberFrom+` WHERE m.tenant_id = $1 AND m.id = $2`, tenant, id)
	m, err := pgx.CollectExactlyOneRow(rows, scanUserGroupMember)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, domain.NotFoundf(domain.MsgUserGroupMemberNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("read user group member %d: %w", id, err)
	}
	return m, nil
}

// UserGroupsQuery is the query string of Read User Groups.
type UserGroupsQuery struct {
	TenantID  *uuid.UUID `form:"tenant-id"`
	Search    string     `form:"search" binding:"max=255"`
	IsEnable  *bool      `form:"is-enable"`
	SortBy    string     `form:"sort_by,default=group_id" binding:"oneof=group_id group_name is_enable"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var userGroupSorts = map[string]string{"group_id": "g.group_id", "group_name": "lower(g.group_name)", "is_enable": "g.is_enable"}

// ListUserGroups lists tenant's groups: search is a case-insensitive
// substring of the name; ties of the sort column go by group_id in the
// same direction.
func ListUserGroups(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q UserGroupsQuery) ([]UserGroupRead, error) {
	var args sqlArgs
	where := []string{"g.tenant_id = " + args.add(tenant)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "g.group_name"))
	}
	if q.IsEnable != nil {
		where = append(where, "g.is_enable = "+args.add(*q.IsEnable))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+userGroupColumns+` FROM user_groups g WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+userGroupSorts[q.SortBy]+` `+dir+`, g.group_id `+dir, args...)
	return collectAll(rows, scanUserGroup, "list user groups")
}

// UserGroupMembersQuery is the query string of Read User Group Members.
type UserGroupMembersQuery struct {
	GroupID   *int64     `form:"group-id" binding:"required"`
	TenantID  *uuid.UUID `form:"tenant-id"`
	Search    string     `form:"search" binding:"max=255"`
	IsLeader  *bool      `form:"is-leader"`
	SortBy    string     `form:"sort_by,default=id" binding:"oneof=id uid username nickname is_leader"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var userGroupMemberSorts = map[string]string{
	"id": "m.id", "uid": "m.uid", "username": "lower(coalesce(u.username, ''))",
	"nickname": "lower(coalesce(u.nickname, ''))", "is_leader": "m.is_leader",
}

// ListUserGroupMembers lists the members of group q.GroupID of tenant (404
// if the tenant has no such group): search is a case-insensitive
// substring of the username or nickname; ties of the sort column go by
// member id in the same direction.
func ListUserGroupMembers(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q UserGroupMembersQuery) ([]UserGroupMemberRead, error) {
	if _, err := UserGroupByID(ctx, pool, tenant, *q.GroupID); err != nil {
		return nil, err
	}
	var args sqlArgs
	where := []string{"m.tenant_id = " + args.add(tenant), "m.group_id = " + args.add(*q.GroupID)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "u.username", "u.nickname"))
	}
	if q.IsLeader != nil {
		where = append(where, "m.is_leader = "+args.add(*q.IsLeader))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+userGroupMemberColumns+userGroupMemberFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+userGroupMemberSorts[q.SortBy]+` `+dir+`, m.id `+dir, args...)
	return collectAll(rows, scanUserGroupMember, "list user group members")
}

// UserGroupCandidatesQuery is the query string of Read User Group Member
// User Candidates.
type UserGroupCandidatesQuery struct {
	GroupID  *int64     `form:"group-id" binding:"required"`
	TenantID *uuid.UUID `form:"tenant-id"`
	Search   string     `form:"search" binding:"max=255"`
	Skip     int        `form:"skip,default=0" binding:"gte=0"`
	Limit    int        `form:"limit,default=10" binding:"gte=1,lte=500"`
}

// UserGroupCandidates lists the users who may join group q.GroupID of
// tenant (404 if the tenant has no such group): active users who are not
// members of it yet, with UserCandidates' search (username, nickname,
// email, mobile), order (id) and item shape.
func UserGroupCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q UserGroupCandidatesQuery) (Candidates, error) {
	if _, err := UserGroupByID(ctx, pool, tenant, *q.GroupID); err != nil {
		return Candidates{Users: []UserCandidate{}}, err
	}
	return UserCandidates(ctx, pool, tenant, `EXISTS (SELECT 1 FROM user_group_members m WHERE m.group_id = $1 AND m.uid = u.id)`,
		[]any{*q.GroupID}, q.Search, q.Skip, q.Limit)
}

// UserGroupUserSearchQuery is the query string of Read User Group User
// Search.
type UserGroupUserSearchQuery struct {
	TenantID  *uuid.UUID `form:"tenant-id"`
	Search    string     `form:"search" binding:"max=255"`
	SortBy    string     `form:"sort_by,default=group_id" binding:"oneof=group_id group_name uid username nickname is_leader"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var userGroupUserSorts = map[string]string{
	"group_id": "m.group_id", "group_name": "lower(g.group_name)", "uid": "m.uid",
	"username": "lower(coalesce(u.username, ''))", "nickname": "lower(coalesce(u.nickname, ''))", "is_leader": "m.is_leader",
}

// UserGroupUserSearch lists the memberships of every group of tenant:
// search is a case-insensitive substring of the username or nickname;
// ties of the sort column go by group_id, then member id, in the same
// direction.
func UserGroupUserSearch(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q UserGroupUserSearchQuery) ([]UserGroupUserRead, error) {
	var args sqlArgs
	where := []string{"m.tenant_id = " + args.add(tenant)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "u.username", "u.nickname"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT m.id, m.group_id, g.group_name, m.uid, coalesce(u.username, ''), coalesce(u.nickname, ''), m.is_leader
FROM user_group_members m JOIN user_groups g ON g.group_id = m.group_id LEFT JOIN users u ON u.id = m.uid
WHERE `+strings.Join(where, " AND ")+` ORDER BY `+userGroupUserSorts[q.SortBy]+` `+dir+`, m.group_id `+dir+`, m.id `+dir, args...)
	return collectAll(rows, func(row pgx.CollectableRow) (UserGroupUserRead, error) {
		var r UserGroupUserRead
		err := row.Scan(&r.ID, &r.GroupID, &r.GroupName, &r.UID, &r.Username, &r.Nickname, &r.IsLeader)
		return r, err
	}, "search user group users")
}

// ugTenantParam documents the optional tenant-id query parameter.
var ugTenantParam = httpapi.Param{Name: "tenant-id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant,
	Description: "The tenant (default: the X-Tenant-Id header, else the system tenant)."}

// RegisterUserGroupReads registers the reads of user groups (#172, #176,
// #169, #181): any authenticated user of an active tenant may read.
func RegisterUserGroupReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &userGroupReads{pool: pool}
	sortOrder := httpapi.Param{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}
	search := func(what string) httpapi.Param {
		return httpapi.Param{Name: "search", In: "query", Description: "Case-insensitive substring of " + what + "."}
	}
	groupID := httpapi.Param{Name: "group-id", In: "query", Type: "integer", Place: tenancy.PlaceGroup, Required: true, Description: "The group."}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/user-groups", Access: access.Tenant("user_groups", "read"), Tag: "Organization", Summary: "Read User Groups",
		Description: "The tenant's user groups, filtered by search (the name) and is-enable, ordered by sort_by " +
			"(ties by group_id).",
		Params: []httpapi.Param{ugTenantParam, search("the group's name"),
			{Name: "is-enable", In: "query", Type: "boolean", Description: "Only enabled (true) or disabled (false) groups."},
			{Name: "sort_by", In: "query", Default: "group_id", Enum: []string{"group_id", "group_name", "is_enable"}}, sortOrder},
		Response: []UserGroupRead{}, ReadModels: UserGroupReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/user-group-members", Access: access.Tenant("user_groups", "read"), Tag: "Organization",
		Summary:     "Read User Group Members",
		Description: "The members of a group of the tenant (404 if it has none such), filtered by search (username or nickname) and is-leader, ordered by sort_by (ties by id).",
		Params: []httpapi.Param{groupID, ugTenantParam, search("the user's username or nickname"),
			{Name: "is-leader", In: "query", Type: "boolean", Description: "Only leaders (true) or other members (false)."},
			{Name: "sort_by", In: "query", Default: "id", Enum: []string{"id", "uid", "username", "nickname", "is_leader"}}, sortOrder},
		Response: []UserGroupMemberRead{}, ReadModels: UserGroupReadModels, Handler: h.members})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/user-group-members/user-candidates", Access: access.Tenant("user_groups", "read"), Tag: "Organization",
		Summary:     "Read User Group Member User Candidates",
		Description: "Active users who are not members of the group yet, by id, filtered by search (username, nickname, email or mobile): total_count of them all and a page of users (skip, limit).",
		Params: []httpapi.Param{groupID, ugTenantParam, search("the user's username, nickname, email or mobile"),
			{Name: "skip", In: "query", Type: "integer", Default: 0},
			{Name: "limit", In: "query", Type: "integer", Default: 10, Description: "1..500."}},
		Response: Candidates{}, ReadModels: UserGroupReadModels, Handler: h.candidates})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/user-groups/user-search", Access: access.Tenant("user_groups", "read"), Tag: "Organization",
		Summary:     "Read User Group User Search",
		Description: "Every membership in the tenant's groups (member id, group, user, is_leader), filtered by search (username or nickname), ordered by sort_by (ties by group_id, then id).",
		Params: []httpapi.Param{ugTenantParam, search("the user's username or nickname"),
			{Name: "sort_by", In: "query", Default: "group_id", Enum: []string{"group_id", "group_name", "uid", "username", "nickname", "is_leader"}},
			sortOrder},
		Response: []UserGroupUserRead{}, ReadModels: UserGroupReadModels, Handler: h.search})
}

type userGroupReads struct {
	pool *pgxpool.Pool
}

func (h *userGroupReads) list(c *gin.Context) {
	var q UserGroupsQuery
	tenantAnswer(c, h.pool, &q, func(q *UserGroupsQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]UserGroupRead, error) {
			return ListUserGroups(ctx, h.pool, t, q)
		})
}

func (h *userGroupReads) members(c *gin.Context) {
	var q UserGroupMembersQuery
	tenantAnswer(c, h.pool, &q, func(q *UserGroupMembersQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]UserGroupMemberRead, error) {
			return ListUserGroupMembers(ctx, h.pool, t, q)
		})
}

func (h *userGroupReads) candidates(c *gin.Context) {
	var q UserGroupCandidatesQuery
	tenantAnswer(c, h.pool, &q, func(q *UserGroupCandidatesQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) (Candidates, error) {
			return UserGroupCandidates(ctx, h.pool, t, q)
		})
}

func (h *userGroupReads) search(c *gin.Context) {
	var q UserGroupUserSearchQuery
	tenantAnswer(c, h.pool, &q, func(q *UserGroupUserSearchQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]UserGroupUserRead, error) {
			return UserGroupUserSearch(ctx, h.pool, t, q)
		})
}
