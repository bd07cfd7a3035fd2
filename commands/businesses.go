package commands

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Businesses serves the write side of businesses: Add (#95), Patch (#98)
// and Remove Business (#99), and Remove Business User (#105). Every write
// loads the tenant's BusinessTree, decides, and appends to its stream
// with the revision it loaded (a lost race is decided again, up to
// retryOnRace's limit, then 409). Who may write is tenancy.Manage's
// answer.
type Businesses struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	IDs    IDs
	Clock  func() time.Time
}

// BusinessCreate is the body of Add Business.
type BusinessCreate struct {
	TenantID         *uuid.UUID `json:"tenant_id" binding:"required"`
	BusinessName     *string    `json:"business_name" binding:"required,max=64"`
	BusinessLevel    *int       `json:"business_level" binding:"required"`
	FirstBusinessID  int64      `json:"first_business_id"`
	SecondBusinessID int64      `json:"second_business_id"`
	ThirdBusinessID  int64      `json:"third_business_id"`
	IsEnable         *bool      `json:"is_enable"`
	Note             *string    `json:"note"`
}

// BusinessUpdate is the body of Patch Business: absent or null fields stay
// as they are, and so do a level or ancestor id of 0.
type BusinessUpdate struct {
	TenantID         *uuid.UUID `json:"tenant_id"`
	BusinessName     *string    `json:"business_name" binding:"omitempty,max=64"`
	BusinessLevel    *int       `json:"business_level"`
	FirstBusinessID  *int64     `json:"first_business_id"`
	SecondBusinessID *int64     `json:"second_business_id"`
	ThirdBusinessID  *int64     `json:"third_business_id"`
	IsEnable         *bool      `json:"is_enable"`
	Note             *string    `json:"note"`
}

// BusinessDeleted is Remove Business's answer.
type BusinessDeleted struct {
	Detail string `json:"detail"`
}

// BusinessUserDeleted is Remove Business User's answer: how many of the
// user's role relations in the business were removed.
type BusinessUserDeleted struct {
	DeletedCount int `json:"deleted_count"`
}

// Routes registers the write operations of businesses.
func (h *Businesses) Routes(s *httpapi.Server) {
	models := readapi.BusinessReadModels
	businessID := httpapi.Param{Name: "business_id", In: "path", Type: "integer"}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/businesses", Tag: "Business", Summary: "Add Business",
		Description: "Add a business to tenant_id (superusers). Level 1 has no parent (first/second/third_business_id 0); " +
			"level 2 names an enabled level-1 parent in first_business_id; level 3 an enabled level-2 parent in " +
			"second_business_id and that parent's parent in first_business_id. The new business's own slot is its new id " +
			"(send 0). Invalid level/parent combinations 422; a name a sibling has (case-insensitive) 409.",
		Body: BusinessCreate{}, Response: readapi.BusinessRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/businesses/{business_id}", Tag: "Business",
		Summary: "Patch Business",
		Description: "Rename, enable or disable, change the note of, or move a business (superusers); absent, null or 0 " +
			"fields stay as they are. A move changes the parent within the same level (a level change is 422): a level-2 " +
			"business takes its children along; a level-3 business named by second_business_id alone follows that " +
			"parent's first_business_id. Disabling a business with enabled sub-businesses, or enabling one under a " +
			"disabled parent, is 409.",
		Params: []httpapi.Param{businessID}, Body: BusinessUpdate{}, Response: readapi.BusinessRead{}, ReadModels: models,
		Handler: h.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}", Tag: "Business",
		Summary:     "Remove Business",
		Description: "Remove a business without sub-businesses or users (superusers); otherwise 409 naming them.",
		Params:      []httpapi.Param{businessID}, Response: BusinessDeleted{}, ReadModels: models, Handler: h.remove})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/users/{uid}", Tag: "Business",
		Summary: "Remove Business User",
		Description: "Remove a user's membership and roles in the business (superusers); deleted_count is how many role " +
			"relations went (0 when the user had none: business roles come with the RBAC operations).",
		Params:   []httpapi.Param{businessID, {Name: "uid", In: "path", Type: "integer"}},
		Response: BusinessUserDeleted{}, ReadModels: models, Handler: h.removeUser})
}

// businessSaveAttempts bounds how often a write decides again after
// losing a race (as retryOnRace does for the other writes).
const businessSaveAttempts = 5

// decide loads tenant's tree, runs fn on it and saves what it recorded,
// with md's tenant and business; a lost race decides again. The result is
// empty when nothing was recorded.
func (h *Businesses) decide(ctx context.Context, tenant uuid.UUID, business int64, md eventstore.Metadata,
	fn func(t *domain.BusinessTree) error) (eventstore.AppendResult, error) {
	md.TenantID, md.BusinessID = tenant, business
	return decideAgain(ctx, h.Repo, businessSaveAttempts, func() *domain.BusinessTree { return domain.LoadBusinessTree(tenant) }, fn, md)
}

// answer answers a write on business id with its row, once the read
// models show the write.
func (h *Businesses) answer(c *gin.Context, id int64, res eventstore.AppendResult, status int) {
	if len(res.Positions) > 0 {
		h.Server.Written(c, res.Last())
	}
	b, err := readapi.BusinessByID(c.Request.Context(), h.Pool, id)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, b)
}

func (h *Businesses) add(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := tenancy.Manage(ctx); err != nil {
		httpapi.Fail(c, err)
		return
	}
	var body BusinessCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := tenancy.Resolve(c, h.Pool, body.TenantID)
	if !ok {
		return
	}
	n := domain.NewBusiness{Name: *body.BusinessName, Level: *body.BusinessLevel, First: body.FirstBusinessID,
		Second: body.SecondBusinessID, Third: body.ThirdBusinessID, IsEnable: body.IsEnable == nil || *body.IsEnable,
		Note: body.Note}
	if err := n.Check(); err != nil { // before an id is spent on it
		httpapi.Fail(c, err)
		return
	}
	id, err := h.IDs.Next(ctx, "business")
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	res, err := h.decide(ctx, tenant.ID, id, httpapi.Metadata(c, h.Clock()), func(t *domain.BusinessTree) error {
		return t.Add(id, n)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answer(c, id, res, http.StatusCreated)
}

// managed answers the checks every write on one business makes: the
// caller may manage, the path's integer parameters (business_id first)
// parse, and business_id names a business of the request's tenant. ids
// are the parsed parameters.
func (h *Businesses) managed(c *gin.Context, params ...string) (b readapi.BusinessRead, ids []int64, ok bool) {
	if _, err := tenancy.Manage(c.Request.Context()); err != nil {
		httpapi.Fail(c, err)
		return b, nil, false
	}
	for _, p := range params {
		id, ok := httpapi.PathInt(c, p)
		if !ok {
			return b, nil, false
		}
		ids = append(ids, id)
	}
	b, ok = readapi.VisibleBusiness(c, h.Pool, ids[0])
	return b, ids, ok
}

func (h *Businesses) patch(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := tenancy.Manage(ctx); err != nil {
		httpapi.Fail(c, err)
		return
	}
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	b, ok := readapi.VisibleBusiness(c, h.Pool, id)
	if !ok {
		return
	}
	if body.TenantID != nil && *body.TenantID != b.TenantID {
		httpapi.Fail(c, domain.Invalidf("tenant_id: business %d belongs to tenant %s and cannot move to another tenant",
			id, b.TenantID))
		return
	}
	ch := domain.BusinessChange{Name: body.BusinessName, Level: body.BusinessLevel, First: body.FirstBusinessID,
		Second: body.SecondBusinessID, Third: body.ThirdBusinessID, IsEnable: body.IsEnable, Note: body.Note}
	res, err := h.decide(ctx, b.TenantID, id, httpapi.Metadata(c, h.Clock()), func(t *domain.BusinessTree) error {
		return t.Change(id, ch)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answer(c, id, res, http.StatusOK)
}

func (h *Businesses) remove(c *gin.Context) {
	b, _, ok := h.managed(c, "business_id")
	if !ok {
		return
	}
	res, err := h.decide(c.Request.Context(), b.TenantID, b.BusinessID, httpapi.Metadata(c, h.Clock()),
		func(t *domain.BusinessTree) error { return t.Remove(b.BusinessID) })
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.Server.Written(c, res.Last())
	c.JSON(http.StatusOK, BusinessDeleted{Detail: "Business deleted"})
}

func (h *Businesses) removeUser(c *gin.Context) {
	b, ids, ok := h.managed(c, "business_id", "uid")
	if !ok {
		return
	}
	uid := ids[1]
	var n int
	res, err := h.decide(c.Request.Context(), b.TenantID, b.BusinessID, httpapi.Metadata(c, h.Clock()),
		func(t *domain.BusinessTree) (err error) {
			n, err = t.RemoveUser(b.BusinessID, uid)
			return err
		})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if len(res.Positions) > 0 {
		h.Server.Written(c, res.Last())
	}
	c.JSON(http.StatusOK, BusinessUserDeleted{DeletedCount: n})
}
