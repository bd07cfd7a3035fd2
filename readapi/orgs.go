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
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// OrgReadModels are the read models of orgs (the orgs table and the
// stored trees).
var OrgReadModels = []string{"orgs", "access"}

// OrgMemberReadModels are the read models org member operations read:
// members, and the users whose names they show.
var OrgMemberReadModels = []string{"orgs", "users", "access"}

// OrgRead is an org as the API shows it (the spec's org).
type OrgRead struct {
	domain.OrgState
	projections.Audited
}

// OrgTreeNode is an org of Read Org Tree: the org with its sub-orgs.
type OrgTreeNode struct {
	OrgRead
	Children []OrgTreeNode `json:"children"`
}

// OrgMemberRead is a member of an org as the API shows it (the spec's
// Patch Org Member answer), with the user's names (empty if the user was
// deleted since).
type OrgMemberRead struct {
	ID       int64     `json:"id"`
	TenantID uuid.UUID `json:"tenant_id"`
	OrgID    int64     `json:"org_id"`
	UID      int64     `json:"uid"`
	Username string    `json:"username"`
	Nickname string    `json:"nickname"`
	Position string    `json:"position"`
	Job      string    `json:"job"`
	IsLeader bool      `json:"is_leader"`
	CUID     int64     `json:"c_uid"`
	MUID     int64     `json:"m_uid"`
	CTime    time.Time `json:"ctime"`
	UTime    time.Time `json:"utime"`
}

// OrgUserRead is a row of Read Org User Search: a member with its org's
// name, code and level.
type OrgUserRead struct {
	OrgMemberRead
	OrgName  string  `json:"org_name"`
	OrgCode  *string `json:"org_code"`
	OrgLevel int     `json:"org_level"`
}

const orgColumns = `o.org_id, o.org_name, o.tenant_id, o.org_code, o.org_level, o.one_org_id, o.two_org_id, o.three_org_id,
    o.four_org_id, o.five_org_id, o.six_org_id, o.parent_org_id, o.is_enable, o.note, o.c_uid, o.m_uid, o.ctime, o.utime`

func scanOrg(row pgx.CollectableRow) (OrgRead, error) {
	var o OrgRead
	err := row.Scan(&o.OrgID, &o.OrgName, &o.TenantID, &o.OrgCode, &o.OrgLevel, &o.OneOrgID, &o.TwoOrgID, &o.ThreeOrgID,
		&o.FourOrgID, &o.FiveOrgID, &o.SixOrgID, &o.ParentOrgID, &o.IsEnable, &o.Note, &o.CUID, &o.MUID, &o.CTime, &o.UTime)
	o.InUTC()
	return o, err
}

const orgMemberColumns = `m.id, m.tenant_id, m.org_id, m.uid, coalesce(u.username, ''), coalesce(u.nickname, ''), m.position,
    m.job, m.is_leader, m.c_uid, m.m_uid, m.ctime, m.utime`

// orgMemberFrom joins members with their users.
const orgMemberFrom = ` FROM org_members m LEFT JOIN users u ON u.id = m.uid`

func orgMemberDest(m *OrgMemberRead) []any {
	return []any{&m.ID, &m.TenantID, &m.OrgID, &m.UID, &m.Username, &m.Nickname, &m.Position, &m.Job, &m.IsLeader,
		&m.CUID, &m.MUID, &m.CTime, &m.UTime}
}

func scanOrgMember(row pgx.CollectableRow) (OrgMemberRead, error) {
	var m OrgMemberRead
	err := row.Scan(orgMemberDest(&m)...)
	m.CTime, m.UTime = m.CTime.UTC(), m.UTime.UTC()
	return m, err
}

// OrgByID reads org id of tenant: 404 "Org not found" if the tenant has
// no such org.
func OrgByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (OrgRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE o.tenant_id = $1 AND o.org_id = $2`, tenant, id)
	o, err := pgx.CollectExactlyOneRow(rows, scanOrg)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, domain.NotFoundf(domain.MsgOrgNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("read org %d: %w", id, err)
	}
	return o, nil
}

// OrgMemberByID reads member id of an org of tenant: 404 "Org member not
// found" if there is none.
func OrgMemberByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (OrgMemberRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+orgMemberColumns+orgMemberFrom+` WHERE m.tenant_id = $1 AND m.id = $2`, tenant, id)
	m, err := pgx.CollectExactlyOneRow(rows, scanOrgMember)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, domain.NotFoundf(domain.MsgOrgMemberNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("read org member %d: %w", id, err)
	}
	return m, nil
}

// OrgMembersByIDs reads the members ids of tenant, ordered by id.
func OrgMembersByIDs(ctx context.Context, db DB, tenant uuid.UUID, ids []int64) ([]OrgMemberRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+orgMemberColumns+orgMemberFrom+` WHERE m.tenant_id = $1 AND m.id = ANY($2) ORDER BY m.id`,
		tenant, ids)
	return collectAll(rows, scanOrgMember, "read org members")
}

// OrgsQuery is the query string of Read Orgs and Read Org Tree.
type OrgsQuery struct {
	TenantID *uuid.UUID `form:"tenant-id"`
}

// ListOrgs lists tenant's orgs by org_id.
func ListOrgs(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID) ([]OrgRead, error) {
	rows, _ := pool.Query(ctx, `SELECT `+orgColumns+` FROM orgs o WHERE o.tenant_id = $1 ORDER BY o.org_id`, tenant)
	return collectAll(rows, scanOrg, "list orgs")
}

// OrgTree reads tenant's org tree as the projector stored it: the root
// orgs, each with its children, ordered by org_id at every level (an
// empty list for a tenant without orgs).
func OrgTree(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID) ([]OrgTreeNode, error) {
	var raw []byte
	err := pool.QueryRow(ctx, `SELECT tree FROM org_trees WHERE tenant_id = $1`, tenant).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return []OrgTreeNode{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read org tree: %w", err)
	}
	out := []OrgTreeNode{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode org tree: %w", err)
	}
	return out, nil
}

// OrgMembersQuery is the query string of Read Org Members.
type OrgMembersQuery struct {
	TenantID  *uuid.UUID `form:"tenant-id"`
	OrgID     *int64     `form:"org-id" binding:"required"`
	Search    string     `form:"search" binding:"max=255"`
	SortBy    string     `form:"sort_by,default=uid" binding:"oneof=uid username nickname position job is_leader"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// orgMemberSorts maps sort_by (of members and of the user search) to its
// ORDER BY expression.
var orgMemberSorts = map[string]string{
	"uid": "m.uid", "username": "lower(coalesce(u.username, ''))", "nickname": "lower(coalesce(u.nickname, ''))",
	"position": "lower(m.position)", "job": "lower(m.job)", "is_leader": "m.is_leader",
	"org_id": "m.org_id", "org_level": "o.org_level",
}

// ListOrgMembers lists the members of org q.OrgID of tenant (404 if the
// tenant has no such org): search is a case-insensitive substring of the
// username, nickname, position or job; ties of the sort column go by
// member id in the same direction.
func ListOrgMembers(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q OrgMembersQuery) ([]OrgMemberRead, error) {
	if _, err := OrgByID(ctx, pool, tenant, *q.OrgID); err != nil {
		return nil, err
	}
	var args sqlArgs
	where := []string{"m.tenant_id = " + args.add(tenant), "m.org_id = " + args.add(*q.OrgID)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "u.username", "u.nickname", "m.position", "m.job"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+orgMemberColumns+orgMemberFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+orgMemberSorts[q.SortBy]+` `+dir+`, m.id `+dir, args...)
	return collectAll(rows, scanOrgMember, "list org members")
}

// OrgCandidatesQuery is the query string of Read Org Member User
// Candidates.
type OrgCandidatesQuery struct {
	OrgID    *int64     `form:"org-id" binding:"required"`
	TenantID *uuid.UUID `form:"tenant-id"`
	Search   string     `form:"search" binding:"max=255"`
	Skip     int        `form:"skip,default=0" binding:"gte=0"`
	Limit    int        `form:"limit,default=200" binding:"gte=1,lte=500"`
}

// OrgCandidates lists the users who may join org q.OrgID of tenant (404
// if the tenant has no such org): active users who are not members of it
// yet, with UserCandidates' search (username, nickname, email, mobile),
// order (id) and item shape.
func OrgCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q OrgCandidatesQuery) (Candidates, error) {
	if _, err := OrgByID(ctx, pool, tenant, *q.OrgID); err != nil {
		return Candidates{Users: []UserCandidate{}}, err
	}
	return UserCandidates(ctx, pool, tenant, `EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = $1 AND m.uid = u.id)`,
		[]any{*q.OrgID}, q.Search, q.Skip, q.Limit)
}

// OrgUserSearchQuery is the query string of Read Org User Search.
type OrgUserSearchQuery struct {
	TenantID  *uuid.UUID `form:"tenant-id"`
	Search    string     `form:"search" binding:"max=255"`
	SortBy    string     `form:"sort_by,default=uid" binding:"oneof=uid username nickname org_id org_level position job is_leader"`
	SortOrder string     `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// OrgUserSearch lists the memberships of every org of tenant, each with
// its org's name, code and level: search is a case-insensitive substring
// of the username, nickname, position, job or org name; ties of the sort
// column go by org_id, then member id, in the same direction.
func OrgUserSearch(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q OrgUserSearchQuery) ([]OrgUserRead, error) {
	var args sqlArgs
	where := []string{"m.tenant_id = " + args.add(tenant)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "u.username", "u.nickname", "m.position", "m.job", "o.org_name"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+orgMemberColumns+`, o.org_name, o.org_code, o.org_level
FROM org_members m JOIN orgs o ON o.org_id = m.org_id LEFT JOIN users u ON u.id = m.uid
WHERE `+strings.Join(where, " AND ")+` ORDER BY `+orgMemberSorts[q.SortBy]+` `+dir+`, m.org_id `+dir+`, m.id `+dir, args...)
	return collectAll(rows, func(row pgx.CollectableRow) (OrgUserRead, error) {
		var r OrgUserRead
		err := row.Scan(append(orgMemberDest(&r.OrgMemberRead), &r.OrgName, &r.OrgCode, &r.OrgLevel)...)
		r.CTime, r.UTime = r.CTime.UTC(), r.UTime.UTC()
		return r, err
	}, "search org users")
}

// OrgTenantParam documents the optional tenant-id query parameter of org
// operations.
var OrgTenantParam = httpapi.Param{Name: "tenant-id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant,
	Description: "The tenant (default: the X-Tenant-Id header, else the system tenant)."}

// RegisterOrgReads registers the reads of organisations (#161, #163,
// #166, #168, #180): any authenticated user of an active tenant may read.
func RegisterOrgReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &orgReads{pool: pool}
	sortOrder := httpapi.Param{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}
	search := func(what string) httpapi.Param {
		return httpapi.Param{Name: "search", In: "query", Description: "Case-insensitive substring of " + what + "."}
	}
	orgID := httpapi.Param{Name: "org-id", In: "query", Type: "integer", Place: tenancy.PlaceOrg, Required: true, Description: "The org."}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/orgs", Access: access.Tenant("orgs", "read"), Tag: "Organization", Summary: "Read Orgs",
		Description: "The tenant's orgs, by org_id. one_org_id .. six_org_id are the org's ancestors by level (its own " +
			"id at its own level, 0 below it).",
		Params: []httpapi.Param{OrgTenantParam}, Response: []OrgRead{}, ReadModels: OrgReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/orgs/tree", Access: access.Tenant("orgs", "read"), Tag: "Organization", Summary: "Read Org Tree",
		Description: "The tenant's orgs as a tree: the root orgs, each with its children, ordered by org_id at every level.",
		Params:      []httpapi.Param{OrgTenantParam}, Response: []OrgTreeNode{}, ReadModels: OrgReadModels, Handler: h.tree})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/org-members", Access: access.Tenant("orgs", "read"), Tag: "Organization", Summary: "Read Org Members",
		Description: "The members of an org of the tenant (404 if it has none such), filtered by search (username, " +
			"nickname, position or job), ordered by sort_by (ties by id).",
		Params: []httpapi.Param{OrgTenantParam, orgID, search("the user's username or nickname, the position or the job"),
			{Name: "sort_by", In: "query", Default: "uid", Enum: []string{"uid", "username", "nickname", "position", "job", "is_leader"}},
			sortOrder},
		Response: []OrgMemberRead{}, ReadModels: OrgMemberReadModels, Handler: h.members})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/org-members/user-candidates", Access: access.Tenant("orgs", "read"), Tag: "Organization",
		Summary: "Read Org Member User Candidates",
		Description: "Active users who are not members of the org yet, by id, filtered by search (username, nickname, email or mobile): " +
			"total_count of them all and a page of users (skip, limit).",
		Params: []httpapi.Param{orgID, OrgTenantParam, search("the user's username, nickname, email or mobile"),
			{Name: "skip", In: "query", Type: "integer", Default: 0},
			{Name: "limit", In: "query", Type: "integer", Default: 200, Description: "1..500."}},
		Response: Candidates{}, ReadModels: OrgMemberReadModels, Handler: h.candidates})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/orgs/user-search", Access: access.Tenant("orgs", "read"), Tag: "Organization",
		Summary: "Read Org User Search",
		Description: "Every membership in the tenant's orgs (the member with its org's name, code and level), filtered by " +
			"search (username, nickname, position, job or org name), ordered by sort_by (ties by org_id, then id).",
		Params: []httpapi.Param{OrgTenantParam, search("the user's username or nickname, the position, the job or the org's name"),
			{Name: "sort_by", In: "query", Default: "uid",
				Enum: []string{"uid", "username", "nickname", "org_id", "org_level", "position", "job", "is_leader"}},
			sortOrder},
		Response: []OrgUserRead{}, ReadModels: OrgMemberReadModels, Handler: h.search})
}

type orgReads struct {
	pool *pgxpool.Pool
}

func (h *orgReads) list(c *gin.Context) {
	var q OrgsQuery
	tenantAnswer(c, h.pool, &q, func(q *OrgsQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]OrgRead, error) { return ListOrgs(ctx, h.pool, t) })
}

func (h *orgReads) tree(c *gin.Context) {
	var q OrgsQuery
	tenantAnswer(c, h.pool, &q, func(q *OrgsQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]OrgTreeNode, error) { return OrgTree(ctx, h.pool, t) })
}

func (h *orgReads) members(c *gin.Context) {
	var q OrgMembersQuery
	tenantAnswer(c, h.pool, &q, func(q *OrgMembersQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]OrgMemberRead, error) {
			return ListOrgMembers(ctx, h.pool, t, q)
		})
}

func (h *orgReads) candidates(c *gin.Context) {
	var q OrgCandidatesQuery
	tenantAnswer(c, h.pool, &q, func(q *OrgCandidatesQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) (Candidates, error) { return OrgCandidates(ctx, h.pool, t, q) })
}

func (h *orgReads) search(c *gin.Context) {
	var q OrgUserSearchQuery
	tenantAnswer(c, h.pool, &q, func(q *OrgUserSearchQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]OrgUserRead, error) { return OrgUserSearch(ctx, h.pool, t, q) })
}
