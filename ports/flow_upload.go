package ports

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// Reading an uploaded flow file (a flow object, {"flows": [...]} or a zip
// of flow JSON files) into commands.FlowInputs and checking them against
// FlowCreate's rules, for the flows' Upload File (FlowFiles, whose use
// case is commands.Flows.Import) and the projects' (POST
// /api/v1/projects/upload/, whose use case is
// commands.ProjectsHandler.Upload): the wire format is the port's
// business, the use cases get flows.

// Bounds of zip uploads (Langflow's).
const (
	maxZipJSONFiles   = 500
	maxZipEntryBytes  = 50 << 20
	msgInvalidJSONDoc = "Invalid JSON: expected an object with 'flows' or a single flow object"
	msgFlowsNotList   = "Invalid JSON: 'flows' must be a list of flow objects"
)

// readFlowFile reads the flows of the multipart field "file" of an
// upload (Upload File): a zip's flow JSON files, or a flow document, within
// importLimit.
func readFlowFile(c *gin.Context, cfg config.Config) ([]commands.FlowInput, error) {
	limit := importLimit(c, cfg)
	file, err := readUpload(c, limit)
	if err != nil {
		return nil, err
	}
	if !file.zip {
		return flowsDocument(file.data)
	}
	flows, err := file.zipFlows(limit)
	if err == nil && len(flows) == 0 {
		err = uploadRefused("No valid flow JSON files found in the ZIP")
	}
	return flows, err
}

// uploadFile is the file of a multipart upload.
type uploadFile struct {
	name string
	zip  bool
	data []byte      // the file's content
	zr   *zip.Reader // a zip's directory, over data
}

// importLimit bounds an import's file, and the JSON a zip unpacks to:
// SKILLFLAW_MAX_FILE_SIZE_UPLOAD and the route's body limit (the flow
// body limit), whichever is smaller. Both are held in memory.
func importLimit(c *gin.Context, cfg config.Config) int64 {
	limit := commands.UploadLimit(cfg)
	if route := httpapi.BodyLimit(c); route > 0 {
		limit = min(limit, route)
	}
	return limit
}

// readUpload reads the multipart field "file" whole, from the request as
// it streams (no copy of the form in memory or on disk): a zip, opened in
// place, or a JSON document, checked for text that is not (NUL, invalid
// UTF-8) and for nesting. A file over limit is 413.
func readUpload(c *gin.Context, limit int64) (*uploadFile, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, uploadRefused("No file provided")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, err
			}
			if be, ok := errors.AsType[*httpapi.BodyError](err); ok && be.Timeout() {
				return nil, err
			}
			return nil, uploadRefused("No file provided")
		}
		if part.FormName() != "file" || part.FileName() == "" {
			if _, err := io.Copy(io.Discard, httpapi.ClientBody(part)); err != nil {
				return nil, err
			}
			continue
		}
		// The part is shorter than the body: a buffer of the body's size
		// never grows.
		buf := bytes.NewBuffer(make([]byte, 0, min(max(c.Request.ContentLength, 0), limit)+bytes.MinRead))
		if _, err := buf.ReadFrom(io.LimitReader(httpapi.ClientBody(part), limit+1)); err != nil {
			return nil, err
		}
		if int64(buf.Len()) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		u := &uploadFile{name: part.FileName(), data: buf.Bytes()}
		if len(bytes.TrimSpace(u.data)) == 0 {
			return nil, uploadRefused("The uploaded file is empty")
		}
		u.zip = looksLikeZip(u.data, u.name, part.Header.Get("Content-Type"))
		if u.zip {
			if u.zr, err = zip.NewReader(bytes.NewReader(u.data), int64(len(u.data))); err != nil {
				return nil, uploadRefused("Uploaded file is not a valid ZIP archive: " + err.Error())
			}
			return u, nil
		}
		if err := httpapi.CheckJSON(u.data, "body", "file"); err != nil {
			return nil, err
		}
		return u, nil
	}
}

// looksLikeZip tells a zip by its signature, its name or its type.
func looksLikeZip(data []byte, filename, contentType string) bool {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) {
		return true
	}
	ct := strings.ToLower(contentType)
	return strings.HasSuffix(strings.ToLower(filename), ".zip") ||
		strings.Contains(ct, "application/zip") || strings.Contains(ct, "x-zip-compressed")
}

// zipJSONFiles reads the JSON files of a zip (not directories, not macOS
// resource forks): more than maxZipJSONFiles is refused, files over
// maxZipEntryBytes are skipped, and all of them together must stay within
// limit. Sizes are taken from the zip's directory before anything is
// unpacked (archive/zip fails an entry whose data is longer or shorter
// than its directory says), so no more than limit is ever held.
func (u *uploadFile) zipJSONFiles(limit int64) (names []string, files [][]byte, err error) {
	var entries []*zip.File
	for _, f := range u.zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(f.Name), ".json") ||
			strings.Contains(f.Name, "__MACOSX/") || strings.HasPrefix(base, "._") {
			continue
		}
		entries = append(entries, f)
	}
	if len(entries) > maxZipJSONFiles {
		return nil, nil, uploadRefused(fmt.Sprintf("Too many files in the ZIP archive: %d JSON files, at most %d", len(entries), maxZipJSONFiles))
	}
	var total int64
	for _, f := range entries {
		size := f.UncompressedSize64
		if size > maxZipEntryBytes {
			continue
		}
		if total += int64(size); total > limit {
			return nil, nil, &httpapi.StatusError{Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("The ZIP archive's contents exceed %d MiB", limit>>20)}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, nil, uploadRefused("Uploaded file is not a valid ZIP archive: " + err.Error())
		}
		// Read to the end, past size: archive/zip checks the size and the
		// checksum there.
		buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
		_, err = buf.ReadFrom(io.LimitReader(rc, int64(size)+1))
		rc.Close()
		if err != nil {
			return nil, nil, uploadRefused("Uploaded file is not a valid ZIP archive: " + err.Error())
		}
		data := buf.Bytes()
		if err := httpapi.CheckJSON(data, "body", "file", f.Name); err != nil {
			return nil, nil, err
		}
		names, files = append(names, f.Name), append(files, data)
	}
	return names, files, nil
}

// zipFlows reads the flows of a zip: each JSON file is a flow object or
// {"flows": [...]}; files that are not JSON objects are skipped, as
// Langflow does.
func (u *uploadFile) zipFlows(limit int64) ([]commands.FlowInput, error) {
	names, files, err := u.zipJSONFiles(limit)
	if err != nil {
		return nil, err
	}
	var out []commands.FlowInput
	for i, data := range files {
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			continue
		}
		loc := []any{names[i]}
		if raw, ok := obj["flows"]; ok {
			flows, err := flowList(raw, append(loc, "flows"))
			if err != nil {
				return nil, err
			}
			out = append(out, flows...)
			continue
		}
		in, err := decodeFlow(data, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// flowsDocument reads a flows upload's JSON: {"flows": [...]} or one flow.
// It decodes only one level generically: a flow's graph stays raw.
func flowsDocument(data []byte) ([]commands.FlowInput, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			return nil, uploadRefused("Invalid JSON file: " + err.Error())
		}
		return nil, &httpapi.StatusError{Status: http.StatusUnprocessableEntity, Detail: msgInvalidJSONDoc}
	}
	if flows, ok := obj["flows"]; ok {
		return flowList(flows, []any{"flows"})
	}
	in, err := decodeFlow(data, nil)
	if err != nil {
		return nil, err
	}
	return []commands.FlowInput{in}, nil
}

// flowList reads a list of flow objects found at loc.
func flowList(raw json.RawMessage, loc []any) ([]commands.FlowInput, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, &httpapi.StatusError{Status: http.StatusUnprocessableEntity, Detail: msgFlowsNotList}
	}
	if len(items) > commands.MaxFlowsPerBatch {
		return nil, tooManyFlows(loc, len(items))
	}
	out := make([]commands.FlowInput, 0, len(items))
	for i, item := range items {
		if t := bytes.TrimSpace(item); len(t) == 0 || t[0] != '{' {
			return nil, &httpapi.StatusError{Status: http.StatusUnprocessableEntity, Detail: msgFlowsNotList}
		}
		in, err := decodeFlow(item, append(append([]any{}, loc...), i))
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// decodeFlow reads one imported flow. Where it lived and who owned it are
// the importer's business: its id, owner, tenancy placement, project and
// file path are dropped (an import never overwrites an existing flow).
func decodeFlow(raw json.RawMessage, loc []any) (commands.FlowInput, error) {
	var in commands.FlowInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, uploadInvalid(loc, err.Error())
	}
	in.ID, in.UserID, in.TenantID, in.BusinessID, in.OrgID, in.IsSelf, in.ProjectID, in.FSPath = nil, nil, nil, nil, nil, nil, nil, nil
	return in, nil
}

// tooManyFlows is the 422 too_long of an import of n flows at loc.
func tooManyFlows(loc []any, n int) error {
	return httpapi.TooManyItems(commands.MaxFlowsPerBatch, n, append([]any{"body", "file"}, loc...)...)
}

// uploadInvalid is a 422 about the uploaded file's content at loc.
func uploadInvalid(loc []any, msg string) error {
	return &httpapi.ValidationError{Items: []httpapi.ErrorItem{{Type: "value_error",
		Loc: append([]any{"body", "file"}, loc...), Msg: "Value error, " + msg}}}
}

// checkImports checks every flow of an import before any is created, so
// that a bad one fails the upload without writing the others (names are
// made unique on creation, so they cannot fail then): at most
// commands.MaxFlowsPerBatch flows, each within FlowCreate's rules and size bounds.
func checkImports(s *httpapi.Server, flows []commands.FlowInput) error {
	if len(flows) > commands.MaxFlowsPerBatch {
		return tooManyFlows([]any{"flows"}, len(flows))
	}
	for i, in := range flows {
		if err := commands.ValidImport(in); err != nil {
			return uploadInvalid([]any{"flows", i}, err.Error())
		}
		if err := s.Validate(&in, "body", "file", "flows", i); err != nil {
			return err
		}
	}
	return nil
}

// FlowImportsCheck is the check a commands.ProjectsHandler runs on an
// upload's flows before it writes (checkImports with s's validation).
func FlowImportsCheck(s *httpapi.Server) func([]commands.FlowInput) error {
	return func(flows []commands.FlowInput) error { return checkImports(s, flows) }
}

// readProjectFile reads a project upload's multipart field "file" within
// limit: a zip's flows (the project named after the file), or a project
// document.
func readProjectFile(c *gin.Context, limit int64) (domain.ProjectFields, []commands.FlowInput, error) {
	file, err := readUpload(c, limit)
	if err != nil {
		return domain.ProjectFields{}, nil, err
	}
	if !file.zip {
		return projectDocument(file.data)
	}
	flows, err := file.zipFlows(limit)
	return domain.ProjectFields{Name: projectNameOfFile(file.name)}, flows, err
}

// projectNameOfFile names the project of an uploaded zip: the file's name
// without its extension, or "Imported Project".
func projectNameOfFile(filename string) string {
	base := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	if strings.TrimSpace(base) == "" || base == "." || base == "/" {
		return commands.ImportedProjectName
	}
	return base
}

// projectDocument reads a project upload's JSON: {"folder_name",
// "folder_description", "flows": [...]}.
func projectDocument(data []byte) (domain.ProjectFields, []commands.FlowInput, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			return domain.ProjectFields{}, nil, uploadRefused("Invalid JSON file: " + err.Error())
		}
	}
	rawName, hasName := doc["folder_name"]
	rawFlows, hasFlows := doc["flows"]
	if !hasName || !hasFlows {
		return domain.ProjectFields{}, nil, uploadRefused("Missing required field(s): folder_name, flows")
	}
	var fields domain.ProjectFields
	if err := json.Unmarshal(rawName, &fields.Name); err != nil {
		return fields, nil, uploadInvalid([]any{"folder_name"}, "folder_name must be a string")
	}
	if d, ok := doc["folder_description"]; ok && string(d) != "null" {
		if err := json.Unmarshal(d, &fields.Description); err != nil {
			return fields, nil, uploadInvalid([]any{"folder_description"}, "folder_description must be a string")
		}
	}
	flows, err := flowList(rawFlows, []any{"flows"})
	return fields, flows, err
}
