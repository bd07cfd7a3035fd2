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

// DictionaryPort is the HTTP port of the dictionary's writes: it binds a
// request, resolves the caller's tenant (X-Tenant-Id, else the system
// tenant; holders of dictionary.write/modify/delete there), calls the
// DictionaryHandler and answers what the read model shows.
type DictionaryPort struct {
	Server  *httpapi.Server
	Handler *DictionaryHandler
	Pool    *pgxpool.Pool
	Clock   func() time.Time
}

// The answers of the removals.
const (
	msgDictionaryIndexDeleted = "Dictionary index deleted"
	msgDictionaryItemDeleted  = "Dictionary item deleted"
)

// DictionaryIndexCreate is the body of Add Index.
type DictionaryIndexCreate struct {
	ConfigKey    *string `json:"config_key" binding:"required,min=1,max=128"`
	ConfigName   *string `json:"config_name" binding:"required,min=1,max=64"`
	ConfigEnName *string `json:"config_en_name" binding:"required,min=1,max=64"`
	Note         *string `json:"note"`
}

// DictionaryIndexPatch is the body of Patch Index: absent or null fields
// stay as they are.
type DictionaryIndexPatch struct {
	ConfigName   *string `json:"config_name" binding:"omitnil,min=1,max=64"`
	ConfigEnName *string `json:"config_en_name" binding:"omitnil,min=1,max=64"`
	Note         *string `json:"note"`
}

// DictionaryItemCreate is the body of Add Item.
type DictionaryItemCreate struct {
	ConfigKey    *string `json:"config_key" binding:"required,min=1,max=128"`
	ConfigName   *string `json:"config_name" binding:"required,min=1,max=64"`
	ConfigEnName *string `json:"config_en_name" binding:"required,min=1,max=64"`
	KeyOrder     *int64  `json:"key_order"`
	ConfigValue  *string `json:"config_value" binding:"required,min=1"`
	Note         *string `json:"note"`
}

// DictionaryItemPatch is the body of Patch Item: absent or null fields
// stay as they are.
type DictionaryItemPatch struct {
	ConfigName   *string `json:"config_name" binding:"omitnil,min=1,max=64"`
	ConfigEnName *string `json:"config_en_name" binding:"omitnil,min=1,max=64"`
	KeyOrder     *int64  `json:"key_order"`
	ConfigValue  *string `json:"config_value" binding:"omitnil,min=1"`
	Note         *string `json:"note"`
}

// Routes registers the write operations of the dictionary.
func (p *DictionaryPort) Routes(s *httpapi.Server) {
	models := readapi.DictionaryReadModels
	index := []httpapi.Param{{Name: "index_id", In: "path", Type: "integer"}}
	item := []httpapi.Param{{Name: "item_id", In: "path", Type: "integer"}}
	entry := readapi.DictionaryEntryRead{}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/dictionary/indexes", Access: access.Tenant("dictionary", "write"),
		Tag: "Dictionary", Summary: "Add Index",
		Description: "Add an index (a lookup list) to the caller's tenant. config_key is unique among the tenant's indexes (409).",
		Body:        DictionaryIndexCreate{}, Response: entry, Status: http.StatusCreated, ReadModels: models, Handler: p.addIndex})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/dictionary/indexes/{index_id}", Access: access.Tenant("dictionary", "modify"),
		Tag: "Dictionary", Summary: "Patch Index",
		Description: "Change an index of the caller's tenant; absent or null fields stay as they are (config_key never changes).",
		Params:      index, Body: DictionaryIndexPatch{}, Response: entry, ReadModels: models, Handler: p.patchIndex})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/dictionary/indexes/{index_id}", Access: access.Tenant("dictionary", "delete"),
		Tag: "Dictionary", Summary: "Remove Index",
		Description: "Remove an index of the caller's tenant. An index that still has items is not removed (409): remove its items first.",
		Params:      index, Response: Detail{}, ReadModels: models, Handler: p.removeIndex})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/dictionary/indexes/{index_id}/items", Access: access.Tenant("dictionary", "write"),
		Tag: "Dictionary", Summary: "Add Item",
		Description: "Add an item to an index of the caller's tenant. config_key is unique in the index (409); key_order (default 0) orders the items.",
		Params:      index, Body: DictionaryItemCreate{}, Response: entry, Status: http.StatusCreated, ReadModels: models, Handler: p.addItem})
	s.Handle(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/dictionary/items/{item_id}", Access: access.Tenant("dictionary", "modify"),
		Tag: "Dictionary", Summary: "Patch Item",
		Description: "Change an item of the caller's tenant; absent or null fields stay as they are (config_key and the index never change).",
		Params:      item, Body: DictionaryItemPatch{}, Response: entry, ReadModels: models, Handler: p.patchItem})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/dictionary/items/{item_id}", Access: access.Tenant("dictionary", "delete"),
		Tag: "Dictionary", Summary: "Remove Item", Description: "Remove an item of the caller's tenant.",
		Params: item, Response: Detail{}, ReadModels: models, Handler: p.removeItem})
}

// begin begins a write (tenantWrite).
func (p *DictionaryPort) begin(c *gin.Context, param string, body any) (int64, uuid.UUID, eventstore.Metadata, bool) {
	return tenantWrite(c, p.Pool, p.Clock(), param, body)
}

// answer answers a write of an index (or an item) with status and the
// entry as the read model shows it.
func (p *DictionaryPort) answer(c *gin.Context, tenant uuid.UUID, w DictionaryWritten, err error, status int, isIndex bool) {
	answerWrite(c, p.Server, p.Pool, w.Result.Last(), err, status, func(ctx context.Context, db readapi.DB) (readapi.DictionaryEntryRead, error) {
		if isIndex {
			return readapi.DictionaryIndexByID(ctx, db, tenant, w.ID)
		}
		return readapi.DictionaryItemByID(ctx, db, tenant, w.ID)
	})
}

func (p *DictionaryPort) addIndex(c *gin.Context) {
	var body DictionaryIndexCreate
	_, tenant, md, ok := p.begin(c, "", &body)
	if !ok {
		return
	}
	w, err := p.Handler.AddIndex(c.Request.Context(), AddDictionaryIndex{Tenant: tenant, Meta: md, ConfigKey: *body.ConfigKey,
		ConfigName: *body.ConfigName, ConfigEnName: *body.ConfigEnName, Note: body.Note})
	p.answer(c, tenant, w, err, http.StatusCreated, true)
}

func (p *DictionaryPort) patchIndex(c *gin.Context) {
	var body DictionaryIndexPatch
	id, tenant, md, ok := p.begin(c, "index_id", &body)
	if !ok {
		return
	}
	w, err := p.Handler.ChangeIndex(c.Request.Context(), ChangeDictionaryIndex{Tenant: tenant, Meta: md, IndexID: id,
		ConfigName: body.ConfigName, ConfigEnName: body.ConfigEnName, Note: body.Note})
	p.answer(c, tenant, w, err, http.StatusOK, true)
}

func (p *DictionaryPort) removeIndex(c *gin.Context) {
	id, tenant, md, ok := p.begin(c, "index_id", nil)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveIndex(c.Request.Context(), RemoveDictionaryIndex{Tenant: tenant, Meta: md, IndexID: id})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgDictionaryIndexDeleted})
}

func (p *DictionaryPort) addItem(c *gin.Context) {
	var body DictionaryItemCreate
	index, tenant, md, ok := p.begin(c, "index_id", &body)
	if !ok {
		return
	}
	var order int64
	if body.KeyOrder != nil {
		order = *body.KeyOrder
	}
	w, err := p.Handler.AddItem(c.Request.Context(), AddDictionaryItem{Tenant: tenant, Meta: md, IndexID: index,
		ConfigKey: *body.ConfigKey, ConfigName: *body.ConfigName, ConfigEnName: *body.ConfigEnName,
		ConfigValue: *body.ConfigValue, KeyOrder: order, Note: body.Note})
	p.answer(c, tenant, w, err, http.StatusCreated, false)
}

func (p *DictionaryPort) patchItem(c *gin.Context) {
	var body DictionaryItemPatch
	id, tenant, md, ok := p.begin(c, "item_id", &body)
	if !ok {
		return
	}
	w, err := p.Handler.ChangeItem(c.Request.Context(), ChangeDictionaryItem{Tenant: tenant, Meta: md, ItemID: id,
		ConfigName: body.ConfigName, ConfigEnName: body.ConfigEnName, KeyOrder: body.KeyOrder,
		ConfigValue: body.ConfigValue, Note: body.Note})
	p.answer(c, tenant, w, err, http.StatusOK, false)
}

func (p *DictionaryPort) removeItem(c *gin.Context) {
	id, tenant, md, ok := p.begin(c, "item_id", nil)
	if !ok {
		return
	}
	w, err := p.Handler.RemoveItem(c.Request.Context(), RemoveDictionaryItem{Tenant: tenant, Meta: md, ItemID: id})
	answerValue(c, p.Server, w.Result.Last(), err, http.StatusOK, Detail{Detail: msgDictionaryItemDeleted})
}
