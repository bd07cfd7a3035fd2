package blob_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/blob"
)

func TestLocal_PutOpenDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.NewLocal(dir)
	require.NoError(t, err)
	key := blob.NewKey("files/a")
	info, err := s.Put(ctx, key, strings.NewReader("hello"), 10)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("hello"))
	assert.Equal(t, blob.Info{Key: key, Size: 5, SHA256: hex.EncodeToString(sum[:])}, info)

	r, size, err := s.Open(ctx, key)
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, "hello", string(data))
	assert.Equal(t, int64(5), size)

	var keys []string
	require.NoError(t, s.Walk(ctx, func(k string, _ time.Time) error { keys = append(keys, k); return nil }))
	assert.Equal(t, []string{key}, keys)

	require.NoError(t, s.Delete(ctx, key))
	require.NoError(t, s.Delete(ctx, key), "deleting a missing blob is no error")
	_, _, err = s.Open(ctx, key)
	assert.ErrorIs(t, err, blob.ErrNotFound)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "emptied directories are removed, only .tmp stays")
}

func TestLocal_TooLargeStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.NewLocal(dir)
	require.NoError(t, err)
	key := blob.NewKey("")
	_, err = s.Put(ctx, key, strings.NewReader("123456"), 5)
	var tl *blob.TooLargeError
	require.True(t, errors.As(err, &tl), "%v", err)
	_, _, err = s.Open(ctx, key)
	assert.ErrorIs(t, err, blob.ErrNotFound)
	tmp, err := os.ReadDir(filepath.Join(dir, ".tmp"))
	require.NoError(t, err)
	assert.Empty(t, tmp, "the temporary file is removed")

	// A reader failing midway leaves nothing either.
	_, err = s.Put(ctx, key, io.MultiReader(strings.NewReader("abc"), failing{}), 0)
	require.Error(t, err)
	_, _, err = s.Open(ctx, key)
	assert.ErrorIs(t, err, blob.ErrNotFound)
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection lost") }

func TestLocal_KeysStayInside(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := blob.NewLocal(t.TempDir())
	require.NoError(t, err)
	for _, key := range []string{"", "../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", `a\b`, "a\x00b", ".tmp/x", "a/b.txt"} {
		_, err := s.Put(ctx, key, strings.NewReader("x"), 0)
		assert.Error(t, err, "put %q", key)
		_, _, err = s.Open(ctx, key)
		assert.Error(t, err, "open %q", key)
		assert.Error(t, s.Delete(ctx, key), "delete %q", key)
	}
}
