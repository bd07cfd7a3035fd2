package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// DictionaryName names the read model of the dictionary.
const DictionaryName = "dictionary"

// Dictionary builds the dictionary_entries read model (indexes and their
// items) from the events of the tenants' Dictionary aggregates. The audit
// fields come from the events' metadata: c_uid and ctime from the adding
// event, m_uid and utime from the latest change.
func Dictionary() *Projection {
	p := New(DictionaryName, "dictionary_entries")
	const insert = `INSERT INTO dictionary_entries (config_id, tenant_id, parent_id, config_key, config_name, config_en_name,
    key_order, config_value, note, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11)`
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.DictionaryIndexAdded) error {
		tx.Queue(insert, e.ConfigID, e.TenantID, int64(0), e.ConfigKey, e.ConfigName, e.ConfigEnName, int64(0), "", e.Note,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.DictionaryIndexChanged) error {
		tx.Queue(`UPDATE dictionary_entries SET config_name = coalesce($2, config_name),
    config_en_name = coalesce($3, config_en_name), note = coalesce($4, note), m_uid = $5, utime = $6 WHERE config_id = $1`,
			e.ConfigID, e.ConfigName, e.ConfigEnName, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.DictionaryIndexRemoved) error {
		tx.Queue(`DELETE FROM dictionary_entries WHERE config_id = $1`, e.ConfigID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.DictionaryItemAdded) error {
		tx.Queue(insert, e.ConfigID, e.TenantID, e.ParentID, e.ConfigKey, e.ConfigName, e.ConfigEnName, e.KeyOrder,
			e.ConfigValue, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.DictionaryItemChanged) error {
		tx.Queue(`UPDATE dictionary_entries SET config_name = coalesce($2, config_name),
    config_en_name = coalesce($3, config_en_name), key_order = coalesce($4, key_order),
    config_value = coalesce($5, config_value), note = coalesce($6, note), m_uid = $7, utime = $8 WHERE config_id = $1`,
			e.ConfigID, e.ConfigName, e.ConfigEnName, e.KeyOrder, e.ConfigValue, e.Note,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.DictionaryItemRemoved) error {
		tx.Queue(`DELETE FROM dictionary_entries WHERE config_id = $1`, e.ConfigID)
		return nil
	})
	return p
}
