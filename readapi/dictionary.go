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

// DictionaryReadModels are the read models dictionary operations read.
var DictionaryReadModels = []string{projections.DictionaryName, "access"}

// DictionaryEntryRead is an index or an item of the dictionary as the API
// shows it (the spec's field order). An index has parent_id 0, key_order
// 0 and an empty config_value; an item's parent_id is its index.
type DictionaryEntryRead struct {
	ConfigKey    string `json:"config_key"`
	ConfigName   string `json:"config_name"`
	ConfigEnName string `json:"config_en_name"`
	KeyOrder     int64  `json:"key_order"`
	ParentID     int64  `json:"parent_id"`
	ConfigValue  string `json:"config_value"`
	Note         string `json:"note"`
	ConfigID     int64  `json:"config_id"`
	projections.Audited
}

const dictionaryColumns = `d.config_key, d.config_name, d.config_en_name, d.key_order, d.parent_id, d.config_value, d.note,
    d.config_id, d.c_uid, d.m_uid, d.ctime, d.utime`

func scanDictionaryEntry(row pgx.CollectableRow) (DictionaryEntryRead, error) {
	var e DictionaryEntryRead
	err := row.Scan(&e.ConfigKey, &e.ConfigName, &e.ConfigEnName, &e.KeyOrder, &e.ParentID, &e.ConfigValue, &e.Note,
		&e.ConfigID, &e.CUID, &e.MUID, &e.CTime, &e.UTime)
	e.InUTC()
	return e, err
}

// DictionaryIndexByID reads index id of tenant: 404 if the tenant has no
// such index (an item's id is not an index's).
func DictionaryIndexByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (DictionaryEntryRead, error) {
	return dictionaryEntry(ctx, db, tenant, id, true)
}

// DictionaryItemByID reads item id of an index of tenant: 404 if there is
// none (an index's id is not an item's).
func DictionaryItemByID(ctx context.Context, db DB, tenant uuid.UUID, id int64) (DictionaryEntryRead, error) {
	return dictionaryEntry(ctx, db, tenant, id, false)
}

func dictionaryEntry(ctx context.Context, db DB, tenant uuid.UUID, id int64, index bool) (DictionaryEntryRead, error) {
	cond, missing := "d.parent_id <> 0", domain.MsgDictionaryItemNotFound
	if index {
		cond, missing = "d.parent_id = 0", domain.MsgDictionaryIndexNotFound
	}
	rows, _ := db.Query(ctx, `SELECT `+dictionaryColumns+` FROM dictionary_entries d WHERE d.tenant_id = $1 AND d.config_id = $2 AND `+cond,
		tenant, id)
	return exactlyOne(rows, scanDictionaryEntry, domain.NotFoundf("%s", missing), fmt.Sprintf("dictionary entry %d", id))
}

// DictionaryIndexesQuery is the query string of Read Indexes.
type DictionaryIndexesQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=config_key" binding:"oneof=config_key config_name config_en_name"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

// DictionaryItemsQuery is the query string of Read Items By Index.
type DictionaryItemsQuery struct {
	Search    string `form:"search" binding:"max=255"`
	SortBy    string `form:"sort_by,default=config_key" binding:"oneof=key_order config_key config_name config_en_name config_value"`
	SortOrder string `form:"sort_order,default=asc" binding:"oneof=asc desc"`
}

var dictionarySorts = map[string]string{
	"key_order": "d.key_order", "config_key": "d.config_key", "config_name": "lower(d.config_name)",
	"config_en_name": "lower(d.config_en_name)", "config_value": "d.config_value",
}

// listDictionary lists the entries of tenant under parent (0: the
// indexes): search is a case-insensitive substring of one of columns;
// ties of the sort column go by config_id in the same direction.
func listDictionary(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, parent int64, search, sortBy, order string, columns ...string) ([]DictionaryEntryRead, error) {
	var args sqlArgs
	where := []string{"d.tenant_id = " + args.add(tenant), "d.parent_id = " + args.add(parent)}
	if search != "" {
		where = append(where, searchAny(&args, search, columns...))
	}
	dir := direction(order)
	rows, _ := pool.Query(ctx, `SELECT `+dictionaryColumns+` FROM dictionary_entries d WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+dictionarySorts[sortBy]+` `+dir+`, d.config_id `+dir, args...)
	return collectAll(rows, scanDictionaryEntry, "list dictionary entries")
}

// ListDictionaryIndexes lists tenant's indexes: search is a
// case-insensitive substring of config_key, config_name or
// config_en_name.
func ListDictionaryIndexes(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, q DictionaryIndexesQuery) ([]DictionaryEntryRead, error) {
	return listDictionary(ctx, pool, tenant, 0, q.Search, q.SortBy, q.SortOrder, "d.config_key", "d.config_name", "d.config_en_name")
}

// ListDictionaryItems lists the items of index of tenant (404 if the
// tenant has no such index): search is a case-insensitive substring of
// config_key, config_name, config_en_name or config_value.
func ListDictionaryItems(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, index int64, q DictionaryItemsQuery) ([]DictionaryEntryRead, error) {
	if _, err := DictionaryIndexByID(ctx, pool, tenant, index); err != nil {
		return nil, err
	}
	return listDictionary(ctx, pool, tenant, index, q.Search, q.SortBy, q.SortOrder,
		"d.config_key", "d.config_name", "d.config_en_name", "d.config_value")
}

// RegisterDictionaryReads registers the reads of the dictionary (#111,
// #115): holders of dictionary.read in the caller's tenant (X-Tenant-Id,
// else the system tenant).
func RegisterDictionaryReads(s *httpapi.Server, pool *pgxpool.Pool) {
	h := &dictionaryReads{pool: pool}
	sortOrder := httpapi.Param{Name: "sort_order", In: "query", Default: "asc", Enum: []string{"asc", "desc"}}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/dictionary/indexes", Access: access.Tenant("dictionary", "read"),
		Tag: "Dictionary", Summary: "Read Indexes",
		Description: "The indexes (lookup lists) of the caller's tenant, filtered by search (a case-insensitive substring of " +
			"config_key, config_name or config_en_name), ordered by sort_by (ties by config_id).",
		Params: []httpapi.Param{{Name: "search", In: "query", Description: "Case-insensitive substring of config_key, config_name or config_en_name."},
			{Name: "sort_by", In: "query", Default: "config_key", Enum: []string{"config_key", "config_name", "config_en_name"}}, sortOrder},
		Response: []DictionaryEntryRead{}, ReadModels: DictionaryReadModels, Handler: h.indexes})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/dictionary/indexes/{index_id}/items", Access: access.Tenant("dictionary", "read"),
		Tag: "Dictionary", Summary: "Read Items By Index",
		Description: "The items of an index of the caller's tenant (404 if it has none such), filtered by search (a " +
			"case-insensitive substring of config_key, config_name, config_en_name or config_value), ordered by sort_by " +
			"(ties by config_id).",
		Params: []httpapi.Param{{Name: "index_id", In: "path", Type: "integer"},
			{Name: "search", In: "query", Description: "Case-insensitive substring of config_key, config_name, config_en_name or config_value."},
			{Name: "sort_by", In: "query", Default: "config_key", Enum: []string{"key_order", "config_key", "config_name", "config_en_name", "config_value"}},
			sortOrder},
		Response: []DictionaryEntryRead{}, ReadModels: DictionaryReadModels, Handler: h.items})
}

type dictionaryReads struct {
	pool *pgxpool.Pool
}

func (h *dictionaryReads) indexes(c *gin.Context) {
	var q DictionaryIndexesQuery
	tenantAnswer(c, h.pool, &q, func(*DictionaryIndexesQuery) *uuid.UUID { return nil },
		func(ctx context.Context, t uuid.UUID) ([]DictionaryEntryRead, error) {
			return ListDictionaryIndexes(ctx, h.pool, t, q)
		})
}

func (h *dictionaryReads) items(c *gin.Context) {
	var q DictionaryItemsQuery
	tenantAnswerByID(c, h.pool, "index_id", &q, func(ctx context.Context, t uuid.UUID, index int64) ([]DictionaryEntryRead, error) {
		return ListDictionaryItems(ctx, h.pool, t, index, q)
	})
}
