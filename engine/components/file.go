package components

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/skillflaw/skillflaw-go/engine"
)

// DefaultFileMaxBytes bounds one file the File component reads.
const DefaultFileMaxBytes = 8 << 20

// fileTextTypes are the extensions File reads as UTF-8 text (Langflow's
// TEXT_FILE_TYPES but pdf and docx).
var fileTextTypes = []string{"csv", "json", "txt", "md", "mdx", "yaml", "yml", "xml", "html", "htm", "py", "sh", "sql",
	"js", "ts", "tsx"}

// fileMimeTypes are the media types File reports (its message's mimetype).
var fileMimeTypes = map[string]string{"csv": "text/csv", "json": "application/json", "txt": "text/plain",
	"md": "text/markdown", "mdx": "text/markdown", "yaml": "application/yaml", "yml": "application/yaml",
	"xml": "application/xml", "html": "text/html", "htm": "text/html", "py": "text/x-python", "sh": "application/x-sh",
	"sql": "application/sql", "js": "text/javascript", "ts": "text/plain", "tsx": "text/plain"}

// File is Langflow 1.7's File component, reading only files uploaded to
// this server, through the run's engine.Files: a flow's files (v1) and
// the user's own (v2), those the run's user may read; never a path on
// the server's disk (a path that names no such file is "not found").
// The files are its path field's file_path list, the Data (file_path
// key) or Messages (their text) of its file_path input, or, when set
// (as a tool), file_path_str alone. Text formats are read as UTF-8:
// message gives their texts joined by separator (with the first file's
// filename, file_size and mimetype); json gives a JSON file's object as a
// Data ({"value": text} when it is not an object); dataframe gives a CSV
// file's rows (numbers typed per column, as pandas reads them) or, for
// several files, one row per file (file_path, text); path gives the
// paths, one a line. JSON text is compacted as Langflow does; YAML and
// XML stay as written.
//
// Refused with a clear message: PDFs (this server has no approved Go PDF
// reader), DOCX, images and archives (Langflow's Docling parser), files
// over MaxBytes. silent_errors skips a file that fails;
// ignore_unsupported_extensions (the default) skips files of other
// extensions. delete_server_file_after_processing is ignored: a run never
// deletes an uploaded file.
type File struct {
	// MaxBytes bounds one file (0: DefaultFileMaxBytes).
	MaxBytes int64
}

// Spec implements engine.Component.
func (File) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "File", Category: "files_and_knowledge", DisplayName: "File",
		Description: "Loads and returns the content from uploaded files.", Icon: "file-text",
		BaseClasses: []string{"DataFrame"},
		Fields: []engine.FieldSpec{
			field("file", "FileInput", "path", "Files", "", nil, []fieldOpt{isList,
				info("Supported file extensions: " + strings.Join(fileTextTypes, ", ") + " (PDF, DOCX and images are refused on this server)")}),
			handleInput("file_path", "Server File Path", []string{"Data", "Message"}, isList, advanced,
				info("Data object with a 'file_path' property pointing to server file or a Message object with a path to the file. Supercedes 'Path' but supports same file types.")),
			strInput("file_path_str", "File Path", "", advanced, hidden, toolMode,
				info("Path to the file to read. Used when component is called as a tool. If not provided, will use the uploaded file from 'path' input.")),
			strInput("separator", "Separator", "\n\n", advanced, info("Specify the separator to use between multiple outputs in Message format.")),
			boolInput("silent_errors", "Silent Errors", false, advanced, info("If true, errors will not raise an exception.")),
			boolInput("delete_server_file_after_processing", "Delete Server File After Processing", true, advanced,
				info("If true, the Server File Path will be deleted after processing.")),
			boolInput("ignore_unsupported_extensions", "Ignore Unsupported Extensions", true, advanced,
				info("If true, files with unsupported extensions will not be processed.")),
			boolInput("ignore_unspecified_files", "Ignore Unspecified Files", false, advanced,
				info("If true, Data with no 'file_path' property will be ignored.")),
			boolInput("advanced_mode", "Advanced Parser", false, hidden,
				info("Enable advanced document processing and export with Docling for PDFs, images, and office documents. Note that advanced document processing can consume significant resources.")),
			boolInput("use_multithreading", "[Deprecated] Use Multithreading", true, advanced,
				info("Set 'Processing Concurrency' greater than 1 to enable multithreading.")),
			intInput("concurrency_multithreading", "Processing Concurrency", 1, advanced,
				info("When multiple files are being processed, the number of files to process concurrently.")),
		},
		Outputs: []engine.OutputSpec{
			output("message", "Raw Content", "load_files_message"),
			output("dataframe", "Structured Content", "load_files_structured", "DataFrame"),
			output("json", "Structured Content", "load_files_json", "Data"),
			output("path", "File Path", "load_files_path"),
		},
	}
}

// loadedFile is one file read.
type loadedFile struct {
	path, name, ext, text string
	size                  int64
}

// Build implements engine.Component.
func (c File) Build(ctx context.Context, b *engine.Build) error {
	paths, err := filePaths(b)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("No files to process.")
	}
	if b.Wants("path") {
		setText(b, "path", strings.Join(paths, "\n"))
	}
	if !b.Wants("message") && !b.Wants("dataframe") && !b.Wants("json") {
		return nil
	}
	files, err := c.load(ctx, b, paths)
	if err != nil {
		return err
	}
	if b.Wants("message") {
		sep := b.Str("separator")
		if sep == "" {
			sep = "\n\n"
		}
		texts := make([]string, len(files))
		for i, f := range files {
			texts[i] = f.text
		}
		m := engine.NewMessage(strings.Join(texts, sep))
		if len(files) > 0 {
			f := files[0]
			m.Data = map[string]any{"filename": f.name, "file_size": f.size}
			if mt, ok := fileMimeTypes[f.ext]; ok {
				m.Data["mimetype"] = mt
			}
		}
		b.Set("message", m)
		b.SetStatus(m.Text)
	}
	if b.Wants("json") {
		d := engine.NewData(map[string]any{})
		if len(files) > 0 {
			d = engine.NewData(jsonObject(files[0].text))
		}
		b.Set("json", d)
		b.SetStatus(d)
	}
	if b.Wants("dataframe") {
		var df *engine.DataFrame
		if len(files) == 1 && files[0].ext == "csv" {
			rows, err := csvRows(files[0].text)
			if err != nil {
				return fmt.Errorf("Error loading file %s: %w", files[0].path, err)
			}
			df = engine.NewDataFrame(rows)
		} else {
			rows := make([]map[string]any, len(files))
			for i, f := range files {
				rows[i] = map[string]any{"file_path": f.path, "text": f.text}
			}
			df = engine.NewDataFrame(rows)
		}
		b.Set("dataframe", df)
		b.SetStatus(df)
	}
	return nil
}

// filePaths are the paths to read: file_path_str alone when set, else the
// path field's files and the file_path input's.
func filePaths(b *engine.Build) ([]string, error) {
	if s := strings.TrimSpace(b.Str("file_path_str")); s != "" {
		return []string{s}, nil
	}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if v, ok := b.Param("path"); ok {
		if list, isList := asList(v); isList {
			for _, e := range list {
				add(engine.Text(e))
			}
		} else {
			add(engine.Text(v))
		}
	}
	if v, ok := b.Param("file_path"); ok {
		items, isList := asList(v)
		if !isList {
			items = []engine.Value{v}
		}
		for _, e := range items {
			switch x := e.(type) {
			case nil:
			case *engine.Data:
				p, has := x.Map["file_path"]
				if !has {
					if b.Bool("ignore_unspecified_files") {
						continue
					}
					return nil, errors.New("Data has no file_path property")
				}
				add(engine.Text(p))
			case *engine.Message:
				add(x.Text)
			case string:
				add(x)
			default:
				return nil, fmt.Errorf("file_path takes Data or Messages, not %s", pyTypeName(e))
			}
		}
	}
	return out, nil
}

// load reads paths through the run's Files port.
func (c File) load(ctx context.Context, b *engine.Build, paths []string) ([]loadedFile, error) {
	files := b.Env().Files
	if files == nil {
		return nil, errors.New("reading uploaded files is not available on this server")
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultFileMaxBytes
	}
	silent, skipOther := b.Bool("silent_errors"), b.Bool("ignore_unsupported_extensions")
	var out []loadedFile
	for _, p := range paths {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(p)), ".")
		if err := supported(p, ext); err != nil {
			if errors.Is(err, errUnsupported) && skipOther {
				continue
			}
			if silent {
				continue
			}
			return nil, err
		}
		f, err := readFile(ctx, files, b.Run(), p, ext, limit)
		if err != nil {
			if silent {
				continue
			}
			return nil, fmt.Errorf("Error loading file %s: %w", p, err)
		}
		out = append(out, f)
	}
	if len(out) == 0 && !silent {
		return nil, errors.New("No files to process.")
	}
	return out, nil
}

var errUnsupported = errors.New("unsupported file type")

// supported refuses what File does not read: PDFs clearly, others as
// unsupported (which ignore_unsupported_extensions skips).
func supported(p, ext string) error {
	switch {
	case ext == "pdf":
		return fmt.Errorf("File %s is a PDF: this server does not read PDFs (it has no approved PDF reader); upload its text (.txt or .md) instead", path.Base(p))
	case !containsString(fileTextTypes, ext):
		return fmt.Errorf("%w: %s (%s); this server reads %s", errUnsupported, path.Base(p), "."+ext, strings.Join(fileTextTypes, ", "))
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func readFile(ctx context.Context, files engine.Files, run engine.RunInfo, p, ext string, limit int64) (loadedFile, error) {
	name, content, err := files.Read(ctx, run, p, limit)
	if err != nil {
		return loadedFile{}, err
	}
	if int64(len(content)) > limit {
		return loadedFile{}, &engine.FileTooLargeError{Path: p, Limit: limit}
	}
	if !utf8.Valid(content) {
		return loadedFile{}, errors.New("the file is not UTF-8 text")
	}
	text := strings.TrimPrefix(string(content), "\ufeff")
	if ext == "json" {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(text)); err != nil {
			return loadedFile{}, fmt.Errorf("invalid JSON: %w", err)
		}
		text = buf.String()
	}
	if name == "" {
		name = path.Base(p)
	}
	return loadedFile{path: p, name: name, ext: ext, text: text, size: int64(len(content))}, nil
}

// jsonObject is Langflow's parse_string_to_dict: a JSON object, else
// {"value": s}.
func jsonObject(s string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err == nil && m != nil {
		return m
	}
	return map[string]any{"value": s}
}

// csvRows reads a CSV file as pandas' read_csv(...).to_dict("records")
// does for plain files: the first row names the columns; a column whose
// cells are all integers holds integers, all numbers floats, all
// True/False booleans; an empty cell is null.
func csvRows(text string) ([]map[string]any, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("No columns to parse from file")
	}
	if err != nil {
		return nil, err
	}
	records, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	cols := make([][]string, len(header))
	for _, rec := range records {
		for i := range header {
			cell := ""
			if i < len(rec) {
				cell = rec[i]
			}
			cols[i] = append(cols[i], cell)
		}
	}
	typed := make([][]any, len(header))
	for i, col := range cols {
		typed[i] = typeColumn(col)
	}
	rows := make([]map[string]any, len(records))
	for k := range records {
		row := map[string]any{}
		for i, h := range header {
			row[h] = typed[i][k]
		}
		rows[k] = row
	}
	return rows, nil
}

func typeColumn(col []string) []any {
	kinds := []func(string) (any, bool){
		func(s string) (any, bool) {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			return n, err == nil
		},
		func(s string) (any, bool) { f, ok := pyFloat(s); return f, ok },
		func(s string) (any, bool) {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
			return nil, false
		},
	}
	for _, kind := range kinds {
		out := make([]any, len(col))
		ok := true
		for i, s := range col {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if out[i], ok = kind(s); !ok {
				break
			}
		}
		if ok {
			return out
		}
	}
	out := make([]any, len(col))
	for i, s := range col {
		if s != "" {
			out[i] = s
		}
	}
	return out
}
