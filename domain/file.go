package domain

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxFileNameLength bounds a file's name, in bytes (a file system's limit).
const MaxFileNameLength = 255

// MCPServersFileName is the name (without extension) of user's MCP servers
// configuration, which Langflow keeps as a user file hidden from lists.
func MCPServersFileName(user int64) string { return "_mcp_servers_" + strconv.FormatInt(user, 10) }

// File is an uploaded file's metadata (stream file-<uuid>): whose it is,
// its name, and the blob that holds its content. The content itself is in
// the blob store, written before the event that names it.
type File struct {
	root     Root
	id       uuid.UUID
	kind     string
	userID   int64
	flowID   *uuid.UUID
	tenantID *uuid.UUID
	business int64
	name     string
	path     string
	content  FileContent
	deleted  bool
}

// NewFile is what UploadFile needs.
type NewFile struct {
	Kind       string
	UserID     int64
	FlowID     *uuid.UUID
	TenantID   *uuid.UUID
	BusinessID int64
	Name       string
	Path       string
	Provider   string
	Content    FileContent
}

// UploadFile starts file id.
func UploadFile(id uuid.UUID, n NewFile) (*File, error) {
	if n.Kind != FileKindUser && n.Kind != FileKindFlow {
		return nil, Invalidf("unknown file kind %q", n.Kind)
	}
	if n.Kind == FileKindFlow && n.FlowID == nil {
		return nil, Invalidf("a flow file needs its flow")
	}
	if err := ValidFileName(n.Name); err != nil {
		return nil, err
	}
	if n.Content.Key == "" {
		return nil, Invalidf("a file needs its content")
	}
	f := &File{id: id}
	record(f, FileUploaded{FileID: id, Kind: n.Kind, UserID: n.UserID, FlowID: n.FlowID, TenantID: n.TenantID,
		BusinessID: n.BusinessID, Name: n.Name, Path: n.Path, Provider: n.Provider, Content: n.Content})
	return f, nil
}

// LoadFile returns an empty file to fold the stream of id into.
func LoadFile(id uuid.UUID) *File { return &File{id: id} }

// FileStream names the stream of file id.
func FileStream(id uuid.UUID) string { return "file-" + id.String() }

// StreamID implements commands.Aggregate.
func (f *File) StreamID() string { return FileStream(f.id) }

// Root implements commands.Aggregate.
func (f *File) Root() *Root { return &f.root }

// The file's state.
func (f *File) Kind() string         { return f.kind }
func (f *File) UserID() int64        { return f.userID }
func (f *File) FlowID() *uuid.UUID   { return f.flowID }
func (f *File) TenantID() *uuid.UUID { return f.tenantID }
func (f *File) BusinessID() int64    { return f.business }
func (f *File) Name() string         { return f.name }
func (f *File) Path() string         { return f.path }
func (f *File) Content() FileContent { return f.content }
func (f *File) Deleted() bool        { return f.deleted }
func (f *File) ID() uuid.UUID        { return f.id }

// Exists tells whether the stream holds a file that is not deleted.
func (f *File) Exists() bool {
	_, stored := f.root.Revision()
	return (stored || len(f.root.Pending()) > 0) && !f.deleted
}

func (f *File) live() error {
	if !f.Exists() {
		return NotFoundf("File not found")
	}
	return nil
}

// Rename records a new name; the same name records nothing.
func (f *File) Rename(name string) error {
	if err := f.live(); err != nil {
		return err
	}
	if err := ValidFileName(name); err != nil {
		return err
	}
	if name != f.name {
		record(f, FileRenamed{FileID: f.id, Name: name})
	}
	return nil
}

// ReplaceContent records new content (already in the blob store).
func (f *File) ReplaceContent(c FileContent) error {
	if err := f.live(); err != nil {
		return err
	}
	if c.Key == "" {
		return Invalidf("a file needs its content")
	}
	record(f, FileContentReplaced{FileID: f.id, Content: c, Previous: f.content.Key})
	return nil
}

// Delete records the deletion.
func (f *File) Delete() error {
	if err := f.live(); err != nil {
		return err
	}
	record(f, FileDeleted{FileID: f.id, Content: f.content.Key})
	return nil
}

// Apply implements commands.Aggregate.
func (f *File) Apply(e Event) {
	switch e := e.(type) {
	case FileUploaded:
		f.kind, f.userID, f.flowID, f.tenantID, f.business = e.Kind, e.UserID, e.FlowID, e.TenantID, e.BusinessID
		f.name, f.path, f.content = e.Name, e.Path, e.Content
	case FileContentReplaced:
		f.content = e.Content
	case FileRenamed:
		f.name = e.Name
	case FileDeleted:
		f.deleted = true
	}
}

// ValidFileName checks a name a client gives a file (an upload's file
// name, a rename, a name in a path): not blank, at most MaxFileNameLength
// bytes of valid UTF-8, no control characters (NUL included) nor
// invisible bidirectional or separator characters, no path separators, not "." or "..", no drive prefix ("C:") — and none of that
// hidden behind percent-encoding ("%2e%2e%2f", "%00", double encodings),
// so a name can never step out of where it is stored.
func ValidFileName(name string) error {
	bad := func() error { return Invalidf("Invalid file name: %q", name) }
	if strings.TrimSpace(name) == "" {
		return Invalidf("File name must not be empty")
	}
	if len(name) > MaxFileNameLength {
		return Invalidf("File name is longer than %d bytes", MaxFileNameLength)
	}
	for s, i := name, 0; i < 4; i++ {
		if !plainName(s) {
			return bad()
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break
		}
		s = d
	}
	return nil
}

// plainName reports whether s is one harmless path segment.
func plainName(s string) bool {
	if !utf8.ValidString(s) || s == "." || s == ".." || strings.ContainsAny(s, "/\\") {
		return false
	}
	if len(s) >= 2 && s[1] == ':' && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || invisibleFormat(r) {
			return false
		}
	}
	return true
}

// invisibleFormat reports the characters that change how a name reads
// without showing: bidirectional overrides, embeddings, isolates and marks
// ("invoice\u202Efdp.exe" reads "invoiceexe.pdf"), line and paragraph
// separators, and the interlinear annotation and byte-order marks.
func invisibleFormat(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F: // Arabic letter mark, LRM, RLM
	case r >= 0x202A && r <= 0x202E: // LRE, RLE, PDF, LRO, RLO
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
	case r == 0x2028, r == 0x2029: // line and paragraph separators
	case r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFB: // BOM, interlinear annotations
	default:
		return false
	}
	return true
}
