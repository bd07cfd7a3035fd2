package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/engine"
)

// History is the engine's History port over the messages read model:
// the messages of the sessions the user opened (the user chatting, not
// the flow's owner: a developer running a colleague's flow has a history
// of their own), the Memory component's history, newest last. Messages a
// run has not flushed yet are not in it, nor those the read model has not
// folded yet.
type History struct{ Pool *pgxpool.Pool }

var _ engine.History = History{}

// Messages implements engine.History.
func (h History) Messages(ctx context.Context, q engine.HistoryQuery) ([]*engine.Message, error) {
	if q.Limit == 0 {
		return nil, nil
	}
	sql := `SELECT id, flow_id, session_id, sender, sender_name, text, files, error, edit, properties, category, context_id, timestamp
FROM messages WHERE user_id = $1 AND session_id = $2`
	args := []any{q.User, q.SessionID}
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			sql += fmt.Sprintf(" AND %s = $%d", col, len(args))
		}
	}
	add("context_id", q.ContextID)
	add("sender", q.Sender)
	add("sender_name", q.SenderName)
	sql += " ORDER BY timestamp DESC, id DESC"
	if q.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(q.Limit)
	}
	rows, err := h.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Message, error) {
		var (
			id          int64
			flow        *[16]byte
			files, prop []byte
			ctxID       *string
			at          time.Time
		)
		m := &engine.Message{}
		if err := row.Scan(&id, &flow, &m.SessionID, &m.Sender, &m.SenderName, &m.Text, &files, &m.Error, &m.Edit, &prop,
			&m.Category, &ctxID, &at); err != nil {
			return nil, err
		}
		m.ID, m.Timestamp = strconv.FormatInt(id, 10), at.UTC()
		if flow != nil {
			m.FlowID = fmt.Sprintf("%x-%x-%x-%x-%x", flow[0:4], flow[4:6], flow[6:8], flow[8:10], flow[10:16])
		}
		if ctxID != nil {
			m.ContextID = *ctxID
		}
		m.Properties = engine.DefaultProperties()
		if err := json.Unmarshal(files, &m.Files); err != nil {
			return nil, err
		}
		return m, json.Unmarshal(prop, &m.Properties)
	})
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
