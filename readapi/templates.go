package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/starters"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// TemplateReadModels are the projections the template operations read and
// wait for.
var TemplateReadModels = []string{"flow_templates", "access"}

// msgTemplateNotFound is the 404 of a template that is missing, deleted or
// not visible to the caller.
const msgTemplateNotFound = "Template not found"

// TemplateVisibility is THE rule of who sees which flow template; every
// read and write of templates asks it:
//
//   - personal templates: their creator only;
//   - system templates: everyone;
//   - tenant templates: their creator, and whoever holds templates.read
//     in their tenant (tenant-wide or in any of its businesses);
//   - business templates: their creator, and whoever holds templates.read
//     in their business (a role there or above it, or tenant-wide);
//   - tenant and business templates of the system tenant (made from flows
//     in no tenant): every signed-in user — the system tenant is
//     everyone's workspace;
//   - superusers see every template.
//
// It returns an SQL condition on flow_templates aliased t, with its named
// arguments (pgx.NamedArgs, names prefixed vis_); callers add their own
// named arguments to the same map. Privileges come from access_privileges
// (projection "access").
func TemplateVisibility(caller auth.Principal) (string, pgx.NamedArgs) {
	return `(@vis_superuser OR t.scope = 'system' OR t.user_id = @vis_user
   OR (t.scope IN ('tenant', 'business') AND (coalesce(t.tenant_id, @vis_system) = @vis_system
     OR EXISTS (SELECT 1 FROM access_privileges ap
        WHERE ap.uid = @vis_user AND ap.tenant_id = t.tenant_id AND ap.module_id = 'templates' AND ap.priv_id = 'read'
          AND (t.scope = 'tenant' OR ap.business_id IN (0, t.business_id))))))`,
		pgx.NamedArgs{"vis_superuser": caller.IsSuperuser, "vis_user": caller.UserID, "vis_system": tenancy.SystemTenantID}
}

// FlowTemplateRead is a template as the API shows it (the spec's
// FlowTemplateRead). is_self is true for personal templates; business_id
// names the business of a business template (0 otherwise); tenant_id is
// the tenant of the flow it was made from (none for system templates).
type FlowTemplateRead struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	FlowSkill   string          `json:"flow_skill"`
	Icon        string          `json:"icon"`
	IconBgColor string          `json:"icon_bg_color"`
	Gradient    string          `json:"gradient"`
	Data        json.RawMessage `json:"data"`
	Tags        []string        `json:"tags"`
	FlowType    string          `json:"flow_type"`
	ID          uuid.UUID       `json:"id"`
	TenantID    *uuid.UUID      `json:"tenant_id"`
	BusinessID  int64           `json:"business_id"`
	IsSelf      bool            `json:"is_self"`
	UserID      int64           `json:"user_id"`
	CreatorName string          `json:"creator_name"`
	CreateAt    time.Time       `json:"create_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// templateColumns select a FlowTemplateRead (and m_uid) from flow_templates
// t joined with users u (the creator's name: nickname, else username).
const templateColumns = `t.name, t.description, t.flow_skill, t.icon, t.icon_bg_color, t.gradient, t.data, t.tags,
    t.flow_type, t.id, t.tenant_id, t.business_id, t.scope = 'personal', t.user_id,
    coalesce(nullif(u.nickname, ''), u.username, ''), t.create_at, t.updated_at, t.m_uid`

const templateFrom = ` FROM flow_templates t LEFT JOIN users u ON u.id = t.user_id`

// templateRow is a row of templateColumns.
type templateRow struct {
	FlowTemplateRead
	mUID int64
}

func scanTemplate(row pgx.CollectableRow) (templateRow, error) {
	var r templateRow
	t := &r.FlowTemplateRead
	var tags []byte
	err := row.Scan(&t.Name, &t.Description, &t.FlowSkill, &t.Icon, &t.IconBgColor, &t.Gradient, &t.Data, &tags,
		&t.FlowType, &t.ID, &t.TenantID, &t.BusinessID, &t.IsSelf, &t.UserID, &t.CreatorName, &t.CreateAt, &t.UpdatedAt, &r.mUID)
	if err != nil {
		return r, err
	}
	t.CreateAt, t.UpdatedAt = t.CreateAt.UTC(), t.UpdatedAt.UTC()
	// Templates are shared: their graphs never show password values (those
	// copied before templates stopped capturing them included).
	t.Data = domain.MaskPasswordFields(t.Data)
	return r, dataAndTags(&t.Data, tags, &t.Tags)
}

// asFlow shows a template as a flow (Langflow's basic examples are flows):
// the template's id, creator and content; what a template does not have
// takes a new flow's defaults.
func (r templateRow) asFlow() FlowRead {
	t := r.FlowTemplateRead
	return FlowRead{
		Name: t.Name, Description: t.Description, FlowSkill: t.FlowSkill, Icon: t.Icon, IconBgColor: t.IconBgColor,
		Gradient: t.Gradient, Data: t.Data, UpdatedAt: t.UpdatedAt, Tags: t.Tags, FlowType: t.FlowType,
		AccessType: domain.AccessPrivate, ID: t.ID, UserID: t.UserID, TenantID: t.TenantID, BusinessID: t.BusinessID,
		IsSelf: t.IsSelf, CreateAt: t.CreateAt, MUID: r.mUID, CreatorName: t.CreatorName,
	}
}

// TemplateByID reads template id whoever may see it (for the answers of
// writes, whose caller was already allowed); a missing one is 404
// "Template not found".
func TemplateByID(ctx context.Context, db DB, id uuid.UUID) (FlowTemplateRead, error) {
	return oneTemplate(ctx, db, ` WHERE t.id = @id`, pgx.NamedArgs{"id": id})
}

// VisibleTemplate reads template id if caller may see it, else 404
// "Template not found".
func VisibleTemplate(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (FlowTemplateRead, error) {
	cond, args := TemplateVisibility(caller)
	args["id"] = id
	return oneTemplate(ctx, pool, ` WHERE t.id = @id AND `+cond, args)
}

// TemplateVisible tells whether template id exists and caller may see it.
func TemplateVisible(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal, id uuid.UUID) (bool, error) {
	_, err := VisibleTemplate(ctx, pool, caller, id)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func oneTemplate(ctx context.Context, db DB, where string, args pgx.NamedArgs) (FlowTemplateRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+templateColumns+templateFrom+where, args)
	r, err := pgx.CollectExactlyOneRow(rows, scanTemplate)
	if errors.Is(err, pgx.ErrNoRows) {
		return FlowTemplateRead{}, domain.NotFoundf(msgTemplateNotFound)
	}
	if err != nil {
		return FlowTemplateRead{}, fmt.Errorf("read flow template: %w", err)
	}
	return r.FlowTemplateRead, nil
}

// VisibleTemplatesAsFlows lists the templates caller may see, newest
// first, shown as flows (Read Basic Examples).
func VisibleTemplatesAsFlows(ctx context.Context, pool *pgxpool.Pool, caller auth.Principal) ([]FlowRead, error) {
	cond, args := TemplateVisibility(caller)
	rows, _ := pool.Query(ctx, `SELECT `+templateColumns+templateFrom+` WHERE `+cond+` ORDER BY t.create_at DESC, t.id DESC`, args)
	list, err := pgx.CollectRows(rows, scanTemplate)
	if err != nil {
		return nil, fmt.Errorf("list flow templates: %w", err)
	}
	out := make([]FlowRead, len(list))
	for i, r := range list {
		out[i] = r.asFlow()
	}
	return out, nil
}

// templateReads serves the reads of templates and the starter projects.
type templateReads struct {
	pool *pgxpool.Pool
}

// RegisterTemplateReads adds Read Flow Template (#41), Read Basic Examples
// (#47) and Get Starter Projects (#48).
func RegisterTemplateReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &templateReads{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flow-templates/{template_id}", Access: access.Own("templates", "read"), Tag: "Flows",
		Summary: "Read Flow Template",
		Description: "A template the caller may see: personal ones by their creator, system, tenant and business ones by " +
			"everyone (until tenancy), all of them by superusers; others are not found.",
		Params:   []httpapi.Param{{Name: "template_id", In: "path", Format: "uuid"}},
		Response: FlowTemplateRead{}, ReadModels: TemplateReadModels, Handler: h.read})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/flows/basic_examples/", Access: access.Own("flows", "read"), Tag: "Flows",
		Summary: "Read Basic Examples",
		Description: "Retrieve a list of visible flow templates, newest first, each shown as a flow (FlowRead: id is the " +
			"template's, user_id its creator's; what a template lacks takes a new flow's defaults).",
		Response: []FlowRead{}, ReadModels: TemplateReadModels, Handler: h.basicExamples})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/starter-projects/", Access: access.Own("projects", "read"), Tag: "Flows",
		Summary: "Get Starter Projects", Description: "Get a list of starter projects.",
		Response: []starters.GraphDump{}, Handler: h.starterProjects})
}

func (h *templateReads) read(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "template_id")
	if !ok {
		return
	}
	t, err := VisibleTemplate(c.Request.Context(), h.pool, caller, id)
	respond(c, t, err)
}

func (h *templateReads) basicExamples(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	out, err := VisibleTemplatesAsFlows(c.Request.Context(), h.pool, caller)
	respond(c, out, err)
}

func (h *templateReads) starterProjects(c *gin.Context) {
	out, err := starters.All()
	respond(c, out, err)
}
