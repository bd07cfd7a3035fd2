package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The files' writes: v1 files of a flow (#10, #14) and v2 user files
// (#15/#18, #17/#20, #22, #24, #25). Each is a thin gin handler (an upload
// streams its multipart body into the blob store; the others check the
// flow or the files the caller names first, as the reads do): it binds
// the request, calls the commands.FilesHandler and answers.

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

// filesPort is the files' port: the server, the pool the flows and files
// the caller names are read from, and the handler.
type filesPort struct {
	Port
	h *commands.FilesHandler
}

// Files registers the files' write operations.
func Files(p Port, h *commands.FilesHandler) {
	f := &filesPort{Port: p, h: h}
	s := p.Server
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
		Response: UploadFileResponse{}, ReadModels: readapi.FileReadModels, MaxBodyBytes: limit, Handler: f.uploadFlowFile})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/files/delete/{flow_id}/{file_name}", Tag: "Files",
		Summary: "Delete File", Access: access.Own("files", "delete"),
		Params:      []httpapi.Param{{Name: "file_name", In: "path"}, {Name: "flow_id", In: "path", Format: "uuid"}},
		Description: "Delete a file of a flow.", ReadModels: readapi.FileReadModels, Handler: f.deleteFlowFile})
	for _, path := range []string{"/api/v2/files/", "/api/v2/files"} {
		s.Handle(httpapi.Operation{Method: http.MethodPost, Path: path, Tag: "Files", Summary: "Upload User File",
			Access: access.Own("files", "write"), Status: http.StatusCreated,
			Params: []httpapi.Param{{Name: "append", In: "query", Type: "boolean", Default: false,
				Description: "Append the content to the caller's file of the same name, if there is one."}, fileParam},
			Description: "Upload a file for the current user and track it in the database. The name is the file's " +
				"name without its extension, made unique among the caller's files with \" (n)\".",
			Response: readapi.FileRead{}, ReadModels: readapi.FileReadModels, MaxBodyBytes: limit, Handler: f.uploadUserFile})
		s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: path, Tag: "Files", Summary: "Delete All Files",
			Access: access.Own("files", "delete"), Response: FilesDeleted{}, ReadModels: readapi.FileReadModels,
			Description: "Delete all files for the current user; the MCP servers configuration is kept (files_kept).",
			Handler:     f.deleteAll})
	}
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/files/batch/", Tag: "Files",
		Summary: "Delete Files Batch", Access: access.Own("files", "delete"), Body: []uuid.UUID{}, Response: FilesDeleted{},
		Description: "Delete multiple files by their IDs (the caller's among them; none: 404). files_kept counts " +
			"the ids that were not deleted.",
		ReadModels: readapi.FileReadModels, Handler: f.deleteBatch})
	s.Handle(httpapi.Operation{Method: http.MethodPut, Path: "/api/v2/files/{file_id}", Tag: "Files",
		Summary: "Edit File Name", Access: access.Own("files", "modify"),
		Params: []httpapi.Param{{Name: "file_id", In: "path", Format: "uuid"},
			{Name: "name", In: "query", Required: true, Description: "The new name (without the extension)."}},
		Description: "Edit the name of a file by its ID.",
		Response:    readapi.FileRead{}, ReadModels: readapi.FileReadModels, Handler: f.rename})
	s.Handle(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v2/files/{file_id}", Tag: "Files",
		Summary: "Delete File", Access: access.Own("files", "delete"),
		Params:      []httpapi.Param{{Name: "file_id", In: "path", Format: "uuid"}},
		Description: "Delete a file by its ID.", Response: Detail{},
		ReadModels: readapi.FileReadModels, Handler: f.deleteOne})
}

// meta is the events' metadata of the request.
func (f *filesPort) meta(c *gin.Context) eventstore.Metadata { return httpapi.Metadata(c, f.Clock()) }

// guardBody bounds an upload's body to the largest file plus its
// multipart envelope: a declared length above is refused at once, a
// longer body fails while it is read (both as a file over the limit).
func (f *filesPort) guardBody(c *gin.Context) bool {
	bound := f.h.UploadBound()
	if c.Request.ContentLength > bound {
		f.fail(c, f.h.TooLarge())
		return false
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bound)
	return true
}

// fail answers an upload's error: an oversized body, and a file over the
// limit, as Langflow's 413.
func (f *filesPort) fail(c *gin.Context, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		err = f.h.TooLarge()
	}
	if tl, ok := errors.AsType[*commands.FileTooLargeError](err); ok {
		err = &httpapi.StatusError{Status: http.StatusRequestEntityTooLarge, Detail: tl.Error()}
	}
	httpapi.Fail(c, err)
}

// missingFileField is FastAPI's 422 for a request without the file field.
var missingFileField = &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "missing", Loc: []any{"body", "file"}, Msg: "Field required"}}}

// openFileUpload finds the multipart field "file" and returns it unread: the
// content streams from the request into the blob store. The name is the
// one the client sent (not reduced to its base, so that traversal attempts
// are seen and refused).
func openFileUpload(c *gin.Context) (commands.Upload, error) {
	if c.Request.Body == nil {
		return commands.Upload{}, missingFileField
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return commands.Upload{}, missingFileField
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return commands.Upload{}, missingFileField
		}
		if err != nil {
			if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return commands.Upload{}, mbe
			}
			if be, ok := errors.AsType[*httpapi.BodyError](err); ok && be.Timeout() {
				return commands.Upload{}, be
			}
			return commands.Upload{}, missingFileField
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, httpapi.ClientBody(part)); err != nil {
				return commands.Upload{}, err
			}
			continue
		}
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		name := params["filename"]
		if name == "" {
			return commands.Upload{}, domain.Invalidf("No file provided")
		}
		if err := domain.ValidFileName(name); err != nil {
			return commands.Upload{}, err
		}
		// A part cut short (no closing boundary) fails as the client's
		// (*httpapi.BodyError), not as the blob store's.
		return commands.Upload{Name: name, Body: httpapi.ClientBody(part)}, nil
	}
}

// filesFlow is the placement of a flow as the files' commands take it.
func filesFlow(fl readapi.FlowRead) commands.FileFlow {
	return commands.FileFlow{ID: fl.ID, TenantID: fl.TenantID, BusinessID: fl.BusinessID}
}

func (f *filesPort) uploadFlowFile(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	fl, ok := readapi.OwnFlow(c, f.Pool)
	if !ok || !f.guardBody(c) {
		return
	}
	u, err := openFileUpload(c)
	if err != nil {
		f.fail(c, err)
		return
	}
	up, err := f.h.UploadToFlow(c.Request.Context(), commands.UploadFlowFile{Caller: caller, Meta: f.meta(c),
		Flow: filesFlow(fl), Upload: u})
	if err != nil {
		f.fail(c, err)
		return
	}
	f.Server.Written(c, up.Result.Last())
	c.JSON(http.StatusCreated, UploadFileResponse{FlowID: fl.ID.String(), FilePath: fl.ID.String() + "/" + up.Name})
}

func (f *filesPort) deleteFlowFile(c *gin.Context) {
	name := c.Param("file_name")
	if err := domain.ValidFileName(name); err != nil {
		httpapi.Fail(c, err)
		return
	}
	fl, ok := readapi.OwnFlow(c, f.Pool)
	if !ok {
		return
	}
	d, err := f.h.DeleteFromFlow(c.Request.Context(), commands.DeleteFlowFile{Meta: f.meta(c), Flow: filesFlow(fl), Name: name})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, f.Port, d.Position, http.StatusOK, gin.H{"message": fmt.Sprintf("File %s deleted successfully", name)})
}

func (f *filesPort) uploadUserFile(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q struct {
		Append bool `form:"append"`
	}
	if !httpapi.BindQuery(c, &q) || !f.guardBody(c) {
		return
	}
	u, err := openFileUpload(c)
	if err != nil {
		f.fail(c, err)
		return
	}
	w, err := f.h.UploadForUser(c.Request.Context(), commands.UploadUserFile{Caller: caller, Meta: f.meta(c), Upload: u, Append: q.Append})
	if err != nil {
		f.fail(c, err)
		return
	}
	f.answerFile(c, caller, w.ID, w.Result.Last(), http.StatusCreated)
}

// answerFile answers file id as the read model shows it at pos.
func (f *filesPort) answerFile(c *gin.Context, caller auth.Principal, id uuid.UUID, pos eventstore.Position, status int) {
	answerRow(c, f.Port, pos, status, func(ctx context.Context, db readapi.DB) (readapi.FileRead, error) {
		return readapi.UserFileOf(ctx, db, caller.UserID, id)
	})
}

func (f *filesPort) deleteAll(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	d, err := f.h.DeleteAll(c.Request.Context(), commands.DeleteUserFiles{Caller: caller, Meta: f.meta(c)})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, f.Port, d.Position, http.StatusOK,
		FilesDeleted{Message: "All files deleted successfully", FilesDeleted: d.Deleted, FilesKept: d.Kept})
}

func (f *filesPort) deleteBatch(c *gin.Context) {
	ids, found, ok := readapi.AskedFiles(c, f.Pool)
	if !ok {
		return
	}
	caller, _ := auth.Caller(c.Request.Context()) // there is one: AskedFiles found it
	del := make([]uuid.UUID, len(found))
	for i, fr := range found {
		del[i] = fr.ID
	}
	d, err := f.h.DeleteByID(c.Request.Context(), commands.DeleteFilesByID{Caller: caller, Meta: f.meta(c), IDs: del})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	f.Server.Written(c, d.Position)
	asked := map[uuid.UUID]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	c.JSON(http.StatusOK, FilesDeleted{Message: fmt.Sprintf("%d files deleted successfully", d.Deleted),
		FilesDeleted: d.Deleted, FilesKept: len(asked) - d.Deleted})
}

// userFile reads the caller's user file of the path.
func (f *filesPort) userFile(c *gin.Context) (auth.Principal, readapi.FileRead, bool) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return caller, readapi.FileRead{}, false
	}
	id, ok := httpapi.PathUUID(c, "file_id")
	if !ok {
		return caller, readapi.FileRead{}, false
	}
	fr, err := readapi.UserFileOf(c.Request.Context(), f.Pool, caller.UserID, id)
	if err != nil {
		httpapi.Fail(c, err)
		return caller, readapi.FileRead{}, false
	}
	return caller, fr, true
}

func (f *filesPort) rename(c *gin.Context) {
	var q struct {
		Name string `form:"name" binding:"required"`
	}
	if !httpapi.BindQuery(c, &q) {
		return
	}
	caller, rf, ok := f.userFile(c)
	if !ok {
		return
	}
	w, err := f.h.Rename(c.Request.Context(), commands.RenameFile{Caller: caller, Meta: f.meta(c), ID: rf.ID, Name: q.Name})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if len(w.Result.Positions) == 0 {
		c.JSON(http.StatusOK, rf)
		return
	}
	f.answerFile(c, caller, rf.ID, w.Result.Last(), http.StatusOK)
}

func (f *filesPort) deleteOne(c *gin.Context) {
	caller, fr, ok := f.userFile(c)
	if !ok {
		return
	}
	d, err := f.h.DeleteByID(c.Request.Context(), commands.DeleteFilesByID{Caller: caller, Meta: f.meta(c), IDs: []uuid.UUID{fr.ID}})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerValue(c, f.Port, d.Position, http.StatusOK, Detail{Detail: fmt.Sprintf("File %s deleted successfully", fr.Name)})
}

// FileReads answers commands.FileReads from the read model in Pool.
type FileReads struct {
	Pool *pgxpool.Pool
}

var _ commands.FileReads = FileReads{}

// FlowFile implements commands.FileReads (readapi.FlowFileByName).
func (r FileReads) FlowFile(ctx context.Context, flow uuid.UUID, name string) (uuid.UUID, error) {
	f, err := readapi.FlowFileByName(ctx, r.Pool, flow, name)
	return f.ID, err
}

// UserFiles implements commands.FileReads (readapi.UserFiles, the MCP
// servers configuration included).
func (r FileReads) UserFiles(ctx context.Context, user int64) ([]commands.StoredFile, error) {
	files, err := readapi.UserFiles(ctx, r.Pool, user, true)
	if err != nil {
		return nil, err
	}
	out := make([]commands.StoredFile, len(files))
	for i, f := range files {
		out[i] = commands.StoredFile{ID: f.ID, Name: f.Name}
	}
	return out, nil
}
