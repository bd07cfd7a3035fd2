package logbuf

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// secretWords are parts of attribute keys whose values never reach the
// buffer (nor, through Tee, the process's own log): "*******" instead.
var secretWords = []string{"password", "passwd", "secret", "token", "authorization", "cookie", "api_key", "apikey",
	"api-key", "credential", "private_key"}

// Secret reports whether an attribute named key holds a secret.
func Secret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Mask is what a secret attribute's value becomes.
const Mask = "*******"

func redact(_ []string, a slog.Attr) slog.Attr {
	switch {
	case a.Key == slog.TimeKey:
		return slog.Attr{} // the entry keeps its time apart
	case Secret(a.Key) && a.Value.Kind() != slog.KindGroup:
		return slog.String(a.Key, Mask)
	}
	return a
}

// maskAttr masks a's secret values, in groups too.
func maskAttr(a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindGroup {
		if Secret(a.Key) {
			return slog.String(a.Key, Mask)
		}
		return a
	}
	group := a.Value.Group()
	out := make([]any, len(group))
	for i, g := range group {
		out[i] = maskAttr(g)
	}
	return slog.Group(a.Key, out...)
}

// Tee returns a handler logging every record to next and, when b is
// enabled, the text of those at level or above (without the time, secrets
// masked) into b — whatever next keeps. Secret attributes are masked for
// next too.
func Tee(next slog.Handler, b *Buffer, level slog.Leveler) slog.Handler {
	if !b.Enabled() {
		return next
	}
	s := &sink{buf: b}
	return &tee{next: next, text: slog.NewTextHandler(s, &slog.HandlerOptions{Level: level, ReplaceAttr: redact}), sink: s}
}

type tee struct {
	next slog.Handler
	text slog.Handler
	sink *sink
}

func (t *tee) Enabled(ctx context.Context, l slog.Level) bool {
	return t.text.Enabled(ctx, l) || t.next.Enabled(ctx, l)
}

func (t *tee) Handle(ctx context.Context, r slog.Record) error {
	masked := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		masked.AddAttrs(maskAttr(a))
		return true
	})
	var err error
	if t.text.Enabled(ctx, r.Level) {
		t.sink.mu.Lock()
		t.sink.at = r.Time
		err = t.text.Handle(ctx, masked)
		t.sink.mu.Unlock()
	}
	if t.next.Enabled(ctx, r.Level) {
		if nerr := t.next.Handle(ctx, masked); err == nil {
			err = nerr
		}
	}
	return err
}

func (t *tee) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return &tee{next: t.next.WithAttrs(masked), text: t.text.WithAttrs(masked), sink: t.sink}
}

func (t *tee) WithGroup(name string) slog.Handler {
	return &tee{next: t.next.WithGroup(name), text: t.text.WithGroup(name), sink: t.sink}
}

// sink receives the text handler's lines, one per record, and appends
// them with the record's time (held by the tee while it writes).
type sink struct {
	mu  sync.Mutex
	at  time.Time
	buf *Buffer
}

func (s *sink) Write(p []byte) (int, error) {
	at := s.at
	if at.IsZero() {
		at = time.Now()
	}
	s.buf.Append(at.UnixMilli(), string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
