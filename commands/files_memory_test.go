package commands_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
)

// logFiles is the files' read model folded straight from the in-memory
// log: the live files, in the order they were uploaded.
type logFiles struct {
	repo  *commands.Repository
	store *memory.Store
}

func (r logFiles) live(ctx context.Context) ([]*domain.File, error) {
	all, err := r.store.ReadAll(ctx, eventstore.Position{}, 100000)
	if err != nil {
		return nil, err
	}
	var out []*domain.File
	for _, e := range all {
		if e.Type != (domain.FileUploaded{}).EventType() {
			continue
		}
		id, err := uuid.Parse(strings.TrimPrefix(e.StreamID, "file-"))
		if err != nil {
			return nil, err
		}
		f := domain.LoadFile(id)
		if err := r.repo.Load(ctx, f); err != nil {
			return nil, err
		}
		if f.Exists() {
			out = append(out, f)
		}
	}
	return out, nil
}

func (r logFiles) FlowFile(ctx context.Context, flow uuid.UUID, name string) (uuid.UUID, error) {
	files, err := r.live(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	for _, f := range files {
		if f.FlowID() != nil && *f.FlowID() == flow && f.Name() == name {
			return f.ID(), nil
		}
	}
	return uuid.Nil, domain.NotFoundf("File not found")
}

func (r logFiles) UserFiles(ctx context.Context, user int64) ([]commands.StoredFile, error) {
	files, err := r.live(ctx)
	if err != nil {
		return nil, err
	}
	var out []commands.StoredFile
	for _, f := range files {
		if f.Kind() == domain.FileKindUser && f.UserID() == user {
			out = append(out, commands.StoredFile{ID: f.ID(), Name: f.Name()})
		}
	}
	return out, nil
}

// memFiles is a files handler over a fresh in-memory log and a blob store
// in a temporary directory, with uploads of at most 1 MiB.
func memFiles(t *testing.T) (*commands.FilesHandler, *memory.Store) {
	t.Helper()
	repo, store := newMemRepo(t, domain.FileEvents())
	blobs, err := blob.NewLocal(t.TempDir())
	require.NoError(t, err)
	return &commands.FilesHandler{Repo: repo, Reads: logFiles{repo: repo, store: store}, Blobs: blobs,
		Config: config.Config{MaxFileSizeUploadMB: 1}}, store
}

// blobCount is how many blobs the store holds.
func blobCount(t *testing.T, h *commands.FilesHandler) int {
	t.Helper()
	n := 0
	require.NoError(t, h.Blobs.Walk(context.Background(), func(string, time.Time) error { n++; return nil }))
	return n
}

// content reads file id's current content from the blob store.
func content(t *testing.T, h *commands.FilesHandler, id uuid.UUID) string {
	t.Helper()
	f := domain.LoadFile(id)
	require.NoError(t, h.Repo.Load(context.Background(), f))
	r, _, err := h.Blobs.Open(context.Background(), f.Content().Key)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// upload stores text as the user file name of user.
func upload(t *testing.T, h *commands.FilesHandler, user int64, name, text string, appendTo bool) uuid.UUID {
	t.Helper()
	w, err := h.UploadForUser(context.Background(), commands.UploadUserFile{Caller: auth.Principal{UserID: user},
		Upload: commands.Upload{Name: name, Body: strings.NewReader(text)}, Append: appendTo})
	require.NoError(t, err)
	return w.ID
}

// fileName is file id's name as the log has it.
func fileName(t *testing.T, h *commands.FilesHandler, id uuid.UUID) string {
	t.Helper()
	f := domain.LoadFile(id)
	require.NoError(t, h.Repo.Load(context.Background(), f))
	return f.Name()
}

// User files, as Langflow names them: a name the user's files already have
// (whatever the extension) gets the next " (n)", another user's do not
// count; an append extends the file of that name in place (its old
// content removed) and a name not there is a new file; the MCP servers
// configuration is replaced in place, never copied or appended to. A
// rename to the name the file has appends nothing; to a name that leaves
// its place is 422. Every blob is some live file's content.
func TestFilesHandler_InMemoryUserFiles(t *testing.T) {
	t.Parallel()
	h, store := memFiles(t)
	ctx := context.Background()
	first := upload(t, h, 1, "report.pdf", "v1", false)
	second := upload(t, h, 1, "report.pdf", "v2", false)
	third := upload(t, h, 1, "report.txt", "v3", false)
	theirs := upload(t, h, 2, "report.pdf", "bob's", false)
	assert.Equal(t, "report", fileName(t, h, first))
	assert.Equal(t, "report (1)", fileName(t, h, second))
	assert.Equal(t, "report (2)", fileName(t, h, third))
	assert.Equal(t, "report", fileName(t, h, theirs))
	f := domain.LoadFile(third)
	require.NoError(t, h.Repo.Load(ctx, f))
	assert.Equal(t, "1/report (2).txt", f.Path())

	log := upload(t, h, 1, "log.txt", "hello ", false)
	assert.Equal(t, log, upload(t, h, 1, "log.txt", "world", true), "appended in place")
	assert.Equal(t, "hello world", content(t, h, log))
	other := upload(t, h, 1, "other.txt", "x", true)
	assert.Equal(t, "other", fileName(t, h, other), "append to a name not there: a new file")

	mcp := domain.MCPServersFileName(1) + ".json"
	cfg := upload(t, h, 1, mcp, `{"mcpServers":{}}`, false)
	assert.Equal(t, cfg, upload(t, h, 1, mcp, `{"mcpServers":{"x":{}}}`, true), "replaced in place")
	assert.Equal(t, `{"mcpServers":{"x":{}}}`, content(t, h, cfg), "replaced, not appended to")
	assert.Equal(t, domain.MCPServersFileName(1), fileName(t, h, cfg))

	n := logLen(t, store)
	w, err := h.Rename(ctx, commands.RenameFile{Caller: auth.Principal{UserID: 1}, ID: other, Name: "other"})
	require.NoError(t, err)
	assert.True(t, w.Result.Last().IsZero())
	_, err = h.Rename(ctx, commands.RenameFile{Caller: auth.Principal{UserID: 1}, ID: other, Name: "../escape"})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = h.Rename(ctx, commands.RenameFile{Caller: auth.Principal{UserID: 1}, ID: uuid.New(), Name: "x"})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Equal(t, n, logLen(t, store), "nothing renamed, nothing written")
	_, err = h.Rename(ctx, commands.RenameFile{Caller: auth.Principal{UserID: 1}, ID: other, Name: "renamed"})
	require.NoError(t, err)
	assert.Equal(t, "renamed", fileName(t, h, other))

	files, err := logFiles{repo: h.Repo, store: store}.live(ctx)
	require.NoError(t, err)
	assert.Len(t, files, 7)
	assert.Equal(t, len(files), blobCount(t, h), "replaced contents are removed: no orphan blob")
}

// Deleting or renaming by id takes only the caller's user files: another
// user's file, or a flow file, is "not found" (as the port answers), and
// nothing is written.
func TestFilesHandler_InMemoryOthersFilesUntouched(t *testing.T) {
	t.Parallel()
	h, store := memFiles(t)
	ctx := context.Background()
	mine := upload(t, h, 1, "mine.txt", "ada's", false)
	theirs := upload(t, h, 2, "theirs.txt", "bob's", false)
	_, err := h.UploadToFlow(ctx, commands.UploadFlowFile{Caller: auth.Principal{UserID: 1}, Flow: commands.FileFlow{ID: uuid.New()},
		Upload: commands.Upload{Name: "flow.txt", Body: strings.NewReader("flow's")}})
	require.NoError(t, err)
	flowFiles, err := logFiles{repo: h.Repo, store: store}.live(ctx)
	require.NoError(t, err)
	var flowFile uuid.UUID
	for _, f := range flowFiles {
		if f.Kind() == domain.FileKindFlow {
			flowFile = f.ID()
		}
	}
	require.NotEqual(t, uuid.Nil, flowFile)
	before := logLen(t, store)
	ada := auth.Principal{UserID: 1}

	for _, id := range []uuid.UUID{theirs, flowFile} {
		_, err = h.DeleteByID(ctx, commands.DeleteFilesByID{Caller: ada, IDs: []uuid.UUID{id}})
		assert.ErrorIs(t, err, domain.ErrNotFound)
		assert.EqualError(t, err, "File not found")
		_, err = h.DeleteByID(ctx, commands.DeleteFilesByID{Caller: ada, IDs: []uuid.UUID{mine, id}})
		assert.ErrorIs(t, err, domain.ErrNotFound, "all or none")
		_, err = h.Rename(ctx, commands.RenameFile{Caller: ada, ID: id, Name: "taken"})
		assert.ErrorIs(t, err, domain.ErrNotFound)
		assert.EqualError(t, err, "File not found")
	}
	assert.Equal(t, before, logLen(t, store), "nothing written")
	assert.Equal(t, "theirs", fileName(t, h, theirs))
	assert.Equal(t, "bob's", content(t, h, theirs))
	assert.Equal(t, "ada's", content(t, h, mine))

	_, err = h.Rename(ctx, commands.RenameFile{Caller: auth.Principal{UserID: 2}, ID: theirs, Name: "renamed"})
	require.NoError(t, err)
	assert.Equal(t, "renamed", fileName(t, h, theirs))
	_, err = h.DeleteByID(ctx, commands.DeleteFilesByID{Caller: auth.Principal{UserID: 2}, IDs: []uuid.UUID{theirs}})
	require.NoError(t, err)
}

// failingBody is an upload whose reading fails part way.
type failingBody struct{ sent bool }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.sent {
		return 0, errors.New("connection reset")
	}
	b.sent = true
	return copy(p, "partial"), nil
}

// Refused uploads and deletions leave neither an event nor a blob: an
// empty file (422), one over the limit (FileTooLargeError, the port's
// 413), an upload whose reading fails, a flow file name that would leave
// its place (422); deleting by id is all or none (an unknown id: 404,
// the others kept with their content).
func TestFilesHandler_InMemoryRefusalsLeaveNothing(t *testing.T) {
	t.Parallel()
	h, store := memFiles(t)
	ctx := context.Background()
	kept := upload(t, h, 1, "kept.txt", "still here", false)
	before := logLen(t, store)
	caller := auth.Principal{UserID: 1}

	_, err := h.UploadForUser(ctx, commands.UploadUserFile{Caller: caller, Upload: commands.Upload{Name: "empty.txt", Body: strings.NewReader("")}})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	assert.EqualError(t, err, "The uploaded file is empty")
	big := bytes.Repeat([]byte{'x'}, 1<<20+1)
	_, err = h.UploadForUser(ctx, commands.UploadUserFile{Caller: caller, Upload: commands.Upload{Name: "big.bin", Body: bytes.NewReader(big)}})
	var tooLarge *commands.FileTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, 1, tooLarge.LimitMB)
	_, err = h.UploadForUser(ctx, commands.UploadUserFile{Caller: caller, Upload: commands.Upload{Name: "cut.txt", Body: &failingBody{}}})
	assert.ErrorContains(t, err, "connection reset")
	_, err = h.UploadToFlow(ctx, commands.UploadFlowFile{Caller: caller, Flow: commands.FileFlow{ID: uuid.New()},
		Upload: commands.Upload{Name: "../../etc/passwd", Body: strings.NewReader("x")}})
	assert.ErrorIs(t, err, domain.ErrInvalid)
	_, err = h.DeleteFromFlow(ctx, commands.DeleteFlowFile{Flow: commands.FileFlow{ID: uuid.New()}, Name: "nope.txt"})
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = h.DeleteByID(ctx, commands.DeleteFilesByID{Caller: caller, IDs: []uuid.UUID{kept, uuid.New()}})
	assert.ErrorIs(t, err, domain.ErrNotFound)

	assert.Equal(t, before, logLen(t, store), "no event")
	assert.Equal(t, 1, blobCount(t, h), "no blob but the kept file's")
	assert.Equal(t, "still here", content(t, h, kept))
}

// A flow's files (Langflow's v1): named "<time>_<name>" at the upload's
// time and placed where the flow is (the events carry its tenant); an
// upload of the same name at the same second replaces the file in place
// (its old content removed); deleting by name removes file and content.
// Delete All deletes every user file but the MCP servers configuration,
// and a second one deletes nothing and writes nothing.
func TestFilesHandler_InMemoryFlowFilesAndDeleteAll(t *testing.T) {
	t.Parallel()
	h, store := memFiles(t)
	ctx := context.Background()
	caller := auth.Principal{UserID: 1}
	tenant := uuid.New()
	flow := commands.FileFlow{ID: uuid.New(), TenantID: &tenant, BusinessID: 7}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	md := eventstore.Metadata{ActorUserID: 1, OccurredAt: at}
	put := func(text string) commands.FlowFileUploaded {
		t.Helper()
		w, err := h.UploadToFlow(ctx, commands.UploadFlowFile{Caller: caller, Meta: md, Flow: flow,
			Upload: commands.Upload{Name: "chart.png", Body: strings.NewReader(text)}})
		require.NoError(t, err)
		return w
	}
	w := put("one")
	assert.Equal(t, "2026-01-02_03-04-05_chart.png", w.Name)
	id, err := h.Reads.FlowFile(ctx, flow.ID, w.Name)
	require.NoError(t, err)
	f := domain.LoadFile(id)
	require.NoError(t, h.Repo.Load(ctx, f))
	assert.Equal(t, domain.FileKindFlow, f.Kind())
	assert.Equal(t, &tenant, f.TenantID())
	assert.Equal(t, int64(7), f.BusinessID())
	assert.Equal(t, flow.ID.String()+"/"+w.Name, f.Path())

	before := logLen(t, store)
	put("two")
	assert.Equal(t, []string{"file.content_replaced"}, logTypes(t, store)[before:], "the same name replaces the file")
	assert.Equal(t, "two", content(t, h, id))
	assert.Equal(t, 1, blobCount(t, h))
	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	for _, e := range all {
		assert.Equal(t, tenant, e.Metadata.TenantID, e.Type)
	}

	removed, err := h.DeleteFromFlow(ctx, commands.DeleteFlowFile{Meta: md, Flow: flow, Name: w.Name})
	require.NoError(t, err)
	assert.Equal(t, 1, removed.Deleted)
	assert.Zero(t, blobCount(t, h))
	_, err = h.DeleteFromFlow(ctx, commands.DeleteFlowFile{Meta: md, Flow: flow, Name: w.Name})
	assert.ErrorIs(t, err, domain.ErrNotFound)

	upload(t, h, 1, "a.txt", "a", false)
	upload(t, h, 1, "b.txt", "b", false)
	cfg := upload(t, h, 1, domain.MCPServersFileName(1)+".json", "{}", false)
	bobs := upload(t, h, 2, "a.txt", "bob's", false)
	removed, err = h.DeleteAll(ctx, commands.DeleteUserFiles{Caller: caller})
	require.NoError(t, err)
	assert.Equal(t, 2, removed.Deleted)
	assert.Equal(t, 1, removed.Kept)
	n := logLen(t, store)
	removed, err = h.DeleteAll(ctx, commands.DeleteUserFiles{Caller: caller})
	require.NoError(t, err)
	assert.Equal(t, commands.FilesRemoved{Kept: 1}, removed)
	assert.Equal(t, n, logLen(t, store))
	assert.Equal(t, "{}", content(t, h, cfg))
	assert.Equal(t, "bob's", content(t, h, bobs))
	assert.Equal(t, 2, blobCount(t, h), "the configuration's and bob's contents remain")
}
