package ports

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The tenants' writes: each binds a request, calls the
// commands.TenantsHandler and answers what the read model shows. Add and
// Remove Tenant are superusers' (access.Superuser); Patch Tenant needs
// tenants.modify in the tenant its path names.

// msgTenantDeleted is Remove Tenant's answer.
const msgTenantDeleted = "Tenant deleted"

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

// The requests of the tenants' writes: where each part of the command
// comes from (see Write).
type (
	addTenant struct {
		Body TenantCreate        `body:""`
		Meta eventstore.Metadata `meta:""`
	}
	patchTenant struct {
		TenantID uuid.UUID           `path:"tenant_id" place:"tenant"`
		Body     TenantUpdate        `body:""`
		Meta     eventstore.Metadata `meta:""`
	}
	removeTenant struct {
		TenantID uuid.UUID           `path:"tenant_id" place:"tenant"`
		Meta     eventstore.Metadata `meta:""`
	}
)

// Tenants registers the write operations of tenants.
func Tenants(p Port, h *commands.TenantsHandler) {
	models := readapi.TenantReadModels
	answer := func(ctx context.Context, db readapi.DB, w commands.TenantWritten) (any, error) {
		return readapi.TenantByID(ctx, db, w.ID)
	}
	Write[addTenant, commands.TenantWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/tenants", Access: access.Superuser(), Tag: "Tenants", Summary: "Add Tenant",
			Description: "Create a tenant (superusers). tenant_name (1 to 64 characters) is unique across the platform, " +
				"case-insensitively (409 \"Tenant name already exists\"). tenant_id may be chosen by the client; an id " +
				"already used, even by a removed tenant, is 409 \"Tenant already exists\".",
			Response: readapi.TenantRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addTenant) (commands.TenantWritten, eventstore.Position, error) {
			id := uuid.New()
			if r.Body.TenantID != nil {
				id = *r.Body.TenantID
			}
			w, err := h.Add(ctx, commands.AddTenant{Meta: r.Meta, TenantID: id, TenantName: r.Body.TenantName,
				IsSys: r.Body.IsSys, IsActive: r.Body.IsActive, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ addTenant, w commands.TenantWritten) (any, error) {
			return answer(ctx, db, w)
		},
	}.Register(p)
	Write[patchTenant, commands.TenantWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/tenants/{tenant_id}", Access: access.Tenant("tenants", "modify"), Tag: "Tenants", Summary: "Patch Tenant",
			Description: "Change a tenant (tenants.modify in it); absent or null fields stay as they are. The system tenant cannot be " +
				"disabled (409).",
			Response: readapi.TenantRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchTenant) (commands.TenantWritten, eventstore.Position, error) {
			w, err := h.Change(ctx, commands.ChangeTenant{Meta: r.Meta, TenantID: r.TenantID, TenantName: r.Body.TenantName,
				IsSys: r.Body.IsSys, IsActive: r.Body.IsActive, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ patchTenant, w commands.TenantWritten) (any, error) {
			return answer(ctx, db, w)
		},
	}.Register(p)
	Write[removeTenant, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/tenants/{tenant_id}", Access: access.Superuser(), Tag: "Tenants", Summary: "Remove Tenant",
			Description: "Remove an empty tenant (superusers): while flows, projects, businesses, organizations or user groups " +
				"belong to it, 409 names them. The system tenant cannot be removed (409). Its name is free again.",
			Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeTenant) (Detail, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveTenant{Meta: r.Meta, TenantID: r.TenantID})
			return Detail{Detail: msgTenantDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
