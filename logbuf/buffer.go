// Package logbuf keeps the server's own log records in memory for
// GET /logs and GET /logs-stream (Langflow's log retriever,
// langflow/api/log_router.py): a ring of the last SKILLFLAW_LOG_RETRIEVER_BUFFER_SIZE
// records (0: disabled, both routes answer 501), fed by a slog.Handler
// that tees every record the process logs. Records are the log's own
// lines (level, message, attributes), with the values of attributes named
// like secrets masked on top of the redaction the loggers already do (the
// access log hides query values): a log line never carries a secret.
package logbuf

import (
	"sync"
)

// Entry is one log record: its time in Unix milliseconds and its text.
type Entry struct {
	TS  int64
	Msg string
	seq uint64
}

// Buffer is a ring of the last Size entries, safe for concurrent use.
// The zero value and nil are disabled.
type Buffer struct {
	size    int // fixed at New
	mu      sync.Mutex
	ring    []Entry
	next    int    // where the next entry goes
	seq     uint64 // entries ever appended
	changed chan struct{}
}

// New returns a buffer of size entries (size <= 0: nil, disabled).
func New(size int) *Buffer {
	if size <= 0 {
		return nil
	}
	return &Buffer{size: size, ring: make([]Entry, 0, size), changed: make(chan struct{})}
}

// Enabled reports whether b keeps records.
func (b *Buffer) Enabled() bool { return b != nil && b.size > 0 }

// Append adds an entry, dropping the oldest when full, and wakes the
// streams waiting for one.
func (b *Buffer) Append(ts int64, msg string) {
	if !b.Enabled() {
		return
	}
	b.mu.Lock()
	b.seq++
	e := Entry{TS: ts, Msg: msg, seq: b.seq}
	if len(b.ring) < b.size {
		b.ring = append(b.ring, e)
	} else {
		b.ring[b.next] = e
	}
	b.next = (b.next + 1) % b.size
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// entries returns the entries oldest first (b.mu held).
func (b *Buffer) entries() []Entry {
	if len(b.ring) < b.size {
		return append([]Entry(nil), b.ring...)
	}
	return append(append([]Entry(nil), b.ring[b.next:]...), b.ring[:b.next]...)
}

// Snapshot returns every entry, oldest first.
func (b *Buffer) Snapshot() []Entry {
	if !b.Enabled() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries()
}

// After returns the entries appended after position seq (0: from the
// start), the position of the last one, and a channel closed at the next
// Append.
func (b *Buffer) After(seq uint64) ([]Entry, uint64, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Entry
	for _, e := range b.entries() {
		if e.seq > seq {
			out = append(out, e)
		}
	}
	return out, b.seq, b.changed
}

// Position is the position of the last entry (the start of a stream).
func (b *Buffer) Position() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Query errors (Langflow's texts).
const (
	MsgBeforeAndAfter    = "Cannot request logs before and after the timestamp"
	MsgTimestampRequired = "Timestamp is required when requesting logs after the timestamp"
)

// QueryError is a query the rules refuse (400).
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// defaultLines is how many entries a query without a count answers.
const defaultLines = 10

// Query answers GET /logs' question, as Langflow's SizedLogBuffer does:
//   - lines_before and lines_after both > 0: refused;
//   - no timestamp (<= 0) with lines_after > 0: refused;
//   - no timestamp: the last lines_before entries (10 when <= 0);
//   - timestamp and lines_after > 0: the first lines_after entries at or
//     after it;
//   - timestamp otherwise: up to lines_before (10 when <= 0) entries just
//     before the first entry at or after it (the last ones when none is).
func (b *Buffer) Query(linesBefore, linesAfter int, timestamp int64) ([]Entry, error) {
	switch {
	case linesBefore > 0 && linesAfter > 0:
		return nil, &QueryError{MsgBeforeAndAfter}
	case timestamp <= 0 && linesAfter > 0:
		return nil, &QueryError{MsgTimestampRequired}
	}
	all := b.Snapshot()
	n := linesBefore
	if n <= 0 {
		n = defaultLines
	}
	last := func(es []Entry, n int) []Entry { return es[max(len(es)-n, 0):] }
	if timestamp <= 0 {
		return last(all, n), nil
	}
	first := len(all)
	for i, e := range all {
		if e.TS >= timestamp {
			first = i
			break
		}
	}
	if linesAfter > 0 {
		return all[first:min(first+linesAfter, len(all))], nil
	}
	return last(all[:first], n), nil
}
