package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// tmpDir is the directory of blobs being written, inside the root; Walk
// skips it and SweepTemp empties it of old leftovers.
const tmpDir = ".tmp"

// Local stores blobs as files under a directory: key "a/b" is the file
// <dir>/a/b. A Put writes a temporary file in <dir>/.tmp, fsyncs it, renames
// it into place and fsyncs the directory, so a blob is either complete or
// absent, also across a crash.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating it if needed) a store in dir.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob store: no directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	return &Local{dir: abs}, nil
}

// Dir is the store's directory.
func (l *Local) Dir() string { return l.dir }

// Provider implements Store.
func (l *Local) Provider() string { return "local" }

// NewKey returns a fresh key under prefix (which must itself be a valid
// key, or empty).
func NewKey(prefix string) string {
	k := strings.ReplaceAll(uuid.NewString(), "-", "")
	if prefix == "" {
		return k
	}
	return prefix + "/" + k
}

func (l *Local) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if strings.HasPrefix(key, tmpDir) {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, limit int64) (info Info, err error) {
	dst, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(l.dir, tmpDir), "put-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()           // already failed; the close adds nothing
			_ = os.Remove(tmp.Name()) // best effort: SweepTemp removes leftovers
		}
	}()
	h := sha256.New()
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), readerWithContext{ctx, src})
	if err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	if limit > 0 && n > limit {
		return Info{}, &TooLargeError{Limit: limit}
	}
	if err = tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("blob %s: sync: %w", key, err)
	}
	if err = tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	if err = os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return Info{}, fmt.Errorf("blob %s: %w", key, err)
	}
	if err = syncDir(filepath.Dir(dst)); err != nil {
		return Info{}, fmt.Errorf("blob %s: sync directory: %w", key, err)
	}
	return Info{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// syncDir makes a rename into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readerWithContext stops a copy when its context ends.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, int64, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("blob %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // read only
		return nil, 0, fmt.Errorf("blob %s: %w", key, err)
	}
	return f, st.Size(), nil
}

// Delete implements Store; it removes directories the deletion emptied.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", key, err)
	}
	for dir := filepath.Dir(p); dir != l.dir && strings.HasPrefix(dir, l.dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}

// Walk implements Store.
func (l *Local) Walk(ctx context.Context, fn func(key string, written time.Time) error) error {
	return filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == filepath.Join(l.dir, tmpDir) {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), info.ModTime())
	})
}

// SweepTemp removes temporary files older than olderThan: what Puts left
// when the process died while writing. It returns how many it removed.
func (l *Local) SweepTemp(olderThan time.Duration, now time.Time) (int, error) {
	entries, err := os.ReadDir(filepath.Join(l.dir, tmpDir))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < olderThan {
			continue
		}
		if os.Remove(filepath.Join(l.dir, tmpDir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}
