package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// ConfigsName names the read model of the configs.
const ConfigsName = "configs"

// Configs builds the configs read model from the events of the tenants'
// Configs aggregates (secret values stay sealed, as the events carry
// them). c_uid and ctime come from the adding event, m_uid and utime from
// the latest change.
func Configs() *Projection {
	p := New(ConfigsName, "configs")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ConfigAdded) error {
		tx.Queue(`INSERT INTO configs (id, tenant_id, config_key, config_name, config_value, note, secret, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)`, e.ConfigID, e.TenantID, e.ConfigKey, e.ConfigName, e.ConfigValue,
			e.Note, e.Secret, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ConfigChanged) error {
		tx.Queue(`UPDATE configs SET config_name = coalesce($2, config_name), config_value = coalesce($3, config_value),
    note = coalesce($4, note), m_uid = $5, utime = $6 WHERE id = $1`,
			e.ConfigID, e.ConfigName, e.ConfigValue, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.ConfigRemoved) error {
		tx.Queue(`DELETE FROM configs WHERE id = $1`, e.ConfigID)
		return nil
	})
	return p
}
