package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
)

// BenchmarkRecordMessage records b.N messages into one chat session through
// the command API the flow engine calls (commands.Messages.RecordMessage:
// the flow's placement, a message id, the session's state, the append),
// one at a time as a chat does, and times each call. Every write decides
// on the session's state, so a session that folded its whole stream would
// make each write slower than the last: the benchmark reports the first
// and the last quarter of the session apart (early_*, late_*), and the
// late writes as p50_ms/p99_ms beside a plain INSERT + COMMIT of the same
// message (jsonb) on the same pool, one after each of ours (raw_*).
// After each write, untimed, it waits until the read models folded it, so
// that neither figure pays for the projection's work. `make bench` runs
// 2000 messages:
//
//	go test -run '^$' -bench 'BenchmarkRecordMessage' -benchtime 2000x ./app/
func BenchmarkRecordMessage(b *testing.B) {
	h := startApp(b, options{env: adminEnv(msgAdmin, msgAdminPassword),
		modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Messages{}}})
	cmds := app.MessagesCommands(h.app.Deps())
	ctx := context.Background()
	pool := h.app.Pool()
	user := h.newUser(b, "chatter", msgPassword)
	flow := uuid.MustParse(h.createFlow(b, user.token, map[string]any{"name": "Chat"})["id"].(string))
	_, err := pool.Exec(ctx, `CREATE TABLE raw_messages (id bigint PRIMARY KEY, session text NOT NULL, data jsonb NOT NULL)`)
	require.NoError(b, err)

	key := commands.SessionKey{FlowID: &flow, SessionID: "bench-" + uuid.NewString()}
	t0 := time.Now().UTC()
	message := func(i int) domain.MessageFields {
		return benchMessage(i, t0.Add(time.Duration(i)*time.Second))
	}
	took := make([]time.Duration, 0, b.N)
	raw := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		md := msgMD(user.id, t0.Add(time.Duration(i)*time.Second))
		f := message(i)
		start := time.Now()
		res, err := cmds.RecordMessage(ctx, md, commands.NewMessage{SessionKey: key, UserID: user.id, Fields: f})
		took = append(took, time.Since(start))
		b.StopTimer()
		if err != nil {
			b.Fatalf("message %d: %v", i, err)
		}
		doc, err := json.Marshal(f)
		require.NoError(b, err)
		start = time.Now()
		_, err = pool.Exec(ctx, `INSERT INTO raw_messages (id, session, data) VALUES ($1, $2, $3)`, int64(i), key.SessionID,
			json.RawMessage(doc))
		raw = append(raw, time.Since(start))
		require.NoError(b, err)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(b, h.app.Runtime().WaitFor(wctx, res.Position))
		cancel()
		b.StartTimer()
	}
	b.StopTimer()

	var n int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE session_id = $1`, key.SessionID).Scan(&n))
	require.Equal(b, b.N, n, "every message is in the session")
	q := max(b.N/4, 1)
	early, late := took[:q], took[len(took)-q:]
	reportLatencies(b, late, raw)
	b.ReportMetric(percentile(early, 50), "early_p50_ms")
	b.ReportMetric(percentile(early, 99), "early_p99_ms")
	b.ReportMetric(percentile(late, 50), "late_p50_ms")
	b.ReportMetric(percentile(late, 99), "late_p99_ms")
	b.ReportMetric(percentile(late, 50)/percentile(early, 50), "late/early_p50")
	b.ReportMetric(float64(b.N), "messages/session")
}

// benchMessage is message i of a chat: the user's question and the
// model's longer answer in turn, with Langflow's usual properties.
func benchMessage(i int, at time.Time) domain.MessageFields {
	sender, name := "User", "User"
	text := fmt.Sprintf("Question %d: how do I route support tickets by language and urgency?", i)
	if i%2 == 1 {
		sender, name = "Machine", "AI"
		text = fmt.Sprintf("Answer %d: ", i) + strings.Repeat("Use a router component keyed on the detected language, then a "+
			"classifier for urgency; send urgent tickets to the on-call queue. ", 6)
	}
	props := fmt.Sprintf(`{"text_color":"","background_color":"","edited":false,"source":{"id":"ChatOutput-%d",`+
		`"display_name":"Chat Output","source":"gpt-4o-mini"},"icon":"","allow_markdown":false,"positive_feedback":null,`+
		`"state":"complete","targets":[]}`, i%7)
	return domain.MessageFields{Sender: sender, SenderName: name, Text: text, Properties: json.RawMessage(props),
		ContentBlocks: json.RawMessage(`[]`), Timestamp: at}
}
