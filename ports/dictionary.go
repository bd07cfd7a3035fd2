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

// The dictionary's writes (#112–#114, #116–#118): each binds a request,
// resolves the caller's tenant (X-Tenant-Id, else the system tenant;
// holders of dictionary.write/modify/delete there), calls the
// commands.DictionaryHandler and answers what the read model shows.

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

// The requests of the dictionary's writes: where each part of the
// command comes from (see Write).
type (
	addDictionaryIndex struct {
		InTenant
		Body DictionaryIndexCreate `body:""`
	}
	patchDictionaryIndex struct {
		IndexID int64 `path:"index_id"`
		InTenant
		Body DictionaryIndexPatch `body:""`
	}
	removeDictionaryIndex struct {
		IndexID int64 `path:"index_id"`
		InTenant
	}
	addDictionaryItem struct {
		IndexID int64 `path:"index_id"`
		InTenant
		Body DictionaryItemCreate `body:""`
	}
	patchDictionaryItem struct {
		ItemID int64 `path:"item_id"`
		InTenant
		Body DictionaryItemPatch `body:""`
	}
	removeDictionaryItem struct {
		ItemID int64 `path:"item_id"`
		InTenant
	}
)

// Dictionary registers the write operations of the dictionary.
func Dictionary(p Port, h *commands.DictionaryHandler) {
	models := readapi.DictionaryReadModels
	entry := readapi.DictionaryEntryRead{}
	index := func(ctx context.Context, db readapi.DB, tenant uuid.UUID, w commands.DictionaryWritten) (any, error) {
		return readapi.DictionaryIndexByID(ctx, db, tenant, w.ID)
	}
	item := func(ctx context.Context, db readapi.DB, tenant uuid.UUID, w commands.DictionaryWritten) (any, error) {
		return readapi.DictionaryItemByID(ctx, db, tenant, w.ID)
	}
	Write[addDictionaryIndex, commands.DictionaryWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/dictionary/indexes", Access: access.Tenant("dictionary", "write"),
			Tag: "Dictionary", Summary: "Add Index",
			Description: "Add an index (a lookup list) to the caller's tenant. config_key is unique among the tenant's indexes (409).",
			Response:    entry, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addDictionaryIndex) (commands.DictionaryWritten, eventstore.Position, error) {
			w, err := h.AddIndex(ctx, commands.AddDictionaryIndex{Tenant: r.Tenant, Meta: r.Meta, ConfigKey: *r.Body.ConfigKey,
				ConfigName: *r.Body.ConfigName, ConfigEnName: *r.Body.ConfigEnName, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addDictionaryIndex, w commands.DictionaryWritten) (any, error) {
			return index(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[patchDictionaryIndex, commands.DictionaryWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/dictionary/indexes/{index_id}", Access: access.Tenant("dictionary", "modify"),
			Tag: "Dictionary", Summary: "Patch Index",
			Description: "Change an index of the caller's tenant; absent or null fields stay as they are (config_key never changes).",
			Response:    entry, ReadModels: models},
		Handle: func(ctx context.Context, r patchDictionaryIndex) (commands.DictionaryWritten, eventstore.Position, error) {
			w, err := h.ChangeIndex(ctx, commands.ChangeDictionaryIndex{Tenant: r.Tenant, Meta: r.Meta, IndexID: r.IndexID,
				ConfigName: r.Body.ConfigName, ConfigEnName: r.Body.ConfigEnName, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchDictionaryIndex, w commands.DictionaryWritten) (any, error) {
			return index(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[removeDictionaryIndex, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/dictionary/indexes/{index_id}", Access: access.Tenant("dictionary", "delete"),
			Tag: "Dictionary", Summary: "Remove Index",
			Description: "Remove an index of the caller's tenant. An index that still has items is not removed (409): remove its items first.",
			Response:    Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeDictionaryIndex) (Detail, eventstore.Position, error) {
			w, err := h.RemoveIndex(ctx, commands.RemoveDictionaryIndex{Tenant: r.Tenant, Meta: r.Meta, IndexID: r.IndexID})
			return Detail{Detail: msgDictionaryIndexDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[addDictionaryItem, commands.DictionaryWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/dictionary/indexes/{index_id}/items", Access: access.Tenant("dictionary", "write"),
			Tag: "Dictionary", Summary: "Add Item",
			Description: "Add an item to an index of the caller's tenant. config_key is unique in the index (409); key_order (default 0) orders the items.",
			Response:    entry, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r addDictionaryItem) (commands.DictionaryWritten, eventstore.Position, error) {
			var order int64
			if r.Body.KeyOrder != nil {
				order = *r.Body.KeyOrder
			}
			w, err := h.AddItem(ctx, commands.AddDictionaryItem{Tenant: r.Tenant, Meta: r.Meta, IndexID: r.IndexID,
				ConfigKey: *r.Body.ConfigKey, ConfigName: *r.Body.ConfigName, ConfigEnName: *r.Body.ConfigEnName,
				ConfigValue: *r.Body.ConfigValue, KeyOrder: order, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r addDictionaryItem, w commands.DictionaryWritten) (any, error) {
			return item(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[patchDictionaryItem, commands.DictionaryWritten]{
		Op: httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/dictionary/items/{item_id}", Access: access.Tenant("dictionary", "modify"),
			Tag: "Dictionary", Summary: "Patch Item",
			Description: "Change an item of the caller's tenant; absent or null fields stay as they are (config_key and the index never change).",
			Response:    entry, ReadModels: models},
		Handle: func(ctx context.Context, r patchDictionaryItem) (commands.DictionaryWritten, eventstore.Position, error) {
			w, err := h.ChangeItem(ctx, commands.ChangeDictionaryItem{Tenant: r.Tenant, Meta: r.Meta, ItemID: r.ItemID,
				ConfigName: r.Body.ConfigName, ConfigEnName: r.Body.ConfigEnName, KeyOrder: r.Body.KeyOrder,
				ConfigValue: r.Body.ConfigValue, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, r patchDictionaryItem, w commands.DictionaryWritten) (any, error) {
			return item(ctx, db, r.Tenant, w)
		},
	}.Register(p)
	Write[removeDictionaryItem, Detail]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/dictionary/items/{item_id}", Access: access.Tenant("dictionary", "delete"),
			Tag: "Dictionary", Summary: "Remove Item", Description: "Remove an item of the caller's tenant.",
			Response: Detail{}, ReadModels: models},
		Handle: func(ctx context.Context, r removeDictionaryItem) (Detail, eventstore.Position, error) {
			w, err := h.RemoveItem(ctx, commands.RemoveDictionaryItem{Tenant: r.Tenant, Meta: r.Meta, ItemID: r.ItemID})
			return Detail{Detail: msgDictionaryItemDeleted}, w.Result.Last(), err
		},
	}.Register(p)
}
