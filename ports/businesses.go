package ports

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The writes of businesses: Add (#95), Patch (#98) and Remove Business
// (#99), Remove Business User (#105) and the business user roles (Upsert
// #102, Batch Remove #103, Remove #104). Each binds a request, resolves
// the tenant (Add: tenant_id of the body) or finds the business the
// caller may see (readapi.VisibleBusiness: 404 for one of another tenant),
// calls the commands.BusinessesHandler and answers what the read models
// show. Who may write is the route's declared privilege's answer.

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

// inBusiness are the fields of a write on the business its path names,
// to embed in its request: the business, which must be one the caller
// may see (visibleBusiness, the write's Check), the tenant of that
// business, which the command acts in, and the events' metadata.
type inBusiness struct {
	BusinessID int64 `path:"business_id" place:"business"`
	// Tenant is the business's tenant, set by visibleBusiness.
	Tenant uuid.UUID
	Meta   eventstore.Metadata `meta:""`
}

// business returns b, the part of a request visibleBusiness checks.
func (b *inBusiness) business() *inBusiness { return b }

// visibleBusiness is the Check of a write on one business, whose request
// is a C: business_id must name a business the caller may see
// (readapi.VisibleBusiness: of the X-Tenant-Id header's tenant, else the
// system tenant's, but any for a superuser naming none; 404 for one of
// another tenant as for none), whose tenant the command then acts in.
// The header decides, which the use case does not see: so the check is
// the port's.
func visibleBusiness[C any, PC interface {
	*C
	business() *inBusiness
}](p Port) func(*gin.Context, *C) bool {
	return func(c *gin.Context, cmd *C) bool {
		in := PC(cmd).business()
		b, ok := readapi.VisibleBusiness(c, p.Pool, in.BusinessID)
		in.Tenant = b.TenantID
		return ok
	}
}

// The requests of the businesses' writes: where each part of the command
// comes from (see Write). Add Business names its tenant in the body; the
// others act on the business the path names (inBusiness), checked after
// the body (Patch Business) or before it (the user roles': BodyLast), as
// the older port did.
type (
	addBusiness struct {
		InTenant
		Body BusinessCreate `body:""`
	}
	patchBusiness struct {
		inBusiness
		Body BusinessUpdate `body:""`
	}
	removeBusinessUser struct {
		inBusiness
		UID int64 `path:"uid"`
	}
	setBusinessUserRoles struct {
		inBusiness
		Body BusinessUserRolesUpsert `body:""`
	}
	removeBusinessUserRoles struct {
		inBusiness
		Body BusinessUserRoleIDs `body:""`
	}
	removeBusinessUserRole struct {
		inBusiness
		RelationID int64 `path:"relation_id" place:"business_relation"`
	}
)

// Businesses registers the write operations of businesses.
func Businesses(p Port, h *commands.BusinessesHandler) {
	models := readapi.BusinessReadModels
	Write[addBusiness, commands.BusinessWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/businesses", Access: access.Tenant("businesses", "write"), Tag: "Business", Summary: "Add Business",
			Description: "Add a business to tenant_id (businesses.write in the tenant). Level 1 has no parent (first/second/third_business_id 0); " +
				"level 2 names an enabled level-1 parent in first_business_id; level 3 an enabled level-2 parent in " +
				"second_business_id and that parent's parent in first_business_id. The new business's own slot is its new id " +
				"(send 0). Invalid level/parent combinations 422; a name a sibling has (case-insensitive) 409.",
			Response: readapi.BusinessRead{}, Status: http.StatusCreated, ReadModels: models},
		TenantParam: func(r addBusiness) *uuid.UUID { return r.Body.TenantID },
		Handle: func(ctx context.Context, r addBusiness) (commands.BusinessWritten, eventstore.Position, error) {
			b := r.Body
			n := domain.NewBusiness{Name: *b.BusinessName, Level: *b.BusinessLevel, First: b.FirstBusinessID,
				Second: b.SecondBusinessID, Third: b.ThirdBusinessID, IsEnable: b.IsEnable == nil || *b.IsEnable, Note: b.Note}
			w, err := h.Add(ctx, commands.AddBusiness{Tenant: r.Tenant, Meta: r.Meta, Business: n})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ addBusiness, w commands.BusinessWritten) (any, error) {
			return readapi.BusinessByID(ctx, db, w.ID)
		},
	}.Register(p)
	Write[patchBusiness, commands.BusinessWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "modify"), Tag: "Business",
			Summary: "Patch Business",
			Description: "Rename, enable or disable, change the note of, or move a business (businesses.modify in the business or its tenant); absent, null or 0 " +
				"fields stay as they are. A move changes the parent within the same level (a level change is 422): a level-2 " +
				"business takes its children along; a level-3 business named by second_business_id alone follows that " +
				"parent's first_business_id. Disabling a business with enabled sub-businesses, or enabling one under a " +
				"disabled parent, is 409.",
			Response: readapi.BusinessRead{}, ReadModels: models},
		Check: visibleBusiness[patchBusiness](p),
		Handle: func(ctx context.Context, r patchBusiness) (commands.BusinessWritten, eventstore.Position, error) {
			b := r.Body
			ch := domain.BusinessChange{Name: b.BusinessName, Level: b.BusinessLevel, First: b.FirstBusinessID,
				Second: b.SecondBusinessID, Third: b.ThirdBusinessID, IsEnable: b.IsEnable, Note: b.Note}
			w, err := h.Change(ctx, commands.ChangeBusiness{Tenant: r.Tenant, Meta: r.Meta, BusinessID: r.BusinessID,
				TenantID: b.TenantID, Change: ch})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchBusiness, w commands.BusinessWritten) (any, error) {
			return readapi.BusinessByID(ctx, db, w.ID)
		},
	}.Register(p)
	Write[inBusiness, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
			Summary:     "Remove Business",
			Description: "Remove a business without sub-businesses or users (businesses.delete); otherwise 409 naming them.",
			Response:    Detail{}, ReadModels: models},
		Check: visibleBusiness[inBusiness](p),
		Handle: func(ctx context.Context, r inBusiness) (Detail, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveBusiness{Tenant: r.Tenant, Meta: r.Meta, BusinessID: r.BusinessID})
			return Detail{Detail: "Business deleted"}, w.Result.Last(), err
		},
	}.Register(p)
	Write[removeBusinessUser, BusinessUserDeleted]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/users/{uid}", Access: access.Tenant("businesses", "delete"), Tag: "Business",
			Summary: "Remove Business User",
			Description: "Remove a user's membership and roles in the business (businesses.delete); deleted_count is how many role " +
				"relations went (0 when the user had none).",
			Response: BusinessUserDeleted{}, ReadModels: models},
		Check: visibleBusiness[removeBusinessUser](p),
		Handle: func(ctx context.Context, r removeBusinessUser) (BusinessUserDeleted, eventstore.Position, error) {
			w, err := h.RemoveUser(ctx, commands.RemoveBusinessUser{Tenant: r.Tenant, Meta: r.Meta, BusinessID: r.BusinessID,
				UID: r.UID})
			return BusinessUserDeleted{DeletedCount: w.Count}, w.Result.Last(), err
		},
	}.Register(p)
	Write[setBusinessUserRoles, commands.BusinessUserRolesSet]{
		Op: httpapi.Operation{Method: http.MethodPut, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "modify"), Tag: "Business",
			Summary: "Upsert Business User Roles",
			Description: "Set a user's (uid or username) role set in the business (businesses.modify): roles missing are granted, " +
				"the others revoked; an empty role_ids removes the user's roles and membership. Every role must exist in the " +
				"permission catalogue (404 naming it), the user must exist (404). Granting needs an active user and an enabled " +
				"business (409); revoking does not. The answer is the user's role relations in the business (as Read Business " +
				"User Roles).",
			Response: []readapi.BusinessUserRoleRead{}, ReadModels: models},
		Check:    visibleBusiness[setBusinessUserRoles](p),
		BodyLast: true,
		Handle: func(ctx context.Context, r setBusinessUserRoles) (commands.BusinessUserRolesSet, eventstore.Position, error) {
			w, err := h.SetUserRoles(ctx, commands.SetBusinessUserRoles{Tenant: r.Tenant, Meta: r.Meta, BusinessID: r.BusinessID,
				UID: r.Body.UID, Username: r.Body.Username, RoleIDs: r.Body.RoleIDs})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r setBusinessUserRoles, w commands.BusinessUserRolesSet) (any, error) {
			return readapi.ListBusinessUserRoles(ctx, db, r.BusinessID, w.UID, readapi.BusinessUserRolesQuery{SortBy: "role_id"})
		},
	}.Register(p)
	Write[removeBusinessUserRoles, BusinessUserDeleted]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles", Access: access.Tenant("businesses", "delete"), Tag: "Business",
			Summary: "Batch Remove Business User Role",
			Description: "Remove the business's role relations ids (businesses.delete); ids of other businesses or of none are " +
				"ignored. deleted_count is how many went. A user left without roles is no member of the business any more.",
			Response: BusinessUserDeleted{}, ReadModels: models},
		Check:    visibleBusiness[removeBusinessUserRoles](p),
		BodyLast: true,
		Handle: func(ctx context.Context, r removeBusinessUserRoles) (BusinessUserDeleted, eventstore.Position, error) {
			w, err := h.RemoveUserRoles(ctx, commands.RemoveBusinessUserRoles{Tenant: r.Tenant, Meta: r.Meta,
				BusinessID: r.BusinessID, IDs: r.Body.IDs})
			return BusinessUserDeleted{DeletedCount: w.Count}, w.Result.Last(), err
		},
	}.Register(p)
	// A removal of no relation appends nothing and is 404
	// (commands.BusinessesHandler.RemoveUserRole).
	Write[removeBusinessUserRole, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/businesses/{business_id}/user-roles/{relation_id}", Access: access.Tenant("businesses", "delete"),
			Tag: "Business", Summary: "Remove Business User Role",
			Description: "Remove one role relation of the business (businesses.delete); 404 \"Business user role not found\" if the " +
				"business has none with this id.",
			Response: Detail{}, ReadModels: models},
		Check: visibleBusiness[removeBusinessUserRole](p),
		Handle: func(ctx context.Context, r removeBusinessUserRole) (Detail, eventstore.Position, error) {
			w, err := h.RemoveUserRole(ctx, commands.RemoveBusinessUserRoles{Tenant: r.Tenant, Meta: r.Meta,
				BusinessID: r.BusinessID, IDs: []int64{r.RelationID}})
			return Detail{Detail: "Business user role deleted"}, w.Result.Last(), err
		},
	}.Register(p)
}
