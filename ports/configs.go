package ports

import (
	"context"
	"net/http"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The configs' writes (#108–#110): each binds a request, resolves the
// caller's tenant (X-Tenant-Id, else the system tenant; holders of
// configs.write/modify/delete there), calls the commands.ConfigsHandler
// and answers what the read model shows (secret values masked).

const msgConfigDeleted = "Config deleted"

// ConfigCreate is the body of Add Config. secret (default false) seals
// the value: it is encrypted before it is stored and never answered in
// clear.
type ConfigCreate struct {
	ConfigKey   *string `json:"config_key" binding:"required,min=1,max=128"`
	ConfigName  *string `json:"config_name" binding:"required,min=1,max=64"`
	ConfigValue *string `json:"config_value" binding:"required,min=1"`
	Note        *string `json:"note"`
	Secret      bool    `json:"secret"`
}

// ConfigPatch is the body of Patch Config: absent or null fields stay as
// they are; a secret's value sent back as the mask stays as it is.
type ConfigPatch struct {
	ConfigName  *string `json:"config_name" binding:"omitnil,min=1,max=64"`
	ConfigValue *string `json:"config_value" binding:"omitnil,min=1"`
	Note        *string `json:"note"`
}

// The requests of the configs' writes: where each part of the command
// comes from (see Write).
type (
	addConfig struct {
		InTenant
		Body ConfigCreate `body:""`
	}
	patchConfig struct {
		ConfigID int64 `path:"config_id"`
		InTenant
		Body ConfigPatch `body:""`
	}
	removeConfig struct {
		ConfigID int64 `path:"config_id"`
		InTenant
	}
)

// Configs registers the write operations of the configs.
func Configs(p Port, h *commands.ConfigsHandler) {
	models := readapi.ConfigsReadModels
	Write[addConfig, commands.ConfigWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/configs", Access: access.Tenant("configs", "write"),
			Tag: "Configs", Summary: "Add Config",
			Description: "Add a config (a variable flows read with load_from_db) to the caller's tenant. config_key is unique in " +
				"the tenant (409). secret: true encrypts the value (it needs SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY) " +
				"and masks it in every answer.",
			Response: readapi.ConfigRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addConfig) (commands.ConfigWritten, eventstore.Position, error) {
			w, err := h.Add(ctx, commands.AddConfig{Tenant: r.Tenant, Meta: r.Meta, ConfigKey: *r.Body.ConfigKey,
				ConfigName: *r.Body.ConfigName, ConfigValue: *r.Body.ConfigValue, Note: r.Body.Note, Secret: r.Body.Secret})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addConfig, w commands.ConfigWritten) (any, error) {
			return readapi.ConfigByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[patchConfig, commands.ConfigWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/configs/{config_id}", Access: access.Tenant("configs", "modify"),
			Tag: "Configs", Summary: "Patch Config",
			Description: "Change a config of the caller's tenant; absent or null fields stay as they are (config_key and secret " +
				"never change; a secret's mask sent back keeps its value).",
			Response: readapi.ConfigRead{}, ReadModels: models},
		Handle: func(ctx context.Context, r patchConfig) (commands.ConfigWritten, eventstore.Position, error) {
			w, err := h.Change(ctx, commands.ChangeConfig{Tenant: r.Tenant, Meta: r.Meta, ConfigID: r.ConfigID,
				ConfigName: r.Body.ConfigName, ConfigValue: r.Body.ConfigValue, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchConfig, w commands.ConfigWritten) (any, error) {
			return readapi.ConfigByID(ctx, db, r.Tenant, w.ID)
		},
	}.Register(p)
	Write[removeConfig, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/configs/{config_id}", Access: access.Tenant("configs", "delete"),
			Tag: "Configs", Summary: "Remove Config", Description: "Remove a config of the caller's tenant.",
			Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeConfig) (Detail, eventstore.Position, error) {
			w, err := h.Remove(ctx, commands.RemoveConfig{Tenant: r.Tenant, Meta: r.Meta, ConfigID: r.ConfigID})
			return Detail{Detail: msgConfigDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
