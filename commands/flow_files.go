package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// The use case of flow imports, Upload File (#45): the port reads the
// uploaded file into FlowInputs (ports.FlowFiles), the project they go to is
// checked (CheckImportProject), then the flows (FlowCreate's rules), and
// Import creates them. Download Multiple File (#46) writes nothing: it is
// the port's alone.

// ImportFlows creates the flows of an uploaded file in project ProjectID
// (nil: the caller's default project). Where the flows lived and who owned
// them was dropped when the file was read: an import never overwrites a
// flow.
type ImportFlows struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	ProjectID *uuid.UUID
	Flows     []FlowInput
}

// CheckImportProject checks that project id (nil: none named) is the
// caller's, live: Langflow's 400 "Project not found" otherwise.
func (h *Flows) CheckImportProject(ctx context.Context, caller auth.Principal, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	_, err := loadOwnProject(ctx, h.Repo, caller, *id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Refusedf("%s", msgProjectNotFound)
	}
	return err
}

// Import handles ImportFlows: the flows are created as by Create Flow
// (names and endpoint names made unique, new ids), one by one
// (CreateFlows).
func (h *Flows) Import(ctx context.Context, cmd ImportFlows) (FlowsWritten, error) {
	for i := range cmd.Flows {
		cmd.Flows[i].ProjectID = cmd.ProjectID
	}
	ids, last, err := h.CreateFlows(ctx, cmd.Caller, cmd.Flows, cmd.Meta)
	return FlowsWritten{IDs: ids, Last: last}, err
}
