package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Files builds the files read model: one row per file that is not deleted
// (user files and flow files), with where its content is. created_at and
// c_uid come from the upload's metadata; every later event moves
// updated_at, m_uid and version (the stream revision).
func Files() *Projection {
	p := New("files", "files")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FileUploaded) error {
		tx.Queue(`INSERT INTO files (id, kind, user_id, flow_id, tenant_id, business_id, name, path, size, provider,
    blob_key, sha256, c_uid, m_uid, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $14, $15)`,
			e.FileID, e.Kind, e.UserID, e.FlowID, e.TenantID, e.BusinessID, e.Name, e.Path, e.Content.Size, e.Provider,
			e.Content.Key, e.Content.SHA256, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FileContentReplaced) error {
		tx.Queue(`UPDATE files SET size = $2, blob_key = $3, sha256 = $4, m_uid = $5, updated_at = $6, version = $7
WHERE id = $1`, e.FileID, e.Content.Size, e.Content.Key, e.Content.SHA256,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.FileRenamed) error {
		tx.Queue(`UPDATE files SET name = $2, m_uid = $3, updated_at = $4, version = $5 WHERE id = $1`,
			e.FileID, e.Name, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.FileDeleted) error {
		tx.Queue(`DELETE FROM files WHERE id = $1`, e.FileID)
		return nil
	})
	return p
}
