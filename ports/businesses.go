package ports

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The writes of businesses: Add (#95), Patch (#98) and Remove Business
// (#99), Remove Business User (#105) and the business user roles (Upsert
// #102, Batch Remove #103, Remove #104). Each binds a request, resolves
// the tenant (Add: tenant_id of the body) or finds the business the
// caller may see (readapi.VisibleBusiness: 404 for one of another tenant),
// calls the commands.BusinessesHandler and answers what the read models
// show. Who may write is the route's declared privilege's answer. They
// are written by hand: the tenant a body names, and the business checked
// before the body, are not Write's.

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

// businesses is the port of the businesses' writes.
type businesses struct {
	p Port
	h *commands.BusinessesHandler
}

// Businesses registers the write operations of businesses.
func Businesses(p Port, h *commands.BusinessesHandler) {
	s, w := p.Server, &businesses{p: p, h: h}
	models := readapi.BusinessReadModels
	businessID := httpapi.Param{Name: "business_id", In: "path", Type: "integer", Place: tenancy.PlaceBusiness}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/businesses", Access: access.Tenant("businesses", "write"), Tag: "Business", Summary: "Add Business",
		Description: "Add a business to tenant_id (businesses.write in the tenant). Level 1 has no parent (first/second/third_business_id 0); " +
			"level 2 names an enabled level-1 parent in first_business_id; level 3 an enabled level-2 parent in " +
			"second_business_id and that parent's parent in first_business_id. The new business's own slot is its new id " +
			"(send 0). Invalid level/parent combinations 422; a name a sibling has (case-insensitive) 409.",
		Body: BusinessCreate{}, Response: readapi.BusinessRead{}, Status: http.StatusCreated, ReadModels: models, Handler: w.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "modify"), Tag: "Business",
		Summary: "Patch Business",
		Description: "Rename, enable or disable, change the note of, or move a business (businesses.modify in the business or its tenant); absent, null or 0 " +
			"fields stay as they are. A move changes the parent within the same level (a level change is 422): a level-2 " +
			"business takes its children along; a level-3 business named by second_business_id alone follows that " +
			"parent's first_business_id. Disabling a business with enabled sub-businesses, or enabling one under a " +
			"disabled parent, is 409.",
		Params: []httpapi.Param{businessID}, Body: BusinessUpdate{}, Response: readapi.BusinessRead{}, ReadModels: models,
		Handler: w.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary:     "Remove Business",
		Description: "Remove a business without sub-businesses or users (businesses.delete); otherwise 409 naming them.",
		Params:      []httpapi.Param{businessID}, Response: Detail{}, ReadModels: models, Handler: w.remove})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/users/{uid}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary: "Remove Business User",
		Description: "Remove a user's membership and roles in the business (businesses.delete); deleted_count is how many role " +
			"relations went (0 when the user had none).",
		Params:   []httpapi.Param{businessID, {Name: "uid", In: "path", Type: "integer"}},
		Response: BusinessUserDeleted{}, ReadModels: models, Handler: w.removeUser})
	s.Handle(httpapi.Operation{Method: http.MethodPut, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "modify"), Tag: "Business",
		Summary: "Upsert Business User Roles",
		Description: "Set a user's (uid or username) role set in the business (businesses.modify): roles missing are granted, " +
			"the others revoked; an empty role_ids removes the user's roles and membership. Every role must exist in the " +
			"permission catalogue (404 naming it), the user must exist (404). Granting needs an active user and an enabled " +
			"business (409); revoking does not. The answer is the user's role relations in the business (as Read Business " +
			"User Roles).",
		Params: []httpapi.Param{businessID}, Body: BusinessUserRolesUpsert{}, Response: []readapi.BusinessUserRoleRead{},
		ReadModels: models, Handler: w.setUserRoles})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "delete"), Tag: "Business",
		Summary: "Batch Remove Business User Role",
		Description: "Remove the business's role relations ids (businesses.delete); ids of other businesses or of none are " +
			"ignored. deleted_count is how many went. A user left without roles is no member of the business any more.",
		Params: []httpapi.Param{businessID}, Body: BusinessUserRoleIDs{}, Response: BusinessUserDeleted{},
		ReadModels: models, Handler: w.removeUserRoles})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles/{relation_id}", Access: access.Tenant("businesses", "delete"),
		Tag: "Business", Summary: "Remove Business User Role",
		Description: "Remove one role relation of the business (businesses.delete); 404 \"Business user role not found\" if the " +
			"business has none with this id.",
		Params:   []httpapi.Param{businessID, {Name: "relation_id", In: "path", Type: "integer", Place: tenancy.PlaceBusinessRelation}},
		Response: Detail{}, ReadModels: models, Handler: w.removeUserRole})
}

// answer answers a write on business id with its row, as the read models
// show the write.
func (w *businesses) answer(c *gin.Context, r commands.BusinessWritten, err error, status int) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), status, func(ctx context.Context, db readapi.DB) (readapi.BusinessRead, error) {
		return readapi.BusinessByID(ctx, db, r.ID)
	})
}

// managed answers the checks every write on one business makes: the
// path's integer parameters (business_id first) parse, and business_id
// names a business the caller may see (of the request's tenant). ids are
// the parsed parameters.
func (w *businesses) managed(c *gin.Context, params ...string) (b readapi.BusinessRead, ids []int64, ok bool) {
	for _, p := range params {
		id, ok := httpapi.PathInt(c, p)
		if !ok {
			return b, nil, false
		}
		ids = append(ids, id)
	}
	b, ok = readapi.VisibleBusiness(c, w.p.Pool, ids[0])
	return b, ids, ok
}

func (w *businesses) add(c *gin.Context) {
	var body BusinessCreate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tenant, ok := tenancy.Resolve(c, w.p.Pool, body.TenantID)
	if !ok {
		return
	}
	n := domain.NewBusiness{Name: *body.BusinessName, Level: *body.BusinessLevel, First: body.FirstBusinessID,
		Second: body.SecondBusinessID, Third: body.ThirdBusinessID, IsEnable: body.IsEnable == nil || *body.IsEnable,
		Note: body.Note}
	r, err := w.h.Add(c.Request.Context(), commands.AddBusiness{Tenant: tenant.ID, Meta: httpapi.Metadata(c, w.p.Clock()), Business: n})
	w.answer(c, r, err, http.StatusCreated)
}

func (w *businesses) patch(c *gin.Context) {
	id, ok := httpapi.PathInt(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUpdate
	if !httpapi.BindJSON(c, &body) {
		return
	}
	b, ok := readapi.VisibleBusiness(c, w.p.Pool, id)
	if !ok {
		return
	}
	ch := domain.BusinessChange{Name: body.BusinessName, Level: body.BusinessLevel, First: body.FirstBusinessID,
		Second: body.SecondBusinessID, Third: body.ThirdBusinessID, IsEnable: body.IsEnable, Note: body.Note}
	r, err := w.h.Change(c.Request.Context(), commands.ChangeBusiness{Tenant: b.TenantID, Meta: httpapi.Metadata(c, w.p.Clock()),
		BusinessID: id, TenantID: body.TenantID, Change: ch})
	w.answer(c, r, err, http.StatusOK)
}

func (w *businesses) remove(c *gin.Context) {
	b, _, ok := w.managed(c, "business_id")
	if !ok {
		return
	}
	r, err := w.h.Remove(c.Request.Context(), commands.RemoveBusiness{Tenant: b.TenantID, Meta: httpapi.Metadata(c, w.p.Clock()),
		BusinessID: b.BusinessID})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, w.p, r.Result.Last(), http.StatusOK, Detail{Detail: "Business deleted"})
}

func (w *businesses) removeUser(c *gin.Context) {
	b, ids, ok := w.managed(c, "business_id", "uid")
	if !ok {
		return
	}
	r, err := w.h.RemoveUser(c.Request.Context(), commands.RemoveBusinessUser{Tenant: b.TenantID, Meta: httpapi.Metadata(c, w.p.Clock()),
		BusinessID: b.BusinessID, UID: ids[1]})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, w.p, r.Result.Last(), http.StatusOK, BusinessUserDeleted{DeletedCount: r.Count})
}

func (w *businesses) setUserRoles(c *gin.Context) {
	b, _, ok := w.managed(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUserRolesUpsert
	if !httpapi.BindJSON(c, &body) {
		return
	}
	r, err := w.h.SetUserRoles(c.Request.Context(), commands.SetBusinessUserRoles{Tenant: b.TenantID, Meta: httpapi.Metadata(c, w.p.Clock()),
		BusinessID: b.BusinessID, UID: body.UID, Username: body.Username, RoleIDs: body.RoleIDs})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, w.p, r.Result.Last(), http.StatusOK, func(ctx context.Context, db readapi.DB) ([]readapi.BusinessUserRoleRead, error) {
		return readapi.ListBusinessUserRoles(ctx, db, b.BusinessID, r.UID, readapi.BusinessUserRolesQuery{SortBy: "role_id"})
	})
}

func (w *businesses) removeUserRoles(c *gin.Context) {
	b, _, ok := w.managed(c, "business_id")
	if !ok {
		return
	}
	var body BusinessUserRoleIDs
	if !httpapi.BindJSON(c, &body) {
		return
	}
	r, err := w.h.RemoveUserRoles(c.Request.Context(), commands.RemoveBusinessUserRoles{Tenant: b.TenantID,
		Meta: httpapi.Metadata(c, w.p.Clock()), BusinessID: b.BusinessID, IDs: body.IDs})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, w.p, r.Result.Last(), http.StatusOK, BusinessUserDeleted{DeletedCount: r.Count})
}

// removeUserRole waits for the read models to show what was removed
// before it answers, a 404 included.
func (w *businesses) removeUserRole(c *gin.Context) {
	b, ids, ok := w.managed(c, "business_id", "relation_id")
	if !ok {
		return
	}
	r, err := w.h.RemoveUserRole(c.Request.Context(), commands.RemoveBusinessUserRoles{Tenant: b.TenantID,
		Meta: httpapi.Metadata(c, w.p.Clock()), BusinessID: b.BusinessID, IDs: ids[1:]})
	if pos := r.Result.Last(); !pos.IsZero() {
		w.p.Server.Written(c, pos)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, Detail{Detail: "Business user role deleted"})
}
