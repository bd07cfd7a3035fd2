package readapi

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
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
)

// ProjectReadModels are the projections project operations read and wait
// for: the projects, and the flows they hold.
var ProjectReadModels = []string{"projects", "flows"}

// Langflow's messages about projects.
const (
	MsgProjectNotFound = domain.MsgProjectNotFound
	msgNoProjectFlows  = "No flows found in project"
)

// ProjectRead is a project as the API shows it (the spec's project
// response). auth_settings comes with its secrets masked.
type ProjectRead struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	ID             uuid.UUID       `json:"id"`
	ParentID       *uuid.UUID      `json:"parent_id"`
	TenantID       *uuid.UUID      `json:"tenant_id"`
	BusinessID     int64           `json:"business_id"`
	OrgID          int64           `json:"org_id"`
	IsSelf         bool            `json:"is_self"`
	IsEnable       bool            `json:"is_enable"`
	IsRelease      bool            `json:"is_release"`
	IsVersion      bool            `json:"is_version"`
	IsHold         bool            `json:"is_hold"`
	IsDeleted      bool            `json:"is_deleted"`
	ReleaseVersion *string         `json:"release_version"`
	PrivType       *string         `json:"priv_type"`
	ProjectSkill   *string         `json:"project_skill"`
	AuthSettings   json.RawMessage `json:"auth_settings"`
	Icon           *string         `json:"icon"`
	UserID         int64           `json:"user_id"`
	MUID           int64           `json:"m_uid"`
	CTime          time.Time       `json:"ctime"`
	UTime          time.Time       `json:"utime"`
	CreatorName    string          `json:"creator_name"`
}

// projectColumns select a ProjectRead from projects p joined with users u:
// the creator is the actor of the creation (c_uid), or the owner when the
// project was created without one (at sign-up).
const projectColumns = `p.name, p.description, p.id, p.parent_id, p.tenant_id, p.business_id, p.org_id, p.is_self,
    p.is_enable, p.is_release, p.is_version, p.is_hold, p.is_deleted, p.release_version, p.priv_type, p.project_skill,
    p.auth_settings, p.icon, p.user_id, p.m_uid, p.ctime, p.utime, coalesce(nullif(u.nickname, ''), u.username, '')`

const projectFrom = ` FROM projects p LEFT JOIN users u ON u.id = CASE WHEN p.c_uid <> 0 THEN p.c_uid ELSE p.user_id END`

func scanProject(row pgx.CollectableRow) (ProjectRead, error) {
	var p ProjectRead
	err := row.Scan(&p.Name, &p.Description, &p.ID, &p.ParentID, &p.TenantID, &p.BusinessID, &p.OrgID, &p.IsSelf,
		&p.IsEnable, &p.IsRelease, &p.IsVersion, &p.IsHold, &p.IsDeleted, &p.ReleaseVersion, &p.PrivType, &p.ProjectSkill,
		&p.AuthSettings, &p.Icon, &p.UserID, &p.MUID, &p.CTime, &p.UTime, &p.CreatorName)
	p.CTime, p.UTime = p.CTime.UTC(), p.UTime.UTC()
	if len(p.AuthSettings) == 0 {
		p.AuthSettings = nil
	}
	// The projection stores them masked; masking again covers rows written
	// before secrets were masked at every depth.
	p.AuthSettings = domain.MaskAuthSettings(p.AuthSettings)
	return p, err
}

// OwnProject reads project id of user (not deleted); anything else is
// Langflow's 404 "Project not found".
func OwnProject(ctx context.Context, db DB, user int64, id uuid.UUID) (ProjectRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+projectColumns+projectFrom+` WHERE p.id = $1 AND p.user_id = $2 AND NOT p.is_deleted`, id, user)
	p, err := pgx.CollectExactlyOneRow(rows, scanProject)
	if errors.Is(err, pgx.ErrNoRows) {
		return ProjectRead{}, domain.NotFoundf(MsgProjectNotFound)
	}
	if err != nil {
		return ProjectRead{}, fmt.Errorf("read project %s: %w", id, err)
	}
	return p, nil
}

// ProjectsQuery is the query of Read Projects.
type ProjectsQuery struct {
	SortBy    string `form:"sort_by,default=utime" binding:"oneof=name ctime utime"`
	SortOrder string `form:"sort_order,default=desc" binding:"oneof=asc desc"`
}

var projectSortColumns = map[string]string{"name": "lower(p.name)", "ctime": "p.ctime", "utime": "p.utime"}

// ListProjects lists user's projects (not deleted): the default project
// first, then by q's order, ties by id.
func ListProjects(ctx context.Context, pool *pgxpool.Pool, user int64, q ProjectsQuery) ([]ProjectRead, error) {
	col, ok := projectSortColumns[q.SortBy]
	if !ok {
		col = "p.utime"
	}
	dir := direction(cmp.Or(q.SortOrder, "desc")) // not given: newest first
	rows, _ := pool.Query(ctx, `SELECT `+projectColumns+projectFrom+` WHERE p.user_id = $1 AND NOT p.is_deleted
ORDER BY p.is_default DESC, `+col+` `+dir+`, p.id `+dir, user)
	return collectAll(rows, scanProject, "list projects")
}

// ProjectQuery is the query of Read Project.
type ProjectQuery struct {
	Page        *int64 `form:"page" binding:"omitempty,gte=1,lte=1000000000"`
	Size        *int64 `form:"size" binding:"omitempty,gte=1,lte=100"`
	IsComponent bool   `form:"is_component,default=false"`
	IsFlow      bool   `form:"is_flow,default=false"`
	Search      string `form:"search"`
}

// ProjectFlowPage is fastapi-pagination's Page of a project's flows.
type ProjectFlowPage struct {
	Items []FlowRead `json:"items"`
	Total int64      `json:"total"`
	Page  int64      `json:"page"`
	Size  int64      `json:"size"`
	Pages int64      `json:"pages"`
}

// ProjectWithFlows is Read Project's answer: the project and its flows, a
// list of all of them or a ProjectFlowPage.
type ProjectWithFlows struct {
	Project ProjectRead `json:"project"`
	Flows   any         `json:"flows"`
}

// projectFlowsWhere selects the flows of project p of owner: not deleted,
// and the owner's own (a flow of someone else naming the project is not
// the project's).
const projectFlowsWhere = ` WHERE f.project_id = $1 AND f.user_id = $2 AND NOT f.is_deleted`

// ProjectFlows lists the flows of project p, newest change first.
func ProjectFlows(ctx context.Context, pool *pgxpool.Pool, p ProjectRead) ([]FlowRead, error) {
	rows, _ := pool.Query(ctx, `SELECT `+FlowColumns+FlowFrom+projectFlowsWhere+` ORDER BY f.updated_at DESC, f.id DESC`, p.ID, p.UserID)
	return collectAll(rows, ScanFlow, fmt.Sprintf("flows of project %s", p.ID))
}

// ProjectFlowsPage is one page of project p's flows, filtered as q says.
func ProjectFlowsPage(ctx context.Context, pool *pgxpool.Pool, p ProjectRead, q ProjectQuery) (ProjectFlowPage, error) {
	page, size := int64(1), int64(50)
	if q.Page != nil {
		page = *q.Page
	}
	if q.Size != nil {
		size = *q.Size
	}
	where, args := projectFlowsWhere, sqlArgs{p.ID, p.UserID}
	if q.IsComponent {
		where += ` AND f.is_component`
	}
	if q.IsFlow {
		where += ` AND NOT f.is_component`
	}
	if q.Search != "" {
		where += ` AND ` + searchAny(&args, q.Search, "f.name")
	}
	out := ProjectFlowPage{Items: []FlowRead{}, Page: page, Size: size}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM flows f`+where, args...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("count flows of project %s: %w", p.ID, err)
	}
	out.Pages = (out.Total + size - 1) / size
	if (page-1)*size >= out.Total {
		return out, nil
	}
	rows, _ := pool.Query(ctx, `SELECT `+FlowColumns+FlowFrom+where+` ORDER BY f.updated_at DESC, f.id DESC LIMIT `+
		strconv.FormatInt(size, 10)+` OFFSET `+strconv.FormatInt((page-1)*size, 10), args...)
	items, err := pgx.CollectRows(rows, ScanFlow)
	if err != nil {
		return out, fmt.Errorf("flows of project %s: %w", p.ID, err)
	}
	if items != nil {
		out.Items = items
	}
	return out, nil
}

// OwnFlowsByID reads user's flows among ids that are not deleted, in the
// order of ids.
func OwnFlowsByID(ctx context.Context, pool *pgxpool.Pool, user int64, ids []uuid.UUID) ([]FlowRead, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, _ := pool.Query(ctx, `SELECT `+FlowColumns+FlowFrom+` WHERE f.id = ANY($1) AND f.user_id = $2 AND NOT f.is_deleted
ORDER BY array_position($1, f.id)`, ids, user)
	out, err := pgx.CollectRows(rows, ScanFlow)
	if err != nil {
		return nil, fmt.Errorf("read flows: %w", err)
	}
	return out, nil
}

// projectReads serves the reads of projects.
type projectReads struct {
	pool  *pgxpool.Pool
	clock func() time.Time
}

// RegisterProjectReads adds Read Projects, Read Project and Download File
// (a project's flows as a zip).
func RegisterProjectReads(s *httpapi.Server, pool *pgxpool.Pool, clock func() time.Time) {
	h := &projectReads{pool: pool, clock: clock}
	projectID := []httpapi.Param{{Name: "project_id", In: "path", Format: "uuid"}}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/projects/", Access: access.Own("projects", "read"), Tag: "Projects", Summary: "Read Projects",
		Description: "The caller's projects: the default project first, then by sort_by (name, ctime or utime; " +
			"default utime) in sort_order (default desc).",
		Params: []httpapi.Param{
			{Name: "sort_by", In: "query", Default: "utime", Enum: []string{"name", "ctime", "utime"}},
			{Name: "sort_order", In: "query", Default: "desc", Enum: []string{"asc", "desc"}},
		},
		Response: []ProjectRead{}, ReadModels: ProjectReadModels, Handler: h.list})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/projects/{project_id}", Access: access.Own("projects", "read"), Tag: "Projects", Summary: "Read Project",
		Description: "A project of the caller with its flows (not deleted, newest change first). With page or size, " +
			"flows is a Page {items, total, page, size, pages} filtered by is_component, is_flow and search " +
			"(case-insensitive substring of the name); without them, a list of all the project's flows.",
		Params: append(projectID,
			httpapi.Param{Name: "page", In: "query", Type: "integer", Description: "Page number (>= 1; default 1 when size is given)."},
			httpapi.Param{Name: "size", In: "query", Type: "integer", Description: "Page size (1..100; default 50 when page is given)."},
			httpapi.Param{Name: "is_component", In: "query", Type: "boolean", Default: false, Description: "Only components."},
			httpapi.Param{Name: "is_flow", In: "query", Type: "boolean", Default: false, Description: "Only flows that are not components."},
			httpapi.Param{Name: "search", In: "query", Default: "", Description: "Case-insensitive substring of the flow's name."}),
		Response: ProjectWithFlows{}, ReadModels: ProjectReadModels, Handler: h.read})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/projects/download/{project_id}", Access: access.Own("projects", "read"), Tag: "Projects",
		Summary: "Download File", Description: "Download all flows from project as a zip file: one \"{flow name}.json\" per flow.",
		Params: projectID, ReadModels: ProjectReadModels, Handler: h.download})
}

func (h *projectReads) list(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q ProjectsQuery
	if !httpapi.BindQuery(c, &q) {
		return
	}
	out, err := ListProjects(c.Request.Context(), h.pool, caller.UserID, q)
	respond(c, out, err)
}

// ownProject reads the project of the path for the caller.
func (h *projectReads) ownProject(c *gin.Context) (ProjectRead, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return ProjectRead{}, false
	}
	id, ok := httpapi.PathUUID(c, "project_id")
	if !ok {
		return ProjectRead{}, false
	}
	p, err := OwnProject(c.Request.Context(), h.pool, caller.UserID, id)
	if err != nil {
		httpapi.Fail(c, err)
		return ProjectRead{}, false
	}
	return p, true
}

func (h *projectReads) read(c *gin.Context) {
	var q ProjectQuery
	if _, ok := httpapi.PathUUID(c, "project_id"); !ok || !httpapi.BindQuery(c, &q) {
		return
	}
	p, ok := h.ownProject(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	out := ProjectWithFlows{Project: p}
	var err error
	if q.Page != nil || q.Size != nil {
		out.Flows, err = ProjectFlowsPage(ctx, h.pool, p, q)
	} else {
		out.Flows, err = ProjectFlows(ctx, h.pool, p)
	}
	respond(c, out, err)
}

func (h *projectReads) download(c *gin.Context) {
	p, ok := h.ownProject(c)
	if !ok {
		return
	}
	flows, err := ProjectFlows(c.Request.Context(), h.pool, p)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if len(flows) == 0 {
		httpapi.Fail(c, domain.NotFoundf(msgNoProjectFlows))
		return
	}
	SendFlowsZip(c, fmt.Sprintf("%s_%s_flows.zip", h.clock().UTC().Format("20060102_150405"), SafeFileName(p.Name)), flows)
}

// SendFlowsZip answers with a zip of flows, one "{name}.json" (the
// FlowRead) each, as an attachment called filename.
func SendFlowsZip(c *gin.Context, filename string, flows []FlowRead) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := FlowFileNames(flows)
	for i, f := range flows {
		if err := writeZipEntry(zw, names[i], f); err != nil {
			httpapi.Fail(c, fmt.Errorf("zip flow %s: %w", f.ID, err))
			return
		}
	}
	if err := zw.Close(); err != nil {
		httpapi.Fail(c, fmt.Errorf("zip flows: %w", err))
		return
	}
	c.Header("Content-Disposition", Attachment(filename))
	c.Data(http.StatusOK, "application/x-zip-compressed", buf.Bytes())
}

func writeZipEntry(zw *zip.Writer, name string, f FlowRead) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: f.UpdatedAt})
	if err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// Attachment is a Content-Disposition naming a download (RFC 2231
// encoded where the name is not plain ASCII).
func Attachment(filename string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return `attachment; filename="download"`
}

// FlowFileNames names the files of flows in an archive: "{name}.json"
// with path separators, ".." and NUL made harmless (an empty name becomes
// the flow's id), and " (n)" added to names already used (compared
// case-insensitively, as many file systems do).
func FlowFileNames(flows []FlowRead) []string {
	used := map[string]bool{}
	out := make([]string, len(flows))
	for i, f := range flows {
		base := SafeFileName(f.Name)
		if base == "" {
			base = f.ID.String()
		}
		name := base
		for n := 1; used[strings.ToLower(name)]; n++ {
			name = base + " (" + strconv.Itoa(n) + ")"
		}
		used[strings.ToLower(name)] = true
		out[i] = name + ".json"
	}
	return out
}

// SafeFileName makes name safe as an archive entry: no path separators,
// no "..", no NUL.
func SafeFileName(name string) string {
	name = strings.NewReplacer("/", "_", `\`, "_", "\x00", "").Replace(name)
	return strings.ReplaceAll(name, "..", "_")
}
