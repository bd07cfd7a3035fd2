package ports

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/config"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// flowFiles is the port of flow import and export: Upload File (#45), a
// multipart upload the generic adapter does not bind, and Download
// Multiple File (#46), an attachment or a zip.
type flowFiles struct {
	p      Port
	h      *commands.Flows
	config config.Config
}

// FlowFiles registers Upload File and Download Multiple File.
func FlowFiles(p Port, h *commands.Flows, cfg config.Config) {
	f := &flowFiles{p: p, h: h, config: cfg}
	p.Server.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/upload/", Access: access.Own("flows", "write"), Tag: "Flows", Summary: "Upload File",
		Description: "Upload flows from a file (multipart field file): a flow object, {\"flows\": [flow, …]}, or a zip of " +
			"flow JSON files. The flows are created as by Create Flow (names and endpoint names made unique, new ids) " +
			"in project_id, which must be the caller's, or in the caller's default project.",
		Params: []httpapi.Param{
			{Name: "project_id", In: "query", Format: "uuid", Description: "The project to import into (default: the caller's default project)."},
			{Name: "file", In: "query", Description: "Multipart form field (multipart/form-data body), not a query parameter."},
		},
		Response: []readapi.FlowRead{}, Status: http.StatusCreated, ReadModels: readapi.ProjectReadModels,
		LargeBody: true, Handler: f.upload})
	p.Server.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/download/", Access: access.Own("flows", "read"), Tag: "Flows", Summary: "Download Multiple File",
		Description: "Download the caller's flows among the given ids: one flow as its JSON (an attachment \"{name}.json\"), " +
			"several as a zip of \"{name}.json\" files. None of the caller's: 404.",
		Body: []uuid.UUID{}, ReadModels: readapi.FlowReadModels, Handler: f.download})
}

// upload reads the file, checks the project and the flows, imports them
// and answers their rows.
func (f *flowFiles) upload(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var q struct {
		ProjectID *uuid.UUID `form:"project_id"`
	}
	if !httpapi.BindQuery(c, &q) {
		return
	}
	flows, err := readFlowFile(c, f.config)
	if err == nil {
		err = f.h.CheckImportProject(ctx, caller, q.ProjectID)
	}
	if err == nil {
		err = checkImports(f.p.Server, flows)
	}
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	w, err := f.h.Import(ctx, commands.ImportFlows{Caller: caller, Meta: httpapi.Metadata(c, f.p.Clock()),
		ProjectID: q.ProjectID, Flows: flows})
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	answerRow(c, f.p, w.Last, http.StatusCreated, func(ctx context.Context, db readapi.DB) ([]readapi.FlowRead, error) {
		return flowRows(ctx, db, w.IDs)
	})
}

// download answers the caller's flows among the ids of the body.
func (f *flowFiles) download(c *gin.Context) {
	ctx := c.Request.Context()
	caller, ok := auth.CallerOf(c)
	if !ok {
		return
	}
	var ids []uuid.UUID
	if !httpapi.BindJSON(c, &ids) {
		return
	}
	flows, err := readapi.OwnFlowsByID(ctx, f.p.Pool, caller.UserID, ids)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	switch len(flows) {
	case 0:
		httpapi.Fail(c, domain.NotFoundf("No flows found."))
	case 1:
		c.Header("Content-Disposition", readapi.Attachment(readapi.FlowFileNames(flows)[0]))
		c.JSON(http.StatusOK, flows[0])
	default:
		readapi.SendFlowsZip(c, f.p.Clock().UTC().Format("20060102_150405")+"_skillflaw_flows.zip", flows)
	}
}
