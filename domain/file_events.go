package domain

import "github.com/google/uuid"

// File kinds: a user's file (Langflow's v2 files, tracked per user) or a
// file of a flow (v1 files, addressed by flow and name).
const (
	FileKindUser = "user"
	FileKindFlow = "flow"
)

// FileContent is where a file's content is and what it is: the blob
// store's key, size and SHA-256. The blob is complete before the event
// naming it is appended.
type FileContent struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// FileUploaded records a new file.
type FileUploaded struct {
	FileID     uuid.UUID   `json:"file_id"`
	Kind       string      `json:"kind"`
	UserID     int64       `json:"user_id"`
	FlowID     *uuid.UUID  `json:"flow_id,omitempty"`
	TenantID   *uuid.UUID  `json:"tenant_id,omitempty"`
	BusinessID int64       `json:"business_id"`
	Name       string      `json:"name"`
	Path       string      `json:"path"`
	Provider   string      `json:"provider"`
	Content    FileContent `json:"content"`
}

// FileContentReplaced records new content of a file (an upload that
// appends to it, or overwrites a flow file of the same name); Previous is
// the blob it no longer uses.
type FileContentReplaced struct {
	FileID   uuid.UUID   `json:"file_id"`
	Content  FileContent `json:"content"`
	Previous string      `json:"previous"`
}

// FileRenamed records a file's new name (the path, where the content is
// known to flows, stays).
type FileRenamed struct {
	FileID uuid.UUID `json:"file_id"`
	Name   string    `json:"name"`
}

// FileDeleted records a deletion; Content is the blob to remove.
type FileDeleted struct {
	FileID  uuid.UUID `json:"file_id"`
	Content string    `json:"content"`
}

func (FileUploaded) EventType() string        { return "file.uploaded" }
func (FileContentReplaced) EventType() string { return "file.content_replaced" }
func (FileRenamed) EventType() string         { return "file.renamed" }
func (FileDeleted) EventType() string         { return "file.deleted" }

// FileEvents lists the file events with their schema versions.
func FileEvents() []Schema {
	return V1(FileUploaded{}, FileContentReplaced{}, FileRenamed{}, FileDeleted{})
}
