package readapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// FlowListQuery is the query string of Read Flows (#28). Empty strings
// (keyword=, flow_type=, workflow_status=, sort_by=, sort_order=) mean "not
// given", as Langflow's `if keyword:` reads them.
type FlowListQuery struct {
	RemoveExampleFlows        bool       `form:"remove_example_flows,default=false"`
	ComponentsOnly            bool       `form:"components_only,default=false"`
	GetAll                    bool       `form:"get_all,default=true"`
	ProjectID                 *uuid.UUID `form:"project_id"`
	HeaderFlows               bool       `form:"header_flows,default=false"`
	AllProjects               bool       `form:"all_projects,default=false"`
	ExcludeDeleted            bool       `form:"exclude_deleted,default=false"`
	IncludeScopeSubBusinesses bool       `form:"include_scope_sub_businesses,default=false"`
	Keyword                   string     `form:"keyword"`
	FlowType                  string     `form:"flow_type"`
	WorkflowStatus            string     `form:"workflow_status" binding:"omitempty,oneof=online published offline draft"`
	SortBy                    string     `form:"sort_by" binding:"omitempty,oneof=name updated_at create_at created_at"`
	SortOrder                 string     `form:"sort_order,default=desc" binding:"omitempty,oneof=asc desc"`
	OrgID                     *int64     `form:"org_id"`
	IncludeDescendantOrgs     bool       `form:"include_descendant_orgs,default=false"`
	FilterBusinessID          *int64     `form:"filter-business-id"`
	IncludeSubBusinesses      bool       `form:"include-sub-businesses,default=false"`
	Page                      int64      `form:"page,default=1" binding:"gte=1,lte=1000000000"`
	Size                      int64      `form:"size,default=50" binding:"gte=1,lte=100"`

	// Tenant is the tenant the request names (X-Tenant-Id), nil for none;
	// Scope is where in it the caller may read flows. The handler fills
	// both; see list.
	Tenant *uuid.UUID    `form:"-"`
	Scope  tenancy.Scope `form:"-"`
}

// FlowHeader is a flow as header_flows=true lists it: Langflow's FlowHeader
// (folder_id is the project) plus project_id. data is null unless the flow
// is a component.
type FlowHeader struct {
	ID                uuid.UUID       `json:"id"`
	Name              string          `json:"name"`
	FolderID          *uuid.UUID      `json:"folder_id"`
	ProjectID         *uuid.UUID      `json:"project_id"`
	IsComponent       bool            `json:"is_component"`
	EndpointName      *string         `json:"endpoint_name"`
	Description       string          `json:"description"`
	Data              json.RawMessage `json:"data"`
	AccessType        string          `json:"access_type"`
	Tags              []string        `json:"tags"`
	MCPEnabled        bool            `json:"mcp_enabled"`
	ActionName        *string         `json:"action_name"`
	ActionDescription *string         `json:"action_description"`
}

// HeaderOf is f as a FlowHeader.
func HeaderOf(f FlowRead) FlowHeader {
	h := FlowHeader{
		ID: f.ID, Name: f.Name, FolderID: f.ProjectID, ProjectID: f.ProjectID, IsComponent: f.IsComponent,
		EndpointName: f.EndpointName, Description: f.Description, Data: json.RawMessage("null"), AccessType: f.AccessType,
		Tags: f.Tags, MCPEnabled: f.MCPEnabled, ActionName: f.ActionName, ActionDescription: f.ActionDescription,
	}
	if f.IsComponent {
		h.Data = f.Data
	}
	return h
}

// FlowPage is Langflow's (fastapi-pagination's) Page: one page of items,
// the number of matches, the page number and size, and how many pages
// there are (ceil(total/size); 0 when nothing matches).
type FlowPage[T FlowRead | FlowHeader] struct {
	Items []T   `json:"items"`
	Total int64 `json:"total"`
	Page  int64 `json:"page"`
	Size  int64 `json:"size"`
	Pages int64 `json:"pages"`
}

// flowSortColumns maps sort_by to its ORDER BY expression (names sort
// case-insensitively).
var flowSortColumns = map[string]string{
	"": "f.updated_at", "updated_at": "f.updated_at", "create_at": "f.create_at", "created_at": "f.create_at",
	"name": "lower(f.name)",
}

// headerColumns are FlowColumns without the graph of flows that are not
// components: a header list does not load what it does not show.
var headerColumns = func() string {
	s := strings.Replace(FlowColumns, "f.data,", "CASE WHEN f.is_component THEN f.data END,", 1)
	if s == FlowColumns {
		panic("readapi: FlowColumns no longer selects f.data; update headerColumns")
	}
	return s
}()

// RegisterFlowList adds Read Flows (GET /api/v1/flows/).
func RegisterFlowList(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &flowList{pool: pool}
	boolean := func(name, desc string) httpapi.Param {
		return httpapi.Param{Name: name, In: "query", Type: "boolean", Default: false, Description: desc}
	}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/", Access: access.Own("flows", "read"), Tag: "Flows", Summary: "Read Flows",
		Description: "The caller's flows; with X-Tenant-Id, the flows of that tenant the caller may read (own ones, and others' where flows.read is held). get_all=true (default): a list of every match; get_all=false: a Page " +
			"{items, total, page, size, pages}. header_flows=true lists FlowHeaders (data only for components). " +
			"Sorted by sort_by (updated_at, create_at or name; default updated_at) in sort_order (default desc), ties by id.",
		Params: []httpapi.Param{
			boolean("remove_example_flows", "Accepted; example flows are templates and never in a user's list, so nothing is removed."),
			boolean("components_only", "Only components (is_component true)."),
			{Name: "get_all", In: "query", Type: "boolean", Default: true, Description: "Every match as a list; false: one page."},
			{Name: "project_id", In: "query", Format: "uuid", Description: "Only the flows of this project (unless all_projects)."},
			boolean("header_flows", "List FlowHeaders instead of whole flows."),
			boolean("all_projects", "Ignore project_id."),
			boolean("exclude_deleted", "Leave deleted flows out (by default they are listed, with is_deleted true)."),
			boolean("include_scope_sub_businesses", "With X-Tenant-Id, for a caller whose read privilege is held in businesses: also the flows of their sub-businesses (default: only the businesses where a role is held)."),
			{Name: "keyword", In: "query", Description: "Case-insensitive substring of the name or the description."},
			{Name: "flow_type", In: "query", Description: "Only flows of this flow_type."},
			{Name: "workflow_status", In: "query", Enum: []string{"online", "published", "offline", "draft"},
				Description: "online/published: a version is online; offline/draft: none is."},
			{Name: "sort_by", In: "query", Default: "updated_at", Enum: []string{"name", "updated_at", "create_at", "created_at"}},
			{Name: "sort_order", In: "query", Default: "desc", Enum: []string{"asc", "desc"}},
			{Name: "org_id", In: "query", Type: "integer", Place: tenancy.PlaceOrg, Description: "Only flows of this organisation."},
			boolean("include_descendant_orgs", "With org_id: also the flows of the org's descendant orgs."),
			{Name: "filter-business-id", In: "query", Type: "integer", Place: tenancy.PlaceBusiness, Description: "Only flows of this business."},
			boolean("include-sub-businesses", "With filter-business-id: also the flows of its sub-businesses."),
			{Name: "page", In: "query", Type: "integer", Default: 1, Description: "Page number (>= 1), with get_all=false."},
			{Name: "size", In: "query", Type: "integer", Default: 50, Description: "Page size (1..100), with get_all=false."},
		},
		Response: []FlowRead{}, ReadModels: FlowReadModels, Handler: h.list})
}

type flowList struct {
	pool *pgxpool.Pool
}

// list serves Read Flows (#28).
//
// Semantics:
//   - Scope (flowScope): without X-Tenant-Id, the caller's own flows,
//     superusers included (Langflow's list). With X-Tenant-Id T: the flows
//     placed in T (no tenant counts as the system tenant) that the caller
//     owns or may read — every one for superusers and tenant-wide holders
//     of flows.read, those of the businesses where they hold it otherwise
//     (only where a role is held directly unless
//     include_scope_sub_businesses=true, then with sub-businesses).
//   - get_all=true (default): a JSON list of every match, no pagination;
//     get_all=false: a FlowPage of page (>= 1) and size (1..100), both
//     checked in either mode (422 greater_than_equal / less_than_equal).
//   - header_flows=true: the items (of the list or of the page) are
//     FlowHeaders; data is null unless the flow is a component.
//   - components_only: is_component flows only.
//   - remove_example_flows: accepted; example flows are templates here and
//     never in a user's list, so it removes nothing.
//   - project_id: only that project's flows, unless all_projects=true.
//     Without project_id every project is listed.
//   - exclude_deleted=true leaves deleted flows out; by default (false, as
//     the spec says) they are listed with is_deleted true.
//   - keyword: case-insensitive substring of name or description (LIKE
//     wildcards in it are literal).
//   - flow_type: equality.
//   - workflow_status: online/published → a version is online;
//     offline/draft → none is; anything else 422 (enum).
//   - sort_by: name (case-insensitive), updated_at (default), create_at
//     (created_at is accepted for it); sort_order asc or desc (default);
//     others 422 (enum). Ties are broken by id in the same direction, so
//     pages never overlap.
//   - org_id, filter-business-id: the flow's org_id and business_id;
//     include_descendant_orgs adds the orgs below org_id (orgs read model:
//     one_org_id .. six_org_id), include-sub-businesses the businesses below
//     filter-business-id (businesses read model: first/second business
//     ids).
//
// One SELECT per request: with get_all=false it counts the matches too
// (only a page past the last one needs a second statement, the count).
func (h *flowList) list(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q FlowListQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	if raw := c.GetHeader(tenancy.HeaderTenantID); raw != "" {
		t, ok := tenancy.ResolveScoped(c, h.pool, nil)
		if !ok {
			return
		}
		q.Tenant = &t.ID
		var err error
		if q.Scope, err = tenancy.Readable(c.Request.Context(), t.ID); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	out, err := ListFlows(c.Request.Context(), h.pool, caller, q)
	respond(c, out, err)
}

// flowScope is the condition limiting a list to what caller may see: their
// own flows. It is the one place RBAC and tenancy scoping will replace.
// arg binds a value and returns its placeholder.
func flowScope(caller auth.Principal, q FlowListQuery, arg func(any) string) string {
	own := func() string { return "f.user_id = " + arg(caller.UserID) } // an argument is added only when used
	if q.Tenant == nil {
		return own()
	}
	in := "coalesce(f.tenant_id, " + arg(tenancy.SystemTenantID) + ") = " + arg(*q.Tenant)
	readable := q.Scope.Direct
	if q.IncludeScopeSubBusinesses {
		readable = q.Scope.Businesses
	}
	switch {
	case caller.IsSuperuser || q.Scope.All:
		return in
	case len(readable) > 0:
		return in + " AND (" + own() + " OR f.business_id = ANY(" + arg(readable) + "))"
	}
	return in + " AND " + own()
}

// flowFilter is the WHERE clause (with its arguments) and the ORDER BY of
// a list query.
type flowFilter struct {
	where, order string
	args         sqlArgs
}

// filterFlows turns q into SQL over flows f; values travel as arguments.
func filterFlows(caller auth.Principal, q FlowListQuery) *flowFilter {
	f := &flowFilter{}
	conds := []string{flowScope(caller, q, f.args.add)}
	if q.ComponentsOnly {
		conds = append(conds, "f.is_component")
	}
	if q.ProjectID != nil && !q.AllProjects {
		conds = append(conds, "f.project_id = "+f.args.add(*q.ProjectID))
	}
	if q.ExcludeDeleted {
		conds = append(conds, "NOT f.is_deleted")
	}
	if q.Keyword != "" {
		conds = append(conds, searchAny(&f.args, q.Keyword, "f.name", "f.description"))
	}
	if q.FlowType != "" {
		conds = append(conds, "f.flow_type = "+f.args.add(q.FlowType))
	}
	switch q.WorkflowStatus {
	case "online", "published":
		conds = append(conds, "f.online_version_id <> 0")
	case "offline", "draft":
		conds = append(conds, "f.online_version_id = 0")
	}
	if q.OrgID != nil {
		org := f.args.add(*q.OrgID)
		if q.IncludeDescendantOrgs {
			conds = append(conds, "(f.org_id = "+org+" OR f.org_id IN (SELECT org_id FROM orgs WHERE "+org+
				" IN (one_org_id, two_org_id, three_org_id, four_org_id, five_org_id, six_org_id)))")
		} else {
			conds = append(conds, "f.org_id = "+org)
		}
	}
	if q.FilterBusinessID != nil {
		biz := f.args.add(*q.FilterBusinessID)
		if q.IncludeSubBusinesses {
			conds = append(conds, "(f.business_id = "+biz+" OR f.business_id IN (SELECT business_id FROM businesses WHERE "+
				biz+" IN (first_business_id, second_business_id)))")
		} else {
			conds = append(conds, "f.business_id = "+biz)
		}
	}
	f.where = " WHERE " + strings.Join(conds, " AND ")
	dir := direction(cmp.Or(q.SortOrder, "desc")) // not given: newest first
	f.order = " ORDER BY " + flowSortColumns[q.SortBy] + " " + dir + ", f.id " + dir
	return f
}

// ListFlows answers Read Flows for caller: a []FlowRead or []FlowHeader
// (get_all), else a FlowPage of either. The graphs show password values
// only where the caller may see them (flowSecrets).
func ListFlows(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, q FlowListQuery) (any, error) {
	f := filterFlows(caller, q)
	cols := FlowColumns
	if q.HeaderFlows {
		cols = headerColumns
	}
	if q.GetAll {
		rows, _ := pool.Query(ctx, `SELECT `+cols+FlowFrom+f.where+f.order, f.args...)
		flows, err := collectFlows(ctx, caller, rows, nil)
		if err != nil {
			return nil, err
		}
		if q.HeaderFlows {
			return headers(flows), nil
		}
		return nonNil(flows), nil
	}

	offset := int64(math.MaxInt64) // past any table: an empty page
	if q.Page-1 <= math.MaxInt64/q.Size {
		offset = (q.Page - 1) * q.Size
	}
	// The page's ids come from the sort's index (with the number of
	// matches, counted in the same pass), then only those rows are read
	// whole: skipped rows are never fetched.
	filterArgs := len(f.args)
	pageSQL := `SELECT ` + cols + `, page.total` + FlowFrom + ` JOIN (SELECT f.id, count(*) OVER () AS total FROM flows f` +
		f.where + f.order + ` LIMIT ` + f.args.add(q.Size) + ` OFFSET ` + f.args.add(offset) + `) page ON page.id = f.id` + f.order
	var total int64
	rows, _ := pool.Query(ctx, pageSQL, f.args...)
	flows, err := collectFlows(ctx, caller, rows, &total)
	if err != nil {
		return nil, err
	}
	if len(flows) == 0 && q.Page > 1 { // past the last page: count alone
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM flows f`+f.where, f.args[:filterArgs]...).Scan(&total); err != nil {
			return nil, fmt.Errorf("count flows: %w", err)
		}
	}
	pages := (total + q.Size - 1) / q.Size
	if q.HeaderFlows {
		return FlowPage[FlowHeader]{Items: headers(flows), Total: total, Page: q.Page, Size: q.Size, Pages: pages}, nil
	}
	return FlowPage[FlowRead]{Items: nonNil(flows), Total: total, Page: q.Page, Size: q.Size, Pages: pages}, nil
}

// collectFlows reads the rows of a list (see flowRow for total), their
// graphs as caller may see them (flowSecrets).
func collectFlows(ctx context.Context, caller auth.Principal, rows pgx.Rows, total *int64) ([]FlowRead, error) {
	flows, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FlowRead, error) {
		return ScanFlow(flowRow{row, total})
	})
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return flows, newFlowSecrets(ctx, caller).flows(flows)
}

// flowRow adapts a row of the list for ScanFlow: if total is not nil, the
// number of matches that follows FlowColumns goes into total.
type flowRow struct {
	pgx.CollectableRow
	total *int64
}

func (r flowRow) Scan(dest ...any) error {
	if r.total != nil {
		dest = append(dest, r.total)
	}
	return r.CollectableRow.Scan(dest...)
}

func headers(flows []FlowRead) []FlowHeader {
	out := make([]FlowHeader, len(flows))
	for i, f := range flows {
		out[i] = HeaderOf(f)
	}
	return out
}

func nonNil(flows []FlowRead) []FlowRead {
	if flows == nil {
		return []FlowRead{}
	}
	return flows
}
