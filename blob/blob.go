// Package blob is the port of file contents: a store of immutable blobs
// under opaque keys, each written atomically (a reader sees all of a blob or
// none of it) and described by its size and SHA-256. File metadata lives in
// the event log (domain.File); the log only ever names blobs that were
// completely written before the event was appended, so a crash between the
// two leaves an orphan blob (see Sweep), never metadata without content.
//
// Local is the implementation on a local disk; an object store (S3) fits the
// same port.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is the error of a key that holds no blob.
var ErrNotFound = errors.New("blob not found")

// TooLargeError is the error of a Put whose content exceeds its limit;
// nothing was stored.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("blob larger than %d bytes", e.Limit)
}

// Info describes a stored blob.
type Info struct {
	// Key is where the blob is stored.
	Key string `json:"key"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of its content.
	SHA256 string `json:"sha256"`
}

// Store keeps blobs.
type Store interface {
	// Put stores everything r yields under key, atomically: until Put
	// returns nil nothing is visible under key. More than limit bytes (when
	// limit > 0) is a *TooLargeError and stores nothing. An existing blob
	// under key is replaced (keys are meant to be fresh: NewKey).
	Put(ctx context.Context, key string, r io.Reader, limit int64) (Info, error)
	// Open returns the blob under key and its size; ErrNotFound if none.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes the blob under key; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn with every stored key and the time it was written.
	Walk(ctx context.Context, fn func(key string, written time.Time) error) error
	// Provider names the store ("local"), as the files' provider field.
	Provider() string
}

// ValidKey checks a key: segments of letters, digits, '-' and '_' joined
// by '/', none empty, at most 255 bytes. Keys are made by the server
// (NewKey), never taken from a client, so this is a guard, not a filter.
func ValidKey(key string) error {
	if key == "" || len(key) > 255 {
		return fmt.Errorf("invalid blob key %q", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("invalid blob key %q", key)
		}
		for _, r := range seg {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				return fmt.Errorf("invalid blob key %q", key)
			}
		}
	}
	return nil
}

// Referenced tells whether a key is in use (a file's current content).
type Referenced func(ctx context.Context, key string) (bool, error)

// Sweep removes the orphans of store: blobs written more than olderThan
// ago that no file refers to (a crash between a blob's Put and its event's
// append, or between a delete's event and the blob's removal, leaves one).
// The age guards uploads in flight, whose blob exists before its event; it
// must exceed the longest upload plus the read model's lag. It returns the
// keys removed.
func Sweep(ctx context.Context, store Store, inUse Referenced, olderThan time.Duration, now time.Time) ([]string, error) {
	var candidates []string
	err := store.Walk(ctx, func(key string, written time.Time) error {
		if now.Sub(written) >= olderThan {
			candidates = append(candidates, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, key := range candidates {
		used, err := inUse(ctx, key)
		if err != nil {
			return removed, err
		}
		if used {
			continue
		}
		if err := store.Delete(ctx, key); err != nil {
			return removed, err
		}
		removed = append(removed, key)
	}
	return removed, nil
}
