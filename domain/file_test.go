package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

func TestValidFileName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"report.pdf", "a..b.txt", "naïve résumé.md", "100% done.txt", "x (1).csv", ".env", "C", "C-3PO:notes",
		"تقرير.pdf", "עברית.txt", "👨\u200D👩\u200D👧.png"} {
		assert.NoError(t, domain.ValidFileName(ok), ok)
	}
	for _, bad := range []string{"", "  ", ".", "..", "../x", "a/b", `a\b`, "/etc/passwd", "x\x00.txt", "x\n.txt",
		"%2e%2e", "%2e%2e%2fx", "..%2fx", "%252e%252e%252fx", "%25252e%25252e", "x%00.txt", "%5c", "C:x", "c:\\x",
		"\xff\xfe", strings.Repeat("a", 256),
		// Bidirectional controls and invisible separators, plain and percent-encoded.
		"invoice\u202Efdp.exe", "a\u202Ab", "a\u202Bb", "a\u202Cb", "a\u202Db", "a\u2066b", "a\u2067b", "a\u2068b",
		"a\u2069b", "a\u200Eb", "a\u200Fb", "a\u061Cb", "a\u2028b", "a\u2029b", "\uFEFFa", "a%E2%80%AEb"} {
		err := domain.ValidFileName(bad)
		assert.True(t, errors.Is(err, domain.ErrInvalid), "%q: %v", bad, err)
	}
}

func TestFile_Lifecycle(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	_, err := domain.UploadFile(id, domain.NewFile{Kind: domain.FileKindUser, Name: "../x", Content: domain.FileContent{Key: "k"}})
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = domain.UploadFile(id, domain.NewFile{Kind: domain.FileKindFlow, Name: "x", Content: domain.FileContent{Key: "k"}})
	require.ErrorIs(t, err, domain.ErrInvalid, "a flow file needs its flow")
	f, err := domain.UploadFile(id, domain.NewFile{Kind: domain.FileKindUser, UserID: 7, Name: "x", Path: "7/x.txt",
		Content: domain.FileContent{Key: "k1", Size: 1}})
	require.NoError(t, err)
	assert.True(t, f.Exists())
	require.NoError(t, f.Rename("x"))
	assert.Len(t, f.Root().Pending(), 1, "the same name records nothing")
	require.NoError(t, f.Rename("y"))
	require.ErrorIs(t, f.Rename("a/b"), domain.ErrInvalid)
	require.NoError(t, f.ReplaceContent(domain.FileContent{Key: "k2", Size: 2}))
	assert.Equal(t, "k2", f.Content().Key)
	require.NoError(t, f.Delete())
	assert.False(t, f.Exists())
	require.ErrorIs(t, f.Delete(), domain.ErrNotFound)
	require.ErrorIs(t, f.Rename("z"), domain.ErrNotFound)
	events := f.Root().Pending()
	require.Len(t, events, 4)
	assert.Equal(t, domain.FileDeleted{FileID: id, Content: "k2"}, events[3])
	assert.Equal(t, domain.FileContentReplaced{FileID: id, Content: domain.FileContent{Key: "k2", Size: 2}, Previous: "k1"}, events[2])

	// Replaying the events rebuilds the same state.
	g := domain.LoadFile(id)
	for _, e := range events[:3] {
		g.Apply(e)
	}
	assert.Equal(t, "y", g.Name())
	assert.Equal(t, "k2", g.Content().Key)
	assert.Equal(t, int64(7), g.UserID())
}
