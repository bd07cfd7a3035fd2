package commands

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// ConfigsPort is the HTTP port of the configs' writes: it binds a
// request, resolves the caller's tenant (X-Tenant-Id, else the system
// tenant; holders of configs.write/modify/delete there), calls the
// ConfigsHandler and answers what the read model shows (secret values
// masked).
type ConfigsPort struct {
	Server  *httpapi.Server
	Handler *ConfigsHandler
	Pool    *pgxpool.Pool
	Clock   func() time.Time
}

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

// Routes registers the write operations of the configs.
func (p *ConfigsPort) Routes(s *httpapi.Server) {
	models := readapi.ConfigsReadModels
	id := []httpapi.Param{{Name: "config_id", In: "path", Type: "integer"}}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/configs", Access: access.Tenant("configs", "write"),
		Tag: "Configs", Summary: "Add Config",
		Description: "Add a config (a variable flows read with load_from_db) to the caller's tenant. config_key is unique in " +
			"the tenant (409). secret: true encrypts the value (it needs SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY) " +
			"and masks it in every answer.",
		Body: ConfigCreate{}, Response: readapi.ConfigRead{}, Status: http.StatusCreated, ReadModels: models, Handler: p.add})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/configs/{config_id}", Access: access.Tenant("configs", "modify"),
		Tag: "Configs", Summary: "Patch Config",
		Description: "Change a config of the caller's tenant; absent or null fields stay as they are (config_key and secret " +
			"never change; a secret's mask sent back keeps its value).",
		Params: id, Body: ConfigPatch{}, Response: readapi.ConfigRead{}, ReadModels: models, Handler: p.patch})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/configs/{config_id}", Access: access.Tenant("configs", "delete"),
		Tag: "Configs", Summary: "Remove Config", Description: "Remove a config of the caller's tenant.",
		Params: id, Response: Detail{}, ReadModels: models, Handler: p.remove})
}

func (p *ConfigsPort) begin(c *gin.Context, param bool, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	name := ""
	if param {
		name = "config_id"
	}
	return tenantWrite(c, p.Pool, p.Clock(), name, body)
}

func (p *ConfigsPort) answer(c *gin.Context, tenant uuid.UUID, w ConfigWritten, err error, status int) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.ConfigRead, error) {
		return readapi.ConfigByID(ctx, db, tenant, w.ID)
	})
}

func (p *ConfigsPort) add(c *gin.Context) {
	var body ConfigCreate
	_, tenant, md, ok := p.begin(c, false, &body)
	if !ok {
		return
	}
	w, err := p.Handler.Add(c.Request.Context(), AddConfig{Tenant: tenant, Meta: md, ConfigKey: *body.ConfigKey,
		ConfigName: *body.ConfigName, ConfigValue: *body.ConfigValue, Note: body.Note, Secret: body.Secret})
	p.answer(c, tenant, w, err, http.StatusCreated)
}

func (p *ConfigsPort) patch(c *gin.Context) {
	var body ConfigPatch
	id, tenant, md, ok := p.begin(c, true, &body)
	if !ok {
		return
	}
	w, err := p.Handler.Change(c.Request.Context(), ChangeConfig{Tenant: tenant, Meta: md, ConfigID: id,
		ConfigName: body.ConfigName, ConfigValue: body.ConfigValue, Note: body.Note})
	p.answer(c, tenant, w, err, http.StatusOK)
}

func (p *ConfigsPort) remove(c *gin.Context) {
	id, tenant, md, ok := p.begin(c, true, nil)
	if !ok {
		return
	}
	w, err := p.Handler.Remove(c.Request.Context(), RemoveConfig{Tenant: tenant, Meta: md, ConfigID: id})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgConfigDeleted})
}
