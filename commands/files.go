package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Files is the write side of uploaded files: v1 files of a flow (#10, #14)
// and v2 user files (#15/#18, #17/#20, #22, #24, #25).
//
// Content goes to the blob store first, under a fresh key; the event that
// names it is appended after. A failed append removes the new blob; a
// crash in between leaves an orphan blob that blob.Sweep removes (with
// readapi.BlobInUse), never metadata without content. Deletions append
// their event first and remove the blob after, for the same reason.
type Files struct {
	Server *httpapi.Server
	Repo   *Repository
	Pool   *pgxpool.Pool
	Blobs  blob.Store
	Config config.Config
	Clock  func() time.Time
	Logger *slog.Logger
}

// UploadFileResponse is the answer of a v1 upload.
type UploadFileResponse struct {
	FlowID   string `json:"flowId"`
	FilePath string `json:"file_path"`
}

// FilesDeleted is the answer of the deletions of several user files.
type FilesDeleted struct {
	Message      string `json:"message"`
	FilesDeleted int    `json:"files_deleted"`
	FilesKept    int    `json:"files_kept"`
}

// Routes registers the operations.
func (h *Files) Routes(s *httpapi.Server) {
	// The server's body limit would answer an oversized upload with its
	// own 413; the handlers bound the body themselves (guardBody) to give
	// Langflow's.
	limit := int64(math.MaxInt64)
	fileParam := httpapi.Param{Name: "file", In: "query",
		Description: "Multipart form field (multipart/form-data body), not a query parameter."}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/files/upload/{flow_id}", Tag: "Files",
		Summary: "Upload File", Access: access.Own("files", "write"), Status: http.StatusCreated,
		Params: []httpapi.Param{{Name: "flow_id", In: "path", Format: "uuid"}, fileParam},
		Description: "Upload a file (multipart field file) to a flow; it is stored as \"<timestamp>_<file name>\" " +
			"(a second upload of that name in the same second replaces it).",
		Response: UploadFileResponse{}, ReadModels: readapi.FileReadModels, MaxBodyBytes: limit, Handler: h.uploadFlowFile})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/files/delete/{flow_id}/{file_name}", Tag: "Files",
		Summary: "Delete File", Access: access.Own("files", "delete"),
		Params:      []httpapi.Param{{Name: "file_name", In: "path"}, {Name: "flow_id", In: "path", Format: "uuid"}},
		Description: "Delete a file of a flow.", ReadModels: readapi.FileReadModels, Handler: h.deleteFlowFile})
	for _, p := range []string{"/api/v2/files/", "/api/v2/files"} {
		s.Handle(httpapi.Operation{Method: http.MethodPost, Path: p, Tag: "Files", Summary: "Upload User File",
			Access: access.Own("files", "write"), Status: http.StatusCreated,
			Params: []httpapi.Param{{Name: "append", In: "query", Type: "boolean", Default: false,
				Description: "Append the content to the caller's file of the same name, if there is one."}, fileParam},
			Description: "Upload a file for the current user and track it in the database. The name is the file's " +
				"name without its extension, made unique among the caller's files with \" (n)\".",
			Response: readapi.FileRead{}, ReadModels: readapi.FileReadModels, MaxBodyBytes: limit, Handler: h.uploadUserFile})
		s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: p, Tag: "Files", Summary: "Delete All Files",
			Access: access.Own("files", "delete"), Response: FilesDeleted{}, ReadModels: readapi.FileReadModels,
			Description: "Delete all files for the current user; the MCP servers configuration is kept (files_kept).",
			Handler:     h.deleteAll})
	}
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/files/batch/", Tag: "Files",
		Summary: "Delete Files Batch", Access: access.Own("files", "delete"), Body: []uuid.UUID{}, Response: FilesDeleted{},
		Description: "Delete multiple files by their IDs (the caller's among them; none: 404). files_kept counts " +
			"the ids that were not deleted.",
		ReadModels: readapi.FileReadModels, Handler: h.deleteBatch})
	s.Handle(httpapi.Operation{Method: http.MethodPut, Path: "/api/v2/files/{file_id}", Tag: "Files",
		Summary: "Edit File Name", Access: access.Own("files", "modify"),
		Params: []httpapi.Param{{Name: "file_id", In: "path", Format: "uuid"},
			{Name: "name", In: "query", Required: true, Description: "The new name (without the extension)."}},
		Description: "Edit the name of a file by its ID.",
		Response:    readapi.FileRead{}, ReadModels: readapi.FileReadModels, Handler: h.rename})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/files/{file_id}", Tag: "Files",
		Summary: "Delete File", Access: access.Own("files", "delete"),
		Params:      []httpapi.Param{{Name: "file_id", In: "path", Format: "uuid"}},
		Description: "Delete a file by its ID.", Response: Detail{},
		ReadModels: readapi.FileReadModels, Handler: h.deleteOne})
}

// limit is the largest file, in bytes.
func (h *Files) limit() int64 { return uploadLimit(h.Config) }

// guardBody bounds an upload's body to the largest file plus its
// multipart envelope: a declared length above is refused at once, a
// longer body fails while it is read (both with tooLarge).
func (h *Files) guardBody(c *gin.Context) bool {
	bound := h.limit() + 1<<20
	if c.Request.ContentLength > bound {
		httpapi.Fail(c, h.tooLarge())
		return false
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bound)
	return true
}

// tooLarge is the 413 of a file over the limit.
func (h *Files) tooLarge() error {
	return &httpapi.StatusError{Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("File size is larger than the maximum file size %dMB.", max(h.Config.MaxFileSizeUploadMB, 1))}
}

// Upload is a file being received: its name as the client gave it and
// its content.
type Upload struct {
	Name string
	Body io.Reader
}

// missingFile is FastAPI's 422 for a request without the file field.
var missingFile = &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "missing", Loc: []any{"body", "file"}, Msg: "Field required"}}}

// openUpload finds the multipart field "file" and returns it unread: the
// content streams from the request into the blob store. The name is the
// one the client sent (not reduced to its base, so that traversal attempts
// are seen and refused).
func openUpload(c *gin.Context) (Upload, error) {
	if c.Request.Body == nil {
		return Upload{}, missingFile
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return Upload{}, missingFile
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return Upload{}, missingFile
		}
		if err != nil {
			if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return Upload{}, mbe
			}
			if be, ok := errors.AsType[*httpapi.BodyError](err); ok && be.Timeout() {
				return Upload{}, be
			}
			return Upload{}, missingFile
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, httpapi.ClientBody(part)); err != nil {
				return Upload{}, err
			}
			continue
		}
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := params["filename"]
		if name == "" {
			return Upload{}, domain.Invalidf("No file provided")
		}
		if err := domain.ValidFileName(name); err != nil {
			return Upload{}, err
		}
		// A part cut short (no closing boundary) fails as the client's
		// (*httpapi.BodyError), not as the blob store's.
		return Upload{Name: name, Body: httpapi.ClientBody(part)}, nil
	}
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
// fresh key of file id: 413 past the limit, 422 for an empty upload.
func (h *Files) put(ctx context.Context, id uuid.UUID, prefix io.Reader, u Upload) (domain.FileContent, error) {
	body := &capped{r: u.Body, n: h.limit()}
	src := io.Reader(body)
	if prefix != nil {
		src = io.MultiReader(prefix, body)
	}
	info, err := h.Blobs.Put(ctx, blob.NewKey("files/"+id.String()), src, 0)
	if err != nil {
		if _, ok := errors.AsType[*blob.TooLargeError](err); ok {
			return domain.FileContent{}, h.tooLarge()
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return domain.FileContent{}, h.tooLarge()
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
func (h *Files) dropBlob(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := h.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && h.Logger != nil {
		h.Logger.Warn("remove blob", slog.String("key", key), slog.String("error", err.Error()))
	}
}

// saveWithContent saves agg, whose pending events name the new blob
// content; if the save fails the blob is removed again.
func (h *Files) saveWithContent(ctx context.Context, agg Aggregate, content string, md eventstore.Metadata) (eventstore.AppendResult, error) {
	res, err := h.Repo.Save(ctx, agg, md)
	if err != nil {
		h.dropBlob(ctx, content)
	}
	return res, err
}

// UploadFlowFile stores u as a file of flow fl (Langflow's v1 files): its
// name is "<timestamp>_<name>", and a file of that name is replaced.
func (h *Files) UploadFlowFile(ctx context.Context, caller auth.Principal, fl readapi.FlowRead, u Upload, md eventstore.Metadata) (string, eventstore.AppendResult, error) {
	name := md.OccurredAt.UTC().Format("2006-01-02_15-04-05") + "_" + u.Name
	if err := domain.ValidFileName(name); err != nil {
		return "", eventstore.AppendResult{}, err
	}
	if fl.TenantID != nil {
		md.TenantID = *fl.TenantID
	}
	existing, err := readapi.FlowFileByName(ctx, h.Pool, fl.ID, name)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", eventstore.AppendResult{}, err
	}
	id := uuid.New()
	if err == nil {
		id = existing.ID
	}
	content, err := h.put(ctx, id, nil, u)
	if err != nil {
		return "", eventstore.AppendResult{}, err
	}
	var f *domain.File
	if existing.ID != uuid.Nil {
		f = domain.LoadFile(id)
		if err := h.Repo.Load(ctx, f); err != nil {
			h.dropBlob(ctx, content.Key)
			return "", eventstore.AppendResult{}, err
		}
		previous := f.Content().Key
		if err := f.ReplaceContent(content); err != nil {
			h.dropBlob(ctx, content.Key)
			return "", eventstore.AppendResult{}, err
		}
		res, err := h.saveWithContent(ctx, f, content.Key, md)
		if err == nil {
			h.dropBlob(ctx, previous)
		}
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

func (h *Files) uploadFlowFile(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	fl, ok := readapi.OwnFlow(c, h.Pool)
	if !ok || !h.guardBody(c) {
		return
	}
	u, err := openUpload(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	name, res, err := h.UploadFlowFile(c.Request.Context(), caller, fl, u, httpapi.Metadata(c, h.Clock()))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.Server.Written(c, res.Last())
	c.JSON(http.StatusCreated, UploadFileResponse{FlowID: fl.ID.String(), FilePath: fl.ID.String() + "/" + name})
}

// fail answers an upload's error: an oversized body as the 413 of a file
// over the limit.
func (h *Files) fail(c *gin.Context, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		err = h.tooLarge()
	}
	httpapi.Fail(c, err)
}

func (h *Files) deleteFlowFile(c *gin.Context) {
	name := c.Param("file_name")
	if err := domain.ValidFileName(name); err != nil {
		httpapi.Fail(c, err)
		return
	}
	fl, ok := readapi.OwnFlow(c, h.Pool)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	f, err := readapi.FlowFileByName(ctx, h.Pool, fl.ID, name)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	md := httpapi.Metadata(c, h.Clock())
	if fl.TenantID != nil {
		md.TenantID = *fl.TenantID
	}
	pos, err := h.DeleteFiles(ctx, []uuid.UUID{f.ID}, md)
	answerValue(c, h.Server, pos, err, http.StatusOK, gin.H{"message": fmt.Sprintf("File %s deleted successfully", name)})
}

// DeleteFiles deletes files ids in one atomic append (all or none), then
// removes their blobs. It returns the position of the last event.
func (h *Files) DeleteFiles(ctx context.Context, ids []uuid.UUID, md eventstore.Metadata) (eventstore.Position, error) {
	files := make([]*domain.File, len(ids))
	aggs := make([]Aggregate, len(ids))
	for i, id := range ids {
		f := domain.LoadFile(id)
		if err := h.Repo.Load(ctx, f); err != nil {
			return eventstore.Position{}, err
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
func freeFileName(files []readapi.FileRead, root string) string {
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

// UploadUserFile stores u as a file of caller (Langflow's v2 files). With
// appendTo, content is appended to the caller's file of the same name if
// there is one; the MCP servers configuration is always replaced in
// place. It returns the file's id.
func (h *Files) UploadUserFile(ctx context.Context, caller auth.Principal, u Upload, appendTo bool, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	root, ext := splitName(u.Name)
	files, err := readapi.UserFiles(ctx, h.Pool, caller.UserID, true)
	if err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	mcp := root == readapi.MCPServersFileName(caller.UserID) && ext == "json"
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
func (h *Files) extend(ctx context.Context, id uuid.UUID, u Upload, appendTo bool, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	f := domain.LoadFile(id)
	if err := h.Repo.Load(ctx, f); err != nil {
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	if !f.Exists() {
		return uuid.Nil, eventstore.AppendResult{}, domain.Conflictf("The file changed while uploading; try again")
	}
	previous := f.Content().Key
	var prefix io.Reader
	if appendTo {
		r, _, err := h.Blobs.Open(ctx, previous)
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
	if err := f.ReplaceContent(content); err != nil {
		h.dropBlob(ctx, content.Key)
		return uuid.Nil, eventstore.AppendResult{}, err
	}
	res, err := h.saveWithContent(ctx, f, content.Key, md)
	if err == nil {
		h.dropBlob(ctx, previous)
	}
	return id, res, err
}

func (h *Files) uploadUserFile(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q struct {
		Append bool `form:"append"`
	}
	if !httpapi.BindQuery(c, &q) || !h.guardBody(c) {
		return
	}
	u, err := openUpload(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	id, res, err := h.UploadUserFile(ctx, caller, u, q.Append, httpapi.Metadata(c, h.Clock()))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.answerFile(c, caller, id, res.Last(), http.StatusCreated)
}

// answerFile answers file id as the read model shows it at pos (ReadBack).
func (h *Files) answerFile(c *gin.Context, caller auth.Principal, id uuid.UUID, pos eventstore.Position, status int) {
	f, err := ReadBack(c, h.Server, h.Pool, pos, func(ctx context.Context, db readapi.DB) (readapi.FileRead, error) {
		return readapi.UserFileOf(ctx, db, caller.UserID, id)
	})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, f)
}

func (h *Files) deleteAll(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	files, err := readapi.UserFiles(ctx, h.Pool, caller.UserID, true)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	var ids []uuid.UUID
	kept := 0
	for _, f := range files {
		if readapi.IsMCPServersFile(f, caller.UserID) {
			kept++
			continue
		}
		ids = append(ids, f.ID)
	}
	if len(ids) > 0 {
		pos, err := h.DeleteFiles(ctx, ids, httpapi.Metadata(c, h.Clock()))
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		h.Server.Written(c, pos)
	}
	c.JSON(http.StatusOK, FilesDeleted{Message: "All files deleted successfully", FilesDeleted: len(ids), FilesKept: kept})
}

func (h *Files) deleteBatch(c *gin.Context) {
	ids, files, ok := readapi.AskedFiles(c, h.Pool)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	found := make([]uuid.UUID, len(files))
	for i, f := range files {
		found[i] = f.ID
	}
	pos, err := h.DeleteFiles(ctx, found, httpapi.Metadata(c, h.Clock()))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.Server.Written(c, pos)
	asked := map[uuid.UUID]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	c.JSON(http.StatusOK, FilesDeleted{Message: fmt.Sprintf("%d files deleted successfully", len(found)),
		FilesDeleted: len(found), FilesKept: len(asked) - len(found)})
}

// userFile reads the caller's user file of the path.
func (h *Files) userFile(c *gin.Context) (auth.Principal, readapi.FileRead, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return caller, readapi.FileRead{}, false
	}
	id, ok := httpapi.PathUUID(c, "file_id")
	if !ok {
		return caller, readapi.FileRead{}, false
	}
	f, err := readapi.UserFileOf(c.Request.Context(), h.Pool, caller.UserID, id)
	if err != nil {
		httpapi.Fail(c, err)
		return caller, readapi.FileRead{}, false
	}
	return caller, f, true
}

func (h *Files) rename(c *gin.Context) {
	var q struct {
		Name string `form:"name" binding:"required"`
	}
	if !httpapi.BindQuery(c, &q) {
		return
	}
	caller, rf, ok := h.userFile(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	f := domain.LoadFile(rf.ID)
	if err := h.Repo.Load(ctx, f); err != nil {
		httpapi.Fail(c, err)
		return
	}
	if err := f.Rename(q.Name); err != nil {
		httpapi.Fail(c, err)
		return
	}
	if len(f.Root().Pending()) == 0 {
		c.JSON(http.StatusOK, rf)
		return
	}
	res, err := h.Repo.Save(ctx, f, httpapi.Metadata(c, h.Clock()))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.answerFile(c, caller, rf.ID, res.Last(), http.StatusOK)
}

func (h *Files) deleteOne(c *gin.Context) {
	_, f, ok := h.userFile(c)
	if !ok {
		return
	}
	pos, err := h.DeleteFiles(c.Request.Context(), []uuid.UUID{f.ID}, httpapi.Metadata(c, h.Clock()))
	answerValue(c, h.Server, pos, err, http.StatusOK, Detail{Detail: fmt.Sprintf("File %s deleted successfully", f.Name)})
}
