package app

import (
	"fmt"

	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/profilepics"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Files is the files module: v1 files of a flow (#10-14), v2 user files
// (#15-25) and profile pictures (#8-9). File metadata is event-sourced
// (stream file-<uuid>); contents are in a local blob store under
// SKILLFLAW_STORAGE_DIR. It needs Identity and Flows registered before it.
type Files struct{}

var _ Module = Files{}

// Register implements Module.
func (Files) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.FileEvents())
}

// Projections implements Module.
func (Files) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Files()}
}

// Routes implements Module. A blob store directory that cannot be created
// is a configuration error: the server does not start (Server.Handler
// reports it).
func (Files) Routes(s *httpapi.Server, d Deps) {
	blobs, err := blob.NewLocal(d.Config.FileStorageDir())
	if err != nil {
		s.Misconfigured(fmt.Errorf("files: %w (set SKILLFLAW_STORAGE_DIR)", err))
		return
	}
	ports.Files(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.FilesHandler{Repo: d.Repository, Reads: ports.FileReads{Pool: d.Pool}, Blobs: blobs, Config: d.Config,
			Logger: d.Logger})
	readapi.RegisterFileReads(s, d.Pool, blobs, d.Clock)
	profilepics.Register(s, d.Config.ProfilePicturesDirectory())
}
