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
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// BusinessReadModels are the projections business operations read and
// wait for.
var BusinessReadModels = []string{"businesses", "access"}

// BusinessRead is a business as the API shows it (the spec's business
// response). first/second/third_business_id are the ids of its ancestors
// and of itself at each level, 0 below its own level (domain.BusinessTree).
type BusinessRead struct {
	domain.BusinessState
	projections.Audited
}

// BusinessNode is a business in Read Business Tree: the business and its
// sub-businesses (never null).
type BusinessNode struct {
	BusinessRead
	Children []BusinessNode `json:"children"`
}

const businessColumns = `tenant_id, business_name, business_level, first_business_id, second_business_id,
    third_business_id, is_enable, note, business_id, c_uid, m_uid, ctime, utime`

func scanBusiness(row pgx.CollectableRow) (BusinessRead, error) {
	var b BusinessRead
	err := row.Scan(&b.TenantID, &b.BusinessName, &b.BusinessLevel, &b.FirstBusinessID, &b.SecondBusinessID,
		&b.ThirdBusinessID, &b.IsEnable, &b.Note, &b.BusinessID, &b.CUID, &b.MUID, &b.CTime, &b.UTime)
	b.InUTC()
	return b, err
}

// BusinessByID reads business id, whatever its tenant: 404 "Business not
// found" if there is none.
func BusinessByID(ctx context.Context, db DB, id int64) (BusinessRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+businessColumns+` FROM businesses WHERE business_id = $1`, id)
	b, err := pgx.CollectExactlyOneRow(rows, scanBusiness)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, domain.NotFoundf(domain.MsgBusinessNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("read business %d: %w", id, err)
	}
	return b, nil
}

// VisibleBusiness reads business id for the request c, which names a
// business by id only. The business must be in the request's tenant
// (tenancy.Resolve: the X-Tenant-Id header, else the system tenant;
// disabled tenants are 403 for non-superusers); a business of another
// tenant is 404 "Business not found", exactly as one that does not exist,
// so nothing is learnt about other tenants. Superusers act in any tenant:
// without the header they reach every business. On failure it has
// answered and ok is false.
func VisibleBusiness(c *gin.Context, pool *pgxpool.Pool, id int64) (BusinessRead, bool) {
	ctx := c.Request.Context()
	caller, err := auth.Caller(ctx)
	if err != nil {
		httpapi.Fail(c, err)
		return BusinessRead{}, false
	}
	var want *uuid.UUID
	if !caller.IsSuperuser || c.GetHeader(tenancy.HeaderTenantID) != "" {
		t, ok := tenancy.Resolve(c, pool, nil)
		if !ok {
			return BusinessRead{}, false
		}
		want = &t.ID
	}
	b, err := BusinessByID(ctx, pool, id)
	if err == nil && want != nil && b.TenantID != *want {
		err = domain.NotFoundf(domain.MsgBusinessNotFound)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return BusinessRead{}, false
	}
	return b, true
}

// BusinessesQuery is the query of Read Businesses and Read Business Tree.
type BusinessesQuery struct {
	TenantID         *uuid.UUID `form:"tenant-id"`
	Level            int        `form:"level,default=0" binding:"gte=0,lte=3"`
	IsEnable         *bool      `form:"is-enable"`
	FirstBusinessID  *int64     `form:"first-business-id"`
	SecondBusinessID *int64     `form:"second-business-id"`
}

// matches tells whether b passes every filter of q (the tenant aside).
func (q BusinessesQuery) matches(b BusinessRead) bool {
	return (q.Level == 0 || b.BusinessLevel == q.Level) &&
		(q.IsEnable == nil || b.IsEnable == *q.IsEnable) &&
		(q.FirstBusinessID == nil || b.FirstBusinessID == *q.FirstBusinessID) &&
		(q.SecondBusinessID == nil || b.SecondBusinessID == *q.SecondBusinessID)
}

// ListBusinesses lists the businesses of tenant that pass q's filters, in
// the tree's order: depth first, siblings by id.
func ListBusinesses(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q BusinessesQuery) ([]BusinessRead, error) {
	var args sqlArgs
	conds := []string{"tenant_id = " + args.add(tenant)}
	if q.Level != 0 {
		conds = append(conds, "business_level = "+args.add(q.Level))
	}
	if q.IsEnable != nil {
		conds = append(conds, "is_enable = "+args.add(*q.IsEnable))
	}
	if q.FirstBusinessID != nil {
		conds = append(conds, "first_business_id = "+args.add(*q.FirstBusinessID))
	}
	if q.SecondBusinessID != nil {
		conds = append(conds, "second_business_id = "+args.add(*q.SecondBusinessID))
	}
	rows, _ := pool.Query(ctx, `SELECT `+businessColumns+` FROM businesses WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY first_business_id, second_business_id, third_business_id`, args...)
	return collectAll(rows, scanBusiness, "list businesses")
}

// BusinessTree returns the tree of tenant's businesses that the projector
// stored, keeping the nodes that pass q's filters and their ancestors.
func BusinessTree(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q BusinessesQuery) ([]BusinessNode, error) {
	var raw []byte
	err := pool.QueryRow(ctx, `SELECT tree FROM business_trees WHERE tenant_id = $1`, tenant).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return []BusinessNode{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read business tree of %s: %w", tenant, err)
	}
	var tree []BusinessNode
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("decode business tree of %s: %w", tenant, err)
	}
	return pruneBusinesses(tree, q), nil
}

// pruneBusinesses keeps the nodes that match q and the ancestors of those
// that do; children lists are never nil.
func pruneBusinesses(nodes []BusinessNode, q BusinessesQuery) []BusinessNode {
	out := []BusinessNode{}
	for _, n := range nodes {
		n.Children = pruneBusinesses(n.Children, q)
		if len(n.Children) > 0 || q.matches(n.BusinessRead) {
			n.InUTC()
			out = append(out, n)
		}
	}
	return out
}

// BusinessCandidatesQuery is the query of Read Business User Candidates.
type BusinessCandidatesQuery struct {
	Search string `form:"search" binding:"max=255"`
	Skip   int    `form:"skip,default=0" binding:"gte=0"`
	Limit  int    `form:"limit,default=10" binding:"gte=1,lte=1000"`
}

// ListBusinessCandidates lists the active users who are not users of
// business (business_users: users holding at least one business role
// there, Upsert Business User Roles): UserCandidates' search, order and
// item shape.
func ListBusinessCandidates(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, business int64, q BusinessCandidatesQuery) (Candidates, error) {
	return UserCandidates(ctx, pool, tenant, `EXISTS (SELECT 1 FROM business_users m WHERE m.business_id = $1 AND m.uid = u.id)`,
		[]any{business}, q.Search, q.Skip, q.Limit)
}

// BusinessResourceTypes are the values of resource-type.
var BusinessResourceTypes = []string{"flow", "project", "variable", "component", "skill", "mcp", "plugin", "knowledge_base"}

// BusinessResourcesQuery is the query of Read Business Resources.
type BusinessResourcesQuery struct {
	ResourceType string `form:"resource-type,default=flow" binding:"oneof=flow project variable component skill mcp plugin knowledge_base"`
	Search       string `form:"search" binding:"max=255"`
	SortBy       string `form:"sort-by,default=id" binding:"oneof=id name"`
	SortOrder    string `form:"sort-order,default=asc" binding:"oneof=asc desc"`
}

// ListBusinessResources lists the resources of business b of one type, as
// caller may see them:
//
//   - flow: its flows (FlowRead), component: its components (flows with
//     is_component), project: its projects (ProjectRead) — not deleted,
//     with business_id b and in b's tenant (or in none: made before
//     tenancy). Until RBAC, superusers see everyone's, other users their
//     own (who sees a flow or a project is unchanged by its business).
//   - variable, skill, mcp, plugin, knowledge_base: not served yet, so [].
//
// search is a case-insensitive substring of the name; sort-by id or name
// (case-insensitive), ties by id, in sort-order.
func ListBusinessResources(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, b BusinessRead, q BusinessResourcesQuery) (any, error) {
	dir := direction(q.SortOrder)
	filter := func(a string) (where, order string, args sqlArgs) {
		args = sqlArgs{b.BusinessID, b.TenantID}
		where = fmt.Sprintf(` WHERE %[1]s.business_id = $1 AND (%[1]s.tenant_id IS NULL OR %[1]s.tenant_id = $2)
    AND NOT %[1]s.is_deleted`, a)
		if !caller.IsSuperuser {
			where += ` AND ` + a + `.user_id = ` + args.add(caller.UserID)
		}
		if q.Search != "" {
			where += ` AND ` + searchAny(&args, q.Search, a+".name")
		}
		order = fmt.Sprintf(` ORDER BY %[1]s.id %[2]s`, a, dir)
		if q.SortBy == "name" {
			order = fmt.Sprintf(` ORDER BY lower(%[1]s.name) %[2]s, %[1]s.id %[2]s`, a, dir)
		}
		return where, order, args
	}
	switch q.ResourceType {
	case "flow", "component":
		where, order, args := filter("f")
		if q.ResourceType == "component" {
			where += ` AND f.is_component`
		} else {
			where += ` AND NOT f.is_component`
		}
		rows, _ := pool.Query(ctx, `SELECT `+FlowColumns+FlowFrom+where+order, args...)
		flows, err := pgx.CollectRows(rows, ScanFlow)
		if err != nil {
			return nil, fmt.Errorf("flows of business %d: %w", b.BusinessID, err)
		}
		return nonNil(flows), newFlowSecrets(ctx, caller).flows(flows)
	case "project":
		where, order, args := filter("p")
		rows, _ := pool.Query(ctx, `SELECT `+projectColumns+projectFrom+where+order, args...)
		projects, err := pgx.CollectRows(rows, scanProject)
		if err != nil {
			return nil, fmt.Errorf("projects of business %d: %w", b.BusinessID, err)
		}
		if projects == nil {
			projects = []ProjectRead{}
		}
		return projects, nil
	}
	return []any{}, nil
}

// businessReads serves the read operations of businesses.
type businessReads struct {
	pool *pgxpool.Pool
}

// RegisterBusinessReads registers Read Businesses (#94), Read Business
// Tree (#96), Read Business (#97), Read Business User Candidates (#100)
// and Read Business Resources (#106). Any authenticated user of an active
// tenant may read (businesses.read there, access.Tenant); lists are about the tenant of
// tenant-id (else X-Tenant-Id, else the system tenant), reads of one
// business about the request's tenant (VisibleBusiness).
func RegisterBusinessReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &businessReads{pool: pool}
	filters := []httpapi.Param{
		{Name: "tenant-id", In: "query", Format: "uuid", Place: tenancy.PlaceTenant, Description: "The tenant (default: X-Tenant-Id, else the system tenant)."},
		{Name: "level", In: "query", Type: "integer", Default: 0, Description: "Only businesses of this level (1..3); 0: all."},
		{Name: "is-enable", In: "query", Type: "boolean", Description: "Only enabled (true) or disabled (false) businesses."},
		{Name: "first-business-id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness,
			Description: "Only businesses with this first_business_id: a level-1 business and everything under it."},
		{Name: "second-business-id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness,
			Description: "Only businesses with this second_business_id: a level-2 business and its children."},
	}
	businessID := httpapi.Param{Name: "business_id", In: "path", Type: "integer", Place: tenancy.PlaceBusiness}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses", Access: access.Tenant("businesses", "read"), Tag: "Business", Summary: "Read Businesses",
		Description: "The tenant's businesses that pass every filter given, in the tree's order (depth first, siblings by id). " +
			"first/second/third_business_id are the ids of a business's ancestors and of itself at each level, 0 below its level.",
		Params: filters, Response: []BusinessRead{}, ReadModels: BusinessReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses/tree", Access: access.Tenant("businesses", "read"), Tag: "Business", Summary: "Read Business Tree",
		Description: "The tenant's businesses as a tree: level-1 businesses, each with its children (level 2), theirs " +
			"(level 3); siblings by id. With filters, the businesses that pass every filter given and their ancestors.",
		Params: filters, Response: []BusinessNode{}, ReadModels: BusinessReadModels, Handler: h.tree})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "read"), Tag: "Business", Summary: "Read Business",
		Description: "One business of the request's tenant (X-Tenant-Id, else the system tenant; superusers: any tenant " +
			"without the header). 404 \"Business not found\".",
		Params: []httpapi.Param{businessID}, Response: BusinessRead{}, ReadModels: BusinessReadModels, Handler: h.read})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses/{business_id}/user-candidates", Access: access.Tenant("businesses", "read"), Tag: "Business",
		Summary: "Read Business User Candidates",
		Description: "Active users who are not users of the business (membership comes with business user roles), " +
			"search matching username, nickname or email (case-insensitive); by id, skip and limit; total_count counts all.",
		Params: []httpapi.Param{businessID,
			{Name: "search", In: "query", Description: "Substring of username, nickname, email or mobile (case-insensitive)."},
			{Name: "skip", In: "query", Type: "integer", Default: 0},
			{Name: "limit", In: "query", Type: "integer", Default: 10},
		},
		Response: Candidates{}, ReadModels: []string{"businesses", "users"}, Handler: h.candidates})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses/{business_id}/resources", Access: access.Tenant("businesses", "read"), Tag: "Business",
		Summary: "Read Business Resources",
		Description: "The business's resources of resource-type, not deleted: flow (flows), component (flows that are " +
			"components), project (projects); the other types are not served yet ([]). Superusers see everyone's, " +
			"others their own. search: case-insensitive substring of the name; sort-by id or name, ties by id.",
		Params: []httpapi.Param{businessID,
			{Name: "resource-type", In: "query", Default: "flow", Enum: BusinessResourceTypes},
			{Name: "search", In: "query", Description: "Substring of the name (case-insensitive)."},
			{Name: "sort-by", In: "query", Default: "id", Enum: []string{"id", "name"}},
			{Name: "sort-order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}},
		},
		Response: []any{}, ReadModels: []string{"businesses", "flows", "projects"}, Handler: h.resources})
}

func (h *businessReads) list(c *gin.Context) {
	var q BusinessesQuery
	tenantAnswer(c, h.pool, &q, func(q *BusinessesQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]BusinessRead, error) {
			return ListBusinesses(ctx, h.pool, t, q)
		})
}

func (h *businessReads) tree(c *gin.Context) {
	var q BusinessesQuery
	tenantAnswer(c, h.pool, &q, func(q *BusinessesQuery) *uuid.UUID { return q.TenantID },
		func(ctx context.Context, t uuid.UUID) ([]BusinessNode, error) { return BusinessTree(ctx, h.pool, t, q) })
}

func (h *businessReads) read(c *gin.Context) {
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	b, ok := VisibleBusiness(c, h.pool, id)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, b)
}

func (h *businessReads) candidates(c *gin.Context) {
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	var q BusinessCandidatesQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	b, ok := VisibleBusiness(c, h.pool, id)
	if !ok {
		return
	}
	out, err := ListBusinessCandidates(c.Request.Context(), h.pool, b.TenantID, id, q)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *businessReads) resources(c *gin.Context) {
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	var q BusinessResourcesQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	b, ok := VisibleBusiness(c, h.pool, id)
	if !ok {
		return
	}
	caller, err := auth.Caller(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	out, err := ListBusinessResources(c.Request.Context(), h.pool, caller, b, q)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// BusinessUserRoleRead is a business role relation as Read Business User
// Roles shows it: relation id, the business, the user (username and
// nickname from the users read model), the role (role_name from the
// permission catalogue; "" if the role has left it) and who granted it
// when.
type BusinessUserRoleRead struct {
	ID         int64     `json:"id"`
	BusinessID int64     `json:"business_id"`
	UID        int64     `json:"uid"`
	Username   string    `json:"username"`
	Nickname   string    `json:"nickname"`
	RoleID     string    `json:"role_id"`
	RoleName   string    `json:"role_name"`
	CUID       int64     `json:"c_uid"`
	CTime      time.Time `json:"ctime"`
}

// BusinessUserRolesQuery is the query of Read Business User Roles.
type BusinessUserRolesQuery struct {
	Search    string `form:"search"`
	SortBy    string `form:"sort_by,default=uid" binding:"oneof=uid username nickname role_id role_name"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// businessUserRoleSort maps sort_by to its column.
var businessUserRoleSort = map[string]string{"uid": "r.uid", "username": "lower(coalesce(u.username, ''))",
	"nickname": "lower(coalesce(u.nickname, ''))", "role_id": "r.role_id", "role_name": "lower(coalesce(p.role_name, ''))"}

// ListBusinessUserRoles lists the role relations of business (of user uid
// only, unless uid is 0) whose username, nickname or role name contains
// q.Search (case-insensitive), ordered by q.SortBy and q.SortOrder, ties
// by relation id ascending.
func ListBusinessUserRoles(ctx context.Context, db DB, business, uid int64, q BusinessUserRolesQuery) ([]BusinessUserRoleRead, error) {
	args := sqlArgs{business}
	conds := []string{"r.business_id = $1"}
	if uid != 0 {
		conds = append(conds, "r.uid = "+args.add(uid))
	}
	if q.Search != "" {
		p := args.add("%" + EscapeLike(q.Search) + "%")
		conds = append(conds, "(u.username ILIKE "+p+" OR u.nickname ILIKE "+p+" OR p.role_name ILIKE "+p+")")
	}
	col, ok := businessUserRoleSort[q.SortBy]
	if !ok {
		col = "r.uid"
	}
	dir := "ASC"
	if q.SortOrder == "desc" {
		dir = "DESC"
	}
	rows, _ := db.Query(ctx, `SELECT r.id, r.business_id, r.uid, coalesce(u.username, ''), coalesce(u.nickname, ''),
    r.role_id, coalesce(p.role_name, ''), r.c_uid, r.ctime
FROM business_user_roles r LEFT JOIN users u ON u.id = r.uid LEFT JOIN perm_roles p ON p.role_id = r.role_id
WHERE `+strings.Join(conds, " AND ")+` ORDER BY `+col+` `+dir+`, r.id`, args...)
	return collectAll(rows, func(row pgx.CollectableRow) (BusinessUserRoleRead, error) {
		var r BusinessUserRoleRead
		err := row.Scan(&r.ID, &r.BusinessID, &r.UID, &r.Username, &r.Nickname, &r.RoleID, &r.RoleName, &r.CUID, &r.CTime)
		r.CTime = r.CTime.UTC()
		return r, err
	}, "list business user roles")
}

// RegisterBusinessUserRoleReads registers Read Business User Roles (#101):
// any authenticated user of the business's tenant may read
// (VisibleBusiness).
func RegisterBusinessUserRoleReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &businessReads{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "read"), Tag: "Business",
		Summary: "Read Business User Roles",
		Description: "The business's user role relations: relation id, user (uid, username, nickname), role (role_id, " +
			"role_name), c_uid and ctime. search: case-insensitive substring of username, nickname or role name; sort_by " +
			"uid (default), username, nickname, role_id or role_name, ties by relation id.",
		Params: []httpapi.Param{{Name: "business_id", In: "path", Type: "integer", Place: tenancy.PlaceBusiness},
			{Name: "search", In: "query", Description: "Substring of username, nickname or role name (case-insensitive)."},
			{Name: "sort_by", In: "query", Default: "uid", Enum: []string{"uid", "username", "nickname", "role_id", "role_name"}},
			{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}},
		},
		Response: []BusinessUserRoleRead{}, ReadModels: []string{"businesses", "users"}, Handler: h.userRoles})
}

func (h *businessReads) userRoles(c *gin.Context) {
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	var q BusinessUserRolesQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	if _, ok := VisibleBusiness(c, h.pool, id); !ok {
		return
	}
	out, err := ListBusinessUserRoles(c.Request.Context(), h.pool, id, 0, q)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
