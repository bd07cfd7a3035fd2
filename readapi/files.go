package readapi

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// FileReadModels are the read models of the files operations.
var FileReadModels = []string{"files"}

// FileRead is the spec's file (Langflow's UserFile with SkillFlaw's
// placement and audit fields); the fields after UpdatedAt stay on the
// server.
type FileRead struct {
	ID         uuid.UUID  `json:"id"`
	TenantID   *uuid.UUID `json:"tenant_id"`
	BusinessID int64      `json:"business_id"`
	IsSelf     bool       `json:"is_self"`
	UserID     int64      `json:"user_id"`
	CUID       int64      `json:"c_uid"`
	MUID       int64      `json:"m_uid"`
	Name       string     `json:"name"`
	Path       string     `json:"path"`
	Size       int64      `json:"size"`
	Provider   string     `json:"provider"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`

	Kind    string     `json:"-"`
	FlowID  *uuid.UUID `json:"-"`
	BlobKey string     `json:"-"`
	SHA256  string     `json:"-"`
	Version int64      `json:"-"`
}

// Extension is the extension of the stored file (".pdf", "" for none):
// a user file's name is its name without it, as in Langflow.
func (f FileRead) Extension() string { return path.Ext(f.Path) }

// DownloadName is the name a download gives the file: a user file's name
// with the stored extension, a flow file's name as it is.
func (f FileRead) DownloadName() string {
	if f.Kind == domain.FileKindFlow {
		return f.Name
	}
	return f.Name + f.Extension()
}

// FileColumns are the columns ScanFile reads, in order.
const FileColumns = `id, tenant_id, business_id, is_self, user_id, c_uid, m_uid, name, path, size, provider,
    created_at, updated_at, kind, flow_id, blob_key, sha256, version`

// ScanFile scans one row of FileColumns.
func ScanFile(row pgx.CollectableRow) (FileRead, error) {
	var f FileRead
	err := row.Scan(&f.ID, &f.TenantID, &f.BusinessID, &f.IsSelf, &f.UserID, &f.CUID, &f.MUID, &f.Name, &f.Path,
		&f.Size, &f.Provider, &f.CreatedAt, &f.UpdatedAt, &f.Kind, &f.FlowID, &f.BlobKey, &f.SHA256, &f.Version)
	return f, err
}

func queryFiles(ctx context.Context, db DB, where string, args ...any) ([]FileRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+FileColumns+` FROM files WHERE `+where, args...)
	files, err := pgx.CollectRows(rows, ScanFile)
	if err != nil {
		return nil, fmt.Errorf("read files: %w", err)
	}
	return files, nil
}

// FileByID reads file id: 404 "File not found" if there is none.
func FileByID(ctx context.Context, db DB, id uuid.UUID) (FileRead, error) {
	files, err := queryFiles(ctx, db, `id = $1`, id)
	if err != nil {
		return FileRead{}, err
	}
	if len(files) == 0 {
		return FileRead{}, domain.NotFoundf("File not found")
	}
	return files[0], nil
}

// UserFileOf reads user file id of user: a file of anyone else, or a flow
// file, is "File not found" (never revealed).
func UserFileOf(ctx context.Context, db DB, user int64, id uuid.UUID) (FileRead, error) {
	f, err := FileByID(ctx, db, id)
	if err == nil && (f.UserID != user || f.Kind != domain.FileKindUser) {
		return FileRead{}, domain.NotFoundf("File not found")
	}
	return f, err
}

// UserFiles lists user's files, oldest first; the MCP servers file (a
// configuration Langflow keeps among the files) only with withMCP.
func UserFiles(ctx context.Context, pool *pgxpool.Pool, user int64, withMCP bool) ([]FileRead, error) {
	files, err := queryFiles(ctx, pool, `user_id = $1 AND kind = 'user' ORDER BY created_at, id`, user)
	if err != nil || withMCP {
		return files, err
	}
	out := files[:0]
	for _, f := range files {
		if !IsMCPServersFile(f, user) {
			out = append(out, f)
		}
	}
	return out, nil
}

// UserFilesByIDs returns those of ids that are user's files, oldest first.
func UserFilesByIDs(ctx context.Context, pool *pgxpool.Pool, user int64, ids []uuid.UUID) ([]FileRead, error) {
	return queryFiles(ctx, pool, `user_id = $1 AND kind = 'user' AND id = ANY($2) ORDER BY created_at, id`, user, ids)
}

// FlowFileByName reads the file name of flow: 404 "File not found".
func FlowFileByName(ctx context.Context, db DB, flow uuid.UUID, name string) (FileRead, error) {
	files, err := queryFiles(ctx, db, `flow_id = $1 AND kind = 'flow' AND name = $2 ORDER BY created_at LIMIT 1`, flow, name)
	if err != nil {
		return FileRead{}, err
	}
	if len(files) == 0 {
		return FileRead{}, domain.NotFoundf("File not found")
	}
	return files[0], nil
}

// MCPServersFileName is the name (without extension) of user's MCP servers
// configuration, which Langflow keeps as a user file hidden from lists.
func MCPServersFileName(user int64) string { return domain.MCPServersFileName(user) }

// IsMCPServersFile tells whether f is user's MCP servers configuration.
func IsMCPServersFile(f FileRead, user int64) bool { return f.Name == MCPServersFileName(user) }

// BlobInUse tells whether a file's current content is the blob key (for
// blob.Sweep).
func BlobInUse(pool *pgxpool.Pool) blob.Referenced {
	return func(ctx context.Context, key string) (bool, error) {
		var used bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE blob_key = $1)`, key).Scan(&used)
		return used, err
	}
}

// contentTypes maps extensions to media types, so answers do not depend on
// the host's mime tables.
var contentTypes = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
	"svg": "image/svg+xml", "bmp": "image/bmp", "ico": "image/x-icon", "tif": "image/tiff", "tiff": "image/tiff",
	"avif": "image/avif", "txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "json": "application/json",
	"pdf": "application/pdf", "html": "text/html", "htm": "text/html", "xml": "application/xml",
	"yaml": "application/yaml", "yml": "application/yaml", "zip": "application/zip",
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"mp3":  "audio/mpeg", "wav": "audio/wav", "mp4": "video/mp4",
}

// ContentTypeOf is the media type of a file name by its extension
// (application/octet-stream when unknown).
func ContentTypeOf(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "application/octet-stream"
	}
	ext := strings.ToLower(name[i+1:])
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension("." + ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// attachment is a Content-Disposition that names name safely, also when
// it is not ASCII (RFC 6266 filename*).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

// fileReads serves the read side of the files.
type fileReads struct {
	pool  *pgxpool.Pool
	blobs blob.Store
	clock func() time.Time
}

// RegisterFileReads registers the reads of flow files (#11-13) and user
// files (#16/#19, #21, #23).
func RegisterFileReads(s *httpapi.Server, pool *pgxpool.Pool, blobs blob.Store, clock func() time.Time) {
	h := &fileReads{pool: pool, blobs: blobs, clock: clock}
	flowID := httpapi.Param{Name: "flow_id", In: "path", Format: "uuid"}
	fileName := httpapi.Param{Name: "file_name", In: "path"}
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/files/download/{flow_id}/{file_name}", Tag: "Files",
		Summary: "Download File", Access: access.Own("files", "read"), Params: []httpapi.Param{fileName, flowID},
		Description: "Download a file of a flow (its owner, or with files read where the flow lives) as an attachment.",
		ReadModels:  FileReadModels, Handler: h.downloadFlowFile})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/files/images/{flow_id}/{file_name}", Tag: "Files",
		Summary: "Download Image", Access: access.Own("files", "read"), Params: []httpapi.Param{flowID, fileName},
		Description: "Download image from storage for browser rendering: the image's media type by its extension; " +
			"a file that is not an image is refused (415).",
		ReadModels: FileReadModels, Handler: h.downloadImage})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/files/list/{flow_id}", Tag: "Files",
		Summary: "List Files", Access: access.Own("files", "read"), Params: []httpapi.Param{flowID},
		Description: `The names of a flow's files: {"files": [name, …]}.`,
		ReadModels:  FileReadModels, Handler: h.listFlowFiles})
	for _, p := range []string{"/api/v2/files/", "/api/v2/files"} {
		s.Handle(httpapi.Operation{Method: http.MethodGet, Path: p, Tag: "Files", Summary: "List Files",
			Access: access.Own("files", "read"), Description: "List the files available to the current user.",
			Response: []FileRead{}, ReadModels: FileReadModels, Handler: h.listUserFiles})
	}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v2/files/batch/", Tag: "Files",
		Summary: "Download Files Batch", Access: access.Own("files", "read"), Body: []uuid.UUID{},
		Description: "Download multiple files as a zip file by their IDs (the caller's among them; none: 404).",
		ReadModels:  FileReadModels, Handler: h.downloadBatch})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v2/files/{file_id}", Tag: "Files",
		Summary: "Download File", Access: access.Own("files", "read"),
		Params: []httpapi.Param{{Name: "file_id", In: "path", Format: "uuid"},
			{Name: "return_content", In: "query", Type: "boolean", Default: false,
				Description: "Answer the content as a JSON string (UTF-8) instead of an attachment."}},
		Description: "Download a file by its ID or return its content as a string.",
		ReadModels:  FileReadModels, Handler: h.downloadUserFile})
}

// flowFile finds the flow of the path (see OwnFlow) and its file named in
// the path.
func (h *fileReads) flowFile(c *gin.Context) (FileRead, bool) {
	name := c.Param("file_name")
	if err := domain.ValidFileName(name); err != nil {
		httpapi.Fail(c, err)
		return FileRead{}, false
	}
	fl, ok := OwnFlow(c, h.pool)
	if !ok {
		return FileRead{}, false
	}
	f, err := FlowFileByName(c.Request.Context(), h.pool, fl.ID, name)
	if err != nil {
		httpapi.Fail(c, err)
		return FileRead{}, false
	}
	return f, true
}

func (h *fileReads) downloadFlowFile(c *gin.Context) {
	f, ok := h.flowFile(c)
	if !ok {
		return
	}
	h.send(c, f, "application/octet-stream", attachment(f.Name))
}

func (h *fileReads) downloadImage(c *gin.Context) {
	f, ok := h.flowFile(c)
	if !ok {
		return
	}
	ct := ContentTypeOf(f.Name)
	if !strings.HasPrefix(ct, "image/") {
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("Content type %s is not an image", ct)})
		return
	}
	h.send(c, f, ct, "")
}

// send streams f's content. Files are served as downloads that never run
// in the server's origin: no sniffing, and a sandbox for what a browser
// renders (an SVG's scripts).
func (h *fileReads) send(c *gin.Context, f FileRead, contentType, disposition string) {
	r, size, err := h.blobs.Open(c.Request.Context(), f.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		err = fmt.Errorf("content of file %s (blob %s) is missing", f.ID, f.BlobKey)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	defer r.Close()
	hd := c.Writer.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'")
	if disposition != "" {
		hd.Set("Content-Disposition", disposition)
	}
	c.DataFromReader(http.StatusOK, size, contentType, r, nil)
}

func (h *fileReads) listFlowFiles(c *gin.Context) {
	fl, ok := OwnFlow(c, h.pool)
	if !ok {
		return
	}
	files, err := queryFiles(c.Request.Context(), h.pool, `flow_id = $1 AND kind = 'flow' ORDER BY name`, fl.ID)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	c.JSON(http.StatusOK, gin.H{"files": names})
}

func (h *fileReads) listUserFiles(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	files, err := UserFiles(c.Request.Context(), h.pool, caller.UserID, false)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, files)
}

func (h *fileReads) downloadUserFile(c *gin.Context) {
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	id, ok := httpapi.PathUUID(c, "file_id")
	if !ok {
		return
	}
	var q struct {
		ReturnContent bool `form:"return_content"`
	}
	if !httpapi.BindQuery(c, &q) {
		return
	}
	f, err := UserFileOf(c.Request.Context(), h.pool, caller.UserID, id)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if !q.ReturnContent {
		h.send(c, f, "application/octet-stream", attachment(f.DownloadName()))
		return
	}
	data, err := h.read(c.Request.Context(), f)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if !utf8.Valid(data) {
		httpapi.Fail(c, domain.Invalidf("Invalid file encoding"))
		return
	}
	c.JSON(http.StatusOK, string(data))
}

// read reads all of f's content.
func (h *fileReads) read(ctx context.Context, f FileRead) ([]byte, error) {
	r, _, err := h.blobs.Open(ctx, f.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("content of file %s: %w", f.ID, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// AskedFiles reads the body of a batch operation — a list of file ids —
// and returns the caller's files among them (others' ids are ignored); none
// at all is 404 "No files found". ok false: the request was answered.
func AskedFiles(c *gin.Context, pool *pgxpool.Pool) (ids []uuid.UUID, files []FileRead, ok bool) {
	caller, ok := auth.CallerOf(c)
	if !ok || !httpapi.BindJSON(c, &ids) {
		return nil, nil, false
	}
	files, err := UserFilesByIDs(c.Request.Context(), pool, caller.UserID, ids)
	if err == nil && len(files) == 0 {
		err = domain.NotFoundf("No files found")
	}
	if err != nil {
		httpapi.Fail(c, err)
		return nil, nil, false
	}
	return ids, files, true
}

func (h *fileReads) downloadBatch(c *gin.Context) {
	_, files, ok := AskedFiles(c, h.pool)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	// Open every blob before answering: a missing one is still a clean
	// error, not a truncated zip.
	readers := make([]io.ReadCloser, 0, len(files))
	defer func() {
		for _, r := range readers {
			_ = r.Close() // read only
		}
	}()
	for _, f := range files {
		r, _, err := h.blobs.Open(ctx, f.BlobKey)
		if err != nil {
			httpapi.Fail(c, fmt.Errorf("content of file %s: %w", f.ID, err))
			return
		}
		readers = append(readers, r)
	}
	hd := c.Writer.Header()
	hd.Set("Content-Type", "application/x-zip-compressed")
	hd.Set("Content-Disposition", attachment(h.clock().UTC().Format("20060102_150405")+"_langflow_files.zip"))
	c.Status(http.StatusOK)
	zw := zip.NewWriter(c.Writer)
	for i, name := range zipEntryNames(files) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: files[i].UpdatedAt})
		if err == nil {
			_, err = io.Copy(w, readers[i])
		}
		if err != nil {
			httpapi.Fail(c, err) // the answer has begun: logged, the zip is cut short
			return
		}
	}
	if err := zw.Close(); err != nil {
		httpapi.Fail(c, err)
	}
}

// zipEntryNames names the files inside a batch download: name plus the
// stored extension, made unique with " (n)" before the extension.
func zipEntryNames(files []FileRead) []string {
	seen := map[string]bool{}
	out := make([]string, len(files))
	for i, f := range files {
		name := f.DownloadName()
		for n := 2; seen[strings.ToLower(name)]; n++ {
			ext := path.Ext(f.DownloadName())
			name = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(f.DownloadName(), ext), n, ext)
		}
		seen[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}
