package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use cases of the dictionary (#112–#114, #116–#118): each is a
// command value and one method of DictionaryHandler that decides on the
// tenant's Dictionary aggregate and appends, with no HTTP in sight (the
// port, ports.Dictionary, binds, resolves the tenant, calls and answers).
// Removing an index that still has items is refused (409), never
// cascaded: the client removes the items first.

// AddDictionaryIndex adds an index to a tenant's dictionary.
type AddDictionaryIndex struct {
	Tenant                              uuid.UUID
	Meta                                eventstore.Metadata
	ConfigKey, ConfigName, ConfigEnName string
	Note                                *string // nil: ""
}

// ChangeDictionaryIndex changes an index's names and note (nil: as it is).
type ChangeDictionaryIndex struct {
	Tenant                         uuid.UUID
	Meta                           eventstore.Metadata
	IndexID                        int64
	ConfigName, ConfigEnName, Note *string
}

// RemoveDictionaryIndex removes an index that has no items.
type RemoveDictionaryIndex struct {
	Tenant  uuid.UUID
	Meta    eventstore.Metadata
	IndexID int64
}

// AddDictionaryItem adds an item to an index.
type AddDictionaryItem struct {
	Tenant                                           uuid.UUID
	Meta                                             eventstore.Metadata
	IndexID                                          int64
	ConfigKey, ConfigName, ConfigEnName, ConfigValue string
	KeyOrder                                         int64
	Note                                             *string // nil: ""
}

// ChangeDictionaryItem changes an item's fields (nil: as it is); its key
// and index stay.
type ChangeDictionaryItem struct {
	Tenant                                      uuid.UUID
	Meta                                        eventstore.Metadata
	ItemID                                      int64
	ConfigName, ConfigEnName, ConfigValue, Note *string
	KeyOrder                                    *int64
}

// RemoveDictionaryItem removes an item from its index.
type RemoveDictionaryItem struct {
	Tenant uuid.UUID
	Meta   eventstore.Metadata
	ItemID int64
}

// DictionaryWritten is what a dictionary command did: the entry it
// wrote and what it appended (nothing for a change that changed nothing).
type DictionaryWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// LoadDictionary folds the dictionary of tenant (an empty aggregate when
// the tenant has none yet).
func LoadDictionary(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.Dictionary, error) {
	return loadOrNew(ctx, repo, func() *domain.Dictionary { return domain.LoadDictionary(tenant) })
}

// DictionaryHandler handles the dictionary's commands.
type DictionaryHandler struct {
	Repo *Repository
	IDs  IDs
}

func (h *DictionaryHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.Dictionary) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadDictionary, md, fn)
}

// AddIndex handles AddDictionaryIndex: the key must be free in the
// tenant (409).
func (h *DictionaryHandler) AddIndex(ctx context.Context, cmd AddDictionaryIndex) (DictionaryWritten, error) {
	spec := domain.DictionaryIndexSpec{ConfigKey: cmd.ConfigKey, ConfigName: cmd.ConfigName, ConfigEnName: cmd.ConfigEnName,
		Note: noteOrEmpty(cmd.Note)}
	// Validate before an id is allocated: bad input costs nothing.
	if err := spec.Valid(); err != nil {
		return DictionaryWritten{}, err
	}
	id, err := h.IDs.Next(ctx, "dictionary")
	if err != nil {
		return DictionaryWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error { return d.AddIndex(id, spec) })
	return DictionaryWritten{ID: id, Result: res}, err
}

// ChangeIndex handles ChangeDictionaryIndex.
func (h *DictionaryHandler) ChangeIndex(ctx context.Context, cmd ChangeDictionaryIndex) (DictionaryWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error {
		return d.ChangeIndex(cmd.IndexID, domain.DictionaryChange{ConfigName: cmd.ConfigName, ConfigEnName: cmd.ConfigEnName, Note: cmd.Note})
	})
	return DictionaryWritten{ID: cmd.IndexID, Result: res}, err
}

// RemoveIndex handles RemoveDictionaryIndex: an index with items is
// refused (409).
func (h *DictionaryHandler) RemoveIndex(ctx context.Context, cmd RemoveDictionaryIndex) (DictionaryWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error { return d.RemoveIndex(cmd.IndexID) })
	return DictionaryWritten{ID: cmd.IndexID, Result: res}, err
}

// AddItem handles AddDictionaryItem: the index must be the tenant's (404)
// and the key free in it (409).
func (h *DictionaryHandler) AddItem(ctx context.Context, cmd AddDictionaryItem) (DictionaryWritten, error) {
	spec := domain.DictionaryItemSpec{ConfigKey: cmd.ConfigKey, ConfigName: cmd.ConfigName, ConfigEnName: cmd.ConfigEnName,
		ConfigValue: cmd.ConfigValue, KeyOrder: cmd.KeyOrder, Note: noteOrEmpty(cmd.Note)}
	var id int64
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error {
		if _, ok := d.Index(cmd.IndexID); !ok {
			return domain.NotFoundf(domain.MsgDictionaryIndexNotFound)
		}
		if id == 0 {
			// Validate before an id is allocated: bad input costs nothing.
			if err := spec.Valid(); err != nil {
				return err
			}
			next, err := h.IDs.Next(ctx, "dictionary")
			if err != nil {
				return err
			}
			id = next
		}
		return d.AddItem(id, cmd.IndexID, spec)
	})
	return DictionaryWritten{ID: id, Result: res}, err
}

// ChangeItem handles ChangeDictionaryItem.
func (h *DictionaryHandler) ChangeItem(ctx context.Context, cmd ChangeDictionaryItem) (DictionaryWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error {
		return d.ChangeItem(cmd.ItemID, domain.DictionaryChange{ConfigName: cmd.ConfigName, ConfigEnName: cmd.ConfigEnName,
			KeyOrder: cmd.KeyOrder, ConfigValue: cmd.ConfigValue, Note: cmd.Note})
	})
	return DictionaryWritten{ID: cmd.ItemID, Result: res}, err
}

// RemoveItem handles RemoveDictionaryItem.
func (h *DictionaryHandler) RemoveItem(ctx context.Context, cmd RemoveDictionaryItem) (DictionaryWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(d *domain.Dictionary) error { return d.RemoveItem(cmd.ItemID) })
	return DictionaryWritten{ID: cmd.ItemID, Result: res}, err
}

// noteOrEmpty is a note as stored: "" when not given (the spec's
// default).
func noteOrEmpty(note *string) string {
	if note == nil {
		return ""
	}
	return *note
}
