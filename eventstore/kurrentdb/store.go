package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Options configures a Store.
type Options struct {
	// StreamPrefix, when set, is put before every stream name written and
	// read, and $all reads/subscriptions see only streams with this prefix
	// (server-side prefix filter for subscriptions). Lets several apps or
	// test runs share one cluster; the conformance suite uses a fresh
	// prefix per test so it runs against a shared, non-empty server. It
	// must not start with $ (KurrentDB's system streams).
	StreamPrefix string
	// BatchSize is how many events Follow hands over at most per call
	// (default 1000, as the postgres adapter).
	BatchSize int
	// Logger receives the client's diagnostics and Follow's resubscriptions
	// (default: discarded).
	Logger *slog.Logger
}

// Store is the KurrentDB event store. It is safe for concurrent use.
type Store struct {
	client *kdb.Client
	read   reader
	page   int // events per read request
	names  names
	batch  int
	log    *slog.Logger
	// records is true when the server has AppendRecords (26.1 and later),
	// which AppendMulti prefers: it keeps the order of the call in the log.
	records bool
}

var _ eventstore.Store = (*Store)(nil)

// minMajor, minMinor is the oldest KurrentDB with multi-stream append
// (MultiStreamAppend; the client's documentation: "only available in
// KurrentDB 25.1 and later"). AppendMulti needs it.
const minMajor, minMinor = 25, 1

// validate checks opts and fills in defaults.
func (o *Options) validate() error {
	if strings.HasPrefix(o.StreamPrefix, "$") {
		return fmt.Errorf("kurrentdb: stream prefix %q starts with $, which KurrentDB reserves for system streams", o.StreamPrefix)
	}
	if o.BatchSize < 0 {
		return fmt.Errorf("kurrentdb: batch size %d is negative", o.BatchSize)
	}
	if o.BatchSize == 0 {
		o.BatchSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// parseURL parses a kurrentdb://, kurrentdb+discover://, esdb:// or
// esdb+discover:// connection string. Its errors name the URL redacted of
// credentials: the parser's own errors may quote the URL whole.
func parseURL(raw string) (*kdb.Configuration, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("kurrentdb: no connection string (want kurrentdb://host:2113?tls=false or similar)")
	}
	conf, err := kdb.ParseConnectionString(raw)
	if err != nil {
		shown := redact(raw)
		msg := strings.ReplaceAll(err.Error(), raw, shown)
		if u := userinfo(raw); u != "" {
			msg = strings.ReplaceAll(msg, u, "xxxxx")
		}
		return nil, fmt.Errorf("kurrentdb: connection string %s: %s", shown, msg)
	}
	return conf, nil
}

// redact is config.RedactURL, and for strings that do not parse as URLs
// the string with its user:password part masked by hand.
func redact(raw string) string {
	if r := config.RedactURL(raw); r != "<unparsable URL>" {
		return r
	}
	if u := userinfo(raw); u != "" {
		user, _, _ := strings.Cut(u, ":")
		return strings.Replace(raw, u+"@", user+":xxxxx@", 1)
	}
	return raw
}

// userinfo is the user:password part of a URL-like string, found by hand
// because the string may not parse as a URL.
func userinfo(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at > 0 {
		return rest[:at]
	}
	return ""
}

// supportsMultiAppend reports whether a server version has multi-stream
// append.
func supportsMultiAppend(v kdb.ServerVersion) bool { return v.IsAtLeast(minMajor, minMinor, 0) }

// supportsAppendRecords reports whether a server version has AppendRecords
// (26.1 and later, per the client's documentation).
func supportsAppendRecords(v kdb.ServerVersion) bool { return v.IsAtLeast(26, 1, 0) }

// Open connects to KurrentDB at url and checks that the server can serve
// the port: it refuses servers older than 25.1 (no multi-stream append),
// naming the version found. Errors never show the URL's credentials.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	conf, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	conf.Logger = clientLogger(opts.Logger)
	client, err := kdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %s: %w", redact(url), err)
	}
	version, err := serverVersion(ctx, client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kurrentdb: connect to %s: %w", redact(url), err)
	}
	if !supportsMultiAppend(version) {
		_ = client.Close()
		found := fmt.Sprintf("%d.%d.%d", version.Major, version.Minor, version.Patch)
		if version == (kdb.ServerVersion{}) {
			found = "of unknown version (it has no server-features API, so it predates 21.10)"
		}
		return nil, fmt.Errorf("kurrentdb: server at %s is %s; the event store needs KurrentDB %d.%d or later (multi-stream append)",
			redact(url), found, minMajor, minMinor)
	}
	return &Store{
		client:  client,
		read:    clientReader{client},
		page:    defaultPage,
		names:   names{prefix: opts.StreamPrefix},
		batch:   opts.BatchSize,
		log:     opts.Logger,
		records: supportsAppendRecords(version),
	}, nil
}

// serverVersion asks the server its version. The client's call takes no
// context (it waits for discovery, bounded by the connection string's
// maxDiscoverAttempts), so it runs aside and ctx bounds the wait.
func serverVersion(ctx context.Context, client *kdb.Client) (kdb.ServerVersion, error) {
	type answer struct {
		v   *kdb.ServerVersion
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := client.GetServerVersion()
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return kdb.ServerVersion{}, a.err
		}
		if a.v == nil {
			return kdb.ServerVersion{}, nil
		}
		return *a.v, nil
	case <-ctx.Done():
		return kdb.ServerVersion{}, ctx.Err()
	}
}

// Close closes the connection; calls in flight fail.
func (s *Store) Close() error { return s.client.Close() }

// clientLogger passes the client's diagnostics to log: errors as warnings
// (the adapter reports what matters to its callers itself), the rest as
// debug.
func clientLogger(log *slog.Logger) kdb.LoggingFunc {
	return func(level kdb.LogLevel, format string, args ...any) {
		// The client sometimes passes its arguments as one slice.
		if len(args) == 1 {
			if inner, ok := args[0].([]any); ok {
				args = inner
			}
		}
		l := slog.LevelDebug
		if level == kdb.LogError || level == kdb.LogWarn {
			l = slog.LevelWarn
		}
		log.Log(context.Background(), l, "kurrentdb client: "+fmt.Sprintf(format, args...))
	}
}
