package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// FilesHandler handles the writes of uploaded files: v1 files of a flow
// (#10, #14) and v2 user files (#15/#18, #17/#20, #22, #24, #25), with no
// HTTP in sight (ports.Files binds the request, reads the multipart
// upload, checks the flow or files the caller names, calls and answers).
//
// Content goes to the blob store first, under a fresh key; the event that
// names it is appended after. A failed append removes the new blob; a
// crash in between leaves an orphan blob that blob.Sweep removes (with
// readapi.BlobInUse), never metadata without content. Deletions append
// their event first and remove the blob after, for the same reason.
type FilesHandler struct {
	Repo *Repository
	// Reads are the files as the read model lists them (which name is
	// taken, which file an upload replaces).
	Reads  FileReads
	Blobs  blob.Store
	Config config.Config
	Logger *slog.Logger
}

// FileReads is what the files' writes ask the read model.
type FileReads interface {
	// FlowFile returns the id of flow's file named name; none is an
	// error of kind domain.ErrNotFound.
	FlowFile(ctx context.Context, flow uuid.UUID, name string) (uuid.UUID, error)
	// UserFiles lists user's files, the MCP servers configuration
	// included, oldest first.
	UserFiles(ctx context.Context, user int64) ([]StoredFile, error)
}

// StoredFile is a user file as FileReads lists it.
type StoredFile struct {
	ID   uuid.UUID
	Name string // without its extension
}

// FileTooLargeError is the error of a file over the upload limit,
// LimitMB megabytes (a 413 at the port).
type FileTooLargeError struct{ LimitMB int }

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("File size is larger than the maximum file size %dMB.", e.LimitMB)
}

// limit is the largest file, in bytes.
func (h *FilesHandler) limit() int64 { return UploadLimit(h.Config) }

// UploadBound is the largest body of an upload: the largest file plus its
// multipart envelope.
func (h *FilesHandler) UploadBound() int64 { return h.limit() + 1<<20 }

// TooLarge is the error of a file over the limit.
func (h *FilesHandler) TooLarge() error {
	return &FileTooLargeError{LimitMB: max(h.Config.MaxFileSizeUploadMB, 1)}
}

// Upload is a file being received: its name as the client gave it and
// its content.
type Upload struct {
	Name string
	Body io.Reader
}

// capped fails with *blob.TooLargeError past n bytes.
type capped struct {
	r    io.Reader
	n    int64
	read int64
}

func (c *capped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read > c.n {
		return n, &blob.TooLargeError{Limit: c.n}
	}
	return n, err
}

// put stores an upload's content (after prefix, when appending) under a
// fresh key of file id: TooLarge past the limit, 422 for an empty upload.
// A failure to read the upload is returned as it is (the port answers a
// body over its bound as TooLarge too).
func (h *FilesHandler) put(ctx context.Context, id uuid.UUID, prefix io.Reader, u Upload) (domain.FileContent, error) {
	body := &capped{r: u.Body, n: h.limit()}
	src := io.Reader(body)
	if prefix != nil {
		src = io.MultiReader(prefix, body)
	}
	info, err := h.Blobs.Put(ctx, blob.NewKey("files/"+id.String()), src, 0)
	if err != nil {
		if _, ok := errors.AsType[*blob.TooLargeError](err); ok {
			return domain.FileContent{}, h.TooLarge()
		}
		return domain.FileContent{}, err
	}
	if body.read == 0 {
		h.dropBlob(ctx, info.Key)
		return domain.FileContent{}, domain.Invalidf("The uploaded file is empty")
	}
	return domain.FileContent{Key: info.Key, Size: info.Size, SHA256: info.SHA256}, nil
}

// dropBlob removes a blob no event names (any more); a failure leaves an
// orphan for blob.Sweep and is only logged.
func (h *FilesHandler) dropBlob(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := h.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && h.Logger != nil {
		h.Logger.Warn("remove blob", slog.String("key", key), slog.String("error", err.Error()))
	}
}

// saveWithContent saves agg, whose pending events name the new blob
// content; if the save fails the blob is removed again.
func (h *FilesHandler) saveWithContent(ctx context.Context, agg Aggregate, content string, md eventstore.Metadata) (eventstore.AppendResult, error) {
	res, err := h.Repo.Save(ctx, agg, md)
	if err != nil {
		h.dropBlob(ctx, content)
	}
	return res, err
}

// replaceContent gives f content (already in the blob store) and saves
// it: the previous content is removed once saved, the new one when f
// refuses it or the save fails.
func (h *FilesHandler) replaceContent(ctx context.Context, f *domain.File, content domain.FileContent, md eventstore.Metadata) (eventstore.AppendResult, error) {
	previous := f.Content().Key
	if err := f.ReplaceContent(content); err != nil {
		h.dropBlob(ctx, content.Key)
		return eventstore.AppendResult{}, err
	}
	res, err := h.saveWithContent(ctx, f, content.Key, md)
	if err == nil {
		h.dropBlob(ctx, previous)
	}
	return res, err
}

// FileFlow is the flow a v1 file belongs to: its id and placement.
type FileFlow struct {
	ID         uuid.UUID
	TenantID   *uuid.UUID // nil: none
	BusinessID int64
}

// UploadFlowFile stores Upload as a file of Flow (one the caller may
// see; Langflow's v1 files): its name is "<timestamp>_<name>", and a file
// of that name is replaced.
type UploadFlowFile struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Flow   FileFlow
	Upload Upload
}

// FlowFileUploaded is the file UploadFlowFile stored: its name.
type FlowFileUploaded struct {
	Name   string
	Result eventstore.AppendResult
}

// UploadToFlow handles UploadFlowFile.
func (h *FilesHandler) UploadToFlow(ctx context.Context, cmd UploadFlowFile) (FlowFileUploaded, error) {
	name, res, err := h.uploadFlowFile(ctx, cmd.Caller, cmd.Flow, cmd.Upload, cmd.Meta)
	return FlowFileUploaded{Name: name, Result: res}, err
}

func (h *FilesHandler) uploadFlowFile(ctx context.Context, caller auth.Principal, fl FileFlow, u Upload, md eventstore.Metadata) (string, eventstore.AppendResult, error) {
	name := md.OccurredAt.UTC().Format("2006-01-02_15-04-05") + "_" + u.Name
	if err := domain.ValidFileName(name); err != nil {
		return "", eventstore.AppendResult{}, err
	}
	if fl.TenantID != nil {
		md.TenantID = *fl.TenantID
	}
	existing, err := h.Reads.FlowFile(ctx, fl.ID, name)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", eventstore.AppendResult{}, err
	}
	id := uuid.New()
	if err == nil {
		id = existing
	}
	content, err := h.put(ctx, id, nil, u)
	if err != nil {
		return "", eventstore.AppendResult{}, err
	}
	var f *domain.File
	if existing != uuid.Nil {
		f = domain.LoadFile(id)
		if err := h.Repo.Load(ctx, f); err != nil {
			h.dropBlob(ctx, content.Key)
			return "", eventstore.AppendResult{}, err
		}
		res, err := h.replaceContent(ctx, f, content, md)
		return name, res, err
	}
	flowID := fl.ID
	f, err = domain.UploadFile(id, domain.NewFile{Kind: domain.FileKindFlow, UserID: caller.UserID, FlowID: &flowID,
		TenantID: fl.TenantID, BusinessID: fl.BusinessID, Name: name, Path: fl.ID.String() + "/" + name,
		Provider: h.Blobs.Provider(), Content: content})
	if err != nil {
		h.dropBlob(ctx, content.Key)
		return "", eventstore.AppendResult{}, err
	}
	res, err := h.saveWithContent(ctx, f, content.Key, md)
	return name, res, err
}

// DeleteFlowFile deletes Flow's file Name (Flow is one the caller may
// see; no such file: 404).
type DeleteFlowFile struct {
	Meta eventstore.Metadata
	Flow FileFlow
	Name string
}

// FilesRemoved is what a deletion of files removed.
type FilesRemoved struct {
	// Deleted counts the files deleted, Kept those left (Delete All
	// Files: the MCP servers configuration).
	Deleted, Kept int
	Position      eventstore.Position
}

// DeleteFromFlow handles DeleteFlowFile.
func (h *FilesHandler) DeleteFromFlow(ctx context.Context, cmd DeleteFlowFile) (FilesRemoved, error) {
	if err := domain.ValidFileName(cmd.Name); err != nil {
		return FilesRemoved{}, err
	}
	id, err := h.Reads.FlowFile(ctx, cmd.Flow.ID, cmd.Name)
	if err != nil {
		return FilesRemoved{}, err
	}
	md := cmd.Meta
	if cmd.Flow.TenantID != nil {
		md.TenantID = *cmd.Flow.TenantID
	}
	pos, err := h.DeleteFiles(ctx, []uuid.UUID{id}, md)
	return FilesRemoved{Deleted: 1, Position: pos}, err
}

// DeleteFilesByID deletes the files of IDs, all or none: each one a user
// file of Caller (the port found them so; any other: 404 "File not
// found").
type DeleteFilesByID struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	IDs    []uuid.UUID
}

// DeleteByID handles DeleteFilesByID.
func (h *FilesHandler) DeleteByID(ctx context.Context, cmd DeleteFilesByID) (FilesRemoved, error) {
	pos, err := h.deleteFiles(ctx, cmd.IDs, cmd.Meta, func(f *domain.File) error { return ownFile(f, cmd.Caller) })
	return FilesRemoved{Deleted: len(cmd.IDs), Position: pos}, err
}

// ownFile refuses f unless it is a user file of caller, with the "not
// found" of a file the caller may not see (readapi.UserFileOf).
func ownFile(f *domain.File, caller auth.Principal) error {
	if f.Kind() != domain.FileKindUser || f.UserID() != caller.UserID {
		return domain.NotFoundf("File not found")
	}
	return nil
}

// DeleteUserFiles deletes every file of the caller but the MCP servers
// configuration.
type DeleteUserFiles struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
}

// DeleteAll handles DeleteUserFiles.
func (h *FilesHandler) DeleteAll(ctx context.Context, cmd DeleteUserFiles) (FilesRemoved, error) {
	files, err := h.Reads.UserFiles(ctx, cmd.Caller.UserID)
	if err != nil {
		return FilesRemoved{}, err
	}
	var ids []uuid.UUID
	kept := 0
	mcp := domain.MCPServersFileName(cmd.Caller.UserID)
	for _, f := range files {
		if f.Name == mcp {
			kept++
			continue
		}
		ids = append(ids, f.ID)
	}
	var pos eventstore.Position
	if len(ids) > 0 {
		if pos, err = h.DeleteFiles(ctx, ids, cmd.Meta); err != nil {
			return FilesRemoved{}, err
		}
	}
	return FilesRemoved{Deleted: len(ids), Kept: kept, Position: pos}, nil
}

// DeleteFiles deletes files ids in one atomic append (all or none), then
// removes their blobs. It returns the position of the last event.
func (h *FilesHandler) DeleteFiles(ctx context.Context, ids []uuid.UUID, md eventstore.Metadata) (eventstore.Position, error) {
	return h.deleteFiles(ctx, ids, md, nil)
}

// deleteFiles is DeleteFiles, refusing the files allowed (if not nil)
// refuses.
func (h *FilesHandler) deleteFiles(ctx context.Context, ids []uuid.UUID, md eventstore.Metadata,
	allowed func(*domain.File) error) (eventstore.Position, error) {
	files := make([]*domain.File, len(ids))
	aggs := make([]Aggregate, len(ids))
	for i, id := range ids {
		f := domain.LoadFile(id)
		if err := h.Repo.Load(ctx, f); err != nil {
			return eventstore.Position{}, err
		}
		if allowed != nil {
			if err := allowed(f); err != nil {
				return eventstore.Position{}, err
			}
		}
		if err := f.Delete(); err != nil {
			return eventstore.Position{}, err
		}
		files[i], aggs[i] = f, f
	}
	res, err := h.Repo.SaveAll(ctx, md, aggs...)
	if err != nil {
		return eventstore.Position{}, err
	}
	for _, f := range files {
		h.dropBlob(ctx, f.Content().Key)
	}
	return res.Last(), nil
}

// splitName splits an uploaded name as Langflow does, at the last dot:
// "report.pdf" is "report" with "pdf". A name with no dot before its end
// ("notes", ".env") has no extension.
func splitName(name string) (root, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// copySuffix matches the " (n)" Langflow adds to a repeated name.
var copySuffix = regexp.MustCompile(`^(.*) \((\d+)\)$`)

// freeFileName returns root if no user file of user is named root or
// "root (n)", else "root (m)" with m one more than the largest n (Langflow's
// rule, limited to the names that are root's copies).
func freeFileName(files []StoredFile, root string) string {
	taken, top := false, 0
	for _, f := range files {
		if f.Name == root {
			taken = true
			continue
		}
		if m := copySuffix.FindStringSubmatch(f.Name); m != nil && m[1] == root {
			taken = true
			if n, err := strconv.Atoi(m[2]); err == nil && n > top {
				top = n
			}
		}
	}
	if !taken {
		return root
	}
	return fmt.Sprintf("%s (%d)", root, top+1)
}

// UploadUserFile stores Upload as a file of Caller (Langflow's v2 files).
// With Append, the content is appended to the caller's file of the same
// name if there is one; the MCP servers configuration is always replaced
// in place.
type UploadUserFile struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Upload Upload
	Append bool
}

// UserFileWritten is the user file a command wrote (Result: nothing
// appended when it did not change).
type UserFileWritten struct {
	ID     uuid.UUID
	Result eventstore.AppendResult
}

// UploadForUser handles UploadUserFile.
func (h *FilesHandler) UploadForUser(ctx context.Context, cmd UploadUserFile) (UserFileWritten, error) {
	id, res, err := h.uploadUserFile(ctx, cmd.Caller, cmd.Upload, cmd.Append, cmd.Meta)
	return UserFileWritten{ID: id, Result: res}, err
}

func (h *FilesHandler) uploadUserFile(ctx context.Context, caller auth.Principal, u Upload, appendTo bool, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	root, ext := splitName(u.Name)
	files, err := h.Reads.UserFiles(ctx, caller.UserID)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	mcp := root == domain.MCPServersFileName(caller.UserID) && ext == "json"
	if appendTo || mcp {
		for _, f := range files {
			if f.Name == root {
				return h.extend(ctx, f.ID, u, appendTo && !mcp, md)
			}
		}
	}
	name := root
	if !mcp {
		name = freeFileName(files, root)
	}
	stored := name
	if ext != "" {
		stored += "." + ext
	}
	id := uuid.New()
	content, err := h.put(ctx, id, nil, u)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	f, err := domain.UploadFile(id, domain.NewFile{Kind: domain.FileKindUser, UserID: caller.UserID, Name: name,
		Path: strconv.FormatInt(caller.UserID, 10) + "/" + stored, Provider: h.Blobs.Provider(), Content: content})
	if err != nil {
		h.dropBlob(ctx, content.Key)
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	res, err := h.saveWithContent(ctx, f, content.Key, md)
	return id, res, err
}

// extend gives file id new content: u appended to what it holds
// (appendTo), or u alone.
func (h *FilesHandler) extend(ctx context.Context, id uuid.UUID, u Upload, appendTo bool, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	f := domain.LoadFile(id)
	if err := h.Repo.Load(ctx, f); err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	if !f.Exists() {
		return uuid.Nil, eventstore.AppendResult{}, domain.Conflictf("The file changed while uploading; try again")
	}
	var prefix io.Reader
	if appendTo {
		r, _, err := h.Blobs.Open(ctx, f.Content().Key)
		if err != nil {
			return uuid.Nil, eventstore.AppendResult{}, fmt.Errorf("content of file %s: %w", id, err)
		}
		defer r.Close()
		prefix = r
	}
	content, err := h.put(ctx, id, prefix, u)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	res, err := h.replaceContent(ctx, f, content, md)
	return id, res, err
}

// RenameFile gives file ID, a user file of Caller (the port found it so;
// any other: 404 "File not found"), the name Name (without the
// extension).
type RenameFile struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	ID     uuid.UUID
	Name   string
}

// Rename handles RenameFile; a name the file already has appends nothing
// (the zero Result).
func (h *FilesHandler) Rename(ctx context.Context, cmd RenameFile) (UserFileWritten, error) {
	f := domain.LoadFile(cmd.ID)
	if err := h.Repo.Load(ctx, f); err != nil {
		return UserFileWritten{}, err
	}
	if err := ownFile(f, cmd.Caller); err != nil {
		return UserFileWritten{}, err
	}
	if err := f.Rename(cmd.Name); err != nil {
		return UserFileWritten{}, err
	}
	if len(f.Root().Pending()) == 0 {
		return UserFileWritten{ID: cmd.ID}, nil
	}
	res, err := h.Repo.Save(ctx, f, cmd.Meta)
	return UserFileWritten{ID: cmd.ID, Result: res}, err
}
