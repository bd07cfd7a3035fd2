package runs

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/skillflaw/skillflaw-go/engine"
)

// jobHistory is the History a job's components read (the Memory
// component): the messages read model, once it has caught up with the
// log (bounded: Options.WaitForHistory), and the messages this run itself
// recorded, which it holds before its next flush — so a Memory after a
// ChatInput sees the question just asked, as in Langflow, and the
// answers of the session's previous runs.
//
// A public run runs as the flow's owner, whose messages are the history's;
// its visitor names the session, so flow keeps it to the messages of its
// own (virtual) flow: naming the owner's playground session (the flow id)
// must not show the owner's chat. The filter follows the read, whose
// window a session shared with other flows may thin; only such a session
// loses messages by it.
type jobHistory struct {
	base engine.History
	wait func(ctx context.Context) error
	flow string // public runs: only this flow's messages; "": any

	mu  sync.Mutex
	own []*engine.Message // latest version of each message, in the order recorded
}

var _ engine.History = (*jobHistory)(nil)

// recorded notes a message the run stored (a new one, or a new version).
func (h *jobHistory) recorded(m *engine.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.IndexFunc(h.own, func(x *engine.Message) bool { return x.ID == m.ID }); i >= 0 {
		h.own[i] = m.Clone()
		return
	}
	h.own = append(h.own, m.Clone())
}

// forget lets go of the run's own messages (the run is over).
func (h *jobHistory) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.own = nil
}

// Messages implements engine.History.
func (h *jobHistory) Messages(ctx context.Context, q engine.HistoryQuery) ([]*engine.Message, error) {
	if q.Limit == 0 {
		return nil, nil
	}
	if h.wait != nil {
		if err := h.wait(ctx); err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	var out []*engine.Message
	if h.base != nil {
		var err error
		if out, err = h.base.Messages(ctx, q); err != nil {
			return nil, err
		}
		if h.flow != "" {
			out = slices.DeleteFunc(out, func(m *engine.Message) bool { return m.FlowID != h.flow })
		}
	}
	h.mu.Lock()
	for _, m := range h.own {
		if m.SessionID != q.SessionID || (q.ContextID != "" && m.ContextID != q.ContextID) ||
			(q.Sender != "" && m.Sender != q.Sender) || (q.SenderName != "" && m.SenderName != q.SenderName) {
			continue
		}
		if i := slices.IndexFunc(out, func(x *engine.Message) bool { return x.ID == m.ID }); i >= 0 {
			out[i] = m.Clone()
		} else {
			out = append(out, m.Clone())
		}
	}
	h.mu.Unlock()
	slices.SortStableFunc(out, func(a, b *engine.Message) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		x, _ := strconv.ParseInt(a.ID, 10, 64)
		y, _ := strconv.ParseInt(b.ID, 10, 64)
		return int(x - y)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}
