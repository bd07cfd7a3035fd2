package engine

import "context"

// Files reads the files uploaded to the server that a run's user may read
// (v1 flow files, v2 user files), for the File component; never the
// server's own filesystem.
type Files interface {
	// Read returns the content of the file named path (as a File node
	// holds it) and its name, at most limit bytes (a bigger file is an
	// error), if the run's user may read it.
	Read(ctx context.Context, run RunInfo, path string, limit int64) (name string, content []byte, err error)
}
