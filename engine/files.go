package engine

import (
	"context"
	"errors"
	"fmt"
)

// Files reads the files uploaded to the server that a run's user may read
// (v1 flow files, v2 user files), for the File component; never the
// server's own filesystem.
type Files interface {
	// Read returns the content of the file named path (as a File node
	// holds it: "<flow id>/<name>" for a flow's file, "<user id>/<name>"
	// for a user's) and its name, if the run's user may read it. A file
	// bigger than limit bytes is a *FileTooLargeError (nothing more than
	// limit bytes is read); one that does not exist, or that the user may
	// not read, is ErrFileNotFound (the two are not told apart).
	Read(ctx context.Context, run RunInfo, path string, limit int64) (name string, content []byte, err error)
}

// ErrFileNotFound is the error of a file a run may not read: it does not
// exist, or the run's user may not read it.
var ErrFileNotFound = errors.New("file not found")

// FileTooLargeError refuses a file bigger than a reader's limit.
type FileTooLargeError struct {
	Path  string
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("file %s is larger than the limit of %d bytes", e.Path, e.Limit)
}
