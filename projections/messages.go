package projections

import (
	"context"
	"encoding/json"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// MessagesName names the read model of chat sessions and messages.
const MessagesName = "messages"

// Messages builds the chat read models: chat_sessions (one row per open
// session, keyed by its stream) and messages (one row per message, with
// its session's flow, owner, user and placement copied in, so the monitor
// filters on one table). A deleted session takes its messages with it.
func Messages() *Projection {
	p := New(MessagesName, "chat_sessions", "messages")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ChatSessionCreated) error {
		tx.Queue(`INSERT INTO chat_sessions (stream, id, flow_id, session_id, session_name, owner_id, user_id, tenant_id,
    business_id, is_active, create_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10, $10)`,
			rec.StreamID, e.ID, e.FlowID, e.SessionID, e.Name, e.OwnerID, e.UserID, e.TenantID, e.BusinessID,
			rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.ChatSessionRenamed) error {
		tx.Queue(`UPDATE chat_sessions SET session_name = $2, updated_at = $3 WHERE stream = $1`,
			rec.StreamID, e.Name, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, _ domain.ChatSessionDeleted) error {
		tx.Queue(`DELETE FROM messages WHERE session_stream = $1`, rec.StreamID)
		tx.Queue(`DELETE FROM chat_sessions WHERE stream = $1`, rec.StreamID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.MessageAdded) error {
		f := e.Fields
		files := f.Files
		if files == nil {
			files = []string{}
		}
		filesJSON, err := json.Marshal(files)
		if err != nil {
			return err
		}
		tx.Queue(`INSERT INTO messages (id, session_stream, flow_id, session_id, owner_id, user_id, tenant_id, business_id,
    sender, sender_name, text, files, error, edit, properties, category, content_blocks, context_id, ip_address,
    flow_version, start_time, end_time, timestamp)
SELECT $1, s.stream, s.flow_id, s.session_id, s.owner_id, s.user_id, s.tenant_id, s.business_id,
    $3, $4, $5, $6, $7, $8, coalesce($9::jsonb, '{}'), $10, coalesce($11::jsonb, '[]'), $12, $13, $14, $15, $16, $17
FROM chat_sessions s WHERE s.stream = $2`,
			e.MessageID, rec.StreamID, f.Sender, f.SenderName, f.Text, filesJSON, f.Error, f.Edit,
			nullJSON(f.Properties), f.Category, nullJSON(f.ContentBlocks), f.ContextID, f.IPAddress, f.FlowVersion,
			f.StartTime, f.EndTime, f.Timestamp)
		tx.Queue(`UPDATE chat_sessions SET updated_at = $2 WHERE stream = $1`, rec.StreamID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.MessageUpdated) error {
		var files []byte
		if e.Files != nil {
			fs := *e.Files
			if fs == nil {
				fs = []string{}
			}
			b, err := json.Marshal(fs)
			if err != nil {
				return err
			}
			files = b
		}
		tx.Queue(`UPDATE messages SET text = coalesce($2, text), sender = coalesce($3, sender),
    sender_name = coalesce($4, sender_name), files = coalesce($5::jsonb, files), error = coalesce($6, error),
    edit = coalesce($7, edit), properties = coalesce($8::jsonb, properties), context_id = coalesce($9, context_id),
    ip_address = coalesce($10, ip_address), flow_version = coalesce($11, flow_version),
    start_time = coalesce($12, start_time), end_time = coalesce($13, end_time),
    content_blocks = coalesce($14::jsonb, content_blocks)
WHERE id = $1`,
			e.MessageID, e.Text, e.Sender, e.SenderName, files, e.Error, e.Edit, nullJSON(e.Properties), e.ContextID,
			e.IPAddress, e.FlowVersion, e.StartTime, e.EndTime, nullJSON(e.ContentBlocks))
		tx.Queue(`UPDATE chat_sessions SET updated_at = $2 WHERE stream = $1`, rec.StreamID, rec.Metadata.OccurredAt)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.MessagesDeleted) error {
		tx.Queue(`DELETE FROM messages WHERE id = ANY($1) AND session_stream = $2`, e.MessageIDs, rec.StreamID)
		return nil
	})
	return p
}

// Monitor builds the read models of flow runs: vertex_builds (Langflow's
// vertex_build rows) and transactions. seq is the event's log position,
// which orders rows of one timestamp the same way in every rebuild.
func Monitor() *Projection {
	p := New("monitor", "vertex_builds", "transactions")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.VertexBuildRecorded) error {
		tx.Queue(`INSERT INTO vertex_builds (build_id, flow_id, id, timestamp, data, artifacts, params, valid, seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.BuildID, e.FlowID, e.VertexID, e.Timestamp, nullJSON(e.Data), nullJSON(e.Artifacts), e.Params, e.Valid,
			int64(rec.Position.Commit))
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.VertexBuildsDeleted) error {
		tx.Queue(`DELETE FROM vertex_builds WHERE flow_id = $1 AND build_id = ANY($2)`, e.FlowID, e.BuildIDs)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.TransactionRecorded) error {
		tx.Queue(`INSERT INTO transactions (id, flow_id, timestamp, vertex_id, target_id, inputs, outputs, status, error, seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			e.TransactionID, e.FlowID, e.Timestamp, e.VertexID, e.TargetID, nullJSON(e.Inputs), nullJSON(e.Outputs),
			e.Status, e.Error, int64(rec.Position.Commit))
		return nil
	})
	return p
}
