package commands

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Businesses serves the write side of businesses: Add (#95), Patch (#98)
// and Remove Business (#99), Remove Business User (#105) and the business
// user roles (Upsert #102, Batch Remove #103, Remove #104). Every write
// loads the tenant's BusinessTree, decides, and appends to its stream
// with the revision it loaded (a lost race is decided again, up to
// its race rule, then 409: Repository.Update). Who may write is the route's declared privilege's
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

// BusinessUserDeleted is Remove Business User's answer: how many of the
// user's role relations in the business were removed.
type BusinessUserDeleted struct {
	DeletedCount int `json:"deleted_count"`
}

// Routes registers the write operations of businesses.
func (h *Businesses) Routes(s *httpapi.Server) {
	models := readapi.BusinessReadModels
	businessID := httpapi.Param{Name: "business_id", In: "path", Type: "integer", Place: tenancy.PlaceBusiness}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/businesses", Access: access.Tenant("businesses", "write"), Tag: "Business", Summary: "Add Business",
		Description: "Add a business to tenant_id (businesses.write in the tenant). Level 1 has no parent (first/second/third_business_id 0); " +
			"level 2 names an enabled level-1 parent in first_business_id; level 3 an enabled level-2 parent in " +
			"second_business_id and that parent's parent in first_business_id. The new business's own slot is its new id " +
			"(send 0). Invalid level/parent combinations 422; a name a sibling has (case-insensitive) 409.",
		Body: BusinessCreate{}, Response: readapi.BusinessRead{}, Status: http.StatusCreated, ReadModels: models, Handler: h.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "modify"), Tag: "Business",
		Summary: "Patch Business",
		Description: "Rename, enable or disable, change the note of, or move a business (businesses.modify in the business or its tenant); absent, null or 0 " +
			"fields stay as they are. A move changes the parent within the same level (a level change is 422): a level-2 " +
			"business takes its children along; a level-3 business named by second_business_id alone follows that " +
			"parent's first_business_id. Disabling a business with enabled sub-businesses, or enabling one under a " +
			"disabled parent, is 409.",
		Params: []httpapi.Param{businessID}, Body: BusinessUpdate{}, Response: readapi.BusinessRead{}, ReadModels: models,
		Handler: h.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary:     "Remove Business",
		Description: "Remove a business without sub-businesses or users (businesses.delete); otherwise 409 naming them.",
		Params:      []httpapi.Param{businessID}, Response: Detail{}, ReadModels: models, Handler: h.remove})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/users/{uid}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary: "Remove Business User",
		Description: "Remove a user's membership and roles in the business (businesses.delete); deleted_count is how many role " +
			"relations went (0 when the user had none).",
		Params:   []httpapi.Param{businessID, {Name: "uid", In: "path", Type: "integer"}},
		Response: BusinessUserDeleted{}, ReadModels: models, Handler: h.removeUser})
	h.userRoleRoutes(s)
}

// decide loads tenant's tree, runs fn on it and saves what it recorded,
// with md's tenant and business; a lost race decides again. The result is
// empty when nothing was recorded.
func (h *Businesses) decide(ctx context.Context, tenant uuid.UUID, business int64, md eventstore.Metadata,
	fn func(t *domain.BusinessTree) error) (eventstore.AppendResult, error) {
	md.TenantID, md.BusinessID = tenant, business
	return decideAgain(ctx, h.Repo, func() *domain.BusinessTree { return domain.LoadBusinessTree(tenant) }, fn, md)
}

// answer answers a write on business id with its row, as the read
// models show the write (readBack).
func (h *Businesses) answer(c *gin.Context, id int64, res eventstore.AppendResult, status int) {
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, status, func(ctx context.Context, db readapi.DB) (readapi.BusinessRead, error) {
		return readapi.BusinessByID(ctx, db, id)
	})
}

func (h *Businesses) add(c *gin.Context) {
	ctx := c.Request.Context()
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
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, Detail{Detail: "Business deleted"})
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
	answerValue(c, h.Server, res.Last(), err, http.StatusOK, BusinessUserDeleted{DeletedCount: n})
}

// BusinessUserRolesUpsert is the body of Upsert Business User Roles: the
// user (uid or username; both must then name the same user) and the role
// set they are to hold in the business.
type BusinessUserRolesUpsert struct {
	UID      *int64   `json:"uid"`
	Username *string  `json:"username"`
	RoleIDs  []string `json:"role_ids"`
}

// BusinessUserRoleIDs is the body of Batch Remove Business User Role.
type BusinessUserRoleIDs struct {
	IDs []int64 `json:"ids" binding:"required"`
}

// MsgBusinessUserRoleNotFound answers about a role relation the business
// does not have.
const MsgBusinessUserRoleNotFound = "Business user role not found"

func (h *Businesses) userRoleRoutes(s *httpapi.Server) {
	models := readapi.BusinessReadModels
	businessID := httpapi.Param{Name: "business_id", In: "path", Type: "integer", Place: tenancy.PlaceBusiness}
	s.Handle(httpapi.Operation{Method: http.MethodPut, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "modify"), Tag: "Business",
		Summary: "Upsert Business User Roles",
		Description: "Set a user's (uid or username) role set in the business (businesses.modify): roles missing are granted, " +
			"the others revoked; an empty role_ids removes the user's roles and membership. Every role must exist in the " +
			"permission catalogue (404 naming it), the user must exist (404). Granting needs an active user and an enabled " +
			"business (409); revoking does not. The answer is the user's role relations in the business (as Read Business " +
			"User Roles).",
		Params: []httpapi.Param{businessID}, Body: BusinessUserRolesUpsert{}, Response: []readapi.BusinessUserRoleRead{},
		ReadModels: models, Handler: h.setUserRoles})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary: "Batch Remove Business User Role",
		Description: "Remove the business's role relations ids (businesses.delete); ids of other businesses or of none are " +
			"ignored. deleted_count is how many went. A user left without roles is no member of the business any more.",
		Params: []httpapi.Param{businessID}, Body: BusinessUserRoleIDs{}, Response: BusinessUserDeleted{},
		ReadModels: models, Handler: h.removeUserRoles})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles/{relation_id}", Access: access.Tenant("businesses", "delete"),
		Tag: "Business", Summary: "Remove Business User Role",
		Description: "Remove one role relation of the business (businesses.delete); 404 \"Business user role not found\" if the " +
			"business has none with this id.",
		Params:   []httpapi.Param{businessID, {Name: "relation_id", In: "path", Type: "integer", Place: tenancy.PlaceBusinessRelation}},
		Response: Detail{}, ReadModels: models, Handler: h.removeUserRole})
}

// businessRoleUser finds the user of an Upsert body in the users read
// model: its id and whether it is active; 404 "User not found".
func (h *Businesses) businessRoleUser(ctx context.Context, body BusinessUserRolesUpsert) (int64, bool, error) {
	var (
		id     int64
		active bool
		err    error
	)
	switch {
	case body.UID != nil:
		err = h.Pool.QueryRow(ctx, `SELECT id, is_active FROM users WHERE id = $1`, *body.UID).Scan(&id, &active)
		if err == nil && body.Username != nil {
			var name string
			if err = h.Pool.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, id).Scan(&name); err == nil &&
				domain.ClaimKey(name) != domain.ClaimKey(*body.Username) {
				return 0, false, domain.Invalidf("uid %d and username %q name different users", id, *body.Username)
			}
		}
	case body.Username != nil:
		err = h.Pool.QueryRow(ctx, `SELECT id, is_active FROM users WHERE lower(username) = lower($1) ORDER BY id LIMIT 1`,
			*body.Username).Scan(&id, &active)
	default:
		return 0, false, domain.Invalidf("uid or username is required")
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, domain.NotFoundf("User not found")
	}
	return id, active, err
}

func (h *Businesses) setUserRoles(c *gin.Context) {
	b, _, ok := h.managed(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUserRolesUpsert
	if !httpapi.BindJSON(c, &body) {
		return
	}
	ctx := c.Request.Context()
	uid, active, err := h.businessRoleUser(ctx, body)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var roles []string
	seen := map[string]bool{}
	for _, r := range body.RoleIDs {
		if !seen[r] {
			seen[r] = true
			roles = append(roles, r)
		}
	}
	if len(roles) > 0 {
		cat, err := loadOrNew(ctx, h.Repo, domain.NewPermissionCatalogue)
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		for _, r := range roles {
			if _, ok := cat.Role(r); !ok {
				httpapi.Fail(c, domain.NotFoundf("Role %q not found", r))
				return
			}
		}
	}
	ids := make([]int64, len(roles))
	for i := range ids {
		if ids[i], err = h.IDs.Next(ctx, "role_relation"); err != nil {
			httpapi.Fail(c, err)
			return
		}
	}
	ch := domain.BusinessUserRolesChange{UID: uid, Active: active, Roles: roles, NewIDs: ids}
	res, err := h.decide(ctx, b.TenantID, b.BusinessID, httpapi.Metadata(c, h.Clock()), func(t *domain.BusinessTree) error {
		return t.SetUserRoles(b.BusinessID, ch)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerWrite(c, h.Server, h.Pool, res.Last(), nil, http.StatusOK, func(ctx context.Context, db readapi.DB) ([]readapi.BusinessUserRoleRead, error) {
		return readapi.ListBusinessUserRoles(ctx, db, b.BusinessID, uid, readapi.BusinessUserRolesQuery{SortBy: "role_id"})
	})
}

// dropUserRoles removes relation ids of business b; it answers how many
// went, or fails (ok false).
func (h *Businesses) dropUserRoles(c *gin.Context, b readapi.BusinessRead, ids []int64) (int, bool) {
	var n int
	res, err := h.decide(c.Request.Context(), b.TenantID, b.BusinessID, httpapi.Metadata(c, h.Clock()),
		func(t *domain.BusinessTree) (err error) {
			n, err = t.RemoveUserRoles(b.BusinessID, ids)
			return err
		})
	if err != nil {
		httpapi.Fail(c, err)
		return 0, false
	}
	if len(res.Positions) > 0 {
		h.Server.Written(c, res.Last())
	}
	return n, true
}

func (h *Businesses) removeUserRoles(c *gin.Context) {
	b, _, ok := h.managed(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUserRoleIDs
	if !httpapi.BindJSON(c, &body) {
		return
	}
	if n, ok := h.dropUserRoles(c, b, body.IDs); ok {
		c.JSON(http.StatusOK, BusinessUserDeleted{DeletedCount: n})
	}
}

func (h *Businesses) removeUserRole(c *gin.Context) {
	b, ids, ok := h.managed(c, "business_id", "relation_id")
	if !ok {
		return
	}
	n, ok := h.dropUserRoles(c, b, ids[1:])
	switch {
	case !ok:
	case n == 0:
		httpapi.Fail(c, domain.NotFoundf(MsgBusinessUserRoleNotFound))
	default:
		c.JSON(http.StatusOK, Detail{Detail: "Business user role deleted"})
	}
}
