package runs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Files is engine.Files over the blob store and the files read model: a
// run reads the uploaded files its user may download, and nothing else
// (never a path on the server's disk).
//
//   - "<user id>/<name>" is a v2 user file, the run's user's own only;
//   - "<flow id>/<name>" is a v1 file of that flow, for the flow's owner
//     or a user holding files.read where the flow lives (who may download
//     it, as GET /api/v1/files/download/{flow_id}/{file_name}).
//
// Anything else, and a file the user may not read, is
// engine.ErrFileNotFound.
type Files struct {
	Pool  *pgxpool.Pool
	Blobs blob.Store
}

var _ engine.Files = Files{}

// Read implements engine.Files.
func (f Files) Read(ctx context.Context, run engine.RunInfo, path string, limit int64) (string, []byte, error) {
	file, err := f.find(ctx, run.UserID, strings.TrimSpace(path))
	if err != nil {
		return "", nil, err
	}
	if limit > 0 && file.Size > limit {
		return "", nil, &engine.FileTooLargeError{Path: path, Limit: limit}
	}
	r, _, err := f.Blobs.Open(ctx, file.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return "", nil, fmt.Errorf("content of file %s (blob %s) is missing", file.ID, file.BlobKey)
	}
	if err != nil {
		return "", nil, fmt.Errorf("content of file %s: %w", file.ID, err)
	}
	defer r.Close()
	var src io.Reader = r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	content, err := io.ReadAll(src)
	if err != nil {
		return "", nil, fmt.Errorf("content of file %s: %w", file.ID, err)
	}
	if limit > 0 && int64(len(content)) > limit {
		return "", nil, &engine.FileTooLargeError{Path: path, Limit: limit}
	}
	return file.DownloadName(), content, nil
}

// find returns the file path names if user may read it.
func (f Files) find(ctx context.Context, user int64, path string) (readapi.FileRead, error) {
	head, name, ok := strings.Cut(path, "/")
	if !ok || user == 0 || name == "" || domain.ValidFileName(name) != nil {
		return readapi.FileRead{}, engine.ErrFileNotFound
	}
	if owner, err := strconv.ParseInt(head, 10, 64); err == nil {
		if owner != user {
			return readapi.FileRead{}, engine.ErrFileNotFound
		}
		rows, _ := f.Pool.Query(ctx, `SELECT `+readapi.FileColumns+` FROM files WHERE user_id = $1 AND kind = 'user' AND path = $2
ORDER BY created_at LIMIT 1`, user, path)
		file, err := pgx.CollectExactlyOneRow(rows, readapi.ScanFile)
		if errors.Is(err, pgx.ErrNoRows) {
			return readapi.FileRead{}, engine.ErrFileNotFound
		}
		if err != nil {
			return readapi.FileRead{}, fmt.Errorf("read files: %w", err)
		}
		return file, nil
	}
	flowID, err := uuid.Parse(head)
	if err != nil {
		return readapi.FileRead{}, engine.ErrFileNotFound
	}
	fl, err := readapi.FlowByID(ctx, f.Pool, flowID)
	if errors.Is(err, domain.ErrNotFound) || err == nil && fl.IsDeleted {
		return readapi.FileRead{}, engine.ErrFileNotFound
	}
	if err != nil {
		return readapi.FileRead{}, err
	}
	if fl.UserID != user {
		a, err := userAuthorizer(ctx, f.Pool, user, "files", "read")
		if err != nil {
			return readapi.FileRead{}, err
		}
		if a.Authorize(ctx, tenancy.OrSystem(fl.TenantID), fl.BusinessID) != nil {
			return readapi.FileRead{}, engine.ErrFileNotFound
		}
	}
	file, err := readapi.FlowFileByName(ctx, f.Pool, flowID, name)
	if errors.Is(err, domain.ErrNotFound) {
		return readapi.FileRead{}, engine.ErrFileNotFound
	}
	return file, err
}
