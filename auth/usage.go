package auth

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// usageInterval is how long the uses of API keys are counted in memory
// before they are written (one statement for every key used meanwhile).
const usageInterval = time.Second

// usageCounter counts the uses of API keys (api_key_usage: total_uses,
// last_used_at) in memory and writes them at most every usageInterval.
// A request authenticated by a key then costs a read, not a write: a
// row update and a commit per request would serialise the callers of one
// key on its row and cost an fsync each. A process that stops loses at
// most the last interval's counts (telemetry, not state).
type usageCounter struct {
	pool *pgxpool.Pool

	mu      sync.Mutex
	pending map[uuid.UUID]keyUse
}

type keyUse struct {
	uses int64
	last time.Time
}

// add counts one use of key at now; the first use of an interval arms the
// write.
func (u *usageCounter) add(key uuid.UUID, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		u.pending = map[uuid.UUID]keyUse{}
		time.AfterFunc(usageInterval, u.flush)
	}
	k := u.pending[key]
	k.uses++
	k.last = now
	u.pending[key] = k
}

// flush writes the counted uses.
func (u *usageCounter) flush() {
	u.mu.Lock()
	pending := u.pending
	u.pending = nil
	u.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	ids := make([]uuid.UUID, 0, len(pending))
	uses := make([]int64, 0, len(pending))
	last := make([]time.Time, 0, len(pending))
	for id, k := range pending {
		ids, uses, last = append(ids, id), append(uses, k.uses), append(last, k.last)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := u.pool.Exec(ctx, `INSERT INTO api_key_usage AS x (api_key_id, total_uses, last_used_at)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[])
ON CONFLICT (api_key_id) DO UPDATE SET total_uses = x.total_uses + excluded.total_uses,
    last_used_at = greatest(x.last_used_at, excluded.last_used_at)`, ids, uses, last)
	if err != nil && ctx.Err() == nil && u.pool.Stat() != nil && !strings.Contains(err.Error(), "closed pool") {
		slog.Warn("record API key usage", "keys", len(ids), "error", err.Error())
	}
}
