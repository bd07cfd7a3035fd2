package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// SystemTenantName is the name the system tenant gets at first start.
const SystemTenantName = "System"

// msgTenantDeleted is Remove Tenant's answer.
const msgTenantDeleted = "Tenant deleted"

var (
	errTenantExists    = domain.Conflictf(domain.MsgTenantExists)
	errTenantNameTaken = domain.Conflictf(domain.MsgTenantNameTaken)
)

// Tenants serves the write side of tenants (Add, Patch and Remove Tenant).
// Create and remove are superusers' (access.Superuser); a change needs
// tenants.modify in the tenant; is_sys additionally needs a superuser.
type Tenants struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Clock  func() time.Time
	// Resources are the read models Remove Tenant looks at, in the order
	// its 409 names them (the modules' declarations).
	Resources []TenantResource
}

// TenantCreate is the body of Add Tenant. tenant_id may be given by the
// client (a new tenant's id); absent or null, one is generated.
type TenantCreate struct {
	TenantName string     `json:"tenant_name" binding:"required,max=64"`
	IsSys      *bool      `json:"is_sys"`
	IsActive   *bool      `json:"is_active"`
	Note       *string    `json:"note"`
	TenantID   *uuid.UUID `json:"tenant_id"`
}

// TenantUpdate is the body of Patch Tenant: absent or null fields stay as
// they are.
type TenantUpdate struct {
	TenantName *string `json:"tenant_name" binding:"omitempty,max=64"`
	IsSys      *bool   `json:"is_sys"`
	IsActive   *bool   `json:"is_active"`
	Note       *string `json:"note"`
}

// Routes registers the write operations of tenants.
func (h *Tenants) Routes(s *httpapi.Server) {
	models := readapi.TenantReadModels
	tenantID := []httpapi.Param{{Name: "tenant_id", In: "path", Format: "uuid", Place: tenancy.PlaceTenant}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/tenants", Access: access.Superuser(), Tag: "Tenants", Summary: "Add Tenant",
		Description: "Create a tenant (superusers). tenant_name (1 to 64 characters) is unique across the platform, " +
			"case-insensitively (409 \"Tenant name already exists\"). tenant_id may be chosen by the client; an id " +
			"already used, even by a removed tenant, is 409 \"Tenant already exists\".",
		Body: TenantCreate{}, Response: readapi.TenantRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/tenants/{tenant_id}", Access: access.Tenant("tenants", "modify"), Tag: "Tenants", Summary: "Patch Tenant",
		Description: "Change a tenant (tenants.modify in it); absent or null fields stay as they are. The system tenant cannot be " +
			"disabled (409).",
		Params: tenantID, Body: TenantUpdate{}, Response: readapi.TenantRead{}, ReadModels: models, Handler: h.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/{tenant_id}", Access: access.Superuser(), Tag: "Tenants", Summary: "Remove Tenant",
		Description: "Remove an empty tenant (superusers): while flows, projects, businesses, organizations or user groups " +
			"belong to it, 409 names them. The system tenant cannot be removed (409). Its name is free again.",
		Params: tenantID, Response: Detail{}, ReadModels: models, Handler: h.remove})
}

// tenantOwner is the claim owner of tenant id: its stream.
func tenantOwner(id uuid.UUID) string { return domain.TenantStream(id) }

// tenantNameClaims moves the name claim of tenant id from was to now (""
// for none): errTenantNameTaken if another tenant holds now.
func tenantNameClaims(ctx context.Context, repo *Repository, id uuid.UUID, now, was string) ([]Aggregate, error) {
	if domain.ClaimKey(now) == domain.ClaimKey(was) {
		return nil, nil
	}
	owner := tenantOwner(id)
	var out []Aggregate
	if now != "" {
		claim, err := loadClaim(ctx, repo, domain.TenantNameScope, now)
		if err != nil {
			return nil, err
		}
		if claim.Take(owner, domain.MsgTenantNameTaken) != nil {
			return nil, errTenantNameTaken
		}
		out = append(out, claim)
	}
	if was != "" {
		claim, err := loadClaim(ctx, repo, domain.TenantNameScope, was)
		if err != nil {
			return nil, err
		}
		claim.Release(owner)
		out = append(out, claim)
	}
	return out, nil
}

// loadTenant loads tenant id; an unknown or removed one is 404 "Tenant not
// found".
func loadTenant(ctx context.Context, repo *Repository, id uuid.UUID) (*domain.Tenant, error) {
	t := domain.LoadTenant(id)
	if err := repo.Load(ctx, t); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.NotFoundf(domain.MsgTenantNotFound)
		}
		return nil, err
	}
	if t.Deleted() {
		return nil, domain.NotFoundf(domain.MsgTenantNotFound)
	}
	return t, nil
}

// CreateTenant creates tenant id atomically with the claim of its name.
// An id already used (even by a removed tenant) is 409 "Tenant already
// exists", a taken name 409 "Tenant name already exists". md gets the
// tenant as its TenantID.
func CreateTenant(ctx context.Context, repo *Repository, id uuid.UUID, n domain.NewTenant, md eventstore.Metadata) (eventstore.AppendResult, error) {
	var res eventstore.AppendResult
	md.TenantID = id
	res, err := repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		if err := repo.Load(ctx, domain.LoadTenant(id)); err == nil {
			return nil, errTenantExists
		} else if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		t, err := domain.CreateTenant(id, n)
		if err != nil {
			return nil, err
		}
		claims, err := tenantNameClaims(ctx, repo, id, n.Name, "")
		if err != nil {
			return nil, err
		}
		return append([]Aggregate{t}, claims...), nil
	})
	return res, err
}

// EnsureSystemTenant creates the system tenant (id, called name, is_sys,
// active; it can be neither removed nor disabled) unless it exists.
// Idempotent: of nodes starting at once one creates it (its stream and its
// name claim are appended expecting no stream), the others find it.
func EnsureSystemTenant(ctx context.Context, repo *Repository, id uuid.UUID, name string, md eventstore.Metadata) (created bool, err error) {
	_, err = CreateTenant(ctx, repo, id, domain.NewTenant{Name: name, IsSys: true, IsActive: true, System: true}, md)
	switch {
	case errors.Is(err, errTenantExists):
		return false, nil
	case errors.Is(err, errTenantNameTaken):
		return false, fmt.Errorf("the system tenant's name %q is held by another tenant", name)
	}
	return err == nil, err
}

func (h *Tenants) add(c *gin.Context) {
	ctx := c.Request.Context()
	var body TenantCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	if body.IsSys != nil && *body.IsSys {
		if _, err := auth.RequireSuperuser(ctx); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	id := uuid.New()
	if body.TenantID != nil {
		id = *body.TenantID
	}
	n := domain.NewTenant{Name: body.TenantName, IsSys: derefB(body.IsSys), IsActive: body.IsActive == nil || *body.IsActive,
		Note: body.Note}
	res, err := CreateTenant(ctx, h.Repo, id, n, httpapi.Metadata(c, h.Clock()))
	h.answer(c, id, res, err, http.StatusCreated)
}

// answer answers a write on tenant id with its row, as the read model
// shows the write (readBack).
func (h *Tenants) answer(c *gin.Context, id uuid.UUID, res eventstore.AppendResult, err error, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.TenantRead, error) {
		return readapi.TenantByID(ctx, db, id)
	})
}

func (h *Tenants) patch(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := httpapi.PathUUID(c, "tenant_id")
	if !ok {
		return
	}
	var body TenantUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	md.TenantID = id
	var res eventstore.AppendResult
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		t, err := loadTenant(ctx, h.Repo, id)
		if err != nil {
			return nil, err
		}
		if body.IsSys != nil && *body.IsSys != t.State().IsSys {
			if _, err := auth.RequireSuperuser(ctx); err != nil {
				return nil, err
			}
		}
		old, err := t.Update(domain.TenantChange{Name: body.TenantName, IsSys: body.IsSys, IsActive: body.IsActive, Note: body.Note})
		if err != nil {
			return nil, err
		}
		var claims []Aggregate
		if old != "" {
			if claims, err = tenantNameClaims(ctx, h.Repo, id, t.State().TenantName, old); err != nil {
				return nil, err
			}
		}
		return append([]Aggregate{t}, claims...), nil
	})
	h.answer(c, id, res, err, http.StatusOK)
}

func (h *Tenants) remove(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := httpapi.PathUUID(c, "tenant_id")
	if !ok {
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	md.TenantID = id
	var res eventstore.AppendResult
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		t, err := loadTenant(ctx, h.Repo, id)
		if err != nil {
			return nil, err
		}
		if err := t.Delete(); err != nil {
			return nil, err
		}
		if err := tenantEmpty(ctx, h.Pool, h.Resources, t); err != nil {
			return nil, err
		}
		claims, err := tenantNameClaims(ctx, h.Repo, id, "", t.State().TenantName)
		if err != nil {
			return nil, err
		}
		return append([]Aggregate{t}, claims...), nil
	})
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: msgTenantDeleted})
}

// TenantResource is a read model whose rows belong to a tenant (column
// tenant_id; the rows with is_deleted true, where the table has it, do
// not count): while one of its rows names a tenant, the tenant cannot be
// removed. Modules declare theirs (app.TenantResourcer); One and Many name
// a row in the 409.
type TenantResource struct {
	Table, One, Many string
}

// tenantEmpty returns a 409 naming what still belongs to tenant t, or nil.
// It reads the read models, which show every write that has answered.
func tenantEmpty(ctx context.Context, pool *pgxpool.Pool, resources []TenantResource, t *domain.Tenant) error {
	names := make([]string, len(resources))
	for i, r := range resources {
		names[i] = r.Table
	}
	rows, _ := pool.Query(ctx, `SELECT table_name::text, bool_or(column_name = 'is_deleted')
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)
GROUP BY table_name HAVING bool_or(column_name = 'tenant_id')`, names)
	soft := map[string]bool{}
	present, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (string, error) {
		var (
			name string
			del  bool
		)
		err := row.Scan(&name, &del)
		soft[name] = del
		return name, err
	})
	if err != nil {
		return fmt.Errorf("tables of tenant data: %w", err)
	}
	var (
		counts []string
		found  []TenantResource
	)
	for _, r := range resources {
		if !slices.Contains(present, r.Table) {
			continue
		}
		q := `(SELECT count(*) FROM ` + r.Table + ` WHERE tenant_id = $1`
		if soft[r.Table] {
			q += ` AND NOT is_deleted`
		}
		counts, found = append(counts, q+`)`), append(found, r)
	}
	if len(found) == 0 {
		return nil
	}
	n := make([]int64, len(found))
	dst := make([]any, len(found))
	for i := range n {
		dst[i] = &n[i]
	}
	if err := pool.QueryRow(ctx, `SELECT `+strings.Join(counts, ", "), t.ID()).Scan(dst...); err != nil {
		return fmt.Errorf("data of tenant %s: %w", t.ID(), err)
	}
	var blocks []string
	for i, r := range found {
		switch {
		case n[i] == 1:
			blocks = append(blocks, "1 "+r.One)
		case n[i] > 1:
			blocks = append(blocks, fmt.Sprintf("%d %s", n[i], r.Many))
		}
	}
	if len(blocks) == 0 {
		return nil
	}
	list := blocks[0]
	if k := len(blocks); k > 1 {
		list = strings.Join(blocks[:k-1], ", ") + " and " + blocks[k-1]
	}
	return domain.Conflictf("Tenant \"%s\" still has %s", t.State().TenantName, list)
}
