package ports

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// The flows' writes: each binds a request (the caller, the path's ids, the
// body), calls the commands.Flows handler and answers the flow (or its
// version) as the read model shows it.

const msgFlowDeleted = "Flow deleted successfully"

// FlowsCreate is the body of Create Flows (batch).
type FlowsCreate struct {
	Flows []commands.FlowCreate `json:"flows" binding:"required,max=500,dive"`
}

// VersionCreate is the body of Create Flow Version.
type VersionCreate struct {
	Version string  `json:"version" binding:"required,max=64"`
	Note    *string `json:"note" binding:"omitempty,max=2000"`
}

// DeletedCount is Langflow's answer to a batch delete.
type DeletedCount struct {
	Deleted int `json:"deleted"`
}

// byCaller are the fields of a write on the caller's own things, to embed
// in its request: the caller and the events' metadata.
type byCaller struct {
	Caller auth.Principal      `caller:""`
	Meta   eventstore.Metadata `meta:""`
}

// The requests of the flows' writes: where each part of the command comes
// from (see Write).
type (
	createFlow struct {
		byCaller
		Body commands.FlowCreate `body:""`
	}
	createFlows struct {
		byCaller
		Body FlowsCreate `body:""`
	}
	updateFlow struct {
		FlowID uuid.UUID `path:"flow_id"`
		byCaller
		Body commands.FlowUpdate `body:""`
	}
	flowRef struct {
		FlowID uuid.UUID `path:"flow_id"`
		byCaller
	}
	deleteFlows struct {
		byCaller
		Body []uuid.UUID `body:""`
	}
	createVersion struct {
		FlowID uuid.UUID `path:"flow_id"`
		byCaller
		Body VersionCreate `body:""`
	}
	versionRef struct {
		FlowID    uuid.UUID `path:"flow_id"`
		VersionID int64     `path:"version_id"`
		byCaller
	}
)

// FlowReads answers the flow commands' read-model lookups from the read
// side (commands.FlowReads).
type FlowReads struct{ Pool *pgxpool.Pool }

// DefaultProjectOf implements commands.FlowReads.
func (r FlowReads) DefaultProjectOf(ctx context.Context, user int64) (uuid.UUID, error) {
	return readapi.DefaultProjectOf(ctx, r.Pool, user)
}

// flowRow is flow id as the read model shows it to the caller.
func flowRow(ctx context.Context, db readapi.DB, id uuid.UUID) (readapi.FlowRead, error) {
	f, err := readapi.FlowByID(ctx, db, id)
	if err == nil {
		err = readapi.AsSeen(ctx, &f)
	}
	return f, err
}

// flowRows are flows ids as the read model shows them to the caller.
func flowRows(ctx context.Context, db readapi.DB, ids []uuid.UUID) ([]readapi.FlowRead, error) {
	out := make([]readapi.FlowRead, 0, len(ids))
	for _, id := range ids {
		f, err := flowRow(ctx, db, id)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// flowWrite is a write on one flow answered with its row.
func flowWrite[C any](op httpapi.Operation, handle func(ctx context.Context, r C) (commands.FlowWritten, error)) Write[C, commands.FlowWritten] {
	return Write[C, commands.FlowWritten]{
		Op: op,
		Handle: func(ctx context.Context, r C) (commands.FlowWritten, eventstore.Position, error) {
			w, err := handle(ctx, r)
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ C, w commands.FlowWritten) (any, error) {
			return flowRow(ctx, db, w.ID)
		},
	}
}

// Flows registers the write operations of flows and their versions.
func Flows(p Port, h *commands.Flows) {
	models := readapi.FlowReadModels
	flowWrite(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/", Access: access.Own("flows", "write"), Tag: "Flows", Summary: "Create Flow",
		Description: "Create a flow of the caller. A name the caller already uses gets Langflow's \" (n)\" suffix, an endpoint name \"-n\".",
		Response:    readapi.FlowRead{}, Status: http.StatusCreated, ReadModels: models, LargeBody: true},
		func(ctx context.Context, r createFlow) (commands.FlowWritten, error) {
			return h.Create(ctx, commands.CreateFlow{Caller: r.Caller, Meta: r.Meta, Flow: r.Body})
		}).Register(p)
	Write[createFlows, commands.FlowsWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/batch/", Access: access.Own("flows", "write"), Tag: "Flows", Summary: "Create Flows",
			Description: "Create several flows at once (names are made unique as on create).",
			Response:    []readapi.FlowRead{}, Status: http.StatusCreated, ReadModels: models, LargeBody: true},
		Handle: func(ctx context.Context, r createFlows) (commands.FlowsWritten, eventstore.Position, error) {
			w, err := h.CreateBatch(ctx, commands.CreateFlowBatch{Caller: r.Caller, Meta: r.Meta, Flows: r.Body.Flows})
			return w, w.Last, err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ createFlows, w commands.FlowsWritten) (any, error) {
			return flowRows(ctx, db, w.IDs)
		},
	}.Register(p)
	flowWrite(httpapi.Operation{Method: http.MethodPatch, Path: "/api/v1/flows/{flow_id}", Access: access.Own("flows", "modify"), Tag: "Flows", Summary: "Update Flow",
		Description: "Update a flow. With last_known_updated_at older than the flow's updated_at the answer is 409; " +
			"of two concurrent updates one wins and the other gets 409. A locked flow answers 423 unless the update unlocks it.",
		Response: readapi.FlowRead{}, ReadModels: models, LargeBody: true},
		func(ctx context.Context, r updateFlow) (commands.FlowWritten, error) {
			return h.Update(ctx, commands.UpdateFlow{Caller: r.Caller, Meta: r.Meta, ID: r.FlowID, Change: r.Body})
		}).Register(p)
	Write[flowRef, commands.Message]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/flows/{flow_id}", Access: access.Own("flows", "delete"), Tag: "Flows", Summary: "Delete Flow",
			Description: "Delete a flow (is_deleted becomes true; its name and endpoint name are free again).",
			Response:    commands.Message{}, ReadModels: models},
		Handle: func(ctx context.Context, r flowRef) (commands.Message, eventstore.Position, error) {
			w, err := h.Delete(ctx, commands.FlowRef{Caller: r.Caller, Meta: r.Meta, ID: r.FlowID})
			return commands.Message{Message: msgFlowDeleted}, w.Result.Last(), err
		},
	}.Register(p)
	Write[deleteFlows, DeletedCount]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/flows/", Access: access.Own("flows", "delete"), Tag: "Flows", Summary: "Delete Multiple Flows",
			Description: "Delete the caller's flows among the given ids; others are ignored.",
			Response:    DeletedCount{}, ReadModels: models},
		Handle: func(ctx context.Context, r deleteFlows) (DeletedCount, eventstore.Position, error) {
			w, err := h.DeleteBatch(ctx, commands.DeleteFlowBatch{Caller: r.Caller, Meta: r.Meta, IDs: r.Body})
			return DeletedCount{Deleted: w.Deleted}, w.Last, err
		},
	}.Register(p)

	Write[createVersion, commands.FlowWritten]{
		Op: httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/{flow_id}/versions", Access: access.Own("flows", "write"), Tag: "Flows",
			Summary: "Create Flow Version", Description: "Name the flow's current draft as a version (ids count from 1 per flow).",
			Response: readapi.FlowVersionRead{}, Status: http.StatusCreated, ReadModels: models},
		Handle: func(ctx context.Context, r createVersion) (commands.FlowWritten, eventstore.Position, error) {
			w, err := h.CreateVersion(ctx, commands.CreateFlowVersion{Caller: r.Caller, Meta: r.Meta, FlowID: r.FlowID,
				Version: r.Body.Version, Note: r.Body.Note})
			return w, w.Result.Last(), err
		},
		Answer: func(ctx context.Context, db readapi.DB, _ createVersion, w commands.FlowWritten) (any, error) {
			return readapi.FlowVersionByID(ctx, db, w.ID, w.Version)
		},
	}.Register(p)
	flowWrite(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/{flow_id}/versions/{version_id}/rollback", Access: access.Own("flows", "modify"), Tag: "Flows",
		Summary: "Rollback Flow Version", Description: "Restore the draft to exactly the version's content (one event).",
		Response: readapi.FlowRead{}, ReadModels: models},
		func(ctx context.Context, r versionRef) (commands.FlowWritten, error) {
			return h.Rollback(ctx, commands.FlowVersionRef{Caller: r.Caller, Meta: r.Meta, FlowID: r.FlowID, VersionID: r.VersionID})
		}).Register(p)
	flowWrite(httpapi.Operation{Method: http.MethodPost, Path: "/api/v1/flows/{flow_id}/versions/{version_id}/publish", Access: access.Own("flows", "modify"), Tag: "Flows",
		Summary: "Publish Flow Version", Description: "Make the version the flow's online one.",
		Response: readapi.FlowRead{}, ReadModels: models},
		func(ctx context.Context, r versionRef) (commands.FlowWritten, error) {
			return h.Publish(ctx, commands.FlowVersionRef{Caller: r.Caller, Meta: r.Meta, FlowID: r.FlowID, VersionID: r.VersionID})
		}).Register(p)
	flowWrite(httpapi.Operation{Method: http.MethodDelete, Path: "/api/v1/flows/{flow_id}/online", Access: access.Own("flows", "delete"), Tag: "Flows",
		Summary: "Delete Online Flow", Description: "Take the online version offline.",
		Response: readapi.FlowRead{}, ReadModels: models},
		func(ctx context.Context, r flowRef) (commands.FlowWritten, error) {
			return h.TakeOffline(ctx, commands.FlowRef{Caller: r.Caller, Meta: r.Meta, ID: r.FlowID})
		}).Register(p)
}
