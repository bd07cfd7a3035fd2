package readapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/projections"
)

// ConfigsReadModels are the read models config operations read.
var ConfigsReadModels = []string{projections.ConfigsName, "access"}

// ConfigRead is a config as the API shows it (the spec's field order,
// plus secret). A secret config's value is always masked
// (domain.SecretMask): it is never answered in clear once written.
type ConfigRead struct {
	ConfigKey   string `json:"config_key"`
	ConfigName  string `json:"config_name"`
	ConfigValue string `json:"config_value"`
	Note        string `json:"note"`
	Secret      bool   `json:"secret"`
	ID          int64  `json:"id"`
	projections.Audited
}

const configColumns = `c.config_key, c.config_name, c.config_value, c.note, c.secret, c.id, c.c_uid, c.m_uid, c.ctime, c.utime`

func scanConfig(row pgx.CollectableRow) (ConfigRead, error) {
	var e ConfigRead
	err := row.Scan(&e.ConfigKey, &e.ConfigName, &e.ConfigValue, &e.Note, &e.Secret, &e.ID, &e.CUID, &e.MUID, &e.CTime, &e.UTime)
	e.InUTC()
	if e.Secret && e.ConfigValue != "" {
		e.ConfigValue = domain.SecretMask
	}
	return e, err
}

// ConfigByID reads config id of tenant (404 if the tenant has none such).
func ConfigByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (ConfigRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+configColumns+` FROM configs c WHERE c.tenant_id = $1 AND c.id = $2`, tenant, id)
	return exactlyOne(rows, scanConfig, domain.NotFoundf(domain.MsgConfigNotFound), fmt.Sprintf("config %d", id))
}

// ConfigsQuery is the query string of Read Configs.
type ConfigsQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=config_key" binding:"oneof=id config_key config_name config_value"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var configSorts = map[string]string{
	"id": "c.id", "config_key": "c.config_key", "config_name": "lower(c.config_name)",
	// A secret's value sorts as its mask: its sealed form says nothing.
	"config_value": "CASE WHEN c.secret THEN '' ELSE c.config_value END",
}

// ListConfigs lists tenant's configs: search is a case-insensitive
// substring of config_key, config_name, note or (for configs that are not
// secret) config_value; ties of the sort column go by id in the same
// direction.
func ListConfigs(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q ConfigsQuery) ([]ConfigRead, error) {
	var args sqlArgs
	where := []string{"c.tenant_id = " + args.add(tenant)}
	if q.Search != "" {
		where = append(where, searchAny(&args, q.Search, "c.config_key", "c.config_name", "c.note",
			"CASE WHEN c.secret THEN '' ELSE c.config_value END"))
	}
	dir := direction(q.SortOrder)
	rows, _ := pool.Query(ctx, `SELECT `+configColumns+` FROM configs c WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+configSorts[q.SortBy]+` `+dir+`, c.id `+dir, args...)
	return collectAll(rows, scanConfig, "list configs")
}

// RegisterConfigReads registers Read Configs (#107): holders of
// configs.read in the caller's tenant (X-Tenant-Id, else the system
// tenant).
func RegisterConfigReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &configReads{pool: pool}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/configs", Access: access.Tenant("configs", "read"),
		Tag: "Configs", Summary: "Read Configs",
		Description: "The configs (variables) of the caller's tenant, filtered by search (a case-insensitive substring of " +
			"config_key, config_name, note or a non-secret config_value), ordered by sort_by (ties by id). Secret values are masked.",
		Params: []httpapi.Param{{Name: "search", In: "query", Description: "Case-insensitive substring of config_key, config_name, note or config_value."},
			{Name: "sort_by", In: "query", Default: "config_key", Enum: []string{"id", "config_key", "config_name", "config_value"}},
			{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}},
		Response: []ConfigRead{}, ReadModels: ConfigsReadModels, Handler: h.list})
}

type configReads struct {
	pool *pgxpool.Pool
}

func (h *configReads) list(c *gin.Context) {
	var q ConfigsQuery
	tenantAnswer(c, h.pool, &q, func(*ConfigsQuery) *uuid.UUID { return nil },
		func(ctx context.Context, t uuid.UUID) ([]ConfigRead, error) {
			return ListConfigs(ctx, h.pool, t, q)
		})
}
